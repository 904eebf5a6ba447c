//! Property tests of the intake parsers: on random text, on every truncation of the real fixtures
//! (tests/intake), on mutated fixtures and on random commands and events built from the words and
//! fields the parsers look for, no parser panics; each either reads the input or returns its typed
//! error, and what it reads can be drafted and completed without panicking.
//!
//! The number of cases per property follows proptest's `PROPTEST_CASES` (default 256).

use std::path::PathBuf;

use proptest::prelude::*;
use serde_json::{json, Map, Value};

use s3medic::intake::{aws_cli, cloudtrail, error_message, shell};

fn fixtures_dir(sub: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/intake")
        .join(sub)
}

fn error_fixtures() -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(fixtures_dir("errors"))
        .expect("fixtures")
        .filter_map(|e| e.ok())
        .map(|e| std::fs::read_to_string(e.path()).expect("fixture text"))
        .collect();
    out.sort();
    assert!(out.len() >= 20, "the error fixtures are there");
    out
}

fn cloudtrail_fixture() -> String {
    std::fs::read_to_string(fixtures_dir("cloudtrail").join("mixed.json")).expect("fixture")
}

const COMMANDS: &[&str] = &[
    "aws s3 cp s3://example-reports/reports/2026/q1.csv .",
    "aws s3 cp ./q1.csv s3://example-reports/reports/ --sse aws:kms --sse-kms-key-id alias/k --acl bucket-owner-full-control",
    "aws s3 cp s3://src/dir s3://dst/backup --recursive",
    "aws s3 mv s3://a/k.txt s3://b/k2.txt",
    "aws s3 sync ./site s3://example-site/www --delete",
    "aws s3 ls s3://example-reports/reports/ --recursive",
    "aws s3api copy-object --bucket dst --key k --copy-source src%2Fa.txt?versionId=3",
    "aws s3api delete-objects --bucket b --delete 'Objects=[{Key=a.txt},{Key=b.txt}]'",
    "$ AWS_PAGER= aws --profile prod s3 cp \"s3://b/my key\" - --no-sign-request --request-payer requester | gzip",
];

/// Reads an error text the way the command line does, all the way to a request.
fn exercise_error(text: &str) {
    if let Ok(report) = error_message::parse(text) {
        let _ = report.is_access_denied();
        let _ = report.stated();
        if let Ok(draft) = report.to_draft() {
            let _ = draft.missing();
            let _ = draft.complete("prop");
        }
    }
}

fn exercise_trail(text: &str) {
    if let Ok(t) = cloudtrail::parse(text) {
        let _ = t.summary();
        for g in &t.groups {
            let _ = g.summary();
            let _ = g.meta();
            let _ = g.draft.complete("prop");
        }
    }
}

fn exercise_cli(line: &str) {
    if let Ok(c) = aws_cli::parse(line) {
        for s in &c.steps {
            let _ = s.draft.complete("prop");
        }
    }
}

/// Every prefix of `s` that ends on a char boundary.
fn prefixes(s: &str) -> impl Iterator<Item = &str> {
    (0..=s.len())
        .filter(move |&i| s.is_char_boundary(i))
        .map(move |i| &s[..i])
}

#[test]
fn every_truncation_of_the_error_fixtures_is_read_or_refused() {
    for f in error_fixtures() {
        for p in prefixes(&f) {
            exercise_error(p);
            // And the tail, which loses the start.
            exercise_error(&f[p.len()..]);
        }
    }
}

#[test]
fn every_truncation_of_the_commands_is_read_or_refused() {
    for c in COMMANDS {
        for p in prefixes(c) {
            exercise_cli(p);
            let _ = shell::split_words(p);
        }
    }
}

/// A random cut and a random replacement inside `s`.
fn mutate(s: &str, at: usize, len: usize, insert: &str) -> String {
    let mut a = at.min(s.len());
    while !s.is_char_boundary(a) {
        a -= 1;
    }
    let mut b = (a + len).min(s.len());
    while !s.is_char_boundary(b) {
        b -= 1;
    }
    format!("{}{}{}", &s[..a], insert, &s[b..])
}

/// Words and fields the parsers look for, so random inputs reach deep into them.
fn error_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("An error occurred (".to_string()),
        Just(") when calling the ".to_string()),
        Just(" operation".to_string()),
        Just(": ".to_string()),
        Just("User: ".to_string()),
        Just(" is not authorized to perform".to_string()),
        Just(" on resource: ".to_string()),
        Just("\"".to_string()),
        Just("arn:aws:s3:::b/k".to_string()),
        Just("arn:aws:iam::123456789012:user/u".to_string()),
        Just("s3:GetObject".to_string()),
        Just(" because no ".to_string()),
        Just(" allows".to_string()),
        Just("with an explicit deny in a ".to_string()),
        Just("in an ".to_string()),
        Just("identity-based policy".to_string()),
        Just("<Error>".to_string()),
        Just("</Error>".to_string()),
        Just("<Code>".to_string()),
        Just("</Code>".to_string()),
        Just("<Resource>/".to_string()),
        Just("&#x".to_string()),
        Just("&amp;".to_string()),
        Just("operation error S3: ".to_string()),
        Just("api error ".to_string()),
        Just("(Service: ".to_string()),
        Just("Status Code: ".to_string()),
        Just("download failed: s3://".to_string()),
        Just(" (reached max retries: 4)".to_string()),
        "[ -~é\n]{0,6}",
    ]
}

fn cli_word() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("aws".to_string()),
        Just("s3".to_string()),
        Just("s3api".to_string()),
        Just("cp".to_string()),
        Just("mv".to_string()),
        Just("rm".to_string()),
        Just("ls".to_string()),
        Just("sync".to_string()),
        Just("presign".to_string()),
        Just("mb".to_string()),
        Just("rb".to_string()),
        Just("get-object".to_string()),
        Just("copy-object".to_string()),
        Just("delete-objects".to_string()),
        Just("list-buckets".to_string()),
        Just("s3://b/k".to_string()),
        Just("s3://b/dir/".to_string()),
        Just("s3://".to_string()),
        Just("s3:/x".to_string()),
        Just(".".to_string()),
        Just("-".to_string()),
        Just("--recursive".to_string()),
        Just("--sse".to_string()),
        Just("aws:kms".to_string()),
        Just("--acl".to_string()),
        Just("--bucket".to_string()),
        Just("--key".to_string()),
        Just("--copy-source".to_string()),
        Just("--delete".to_string()),
        Just("--grants".to_string()),
        Just("--request-payer".to_string()),
        Just("--no-sign-request".to_string()),
        Just("--force".to_string()),
        Just("'".to_string()),
        Just("\"".to_string()),
        Just("\\".to_string()),
        Just("|".to_string()),
        "[ -~]{0,5}",
    ]
}

/// A JSON value of a random shape (for the fields of a CloudTrail event).
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        prop_oneof![
            Just("s3.amazonaws.com".to_string()),
            Just("AccessDenied".to_string()),
            Just("GetObject".to_string()),
            Just("ListObjects".to_string()),
            Just("CopyObject".to_string()),
            Just("2".to_string()),
            Just("1.10".to_string()),
            Just("arn:aws:s3:::b/k".to_string()),
            Just("arn:aws:iam::111122223333:user/u".to_string()),
            Just("203.0.113.7".to_string()),
            Just("2026-11-29T10:00:00Z".to_string()),
            "[ -~]{0,8}",
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::vec((event_key(), inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn event_key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("type".to_string()),
        Just("arn".to_string()),
        Just("accountId".to_string()),
        Just("userName".to_string()),
        Just("invokedBy".to_string()),
        Just("sessionContext".to_string()),
        Just("sessionIssuer".to_string()),
        Just("bucketName".to_string()),
        Just("key".to_string()),
        Just("list-type".to_string()),
        Just("x-amz-copy-source".to_string()),
        Just("ARN".to_string()),
        "[a-z]{1,4}",
    ]
}

/// A CloudTrail event whose fields have random shapes.
fn random_event() -> impl Strategy<Value = Map<String, Value>> {
    (
        any_json(),
        prop_oneof![Just(json!("s3.amazonaws.com")), any_json()],
        prop_oneof![Just(json!("AccessDenied")), any_json()],
        prop_oneof![
            Just(json!("GetObject")),
            Just(json!("ListObjects")),
            any_json()
        ],
        any_json(),
        any_json(),
        any_json(),
        any_json(),
        any_json(),
    )
        .prop_map(|(ui, src, code, name, params, res, tls, time, ver)| {
            let mut m = Map::new();
            m.insert("userIdentity".into(), ui);
            m.insert("eventSource".into(), src);
            m.insert("errorCode".into(), code);
            m.insert("eventName".into(), name);
            m.insert("requestParameters".into(), params);
            m.insert("resources".into(), res);
            m.insert("tlsDetails".into(), tls);
            m.insert("eventTime".into(), time);
            m.insert("eventVersion".into(), ver);
            m.insert("requestID".into(), json!("R"));
            m
        })
}

proptest! {
    #[test]
    fn random_text_never_panics(s in any::<String>()) {
        exercise_error(&s);
        exercise_trail(&s);
        exercise_cli(&s);
        let _ = shell::split_words(&s);
    }

    #[test]
    fn random_bytes_never_panic(b in prop::collection::vec(any::<u8>(), 0..64)) {
        let _ = cloudtrail::parse_bytes(&b);
    }

    #[test]
    fn errors_built_from_pieces_never_panic(pieces in prop::collection::vec(error_piece(), 0..12)) {
        exercise_error(&pieces.concat());
    }

    #[test]
    fn mutated_error_fixtures_never_panic(
        i in any::<prop::sample::Index>(),
        at in 0usize..400,
        len in 0usize..20,
        insert in error_piece(),
    ) {
        let fixtures = error_fixtures();
        let f = &fixtures[i.index(fixtures.len())];
        exercise_error(&mutate(f, at, len, &insert));
    }

    #[test]
    fn truncated_and_mutated_cloudtrail_never_panics(
        cut in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
        len in 0usize..40,
        insert in "[ -~]{0,6}",
    ) {
        let text = cloudtrail_fixture();
        let bytes = text.as_bytes();
        let _ = cloudtrail::parse_bytes(&bytes[..cut.index(bytes.len() + 1)]);
        exercise_trail(&mutate(&text, at.index(text.len() + 1), len, &insert));
    }

    #[test]
    fn random_events_never_panic(events in prop::collection::vec(random_event(), 0..6)) {
        let t = cloudtrail::group(&events);
        let _ = t.summary();
        for g in &t.groups {
            let _ = g.draft.complete("prop");
        }
        let text = serde_json::to_string(&json!({"Records": events})).expect("json");
        exercise_trail(&text);
    }

    #[test]
    fn commands_built_from_words_never_panic(words in prop::collection::vec(cli_word(), 0..10)) {
        exercise_cli(&words.join(" "));
        exercise_cli(&format!("aws s3 {}", words.join(" ")));
        exercise_cli(&format!("aws s3api {}", words.join(" ")));
    }
}

//! `--presigned-url`: parsing SigV4 presigned S3 URLs (every addressing style, percent-encoding,
//! version ids, security tokens, SigV2 and garbage rejected with clear errors, never a panic) and
//! the `explain` / `plan` flags built on it (expiry, signer's permission, the wrong-method hint).

#[path = "common/cli.rs"]
mod cli;

use std::process::Output;

use proptest::prelude::*;
use serde_json::{json, Value};

use s3medic::request::presigned_url::{parse, AddressingStyle, PresignedUrlError};
use s3medic::request::Request;

const SIGNATURE: &str = "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";

/// The SigV4 query of a URL signed by AKIAIOSFODNN7EXAMPLE on 2026-11-29 12:00 UTC, valid `expires`
/// seconds, followed by `extra` (already encoded, starting with `&` when not empty).
fn query(expires: u64, extra: &str) -> String {
    format!(
        "X-Amz-Algorithm=AWS4-HMAC-SHA256\
         &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261129%2Fus-east-1%2Fs3%2Faws4_request\
         &X-Amz-Date=20261129T120000Z&X-Amz-Expires={expires}&X-Amz-SignedHeaders=host{extra}\
         &X-Amz-Signature={SIGNATURE}"
    )
}

fn url(base: &str) -> String {
    format!("{base}?{}", query(3600, ""))
}

// ---------------------------------------------------------------------------------------------
// Parsing

#[test]
fn path_style_regional() {
    let u = parse(&url(
        "https://s3.us-east-1.amazonaws.com/example-bucket/reports/a.csv",
    ))
    .expect("parses");
    assert_eq!(u.style, AddressingStyle::Path);
    assert_eq!(u.scheme, "https");
    assert_eq!(u.host, "s3.us-east-1.amazonaws.com");
    assert_eq!(u.bucket, "example-bucket");
    assert_eq!(u.key.as_deref(), Some("reports/a.csv"));
    assert_eq!(u.region, "us-east-1");
    assert_eq!(u.algorithm, "AWS4-HMAC-SHA256");
    assert_eq!(u.credential.access_key_id, "AKIAIOSFODNN7EXAMPLE");
    assert_eq!(u.credential.date, "20261129");
    assert_eq!(u.credential.region, "us-east-1");
    assert_eq!(u.credential.service, "s3");
    assert_eq!(u.signed_at, "20261129T120000Z");
    assert_eq!(u.signed_at_epoch, 1_795_953_600);
    assert_eq!(u.expires_in, 3600);
    assert_eq!(u.expires_at_epoch(), 1_795_957_200);
    assert_eq!(u.signed_headers, vec!["host"]);
    assert!(!u.security_token);
    assert_eq!(u.version_id, None);
    assert!(u.other_params.is_empty());
}

#[test]
fn path_style_global_endpoint_takes_the_region_from_the_credential() {
    let u = parse(&url("https://s3.amazonaws.com/example-bucket/a.txt")).expect("parses");
    assert_eq!(u.style, AddressingStyle::Path);
    assert_eq!(u.bucket, "example-bucket");
    assert_eq!(u.key.as_deref(), Some("a.txt"));
    assert_eq!(u.region, "us-east-1");
}

#[test]
fn virtual_hosted_regional_and_global() {
    let u = parse(&url(
        "https://example-bucket.s3.eu-west-1.amazonaws.com/reports/a.csv",
    ))
    .expect("parses");
    assert_eq!(u.style, AddressingStyle::VirtualHosted);
    assert_eq!(u.bucket, "example-bucket");
    assert_eq!(u.key.as_deref(), Some("reports/a.csv"));
    assert_eq!(u.region, "eu-west-1", "the host's region wins");
    assert_eq!(u.credential.region, "us-east-1");

    let u = parse(&url("https://example-bucket.s3.amazonaws.com/a.txt")).expect("parses");
    assert_eq!(u.style, AddressingStyle::VirtualHosted);
    assert_eq!(u.bucket, "example-bucket");
    assert_eq!(u.key.as_deref(), Some("a.txt"));
    assert_eq!(u.region, "us-east-1");

    // Dotted bucket names, dualstack and legacy dash-region endpoints.
    let u = parse(&url(
        "https://my.dotted.bucket.s3.dualstack.ap-south-1.amazonaws.com/k",
    ))
    .expect("parses");
    assert_eq!(u.bucket, "my.dotted.bucket");
    assert_eq!(u.region, "ap-south-1");
    let u = parse(&url("https://s3-us-west-2.amazonaws.com/b/k")).expect("parses");
    assert_eq!((u.bucket.as_str(), u.region.as_str()), ("b", "us-west-2"));
}

#[test]
fn custom_endpoint_is_path_style() {
    let u = parse(&url("http://127.0.0.1:9000/example-bucket/dir/file.bin")).expect("parses");
    assert_eq!(u.style, AddressingStyle::Path);
    assert_eq!(u.scheme, "http");
    assert_eq!(u.host, "127.0.0.1");
    assert_eq!(u.port, Some(9000));
    assert_eq!(u.bucket, "example-bucket");
    assert_eq!(u.key.as_deref(), Some("dir/file.bin"));
    assert_eq!(u.region, "us-east-1");

    let u = parse(&url("http://[::1]:4566/b/k")).expect("ipv6 parses");
    assert_eq!((u.host.as_str(), u.port), ("[::1]", Some(4566)));
    let u = parse(&url("HTTPS://MinIO.Example.COM/b/k")).expect("any case");
    assert_eq!(
        (u.scheme.as_str(), u.host.as_str()),
        ("https", "minio.example.com")
    );
}

#[test]
fn bucket_level_url_has_no_key() {
    let u = parse(&url("https://example-bucket.s3.us-east-1.amazonaws.com/")).expect("parses");
    assert_eq!(u.key, None);
    let u = parse(&url("https://s3.us-east-1.amazonaws.com/example-bucket")).expect("parses");
    assert_eq!(
        (u.bucket.as_str(), u.key.as_deref()),
        ("example-bucket", None)
    );
}

#[test]
fn keys_and_values_are_percent_decoded() {
    let u = parse(&format!(
        "https://s3.us-east-1.amazonaws.com/example-bucket/reports/2026%20Q1/caf%C3%A9%2Bmenu.pdf?{}#fragment",
        query(600, "&response-content-disposition=attachment%3B%20filename%3D%22a.pdf%22")
    ))
    .expect("parses");
    assert_eq!(u.key.as_deref(), Some("reports/2026 Q1/café+menu.pdf"));
    assert_eq!(u.expires_in, 600);
    assert_eq!(
        u.other_params,
        vec![(
            "response-content-disposition".to_string(),
            "attachment; filename=\"a.pdf\"".to_string()
        )]
    );
}

#[test]
fn version_id_security_token_and_signed_headers() {
    let u = parse(&format!(
        "https://example-bucket.s3.us-east-1.amazonaws.com/a.txt?versionId=3HL4kqtJlcpXroDTDmJ%2BrmSpXd3dIbrHY&{}",
        query(
            900,
            "%3Bx-amz-server-side-encryption&X-Amz-Security-Token=IQoJb3JpZ2luX2VjEJr%2F%2F%2F%2Fwtoken%3D%3D"
        )
    ))
    .expect("parses");
    assert_eq!(
        u.version_id.as_deref(),
        Some("3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY")
    );
    assert!(u.security_token);
    assert_eq!(
        u.signed_headers,
        vec!["host", "x-amz-server-side-encryption"]
    );
}

#[test]
fn request_fields_read_back_as_a_request() {
    let u = parse(&format!(
        "https://s3.us-east-1.amazonaws.com/example-bucket/a%20b.txt?{}&versionId=v1",
        query(3600, "")
    ))
    .expect("parses");
    let fields = u.to_request_fields();
    assert_eq!(
        Value::Object(fields.clone()),
        json!({
            "bucket": "example-bucket",
            "key": "a b.txt",
            "version_id": "v1",
            "presigned": {"signed_at": "20261129T120000Z", "expires_in": 3600}
        })
    );
    let mut doc = fields;
    doc.insert(
        "principal".into(),
        "arn:aws:iam::111122223333:user/alice".into(),
    );
    doc.insert("operation".into(), "GetObject".into());
    let r = Request::from_value(&Value::Object(doc)).expect("a valid request");
    let p = r.presigned.expect("presigned");
    assert_eq!((p.signed_at_epoch, p.expires_in), (u.signed_at_epoch, 3600));
    assert_eq!(r.key.as_deref(), Some("a b.txt"));
}

#[test]
fn sigv2_urls_are_rejected_clearly() {
    let e = parse(
        "https://example-bucket.s3.amazonaws.com/a.txt?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1795957200&Signature=vjbyPxybdZaNmGa%2ByT272YEAiv4%3D",
    )
    .expect_err("sigv2");
    assert_eq!(e, PresignedUrlError::SigV2);
    let msg = e.to_string();
    assert!(msg.contains("not supported"), "{msg}");
    assert!(msg.contains("AWS4-HMAC-SHA256"), "{msg}");
}

#[test]
fn missing_parameters_are_named() {
    let e = parse("https://s3.us-east-1.amazonaws.com/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20261129T120000Z")
        .expect_err("incomplete");
    let msg = e.to_string();
    for p in [
        "`X-Amz-Credential`",
        "`X-Amz-Expires`",
        "`X-Amz-SignedHeaders`",
        "`X-Amz-Signature`",
    ] {
        assert!(msg.contains(p), "{p} in {msg}");
    }
    assert!(!msg.contains("`X-Amz-Date`"), "{msg}");

    // A plain object URL, no signature at all.
    let e = parse("https://example-bucket.s3.amazonaws.com/a.txt").expect_err("unsigned");
    assert!(e.to_string().contains("`X-Amz-Algorithm`"), "{e}");
}

#[test]
fn bad_parameters_name_the_part() {
    let cases: &[(String, &str)] = &[
        (
            url("https://s3.amazonaws.com/b/k")
                .replace("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256"),
            "`X-Amz-Algorithm`",
        ),
        (
            url("https://s3.amazonaws.com/b/k").replace("%2Fs3%2F", "%2Fiam%2F"),
            "service `iam`",
        ),
        (
            url("https://s3.amazonaws.com/b/k").replace("%2Faws4_request", ""),
            "`X-Amz-Credential`",
        ),
        (
            url("https://s3.amazonaws.com/b/k")
                .replace("X-Amz-Date=20261129T120000Z", "X-Amz-Date=2026-11-29"),
            "`X-Amz-Date`",
        ),
        (
            url("https://s3.amazonaws.com/b/k")
                .replace("X-Amz-Date=20261129T", "X-Amz-Date=20261130T"),
            "is scoped to date 20261129",
        ),
        (
            url("https://s3.amazonaws.com/b/k").replace("X-Amz-Expires=3600", "X-Amz-Expires=-5"),
            "`X-Amz-Expires`",
        ),
        (
            url("https://s3.amazonaws.com/b/k").replace("X-Amz-Expires=3600", "X-Amz-Expires=1h"),
            "`X-Amz-Expires`",
        ),
        (
            url("https://s3.amazonaws.com/b/k").replace(SIGNATURE, ""),
            "`X-Amz-Signature` is empty",
        ),
        (
            format!(
                "{}&X-Amz-Date=20261129T120000Z",
                url("https://s3.amazonaws.com/b/k")
            ),
            "`X-Amz-Date` is given twice",
        ),
        (url("ftp://s3.amazonaws.com/b/k"), "`https://`"),
        (url("https:///b/k"), "`host`"),
        (url("https://s3.amazonaws.com:99999/b/k"), "`port`"),
        (url("https://s3.amazonaws.com/"), "`bucket`"),
        (url("https://s3.amazonaws.com/b/%FF%FE"), "`key`"),
        (url("https://user@s3.amazonaws.com/b/k"), "`host`"),
    ];
    for (u, needle) in cases {
        let e = parse(u).expect_err(u);
        let msg = e.to_string();
        assert!(msg.contains(needle), "{u}: expected {needle} in `{msg}`");
        assert!(
            msg.starts_with(|c: char| !c.is_ascii_uppercase()),
            "lower-case message: {msg}"
        );
    }
}

#[test]
fn truncated_and_garbage_input_are_errors() {
    let full = url("https://example-bucket.s3.us-east-1.amazonaws.com/a%20b.txt");
    // Every prefix (on char boundaries) of a real URL either parses or is a clear error.
    for end in (0..=full.len()).filter(|i| full.is_char_boundary(*i)) {
        let _ = parse(&full[..end]).map_err(|e| assert!(!e.to_string().is_empty()));
    }
    for g in [
        "",
        " ",
        "not a url",
        "https://",
        "https://?",
        "https://[::1/b/k",
        "http://[]/b/k",
        "https://h/%",
        "https://h/b/k?%",
        "https://h/b/k?=&&=",
        "https://bucket.s3.amazonaws.com.evil/b/k",
        "https://.s3.amazonaws.com/k",
        "https://é.s3.amazonaws.com/k",
    ] {
        assert!(parse(g).is_err(), "{g:?} should not parse");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parse_never_panics_on_arbitrary_strings(s in any::<String>()) {
        let _ = parse(&s);
    }

    #[test]
    fn parse_never_panics_on_url_like_strings(
        s in "(https?://)?[a-z0-9.\\[\\]:@%-]{0,30}(/[a-zA-Z0-9%/+._-]{0,20})?(\\?[A-Za-z0-9=&%;._-]{0,80})?"
    ) {
        let _ = parse(&s);
    }

    #[test]
    fn mutated_real_urls_never_panic(cut in 0usize..400, byte in any::<char>()) {
        let mut full = url("https://example-bucket.s3.us-east-1.amazonaws.com/k");
        let mut at = cut.min(full.len());
        while !full.is_char_boundary(at) {
            at -= 1;
        }
        full.insert(at, byte);
        let _ = parse(&full);
    }
}

// ---------------------------------------------------------------------------------------------
// CLI

use cli::{s3medic, scratch_file, text};

const ALICE: &str = "arn:aws:iam::111122223333:user/alice";
const BOB: &str = "arn:aws:iam::111122223333:user/bob";

/// alice may GetObject in `example-bucket`; bob may do nothing.
fn world() -> String {
    let user = |name: &str, statements: Value| {
        json!({
            "UserName": name,
            "UserId": format!("AIDAEXAMPLE{}", name.to_ascii_uppercase()),
            "Arn": format!("arn:aws:iam::111122223333:user/{name}"),
            "Path": "/",
            "UserPolicyList": if statements.as_array().is_some_and(|a| a.is_empty()) {
                json!([])
            } else {
                json!([{"PolicyName": "Read", "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}])
            },
            "AttachedManagedPolicies": [],
            "GroupList": []
        })
    };
    let w = json!({
        "format_version": 1,
        "accounts": [{
            "account_id": "111122223333",
            "iam": {
                "UserDetailList": [
                    user("alice", json!([{
                        "Sid": "ReadObjects",
                        "Effect": "Allow",
                        "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::example-bucket/*"
                    }])),
                    user("bob", json!([]))
                ],
                "GroupDetailList": [],
                "RoleDetailList": [],
                "Policies": []
            }
        }],
        "buckets": [{"name": "example-bucket", "account_id": "111122223333", "region": "us-east-1"}]
    });
    // One file per call: tests run in parallel, and a shared file could be read half-written.
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let p = scratch_file(&format!("world-{n}.json"), &w.to_string());
    p.to_str().expect("utf-8 path").to_string()
}

/// `s3medic explain -w WORLD --presigned-url URL --principal PRINCIPAL EXTRA`.
fn explain_url(world: &str, url: &str, principal: &str, extra: &[&str]) -> Output {
    s3medic(
        &[
            &[
                "explain",
                "-w",
                world,
                "--presigned-url",
                url,
                "--principal",
                principal,
            ][..],
            extra,
        ]
        .concat(),
    )
}

/// A time within the hour the test URLs are valid for (signed at 12:00, 3600 s).
const HALF_PAST: &str = "aws:CurrentTime=2026-11-29T12:30:00Z";

const OBJECT_URL: &str = "https://example-bucket.s3.us-east-1.amazonaws.com/reports/a.csv";

#[test]
fn fresh_url_is_allowed_with_the_wrong_method_hint() {
    let w = world();
    let u = url(OBJECT_URL);
    let out = explain_url(&w, &u, ALICE, &["--context", HALF_PAST]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.starts_with("ALLOWED"), "{stdout}");
    assert!(stdout.contains("GetObject"), "{stdout}");
    assert!(
        stdout.contains("S3 would allow this request from this signer"),
        "{stdout}"
    );
    assert!(
        stdout.contains("signed for another method (e.g. PUT, used with GET)"),
        "{stdout}"
    );
    assert!(stdout.contains("X-Amz-SignedHeaders: host"), "{stdout}");
    assert!(
        !text(&out.stderr).contains("evaluated at"),
        "the given time is used"
    );

    // JSON output is unchanged: no hint.
    let out = explain_url(&w, &u, ALICE, &["--context", HALF_PAST, "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json only on stdout");
    assert_eq!(v["decision"], "allowed");
}

#[test]
fn method_maps_to_the_operation() {
    let w = world();
    let u = url(OBJECT_URL);
    let out = explain_url(
        &w,
        &u,
        ALICE,
        &["--method", "put", "--context", HALF_PAST, "-o", "json"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["authorizations"][0]["action"], "s3:PutObject");
    assert_eq!(v["deciding"]["layer"], "identity");
}

#[test]
fn expired_url_is_denied_by_the_request_layer_and_planned_as_expired() {
    let w = world();
    let u = url(OBJECT_URL);
    let args = [
        "-w",
        &w,
        "--presigned-url",
        &u,
        "--principal",
        ALICE,
        "--context",
        "aws:CurrentTime=2026-11-29T14:00:00Z",
        "--output",
        "json",
    ];
    let out = s3medic(&[&["explain"][..], &args[..]].concat());
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_ne!(v["decision"], "allowed");
    assert_eq!(v["status"], 403);
    assert_eq!(v["deciding"]["layer"], "request");

    let out = s3medic(&[&["plan"][..], &args[..]].concat());
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let p: Value = serde_json::from_slice(&out.stdout).expect("plan json");
    let findings = p["findings"].as_array().expect("findings");
    assert!(
        findings
            .iter()
            .any(|f| f["cause"] == "presigned-url-expired"),
        "{findings:?}"
    );
    assert_eq!(p["request"]["presigned"]["signed_at"], "20261129T120000Z");
}

#[test]
fn without_a_time_the_url_is_checked_now() {
    let w = world();
    let u = url(OBJECT_URL);
    let out = explain_url(&w, &u, ALICE, &["-o", "json"]);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("evaluated at 20"), "{stderr}");
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    // The expiry was checked (the outcome depends on the clock: no assertion on the decision).
    assert!(!v.to_string().contains("expiry was not checked"), "{v}");
}

#[test]
fn signer_without_permission_is_denied_by_identity() {
    let w = world();
    let u = url(OBJECT_URL);
    let out = explain_url(&w, &u, BOB, &["--context", HALF_PAST, "-o", "json"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["decision"], "implicit_deny");
    assert_eq!(v["deciding"]["layer"], "identity");

    // Text output of a denial carries no hint.
    let out = explain_url(&w, &u, BOB, &["--context", HALF_PAST]);
    assert!(
        !text(&out.stdout).contains("hint:"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn missing_principal_names_the_access_key() {
    let w = world();
    let u = url(OBJECT_URL);
    let out = s3medic(&["explain", "-w", &w, "--presigned-url", &u]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("`--principal`"), "{stderr}");
    assert!(stderr.contains("`AKIAIOSFODNN7EXAMPLE`"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn over_long_validity_is_refused_with_400() {
    let w = world();
    let u = format!("{OBJECT_URL}?{}", query(604_801, ""));
    let out = explain_url(&w, &u, ALICE, &["--context", HALF_PAST, "-o", "json"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["status"], 400);
    assert_eq!(v["deciding"]["layer"], "request");
}

#[test]
fn credential_expiry_ends_the_url_early() {
    let w = world();
    let u = format!(
        "{OBJECT_URL}?{}",
        query(3600, "&X-Amz-Security-Token=FwoGZXIvYXdzEXAMPLE%3D")
    );
    let base = [
        "explain",
        "-w",
        &w,
        "--presigned-url",
        &u,
        "--principal",
        ALICE,
        "--context",
        HALF_PAST,
        "-o",
        "json",
    ];
    let out = s3medic(&base);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("--credential-expires-at"),
        "temporary credentials are pointed out: {}",
        text(&out.stderr)
    );
    let out = s3medic(
        &[
            &base[..],
            &["--credential-expires-at", "2026-11-29T12:15:00Z"],
        ]
        .concat(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["deciding"]["layer"], "request");
}

#[test]
fn flag_errors() {
    let w = world();
    let u = url(OBJECT_URL);
    // Conflicts with the flags it replaces.
    let out = explain_url(&w, &u, ALICE, &["--bucket", "other"]);
    assert_eq!(out.status.code(), Some(1));
    // A bad URL names the flag and the part.
    let bad = u.replace("X-Amz-Expires=3600", "X-Amz-Expires=soon");
    let out = explain_url(&w, &bad, ALICE, &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("`--presigned-url`"), "{stderr}");
    assert!(stderr.contains("`X-Amz-Expires`"), "{stderr}");
    // --method needs a URL.
    let out = s3medic(&[
        "explain",
        "-w",
        &w,
        "--principal",
        ALICE,
        "--method",
        "PUT",
        "--bucket",
        "b",
    ]);
    assert_eq!(out.status.code(), Some(1));
}

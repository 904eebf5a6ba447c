//! Long-running property test ("fuzz target") of the policy parser: realistic seed policies are
//! mutated at the JSON level (replace / delete / insert / rename / re-case / wrap nodes) and at
//! the text level (truncate, insert, delete, duplicate characters), then parsed.
//!
//! Checked for every input: the parser does not panic; an accepted policy prints back to a
//! document that parses to the same policy; matching and condition evaluation on the accepted
//! policy do not panic.
//!
//! The number of cases comes from `S3MEDIC_FUZZ_CASES` (default 2000), so CI can bound the run:
//! `S3MEDIC_FUZZ_CASES=200000 cargo test --release --test policy_parser_long`.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Map, Value};

use s3medic::policy::{parse_policy, parse_policy_value, MapContext};

fn cases() -> u32 {
    std::env::var("S3MEDIC_FUZZ_CASES")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(2000)
}

fn seeds() -> Vec<Value> {
    vec![
        json!({
            "Version": "2012-10-17",
            "Id": "BucketPolicy",
            "Statement": [
                {
                    "Sid": "AllowCloudFront",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudfront.amazonaws.com"},
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::bucket/*",
                    "Condition": {"StringEquals": {"AWS:SourceArn": "arn:aws:cloudfront::111122223333:distribution/E1"}}
                },
                {
                    "Sid": "DenyHttp",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": ["arn:aws:s3:::bucket", "arn:aws:s3:::bucket/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}}
                }
            ]
        }),
        json!({
            "Version": "2012-10-17",
            "Statement": {
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": "arn:aws:s3:::bucket",
                "Condition": {
                    "StringLike": {"s3:prefix": ["home/${aws:username}/*", "${aws:PrincipalTag/team, 'shared'}/*"]},
                    "ForAllValues:StringEqualsIfExists": {"aws:TagKeys": ["a", "b"]},
                    "NumericLessThanEquals": {"s3:max-keys": 100},
                    "IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"]},
                    "DateLessThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"},
                    "Null": {"aws:TokenIssueTime": true},
                    "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/${aws:username}"},
                    "BinaryEquals": {"k": "aGVsbG8="}
                }
            }
        }),
        json!({
            "Version": "2008-10-17",
            "Statement": [{
                "Effect": "Deny",
                "NotPrincipal": {"AWS": ["arn:aws:iam::111122223333:root", "444455556666"], "CanonicalUser": "abc"},
                "NotAction": ["s3:Get*", "s3:List*"],
                "NotResource": "arn:aws:s3:::bucket/${aws:username}/*"
            }]
        }),
        json!({
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Federated": "cognito-identity.amazonaws.com"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"}}
            }]
        }),
    ]
}

/// Replacement material for mutations.
fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,10}".prop_map(Value::String),
        prop::sample::select(vec![
            "*",
            "Allow",
            "Deny",
            "allow",
            "2012-10-17",
            "s3:GetObject",
            "arn:aws:s3:::b/*",
            "arn:*",
            "${aws:username}",
            "${",
            "${a, '",
            "${*}",
            "true",
            "FALSE",
            "10.0.0.0/8",
            "::/0",
            "2026-01-01",
            "1767225600",
            "aGk=",
            "StringEquals",
            "NullIfExists",
        ])
        .prop_map(|s| Value::String(s.to_string())),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((".{0,6}", inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

#[derive(Debug, Clone)]
struct Mutation {
    node: usize,
    op: u8,
    pick: usize,
    payload: Value,
    text: String,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    (
        any::<usize>(),
        0u8..9,
        any::<usize>(),
        arb_json(),
        prop_oneof![
            prop::sample::select(vec![
                "Version",
                "Id",
                "Statement",
                "Sid",
                "Effect",
                "Principal",
                "NotPrincipal",
                "Action",
                "NotAction",
                "Resource",
                "NotResource",
                "Condition",
                "AWS",
                "Service",
                "CanonicalUser",
                "Federated",
                "StringEquals",
                "ForAllValues:StringLikeIfExists",
                "ForAnyValue:Bool",
                "NumericGreaterThan",
                "DateEquals",
                "IpAddress",
                "NotIpAddress",
                "Null",
                "ArnEquals",
                "BinaryEquals",
                "aws:SourceIp",
            ])
            .prop_map(str::to_string),
            ".{0,6}",
        ],
    )
        .prop_map(|(node, op, pick, payload, text)| Mutation {
            node,
            op,
            pick,
            payload,
            text,
        })
}

fn count_nodes(v: &Value) -> usize {
    1 + match v {
        Value::Array(a) => a.iter().map(count_nodes).sum(),
        Value::Object(o) => o.values().map(count_nodes).sum(),
        _ => 0,
    }
}

/// The `n`-th node in pre-order.
fn nth_node(v: &mut Value, n: usize) -> Option<&mut Value> {
    if n == 0 {
        return Some(v);
    }
    let mut n = n - 1;
    let children: Vec<&mut Value> = match v {
        Value::Array(a) => a.iter_mut().collect(),
        Value::Object(o) => o.values_mut().collect(),
        _ => return None,
    };
    for child in children {
        let size = count_nodes(child);
        if n < size {
            return nth_node(child, n);
        }
        n -= size;
    }
    None
}

fn apply(doc: &mut Value, m: &Mutation) {
    let total = count_nodes(doc);
    let Some(node) = nth_node(doc, m.node % total) else {
        return;
    };
    if m.op == 8 {
        // Unwrap a one-element array.
        if let Value::Array(a) = node {
            if a.len() == 1 {
                if let Some(inner) = a.pop() {
                    *node = inner;
                }
            }
        }
        return;
    }
    match (m.op, node) {
        (0, node) => *node = m.payload.clone(),
        (1, Value::Object(o)) if !o.is_empty() => {
            let key = o.keys().nth(m.pick % o.len()).cloned().unwrap_or_default();
            o.remove(&key);
        }
        (2, Value::Object(o)) => {
            o.insert(m.text.clone(), m.payload.clone());
        }
        (3, Value::Object(o)) if !o.is_empty() => {
            // Rename a key (keeping its value), possibly to a differently-cased spelling.
            let key = o.keys().nth(m.pick % o.len()).cloned().unwrap_or_default();
            let value = o.remove(&key).unwrap_or(Value::Null);
            let new_key = match m.pick % 3 {
                0 => key.to_lowercase(),
                1 => key.to_uppercase(),
                _ => m.text.clone(),
            };
            o.insert(new_key, value);
        }
        (4, Value::String(s)) => {
            let mut chars: Vec<char> = s.chars().collect();
            let at = if chars.is_empty() {
                0
            } else {
                m.pick % (chars.len() + 1)
            };
            chars.splice(at..at, m.text.chars());
            *s = chars.into_iter().collect();
        }
        (5, Value::Array(a)) => a.push(m.payload.clone()),
        (6, Value::Array(a)) if !a.is_empty() => {
            let i = m.pick % a.len();
            a.remove(i);
        }
        (7, node) => {
            let inner = node.take();
            *node = Value::Array(vec![inner]);
        }
        _ => {}
    }
}

#[derive(Debug, Clone)]
enum TextEdit {
    None,
    Truncate(usize),
    Insert(usize, String),
    Delete(usize, usize),
    Duplicate(usize, usize),
}

fn text_edit() -> impl Strategy<Value = TextEdit> {
    prop_oneof![
        4 => Just(TextEdit::None),
        1 => any::<usize>().prop_map(TextEdit::Truncate),
        1 => (any::<usize>(), prop_oneof![".{1,4}", "[{}\\[\\]\",:\\\\]{1,3}"]).prop_map(|(a, s)| TextEdit::Insert(a, s)),
        1 => (any::<usize>(), 1usize..8).prop_map(|(a, n)| TextEdit::Delete(a, n)),
        1 => (any::<usize>(), 1usize..16).prop_map(|(a, n)| TextEdit::Duplicate(a, n)),
    ]
}

fn edit_text(text: &str, edit: &TextEdit) -> String {
    let chars: Vec<char> = text.chars().collect();
    let at = |a: usize| {
        if chars.is_empty() {
            0
        } else {
            a % (chars.len() + 1)
        }
    };
    let s = |c: &[char]| c.iter().collect::<String>();
    match edit {
        TextEdit::None => text.to_string(),
        TextEdit::Truncate(a) => s(&chars[..at(*a)]),
        TextEdit::Insert(a, ins) => {
            let i = at(*a);
            format!("{}{ins}{}", s(&chars[..i]), s(&chars[i..]))
        }
        TextEdit::Delete(a, n) => {
            let i = at(*a);
            let j = (i + n).min(chars.len());
            format!("{}{}", s(&chars[..i]), s(&chars[j..]))
        }
        TextEdit::Duplicate(a, n) => {
            let i = at(*a);
            let j = (i + n).min(chars.len());
            format!("{}{}", s(&chars[..j]), s(&chars[i..]))
        }
    }
}

fn exercise(text: &str) -> Result<(), TestCaseError> {
    let Ok(policy) = parse_policy(text) else {
        return Ok(());
    };
    let printed = policy.to_value();
    prop_assert_eq!(parse_policy_value(&printed), Ok(policy.clone()));
    let ctx = MapContext::default()
        .with("aws:username", &["alice"])
        .with("aws:principaltag/team", &["t"])
        .with("aws:securetransport", &["false"])
        .with("aws:sourceip", &["203.0.113.7"])
        .with("aws:tagkeys", &["a", "c"])
        .with("aws:currenttime", &["2025-06-01T00:00:00Z"])
        .with("s3:max-keys", &["50"])
        .with("k", &["aGVsbG8="]);
    for st in &policy.statements {
        let _ = st.matches_action("s3:getobject");
        let _ = st.matches_resource("arn:aws:s3:::bucket/home/alice/x", &ctx);
        let _ = st.failing_condition(&ctx);
        let _ = st.failing_condition(&MapContext::default());
    }
    Ok(())
}

#[test]
fn parser_survives_mutated_policies() {
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let seeds = seeds();
    let n = seeds.len();
    let strategy = (
        0..n,
        prop::collection::vec(mutation(), 0..6),
        text_edit(),
        any::<bool>(),
    );
    let result = runner.run(&strategy, |(seed, mutations, edit, pretty)| {
        let mut doc = seeds
            .get(seed)
            .cloned()
            .unwrap_or_else(|| Value::Object(Map::new()));
        for m in &mutations {
            apply(&mut doc, m);
        }
        let text = if pretty {
            serde_json::to_string_pretty(&doc)
        } else {
            serde_json::to_string(&doc)
        }
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
        exercise(&text)?;
        exercise(&edit_text(&text, &edit))?;
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn seeds_are_valid() {
    for seed in seeds() {
        let p = parse_policy_value(&seed).unwrap();
        assert_eq!(p.to_value(), seed);
    }
}

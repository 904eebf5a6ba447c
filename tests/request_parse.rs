//! Request documents: principals, fields, errors and the JSON round trip.

use s3medic::request::{parse_principal, ObjectRef, PrincipalRef, Request, RequestError, Target};
use serde_json::{json, Value};

fn parse(v: Value) -> Result<Request, RequestError> {
    Request::from_value(&v)
}

fn err(v: Value) -> String {
    match parse(v) {
        Ok(r) => panic!("expected an error, got {r:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn principal_forms() {
    let cases: Vec<(&str, PrincipalRef)> = vec![
        ("anonymous", PrincipalRef::Anonymous),
        ("*", PrincipalRef::Anonymous),
        (
            "111122223333",
            PrincipalRef::Account {
                account: "111122223333".into(),
            },
        ),
        (
            "arn:aws:iam::111122223333:root",
            PrincipalRef::Account {
                account: "111122223333".into(),
            },
        ),
        (
            "arn:aws:iam::111122223333:user/alice",
            PrincipalRef::User {
                account: "111122223333".into(),
                path: "/".into(),
                name: "alice".into(),
                arn: "arn:aws:iam::111122223333:user/alice".into(),
            },
        ),
        (
            "arn:aws:iam::111122223333:user/division/team/alice",
            PrincipalRef::User {
                account: "111122223333".into(),
                path: "/division/team/".into(),
                name: "alice".into(),
                arn: "arn:aws:iam::111122223333:user/division/team/alice".into(),
            },
        ),
        (
            "arn:aws-cn:iam::111122223333:role/service-role/Reader",
            PrincipalRef::Role {
                account: "111122223333".into(),
                path: "/service-role/".into(),
                name: "Reader".into(),
                arn: "arn:aws-cn:iam::111122223333:role/service-role/Reader".into(),
            },
        ),
        (
            "arn:aws-us-gov:sts::111122223333:assumed-role/Reader/bob@example.com",
            PrincipalRef::AssumedRole {
                account: "111122223333".into(),
                role_name: "Reader".into(),
                session_name: "bob@example.com".into(),
                arn: "arn:aws-us-gov:sts::111122223333:assumed-role/Reader/bob@example.com".into(),
            },
        ),
        (
            "arn:aws:sts::111122223333:federated-user/bob",
            PrincipalRef::FederatedUser {
                account: "111122223333".into(),
                name: "bob".into(),
                arn: "arn:aws:sts::111122223333:federated-user/bob".into(),
            },
        ),
        (
            "cloudfront.amazonaws.com",
            PrincipalRef::Service {
                name: "cloudfront.amazonaws.com".into(),
            },
        ),
    ];
    for (input, want) in cases {
        assert_eq!(parse_principal(input).unwrap(), want, "{input}");
    }
}

#[test]
fn cloudfront_oai_user() {
    let p = parse_principal(
        "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E2QWRUHAPOMQZL",
    )
    .unwrap();
    assert_eq!(p.account(), Some("cloudfront"));
    assert!(matches!(p, PrincipalRef::User { .. }));
}

#[test]
fn principal_accessors() {
    let role = parse_principal("arn:aws:iam::111122223333:role/app/Reader").unwrap();
    assert_eq!(role.account(), Some("111122223333"));
    assert_eq!(
        role.arn(),
        Some("arn:aws:iam::111122223333:role/app/Reader")
    );
    assert_eq!(
        role.session_arn().as_deref(),
        Some("arn:aws:sts::111122223333:assumed-role/Reader/s3medic")
    );
    assert!(role.is_session());
    let session = parse_principal("arn:aws:sts::111122223333:assumed-role/Reader/s").unwrap();
    assert_eq!(
        session.role_arn().as_deref(),
        Some("arn:aws:iam::111122223333:role/Reader")
    );
    assert_eq!(PrincipalRef::Anonymous.account(), None);
    assert_eq!(PrincipalRef::Anonymous.arn(), None);
    let acct = parse_principal("111122223333").unwrap();
    assert_eq!(acct.arn(), None);
    assert!(!acct.is_session());
    let svc = PrincipalRef::Service {
        name: "cloudfront.amazonaws.com".into(),
    };
    assert_eq!(svc.account(), None);
}

#[test]
fn bad_principals() {
    let cases = [
        ("arn:aws:iam::12:user/x", "account id must be 12 digits"),
        ("1234", "account id must be 12 digits"),
        ("arn:aws:iam::111122223333:user/", "name is empty"),
        (
            "arn:aws:iam::111122223333:group/admins",
            "group cannot make requests",
        ),
        ("arn:aws:iam::111122223333:policy/p", "not a principal"),
        (
            "arn:aws:iam::111122223333:instance-profile/p",
            "not an iam principal type",
        ),
        ("arn:aws:s3:::bucket", "only iam and sts"),
        (
            "arn:azure:iam::111122223333:user/x",
            "unknown partition `azure`",
        ),
        ("arn:aws:iam:us-east-1:111122223333:user/x", "empty region"),
        (
            "arn:aws:sts::111122223333:assumed-role/OnlyRole",
            "assumed-role/ROLE/SESSION",
        ),
        (
            "arn:aws:sts::111122223333:assumed-role/R/bad session",
            "contains ` `",
        ),
        (
            "arn:aws:sts::111122223333:user/x",
            "assumed-role/ROLE/SESSION",
        ),
        ("arn:aws:iam::111122223333", "six"),
        ("arn:aws:iam::111122223333:alice", "root"),
        ("alice", "expected an iam or sts arn"),
        ("", "expected an iam or sts arn"),
        ("arn:aws:iam::111122223333:user/a//b", "empty segment"),
    ];
    for (input, want) in cases {
        let e = parse_principal(input).unwrap_err().to_string();
        assert!(e.contains(want), "{input}: {e}");
        assert!(e.contains(&format!("`{input}`")), "{input}: {e}");
    }
}

#[test]
fn bad_principal_in_request_names_the_field() {
    let e = err(
        json!({"principal": "arn:aws:iam::12:user/x", "operation": "GetObject", "bucket": "b", "key": "k"}),
    );
    assert_eq!(
        e,
        "`principal`: `arn:aws:iam::12:user/x` is not a valid principal: account id must be 12 digits"
    );
}

#[test]
fn service_principal_object() {
    let r = parse(json!({"principal": {"Service": "cloudfront.amazonaws.com"}, "operation": "GetObject", "bucket": "b", "key": "k"})).unwrap();
    assert_eq!(
        r.principal,
        PrincipalRef::Service {
            name: "cloudfront.amazonaws.com".into()
        }
    );
    assert!(err(json!({"principal": {"AWS": "111122223333"}, "operation": "GetObject", "bucket": "b", "key": "k"})).contains("unknown field `AWS`"));
    assert!(err(
        json!({"principal": {"Service": 3}, "operation": "GetObject", "bucket": "b", "key": "k"})
    )
    .contains("`Service` must be a string"));
    assert!(
        err(json!({"principal": 3, "operation": "GetObject", "bucket": "b"}))
            .contains("`principal`")
    );
    assert!(err(json!({"operation": "GetObject", "bucket": "b"})).contains("missing `principal`"));
}

#[test]
fn full_request() {
    let r = Request::from_json_str(
        r#"{
        "principal": "arn:aws:sts::111122223333:assumed-role/Reader/s",
        "session_tags": {"team": "data"},
        "operation": "GetObject",
        "bucket": "example-bucket",
        "key": "reports/2026.csv",
        "version_id": "v1",
        "headers": {"X-Amz-Request-Payer": "requester"},
        "query": {"prefix": "home/"},
        "vpc_endpoint": "vpce-1a2b3c4d",
        "context": {
            "aws:SourceIp": "203.0.113.7",
            "aws:SecureTransport": true,
            "s3:max-keys": 100,
            "aws:SourceVpc": ["vpc-1", "vpc-2"]
        }
    }"#,
    )
    .unwrap();
    assert!(matches!(r.target, Target::Operation(s) if s.name == "GetObject"));
    assert_eq!(r.bucket, "example-bucket");
    assert_eq!(r.key.as_deref(), Some("reports/2026.csv"));
    assert_eq!(r.version_id.as_deref(), Some("v1"));
    assert_eq!(
        r.session_tags,
        vec![("team".to_string(), "data".to_string())]
    );
    assert_eq!(r.header("x-amz-request-payer"), Some("requester"));
    assert_eq!(r.headers[0].0, "x-amz-request-payer");
    assert_eq!(r.query_param("prefix"), Some("home/"));
    assert_eq!(r.vpc_endpoint.as_deref(), Some("vpce-1a2b3c4d"));
    assert_eq!(
        r.context_value("aws:sourceip"),
        Some(&["203.0.113.7".to_string()][..])
    );
    assert_eq!(
        r.context_value("aws:securetransport"),
        Some(&["true".to_string()][..])
    );
    assert_eq!(
        r.context_value("s3:max-keys"),
        Some(&["100".to_string()][..])
    );
    assert_eq!(
        r.context_value("aws:sourcevpc"),
        Some(&["vpc-1".to_string(), "vpc-2".to_string()][..])
    );
    assert_eq!(r.context[0].0, "aws:sourceip");
    assert_eq!(r.context_value("aws:missing"), None);
}

#[test]
fn exactly_one_target() {
    let both = err(
        json!({"principal": "anonymous", "operation": "GetObject", "action": "s3:GetObject", "bucket": "b", "key": "k"}),
    );
    assert!(both.contains("not both"), "{both}");
    let none = err(json!({"principal": "anonymous", "bucket": "b"}));
    assert!(none.contains("give `operation`"), "{none}");
    let num = err(json!({"principal": "anonymous", "operation": 3, "bucket": "b"}));
    assert!(num.contains("must be a string, not a number"), "{num}");
}

#[test]
fn raw_action_validation() {
    let r = parse(
        json!({"principal": "anonymous", "action": "s3:getobject", "bucket": "b", "key": "k"}),
    )
    .unwrap();
    assert_eq!(r.target, Target::Action("s3:getobject".into()));
    for (a, want) in [
        ("s3:Get*", "wildcards"),
        ("GetObject", "`s3:Name`"),
        ("kms:Decrypt", "only s3 actions"),
        ("s3:", "letters and digits"),
    ] {
        let e = err(json!({"principal": "anonymous", "action": a, "bucket": "b", "key": "k"}));
        assert!(e.contains(want), "{a}: {e}");
        assert!(e.contains(&format!("`{a}`")), "{a}: {e}");
    }
}

#[test]
fn unknown_fields_list_allowed_ones() {
    let e = err(
        json!({"principal": "anonymous", "operation": "GetObject", "bucket": "b", "key": "k", "region": "us-east-1"}),
    );
    assert!(e.contains("unknown field `region`"), "{e}");
    assert!(
        e.contains("principal, session_policy, session_tags, operation, action, bucket, key"),
        "{e}"
    );
    let e = err(
        json!({"principal": "anonymous", "operation": "CopyObject", "bucket": "b", "key": "k", "copy_source": {"bucket": "s", "key": "k", "etag": "x"}}),
    );
    assert!(e.contains("unknown field `etag` in `copy_source`"), "{e}");
}

#[test]
fn copy_source_forms() {
    let base = |cs: Value| {
        parse(
            json!({"principal": "anonymous", "operation": "CopyObject", "bucket": "b", "key": "k", "copy_source": cs}),
        )
    };
    let want = ObjectRef {
        bucket: "src".into(),
        key: "dir/a.txt".into(),
        version_id: None,
    };
    assert_eq!(
        base(json!("src/dir/a.txt")).unwrap().copy_source,
        Some(want.clone())
    );
    assert_eq!(
        base(json!("/src/dir/a.txt")).unwrap().copy_source,
        Some(want.clone())
    );
    assert_eq!(
        base(json!({"bucket": "src", "key": "dir/a.txt", "version_id": null}))
            .unwrap()
            .copy_source,
        Some(want.clone())
    );
    let v = base(json!("src/dir/a.txt?versionId=abc"))
        .unwrap()
        .copy_source
        .unwrap();
    assert_eq!(v.version_id.as_deref(), Some("abc"));
    assert_eq!(v.key, "dir/a.txt");
    assert!(base(json!("nokey"))
        .unwrap_err()
        .to_string()
        .contains("`bucket/key`"));
    assert!(base(json!("src/k?versionId="))
        .unwrap_err()
        .to_string()
        .contains("empty versionId"));
    assert!(base(json!({"bucket": "src"}))
        .unwrap_err()
        .to_string()
        .contains("missing `copy_source.key`"));
    assert!(base(json!(7))
        .unwrap_err()
        .to_string()
        .contains("`copy_source`"));
    // From the raw header.
    let r = parse(json!({"principal": "anonymous", "operation": "CopyObject", "bucket": "b", "key": "k", "headers": {"x-amz-copy-source": "/src/dir/a.txt"}})).unwrap();
    assert_eq!(r.copy_source, Some(want));
}

#[test]
fn field_shape_errors() {
    let e = err(
        json!({"principal": "anonymous", "operation": "GetObject", "bucket": "b", "key": "k", "context": {"aws:SourceIp": {"a": 1}}}),
    );
    assert!(
        e.contains("`context`: `aws:SourceIp` must be a string, number, boolean or an array"),
        "{e}"
    );
    let e = err(
        json!({"principal": "anonymous", "operation": "GetObject", "bucket": "b", "key": "k", "context": {"aws:SourceIp": [null]}}),
    );
    assert!(e.contains("not null"), "{e}");
    let e = err(
        json!({"principal": "anonymous", "operation": "GetObject", "bucket": "b", "key": "k", "headers": {"x-amz-acl": ["a"]}}),
    );
    assert!(e.contains("`headers`: `x-amz-acl` must be a string"), "{e}");
    let e = err(
        json!({"principal": "anonymous", "operation": "GetObject", "bucket": "b", "key": "k", "headers": {"X-Amz-Acl": "a", "x-amz-acl": "b"}}),
    );
    assert!(e.contains("given twice"), "{e}");
    let e =
        err(json!({"principal": "anonymous", "operation": "GetObject", "bucket": 5, "key": "k"}));
    assert!(e.contains("`bucket`: must be a string"), "{e}");
    let e = err(json!({"principal": "anonymous", "operation": "GetObject", "bucket": "b/k"}));
    assert!(e.contains("cannot contain `/`"), "{e}");
    let e =
        err(json!({"principal": "anonymous", "operation": "GetObject", "bucket": "b", "key": ""}));
    assert!(e.contains("`key`: must not be empty"), "{e}");
    assert!(Request::from_json_str("{")
        .unwrap_err()
        .to_string()
        .starts_with("the request is not valid json"));
    assert_eq!(
        Request::from_json_str("[]").unwrap_err().to_string(),
        "a request must be a json object, not an array"
    );
}

#[test]
fn session_parts_need_a_session() {
    let e = err(
        json!({"principal": "arn:aws:iam::111122223333:user/alice", "session_tags": {"a": "b"}, "operation": "GetObject", "bucket": "b", "key": "k"}),
    );
    assert!(
        e.contains("`session_tags`") && e.contains("not a session"),
        "{e}"
    );
    let ok = parse(
        json!({"principal": "arn:aws:iam::111122223333:role/R", "session_tags": {"a": "b"}, "operation": "GetObject", "bucket": "b", "key": "k"}),
    );
    assert!(ok.is_ok());
}

fn round_trip(v: Value) {
    let r = parse(v.clone()).unwrap();
    let printed = r.to_value();
    let again = Request::from_value(&printed).unwrap();
    assert_eq!(r, again, "{printed}");
    assert_eq!(printed, again.to_value());
}

#[test]
fn round_trips_without_session_policy() {
    round_trip(
        json!({"principal": "anonymous", "operation": "ListObjectsV2", "bucket": "b", "query": {"prefix": "home/", "max-keys": 10}}),
    );
    round_trip(json!({"principal": "arn:aws:iam::111122223333:root", "operation": "ListBuckets"}));
    round_trip(
        json!({"principal": {"Service": "cloudfront.amazonaws.com"}, "operation": "GetObject", "bucket": "b", "key": "k",
        "context": {"aws:SourceArn": "arn:aws:cloudfront::111122223333:distribution/E1", "aws:SourceVpc": ["a", "b"], "x:empty": []}}),
    );
    round_trip(
        json!({"principal": "arn:aws:sts::111122223333:assumed-role/R/s", "session_tags": {"team": "data"},
        "action": "s3:ListBucket", "bucket": "b", "vpc_endpoint": "vpce-1", "headers": {"X-Amz-Acl": "private"}}),
    );
    round_trip(
        json!({"principal": "arn:aws:iam::111122223333:user/p/alice", "operation": "CopyObject", "bucket": "b", "key": "k",
        "copy_source": "src/a.txt?versionId=v9", "headers": {"x-amz-tagging-directive": "REPLACE"}}),
    );
    round_trip(
        json!({"principal": "arn:aws:sts::111122223333:federated-user/bob", "operation": "DeleteObject", "bucket": "b", "key": "k", "version_id": "v1"}),
    );
}

#[test]
fn printed_form() {
    let r = parse(json!({"principal": "arn:aws:iam::111122223333:root", "operation": "getobject", "bucket": "b", "key": "k",
        "context": {"AWS:SourceIp": ["1.2.3.4"]}})).unwrap();
    assert_eq!(
        r.to_value(),
        json!({"principal": "111122223333", "operation": "GetObject", "bucket": "b", "key": "k", "context": {"aws:sourceip": "1.2.3.4"}})
    );
}

/// Needs the policy module (`parse_policy_value`, `Policy::to_value`).
#[test]
fn round_trips_with_session_policy() {
    let doc = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]});
    round_trip(
        json!({"principal": "arn:aws:iam::111122223333:role/R", "session_policy": doc.clone(),
        "operation": "GetObject", "bucket": "b", "key": "k"}),
    );
    // As a JSON string and as a percent-encoded string.
    let text = doc.to_string();
    let a = parse(json!({"principal": "arn:aws:iam::111122223333:role/R", "session_policy": text, "operation": "GetObject", "bucket": "b", "key": "k"})).unwrap();
    let encoded: String = doc
        .to_string()
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let b = parse(json!({"principal": "arn:aws:iam::111122223333:role/R", "session_policy": encoded, "operation": "GetObject", "bucket": "b", "key": "k"})).unwrap();
    assert_eq!(a.session_policy, b.session_policy);
    assert!(a.session_policy.is_some());
    let e = err(
        json!({"principal": "arn:aws:iam::111122223333:user/alice", "session_policy": doc, "operation": "GetObject", "bucket": "b", "key": "k"}),
    );
    assert!(
        e.contains("`session_policy`") && e.contains("not a session"),
        "{e}"
    );
}

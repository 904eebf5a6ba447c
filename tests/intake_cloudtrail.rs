//! CloudTrail intake: a log with mixed events (allowed, denied, other services, other error codes,
//! several accounts, one request delivered to two accounts) yields exactly the denied S3
//! requests, grouped; the same records as JSON lines, as a bare array and as `aws cloudtrail
//! lookup-events` output give the same groups; every caller type maps to a principal.

use std::path::PathBuf;

use serde_json::{json, Map, Value};

use s3medic::intake::cloudtrail::{self, EventGroup, TrailRequests};
use s3medic::intake::CloudTrailError;

fn mixed_text() -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/intake/cloudtrail/mixed.json");
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn records() -> Vec<Value> {
    let v: Value = serde_json::from_str(&mixed_text()).expect("fixture is json");
    v["Records"].as_array().expect("Records").clone()
}

fn mixed() -> TrailRequests {
    cloudtrail::parse(&mixed_text()).expect("parses")
}

fn request(g: &EventGroup) -> Value {
    g.draft
        .complete("test")
        .unwrap_or_else(|e| panic!("{}: {e}", g.summary()))
        .to_value()
}

#[test]
fn mixed_log_yields_exactly_the_denied_s3_requests_grouped() {
    let t = mixed();
    assert_eq!(t.events, 14);
    assert_eq!(t.not_s3, 2, "kms Decrypt and sts AssumeRole");
    assert_eq!(t.succeeded, 2);
    assert_eq!(
        t.other_errors,
        vec![
            ("AllAccessDisabled".to_string(), 1),
            ("NoSuchKey".to_string(), 1)
        ]
    );
    assert_eq!(t.skipped.len(), 1);
    assert_eq!(t.skipped[0].index, 14);
    assert!(
        t.skipped[0]
            .reason
            .contains("PutBucketIntelligentTieringConfiguration"),
        "{}",
        t.skipped[0].reason
    );

    let summary: Vec<(usize, String, String, Option<String>)> = t
        .groups
        .iter()
        .map(|g| {
            (
                g.count,
                g.draft.principal.clone().unwrap_or_default(),
                g.draft.operation.clone().unwrap_or_default(),
                g.draft.key.clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                1,
                "arn:aws:sts::111122223333:assumed-role/ReportsPublisher/publish-job".into(),
                "PutObject".into(),
                Some("other/x.csv".into())
            ),
            (
                2,
                "arn:aws:iam::444455556666:user/alice".into(),
                "GetObject".into(),
                Some("reports/2026/q1.csv".into())
            ),
            (
                1,
                "arn:aws:sts::444455556666:assumed-role/DataReader/etl-job".into(),
                "GetObject".into(),
                Some("reports/2026/q1.csv".into())
            ),
            (
                1,
                "anonymous".into(),
                "GetObject".into(),
                Some("index.html".into())
            ),
            (
                1,
                "arn:aws:iam::444455556666:user/alice".into(),
                "ListObjectsV2".into(),
                None
            ),
        ],
        "groups ordered by first time"
    );
    assert!(
        t.summary().contains("6 denied S3 request(s) in 5 group(s)"),
        "{}",
        t.summary()
    );
}

#[test]
fn a_request_delivered_to_two_accounts_counts_once_and_keeps_the_named_caller() {
    let t = mixed();
    let alice = &t.groups[1];
    assert_eq!(alice.count, 2);
    assert_eq!(alice.first_time.as_deref(), Some("2026-11-29T10:00:00Z"));
    assert_eq!(alice.last_time.as_deref(), Some("2026-11-29T10:05:00Z"));
    // The bucket owner's copy names only the account; the caller's copy (the ARN) is kept, and
    // the owner's copy contributes the bucket owner and its recipient account.
    assert_eq!(alice.bucket_owner.as_deref(), Some("111122223333"));
    assert_eq!(
        alice.recipient_accounts,
        vec!["444455556666", "111122223333"]
    );
    assert_eq!(
        alice.event_ids,
        vec![
            "e1000001-0000-4000-8000-000000000002",
            "e1000001-0000-4000-8000-000000000004"
        ]
    );
    // No group is made of the account-only copy.
    assert!(t
        .groups
        .iter()
        .all(|g| g.draft.principal.as_deref() != Some("444455556666")));
}

#[test]
fn requests_carry_the_context_cloudtrail_records() {
    let t = mixed();
    let alice = request(&t.groups[1]);
    assert_eq!(
        alice["context"],
        json!({"aws:sourceip": "203.0.113.7", "aws:securetransport": "true", "aws:currenttime": "2026-11-29T10:05:00Z"})
    );
    // No tlsDetails in a 1.10 event: plain HTTP.
    let dr = request(&t.groups[2]);
    assert_eq!(dr["context"]["aws:securetransport"], "false");
    assert!(t.groups[2].notes.iter().any(|n| n.contains("without TLS")));
    // Encryption headers from requestParameters.
    let put = request(&t.groups[0]);
    assert_eq!(put["headers"]["x-amz-server-side-encryption"], "aws:kms");
    // ListObjects with list-type 2 is ListObjectsV2, with its query.
    let list = request(&t.groups[4]);
    assert_eq!(list["operation"], "ListObjectsV2");
    assert_eq!(
        list["query"],
        json!({"prefix": "reports/", "delimiter": "/"})
    );
    // The enhanced errorMessage is read.
    let r = t.groups[0].report.as_ref().expect("report");
    assert_eq!(
        r.stated().as_deref(),
        Some("no identity-based policy allows s3:PutObject")
    );
    assert!(t.groups[1]
        .report
        .as_ref()
        .is_some_and(|r| r.reason.is_none()));
}

#[test]
fn json_lines_arrays_and_lookup_events_give_the_same_groups() {
    let expected = mixed().groups;
    let recs = records();

    let lines: Vec<String> = recs
        .iter()
        .map(|r| serde_json::to_string(r).expect("line"))
        .collect();
    let from_lines = cloudtrail::parse(&lines.join("\n")).expect("json lines");
    assert_eq!(from_lines.groups, expected);

    let array = serde_json::to_string(&recs).expect("array");
    assert_eq!(cloudtrail::parse(&array).expect("array").groups, expected);

    let lookup = json!({
        "Events": recs.iter().map(|r| json!({
            "EventId": r["eventID"],
            "EventName": r["eventName"],
            "ReadOnly": "true",
            "EventTime": r["eventTime"],
            "EventSource": r["eventSource"],
            "CloudTrailEvent": serde_json::to_string(r).expect("event string"),
        })).collect::<Vec<_>>()
    });
    let from_lookup = cloudtrail::parse(&lookup.to_string()).expect("lookup-events");
    assert_eq!(from_lookup.groups, expected);

    let single = serde_json::to_string(&recs[1]).expect("one event");
    assert_eq!(cloudtrail::parse(&single).expect("one").groups.len(), 1);
}

fn denied_event(user_identity: Value) -> Map<String, Value> {
    let mut ev = json!({
        "eventVersion": "1.09",
        "eventTime": "2026-11-29T12:00:00Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": "GetObject",
        "sourceIPAddress": "cloudfront.amazonaws.com",
        "requestParameters": {"bucketName": "b", "key": "k"},
        "errorCode": "AccessDenied",
        "tlsDetails": {"tlsVersion": "TLSv1.2"},
        "requestID": "R",
        "eventID": "E"
    });
    if !user_identity.is_null() {
        ev["userIdentity"] = user_identity;
    }
    ev.as_object().expect("object").clone()
}

fn caller_of(user_identity: Value) -> Result<String, String> {
    let t = cloudtrail::group(&[denied_event(user_identity)]);
    match (t.groups.first(), t.skipped.first()) {
        (Some(g), _) => Ok(g.draft.principal.clone().unwrap_or_default()),
        (None, Some(s)) => Err(s.reason.clone()),
        (None, None) => Err("nothing".into()),
    }
}

#[test]
fn every_caller_type_maps_to_a_principal() {
    assert_eq!(caller_of(Value::Null).as_deref(), Ok("anonymous"));
    assert_eq!(
        caller_of(json!({"type": "Anonymous"})).as_deref(),
        Ok("anonymous")
    );
    assert_eq!(
        caller_of(json!({"type": "AWSAccount", "principalId": "", "accountId": "anonymous"}))
            .as_deref(),
        Ok("anonymous")
    );
    assert_eq!(
        caller_of(json!({"type": "IAMUser", "accountId": "111122223333", "userName": "bob"}))
            .as_deref(),
        Ok("arn:aws:iam::111122223333:user/bob")
    );
    assert_eq!(
        caller_of(json!({"type": "AssumedRole", "sessionContext": {"sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::111122223333:role/R"}}}))
            .as_deref(),
        Ok("arn:aws:iam::111122223333:role/R")
    );
    assert_eq!(
        caller_of(
            json!({"type": "FederatedUser", "arn": "arn:aws:sts::111122223333:federated-user/bob"})
        )
        .as_deref(),
        Ok("arn:aws:sts::111122223333:federated-user/bob")
    );
    assert_eq!(
        caller_of(json!({"type": "Root", "arn": "arn:aws:iam::111122223333:root", "accountId": "111122223333"}))
            .as_deref(),
        Ok("arn:aws:iam::111122223333:root")
    );
    assert_eq!(
        caller_of(
            json!({"type": "AWSAccount", "principalId": "AIDAEXAMPLE", "accountId": "444455556666"})
        )
        .as_deref(),
        Ok("444455556666")
    );
    assert_eq!(
        caller_of(json!({"type": "AWSService", "invokedBy": "cloudfront.amazonaws.com"}))
            .as_deref(),
        Ok("cloudfront.amazonaws.com")
    );
    let err = caller_of(json!({"type": "IdentityCenterUser"})).expect_err("unsupported");
    assert!(err.contains("IdentityCenterUser"), "{err}");
    // A service's source address is not an IP: no aws:SourceIp.
    let t = cloudtrail::group(&[denied_event(
        json!({"type": "AWSService", "invokedBy": "cloudfront.amazonaws.com"}),
    )]);
    assert_eq!(t.groups[0].draft.context_value("aws:SourceIp"), None);
}

#[test]
fn copy_source_version_and_vpc_endpoint() {
    let mut ev =
        denied_event(json!({"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/bob"}));
    ev.insert("eventName".into(), json!("CopyObject"));
    ev.insert("sourceIPAddress".into(), json!("10.1.2.3"));
    ev.insert("vpcEndpointId".into(), json!("vpce-1a2b3c4d"));
    ev.insert(
        "requestParameters".into(),
        json!({"bucketName": "dst", "key": "copy.txt", "x-amz-copy-source": "src/dir%2Fa%20b.txt?versionId=v1"}),
    );
    let t = cloudtrail::group(&[ev]);
    let d = &t.groups[0].draft;
    assert_eq!(
        d.copy_source.as_deref(),
        Some("src/dir/a b.txt?versionId=v1")
    );
    assert_eq!(d.vpc_endpoint.as_deref(), Some("vpce-1a2b3c4d"));
    // Through a VPC endpoint the source address is the private one: aws:VpcSourceIp.
    assert_eq!(d.context_value("aws:VpcSourceIp"), Some("10.1.2.3"));
    assert_eq!(d.context_value("aws:SourceIp"), None);
    let r = d.complete("test").expect("complete");
    let src = r.copy_source.expect("copy source");
    assert_eq!(
        (src.bucket.as_str(), src.key.as_str()),
        ("src", "dir/a b.txt")
    );
    assert_eq!(src.version_id.as_deref(), Some("v1"));
}

#[test]
fn old_events_without_tls_details_are_evaluated_as_https() {
    let mut ev =
        denied_event(json!({"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/bob"}));
    ev.remove("tlsDetails");
    ev.insert("eventVersion".into(), json!("1.05"));
    let t = cloudtrail::group(&[ev]);
    assert_eq!(t.groups[0].draft.context_value("aws:SecureTransport"), None);
    assert!(t.groups[0].notes.iter().any(|n| n.contains("predates")));
}

#[test]
fn bad_inputs_are_named() {
    assert_eq!(cloudtrail::parse(" \n"), Err(CloudTrailError::Empty));
    assert_eq!(
        cloudtrail::parse_bytes(&[0x1f, 0x8b, 0x08, 0x00]),
        Err(CloudTrailError::Compressed)
    );
    assert_eq!(
        cloudtrail::parse_bytes(&[0xff, 0xfe, 0x00]),
        Err(CloudTrailError::NotText)
    );
    match cloudtrail::parse("{\"Records\": [") {
        Err(CloudTrailError::NotJson { line: 1, .. }) => {}
        other => panic!("{other:?}"),
    }
    match cloudtrail::parse("{\"eventName\": \"GetObject\"}\n{broken") {
        Err(CloudTrailError::NotJson { line: 2, .. }) => {}
        other => panic!("{other:?}"),
    }
    match cloudtrail::parse("{\"Policy\": {}}") {
        Err(e @ CloudTrailError::NotCloudTrail { .. }) => {
            assert!(e.to_string().contains("Policy"), "{e}")
        }
        other => panic!("{other:?}"),
    }
    match cloudtrail::parse("[1, 2]") {
        Err(CloudTrailError::BadEvent { index: 1, .. }) => {}
        other => panic!("{other:?}"),
    }
    match cloudtrail::parse("{\"Events\": [{\"CloudTrailEvent\": \"{not json\"}]}") {
        Err(e @ CloudTrailError::BadEvent { index: 1, .. }) => {
            assert!(e.to_string().contains("CloudTrailEvent"), "{e}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn account_callers_resolve_through_the_world() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let read =
        |p: &str| std::fs::read_to_string(root.join(p)).unwrap_or_else(|e| panic!("{p}: {e}"));
    let t =
        cloudtrail::parse(&read("tests/intake/cloudtrail/account-callers.json")).expect("parses");
    let world = s3medic::world::World::from_json_str(&read("examples/worlds/cross-account.json"))
        .expect("example World");
    let resolved: Vec<Result<String, String>> = t
        .groups
        .iter()
        .map(|g| {
            assert_eq!(g.draft.principal.as_deref(), Some("444455556666"), "{g:?}");
            g.account_caller
                .as_ref()
                .expect("principal id kept")
                .resolve(&world)
        })
        .collect();
    assert_eq!(
        resolved,
        vec![
            Ok("arn:aws:sts::444455556666:assumed-role/DataReader/etl-job".to_string()),
            Ok("arn:aws:iam::444455556666:user/alice".to_string()),
            Err("no user or role of account 444455556666 in the World has the id `AIDAEXAMPLENOSUCHID0`".to_string()),
        ]
    );
}

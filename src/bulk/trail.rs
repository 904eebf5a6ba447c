//! CloudTrail as a source of targets: `cloudtrail = ["trail.json"]` in a targets file. Every
//! group of identical denied S3 requests the file holds ([`crate::intake::cloudtrail`]) becomes
//! one request on its own bucket (named `cloudtrail-N`, in order over all the files), decided at
//! the time of its last event, in the account that owns the bucket: the owner the events name
//! when the file lists that account; else the one account the events were delivered to that the
//! file lists; else the file's only account. The bucket is added to that account's named buckets
//! (an account with `*` lists it anyway when it exists). A group that is not a request on a
//! bucket, names no account of the file, or does not make a valid request is skipped with its
//! reason. A caller CloudTrail names only by account (`AWSAccount`) makes a request of that account
//! that keeps the principal id ([`RequestSpec::account_caller`]); once the bucket's World is
//! collected, [`resolve_caller`] looks the id up in that account's IAM data and, when found, the
//! request is made by the user or role session (else it stays the account's, and the note says
//! why). Pure: the caller reads the file.

use serde_json::Value;

use super::expand::concrete_request;
use super::targets::{BucketSelection, Location, RequestSpec, Targets, TargetsError, Verb};
use crate::intake::cloudtrail::{parse_bytes, EventGroup};
use crate::request::Request;
use crate::world::World;

/// The prefix of the names of requests taken from CloudTrail.
pub const TRAIL_REQUEST_PREFIX: &str = "cloudtrail-";

/// What one CloudTrail file gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailAdded {
    /// The CloudTrail file, as named in the targets file.
    pub file: String,
    /// The parser's one-line summary (events, denied requests, groups ...).
    pub summary: String,
    /// The names of the requests added.
    pub added: Vec<String>,
    /// Why groups or events were left out.
    pub skipped: Vec<String>,
}

/// Adds the denied S3 requests of the CloudTrail file `file` (its content `bytes`) to `targets`.
/// Fails only when the file is not CloudTrail input at all.
pub fn add_trail(
    targets: &mut Targets,
    file: &str,
    bytes: &[u8],
) -> Result<TrailAdded, TargetsError> {
    let trail = parse_bytes(bytes).map_err(|e| TargetsError {
        file: targets.file.clone(),
        line: None,
        entry: Some(format!("cloudtrail file `{file}`")),
        field: None,
        message: e.to_string(),
    })?;
    let mut out = TrailAdded {
        file: file.to_string(),
        summary: trail.summary(),
        added: Vec::new(),
        skipped: trail
            .skipped
            .iter()
            .map(|s| format!("event {}: {}", s.index, s.reason))
            .collect(),
    };
    let mut n = targets
        .requests
        .iter()
        .filter(|r| r.name.starts_with(TRAIL_REQUEST_PREFIX))
        .count();
    for (g, group) in trail.groups.iter().enumerate() {
        let label = format!("group {} ({})", g + 1, group.summary());
        let name = loop {
            n += 1;
            let candidate = format!("{TRAIL_REQUEST_PREFIX}{n}");
            if !targets.requests.iter().any(|r| r.name == candidate) {
                break candidate;
            }
        };
        match spec_of(targets, group, &name) {
            Ok((spec, account, bucket)) => {
                if let Some(a) = targets.accounts.iter_mut().find(|a| a.id == account) {
                    if let BucketSelection::Named(names) = &mut a.buckets {
                        if !names.contains(&bucket) {
                            names.push(bucket);
                        }
                    }
                }
                out.added.push(spec.name.clone());
                targets.requests.push(spec);
            }
            Err(why) => {
                n -= 1;
                out.skipped.push(format!("{label}: {why}"));
            }
        }
    }
    Ok(out)
}

/// The account of the file that owns the group's bucket (see the module header).
fn account_of(targets: &Targets, group: &EventGroup, bucket: &str) -> Result<String, String> {
    let listed = |a: &str| targets.accounts.iter().any(|x| x.id == a);
    if let Some(owner) = &group.bucket_owner {
        return if listed(owner) {
            Ok(owner.clone())
        } else {
            Err(format!(
                "bucket `{bucket}` is in account {owner}, which the targets file does not list (add an `[[account]]` for it)"
            ))
        };
    }
    let delivered: Vec<&String> = group
        .recipient_accounts
        .iter()
        .filter(|a| listed(a))
        .collect();
    match (delivered.as_slice(), targets.accounts.as_slice()) {
        ([one], _) => Ok((*one).clone()),
        ([], [only]) => Ok(only.id.clone()),
        _ => Err(format!(
            "the events do not say which account owns bucket `{bucket}`, and the targets file lists several"
        )),
    }
}

/// The request spec of one group: its account and bucket.
fn spec_of(
    targets: &Targets,
    group: &EventGroup,
    name: &str,
) -> Result<(RequestSpec, String, String), String> {
    let missing = group.draft.missing();
    if !missing.is_empty() {
        return Err(format!("the events do not tell its {}", missing.join(", ")));
    }
    let mut fields = group.draft.to_fields();
    let bucket = match fields.remove("bucket") {
        Some(Value::String(b)) => b,
        _ => return Err("not a request on a bucket".into()),
    };
    let account = account_of(targets, group, &bucket)?;
    let principal = match fields.remove("principal") {
        Some(Value::String(p)) => p,
        _ => return Err("no principal".into()),
    };
    let verb = match (fields.remove("operation"), fields.remove("action")) {
        (Some(Value::String(o)), _) => Verb::Operation(o),
        (_, Some(Value::String(a))) => Verb::Action(a),
        _ => return Err("no operation".into()),
    };
    let location = match fields.remove("key") {
        Some(Value::String(k)) => Location::Key(k),
        _ => Location::Bucket,
    };
    let spec = RequestSpec {
        name: name.to_string(),
        principal,
        verb,
        location,
        accounts: Some(vec![account.clone()]),
        buckets: Some(vec![bucket.clone()]),
        extra: fields,
        line: None,
        account_caller: group.account_caller.clone(),
    };
    concrete_request(&spec, &account, &bucket).map_err(|e| format!("not a valid request: {e}"))?;
    Ok((spec, account, bucket))
}

/// Resolves the caller of `spec` when CloudTrail named it only by account and principal id
/// ([`RequestSpec::account_caller`]) through `world`'s IAM data: when the id is found, `value`
/// (the concrete request document) and `request` are made by the user or role session found;
/// otherwise they stay the account's. Returns the note that says which (None when `spec` has no
/// such caller).
pub fn resolve_caller(
    spec: &RequestSpec,
    world: &World,
    value: &mut Value,
    request: &mut Request,
) -> Option<String> {
    let caller = spec.account_caller.as_ref()?;
    let (arn, note) = caller.in_world(world);
    let Some(arn) = arn else {
        return Some(note);
    };
    let mut v = value.clone();
    if let Value::Object(m) = &mut v {
        m.insert("principal".into(), Value::String(arn.clone()));
    }
    match Request::from_value(&v) {
        Ok(r) => {
            *value = v;
            *request = r;
            Some(note)
        }
        Err(e) => {
            Some(caller.unresolved_note(&format!("`{arn}` does not make a valid request: {e}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bulk::expand::{bucket_jobs, request_value};
    use crate::bulk::targets::parse_targets;
    use crate::intake::cloudtrail::AccountCaller;
    use serde_json::json;

    fn event(bucket: &str, key: &str, owner: Option<&str>, id: &str) -> Value {
        let mut resources =
            vec![json!({"type": "AWS::S3::Object", "ARN": format!("arn:aws:s3:::{bucket}/{key}")})];
        let mut b = json!({"type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{bucket}")});
        if let Some(o) = owner {
            b["accountId"] = json!(o);
        }
        resources.push(b);
        json!({
            "eventVersion": "1.09",
            "eventSource": "s3.amazonaws.com",
            "eventName": "GetObject",
            "eventTime": "2026-11-20T10:00:00Z",
            "requestID": id,
            "eventID": format!("e-{id}"),
            "errorCode": "AccessDenied",
            "sourceIPAddress": "203.0.113.7",
            "recipientAccountId": "111122223333",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::444455556666:user/bob", "accountId": "444455556666"},
            "requestParameters": {"bucketName": bucket, "key": key},
            "resources": resources,
            "tlsDetails": {"tlsVersion": "TLSv1.3"}
        })
    }

    fn targets(extra: &str) -> Targets {
        parse_targets(
            "t.toml",
            &format!("cloudtrail = [\"trail.json\"]\n[[account]]\nid = \"111122223333\"\nbuckets = [\"other\"]\n{extra}"),
        )
        .expect("parses")
    }

    #[test]
    fn denied_events_become_requests_on_their_buckets() {
        let mut t = targets("");
        assert_eq!(t.cloudtrail, ["trail.json"]);
        assert!(t.requests.is_empty(), "requests are optional with a trail");
        let trail = json!({"Records": [
            event("reports", "q1.csv", Some("111122223333"), "r1"),
            event("reports", "q1.csv", Some("111122223333"), "r2"),
            event("elsewhere", "x", Some("999999999999"), "r3"),
            event("nobody-knows", "y", None, "r4"),
        ]});
        let added = add_trail(&mut t, "trail.json", trail.to_string().as_bytes()).expect("trail");
        assert_eq!(added.added, ["cloudtrail-1", "cloudtrail-2"]);
        assert_eq!(added.skipped.len(), 1, "{:?}", added.skipped);
        assert!(
            added.skipped[0].contains("account 999999999999"),
            "{:?}",
            added.skipped
        );
        // The bucket the events name joins the account's buckets; the request is only for it.
        assert_eq!(
            t.accounts[0].buckets,
            BucketSelection::Named(vec![
                "other".into(),
                "reports".into(),
                "nobody-knows".into()
            ])
        );
        let jobs = bucket_jobs(
            &t,
            "111122223333",
            &["other".into(), "reports".into()],
            None,
        );
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].bucket, "reports");
        let v = request_value(&t.requests[0], "111122223333", "reports");
        assert_eq!(v["principal"], "arn:aws:iam::444455556666:user/bob");
        assert_eq!(v["operation"], "GetObject");
        assert_eq!(v["key"], "q1.csv");
        assert_eq!(v["context"]["aws:SourceIp"], "203.0.113.7");
        assert_eq!(t.requests[0].location, Location::Key("q1.csv".into()));
    }

    #[test]
    fn a_caller_named_only_by_account_is_carried_and_resolved_in_the_world() {
        let mut t = targets("");
        let by_account = |principal_id: &str, id: &str| {
            let mut e = event(
                "example-reports",
                "reports/2026/q1.csv",
                Some("111122223333"),
                id,
            );
            e["userIdentity"] = json!({"type": "AWSAccount", "principalId": principal_id,
                                       "accountId": "444455556666"});
            e
        };
        let trail = json!({"Records": [
            by_account("AROAEXAMPLEDATAREADR:etl-job", "r1"),
            by_account("AIDAEXAMPLENOSUCHID0", "r2"),
        ]});
        let added = add_trail(&mut t, "trail.json", trail.to_string().as_bytes()).expect("trail");
        assert_eq!(added.added, ["cloudtrail-1", "cloudtrail-2"], "{added:?}");
        let callers: Vec<_> = t
            .requests
            .iter()
            .map(|r| {
                assert_eq!(
                    r.principal, "444455556666",
                    "evaluated as the account until resolved"
                );
                r.account_caller.clone().expect("the principal id is kept")
            })
            .collect();
        assert_eq!(
            callers,
            [
                AccountCaller {
                    account: "444455556666".into(),
                    principal_id: "AROAEXAMPLEDATAREADR:etl-job".into()
                },
                AccountCaller {
                    account: "444455556666".into(),
                    principal_id: "AIDAEXAMPLENOSUCHID0".into()
                },
            ]
        );

        let world = World::from_json_str(include_str!("../../examples/worlds/cross-account.json"))
            .expect("example World");
        let session = "arn:aws:sts::444455556666:assumed-role/DataReader/etl-job";
        let (mut v, mut r) =
            concrete_request(&t.requests[0], "111122223333", "example-reports").expect("valid");
        let note = resolve_caller(&t.requests[0], &world, &mut v, &mut r).expect("a note");
        assert_eq!(v["principal"], session);
        assert_eq!(r.principal.arn(), Some(session));
        assert_eq!(
            v["key"], "reports/2026/q1.csv",
            "the rest of the request is kept"
        );
        assert_eq!(note, callers[0].resolved_note(session));

        let (mut v, mut r) =
            concrete_request(&t.requests[1], "111122223333", "example-reports").expect("valid");
        let before = (v.clone(), r.clone());
        let note = resolve_caller(&t.requests[1], &world, &mut v, &mut r).expect("a note");
        assert_eq!((v, r), before, "an unknown id stays the account");
        assert!(
            note.contains("cannot be resolved")
                && note.contains("no user or role of account 444455556666 in the World has the id `AIDAEXAMPLENOSUCHID0`"),
            "{note}"
        );

        // A request of the targets file has no such caller: nothing changes, no note.
        let plain = targets(
            "[[request]]\nname = \"p\"\nprincipal = \"444455556666\"\noperation = \"GetBucketPolicy\"\n",
        );
        let (mut v, mut r) =
            concrete_request(&plain.requests[0], "111122223333", "example-reports").expect("valid");
        assert_eq!(
            resolve_caller(&plain.requests[0], &world, &mut v, &mut r),
            None
        );
        assert_eq!(v["principal"], "444455556666");
    }

    #[test]
    fn a_file_that_is_not_cloudtrail_is_an_error_naming_it() {
        let mut t = targets("");
        let e = add_trail(&mut t, "trail.json", b"hello").expect_err("not json");
        assert_eq!(e.entry.as_deref(), Some("cloudtrail file `trail.json`"));
        assert!(e.to_string().contains("not JSON"), "{e}");
        let e = add_trail(&mut t, "trail.json.gz", &[0x1f, 0x8b, 0]).expect_err("gzip");
        assert!(e.message.contains("decompress"), "{e}");
    }

    #[test]
    fn names_do_not_clash_with_the_file_requests() {
        let mut t = targets(
            "[[request]]\nname = \"cloudtrail-1\"\nprincipal = \"anonymous\"\noperation = \"GetBucketPolicy\"\n",
        );
        let trail = json!({"Records": [event("reports", "a", Some("111122223333"), "r1")]});
        let added = add_trail(&mut t, "trail.json", trail.to_string().as_bytes()).expect("trail");
        assert_eq!(added.added, ["cloudtrail-2"]);
    }
}

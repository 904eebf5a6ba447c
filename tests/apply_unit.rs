//! Offline tests of `apply` / `rollback`: plan file parsing, stale detection, snapshot files, the
//! key-policy lock-out check, managed-policy version pruning, and the executor over an in-memory
//! store that can fail the N-th write (undo newest first, exactly what was written).

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{json, Value};

use s3medic::apply::checks::{
    documents_match, key_policy_keeps_admin, version_to_prune, PolicyVersion,
};
use s3medic::apply::{
    apply_with, parse_plan, rollback_with, stale_change, ApplyError, ApplyOptions, ApplyStatus,
    RollbackStatus, Snapshot, SnapshotEntry, Store,
};
use s3medic::plan::{
    canonical_json, digest, unified_diff, Change, ChangeAction, PrincipalType, Risk, Target,
};

const ACCOUNT: &str = "111122223333";

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "s3medic-apply-unit-{name}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn policy(sid: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Sid": sid, "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::b/*"}]})
}

fn change(id: &str, target: Target, before: Value, after: Value) -> Change {
    let resource = format!("res-{id}");
    Change {
        id: id.to_string(),
        account: ACCOUNT.to_string(),
        diff: unified_diff(&resource, &before, &after),
        before_digest: digest(&before),
        action: match (before.is_null(), after.is_null()) {
            (true, _) => ChangeAction::Create,
            (false, true) => ChangeAction::Delete,
            _ => ChangeAction::Update,
        },
        resource,
        target,
        before,
        after,
        risk: Risk::Low,
        reversible: true,
        rollback_caveat: None,
        playbooks: vec!["identity-missing-allow".into()],
        summary: "test".into(),
    }
}

fn inline(name: &str) -> Target {
    Target::InlinePolicy {
        account: ACCOUNT.into(),
        principal: PrincipalType::User,
        name: name.into(),
        policy_name: "s3medic-grants".into(),
    }
}

fn bucket_policy(b: &str) -> Target {
    Target::BucketPolicy { bucket: b.into() }
}

fn pab(b: &str) -> Target {
    Target::BucketPublicAccessBlock { bucket: b.into() }
}

fn pab_doc(on: bool) -> Value {
    json!({"PublicAccessBlockConfiguration": {"BlockPublicAcls": on, "IgnorePublicAcls": on,
        "BlockPublicPolicy": on, "RestrictPublicBuckets": on}})
}

fn plan_value(changes: &[Change]) -> Value {
    json!({"format_version": 1, "tool_version": "0.1.0", "request": null,
        "changes": changes, "manual_steps": []})
}

/// Three changes: a bucket policy update, an inline policy create, a BPA update.
fn three() -> Vec<Change> {
    vec![
        change("c1", bucket_policy("b"), policy("Old"), policy("New")),
        change("c2", inline("bob"), Value::Null, policy("Grant")),
        change("c3", pab("b"), pab_doc(true), pab_doc(false)),
    ]
}

/// An in-memory store: documents by target, a log of every write, and optional failures.
#[derive(Default)]
struct Fake {
    docs: Mutex<HashMap<String, Value>>,
    writes: Mutex<Vec<(String, Value)>>,
    /// Fail these writes (1-based) with an API error.
    fail_writes: Vec<usize>,
    /// Store something else than what is written on the N-th write (read-back mismatch).
    garble_write: Option<usize>,
}

fn key(t: &Target) -> String {
    canonical_json(&serde_json::to_value(t).unwrap_or(Value::Null))
}

impl Fake {
    fn with(changes: &[Change]) -> Fake {
        let f = Fake::default();
        for c in changes {
            f.set(&c.target, c.before.clone());
        }
        f
    }
    fn set(&self, t: &Target, v: Value) {
        self.docs.lock().unwrap().insert(key(t), v);
    }
    fn get(&self, t: &Target) -> Value {
        self.docs
            .lock()
            .unwrap()
            .get(&key(t))
            .cloned()
            .unwrap_or(Value::Null)
    }
    fn write_log(&self) -> Vec<(String, Value)> {
        self.writes.lock().unwrap().clone()
    }
}

impl Store for Fake {
    fn read(&self, t: &Target) -> impl Future<Output = Result<Value, ApplyError>> + Send {
        let v = self.get(t);
        async move { Ok(v) }
    }
    fn write(
        &self,
        t: &Target,
        doc: &Value,
    ) -> impl Future<Output = Result<(), ApplyError>> + Send {
        let n = {
            let mut w = self.writes.lock().unwrap();
            w.push((key(t), doc.clone()));
            w.len()
        };
        let r = if self.fail_writes.contains(&n) {
            Err(ApplyError::Api {
                what: "PutSomething".into(),
                detail: "AccessDenied".into(),
            })
        } else {
            if self.garble_write == Some(n) {
                self.set(t, json!({"garbled": true}));
            } else {
                self.set(t, doc.clone());
            }
            Ok(())
        };
        async move { r }
    }
}

fn opts(dir: &std::path::Path) -> ApplyOptions {
    ApplyOptions {
        snapshot_dir: dir.to_path_buf(),
        verify_tries: 2,
        verify_delay: Duration::ZERO,
        decision_after: false,
    }
}

// ---------------------------------------------------------------- plan file parsing

#[test]
fn plan_file_errors_name_the_file_and_the_problem() {
    let cases: Vec<(Value, &str)> = vec![
        (json!([1, 2]), "not a JSON object"),
        (json!({"changes": []}), "missing `format_version`"),
        (
            json!({"format_version": 2, "changes": []}),
            "unsupported format_version 2",
        ),
        (json!({"format_version": 1}), "missing `changes`"),
        (
            json!({"format_version": 1, "changes": [{"id": "c1"}]}),
            "`changes[0]`",
        ),
    ];
    for (v, want) in cases {
        let e = parse_plan(&v, "p.json").expect_err("must fail").to_string();
        assert!(e.contains("`p.json`") && e.contains(want), "{e} / {want}");
    }
    // An edited `before` no longer has its digest.
    let mut c = three();
    c[0].before = policy("Edited");
    let e = parse_plan(&plan_value(&c), "p.json")
        .expect_err("edited")
        .to_string();
    assert!(e.contains("before_digest"), "{e}");
    // Duplicate ids and targets.
    let mut c = three();
    c[1].id = "c1".into();
    let e = parse_plan(&plan_value(&c), "p.json")
        .expect_err("dup")
        .to_string();
    assert!(e.contains("duplicate change id"), "{e}");
    let mut c = three();
    c[1].target = bucket_policy("b");
    let e = parse_plan(&plan_value(&c), "p.json")
        .expect_err("dup target")
        .to_string();
    assert!(e.contains("again"), "{e}");
}

#[test]
fn plan_file_parses_and_has_a_stable_id() {
    let v = plan_value(&three());
    let p = parse_plan(&v, "p.json").expect("valid");
    assert_eq!(p.changes.len(), 3);
    assert_eq!(p.plan_id, digest(&v));
    assert!(p.request.is_none());
}

// ---------------------------------------------------------------- stale detection

#[test]
fn stale_detection_compares_digests_not_formatting() {
    let c = change("c1", bucket_policy("b"), policy("Old"), policy("New"));
    // Same document, keys in another order: not stale.
    let reordered: Value = serde_json::from_str(&canonical_json(&policy("Old"))).unwrap();
    assert!(stale_change(&c, &reordered).is_none());
    assert!(stale_change(&c, &policy("Old")).is_none());
    // Moved: stale, with a diff from the plan's before to now.
    let s = stale_change(&c, &policy("Moved")).expect("stale");
    assert_eq!(s.change, "c1");
    assert_eq!(s.expected_digest, c.before_digest);
    assert_eq!(s.current_digest, digest(&policy("Moved")));
    assert!(
        s.diff.contains("+") && s.diff.contains("Moved"),
        "{}",
        s.diff
    );
    // Created since the plan (before was null).
    let c = change("c2", inline("bob"), Value::Null, policy("G"));
    assert!(stale_change(&c, &Value::Null).is_none());
    assert!(stale_change(&c, &policy("Someone")).is_some());
}

// ---------------------------------------------------------------- snapshots

#[test]
fn snapshot_round_trips_and_never_overwrites() {
    let dir = scratch("snap");
    let entries = vec![
        SnapshotEntry {
            change: "c1".into(),
            target: bucket_policy("b"),
            account: ACCOUNT.into(),
            resource: "arn:aws:s3:::b".into(),
            document: policy("Old"),
            rollback_caveat: None,
        },
        SnapshotEntry {
            change: "c2".into(),
            target: inline("bob"),
            account: ACCOUNT.into(),
            resource: "arn:aws:iam::111122223333:user/bob/inline/s3medic-grants".into(),
            document: Value::Null,
            rollback_caveat: Some("objects stay".into()),
        },
    ];
    let s = Snapshot::new("sha256:0123456789abcdef0123", entries);
    let p1 = s.save(&dir).expect("save");
    let p2 = s.save(&dir).expect("save again");
    assert_ne!(p1, p2, "a second save never replaces the first");
    let name = p1.file_name().unwrap().to_string_lossy().to_string();
    assert!(
        name.starts_with("0123456789ab-") && name.ends_with(".json"),
        "{name}"
    );
    let back = Snapshot::load(&p1).expect("load");
    assert_eq!(back, s);
    assert_eq!(back.entries[1].document, Value::Null);
    // No temporary files left.
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains("tmp"))
        .collect();
    assert!(leftovers.is_empty());
    // Bad snapshot files.
    let e = Snapshot::from_json_str("{}", "s.json").expect_err("no version");
    assert!(e.to_string().contains("format_version"), "{e}");
    let e = Snapshot::from_json_str("nope", "s.json").expect_err("not json");
    assert!(e.to_string().contains("not JSON"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------- key policy lock-out

#[test]
fn key_policy_lock_out_check() {
    let root = json!({"Version": "2012-10-17", "Statement": [{"Sid": "Enable IAM", "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "kms:*", "Resource": "*"}]});
    assert!(key_policy_keeps_admin(&root, ACCOUNT).is_ok());
    let admin_role = json!({"Statement": [{"Effect": "Allow",
        "Principal": {"AWS": [format!("arn:aws:iam::{ACCOUNT}:role/KeyAdmin")]},
        "Action": ["kms:Create*", "kms:Put*"], "Resource": "*"}]});
    assert!(key_policy_keeps_admin(&admin_role, ACCOUNT).is_ok());
    // A policy given as a JSON string is read too.
    let text = Value::String(root.to_string());
    assert!(key_policy_keeps_admin(&text, ACCOUNT).is_ok());

    let use_only = json!({"Statement": [{"Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:user/bob")},
        "Action": ["kms:Decrypt"], "Resource": "*"}]});
    assert!(key_policy_keeps_admin(&use_only, ACCOUNT).is_err());
    let service_only = json!({"Statement": [{"Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "kms:*", "Resource": "*"}]});
    assert!(key_policy_keeps_admin(&service_only, ACCOUNT).is_err());
    let denied = json!({"Statement": [
        {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Deny", "Principal": "*", "Action": "kms:PutKeyPolicy", "Resource": "*"}]});
    let e = key_policy_keeps_admin(&denied, ACCOUNT).expect_err("deny");
    assert!(e.contains("denies"), "{e}");
    assert!(key_policy_keeps_admin(&json!({"Statement": []}), ACCOUNT).is_err());
    let not_action = json!({"Statement": [{"Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "NotAction": "kms:Decrypt",
        "Action": "kms:*", "Resource": "*"}]});
    assert!(key_policy_keeps_admin(&not_action, ACCOUNT).is_err());
}

#[tokio::test]
async fn a_lock_out_key_policy_is_refused_before_anything_is_read_or_written() {
    let dir = scratch("lockout");
    let key_arn = format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/k1");
    let c = change(
        "c1",
        Target::KeyPolicy { key_arn },
        policy("Old"),
        json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/bob"},
            "Action": "kms:Decrypt", "Resource": "*"}]}),
    );
    let plan = parse_plan(&plan_value(std::slice::from_ref(&c)), "p.json").unwrap();
    let fake = Fake::with(&[c]);
    let r = apply_with(&fake, &plan, &opts(&dir), |_| true).await;
    assert_eq!(r.status, ApplyStatus::Refused);
    assert_eq!(r.exit_code(), 3);
    assert!(fake.write_log().is_empty());
    assert!(!dir.exists(), "no snapshot");
}

// ---------------------------------------------------------------- managed policy versions

fn v(id: &str, is_default: bool, created: i64) -> PolicyVersion {
    PolicyVersion {
        id: id.into(),
        is_default,
        created: Some(created),
    }
}

#[test]
fn version_pruning_deletes_the_oldest_non_default_only_at_the_limit() {
    assert_eq!(version_to_prune(&[]), None);
    let four = vec![
        v("v1", false, 1),
        v("v2", false, 2),
        v("v3", false, 3),
        v("v4", true, 4),
    ];
    assert_eq!(version_to_prune(&four), None);
    let five = vec![
        v("v1", true, 1),
        v("v2", false, 2),
        v("v3", false, 3),
        v("v4", false, 4),
        v("v5", false, 5),
    ];
    assert_eq!(
        version_to_prune(&five).as_deref(),
        Some("v2"),
        "the default v1 stays"
    );
    // Without dates: by version number (v10 is newer than v9).
    let undated: Vec<PolicyVersion> = ["v10", "v9", "v11", "v12", "v13"]
        .iter()
        .map(|id| PolicyVersion {
            id: (*id).into(),
            is_default: *id == "v13",
            created: None,
        })
        .collect();
    assert_eq!(version_to_prune(&undated).as_deref(), Some("v9"));
}

// ---------------------------------------------------------------- read-back comparison

#[test]
fn read_back_compares_policies_semantically() {
    let t = bucket_policy("b");
    let reordered: Value = serde_json::from_str(&canonical_json(&policy("A"))).unwrap();
    assert!(documents_match(&t, &policy("A"), &reordered));
    assert!(!documents_match(&t, &policy("A"), &policy("B")));
    assert!(!documents_match(&t, &policy("A"), &Value::Null));
    assert!(documents_match(&t, &Value::Null, &Value::Null));
    let origin = Target::DistributionOrigin {
        distribution_id: "E1".into(),
        origin_id: "o1".into(),
    };
    let want = json!({"Id": "o1", "DomainName": "b.s3.amazonaws.com", "OriginAccessControlId": "new:s3medic-b",
        "S3OriginConfig": {"OriginAccessIdentity": ""}});
    let mut got = want.clone();
    got["OriginAccessControlId"] = json!("E2QWRUHAPOMQZL");
    assert!(documents_match(&origin, &want, &got));
    got["OriginAccessControlId"] = json!("");
    assert!(!documents_match(&origin, &want, &got));
}

// ---------------------------------------------------------------- the executor

#[tokio::test]
async fn apply_writes_in_order_after_saving_the_snapshot() {
    let dir = scratch("ok");
    let changes = three();
    let plan = parse_plan(&plan_value(&changes), "p.json").unwrap();
    let fake = Fake::with(&changes);
    let mut asked = false;
    let r = apply_with(&fake, &plan, &opts(&dir), |p| {
        asked = true;
        assert_eq!(p.changes.len(), 3);
        true
    })
    .await;
    assert!(asked);
    assert_eq!(r.status, ApplyStatus::Applied, "{r:?}");
    assert_eq!(r.exit_code(), 0);
    assert_eq!(r.applied, ["c1", "c2", "c3"]);
    let log: Vec<String> = fake.write_log().into_iter().map(|(k, _)| k).collect();
    let want: Vec<String> = changes.iter().map(|c| key(&c.target)).collect();
    assert_eq!(log, want, "plan order");
    for c in &changes {
        assert_eq!(fake.get(&c.target), c.after);
    }
    let snap = Snapshot::load(std::path::Path::new(r.snapshot_path.as_deref().unwrap())).unwrap();
    assert_eq!(snap.plan_id, plan.plan_id);
    let docs: Vec<Value> = snap.entries.iter().map(|e| e.document.clone()).collect();
    let befores: Vec<Value> = changes.iter().map(|c| c.before.clone()).collect();
    assert_eq!(
        docs, befores,
        "the snapshot holds every prior state, null included"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn failure_mid_apply_undoes_every_write_newest_first() {
    let dir = scratch("fail");
    let changes = three();
    let plan = parse_plan(&plan_value(&changes), "p.json").unwrap();
    let fake = Fake {
        fail_writes: vec![3],
        ..Fake::with(&changes)
    };
    let r = apply_with(&fake, &plan, &opts(&dir), |_| true).await;
    assert_eq!(r.status, ApplyStatus::Failed);
    assert_eq!(r.exit_code(), 1);
    assert_eq!(r.failed_change.as_deref(), Some("c3"));
    assert_eq!(
        r.undone,
        ["c2", "c1"],
        "newest first; the failed write made nothing"
    );
    assert!(r.applied.is_empty() && r.undo_failures.is_empty());
    assert!(r.error.as_deref().unwrap_or("").contains("c3"));
    // Writes: c1, c2, c3 (failed), then undo c2 (delete: null), undo c1.
    let log = fake.write_log();
    assert_eq!(log.len(), 5);
    assert_eq!(log[3], (key(&changes[1].target), Value::Null));
    assert_eq!(log[4], (key(&changes[0].target), changes[0].before.clone()));
    for c in &changes {
        assert_eq!(fake.get(&c.target), c.before, "restored {}", c.id);
    }
    assert!(r.snapshot_path.is_some());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_read_back_mismatch_counts_as_a_write_and_is_undone() {
    let dir = scratch("garble");
    let changes = three();
    let plan = parse_plan(&plan_value(&changes), "p.json").unwrap();
    let fake = Fake {
        garble_write: Some(2),
        ..Fake::with(&changes)
    };
    let r = apply_with(&fake, &plan, &opts(&dir), |_| true).await;
    assert_eq!(r.status, ApplyStatus::Failed);
    assert_eq!(r.failed_change.as_deref(), Some("c2"));
    assert_eq!(r.undone, ["c2", "c1"]);
    assert!(
        r.error.as_deref().unwrap_or("").contains("read-back"),
        "{r:?}"
    );
    for c in &changes {
        assert_eq!(fake.get(&c.target), c.before);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn an_undo_that_fails_is_reported() {
    let dir = scratch("undofail");
    let changes = three();
    let plan = parse_plan(&plan_value(&changes), "p.json").unwrap();
    // Writes: c1, c2, c3 fails, undo c2 (4th) fails, undo c1.
    let fake = Fake {
        fail_writes: vec![3, 4],
        ..Fake::with(&changes)
    };
    let r = apply_with(&fake, &plan, &opts(&dir), |_| true).await;
    assert_eq!(r.status, ApplyStatus::Failed);
    assert_eq!(r.undone, ["c1"]);
    assert_eq!(r.undo_failures.len(), 1);
    assert_eq!(r.undo_failures[0].change, "c2");
    assert!(
        r.notes.iter().any(|n| n.contains("s3medic rollback")),
        "{r:?}"
    );
    assert_eq!(
        fake.get(&changes[1].target),
        changes[1].after,
        "left as written"
    );
    assert_eq!(fake.get(&changes[0].target), changes[0].before);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_stale_plan_writes_nothing_and_shows_what_moved() {
    let dir = scratch("stale");
    let changes = three();
    let plan = parse_plan(&plan_value(&changes), "p.json").unwrap();
    let fake = Fake::with(&changes);
    fake.set(&changes[2].target, pab_doc(false));
    let r = apply_with(&fake, &plan, &opts(&dir), |_| panic!("never asks")).await;
    assert_eq!(r.status, ApplyStatus::Stale);
    assert_eq!(r.exit_code(), 3);
    assert_eq!(r.stale.len(), 1);
    assert_eq!(r.stale[0].change, "c3");
    assert!(fake.write_log().is_empty());
    assert!(!dir.exists(), "no snapshot for a stale plan");
}

#[tokio::test]
async fn declining_writes_nothing() {
    let dir = scratch("declined");
    let changes = three();
    let plan = parse_plan(&plan_value(&changes), "p.json").unwrap();
    let fake = Fake::with(&changes);
    let r = apply_with(&fake, &plan, &opts(&dir), |_| false).await;
    assert_eq!(r.status, ApplyStatus::Declined);
    assert_eq!(r.exit_code(), 3);
    assert!(fake.write_log().is_empty());
    assert!(!dir.exists());
}

#[tokio::test]
async fn rollback_restores_newest_first_and_deletes_what_did_not_exist() {
    let dir = scratch("rollback");
    let changes = three();
    let plan = parse_plan(&plan_value(&changes), "p.json").unwrap();
    let fake = Fake::with(&changes);
    let r = apply_with(&fake, &plan, &opts(&dir), |_| true).await;
    assert_eq!(r.status, ApplyStatus::Applied);
    let mut snap =
        Snapshot::load(std::path::Path::new(r.snapshot_path.as_deref().unwrap())).unwrap();
    // An ownership entry that turns enforcement off again carries the caveat.
    let own = Target::BucketOwnership { bucket: "b".into() };
    let preferred =
        json!({"OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]}});
    snap.entries.push(SnapshotEntry {
        change: "c4".into(),
        target: own.clone(),
        account: ACCOUNT.into(),
        resource: "arn:aws:s3:::b".into(),
        document: preferred.clone(),
        rollback_caveat: None,
    });
    fake.set(
        &own,
        json!({"OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}}),
    );
    let before = fake.write_log().len();
    let mut shown = Vec::new();
    let rr = rollback_with(&fake, &snap, &opts(&dir), |steps| {
        shown = steps.iter().map(|s| s.change.clone()).collect();
        true
    })
    .await;
    assert_eq!(rr.status, RollbackStatus::Restored, "{rr:?}");
    assert_eq!(rr.exit_code(), 0);
    assert_eq!(shown, ["c4", "c3", "c2", "c1"]);
    assert_eq!(rr.restored, ["c4", "c3", "c2", "c1"]);
    assert!(
        rr.caveats
            .iter()
            .any(|c| c.contains("stay owned by the bucket owner")),
        "{rr:?}"
    );
    for c in &changes {
        assert_eq!(fake.get(&c.target), c.before);
    }
    assert_eq!(fake.get(&own), preferred);
    let log = fake.write_log();
    assert_eq!(
        log[before + 2],
        (key(&changes[1].target), Value::Null),
        "c2 deleted"
    );
    // A second rollback has nothing to do.
    let rr = rollback_with(&fake, &snap, &opts(&dir), |_| panic!("never asks")).await;
    assert_eq!(rr.status, RollbackStatus::NothingToRestore);
    assert_eq!(rr.unchanged.len(), 4);
    // Declined: nothing written.
    fake.set(&changes[0].target, policy("Drift"));
    let n = fake.write_log().len();
    let rr = rollback_with(&fake, &snap, &opts(&dir), |_| false).await;
    assert_eq!(rr.status, RollbackStatus::Declined);
    assert_eq!(rr.exit_code(), 3);
    assert_eq!(fake.write_log().len(), n);
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------- CLI (no network)

fn s3medic() -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_s3medic"));
    c.stdin(std::process::Stdio::null());
    c
}

#[test]
fn cli_bad_plan_file_is_an_error_and_an_empty_plan_is_nothing_to_change() {
    let dir = scratch("cli");
    std::fs::create_dir_all(&dir).unwrap();
    let missing = dir.join("missing.json");
    let o = s3medic().arg("apply").arg(&missing).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("missing.json"));

    let bad = dir.join("bad.json");
    std::fs::write(&bad, r#"{"format_version": 7, "changes": []}"#).unwrap();
    let o = s3medic()
        .arg("apply")
        .arg(&bad)
        .arg("--yes")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bad.json") && err.contains("format_version 7"),
        "{err}"
    );

    let empty = dir.join("empty.json");
    std::fs::write(&empty, plan_value(&[]).to_string()).unwrap();
    let o = s3medic()
        .arg("apply")
        .arg(&empty)
        .args(["--output", "json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["status"], "nothing_to_change");

    let o = s3medic()
        .arg("rollback")
        .arg(dir.join("nope.json"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let _ = std::fs::remove_dir_all(&dir);
}

//! Offline tests of `apply` / `rollback`: plan file parsing, stale detection, snapshot files (and
//! the format-1 files still read), the key-policy lock-out check, managed-policy version pruning,
//! and the executor over an in-memory store that can fail the N-th write (undo newest first,
//! exactly what was written). The store also models managed-policy versions (as IAM numbers them)
//! and CloudFront origin access controls, so the exact undo is checked call by call: the previous
//! default version set back and the created version deleted (never a third version), a version
//! deleted to make room recreated, the fallback when the previous default is gone, and an origin
//! access control created by apply deleted only after the origin no longer uses it.

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
    RollbackReport, RollbackStatus, Snapshot, SnapshotEntry, Store, SNAPSHOT_FORMAT_VERSION,
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

/// One managed policy in the fake: its versions (id, document) in creation order, the default,
/// and the next version number (IAM never reuses one).
#[derive(Clone, Default)]
struct FakePolicy {
    versions: Vec<(String, Value)>,
    default: String,
    next: u32,
}

/// An in-memory store: documents by target, managed-policy versions, origin access controls, a
/// log of every write and of every mutating call, and optional failures.
#[derive(Default)]
struct Fake {
    docs: Mutex<HashMap<String, Value>>,
    writes: Mutex<Vec<(String, Value)>>,
    /// Every mutating call, in order (`write KEY`, `create-version ARN vN default`, ...).
    calls: Mutex<Vec<String>>,
    policies: Mutex<HashMap<String, FakePolicy>>,
    /// Origin access controls: (id, name).
    controls: Mutex<Vec<(String, String)>>,
    /// Fail these writes (1-based) with an API error.
    fail_writes: Vec<usize>,
    /// Store something else than what is written on the N-th write (read-back mismatch).
    garble_write: Option<usize>,
    /// Fail every mutating call whose log line starts with one of these.
    fail_calls: Mutex<Vec<String>>,
    /// Fail the next mutating call whose log line starts with one of these (once each).
    fail_once: Mutex<Vec<String>>,
}

fn key(t: &Target) -> String {
    canonical_json(&serde_json::to_value(t).unwrap_or(Value::Null))
}

fn api_error(what: &str) -> ApplyError {
    ApplyError::Api {
        what: what.into(),
        detail: "AccessDenied".into(),
    }
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
        if let Target::ManagedPolicy { arn } = t {
            if let Some(p) = self.policies.lock().unwrap().get(arn) {
                return p
                    .versions
                    .iter()
                    .find(|(id, _)| *id == p.default)
                    .map(|(_, d)| d.clone())
                    .unwrap_or(Value::Null);
            }
        }
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
    fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }
    /// Logs a mutating call; `Err` when it is set to fail.
    fn call(&self, line: String) -> Result<(), ApplyError> {
        let mut fail = self
            .fail_calls
            .lock()
            .unwrap()
            .iter()
            .any(|f| line.starts_with(f.as_str()));
        {
            let mut once = self.fail_once.lock().unwrap();
            if let Some(i) = once.iter().position(|f| line.starts_with(f.as_str())) {
                once.remove(i);
                fail = true;
            }
        }
        self.calls.lock().unwrap().push(line.clone());
        if fail {
            Err(api_error(&line))
        } else {
            Ok(())
        }
    }
    fn fail_calls_starting(&self, prefix: &str) {
        self.fail_calls.lock().unwrap().push(prefix.to_string());
    }
    fn clear_failures(&self) {
        self.fail_calls.lock().unwrap().clear();
    }
    /// A managed policy with versions v1..vN holding `docs`, `default` (1-based) the default.
    fn add_policy(&self, arn: &str, docs: &[Value], default: usize) {
        let versions: Vec<(String, Value)> = docs
            .iter()
            .enumerate()
            .map(|(i, d)| (format!("v{}", i + 1), d.clone()))
            .collect();
        self.policies.lock().unwrap().insert(
            arn.to_string(),
            FakePolicy {
                versions,
                default: format!("v{default}"),
                next: docs.len() as u32 + 1,
            },
        );
    }
    fn policy(&self, arn: &str) -> FakePolicy {
        self.policies
            .lock()
            .unwrap()
            .get(arn)
            .cloned()
            .unwrap_or_default()
    }
    fn version_ids(&self, arn: &str) -> Vec<String> {
        self.policy(arn)
            .versions
            .iter()
            .map(|(id, _)| id.clone())
            .collect()
    }
    fn version_doc(&self, arn: &str, id: &str) -> Option<Value> {
        self.policy(arn)
            .versions
            .iter()
            .find(|(v, _)| v == id)
            .map(|(_, d)| d.clone())
    }
    fn control_ids(&self) -> Vec<String> {
        self.controls
            .lock()
            .unwrap()
            .iter()
            .map(|(id, _)| id.clone())
            .collect()
    }
    fn create_version(&self, arn: &str, doc: &Value, default: bool) -> Result<String, ApplyError> {
        let mut all = self.policies.lock().unwrap();
        let p = all
            .get_mut(arn)
            .ok_or_else(|| api_error("CreatePolicyVersion: NoSuchEntity"))?;
        if p.versions.len() >= 5 {
            return Err(api_error("CreatePolicyVersion: LimitExceeded"));
        }
        let id = format!("v{}", p.next);
        p.next += 1;
        p.versions.push((id.clone(), doc.clone()));
        if default {
            p.default = id.clone();
        }
        Ok(id)
    }
    fn delete_version(&self, arn: &str, id: &str) -> Result<(), ApplyError> {
        let mut all = self.policies.lock().unwrap();
        let p = all
            .get_mut(arn)
            .ok_or_else(|| api_error("DeletePolicyVersion: NoSuchEntity"))?;
        if p.default == id {
            return Err(api_error("DeletePolicyVersion: DeleteConflict"));
        }
        p.versions.retain(|(v, _)| v != id);
        Ok(())
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
        let logged = self.call(format!("write {}", key(t)));
        let r = if self.fail_writes.contains(&n) {
            Err(api_error("PutSomething"))
        } else if let Err(e) = logged {
            Err(e)
        } else if let Target::ManagedPolicy { arn } = t {
            // As AWS: a new default version, after pruning the oldest non-default at five.
            let versions: Vec<PolicyVersion> = self
                .policy(arn)
                .versions
                .iter()
                .enumerate()
                .map(|(i, (id, _))| PolicyVersion {
                    id: id.clone(),
                    is_default: *id == self.policy(arn).default,
                    created: Some(i as i64),
                })
                .collect();
            let pruned = match version_to_prune(&versions) {
                Some(old) => self.delete_version(arn, &old),
                None => Ok(()),
            };
            pruned.and_then(|()| self.create_version(arn, doc, true).map(|_| ()))
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
    fn policy_versions(
        &self,
        arn: &str,
    ) -> impl Future<Output = Result<Vec<PolicyVersion>, ApplyError>> + Send {
        let p = self.policy(arn);
        let r = Ok(p
            .versions
            .iter()
            .enumerate()
            .map(|(i, (id, _))| PolicyVersion {
                id: id.clone(),
                is_default: *id == p.default,
                created: Some(i as i64),
            })
            .collect());
        async move { r }
    }
    fn policy_version_document(
        &self,
        arn: &str,
        version_id: &str,
    ) -> impl Future<Output = Result<Option<Value>, ApplyError>> + Send {
        let r = Ok(self.version_doc(arn, version_id));
        async move { r }
    }
    fn create_policy_version(
        &self,
        arn: &str,
        doc: &Value,
        set_as_default: bool,
    ) -> impl Future<Output = Result<String, ApplyError>> + Send {
        let r = self
            .call(format!(
                "create-version {}{}",
                canonical_json(doc),
                if set_as_default { " default" } else { "" }
            ))
            .and_then(|()| self.create_version(arn, doc, set_as_default));
        if let Ok(id) = &r {
            if let Some(last) = self.calls.lock().unwrap().last_mut() {
                *last = format!(
                    "create-version {id}{}",
                    if set_as_default { " default" } else { "" }
                );
            }
        }
        async move { r }
    }
    fn set_default_policy_version(
        &self,
        arn: &str,
        version_id: &str,
    ) -> impl Future<Output = Result<(), ApplyError>> + Send {
        let r = self
            .call(format!("set-default {version_id}"))
            .and_then(|()| {
                let mut all = self.policies.lock().unwrap();
                let p = all
                    .get_mut(arn)
                    .ok_or_else(|| api_error("SetDefaultPolicyVersion: NoSuchEntity"))?;
                if !p.versions.iter().any(|(v, _)| v == version_id) {
                    return Err(api_error("SetDefaultPolicyVersion: NoSuchEntity"));
                }
                p.default = version_id.to_string();
                Ok(())
            });
        async move { r }
    }
    fn delete_policy_version(
        &self,
        arn: &str,
        version_id: &str,
    ) -> impl Future<Output = Result<(), ApplyError>> + Send {
        let r = self
            .call(format!("delete-version {version_id}"))
            .and_then(|()| self.delete_version(arn, version_id));
        async move { r }
    }
    fn find_origin_access_control(
        &self,
        _t: &Target,
        name: &str,
    ) -> impl Future<Output = Result<Option<String>, ApplyError>> + Send {
        let r = Ok(self
            .controls
            .lock()
            .unwrap()
            .iter()
            .find(|(_, n)| n == name)
            .map(|(id, _)| id.clone()));
        async move { r }
    }
    fn create_origin_access_control(
        &self,
        _t: &Target,
        name: &str,
    ) -> impl Future<Output = Result<String, ApplyError>> + Send {
        let r = self.call(format!("create-oac {name}")).map(|()| {
            let mut c = self.controls.lock().unwrap();
            let id = format!("EOAC{}", c.len() + 1);
            c.push((id.clone(), name.to_string()));
            id
        });
        async move { r }
    }
    fn origin_access_control_exists(
        &self,
        _t: &Target,
        id: &str,
    ) -> impl Future<Output = Result<bool, ApplyError>> + Send {
        let r = Ok(self.control_ids().iter().any(|c| c == id));
        async move { r }
    }
    fn delete_origin_access_control(
        &self,
        t: &Target,
        id: &str,
    ) -> impl Future<Output = Result<(), ApplyError>> + Send {
        // As CloudFront: a control an origin still uses cannot be deleted.
        let in_use = self
            .get(t)
            .get("OriginAccessControlId")
            .and_then(Value::as_str)
            == Some(id);
        let r = self.call(format!("delete-oac {id}")).and_then(|()| {
            if in_use {
                return Err(api_error(
                    "DeleteOriginAccessControl: OriginAccessControlInUse",
                ));
            }
            self.controls.lock().unwrap().retain(|(c, _)| c != id);
            Ok(())
        });
        async move { r }
    }
}

/// Rolls `snap` back, answering yes; returns the report and every action the prompt showed.
async fn rollback_showing_actions(
    fake: &Fake,
    snap: &Snapshot,
    dir: &std::path::Path,
) -> (RollbackReport, Vec<String>) {
    let mut shown = Vec::new();
    let rr = rollback_with(fake, snap, &opts(dir), |steps| {
        shown = steps.iter().flat_map(|s| s.actions.clone()).collect();
        true
    })
    .await;
    (rr, shown)
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
        SnapshotEntry::new(
            "c1",
            bucket_policy("b"),
            ACCOUNT,
            "arn:aws:s3:::b",
            policy("Old"),
        ),
        SnapshotEntry {
            rollback_caveat: Some("objects stay".into()),
            ..SnapshotEntry::new(
                "c2",
                inline("bob"),
                ACCOUNT,
                "arn:aws:iam::111122223333:user/bob/inline/s3medic-grants",
                Value::Null,
            )
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
    assert_eq!(back.format_version, SNAPSHOT_FORMAT_VERSION);
    assert_eq!(SNAPSHOT_FORMAT_VERSION, 2);
    let e = Snapshot::from_json_str(
        r#"{"format_version": 3, "plan_id": "sha256:00", "created_at": "x", "entries": []}"#,
        "s.json",
    )
    .expect_err("too new");
    assert!(
        e.to_string()
            .contains("unsupported format_version 3 (this s3medic reads 1 and 2)"),
        "{e}"
    );
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
    snap.entries.push(SnapshotEntry::new(
        "c4",
        own.clone(),
        ACCOUNT,
        "arn:aws:s3:::b",
        preferred.clone(),
    ));
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

// ---------------------------------------------------------------- managed policies: exact undo

const POLICY_ARN: &str = "arn:aws:iam::111122223333:policy/DenyReports";

fn managed() -> Target {
    Target::ManagedPolicy {
        arn: POLICY_ARN.into(),
    }
}

/// A managed-policy change from the fake's current default document to `after`.
fn managed_change(fake: &Fake, after: Value) -> Change {
    change("c1", managed(), fake.get(&managed()), after)
}

async fn apply_one(
    fake: &Fake,
    changes: &[Change],
    dir: &std::path::Path,
) -> (ApplyStatus, Snapshot) {
    let plan = parse_plan(&plan_value(changes), "p.json").unwrap();
    let r = apply_with(fake, &plan, &opts(dir), |_| true).await;
    let snap = Snapshot::load(std::path::Path::new(
        r.snapshot_path.as_deref().expect("a snapshot"),
    ))
    .expect("snapshot loads");
    (r.status, snap)
}

#[tokio::test]
async fn managed_policy_rollback_sets_the_previous_default_back_and_deletes_the_created_version() {
    let dir = scratch("managed-one");
    let fake = Fake::default();
    fake.add_policy(POLICY_ARN, &[policy("Original")], 1);
    let c = managed_change(&fake, policy("Exempted"));
    let (status, snap) = apply_one(&fake, std::slice::from_ref(&c), &dir).await;
    assert_eq!(status, ApplyStatus::Applied);
    assert_eq!(fake.policy(POLICY_ARN).default, "v2");
    assert_eq!(fake.get(&managed()), policy("Exempted"));
    // The snapshot (format 2) records the previous default, the versions and the created one.
    assert_eq!(snap.format_version, 2);
    let st = snap.entries[0]
        .policy_versions
        .clone()
        .expect("version record");
    assert_eq!(st.default_version_id, "v1");
    assert_eq!(st.version_ids, ["v1"]);
    assert_eq!(st.pruned, None);
    assert_eq!(st.created_version_id.as_deref(), Some("v2"));

    let before = fake.calls().len();
    let (rr, shown) = rollback_showing_actions(&fake, &snap, &dir).await;
    assert_eq!(rr.status, RollbackStatus::Restored, "{rr:?}");
    assert_eq!(
        fake.calls()[before..],
        ["set-default v1", "delete-version v2"],
        "no new version: the original default comes back"
    );
    assert!(
        shown
            .iter()
            .any(|a| a.contains("`v1`") && a.contains("default")),
        "{shown:?}"
    );
    assert!(
        shown
            .iter()
            .any(|a| a.contains("`v2`") && a.contains("created by apply")),
        "{shown:?}"
    );
    assert_eq!(fake.version_ids(POLICY_ARN), ["v1"]);
    assert_eq!(fake.policy(POLICY_ARN).default, "v1");
    assert!(rr.caveats.is_empty(), "{rr:?}");
    // Idempotent.
    let rr = rollback_with(&fake, &snap, &opts(&dir), |_| panic!("never asks")).await;
    assert_eq!(rr.status, RollbackStatus::NothingToRestore, "{rr:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Five versions: v5 is the default, v1 the oldest. Apply deletes v1 and creates v6.
fn five_versions(fake: &Fake) -> Vec<Value> {
    let docs: Vec<Value> = (1..=5).map(|i| policy(&format!("Version{i}"))).collect();
    fake.add_policy(POLICY_ARN, &docs, 5);
    docs
}

#[tokio::test]
async fn at_five_versions_the_deleted_version_is_saved_and_recreated_on_rollback() {
    let dir = scratch("managed-five");
    let fake = Fake::default();
    let docs = five_versions(&fake);
    let c = managed_change(&fake, policy("Exempted"));
    let (status, snap) = apply_one(&fake, std::slice::from_ref(&c), &dir).await;
    assert_eq!(status, ApplyStatus::Applied);
    assert_eq!(fake.version_ids(POLICY_ARN), ["v2", "v3", "v4", "v5", "v6"]);
    assert_eq!(fake.policy(POLICY_ARN).default, "v6");
    let st = snap.entries[0]
        .policy_versions
        .clone()
        .expect("version record");
    assert_eq!(st.default_version_id, "v5");
    assert_eq!(st.version_ids, ["v1", "v2", "v3", "v4", "v5"]);
    let pruned = st.pruned.clone().expect("the deleted version is saved");
    assert_eq!(pruned.version_id, "v1");
    assert_eq!(pruned.document, docs[0], "with its document");
    assert_eq!(st.created_version_id.as_deref(), Some("v6"));

    let before = fake.calls().len();
    let rr = rollback_with(&fake, &snap, &opts(&dir), |_| true).await;
    assert_eq!(rr.status, RollbackStatus::Restored, "{rr:?}");
    assert_eq!(
        fake.calls()[before..],
        ["set-default v5", "delete-version v6", "create-version v7"],
        "default back, created version gone (room again), the deleted one recreated"
    );
    assert_eq!(fake.version_ids(POLICY_ARN), ["v2", "v3", "v4", "v5", "v7"]);
    assert_eq!(fake.policy(POLICY_ARN).default, "v5");
    assert_eq!(fake.version_doc(POLICY_ARN, "v7"), Some(docs[0].clone()));
    assert!(
        rr.notes
            .iter()
            .any(|n| n.contains("`v1`") && n.contains("`v7`")),
        "the new id is reported: {rr:?}"
    );
    assert!(
        rr.caveats
            .iter()
            .any(|c| c.contains("`v1`") && c.contains("new version id")),
        "{rr:?}"
    );
    // Idempotent: the recreated version is recognised.
    let rr = rollback_with(&fake, &snap, &opts(&dir), |_| panic!("never asks")).await;
    assert_eq!(rr.status, RollbackStatus::NothingToRestore, "{rr:?}");
    assert_eq!(fake.version_ids(POLICY_ARN).len(), 5);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_missing_previous_default_is_replaced_by_a_new_version_and_said() {
    let dir = scratch("managed-gone");
    let fake = Fake::default();
    fake.add_policy(POLICY_ARN, &[policy("Old"), policy("Original")], 2);
    let c = managed_change(&fake, policy("Exempted"));
    let (status, snap) = apply_one(&fake, std::slice::from_ref(&c), &dir).await;
    assert_eq!(status, ApplyStatus::Applied);
    // Someone deletes the previous default (v2) after apply.
    fake.delete_version(POLICY_ARN, "v2").unwrap();
    let before = fake.calls().len();
    let rr = rollback_with(&fake, &snap, &opts(&dir), |_| true).await;
    assert_eq!(rr.status, RollbackStatus::Restored, "{rr:?}");
    assert_eq!(
        fake.calls()[before..],
        ["create-version v4 default", "delete-version v3"]
    );
    assert_eq!(fake.get(&managed()), policy("Original"));
    assert_eq!(fake.version_ids(POLICY_ARN), ["v1", "v4"]);
    assert!(
        rr.notes
            .iter()
            .any(|n| n.contains("`v2`") && n.contains("no longer exists") && n.contains("`v4`")),
        "{rr:?}"
    );
    let rr = rollback_with(&fake, &snap, &opts(&dir), |_| panic!("never asks")).await;
    assert_eq!(rr.status, RollbackStatus::NothingToRestore, "{rr:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_missing_previous_default_at_five_versions_makes_room_first() {
    let dir = scratch("managed-gone-five");
    let fake = Fake::default();
    five_versions(&fake);
    let c = managed_change(&fake, policy("Exempted"));
    let (_, snap) = apply_one(&fake, std::slice::from_ref(&c), &dir).await;
    // v2..v6 now, v6 the default. v5 (the previous default) is deleted and someone adds v7.
    fake.delete_version(POLICY_ARN, "v5").unwrap();
    fake.create_version(POLICY_ARN, &policy("Theirs"), false)
        .unwrap();
    let before = fake.calls().len();
    let rr = rollback_with(&fake, &snap, &opts(&dir), |_| true).await;
    assert_eq!(rr.status, RollbackStatus::Restored, "{rr:?}");
    let calls = fake.calls()[before..].to_vec();
    assert_eq!(
        calls[0], "delete-version v2",
        "the oldest non-default makes room: {calls:?}"
    );
    assert_eq!(calls[1], "create-version v8 default");
    assert_eq!(calls[2], "delete-version v6");
    assert_eq!(calls[3], "create-version v9", "v1 recreated");
    assert_eq!(fake.get(&managed()), policy("Version5"));
    assert!(rr.notes.iter().any(|n| n.contains("make room")), "{rr:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_failure_after_a_managed_policy_write_undoes_it_exactly() {
    let dir = scratch("managed-undo");
    let fake = Fake::default();
    let docs = five_versions(&fake);
    let c1 = managed_change(&fake, policy("Exempted"));
    let c2 = change("c2", bucket_policy("b"), policy("Old"), policy("New"));
    fake.set(&c2.target, policy("Old"));
    fake.fail_calls_starting(&format!("write {}", key(&c2.target)));
    let plan = parse_plan(&plan_value(&[c1, c2]), "p.json").unwrap();
    let r = apply_with(&fake, &plan, &opts(&dir), |_| true).await;
    assert_eq!(r.status, ApplyStatus::Failed, "{r:?}");
    assert_eq!(r.failed_change.as_deref(), Some("c2"));
    assert_eq!(r.undone, ["c1"]);
    assert!(r.undo_failures.is_empty(), "{r:?}");
    let calls = fake.calls();
    let undo = calls
        .iter()
        .position(|c| c.starts_with("write"))
        .expect("the failed write");
    assert_eq!(
        calls[undo + 1..],
        ["set-default v5", "delete-version v6", "create-version v7"],
        "{calls:?}"
    );
    assert_eq!(fake.policy(POLICY_ARN).default, "v5");
    assert_eq!(fake.version_ids(POLICY_ARN), ["v2", "v3", "v4", "v5", "v7"]);
    assert_eq!(fake.version_doc(POLICY_ARN, "v7"), Some(docs[0].clone()));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_failed_create_after_pruning_recreates_the_deleted_version() {
    let dir = scratch("managed-create-fails");
    let fake = Fake::default();
    let docs = five_versions(&fake);
    let c = managed_change(&fake, policy("Exempted"));
    fake.fail_once
        .lock()
        .unwrap()
        .push("create-version".to_string());
    let plan = parse_plan(&plan_value(std::slice::from_ref(&c)), "p.json").unwrap();
    let r = apply_with(&fake, &plan, &opts(&dir), |_| true).await;
    assert_eq!(r.status, ApplyStatus::Failed, "{r:?}");
    // v1 was deleted before the create failed: the undo recreates it, nothing else.
    assert_eq!(r.undone, ["c1"], "{r:?}");
    assert_eq!(fake.policy(POLICY_ARN).default, "v5");
    let ids = fake.version_ids(POLICY_ARN);
    assert_eq!(ids.len(), 5, "{ids:?}");
    let recreated = ids.last().unwrap().clone();
    assert_eq!(
        fake.version_doc(POLICY_ARN, &recreated),
        Some(docs[0].clone())
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_format_1_snapshot_is_read_and_restored_by_a_new_version() {
    let dir = scratch("managed-v1");
    let fake = Fake::default();
    fake.add_policy(POLICY_ARN, &[policy("Original"), policy("Exempted")], 2);
    let text = json!({
        "format_version": 1,
        "plan_id": "sha256:0123456789abcdef",
        "created_at": "2026-01-01T00:00:00Z",
        "entries": [{"change": "c1", "target": {"type": "managed_policy", "arn": POLICY_ARN},
            "account": ACCOUNT, "resource": POLICY_ARN, "document": policy("Original")}]
    })
    .to_string();
    let snap = Snapshot::from_json_str(&text, "old.json").expect("format 1 is still read");
    assert_eq!(snap.format_version, 1);
    assert!(snap.entries[0].policy_versions.is_none());
    let rr = rollback_with(&fake, &snap, &opts(&dir), |_| true).await;
    assert_eq!(rr.status, RollbackStatus::Restored, "{rr:?}");
    assert_eq!(fake.get(&managed()), policy("Original"));
    assert_eq!(
        fake.policy(POLICY_ARN).default,
        "v3",
        "a new default version"
    );
    assert!(
        rr.notes.iter().any(|n| n.contains("no version record")),
        "{rr:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------- origin access controls

fn origin() -> Target {
    Target::DistributionOrigin {
        distribution_id: "E1ABCDEF".into(),
        origin_id: "site-origin".into(),
    }
}

fn origin_doc(oac: &str, oai: &str) -> Value {
    json!({"Id": "site-origin", "DomainName": "site.s3.us-east-1.amazonaws.com",
        "OriginAccessControlId": oac, "S3OriginConfig": {"OriginAccessIdentity": oai}})
}

fn oac_change() -> Change {
    change(
        "c1",
        origin(),
        origin_doc("", "origin-access-identity/cloudfront/E2OAI"),
        origin_doc("new:s3medic-site", ""),
    )
}

#[tokio::test]
async fn an_origin_access_control_created_by_apply_is_deleted_after_the_origin_is_restored() {
    let dir = scratch("oac");
    let c = oac_change();
    let fake = Fake::with(std::slice::from_ref(&c));
    let (status, snap) = apply_one(&fake, std::slice::from_ref(&c), &dir).await;
    assert_eq!(status, ApplyStatus::Applied);
    assert_eq!(fake.control_ids(), ["EOAC1"]);
    assert_eq!(
        fake.get(&origin()),
        origin_doc("EOAC1", ""),
        "the real id is written"
    );
    let st = snap.entries[0]
        .origin_access_control
        .clone()
        .expect("control record");
    assert_eq!(st.name, "s3medic-site");
    assert!(!st.existed);
    assert_eq!(
        st.created_id.as_deref(),
        Some("EOAC1"),
        "recorded after the write"
    );

    let before = fake.calls().len();
    let (rr, shown) = rollback_showing_actions(&fake, &snap, &dir).await;
    assert_eq!(rr.status, RollbackStatus::Restored, "{rr:?}");
    assert_eq!(
        fake.calls()[before..],
        [
            format!("write {}", key(&origin())),
            "delete-oac EOAC1".to_string()
        ],
        "the origin first, then the control"
    );
    assert!(shown.iter().any(|a| a.contains("EOAC1")), "{shown:?}");
    assert_eq!(fake.get(&origin()), c.before);
    assert!(fake.control_ids().is_empty());
    let rr = rollback_with(&fake, &snap, &opts(&dir), |_| panic!("never asks")).await;
    assert_eq!(rr.status, RollbackStatus::NothingToRestore, "{rr:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn an_existing_origin_access_control_is_reused_and_never_deleted() {
    let dir = scratch("oac-existing");
    let c = oac_change();
    let fake = Fake::with(std::slice::from_ref(&c));
    fake.controls
        .lock()
        .unwrap()
        .push(("EXISTING".into(), "s3medic-site".into()));
    let (status, snap) = apply_one(&fake, std::slice::from_ref(&c), &dir).await;
    assert_eq!(status, ApplyStatus::Applied);
    assert!(!fake.calls().iter().any(|c| c.starts_with("create-oac")));
    assert_eq!(fake.get(&origin()), origin_doc("EXISTING", ""));
    let st = snap.entries[0].origin_access_control.clone().unwrap();
    assert!(st.existed && st.created_id.is_none());
    let rr = rollback_with(&fake, &snap, &opts(&dir), |_| true).await;
    assert_eq!(rr.status, RollbackStatus::Restored, "{rr:?}");
    assert!(!fake.calls().iter().any(|c| c.starts_with("delete-oac")));
    assert_eq!(fake.control_ids(), ["EXISTING"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_control_is_not_deleted_while_the_origin_restore_fails() {
    let dir = scratch("oac-restore-fails");
    let c = oac_change();
    let fake = Fake::with(std::slice::from_ref(&c));
    let (_, snap) = apply_one(&fake, std::slice::from_ref(&c), &dir).await;
    fake.fail_calls_starting("write");
    let rr = rollback_with(&fake, &snap, &opts(&dir), |_| true).await;
    assert_eq!(rr.status, RollbackStatus::Failed, "{rr:?}");
    assert_eq!(rr.failures.len(), 1);
    assert!(
        !fake.calls().iter().any(|c| c.starts_with("delete-oac")),
        "the origin still uses the control: it is kept"
    );
    assert_eq!(fake.control_ids(), ["EOAC1"]);
    // Once the origin can be restored, a second rollback finishes the job.
    fake.clear_failures();
    let rr = rollback_with(&fake, &snap, &opts(&dir), |_| true).await;
    assert_eq!(rr.status, RollbackStatus::Restored, "{rr:?}");
    assert!(fake.control_ids().is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_failed_origin_write_deletes_the_control_it_created() {
    let dir = scratch("oac-write-fails");
    let c = oac_change();
    let fake = Fake::with(std::slice::from_ref(&c));
    fake.fail_calls_starting("write");
    let plan = parse_plan(&plan_value(std::slice::from_ref(&c)), "p.json").unwrap();
    let r = apply_with(&fake, &plan, &opts(&dir), |_| true).await;
    assert_eq!(r.status, ApplyStatus::Failed, "{r:?}");
    assert_eq!(r.undone, ["c1"], "the control was created: undone {r:?}");
    assert_eq!(
        fake.calls(),
        [
            "create-oac s3medic-site".to_string(),
            format!("write {}", key(&origin())),
            "delete-oac EOAC1".to_string()
        ],
        "the origin was never changed, so only the control is deleted"
    );
    assert!(fake.control_ids().is_empty());
    assert_eq!(fake.get(&origin()), c.before);
    let _ = std::fs::remove_dir_all(&dir);
}

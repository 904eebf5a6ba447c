//! Live apply and rollback against a local moto server — the second half of the main flow: a plan
//! made with `s3medic plan --live` is applied with `s3medic apply`, the stored documents become the
//! plan's `after`, planning again finds nothing to do, and `s3medic rollback` puts back every
//! `before`. Also the refusals (stale plan, no terminal without `--yes`: exit 3, nothing written)
//! and a write failing half-way (exit 1, the writes already made undone).
//!
//! Customer managed policies are restored exactly (tests/common/managed_policy.rs sets the case
//! up): rollback makes the original default version the default again and deletes the version
//! apply created; at IAM's limit of five versions the version apply deleted to make room is
//! recreated (under a new id); when the original default is gone, a new default version with the
//! saved document replaces it and the report says so.
//!
//! CloudFront origin access controls: moto creates, reads and deletes them, but drops
//! `OriginAccessControlId` from the distributions it stores, so an apply attaching a new control
//! can never read its write back there. That is what is tested live: the library's calls
//! (create, find, `DeleteOriginAccessControl` with `If-Match`), and an apply that fails read-back
//! and, undoing, deletes the control it created. The ordering (origin first, then the control) is
//! unit-tested in tests/apply_unit.rs.
//!
//! Each test starts its own moto server. Needs the moto server (`bash scripts/test.sh` installs it
//! into .venv); never skipped.

#[path = "common/live.rs"]
mod live;
#[path = "common/managed_policy.rs"]
mod managed_policy;
#[path = "common/moto.rs"]
mod moto;

use std::path::Path;

use managed_policy::{
    default_version, managed_request_flags, policy_versions, set_up_managed_deny, ManagedCase,
};
use moto::{create_bucket, must, policy, put_user_policy, unique, Moto, ACCOUNT};
use serde_json::{json, Value};

use live::*;

/// `s3medic plan --live … -o out` for the broken case: checks the exit code and returns the
/// plan file.
fn plan_broken(moto: &Moto, b: &Broken, out: &Path, want: i32) -> Value {
    plan_file(moto, &request_flags(b), out, want)
}

fn write_json(path: &Path, v: &Value) {
    std::fs::write(path, serde_json::to_string_pretty(v).unwrap()).expect("write JSON file");
}

/// The document a change's target holds now in moto (null: it does not exist).
async fn stored(moto: &Moto, change: &Value) -> Value {
    let t = &change["target"];
    match t["type"].as_str().unwrap_or_default() {
        "inline_policy" => {
            assert_eq!(
                t["principal"], "user",
                "only user inline policies here: {change}"
            );
            user_policy(
                moto,
                t["name"].as_str().unwrap(),
                t["policy_name"].as_str().unwrap(),
            )
            .await
        }
        "key_policy" => key_policy(moto, t["key_arn"].as_str().unwrap()).await,
        "bucket_policy" => bucket_policy(moto, t["bucket"].as_str().unwrap()).await,
        other => panic!("unexpected change target {other}: {change}"),
    }
}

/// Every change's target holds its `after` in moto.
async fn assert_afters_stored(moto: &Moto, changes: &[Value]) {
    for c in changes {
        assert_same_policy(
            &stored(moto, c).await,
            &c["after"],
            &format!("after apply, change {} stores its `after`", c["id"]),
        );
    }
}

#[tokio::test]
async fn apply_then_replan_then_rollback_identity_grant() {
    let moto = Moto::start();
    let b = set_up_broken(&moto, false, None).await;
    let dir = scratch("s3medic-live-apply");
    let plan_path = dir.join("plan.json");
    let plan = plan_broken(&moto, &b, &plan_path, 2);
    let changes = plan["changes"].as_array().expect("changes").clone();
    assert_eq!(changes.len(), 1, "one change expected: {plan:#}");
    assert_eq!(
        changes[0]["target"],
        json!({"type": "inline_policy", "account": ACCOUNT, "principal": "user",
               "name": b.user_name, "policy_name": GRANTS})
    );
    assert_eq!(changes[0]["before"], Value::Null);

    let (_, snapshot) = apply_all(&moto, &plan_path, &plan, &dir.join("snapshots"));
    assert_afters_stored(&moto, &changes).await;
    assert_same_policy(
        &user_policy(&moto, &b.user_name, "ListOnly").await,
        &b.list_only,
        "the other inline policy is untouched",
    );

    // Nothing left to do.
    let again = plan_broken(&moto, &b, &dir.join("plan-again.json"), 0);
    assert_eq!(again["changes"], json!([]), "{again:#}");
    assert_eq!(again["decision_before"], "allowed", "{again:#}");

    // Rollback: the inline policy is gone again and the denial is back, with the same findings.
    rollback(&moto, &snapshot, &[]).expect_code(0, "rollback --yes");
    assert_eq!(
        user_policy(&moto, &b.user_name, GRANTS).await,
        Value::Null,
        "rollback deletes the created inline policy"
    );
    assert_same_policy(
        &user_policy(&moto, &b.user_name, "ListOnly").await,
        &b.list_only,
        "rollback leaves the other inline policy alone",
    );
    let after_rollback = plan_broken(&moto, &b, &dir.join("plan-rolled-back.json"), 2);
    assert_eq!(after_rollback["findings"], plan["findings"]);
    assert_eq!(after_rollback["decision_before"], plan["decision_before"]);
    assert_eq!(
        after_rollback["changes"][0]["before_digest"],
        plan["changes"][0]["before_digest"]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn apply_bucket_and_key_policy_changes() {
    let moto = Moto::start();
    let b = set_up_broken(&moto, true, None).await;
    let (key_arn, original_key_policy) = b.kms.clone().expect("kms case");
    let dir = scratch("s3medic-live-apply");
    let plan_path = dir.join("plan.json");
    let plan = plan_broken(&moto, &b, &plan_path, 2);
    let changes = changes_on(&plan, &["inline_policy", "key_policy"], "change targets");
    let key_change = &changes[1];
    assert_eq!(key_change["target"]["key_arn"], key_arn.as_str());

    let (_, snapshot) = apply_all(&moto, &plan_path, &plan, &dir.join("snapshots"));
    assert_afters_stored(&moto, &changes).await;
    // The new key policy still holds the administrator statement.
    let kp = key_policy(&moto, &key_arn).await;
    assert!(
        kp["Statement"]
            .as_array()
            .is_some_and(|s| s.iter().any(|st| st["Sid"] == "KeyAdmin")),
        "the key administrator statement is kept: {kp:#}"
    );
    plan_broken(&moto, &b, &dir.join("plan-again.json"), 0);

    rollback(&moto, &snapshot, &[]).expect_code(0, "rollback --yes");
    assert_same_policy(
        &key_policy(&moto, &key_arn).await,
        &original_key_policy,
        "rollback restores the original key policy",
    );
    assert_same_policy(
        &key_policy(&moto, &key_arn).await,
        &key_change["before"],
        "rollback restores the key policy's `before`",
    );
    assert_eq!(user_policy(&moto, &b.user_name, GRANTS).await, Value::Null);
    let after_rollback = plan_broken(&moto, &b, &dir.join("plan-rolled-back.json"), 2);
    assert_eq!(after_rollback["findings"], plan["findings"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn stale_plan_is_refused_and_nothing_written() {
    let moto = Moto::start();
    let b = set_up_broken(&moto, true, None).await;
    assert!(b.kms.is_some(), "kms case");
    let dir = scratch("s3medic-live-apply");
    let plan_path = dir.join("plan.json");
    let plan = plan_broken(&moto, &b, &plan_path, 2);
    assert_eq!(
        plan["changes"][0]["target"]["policy_name"], GRANTS,
        "{plan:#}"
    );

    // Someone else writes `s3medic-grants` between plan and apply.
    let theirs = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "SomeoneElse",
            "Effect": "Allow",
            "Action": "s3:GetBucketLocation",
            "Resource": format!("arn:aws:s3:::{}", b.bucket)
        }]
    });
    put_user_policy(&moto.iam().await, &b.user_name, GRANTS, &theirs).await;

    let r = apply_yes(&moto, &plan_path, &dir.join("snapshots"));
    r.expect_code(3, "apply of a stale plan");
    let report = r.json("apply report");
    let stale = &report["stale"];
    assert!(
        stale.as_array().is_some_and(|s| !s.is_empty()),
        "`stale` must name the changed resource: {report:#}"
    );
    assert!(
        stale.to_string().contains("c1") || stale.to_string().contains(&b.user_name),
        "`stale` names change c1: {report:#}"
    );
    if let Some(applied) = report["applied"].as_array() {
        assert!(applied.is_empty(), "nothing applied: {report:#}");
    }

    // Nothing of the plan was written: ours is exactly as we wrote it, the key policy untouched.
    assert_same_policy(
        &user_policy(&moto, &b.user_name, GRANTS).await,
        &theirs,
        "the concurrent inline policy stays",
    );
    assert_as_set_up(&moto, &b, &theirs).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn no_terminal_without_yes_is_refused() {
    let moto = Moto::start();
    let b = set_up_broken(&moto, true, None).await;
    assert!(b.kms.is_some(), "kms case");
    let dir = scratch("s3medic-live-apply");
    let plan_path = dir.join("plan.json");
    plan_broken(&moto, &b, &plan_path, 2);

    // stdin is /dev/null: no terminal to confirm on, and no --yes.
    let r = apply_via(
        &moto,
        &moto.endpoint,
        &plan_path,
        &dir.join("snapshots"),
        &[],
    );
    r.expect_code(3, "apply without --yes and without a terminal");

    assert_as_set_up(&moto, &b, &Value::Null).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn failure_mid_apply_rolls_back() {
    let moto = Moto::start();
    let b = set_up_broken(&moto, true, None).await;
    let (key_arn, original_key_policy) = b.kms.clone().expect("kms case");
    let iam = moto.iam().await;
    // carol exists when the plan is made and is deleted before it is applied.
    let carol = unique("carol");
    must(
        iam.create_user().user_name(&carol).send().await,
        "CreateUser carol",
    );
    let dir = scratch("s3medic-live-apply");
    let plan_path = dir.join("plan.json");
    let mut plan = plan_broken(&moto, &b, &plan_path, 2);
    let ids = change_ids(&plan);
    assert_eq!(ids.len(), 2, "{plan:#}");

    // A third change: the same grant as c1 for carol (an inline policy that does not exist yet,
    // so its `before` is null and reads as null again once carol is gone). It is written last and
    // fails (PutUserPolicy: NoSuchEntity), after c1 and c2 succeeded.
    let mut c3 = plan["changes"][0].clone();
    assert_eq!(c3["before"], Value::Null, "{c3:#}");
    let resource = c3["resource"]
        .as_str()
        .unwrap()
        .replace(&b.user_name, &carol);
    c3["id"] = json!(format!("c{}", ids.len() + 1));
    c3["target"]["name"] = json!(carol);
    c3["resource"] = json!(resource);
    c3["summary"] = json!(c3["summary"]
        .as_str()
        .unwrap()
        .replace(&b.user_name, &carol));
    c3["diff"] = json!(s3medic::plan::change::unified_diff(
        &resource,
        &c3["before"],
        &c3["after"]
    ));
    c3["before_digest"] = json!(s3medic::plan::change::digest(&Value::Null));
    plan["changes"].as_array_mut().unwrap().push(c3);
    write_json(&plan_path, &plan);

    must(
        iam.delete_user().user_name(&carol).send().await,
        "DeleteUser carol",
    );

    let r = apply_yes(&moto, &plan_path, &dir.join("snapshots"));
    r.expect_code(1, "apply with a failing third write");
    let report = r.json("apply report");
    // It failed where intended: the write for carol, not a stale check or c1/c2.
    if let Some(failed) = report.get("failed_change").filter(|v| !v.is_null()) {
        assert_eq!(failed, "c3", "{report:#}");
    }
    assert!(
        report.to_string().contains(&carol),
        "the error names the failed target: {report:#}"
    );
    let mut undone = ids_in(&report, "undone");
    undone.sort();
    assert_eq!(undone, ids, "the two writes made are undone: {report:#}");

    // Back to the original state.
    assert_eq!(user_policy(&moto, &b.user_name, GRANTS).await, Value::Null);
    assert_same_policy(
        &key_policy(&moto, &key_arn).await,
        &original_key_policy,
        "the key policy is restored",
    );
    assert_eq!(
        user_policy(&moto, &b.user_name, "ListOnly").await,
        b.list_only
    );
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------- managed policies

/// `s3medic plan --live … --allow-deny-change -o out` for the managed-policy case: exit 2, one
/// `managed_policy` change.
fn managed_plan(moto: &Moto, c: &ManagedCase, out: &Path) -> Value {
    let plan = plan_file(moto, &managed_request_flags(c), out, 2);
    let changes = plan["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 1, "{plan:#}");
    assert_eq!(
        changes[0]["target"],
        json!({"type": "managed_policy", "arn": c.policy_arn}),
        "{plan:#}"
    );
    plan
}

/// `s3medic rollback SNAPSHOT --yes --output json`: the report.
fn rollback_json(moto: &Moto, snapshot: &str) -> Value {
    let r = rollback_yes(moto, snapshot);
    r.expect_code(0, "rollback --yes");
    r.json("rollback report")
}

fn ids(versions: &[(String, bool, Value)]) -> Vec<&str> {
    versions.iter().map(|(id, _, _)| id.as_str()).collect()
}

fn notes_text(report: &Value) -> String {
    report["notes"].to_string()
}

#[tokio::test]
async fn managed_policy_rollback_restores_the_default_version_and_deletes_the_created_one() {
    let moto = Moto::start();
    let c = set_up_managed_deny(&moto, 0, false).await;
    assert_eq!(c.default_id, "v1");
    let dir = scratch("s3medic-live-apply");
    let plan_path = dir.join("plan.json");
    let plan = managed_plan(&moto, &c, &plan_path);
    let after = plan["changes"][0]["after"].clone();

    let (_, snapshot) = apply_all(&moto, &plan_path, &plan, &dir.join("snapshots"));
    let versions = policy_versions(&moto, &c.policy_arn).await;
    assert_eq!(ids(&versions), ["v1", "v2"], "apply adds one version");
    assert_eq!(default_version(&moto, &c.policy_arn).await, "v2");
    assert_same_policy(
        &versions[1].2,
        &after,
        "the new default is the plan's `after`",
    );
    // The snapshot records the version state.
    let snap = read_json(Path::new(&snapshot));
    assert_eq!(snap["format_version"], 2, "{snap:#}");
    let st = &snap["entries"][0]["policy_versions"];
    assert_eq!(st["default_version_id"], "v1", "{snap:#}");
    assert_eq!(st["version_ids"], json!(["v1"]), "{snap:#}");
    assert_eq!(st["created_version_id"], "v2", "{snap:#}");
    assert!(
        st.get("pruned").is_none(),
        "nothing deleted below five versions: {snap:#}"
    );

    let report = rollback_json(&moto, &snapshot);
    assert_eq!(report["restored"], json!(["c1"]), "{report:#}");
    assert_eq!(
        default_version(&moto, &c.policy_arn).await,
        "v1",
        "the original default version is the default again"
    );
    let versions = policy_versions(&moto, &c.policy_arn).await;
    assert_eq!(ids(&versions), ["v1"], "the version apply created is gone");
    assert_eq!(versions[0].2, c.versions[0].1, "v1 untouched");
    // The denial is back, and a second rollback has nothing to do.
    let again = dir.join("plan-again.json");
    let replanned = managed_plan(&moto, &c, &again);
    assert_eq!(replanned["findings"], plan["findings"]);
    assert_eq!(
        replanned["changes"][0]["before_digest"],
        plan["changes"][0]["before_digest"]
    );
    let r = rollback(&moto, &snapshot, &[]);
    r.expect_code(0, "second rollback");
    assert!(r.stdout.contains("NOTHING TO RESTORE"), "{}", r.stdout);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn managed_policy_at_five_versions_rollback_recreates_the_deleted_version() {
    let moto = Moto::start();
    let c = set_up_managed_deny(&moto, 4, false).await;
    assert_eq!(c.default_id, "v5");
    assert_eq!(c.versions.len(), 5);
    let dir = scratch("s3medic-live-apply");
    let plan_path = dir.join("plan.json");
    let plan = managed_plan(&moto, &c, &plan_path);

    let (report, snapshot) = apply_all(&moto, &plan_path, &plan, &dir.join("snapshots"));
    assert!(
        notes_text(&report).contains("new version id"),
        "the apply report names the rollback caveat: {report:#}"
    );
    let versions = policy_versions(&moto, &c.policy_arn).await;
    assert_eq!(
        ids(&versions),
        ["v2", "v3", "v4", "v5", "v6"],
        "the oldest non-default version made room"
    );
    let snap = read_json(Path::new(&snapshot));
    let pruned = &snap["entries"][0]["policy_versions"]["pruned"];
    assert_eq!(pruned["version_id"], "v1", "{snap:#}");
    assert_eq!(pruned["document"], c.versions[0].1, "its document is saved");

    let report = rollback_json(&moto, &snapshot);
    assert_eq!(default_version(&moto, &c.policy_arn).await, "v5");
    let versions = policy_versions(&moto, &c.policy_arn).await;
    assert_eq!(
        ids(&versions),
        ["v2", "v3", "v4", "v5", "v7"],
        "v6 (apply's) deleted, v1 recreated as v7"
    );
    assert_eq!(
        policy(&versions[4].2),
        policy(&c.versions[0].1),
        "the recreated version holds v1's document"
    );
    for (i, (id, _, doc)) in versions.iter().take(4).enumerate() {
        assert_eq!(
            (id.as_str(), doc),
            (c.versions[i + 1].0.as_str(), &c.versions[i + 1].1)
        );
    }
    assert!(
        notes_text(&report).contains("`v1`") && notes_text(&report).contains("`v7`"),
        "the report names the new id: {report:#}"
    );
    assert!(
        report["caveats"].to_string().contains("new version id"),
        "{report:#}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn managed_policy_rollback_when_the_original_default_is_gone() {
    let moto = Moto::start();
    let c = set_up_managed_deny(&moto, 0, false).await;
    let dir = scratch("s3medic-live-apply");
    let plan_path = dir.join("plan.json");
    let plan = managed_plan(&moto, &c, &plan_path);
    let (_, snapshot) = apply_all(&moto, &plan_path, &plan, &dir.join("snapshots"));
    // Someone deletes v1 (no longer the default) after apply.
    let iam = moto.iam().await;
    must(
        iam.delete_policy_version()
            .policy_arn(&c.policy_arn)
            .version_id("v1")
            .send()
            .await,
        "DeletePolicyVersion v1",
    );

    let report = rollback_json(&moto, &snapshot);
    let versions = policy_versions(&moto, &c.policy_arn).await;
    assert_eq!(
        ids(&versions),
        ["v3"],
        "v2 (apply's) deleted, v3 replaces v1"
    );
    assert_eq!(default_version(&moto, &c.policy_arn).await, "v3");
    assert_eq!(policy(&versions[0].2), policy(&c.versions[0].1));
    let notes = notes_text(&report);
    assert!(
        notes.contains("`v1`") && notes.contains("no longer exists") && notes.contains("`v3`"),
        "the fallback is said: {report:#}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------- origin access controls

fn origin_target(distribution_id: &str, origin_id: &str) -> s3medic::plan::Target {
    s3medic::plan::Target::DistributionOrigin {
        distribution_id: distribution_id.to_string(),
        origin_id: origin_id.to_string(),
    }
}

#[tokio::test]
async fn origin_access_control_calls_against_moto() {
    use s3medic::apply::{AwsStore, Store};
    let moto = Moto::start();
    let store = AwsStore::new(s3medic::collect::Clients::from_config(
        moto.sdk_config().await,
    ));
    let t = origin_target("E000000000", "o");
    let name = unique("s3medic-site");
    assert_eq!(store.find_origin_access_control(&t, &name).await, Ok(None));
    let id = store
        .create_origin_access_control(&t, &name)
        .await
        .expect("CreateOriginAccessControl");
    assert_eq!(store.origin_access_control_exists(&t, &id).await, Ok(true));
    assert_eq!(
        store.find_origin_access_control(&t, &name).await,
        Ok(Some(id.clone()))
    );
    // GetOriginAccessControl for the ETag, then DeleteOriginAccessControl with If-Match.
    store
        .delete_origin_access_control(&t, &id)
        .await
        .expect("DeleteOriginAccessControl");
    assert_eq!(store.origin_access_control_exists(&t, &id).await, Ok(false));
    assert_eq!(store.find_origin_access_control(&t, &name).await, Ok(None));
    // Deleting one that is gone is not an error.
    assert_eq!(store.delete_origin_access_control(&t, &id).await, Ok(()));
}

#[tokio::test]
async fn an_apply_that_cannot_attach_its_new_control_deletes_it_when_undoing() {
    use s3medic::apply::{apply_with, parse_plan, ApplyOptions, ApplyStatus, AwsStore, Store};
    let moto = Moto::start();
    let bucket = unique("live-site");
    create_bucket(&moto.s3().await, &bucket).await;
    let origin_id = "site-origin";
    let (distribution_id, _) = create_distribution(&moto, &bucket, origin_id).await;

    let store = AwsStore::new(s3medic::collect::Clients::from_config(
        moto.sdk_config().await,
    ));
    let t = origin_target(&distribution_id, origin_id);
    let before = store.read(&t).await.expect("read the origin");
    assert_eq!(before["Id"], origin_id, "{before:#}");
    assert_eq!(before["OriginAccessControlId"], "", "{before:#}");
    let name = unique("s3medic-site");
    let mut after = before.clone();
    after["OriginAccessControlId"] = json!(format!("new:{name}"));
    let resource = format!("arn:aws:cloudfront::{ACCOUNT}:distribution/{distribution_id}");
    let change = json!({
        "id": "c1", "account": ACCOUNT, "resource": resource,
        "target": {"type": "distribution_origin", "distribution_id": distribution_id, "origin_id": origin_id},
        "action": "update", "before": before, "after": after,
        "before_digest": s3medic::plan::change::digest(&before),
        "diff": s3medic::plan::change::unified_diff(&resource, &before, &after),
        "risk": "medium", "reversible": true, "playbooks": ["cloudfront-no-oac"],
        "summary": "attach a new origin access control"
    });
    let plan_json = json!({"format_version": 1, "tool_version": "0.1.0", "request": null,
        "changes": [change], "manual_steps": []});
    let plan = parse_plan(&plan_json, "plan.json").expect("plan");
    let dir = scratch("s3medic-live-apply");
    let opts = ApplyOptions {
        snapshot_dir: dir.join("snapshots"),
        verify_tries: 2,
        verify_delay: std::time::Duration::from_millis(50),
        decision_after: false,
    };
    let report = apply_with(&store, &plan, &opts, |_| true).await;
    // moto stores the distribution without OriginAccessControlId: the write never reads back.
    assert_eq!(report.status, ApplyStatus::Failed, "{report:#?}");
    assert!(
        report.error.as_deref().unwrap_or("").contains("read-back"),
        "{report:#?}"
    );
    assert_eq!(report.undone, ["c1"], "{report:#?}");
    assert!(report.undo_failures.is_empty(), "{report:#?}");
    // The control was created (recorded in the snapshot) and deleted by the undo.
    let snapshot = s3medic::apply::Snapshot::load(Path::new(
        report.snapshot_path.as_deref().expect("snapshot"),
    ))
    .expect("snapshot loads");
    let st = snapshot.entries[0]
        .origin_access_control
        .clone()
        .expect("control record");
    assert_eq!(st.name, name);
    assert!(!st.existed);
    let id = st.created_id.expect("the created control's id is recorded");
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains(&id) && n.contains("deleted origin access control")),
        "{report:#?}"
    );
    assert_eq!(store.origin_access_control_exists(&t, &id).await, Ok(false));
    assert_eq!(store.find_origin_access_control(&t, &name).await, Ok(None));
    let _ = std::fs::remove_dir_all(&dir);
}

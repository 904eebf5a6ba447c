//! Live apply and rollback against a local moto server — the second half of the main flow: a plan
//! made with `s3medic plan --live` is applied with `s3medic apply`, the stored documents become the
//! plan's `after`, planning again finds nothing to do, and `s3medic rollback` puts back every
//! `before`. Also the refusals (stale plan, no terminal without `--yes`: exit 3, nothing written)
//! and a write failing half-way (exit 1, the writes already made undone).
//!
//! Each test starts its own moto server. Needs the moto server (`bash scripts/test.sh` installs it
//! into .venv); never skipped.

#[path = "common/live.rs"]
mod live;
#[path = "common/moto.rs"]
mod moto;

use std::path::Path;

use moto::{must, unique, Moto, ACCOUNT};
use serde_json::{json, Value};

use live::*;

/// `s3medic plan --live … -o out`: checks the exit code and returns the plan file.
fn plan_live(moto: &Moto, b: &Broken, out: &Path, want: i32) -> Value {
    let mut c = moto.s3medic();
    c.args(["plan", "--live"])
        .args(request_flags(b))
        .args(endpoint_flags(&moto.endpoint))
        .arg("-o")
        .arg(out);
    run(c, "s3medic plan --live").expect_code(want, "s3medic plan --live");
    read_json(out)
}

fn write_json(path: &Path, v: &Value) {
    std::fs::write(path, serde_json::to_string_pretty(v).unwrap()).expect("write JSON file");
}

/// `s3medic apply PLAN --snapshot-dir DIR --output json [extra…]`.
fn apply(moto: &Moto, plan: &Path, snapshots: &Path, extra: &[&str]) -> Run {
    let mut c = moto.s3medic();
    c.arg("apply")
        .arg(plan)
        .args(extra)
        .arg("--snapshot-dir")
        .arg(snapshots)
        .args(["--output", "json"])
        .args(endpoint_flags(&moto.endpoint));
    run(c, "s3medic apply")
}

/// `s3medic rollback SNAPSHOT --yes`.
fn rollback(moto: &Moto, snapshot: &str) -> Run {
    let mut c = moto.s3medic();
    c.args(["rollback", snapshot, "--yes"])
        .args(endpoint_flags(&moto.endpoint));
    run(c, "s3medic rollback")
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

#[tokio::test]
async fn apply_then_replan_then_rollback_identity_grant() {
    let moto = Moto::start();
    let b = set_up_broken(&moto, false, None).await;
    let dir = scratch("s3medic-live-apply");
    let plan_path = dir.join("plan.json");
    let plan = plan_live(&moto, &b, &plan_path, 2);
    let changes = plan["changes"].as_array().expect("changes").clone();
    assert_eq!(changes.len(), 1, "one change expected: {plan:#}");
    assert_eq!(
        changes[0]["target"],
        json!({"type": "inline_policy", "account": ACCOUNT, "principal": "user",
               "name": b.user_name, "policy_name": GRANTS})
    );
    assert_eq!(changes[0]["before"], Value::Null);

    let r = apply(&moto, &plan_path, &dir.join("snapshots"), &["--yes"]);
    r.expect_code(0, "apply --yes");
    let report = r.json("apply report");
    assert_eq!(ids_in(&report, "applied"), change_ids(&plan), "{report:#}");
    let snapshot = snapshot_path(&report);

    for c in &changes {
        assert_same_policy(
            &stored(&moto, c).await,
            &c["after"],
            &format!("after apply, change {} stores its `after`", c["id"]),
        );
    }
    assert_same_policy(
        &user_policy(&moto, &b.user_name, "ListOnly").await,
        &b.list_only,
        "the other inline policy is untouched",
    );

    // Nothing left to do.
    let again = plan_live(&moto, &b, &dir.join("plan-again.json"), 0);
    assert_eq!(again["changes"], json!([]), "{again:#}");
    assert_eq!(again["decision_before"], "allowed", "{again:#}");

    // Rollback: the inline policy is gone again and the denial is back, with the same findings.
    rollback(&moto, &snapshot).expect_code(0, "rollback --yes");
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
    let after_rollback = plan_live(&moto, &b, &dir.join("plan-rolled-back.json"), 2);
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
    let plan = plan_live(&moto, &b, &plan_path, 2);
    let changes = plan["changes"].as_array().expect("changes").clone();
    let kinds: Vec<&str> = changes
        .iter()
        .map(|c| c["target"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["inline_policy", "key_policy"], "{plan:#}");
    let key_change = &changes[1];
    assert_eq!(key_change["target"]["key_arn"], key_arn.as_str());

    let r = apply(&moto, &plan_path, &dir.join("snapshots"), &["--yes"]);
    r.expect_code(0, "apply --yes");
    let report = r.json("apply report");
    assert_eq!(ids_in(&report, "applied"), change_ids(&plan), "{report:#}");
    let snapshot = snapshot_path(&report);

    for c in &changes {
        assert_same_policy(
            &stored(&moto, c).await,
            &c["after"],
            &format!("after apply, change {} stores its `after`", c["id"]),
        );
    }
    // The new key policy still holds the administrator statement.
    let kp = key_policy(&moto, &key_arn).await;
    assert!(
        kp["Statement"]
            .as_array()
            .is_some_and(|s| s.iter().any(|st| st["Sid"] == "KeyAdmin")),
        "the key administrator statement is kept: {kp:#}"
    );
    plan_live(&moto, &b, &dir.join("plan-again.json"), 0);

    rollback(&moto, &snapshot).expect_code(0, "rollback --yes");
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
    let after_rollback = plan_live(&moto, &b, &dir.join("plan-rolled-back.json"), 2);
    assert_eq!(after_rollback["findings"], plan["findings"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn stale_plan_is_refused_and_nothing_written() {
    let moto = Moto::start();
    let b = set_up_broken(&moto, true, None).await;
    let (key_arn, original_key_policy) = b.kms.clone().expect("kms case");
    let dir = scratch("s3medic-live-apply");
    let plan_path = dir.join("plan.json");
    let plan = plan_live(&moto, &b, &plan_path, 2);
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
    let iam = moto.iam().await;
    must(
        iam.put_user_policy()
            .user_name(&b.user_name)
            .policy_name(GRANTS)
            .policy_document(theirs.to_string())
            .send()
            .await,
        "PutUserPolicy (the concurrent change)",
    );

    let r = apply(&moto, &plan_path, &dir.join("snapshots"), &["--yes"]);
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
    assert_eq!(user_policy(&moto, &b.user_name, GRANTS).await, theirs);
    assert_eq!(key_policy(&moto, &key_arn).await, original_key_policy);
    assert_eq!(
        user_policy(&moto, &b.user_name, "ListOnly").await,
        b.list_only
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn no_terminal_without_yes_is_refused() {
    let moto = Moto::start();
    let b = set_up_broken(&moto, true, None).await;
    let (key_arn, original_key_policy) = b.kms.clone().expect("kms case");
    let dir = scratch("s3medic-live-apply");
    let plan_path = dir.join("plan.json");
    plan_live(&moto, &b, &plan_path, 2);

    // stdin is /dev/null: no terminal to confirm on, and no --yes.
    let r = apply(&moto, &plan_path, &dir.join("snapshots"), &[]);
    r.expect_code(3, "apply without --yes and without a terminal");

    assert_eq!(user_policy(&moto, &b.user_name, GRANTS).await, Value::Null);
    assert_eq!(key_policy(&moto, &key_arn).await, original_key_policy);
    assert_eq!(
        user_policy(&moto, &b.user_name, "ListOnly").await,
        b.list_only
    );
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
    let mut plan = plan_live(&moto, &b, &plan_path, 2);
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

    let r = apply(&moto, &plan_path, &dir.join("snapshots"), &["--yes"]);
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

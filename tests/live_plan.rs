//! Live planning against a local moto server — the first half of the main flow: a same-account user
//! whose identity policy lacks s3:GetObject on an existing SSE-KMS object, and a key policy that
//! neither names the user nor delegates to the account. `s3medic explain --live` says denied;
//! `s3medic plan --live` exits 2 with both findings, a new inline policy for the user and an update
//! of the key policy, and every change's `before` is exactly the document moto holds now (what
//! `apply` will check before writing).
//!
//! Needs the moto server (`bash scripts/test.sh` installs it into .venv); never skipped.

#[path = "common/live.rs"]
mod live;
#[path = "common/moto.rs"]
mod moto;

use moto::{policy, Moto, ACCOUNT};
use serde_json::{json, Value};

use live::{
    endpoint_flags, key_policy, plan_live, read_json, request_flags, run, scratch, set_up_broken,
    user_policy,
};

#[tokio::test]
async fn plan_live_finds_both_causes_and_befores_match_moto() {
    let moto = Moto::start();
    let b = set_up_broken(&moto, true, None).await;
    let dir = scratch("s3medic-live-plan");
    let plan_path = dir.join("plan.json");

    let r = plan_live(&moto, &request_flags(&b), Some(&plan_path));
    r.expect_code(2, "plan --live must exit 2 (changes proposed)");
    let stdout = &r.stdout;
    let plan = read_json(&plan_path);

    // Findings: identity lacks s3:GetObject; the key policy does not allow bob kms:Decrypt.
    let causes: Vec<&str> = plan["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["cause"].as_str().unwrap())
        .collect();
    assert_eq!(
        causes,
        vec!["identity-missing-allow", "kms-key-policy-missing"],
        "{stdout}"
    );
    assert_eq!(plan["decision_before"], "implicit_deny");
    assert_eq!(plan["proof"]["decision_after"], "allowed");
    assert_eq!(plan["proof"]["target_allowed"], true);

    // Changes: a new inline policy for bob, an update of the key policy.
    let changes = plan["changes"].as_array().expect("changes");
    let targets: Vec<&Value> = changes.iter().map(|c| &c["target"]).collect();
    assert_eq!(
        targets,
        vec![
            &json!({"type": "inline_policy", "account": ACCOUNT, "principal": "user",
                    "name": b.user_name, "policy_name": "s3medic-grants"}),
            &json!({"type": "key_policy", "key_arn": b.kms.as_ref().expect("kms case").0}),
        ],
        "{stdout}"
    );
    assert_eq!(changes[0]["action"], "create");
    assert_eq!(changes[1]["action"], "update");
    // The account is in no organization (DescribeOrganization: AWSOrganizationsNotInUse), so
    // no SCP or RCP applies, and everything else was read: nothing is unknown.
    let unknowns: Vec<&str> = plan["unknowns"]
        .as_array()
        .map(|u| u.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert!(unknowns.is_empty(), "unknowns: {unknowns:?}");

    // Every `before` is what moto stores now.
    for c in changes {
        let t = &c["target"];
        let stored: Value = match t["type"].as_str().unwrap() {
            "inline_policy" => {
                user_policy(
                    &moto,
                    t["name"].as_str().unwrap(),
                    t["policy_name"].as_str().unwrap(),
                )
                .await
            }
            "key_policy" => key_policy(&moto, t["key_arn"].as_str().unwrap()).await,
            other => panic!("unexpected change target {other}: {c}"),
        };
        assert_eq!(
            c["before"], stored,
            "change {} `before` differs from the document moto stores",
            c["id"]
        );
        if !stored.is_null() {
            assert_eq!(policy(&c["before"]), policy(&stored));
        }
        assert!(
            c["before_digest"]
                .as_str()
                .is_some_and(|d| d.starts_with("sha256:")),
            "before_digest: {c}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn explain_live_reports_the_denial() {
    let moto = Moto::start();
    let b = set_up_broken(&moto, true, None).await;
    let mut c = moto.s3medic();
    c.args(["explain", "--live"])
        .args(request_flags(&b))
        .args(["--output", "json"])
        .args(endpoint_flags(&moto.endpoint));
    let r = run(c, "s3medic explain --live");
    r.expect_code(2, "explain --live must exit 2 (denied)");
    let v = r.json("explain --live");
    assert_eq!(v["decision"], "implicit_deny", "{}", r.stdout);
}

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

use moto::{must, policy, unique, Moto, ACCOUNT, REGION};
use serde_json::{json, Value};

use live::{decode_policy_text, request_flags, set_up_broken};

#[tokio::test]
async fn plan_live_finds_both_causes_and_befores_match_moto() {
    let moto = Moto::start();
    let b = set_up_broken(&moto, true, None).await;
    let dir = std::env::temp_dir().join(unique("s3medic-live-plan"));
    std::fs::create_dir_all(&dir).unwrap();
    let plan_path = dir.join("plan.json");

    let o = moto
        .s3medic()
        .args(["plan", "--live"])
        .args(request_flags(&b))
        .args(["--endpoint-url", &moto.endpoint, "--region", REGION, "-o"])
        .arg(&plan_path)
        .output()
        .expect("run s3medic plan --live");
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        o.status.code(),
        Some(2),
        "plan --live must exit 2 (changes proposed):\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let plan: Value =
        serde_json::from_str(&std::fs::read_to_string(&plan_path).expect("plan file written"))
            .expect("plan is JSON");

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
    let iam = moto.iam().await;
    let kms = moto.kms().await;
    for c in changes {
        let t = &c["target"];
        let stored: Value = match t["type"].as_str().unwrap() {
            "inline_policy" => {
                let r = iam
                    .get_user_policy()
                    .user_name(t["name"].as_str().unwrap())
                    .policy_name(t["policy_name"].as_str().unwrap())
                    .send()
                    .await;
                match r {
                    Ok(p) => decode_policy_text(p.policy_document()),
                    Err(e)
                        if e.as_service_error()
                            .is_some_and(|e| e.is_no_such_entity_exception()) =>
                    {
                        Value::Null
                    }
                    Err(e) => panic!(
                        "GetUserPolicy: {}",
                        aws_sdk_iam::error::DisplayErrorContext(&e)
                    ),
                }
            }
            "key_policy" => {
                let p = must(
                    kms.get_key_policy()
                        .key_id(t["key_arn"].as_str().unwrap())
                        .policy_name("default")
                        .send()
                        .await,
                    "GetKeyPolicy",
                );
                decode_policy_text(p.policy().expect("key policy text"))
            }
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
    let o = moto
        .s3medic()
        .args(["explain", "--live"])
        .args(request_flags(&b))
        .args([
            "--endpoint-url",
            &moto.endpoint,
            "--region",
            REGION,
            "--output",
            "json",
        ])
        .output()
        .expect("run s3medic explain --live");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(2),
        "explain --live must exit 2 (denied):\nstdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: Value = serde_json::from_str(&stdout).expect("explain JSON");
    assert_eq!(v["decision"], "implicit_deny", "{stdout}");
}

//! Live end-to-end tests of more broken cases against a local moto server: `plan --live` finds the
//! cause and, by default, only a manual step (nothing is written); with the option that allows the
//! risky fix, the plan changes the document, `apply --yes` stores exactly the plan's `after`, and
//! `rollback --yes` puts back the original.
//!
//! Cases: a guardrail Deny (TLS only), with the caller's identity grant on the whole bucket (the
//! exemption gives new access: refused without `--accept-new-access`) and on the one key (no new
//! access); and a public site under bucket Block Public Access.
//!
//! Not here: the ObjectWriter bucket whose object is owned by another account
//! (`object-owned-by-other-account`). moto 5.2.5 cannot hold that state: PutObjectAcl ignores the
//! AccessControlPolicy `Owner`, and GetObjectAcl always answers with moto's own fixed canonical id
//! (`75aa57f0…ba06a`, moto/s3/responses.py `_acl_to_dict`), so the object is always bucket-owned
//! and the case cannot be reproduced live.
//!
//! Each test starts its own moto server. Needs the moto server (`bash scripts/test.sh` installs it
//! into .venv); never skipped.

#[path = "common/live.rs"]
mod live;
#[path = "common/moto.rs"]
mod moto;

use std::path::Path;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::PublicAccessBlockConfiguration;
use moto::{must, unique, Moto};
use serde_json::{json, Value};

use live::*;

/// `s3medic plan --live [args…] --output json [-o out]` (endpoint flags added).
fn plan_live(moto: &Moto, args: &[String], out: Option<&Path>) -> Run {
    let mut c = moto.s3medic();
    c.args(["plan", "--live"])
        .args(args)
        .args(["--output", "json"])
        .args(endpoint_flags(&moto.endpoint));
    if let Some(out) = out {
        c.arg("-o").arg(out);
    }
    run(c, "s3medic plan --live")
}

/// `s3medic apply PLAN --yes --snapshot-dir DIR --output json`.
fn apply_yes(moto: &Moto, plan: &Path, snapshots: &Path) -> Run {
    let mut c = moto.s3medic();
    c.arg("apply")
        .arg(plan)
        .arg("--yes")
        .arg("--snapshot-dir")
        .arg(snapshots)
        .args(["--output", "json"])
        .args(endpoint_flags(&moto.endpoint));
    run(c, "s3medic apply --yes")
}

/// `s3medic rollback SNAPSHOT --yes --output json`.
fn rollback_yes(moto: &Moto, snapshot: &str) -> Run {
    let mut c = moto.s3medic();
    c.args(["rollback", snapshot, "--yes", "--output", "json"])
        .args(endpoint_flags(&moto.endpoint));
    run(c, "s3medic rollback --yes")
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn cause_ids(plan: &Value) -> Vec<String> {
    plan["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("plan has no findings array: {plan:#}"))
        .iter()
        .map(|f| f["cause"].as_str().expect("finding cause").to_string())
        .collect()
}

/// The bucket's Block Public Access in the plan's document shape (null: none).
async fn bucket_pab(moto: &Moto, bucket: &str) -> Value {
    let s3 = moto.s3().await;
    match s3.get_public_access_block().bucket(bucket).send().await {
        Ok(o) => {
            let c = o
                .public_access_block_configuration()
                .expect("PublicAccessBlockConfiguration");
            json!({"PublicAccessBlockConfiguration": {
                "BlockPublicAcls": c.block_public_acls().unwrap_or(false),
                "IgnorePublicAcls": c.ignore_public_acls().unwrap_or(false),
                "BlockPublicPolicy": c.block_public_policy().unwrap_or(false),
                "RestrictPublicBuckets": c.restrict_public_buckets().unwrap_or(false),
            }})
        }
        Err(e)
            if e.as_service_error().and_then(|e| e.meta().code())
                == Some("NoSuchPublicAccessBlockConfiguration") =>
        {
            Value::Null
        }
        Err(e) => panic!(
            "GetPublicAccessBlock {bucket}: {}",
            aws_sdk_s3::error::DisplayErrorContext(&e)
        ),
    }
}

/// A Block Public Access document with missing flags read as false (the plan may write either
/// the wrapped or the bare configuration).
fn pab_flags(v: &Value) -> Value {
    if v.is_null() {
        return Value::Null;
    }
    let c = v.get("PublicAccessBlockConfiguration").unwrap_or(v);
    let flag = |k: &str| json!(c.get(k).and_then(Value::as_bool).unwrap_or(false));
    json!({
        "BlockPublicAcls": flag("BlockPublicAcls"),
        "IgnorePublicAcls": flag("IgnorePublicAcls"),
        "BlockPublicPolicy": flag("BlockPublicPolicy"),
        "RestrictPublicBuckets": flag("RestrictPublicBuckets"),
    })
}

/// Whether `cond[op][key]` names `want` (a string or a list of strings).
fn condition_names(cond: &Value, op: &str, key: &str, want: &str) -> bool {
    match &cond[op][key] {
        Value::String(s) => s == want,
        Value::Array(a) => a.iter().any(|v| v == want),
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------

/// The TLS guardrail case: a bucket with one object, a user whose inline policy `Read` allows
/// s3:GetObject on `grant_resource` (BUCKET is replaced by the bucket name), and a bucket policy
/// denying s3:GetObject over plain HTTP. Returns the case and the `plan` request flags (with
/// `aws:SecureTransport=false`).
struct Guardrail {
    bucket: String,
    key: &'static str,
    user_arn: String,
    original: Value,
    request: Vec<String>,
}

async fn set_up_guardrail(moto: &Moto, grant_resource: &str) -> Guardrail {
    let s3 = moto.s3().await;
    let iam = moto.iam().await;
    let bucket = unique("live-guardrail");
    let key = "reports/q1.csv";

    must(
        s3.create_bucket().bucket(&bucket).send().await,
        "CreateBucket",
    );
    must(
        s3.put_object()
            .bucket(&bucket)
            .key(key)
            .body(ByteStream::from_static(b"a,b\n1,2\n"))
            .send()
            .await,
        "PutObject",
    );
    let user_name = unique("tess");
    let user = must(
        iam.create_user().user_name(&user_name).send().await,
        "CreateUser",
    );
    let user_arn = user.user().expect("user").arn().to_string();
    let read = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "Read",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": grant_resource.replace("BUCKET", &bucket)
        }]
    });
    must(
        iam.put_user_policy()
            .user_name(&user_name)
            .policy_name("Read")
            .policy_document(read.to_string())
            .send()
            .await,
        "PutUserPolicy Read",
    );
    // The guardrail, last: moto applies a bucket-policy Deny without looking at its condition.
    // Scoped to s3:GetObject so the setup calls above are not blocked.
    let original = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": format!("arn:aws:s3:::{bucket}/*"),
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}
        }]
    });
    must(
        s3.put_bucket_policy()
            .bucket(&bucket)
            .policy(original.to_string())
            .send()
            .await,
        "PutBucketPolicy",
    );

    let request = strings(&[
        "--principal",
        &user_arn,
        "--operation",
        "GetObject",
        "--bucket",
        &bucket,
        "--key",
        key,
        "--context",
        "aws:SecureTransport=false",
    ]);
    Guardrail {
        bucket,
        key,
        user_arn,
        original,
        request,
    }
}

#[tokio::test]
async fn guardrail_deny_gives_a_manual_step_and_writes_nothing() {
    let moto = Moto::start();
    let Guardrail {
        bucket,
        key,
        user_arn,
        original,
        request,
    } = set_up_guardrail(&moto, "arn:aws:s3:::BUCKET/*").await;
    let dir = scratch("s3medic-live-cases");

    // Default: the guardrail is reported, and only a manual step is offered.
    let plan_path = dir.join("plan.json");
    let r = plan_live(&moto, &request, Some(&plan_path));
    r.expect_code(2, "plan of a guardrail deny");
    let plan = r.json("plan");
    assert_eq!(
        read_json(&plan_path),
        plan,
        "the plan file is the printed plan"
    );
    assert_eq!(plan["decision_before"], "explicit_deny", "{plan:#}");
    assert!(
        cause_ids(&plan).iter().any(|c| c == "guardrail-deny"),
        "finding guardrail-deny expected: {plan:#}"
    );
    assert_eq!(
        plan["changes"],
        json!([]),
        "no changes by default: {plan:#}"
    );
    assert!(
        plan["manual_steps"]
            .as_array()
            .is_some_and(|m| m.iter().any(|s| s["playbook"] == "guardrail-deny")),
        "a manual step from playbook guardrail-deny: {plan:#}"
    );
    assert_eq!(
        bucket_policy(&moto, &bucket).await,
        original,
        "plan writes nothing: the bucket policy is as it was put"
    );

    // --allow-guardrail-change alone: refused. The caller is exempted from the Deny on the whole
    // bucket, and its identity grant covers `bucket/*`, so it gains plain-HTTP reads of every
    // other key too: the proof reports that, and the plan is not written (exit 3).
    let mut allow = request.clone();
    allow.push("--allow-guardrail-change".into());
    let refused_path = dir.join("plan-refused.json");
    let r = plan_live(&moto, &allow, Some(&refused_path));
    r.expect_code(
        3,
        "plan --allow-guardrail-change without --accept-new-access",
    );
    assert!(!refused_path.exists(), "a refused plan writes no file");
    let refusal = r.json("refusal");
    assert_eq!(refusal["refused"], "new_access", "{refusal:#}");
    let object_arn = format!("arn:aws:s3:::{bucket}/{key}");
    let new_access = refusal["new_access"].as_array().expect("new_access");
    assert!(
        !new_access.is_empty()
            && new_access
                .iter()
                .all(|n| n["principal"] == user_arn.as_str()
                    && n["resource"]
                        .as_str()
                        .is_some_and(|r| r.starts_with(&format!("arn:aws:s3:::{bucket}/"))
                            && r != object_arn)),
        "only the caller gains access, to other keys of the bucket: {refusal:#}"
    );
    assert_eq!(
        bucket_policy(&moto, &bucket).await,
        original,
        "nothing written"
    );

    // With --accept-new-access: the caller is exempted from the Deny, which stays.
    let plan_path = dir.join("plan-allow.json");
    allow.push("--accept-new-access".into());
    let r = plan_live(&moto, &allow, Some(&plan_path));
    r.expect_code(2, "plan --allow-guardrail-change --accept-new-access");
    let plan = read_json(&plan_path);
    assert!(
        cause_ids(&plan).iter().any(|c| c == "guardrail-deny"),
        "{plan:#}"
    );
    let changes = plan["changes"].as_array().expect("changes").clone();
    assert_eq!(changes.len(), 1, "one change: the bucket policy: {plan:#}");
    let change = &changes[0];
    assert_eq!(
        change["target"],
        json!({"type": "bucket_policy", "bucket": bucket}),
        "{plan:#}"
    );
    assert_same_policy(
        &change["before"],
        &original,
        "the change's `before` is the original",
    );
    let after = change["after"].clone();
    let stmts = after["Statement"].as_array().expect("after statements");
    let deny = stmts
        .iter()
        .find(|s| s["Sid"] == "DenyInsecureTransport")
        .unwrap_or_else(|| panic!("the Deny statement is kept: {after:#}"));
    assert_eq!(deny["Effect"], "Deny", "{after:#}");
    assert!(
        condition_names(&deny["Condition"], "Bool", "aws:SecureTransport", "false"),
        "the TLS condition is kept: {after:#}"
    );
    assert!(
        condition_names(
            &deny["Condition"],
            "ArnNotEquals",
            "aws:PrincipalArn",
            &user_arn
        ),
        "the caller is exempted by ArnNotEquals aws:PrincipalArn: {after:#}"
    );
    assert!(
        stmts.iter().all(|s| s["Effect"] != "Allow"),
        "no Allow is added to the bucket policy: {after:#}"
    );
    assert!(plan["proof"]["target_allowed"] == true, "{plan:#}");

    let r = apply_yes(&moto, &plan_path, &dir.join("snapshots"));
    r.expect_code(0, "apply --yes");
    let report = r.json("apply report");
    assert_eq!(ids_in(&report, "applied"), change_ids(&plan), "{report:#}");
    let snapshot = snapshot_path(&report);
    assert_same_policy(
        &bucket_policy(&moto, &bucket).await,
        &after,
        "after apply the bucket policy is the plan's `after`",
    );

    // Nothing left to do.
    let r = plan_live(&moto, &request, None);
    r.expect_code(0, "re-plan after apply");
    assert_eq!(r.json("re-plan")["changes"], json!([]));

    rollback_yes(&moto, &snapshot).expect_code(0, "rollback --yes");
    assert_same_policy(
        &bucket_policy(&moto, &bucket).await,
        &original,
        "rollback restores the original bucket policy",
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn public_site_under_block_public_access() {
    let moto = Moto::start();
    let s3 = moto.s3().await;
    let bucket = unique("live-site");
    let key = "index.html";

    must(
        s3.create_bucket().bucket(&bucket).send().await,
        "CreateBucket",
    );
    must(
        s3.put_object()
            .bucket(&bucket)
            .key(key)
            .body(ByteStream::from_static(b"<h1>hello</h1>\n"))
            .send()
            .await,
        "PutObject",
    );
    let public_read = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "PublicRead",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": format!("arn:aws:s3:::{bucket}/*")
        }]
    });
    must(
        s3.put_bucket_policy()
            .bucket(&bucket)
            .policy(public_read.to_string())
            .send()
            .await,
        "PutBucketPolicy",
    );
    // Block Public Access after the policy (moto does not enforce BPA anyway).
    must(
        s3.put_public_access_block()
            .bucket(&bucket)
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(true)
                    .ignore_public_acls(true)
                    .block_public_policy(false)
                    .restrict_public_buckets(true)
                    .build(),
            )
            .send()
            .await,
        "PutPublicAccessBlock",
    );
    let original_pab = bucket_pab(&moto, &bucket).await;
    assert_eq!(
        pab_flags(&original_pab),
        json!({"BlockPublicAcls": true, "IgnorePublicAcls": true,
               "BlockPublicPolicy": false, "RestrictPublicBuckets": true}),
        "moto stores the BPA as put"
    );

    let request = strings(&[
        "--principal",
        "anonymous",
        "--operation",
        "GetObject",
        "--bucket",
        &bucket,
        "--key",
        key,
    ]);
    let dir = scratch("s3medic-live-cases");

    // Default: BPA is reported; the manual step points at CloudFront with OAC; no change.
    let plan_path = dir.join("plan.json");
    let r = plan_live(&moto, &request, Some(&plan_path));
    r.expect_code(2, "plan of a public read under BPA");
    let plan = r.json("plan");
    // BPA makes the public statement not count: nothing allows, nothing denies explicitly.
    assert_eq!(plan["decision_before"], "implicit_deny", "{plan:#}");
    assert!(
        cause_ids(&plan)
            .iter()
            .any(|c| c == "bpa-blocks-public-access"),
        "finding bpa-blocks-public-access expected: {plan:#}"
    );
    assert_eq!(
        plan["changes"],
        json!([]),
        "no changes by default: {plan:#}"
    );
    let steps = plan["manual_steps"].as_array().expect("manual steps");
    let step = steps
        .iter()
        .find(|s| s["playbook"] == "bpa-blocks-public-access")
        .unwrap_or_else(|| panic!("a manual step from bpa-blocks-public-access: {plan:#}"));
    let step_text = step["action"].as_str().unwrap_or_default().to_lowercase();
    assert!(
        step_text.contains("cloudfront")
            && (step_text.contains("oac") || step_text.contains("origin access control")),
        "the manual step suggests CloudFront with OAC: {step:#}"
    );
    assert_eq!(
        bucket_pab(&moto, &bucket).await,
        original_pab,
        "plan writes nothing"
    );

    // --allow-public without --accept-new-access: refused (anonymous gains the other keys).
    let mut allow = request.clone();
    allow.push("--allow-public".into());
    let refused_path = dir.join("plan-refused.json");
    let r = plan_live(&moto, &allow, Some(&refused_path));
    r.expect_code(3, "plan --allow-public without --accept-new-access");
    assert!(
        !refused_path.exists(),
        "a refused plan writes no file: {}",
        refused_path.display()
    );
    assert!(
        r.stdout.contains("anonymous"),
        "the refusal names the new access: {}",
        r.stdout
    );

    // With it: the plan turns off what blocks the public policy.
    let plan_path = dir.join("plan-allow.json");
    allow.push("--accept-new-access".into());
    let r = plan_live(&moto, &allow, Some(&plan_path));
    r.expect_code(2, "plan --allow-public --accept-new-access");
    let plan = read_json(&plan_path);
    let changes = plan["changes"].as_array().expect("changes").clone();
    assert_eq!(changes.len(), 1, "one change: the bucket's BPA: {plan:#}");
    let change = &changes[0];
    assert_eq!(
        change["target"],
        json!({"type": "bucket_public_access_block", "bucket": bucket}),
        "{plan:#}"
    );
    assert_eq!(change["risk"], "high", "{plan:#}");
    assert_eq!(
        pab_flags(&change["before"]),
        pab_flags(&original_pab),
        "{plan:#}"
    );
    let after = change["after"].clone();
    assert_eq!(
        pab_flags(&after),
        json!({"BlockPublicAcls": true, "IgnorePublicAcls": true,
               "BlockPublicPolicy": false, "RestrictPublicBuckets": false}),
        "only RestrictPublicBuckets is turned off: {plan:#}"
    );
    let object_arn = format!("arn:aws:s3:::{bucket}/{key}");
    let new_access = plan["proof"]["new_access"].as_array().expect("new_access");
    assert!(
        new_access.iter().any(|n| n["principal"] == "anonymous"
            && n["action"] == "s3:GetObject"
            && n["resource"].as_str().is_some_and(|r| r
                .starts_with(&format!("arn:aws:s3:::{bucket}/"))
                && r != object_arn)),
        "the proof reports anonymous reading other keys: {plan:#}"
    );
    assert_eq!(plan["proof"]["accepted"], true, "{plan:#}");
    assert_eq!(plan["proof"]["target_allowed"], true, "{plan:#}");

    let r = apply_yes(&moto, &plan_path, &dir.join("snapshots"));
    r.expect_code(0, "apply --yes");
    let report = r.json("apply report");
    assert_eq!(ids_in(&report, "applied"), change_ids(&plan), "{report:#}");
    let snapshot = snapshot_path(&report);
    assert_eq!(
        pab_flags(&bucket_pab(&moto, &bucket).await),
        pab_flags(&after),
        "after apply the bucket BPA is the plan's `after`"
    );
    assert_same_policy(
        &bucket_policy(&moto, &bucket).await,
        &public_read,
        "the bucket policy is untouched",
    );

    rollback_yes(&moto, &snapshot).expect_code(0, "rollback --yes");
    assert_eq!(
        bucket_pab(&moto, &bucket).await,
        original_pab,
        "rollback restores the original BPA"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The same guardrail, but the caller's identity grant names only the requested object: exempting
/// the caller from the Deny gives it nothing beyond the request, so `--allow-guardrail-change`
/// alone is enough (exit 2, no new access).
#[tokio::test]
async fn guardrail_exemption_for_a_key_scoped_grant_gives_no_new_access() {
    let moto = Moto::start();
    let g = set_up_guardrail(&moto, "arn:aws:s3:::BUCKET/reports/q1.csv").await;
    let dir = scratch("s3medic-live-cases");
    let plan_path = dir.join("plan-allow.json");
    let mut allow = g.request.clone();
    allow.push("--allow-guardrail-change".into());
    let r = plan_live(&moto, &allow, Some(&plan_path));
    r.expect_code(2, "plan --allow-guardrail-change (key-scoped grant)");
    let plan = read_json(&plan_path);
    assert_eq!(plan["proof"]["new_access"], json!([]), "{plan:#}");
    assert_eq!(plan["proof"]["target_allowed"], true, "{plan:#}");
    let changes = plan["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 1, "{plan:#}");
    assert_eq!(changes[0]["target"]["type"], "bucket_policy", "{plan:#}");
    assert_eq!(
        bucket_policy(&moto, &g.bucket).await,
        g.original,
        "plan writes nothing"
    );

    let r = apply_yes(&moto, &plan_path, &dir.join("snapshots"));
    r.expect_code(0, "apply --yes");
    let snapshot = snapshot_path(&r.json("apply report"));
    assert_same_policy(
        &bucket_policy(&moto, &g.bucket).await,
        &changes[0]["after"],
        "after apply the bucket policy is the plan's `after`",
    );
    rollback_yes(&moto, &snapshot).expect_code(0, "rollback --yes");
    assert_same_policy(
        &bucket_policy(&moto, &g.bucket).await,
        &g.original,
        "rollback restores the original bucket policy",
    );
    let _ = std::fs::remove_dir_all(&dir);
}

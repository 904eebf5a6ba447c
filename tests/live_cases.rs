//! Live end-to-end tests of more broken cases against a local moto server: `plan --live` finds the
//! cause and, by default, only a manual step (nothing is written); with the option that allows the
//! risky fix, the plan changes the document, `apply --yes` stores exactly the plan's `after`, and
//! `rollback --yes` puts back the original.
//!
//! Cases: a guardrail Deny (TLS only), with the caller's identity grant on the whole bucket and
//! on the one key (either way the exemption covers only the requested object: no new access);
//! a public site under bucket Block Public Access; an ObjectWriter bucket holding an object another
//! account owns; and CloudFront reading through an S3 origin without an origin access control.
//!
//! Two moto 5.2.5 limits shape the last two (measured; moto/s3/responses.py, moto/cloudfront):
//!
//! * Object owners: GetObjectAcl and GetBucketAcl always answer with moto's one fixed canonical id
//!   (`75aa57f0…ba06a`), whoever wrote the object (also a session of another account) and whatever
//!   `Owner` a PutObjectAcl body names (moto ignores the body of PutObjectAcl: it keeps
//!   `x-amz-grant-*` headers, else copies the bucket ACL). s3medic maps that id to the bucket's
//!   account, so on moto every object is bucket-owned. The test checks exactly that, then plans
//!   from the live snapshot with that one fact set (the object's `Owner.ID` = the writer's id) and
//!   applies, re-plans and rolls back against moto.
//! * CloudFront: moto drops `S3OriginConfig` and `OriginAccessControlId` from stored distributions
//!   (on CreateDistribution and on UpdateDistribution alike) and has no origin access identity API
//!   (404). An OAI, or an attached OAC whose bucket grant is missing, cannot be set up; an origin
//!   without either can. Its plan attaches a new control, which never reads back on moto: the test
//!   asserts the plan and that apply fails that read-back and undoes every write.
//!
//! Each test starts its own moto server. Needs the moto server (`bash scripts/test.sh` installs it
//! into .venv); never skipped.

#[path = "common/live.rs"]
mod live;
#[path = "common/moto.rs"]
mod moto;

use std::path::{Path, PathBuf};

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::PublicAccessBlockConfiguration;
use moto::{
    bucket_with_object, config_in, create_bucket, create_user, must, put_bucket_policy,
    put_user_policy, s3_of, unique, Moto, ACCOUNT,
};
use serde_json::{json, Value};

use live::*;

fn cause_ids(plan: &Value) -> Vec<String> {
    plan["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("plan has no findings array: {plan:#}"))
        .iter()
        .map(|f| f["cause"].as_str().expect("finding cause").to_string())
        .collect()
}

/// `plan --live` of `request` without the option that allows the risky fix: exit 2, decision
/// `decision`, finding `cause`, no change, and a manual step from playbook `cause`. Returns the
/// plan and that step.
fn manual_step_only(
    moto: &Moto,
    request: &[String],
    out: &Path,
    decision: &str,
    cause: &str,
) -> (Value, Value) {
    let r = plan_live(moto, request, Some(out));
    r.expect_code(2, &format!("plan of {cause}"));
    let plan = r.json("plan");
    assert_eq!(read_json(out), plan, "the plan file is the printed plan");
    assert_eq!(plan["decision_before"], decision, "{plan:#}");
    assert!(
        cause_ids(&plan).iter().any(|c| c == cause),
        "finding {cause} expected: {plan:#}"
    );
    assert_eq!(
        plan["changes"],
        json!([]),
        "no changes by default: {plan:#}"
    );
    let step = plan["manual_steps"]
        .as_array()
        .and_then(|m| m.iter().find(|s| s["playbook"] == cause))
        .cloned()
        .unwrap_or_else(|| panic!("a manual step from playbook {cause}: {plan:#}"));
    (plan, step)
}

/// `plan --live ARGS… -o out`: exit 2 and exactly one change, on `target`. Returns the plan and
/// the change.
fn one_change_plan(
    moto: &Moto,
    args: &[String],
    out: &Path,
    target: Value,
    what: &str,
) -> (Value, Value) {
    plan_live(moto, args, Some(out)).expect_code(2, what);
    let plan = read_json(out);
    let changes = plan["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 1, "one change: {target}: {plan:#}");
    let change = changes[0].clone();
    assert_eq!(change["target"], target, "{plan:#}");
    (plan, change)
}

/// `rollback --yes` of `snapshot`: exit 0, and the bucket policy of `bucket` is `original` again.
async fn rollback_restores_policy(moto: &Moto, snapshot: &str, bucket: &str, original: &Value) {
    rollback_yes(moto, snapshot).expect_code(0, "rollback --yes");
    assert_same_policy(
        &bucket_policy(moto, bucket).await,
        original,
        "rollback restores the original bucket policy",
    );
}

/// The bucket's Block Public Access in the plan's document shape (null: none).
async fn bucket_pab(moto: &Moto, bucket: &str) -> Value {
    let s3 = moto.s3().await;
    or_null(
        s3.get_public_access_block().bucket(bucket).send().await,
        "NoSuchPublicAccessBlockConfiguration",
        &format!("GetPublicAccessBlock {bucket}"),
        |o| {
            let c = o
                .public_access_block_configuration()
                .expect("PublicAccessBlockConfiguration");
            json!({"PublicAccessBlockConfiguration": {
                "BlockPublicAcls": c.block_public_acls().unwrap_or(false),
                "IgnorePublicAcls": c.ignore_public_acls().unwrap_or(false),
                "BlockPublicPolicy": c.block_public_policy().unwrap_or(false),
                "RestrictPublicBuckets": c.restrict_public_buckets().unwrap_or(false),
            }})
        },
    )
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

    bucket_with_object(&s3, &bucket, key, b"a,b\n1,2\n").await;
    let user_name = unique("tess");
    let user_arn = create_user(&iam, &user_name).await;
    let read = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "Read",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": grant_resource.replace("BUCKET", &bucket)
        }]
    });
    put_user_policy(&iam, &user_name, "Read", &read).await;
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
    put_bucket_policy(&s3, &bucket, &original).await;

    let mut request = get_object_request(&user_arn, &bucket, key);
    request.extend(["--context".into(), "aws:SecureTransport=false".into()]);
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
    manual_step_only(
        &moto,
        &request,
        &dir.join("plan.json"),
        "explicit_deny",
        "guardrail-deny",
    );
    assert_eq!(
        bucket_policy(&moto, &bucket).await,
        original,
        "plan writes nothing: the bucket policy is as it was put"
    );

    // --allow-guardrail-change alone is enough: the caller is exempted for this GetObject of
    // this object only (it keeps the Deny on every other key, though its identity grant covers
    // `bucket/*`), so the proof finds no new access and the plan is written (exit 2).
    let mut allow = request.clone();
    allow.push("--allow-guardrail-change".into());
    let narrowed_path = dir.join("plan-narrowed.json");
    let r = plan_live(&moto, &allow, Some(&narrowed_path));
    r.expect_code(
        2,
        "plan --allow-guardrail-change without --accept-new-access",
    );
    let narrowed = read_json(&narrowed_path);
    assert_eq!(narrowed["proof"]["new_access"], json!([]), "{narrowed:#}");
    let object_arn = format!("arn:aws:s3:::{bucket}/{key}");
    let kept_for_caller = narrowed["changes"][0]["after"]["Statement"]
        .as_array()
        .is_some_and(|st| {
            st.iter().any(|s| {
                s["Effect"] == "Deny"
                    && s["NotResource"].to_string().contains(&object_arn)
                    && condition_names(&s["Condition"], "ArnEquals", "aws:PrincipalArn", &user_arn)
            })
        });
    assert!(
        kept_for_caller,
        "the caller keeps the Deny on everything but the object: {narrowed:#}"
    );
    assert_eq!(
        bucket_policy(&moto, &bucket).await,
        original,
        "nothing written"
    );

    // With --accept-new-access: the caller is exempted from the Deny, which stays.
    let plan_path = dir.join("plan-allow.json");
    allow.push("--accept-new-access".into());
    let (plan, change) = one_change_plan(
        &moto,
        &allow,
        &plan_path,
        json!({"type": "bucket_policy", "bucket": bucket}),
        "plan --allow-guardrail-change --accept-new-access",
    );
    assert!(
        cause_ids(&plan).iter().any(|c| c == "guardrail-deny"),
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

    let (_, snapshot) = apply_all(&moto, &plan_path, &plan, &dir.join("snapshots"));
    assert_same_policy(
        &bucket_policy(&moto, &bucket).await,
        &after,
        "after apply the bucket policy is the plan's `after`",
    );

    // Nothing left to do.
    let r = plan_live(&moto, &request, None);
    r.expect_code(0, "re-plan after apply");
    assert_eq!(r.json("re-plan")["changes"], json!([]));

    rollback_restores_policy(&moto, &snapshot, &bucket, &original).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn public_site_under_block_public_access() {
    let moto = Moto::start();
    let s3 = moto.s3().await;
    let bucket = unique("live-site");
    let key = "index.html";

    bucket_with_object(&s3, &bucket, key, b"<h1>hello</h1>\n").await;
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
    put_bucket_policy(&s3, &bucket, &public_read).await;
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

    let request = get_object_request("anonymous", &bucket, key);
    let dir = scratch("s3medic-live-cases");

    // Default: BPA is reported; the manual step points at CloudFront with OAC; no change.
    // BPA makes the public statement not count: nothing allows, nothing denies explicitly.
    let (_, step) = manual_step_only(
        &moto,
        &request,
        &dir.join("plan.json"),
        "implicit_deny",
        "bpa-blocks-public-access",
    );
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
    let (plan, change) = one_change_plan(
        &moto,
        &allow,
        &plan_path,
        json!({"type": "bucket_public_access_block", "bucket": bucket}),
        "plan --allow-public --accept-new-access",
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

    let (_, snapshot) = apply_all(&moto, &plan_path, &plan, &dir.join("snapshots"));
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
    let (plan, change) = one_change_plan(
        &moto,
        &allow,
        &plan_path,
        json!({"type": "bucket_policy", "bucket": g.bucket}),
        "plan --allow-guardrail-change (key-scoped grant)",
    );
    assert_eq!(plan["proof"]["new_access"], json!([]), "{plan:#}");
    assert_eq!(plan["proof"]["target_allowed"], true, "{plan:#}");
    assert_eq!(
        bucket_policy(&moto, &g.bucket).await,
        g.original,
        "plan writes nothing"
    );

    let (_, snapshot) = apply_all(&moto, &plan_path, &plan, &dir.join("snapshots"));
    assert_same_policy(
        &bucket_policy(&moto, &g.bucket).await,
        &change["after"],
        "after apply the bucket policy is the plan's `after`",
    );
    rollback_restores_policy(&moto, &snapshot, &g.bucket, &g.original).await;
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------------------------

/// The distribution's origin `origin_id` as moto returns it (GetDistributionConfig), with the
/// fields the plan's `distribution_origin` documents hold.
async fn distribution_origin(moto: &Moto, distribution_id: &str, origin_id: &str) -> Value {
    let cf = aws_sdk_cloudfront::Client::new(&moto.sdk_config().await);
    let out = must(
        cf.get_distribution_config()
            .id(distribution_id)
            .send()
            .await,
        "GetDistributionConfig",
    );
    let config = out.distribution_config().expect("distribution config");
    let origin = config
        .origins()
        .map(|o| o.items())
        .unwrap_or_default()
        .iter()
        .find(|o| o.id() == origin_id)
        .unwrap_or_else(|| panic!("origin {origin_id} of {distribution_id}"));
    json!({
        "Id": origin.id(),
        "DomainName": origin.domain_name(),
        "OriginAccessControlId": origin.origin_access_control_id(),
        "OriginAccessIdentity": origin.s3_origin_config().map(|s| s.origin_access_identity()),
    })
}

/// The names of every origin access control moto holds.
async fn origin_access_control_names(moto: &Moto) -> Vec<String> {
    let cf = aws_sdk_cloudfront::Client::new(&moto.sdk_config().await);
    let out = must(
        cf.list_origin_access_controls().send().await,
        "ListOriginAccessControls",
    );
    out.origin_access_control_list()
        .map(|l| l.items())
        .unwrap_or_default()
        .iter()
        .map(|o| o.name().to_string())
        .collect()
}

/// A request by CloudFront for a distribution whose S3 origin has no origin access control (and
/// no OAI), to a private bucket: `plan --live` finds `cloudfront-no-oac` (and the missing OAC
/// grant) and plans the bucket-policy grant pinned to the distribution plus a new control attached
/// to the origin. moto stores the distribution without `OriginAccessControlId` (see the module
/// header), so `apply --yes` fails the origin's read-back and undoes everything: the bucket policy
/// is gone again, the control it created is deleted, and planning again gives the same plan.
#[tokio::test]
async fn cloudfront_origin_without_oac_apply_fails_read_back_and_undoes_everything() {
    let moto = Moto::start();
    let s3 = moto.s3().await;
    let bucket = unique("live-cdn");
    let key = "index.html";
    let origin_id = "site-origin";
    bucket_with_object(&s3, &bucket, key, b"<h1>hello</h1>\n").await;
    let (distribution_id, distribution_arn) = create_distribution(&moto, &bucket, origin_id).await;
    let original_origin = distribution_origin(&moto, &distribution_id, origin_id).await;
    let original_controls = origin_access_control_names(&moto).await;

    let mut request = get_object_request("cloudfront.amazonaws.com", &bucket, key);
    request.extend([
        "--context".into(),
        format!("aws:SourceArn={distribution_arn}"),
    ]);
    let dir = scratch("s3medic-live-cases");
    let plan_path = dir.join("plan.json");
    let r = plan_live(&moto, &request, Some(&plan_path));
    r.expect_code(
        2,
        "plan of a CloudFront request through an origin without OAC",
    );
    let plan = read_json(&plan_path);
    assert_eq!(plan["decision_before"], "implicit_deny", "{plan:#}");
    let causes = cause_ids(&plan);
    assert!(
        causes.iter().any(|c| c == "cloudfront-no-oac"),
        "finding cloudfront-no-oac expected: {plan:#}"
    );
    let changes = changes_on(
        &plan,
        &["bucket_policy", "distribution_origin"],
        "change targets",
    );
    // The bucket policy grant: CloudFront, s3:GetObject, for this distribution only.
    let policy_change = &changes[0];
    assert_eq!(policy_change["before"], Value::Null, "{plan:#}");
    let grant = policy_change["after"]["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .find(|s| s["Effect"] == "Allow")
        .unwrap_or_else(|| panic!("an Allow statement: {plan:#}"))
        .clone();
    assert_eq!(
        grant["Principal"],
        json!({"Service": "cloudfront.amazonaws.com"}),
        "{plan:#}"
    );
    assert_eq!(
        grant["Condition"]["StringEquals"]["AWS:SourceArn"], distribution_arn,
        "the grant is pinned to the distribution: {plan:#}"
    );
    // The origin change: a new control attached, nothing else touched.
    let origin_change = &changes[1];
    assert_eq!(
        origin_change["target"],
        json!({"type": "distribution_origin", "distribution_id": distribution_id,
               "origin_id": origin_id}),
        "{plan:#}"
    );
    assert_eq!(
        origin_change["before"]["OriginAccessControlId"], "",
        "{plan:#}"
    );
    let control = format!("s3medic-{bucket}");
    assert_eq!(
        origin_change["after"]["OriginAccessControlId"],
        format!("new:{control}"),
        "{plan:#}"
    );
    let mut same_otherwise = origin_change["after"].clone();
    same_otherwise["OriginAccessControlId"] = json!("");
    assert_eq!(same_otherwise, origin_change["before"], "{plan:#}");
    assert_eq!(plan["proof"]["target_allowed"], true, "{plan:#}");
    assert_eq!(plan["proof"]["new_access"], json!([]), "{plan:#}");
    assert_eq!(
        bucket_policy(&moto, &bucket).await,
        Value::Null,
        "plan writes nothing"
    );
    assert_eq!(origin_access_control_names(&moto).await, original_controls);

    // Apply: the bucket policy is written, the control created and the origin updated; the
    // origin never reads back with the control (moto drops it), so everything is undone.
    let r = apply_yes(&moto, &plan_path, &dir.join("snapshots"));
    r.expect_code(1, "apply whose origin write cannot be read back");
    let report = r.json("apply report");
    assert_eq!(report["status"], "failed", "{report:#}");
    assert_eq!(report["failed_change"], origin_change["id"], "{report:#}");
    assert!(
        report["error"]
            .as_str()
            .is_some_and(|e| e.contains("read-back") && e.contains(&distribution_id)),
        "the error is the origin's read-back: {report:#}"
    );
    assert_eq!(
        ids_in(&report, "applied"),
        Vec::<String>::new(),
        "{report:#}"
    );
    let mut undone = ids_in(&report, "undone");
    undone.sort();
    assert_eq!(
        undone,
        change_ids(&plan),
        "every write is undone: {report:#}"
    );
    assert_eq!(report["undo_failures"], json!([]), "{report:#}");
    assert!(
        report["notes"]
            .as_array()
            .is_some_and(|n| n.iter().any(|n| n
                .as_str()
                .is_some_and(|n| n.contains("deleted origin access control")))),
        "the report says the control apply created was deleted: {report:#}"
    );
    snapshot_path(&report);

    // The original state, exactly.
    assert_eq!(
        bucket_policy(&moto, &bucket).await,
        Value::Null,
        "the bucket policy apply wrote is deleted again"
    );
    assert_eq!(
        origin_access_control_names(&moto).await,
        original_controls,
        "the control apply created is deleted"
    );
    assert_eq!(
        distribution_origin(&moto, &distribution_id, origin_id).await,
        original_origin
    );
    let r = plan_live(&moto, &request, None);
    r.expect_code(2, "re-plan after the undone apply");
    assert_eq!(
        r.json("re-plan")["changes"],
        plan["changes"],
        "planning again gives the same changes: the state is the original"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------------------------

/// The canonical id of the account that wrote the object (account B): the one fact moto cannot
/// hold (see the module header).
const WRITER_CANONICAL: &str = "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0";
/// A log reader granted READ in the bucket ACL.
const READER_CANONICAL: &str = "e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1";
/// Account B, where the object's writer acts.
const WRITER_ACCOUNT: &str = "222222222222";

/// An S3 client acting in `account` (AssumeRole with moto's default credentials into a role of
/// that account; moto does not require the role to exist).
async fn s3_in(moto: &Moto, account: &str) -> aws_sdk_s3::Client {
    s3_of(&config_in(moto, account, "writer", "writer").await)
}

/// The bucket's Object Ownership in the plan's document shape (null: none).
async fn ownership(moto: &Moto, bucket: &str) -> Value {
    let s3 = moto.s3().await;
    or_null(
        s3.get_bucket_ownership_controls()
            .bucket(bucket)
            .send()
            .await,
        "OwnershipControlsNotFoundError",
        &format!("GetBucketOwnershipControls {bucket}"),
        |o| {
            let rules: Vec<Value> = o
                .ownership_controls()
                .map(|c| c.rules())
                .unwrap_or_default()
                .iter()
                .map(|r| json!({"ObjectOwnership": r.object_ownership().as_str()}))
                .collect();
            json!({"OwnershipControls": {"Rules": rules}})
        },
    )
}

/// An ACL as `{"Owner": id, "Grants": sorted ["<id or uri> <permission>"]}` (either shape:
/// GetBucketAcl through the SDK, or the plan's document).
fn acl_summary(acl: &Value) -> Value {
    let mut grants: Vec<String> = acl["Grants"]
        .as_array()
        .map(|g| {
            g.iter()
                .map(|g| {
                    let who = g["Grantee"]["ID"]
                        .as_str()
                        .or(g["Grantee"]["URI"].as_str())
                        .unwrap_or("?");
                    format!("{who} {}", g["Permission"].as_str().unwrap_or("?"))
                })
                .collect()
        })
        .unwrap_or_default();
    grants.sort();
    json!({"Owner": acl["Owner"]["ID"], "Grants": grants})
}

async fn bucket_acl(moto: &Moto, bucket: &str) -> Value {
    let s3 = moto.s3().await;
    let out = must(
        s3.get_bucket_acl().bucket(bucket).send().await,
        "GetBucketAcl",
    );
    let grants: Vec<Value> = out
        .grants()
        .iter()
        .map(|g| {
            let e = g.grantee();
            json!({"Grantee": {"ID": e.and_then(|e| e.id()), "URI": e.and_then(|e| e.uri())},
                   "Permission": g.permission().map(|p| p.as_str())})
        })
        .collect();
    acl_summary(&json!({"Owner": {"ID": out.owner().and_then(|o| o.id())}, "Grants": grants}))
}

/// `s3medic snapshot` of the bucket, the object and the principal's account into `out`.
fn snapshot_world(moto: &Moto, bucket: &str, key: &str, principal: &str, out: &Path) -> Value {
    let mut c = moto.s3medic();
    c.args([
        "snapshot",
        "--bucket",
        bucket,
        "--key",
        key,
        "--principal",
        principal,
    ])
    .arg("--out")
    .arg(out)
    .args(endpoint_flags(&moto.endpoint));
    run(c, "s3medic snapshot").expect_code(0, "snapshot");
    read_json(out)
}

/// The World with the one fact moto cannot hold: the object `key` owned by `owner`.
fn with_object_owner(mut world: Value, key: &str, owner: &str, out: &Path) -> PathBuf {
    let object = world["buckets"][0]["objects"]
        .as_array_mut()
        .expect("objects")
        .iter_mut()
        .find(|o| o["key"] == key)
        .unwrap_or_else(|| panic!("object {key} in the snapshot"));
    object["acl"]["Owner"]["ID"] = json!(owner);
    std::fs::write(out, world.to_string()).expect("write the World");
    out.to_path_buf()
}

/// The live World of the case (`snapshot_world` into DIR/NAME.json) with the object owned by the
/// writer (DIR/NAME-foreign.json): that file.
fn writer_owned_world(
    moto: &Moto,
    [bucket, key, principal]: [&str; 3],
    dir: &Path,
    name: &str,
) -> PathBuf {
    let world = snapshot_world(
        moto,
        bucket,
        key,
        principal,
        &dir.join(format!("{name}.json")),
    );
    with_object_owner(
        world,
        key,
        WRITER_CANONICAL,
        &dir.join(format!("{name}-foreign.json")),
    )
}

/// `s3medic plan --world FILE [args…] --output json [-o out]`.
fn plan_world(moto: &Moto, world: &Path, args: &[String], out: Option<&Path>) -> Run {
    let mut c = moto.s3medic();
    c.arg("plan")
        .arg("--world")
        .arg(world)
        .args(args)
        .args(["--output", "json"]);
    if let Some(out) = out {
        c.arg("-o").arg(out);
    }
    run(c, "s3medic plan --world")
}

/// The ObjectWriter case: bucket A (ObjectWriter; its ACL also grants a log reader READ) holds an
/// object written by a session of account B whose ACL grants only the writer; alice in A may
/// s3:GetObject by her identity policy. moto reports every object owned by its one fixed canonical
/// id, also the bucket's (checked first: `plan --live` rightly finds nothing to fix), so the plan
/// is made from the live snapshot with that one fact set: the object owned by the writer's
/// canonical id. Everything else, and every write, is moto's: apply moves the log reader's grant
/// into the bucket policy, resets the bucket ACL and sets Bucket owner enforced; with that, the
/// re-collected World (same owner fact) needs nothing; rollback restores the three documents and
/// reports the caveat about objects, and planning again gives the original plan.
#[tokio::test]
async fn object_writer_bucket_with_a_foreign_owned_object() {
    use aws_sdk_s3::types::{ObjectOwnership, OwnershipControls, OwnershipControlsRule};
    let moto = Moto::start();
    let s3 = moto.s3().await;
    let iam = moto.iam().await;
    let bucket = unique("live-writer");
    let key = "drop/report.csv";
    create_bucket(&s3, &bucket).await;
    let rule = OwnershipControlsRule::builder()
        .object_ownership(ObjectOwnership::ObjectWriter)
        .build()
        .expect("rule");
    must(
        s3.put_bucket_ownership_controls()
            .bucket(&bucket)
            .ownership_controls(
                OwnershipControls::builder()
                    .rules(rule)
                    .build()
                    .expect("controls"),
            )
            .send()
            .await,
        "PutBucketOwnershipControls",
    );
    let owner_id = bucket_acl(&moto, &bucket).await["Owner"]
        .as_str()
        .expect("bucket owner id")
        .to_string();
    must(
        s3.put_bucket_acl()
            .bucket(&bucket)
            .grant_full_control(format!("id={owner_id}"))
            .grant_read(format!("id={READER_CANONICAL}"))
            .send()
            .await,
        "PutBucketAcl",
    );
    let writer = s3_in(&moto, WRITER_ACCOUNT).await;
    must(
        writer
            .put_object()
            .bucket(&bucket)
            .key(key)
            .body(ByteStream::from_static(b"a,b\n1,2\n"))
            .grant_full_control(format!("id={WRITER_CANONICAL}"))
            .send()
            .await,
        "PutObject as account B",
    );
    let user_name = unique("alice");
    let user_arn = create_user(&iam, &user_name).await;
    let read = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "Read",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": format!("arn:aws:s3:::{bucket}/*")
        }]
    });
    put_user_policy(&iam, &user_name, "Read", &read).await;
    let original_ownership = ownership(&moto, &bucket).await;
    let original_acl = bucket_acl(&moto, &bucket).await;
    assert_eq!(
        original_acl["Grants"],
        json!([
            format!("{owner_id} FULL_CONTROL"),
            format!("{READER_CANONICAL} READ")
        ]),
        "moto stores the bucket ACL grants as put"
    );
    let request = get_object_request(&user_arn, &bucket, key);
    let dir = scratch("s3medic-live-cases");

    // What moto holds: the object written by account B is owned by the same canonical id as the
    // bucket (and that is the caller's account's id), though its ACL grants only the writer.
    let world = snapshot_world(&moto, &bucket, key, &user_arn, &dir.join("world.json"));
    let object_acl = &world["buckets"][0]["objects"][0]["acl"];
    assert_eq!(world["buckets"][0]["objects"][0]["key"], key, "{world:#}");
    assert_eq!(object_acl["Owner"]["ID"], owner_id.as_str(), "{world:#}");
    assert_eq!(
        world["accounts"][0]["canonical_user_id"],
        owner_id.as_str(),
        "{world:#}"
    );
    assert_eq!(
        acl_summary(object_acl)["Grants"],
        json!([format!("{WRITER_CANONICAL} FULL_CONTROL")]),
        "{world:#}"
    );
    let r = plan_live(&moto, &request, None);
    r.expect_code(
        0,
        "plan --live: moto's object is bucket-owned, alice may read it",
    );
    assert_eq!(r.json("plan")["changes"], json!([]));

    // The World with the object owned by the writer.
    let foreign = with_object_owner(
        world,
        key,
        WRITER_CANONICAL,
        &dir.join("world-foreign.json"),
    );
    let r = plan_world(&moto, &foreign, &request, None);
    r.expect_code(3, "plan without --accept-new-access");
    let refused = r.json("refused plan");
    assert_eq!(refused["refused"], "new_access", "{refused:#}");
    let object_arn = format!("arn:aws:s3:::{bucket}/{key}");
    assert!(
        refused["new_access"].as_array().is_some_and(|n| n
            .iter()
            .any(|n| n["principal"] == ACCOUNT
                && n["action"] == "s3:GetObject"
                && n["resource"] == object_arn.as_str())),
        "the bucket owner's account gains the object: {refused:#}"
    );

    let mut accept = request.clone();
    accept.push("--accept-new-access".into());
    let plan_path = dir.join("plan.json");
    let r = plan_world(&moto, &foreign, &accept, Some(&plan_path));
    r.expect_code(2, "plan --accept-new-access");
    let plan = read_json(&plan_path);
    assert_eq!(plan["decision_before"], "implicit_deny", "{plan:#}");
    assert_eq!(
        cause_ids(&plan),
        ["object-owned-by-other-account"],
        "{plan:#}"
    );
    let changes = changes_on(
        &plan,
        &["bucket_policy", "bucket_acl", "bucket_ownership"],
        "the reader's grant is moved before the switch",
    );
    let (policy_change, acl_change, ownership_change) = (&changes[0], &changes[1], &changes[2]);
    assert_eq!(policy_change["before"], Value::Null, "{plan:#}");
    let moved = policy_change["after"]["Statement"]
        .as_array()
        .expect("statements");
    assert!(
        !moved.is_empty()
            && moved.iter().all(|s| s["Effect"] == "Allow"
                && s["Principal"] == json!({"CanonicalUser": READER_CANONICAL})
                && s["Resource"] == format!("arn:aws:s3:::{bucket}").as_str()),
        "the READ grant becomes bucket-level Allows for the reader: {plan:#}"
    );
    assert!(
        moved.iter().any(|s| s["Action"] == "s3:ListBucket"),
        "{plan:#}"
    );
    assert_eq!(acl_summary(&acl_change["before"]), original_acl, "{plan:#}");
    assert_eq!(
        acl_summary(&acl_change["after"]),
        json!({"Owner": owner_id, "Grants": [format!("{owner_id} FULL_CONTROL")]}),
        "{plan:#}"
    );
    assert_eq!(ownership_change["before"], original_ownership, "{plan:#}");
    assert_eq!(
        ownership_change["after"],
        json!({"OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}}),
        "{plan:#}"
    );
    assert!(
        ownership_change["rollback_caveat"]
            .as_str()
            .is_some_and(|c| c.contains("stay owned by the bucket owner")),
        "{plan:#}"
    );
    assert_eq!(plan["proof"]["target_allowed"], true, "{plan:#}");

    let (_, snapshot) = apply_all(&moto, &plan_path, &plan, &dir.join("snapshots"));
    assert_same_policy(
        &bucket_policy(&moto, &bucket).await,
        &policy_change["after"],
        "after apply the bucket policy is the plan's `after`",
    );
    assert_eq!(
        bucket_acl(&moto, &bucket).await,
        acl_summary(&acl_change["after"]),
        "after apply the bucket ACL is the plan's `after`"
    );
    assert_eq!(
        ownership(&moto, &bucket).await,
        ownership_change["after"],
        "after apply Object Ownership is the plan's `after`"
    );

    // Nothing left to do, with the same owner fact on the World read now.
    let after = writer_owned_world(&moto, [&bucket, key, &user_arn], &dir, "world-after");
    let r = plan_world(&moto, &after, &request, None);
    r.expect_code(0, "re-plan after apply");
    let replan = r.json("re-plan");
    assert_eq!(replan["changes"], json!([]), "{replan:#}");
    assert_eq!(replan["decision_before"], "allowed", "{replan:#}");

    let r = rollback_yes(&moto, &snapshot);
    r.expect_code(0, "rollback --yes");
    let rolled = r.json("rollback report");
    let mut restored = ids_in(&rolled, "restored");
    restored.sort();
    assert_eq!(restored, change_ids(&plan), "{rolled:#}");
    assert!(
        rolled["caveats"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c
                .as_str()
                .is_some_and(|c| c.contains("stay owned by the bucket owner")))),
        "rollback reports what it cannot undo: {rolled:#}"
    );
    assert!(
        r.stderr.contains("rollback cannot undo"),
        "the caveat is printed: {}",
        r.stderr
    );
    assert_eq!(ownership(&moto, &bucket).await, original_ownership);
    assert_eq!(bucket_acl(&moto, &bucket).await, original_acl);
    assert_eq!(bucket_policy(&moto, &bucket).await, Value::Null);
    let rolled_back = writer_owned_world(&moto, [&bucket, key, &user_arn], &dir, "world-rolled");
    let r = plan_world(&moto, &rolled_back, &accept, None);
    r.expect_code(2, "re-plan after rollback");
    assert_eq!(
        r.json("re-plan")["changes"],
        plan["changes"],
        "planning again gives the original plan: the state is the original"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

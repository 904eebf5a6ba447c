//! Helpers shared by the live tests that run `s3medic` against moto (tests/live_*.rs): running the
//! binary (`plan --live`, `apply`, `rollback`), scratch directories, reading policies back through
//! the SDK, and the broken case they plan, apply and roll back.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use super::moto::{
    create_bucket, create_user, must, policy, put_bucket_policy, put_object, put_user_policy,
    unique, Moto, REGION,
};

/// The inline policy s3medic creates for an identity-side grant.
pub const GRANTS: &str = "s3medic-grants";

/// A finished subprocess: exit code, stdout, stderr.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn expect_code(&self, want: i32, what: &str) -> &Run {
        assert_eq!(
            self.code,
            Some(want),
            "{what}: expected exit {want}\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    pub fn json(&self, what: &str) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "{what}: stdout is not JSON ({e})\nstdout:\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

/// Runs with stdin not a terminal (/dev/null) and stdout/stderr captured.
pub fn run(mut c: Command, what: &str) -> Run {
    let o = c
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    Run {
        code: o.status.code(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

pub fn scratch(prefix: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(unique(prefix));
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

pub fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

pub fn endpoint_flags(endpoint: &str) -> [String; 4] {
    [
        "--endpoint-url".into(),
        endpoint.into(),
        "--region".into(),
        REGION.into(),
    ]
}

pub fn decode_policy_text(text: &str) -> Value {
    // IAM inline documents come back URL-encoded (as on AWS); key policies plain.
    let decoded = if text.trim_start().starts_with('{') {
        text.to_string()
    } else {
        percent_encoding::percent_decode_str(text)
            .decode_utf8()
            .expect("utf-8 policy")
            .into_owned()
    };
    serde_json::from_str(&decoded).expect("stored policy is JSON")
}

/// The user's inline policy `name` as moto stores it, or null when it does not exist.
pub async fn user_policy(moto: &Moto, user: &str, name: &str) -> Value {
    inline_policy(&moto.iam().await, user, name).await
}

/// The inline policy `name` of `user` as `iam` (of any account) reads it, or null when it does
/// not exist.
pub async fn inline_policy(iam: &aws_sdk_iam::Client, user: &str, name: &str) -> Value {
    match iam
        .get_user_policy()
        .user_name(user)
        .policy_name(name)
        .send()
        .await
    {
        Ok(p) => decode_policy_text(p.policy_document()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_no_such_entity_exception()) =>
        {
            Value::Null
        }
        Err(e) => panic!(
            "GetUserPolicy {user}/{name}: {}",
            aws_sdk_iam::error::DisplayErrorContext(&e)
        ),
    }
}

pub async fn key_policy(moto: &Moto, key_arn: &str) -> Value {
    let kms = moto.kms().await;
    let p = must(
        kms.get_key_policy()
            .key_id(key_arn)
            .policy_name("default")
            .send()
            .await,
        "GetKeyPolicy",
    );
    decode_policy_text(p.policy().expect("key policy text"))
}

/// The broken case of tests/live_apply.rs: user bob may list the bucket but not read the object;
/// with `kms`, the object is SSE-KMS encrypted under a key whose policy names only a key
/// administrator role. With `bucket_policy`, the bucket also has that policy (it grants nothing
/// to bob).
pub struct Broken {
    pub bucket: String,
    pub key: String,
    pub user_name: String,
    pub user_arn: String,
    pub kms: Option<(String, Value)>,
    pub list_only: Value,
}

pub async fn set_up_broken(moto: &Moto, kms: bool, bucket_policy: Option<&Value>) -> Broken {
    let s3 = moto.s3().await;
    let iam = moto.iam().await;
    let bucket = unique("live-faults");
    let key = "data/2026/export.csv".to_string();

    let user_name = unique("bob");
    let user_arn = create_user(&iam, &user_name).await;
    let list_only = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "List",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": format!("arn:aws:s3:::{bucket}")
        }]
    });
    put_user_policy(&iam, &user_name, "ListOnly", &list_only).await;
    create_bucket(&s3, &bucket).await;
    if let Some(p) = bucket_policy {
        let doc = serde_json::from_str(&p.to_string().replace("BUCKET", &bucket))
            .expect("bucket policy JSON");
        put_bucket_policy(&s3, &bucket, &doc).await;
    }
    let kms_out = put_object(moto, &s3, [&bucket, &key], b"id,value\n1,2\n", kms).await;
    Broken {
        bucket,
        key,
        user_name,
        user_arn,
        kms: kms_out,
        list_only,
    }
}

/// The `plan`/`explain` request flags of bob's GetObject in the broken case.
pub fn request_flags(b: &Broken) -> Vec<String> {
    get_object_request(&b.user_arn, &b.bucket, &b.key)
}

/// `--principal P --operation GetObject --bucket B --key K`.
pub fn get_object_request(principal: &str, bucket: &str, key: &str) -> Vec<String> {
    [
        "--principal",
        principal,
        "--operation",
        "GetObject",
        "--bucket",
        bucket,
        "--key",
        key,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// The broken case is as set up (nothing of a plan written): bob's `GRANTS` inline policy is
/// `grants` (null: none), his `ListOnly` policy is untouched and, in the KMS case, the key policy
/// is exactly the original.
pub async fn assert_as_set_up(moto: &Moto, b: &Broken, grants: &Value) {
    assert_eq!(&user_policy(moto, &b.user_name, GRANTS).await, grants);
    if let Some((key_arn, original_key_policy)) = &b.kms {
        assert_eq!(&key_policy(moto, key_arn).await, original_key_policy);
    }
    assert_eq!(
        user_policy(moto, &b.user_name, "ListOnly").await,
        b.list_only
    );
}

// ------------------------------------------------------------------------ running s3medic

/// `s3medic plan --live ARGS… --output json [-o OUT]` against `endpoint`.
pub fn plan_live_via(moto: &Moto, endpoint: &str, args: &[String], out: Option<&Path>) -> Run {
    let mut c = moto.s3medic();
    c.args(["plan", "--live"])
        .args(args)
        .args(["--output", "json"])
        .args(endpoint_flags(endpoint));
    if let Some(out) = out {
        c.arg("-o").arg(out);
    }
    run(c, "s3medic plan --live")
}

/// `s3medic plan --live ARGS… --output json [-o OUT]` against moto.
pub fn plan_live(moto: &Moto, args: &[String], out: Option<&Path>) -> Run {
    plan_live_via(moto, &moto.endpoint, args, out)
}

/// `s3medic plan --live ARGS… -o OUT` against moto, expecting exit `want`: the plan file.
pub fn plan_file(moto: &Moto, args: &[String], out: &Path, want: i32) -> Value {
    plan_live(moto, args, Some(out)).expect_code(want, "s3medic plan --live");
    read_json(out)
}

/// `s3medic apply PLAN [EXTRA…] --snapshot-dir DIR --output json` against `endpoint`.
pub fn apply_via(
    moto: &Moto,
    endpoint: &str,
    plan: &Path,
    snapshots: &Path,
    extra: &[&str],
) -> Run {
    let mut c = moto.s3medic();
    c.arg("apply")
        .arg(plan)
        .args(extra)
        .arg("--snapshot-dir")
        .arg(snapshots)
        .args(["--output", "json"])
        .args(endpoint_flags(endpoint));
    run(c, "s3medic apply")
}

/// `s3medic apply PLAN --yes --snapshot-dir DIR --output json` against moto.
pub fn apply_yes(moto: &Moto, plan: &Path, snapshots: &Path) -> Run {
    apply_via(moto, &moto.endpoint, plan, snapshots, &["--yes"])
}

/// `apply --yes` of the plan file `plan_path` (holding `plan`): exit 0, every change applied.
/// Returns the report and its snapshot's path.
pub fn apply_all(moto: &Moto, plan_path: &Path, plan: &Value, snapshots: &Path) -> (Value, String) {
    let r = apply_yes(moto, plan_path, snapshots);
    r.expect_code(0, "apply --yes");
    let report = r.json("apply report");
    assert_eq!(ids_in(&report, "applied"), change_ids(plan), "{report:#}");
    let snapshot = snapshot_path(&report);
    (report, snapshot)
}

/// `s3medic rollback SNAPSHOT --yes [EXTRA…]` against moto.
pub fn rollback(moto: &Moto, snapshot: &str, extra: &[&str]) -> Run {
    let mut c = moto.s3medic();
    c.args(["rollback", snapshot, "--yes"])
        .args(extra)
        .args(endpoint_flags(&moto.endpoint));
    run(c, "s3medic rollback")
}

/// `s3medic rollback SNAPSHOT --yes --output json` against moto.
pub fn rollback_yes(moto: &Moto, snapshot: &str) -> Run {
    rollback(moto, snapshot, &["--output", "json"])
}

pub async fn bucket_policy(moto: &Moto, bucket: &str) -> Value {
    let s3 = moto.s3().await;
    or_null(
        s3.get_bucket_policy().bucket(bucket).send().await,
        "NoSuchBucketPolicy",
        &format!("GetBucketPolicy {bucket}"),
        |p| decode_policy_text(p.policy().expect("bucket policy text")),
    )
}

/// What `ok` makes of a read's answer; null when the read fails with the error code `missing`
/// (there is nothing to read); any other error is a panic naming `what`.
pub fn or_null<T, E, R>(
    read: Result<T, aws_sdk_s3::error::SdkError<E, R>>,
    missing: &str,
    what: &str,
    ok: impl FnOnce(T) -> Value,
) -> Value
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    match read {
        Ok(v) => ok(v),
        Err(e) if e.as_service_error().and_then(|e| e.code()) == Some(missing) => Value::Null,
        Err(e) => panic!("{what}: {}", aws_sdk_s3::error::DisplayErrorContext(&e)),
    }
}

/// Policy documents equal as s3medic understands them (null only equals null).
pub fn assert_same_policy(stored: &Value, want: &Value, what: &str) {
    if want.is_null() || stored.is_null() {
        assert_eq!(stored, want, "{what}");
        return;
    }
    assert_eq!(
        policy(stored),
        policy(want),
        "{what}\nstored: {stored:#}\nwanted: {want:#}"
    );
}

/// The plan's changes, asserting their target types are `types`, in that order (`what` says why).
pub fn changes_on(plan: &Value, types: &[&str], what: &str) -> Vec<Value> {
    let changes = plan["changes"].as_array().expect("changes").clone();
    let got: Vec<&str> = changes
        .iter()
        .map(|c| c["target"]["type"].as_str().expect("target type"))
        .collect();
    assert_eq!(got, types, "{what}: {plan:#}");
    changes
}

pub fn change_ids(plan: &Value) -> Vec<String> {
    plan["changes"]
        .as_array()
        .expect("plan changes")
        .iter()
        .map(|c| c["id"].as_str().expect("change id").to_string())
        .collect()
}

/// A report field holding change ids (strings, or objects with an `id`).
pub fn ids_in(report: &Value, field: &str) -> Vec<String> {
    report[field]
        .as_array()
        .unwrap_or_else(|| panic!("report has no `{field}` array: {report:#}"))
        .iter()
        .map(|v| match v {
            Value::String(s) => s.clone(),
            other => other["id"]
                .as_str()
                .unwrap_or_else(|| panic!("`{field}` entry without id: {other}"))
                .to_string(),
        })
        .collect()
}

pub fn snapshot_path(report: &Value) -> String {
    let p = report["snapshot_path"]
        .as_str()
        .unwrap_or_else(|| panic!("report has no snapshot_path: {report:#}"))
        .to_string();
    assert!(Path::new(&p).is_file(), "snapshot {p} does not exist");
    p
}

/// A CloudFront distribution with one S3 REST-endpoint origin `origin_id` for `bucket`, no origin
/// access control and no OAI (`S3OriginConfig.OriginAccessIdentity` empty). Returns its id and ARN.
pub async fn create_distribution(moto: &Moto, bucket: &str, origin_id: &str) -> (String, String) {
    use aws_sdk_cloudfront::types::{
        DefaultCacheBehavior, DistributionConfig, Origin, Origins, S3OriginConfig,
        ViewerProtocolPolicy,
    };
    let cf = aws_sdk_cloudfront::Client::new(&moto.sdk_config().await);
    let origin = Origin::builder()
        .id(origin_id)
        .domain_name(format!("{bucket}.s3.us-east-1.amazonaws.com"))
        .s3_origin_config(S3OriginConfig::builder().origin_access_identity("").build())
        .build()
        .expect("origin");
    let config = DistributionConfig::builder()
        .caller_reference(unique("ref"))
        .comment("s3medic live test")
        .enabled(true)
        .default_root_object("index.html")
        .origins(
            Origins::builder()
                .quantity(1)
                .items(origin)
                .build()
                .expect("origins"),
        )
        .default_cache_behavior(
            DefaultCacheBehavior::builder()
                .target_origin_id(origin_id)
                .viewer_protocol_policy(ViewerProtocolPolicy::RedirectToHttps)
                .build()
                .expect("cache behavior"),
        )
        .build()
        .expect("distribution config");
    let created = must(
        cf.create_distribution()
            .distribution_config(config)
            .send()
            .await,
        "CreateDistribution",
    );
    let d = created.distribution().expect("distribution");
    (d.id().to_string(), d.arn().to_string())
}

//! Helpers shared by the live tests that run `s3medic` against moto (tests/live_apply.rs,
//! tests/live_faults.rs): running the binary, scratch directories, reading policies back through
//! the SDK, and the broken case they plan, apply and roll back.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use aws_sdk_s3::primitives::ByteStream;
use serde_json::{json, Value};

use super::moto::{
    create_user, key_for_admin_only, must, policy, put_user_policy, unique, Moto, REGION,
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
    let iam = moto.iam().await;
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
    must(
        s3.create_bucket().bucket(&bucket).send().await,
        "CreateBucket",
    );
    if let Some(p) = bucket_policy {
        let text = p.to_string().replace("BUCKET", &bucket);
        must(
            s3.put_bucket_policy()
                .bucket(&bucket)
                .policy(text)
                .send()
                .await,
            "PutBucketPolicy",
        );
    }

    let mut put = s3
        .put_object()
        .bucket(&bucket)
        .key(&key)
        .body(ByteStream::from_static(b"id,value\n1,2\n"));
    let mut kms_out = None;
    if kms {
        let (key_id, key_arn, key_policy) = key_for_admin_only(moto).await;
        put = put
            .server_side_encryption(aws_sdk_s3::types::ServerSideEncryption::AwsKms)
            .ssekms_key_id(&key_id);
        kms_out = Some((key_arn, key_policy));
    }
    must(put.send().await, "PutObject");
    Broken {
        bucket,
        key,
        user_name,
        user_arn,
        kms: kms_out,
        list_only,
    }
}

pub fn request_flags(b: &Broken) -> Vec<String> {
    [
        "--principal",
        &b.user_arn,
        "--operation",
        "GetObject",
        "--bucket",
        &b.bucket,
        "--key",
        &b.key,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
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

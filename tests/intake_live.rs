//! Intake with `--live` against a local moto server: an error message or an AWS CLI command that
//! names no caller is evaluated for the caller of the current credentials (STS
//! GetCallerIdentity), asked once per command. A CloudTrail caller named only by its account
//! (`AWSAccount`) and principal id is looked up in the collected IAM data: a role's
//! `ROLEID:SESSION` is decided as that role session, an unknown id stays the account with a note.
//!
//! Needs the moto server (`bash scripts/test.sh` installs it into .venv); never skipped.

#[path = "common/moto.rs"]
mod moto;

use moto::{bucket_with_object, must, unique, Moto, ACCOUNT, REGION};
use serde_json::json;

/// `s3medic explain --live ARGS` against moto (one attempt per call); returns stdout and stderr
/// after checking that it decided (exit 0 or 2).
fn explain_live(moto: &Moto, args: &[&str]) -> (String, String) {
    let o = moto
        .s3medic()
        .args(["explain", "--live", "--endpoint-url", &moto.endpoint])
        .args(["--region", REGION, "--max-attempts", "1"])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run s3medic explain --live {args:?}: {e}"));
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(
        matches!(o.status.code(), Some(0 | 2)),
        "explain {args:?} decides (0 or 2):\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    (stdout, stderr)
}

#[tokio::test]
async fn a_message_without_caller_is_made_by_the_credentials_caller() {
    let moto = Moto::start();
    let s3 = moto.s3().await;
    let bucket = unique("intake-live");
    let key = "data/report.csv";
    bucket_with_object(&s3, &bucket, key, b"a,b\n").await;
    let sts = aws_sdk_sts::Client::new(&moto.sdk_config().await);
    let identity = must(sts.get_caller_identity().send().await, "GetCallerIdentity");
    let caller = s3medic::intake::normalize_caller(identity.arn().expect("caller arn"));

    let error = format!(
        "download failed: s3://{bucket}/{key} to ./report.csv An error occurred (AccessDenied) when calling the GetObject operation: Access Denied"
    );
    let (stdout, stderr) = explain_live(&moto, &["--error", &error]);
    assert!(
        stdout.contains(&format!(
            "request: {caller} → GetObject s3://{bucket}/{key}"
        )),
        "the request is made by {caller}:\n{stdout}\nstderr:\n{stderr}"
    );
    assert_eq!(
        stderr.matches("sts:GetCallerIdentity").count(),
        1,
        "one note naming where the caller came from:\n{stderr}"
    );

    // A command of two requests asks STS once.
    let cp = format!("aws s3 cp s3://{bucket}/{key} .");
    let (stdout, stderr) = explain_live(&moto, &["--output", "json", "--aws-cli", &cp]);
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("batch json");
    let principals: Vec<&str> = v["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .map(|r| r["request"]["principal"].as_str().expect("principal"))
        .collect();
    assert_eq!(principals, vec![caller.as_str(), caller.as_str()]);
    assert_eq!(
        stderr.matches("sts:GetCallerIdentity").count(),
        1,
        "{stderr}"
    );

    // Plain request flags without `--principal` work the same way.
    let (stdout, stderr) = explain_live(
        &moto,
        &[
            "--operation",
            "HeadObject",
            "--bucket",
            &bucket,
            "--key",
            key,
        ],
    );
    assert!(
        stdout.contains(&format!(
            "request: {caller} → HeadObject s3://{bucket}/{key}"
        )),
        "{stdout}\n{stderr}"
    );

    // Without `--live` the same command says what is missing.
    let o = moto
        .s3medic()
        .args([
            "explain",
            "-w",
            "examples/worlds/cross-account.json",
            "--aws-cli",
        ])
        .arg(&cp)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run s3medic explain --aws-cli");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("--principal ARN"), "{stderr}");
}

#[tokio::test]
async fn a_cloudtrail_caller_named_only_by_account_is_found_in_the_live_iam_data() {
    let moto = Moto::start();
    let s3 = moto.s3().await;
    let iam = moto.iam().await;
    let bucket = unique("intake-trail");
    let key = "in/data.csv";
    bucket_with_object(&s3, &bucket, key, b"a,b\n").await;
    let role = unique("etl");
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "sts:AssumeRole"}]});
    let created = must(
        iam.create_role()
            .role_name(&role)
            .assume_role_policy_document(trust.to_string())
            .send()
            .await,
        "CreateRole",
    );
    let role_id = created
        .role()
        .map(|r| r.role_id().to_string())
        .expect("role id");
    let read = json!({"Version": "2012-10-17", "Statement": [{"Sid": "Read", "Effect": "Allow",
        "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{bucket}/*")}]});
    must(
        iam.put_role_policy()
            .role_name(&role)
            .policy_name("read")
            .policy_document(read.to_string())
            .send()
            .await,
        "PutRolePolicy",
    );
    let denied = |principal_id: &str, id: &str, time: &str| {
        json!({"eventVersion": "1.10", "eventSource": "s3.amazonaws.com", "eventName": "GetObject",
            "eventTime": time, "requestID": id, "eventID": format!("e-{id}"),
            "errorCode": "AccessDenied", "sourceIPAddress": "203.0.113.7",
            "recipientAccountId": ACCOUNT, "tlsDetails": {"tlsVersion": "TLSv1.3"},
            "userIdentity": {"type": "AWSAccount", "principalId": principal_id, "accountId": ACCOUNT},
            "requestParameters": {"bucketName": bucket, "key": key},
            "resources": [{"type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{bucket}"),
                           "accountId": ACCOUNT}]})
    };
    let unknown_id = "AROAS3MEDICNOSUCHID0";
    let dir = std::env::temp_dir().join(unique("s3medic-intake-live-trail"));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let trail = dir.join("trail.json");
    std::fs::write(
        &trail,
        json!({"Records": [
            denied(&format!("{role_id}:nightly"), "r1", "2026-11-20T10:00:00Z"),
            denied(&format!("{unknown_id}:job"), "r2", "2026-11-20T11:00:00Z"),
        ]})
        .to_string(),
    )
    .expect("write trail");
    let trail = trail.to_str().expect("utf-8 path");
    let session = format!("arn:aws:sts::{ACCOUNT}:assumed-role/{role}/nightly");

    // The whole file: a batch, one collection per request.
    let (stdout, stderr) = explain_live(&moto, &["--output", "json", "--cloudtrail", trail]);
    let v: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    let requests = v["requests"].as_array().expect("requests");
    assert_eq!(requests.len(), 2, "{v:#}");
    let found = &requests[0];
    assert_eq!(found["request"]["principal"], session.as_str(), "{found:#}");
    assert_eq!(found["decision"]["decision"], "allowed", "{found:#}");
    let notes: Vec<&str> = found["notes"]
        .as_array()
        .expect("notes")
        .iter()
        .filter_map(|n| n.as_str())
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains(&format!("gives `{session}`; evaluated as that caller"))),
        "{found:#}"
    );
    let unknown = &requests[1];
    assert_eq!(unknown["request"]["principal"], ACCOUNT, "{unknown:#}");
    assert!(
        unknown["notes"].as_array().expect("notes").iter().any(|n| n
            .as_str()
            .is_some_and(|n| n.contains(&format!(
                "no user or role of account {ACCOUNT} in the World has the id `{unknown_id}`"
            )))),
        "{unknown:#}"
    );

    // One group (`--event-group 1`): a single decision, for the role session.
    let (stdout, stderr) = explain_live(&moto, &["--cloudtrail", trail, "--event-group", "1"]);
    assert!(
        stdout.contains(&format!(
            "request: {session} → GetObject s3://{bucket}/{key}"
        )),
        "decided for the role session:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stderr.contains(&format!("gives `{session}`")), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

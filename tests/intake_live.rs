//! Intake with `--live` against a local moto server: an error message or an AWS CLI command that
//! names no caller is evaluated for the caller of the current credentials (STS
//! GetCallerIdentity), asked once per command.
//!
//! Needs the moto server (`bash scripts/test.sh` installs it into .venv); never skipped.

#[path = "common/moto.rs"]
mod moto;

use moto::{bucket_with_object, must, unique, Moto, REGION};

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

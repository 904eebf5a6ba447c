//! `s3medic explain` end to end: the bundled example, flags vs request files, JSON output, exit
//! codes (0 allowed, 2 denied, 1 error) and clear errors naming the bad input.

#[path = "common/cli.rs"]
mod cli;

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use cli::{
    assert_error, assert_fails_saying, path_str, root, s3medic, scratch_dir, scratch_file, text,
};

const WORLD: &str = "examples/worlds/cross-account.json";

#[test]
fn allowed_request_exits_0_and_names_the_granting_statement() {
    let out = s3medic(&[
        "explain",
        "-w",
        WORLD,
        "-r",
        "examples/requests/datareader-get-report.json",
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.starts_with("ALLOWED"), "{stdout}");
    assert!(stdout.contains("AllowDataReaderRead"), "{stdout}");
    assert!(stdout.contains("kms:Decrypt"), "{stdout}");
}

#[test]
fn explicit_deny_exits_2_with_the_deny_statement_in_json() {
    let out = s3medic(&[
        "explain",
        "-w",
        WORLD,
        "-r",
        "examples/requests/datareader-get-report-http.json",
        "--output",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json output");
    assert_eq!(v["format_version"], 1);
    assert_eq!(v["decision"], "explicit_deny");
    assert_eq!(v["status"], 403);
    assert_eq!(v["deciding"]["layer"], "resource_policy");
    assert_eq!(
        v["deciding"]["statements"][0]["sid"],
        "DenyInsecureTransport"
    );
    assert_eq!(
        v["deciding"]["statements"][0]["policy"],
        "bucket-policy:example-reports"
    );
    assert_eq!(v["authorizations"].as_array().map(Vec::len), Some(2));
}

#[test]
fn flags_build_the_same_request_as_the_file() {
    let out = s3medic(&[
        "explain",
        "-w",
        WORLD,
        "--principal",
        "arn:aws:iam::444455556666:user/alice",
        "--operation",
        "GetObject",
        "--bucket",
        "example-reports",
        "--key",
        "reports/2026/q1.csv",
        "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json output");
    assert_eq!(v["decision"], "implicit_deny");
    assert_eq!(v["deciding"]["layer"], "resource_policy");

    let file = s3medic(&[
        "explain",
        "-w",
        WORLD,
        "-r",
        "examples/requests/alice-get-report.json",
        "-o",
        "json",
    ]);
    let w: Value = serde_json::from_slice(&file.stdout).expect("json output");
    assert_eq!(v["decision"], w["decision"]);
    assert_eq!(v["authorizations"], w["authorizations"]);
}

#[test]
fn context_flags_reach_the_conditions() {
    let out = s3medic(&[
        "explain",
        "-w",
        WORLD,
        "--principal",
        "arn:aws:sts::444455556666:assumed-role/DataReader/etl-job",
        "--operation",
        "GetObject",
        "--bucket",
        "example-reports",
        "--key",
        "reports/2026/q1.csv",
        "--context",
        "aws:SecureTransport=false",
        "-o",
        "json",
    ]);
    let v: Value = serde_json::from_slice(&out.stdout).expect("json output");
    assert_eq!(v["decision"], "explicit_deny", "{}", text(&out.stderr));
}

#[test]
fn missing_world_file_is_a_clear_error() {
    let out = s3medic(&[
        "explain",
        "-w",
        "no/such/world.json",
        "-r",
        "examples/requests/alice-get-report.json",
    ]);
    assert_error(&out, "cannot read world file `no/such/world.json`");
}

#[test]
fn malformed_policy_in_world_names_bucket_and_statement() {
    let world = r#"{"format_version": 1, "accounts": [{"account_id": "111122223333"}],
      "buckets": [{"name": "b", "account_id": "111122223333", "region": "us-east-1",
        "policy": {"Version": "2012-10-17", "Statement": [{"Sid": "Bad", "Effect": "allow", "Action": "s3:GetObject", "Resource": "*", "Principal": "*"}]}}]}"#;
    let p = scratch_file("bad-world.json", world);
    let out = s3medic(&[
        "explain",
        "-w",
        p.to_str().unwrap_or_default(),
        "--principal",
        "anonymous",
        "--operation",
        "GetObject",
        "--bucket",
        "b",
        "--key",
        "k",
    ]);
    assert_error(&out, "invalid world file");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("`b`"), "names the bucket: {stderr}");
    assert!(stderr.contains("Effect"), "names the element: {stderr}");
}

#[test]
fn unknown_operation_suggests_the_closest() {
    let out = s3medic(&[
        "explain",
        "-w",
        WORLD,
        "--principal",
        "anonymous",
        "--operation",
        "GetObjekt",
        "--bucket",
        "example-reports",
        "--key",
        "k",
    ]);
    assert_error(&out, "GetObjekt");
    assert!(
        text(&out.stderr).contains("GetObject"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn bucket_missing_from_the_world_is_an_error() {
    let out = s3medic(&[
        "explain",
        "-w",
        WORLD,
        "--principal",
        "anonymous",
        "--operation",
        "GetObject",
        "--bucket",
        "not-there",
        "--key",
        "k",
    ]);
    assert_error(&out, "bucket `not-there` is not in the world");
}

#[test]
fn broken_request_json_names_the_file() {
    let p = scratch_file("broken-request.json", "{\"principal\": ");
    let out = s3medic(&["explain", "-w", WORLD, "-r", p.to_str().unwrap_or_default()]);
    assert_error(&out, "broken-request.json");
}

#[test]
fn usage_errors_exit_1_not_2() {
    let out = s3medic(&["explain", "--no-such-flag"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn operations_lists_the_table() {
    let out = s3medic(&["operations", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["format_version"], 1);
    let rows = v["operations"].as_array().expect("array");
    assert!(rows.len() > 60);
    assert!(rows.iter().any(|r| r["operation"] == "ListObjectsV2"
        && r["action"] == "s3:ListBucket"
        && r["scope"] == "bucket"));
}

#[test]
fn every_bundled_example_request_evaluates() {
    let dir = root().join("examples/requests");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).expect("examples/requests") {
        let p = e.expect("entry").path();
        let rel = p
            .strip_prefix(root())
            .unwrap_or(Path::new("?"))
            .to_string_lossy()
            .into_owned();
        let out = s3medic(&["explain", "-w", WORLD, "-r", &rel, "-o", "json"]);
        assert!(
            matches!(out.status.code(), Some(0) | Some(2)),
            "{rel}: {}",
            text(&out.stderr)
        );
        n += 1;
    }
    assert!(n >= 3);
}

#[test]
fn a_closed_stdout_ends_quietly_without_a_panic() {
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_s3medic"))
        .args(["operations"])
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the s3medic binary runs");
    // Close the reading end before s3medic writes: its first write meets a broken pipe.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("s3medic ends");
    let err = text(&out.stderr);
    assert!(
        !err.contains("panicked"),
        "no panic on a closed pipe: {err}"
    );
    // Like any Unix filter: ended by SIGPIPE (13), quietly.
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(out.status.signal(), Some(13), "{:?}: {err}", out.status);
    assert!(err.is_empty(), "nothing on stderr: {err}");
}

#[test]
fn an_output_file_that_is_not_a_regular_file_is_refused() {
    let dir = scratch_dir("outdir");
    let out = s3medic(&[
        "plan",
        "-w",
        WORLD,
        "-r",
        "examples/requests/alice-get-report.json",
        "-o",
        path_str(&dir),
    ]);
    assert_fails_saying(&out, "not a regular file");
    assert!(dir.is_dir(), "the directory is left alone");
}

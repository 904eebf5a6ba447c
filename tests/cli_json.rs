//! `--output json` of every command is a versioned document: an object whose `format_version` is
//! 1 (docs/formats.md). Offline: `explain`, `plan`, `operations`, `playbooks`, `show`, `apply` (a
//! plan without changes); against a local moto server: `snapshot` and `rollback`.
//!
//! The moto part needs the moto server (`bash scripts/test.sh` installs it into .venv); never
//! skipped.

#[path = "common/cli.rs"]
mod cli;
#[path = "common/moto.rs"]
mod moto;

use std::process::Output;

use cli::{path_str, s3medic, scratch_dir, text};
use moto::{must, unique, Moto, ACCOUNT, REGION};
use serde_json::{json, Value};

/// The stdout of `out` as a JSON object with `format_version` 1 as its first key.
fn versioned(out: &Output, what: &str) -> Value {
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("{\n  \"format_version\": 1,"),
        "{what}: not a versioned object: {stdout}{}",
        text(&out.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{what}: not JSON: {e}"))
}

const WORLD: &str = "examples/worlds/cross-account.json";
const DENIED: &str = "examples/requests/alice-get-report.json";
const EXPLICIT_DENY: &str = "examples/requests/datareader-get-report-http.json";

#[test]
fn offline_commands_print_versioned_json() {
    let out = s3medic(&["explain", "-w", WORLD, "-r", DENIED, "--output", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let v = versioned(&out, "explain");
    assert_eq!(v["decision"], "implicit_deny");

    let out = s3medic(&["plan", "-w", WORLD, "-r", DENIED, "--output", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let v = versioned(&out, "plan");
    assert!(v["changes"].as_array().is_some_and(|c| c.len() == 2));

    let out = s3medic(&["operations", "--output", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let v = versioned(&out, "operations");
    assert!(v["operations"]
        .as_array()
        .is_some_and(|o| o.iter().any(|r| r["operation"] == "GetObject")));

    let out = s3medic(&["playbooks", "--output", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let v = versioned(&out, "playbooks");
    let list = v["playbooks"].as_array().expect("playbooks");
    assert!(list.iter().any(|p| p["id"] == "guardrail-deny"));

    let out = s3medic(&["playbooks", "show", "guardrail-deny", "--output", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let v = versioned(&out, "playbooks show");
    assert_eq!(v["id"], "guardrail-deny");
    assert_eq!(v["requires_flag"], "allow_guardrail_change");
}

#[test]
fn show_and_apply_print_versioned_json() {
    let dir = scratch_dir("apply");
    let file = dir.join("plan.json");
    let out = s3medic(&[
        "plan",
        "-w",
        WORLD,
        "-r",
        EXPLICIT_DENY,
        "-o",
        path_str(&file),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));

    let out = s3medic(&["show", path_str(&file), "--output", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let v = versioned(&out, "show");
    assert_eq!(v["decision_before"], "explicit_deny");

    // No changes: `apply` reports without connecting to AWS.
    let out = s3medic(&["apply", path_str(&file), "--output", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v = versioned(&out, "apply");
    assert_eq!(v["status"], "nothing_to_change");
    assert!(v["plan_id"]
        .as_str()
        .is_some_and(|p| p.starts_with("sha256:")));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn snapshot_and_rollback_print_versioned_json() {
    let moto = Moto::start();
    let s3 = moto.s3().await;
    let bucket = unique("json-report");
    must(
        s3.create_bucket().bucket(&bucket).send().await,
        "CreateBucket",
    );
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "Read", "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
            "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{bucket}/*")}]
    });
    must(
        s3.put_bucket_policy()
            .bucket(&bucket)
            .policy(policy.to_string())
            .send()
            .await,
        "PutBucketPolicy",
    );
    let dir = scratch_dir("snapshot");
    let world = dir.join("world.json");
    let out = moto
        .s3medic()
        .args(["snapshot", "--bucket", &bucket, "-o"])
        .arg(&world)
        .args(["--output", "json", "--endpoint-url", &moto.endpoint])
        .args(["--region", REGION])
        .output()
        .expect("s3medic snapshot runs");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v = versioned(&out, "snapshot");
    assert_eq!(v["world_file"], path_str(&world));
    assert_eq!(v["bucket"], bucket.as_str());
    assert!(v["calls"].as_u64().is_some_and(|n| n > 0), "{v}");
    assert!(v["unknown"].is_array(), "{v}");
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(&world).expect("world written"))
            .expect("world JSON");
    assert!(written["buckets"]
        .as_array()
        .is_some_and(|b| b.iter().any(|b| b["name"] == bucket.as_str())));

    // A snapshot whose only resource already has its saved state: nothing to restore.
    let snap = dir.join("snapshot.json");
    std::fs::write(
        &snap,
        json!({
            "format_version": 2,
            "plan_id": "sha256:0",
            "created_at": "2026-01-02T03:04:05Z",
            "entries": [{
                "change": "c1",
                "target": {"type": "bucket_policy", "bucket": bucket},
                "account": ACCOUNT,
                "resource": format!("arn:aws:s3:::{bucket}"),
                "document": policy,
            }]
        })
        .to_string(),
    )
    .expect("write snapshot");
    let out = moto
        .s3medic()
        .arg("rollback")
        .arg(&snap)
        .args([
            "--yes",
            "--output",
            "json",
            "--endpoint-url",
            &moto.endpoint,
        ])
        .args(["--region", REGION])
        .output()
        .expect("s3medic rollback runs");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v = versioned(&out, "rollback");
    assert_eq!(v["status"], "nothing_to_restore", "{v}");
    assert_eq!(v["unchanged"], json!(["c1"]), "{v}");
    let _ = std::fs::remove_dir_all(&dir);
}

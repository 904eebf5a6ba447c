//! Live fault injection and terminal tests against a local moto server. A small forwarding proxy
//! (tests/common/proxy.rs) sits between `s3medic` and moto and answers chosen requests itself:
//! throttling (503 SlowDown) is retried and the part is read; a read refused with 403 AccessDenied
//! becomes an unknown part naming the permission (never absent) and the plan lists it among its
//! unknowns; a connection reset on every attempt of the second write of `apply` makes it fail and
//! undo the first write; the same reset after a customer managed policy was written puts the
//! policy's versions back exactly (the original default again, apply's version deleted, the
//! version deleted to make room recreated). Setup always goes to moto directly; only `s3medic`
//! talks to the proxy.
//! Also the confirmation prompt of `apply` on a real (pseudo-)terminal: "n" writes nothing and
//! exits 3, "y" applies.
//!
//! Each test starts its own moto server and proxy. Needs the moto server (`bash scripts/test.sh`
//! installs it into .venv) and python3 (for the pseudo-terminal); never skipped.

#[path = "common/live.rs"]
mod live;
#[path = "common/managed_policy.rs"]
mod managed_policy;
#[path = "common/moto.rs"]
mod moto;
#[path = "common/proxy.rs"]
mod proxy;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use moto::{create_bucket, policy, put_bucket_policy, unique, Moto};
use proxy::{Canned, Outcome, Proxy, Rule};
use s3medic::world::{Part, World};
use serde_json::{json, Value};

use live::*;

/// A proxy in front of moto that closes the connection of every attempt (3 by default) of
/// PutKeyPolicy unanswered.
fn resetting_put_key_policy(moto: &Moto) -> Proxy {
    let rule = Rule::new(Canned::Reset)
        .method("POST")
        .header_contains("X-Amz-Target", "TrentService.PutKeyPolicy")
        .times(3);
    Proxy::start(&moto.endpoint, vec![rule])
}

/// `apply --yes` through `proxy` (resetting PutKeyPolicy): exit 1, PutKeyPolicy attempted 3 times,
/// no undo failure. The report.
fn apply_through_resets(moto: &Moto, proxy: &Proxy, plan: &Path, snapshots: &Path) -> Value {
    let r = apply_via(moto, &proxy.endpoint, plan, snapshots, &["--yes"]);
    r.expect_code(1, "apply whose key policy write is reset");
    let report = r.json("apply report");
    assert_eq!(
        proxy.matched(0),
        3,
        "PutKeyPolicy was attempted 3 times (default max attempts), each reset:\n{}",
        proxy.log_text()
    );
    assert!(
        report["undo_failures"]
            .as_array()
            .is_none_or(|a| a.is_empty()),
        "{report:#}"
    );
    report
}

/// `s3medic snapshot --bucket B -o out` against `endpoint`.
fn snapshot(moto: &Moto, endpoint: &str, bucket: &str, out: &Path) -> Run {
    let mut c = moto.s3medic();
    c.args(["snapshot", "--bucket", bucket])
        .args(endpoint_flags(endpoint))
        .arg("-o")
        .arg(out);
    run(c, "s3medic snapshot")
}

fn load_world(path: &Path) -> World {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("snapshot {} not written: {e}", path.display()));
    World::from_json_str(&text).unwrap_or_else(|e| panic!("snapshot does not load: {e}\n{text}"))
}

/// A bucket policy that grants bob nothing (BUCKET is replaced by the bucket name). moto ignores
/// the Principal of a Deny: deny only an action neither the setup nor the collector uses.
fn sample_bucket_policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DenyInsecureDelete",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:DeleteObject",
            "Resource": "arn:aws:s3:::BUCKET/*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}
        }]
    })
}

/// GetBucketPolicy of `bucket` (path-style: `GET /BUCKET?policy`).
fn get_bucket_policy_rule(bucket: &str, response: Canned) -> Rule {
    Rule::new(response)
        .method("GET")
        .path_contains(format!("/{bucket}"))
        .query_contains("policy")
}

#[tokio::test]
async fn throttling_is_retried() {
    let moto = Moto::start();
    let s3 = moto.s3().await;
    let bucket = unique("live-throttle");
    create_bucket(&s3, &bucket).await;
    let set = serde_json::from_str::<Value>(
        &sample_bucket_policy()
            .to_string()
            .replace("BUCKET", &bucket),
    )
    .unwrap();
    put_bucket_policy(&s3, &bucket, &set).await;

    let rule = get_bucket_policy_rule(&bucket, Canned::slow_down()).times(2);
    let proxy = Proxy::start(&moto.endpoint, vec![rule.clone()]);
    let dir = scratch("s3medic-live-faults");
    let out = dir.join("w.json");
    // Default max attempts (3): two throttled answers, then the real one.
    let r = snapshot(&moto, &proxy.endpoint, &bucket, &out);
    r.expect_code(0, "snapshot through a throttling proxy");

    assert_eq!(
        proxy.matched(0),
        2,
        "the proxy throttled two attempts:\n{}",
        proxy.log_text()
    );
    let seen = proxy.seen_matching(&rule);
    let outcomes: Vec<&Outcome> = seen.iter().map(|s| &s.outcome).collect();
    assert_eq!(
        outcomes,
        vec![
            &Outcome::Rule(0),
            &Outcome::Rule(0),
            &Outcome::Forwarded(200)
        ],
        "GetBucketPolicy: throttled twice, then read from moto (3 attempts):\n{}",
        proxy.log_text()
    );

    let w = load_world(&out);
    let b = w.bucket(&bucket).expect("bucket in the World");
    assert_eq!(
        b.policy,
        Part::Known(policy(&set)),
        "the throttled bucket policy is read after retrying\nstderr:\n{}",
        r.stderr
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn unreadable_resource_is_unknown_and_the_plan_says_so() {
    let moto = Moto::start();
    let b = set_up_broken(&moto, false, Some(&sample_bucket_policy())).await;
    let rule = get_bucket_policy_rule(&b.bucket, Canned::access_denied());
    let proxy = Proxy::start(&moto.endpoint, vec![rule.clone()]);
    let dir = scratch("s3medic-live-faults");

    // Snapshot: the bucket policy exists but cannot be read: unknown naming the permission.
    let out = dir.join("w.json");
    let r = snapshot(&moto, &proxy.endpoint, &b.bucket, &out);
    r.expect_code(0, "snapshot with GetBucketPolicy denied");
    assert_eq!(
        proxy.matched(0),
        1,
        "AccessDenied is not retried:\n{}",
        proxy.log_text()
    );
    let raw = read_json(&out);
    let w = load_world(&out);
    let bucket = w.bucket(&b.bucket).expect("bucket in the World");
    match &bucket.policy {
        Part::Unknown(why) => assert!(
            why.contains("s3:GetBucketPolicy"),
            "the unknown names the permission s3:GetBucketPolicy: {why:?}"
        ),
        other => panic!(
            "a bucket policy that could not be read must be unknown, got {other:?}\nstderr:\n{}",
            r.stderr
        ),
    }
    let raw_bucket = raw["buckets"]
        .as_array()
        .and_then(|bs| bs.iter().find(|x| x["name"] == b.bucket.as_str()))
        .unwrap_or_else(|| panic!("bucket in the snapshot JSON: {raw:#}"));
    assert!(
        raw_bucket["policy"]["unknown"]
            .as_str()
            .is_some_and(|s| s.contains("s3:GetBucketPolicy")),
        "snapshot JSON: policy is {{\"unknown\": …}}: {raw_bucket:#}"
    );
    assert!(
        r.stderr.contains("s3:GetBucketPolicy") || r.stderr.contains("policy"),
        "snapshot says on stderr what it could not read:\n{}",
        r.stderr
    );

    // Plan: the unknown bucket policy is listed among the plan's unknowns.
    let plan_path = dir.join("plan.json");
    let p = plan_live_via(&moto, &proxy.endpoint, &request_flags(&b), Some(&plan_path));
    // bob still lacks s3:GetObject: changes are planned (exit 2) despite the unknown.
    p.expect_code(2, "plan --live with an unreadable bucket policy");
    let plan = p.json("plan --live --output json");
    let unknowns: Vec<&str> = plan["unknowns"]
        .as_array()
        .unwrap_or_else(|| panic!("plan has no `unknowns` array: {plan:#}"))
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        unknowns.iter().any(|u| u.contains("bucket policy")
            && u.contains(&b.bucket)
            && u.contains("s3:GetBucketPolicy")),
        "the plan's unknowns name the unreadable bucket policy of `{}`: {unknowns:#?}\nexit {:?}",
        b.bucket,
        p.code
    );
    assert!(proxy.matched(0) >= 2, "plan read through the proxy");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn connection_reset_mid_apply_rolls_back() {
    let moto = Moto::start();
    let b = set_up_broken(&moto, true, None).await;
    assert!(b.kms.is_some(), "kms case");
    let dir = scratch("s3medic-live-faults");
    let plan_path = dir.join("plan.json");
    // Planned against moto directly.
    let plan = plan_file(&moto, &request_flags(&b), &plan_path, 2);
    let changes = changes_on(&plan, &["inline_policy", "key_policy"], "change targets");
    let inline_id = changes[0]["id"].as_str().unwrap().to_string();
    let key_id = changes[1]["id"].as_str().unwrap().to_string();

    // Every attempt of PutKeyPolicy (3 by default) has its connection closed unanswered.
    let proxy = resetting_put_key_policy(&moto);
    let report = apply_through_resets(&moto, &proxy, &plan_path, &dir.join("snapshots"));
    if let Some(failed) = report.get("failed_change").filter(|v| !v.is_null()) {
        assert_eq!(failed, key_id.as_str(), "{report:#}");
    }
    assert_eq!(
        ids_in(&report, "undone"),
        vec![inline_id.clone()],
        "the inline policy write is undone: {report:#}"
    );

    // moto holds the originals.
    assert_as_set_up(&moto, &b, &Value::Null).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn connection_reset_after_a_managed_policy_write_restores_its_versions() {
    use managed_policy::{
        default_version, managed_request_flags, policy_versions, set_up_managed_deny,
    };
    let moto = Moto::start();
    // Five versions (v5 the default) and an SSE-KMS object whose key policy does not name bob.
    let c = set_up_managed_deny(&moto, 4, true).await;
    let (key_arn, original_key_policy) = c.kms.clone().expect("kms case");
    let dir = scratch("s3medic-live-faults");
    let plan_path = dir.join("plan.json");
    let plan = plan_file(&moto, &managed_request_flags(&c), &plan_path, 2);
    changes_on(&plan, &["managed_policy", "key_policy"], "change targets");
    let managed_id = plan["changes"][0]["id"].as_str().unwrap().to_string();

    // Every attempt of PutKeyPolicy (written after the managed policy) is reset.
    let proxy = resetting_put_key_policy(&moto);
    let report = apply_through_resets(&moto, &proxy, &plan_path, &dir.join("snapshots"));
    assert_eq!(report["undone"], json!([managed_id]), "{report:#}");
    assert!(
        report["notes"].to_string().contains("recreated as `v7`"),
        "{report:#}"
    );

    // The versions are as before apply, except that v1 (deleted to make room) is back as v7.
    assert_eq!(default_version(&moto, &c.policy_arn).await, "v5");
    let versions = policy_versions(&moto, &c.policy_arn).await;
    let ids: Vec<&str> = versions.iter().map(|(id, _, _)| id.as_str()).collect();
    assert_eq!(ids, ["v2", "v3", "v4", "v5", "v7"], "v6 (apply's) is gone");
    assert_eq!(policy(&versions[4].2), policy(&c.versions[0].1));
    for (i, (_, _, doc)) in versions.iter().take(4).enumerate() {
        assert_eq!(doc, &c.versions[i + 1].1);
    }
    assert_eq!(key_policy(&moto, &key_arn).await, original_key_policy);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs `argv` in a new session on a pseudo-terminal (stdin, stderr and the controlling terminal;
/// stdout goes to `stdout_file`), waits for the confirmation prompt, types `answer`, and exits with
/// the child's exit code (97: timeout, 98: killed by a signal, 99: no prompt). The terminal
/// transcript is written to stderr.
const PTY_SCRIPT: &str = r#"
import os, pty, select, signal, sys, time
out_path, answer, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    o = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(o, 1)
    os.execv(argv[0], argv)
buf = b""
sent = False
deadline = time.time() + 60
prompt_at = None
status = None
while True:
    if time.time() > deadline:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        sys.stderr.write(buf.decode("utf-8", "replace"))
        sys.exit(97 if sent else 99)
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try:
            data = os.read(fd, 4096)
        except OSError:
            data = b""
        if not data:
            break
        buf += data
    if not sent:
        if prompt_at is None and (b"[y/N]" in buf or b"Apply these changes?" in buf):
            prompt_at = time.time()
        if prompt_at is not None and time.time() - prompt_at > 0.3:
            os.write(fd, answer.encode())
            sent = True
    else:
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = st
            # Drain what is left.
            try:
                while True:
                    r, _, _ = select.select([fd], [], [], 0.1)
                    if not r:
                        break
                    data = os.read(fd, 4096)
                    if not data:
                        break
                    buf += data
            except OSError:
                pass
            break
if status is None:
    _, status = os.waitpid(pid, 0)
sys.stderr.write(buf.decode("utf-8", "replace"))
if not sent:
    sys.exit(99)
if os.WIFEXITED(status):
    sys.exit(os.WEXITSTATUS(status))
sys.exit(98)
"#;

/// `s3medic apply PLAN` (no `--yes`) on a pseudo-terminal, answering `answer`: the exit code, the
/// report (stdout) and the terminal transcript.
fn apply_on_pty(moto: &Moto, plan: &Path, snapshots: &Path, answer: &str) -> Run {
    let stdout_file = snapshots.with_extension("stdout");
    let template = moto.s3medic();
    let mut c = Command::new("python3");
    for (k, v) in template.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    c.env("TERM", "xterm");
    c.arg("-c")
        .arg(PTY_SCRIPT)
        .arg(&stdout_file)
        .arg(answer)
        .arg(template.get_program())
        .arg("apply")
        .arg(plan)
        .arg("--snapshot-dir")
        .arg(snapshots)
        .args(["--output", "json"])
        .args(endpoint_flags(&moto.endpoint));
    let o = c
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run python3 for the pseudo-terminal: {e}"));
    Run {
        code: o.status.code(),
        stdout: std::fs::read_to_string(&stdout_file).unwrap_or_default(),
        // The terminal transcript (the prompt, the diffs) and python's own errors.
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// A one-change plan (bob's inline grant), made against moto directly.
async fn identity_plan(moto: &Moto, dir: &Path) -> (Broken, PathBuf, Value) {
    let b = set_up_broken(moto, false, None).await;
    let plan_path = dir.join("plan.json");
    let plan = plan_file(moto, &request_flags(&b), &plan_path, 2);
    let changes = plan["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 1, "{plan:#}");
    assert_eq!(changes[0]["target"]["policy_name"], GRANTS, "{plan:#}");
    (b, plan_path, plan)
}

#[tokio::test]
async fn interactive_no_writes_nothing() {
    let moto = Moto::start();
    let dir = scratch("s3medic-live-faults");
    let (b, plan_path, _plan) = identity_plan(&moto, &dir).await;

    let r = apply_on_pty(&moto, &plan_path, &dir.join("snapshots"), "n\n");
    r.expect_code(3, "apply on a terminal, answered n");
    assert!(
        r.stderr.contains("Apply these changes?"),
        "the prompt was shown on the terminal:\n{}",
        r.stderr
    );
    let report = r.json("apply report");
    assert!(
        report["applied"].as_array().is_none_or(|a| a.is_empty()),
        "nothing applied: {report:#}"
    );
    assert!(
        report["error"]
            .as_str()
            .is_some_and(|e| e.contains("declined")),
        "the report says it was declined: {report:#}"
    );
    assert_as_set_up(&moto, &b, &Value::Null).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn interactive_yes_applies() {
    let moto = Moto::start();
    let dir = scratch("s3medic-live-faults");
    let (b, plan_path, plan) = identity_plan(&moto, &dir).await;

    let r = apply_on_pty(&moto, &plan_path, &dir.join("snapshots"), "y\n");
    r.expect_code(0, "apply on a terminal, answered y");
    assert!(
        r.stderr.contains("Apply these changes?"),
        "the prompt was shown on the terminal:\n{}",
        r.stderr
    );
    let report = r.json("apply report");
    let applied: Vec<&str> = report["applied"]
        .as_array()
        .unwrap_or_else(|| panic!("no `applied`: {report:#}"))
        .iter()
        .filter_map(|v| v.as_str().or_else(|| v["id"].as_str()))
        .collect();
    assert_eq!(applied, vec![plan["changes"][0]["id"].as_str().unwrap()]);
    let stored = user_policy(&moto, &b.user_name, GRANTS).await;
    assert!(!stored.is_null(), "the inline policy is stored");
    assert_eq!(policy(&stored), policy(&plan["changes"][0]["after"]));
    let _ = std::fs::remove_dir_all(&dir);
}

//! `s3medic plan --targets` errors that need no AWS: a bad targets file exits 1 with a message
//! naming the file, the line, the entry and the field; flags that do not go with `--targets`, a
//! bad `--shard`, and a used output directory are refused before anything is read. One test runs
//! against moto: the account of a principal, listed without `buckets`, is read.

#[path = "common/cli.rs"]
mod cli;
#[path = "common/moto.rs"]
mod moto;

use cli::{assert_fails_saying, s3medic, scratch_dir, text};

const GOOD: &str = "[[account]]\nid = \"111122223333\"\nbuckets = [\"b-one\"]\n\n[[request]]\nprincipal = \"anonymous\"\noperation = \"GetObject\"\nkey = \"k\"\n";

#[test]
fn a_bad_targets_file_names_file_line_entry_and_field() {
    let dir = scratch_dir("bad");
    let f = dir.join("targets.toml");
    std::fs::write(
        &f,
        "[[account]]\nid = \"111122223333\"\nbuckets = [\"b-one\"]\n\n[[request]]\nprincipal = \"anonymous\"\noperation = \"GetObject\"\nkey = \"k\"\nprefix = \"p/\"\n",
    )
    .expect("write");
    let o = s3medic(&["plan", "--targets", f.to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(1));
    let e = text(&o.stderr);
    assert!(
        e.contains(&format!(
            "targets file `{}`, line 9: request 1: `prefix`: give `key` or `prefix`, not both",
            f.display()
        )),
        "{e}"
    );
    assert!(o.stdout.is_empty(), "nothing on stdout");
    let missing = s3medic(&["plan", "--targets", "/nonexistent/targets.toml"]);
    assert_fails_saying(&missing, "cannot read targets file");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn flags_that_do_not_go_with_targets_are_refused() {
    let dir = scratch_dir("flags");
    let f = dir.join("targets.toml");
    std::fs::write(&f, GOOD).expect("write");
    let t = f.to_str().expect("utf-8");
    for (extra, want) in [
        (vec!["--bucket", "b"], "cannot be used with"),
        (vec!["--world", "w.json"], "cannot be used with"),
        (vec!["--shard", "4/3"], "is not a shard"),
        (vec!["--shard", "0/3"], "is not a shard"),
        (vec!["--concurrency", "0"], "0"),
        (
            vec!["--role-arn", "arn:aws:iam::111122223333:role/r"],
            "give each account its `role_arn`",
        ),
        (
            vec![
                "--account-role",
                "111122223333=arn:aws:iam::111122223333:role/r",
            ],
            "do not go with `--targets`",
        ),
    ] {
        let mut args = vec!["plan", "--targets", t];
        args.extend(extra.iter().copied());
        let o = s3medic(&args);
        assert_eq!(o.status.code(), Some(1), "{extra:?}: {}", text(&o.stderr));
        assert!(
            text(&o.stderr).contains(want),
            "{extra:?}: {}",
            text(&o.stderr)
        );
    }
    // The bulk flags need `--targets`.
    let o = s3medic(&[
        "plan",
        "--shard",
        "1/2",
        "--world",
        "w.json",
        "--principal",
        "anonymous",
    ]);
    assert_fails_saying(&o, "--targets");
    // A used output directory is refused before anything is read.
    let used = dir.join("out");
    std::fs::create_dir_all(&used).expect("dir");
    std::fs::write(used.join("results.jsonl"), "").expect("write");
    let o = s3medic(&[
        "plan",
        "--targets",
        t,
        "--output-dir",
        used.to_str().expect("utf-8"),
    ]);
    assert_fails_saying(&o, "is not empty");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_cloudtrail_flag_gives_the_requests_and_an_unreachable_account_is_an_error_line() {
    let dir = scratch_dir("trail");
    let f = dir.join("targets.toml");
    // No `[[request]]`: the trail gives them. The endpoint is a closed port.
    let port = moto::free_port();
    std::fs::write(
        &f,
        format!(
            "[[account]]\nid = \"111122223333\"\nendpoint_url = \"http://127.0.0.1:{port}\"\nmax_attempts = 1\nbuckets = [\"other\"]\n"
        ),
    )
    .expect("write");
    let trail = dir.join("trail.json");
    let event = serde_json::json!({"Records": [{
        "eventVersion": "1.09", "eventSource": "s3.amazonaws.com", "eventName": "GetObject",
        "eventTime": "2026-11-20T10:00:00Z", "requestID": "r1", "eventID": "e1",
        "errorCode": "AccessDenied", "sourceIPAddress": "203.0.113.7",
        "recipientAccountId": "111122223333",
        "userIdentity": {"type": "IAMUser", "accountId": "111122223333",
                         "arn": "arn:aws:iam::111122223333:user/bob"},
        "requestParameters": {"bucketName": "reports", "key": "q1.csv"}}]});
    std::fs::write(&trail, event.to_string()).expect("write trail");
    let o = moto::isolated_s3medic()
        .args(["plan", "--targets"])
        .arg(&f)
        .arg("--cloudtrail")
        .arg(&trail)
        .output()
        .expect("run");
    assert_fails_saying(&o, "1 request(s) to check");
    let stdout = text(&o.stdout);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    // The trail's bucket joined the account's buckets; `other` has no request.
    assert_eq!(lines.len(), 2, "{stdout}");
    assert_eq!(lines[0]["bucket"], "reports");
    assert_eq!(lines[0]["request"], "cloudtrail-1");
    assert_eq!(lines[0]["status"], "error");
    assert_eq!(lines[0]["evaluated"]["key"], "q1.csv");
    assert!(
        lines[0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("cannot connect")),
        "{stdout}"
    );
    assert_eq!(lines[1]["type"], "summary");
    assert_eq!(lines[1]["accounts_failed"], 1);
    assert_eq!(lines[1]["exit_code"], 1);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A principal of an account the targets file does not list is unknown, and the reason says to
/// add an account entry (not `--account-role`, which `--targets` refuses); an entry without
/// `buckets` is enough for its IAM data, Block Public Access and organization to be read (the
/// principal is the account itself, so that it exists on both runs).
#[tokio::test]
async fn a_principals_account_needs_an_entry_without_buckets() {
    let moto = moto::Moto::start();
    let bucket = moto::unique("gaps-home");
    moto::must(
        moto.s3().await.create_bucket().bucket(&bucket).send().await,
        "CreateBucket",
    );
    let other = "210987654321";
    let dir = scratch_dir("principal-account");
    let f = dir.join("targets.toml");
    let base = format!(
        "[defaults]\nendpoint_url = \"{}\"\nmax_attempts = 2\n\n[[account]]\nid = \"{}\"\nbuckets = [\"{bucket}\"]\n\n[[request]]\nname = \"other\"\nprincipal = \"{other}\"\noperation = \"GetObject\"\nkey = \"k\"\n",
        moto.endpoint,
        moto::ACCOUNT
    );
    let run = |toml: &str| {
        std::fs::write(&f, toml).expect("write");
        let o = moto::isolated_s3medic()
            .args(["plan", "--targets"])
            .arg(&f)
            .output()
            .expect("run");
        let stdout = text(&o.stdout);
        let lines: Vec<serde_json::Value> = stdout
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON line"))
            .collect();
        assert_eq!(
            lines.len(),
            2,
            "one target and the summary: {stdout}{}",
            text(&o.stderr)
        );
        assert_eq!(lines[0]["request"], "other", "{stdout}");
        assert_ne!(lines[0]["status"], "error", "{stdout}");
        let unknowns: Vec<String> = lines[0]["unknowns"]
            .as_array()
            .expect("unknowns")
            .iter()
            .filter_map(|u| u.as_str().map(str::to_string))
            .filter(|u| u.contains(other))
            .collect();
        (unknowns, lines[1].clone())
    };

    let (unknowns, summary) = run(&base);
    assert!(!unknowns.is_empty(), "account {other} is unknown");
    for u in &unknowns {
        assert!(
            u.contains(&format!("account {other} is not in the targets file (add an `[[account]]` entry with `id = \"{other}\"`")),
            "{u}"
        );
        assert!(!u.contains("--account-role"), "{u}");
    }
    assert_eq!(summary["accounts"], 1, "{summary}");

    // The principal's account listed without `buckets` (moto acts in the account of the role).
    let (unknowns, summary) = run(&format!(
        "{base}\n[[account]]\nid = \"{other}\"\nrole_arn = \"arn:aws:iam::{other}:role/s3medic-audit\"\n"
    ));
    assert_eq!(unknowns, Vec::<String>::new(), "account {other} was read");
    assert_eq!(
        (
            summary["accounts"].as_u64(),
            summary["accounts_failed"].as_u64(),
            summary["buckets"].as_u64()
        ),
        (Some(2), Some(0), Some(1)),
        "{summary}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

//! Live tests of bulk planning (`plan --targets`) and of `apply` of several plans, against a local
//! moto server.
//!
//! `three_accounts_three_shards`: three accounts of 100 buckets each — moto switches to another
//! account when a role ARN of that account is assumed, so the second and third accounts are
//! reached through `role_arn` (the third also with an `external_id` and named buckets, the first
//! two with `*`, i.e. ListBuckets) — plus a fourth account whose endpoint is a closed port. In
//! every account, role `reader` may read the objects of the `-g-` buckets; a fifth of the buckets
//! also deny it in their bucket policy (`manual`: the fix needs `--allow-deny-change`) and a fifth
//! are not covered by its policy at all (`planned`: an identity grant). Three runners with `--shard
//! 1/3`, `2/3`, `3/3` run at once: together they report every bucket exactly once, in the shard the
//! documented hash gives; exactly the broken buckets get plan files; the unreachable account is
//! one error line, and the rest finish.
//!
//! `results_on_stdout_from_a_json_targets_file`: the JSON form of the targets file, the JSON
//! Lines on stdout, a list prefix, a key under a prefix, and a CloudTrail file as a source of
//! requests.
//!
//! `apply_a_directory_with_one_stale_plan`: three plans written by `plan --targets --output-dir`,
//! one made stale: `apply DIR` without a terminal and without `--yes` writes nothing; with
//! `--yes` the stale one is refused and the other two are applied (exit 3).
//!
//! `principal_of_another_account_of_the_targets_file`: a role in one account of the targets file
//! reads buckets of another: its IAM data is read with its own account's credentials, so buckets
//! whose policy grants it are `ok`, the others get only the bucket-policy change, and a bucket
//! its identity policy does not cover gets only the identity change in its own account.
//!
//! `cloudtrail_caller_named_only_by_account_is_resolved_per_bucket`: CloudTrail events whose
//! caller is named only by its account (`AWSAccount`) and principal id, the account listed in the
//! targets file without buckets: a `ROLEID:SESSION` of a role of that account is planned as the
//! role session (looked up in that account's IAM data, read with its own credentials), an id no
//! user or role has stays the account, and each result line's `notes` says which.
//!
//! Needs the moto server (`bash scripts/test.sh` installs it into .venv); never skipped.

#[path = "common/live.rs"]
mod live;
#[path = "common/moto.rs"]
mod moto;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use aws_config::SdkConfig;
use aws_sdk_s3::primitives::ByteStream;
use moto::{must, put_user_policy, s3_of, unique, Moto, ACCOUNT};
use serde_json::{json, Value};

use live::*;
use s3medic::bulk::shard::shard_of;

const A1: &str = "111111111111";
const A2: &str = "222222222222";
const DOWN: &str = "333333333333";
const PER_ACCOUNT: usize = 100;

/// The kind of a test bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Granted by the reader's identity policy: `ok`.
    Healthy,
    /// Granted, but the bucket policy denies the reader: `manual` (bucket-policy-deny).
    Denied,
    /// Not granted: `planned` (identity-missing-allow).
    Missing,
}

fn kind_of(i: usize) -> Kind {
    match i % 5 {
        3 => Kind::Denied,
        4 => Kind::Missing,
        _ => Kind::Healthy,
    }
}

/// SDK configuration acting in `account`: moto starts a session in the account of the role ARN
/// it is asked to assume (the role need not exist).
async fn config_in(moto: &Moto, account: &str) -> SdkConfig {
    if account == ACCOUNT {
        return moto.sdk_config().await;
    }
    moto::config_in(moto, account, "setup", "setup").await
}

/// Creates role `reader` (allowed to read `-g-` buckets) and `PER_ACCOUNT` buckets in `account`;
/// returns bucket name → kind.
async fn set_up_account(moto: &Moto, tag: &str, account: &str) -> BTreeMap<String, Kind> {
    let config = config_in(moto, account).await;
    let iam = aws_sdk_iam::Client::new(&config);
    let s3 = s3_of(&config);
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{account}:root")}, "Action": "sts:AssumeRole"}]});
    must(
        iam.create_role()
            .role_name("reader")
            .assume_role_policy_document(trust.to_string())
            .send()
            .await,
        "CreateRole reader",
    );
    let read = json!({"Version": "2012-10-17", "Statement": [{"Sid": "ReadGranted", "Effect": "Allow",
        "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{tag}-*-g-*/*")}]});
    must(
        iam.put_role_policy()
            .role_name("reader")
            .policy_name("read")
            .policy_document(read.to_string())
            .send()
            .await,
        "PutRolePolicy",
    );
    let short = &account[..3];
    let buckets: BTreeMap<String, Kind> = (0..PER_ACCOUNT)
        .map(|i| {
            let k = kind_of(i);
            let mark = match k {
                Kind::Healthy => "g-h",
                Kind::Denied => "g-d",
                Kind::Missing => "n",
            };
            (format!("{tag}-{short}-{mark}-{i:03}"), k)
        })
        .collect();
    let mut set = tokio::task::JoinSet::new();
    for (name, kind) in buckets.clone() {
        let s3 = s3.clone();
        let account = account.to_string();
        set.spawn(async move {
            must(
                s3.create_bucket().bucket(&name).send().await,
                "CreateBucket",
            );
            if kind == Kind::Denied {
                let deny = json!({"Version": "2012-10-17", "Statement": [{"Sid": "DenyReader",
                    "Effect": "Deny", "Principal": {"AWS": format!("arn:aws:iam::{account}:role/reader")},
                    "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{name}/*")}]});
                must(
                    s3.put_bucket_policy()
                        .bucket(&name)
                        .policy(deny.to_string())
                        .send()
                        .await,
                    "PutBucketPolicy",
                );
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r.expect("setup task");
    }
    buckets
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// `s3medic plan --targets FILE ARGS… --endpoint-url … --region …`.
fn plan_targets(moto: &Moto, targets: &Path, args: &[&str]) -> Run {
    let mut c = moto.s3medic();
    c.arg("plan")
        .arg("--targets")
        .arg(targets)
        .args(args)
        .args(endpoint_flags(&moto.endpoint));
    run(c, "s3medic plan --targets")
}

/// How many requests moto has answered so far (its log has one line per request; the health
/// checks of `Moto::start` are not counted).
fn moto_requests(moto: &Moto) -> usize {
    std::fs::read_to_string(&moto.log)
        .expect("moto log")
        .lines()
        .filter(|l| l.contains(" HTTP/1.1\" ") && !l.contains("/moto-api/"))
        .count()
}

/// The JSON lines of a text (every line must be JSON).
fn lines(text: &str, what: &str) -> Vec<Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("{what}: line is not JSON ({e}): {l}"))
        })
        .collect()
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_accounts_three_shards() {
    let moto = Moto::start();
    let tag = unique("bk");
    let started = Instant::now();
    let mut expected: BTreeMap<(String, String), Kind> = BTreeMap::new();
    for account in [ACCOUNT, A1, A2] {
        for (b, k) in set_up_account(&moto, &tag, account).await {
            expected.insert((account.to_string(), b), k);
        }
    }
    let setup = started.elapsed();
    assert_eq!(expected.len(), 3 * PER_ACCOUNT);

    let dir = scratch("s3medic-live-bulk");
    let a2_names: Vec<String> = expected
        .keys()
        .filter(|(a, _)| a == A2)
        .map(|(_, b)| format!("\"{b}\""))
        .collect();
    let toml = format!(
        r#"# three reachable accounts and one that is not
[defaults]
max_attempts = 2

[[account]]
id = "{ACCOUNT}"
buckets = ["*"]

[[account]]
id = "{A1}"
role_arn = "arn:aws:iam::{A1}:role/s3medic-audit"
buckets = ["*"]

[[account]]
id = "{A2}"
role_arn = "arn:aws:iam::{A2}:role/s3medic-audit"
external_id = "bulk-test"
buckets = [{names}]

[[account]]
id = "{DOWN}"
endpoint_url = "http://127.0.0.1:{port}"
max_attempts = 1
buckets = ["*"]

[[request]]
name = "reader-get"
principal = "arn:aws:iam::{{account}}:role/reader"
operation = "GetObject"
prefix = "data/"
"#,
        names = a2_names.join(", "),
        port = closed_port(),
    );
    let targets = dir.join("targets.toml");
    std::fs::write(&targets, toml).expect("write targets");

    // Three runners at once, one shard each.
    let requests_before = moto_requests(&moto);
    let ran = Instant::now();
    let runs: Vec<(u32, PathBuf, Run)> = std::thread::scope(|sc| {
        let handles: Vec<_> = (1..=3u32)
            .map(|k| {
                let out = dir.join(format!("shard-{k}"));
                let (moto, targets) = (&moto, &targets);
                sc.spawn(move || {
                    let shard = format!("{k}/3");
                    let r = plan_targets(
                        moto,
                        targets,
                        &[
                            "--shard",
                            &shard,
                            "--output-dir",
                            out.to_str().expect("utf-8 path"),
                            "--concurrency",
                            "6",
                            "--per-account",
                            "3",
                        ],
                    );
                    (k, out, r)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("runner thread"))
            .collect()
    });
    let run_time = ran.elapsed();
    let requests = moto_requests(&moto) - requests_before;
    eprintln!(
        "live_bulk: setup of {} buckets in 3 accounts: {:.1} s; three shard runners at once: {:.1} s, {requests} requests to moto ({:.1} per bucket)",
        expected.len(),
        setup.as_secs_f64(),
        run_time.as_secs_f64(),
        requests as f64 / expected.len() as f64,
    );
    // A bucket costs its own reads (GetBucketLocation and the bucket's parts, 8 on moto); the
    // account-level reads (IAM authorization details, ListBuckets, Block Public Access,
    // organization, CloudFront listings: 7 a collection before they were shared) are made once per
    // account and runner.
    assert!(
        requests < 10 * expected.len(),
        "{requests} requests for {} buckets: account-level reads are shared",
        expected.len()
    );

    let mut seen: BTreeMap<(String, String), u32> = BTreeMap::new();
    let mut down_errors = 0;
    let mut plan_files = 0;
    for (k, out, r) in &runs {
        let what = format!("shard {k}/3");
        // stdout: the summary line only; results.jsonl: the results, then the same summary.
        let stdout = lines(&r.stdout, &what);
        assert_eq!(
            stdout.len(),
            1,
            "{what}: stdout {}\nstderr {}",
            r.stdout,
            r.stderr
        );
        let summary = &stdout[0];
        assert_eq!(summary["type"], "summary", "{what}: {summary}");
        assert_eq!(summary["shard"], format!("{k}/3"));
        let file = std::fs::read_to_string(out.join("results.jsonl")).expect("results.jsonl");
        let mut results = lines(&file, &what);
        assert_eq!(
            results.pop().as_ref(),
            Some(summary),
            "{what}: last line is the summary"
        );
        assert_eq!(summary["targets"], results.len());
        let (mut has_error, mut has_broken) = (false, false);
        for line in &results {
            assert_eq!(line["type"], "result", "{line}");
            let account = s(&line["account"]).to_string();
            let status = s(&line["status"]);
            if account == DOWN {
                down_errors += 1;
                assert_eq!(status, "error", "{line}");
                assert_eq!(line["bucket"], Value::Null, "{line}");
                assert!(
                    s(&line["error"]).contains("cannot connect"),
                    "the error names the cause: {line}"
                );
                assert_eq!(
                    shard_of(DOWN, "*", 3),
                    *k,
                    "the account's error comes from its shard"
                );
                has_error = true;
                continue;
            }
            let bucket = s(&line["bucket"]).to_string();
            let key = (account.clone(), bucket.clone());
            let kind = *expected
                .get(&key)
                .unwrap_or_else(|| panic!("{what}: unexpected target {line}"));
            assert_eq!(
                shard_of(&account, &bucket, 3),
                *k,
                "{what}: {bucket} is in the shard the documented hash gives"
            );
            assert!(
                seen.insert(key, *k).is_none(),
                "{what}: {account}/{bucket} reported twice"
            );
            assert_eq!(line["request"], "reader-get");
            assert_eq!(line["evaluated"]["key"], "data/s3medic-probe", "{line}");
            assert_eq!(
                line["evaluated"]["principal"],
                format!("arn:aws:iam::{account}:role/reader")
            );
            let causes: Vec<&str> = line["causes"]
                .as_array()
                .expect("causes")
                .iter()
                .map(s)
                .collect();
            match kind {
                Kind::Healthy => {
                    assert_eq!(status, "ok", "{line}");
                    assert!(causes.is_empty(), "{line}");
                    assert_eq!(line["plan_file"], Value::Null, "{line}");
                }
                Kind::Denied => {
                    assert_eq!(status, "manual", "{line}");
                    assert_eq!(causes, ["bucket-policy-deny"], "{line}");
                }
                Kind::Missing => {
                    assert_eq!(status, "planned", "{line}");
                    assert_eq!(causes, ["identity-missing-allow"], "{line}");
                    assert_eq!(line["changes"], 1, "{line}");
                }
            }
            if kind != Kind::Healthy {
                has_broken = true;
                let p = PathBuf::from(s(&line["plan_file"]));
                assert_eq!(
                    p,
                    out.join(&account).join(format!("{bucket}.reader-get.json")),
                    "{line}"
                );
                let plan = read_json(&p);
                assert_eq!(plan["format_version"], 1);
                assert_eq!(plan["request"]["bucket"], bucket.as_str());
                assert_eq!(plan["findings"][0]["cause"], causes[0], "{p:?}");
                plan_files += 1;
            }
        }
        // The worst target decides: error 1, else planned/manual 2.
        let exit = if has_error {
            1
        } else if has_broken {
            2
        } else {
            0
        };
        r.expect_code(exit, &what);
        assert_eq!(summary["exit_code"], exit);
        assert!(!results.is_empty(), "{what}: every shard has targets");
    }
    // Every bucket exactly once over the three shards; only the broken ones have plan files.
    assert_eq!(
        seen.keys().cloned().collect::<BTreeSet<_>>(),
        expected.keys().cloned().collect::<BTreeSet<_>>(),
        "the shards together cover every bucket"
    );
    assert_eq!(down_errors, 1, "the unreachable account is reported once");
    let broken = expected.values().filter(|k| **k != Kind::Healthy).count();
    assert_eq!(plan_files, broken);
    assert_eq!(broken, 3 * PER_ACCOUNT * 2 / 5);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A bucket of the cross-account test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cross {
    /// Covered by the reader's identity policy and granted by the bucket policy: `ok`.
    Granted,
    /// Covered by the identity policy, no bucket policy: only the bucket policy changes.
    NoBucketGrant,
    /// Granted by the bucket policy, not covered by the identity policy: only the identity
    /// policy (in the reader's account) changes.
    NoIdentityGrant,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn principal_of_another_account_of_the_targets_file() {
    let moto = Moto::start();
    let tag = unique("bkx");
    let (x, y) = (A1, A2);
    let reader = format!("arn:aws:iam::{x}:role/reader");

    // Account X: role `reader`, allowed to read the `-y-` buckets (in any account), and a bucket
    // of its own that no request selects (an account entry may leave `buckets` out; with one,
    // every result must still be one of the requested buckets).
    let cx = config_in(&moto, x).await;
    let iam_x = aws_sdk_iam::Client::new(&cx);
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{x}:root")}, "Action": "sts:AssumeRole"}]});
    must(
        iam_x
            .create_role()
            .role_name("reader")
            .assume_role_policy_document(trust.to_string())
            .send()
            .await,
        "CreateRole reader",
    );
    let read = json!({"Version": "2012-10-17", "Statement": [{"Sid": "ReadY", "Effect": "Allow",
        "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{tag}-y-*/*")}]});
    must(
        iam_x
            .put_role_policy()
            .role_name("reader")
            .policy_name("read")
            .policy_document(read.to_string())
            .send()
            .await,
        "PutRolePolicy",
    );
    let home = format!("{tag}-x-home");
    must(
        s3_of(&cx).create_bucket().bucket(&home).send().await,
        "CreateBucket (X)",
    );

    // Account Y: the buckets the reader must read.
    let cy = config_in(&moto, y).await;
    let s3_y = s3_of(&cy);
    let mut buckets: BTreeMap<String, Cross> = BTreeMap::new();
    for i in 0..4 {
        buckets.insert(format!("{tag}-y-g-{i}"), Cross::Granted);
        buckets.insert(format!("{tag}-y-n-{i}"), Cross::NoBucketGrant);
    }
    buckets.insert(format!("{tag}-z-0"), Cross::NoIdentityGrant);
    for (b, kind) in &buckets {
        must(
            s3_y.create_bucket().bucket(b).send().await,
            "CreateBucket (Y)",
        );
        if *kind != Cross::NoBucketGrant {
            let grant = json!({"Version": "2012-10-17", "Statement": [{"Sid": "GrantX",
                "Effect": "Allow", "Principal": {"AWS": reader},
                "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{b}/*")}]});
            must(
                s3_y.put_bucket_policy()
                    .bucket(b)
                    .policy(grant.to_string())
                    .send()
                    .await,
                "PutBucketPolicy",
            );
        }
    }

    let dir = scratch("s3medic-live-bulk-cross");
    let toml = format!(
        r#"[[account]]
id = "{x}"
role_arn = "arn:aws:iam::{x}:role/s3medic-audit"
buckets = ["{home}"]

[[account]]
id = "{y}"
role_arn = "arn:aws:iam::{y}:role/s3medic-audit"
buckets = ["*"]

[[request]]
name = "x-reader"
principal = "{reader}"
operation = "GetObject"
prefix = "data/"
accounts = ["{y}"]
"#
    );
    let targets = dir.join("targets.toml");
    std::fs::write(&targets, toml).expect("write targets");
    let out = dir.join("out");
    let r = plan_targets(
        &moto,
        &targets,
        &["--output-dir", out.to_str().expect("utf-8 path")],
    );
    r.expect_code(2, "plan --targets (cross-account)");
    let file = std::fs::read_to_string(out.join("results.jsonl")).expect("results.jsonl");
    let mut results = lines(&file, "results.jsonl");
    let summary = results.pop().expect("summary");
    assert_eq!(summary["type"], "summary", "{summary}");
    assert_eq!(
        (
            summary["ok"].as_u64(),
            summary["planned"].as_u64(),
            summary["error"].as_u64()
        ),
        (Some(4), Some(5), Some(0)),
        "{file}"
    );
    assert_eq!(results.len(), buckets.len(), "{file}");
    let mut seen = BTreeSet::new();
    for line in &results {
        assert_eq!(line["account"], y, "{line}");
        assert_eq!(line["evaluated"]["principal"], reader.as_str(), "{line}");
        let bucket = s(&line["bucket"]).to_string();
        let kind = *buckets
            .get(&bucket)
            .unwrap_or_else(|| panic!("unexpected target {line}"));
        assert!(seen.insert(bucket.clone()), "{bucket} reported twice");
        // X's IAM data (and Block Public Access, organization) were read with X's credentials.
        let unknowns: Vec<&str> = line["unknowns"]
            .as_array()
            .expect("unknowns")
            .iter()
            .map(s)
            .collect();
        assert!(
            !unknowns.iter().any(|u| u.contains(x)),
            "nothing of account {x} is unknown: {line}"
        );
        if kind == Cross::Granted {
            assert_eq!(line["status"], "ok", "{line}");
            assert_eq!(line["decision_before"], "allowed", "{line}");
            assert_eq!(line["plan_file"], Value::Null, "{line}");
            continue;
        }
        assert_eq!(line["status"], "planned", "{line}");
        assert_eq!(line["changes"], 1, "{line}");
        let plan = read_json(Path::new(s(&line["plan_file"])));
        let changes = plan["changes"].as_array().expect("changes");
        assert_eq!(changes.len(), 1, "{plan:#}");
        let change = &changes[0];
        if kind == Cross::NoBucketGrant {
            assert_eq!(
                line["causes"],
                json!(["cross-account-resource-missing"]),
                "{line}"
            );
            assert_eq!(change["account"], y, "{plan:#}");
            assert_eq!(
                change["target"],
                json!({"type": "bucket_policy", "bucket": bucket}),
                "{plan:#}"
            );
            assert_eq!(change["before"], Value::Null, "{plan:#}");
            let stmt = &change["after"]["Statement"][0];
            assert_eq!(stmt["Effect"], "Allow", "{plan:#}");
            assert_eq!(stmt["Principal"]["AWS"], reader.as_str(), "{plan:#}");
        } else {
            assert_eq!(line["causes"], json!(["identity-missing-allow"]), "{line}");
            assert_eq!(change["account"], x, "{plan:#}");
            assert_eq!(change["target"]["name"], "reader", "{plan:#}");
        }
    }
    assert_eq!(seen.len(), buckets.len());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn results_on_stdout_from_a_json_targets_file() {
    let moto = Moto::start();
    let s3 = moto.s3().await;
    let iam = moto.iam().await;
    let user = unique("lister");
    must(
        iam.create_user().user_name(&user).send().await,
        "CreateUser",
    );
    let (open, closed) = (unique("bk-open"), unique("bk-closed"));
    for b in [&open, &closed] {
        must(s3.create_bucket().bucket(b).send().await, "CreateBucket");
    }
    // The user may list `logs/` of the open bucket and read under it; nothing on the other.
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "List", "Effect": "Allow", "Action": "s3:ListBucket",
         "Resource": format!("arn:aws:s3:::{open}"),
         "Condition": {"StringLike": {"s3:prefix": "logs/*"}}},
        {"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject",
         "Resource": format!("arn:aws:s3:::{open}/logs/*")}]});
    put_user_policy(&iam, &user, "logs", &policy).await;
    let dir = scratch("s3medic-live-bulk-json");
    let targets = dir.join("targets.json");
    // A CloudTrail file with the user's denied read of `closed` (twice: one group).
    let denied = |id: &str| {
        json!({"eventVersion": "1.09", "eventSource": "s3.amazonaws.com", "eventName": "GetObject",
            "eventTime": "2026-11-20T10:00:00Z", "requestID": id, "eventID": format!("e-{id}"),
            "errorCode": "AccessDenied", "sourceIPAddress": "203.0.113.7",
            "recipientAccountId": ACCOUNT, "tlsDetails": {"tlsVersion": "TLSv1.3"},
            "userIdentity": {"type": "IAMUser", "accountId": ACCOUNT,
                             "arn": format!("arn:aws:iam::{ACCOUNT}:user/{user}")},
            "requestParameters": {"bucketName": closed, "key": "logs/2026-11-20.gz"},
            "resources": [{"type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{closed}"),
                           "accountId": ACCOUNT}]})
    };
    std::fs::write(
        dir.join("trail.json"),
        json!({"Records": [denied("r1"), denied("r2")]}).to_string(),
    )
    .expect("write trail");
    let doc = json!({
        "cloudtrail": ["trail.json"],
        "account": [{"id": ACCOUNT, "buckets": [open, closed]}],
        "request": [{"name": "logs", "principal": format!("arn:aws:iam::{ACCOUNT}:user/{user}"),
                     "operations": ["ListObjectsV2", "GetObject"], "prefix": "logs/"}]
    });
    std::fs::write(&targets, doc.to_string()).expect("write");
    let r = plan_targets(
        &moto,
        &targets,
        &["--concurrency", "1", "--per-account", "1"],
    );
    r.expect_code(2, "plan --targets");
    let out = lines(&r.stdout, "stdout");
    assert_eq!(out.len(), 6, "5 results and the summary: {}", r.stdout);
    assert!(
        r.stderr.contains("cloudtrail `trail.json`") && r.stderr.contains("1 request(s) to check"),
        "{}",
        r.stderr
    );
    let summary = out.last().expect("summary");
    assert_eq!(summary["type"], "summary");
    assert_eq!(
        (summary["ok"].as_u64(), summary["planned"].as_u64()),
        (Some(2), Some(3))
    );
    assert_eq!(
        summary["plan_files"], 0,
        "no plan files without --output-dir"
    );
    let mut got: Vec<(String, String, String)> = out[..5]
        .iter()
        .map(|l| {
            assert_eq!(l["plan_file"], Value::Null);
            (
                s(&l["bucket"]).to_string(),
                s(&l["request"]).to_string(),
                s(&l["status"]).to_string(),
            )
        })
        .collect();
    got.sort();
    let mut want = vec![
        (open.clone(), "logs.ListObjectsV2".into(), "ok".into()),
        (open.clone(), "logs.GetObject".into(), "ok".into()),
        (
            closed.clone(),
            "logs.ListObjectsV2".into(),
            "planned".into(),
        ),
        (closed.clone(), "logs.GetObject".into(), "planned".into()),
        (closed.clone(), "cloudtrail-1".into(), "planned".into()),
    ];
    want.sort();
    assert_eq!(got, want);
    let list = out
        .iter()
        .find(|l| l["request"] == "logs.ListObjectsV2")
        .expect("list line");
    assert_eq!(list["evaluated"]["query"]["prefix"], "logs/");
    let trail = out
        .iter()
        .find(|l| l["request"] == "cloudtrail-1")
        .expect("trail line");
    assert_eq!(trail["evaluated"]["key"], "logs/2026-11-20.gz");
    assert_eq!(
        trail["causes"],
        json!(["identity-missing-allow"]),
        "{trail}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn apply_a_directory_with_one_stale_plan() {
    let moto = Moto::start();
    let s3 = moto.s3().await;
    let iam = moto.iam().await;
    let mut buckets = Vec::new();
    let mut users = Vec::new();
    for i in 1..=3 {
        let (b, u) = (unique(&format!("bk-apply{i}")), unique(&format!("u{i}")));
        must(s3.create_bucket().bucket(&b).send().await, "CreateBucket");
        must(
            s3.put_object()
                .bucket(&b)
                .key("data/file.csv")
                .body(ByteStream::from_static(b"a,b\n"))
                .send()
                .await,
            "PutObject",
        );
        must(iam.create_user().user_name(&u).send().await, "CreateUser");
        buckets.push(b);
        users.push(u);
    }
    let requests: Vec<String> = (0..3)
        .map(|i| {
            format!(
                "[[request]]\nname = \"r{n}\"\nprincipal = \"arn:aws:iam::{ACCOUNT}:user/{u}\"\noperation = \"GetObject\"\nkey = \"data/file.csv\"\nbuckets = [\"{b}\"]\n",
                n = i + 1,
                u = users[i],
                b = buckets[i]
            )
        })
        .collect();
    let toml = format!(
        "[[account]]\nid = \"{ACCOUNT}\"\nbuckets = [{}]\n\n{}",
        buckets
            .iter()
            .map(|b| format!("\"{b}\""))
            .collect::<Vec<_>>()
            .join(", "),
        requests.join("\n")
    );
    let dir = scratch("s3medic-live-bulk-apply");
    let targets = dir.join("targets.toml");
    std::fs::write(&targets, toml).expect("write");
    let out = dir.join("out");
    let r = plan_targets(
        &moto,
        &targets,
        &["--output-dir", out.to_str().expect("utf-8")],
    );
    r.expect_code(2, "plan --targets");
    let plans_dir = out.join(ACCOUNT);
    let plan_of = |i: usize| plans_dir.join(format!("{}.r{}.json", buckets[i], i + 1));
    let plans: Vec<Value> = (0..3).map(|i| read_json(&plan_of(i))).collect();
    for (i, p) in plans.iter().enumerate() {
        assert_eq!(p["changes"].as_array().map(Vec::len), Some(1), "{p:#}");
        assert_eq!(p["changes"][0]["target"]["name"], users[i].as_str());
    }
    // Plan 2 goes stale: its user gets an inline policy of that name meanwhile.
    let other = json!({"Version": "2012-10-17", "Statement": [{"Sid": "Other", "Effect": "Allow",
        "Action": "s3:ListBucket", "Resource": format!("arn:aws:s3:::{}", buckets[1])}]});
    must(
        iam.put_user_policy()
            .user_name(&users[1])
            .policy_name(GRANTS)
            .policy_document(other.to_string())
            .send()
            .await,
        "PutUserPolicy (makes plan 2 stale)",
    );
    let snapshots = dir.join("snapshots");
    let apply = |extra: &[&str]| {
        let mut c = moto.s3medic();
        c.arg("apply")
            .arg(&plans_dir)
            .arg("--snapshot-dir")
            .arg(&snapshots)
            .args(["--output", "json"])
            .args(extra)
            .args(endpoint_flags(&moto.endpoint));
        run(c, "s3medic apply DIR")
    };

    // No terminal, no --yes: nothing is written; the stale plan is reported as stale.
    let r = apply(&[]);
    r.expect_code(3, "apply DIR without --yes");
    let doc = r.json("apply report");
    let statuses: Vec<&str> = doc["plans"]
        .as_array()
        .expect("plans")
        .iter()
        .map(|p| s(&p["report"]["status"]))
        .collect();
    assert_eq!(statuses, ["declined", "stale", "declined"], "{doc:#}");
    assert!(
        s(&doc["plans"][0]["report"]["error"]).contains("--yes"),
        "{doc:#}"
    );
    for i in [0, 2] {
        assert_eq!(user_policy(&moto, &users[i], GRANTS).await, Value::Null);
    }

    // --yes: the two others are applied, each with its own snapshot; exit 3 for the stale one.
    let r = apply(&["--yes"]);
    r.expect_code(3, "apply DIR --yes");
    let doc = r.json("apply report");
    assert_eq!(doc["summary"]["applied"], 2, "{doc:#}");
    assert_eq!(doc["summary"]["stale"], 1, "{doc:#}");
    assert_eq!(doc["summary"]["exit_code"], 3);
    let reports: Vec<&Value> = doc["plans"]
        .as_array()
        .expect("plans")
        .iter()
        .map(|p| &p["report"])
        .collect();
    assert_eq!(s(&reports[1]["status"]), "stale");
    assert_eq!(reports[1]["stale"][0]["change"], "c1");
    for i in [0, 2] {
        assert_eq!(s(&reports[i]["status"]), "applied", "{doc:#}");
        assert_eq!(reports[i]["decision_after"], "allowed", "{doc:#}");
        assert!(Path::new(s(&reports[i]["snapshot_path"])).is_file());
        assert_same_policy(
            &user_policy(&moto, &users[i], GRANTS).await,
            &plans[i]["changes"][0]["after"],
            "the applied plan's `after` is stored",
        );
    }
    assert_same_policy(
        &user_policy(&moto, &users[1], GRANTS).await,
        &other,
        "the stale plan wrote nothing",
    );

    // Several files: both are stale now (already applied), nothing is written again.
    let mut c = moto.s3medic();
    c.arg("apply")
        .arg(plan_of(0))
        .arg(plan_of(2))
        .args(["--yes", "--output", "json", "--snapshot-dir"])
        .arg(&snapshots)
        .args(endpoint_flags(&moto.endpoint));
    let r = run(c, "apply PLAN PLAN");
    r.expect_code(3, "apply of two applied plans");
    let doc = r.json("apply report");
    assert_eq!(doc["summary"]["stale"], 2, "{doc:#}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs `argv` on a pseudo-terminal (stdin, stderr and the controlling terminal; stdout goes to
/// `stdout_file`); when `answer` is not empty, types it once a `[y/N]` prompt shows. Exits with
/// the child's exit code (97: timeout, 98: killed by a signal); the terminal transcript is written
/// to stderr.
const PTY_SCRIPT: &str = r#"
import os, pty, select, signal, sys, time
out_path, answer, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    o = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(o, 1)
    os.execv(argv[0], argv)
buf = b""
sent = answer == ""
deadline = time.time() + 120
status = None
while status is None:
    if time.time() > deadline:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        sys.stderr.write(buf.decode("utf-8", "replace"))
        sys.exit(97)
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try:
            data = os.read(fd, 4096)
        except OSError:
            data = b""
        buf += data
    if not sent and b"[y/N]" in buf:
        time.sleep(0.3)
        os.write(fd, answer.encode())
        sent = True
    done, st = os.waitpid(pid, os.WNOHANG)
    if done:
        status = st
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
sys.stderr.write(buf.decode("utf-8", "replace"))
sys.exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 98)
"#;

/// `s3medic ARGS…` (endpoint flags added) on a pseudo-terminal; see [`PTY_SCRIPT`].
fn on_pty(moto: &Moto, args: &[&std::ffi::OsStr], answer: &str, stdout_file: &Path) -> Run {
    let template = moto.s3medic();
    let mut c = std::process::Command::new("python3");
    for (k, v) in template.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    c.env("TERM", "xterm")
        .arg("-c")
        .arg(PTY_SCRIPT)
        .arg(stdout_file)
        .arg(answer)
        .arg(template.get_program())
        .args(args)
        .args(endpoint_flags(&moto.endpoint));
    let o = c
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run python3 for the pseudo-terminal: {e}"));
    Run {
        code: o.status.code(),
        stdout: std::fs::read_to_string(stdout_file).unwrap_or_default(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

#[tokio::test]
async fn progress_bar_on_a_terminal_and_one_confirmation_for_many_plans() {
    let moto = Moto::start();
    let s3 = moto.s3().await;
    let iam = moto.iam().await;
    // Four buckets, each with its own reader (so the four plans change four different users).
    let mut requests = String::new();
    for i in 0..4 {
        let b = unique(&format!("bk-tty{i}"));
        let user = unique(&format!("tty-reader{i}"));
        must(s3.create_bucket().bucket(&b).send().await, "CreateBucket");
        must(
            iam.create_user().user_name(&user).send().await,
            "CreateUser",
        );
        requests.push_str(&format!(
            "[[request]]\nname = \"read{i}\"\nprincipal = \"arn:aws:iam::{ACCOUNT}:user/{user}\"\noperation = \"GetObject\"\nprefix = \"in/\"\nbuckets = [\"{b}\"]\n\n"
        ));
    }
    let dir = scratch("s3medic-live-bulk-tty");
    let targets = dir.join("targets.toml");
    std::fs::write(
        &targets,
        format!("[[account]]\nid = \"{ACCOUNT}\"\nbuckets = [\"*\"]\n\n{requests}"),
    )
    .expect("write");
    let out = dir.join("out");

    // The bar is drawn on the terminal (stderr); stdout holds only the summary line.
    let args: Vec<&std::ffi::OsStr> = vec![
        "plan".as_ref(),
        "--targets".as_ref(),
        targets.as_os_str(),
        "--output-dir".as_ref(),
        out.as_os_str(),
    ];
    let r = on_pty(&moto, &args, "", &dir.join("plan.stdout"));
    r.expect_code(2, "plan --targets on a terminal");
    assert!(
        r.stderr.contains("targets") && r.stderr.contains("accounts opened"),
        "the progress bar is drawn on the terminal:\n{}",
        r.stderr
    );
    let stdout = lines(&r.stdout, "stdout");
    assert_eq!(stdout.len(), 1, "{}", r.stdout);
    assert_eq!(stdout[0]["planned"], 4);

    // Piped, the same run draws nothing on stderr.
    let piped_out = dir.join("out-piped");
    let piped = plan_targets(
        &moto,
        &targets,
        &["--output-dir", piped_out.to_str().expect("utf-8")],
    );
    piped.expect_code(2, "plan --targets piped");
    assert_eq!(
        piped.stderr, "",
        "no progress bar when stderr is not a terminal"
    );
    // The output directory must be new or empty: an earlier run's plan files would mix in.
    let again = plan_targets(
        &moto,
        &targets,
        &["--output-dir", out.to_str().expect("utf-8")],
    );
    again.expect_code(1, "plan --targets into a used directory");
    assert!(again.stderr.contains("is not empty"), "{}", again.stderr);

    // `apply DIR` on a terminal: one prompt for the four plans; "y" applies them all.
    let plans_dir = out.join(ACCOUNT);
    let snapshots = dir.join("snapshots");
    let args: Vec<&std::ffi::OsStr> = vec![
        "apply".as_ref(),
        plans_dir.as_os_str(),
        "--output".as_ref(),
        "json".as_ref(),
        "--snapshot-dir".as_ref(),
        snapshots.as_os_str(),
    ];
    let r = on_pty(&moto, &args, "y\n", &dir.join("apply.stdout"));
    r.expect_code(0, "apply DIR answered y");
    assert_eq!(
        r.stderr.matches("[y/N]").count(),
        1,
        "one confirmation for all plans:\n{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("Apply these 4 changes of 4 plans?"),
        "{}",
        r.stderr
    );
    let doc = r.json("apply report");
    assert_eq!(doc["summary"]["applied"], 4, "{doc:#}");
    assert_eq!(
        std::fs::read_dir(&snapshots).expect("snapshots").count(),
        4,
        "one rollback snapshot per plan"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn cloudtrail_caller_named_only_by_account_is_resolved_per_bucket() {
    let moto = Moto::start();
    let caller_account = A1;
    // The caller's account: role `etl` (allowed to read the bucket) — CloudTrail's copy in the
    // bucket owner's account names it only by account and `ROLEID:SESSION`.
    let ca = config_in(&moto, caller_account).await;
    let iam_a = aws_sdk_iam::Client::new(&ca);
    let role = unique("etl");
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{caller_account}:root")}, "Action": "sts:AssumeRole"}]});
    let created = must(
        iam_a
            .create_role()
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
    let bucket = unique("bk-trail");
    let read = json!({"Version": "2012-10-17", "Statement": [{"Sid": "Read", "Effect": "Allow",
        "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{bucket}/*")}]});
    must(
        iam_a
            .put_role_policy()
            .role_name(&role)
            .policy_name("read")
            .policy_document(read.to_string())
            .send()
            .await,
        "PutRolePolicy",
    );
    // The bucket, in the default account, with no grant to the other account.
    must(
        moto.s3().await.create_bucket().bucket(&bucket).send().await,
        "CreateBucket",
    );

    let denied = |principal_id: &str, id: &str, time: &str| {
        json!({"eventVersion": "1.10", "eventSource": "s3.amazonaws.com", "eventName": "GetObject",
            "eventTime": time, "requestID": id, "eventID": format!("e-{id}"),
            "errorCode": "AccessDenied", "sourceIPAddress": "203.0.113.7",
            "recipientAccountId": ACCOUNT, "tlsDetails": {"tlsVersion": "TLSv1.3"},
            "userIdentity": {"type": "AWSAccount", "principalId": principal_id,
                             "accountId": caller_account},
            "requestParameters": {"bucketName": bucket, "key": "in/data.csv"},
            "resources": [{"type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{bucket}"),
                           "accountId": ACCOUNT}]})
    };
    let unknown_id = "AROAS3MEDICNOSUCHID0";
    let dir = scratch("s3medic-live-bulk-trail-caller");
    std::fs::write(
        dir.join("trail.json"),
        json!({"Records": [
            denied(&format!("{role_id}:nightly"), "r1", "2026-11-20T10:00:00Z"),
            denied(&format!("{unknown_id}:job"), "r2", "2026-11-20T11:00:00Z"),
        ]})
        .to_string(),
    )
    .expect("write trail");
    // The caller's account is in the file (no buckets of its own): its IAM data is read with
    // its own credentials.
    let toml = format!(
        r#"cloudtrail = ["trail.json"]

[[account]]
id = "{ACCOUNT}"
buckets = ["{bucket}"]

[[account]]
id = "{caller_account}"
role_arn = "arn:aws:iam::{caller_account}:role/s3medic-audit"
"#
    );
    let targets = dir.join("targets.toml");
    std::fs::write(&targets, toml).expect("write targets");
    let r = plan_targets(&moto, &targets, &[]);
    r.expect_code(2, "plan --targets with a CloudTrail file");
    let out = lines(&r.stdout, "stdout");
    assert_eq!(out.len(), 3, "2 results and the summary: {}", r.stdout);
    let line = |name: &str| {
        out.iter()
            .find(|l| l["request"] == name)
            .unwrap_or_else(|| panic!("no line for {name}: {}", r.stdout))
    };

    // The known role id: planned as the role session, the note says where the ARN came from.
    let session = format!("arn:aws:sts::{caller_account}:assumed-role/{role}/nightly");
    let resolved = line("cloudtrail-1");
    assert_eq!(resolved["account"], ACCOUNT, "{resolved}");
    assert_eq!(resolved["bucket"], bucket.as_str(), "{resolved}");
    assert_eq!(
        resolved["evaluated"]["principal"],
        session.as_str(),
        "{resolved}"
    );
    assert_eq!(resolved["evaluated"]["key"], "in/data.csv", "{resolved}");
    let notes = resolved["notes"].as_array().expect("notes");
    assert_eq!(notes.len(), 1, "{resolved}");
    assert!(
        s(&notes[0]).contains(&format!("principal id {role_id}:nightly"))
            && s(&notes[0]).contains(&format!("gives `{session}`")),
        "{resolved}"
    );
    // The role may read it; only the bucket owner's grant is missing.
    assert_eq!(resolved["status"], "planned", "{resolved}");
    assert_eq!(
        resolved["causes"],
        json!(["cross-account-resource-missing"]),
        "{resolved}"
    );
    assert_eq!(resolved["changes"], 1, "{resolved}");
    assert!(
        !resolved["unknowns"]
            .as_array()
            .expect("unknowns")
            .iter()
            .any(|u| s(u).contains(caller_account)),
        "the caller account's IAM data was read: {resolved}"
    );

    // An id no user or role has: still the account, and the note says why.
    let unresolved = line("cloudtrail-2");
    assert_eq!(
        unresolved["evaluated"]["principal"], caller_account,
        "{unresolved}"
    );
    let notes = unresolved["notes"].as_array().expect("notes");
    assert_eq!(notes.len(), 1, "{unresolved}");
    assert!(
        s(&notes[0]).contains("evaluated as that account")
            && s(&notes[0]).contains(&format!(
                "no user or role of account {caller_account} in the World has the id `{unknown_id}`"
            )),
        "{unresolved}"
    );
    assert_ne!(unresolved["status"], "error", "{unresolved}");
    let _ = std::fs::remove_dir_all(&dir);
}

//! Live collection benchmark: collect and plan for N buckets on a local moto server, with the
//! concurrency bound against the same work done one call at a time.
//!
//! Setup (not timed): N buckets, each with a bucket policy, bucket Block Public Access, ownership
//! controls, default encryption (SSE-S3 on even buckets, SSE-KMS with one shared key on odd ones)
//! and one object; one IAM user that may list the buckets but not read their objects.
//!
//! Then, for every bucket, `collect` (the bucket, its object, the user) and `plan()` of the user's
//! GetObject on the object (denied: the plan adds an identity grant), two ways:
//!
//! * bounded — `collect_with_limit(.., 8)` per bucket, up to 8 buckets at a time;
//! * one at a time — `collect_with_limit(.., 1)` per bucket, buckets one after another.
//!
//! It prints the wall time of each, their ratio, the SDK calls (total and per bucket, from
//! `Collected::calls`) and the time spent in `plan()`.
//!
//! On moto the ratio is about 1: moto answers one request at a time on one core (Python), busy
//! ~100% even when s3medic sends one call at a time, so the bound cannot overlap anything there.
//! The bound is for AWS, where a call's time is mostly network latency (not measured here).
//!
//! `cargo bench --bench live_collect` runs 100 buckets (~15 s on 2 cores, after the build). Without
//! `--bench` (`cargo test --all-targets` runs benches in test mode) it runs 3 buckets, as a smoke
//! test. `S3MEDIC_BENCH_BUCKETS` overrides the count. Needs the moto server (`bash
//! scripts/test.sh` installs it into .venv, or set `S3MEDIC_MOTO_SERVER`).

#[path = "../tests/common/moto.rs"]
mod moto;

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types as t;
use moto::{must, Moto, ACCOUNT};
use s3medic::collect::{collect_with_limit, Clients, CollectSpec, MAX_CONCURRENT_CALLS};
use s3medic::plan::{plan, PlanOptions};
use s3medic::request::Request;
use serde_json::json;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// Buckets collected at the same time in the bounded run (and the per-collection call bound).
const BOUND: usize = 8;
const OBJECT_KEY: &str = "data/report.csv";

struct Setup {
    buckets: Vec<String>,
    user_arn: String,
}

/// What one run measured.
#[derive(Default)]
struct Run {
    wall: Duration,
    calls: usize,
    plan_time: Duration,
    plans_with_changes: usize,
    denied_before: usize,
    /// Unknown parts other than the expected one (moto answers GetBucketRequestPayment wrongly).
    unexpected_unknown: Vec<String>,
}

async fn set_up(moto: &Moto, n: usize) -> Setup {
    let s3 = moto.s3().await;
    let iam = moto.iam().await;
    let kms = moto.kms().await;
    let pid = std::process::id();
    let buckets: Vec<String> = (0..n).map(|i| format!("lc-bench-{pid}-{i:03}")).collect();

    let user_name = format!("bench-user-{pid}");
    let user = must(
        iam.create_user().user_name(&user_name).send().await,
        "CreateUser",
    );
    let user_arn = user.user().expect("user").arn().to_string();
    must(
        iam.put_user_policy()
            .user_name(&user_name)
            .policy_name("ListOnly")
            .policy_document(
                json!({
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Effect": "Allow",
                        "Action": "s3:ListBucket",
                        "Resource": format!("arn:aws:s3:::lc-bench-{pid}-*")
                    }]
                })
                .to_string(),
            )
            .send()
            .await,
        "PutUserPolicy",
    );
    // One shared customer managed key (moto's default key policy delegates to the account).
    let created = must(kms.create_key().send().await, "CreateKey");
    let key_arn = created
        .key_metadata()
        .and_then(|m| m.arn())
        .expect("key arn")
        .to_string();

    let sem = Arc::new(Semaphore::new(16));
    let mut set = JoinSet::new();
    for (i, bucket) in buckets.iter().enumerate() {
        let (s3, sem, bucket) = (s3.clone(), sem.clone(), bucket.clone());
        let (user_arn, key_arn) = (user_arn.clone(), key_arn.clone());
        set.spawn(async move {
            let _permit = sem.acquire().await.expect("open");
            set_up_bucket(&s3, &bucket, &user_arn, (i % 2 == 1).then_some(&key_arn)).await;
        });
    }
    while let Some(r) = set.join_next().await {
        r.expect("bucket setup task");
    }
    Setup { buckets, user_arn }
}

async fn set_up_bucket(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    user_arn: &str,
    kms: Option<&String>,
) {
    must(
        s3.create_bucket().bucket(bucket).send().await,
        "CreateBucket",
    );
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "UserList",
                "Effect": "Allow",
                "Principal": {"AWS": user_arn},
                "Action": "s3:ListBucket",
                "Resource": format!("arn:aws:s3:::{bucket}")
            },
            {
                // moto applies bucket-policy Denies to every caller: deny only an action neither
                // the setup nor the collector uses.
                "Sid": "DenyInsecureDelete",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:DeleteObject",
                "Resource": format!("arn:aws:s3:::{bucket}/*"),
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}
            }
        ]
    });
    must(
        s3.put_bucket_policy()
            .bucket(bucket)
            .policy(policy.to_string())
            .send()
            .await,
        "PutBucketPolicy",
    );
    must(
        s3.put_public_access_block()
            .bucket(bucket)
            .public_access_block_configuration(
                t::PublicAccessBlockConfiguration::builder()
                    .block_public_acls(true)
                    .ignore_public_acls(true)
                    .block_public_policy(true)
                    .restrict_public_buckets(true)
                    .build(),
            )
            .send()
            .await,
        "PutPublicAccessBlock",
    );
    must(
        s3.put_bucket_ownership_controls()
            .bucket(bucket)
            .ownership_controls(
                t::OwnershipControls::builder()
                    .rules(
                        t::OwnershipControlsRule::builder()
                            .object_ownership(t::ObjectOwnership::BucketOwnerEnforced)
                            .build()
                            .expect("rule"),
                    )
                    .build()
                    .expect("controls"),
            )
            .send()
            .await,
        "PutBucketOwnershipControls",
    );
    let by_default = match kms {
        Some(k) => t::ServerSideEncryptionByDefault::builder()
            .sse_algorithm(t::ServerSideEncryption::AwsKms)
            .kms_master_key_id(k),
        None => t::ServerSideEncryptionByDefault::builder()
            .sse_algorithm(t::ServerSideEncryption::Aes256),
    };
    must(
        s3.put_bucket_encryption()
            .bucket(bucket)
            .server_side_encryption_configuration(
                t::ServerSideEncryptionConfiguration::builder()
                    .rules(
                        t::ServerSideEncryptionRule::builder()
                            .apply_server_side_encryption_by_default(
                                by_default.build().expect("sse default"),
                            )
                            .build(),
                    )
                    .build()
                    .expect("sse config"),
            )
            .send()
            .await,
        "PutBucketEncryption",
    );
    let put = s3
        .put_object()
        .bucket(bucket)
        .key(OBJECT_KEY)
        .body(ByteStream::from_static(b"a,b\n1,2\n"));
    let put = match kms {
        Some(k) => put
            .server_side_encryption(t::ServerSideEncryption::AwsKms)
            .ssekms_key_id(k),
        None => put.server_side_encryption(t::ServerSideEncryption::Aes256),
    };
    must(put.send().await, "PutObject");
}

/// Collects and plans one bucket; returns (calls, plan time, plan has changes, denied before,
/// unexpected unknowns).
async fn collect_and_plan(
    clients: &Clients,
    bucket: &str,
    user_arn: &str,
    limit: usize,
) -> (usize, Duration, bool, bool, Vec<String>) {
    let spec = CollectSpec {
        bucket: bucket.to_string(),
        keys: vec![OBJECT_KEY.to_string()],
        principals: vec![user_arn.to_string()],
        extra_buckets: Vec::new(),
        bucket_account: None,
    };
    let c = collect_with_limit(clients, &spec, limit)
        .await
        .unwrap_or_else(|e| panic!("collect {bucket}: {e}"));
    let req = Request::from_value(&json!({
        "principal": user_arn,
        "operation": "GetObject",
        "bucket": bucket,
        "key": OBJECT_KEY,
    }))
    .expect("request");
    let started = Instant::now();
    let p = plan(&c.world, &req, &PlanOptions::default()).expect("plan");
    let plan_time = started.elapsed();
    let unexpected = c
        .unknown
        .into_iter()
        .filter(|u| !u.contains("request payment"))
        .collect();
    (
        c.calls,
        plan_time,
        p.has_changes(),
        !p.decision_before.is_allowed(),
        unexpected,
    )
}

fn add(run: &mut Run, r: (usize, Duration, bool, bool, Vec<String>)) {
    run.calls += r.0;
    run.plan_time += r.1;
    run.plans_with_changes += usize::from(r.2);
    run.denied_before += usize::from(r.3);
    run.unexpected_unknown.extend(r.4);
}

/// Up to `BOUND` buckets at a time, each collected with at most `BOUND` calls at a time.
async fn bounded(clients: &Clients, s: &Setup) -> Run {
    let mut run = Run::default();
    let started = Instant::now();
    let sem = Arc::new(Semaphore::new(BOUND));
    let mut set = JoinSet::new();
    for bucket in &s.buckets {
        let (clients, sem) = (clients.clone(), sem.clone());
        let (bucket, user) = (bucket.clone(), s.user_arn.clone());
        set.spawn(async move {
            let _permit = sem.acquire_owned().await.expect("open");
            collect_and_plan(&clients, &bucket, &user, BOUND).await
        });
    }
    while let Some(r) = set.join_next().await {
        add(&mut run, r.expect("bucket task"));
    }
    run.wall = started.elapsed();
    run
}

/// Buckets one after another, each collected one call at a time.
async fn one_at_a_time(clients: &Clients, s: &Setup) -> Run {
    let mut run = Run::default();
    let started = Instant::now();
    for bucket in &s.buckets {
        add(
            &mut run,
            collect_and_plan(clients, bucket, &s.user_arn, 1).await,
        );
    }
    run.wall = started.elapsed();
    run
}

fn check(name: &str, run: &Run, n: usize) {
    assert!(
        run.unexpected_unknown.is_empty(),
        "{name}: unreadable parts: {:#?}",
        run.unexpected_unknown
    );
    assert_eq!(
        run.denied_before, n,
        "{name}: every request denied before the plan"
    );
    assert_eq!(run.plans_with_changes, n, "{name}: every plan has changes");
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let n: usize = std::env::var("S3MEDIC_BENCH_BUCKETS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full { 100 } else { 3 });
    assert_eq!(
        BOUND, MAX_CONCURRENT_CALLS,
        "bench bound = collect()'s default bound"
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let moto = Moto::start();
    rt.block_on(async {
        let setup_started = Instant::now();
        let s = set_up(&moto, n).await;
        let setup_time = setup_started.elapsed();
        let clients = Clients::from_config(moto.sdk_config().await);
        // Warm-up: connection pool, first-call costs on both sides.
        let _ = collect_and_plan(&clients, &s.buckets[0], &s.user_arn, BOUND).await;

        let b = one_at_a_time(&clients, &s).await;
        let a = bounded(&clients, &s).await;
        check("bounded", &a, n);
        check("one at a time", &b, n);
        assert_eq!(a.calls, b.calls, "the same calls whatever the bound");

        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "live_collect: {n} buckets on moto ({} mode; setup {:.1} s, account {ACCOUNT})",
            if full { "bench" } else { "test" },
            setup_time.as_secs_f64()
        );
        println!(
            "| run | wall time | SDK calls | calls per bucket | plan() total | plan() per bucket |"
        );
        println!("|---|---|---|---|---|---|");
        for (name, r) in [
            (format!("bounded ({BOUND} buckets x {BOUND} calls)"), &a),
            ("one call at a time".to_string(), &b),
        ] {
            println!(
                "| {name} | {:.2} s | {} | {:.1} | {:.1} ms | {:.2} ms |",
                r.wall.as_secs_f64(),
                r.calls,
                r.calls as f64 / n as f64,
                ms(r.plan_time),
                ms(r.plan_time) / n as f64
            );
        }
        println!(
            "ratio one-at-a-time / bounded: {:.2}x ({:.1} ms vs {:.1} ms per bucket)",
            b.wall.as_secs_f64() / a.wall.as_secs_f64(),
            ms(b.wall) / n as f64,
            ms(a.wall) / n as f64
        );
    });
}

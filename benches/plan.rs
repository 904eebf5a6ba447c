//! Benchmarks of the planner (`s3medic::plan::plan`: diagnosis, synthesis and the no-new-access
//! proof) and of the proof alone.
//!
//! The World: one bucket `data-bucket` (20 objects: a third SSE-KMS with customer key 1, a third
//! with customer key 2, the rest SSE-S3; default encryption with key 1; a bucket policy of 8
//! statements; Block Public Access on), two accounts holding 50 principals (users and roles with
//! 1–3 inline policies each), one CloudFront distribution on the bucket. The request: role
//! `app-role-07` reads `team-3/obj-03.csv` (SSE-KMS, key 1), which nothing grants it: denied.
//!
//! * `plan/denied_request` — `plan()` on that World and request.
//! * `plan/prove_only` — `prove()` of a patched World granting the target (bucket policy
//!   statement), against the original.
//! * `plan/prove_1000_buckets_bucket_policy_change` — the proof of the bucket policy statement
//!   alone in a World with 1,000 other buckets: the cost must not depend on buckets the plan does
//!   not touch.
//! * `plan/prove_1000_buckets_key_policy_change` — the same with the key policy statement too:
//!   the other buckets' objects and default encryption use that key, so their GetObject /
//!   PutObject are probed (linear in the objects the changed key protects).
//! * `plan/world_clone_1000_buckets` — one clone of that World (what `plan()` pays to patch a
//!   copy), for reference.
//! * `plan/denied_request_1000_buckets` — `plan()` in that World.
//!
//! A counting global allocator records the peak heap use of one `plan()` and one `prove()` call;
//! it is printed once, before the measurements.
//!
//! Run: `cargo bench --bench plan -- --warm-up-time 1 --measurement-time 3`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use serde_json::{json, Value};

use s3medic::eval::authorize;
use s3medic::plan::{plan, prove::prove, PlanOptions};
use s3medic::request::Request;
use s3medic::world::World;

// ---------------------------------------------------------------------------------------------
// Peak memory.

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            if new_size > layout.size() {
                let grow = new_size - layout.size();
                let now = CURRENT.fetch_add(grow, Ordering::Relaxed) + grow;
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                CURRENT.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Peak heap bytes allocated on top of what was live when `f` started.
fn peak_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let out = f();
    (out, PEAK.load(Ordering::Relaxed).saturating_sub(base))
}

// ---------------------------------------------------------------------------------------------
// The World.

const ACCOUNT: &str = "111122223333";
const PARTNER: &str = "444455556666";
const BUCKET: &str = "data-bucket";
const KEY1: &str = "arn:aws:kms:us-east-1:111122223333:key/11111111-1111-1111-1111-111111111111";
const KEY2: &str = "arn:aws:kms:us-east-1:111122223333:key/22222222-2222-2222-2222-222222222222";
const DIST_ARN: &str = "arn:aws:cloudfront::111122223333:distribution/EDFDVBD6EXAMPLE";

fn doc(statements: Vec<Value>) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// 1–3 inline policies for principal `i`.
fn inline_policies(i: usize) -> Vec<Value> {
    let team = i % 5;
    let all = [
        json!({"PolicyName": "read-team", "PolicyDocument": doc(vec![json!({
            "Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion"],
            "Resource": format!("arn:aws:s3:::{BUCKET}/team-{team}/*")})])}),
        json!({"PolicyName": "list", "PolicyDocument": doc(vec![json!({
            "Effect": "Allow", "Action": "s3:ListBucket", "Resource": format!("arn:aws:s3:::{BUCKET}"),
            "Condition": {"StringLike": {"s3:prefix": [format!("team-{team}/*")]}}})])}),
        json!({"PolicyName": "write-team", "PolicyDocument": doc(vec![
            json!({"Effect": "Allow", "Action": "s3:PutObject",
                   "Resource": format!("arn:aws:s3:::{BUCKET}/team-{team}/*")}),
            json!({"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                   "Resource": KEY1}),
        ])}),
    ];
    all.into_iter().take(i % 3 + 1).collect()
}

fn iam(account: &str, users: std::ops::Range<usize>, roles: std::ops::Range<usize>) -> Value {
    let users: Vec<Value> = users
        .map(|i| {
            json!({"Path": "/", "UserName": format!("user-{i:02}"),
                   "UserId": format!("AIDAUSER{i:02}"), "Arn": format!("arn:aws:iam::{account}:user/user-{i:02}"),
                   "GroupList": [], "UserPolicyList": inline_policies(i), "AttachedManagedPolicies": []})
        })
        .collect();
    let roles: Vec<Value> = roles
        .map(|i| {
            json!({"Path": "/", "RoleName": format!("app-role-{i:02}"),
                   "RoleId": format!("AROAROLE{i:02}"), "Arn": format!("arn:aws:iam::{account}:role/app-role-{i:02}"),
                   "AssumeRolePolicyDocument": doc(vec![json!({"Effect": "Allow",
                       "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"})]),
                   "RolePolicyList": inline_policies(i), "AttachedManagedPolicies": []})
        })
        .collect();
    json!({"UserDetailList": users, "GroupDetailList": [], "RoleDetailList": roles, "Policies": []})
}

fn bucket_policy(name: &str) -> Value {
    let b = format!("arn:aws:s3:::{name}");
    let o = format!("arn:aws:s3:::{name}/*");
    doc(vec![
        json!({"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
               "Resource": [b, o], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}),
        json!({"Sid": "AllowRole00Team0", "Effect": "Allow",
               "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:role/app-role-00")},
               "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{name}/team-0/*")}),
        json!({"Sid": "AllowPartnerIncoming", "Effect": "Allow",
               "Principal": {"AWS": format!("arn:aws:iam::{PARTNER}:root")},
               "Action": "s3:PutObject", "Resource": format!("arn:aws:s3:::{name}/incoming/*"),
               "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}}),
        json!({"Sid": "DenyDeleteExceptAdmin", "Effect": "Deny",
               "NotPrincipal": {"AWS": [format!("arn:aws:iam::{ACCOUNT}:role/app-role-01"),
                                        format!("arn:aws:iam::{ACCOUNT}:root")]},
               "Action": ["s3:DeleteObject", "s3:DeleteObjectVersion"], "Resource": o}),
        json!({"Sid": "AllowCloudFront", "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
               "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{name}/public/*"),
               "Condition": {"StringEquals": {"aws:SourceArn": DIST_ARN}}}),
        json!({"Sid": "AllowUser03List", "Effect": "Allow",
               "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:user/user-03")},
               "Action": "s3:ListBucket", "Resource": b,
               "Condition": {"StringLike": {"s3:prefix": ["shared/*"]}}}),
        json!({"Sid": "AllowAuditorCorp", "Effect": "Allow",
               "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:role/app-role-10")},
               "Action": ["s3:GetObject*", "s3:ListBucket"], "Resource": [b, o],
               "Condition": {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8"]}}}),
        json!({"Sid": "DenyUnencryptedUploads", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
               "Resource": o, "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}}}),
    ])
}

fn bpa() -> Value {
    json!({"PublicAccessBlockConfiguration": {"BlockPublicAcls": true, "IgnorePublicAcls": true,
           "BlockPublicPolicy": true, "RestrictPublicBuckets": true}})
}

fn objects(n: usize) -> Vec<Value> {
    (0..n)
        .map(|j| {
            let key = format!("team-{}/obj-{j:02}.csv", j % 5);
            let head = match j % 3 {
                0 => json!({"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KEY1}),
                1 => json!({"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KEY2}),
                _ => json!({"ServerSideEncryption": "AES256"}),
            };
            json!({"key": key, "head": head})
        })
        .collect()
}

fn bucket(name: &str, n_objects: usize) -> Value {
    json!({
        "name": name, "account_id": ACCOUNT, "region": "us-east-1",
        "policy": bucket_policy(name),
        "public_access_block": bpa(),
        "ownership_controls": {"OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}},
        "encryption": {"ServerSideEncryptionConfiguration": {"Rules": [{
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KEY1},
            "BucketKeyEnabled": true}]}},
        "objects": objects(n_objects),
    })
}

fn kms_key(arn: &str) -> Value {
    let id = arn.rsplit('/').next().unwrap_or_default();
    json!({
        "metadata": {"AWSAccountId": ACCOUNT, "KeyId": id, "Arn": arn, "KeyState": "Enabled",
                     "KeyManager": "CUSTOMER"},
        "policy": doc(vec![
            json!({"Sid": "EnableIAM", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
                   "Action": "kms:*", "Resource": "*"}),
            json!({"Sid": "AllowRole00ViaS3", "Effect": "Allow",
                   "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:role/app-role-00")},
                   "Action": "kms:Decrypt", "Resource": "*",
                   "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}}),
        ]),
        "grants": {"Grants": []},
    })
}

/// The World of the benchmark, with `extra_buckets` other buckets (same shape, 1 object each).
fn world(extra_buckets: usize) -> World {
    let mut buckets = vec![bucket(BUCKET, 20)];
    for i in 0..extra_buckets {
        buckets.push(bucket(&format!("other-bucket-{i:04}"), 1));
    }
    let v = json!({
        "format_version": 1,
        "partition": "aws",
        "accounts": [
            {"account_id": ACCOUNT, "canonical_user_id": "a".repeat(64),
             "iam": iam(ACCOUNT, 0..20, 0..20), "block_public_access": bpa()},
            {"account_id": PARTNER, "canonical_user_id": "b".repeat(64),
             "iam": iam(PARTNER, 20..25, 20..25)},
        ],
        "buckets": buckets,
        "kms_keys": [kms_key(KEY1), kms_key(KEY2)],
        "cloudfront": {"distributions": [{
            "Id": "EDFDVBD6EXAMPLE", "ARN": DIST_ARN, "DomainName": "d111111abcdef8.cloudfront.net",
            "DistributionConfig": {"DefaultRootObject": "", "Origins": {"Quantity": 1, "Items": [{
                "Id": "s3-origin", "DomainName": format!("{BUCKET}.s3.us-east-1.amazonaws.com"),
                "OriginAccessControlId": "E2QWRUHEXAMPLE", "S3OriginConfig": {"OriginAccessIdentity": ""}}]}}}],
            "origin_access_controls": [], "origin_access_identities": []},
    });
    World::from_value(&v).expect("bench world loads")
}

fn denied_request() -> Request {
    Request::from_value(&json!({
        "principal": format!("arn:aws:iam::{ACCOUNT}:role/app-role-07"),
        "operation": "GetObject",
        "bucket": BUCKET,
        "key": "team-3/obj-03.csv",
        "context": {"aws:SourceIp": "10.1.2.3"},
    }))
    .expect("bench request loads")
}

/// The World with a bucket policy statement granting exactly the target (s3:GetObject on the
/// object) and, when `key`, a key policy statement granting its kms:Decrypt.
fn patched(world: &World, key: bool) -> World {
    let mut w = world.clone();
    let role = format!("arn:aws:iam::{ACCOUNT}:role/app-role-07");
    let b = w.bucket_mut(BUCKET).expect("bucket");
    let mut p = b.policy.known().expect("policy").to_value();
    p["Statement"]
        .as_array_mut()
        .expect("statements")
        .push(json!({
        "Sid": "S3MedicTarget", "Effect": "Allow", "Principal": {"AWS": role},
        "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{BUCKET}/team-3/obj-03.csv")}));
    b.policy =
        s3medic::world::Part::Known(s3medic::policy::parse_policy_value(&p).expect("policy"));
    if !key {
        w.reindex();
        return w;
    }
    let k = w.kms_keys.iter_mut().find(|k| k.arn == KEY1).expect("key");
    let mut kp = k.policy.known().expect("key policy").to_value();
    kp["Statement"]
        .as_array_mut()
        .expect("statements")
        .push(json!({
        "Sid": "S3MedicTargetKms", "Effect": "Allow", "Principal": {"AWS": role},
        "Action": "kms:Decrypt", "Resource": "*",
        "Condition": {"StringEquals": {"kms:EncryptionContext:aws:s3:arn":
            format!("arn:aws:s3:::{BUCKET}/team-3/obj-03.csv")}}}));
    k.policy =
        s3medic::world::Part::Known(s3medic::policy::parse_policy_value(&kp).expect("policy"));
    w.reindex();
    w
}

fn p_changes_summary(world: &World, req: &Request, opts: &PlanOptions) -> Vec<String> {
    let p = plan(world, req, opts).expect("plan");
    p.changes
        .iter()
        .map(|c| format!("{:?} {:?}", c.action, c.target))
        .collect()
}

fn bench(c: &mut Criterion) {
    let small = world(0);
    let large = world(1000);
    let req = denied_request();
    let opts = PlanOptions::default();
    assert!(!authorize(&small, &req)
        .expect("authorize")
        .decision
        .is_allowed());
    let small_after = patched(&small, true);
    let large_after = patched(&large, true);
    let large_after_bucket_only = patched(&large, false);
    assert!(authorize(&small_after, &req)
        .expect("authorize")
        .decision
        .is_allowed());

    let (proof, prove_peak) = peak_of(|| prove(&small, &small_after, &req, &opts).expect("prove"));
    let (p, plan_peak) = peak_of(|| plan(&small, &req, &opts).expect("plan"));
    let (lp, large_plan_peak) = peak_of(|| plan(&large, &req, &opts).expect("plan"));
    let (large_proof, large_prove_peak) =
        peak_of(|| prove(&large, &large_after, &req, &opts).expect("prove"));
    assert_eq!(proof.new_access, large_proof.new_access);
    let bucket_only = prove(&large, &large_after_bucket_only, &req, &opts).expect("prove");
    eprintln!(
        "plan bench: 1,000 buckets, bucket policy change only: {} checked, {} evaluated; \
         with the key policy change: {} checked, {} evaluated",
        bucket_only.requests_checked,
        bucket_only.requests_evaluated,
        large_proof.requests_checked,
        large_proof.requests_evaluated,
    );
    eprintln!(
        "plan bench: plan() changes: {:?}",
        p_changes_summary(&small, &req, &opts)
    );
    eprintln!(
        "plan bench: prove checked {} requests ({} evaluated, {} skipped), {} new access, \
         target allowed {}; plan(): {} changes, target allowed {}, {} checked; \
         large plan(): {} changes",
        proof.requests_checked,
        proof.requests_evaluated,
        proof.requests_skipped,
        proof.new_access.len(),
        proof.target_allowed,
        p.changes.len(),
        p.proof.target_allowed,
        p.proof.requests_checked,
        lp.changes.len(),
    );
    eprintln!(
        "plan bench: peak heap: plan() {:.1} KiB, prove() {:.1} KiB; 1,000 buckets: plan() \
         {:.1} KiB (includes its World copy), prove() {:.1} KiB",
        plan_peak as f64 / 1024.0,
        prove_peak as f64 / 1024.0,
        large_plan_peak as f64 / 1024.0,
        large_prove_peak as f64 / 1024.0,
    );

    let mut g = c.benchmark_group("plan");
    g.bench_function("denied_request", |b| {
        b.iter(|| plan(black_box(&small), black_box(&req), &opts).expect("plan"))
    });
    g.bench_function("prove_only", |b| {
        b.iter(|| prove(black_box(&small), black_box(&small_after), &req, &opts).expect("prove"))
    });
    g.bench_function("prove_1000_buckets_bucket_policy_change", |b| {
        b.iter(|| {
            prove(
                black_box(&large),
                black_box(&large_after_bucket_only),
                &req,
                &opts,
            )
            .expect("prove")
        })
    });
    g.bench_function("prove_1000_buckets_key_policy_change", |b| {
        b.iter(|| prove(black_box(&large), black_box(&large_after), &req, &opts).expect("prove"))
    });
    g.bench_function("world_clone_1000_buckets", |b| {
        b.iter(|| black_box(&large).clone())
    });
    g.bench_function("denied_request_1000_buckets", |b| {
        b.iter(|| plan(black_box(&large), black_box(&req), &opts).expect("plan"))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Live collection against a local moto server: state set up through the AWS SDK is read back by
//! `s3medic snapshot` (and the library's `collect`) into a World equal to what was set — bucket
//! policy, bucket and account Block Public Access, ownership controls, default SSE-KMS, an object's
//! encryption (key id normalised to the key ARN) and ACL, the KMS key policy, an IAM user's inline
//! policy, a role's trust policy, managed policy and permissions boundary; a bucket without a policy
//! is Absent (NoSuchBucketPolicy), not Unknown.
//!
//! Needs the moto server (`bash scripts/test.sh` installs it into .venv); never skipped.

#[path = "common/moto.rs"]
mod moto;

use std::path::Path;

use aws_sdk_s3::primitives::ByteStream;
use moto::{create_user, must, policy, put_user_policy, unique, Moto, ACCOUNT, REGION};
use s3medic::collect::{collect, Clients, CollectSpec};
use s3medic::world::{
    AclPermission, AttachedPolicy, Grantee, ObjectOwnership, Part, PublicAccessBlock, SseAlgorithm,
    World,
};
use serde_json::{json, Value};

/// AWS's documentation example canonical user id (an ACL grantee that is not the owner).
const OTHER_CANONICAL: &str = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be";

/// What the setup created, for the assertions.
struct Setup {
    bucket: String,
    key: String,
    key_arn: String,
    key_id: String,
    key_policy: Value,
    bucket_policy: Value,
    user_arn: String,
    user_policy_name: String,
    user_policy: Value,
    role_arn: String,
    trust_policy: Value,
    managed_arn: String,
    managed_policy: Value,
    boundary_arn: String,
    boundary_policy: Value,
}

async fn set_up(moto: &Moto) -> Setup {
    let s3 = moto.s3().await;
    let iam = moto.iam().await;
    let kms = moto.kms().await;
    let s3control = moto.s3control().await;

    let bucket = unique("live-collect");
    let key = "reports/2026/q1.csv".to_string();

    // IAM: a user with an inline policy; a role with a trust policy, a managed policy and a
    // permissions boundary (PutUserPermissionsBoundary is not implemented by moto).
    let user_name = unique("alice");
    let user_arn = create_user(&iam, &user_name).await;
    let user_policy_name = "ReadReports".to_string();
    let user_policy = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "ReadReports",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:ListBucket"],
            "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/reports/*")],
            "Condition": {"Bool": {"aws:SecureTransport": "true"}}
        }]
    });
    put_user_policy(&iam, &user_name, &user_policy_name, &user_policy).await;

    let role_name = unique("app");
    let trust_policy = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole"
        }]
    });
    let role = must(
        iam.create_role()
            .role_name(&role_name)
            .assume_role_policy_document(trust_policy.to_string())
            .send()
            .await,
        "CreateRole",
    );
    let role_arn = role.role().expect("role").arn().to_string();
    let managed_policy = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "WriteIncoming",
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": format!("arn:aws:s3:::{bucket}/incoming/*")
        }]
    });
    let managed_name = unique("WriteIncoming");
    let managed = must(
        iam.create_policy()
            .policy_name(&managed_name)
            .policy_document(managed_policy.to_string())
            .send()
            .await,
        "CreatePolicy",
    );
    let managed_arn = managed
        .policy()
        .and_then(|p| p.arn())
        .expect("arn")
        .to_string();
    must(
        iam.attach_role_policy()
            .role_name(&role_name)
            .policy_arn(&managed_arn)
            .send()
            .await,
        "AttachRolePolicy",
    );
    let boundary_policy = json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]
    });
    let boundary = must(
        iam.create_policy()
            .policy_name(unique("Boundary"))
            .policy_document(boundary_policy.to_string())
            .send()
            .await,
        "CreatePolicy (boundary)",
    );
    let boundary_arn = boundary
        .policy()
        .and_then(|p| p.arn())
        .expect("arn")
        .to_string();
    must(
        iam.put_role_permissions_boundary()
            .role_name(&role_name)
            .permissions_boundary(&boundary_arn)
            .send()
            .await,
        "PutRolePermissionsBoundary",
    );

    // KMS: a customer managed key with its own key policy.
    let created = must(kms.create_key().send().await, "CreateKey");
    let meta = created.key_metadata().expect("key metadata");
    let key_id = meta.key_id().to_string();
    let key_arn = meta.arn().expect("key arn").to_string();
    let key_policy = json!({
        "Version": "2012-10-17",
        "Id": "key-policy",
        "Statement": [
            {
                "Sid": "EnableIAM",
                "Effect": "Allow",
                "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
                "Action": "kms:*",
                "Resource": "*"
            },
            {
                "Sid": "AppDecrypt",
                "Effect": "Allow",
                "Principal": {"AWS": role_arn.clone()},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": "*",
                "Condition": {"StringEquals": {"kms:ViaService": format!("s3.{REGION}.amazonaws.com")}}
            }
        ]
    });
    must(
        kms.put_key_policy()
            .key_id(&key_id)
            .policy_name("default")
            .policy(key_policy.to_string())
            .send()
            .await,
        "PutKeyPolicy",
    );

    // S3: bucket policy, BPA, ownership, default SSE-KMS, an object with SSE-KMS and an ACL.
    must(
        s3.create_bucket().bucket(&bucket).send().await,
        "CreateBucket",
    );
    let bucket_policy = json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AppRead",
                "Effect": "Allow",
                "Principal": {"AWS": role_arn.clone()},
                "Action": "s3:GetObject",
                "Resource": format!("arn:aws:s3:::{bucket}/*")
            },
            {
                // moto applies bucket-policy Denies to every caller (it ignores the Principal and
                // most conditions): deny only an action neither the setup nor the collector uses.
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
            .bucket(&bucket)
            .policy(bucket_policy.to_string())
            .send()
            .await,
        "PutBucketPolicy",
    );
    use aws_sdk_s3::types as t;
    must(
        s3.put_public_access_block()
            .bucket(&bucket)
            .public_access_block_configuration(
                t::PublicAccessBlockConfiguration::builder()
                    .block_public_acls(false)
                    .ignore_public_acls(true)
                    .block_public_policy(true)
                    .restrict_public_buckets(false)
                    .build(),
            )
            .send()
            .await,
        "PutPublicAccessBlock (bucket)",
    );
    must(
        s3.put_bucket_ownership_controls()
            .bucket(&bucket)
            .ownership_controls(
                t::OwnershipControls::builder()
                    .rules(
                        t::OwnershipControlsRule::builder()
                            .object_ownership(t::ObjectOwnership::ObjectWriter)
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap(),
            )
            .send()
            .await,
        "PutBucketOwnershipControls",
    );
    must(
        s3.put_bucket_encryption()
            .bucket(&bucket)
            .server_side_encryption_configuration(
                t::ServerSideEncryptionConfiguration::builder()
                    .rules(
                        t::ServerSideEncryptionRule::builder()
                            .apply_server_side_encryption_by_default(
                                t::ServerSideEncryptionByDefault::builder()
                                    .sse_algorithm(t::ServerSideEncryption::AwsKms)
                                    .kms_master_key_id(&key_arn)
                                    .build()
                                    .unwrap(),
                            )
                            .bucket_key_enabled(true)
                            .build(),
                    )
                    .build()
                    .unwrap(),
            )
            .send()
            .await,
        "PutBucketEncryption",
    );
    // The bare key id: moto echoes it back as sent, the World must hold the key ARN.
    must(
        s3.put_object()
            .bucket(&bucket)
            .key(&key)
            .body(ByteStream::from_static(b"a,b\n1,2\n"))
            .server_side_encryption(t::ServerSideEncryption::AwsKms)
            .ssekms_key_id(&key_id)
            .grant_read(format!("id=\"{OTHER_CANONICAL}\""))
            .send()
            .await,
        "PutObject",
    );

    // Account-level Block Public Access through s3control.
    use aws_sdk_s3control::types as ct;
    must(
        s3control
            .put_public_access_block()
            .account_id(ACCOUNT)
            .public_access_block_configuration(
                ct::PublicAccessBlockConfiguration::builder()
                    .block_public_acls(true)
                    .ignore_public_acls(false)
                    .block_public_policy(true)
                    .restrict_public_buckets(false)
                    .build(),
            )
            .send()
            .await,
        "s3control PutPublicAccessBlock",
    );

    Setup {
        bucket,
        key,
        key_arn,
        key_id,
        key_policy,
        bucket_policy,
        user_arn,
        user_policy_name,
        user_policy,
        role_arn,
        trust_policy,
        managed_arn,
        managed_policy,
        boundary_arn,
        boundary_policy,
    }
}

/// Runs `s3medic snapshot` against moto and loads the World it wrote.
fn snapshot(moto: &Moto, dir: &Path, args: &[&str]) -> World {
    let out = dir.join("world.json");
    let _ = std::fs::remove_file(&out);
    let o = moto
        .s3medic()
        .arg("snapshot")
        .args(args)
        .args(["--endpoint-url", &moto.endpoint, "--region", REGION, "-o"])
        .arg(&out)
        .output()
        .expect("run s3medic snapshot");
    assert!(
        o.status.success(),
        "s3medic snapshot {args:?} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let text = std::fs::read_to_string(&out).expect("snapshot file written");
    World::from_json_str(&text).unwrap_or_else(|e| panic!("snapshot does not load: {e}\n{text}"))
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(unique(&format!("s3medic-{name}")));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn bpa(acls: bool, ignore: bool, policy: bool, restrict: bool) -> PublicAccessBlock {
    PublicAccessBlock {
        block_public_acls: acls,
        ignore_public_acls: ignore,
        block_public_policy: policy,
        restrict_public_buckets: restrict,
    }
}

/// Asserts that the World holds exactly what `set_up` wrote.
fn check_world(w: &World, s: &Setup) {
    // The bucket.
    let b = w.bucket(&s.bucket).expect("bucket in the World");
    assert_eq!(b.account_id, ACCOUNT);
    assert_eq!(b.region, REGION);
    assert_eq!(
        b.policy,
        Part::Known(policy(&s.bucket_policy)),
        "bucket policy"
    );
    assert_eq!(
        b.public_access_block,
        Part::Known(bpa(false, true, true, false)),
        "bucket Block Public Access"
    );
    assert_eq!(b.ownership, Part::Known(ObjectOwnership::ObjectWriter));
    let enc = b.encryption.known().expect("default encryption known");
    assert_eq!(enc.algorithm, SseAlgorithm::AwsKms);
    assert_eq!(enc.kms_key_id.as_deref(), Some(s.key_arn.as_str()));
    assert!(enc.bucket_key_enabled, "bucket key enabled");
    assert!(b.acl.is_known(), "bucket ACL read: {:?}", b.acl);

    // The object: SSE-KMS with the key id normalised to the key ARN, and its ACL.
    let o = b.object(&s.key).expect("object in the World");
    let head = o.head.known().expect("object head known");
    assert_eq!(head.sse, Some(SseAlgorithm::AwsKms));
    assert_eq!(
        head.kms_key_id.as_deref(),
        Some(s.key_arn.as_str()),
        "the object's key id `{}` must be normalised to the key ARN",
        s.key_id
    );
    let acl = o.acl.known().expect("object ACL known");
    assert!(
        acl.grants.iter().any(
            |g| g.grantee == Grantee::CanonicalUser(OTHER_CANONICAL.into())
                && g.permission == AclPermission::Read
        ),
        "object ACL has the READ grant: {acl:?}"
    );
    assert!(acl.owner_id.is_some(), "object ACL owner");

    // The KMS key.
    let k = w
        .kms_key(&s.key_arn, ACCOUNT, REGION)
        .expect("KMS key in the World");
    assert_eq!(k.key_id, s.key_id);
    assert_eq!(k.account_id, ACCOUNT);
    assert!(k.enabled);
    assert!(!k.aws_managed);
    assert_eq!(k.policy, Part::Known(policy(&s.key_policy)), "key policy");
    assert!(
        w.kms_key(&s.key_id, ACCOUNT, REGION).is_some(),
        "the key resolves by its bare id"
    );

    // The account: BPA and IAM.
    let a = w.account(ACCOUNT).expect("account in the World");
    assert_eq!(
        a.block_public_access,
        Part::Known(bpa(true, false, true, false)),
        "account Block Public Access"
    );
    // The account's canonical user id is the one S3 writes as owner in its ACLs (moto 5.2.5 answers
    // ListBuckets with a different, fixed Owner.ID than the owner in every ACL; AWS does not).
    assert_eq!(
        a.canonical_user_id,
        b.acl.known().and_then(|acl| acl.owner_id.clone()),
        "the account's canonical user id must be the bucket ACL's owner"
    );
    let iam = a.iam.known().expect("IAM known");
    let u = iam.user_by_arn(&s.user_arn).expect("user in the World");
    let inline = u
        .inline_policies
        .iter()
        .find(|p| p.name == s.user_policy_name)
        .expect("user's inline policy");
    assert_eq!(inline.policy, policy(&s.user_policy), "user inline policy");
    assert_eq!(u.permissions_boundary, None);

    let r = iam.role_by_arn(&s.role_arn).expect("role in the World");
    assert_eq!(
        r.trust_policy.as_ref(),
        Some(&policy(&s.trust_policy)),
        "trust policy"
    );
    assert!(r.inline_policies.is_empty());
    assert_eq!(
        r.attached_policies
            .iter()
            .map(|p| p.arn.as_str())
            .collect::<Vec<_>>(),
        vec![s.managed_arn.as_str()],
        "role's attached policies: {:?}",
        r.attached_policies
    );
    assert!(matches!(
        r.attached_policies.first(),
        Some(AttachedPolicy { name, .. }) if s.managed_arn.ends_with(&format!("/{name}"))
    ));
    assert_eq!(
        r.permissions_boundary.as_deref(),
        Some(s.boundary_arn.as_str())
    );
    assert_eq!(
        iam.managed_policy_document(&s.managed_arn),
        Part::Known(&policy(&s.managed_policy)),
        "managed policy document"
    );
    assert_eq!(
        iam.managed_policy_document(&s.boundary_arn),
        Part::Known(&policy(&s.boundary_policy)),
        "boundary policy document"
    );
}

#[tokio::test]
async fn library_collect_reads_back_every_part_and_counts_calls() {
    let moto = Moto::start();
    let s = set_up(&moto).await;
    let clients = Clients::from_config(moto.sdk_config().await);
    let spec = CollectSpec {
        bucket: s.bucket.clone(),
        keys: vec![s.key.clone()],
        principals: vec![s.user_arn.clone(), s.role_arn.clone()],
        extra_buckets: Vec::new(),
        bucket_account: None,
    };
    let c = collect(&clients, &spec).await.expect("collect");
    check_world(&c.world, &s);
    assert!(c.calls > 0, "API calls counted");
    // Allowed unknown: request payment — moto 5.2.5 does not implement GetBucketRequestPayment
    // and answers `?requestPayment` with a ListObjects body, which the SDK cannot parse. Anything
    // else unreadable is a failure (the account is in no organization: that part is absent).
    let unexpected: Vec<&String> = c
        .unknown
        .iter()
        .filter(|u| !u.contains("request payment"))
        .collect();
    assert!(unexpected.is_empty(), "unreadable parts: {:#?}", c.unknown);
    assert!(
        c.world.accounts.iter().all(|a| a.organization.is_absent()),
        "no organization in moto: absent, not unknown"
    );
}

#[tokio::test]
async fn snapshot_reads_back_every_part_that_was_set() {
    let moto = Moto::start();
    let s = set_up(&moto).await;
    let dir = temp_dir("live-collect");
    let w = snapshot(
        &moto,
        &dir,
        &[
            "--bucket",
            &s.bucket,
            "--key",
            &s.key,
            "--principal",
            &s.user_arn,
            "--principal",
            &s.role_arn,
        ],
    );

    check_world(&w, &s);
    // The snapshot is a fixed point of the World format.
    assert_eq!(World::from_value(&w.to_value()).unwrap(), w);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn bucket_without_policy_is_absent_not_unknown() {
    let moto = Moto::start();
    let s3 = moto.s3().await;
    let bucket = unique("live-nopolicy");
    must(
        s3.create_bucket().bucket(&bucket).send().await,
        "CreateBucket",
    );
    // Confirm moto's answer is the one AWS gives.
    let err = s3
        .get_bucket_policy()
        .bucket(&bucket)
        .send()
        .await
        .expect_err("no bucket policy yet");
    assert_eq!(
        err.as_service_error().and_then(|e| e.meta().code()),
        Some("NoSuchBucketPolicy")
    );

    let dir = temp_dir("live-nopolicy");
    let w = snapshot(&moto, &dir, &["--bucket", &bucket]);
    let b = w.bucket(&bucket).expect("bucket in the World");
    assert_eq!(b.policy, Part::Absent, "NoSuchBucketPolicy means Absent");
    assert_eq!(b.account_id, ACCOUNT);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn library_collect_counts_calls() {
    let moto = Moto::start();
    let s3 = moto.s3().await;
    let bucket = unique("live-lib");
    must(
        s3.create_bucket().bucket(&bucket).send().await,
        "CreateBucket",
    );
    let other = unique("live-lib-extra");
    must(
        s3.create_bucket().bucket(&other).send().await,
        "CreateBucket",
    );

    // Clients from the test's SDK configuration (static credentials, moto endpoint, no retries):
    // no process-wide environment changes while other tests spawn subprocesses. `connect` with
    // `--endpoint-url` is exercised by the CLI tests above.
    let clients = Clients::from_config(moto.sdk_config().await);
    assert_eq!(clients.endpoint.as_deref(), Some(moto.endpoint.as_str()));
    let spec = CollectSpec {
        bucket: bucket.clone(),
        keys: Vec::new(),
        principals: Vec::new(),
        extra_buckets: vec![other.clone()],
        bucket_account: None,
    };
    let c = collect(&clients, &spec).await.expect("collect");
    assert!(c.world.bucket(&bucket).is_some());
    assert!(c.world.bucket(&other).is_some(), "extra bucket collected");
    assert_eq!(c.world.bucket(&other).unwrap().policy, Part::Absent);
    assert!(c.calls > 0, "API calls counted");
}

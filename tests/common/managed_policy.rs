//! The managed-policy case of the live apply tests (tests/live_apply.rs, tests/live_faults.rs):
//! user bob may read one object through his inline policy, but a customer managed policy attached
//! to him denies s3:GetObject on the whole bucket. `plan --live --allow-deny-change` exempts him in
//! that managed policy: a `managed_policy` change, written by `apply` as a new default version.
//! The policy can be given extra older versions first (to reach IAM's limit of five), and the
//! object can be SSE-KMS encrypted under a key whose policy does not name bob (a second change,
//! the key policy, written after the managed policy).
#![allow(dead_code)]

use serde_json::{json, Value};

use super::live::{decode_policy_text, get_object_request};
use super::moto::{create_bucket, create_user, must, put_object, put_user_policy, unique, Moto};

pub struct ManagedCase {
    pub bucket: String,
    pub key: String,
    pub user_name: String,
    pub user_arn: String,
    pub policy_arn: String,
    /// The default version before apply.
    pub default_id: String,
    /// Every version before apply: (id, document), oldest first.
    pub versions: Vec<(String, Value)>,
    /// The key ARN and its original policy, when the object is SSE-KMS encrypted.
    pub kms: Option<(String, Value)>,
}

/// The deny (BUCKET replaced); `sid` tells versions apart.
fn deny(bucket: &str, sid: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": sid,
            "Effect": "Deny",
            "Action": "s3:GetObject",
            "Resource": format!("arn:aws:s3:::{bucket}/*")
        }]
    })
}

/// Sets the case up. `older`: how many older (non-default) versions the managed policy gets
/// before its default one (4 puts it at IAM's limit of five).
pub async fn set_up_managed_deny(moto: &Moto, older: usize, kms: bool) -> ManagedCase {
    let s3 = moto.s3().await;
    let iam = moto.iam().await;
    let bucket = unique("live-managed");
    let key = "reports/q1.csv".to_string();
    create_bucket(&s3, &bucket).await;
    let user_name = unique("bob");
    let user_arn = create_user(&iam, &user_name).await;
    let read = json!({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject",
            "Resource": format!("arn:aws:s3:::{bucket}/{key}")}]
    });
    put_user_policy(&iam, &user_name, "Read", &read).await;

    // The managed policy: `older` versions, then the default one.
    let docs: Vec<Value> = (1..=older)
        .map(|i| deny(&bucket, &format!("DenyReportsV{i}")))
        .chain(std::iter::once(deny(&bucket, "DenyReports")))
        .collect();
    let created = must(
        iam.create_policy()
            .policy_name(unique("DenyReports"))
            .policy_document(docs[0].to_string())
            .send()
            .await,
        "CreatePolicy",
    );
    let policy_arn = created
        .policy()
        .and_then(|p| p.arn())
        .expect("policy arn")
        .to_string();
    for d in docs.iter().skip(1) {
        must(
            iam.create_policy_version()
                .policy_arn(&policy_arn)
                .policy_document(d.to_string())
                .set_as_default(true)
                .send()
                .await,
            "CreatePolicyVersion",
        );
    }
    must(
        iam.attach_user_policy()
            .user_name(&user_name)
            .policy_arn(&policy_arn)
            .send()
            .await,
        "AttachUserPolicy",
    );
    let versions: Vec<(String, Value)> = policy_versions(moto, &policy_arn)
        .await
        .into_iter()
        .map(|(id, _, doc)| (id, doc))
        .collect();
    let default_id = default_version(moto, &policy_arn).await;

    // With `kms`, the key policy names only an administrator role (not the account): bob needs
    // a key policy grant, a change written after the managed policy.
    let kms_out = put_object(moto, &s3, [&bucket, &key], b"a,b\n1,2\n", kms).await;
    ManagedCase {
        bucket,
        key,
        user_name,
        user_arn,
        policy_arn,
        default_id,
        versions,
        kms: kms_out,
    }
}

/// `plan` request flags for bob's GetObject, with `--allow-deny-change`.
pub fn managed_request_flags(c: &ManagedCase) -> Vec<String> {
    let mut flags = get_object_request(&c.user_arn, &c.bucket, &c.key);
    flags.push("--allow-deny-change".into());
    flags
}

/// Every version of `arn` as moto holds it: (id, is default, document), oldest first.
pub async fn policy_versions(moto: &Moto, arn: &str) -> Vec<(String, bool, Value)> {
    let iam = moto.iam().await;
    let listed = must(
        iam.list_policy_versions().policy_arn(arn).send().await,
        "ListPolicyVersions",
    );
    let mut out = Vec::new();
    for v in listed.versions() {
        let id = v.version_id().expect("version id").to_string();
        let got = must(
            iam.get_policy_version()
                .policy_arn(arn)
                .version_id(&id)
                .send()
                .await,
            "GetPolicyVersion",
        );
        let text = got
            .policy_version()
            .and_then(|p| p.document())
            .expect("version document");
        out.push((id, v.is_default_version(), decode_policy_text(text)));
    }
    let number = |id: &str| {
        id.trim_start_matches('v')
            .parse::<u32>()
            .unwrap_or(u32::MAX)
    };
    out.sort_by_key(|(id, _, _)| number(id));
    out
}

/// The policy's default version id (`GetPolicy`).
pub async fn default_version(moto: &Moto, arn: &str) -> String {
    let iam = moto.iam().await;
    let p = must(iam.get_policy().policy_arn(arn).send().await, "GetPolicy");
    p.policy()
        .and_then(|p| p.default_version_id())
        .expect("default version id")
        .to_string()
}

//! Reads the current document of one change target from AWS, in exactly the JSON shape of
//! [`crate::plan::target::document`]: the answer is assembled into a one-target World (with the
//! collector's JSON builders) and rendered by `target::document`, so a document read here and a
//! plan's `before` are comparable digest for digest. A document that does not exist is `null`.
//! Also the reads of an exact undo: one managed-policy version's document, and whether an origin
//! access control exists.

use std::error::Error as StdError;

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use serde_json::{json, Value};

use super::checks::{arn_account, arn_region};
use super::{target_label, ApplyError};
use crate::collect::errors::{
    ApiFailure, HasStatus, NO_SUCH_BUCKET_POLICY, NO_SUCH_PUBLIC_ACCESS_BLOCK,
    OWNERSHIP_CONTROLS_NOT_FOUND,
};
use crate::collect::{cloudfront, iam as iam_json, s3 as s3_json, Clients};
use crate::plan::{target, PrincipalType, Target};
use crate::world::World;

/// IAM: the user, role, policy or inline policy does not exist.
pub const NO_SUCH_ENTITY: &str = "NoSuchEntity";
/// KMS: the key does not exist.
pub const KMS_NOT_FOUND: &str = "NotFoundException";
/// CloudFront: the distribution does not exist.
pub const NO_SUCH_DISTRIBUTION: &str = "NoSuchDistribution";
/// CloudFront: the origin access control does not exist.
pub const NO_SUCH_OAC: &str = "NoSuchOriginAccessControl";

/// An SDK error reduced to an [`ApplyError::Api`] naming the call and the target.
pub(crate) fn api_error(what: &str, target: &Target, f: &ApiFailure) -> ApplyError {
    ApplyError::Api {
        what: format!("{what} on {}", target_label(target)),
        detail: f.describe(),
    }
}

/// Runs an SDK call; a failure whose code is in `absent` is `Ok(None)`.
pub(crate) async fn call<T, E, R>(
    what: &str,
    target: &Target,
    fut: impl std::future::Future<Output = Result<T, SdkError<E, R>>>,
    absent: &[&str],
) -> Result<Option<T>, ApplyError>
where
    E: ProvideErrorMetadata + StdError + 'static,
    R: std::fmt::Debug + HasStatus + 'static,
{
    match fut.await {
        Ok(v) => Ok(Some(v)),
        Err(e) => {
            let f = ApiFailure::from_sdk(&e);
            if !absent.is_empty() && f.has_code(absent) {
                Ok(None)
            } else {
                Err(api_error(what, target, &f))
            }
        }
    }
}

/// The S3 client for a bucket's own region (`GetBucketLocation`).
pub(crate) async fn bucket_client(
    clients: &Clients,
    target: &Target,
    bucket: &str,
) -> Result<(aws_sdk_s3::Client, String), ApplyError> {
    let out = call(
        "GetBucketLocation",
        target,
        clients.s3.get_bucket_location().bucket(bucket).send(),
        &[],
    )
    .await?;
    let region = s3_json::region_of_location(
        out.as_ref()
            .and_then(|o| o.location_constraint())
            .map(|c| c.as_str()),
    );
    Ok((clients.s3_in(&region), region))
}

/// Renders `target`'s document from a one-target World JSON.
fn render(target: &Target, world: Value) -> Result<Value, ApplyError> {
    let world = World::from_value(&world).map_err(|e| ApplyError::Document {
        target: target_label(target),
        detail: e.to_string(),
    })?;
    Ok(target::document(&world, target))
}

/// A World holding one bucket with one part set.
fn bucket_world(bucket: &str, region: &str, field: &str, part: Option<Value>) -> Value {
    json!({"buckets": [{"name": bucket, "account_id": "000000000000", "region": region,
        field: part.unwrap_or(Value::Null)}]})
}

/// The target's current document (`null`: it does not exist).
pub async fn read_document(clients: &Clients, t: &Target) -> Result<Value, ApplyError> {
    match t {
        Target::BucketPolicy { bucket } => {
            let (s3, region) = bucket_client(clients, t, bucket).await?;
            let out = call(
                "GetBucketPolicy",
                t,
                s3.get_bucket_policy().bucket(bucket).send(),
                &[NO_SUCH_BUCKET_POLICY],
            )
            .await?;
            let part = out.and_then(|o| o.policy().map(s3_json::policy_json));
            render(t, bucket_world(bucket, &region, "policy", part))
        }
        Target::BucketOwnership { bucket } => {
            let (s3, region) = bucket_client(clients, t, bucket).await?;
            let out = call(
                "GetBucketOwnershipControls",
                t,
                s3.get_bucket_ownership_controls().bucket(bucket).send(),
                &[OWNERSHIP_CONTROLS_NOT_FOUND],
            )
            .await?;
            let part = out.and_then(|o| o.ownership_controls().map(s3_json::ownership_json));
            render(t, bucket_world(bucket, &region, "ownership_controls", part))
        }
        Target::BucketAcl { bucket } => {
            let (s3, region) = bucket_client(clients, t, bucket).await?;
            let out = call(
                "GetBucketAcl",
                t,
                s3.get_bucket_acl().bucket(bucket).send(),
                &[],
            )
            .await?;
            let part = out.map(|o| s3_json::acl_json(o.owner().and_then(|w| w.id()), o.grants()));
            render(t, bucket_world(bucket, &region, "acl", part))
        }
        Target::BucketPublicAccessBlock { bucket } => {
            let (s3, region) = bucket_client(clients, t, bucket).await?;
            let out = call(
                "GetPublicAccessBlock",
                t,
                s3.get_public_access_block().bucket(bucket).send(),
                &[NO_SUCH_PUBLIC_ACCESS_BLOCK],
            )
            .await?;
            let part = out.and_then(|o| {
                o.public_access_block_configuration()
                    .map(s3_json::public_access_block_json)
            });
            render(
                t,
                bucket_world(bucket, &region, "public_access_block", part),
            )
        }
        Target::AccountPublicAccessBlock { account } => {
            let out = call(
                "s3control GetPublicAccessBlock",
                t,
                clients
                    .s3control
                    .get_public_access_block()
                    .account_id(account)
                    .send(),
                &[NO_SUCH_PUBLIC_ACCESS_BLOCK],
            )
            .await?;
            let part = out.and_then(|o| {
                o.public_access_block_configuration().map(|c| {
                    s3_json::pab_json(
                        c.block_public_acls(),
                        c.ignore_public_acls(),
                        c.block_public_policy(),
                        c.restrict_public_buckets(),
                    )
                })
            });
            render(
                t,
                json!({"accounts": [{"account_id": account, "block_public_access": part}]}),
            )
        }
        Target::InlinePolicy {
            account,
            principal,
            name,
            policy_name,
        } => {
            let doc = match principal {
                PrincipalType::User => call(
                    "GetUserPolicy",
                    t,
                    clients
                        .iam
                        .get_user_policy()
                        .user_name(name)
                        .policy_name(policy_name)
                        .send(),
                    &[NO_SUCH_ENTITY],
                )
                .await?
                .map(|o| o.policy_document().to_string()),
                PrincipalType::Role => call(
                    "GetRolePolicy",
                    t,
                    clients
                        .iam
                        .get_role_policy()
                        .role_name(name)
                        .policy_name(policy_name)
                        .send(),
                    &[NO_SUCH_ENTITY],
                )
                .await?
                .map(|o| o.policy_document().to_string()),
            };
            let Some(doc) = doc else {
                return Ok(Value::Null);
            };
            let inline = json!([{"PolicyName": policy_name, "PolicyDocument": doc}]);
            let (users, roles) = match principal {
                PrincipalType::User => (
                    json!([{"UserName": name, "Arn": format!("arn:aws:iam::{account}:user/{name}"),
                        "UserPolicyList": inline}]),
                    json!([]),
                ),
                PrincipalType::Role => (
                    json!([]),
                    json!([{"RoleName": name, "Arn": format!("arn:aws:iam::{account}:role/{name}"),
                        "RolePolicyList": inline}]),
                ),
            };
            render(
                t,
                json!({"accounts": [{"account_id": account, "iam": {
                    "UserDetailList": users, "GroupDetailList": [], "RoleDetailList": roles,
                    "Policies": []}}]}),
            )
        }
        Target::ManagedPolicy { arn } => {
            let Some(policy) = call(
                "GetPolicy",
                t,
                clients.iam.get_policy().policy_arn(arn).send(),
                &[NO_SUCH_ENTITY],
            )
            .await?
            .and_then(|o| o.policy) else {
                return Ok(Value::Null);
            };
            let Some(version_id) = policy.default_version_id().map(str::to_string) else {
                return Ok(Value::Null);
            };
            let Some(version) = call(
                "GetPolicyVersion",
                t,
                clients
                    .iam
                    .get_policy_version()
                    .policy_arn(arn)
                    .version_id(&version_id)
                    .send(),
                &[NO_SUCH_ENTITY],
            )
            .await?
            .and_then(|o| o.policy_version) else {
                return Ok(Value::Null);
            };
            let detail = aws_sdk_iam::types::ManagedPolicyDetail::builder()
                .arn(arn)
                .set_policy_name(policy.policy_name().map(str::to_string))
                .set_path(policy.path().map(str::to_string))
                .default_version_id(&version_id)
                .policy_version_list(
                    aws_sdk_iam::types::PolicyVersion::builder()
                        .set_document(version.document().map(str::to_string))
                        .version_id(&version_id)
                        .is_default_version(true)
                        .build(),
                )
                .build();
            let account = arn_account(arn).unwrap_or("000000000000");
            render(
                t,
                json!({"accounts": [{"account_id": account, "iam": {
                    "UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [],
                    "Policies": [iam_json::policy_json(&detail)]}}]}),
            )
        }
        Target::KeyPolicy { key_arn } => {
            let kms = clients.kms_in(arn_region(key_arn).unwrap_or(""));
            let out = call(
                "GetKeyPolicy",
                t,
                kms.get_key_policy()
                    .key_id(key_arn)
                    .policy_name("default")
                    .send(),
                &[KMS_NOT_FOUND],
            )
            .await?;
            let Some(text) = out.and_then(|o| o.policy) else {
                return Ok(Value::Null);
            };
            render(
                t,
                json!({"kms_keys": [{"metadata": {"Arn": key_arn}, "policy": {"Policy": text}}]}),
            )
        }
        Target::DistributionOrigin {
            distribution_id, ..
        } => {
            let out = call(
                "GetDistribution",
                t,
                clients
                    .cloudfront
                    .get_distribution()
                    .id(distribution_id)
                    .send(),
                &[NO_SUCH_DISTRIBUTION],
            )
            .await?;
            let Some(d) = out.and_then(|o| o.distribution) else {
                return Ok(Value::Null);
            };
            render(
                t,
                json!({"cloudfront": {"distributions": [cloudfront::distribution_json(&d)],
                    "origin_access_controls": [], "origin_access_identities": []}}),
            )
        }
    }
}

/// A policy document as IAM returns it: JSON, or percent-encoded JSON (AWS encodes managed policy
/// versions; moto does not).
fn decode_policy_document(text: &str) -> Option<Value> {
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        return Some(v);
    }
    let decoded = percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .ok()?;
    serde_json::from_str(&decoded).ok()
}

/// The document of version `version_id` of the managed policy `arn` (`GetPolicyVersion`);
/// `None` when the version (or the policy) does not exist.
pub async fn policy_version_document(
    clients: &Clients,
    arn: &str,
    version_id: &str,
) -> Result<Option<Value>, ApplyError> {
    let t = Target::ManagedPolicy {
        arn: arn.to_string(),
    };
    let Some(version) = call(
        &format!("GetPolicyVersion `{version_id}`"),
        &t,
        clients
            .iam
            .get_policy_version()
            .policy_arn(arn)
            .version_id(version_id)
            .send(),
        &[NO_SUCH_ENTITY],
    )
    .await?
    .and_then(|o| o.policy_version) else {
        return Ok(None);
    };
    let text = version.document().unwrap_or_default();
    decode_policy_document(text)
        .map(Some)
        .ok_or_else(|| ApplyError::Document {
            target: target_label(&t),
            detail: format!("version `{version_id}` is not a JSON policy document"),
        })
}

/// Whether the origin access control `id` exists (`GetOriginAccessControl`).
pub async fn oac_exists(clients: &Clients, t: &Target, id: &str) -> Result<bool, ApplyError> {
    let got = call(
        &format!("GetOriginAccessControl `{id}`"),
        t,
        clients.cloudfront.get_origin_access_control().id(id).send(),
        &[NO_SUCH_OAC],
    )
    .await?;
    Ok(got.is_some())
}

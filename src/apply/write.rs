//! Writes one document to its change target in AWS: `PutBucketPolicy` (never with
//! `ConfirmRemoveSelfBucketAccess`), `PutUserPolicy` / `PutRolePolicy`, `CreatePolicyVersion`
//! (set as default, after pruning the oldest non-default version at IAM's limit of five),
//! `PutKeyPolicy` (policy name `default`, after the lock-out check), `PutBucketAcl`,
//! `PutBucketOwnershipControls`, `PutPublicAccessBlock` (bucket and account) and CloudFront
//! `UpdateDistribution` with `If-Match`. A `null` document deletes where AWS can delete. Also the
//! single calls of an exact undo: managed-policy versions (`ListPolicyVersions`,
//! `CreatePolicyVersion`, `SetDefaultPolicyVersion`, `DeletePolicyVersion`) and origin access
//! controls (`ListOriginAccessControls`, `CreateOriginAccessControl`,
//! `DeleteOriginAccessControl` with `If-Match`).

use serde_json::Value;

use super::checks::{
    arn_account, arn_region, key_policy_keeps_admin, version_to_prune, PolicyVersion,
};
use super::read::{bucket_client, call, NO_SUCH_ENTITY, NO_SUCH_OAC};
use super::{target_label, ApplyError};
use crate::collect::Clients;
use crate::plan::{PrincipalType, Target};

fn bad(target: &Target, detail: impl Into<String>) -> ApplyError {
    ApplyError::Document {
        target: target_label(target),
        detail: detail.into(),
    }
}

/// A policy document as the JSON text the APIs take.
fn policy_text(target: &Target, doc: &Value) -> Result<String, ApplyError> {
    match doc {
        Value::Object(_) => serde_json::to_string(doc).map_err(|e| bad(target, e.to_string())),
        Value::String(s) => Ok(s.clone()),
        _ => Err(bad(target, "a policy document must be a JSON object")),
    }
}

fn flag(c: &Value, k: &str) -> bool {
    c.get(k).and_then(Value::as_bool).unwrap_or(false)
}

/// The four Block Public Access settings of a `{"PublicAccessBlockConfiguration": {...}}`.
fn pab_flags(target: &Target, doc: &Value) -> Result<[bool; 4], ApplyError> {
    let c = doc.get("PublicAccessBlockConfiguration").unwrap_or(doc);
    if !c.is_object() {
        return Err(bad(target, "Block Public Access must be an object"));
    }
    Ok([
        flag(c, "BlockPublicAcls"),
        flag(c, "IgnorePublicAcls"),
        flag(c, "BlockPublicPolicy"),
        flag(c, "RestrictPublicBuckets"),
    ])
}

/// Makes `target`'s document `doc` (`null`: delete it).
pub async fn write_document(clients: &Clients, t: &Target, doc: &Value) -> Result<(), ApplyError> {
    match t {
        Target::BucketPolicy { bucket } => {
            let (s3, _) = bucket_client(clients, t, bucket).await?;
            if doc.is_null() {
                call(
                    "DeleteBucketPolicy",
                    t,
                    s3.delete_bucket_policy().bucket(bucket).send(),
                    &[],
                )
                .await?;
            } else {
                let text = policy_text(t, doc)?;
                call(
                    "PutBucketPolicy",
                    t,
                    s3.put_bucket_policy().bucket(bucket).policy(text).send(),
                    &[],
                )
                .await?;
            }
        }
        Target::BucketOwnership { bucket } => {
            let (s3, _) = bucket_client(clients, t, bucket).await?;
            if doc.is_null() {
                call(
                    "DeleteBucketOwnershipControls",
                    t,
                    s3.delete_bucket_ownership_controls().bucket(bucket).send(),
                    &[],
                )
                .await?;
            } else {
                use aws_sdk_s3::types::{
                    ObjectOwnership, OwnershipControls, OwnershipControlsRule,
                };
                let value = doc
                    .pointer("/OwnershipControls/Rules/0/ObjectOwnership")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad(t, "missing OwnershipControls.Rules[0].ObjectOwnership"))?;
                let rule = OwnershipControlsRule::builder()
                    .object_ownership(ObjectOwnership::from(value))
                    .build()
                    .map_err(|e| bad(t, e.to_string()))?;
                let controls = OwnershipControls::builder()
                    .rules(rule)
                    .build()
                    .map_err(|e| bad(t, e.to_string()))?;
                call(
                    "PutBucketOwnershipControls",
                    t,
                    s3.put_bucket_ownership_controls()
                        .bucket(bucket)
                        .ownership_controls(controls)
                        .send(),
                    &[],
                )
                .await?;
            }
        }
        Target::BucketAcl { bucket } => {
            if doc.is_null() {
                return Err(ApplyError::Unsupported(format!(
                    "a bucket ACL cannot be deleted ({})",
                    target_label(t)
                )));
            }
            let (s3, _) = bucket_client(clients, t, bucket).await?;
            let policy = acl_policy(t, doc)?;
            call(
                "PutBucketAcl",
                t,
                s3.put_bucket_acl()
                    .bucket(bucket)
                    .access_control_policy(policy)
                    .send(),
                &[],
            )
            .await?;
        }
        Target::BucketPublicAccessBlock { bucket } => {
            let (s3, _) = bucket_client(clients, t, bucket).await?;
            if doc.is_null() {
                call(
                    "DeletePublicAccessBlock",
                    t,
                    s3.delete_public_access_block().bucket(bucket).send(),
                    &[],
                )
                .await?;
            } else {
                let [a, b, c, d] = pab_flags(t, doc)?;
                let cfg = aws_sdk_s3::types::PublicAccessBlockConfiguration::builder()
                    .block_public_acls(a)
                    .ignore_public_acls(b)
                    .block_public_policy(c)
                    .restrict_public_buckets(d)
                    .build();
                call(
                    "PutPublicAccessBlock",
                    t,
                    s3.put_public_access_block()
                        .bucket(bucket)
                        .public_access_block_configuration(cfg)
                        .send(),
                    &[],
                )
                .await?;
            }
        }
        Target::AccountPublicAccessBlock { account } => {
            let s3c = &clients.s3control;
            if doc.is_null() {
                call(
                    "s3control DeletePublicAccessBlock",
                    t,
                    s3c.delete_public_access_block().account_id(account).send(),
                    &[],
                )
                .await?;
            } else {
                let [a, b, c, d] = pab_flags(t, doc)?;
                let cfg = aws_sdk_s3control::types::PublicAccessBlockConfiguration::builder()
                    .block_public_acls(a)
                    .ignore_public_acls(b)
                    .block_public_policy(c)
                    .restrict_public_buckets(d)
                    .build();
                call(
                    "s3control PutPublicAccessBlock",
                    t,
                    s3c.put_public_access_block()
                        .account_id(account)
                        .public_access_block_configuration(cfg)
                        .send(),
                    &[],
                )
                .await?;
            }
        }
        Target::InlinePolicy {
            principal,
            name,
            policy_name,
            ..
        } => {
            let iam = &clients.iam;
            match (principal, doc.is_null()) {
                (PrincipalType::User, true) => {
                    call(
                        "DeleteUserPolicy",
                        t,
                        iam.delete_user_policy()
                            .user_name(name)
                            .policy_name(policy_name)
                            .send(),
                        &[NO_SUCH_ENTITY],
                    )
                    .await?;
                }
                (PrincipalType::Role, true) => {
                    call(
                        "DeleteRolePolicy",
                        t,
                        iam.delete_role_policy()
                            .role_name(name)
                            .policy_name(policy_name)
                            .send(),
                        &[NO_SUCH_ENTITY],
                    )
                    .await?;
                }
                (PrincipalType::User, false) => {
                    call(
                        "PutUserPolicy",
                        t,
                        iam.put_user_policy()
                            .user_name(name)
                            .policy_name(policy_name)
                            .policy_document(policy_text(t, doc)?)
                            .send(),
                        &[],
                    )
                    .await?;
                }
                (PrincipalType::Role, false) => {
                    call(
                        "PutRolePolicy",
                        t,
                        iam.put_role_policy()
                            .role_name(name)
                            .policy_name(policy_name)
                            .policy_document(policy_text(t, doc)?)
                            .send(),
                        &[],
                    )
                    .await?;
                }
            }
        }
        Target::ManagedPolicy { arn } => {
            if doc.is_null() {
                return Err(ApplyError::Unsupported(format!(
                    "s3medic does not delete managed policies ({})",
                    target_label(t)
                )));
            }
            let versions = list_policy_versions(clients, arn).await?;
            if let Some(old) = version_to_prune(&versions) {
                delete_policy_version(clients, arn, &old).await?;
            }
            create_policy_version(clients, arn, doc, true).await?;
        }
        Target::KeyPolicy { key_arn } => {
            if doc.is_null() {
                return Err(ApplyError::Unsupported(format!(
                    "a key policy cannot be deleted ({})",
                    target_label(t)
                )));
            }
            key_policy_keeps_admin(doc, arn_account(key_arn).unwrap_or(""))
                .map_err(ApplyError::Unsafe)?;
            let kms = clients.kms_in(arn_region(key_arn).unwrap_or(""));
            call(
                "PutKeyPolicy",
                t,
                kms.put_key_policy()
                    .key_id(key_arn)
                    .policy_name("default")
                    .policy(policy_text(t, doc)?)
                    .send(),
                &[],
            )
            .await?;
        }
        Target::DistributionOrigin {
            distribution_id,
            origin_id,
        } => {
            write_origin(clients, t, distribution_id, origin_id, doc).await?;
        }
    }
    Ok(())
}

/// A bucket ACL document (`{"Owner": {"ID"}, "Grants": [...]}`) as the SDK's policy.
fn acl_policy(
    t: &Target,
    doc: &Value,
) -> Result<aws_sdk_s3::types::AccessControlPolicy, ApplyError> {
    use aws_sdk_s3::types::{AccessControlPolicy, Grant, Grantee, Owner, Permission, Type};
    let mut grants = Vec::new();
    for g in doc
        .get("Grants")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
    {
        let ge = g.get("Grantee").cloned().unwrap_or(Value::Null);
        let s = |k: &str| ge.get(k).and_then(Value::as_str).map(str::to_string);
        let kind = s("Type").ok_or_else(|| bad(t, "a grant has no Grantee.Type"))?;
        let grantee = Grantee::builder()
            .r#type(Type::from(kind.as_str()))
            .set_id(s("ID"))
            .set_uri(s("URI"))
            .set_email_address(s("EmailAddress"))
            .set_display_name(s("DisplayName"))
            .build()
            .map_err(|e| bad(t, e.to_string()))?;
        let perm = g
            .get("Permission")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(t, "a grant has no Permission"))?;
        grants.push(
            Grant::builder()
                .grantee(grantee)
                .permission(Permission::from(perm))
                .build(),
        );
    }
    let owner = doc
        .pointer("/Owner/ID")
        .and_then(Value::as_str)
        .map(|id| Owner::builder().id(id).build());
    Ok(AccessControlPolicy::builder()
        .set_grants(Some(grants))
        .set_owner(owner)
        .build())
}

/// CloudFront: sets the origin's origin access control (creating it first for `new:NAME`) or
/// origin access identity as `doc` says, with `UpdateDistribution` and `If-Match`.
async fn write_origin(
    clients: &Clients,
    t: &Target,
    distribution_id: &str,
    origin_id: &str,
    doc: &Value,
) -> Result<(), ApplyError> {
    if doc.is_null() {
        return Err(ApplyError::Unsupported(format!(
            "s3medic does not remove CloudFront origins ({})",
            target_label(t)
        )));
    }
    let cf = &clients.cloudfront;
    let out = call(
        "GetDistributionConfig",
        t,
        cf.get_distribution_config().id(distribution_id).send(),
        &[],
    )
    .await?
    .ok_or_else(|| bad(t, "no distribution config"))?;
    let etag = out.e_tag().map(str::to_string);
    let mut config = out
        .distribution_config
        .ok_or_else(|| bad(t, "GetDistributionConfig returned no config"))?;
    let wanted_oac = doc
        .get("OriginAccessControlId")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let wanted_oai = doc
        .pointer("/S3OriginConfig/OriginAccessIdentity")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let oac_id = match wanted_oac.strip_prefix("new:") {
        Some(name) => Some(ensure_oac(clients, t, name).await?),
        None if wanted_oac.is_empty() => None,
        None => Some(wanted_oac),
    };
    let origins = config
        .origins
        .as_mut()
        .ok_or_else(|| bad(t, "the distribution has no origins"))?;
    let origin = origins
        .items
        .iter_mut()
        .find(|o| o.id == origin_id)
        .ok_or_else(|| bad(t, format!("the distribution has no origin `{origin_id}`")))?;
    origin.origin_access_control_id = Some(oac_id.clone().unwrap_or_default());
    let oai = if oac_id.is_some() {
        String::new()
    } else {
        wanted_oai
    };
    match origin.s3_origin_config.as_mut() {
        Some(s3) => s3.origin_access_identity = oai,
        None if origin.custom_origin_config.is_none() => {
            origin.s3_origin_config = Some(
                aws_sdk_cloudfront::types::S3OriginConfig::builder()
                    .origin_access_identity(oai)
                    .build(),
            );
        }
        None => {}
    }
    call(
        "UpdateDistribution",
        t,
        cf.update_distribution()
            .id(distribution_id)
            .set_if_match(etag)
            .distribution_config(config)
            .send(),
        &[],
    )
    .await?;
    Ok(())
}

/// The id of the origin access control named `name` (S3, always sign, SigV4), created when no
/// such control exists.
async fn ensure_oac(clients: &Clients, t: &Target, name: &str) -> Result<String, ApplyError> {
    match find_oac(clients, t, name).await? {
        Some(id) => Ok(id),
        None => create_oac(clients, t, name).await,
    }
}

/// The id of the origin access control named `name`, if one exists (every page of
/// `ListOriginAccessControls`).
pub async fn find_oac(
    clients: &Clients,
    t: &Target,
    name: &str,
) -> Result<Option<String>, ApplyError> {
    let cf = &clients.cloudfront;
    let mut marker: Option<String> = None;
    loop {
        let listed = call(
            "ListOriginAccessControls",
            t,
            cf.list_origin_access_controls()
                .set_marker(marker.clone())
                .send(),
            &[],
        )
        .await?;
        let Some(list) = listed.as_ref().and_then(|o| o.origin_access_control_list()) else {
            return Ok(None);
        };
        if let Some(found) = list.items().iter().find(|i| i.name() == name) {
            return Ok(Some(found.id().to_string()));
        }
        match list.next_marker().filter(|m| !m.is_empty()) {
            Some(next) if list.is_truncated() && marker.as_deref() != Some(next) => {
                marker = Some(next.to_string());
            }
            _ => return Ok(None),
        }
    }
}

/// Creates an S3 origin access control named `name` (always sign, SigV4); returns its id.
pub async fn create_oac(clients: &Clients, t: &Target, name: &str) -> Result<String, ApplyError> {
    use aws_sdk_cloudfront::types::{
        OriginAccessControlConfig, OriginAccessControlOriginTypes,
        OriginAccessControlSigningBehaviors, OriginAccessControlSigningProtocols,
    };
    let cfg = OriginAccessControlConfig::builder()
        .name(name)
        .description("created by s3medic apply")
        .signing_protocol(OriginAccessControlSigningProtocols::Sigv4)
        .signing_behavior(OriginAccessControlSigningBehaviors::Always)
        .origin_access_control_origin_type(OriginAccessControlOriginTypes::S3)
        .build()
        .map_err(|e| bad(t, e.to_string()))?;
    let created = call(
        "CreateOriginAccessControl",
        t,
        clients
            .cloudfront
            .create_origin_access_control()
            .origin_access_control_config(cfg)
            .send(),
        &[],
    )
    .await?
    .and_then(|o| o.origin_access_control)
    .ok_or_else(|| bad(t, "CreateOriginAccessControl returned no control"))?;
    Ok(created.id().to_string())
}

/// Deletes the origin access control `id`: `GetOriginAccessControl` for its ETag, then
/// `DeleteOriginAccessControl` with `If-Match`. A control that does not exist is not an error.
pub async fn delete_oac(clients: &Clients, t: &Target, id: &str) -> Result<(), ApplyError> {
    let cf = &clients.cloudfront;
    let Some(got) = call(
        "GetOriginAccessControl",
        t,
        cf.get_origin_access_control().id(id).send(),
        &[NO_SUCH_OAC],
    )
    .await?
    else {
        return Ok(());
    };
    call(
        &format!("DeleteOriginAccessControl `{id}`"),
        t,
        cf.delete_origin_access_control()
            .id(id)
            .set_if_match(got.e_tag().map(str::to_string))
            .send(),
        &[NO_SUCH_OAC],
    )
    .await?;
    Ok(())
}

/// The label managed-policy calls name in their errors.
fn policy_target(arn: &str) -> Target {
    Target::ManagedPolicy {
        arn: arn.to_string(),
    }
}

/// Every version of a managed policy (`ListPolicyVersions`, every page).
pub async fn list_policy_versions(
    clients: &Clients,
    arn: &str,
) -> Result<Vec<PolicyVersion>, ApplyError> {
    let t = policy_target(arn);
    let mut out = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let Some(page) = call(
            "ListPolicyVersions",
            &t,
            clients
                .iam
                .list_policy_versions()
                .policy_arn(arn)
                .set_marker(marker.clone())
                .send(),
            &[],
        )
        .await?
        else {
            return Ok(out);
        };
        out.extend(page.versions().iter().map(|v| PolicyVersion {
            id: v.version_id().unwrap_or_default().to_string(),
            is_default: v.is_default_version(),
            created: v.create_date().map(|d| d.secs()),
        }));
        match page.marker().filter(|m| !m.is_empty()) {
            Some(next) if page.is_truncated() && marker.as_deref() != Some(next) => {
                marker = Some(next.to_string());
            }
            _ => return Ok(out),
        }
    }
}

/// `CreatePolicyVersion`; returns the new version's id.
pub async fn create_policy_version(
    clients: &Clients,
    arn: &str,
    doc: &Value,
    set_as_default: bool,
) -> Result<String, ApplyError> {
    let t = policy_target(arn);
    let text = policy_text(&t, doc)?;
    let out = call(
        "CreatePolicyVersion",
        &t,
        clients
            .iam
            .create_policy_version()
            .policy_arn(arn)
            .policy_document(text)
            .set_as_default(set_as_default)
            .send(),
        &[],
    )
    .await?;
    out.and_then(|o| o.policy_version)
        .and_then(|v| v.version_id)
        .ok_or_else(|| bad(&t, "CreatePolicyVersion returned no version id"))
}

/// `SetDefaultPolicyVersion`.
pub async fn set_default_policy_version(
    clients: &Clients,
    arn: &str,
    version_id: &str,
) -> Result<(), ApplyError> {
    let t = policy_target(arn);
    call(
        &format!("SetDefaultPolicyVersion `{version_id}`"),
        &t,
        clients
            .iam
            .set_default_policy_version()
            .policy_arn(arn)
            .version_id(version_id)
            .send(),
        &[],
    )
    .await?;
    Ok(())
}

/// `DeletePolicyVersion`; a version that does not exist is not an error.
pub async fn delete_policy_version(
    clients: &Clients,
    arn: &str,
    version_id: &str,
) -> Result<(), ApplyError> {
    let t = policy_target(arn);
    call(
        &format!("DeletePolicyVersion `{version_id}`"),
        &t,
        clients
            .iam
            .delete_policy_version()
            .policy_arn(arn)
            .version_id(version_id)
            .send(),
        &[NO_SUCH_ENTITY],
    )
    .await?;
    Ok(())
}

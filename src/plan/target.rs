//! Reading and writing the document a change [`Target`] names, in a World. The planner edits a
//! copy of the World through typed mutations; these functions turn a target into the JSON document
//! of a plan (`before` / `after`) and write such a document back (applying a plan to a World).

use serde_json::{json, Value};

use crate::plan::change::{PrincipalType, Target};
use crate::plan::PlanError;
use crate::policy::parse_policy_value;
use crate::world::{NamedPolicy, ObjectOwnership, Part, PublicAccessBlock, World};

/// The document a target names, as JSON (`null` when it does not exist).
pub fn document(world: &World, target: &Target) -> Value {
    match target {
        Target::BucketPolicy { bucket } => match world.bucket(bucket).map(|b| &b.policy) {
            Some(Part::Known(p)) => p.to_value(),
            _ => Value::Null,
        },
        Target::BucketOwnership { bucket } => match world.bucket(bucket).map(|b| &b.ownership) {
            Some(Part::Known(o)) => ownership_value(*o),
            _ => Value::Null,
        },
        Target::BucketAcl { bucket } => match world.bucket(bucket).map(|b| &b.acl) {
            Some(Part::Known(a)) => a.to_value(),
            _ => Value::Null,
        },
        Target::BucketPublicAccessBlock { bucket } => {
            match world.bucket(bucket).map(|b| &b.public_access_block) {
                Some(Part::Known(p)) => pab_value(p),
                _ => Value::Null,
            }
        }
        Target::AccountPublicAccessBlock { account } => {
            match world.account(account).map(|a| &a.block_public_access) {
                Some(Part::Known(p)) => pab_value(p),
                _ => Value::Null,
            }
        }
        Target::InlinePolicy {
            account,
            principal,
            name,
            policy_name,
        } => {
            let Some(iam) = world.account(account).and_then(|a| a.iam.known()) else {
                return Value::Null;
            };
            let list = match principal {
                PrincipalType::User => iam.user_by_name(name).map(|u| &u.inline_policies),
                PrincipalType::Role => iam.role_by_name(name).map(|r| &r.inline_policies),
            };
            list.and_then(|l| l.iter().find(|p| &p.name == policy_name))
                .map(|p| p.policy.to_value())
                .unwrap_or(Value::Null)
        }
        Target::ManagedPolicy { arn } => world
            .accounts
            .iter()
            .filter_map(|a| a.iam.known())
            .find_map(|iam| iam.managed_policy(arn))
            .and_then(|m| m.document.known())
            .map(|p| p.to_value())
            .unwrap_or(Value::Null),
        Target::KeyPolicy { key_arn } => world
            .kms_keys
            .iter()
            .find(|k| &k.arn == key_arn)
            .and_then(|k| k.policy.known())
            .map(|p| p.to_value())
            .unwrap_or(Value::Null),
        Target::DistributionOrigin {
            distribution_id,
            origin_id,
        } => world
            .distribution(distribution_id)
            .and_then(|d| d.origins.iter().find(|o| &o.id == origin_id))
            .map(|o| {
                json!({
                    "Id": o.id,
                    "DomainName": o.domain_name,
                    "OriginAccessControlId": o.oac_id.clone().unwrap_or_default(),
                    "S3OriginConfig": {"OriginAccessIdentity": o.oai_id.as_ref().map(|id| format!("origin-access-identity/cloudfront/{id}")).unwrap_or_default()},
                })
            })
            .unwrap_or(Value::Null),
    }
}

fn ownership_value(o: ObjectOwnership) -> Value {
    json!({"OwnershipControls": {"Rules": [{"ObjectOwnership": o.as_str()}]}})
}

fn pab_value(p: &PublicAccessBlock) -> Value {
    json!({"PublicAccessBlockConfiguration": {
        "BlockPublicAcls": p.block_public_acls,
        "IgnorePublicAcls": p.ignore_public_acls,
        "BlockPublicPolicy": p.block_public_policy,
        "RestrictPublicBuckets": p.restrict_public_buckets,
    }})
}

fn parse_pab(v: &Value) -> Result<PublicAccessBlock, PlanError> {
    let c = v.get("PublicAccessBlockConfiguration").unwrap_or(v);
    let flag = |k: &str| c.get(k).and_then(Value::as_bool).unwrap_or(false);
    if !c.is_object() {
        return Err(PlanError::Document(
            "public access block must be an object".into(),
        ));
    }
    Ok(PublicAccessBlock {
        block_public_acls: flag("BlockPublicAcls"),
        ignore_public_acls: flag("IgnorePublicAcls"),
        block_public_policy: flag("BlockPublicPolicy"),
        restrict_public_buckets: flag("RestrictPublicBuckets"),
    })
}

/// A Block Public Access document as a part (`null`: absent).
fn pab_part(doc: &Value) -> Result<Part<PublicAccessBlock>, PlanError> {
    if doc.is_null() {
        Ok(Part::Absent)
    } else {
        parse_pab(doc).map(Part::Known)
    }
}

fn policy_part(v: &Value, what: &str) -> Result<Part<crate::policy::Policy>, PlanError> {
    if v.is_null() {
        return Ok(Part::Absent);
    }
    parse_policy_value(v)
        .map(Part::Known)
        .map_err(|e| PlanError::Document(format!("{what}: {e}")))
}

/// Writes `doc` (a plan's `after`, or a snapshot's `before`) to the target in `world`.
pub fn set_document(world: &mut World, target: &Target, doc: &Value) -> Result<(), PlanError> {
    let missing = |what: String| PlanError::Document(format!("{what} is not in the world"));
    match target {
        Target::BucketPolicy { bucket } => {
            let part = policy_part(doc, &format!("bucket policy of `{bucket}`"))?;
            world
                .bucket_mut(bucket)
                .ok_or_else(|| missing(format!("bucket `{bucket}`")))?
                .policy = part;
        }
        Target::BucketOwnership { bucket } => {
            let part = if doc.is_null() {
                Part::Absent
            } else {
                let s = doc
                    .pointer("/OwnershipControls/Rules/0/ObjectOwnership")
                    .and_then(Value::as_str)
                    .and_then(ObjectOwnership::parse)
                    .ok_or_else(|| PlanError::Document("invalid ownership controls".into()))?;
                Part::Known(s)
            };
            world
                .bucket_mut(bucket)
                .ok_or_else(|| missing(format!("bucket `{bucket}`")))?
                .ownership = part;
        }
        Target::BucketAcl { bucket } => {
            let part = if doc.is_null() {
                Part::Absent
            } else {
                Part::Known(
                    crate::world::Acl::from_value(doc, "bucket ACL")
                        .map_err(|e| PlanError::Document(e.to_string()))?,
                )
            };
            world
                .bucket_mut(bucket)
                .ok_or_else(|| missing(format!("bucket `{bucket}`")))?
                .acl = part;
        }
        Target::BucketPublicAccessBlock { bucket } => {
            let part = pab_part(doc)?;
            world
                .bucket_mut(bucket)
                .ok_or_else(|| missing(format!("bucket `{bucket}`")))?
                .public_access_block = part;
        }
        Target::AccountPublicAccessBlock { account } => {
            let part = pab_part(doc)?;
            world
                .account_mut(account)
                .ok_or_else(|| missing(format!("account `{account}`")))?
                .block_public_access = part;
        }
        Target::InlinePolicy {
            account,
            principal,
            name,
            policy_name,
        } => {
            let policy =
                match policy_part(doc, &format!("inline policy `{policy_name}` of `{name}`"))? {
                    Part::Known(p) => Some(p),
                    _ => None,
                };
            let iam = world
                .account_mut(account)
                .and_then(|a| a.iam.known_mut())
                .ok_or_else(|| missing(format!("IAM data of account `{account}`")))?;
            let list = match principal {
                PrincipalType::User => iam
                    .users
                    .iter_mut()
                    .find(|u| &u.name == name)
                    .map(|u| &mut u.inline_policies),
                PrincipalType::Role => iam
                    .roles
                    .iter_mut()
                    .find(|r| &r.name == name)
                    .map(|r| &mut r.inline_policies),
            }
            .ok_or_else(|| missing(format!("principal `{name}` in account `{account}`")))?;
            match (list.iter().position(|p| &p.name == policy_name), policy) {
                (Some(i), Some(p)) => {
                    if let Some(slot) = list.get_mut(i) {
                        slot.policy = p;
                    }
                }
                (Some(i), None) => {
                    list.remove(i);
                }
                (None, Some(p)) => list.push(NamedPolicy {
                    name: policy_name.clone(),
                    policy: p,
                }),
                (None, None) => {}
            }
            iam.reindex();
        }
        Target::ManagedPolicy { arn } => {
            let part = policy_part(doc, &format!("managed policy `{arn}`"))?;
            let m = world
                .accounts
                .iter_mut()
                .filter_map(|a| a.iam.known_mut())
                .find_map(|iam| iam.managed_policies.iter_mut().find(|m| &m.arn == arn))
                .ok_or_else(|| missing(format!("managed policy `{arn}`")))?;
            m.document = part;
        }
        Target::KeyPolicy { key_arn } => {
            let part = policy_part(doc, &format!("key policy of `{key_arn}`"))?;
            world
                .kms_keys
                .iter_mut()
                .find(|k| &k.arn == key_arn)
                .ok_or_else(|| missing(format!("KMS key `{key_arn}`")))?
                .policy = part;
        }
        Target::DistributionOrigin {
            distribution_id,
            origin_id,
        } => {
            let oac = doc
                .get("OriginAccessControlId")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(String::from);
            let cf = world
                .cloudfront
                .known_mut()
                .ok_or_else(|| missing("CloudFront data".to_string()))?;
            let origin = cf
                .distributions
                .iter_mut()
                .find(|d| &d.id == distribution_id)
                .and_then(|d| d.origins.iter_mut().find(|o| &o.id == origin_id))
                .ok_or_else(|| {
                    missing(format!(
                        "origin `{origin_id}` of distribution `{distribution_id}`"
                    ))
                })?;
            origin.oac_id = oac;
            if origin.oac_id.is_some() {
                origin.oai_id = None;
            }
        }
    }
    world.reindex();
    Ok(())
}

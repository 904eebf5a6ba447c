//! Fix synthesis: for each Finding, the smallest safe edit of the World — one statement with
//! exactly the action needed on the narrowest resource, a wrong-level ARN corrected in place, both
//! sides of a cross-account grant, KMS grants scoped with kms:ViaService, the OAC grant pinned to
//! its distribution, Bucket owner enforced after moving ACL grants — or, where s3medic must not or
//! cannot act (guardrails, SCPs, RCPs, endpoint policies, caller-side mistakes), a manual step
//! with the exact statement and who must apply it.
//!
//! Every edit goes through the document of its [`Target`] (JSON) and back through the same
//! parsers that read a World, so the planner can only write documents s3medic itself accepts.

use serde_json::{json, Map, Value};

use crate::diagnose::{Cause, Evidence, Finding};
use crate::plan::change::{ChangeAction, ManualStep, PrincipalType, Risk, Target};
use crate::plan::exempt::{self, Scope};
use crate::plan::target::{document, set_document};
use crate::plan::{PlanError, PlanOptions, INLINE_POLICY_NAME, SID_PREFIX};
use crate::request::{PrincipalRef, Request};
use crate::world::{Acl, Grantee, ObjectOwnership, Part, World};

/// What one fix did: the targets it edited (with a one-line summary each) and the manual steps.
#[derive(Debug, Default)]
pub struct Fix {
    pub touched: Vec<(Target, String)>,
    pub manual: Vec<ManualStep>,
}

impl Fix {
    fn manual(
        playbook: Cause,
        who: impl Into<String>,
        action: impl Into<String>,
        statement: Option<Value>,
    ) -> Fix {
        Fix {
            touched: Vec::new(),
            manual: vec![ManualStep {
                playbook: playbook.id().to_string(),
                who: who.into(),
                action: action.into(),
                statement,
            }],
        }
    }
}

/// The fix of one finding, applied to `world`.
pub fn fix(
    world: &mut World,
    request: &Request,
    f: &Finding,
    opts: &PlanOptions,
) -> Result<Fix, PlanError> {
    let caller = CallerFacts::of(world, request);
    match f.cause {
        Cause::IdentityMissingAllow => {
            identity_grant(world, &caller, f, &f.action, &f.resource, None)
        }
        Cause::WrongArnLevel => wrong_arn_level(world, &caller, f),
        Cause::CrossAccountResourceMissing => resource_grant(world, request, &caller, f, opts),
        Cause::KmsIdentityMissing => {
            let cond = kms_condition(world, request, f);
            identity_grant(world, &caller, f, &f.action, &f.resource, Some(cond))
        }
        Cause::KmsKeyPolicyMissing => key_policy_grant(world, request, &caller, f),
        Cause::CloudfrontOacGrantMissing => oac_grant(world, request, f),
        Cause::CloudfrontNoOac => attach_oac(world, request, f),
        Cause::CloudfrontOaiSseKms => migrate_oai_to_oac(world, request, f),
        Cause::ObjectOwnedByOtherAccount => enforce_ownership(world, request, f, opts),
        Cause::BoundaryCap => boundary_grant(world, &caller, f),
        Cause::BucketPolicyDeny | Cause::IdentityDeny if opts.allow_deny_change => {
            exempt_from_deny(world, request, &caller, f)
        }
        Cause::GuardrailDeny if opts.allow_guardrail_change => {
            exempt_from_deny(world, request, &caller, f)
        }
        Cause::BpaBlocksPublicAccess if opts.allow_public => relax_bpa(world, request, f),
        _ => Ok(manual_step(world, request, &caller, f, opts)),
    }
}

/// Who the caller is, for writing grants.
struct CallerFacts {
    account: Option<String>,
    /// The IAM entity whose inline policy s3medic may extend.
    entity: Option<(PrincipalType, String)>,
    /// The ARN a resource policy should name (user ARN, role ARN, root ARN).
    grant_arn: Option<String>,
    describe: String,
}

impl CallerFacts {
    fn of(world: &World, request: &Request) -> CallerFacts {
        let iam = |acct: &str| world.account(acct).and_then(|a| a.iam.known());
        match &request.principal {
            PrincipalRef::User {
                account, name, arn, ..
            } => CallerFacts {
                account: Some(account.clone()),
                entity: Some((PrincipalType::User, name.clone())),
                grant_arn: Some(
                    iam(account)
                        .and_then(|i| i.user_by_name(name))
                        .map(|u| u.arn.clone())
                        .unwrap_or_else(|| arn.clone()),
                ),
                describe: arn.clone(),
            },
            PrincipalRef::Role {
                account, name, arn, ..
            } => CallerFacts {
                account: Some(account.clone()),
                entity: Some((PrincipalType::Role, name.clone())),
                grant_arn: Some(
                    iam(account)
                        .and_then(|i| i.role_by_name(name))
                        .map(|r| r.arn.clone())
                        .unwrap_or_else(|| arn.clone()),
                ),
                describe: arn.clone(),
            },
            PrincipalRef::AssumedRole {
                account,
                role_name,
                arn,
                ..
            } => CallerFacts {
                account: Some(account.clone()),
                entity: Some((PrincipalType::Role, role_name.clone())),
                grant_arn: Some(
                    iam(account)
                        .and_then(|i| i.role_by_name(role_name))
                        .map(|r| r.arn.clone())
                        .unwrap_or_else(|| {
                            format!("arn:{}:iam::{account}:role/{role_name}", world.partition)
                        }),
                ),
                describe: arn.clone(),
            },
            PrincipalRef::Account { account } => CallerFacts {
                account: Some(account.clone()),
                entity: None,
                grant_arn: Some(format!("arn:{}:iam::{account}:root", world.partition)),
                describe: format!("the root user of {account}"),
            },
            PrincipalRef::FederatedUser { account, arn, .. } => CallerFacts {
                account: Some(account.clone()),
                entity: None,
                grant_arn: Some(arn.clone()),
                describe: arn.clone(),
            },
            PrincipalRef::Service { name } => CallerFacts {
                account: None,
                entity: None,
                grant_arn: None,
                describe: name.clone(),
            },
            PrincipalRef::Anonymous => CallerFacts {
                account: None,
                entity: None,
                grant_arn: None,
                describe: "anonymous".into(),
            },
        }
    }
}

/// `S3MedicGetObject` etc.: a recognisable, unique Sid.
fn sid_for(action: &str, taken: &[String]) -> String {
    let base: String = std::iter::once(SID_PREFIX.to_string())
        .chain(action.split(':').map(|p| {
            let mut c = p.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        }))
        .collect::<String>()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    if !taken.contains(&base) {
        return base;
    }
    (2..)
        .map(|n| format!("{base}{n}"))
        .find(|s| !taken.contains(s))
        .unwrap_or(base)
}

fn statements_mut(doc: &mut Value) -> Result<&mut Vec<Value>, PlanError> {
    if doc.is_null() {
        *doc = json!({"Version": "2012-10-17", "Statement": []});
    }
    let obj = doc
        .as_object_mut()
        .ok_or_else(|| PlanError::Document("a policy document is not a JSON object".into()))?;
    let st = obj.entry("Statement").or_insert_with(|| json!([]));
    if st.is_object() {
        let one = st.take();
        *st = Value::Array(vec![one]);
    }
    st.as_array_mut()
        .ok_or_else(|| PlanError::Document("`Statement` is not an array".into()))
}

fn sids(stmts: &[Value]) -> Vec<String> {
    stmts
        .iter()
        .filter_map(|s| s.get("Sid").and_then(Value::as_str).map(String::from))
        .collect()
}

/// Adds `stmt` (without Sid) to the policy document of `target`, merging the action into an
/// existing s3medic statement with the same principal, resource and condition. Returns false when
/// an identical grant already exists.
fn add_statement(
    world: &mut World,
    target: &Target,
    action: &str,
    mut stmt: Map<String, Value>,
) -> Result<bool, PlanError> {
    let mut doc = document(world, target);
    let stmts = statements_mut(&mut doc)?;
    let same_shape = |s: &Value| {
        s.get("Sid")
            .and_then(Value::as_str)
            .is_some_and(|sid| sid.starts_with(SID_PREFIX))
            && s.get("Effect") == stmt.get("Effect")
            && s.get("Principal") == stmt.get("Principal")
            && s.get("Resource") == stmt.get("Resource")
            && s.get("Condition") == stmt.get("Condition")
    };
    if let Some(existing) = stmts.iter_mut().find(|s| same_shape(s)) {
        let actions = existing.get_mut("Action");
        match actions {
            Some(Value::String(a)) if a.eq_ignore_ascii_case(action) => return Ok(false),
            Some(Value::String(a)) => {
                let first = a.clone();
                existing["Action"] = json!([first, action]);
            }
            Some(Value::Array(list)) => {
                if list
                    .iter()
                    .any(|a| a.as_str().is_some_and(|a| a.eq_ignore_ascii_case(action)))
                {
                    return Ok(false);
                }
                list.push(json!(action));
            }
            _ => existing["Action"] = json!(action),
        }
    } else {
        let sid = sid_for(action, &sids(stmts));
        let mut ordered = Map::new();
        ordered.insert("Sid".into(), json!(sid));
        ordered.insert("Effect".into(), json!("Allow"));
        for k in ["Principal", "Action", "Resource", "Condition"] {
            if let Some(v) = stmt.remove(k) {
                ordered.insert(k.into(), v);
            }
        }
        stmts.push(Value::Object(ordered));
    }
    set_document(world, target, &doc)?;
    Ok(true)
}

/// An Allow of `action` on `resource` in the caller's s3medic inline policy.
fn identity_grant(
    world: &mut World,
    caller: &CallerFacts,
    f: &Finding,
    action: &str,
    resource: &str,
    condition: Option<Value>,
) -> Result<Fix, PlanError> {
    let (Some(account), Some((ptype, name))) = (&caller.account, &caller.entity) else {
        return Ok(Fix::manual(
            f.cause,
            caller.describe.clone(),
            format!("grant `{action}` on `{resource}` to {} (s3medic can only extend IAM users and roles)", caller.describe),
            Some(json!({"Effect": "Allow", "Action": action, "Resource": resource})),
        ));
    };
    if !world.account(account).is_some_and(|a| a.iam.is_known()) {
        return Ok(Fix::manual(
            f.cause,
            format!("an IAM administrator of account {account}"),
            format!(
                "add an identity policy statement allowing `{action}` on `{resource}` to {}",
                caller.describe
            ),
            Some(json!({"Effect": "Allow", "Action": action, "Resource": resource})),
        ));
    }
    let target = Target::InlinePolicy {
        account: account.clone(),
        principal: *ptype,
        name: name.clone(),
        policy_name: INLINE_POLICY_NAME.to_string(),
    };
    let mut stmt = Map::new();
    stmt.insert("Action".into(), json!(action));
    stmt.insert("Resource".into(), json!(resource));
    if let Some(c) = condition {
        stmt.insert("Condition".into(), c);
    }
    add_statement(world, &target, action, stmt)?;
    let kind = match ptype {
        PrincipalType::User => "user",
        PrincipalType::Role => "role",
    };
    Ok(Fix {
        touched: vec![(
            target,
            format!("allow `{action}` on `{resource}` in inline policy `{INLINE_POLICY_NAME}` of {kind} `{name}`"),
        )],
        manual: Vec::new(),
    })
}

/// `{"StringEquals": {"kms:ViaService": "s3.REGION.amazonaws.com"}}` for the request's bucket.
fn via_service_condition(world: &World, request: &Request) -> Value {
    let region = world
        .bucket(&request.bucket)
        .map(|b| b.region.as_str())
        .unwrap_or("us-east-1");
    json!({"StringEquals": {"kms:ViaService": format!("s3.{region}.amazonaws.com")}})
}

/// The KMS grant's condition: only through S3 in the bucket's region, and only for the object
/// the request reads or writes (`kms:EncryptionContext:aws:s3:arn` is the object ARN, or the
/// bucket ARN when S3 Bucket Keys are on, as S3 passes it to KMS).
fn kms_condition(world: &World, request: &Request, f: &Finding) -> Value {
    let mut cond = via_service_condition(world, request);
    if let Some(arn) = encryption_context_arn(world, request, f) {
        cond["StringEquals"]["kms:EncryptionContext:aws:s3:arn"] = json!(arn);
    }
    cond
}

/// The `aws:s3:arn` encryption context of the KMS call behind finding `f`.
fn encryption_context_arn(world: &World, request: &Request, f: &Finding) -> Option<String> {
    let op = request.target.name();
    // CopyObject / UploadPartCopy decrypt the source; everything else uses the request's object.
    let (bucket_name, key) = match (&request.copy_source, f.action.as_str()) {
        (Some(src), "kms:Decrypt") if matches!(op, "CopyObject" | "UploadPartCopy") => {
            (src.bucket.as_str(), src.key.as_str())
        }
        _ => (request.bucket.as_str(), request.key.as_deref()?),
    };
    let bucket = world.bucket(bucket_name)?;
    let default_bucket_key = bucket
        .encryption
        .known()
        .is_some_and(|e| e.bucket_key_enabled);
    let bucket_key = if f.action.eq_ignore_ascii_case("kms:Decrypt")
        && !op.contains("Multipart")
        && !op.starts_with("UploadPart")
    {
        match bucket.object(key).map(|o| &o.head) {
            Some(Part::Known(h)) => h.bucket_key_enabled,
            _ => default_bucket_key,
        }
    } else {
        match request.header("x-amz-server-side-encryption-bucket-key-enabled") {
            Some(v) => v.eq_ignore_ascii_case("true"),
            None => default_bucket_key,
        }
    };
    Some(if bucket_key {
        bucket.arn()
    } else {
        bucket.object_arn(key)
    })
}

/// Corrects a statement that grants the action on the wrong ARN level, in place, by adding the
/// right-level ARN to its `Resource` (an inline policy of the caller), or adds a new statement.
fn wrong_arn_level(world: &mut World, caller: &CallerFacts, f: &Finding) -> Result<Fix, PlanError> {
    let located = f.evidence.iter().find_map(|e| match e {
        Evidence::Statement { policy, index, .. } => Some((policy.clone(), *index)),
        _ => None,
    });
    let inline_target =
        located
            .as_ref()
            .and_then(|(label, index)| match target_of_label(world, label)? {
                t @ Target::InlinePolicy { .. } => Some((t, *index)),
                _ => None,
            });
    let Some((target, index)) = inline_target else {
        // Managed or group policy: leave it alone, add a correct statement for this caller.
        return identity_grant(world, caller, f, &f.action, &f.resource, None);
    };
    let mut doc = document(world, &target);
    let stmts = statements_mut(&mut doc)?;
    let Some(stmt) = stmts.get_mut(index) else {
        return identity_grant(world, caller, f, &f.action, &f.resource, None);
    };
    // In place only when the statement grants exactly the one action needed: adding a resource
    // to a statement with more (or wildcard) actions would grant those too.
    let only_this_action = match stmt.get("Action") {
        Some(Value::String(a)) => a.eq_ignore_ascii_case(&f.action),
        Some(Value::Array(list)) => {
            list.len() == 1
                && list
                    .first()
                    .and_then(Value::as_str)
                    .is_some_and(|a| a.eq_ignore_ascii_case(&f.action))
        }
        _ => false,
    };
    if !only_this_action || stmt.get("Condition").is_some() {
        return identity_grant(world, caller, f, &f.action, &f.resource, None);
    }
    let resource = f.resource.clone();
    match stmt.get_mut("Resource") {
        Some(Value::String(r)) => {
            let first = r.clone();
            stmt["Resource"] = json!([first, resource]);
        }
        Some(Value::Array(list)) => list.push(json!(resource)),
        _ => return identity_grant(world, caller, f, &f.action, &f.resource, None),
    }
    set_document(world, &target, &doc)?;
    Ok(Fix {
        touched: vec![(
            target,
            format!("correct the resource level in place: add `{resource}` to the statement that grants `{}`", f.action),
        )],
        manual: Vec::new(),
    })
}

/// The bucket owner's side of a cross-account (or public) grant: one bucket-policy statement.
fn resource_grant(
    world: &mut World,
    request: &Request,
    caller: &CallerFacts,
    f: &Finding,
    opts: &PlanOptions,
) -> Result<Fix, PlanError> {
    let Some(bucket) = bucket_of_resource(&f.resource) else {
        return Ok(manual_step(world, request, caller, f, opts));
    };
    let principal = match (&caller.grant_arn, &request.principal) {
        (Some(arn), _) => json!({"AWS": arn}),
        (None, PrincipalRef::Anonymous) if opts.allow_public => json!("*"),
        _ => return Ok(manual_step(world, request, caller, f, opts)),
    };
    if world.bucket(&bucket).is_none_or(|b| b.policy.is_unknown()) {
        return Ok(manual_step(world, request, caller, f, opts));
    }
    let target = Target::BucketPolicy {
        bucket: bucket.clone(),
    };
    let mut stmt = Map::new();
    stmt.insert("Principal".into(), principal);
    stmt.insert("Action".into(), json!(f.action));
    stmt.insert("Resource".into(), json!(f.resource));
    add_statement(world, &target, &f.action, stmt)?;
    Ok(Fix {
        touched: vec![(
            target,
            format!(
                "allow `{}` `{}` on `{}` in the bucket policy of `{bucket}`",
                caller.grant_arn.as_deref().unwrap_or("*"),
                f.action,
                f.resource
            ),
        )],
        manual: Vec::new(),
    })
}

/// `arn:aws:s3:::bucket[/key]` → bucket.
fn bucket_of_resource(arn: &str) -> Option<String> {
    let rest = arn.split(":::").nth(1)?;
    Some(rest.split('/').next()?.to_string()).filter(|b| !b.is_empty())
}

/// A key-policy statement for the caller (IAM principals: with kms:ViaService; CloudFront: with
/// AWS:SourceArn of the distribution).
fn key_policy_grant(
    world: &mut World,
    request: &Request,
    caller: &CallerFacts,
    f: &Finding,
) -> Result<Fix, PlanError> {
    let key_arn = f.resource.clone();
    let Some(key) = world.kms_keys.iter().find(|k| k.arn == key_arn) else {
        return Ok(manual_step(
            world,
            request,
            caller,
            f,
            &PlanOptions::default(),
        ));
    };
    if key.policy.is_unknown() || key.aws_managed {
        return Ok(manual_step(
            world,
            request,
            caller,
            f,
            &PlanOptions::default(),
        ));
    }
    let (principal, condition) = match &request.principal {
        PrincipalRef::Service { name } => {
            let Some(src) = request
                .context_value("aws:sourcearn")
                .and_then(|v| v.first())
            else {
                return Ok(manual_step(
                    world,
                    request,
                    caller,
                    f,
                    &PlanOptions::default(),
                ));
            };
            (
                json!({"Service": name}),
                json!({"StringEquals": {"AWS:SourceArn": src}}),
            )
        }
        _ => match &caller.grant_arn {
            Some(arn) => (json!({"AWS": arn}), kms_condition(world, request, f)),
            None => {
                return Ok(manual_step(
                    world,
                    request,
                    caller,
                    f,
                    &PlanOptions::default(),
                ))
            }
        },
    };
    let target = Target::KeyPolicy {
        key_arn: key_arn.clone(),
    };
    let mut stmt = Map::new();
    stmt.insert("Principal".into(), principal);
    stmt.insert("Action".into(), json!(f.action));
    stmt.insert("Resource".into(), json!("*"));
    stmt.insert("Condition".into(), condition);
    add_statement(world, &target, &f.action, stmt)?;
    Ok(Fix {
        touched: vec![(
            target,
            format!(
                "allow `{}` `{}` on the key, only through S3, in the key policy",
                match &request.principal {
                    PrincipalRef::Service { name } => name.as_str(),
                    _ => caller.grant_arn.as_deref().unwrap_or("?"),
                },
                f.action
            ),
        )],
        manual: Vec::new(),
    })
}

/// The OAC grant: `cloudfront.amazonaws.com` may GetObject under the origin path, only for the
/// distribution named by `AWS:SourceArn`. Never anything but s3:GetObject.
fn oac_grant(world: &mut World, request: &Request, f: &Finding) -> Result<Fix, PlanError> {
    let Some(dist_arn) = request
        .context_value("aws:sourcearn")
        .and_then(|v| v.first())
        .cloned()
    else {
        return Ok(Fix::manual(
            f.cause,
            "the caller",
            "give the distribution ARN as the request's `aws:SourceArn` so s3medic can pin the grant to it",
            None,
        ));
    };
    oac_grant_for(world, &request.bucket, &dist_arn, f)
}

/// The OAC grant on `bucket` for the distribution `dist_arn`. Never anything but s3:GetObject.
fn oac_grant_for(
    world: &mut World,
    bucket: &str,
    dist_arn: &str,
    f: &Finding,
) -> Result<Fix, PlanError> {
    if !f.action.eq_ignore_ascii_case("s3:GetObject") {
        return Ok(Fix::manual(
            f.cause,
            "the distribution owner",
            format!("CloudFront needs only s3:GetObject through origin access control; it asked for `{}`: check the distribution's paths and default root object rather than widening the grant", f.action),
            None,
        ));
    }
    let bucket = bucket.to_string();
    let prefix = world
        .cloudfront
        .known()
        .and_then(|cf| cf.distributions.iter().find(|d| d.arn == dist_arn))
        .and_then(|d| {
            d.origins
                .iter()
                .find(|o| o.bucket.as_deref() == Some(bucket.as_str()))
        })
        .and_then(|o| o.origin_path.clone())
        .map(|p| p.trim_matches('/').to_string())
        .filter(|p| !p.is_empty());
    let resource = match prefix {
        Some(p) => format!("arn:{}:s3:::{bucket}/{p}/*", world.partition),
        None => format!("arn:{}:s3:::{bucket}/*", world.partition),
    };
    if world.bucket(&bucket).is_none_or(|b| b.policy.is_unknown()) {
        return Ok(Fix::manual(
            f.cause,
            "the bucket owner",
            "add the OAC grant to the bucket policy",
            None,
        ));
    }
    let target = Target::BucketPolicy {
        bucket: bucket.clone(),
    };
    let mut stmt = Map::new();
    stmt.insert(
        "Principal".into(),
        json!({"Service": "cloudfront.amazonaws.com"}),
    );
    stmt.insert("Action".into(), json!("s3:GetObject"));
    stmt.insert("Resource".into(), json!(resource));
    stmt.insert(
        "Condition".into(),
        json!({"StringEquals": {"AWS:SourceArn": dist_arn}}),
    );
    add_statement(world, &target, "s3:GetObject", stmt)?;
    Ok(Fix {
        touched: vec![(
            target,
            format!("grant CloudFront (origin access control) s3:GetObject on `{resource}` for distribution `{dist_arn}` only"),
        )],
        manual: Vec::new(),
    })
}

/// Attaches an origin access control to the distribution's S3 origin for the bucket (an existing
/// S3 OAC of the World, or one `apply` creates).
fn attach_oac(world: &mut World, request: &Request, f: &Finding) -> Result<Fix, PlanError> {
    let dist_arn = request
        .context_value("aws:sourcearn")
        .and_then(|v| v.first())
        .cloned();
    attach_oac_for(world, &request.bucket, dist_arn.as_deref(), f)
}

/// Attaches an origin access control to the S3 origin for `bucket` of distribution `dist_arn`.
fn attach_oac_for(
    world: &mut World,
    bucket: &str,
    dist_arn: Option<&str>,
    f: &Finding,
) -> Result<Fix, PlanError> {
    let Some(cf) = world.cloudfront.known() else {
        return Ok(Fix::manual(
            f.cause,
            "the distribution owner",
            "attach an origin access control to the S3 origin",
            None,
        ));
    };
    let found = cf
        .distributions
        .iter()
        .find(|d| Some(d.arn.as_str()) == dist_arn)
        .and_then(|d| {
            d.origins
                .iter()
                .find(|o| o.bucket.as_deref() == Some(bucket) && !o.website_endpoint)
                .map(|o| (d.id.clone(), o.id.clone()))
        });
    let Some((distribution_id, origin_id)) = found else {
        return Ok(Fix::manual(
            f.cause,
            "the distribution owner",
            "attach an origin access control to the distribution's S3 origin (a website endpoint origin cannot use OAC: switch it to the bucket's REST endpoint)",
            None,
        ));
    };
    let oac_id = cf
        .origin_access_controls
        .iter()
        .find(|o| o.origin_type.as_deref().is_none_or(|t| t == "s3"))
        .map(|o| o.id.clone())
        .unwrap_or_else(|| format!("new:s3medic-{bucket}"));
    let target = Target::DistributionOrigin {
        distribution_id: distribution_id.clone(),
        origin_id,
    };
    let mut doc = document(world, &target);
    doc["OriginAccessControlId"] = json!(oac_id);
    doc["S3OriginConfig"] = json!({"OriginAccessIdentity": ""});
    set_document(world, &target, &doc)?;
    let what = if let Some(name) = oac_id.strip_prefix("new:") {
        format!("create origin access control `{name}` (SigV4, always sign) and attach it")
    } else {
        format!("attach origin access control `{oac_id}`")
    };
    Ok(Fix {
        touched: vec![(
            target,
            format!("{what} to the S3 origin of distribution `{distribution_id}`"),
        )],
        manual: Vec::new(),
    })
}

/// A legacy OAI cannot read SSE-KMS objects: move the distribution's origin to origin access
/// control — attach an OAC, grant it s3:GetObject pinned to the distribution, and let it decrypt
/// with the object's key (pinned the same way). The OAI request itself stays denied (an OAI can
/// never use KMS); the distribution's requests are then made by CloudFront through the OAC.
fn migrate_oai_to_oac(world: &mut World, request: &Request, f: &Finding) -> Result<Fix, PlanError> {
    let oai_id = match &request.principal {
        PrincipalRef::User { account, name, .. } if account == "cloudfront" => {
            name.rsplit(' ').next().unwrap_or_default().to_string()
        }
        _ => String::new(),
    };
    let bucket = request.bucket.clone();
    let dist_arn = world.cloudfront.known().and_then(|cf| {
        cf.distributions
            .iter()
            .find(|d| {
                d.origins.iter().any(|o| {
                    o.bucket.as_deref() == Some(bucket.as_str())
                        && o.oai_id.as_deref() == Some(oai_id.as_str())
                })
            })
            .map(|d| d.arn.clone())
    });
    let Some(dist_arn) = dist_arn else {
        return Ok(Fix::manual(
            f.cause,
            "the distribution owner",
            "an origin access identity cannot read SSE-KMS objects: migrate the distribution's origin to origin access control (OAC) and grant cloudfront.amazonaws.com kms:Decrypt in the key policy",
            None,
        ));
    };
    let mut fix = attach_oac_for(world, &bucket, Some(&dist_arn), f)?;
    let grant_finding = Finding {
        action: "s3:GetObject".into(),
        ..f.clone()
    };
    let grant = oac_grant_for(world, &bucket, &dist_arn, &grant_finding)?;
    fix.touched.extend(grant.touched);
    fix.manual.extend(grant.manual);
    let key_arn = f.resource.clone();
    let key_ok = world
        .kms_keys
        .iter()
        .find(|k| k.arn == key_arn)
        .is_some_and(|k| !k.aws_managed && k.policy.is_known());
    if key_ok {
        let target = Target::KeyPolicy {
            key_arn: key_arn.clone(),
        };
        let mut stmt = Map::new();
        stmt.insert(
            "Principal".into(),
            json!({"Service": "cloudfront.amazonaws.com"}),
        );
        stmt.insert("Action".into(), json!("kms:Decrypt"));
        stmt.insert("Resource".into(), json!("*"));
        stmt.insert(
            "Condition".into(),
            json!({"StringEquals": {"AWS:SourceArn": dist_arn}}),
        );
        add_statement(world, &target, "kms:Decrypt", stmt)?;
        fix.touched.push((
            target,
            format!(
                "allow CloudFront (distribution `{dist_arn}` only) kms:Decrypt in the key policy"
            ),
        ));
    } else {
        fix.manual.push(ManualStep {
            playbook: f.cause.id().into(),
            who: "the key owner".into(),
            action: format!("allow cloudfront.amazonaws.com kms:Decrypt on `{key_arn}` with AWS:SourceArn `{dist_arn}` (the key is AWS managed or its policy unreadable)"),
            statement: None,
        });
    }
    Ok(fix)
}

/// Bucket owner enforced, after moving the bucket ACL's foreign grants into the bucket policy
/// (S3 refuses the switch while the ACL grants outside the owner).
fn enforce_ownership(
    world: &mut World,
    request: &Request,
    f: &Finding,
    opts: &PlanOptions,
) -> Result<Fix, PlanError> {
    let bucket_name = request.bucket.clone();
    let Some(bucket) = world.bucket(&bucket_name) else {
        return Ok(Fix::default());
    };
    if bucket.ownership.is_unknown() || bucket.acl.is_unknown() || bucket.policy.is_unknown() {
        return Ok(Fix::manual(
            f.cause,
            "the bucket owner",
            "set Object Ownership to Bucket owner enforced (its current ownership, ACL or policy could not be read, so s3medic cannot prove the switch safe)",
            None,
        ));
    }
    let owner_account = bucket.account_id.clone();
    let owner_canon = world
        .account(&owner_account)
        .and_then(|a| a.canonical_user_id.clone())
        .or_else(|| bucket.acl.known().and_then(|a| a.owner_id.clone()));
    let partition = world.partition.clone();
    let mut fix = Fix::default();
    // Grants to move: everything but the owner's own.
    let acl = bucket.acl.known().cloned();
    let mut moved: Vec<(Value, &'static str, String)> = Vec::new();
    let mut kept_public = false;
    if let Some(acl) = &acl {
        for g in &acl.grants {
            let principal = match &g.grantee {
                Grantee::CanonicalUser(id) if Some(id) == owner_canon.as_ref() => continue,
                Grantee::CanonicalUser(id) => match world.account_by_canonical_id(id) {
                    Some(a) => {
                        json!({"AWS": format!("arn:{partition}:iam::{}:root", a.account_id)})
                    }
                    None => json!({"CanonicalUser": id}),
                },
                Grantee::AllUsers | Grantee::AuthenticatedUsers => {
                    if opts.allow_public {
                        json!("*")
                    } else {
                        kept_public = true;
                        continue;
                    }
                }
                _ => continue,
            };
            for (action, level) in acl_grant_actions(g.permission) {
                moved.push((principal.clone(), action, level.to_string()));
            }
        }
    }
    if kept_public {
        return Ok(Fix::manual(
            f.cause,
            "the bucket owner",
            "the bucket ACL grants AllUsers/AuthenticatedUsers: S3 refuses Bucket owner enforced until that grant is removed; moving it into the bucket policy would make the bucket public (rerun with --allow-public), or remove it",
            None,
        ));
    }
    if !moved.is_empty() {
        let target = Target::BucketPolicy {
            bucket: bucket_name.clone(),
        };
        for (principal, action, level) in &moved {
            let resource = if level == "bucket" {
                format!("arn:{partition}:s3:::{bucket_name}")
            } else {
                format!("arn:{partition}:s3:::{bucket_name}/*")
            };
            let mut stmt = Map::new();
            stmt.insert("Principal".into(), principal.clone());
            stmt.insert("Action".into(), json!(action));
            stmt.insert("Resource".into(), json!(resource));
            add_statement(world, &target, action, stmt)?;
        }
        fix.touched.push((
            target,
            format!("move {} bucket-ACL grant(s) into the bucket policy (S3 refuses Bucket owner enforced while the ACL grants other accounts)", moved.len()),
        ));
        let acl_target = Target::BucketAcl {
            bucket: bucket_name.clone(),
        };
        let owner_only = Acl {
            owner_id: owner_canon.clone(),
            grants: owner_canon
                .iter()
                .map(|id| crate::world::Grant {
                    grantee: Grantee::CanonicalUser(id.clone()),
                    permission: crate::world::AclPermission::FullControl,
                })
                .collect(),
        };
        set_document(world, &acl_target, &owner_only.to_value())?;
        fix.touched.push((
            acl_target,
            "reset the bucket ACL to the owner's full control".into(),
        ));
    }
    let target = Target::BucketOwnership {
        bucket: bucket_name.clone(),
    };
    set_document(
        world,
        &target,
        &json!({"OwnershipControls": {"Rules": [{"ObjectOwnership": ObjectOwnership::BucketOwnerEnforced.as_str()}]}}),
    )?;
    fix.touched.push((
        target,
        "set Object Ownership to Bucket owner enforced: ACLs are disabled and the bucket owner owns every object".into(),
    ));
    Ok(fix)
}

/// The bucket-policy actions equivalent to a bucket-ACL permission (S3 User Guide, "ACL overview").
fn acl_grant_actions(p: crate::world::AclPermission) -> Vec<(&'static str, &'static str)> {
    use crate::world::AclPermission::*;
    match p {
        Read => vec![
            ("s3:ListBucket", "bucket"),
            ("s3:ListBucketVersions", "bucket"),
            ("s3:ListBucketMultipartUploads", "bucket"),
        ],
        Write => vec![("s3:PutObject", "object"), ("s3:DeleteObject", "object")],
        ReadAcp => vec![("s3:GetBucketAcl", "bucket")],
        WriteAcp => vec![("s3:PutBucketAcl", "bucket")],
        FullControl => vec![
            ("s3:ListBucket", "bucket"),
            ("s3:ListBucketVersions", "bucket"),
            ("s3:ListBucketMultipartUploads", "bucket"),
            ("s3:PutObject", "object"),
            ("s3:DeleteObject", "object"),
            ("s3:GetBucketAcl", "bucket"),
            ("s3:PutBucketAcl", "bucket"),
        ],
    }
}

/// Adds the action to the caller's permissions boundary (a managed policy shared by every
/// principal it bounds: medium risk).
fn boundary_grant(world: &mut World, caller: &CallerFacts, f: &Finding) -> Result<Fix, PlanError> {
    let boundary_arn = caller.account.as_ref().and_then(|acct| {
        let iam = world.account(acct)?.iam.known()?;
        match &caller.entity {
            Some((PrincipalType::User, n)) => iam.user_by_name(n)?.permissions_boundary.clone(),
            Some((PrincipalType::Role, n)) => iam.role_by_name(n)?.permissions_boundary.clone(),
            None => None,
        }
    });
    let Some(arn) = boundary_arn else {
        return Ok(Fix::manual(
            f.cause,
            "an IAM administrator",
            format!("allow `{}` in the caller's permissions boundary", f.action),
            None,
        ));
    };
    let target = Target::ManagedPolicy { arn: arn.clone() };
    if arn.contains(":aws:policy/") || !document(world, &target).is_object() {
        return Ok(Fix::manual(
            f.cause,
            "an IAM administrator",
            format!("the boundary `{arn}` is AWS managed or unreadable: attach a customer managed boundary that allows `{}` on `{}`", f.action, f.resource),
            Some(json!({"Effect": "Allow", "Action": f.action, "Resource": f.resource})),
        ));
    }
    let mut stmt = Map::new();
    stmt.insert("Action".into(), json!(f.action));
    stmt.insert("Resource".into(), json!(f.resource));
    add_statement(world, &target, &f.action, stmt)?;
    Ok(Fix {
        touched: vec![(
            target,
            format!(
                "allow `{}` on `{}` in the permissions boundary `{arn}` (a new default version)",
                f.action, f.resource
            ),
        )],
        manual: Vec::new(),
    })
}

/// The target holding a statement, from its policy label in a trace: the bucket policy, an
/// inline policy of a user or role, or a customer managed policy.
fn target_of_label(world: &World, label: &str) -> Option<Target> {
    if let Some(bucket) = label.strip_prefix("bucket-policy:") {
        return Some(Target::BucketPolicy {
            bucket: bucket.to_string(),
        });
    }
    let rest = label.strip_prefix("identity:")?;
    if let Some((owner_arn, name)) = rest.split_once("/inline/") {
        let account = owner_arn.split(':').nth(4)?.to_string();
        let iam = world.account(&account)?.iam.known()?;
        let (principal, entity) = if let Some(u) = iam.user_by_arn(owner_arn) {
            (PrincipalType::User, u.name.clone())
        } else {
            (
                PrincipalType::Role,
                iam.role_by_arn(owner_arn)?.name.clone(),
            )
        };
        return Some(Target::InlinePolicy {
            account,
            principal,
            name: entity,
            policy_name: name.to_string(),
        });
    }
    // A customer managed policy (AWS managed policies cannot be edited).
    (!rest.contains(":aws:policy/")).then(|| Target::ManagedPolicy {
        arn: rest.to_string(),
    })
}

/// Exempts the caller (by `aws:PrincipalArn`) from the Deny statements of the finding, wherever
/// they are (bucket policy, inline or customer managed identity policy), for the finding's action
/// on its resource only: the deny stays for everyone else, and for the caller on everything else
/// (see [`crate::plan::exempt`]; a statement whose remainder IAM cannot express exempts the
/// caller from all of it, and the proof reports what that opens). Only with
/// `--allow-deny-change` / `--allow-guardrail-change`.
fn exempt_from_deny(
    world: &mut World,
    request: &Request,
    caller: &CallerFacts,
    f: &Finding,
) -> Result<Fix, PlanError> {
    let denies: Vec<(String, usize)> = f
        .evidence
        .iter()
        .filter_map(|e| match e {
            Evidence::Statement {
                policy,
                index,
                effect,
                ..
            } if effect == "Deny" => Some((policy.clone(), *index)),
            _ => None,
        })
        .collect();
    let Some(arn) = caller.grant_arn.clone() else {
        return Ok(manual_step(
            world,
            request,
            caller,
            f,
            &PlanOptions::default(),
        ));
    };
    let partition = world.partition.clone();
    let mut fix = Fix::default();
    // A deny already split for another authorization of this request: its caller share is fixed
    // when it is the deny found (next round), not a manual step.
    let mut already = false;
    for (label, index) in denies {
        let Some(target) = target_of_label(world, &label) else {
            continue;
        };
        let mut doc = document(world, &target);
        if doc.is_null() {
            continue;
        }
        let stmts = statements_mut(&mut doc)?;
        let Some(stmt) = stmts.get(index).and_then(Value::as_object).cloned() else {
            continue;
        };
        let scope = match &target {
            Target::BucketPolicy { bucket } => Scope::Bucket {
                partition: &partition,
                bucket,
            },
            _ => Scope::Everything {
                partition: &partition,
            },
        };
        let own = match &target {
            Target::InlinePolicy {
                account,
                principal,
                name,
                ..
            } => {
                caller.account.as_ref() == Some(account)
                    && caller
                        .entity
                        .as_ref()
                        .is_some_and(|(p, n)| p == principal && n == name)
            }
            _ => false,
        };
        let e = exempt::exempt(
            &stmt,
            index,
            exempt::Request {
                caller_arn: &arn,
                action: &f.action,
                resource: &f.resource,
            },
            scope,
            own,
            &sids(stmts),
        );
        if e.already {
            already = true;
            continue;
        }
        if let Some(slot) = stmts.get_mut(index) {
            *slot = e.replace;
        }
        stmts.extend(e.append);
        set_document(world, &target, &doc)?;
        let what = if e.narrowed {
            format!(
                "exempt `{arn}` from deny statement #{index} of `{label}` for `{}` on `{}` only (the deny stays for everything else)",
                f.action, f.resource
            )
        } else {
            format!(
                "exempt `{arn}` from deny statement #{index} of `{label}` (the whole statement: IAM cannot express it without `{}` on `{}`)",
                f.action, f.resource
            )
        };
        fix.touched.push((target, what));
    }
    if fix.touched.is_empty() && !already {
        return Ok(manual_step(
            world,
            request,
            caller,
            f,
            &PlanOptions::default(),
        ));
    }
    Ok(fix)
}

/// Turns off the Block Public Access settings that remove the public grant (bucket level, and the
/// account level when that is where it is set). Only with `--allow-public`; high risk.
fn relax_bpa(world: &mut World, request: &Request, f: &Finding) -> Result<Fix, PlanError> {
    let mut fix = Fix::default();
    let bucket_name = request.bucket.clone();
    let Some(bucket) = world.bucket(&bucket_name) else {
        return Ok(fix);
    };
    let account = bucket.account_id.clone();
    // Only the settings the finding names as blocking this request (RestrictPublicBuckets for a
    // public policy, IgnorePublicAcls for a public ACL), and only where each is set.
    let blocking: Vec<&'static str> = ["RestrictPublicBuckets", "IgnorePublicAcls"]
        .into_iter()
        .filter(|flag| {
            f.evidence
                .iter()
                .any(|e| matches!(e, Evidence::Setting { name, .. } if name == flag))
        })
        .collect();
    let relax = |v: &mut Value| -> Vec<&'static str> {
        let mut turned_off = Vec::new();
        for flag in &blocking {
            let c = &mut v["PublicAccessBlockConfiguration"][*flag];
            if c.as_bool() == Some(true) {
                *c = json!(false);
                turned_off.push(*flag);
            }
        }
        turned_off
    };
    let bucket_target = Target::BucketPublicAccessBlock {
        bucket: bucket_name.clone(),
    };
    let account_target = Target::AccountPublicAccessBlock {
        account: account.clone(),
    };
    for (t, whose) in [
        (
            bucket_target,
            format!("bucket `{bucket_name}` (makes it public)"),
        ),
        (
            account_target,
            format!("account `{account}` (affects every bucket of the account)"),
        ),
    ] {
        let mut doc = document(world, &t);
        if doc.is_null() {
            continue;
        }
        let turned_off = relax(&mut doc);
        if turned_off.is_empty() {
            continue;
        }
        set_document(world, &t, &doc)?;
        fix.touched.push((
            t,
            format!("turn off {} on {whose}", turned_off.join(" and ")),
        ));
    }
    if fix.touched.is_empty() {
        fix.manual.push(ManualStep {
            playbook: f.cause.id().into(),
            who: "the organization's management account".into(),
            action: "Block Public Access is enforced by an organization S3 policy: change it there"
                .into(),
            statement: None,
        });
    }
    Ok(fix)
}

/// The manual step (or caller-side action) for causes s3medic does not change itself.
fn manual_step(
    world: &World,
    request: &Request,
    caller: &CallerFacts,
    f: &Finding,
    opts: &PlanOptions,
) -> Fix {
    let stmt = json!({"Effect": "Allow", "Action": f.action, "Resource": f.resource});
    let deny_text = || {
        f.evidence
            .iter()
            .find_map(|e| match e {
                Evidence::Statement {
                    policy, sid, index, ..
                } => Some(format!(
                    "statement {} of `{policy}`",
                    sid.as_deref()
                        .map(|s| format!("`{s}`"))
                        .unwrap_or_else(|| format!("#{index}"))
                )),
                _ => None,
            })
            .unwrap_or_else(|| "a deny statement".into())
    };
    let bucket_owner = world
        .bucket(&request.bucket)
        .map(|b| format!("the bucket owner (account {})", b.account_id))
        .unwrap_or_else(|| "the bucket owner".into());
    match f.cause {
        Cause::GuardrailDeny => Fix::manual(
            f.cause,
            "the caller",
            format!(
                "{} is a guardrail and stays: meet it on the caller's side ({}); to change the guardrail instead, rerun with --allow-guardrail-change",
                deny_text(),
                guardrail_hint(f)
            ),
            None,
        ),
        Cause::BucketPolicyDeny => Fix::manual(
            f.cause,
            bucket_owner,
            format!("{} denies this request; remove or narrow it if the deny is not intended (or rerun with --allow-deny-change to exempt {})", deny_text(), caller.describe),
            None,
        ),
        Cause::IdentityDeny => Fix::manual(
            f.cause,
            format!("an IAM administrator of account {}", caller.account.clone().unwrap_or_default()),
            format!("{} denies this request for {}; remove or narrow it if the deny is not intended", deny_text(), caller.describe),
            None,
        ),
        Cause::SessionPolicyCap => Fix::manual(
            f.cause,
            "the caller",
            format!("the session policy does not allow `{}`: assume the role again with a session policy that allows it (or none)", f.action),
            Some(stmt),
        ),
        Cause::ScpBlocks | Cause::RcpBlocks => Fix::manual(
            f.cause,
            "the organization's management account (or delegated policy administrator)",
            format!(
                "{} blocks `{}` on `{}`: {}",
                if f.cause == Cause::ScpBlocks { "a service control policy" } else { "a resource control policy" },
                f.action,
                f.resource,
                if f.evidence.iter().any(|e| matches!(e, Evidence::Statement { effect, .. } if effect == "Deny")) {
                    format!("narrow {} to exempt this principal if the deny is not intended", deny_text())
                } else {
                    "attach a policy allowing it at the level that lacks an allow".into()
                }
            ),
            Some(stmt),
        ),
        Cause::VpcEndpointPolicy => Fix::manual(
            f.cause,
            format!("the owner of VPC endpoint {}", request.vpc_endpoint.clone().unwrap_or_default()),
            format!("allow `{}` on `{}` in the VPC endpoint policy", f.action, f.resource),
            Some(json!({"Effect": "Allow", "Principal": "*", "Action": f.action, "Resource": f.resource})),
        ),
        Cause::BpaBlocksPublicAccess => Fix::manual(
            f.cause,
            bucket_owner,
            "Block Public Access removes this public grant, as intended; to serve public content use CloudFront with origin access control; to grant another account, name it in a non-public bucket policy; to make the bucket public anyway, rerun with --allow-public (high risk)",
            None,
        ),
        Cause::CrossAccountResourceMissing if matches!(request.principal, PrincipalRef::Anonymous) && !opts.allow_public => Fix::manual(
            f.cause,
            bucket_owner,
            "anonymous access needs a public grant: s3medic will not make a bucket public without --allow-public (high risk); to serve public content prefer CloudFront with origin access control",
            None,
        ),
        Cause::BpaRejectsPublicAcl => Fix::manual(f.cause, "the caller", "do not send a public ACL (x-amz-acl public-read / x-amz-grant-* to AllUsers): BlockPublicAcls rejects it", None),
        Cause::AclNotSupported => Fix::manual(
            f.cause,
            "the caller",
            "drop the ACL header (or send x-amz-acl: bucket-owner-full-control): the bucket has ACLs disabled (Bucket owner enforced); grant access in the bucket policy instead",
            None,
        ),
        Cause::KmsAwsManagedCrossAccount => Fix::manual(
            f.cause,
            bucket_owner,
            "the object is encrypted with the AWS managed key aws/s3, which other accounts can never use: switch the bucket's default encryption to a customer managed key, grant the caller on that key, and re-encrypt the object (copy it in place)",
            None,
        ),
        Cause::KmsKeyDisabled => Fix::manual(f.cause, "the key owner", format!("enable the KMS key `{}` (or cancel its deletion)", f.resource), None),
        Cause::CloudfrontOaiSseKms => Fix::manual(
            f.cause,
            "the distribution owner",
            "an origin access identity cannot read SSE-KMS objects: migrate the origin to origin access control (OAC) and grant cloudfront.amazonaws.com kms:Decrypt in the key policy",
            None,
        ),
        Cause::CloudfrontDefaultRootObject => Fix::manual(f.cause, "the distribution owner", "set the distribution's DefaultRootObject (e.g. index.html) so requests for / map to an object", None),
        Cause::MissingKeyNoList => Fix::manual(
            f.cause,
            "the caller",
            format!("the key `{}` does not exist (S3 answers 403 because the caller may not list the bucket); check the key, or grant s3:ListBucket to get 404 instead", f.resource),
            None,
        ),
        Cause::PresignedUrlExpired => Fix::manual(
            f.cause,
            "the caller",
            "generate a new presigned URL (at most 7 days; a URL signed with temporary credentials ends when they expire, so sign with long-lived credentials or a longer session)",
            None,
        ),
        Cause::RequesterPaysHeader => Fix::manual(f.cause, "the caller", "send `x-amz-request-payer: requester` (AWS CLI: --request-payer requester): the bucket is Requester Pays", None),
        _ => Fix::manual(f.cause, caller.describe.clone(), f.explanation.clone(), Some(stmt)),
    }
}

/// What the caller must do to satisfy a guardrail deny, from its condition keys.
fn guardrail_hint(f: &Finding) -> String {
    let detail = f
        .evidence
        .iter()
        .filter_map(|e| match e {
            Evidence::Statement { detail, .. } => Some(detail.to_ascii_lowercase()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(" ");
    let mut hints = Vec::new();
    if detail.contains("securetransport") {
        hints.push("use HTTPS");
    }
    if detail.contains("sourceip") {
        hints.push("call from an allowed IP range");
    }
    if detail.contains("sourcevpce") || detail.contains("sourcevpc") {
        hints.push("go through the allowed VPC endpoint");
    }
    if detail.contains("server-side-encryption") {
        hints.push("send the required encryption headers");
    }
    if detail.contains("principalorgid") || detail.contains("principalaccount") {
        hints.push("call from an account of the allowed organization");
    }
    if hints.is_empty() {
        hints.push("meet the statement's conditions");
    }
    hints.join(", ")
}

/// The account and the ARN of a target's resource.
pub fn locate(world: &World, t: &Target) -> (String, String) {
    let partition = world.partition.as_str();
    let bucket_acct = |b: &str| {
        world
            .bucket(b)
            .map(|b| b.account_id.clone())
            .unwrap_or_default()
    };
    match t {
        Target::BucketPolicy { bucket }
        | Target::BucketOwnership { bucket }
        | Target::BucketAcl { bucket }
        | Target::BucketPublicAccessBlock { bucket } => (
            bucket_acct(bucket),
            format!("arn:{partition}:s3:::{bucket}"),
        ),
        Target::AccountPublicAccessBlock { account } => (
            account.clone(),
            format!("arn:{partition}:s3:::account/{account}/public-access-block"),
        ),
        Target::InlinePolicy {
            account,
            principal,
            name,
            policy_name,
        } => {
            let iam = world.account(account).and_then(|a| a.iam.known());
            let arn = match principal {
                PrincipalType::User => iam
                    .and_then(|i| i.user_by_name(name))
                    .map(|u| u.arn.clone()),
                PrincipalType::Role => iam
                    .and_then(|i| i.role_by_name(name))
                    .map(|r| r.arn.clone()),
            }
            .unwrap_or_else(|| {
                format!(
                    "arn:{partition}:iam::{account}:{}/{name}",
                    match principal {
                        PrincipalType::User => "user",
                        PrincipalType::Role => "role",
                    }
                )
            });
            (account.clone(), format!("{arn}/inline/{policy_name}"))
        }
        Target::ManagedPolicy { arn } => (
            arn.split(':').nth(4).unwrap_or_default().to_string(),
            arn.clone(),
        ),
        Target::KeyPolicy { key_arn } => (
            key_arn.split(':').nth(4).unwrap_or_default().to_string(),
            key_arn.clone(),
        ),
        Target::DistributionOrigin {
            distribution_id, ..
        } => world
            .distribution(distribution_id)
            .map(|d| (d.account_id.clone(), d.arn.clone()))
            .unwrap_or_default(),
    }
}

/// Risk, full reversibility and the rollback caveat of writing `after` to `t`.
pub fn risk_of(world: &World, t: &Target, after: &Value) -> (Risk, bool, Option<String>) {
    let public = match t {
        Target::BucketPolicy { .. } => crate::policy::parse_policy_value(after)
            .map(|p| crate::eval::public::policy_is_public(&p))
            .unwrap_or(false),
        _ => false,
    };
    match t {
        Target::BucketPolicy { .. } if public => (Risk::High, true, None),
        Target::BucketPolicy { .. } | Target::InlinePolicy { .. } => (Risk::Low, true, None),
        Target::ManagedPolicy { .. } => (Risk::Medium, true, None),
        Target::KeyPolicy { .. } => (Risk::Medium, true, None),
        Target::BucketAcl { .. } => (Risk::Medium, true, None),
        Target::BucketOwnership { bucket } => {
            let _ = world.bucket(bucket);
            (
                Risk::Medium,
                false,
                Some("objects written while Bucket owner enforced is on stay owned by the bucket owner after a rollback".into()),
            )
        }
        Target::BucketPublicAccessBlock { .. } | Target::AccountPublicAccessBlock { .. } => {
            (Risk::High, true, None)
        }
        Target::DistributionOrigin { .. } => (Risk::Medium, true, None),
    }
}

/// A one-line summary of a change when no finding-specific one is known.
pub fn summary(t: &Target, action: ChangeAction) -> String {
    let verb = match action {
        ChangeAction::Create => "create",
        ChangeAction::Update => "update",
        ChangeAction::Delete => "delete",
    };
    match t {
        Target::BucketPolicy { bucket } => format!("{verb} the bucket policy of `{bucket}`"),
        Target::BucketOwnership { bucket } => {
            format!("{verb} the ownership controls of `{bucket}`")
        }
        Target::BucketAcl { bucket } => format!("{verb} the ACL of `{bucket}`"),
        Target::BucketPublicAccessBlock { bucket } => {
            format!("{verb} Block Public Access of `{bucket}`")
        }
        Target::AccountPublicAccessBlock { account } => {
            format!("{verb} account-level Block Public Access of `{account}`")
        }
        Target::InlinePolicy {
            name, policy_name, ..
        } => format!("{verb} inline policy `{policy_name}` of `{name}`"),
        Target::ManagedPolicy { arn } => {
            format!("{verb} managed policy `{arn}` (new default version)")
        }
        Target::KeyPolicy { key_arn } => format!("{verb} the key policy of `{key_arn}`"),
        Target::DistributionOrigin {
            distribution_id, ..
        } => format!("{verb} the S3 origin of distribution `{distribution_id}`"),
    }
}

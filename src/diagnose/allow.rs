//! The allow side of an S3 authorization, mirroring [`crate::eval::combine`]: which grant the
//! resource side (bucket policy, ACLs) has for the caller, whether the identity side (identity
//! policies capped by the permissions boundary and the session policy) allows, and — from the
//! caller's account versus the owner — which missing pieces are causes. Also the identity-side
//! causes shared with KMS authorizations (`identity_side`).

use super::cloudfront;
use super::context::{foreign_owner, split_s3_arn, uses_object_context, Cx};
use super::evidence::{missing, near_misses, setting, traced, wrong_level};
use super::finding::{Cause, Evidence, Finding};
use crate::eval::caller::{CallerKind, Named};
use crate::eval::trace::Discard;
use crate::eval::{AclGrantee, Reason};
use crate::eval::{AuthorizationTrace, Layer, LayerOutcome, LayerTrace, StatementResult};
use crate::policy::Effect;
use crate::world::Bucket;

pub(crate) use crate::eval::combine::IdentitySide;

fn allows(l: &LayerTrace<'_>) -> bool {
    l.outcome == LayerOutcome::Allow || l.matched(Effect::Allow).next().is_some()
}

/// The identity side of an authorization as its trace shows it.
pub(crate) fn identity_side_of(cx: &Cx<'_>, auth: &AuthorizationTrace<'_>) -> IdentitySide {
    let kind = cx.caller.kind;
    IdentitySide {
        kind,
        identity: match kind {
            CallerKind::Root => Some(true),
            _ => auth.layer(Layer::Identity).map(allows),
        },
        boundary: auth.layer(Layer::PermissionsBoundary).map(allows),
        session: auth.layer(Layer::SessionPolicy).map(allows),
    }
}

/// The best grant (after discards) of a resource-policy layer, by how it names the caller.
pub(crate) fn policy_grant(cx: &Cx<'_>, l: Option<&LayerTrace<'_>>) -> Option<Named> {
    l?.matched(Effect::Allow).map(|st| cx.named_by(st)).max()
}

/// The grant of an ACL layer, from the reason the authorizer records.
fn acl_grant(l: Option<&LayerTrace<'_>>) -> Option<Named> {
    let l = l?;
    if l.outcome != LayerOutcome::Allow {
        return None;
    }
    Some(match l.reason {
        Some(Reason::AclGrant {
            to: AclGrantee::OriginAccessIdentity,
        }) => Named::Direct,
        Some(Reason::AclGrant {
            to: AclGrantee::Public,
        }) => Named::Any,
        _ => Named::Account,
    })
}

fn finding(
    cause: Cause,
    i: usize,
    auth: &AuthorizationTrace<'_>,
    layer: Layer,
    explanation: String,
    evidence: Vec<Evidence>,
) -> Finding {
    Finding {
        cause,
        authorization: i,
        action: auth.action.to_string(),
        resource: auth.resource.clone(),
        layer,
        explanation,
        evidence,
    }
}

/// The identity-side causes when it does not allow: a missing identity allow (or a grant on the
/// wrong ARN level), a permissions boundary or a session policy without an allow. `missing_cause`
/// is `IdentityMissingAllow` (S3) or `KmsIdentityMissing` (KMS); `why` completes the sentence of
/// a missing identity allow. `caps_only` reports only the boundary / session caps (a resource
/// grant to the role ARN that they cap).
#[allow(clippy::too_many_arguments)]
pub(crate) fn identity_side(
    cx: &Cx<'_>,
    i: usize,
    auth: &AuthorizationTrace<'_>,
    side: &IdentitySide,
    missing_cause: Cause,
    why: &str,
    bucket: Option<&Bucket>,
    caps_only: bool,
    out: &mut Vec<Finding>,
) {
    if side.ok() || !side.kind.has_identity_policies() {
        return;
    }
    let who = cx.who();
    if side.identity != Some(true) && !caps_only {
        let wrong = if missing_cause == Cause::IdentityMissingAllow {
            wrong_level(
                cx,
                &cx.caller.identity,
                &auth.action,
                &auth.resource,
                bucket,
                |_| true,
            )
        } else {
            Vec::new()
        };
        if !wrong.is_empty() {
            let level = if split_s3_arn(&auth.resource).is_some_and(|(_, k)| k.is_none()) {
                format!(
                    "{} is a bucket-level action: it needs the bucket ARN `{}`, not an object ARN (`…/*`)",
                    auth.action, auth.resource
                )
            } else {
                format!(
                    "{} is an object-level action: it needs an object ARN such as `{}` (or `…/*`), not the bucket ARN",
                    auth.action, auth.resource
                )
            };
            out.push(finding(
                Cause::WrongArnLevel,
                i,
                auth,
                Layer::Identity,
                format!(
                    "an identity policy of {who} grants {} on the wrong resource level; {level}",
                    auth.action
                ),
                wrong,
            ));
        } else {
            let mut ev = vec![missing(
                &auth.action,
                &auth.resource,
                format!("identity policies of {}", cx.caller_arn()),
            )];
            ev.extend(near_misses(auth.layer(Layer::Identity)));
            out.push(finding(
                missing_cause,
                i,
                auth,
                Layer::Identity,
                format!(
                    "no identity-based policy of {who} allows {} on `{}`{why}",
                    auth.action, auth.resource
                ),
                ev,
            ));
        }
    }
    if side.boundary == Some(false) {
        let arn = cx
            .caller
            .boundary
            .map(|(l, _)| l.to_string())
            .unwrap_or_else(|| "the permissions boundary".into());
        let mut ev = vec![missing(
            &auth.action,
            &auth.resource,
            format!("permissions boundary {arn}"),
        )];
        ev.extend(near_misses(auth.layer(Layer::PermissionsBoundary)));
        out.push(finding(
            Cause::BoundaryCap,
            i,
            auth,
            Layer::PermissionsBoundary,
            format!(
                "the permissions boundary of {who} does not allow {} on `{}`, and a boundary caps what identity policies (and grants to the role ARN) can allow",
                auth.action, auth.resource
            ),
            ev,
        ));
    }
    if side.session == Some(false) {
        let mut ev = vec![missing(
            &auth.action,
            &auth.resource,
            "session policy".to_string(),
        )];
        ev.extend(near_misses(auth.layer(Layer::SessionPolicy)));
        out.push(finding(
            Cause::SessionPolicyCap,
            i,
            auth,
            Layer::SessionPolicy,
            format!(
                "the session policy passed when the session of {who} was created does not allow {} on `{}`, and it caps what the role's policies can allow; start a session with a session policy that allows it (or none)",
                auth.action, auth.resource
            ),
            ev,
        ));
    }
}

/// The allow side of an S3 authorization.
pub(crate) fn s3(cx: &Cx<'_>, i: usize, auth: &AuthorizationTrace<'_>, out: &mut Vec<Finding>) {
    let Some((bucket_name, key)) = split_s3_arn(&auth.resource) else {
        return;
    };
    let bucket = cx.world.bucket(bucket_name);
    let rp = auth.layer(Layer::ResourcePolicy);
    let acl = [Layer::BucketAcl, Layer::ObjectAcl]
        .iter()
        .filter_map(|l| acl_grant(auth.layer(*l)))
        .max();
    let grant = policy_grant(cx, rp).max(acl);
    let side = identity_side_of(cx, auth);
    let owner = match (bucket, key) {
        (Some(b), Some(k)) if uses_object_context(&auth.action) => foreign_owner(cx.world, b, k),
        _ => None,
    };
    let same_account = match (owner, bucket) {
        (Some((acct, _)), _) => acct.is_some() && cx.caller.account == acct,
        (None, Some(b)) => cx.caller.account == Some(b.account_id.as_str()),
        (None, None) => false,
    };
    match cx.caller.kind {
        CallerKind::Anonymous | CallerKind::Service | CallerKind::OriginAccessIdentity => {
            if grant.is_some_and(|n| matches!(n, Named::Any | Named::Service | Named::Direct)) {
                return;
            }
            resource_missing(cx, i, auth, bucket, owner, out);
        }
        _ if same_account => {
            let direct = grant.is_some_and(|n| n != Named::Account && side.grant_effective(n));
            if direct || side.ok() {
                return;
            }
            identity_side(
                cx,
                i,
                auth,
                &side,
                Cause::IdentityMissingAllow,
                &format!(
                    ", and the bucket policy of `{bucket_name}` does not grant {} directly either",
                    if cx.caller.kind == CallerKind::RoleSession {
                        "the session"
                    } else {
                        "it"
                    }
                ),
                bucket,
                grant == Some(Named::Role),
                out,
            );
        }
        _ => {
            if grant.is_none() {
                resource_missing(cx, i, auth, bucket, owner, out);
            }
            if !side.ok() {
                let owner_acct = owner
                    .and_then(|(a, _)| a)
                    .or(bucket.map(|b| b.account_id.as_str()))
                    .unwrap_or("?");
                identity_side(
                    cx,
                    i,
                    auth,
                    &side,
                    Cause::IdentityMissingAllow,
                    &format!(
                        ", and a cross-account request (the resource belongs to account {owner_acct}) needs both the owner's grant and the caller's own identity policy"
                    ),
                    bucket,
                    false,
                    out,
                );
            }
        }
    }
}

/// The resource side has no grant for the caller: a foreign-owned object, Block Public Access, a
/// missing CloudFront OAC grant, or a missing (cross-account / public) grant.
fn resource_missing(
    cx: &Cx<'_>,
    i: usize,
    auth: &AuthorizationTrace<'_>,
    bucket: Option<&Bucket>,
    owner: Option<(Option<&str>, &str)>,
    out: &mut Vec<Finding>,
) {
    let bucket_name = split_s3_arn(&auth.resource).map(|(b, _)| b).unwrap_or("?");
    let who = cx.who();
    let rp = auth.layer(Layer::ResourcePolicy);
    let discarded = |d: Discard| -> Vec<Evidence> {
        rp.map(|l| {
            l.statements
                .iter()
                .filter(|s| s.result == StatementResult::Discarded(d))
                .map(traced)
                .collect()
        })
        .unwrap_or_default()
    };

    // An object another account owns: only its ACL can grant.
    if let Some((acct, canonical)) = owner {
        let mut ev = vec![setting(
            &auth.resource,
            "object owner",
            match acct {
                Some(a) => format!("account {a} (canonical id {canonical})"),
                None => format!("canonical id {canonical}"),
            },
        )];
        if let Some(b) = bucket {
            ev.push(setting(
                &b.arn(),
                "ObjectOwnership",
                b.effective_ownership()
                    .map(|o| o.as_str().to_string())
                    .unwrap_or_else(|| "unknown".into()),
            ));
        }
        ev.extend(discarded(Discard::ObjectOwnedByOtherAccount));
        ev.push(missing(
            &auth.action,
            &auth.resource,
            format!("object ACL of `{}`", auth.resource),
        ));
        out.push(finding(
            Cause::ObjectOwnedByOtherAccount,
            i,
            auth,
            Layer::ObjectAcl,
            format!(
                "the object `{}` is owned by {} rather than the bucket owner, so the bucket policy cannot grant it and its object ACL does not grant {who} {}; have the object owner grant access (or set Object Ownership to Bucket owner enforced so the bucket owner owns it)",
                auth.resource,
                acct.map(|a| format!("account {a}")).unwrap_or_else(|| "another account".into()),
                auth.action
            ),
            ev,
        ));
        return;
    }

    // Block Public Access removed the grant.
    let rpb = discarded(Discard::RestrictPublicBuckets);
    let acl_ignored = [Layer::BucketAcl, Layer::ObjectAcl].iter().find_map(|l| {
        auth.layer(*l)
            .filter(|t| t.reason == Some(Reason::PublicAclIgnored))
    });
    if !rpb.is_empty() || acl_ignored.is_some() {
        let mut ev = Vec::new();
        let bucket_arn = bucket
            .map(|b| b.arn())
            .unwrap_or_else(|| format!("arn:aws:s3:::{bucket_name}"));
        if !rpb.is_empty() {
            ev.push(setting(&bucket_arn, "RestrictPublicBuckets", "true"));
            ev.extend(rpb);
        }
        if let Some(l) = acl_ignored {
            ev.push(setting(&bucket_arn, "IgnorePublicAcls", "true"));
            ev.push(setting(
                &auth.resource,
                l.layer.title(),
                l.note.as_deref().unwrap_or_default().to_string(),
            ));
        }
        let what = if acl_ignored.is_some()
            && ev.iter().all(|e| !matches!(e, Evidence::Statement { .. }))
        {
            "IgnorePublicAcls makes S3 ignore the public ACL grant"
        } else {
            "RestrictPublicBuckets limits the public bucket policy to the bucket owner's account and AWS services"
        };
        let tail = if cx.caller.kind == CallerKind::Anonymous {
            "; keep Block Public Access on and serve the content another way (for example CloudFront with OAC), or turn the setting off deliberately"
        } else {
            "; replace the public statement with one that names the caller's account or ARN without wildcards, so the policy is no longer public"
        };
        out.push(finding(
            Cause::BpaBlocksPublicAccess,
            i,
            auth,
            Layer::BlockPublicAccess,
            format!(
                "Block Public Access on bucket `{bucket_name}` removes the grant of {} to {who}: {what}{tail}",
                auth.action
            ),
            ev,
        ));
        return;
    }

    // CloudFront through OAC.
    if cx.caller.kind == CallerKind::Service && cx.caller.service == Some(cloudfront::SERVICE) {
        if auth.action.eq_ignore_ascii_case("s3:GetObject") {
            cloudfront::oac_missing(cx, i, auth, bucket, out);
        } else {
            // CloudFront only ever needs s3:GetObject; a list request means a viewer asked for
            // `/` (or a "directory") and no default root object maps it to a key.
            cloudfront::list_request(cx, i, auth, out);
        }
        return;
    }

    let mut ev = vec![missing(
        &auth.action,
        &auth.resource,
        format!("bucket policy of `{bucket_name}`"),
    )];
    ev.extend(near_misses(rp));
    if let (Some(b), Some(policy)) = (bucket, bucket.and_then(|b| b.policy.known())) {
        let label = crate::eval::PolicyRef::BucketPolicy { bucket: &b.name };
        ev.extend(wrong_level(
            cx,
            &[(label, policy)],
            &auth.action,
            &auth.resource,
            Some(b),
            |st| {
                st.principal
                    .as_ref()
                    .is_some_and(|p| cx.caller.principal_clause(p).is_some())
            },
        ));
    }
    let explanation = match cx.caller.kind {
        CallerKind::Anonymous => format!(
            "no public grant: neither the bucket policy of `{bucket_name}` nor an ACL allows anonymous callers {} on `{}`; making it public is a deliberate choice",
            auth.action, auth.resource
        ),
        CallerKind::Service | CallerKind::OriginAccessIdentity => format!(
            "the bucket policy of `{bucket_name}` does not grant {who} {} on `{}`, and only the bucket policy (or an ACL) can",
            auth.action, auth.resource
        ),
        _ => format!(
            "the bucket policy of `{bucket_name}` does not grant {who} {}, and a cross-account request needs both the bucket owner's grant and the caller's identity policy",
            auth.action
        ),
    };
    out.push(finding(
        Cause::CrossAccountResourceMissing,
        i,
        auth,
        Layer::ResourcePolicy,
        explanation,
        ev,
    ));
}

//! Diagnosis: from a decision and its trace, one Finding per cause of the denial, each with the
//! evidence (the statement, the setting, the missing grant) and a plain-language explanation.
//! Pure: reads the World, the Request and the Outcome; writes nothing.
//!
//! Every denied authorization of the outcome is examined (not only the decisive one), and every
//! cause found in it is reported:
//!
//! * request refusals (`refusal`): Requester Pays, presigned-URL validity, ACLs on a
//!   Bucket-owner-enforced bucket, BlockPublicAcls, a disabled KMS key, 403-instead-of-404;
//! * explicit denies and the SCP / RCP / VPC-endpoint gates (`deny`);
//! * the allow side: for S3 authorizations (`allow`) the same-account / cross-account rules of
//!   [`crate::eval::combine`], Block Public Access, foreign-owned objects and CloudFront; for KMS
//!   authorizations (`kms`) the key policy / delegation / IAM rules.
//!
//! The allow side is examined even when an explicit deny or a refusal decided: a person (or the
//! planner) fixing only the deny would otherwise meet the next cause one round later, and some
//! denies (guardrails, refusals) can only be fixed by hand.
//!
//! Findings come out ordered: the decisive authorization first, then by authorization index, then
//! by layer (the order of [`Layer`]); a second finding with the same cause, authorization and
//! resource is merged into the first (its evidence appended).

mod allow;
mod cloudfront;
mod context;
mod deny;
mod evidence;
mod finding;
mod kms;
mod refusal;

pub use finding::{Cause, Evidence, Finding};

use crate::eval::{AuthorizationTrace, Layer, Outcome};
use crate::request::Request;
use crate::world::World;

use context::Cx;

/// Every cause of `outcome` (empty when it is allowed).
pub fn diagnose(world: &World, request: &Request, outcome: &Outcome<'_>) -> Vec<Finding> {
    if outcome.decision.is_allowed() {
        return Vec::new();
    }
    let cx = Cx::new(world, request);
    let mut found: Vec<Finding> = Vec::new();
    for (i, auth) in outcome.authorizations.iter().enumerate() {
        if auth.decision.is_allowed() {
            continue;
        }
        let before = found.len();
        authorization(&cx, i, auth, &mut found);
        if found.len() == before {
            fallback(&cx, i, auth, &mut found);
        }
    }
    cloudfront::default_root_object(&cx, outcome, &mut found);
    order(found, outcome.deciding)
}

/// All causes of one denied authorization.
fn authorization(cx: &Cx<'_>, i: usize, auth: &AuthorizationTrace<'_>, out: &mut Vec<Finding>) {
    refusal::refusals(cx, i, auth, out);
    // A disabled key and a missing key's 403 leave nothing else to examine: the key's policies
    // were not evaluated, and the existence check runs only once everything else allowed.
    if matches!(
        auth.deciding_layer,
        Some(Layer::KmsKeyState) | Some(Layer::Existence)
    ) {
        return;
    }
    deny::explicit(cx, i, auth, out);
    deny::gates(cx, i, auth, out);
    if auth.action.starts_with("kms:") {
        kms::allow_side(cx, i, auth, out);
    } else {
        allow::s3(cx, i, auth, out);
    }
}

/// The deciding layer of a denied authorization, named as a finding when no rule matched (it
/// should not happen; kept so that a denial is never left without a cause).
fn fallback(cx: &Cx<'_>, i: usize, auth: &AuthorizationTrace<'_>, out: &mut Vec<Finding>) {
    let Some(layer) = auth.deciding_layer else {
        return;
    };
    let kms = auth.action.starts_with("kms:");
    let cause = match layer {
        Layer::Identity if kms => Cause::KmsIdentityMissing,
        Layer::Identity => Cause::IdentityMissingAllow,
        Layer::ResourcePolicy | Layer::KmsGrant if kms => Cause::KmsKeyPolicyMissing,
        Layer::ResourcePolicy | Layer::BucketAcl | Layer::KmsGrant => {
            Cause::CrossAccountResourceMissing
        }
        Layer::ObjectAcl => Cause::ObjectOwnedByOtherAccount,
        Layer::PermissionsBoundary => Cause::BoundaryCap,
        Layer::SessionPolicy => Cause::SessionPolicyCap,
        Layer::Scp => Cause::ScpBlocks,
        Layer::Rcp => Cause::RcpBlocks,
        Layer::VpcEndpoint => Cause::VpcEndpointPolicy,
        Layer::BlockPublicAccess => Cause::BpaBlocksPublicAccess,
        Layer::ObjectOwnership => Cause::AclNotSupported,
        Layer::KmsKeyState => Cause::KmsKeyDisabled,
        Layer::Existence => Cause::MissingKeyNoList,
        Layer::Request if cx.request.presigned.is_some() => Cause::PresignedUrlExpired,
        Layer::Request => Cause::RequesterPaysHeader,
    };
    let note = auth
        .layer(layer)
        .and_then(|l| l.note.as_deref().map(String::from))
        .unwrap_or_else(|| format!("nothing in the {} allows it", layer.title()));
    out.push(Finding {
        cause,
        authorization: i,
        action: auth.action.to_string(),
        resource: auth.resource.clone(),
        layer,
        explanation: format!(
            "{} is denied {} on `{}` by the {}: {note}",
            cx.who(),
            auth.action,
            auth.resource,
            layer.title()
        ),
        evidence: vec![evidence::missing(
            &auth.action,
            &auth.resource,
            layer.title().to_string(),
        )],
    });
}

/// Orders findings (decisive authorization, authorization index, layer) and merges duplicates.
fn order(found: Vec<Finding>, deciding: usize) -> Vec<Finding> {
    let mut merged: Vec<Finding> = Vec::with_capacity(found.len());
    for f in found {
        match merged.iter_mut().find(|g| {
            g.cause == f.cause && g.authorization == f.authorization && g.resource == f.resource
        }) {
            Some(g) => {
                for e in f.evidence {
                    if !g.evidence.contains(&e) {
                        g.evidence.push(e);
                    }
                }
            }
            None => merged.push(f),
        }
    }
    merged.sort_by_key(|f| (f.authorization != deciding, f.authorization, f.layer as u8));
    merged
}

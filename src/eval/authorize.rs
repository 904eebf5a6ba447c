//! The authorizer: decides one request against one World, as AWS does, with a full trace.
//!
//! For each authorization the request needs (the S3 action, a copy source, KMS use of the object's
//! key) it evaluates every layer — request refusals (Block Public Access, Object Ownership,
//! Requester Pays), RCPs, SCPs, the VPC endpoint policy, the bucket or key policy, ACLs, KMS
//! grants, identity policies, the permissions boundary and the session policy — then applies AWS's
//! order: any explicit deny wins, then every gate (RCP, SCP, endpoint) must allow, then the
//! same-account / cross-account rule of [`combine`](crate::eval::combine).

use std::borrow::Cow;

use crate::eval::caller::{Caller, CallerKind, Named};
use crate::eval::combine::{combine, Sides};
use crate::eval::context::{EvalContext, KmsKeys};
use crate::eval::layers::{
    eval_org_levels, eval_policies, share_statements, Hits, Probe, StatementLog,
};
use crate::eval::public;
use crate::eval::trace::{
    AclGrantee, AuthorizationTrace, Decision, Discard, Layer, LayerOutcome, LayerTrace, Outcome,
    PolicyRef, Reason, StatementResult,
};
use crate::eval::EvalError;
use crate::policy::Effect;
use crate::request::{
    borrowed_requirements, DataAccess, Request, Requirement, RequirementRole, ResourceName,
};
use crate::world::{
    Account, Acl, AclPermission, Bucket, Grantee, ObjectOwnership, Part, PublicAccessBlock,
    SseAlgorithm, World,
};

/// A requirement with its resource names borrowed from the request.
type Need<'a> = Requirement<ResourceName<'a>>;

/// Decides `request` against `world`, with the full trace (every relevant statement of every
/// layer).
pub fn authorize<'a>(world: &'a World, request: &'a Request) -> Result<Outcome<'a>, EvalError> {
    evaluate(world, request, true)
}

/// Decides `request` against `world` by the same rules as [`authorize`], recording layers but no
/// statements: for bulk evaluation (the planner's no-new-access proof), where only the decision,
/// the status and the deciding layer matter.
pub fn decide<'a>(world: &'a World, request: &'a Request) -> Result<Outcome<'a>, EvalError> {
    evaluate(world, request, false)
}

fn evaluate<'a>(
    world: &'a World,
    request: &'a Request,
    record: bool,
) -> Result<Outcome<'a>, EvalError> {
    let bucket = world
        .bucket(&request.bucket)
        .ok_or_else(|| EvalError::UnknownBucket(request.bucket.clone()))?;
    let reqs = borrowed_requirements(request, &world.partition)?;
    let mut caller = Caller::resolve(world, request);
    let caller_unknowns = std::mem::take(&mut caller.unknowns);
    let epoch = std::cell::OnceCell::new();
    // The time matters only to presigned URLs (expiry, s3:signatureAge).
    let now = request.presigned.as_ref().and_then(|_| now_epoch(request));
    let signature_age = match (&request.presigned, now) {
        (Some(p), Some(now)) => Some(((now - p.signed_at_epoch).max(0) * 1000).to_string()),
        _ => None,
    };
    let env = Env {
        world,
        request,
        caller: &caller,
        epoch: &epoch,
        now,
        signature_age: signature_age.as_deref(),
        record,
        log: std::cell::RefCell::new(Vec::new()),
    };
    let mut out = Collected {
        unknowns: caller_unknowns,
        notes: Vec::new(),
    };
    let mut auths: Vec<AuthorizationTrace<'a>> = Vec::with_capacity(reqs.len() + 2);
    let mut refused_status = None;
    let first_reads_object = reqs
        .first()
        .is_some_and(|r| object_key(r).is_some() && r.action_lower.starts_with("s3:getobject"));
    for r in reqs {
        let target = match (&r.role, &request.copy_source) {
            (RequirementRole::CopySource, Some(src)) => world
                .bucket(&src.bucket)
                .ok_or_else(|| EvalError::UnknownBucket(src.bucket.clone()))?,
            _ => bucket,
        };
        // KMS authorizations follow the S3 one they come from; evaluate them first so the
        // requirement's strings can move into the S3 trace.
        let at = auths.len();
        if let Some(key) = object_key(&r) {
            env.kms_for(&r, target, key, &mut auths, &mut out);
        }
        let primary = r.role == RequirementRole::Primary;
        let mut auth = env.s3(r, target, &mut out);
        if primary && auth.decision != Decision::ExplicitDeny {
            if let Some((layer, status)) = env.refusal(target, &mut out) {
                auth.decision = Decision::ExplicitDeny;
                auth.deciding_layer = Some(layer.layer);
                auth.layers.insert(0, layer);
                refused_status = Some(status);
            }
        }
        auths.insert(at, auth);
    }
    let mut status = 200;
    let deciding = auths.iter().position(|a| !a.decision.is_allowed());
    if deciding.is_none() && first_reads_object {
        if let (Some(first), Some(key)) = (auths.first_mut(), request.key.as_deref()) {
            status = env.existence(key, bucket, first, &mut out);
        }
    }
    let deciding = auths
        .iter()
        .position(|a| !a.decision.is_allowed())
        .unwrap_or(0);
    let decision = auths
        .get(deciding)
        .map(|a| a.decision)
        .unwrap_or(Decision::ImplicitDeny);
    if !decision.is_allowed() {
        status = refused_status.filter(|_| deciding == 0).unwrap_or(403);
    }
    // Every authorization's statements were recorded in one buffer; hand it to their layers.
    share_statements(
        auths.iter_mut().flat_map(|a| a.layers.iter_mut()),
        &mut env.log.borrow_mut(),
    );
    Ok(Outcome {
        decision,
        status,
        deciding,
        authorizations: auths,
        unknowns: out.unknowns,
        notes: out.notes,
    })
}

/// Unknowns and notes gathered along the way.
struct Collected {
    unknowns: Vec<String>,
    notes: Vec<String>,
}

impl Collected {
    fn unknown(&mut self, s: String) {
        if !self.unknowns.contains(&s) {
            self.unknowns.push(s);
        }
    }

    fn note(&mut self, s: String) {
        if !self.notes.contains(&s) {
            self.notes.push(s);
        }
    }
}

/// The time of the request in epoch seconds, from `aws:EpochTime` or `aws:CurrentTime`.
fn now_epoch(request: &Request) -> Option<i64> {
    if let Some(e) = request
        .context_value("aws:epochtime")
        .and_then(|v| v.first())
    {
        return e.parse::<f64>().ok().map(|f| f as i64);
    }
    let now = request.context_value("aws:currenttime")?.first()?;
    crate::request::parse_time(now)
}

fn object_key<'a>(r: &Need<'a>) -> Option<&'a str> {
    r.resource.key()
}

/// Who owns an object, as far as authorization is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner<'a> {
    BucketOwner,
    /// Another account (its id when the World maps the canonical id to an account).
    Other(Option<&'a str>),
}

/// The effective Block Public Access of a bucket: bucket OR account setting, per flag.
#[derive(Debug, Clone, Copy, Default)]
struct Bpa {
    block_public_acls: bool,
    ignore_public_acls: bool,
    restrict_public_buckets: bool,
}

impl Bpa {
    /// The settings in effect, as a static note (no allocation per request).
    fn describe(self) -> &'static str {
        match (self.block_public_acls, self.ignore_public_acls, self.restrict_public_buckets) {
            (true, true, true) => "in effect (bucket or account): BlockPublicAcls, IgnorePublicAcls, RestrictPublicBuckets",
            (true, true, false) => "in effect (bucket or account): BlockPublicAcls, IgnorePublicAcls",
            (true, false, true) => "in effect (bucket or account): BlockPublicAcls, RestrictPublicBuckets",
            (false, true, true) => "in effect (bucket or account): IgnorePublicAcls, RestrictPublicBuckets",
            (true, false, false) => "in effect (bucket or account): BlockPublicAcls",
            (false, true, false) => "in effect (bucket or account): IgnorePublicAcls",
            (false, false, true) => "in effect (bucket or account): RestrictPublicBuckets",
            (false, false, false) => "none in effect",
        }
    }
}

struct Env<'e, 'a> {
    world: &'a World,
    request: &'a Request,
    caller: &'e Caller<'a>,
    epoch: &'e std::cell::OnceCell<Option<String>>,
    now: Option<i64>,
    signature_age: Option<&'e str>,
    /// Record statements in the trace.
    record: bool,
    /// The statements recorded for the request's authorizations (see [`StatementLog`]).
    log: std::cell::RefCell<StatementLog<'a>>,
}

impl<'e, 'a> Env<'e, 'a> {
    /// The condition context of an authorization on a resource of `resource_account`, whose
    /// record (if the World has it) is `owner`.
    fn ctx(
        &self,
        owner: Option<&'a Account>,
        resource_account: &'a str,
        region: &'a str,
        kms: Option<&'e KmsKeys>,
    ) -> EvalContext<'e> {
        EvalContext {
            request: self.request,
            caller: self.caller,
            resource_account,
            resource_org_id: owner.and_then(|a| match &a.organization {
                Part::Known(o) => Some(o.id.as_str()),
                _ => None,
            }),
            region,
            kms,
            epoch_time: self.epoch,
            signature_age: self.signature_age,
        }
    }

    /// `owner`: the record of the bucket's account, if the World has it.
    fn bpa(&self, bucket: &'a Bucket, owner: Option<&'a Account>, out: &mut Collected) -> Bpa {
        let mut b = Bpa::default();
        let mut merge = |p: &PublicAccessBlock| {
            b.block_public_acls |= p.block_public_acls;
            b.ignore_public_acls |= p.ignore_public_acls;
            b.restrict_public_buckets |= p.restrict_public_buckets;
        };
        match &bucket.public_access_block {
            Part::Known(p) => merge(p),
            Part::Unknown(why) => out.unknown(format!(
                "bucket `{}`: Block Public Access could not be read ({why})",
                bucket.name
            )),
            Part::Absent => {}
        }
        match owner.map(|a| &a.block_public_access) {
            Some(Part::Known(p)) => merge(p),
            Some(Part::Unknown(why)) => out.unknown(format!(
                "account `{}`: account-level Block Public Access could not be read ({why})",
                bucket.account_id
            )),
            _ => {}
        }
        b
    }

    fn owner_of(&self, bucket: &'a Bucket, key: &str) -> Owner<'a> {
        match crate::eval::ownership::foreign_owner(self.world, bucket, key) {
            None => Owner::BucketOwner,
            Some((account, _)) => Owner::Other(account),
        }
    }

    /// One S3 authorization.
    fn s3(&self, r: Need<'a>, bucket: &'a Bucket, out: &mut Collected) -> AuthorizationTrace<'a> {
        let key = object_key(&r);
        let caller = self.caller;
        let probe = Probe {
            action_lower: &r.action_lower,
            resource: &r.resource_arn,
            record: self.record,
        };
        let owner_account = self.world.account(&bucket.account_id);
        let ctx = self.ctx(owner_account, &bucket.account_id, &bucket.region, None);
        let mut layers: Vec<LayerTrace<'a>> = Vec::with_capacity(12);

        let gates = self.gates(&mut layers, probe, &ctx, owner_account, true, out);

        // Object context: grants of the bucket owner do not reach objects another account owns.
        let owner = match key {
            Some(k) if crate::eval::ownership::uses_object_context(&r.action_lower) => {
                self.owner_of(bucket, k)
            }
            _ => Owner::BucketOwner,
        };
        let bpa = self.bpa(bucket, owner_account, out);

        // Resource policy.
        let mut rp_trace = LayerTrace::new(Layer::ResourcePolicy, LayerOutcome::NoMatch);
        let mut rp = Hits::default();
        let mut bpa_discarded = false;
        match &bucket.policy {
            Part::Known(policy) => {
                rp = eval_policies(
                    &mut rp_trace,
                    &mut self.log.borrow_mut(),
                    [(
                        PolicyRef::BucketPolicy {
                            bucket: &bucket.name,
                        },
                        policy,
                    )],
                    probe,
                    &ctx,
                    caller,
                );
                let outsider = match caller.kind {
                    CallerKind::Service => false,
                    CallerKind::Anonymous => true,
                    _ => caller.account != Some(bucket.account_id.as_str()),
                };
                let discard = if bpa.restrict_public_buckets
                    && outsider
                    && public::policy_is_public(policy)
                {
                    bpa_discarded = rp.allow.is_some();
                    Some(Discard::RestrictPublicBuckets)
                } else if matches!(owner, Owner::Other(_)) {
                    Some(Discard::ObjectOwnedByOtherAccount)
                } else {
                    None
                };
                if let Some(d) = discard {
                    discard_allows(&rp_trace, &mut self.log.borrow_mut(), d);
                    rp.allow = None;
                    if rp_trace.outcome == LayerOutcome::Allow {
                        rp_trace.outcome = LayerOutcome::NoMatch;
                    }
                    if d == Discard::RestrictPublicBuckets {
                        rp_trace.reason = Some(Reason::RestrictPublicBuckets);
                        rp_trace.note = Some(
                            "the bucket policy is public and RestrictPublicBuckets is on: it grants only to the bucket owner's account and AWS services".into(),
                        );
                    }
                }
            }
            Part::Unknown(why) => {
                out.unknown(format!(
                    "bucket `{}`: bucket policy could not be read ({why}); evaluated as absent",
                    bucket.name
                ));
                rp_trace.outcome = LayerOutcome::Unknown;
            }
            Part::Absent => rp_trace.note = Some("the bucket has no bucket policy".into()),
        }
        layers.push(rp_trace);

        // ACLs.
        let mut acl_grant: Option<(Named, Layer)> = None;
        if let Some((target, perm)) = acl_permission(&r.action_lower) {
            let (layer, grant, discarded) =
                self.acl_layer(bucket, key, target, perm, owner, bpa, out);
            bpa_discarded |= discarded && grant.is_none();
            if let Some(n) = grant {
                acl_grant = Some((n, layer.layer));
            }
            layers.push(layer);
        }
        if bpa.restrict_public_buckets || bpa.ignore_public_acls || bpa.block_public_acls {
            let mut l = LayerTrace::new(
                Layer::BlockPublicAccess,
                if bpa_discarded {
                    LayerOutcome::Deny
                } else {
                    LayerOutcome::Skipped
                },
            );
            l.note = Some(bpa.describe().into());
            layers.push(l);
        }

        let (identity, boundary, session) = self.identity_layers(&mut layers, probe, &ctx);

        let rp_grant = rp.allow.map(|n| (n, Layer::ResourcePolicy));
        let resource_grant = match (rp_grant, acl_grant) {
            (Some(a), Some(b)) => Some(if b.0 > a.0 { b } else { a }),
            (a, b) => a.or(b),
        };
        let (same_account, blame) = match owner {
            Owner::BucketOwner => (
                caller.account == Some(bucket.account_id.as_str()),
                if bpa_discarded {
                    Layer::BlockPublicAccess
                } else {
                    Layer::ResourcePolicy
                },
            ),
            Owner::Other(acct) => (acct.is_some() && caller.account == acct, Layer::ObjectAcl),
        };
        let sides = Sides {
            kind: caller.kind,
            same_account,
            resource_required: false,
            resource_grant,
            identity,
            boundary,
            session,
            resource_blame: blame,
        };
        finish(r.action, r.resource_arn, r.purpose, layers, gates, &sides)
    }

    /// The RCP, SCP and (for S3) VPC endpoint layers. Returns the gate that fails, if any.
    /// `owner`: the record of the resource owner's account, if the World has it.
    fn gates(
        &self,
        layers: &mut Vec<LayerTrace<'a>>,
        probe: Probe<'_>,
        ctx: &EvalContext<'_>,
        owner: Option<&'a Account>,
        through_endpoint: bool,
        out: &mut Collected,
    ) -> Option<Layer> {
        let caller = self.caller;
        let mut failing = None;
        // RCPs of the resource owner's organization (they apply to every caller).
        if let Some(acct) = owner {
            failing = failing.or(self.org_gate(layers, Layer::Rcp, acct, probe, ctx, out));
        }
        // SCPs of the caller's organization (IAM principals of member accounts only).
        if matches!(
            caller.kind,
            CallerKind::User
                | CallerKind::RoleSession
                | CallerKind::FederatedUser
                | CallerKind::Root
        ) {
            if let Some(acct) = caller.account_record {
                failing = failing.or(self.org_gate(layers, Layer::Scp, acct, probe, ctx, out));
            }
        }
        // The VPC endpoint the request came through.
        if through_endpoint {
            if let Some(id) = self.request.vpc_endpoint.as_deref() {
                let mut trace = LayerTrace::new(Layer::VpcEndpoint, LayerOutcome::NoMatch);
                match self.world.vpc_endpoint(id) {
                    Some(vpce) => match &vpce.policy {
                        Part::Known(policy) => {
                            let hits = eval_policies(
                                &mut trace,
                                &mut self.log.borrow_mut(),
                                [(
                                    PolicyRef::Vpce {
                                        id: vpce.id.as_str(),
                                    },
                                    policy,
                                )],
                                probe,
                                ctx,
                                caller,
                            );
                            if hits.allow.is_none() && !hits.deny {
                                failing = failing.or(Some(Layer::VpcEndpoint));
                            }
                        }
                        Part::Absent => {
                            trace.outcome = LayerOutcome::Allow;
                            trace.note =
                                Some("the endpoint has the default full-access policy".into());
                        }
                        Part::Unknown(why) => {
                            trace.outcome = LayerOutcome::Unknown;
                            out.unknown(format!(
                                "VPC endpoint `{id}`: policy could not be read ({why})"
                            ));
                        }
                    },
                    None => {
                        trace.outcome = LayerOutcome::Unknown;
                        out.unknown(format!(
                            "VPC endpoint `{id}` is not in the world: its policy could not be checked"
                        ));
                    }
                }
                layers.push(trace);
            }
        }
        failing
    }

    /// One organization policy type (RCPs or SCPs) of `account`, every level of which must allow.
    /// Returns the layer when a level has no allow (an explicit deny is found by `finish`).
    fn org_gate(
        &self,
        layers: &mut Vec<LayerTrace<'a>>,
        layer: Layer,
        account: &'a crate::world::Account,
        probe: Probe<'_>,
        ctx: &EvalContext<'_>,
        out: &mut Collected,
    ) -> Option<Layer> {
        let org = match &account.organization {
            Part::Known(org) if !org.is_management_account => org,
            Part::Unknown(why) => {
                out.unknown(format!(
                    "account `{}`: organization policies ({}) could not be read ({why})",
                    account.account_id,
                    if layer == Layer::Rcp { "RCPs" } else { "SCPs" }
                ));
                return None;
            }
            _ => return None,
        };
        let (levels, make_ref): (_, fn(&'a str, &'a str) -> PolicyRef<'a>) = if layer == Layer::Rcp
        {
            (&org.rcps, |target, name| PolicyRef::Rcp { target, name })
        } else {
            (&org.scps, |target, name| PolicyRef::Scp { target, name })
        };
        if levels.is_empty() {
            return None;
        }
        let (trace, res) = eval_org_levels(
            layer,
            &mut self.log.borrow_mut(),
            levels,
            make_ref,
            probe,
            ctx,
            self.caller,
        );
        layers.push(trace);
        (!res.allows() && !res.deny).then_some(layer)
    }

    /// Identity, boundary and session layers. Returns (identity, boundary, session) allows.
    fn identity_layers(
        &self,
        layers: &mut Vec<LayerTrace<'a>>,
        probe: Probe<'_>,
        ctx: &EvalContext<'_>,
    ) -> (Option<bool>, Option<bool>, Option<bool>) {
        let caller = self.caller;
        match caller.kind {
            CallerKind::Anonymous | CallerKind::Service | CallerKind::OriginAccessIdentity => {
                return (None, None, None)
            }
            CallerKind::Root => {
                layers.push(
                    LayerTrace::new(Layer::Identity, LayerOutcome::Allow)
                        .with_note("the account root user is not subject to identity policies"),
                );
                return (Some(true), None, None);
            }
            _ => {}
        }
        let mut trace = LayerTrace::new(Layer::Identity, LayerOutcome::NoMatch);
        let hits = eval_policies(
            &mut trace,
            &mut self.log.borrow_mut(),
            caller.identity.iter().copied(),
            probe,
            ctx,
            caller,
        );
        if caller.identity.is_empty() {
            trace.note = Some("the caller has no identity-based policies".into());
        }
        layers.push(trace);
        let identity = Some(hits.allow.is_some());
        let boundary = caller.boundary.map(|b| {
            let mut t = LayerTrace::new(Layer::PermissionsBoundary, LayerOutcome::NoMatch);
            let h = eval_policies(&mut t, &mut self.log.borrow_mut(), [b], probe, ctx, caller);
            layers.push(t);
            h.allow.is_some()
        });
        let session = caller.session_policy.map(|p| {
            let mut t = LayerTrace::new(Layer::SessionPolicy, LayerOutcome::NoMatch);
            let h = eval_policies(
                &mut t,
                &mut self.log.borrow_mut(),
                [(PolicyRef::Session, p)],
                probe,
                ctx,
                caller,
            );
            layers.push(t);
            h.allow.is_some()
        });
        (identity, boundary, session)
    }

    /// The bucket or object ACL layer: (trace, grant, whether a public grant was ignored).
    #[allow(clippy::too_many_arguments)]
    fn acl_layer(
        &self,
        bucket: &'a Bucket,
        key: Option<&str>,
        target: AclTarget,
        perm: AclPermission,
        owner: Owner<'a>,
        bpa: Bpa,
        out: &mut Collected,
    ) -> (LayerTrace<'a>, Option<Named>, bool) {
        let layer = match target {
            AclTarget::Bucket => Layer::BucketAcl,
            AclTarget::Object => Layer::ObjectAcl,
        };
        if bucket.effective_ownership() == Some(ObjectOwnership::BucketOwnerEnforced) {
            return (
                LayerTrace::new(layer, LayerOutcome::Skipped)
                    .with_note("ACLs are disabled (Object Ownership: Bucket owner enforced)")
                    .with_reason(Reason::AclsDisabled),
                None,
                false,
            );
        }
        let (part, owner_account): (Option<&'a Part<Acl>>, Option<&'a str>) = match target {
            AclTarget::Bucket => (Some(&bucket.acl), Some(bucket.account_id.as_str())),
            AclTarget::Object => (
                key.and_then(|k| bucket.object(k)).map(|o| &o.acl),
                match owner {
                    Owner::BucketOwner => Some(bucket.account_id.as_str()),
                    Owner::Other(a) => a,
                },
            ),
        };
        let acl = match part {
            Some(Part::Known(acl)) => Some(acl),
            Some(Part::Unknown(why)) => {
                out.unknown(format!(
                    "bucket `{}`: {} could not be read ({why}); evaluated as the default (owner full control)",
                    bucket.name,
                    layer.title()
                ));
                None
            }
            _ => None,
        };
        let caller = self.caller;
        let authenticated = !matches!(caller.kind, CallerKind::Anonymous | CallerKind::Service);
        let oai = caller.kind == CallerKind::OriginAccessIdentity;
        let mut best: Option<Named> = None;
        let mut ignored = false;
        let mut why = String::new();
        let mut consider = |n: Named, text: String| {
            if best.is_none_or(|b| n > b) {
                best = Some(n);
                why = text;
            }
        };
        match acl {
            Some(acl) => {
                for g in &acl.grants {
                    if g.permission != perm && g.permission != AclPermission::FullControl {
                        continue;
                    }
                    let perm_name = permission_name(g.permission);
                    match &g.grantee {
                        Grantee::CanonicalUser(id) => {
                            if oai && caller.canonical_id == Some(id.as_str()) {
                                consider(Named::Direct, format!("grants {perm_name} to the origin access identity (canonical id `{id}`)"));
                                continue;
                            }
                            let to_caller = authenticated
                                && !oai
                                && (caller.canonical_id == Some(id.as_str())
                                    || self.world.account_by_canonical_id(id).is_some_and(|a| {
                                        caller.account == Some(a.account_id.as_str())
                                    }));
                            if to_caller {
                                consider(Named::Account, format!("grants {perm_name} to the caller's account (canonical id `{id}`)"));
                            }
                        }
                        Grantee::AllUsers | Grantee::AuthenticatedUsers => {
                            let everyone = matches!(g.grantee, Grantee::AllUsers);
                            if !everyone && !authenticated {
                                continue;
                            }
                            if bpa.ignore_public_acls {
                                ignored = true;
                            } else {
                                consider(
                                    Named::Any,
                                    format!(
                                        "grants {perm_name} to {}",
                                        if everyone {
                                            "AllUsers (anyone)"
                                        } else {
                                            "AuthenticatedUsers"
                                        }
                                    ),
                                );
                            }
                        }
                        _ => {}
                    }
                }
            }
            None => {
                // Default ACL: the owner has full control.
                if authenticated && owner_account.is_some() && caller.account == owner_account {
                    consider(
                        Named::Account,
                        "default ACL: the owner's account has full control".into(),
                    );
                }
            }
        }
        let mut trace = LayerTrace::new(
            layer,
            if best.is_some() {
                LayerOutcome::Allow
            } else {
                LayerOutcome::NoMatch
            },
        );
        trace.reason = match best {
            Some(Named::Direct) => Some(Reason::AclGrant {
                to: AclGrantee::OriginAccessIdentity,
            }),
            Some(Named::Any) => Some(Reason::AclGrant {
                to: AclGrantee::Public,
            }),
            Some(_) => Some(Reason::AclGrant {
                to: AclGrantee::Account,
            }),
            None if ignored => Some(Reason::PublicAclIgnored),
            None => None,
        };
        trace.note = if best.is_some() {
            Some(why.into())
        } else if ignored {
            Some("a public grant is ignored because IgnorePublicAcls is on".into())
        } else {
            Some(match perm {
                AclPermission::Read => "no grant of READ to the caller".into(),
                AclPermission::Write => "no grant of WRITE to the caller".into(),
                AclPermission::ReadAcp => "no grant of READ_ACP to the caller".into(),
                AclPermission::WriteAcp => "no grant of WRITE_ACP to the caller".into(),
                AclPermission::FullControl => "no grant of FULL_CONTROL to the caller".into(),
            })
        };
        (trace, best, ignored)
    }

    /// Request-level refusals of the primary operation: (layer, HTTP status).
    fn refusal(&self, bucket: &'a Bucket, out: &mut Collected) -> Option<(LayerTrace<'a>, u16)> {
        let req = self.request;
        let op = match &req.target {
            crate::request::Target::Operation(spec) => spec.name,
            crate::request::Target::Action(_) => "",
        };
        let sets_acl = matches!(
            op,
            "PutObject" | "CopyObject" | "CreateMultipartUpload" | "PutObjectAcl" | "PutBucketAcl"
        );
        let canned = req.header("x-amz-acl");
        let grants: Vec<&str> = req
            .headers
            .iter()
            .filter(|(k, _)| k.starts_with("x-amz-grant-"))
            .map(|(_, v)| v.as_str())
            .collect();
        if sets_acl && (canned.is_some() || !grants.is_empty()) {
            if bucket.effective_ownership() == Some(ObjectOwnership::BucketOwnerEnforced)
                && !(canned == Some("bucket-owner-full-control") && grants.is_empty())
            {
                return Some((
                    LayerTrace::new(Layer::ObjectOwnership, LayerOutcome::Deny).with_note(
                        "ACLs are disabled (Bucket owner enforced): S3 rejects any ACL other than bucket-owner-full-control with AccessControlListNotSupported (HTTP 400)",
                    ).with_reason(Reason::AclsDisabled),
                    400,
                ));
            }
            let public = canned.is_some_and(public::canned_acl_is_public)
                || grants.iter().any(|g| public::grant_header_is_public(g));
            let owner = self.world.account(&bucket.account_id);
            if public && self.bpa(bucket, owner, out).block_public_acls {
                return Some((
                    LayerTrace::new(Layer::BlockPublicAccess, LayerOutcome::Deny)
                        .with_note(
                            "BlockPublicAcls is on: S3 rejects requests that set a public ACL",
                        )
                        .with_reason(Reason::BlockPublicAcls),
                    403,
                ));
            }
        }
        if let Some(p) = &req.presigned {
            if p.expires_in > crate::request::PRESIGNED_MAX_EXPIRES {
                return Some((
                    LayerTrace::new(Layer::Request, LayerOutcome::Deny).with_note(format!(
                        "presigned URL: X-Amz-Expires is {} s; S3 accepts at most 604800 s (7 days): AuthorizationQueryParametersError",
                        p.expires_in
                    )).with_reason(Reason::PresignedTooLong),
                    400,
                ));
            }
            match self.now {
                None => out.note(
                    "presigned URL: its expiry was not checked because the request gives no `aws:CurrentTime`".into(),
                ),
                Some(now) => {
                    let expires = p.signed_at_epoch.saturating_add(p.expires_in as i64);
                    if now > expires {
                        return Some((
                            LayerTrace::new(Layer::Request, LayerOutcome::Deny).with_note(format!(
                                "presigned URL expired {} s ago (signed at {}, valid for {} s): AccessDenied `Request has expired`",
                                now - expires,
                                p.signed_at,
                                p.expires_in
                            )).with_reason(Reason::PresignedExpired),
                            403,
                        ));
                    }
                    if now + 900 < p.signed_at_epoch {
                        return Some((
                            LayerTrace::new(Layer::Request, LayerOutcome::Deny).with_note(format!(
                                "presigned URL is not yet valid (signed at {})",
                                p.signed_at
                            )).with_reason(Reason::PresignedNotYetValid),
                            403,
                        ));
                    }
                    if let Some(cred) = p.credential_expires_epoch {
                        if now > cred {
                            return Some((
                                LayerTrace::new(Layer::Request, LayerOutcome::Deny).with_note(
                                    "presigned URL: the signer's temporary credentials have expired, which ends the URL's validity early: ExpiredToken",
                                ).with_reason(Reason::CredentialsExpired),
                                400,
                            ));
                        }
                    }
                }
            }
        }
        if let Part::Known(crate::world::Payer::Requester) = &bucket.request_payment {
            let owner = self.caller.account == Some(bucket.account_id.as_str());
            let agreed = req
                .header("x-amz-request-payer")
                .is_some_and(|v| v.eq_ignore_ascii_case("requester"));
            if !owner && !agreed {
                return Some((
                    LayerTrace::new(Layer::Request, LayerOutcome::Deny).with_note(
                        "the bucket is Requester Pays: a requester from another account must send `x-amz-request-payer: requester`",
                    ).with_reason(Reason::RequesterPays),
                    403,
                ));
            }
        }
        None
    }

    /// 403 instead of 404 for a missing key without s3:ListBucket. Returns the status.
    fn existence(
        &self,
        key: &str,
        bucket: &'a Bucket,
        first: &mut AuthorizationTrace<'a>,
        out: &mut Collected,
    ) -> u16 {
        if !bucket.objects_complete || bucket.object(key).is_some() {
            return 200;
        }
        let list = Requirement {
            action: "s3:ListBucket".into(),
            action_lower: "s3:listbucket".into(),
            resource_arn: bucket.arn(),
            resource: ResourceName::Bucket(&bucket.name),
            role: RequirementRole::Extra,
            data: DataAccess::None,
            purpose: "decide 404 vs 403 for a missing key".into(),
        };
        let check = self.s3(list, bucket, out);
        if check.decision.is_allowed() {
            first.layers.push(LayerTrace::new(Layer::Existence, LayerOutcome::Allow).with_note(
                "the key does not exist; the caller has s3:ListBucket, so S3 answers 404 Not Found",
            ).with_reason(Reason::MissingKey { can_list: true }));
            404
        } else {
            first.layers.push(LayerTrace::new(Layer::Existence, LayerOutcome::Deny).with_note(
                "the key does not exist and the caller lacks s3:ListBucket on the bucket, so S3 answers 403 Access Denied instead of 404",
            ).with_reason(Reason::MissingKey { can_list: false }));
            first.decision = Decision::ImplicitDeny;
            first.deciding_layer = Some(Layer::Existence);
            403
        }
    }

    /// KMS authorizations the requirement implies through the object's encryption.
    fn kms_for(
        &self,
        r: &Need<'a>,
        bucket: &'a Bucket,
        key: &str,
        auths: &mut Vec<AuthorizationTrace<'a>>,
        out: &mut Collected,
    ) {
        let object_arn = r.resource_arn.as_str();
        let (read, write) = match r.data {
            DataAccess::None => return,
            DataAccess::Read => (true, false),
            DataAccess::Write => (false, true),
            DataAccess::ReadWrite => (true, true),
        };
        // Reads use the stored object's key; writes use the request's or the bucket default.
        let stored = if read {
            self.stored_key(bucket, key, out)
        } else {
            None
        };
        let written = if write {
            self.written_key(bucket, out)
        } else {
            None
        };
        if read && r.data == DataAccess::Read {
            if let Some((k, bucket_key)) = stored {
                self.kms_one(
                    k,
                    bucket,
                    "kms:Decrypt",
                    "Decrypt",
                    object_arn,
                    bucket_key,
                    "decrypt the object's data key",
                    auths,
                    out,
                );
            }
        }
        if write {
            if let Some((k, bucket_key)) = written {
                self.kms_one(
                    k,
                    bucket,
                    "kms:GenerateDataKey",
                    "GenerateDataKey",
                    object_arn,
                    bucket_key,
                    "generate a data key to encrypt the object",
                    auths,
                    out,
                );
                if r.data == DataAccess::ReadWrite {
                    self.kms_one(
                        k,
                        bucket,
                        "kms:Decrypt",
                        "Decrypt",
                        object_arn,
                        bucket_key,
                        "decrypt the data key to complete a multipart upload",
                        auths,
                        out,
                    );
                }
            }
        }
    }

    /// The KMS key protecting a stored object, if any: (key reference, bucket key enabled).
    fn stored_key(
        &self,
        bucket: &'a Bucket,
        key: &str,
        out: &mut Collected,
    ) -> Option<(&'a str, bool)> {
        match bucket.object(key).map(|o| &o.head) {
            Some(Part::Known(head)) => match &head.sse {
                Some(SseAlgorithm::AwsKms) | Some(SseAlgorithm::AwsKmsDsse) => Some((
                    head.kms_key_id.as_deref().unwrap_or("alias/aws/s3"),
                    head.bucket_key_enabled,
                )),
                _ => None,
            },
            Some(Part::Unknown(why)) => {
                out.unknown(format!(
                    "object `{key}` in `{}`: encryption could not be read ({why}); KMS permissions not checked",
                    bucket.name
                ));
                None
            }
            Some(Part::Absent) | None => {
                if bucket.object(key).is_none() && bucket.objects_complete {
                    return None;
                }
                let k = self.default_key(bucket, out);
                if k.is_some() {
                    out.note(format!(
                        "object `{key}` is not described in the world: assumed encrypted with the bucket's default encryption"
                    ));
                }
                k
            }
        }
    }

    fn written_key(&self, bucket: &'a Bucket, out: &mut Collected) -> Option<(&'a str, bool)> {
        let req = self.request;
        match req.header("x-amz-server-side-encryption") {
            Some("aws:kms") | Some("aws:kms:dsse") => Some((
                req.header("x-amz-server-side-encryption-aws-kms-key-id")
                    .unwrap_or("alias/aws/s3"),
                req.header("x-amz-server-side-encryption-bucket-key-enabled")
                    .is_some_and(|v| v.eq_ignore_ascii_case("true")),
            )),
            Some(_) => None,
            None => self.default_key(bucket, out),
        }
    }

    fn default_key(&self, bucket: &'a Bucket, out: &mut Collected) -> Option<(&'a str, bool)> {
        match &bucket.encryption {
            Part::Known(enc) => match enc.algorithm {
                SseAlgorithm::AwsKms | SseAlgorithm::AwsKmsDsse => Some((
                    enc.kms_key_id.as_deref().unwrap_or("alias/aws/s3"),
                    enc.bucket_key_enabled,
                )),
                _ => None,
            },
            Part::Unknown(why) => {
                out.unknown(format!(
                    "bucket `{}`: default encryption could not be read ({why}); KMS permissions not checked",
                    bucket.name
                ));
                None
            }
            Part::Absent => None,
        }
    }

    /// One KMS authorization (kms:Decrypt or kms:GenerateDataKey on the key, made by S3 for the
    /// caller).
    #[allow(clippy::too_many_arguments)]
    fn kms_one(
        &self,
        key_ref: &'a str,
        bucket: &'a Bucket,
        action: &'static str,
        grant_op: &str,
        object_arn: &str,
        bucket_key: bool,
        purpose: &'static str,
        auths: &mut Vec<AuthorizationTrace<'a>>,
        out: &mut Collected,
    ) {
        let caller = self.caller;
        let world = self.world;
        let key = world.kms_key(key_ref, &bucket.account_id, &bucket.region);
        let aws_managed_default = key.is_none() && key_ref.ends_with("alias/aws/s3");
        let Some(key) = key else {
            if aws_managed_default {
                auths.push(self.aws_s3_key(bucket, action, purpose));
            } else {
                out.unknown(format!(
                    "KMS key `{key_ref}` is not in the world: `{action}` on it could not be checked"
                ));
            }
            return;
        };
        // Only the early refusals below build their trace here (the key ARN is copied once).
        let early = || AuthorizationTrace {
            action: Cow::Borrowed(action),
            resource: key.arn.clone(),
            purpose: Cow::Borrowed(purpose),
            decision: Decision::ImplicitDeny,
            deciding_layer: None,
            layers: Vec::with_capacity(1),
        };
        if !key.enabled {
            let mut trace = early();
            trace.layers.push(
                LayerTrace::new(Layer::KmsKeyState, LayerOutcome::Deny)
                    .with_note("the key is not enabled (disabled or pending deletion)")
                    .with_reason(Reason::KeyDisabled),
            );
            trace.decision = Decision::ExplicitDeny;
            trace.deciding_layer = Some(Layer::KmsKeyState);
            auths.push(trace);
            return;
        }
        if matches!(
            caller.kind,
            CallerKind::Anonymous | CallerKind::OriginAccessIdentity
        ) {
            let mut trace = early();
            let reason = if caller.kind == CallerKind::Anonymous {
                Reason::AnonymousKms
            } else {
                Reason::OaiKms
            };
            trace.layers.push(LayerTrace::new(Layer::ResourcePolicy, LayerOutcome::NoMatch).with_reason(reason).with_note(
                if caller.kind == CallerKind::Anonymous {
                    "anonymous requests cannot use KMS keys: SSE-KMS objects are never public"
                } else {
                    "a CloudFront origin access identity cannot read SSE-KMS objects: use origin access control (OAC)"
                },
            ));
            trace.deciding_layer = Some(Layer::ResourcePolicy);
            auths.push(trace);
            return;
        }
        if key.aws_managed && caller.account != Some(key.account_id.as_str()) {
            let mut trace = early();
            trace.layers.push(
                LayerTrace::new(Layer::ResourcePolicy, LayerOutcome::NoMatch)
                    .with_reason(Reason::AwsManagedKeyCrossAccount)
                    .with_note(
                        "an AWS managed key (aws/s3) can only be used by principals of its own account; use a customer managed key for cross-account access",
                    ),
            );
            trace.deciding_layer = Some(Layer::ResourcePolicy);
            auths.push(trace);
            return;
        }
        let s3_arn: Cow<'_, str> = if bucket_key {
            bucket_arn_of(object_arn, bucket).map_or_else(|| bucket.arn().into(), Cow::Borrowed)
        } else {
            object_arn.into()
        };
        let kms_keys = KmsKeys {
            via_service: self.world.s3_service_name(&bucket.region),
            s3_arn,
        };
        let action_lower: std::borrow::Cow<'_, str> = match action {
            "kms:Decrypt" => "kms:decrypt".into(),
            "kms:GenerateDataKey" => "kms:generatedatakey".into(),
            other => other.to_ascii_lowercase().into(),
        };
        let probe = Probe {
            action_lower: &action_lower,
            resource: &key.arn,
            record: self.record,
        };
        let owner_account = world.account(&key.account_id);
        let ctx = self.ctx(owner_account, &key.account_id, &key.region, Some(&kms_keys));
        let mut layers = Vec::with_capacity(10);
        let gates = self.gates(&mut layers, probe, &ctx, owner_account, false, out);

        let mut kp_trace = LayerTrace::new(Layer::ResourcePolicy, LayerOutcome::NoMatch);
        let kp = match &key.policy {
            Part::Known(policy) => eval_policies(
                &mut kp_trace,
                &mut self.log.borrow_mut(),
                [(PolicyRef::KeyPolicy { key_arn: &key.arn }, policy)],
                probe,
                &ctx,
                caller,
            ),
            Part::Unknown(why) => {
                out.unknown(format!(
                    "KMS key `{}`: key policy could not be read ({why})",
                    key.arn
                ));
                kp_trace.outcome = LayerOutcome::Unknown;
                Hits::default()
            }
            Part::Absent => Hits::default(),
        };
        layers.push(kp_trace);

        let mut grant_allow = None;
        match &key.grants {
            Part::Known(grants) if !grants.is_empty() => {
                let mut t = LayerTrace::new(Layer::KmsGrant, LayerOutcome::NoMatch);
                for g in grants {
                    let to_caller = Some(g.grantee_principal.as_str())
                        == caller.caller_arn.as_deref()
                        || Some(g.grantee_principal.as_str()) == caller.principal_arn.as_deref();
                    let op = g.operations.iter().any(|o| o == grant_op);
                    let context_ok = g
                        .encryption_context_equals
                        .iter()
                        .all(|(k, v)| k == "aws:s3:arn" && *v == kms_keys.s3_arn)
                        && (g.encryption_context_equals.is_empty()
                            || g.encryption_context_equals.len() == 1)
                        && g.encryption_context_subset
                            .iter()
                            .all(|(k, v)| k == "aws:s3:arn" && *v == kms_keys.s3_arn);
                    if to_caller && op && context_ok {
                        grant_allow = Some((Named::Direct, Layer::KmsGrant));
                        t.outcome = LayerOutcome::Allow;
                        t.note = Some(
                            format!(
                                "grant `{}` allows {grant_op} to `{}`",
                                g.grant_id.as_deref().unwrap_or("?"),
                                g.grantee_principal
                            )
                            .into(),
                        );
                    }
                }
                layers.push(t);
            }
            Part::Unknown(why) => out.unknown(format!(
                "KMS key `{}`: grants could not be listed ({why})",
                key.arn
            )),
            _ => {}
        }

        let (identity, boundary, session) = self.identity_layers(&mut layers, probe, &ctx);
        let kp_grant = kp.allow.map(|n| (n, Layer::ResourcePolicy));
        let resource_grant = match (grant_allow, kp_grant) {
            (Some(g), _) => Some(g),
            (None, k) => k,
        };
        let sides = Sides {
            kind: caller.kind,
            same_account: caller.account == Some(key.account_id.as_str()),
            resource_required: true,
            resource_grant,
            identity,
            boundary,
            session,
            resource_blame: Layer::ResourcePolicy,
        };
        auths.push(finish(
            Cow::Borrowed(action),
            key.arn.clone(),
            Cow::Borrowed(purpose),
            layers,
            gates,
            &sides,
        ));
    }

    /// The AWS managed `aws/s3` key when the World does not describe it: its key policy allows
    /// every principal of the bucket's account through S3, and nobody else.
    fn aws_s3_key(
        &self,
        bucket: &'a Bucket,
        action: &'static str,
        purpose: &'static str,
    ) -> AuthorizationTrace<'a> {
        let same = self.caller.account == Some(bucket.account_id.as_str());
        let (decision, outcome, note) = if same {
            (
                Decision::Allowed,
                LayerOutcome::Allow,
                "the AWS managed key aws/s3 allows every principal of its account through S3",
            )
        } else {
            (
                Decision::ImplicitDeny,
                LayerOutcome::NoMatch,
                "an AWS managed key (aws/s3) can only be used by principals of its own account; use a customer managed key for cross-account access",
            )
        };
        AuthorizationTrace {
            action: Cow::Borrowed(action),
            resource: format!(
                "arn:{}:kms:{}:{}:alias/aws/s3",
                self.world.partition, bucket.region, bucket.account_id
            ),
            purpose: Cow::Borrowed(purpose),
            decision,
            deciding_layer: Some(Layer::ResourcePolicy),
            layers: vec![{
                let l = LayerTrace::new(Layer::ResourcePolicy, outcome).with_note(note);
                if same {
                    l
                } else {
                    l.with_reason(Reason::AwsManagedKeyCrossAccount)
                }
            }],
        }
    }
}

/// The bucket ARN at the start of `object_arn` (`arn:P:s3:::BUCKET/KEY`), borrowed, when that
/// object ARN is in `bucket` under the bucket's partition; `None` otherwise.
fn bucket_arn_of<'s>(object_arn: &'s str, bucket: &Bucket) -> Option<&'s str> {
    let rest = object_arn
        .strip_prefix("arn:")?
        .strip_prefix(bucket.partition())?
        .strip_prefix(":s3:::")?
        .strip_prefix(bucket.name.as_str())?;
    if !rest.starts_with('/') {
        return None;
    }
    object_arn.get(..object_arn.len() - rest.len())
}

/// Applies AWS's order to the evaluated layers: explicit deny, gates, then the allow side.
fn finish<'a>(
    action: Cow<'static, str>,
    resource: String,
    purpose: Cow<'static, str>,
    layers: Vec<LayerTrace<'a>>,
    gate: Option<Layer>,
    sides: &Sides,
) -> AuthorizationTrace<'a> {
    const DENY_ORDER: [Layer; 7] = [
        Layer::Rcp,
        Layer::Scp,
        Layer::VpcEndpoint,
        Layer::ResourcePolicy,
        Layer::Identity,
        Layer::PermissionsBoundary,
        Layer::SessionPolicy,
    ];
    // A layer's outcome is Deny exactly when one of its Deny statements matched.
    let mut denied: Option<Layer> = None;
    for t in &layers {
        if t.outcome == LayerOutcome::Deny {
            if let Some(rank) = DENY_ORDER.iter().position(|l| *l == t.layer) {
                if denied.is_none_or(|d| DENY_ORDER.iter().position(|l| *l == d) > Some(rank)) {
                    denied = Some(t.layer);
                }
            }
        }
    }
    let (decision, layer) = if let Some(l) = denied {
        (Decision::ExplicitDeny, l)
    } else if let Some(g) = gate {
        (Decision::ImplicitDeny, g)
    } else {
        combine(sides)
    };
    AuthorizationTrace {
        action,
        resource,
        purpose,
        decision,
        deciding_layer: Some(layer),
        layers,
    }
}

fn discard_allows<'a>(trace: &LayerTrace<'a>, log: &mut StatementLog<'a>, why: Discard) {
    let range = trace.statements.pending_range().unwrap_or_default();
    for s in log.get_mut(range).unwrap_or_default() {
        if s.effect == Effect::Allow && s.result == StatementResult::Matched {
            s.result = StatementResult::Discarded(why);
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AclTarget {
    Bucket,
    Object,
}

/// Which ACL permission can grant an action, and on which ACL (S3 User Guide, "ACL overview":
/// mapping of ACL permissions and access policy permissions).
fn acl_permission(action_lower: &str) -> Option<(AclTarget, AclPermission)> {
    use AclPermission::*;
    use AclTarget::*;
    Some(match action_lower {
        "s3:listbucket" | "s3:listbucketversions" | "s3:listbucketmultipartuploads" => {
            (Bucket, Read)
        }
        "s3:putobject" | "s3:deleteobject" | "s3:deleteobjectversion" => (Bucket, Write),
        "s3:getbucketacl" => (Bucket, ReadAcp),
        "s3:putbucketacl" => (Bucket, WriteAcp),
        "s3:getobject" | "s3:getobjectversion" => (Object, Read),
        "s3:getobjectacl" | "s3:getobjectversionacl" => (Object, ReadAcp),
        "s3:putobjectacl" | "s3:putobjectversionacl" => (Object, WriteAcp),
        _ => return None,
    })
}

fn permission_name(p: AclPermission) -> &'static str {
    match p {
        AclPermission::FullControl => "FULL_CONTROL",
        AclPermission::Read => "READ",
        AclPermission::Write => "WRITE",
        AclPermission::ReadAcp => "READ_ACP",
        AclPermission::WriteAcp => "WRITE_ACP",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_arn_is_borrowed_from_the_object_arn() {
        let b = Bucket::new("data", "111122223333", "us-east-1");
        assert_eq!(
            bucket_arn_of("arn:aws:s3:::data/a/b.csv", &b),
            Some("arn:aws:s3:::data")
        );
        assert_eq!(
            bucket_arn_of("arn:aws:s3:::data/", &b),
            Some("arn:aws:s3:::data")
        );
        // Another bucket, a bucket whose name only starts alike, a bucket ARN, another
        // partition: not borrowed (the caller builds the bucket's own ARN instead).
        assert_eq!(bucket_arn_of("arn:aws:s3:::other/k", &b), None);
        assert_eq!(bucket_arn_of("arn:aws:s3:::data2/k", &b), None);
        assert_eq!(bucket_arn_of("arn:aws:s3:::data", &b), None);
        assert_eq!(bucket_arn_of("arn:aws-cn:s3:::data/k", &b), None);
        let cn = Bucket::new("data", "111122223333", "cn-north-1");
        assert_eq!(
            bucket_arn_of("arn:aws-cn:s3:::data/k", &cn),
            Some(cn.arn().as_str())
        );
    }
}

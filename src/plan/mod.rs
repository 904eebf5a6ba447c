//! The planner: from a denied request and a World, every cause and the smallest safe set of
//! changes that makes the request allowed — proven by re-evaluation on the patched World (the
//! request becomes allowed, and no other request the World can express gains access).
//!
//! Pure: the planner edits a copy of the World; `apply` (elsewhere) turns the plan into API calls.

pub mod catalog;
pub mod change;
pub mod exempt;
pub mod prove;
mod synth;
pub mod target;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use change::{
    canonical_json, digest, unified_diff, Change, ChangeAction, ManualStep, PrincipalType, Risk,
    Target,
};
pub use prove::{NewAccess, Proof};

use crate::diagnose::{diagnose, Finding};
use crate::eval::{authorize, decide, Decision, EvalError};
use crate::request::Request;
use crate::world::World;

/// Version of the plan file format.
pub const PLAN_FORMAT_VERSION: u32 = 1;

/// The Sid prefix of every statement s3medic writes (so re-planning recognises its own work).
pub const SID_PREFIX: &str = "S3Medic";

/// The inline policy s3medic adds identity statements to.
pub const INLINE_POLICY_NAME: &str = "s3medic-grants";

/// What the planner may do beyond the safe defaults.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlanOptions {
    /// Allow changes that make something public (BPA off, public statements). High risk.
    pub allow_public: bool,
    /// Allow weakening guardrail denies (TLS, source IP/VPC/endpoint, encryption, org).
    pub allow_guardrail_change: bool,
    /// Allow exempting the caller from other explicit denies.
    pub allow_deny_change: bool,
    /// Accept a plan whose proof finds unintended new access.
    pub accept_new_access: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Eval(#[from] EvalError),
    #[error("invalid document: {0}")]
    Document(String),
}

/// The whole plan (the `-o plan.json` file; `show` reads it back).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: u32,
    pub tool_version: String,
    /// When the plan was made (RFC 3339, UTC), stamped by whoever writes the plan file: the
    /// planner reads no clock, so [`plan`] leaves it `None`. Plan files written before it existed
    /// have none (`show` then falls back to the file's modification time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// The request as given (docs/formats.md Request).
    pub request: Value,
    /// The decision before any change.
    pub decision_before: Decision,
    /// Every cause found.
    pub findings: Vec<Finding>,
    /// The writes, in apply order.
    pub changes: Vec<Change>,
    /// What s3medic will not or cannot do itself.
    pub manual_steps: Vec<ManualStep>,
    /// Re-evaluation on the patched World.
    pub proof: Proof,
    /// Parts of the World that were unknown (the plan could not check them).
    pub unknowns: Vec<String>,
}

impl Plan {
    /// Whether the plan has anything to apply.
    pub fn has_changes(&self) -> bool {
        !self.changes.is_empty()
    }
}

/// The most fix rounds: each round fixes every cause of the current decision; a combined cause
/// (say, cross-account + KMS + identity) needs at most a few.
const MAX_ROUNDS: usize = 6;

/// Plans the fix of `request` in `world`.
pub fn plan(world: &World, request: &Request, opts: &PlanOptions) -> Result<Plan, PlanError> {
    let before = authorize(world, request)?;
    let decision_before = before.decision;
    let unknowns = before.unknowns.clone();
    drop(before);
    let mut findings: Vec<Finding> = Vec::new();
    let mut manual: Vec<ManualStep> = Vec::new();
    // The findings whose fixes edited the World, in the order they were applied.
    let mut applied: Vec<Finding> = Vec::new();
    let mut patched = world.clone();

    for _ in 0..MAX_ROUNDS {
        let outcome = authorize(&patched, request)?;
        if outcome.decision.is_allowed() {
            break;
        }
        let round = diagnose(&patched, request, &outcome);
        drop(outcome);
        let mut progressed = false;
        for f in &round {
            if !findings.iter().any(|g| same_cause(g, f)) {
                findings.push(f.clone());
            }
            if applied.iter().any(|g| same_cause(g, f)) {
                // Already fixed once; what remains is for the other findings (or is manual).
                continue;
            }
            let fix = synth::fix(&mut patched, request, f, opts)?;
            if !fix.touched.is_empty() {
                applied.push(f.clone());
                progressed = true;
            }
            for m in fix.manual {
                if !manual.contains(&m) {
                    manual.push(m);
                }
            }
        }
        if !progressed {
            break;
        }
    }

    // Minimality: a fix stays only if the request is not allowed without it. Fixes are replayed
    // from the original World (a fix may span several documents that belong together, such as
    // moving ACL grants before enforcing bucket ownership), so dropping one never half-undoes
    // another.
    if decide(&patched, request)?.decision.is_allowed() {
        let mut k = applied.len();
        while k > 0 {
            k -= 1;
            if applied
                .get(k)
                .is_some_and(|f| PREREQUISITES.contains(&f.cause))
            {
                continue;
            }
            let without: Vec<&Finding> = applied
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != k)
                .map(|(_, f)| f)
                .collect();
            let (candidate, _) = replay(world, request, &without, opts)?;
            if decide(&candidate, request)?.decision.is_allowed() {
                let dropped = applied.remove(k);
                findings.retain(|g| !same_cause(g, &dropped));
            }
        }
    }
    let applied: Vec<&Finding> = applied.iter().collect();
    let (patched, touched) = replay(world, request, &applied, opts)?;

    let changes = changes_between(world, &patched, &touched);
    let proof = prove::prove(world, &patched, request, opts)?;
    Ok(Plan {
        format_version: PLAN_FORMAT_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        created_at: None,
        request: request.to_value(),
        decision_before,
        findings,
        changes,
        manual_steps: manual,
        proof,
        unknowns,
    })
}

/// Fixes the authorizer cannot observe but AWS needs, never dropped by minimization: without an
/// origin access control, CloudFront reaches the bucket unsigned (anonymously), whatever the
/// bucket policy grants `cloudfront.amazonaws.com`.
const PREREQUISITES: &[crate::diagnose::Cause] = &[crate::diagnose::Cause::CloudfrontNoOac];

/// Each touched target with the playbooks and summaries that edited it.
type Touched = Vec<(Target, Vec<String>, Vec<String>)>;

/// Applies the fixes of `fixes` to a copy of `world`, in order.
fn replay(
    world: &World,
    request: &Request,
    fixes: &[&Finding],
    opts: &PlanOptions,
) -> Result<(World, Touched), PlanError> {
    let mut patched = world.clone();
    let mut touched: Touched = Vec::new();
    for f in fixes {
        let fix = synth::fix(&mut patched, request, f, opts)?;
        for (t, summary) in fix.touched {
            let id = f.cause.id().to_string();
            match touched.iter_mut().find(|(x, _, _)| *x == t) {
                Some((_, ids, sums)) => {
                    if !ids.contains(&id) {
                        ids.push(id);
                    }
                    if !sums.contains(&summary) {
                        sums.push(summary);
                    }
                }
                None => touched.push((t, vec![id], vec![summary])),
            }
        }
    }
    Ok((patched, touched))
}

fn same_cause(a: &Finding, b: &Finding) -> bool {
    a.cause == b.cause && a.action == b.action && a.resource == b.resource
}

/// One change per touched target whose document differs, in a safe apply order.
fn changes_between(
    before: &World,
    after: &World,
    touched: &[(Target, Vec<String>, Vec<String>)],
) -> Vec<Change> {
    let mut out: Vec<Change> = Vec::new();
    let mut ordered: Vec<&(Target, Vec<String>, Vec<String>)> = touched.iter().collect();
    ordered.sort_by_key(|(t, _, _)| apply_order(t));
    for (t, playbooks, summaries) in ordered {
        let b = target::document(before, t);
        let a = target::document(after, t);
        if b == a {
            continue;
        }
        let (account, resource) = synth::locate(before, t);
        let action = match (b.is_null(), a.is_null()) {
            (true, _) => ChangeAction::Create,
            (false, true) => ChangeAction::Delete,
            _ => ChangeAction::Update,
        };
        let (risk, reversible, caveat) = synth::risk_of(before, t, &a);
        let summary = if summaries.is_empty() {
            synth::summary(t, action)
        } else {
            summaries.join("; ")
        };
        out.push(Change {
            id: format!("c{}", out.len() + 1),
            diff: unified_diff(&resource, &b, &a),
            before_digest: digest(&b),
            account,
            summary,
            resource,
            target: t.clone(),
            action,
            before: b,
            after: a,
            risk,
            reversible,
            rollback_caveat: caveat,
            playbooks: playbooks.clone(),
        });
    }
    out
}

/// The safe write order of the issue: bucket policy, IAM, key policy, ownership (after ACL grants
/// moved into the bucket policy), Block Public Access, CloudFront.
fn apply_order(t: &Target) -> u8 {
    match t {
        Target::BucketPolicy { .. } => 0,
        Target::InlinePolicy { .. } => 1,
        Target::ManagedPolicy { .. } => 2,
        Target::KeyPolicy { .. } => 3,
        Target::BucketAcl { .. } => 4,
        Target::BucketOwnership { .. } => 5,
        Target::BucketPublicAccessBlock { .. } => 6,
        Target::AccountPublicAccessBlock { .. } => 7,
        Target::DistributionOrigin { .. } => 8,
    }
}

/// Applies a plan's changes to a World (what `apply` does to AWS, done to a copy).
pub fn apply_to_world(world: &mut World, changes: &[Change]) -> Result<(), PlanError> {
    for c in changes {
        target::set_document(world, &c.target, &c.after)?;
    }
    Ok(())
}

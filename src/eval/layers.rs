//! Evaluating a set of policies (one layer) against one authorization: which statements are
//! relevant (action and resource match), which of those apply (principal and conditions), and
//! what the layer therefore says. Also the per-level rule of SCPs and RCPs.

use crate::eval::caller::{Caller, Labeled, Named};
use crate::eval::trace::{
    Layer, LayerOutcome, LayerTrace, StatementResult, StatementTrace, Statements,
};
use crate::policy::{ConditionContext, Effect};
use crate::world::OrgLevel;

/// What an authorization asks: a lower-case action on a resource ARN.
#[derive(Debug, Clone, Copy)]
pub struct Probe<'p> {
    pub action_lower: &'p str,
    pub resource: &'p str,
    /// Record every relevant statement in the trace (`false`: decision only, no allocation
    /// per statement).
    pub record: bool,
}

/// What a layer's policies said.
#[derive(Debug, Clone, Copy, Default)]
pub struct Hits {
    /// Some matched Allow; the most direct way it named the caller (identity-style statements
    /// without a principal element count as `Direct`).
    pub allow: Option<Named>,
    pub deny: bool,
}

impl Hits {
    pub fn outcome(self) -> LayerOutcome {
        if self.deny {
            LayerOutcome::Deny
        } else if self.allow.is_some() {
            LayerOutcome::Allow
        } else {
            LayerOutcome::NoMatch
        }
    }
}

/// The statement records of the request being evaluated, in evaluation order. Each layer's trace
/// names its range here ([`Statements::pending`]) until every authorization is finished and
/// [`share_statements`] hands the records to the layers in one allocation.
pub type StatementLog<'a> = Vec<StatementTrace<'a>>;

/// Gives the layers the statements recorded in `log` (the buffer itself moves into one shared
/// allocation; nothing is copied), leaving `log` empty.
pub fn share_statements<'l, 'a: 'l>(
    layers: impl IntoIterator<Item = &'l mut LayerTrace<'a>>,
    log: &mut StatementLog<'a>,
) {
    if log.is_empty() {
        return;
    }
    let all = std::sync::Arc::new(std::mem::take(log));
    for l in layers {
        if let Some(range) = l.statements.pending_range() {
            l.statements = Statements::shared(&all, range);
        }
    }
}

/// Evaluates `policies` into `trace` (its statements recorded in `log` when `probe.record`),
/// returning what they said. Calls for one trace must not interleave with calls for another, so
/// that its statements stay contiguous in `log`.
pub fn eval_policies<'a>(
    trace: &mut LayerTrace<'a>,
    log: &mut StatementLog<'a>,
    policies: impl IntoIterator<Item = Labeled<'a>>,
    probe: Probe<'_>,
    ctx: &dyn ConditionContext,
    caller: &Caller<'_>,
) -> Hits {
    let start = trace
        .statements
        .pending_range()
        .map_or(log.len(), |r| r.start);
    debug_assert!(trace
        .statements
        .pending_range()
        .is_none_or(|r| r.end == log.len()));
    if probe.record && log.capacity() == 0 {
        // Room for every statement of a typical request (its S3 and KMS authorizations): one
        // allocation.
        log.reserve(48);
    }
    let mut hits = Hits::default();
    for (label, policy) in policies {
        for (index, st) in policy.statements.iter().enumerate() {
            if !st.matches_action(probe.action_lower) || !st.matches_resource(probe.resource, ctx) {
                continue;
            }
            let named = match &st.principal {
                None => Some(Named::Direct),
                Some(clause) => caller.principal_clause(clause),
            };
            let (result, condition) = match named {
                None => (StatementResult::PrincipalMismatch, None),
                Some(n) => match st.failing_condition(ctx) {
                    Some(i) => {
                        let c = st.conditions.get(i);
                        (
                            StatementResult::ConditionFailed(i),
                            c.map(|c| (operator_name(c), c.key.as_str())),
                        )
                    }
                    None => {
                        match st.effect {
                            Effect::Deny => hits.deny = true,
                            Effect::Allow => {
                                if hits.allow.is_none_or(|b| n > b) {
                                    hits.allow = Some(n);
                                }
                            }
                        }
                        (StatementResult::Matched, None)
                    }
                },
            };
            if !probe.record {
                continue;
            }
            log.push(StatementTrace {
                policy: label,
                sid: st.sid.as_deref(),
                index,
                effect: st.effect,
                result,
                condition,
            });
        }
    }
    if log.len() > start {
        trace.statements = Statements::pending(start..log.len());
    }
    trace.outcome = hits.outcome();
    hits
}

/// The operator of a condition as written (static names; the key is borrowed separately).
fn operator_name(c: &crate::policy::Condition) -> &'static str {
    use crate::policy::OpKind::*;
    match c.operator.base {
        StringEquals => "StringEquals",
        StringNotEquals => "StringNotEquals",
        StringEqualsIgnoreCase => "StringEqualsIgnoreCase",
        StringNotEqualsIgnoreCase => "StringNotEqualsIgnoreCase",
        StringLike => "StringLike",
        StringNotLike => "StringNotLike",
        NumericEquals => "NumericEquals",
        NumericNotEquals => "NumericNotEquals",
        NumericLessThan => "NumericLessThan",
        NumericLessThanEquals => "NumericLessThanEquals",
        NumericGreaterThan => "NumericGreaterThan",
        NumericGreaterThanEquals => "NumericGreaterThanEquals",
        DateEquals => "DateEquals",
        DateNotEquals => "DateNotEquals",
        DateLessThan => "DateLessThan",
        DateLessThanEquals => "DateLessThanEquals",
        DateGreaterThan => "DateGreaterThan",
        DateGreaterThanEquals => "DateGreaterThanEquals",
        Bool => "Bool",
        BinaryEquals => "BinaryEquals",
        IpAddress => "IpAddress",
        NotIpAddress => "NotIpAddress",
        ArnEquals => "ArnEquals",
        ArnLike => "ArnLike",
        ArnNotEquals => "ArnNotEquals",
        ArnNotLike => "ArnNotLike",
        Null => "Null",
    }
}

/// Result of an organization policy type (SCPs or RCPs): every level must allow.
#[derive(Debug, Clone, Copy)]
pub struct OrgResult {
    pub deny: bool,
    /// The first level (index into the levels) with no applicable Allow.
    pub missing_level: Option<usize>,
}

impl OrgResult {
    pub fn allows(self) -> bool {
        !self.deny && self.missing_level.is_none()
    }
}

/// Evaluates SCP or RCP levels; every level must allow, any Deny denies.
pub fn eval_org_levels<'a>(
    layer: Layer,
    log: &mut StatementLog<'a>,
    levels: &'a [OrgLevel],
    make_ref: impl Fn(&'a str, &'a str) -> crate::eval::trace::PolicyRef<'a>,
    probe: Probe<'_>,
    ctx: &dyn ConditionContext,
    caller: &Caller<'_>,
) -> (LayerTrace<'a>, OrgResult) {
    let mut trace = LayerTrace::new(layer, LayerOutcome::NoMatch);
    let mut result = OrgResult {
        deny: false,
        missing_level: None,
    };
    for (i, level) in levels.iter().enumerate() {
        let hits = eval_policies(
            &mut trace,
            log,
            level
                .policies
                .iter()
                .map(|p| (make_ref(level.target.as_str(), p.name.as_str()), &p.policy)),
            probe,
            ctx,
            caller,
        );
        result.deny |= hits.deny;
        if hits.allow.is_none() && result.missing_level.is_none() {
            result.missing_level = Some(i);
        }
    }
    trace.outcome = if result.deny {
        LayerOutcome::Deny
    } else if let Some(i) = result.missing_level {
        if let Some(l) = levels.get(i) {
            trace.note = Some(
                format!(
                    "no policy attached at level `{}` allows this action",
                    l.target
                )
                .into(),
            );
            trace.reason = Some(crate::eval::trace::Reason::OrgLevelWithoutAllow {
                target: l.target.clone(),
            });
        }
        LayerOutcome::NoMatch
    } else {
        LayerOutcome::Allow
    };
    (trace, result)
}

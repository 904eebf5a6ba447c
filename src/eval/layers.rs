//! Evaluating a set of policies (one layer) against one authorization: which statements are
//! relevant (action and resource match), which of those apply (principal and conditions), and
//! what the layer therefore says. Also the per-level rule of SCPs and RCPs.

use crate::eval::caller::{Caller, Labeled, Named};
use crate::eval::trace::{Layer, LayerOutcome, LayerTrace, StatementResult, StatementTrace};
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

/// Evaluates `policies` into `trace`, returning what they said.
pub fn eval_policies<'a>(
    trace: &mut LayerTrace<'a>,
    policies: impl IntoIterator<Item = Labeled<'a>>,
    probe: Probe<'_>,
    ctx: &dyn ConditionContext,
    caller: &Caller<'_>,
) -> Hits {
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
            trace.statements.push(StatementTrace {
                policy: label,
                sid: st.sid.as_deref(),
                index,
                effect: st.effect,
                result,
                condition,
            });
        }
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

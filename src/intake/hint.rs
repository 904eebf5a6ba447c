//! The reason an access denied message states is a hint, not a verdict: AWS names only one
//! policy type (and one reason) even when several deny, and the message describes the World as
//! AWS saw it. After s3medic has evaluated the request, [`check`] says whether its diagnosis
//! confirms or contradicts what the message said.
//!
//! Policy types map to the layers of the trace: service control policy → `scp`, resource control
//! policy → `rcp`, identity-based policy → `identity`, resource-based policy → `resource_policy`
//! (bucket or key policy), the ACL layers and Block Public Access (AWS reports
//! RestrictPublicBuckets and IgnorePublicAcls as resource-based policy denials), permissions
//! boundary → `permissions_boundary`, session policy → `session_policy`, VPC endpoint policy →
//! `vpc_endpoint`. An explicit deny must be an explicit deny of s3medic in one of those layers,
//! an implicit one an implicit deny. BlockPublicPolicy and blocked SSE-C uploads are not modelled
//! and are reported as not checked.

use serde::Serialize;

use super::error_message::{DenialReason, ErrorReport, PolicyType};
use crate::eval::{AuthorizationTrace, Decision, Layer, Outcome};

/// Whether s3medic's diagnosis agrees with the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Confirms,
    Contradicts,
    /// The stated reason is one s3medic does not model.
    NotChecked,
}

/// The comparison of the message's stated reason with the evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageCheck {
    /// What the message says, e.g. `no identity-based policy allows s3:GetObject`.
    pub message_says: String,
    pub verdict: Verdict,
    /// What s3medic found, e.g. `the deciding layer is resource-based policy (explicit deny ...)`.
    pub s3medic: String,
}

impl MessageCheck {
    /// Two lines for a person.
    pub fn to_text(&self) -> String {
        let verb = match self.verdict {
            Verdict::Confirms => "confirms",
            Verdict::Contradicts => "contradicts",
            Verdict::NotChecked => "cannot check",
        };
        format!(
            "the message says: {}\ns3medic {verb}: {}\n",
            self.message_says, self.s3medic
        )
    }
}

/// The layers a policy type of a message stands for.
fn layers_of(policy: &PolicyType) -> Option<&'static [Layer]> {
    Some(match policy {
        PolicyType::ServiceControl => &[Layer::Scp],
        PolicyType::ResourceControl => &[Layer::Rcp],
        PolicyType::IdentityBased => &[Layer::Identity],
        PolicyType::ResourceBased => &[
            Layer::ResourcePolicy,
            Layer::BucketAcl,
            Layer::ObjectAcl,
            Layer::BlockPublicAccess,
        ],
        PolicyType::PermissionsBoundary => &[Layer::PermissionsBoundary],
        PolicyType::Session => &[Layer::SessionPolicy],
        PolicyType::VpcEndpoint => &[Layer::VpcEndpoint],
        PolicyType::Other(_) => return None,
    })
}

/// Compares the reason `report` states with `outcome`; `None` when the message states no reason.
pub fn check(report: &ErrorReport, outcome: &Outcome<'_>) -> Option<MessageCheck> {
    let reason = report.reason.as_ref()?;
    let message_says = reason.describe(report.action.as_deref());
    let not_checked = |why: &str| MessageCheck {
        message_says: message_says.clone(),
        verdict: Verdict::NotChecked,
        s3medic: why.to_string(),
    };
    // What the message claims: which layers, and explicit or implicit.
    let (layers, explicit): (Option<&[Layer]>, bool) =
        match reason {
            DenialReason::Explicit { policy, .. } => (policy.as_ref().and_then(layers_of), true),
            DenialReason::Implicit { policy } => match layers_of(policy) {
                Some(l) => (Some(l), false),
                None => {
                    return Some(not_checked(&format!(
                        "s3medic does not know the policy type `{}`",
                        policy.phrase()
                    )))
                }
            },
            DenialReason::BlockPublicAcls => (Some(&[Layer::BlockPublicAccess]), true),
            DenialReason::BlockPublicPolicy => return Some(not_checked(
                "s3medic does not model BlockPublicPolicy (it would need the policy being written)",
            )),
            DenialReason::SseCBlocked => {
                return Some(not_checked(
                    "s3medic does not model a bucket's blocked encryption types (SSE-C)",
                ))
            }
        };
    if let DenialReason::Explicit {
        policy: Some(p @ PolicyType::Other(_)),
        ..
    } = reason
    {
        return Some(not_checked(&format!(
            "s3medic does not know the policy type `{}`",
            p.phrase()
        )));
    }

    if outcome.decision.is_allowed() {
        return Some(MessageCheck {
            message_says,
            verdict: Verdict::Contradicts,
            s3medic: "s3medic finds the request allowed: the World it read differs from what AWS saw (a stale snapshot, a part that could not be read) or the request differs (source IP, VPC endpoint, TLS, time, headers)".into(),
        });
    }
    let deciding = outcome.deciding_authorization()?;
    // The authorization the message is about: the one with the message's action, if any.
    let named = report.action.as_deref().and_then(|a| {
        outcome
            .authorizations
            .iter()
            .filter(|t| t.action.eq_ignore_ascii_case(a))
            .find(|t| !t.decision.is_allowed())
            .or_else(|| {
                outcome
                    .authorizations
                    .iter()
                    .find(|t| t.action.eq_ignore_ascii_case(a))
            })
    });
    let subject = named.unwrap_or(deciding);
    if subject.decision.is_allowed() {
        return Some(MessageCheck {
            message_says,
            verdict: Verdict::Contradicts,
            s3medic: format!(
                "s3medic allows {} on {}; the request is denied on {}",
                subject.action,
                subject.resource,
                describe(deciding)
            ),
        });
    }
    let layer = subject.deciding_layer;
    let layer_ok = match (layers, layer) {
        (Some(ls), Some(l)) => ls.contains(&l),
        (None, _) => true,
        (Some(_), None) => false,
    };
    let kind_ok = (subject.decision == Decision::ExplicitDeny) == explicit;
    let verdict = if layer_ok && kind_ok {
        Verdict::Confirms
    } else {
        Verdict::Contradicts
    };
    let mut s3medic = describe(subject);
    if verdict == Verdict::Contradicts && layer_ok && !kind_ok {
        s3medic.push_str(if explicit {
            " — no Deny statement applies there; the message's explicit deny is not in the World s3medic read"
        } else {
            " — a Deny statement applies there, where the message saw only a missing Allow"
        });
    }
    if let DenialReason::Explicit {
        policy_arn: Some(arn),
        ..
    } = reason
    {
        let named_policy = subject
            .deciding_statements()
            .iter()
            .any(|st| st.policy.to_string().contains(arn.as_str()));
        if verdict == Verdict::Confirms && !named_policy {
            s3medic.push_str(&format!(
                " (the message names policy {arn}; the deciding statement is elsewhere)"
            ));
        }
    }
    Some(MessageCheck {
        message_says,
        verdict,
        s3medic,
    })
}

/// `the deciding layer is identity-based policies (implicit deny) for s3:GetObject on ARN`, with
/// the deciding statements of an explicit deny.
fn describe(a: &AuthorizationTrace<'_>) -> String {
    let kind = match a.decision {
        Decision::ExplicitDeny => "explicit deny",
        Decision::ImplicitDeny => "implicit deny",
        Decision::Allowed => "allowed",
    };
    let layer = a.deciding_layer.map_or("no single layer", |l| l.title());
    let statements: Vec<String> = a
        .deciding_statements()
        .iter()
        .map(|st| format!("`{}` in {}", st.name(), st.policy))
        .collect();
    let by = if statements.is_empty() {
        String::new()
    } else {
        format!(" by {}", statements.join(", "))
    };
    format!(
        "the deciding layer is {layer} ({kind}{by}) for {} on {}",
        a.action, a.resource
    )
}

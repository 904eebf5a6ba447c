//! Explicit denies (every matched Deny statement, grouped by cause and layer) and the gates that
//! must allow: SCPs and RCPs (every level) and the VPC endpoint policy.

use super::context::{split_s3_arn, Cx};
use super::evidence::{guardrail_keys, missing, statement};
use super::finding::{Cause, Evidence, Finding};
use crate::eval::Reason;
use crate::eval::{AuthorizationTrace, Layer, LayerOutcome, LayerTrace, PolicyRef};
use crate::policy::Effect;

/// The cause of a matched Deny in `layer`, and the guardrail keys it uses.
fn deny_cause(layer: Layer, kms: bool, guardrail: bool) -> Option<Cause> {
    Some(match layer {
        Layer::ResourcePolicy if kms => Cause::KmsKeyPolicyMissing,
        Layer::ResourcePolicy | Layer::Identity if guardrail => Cause::GuardrailDeny,
        Layer::ResourcePolicy => Cause::BucketPolicyDeny,
        Layer::Identity => Cause::IdentityDeny,
        Layer::PermissionsBoundary => Cause::BoundaryCap,
        Layer::SessionPolicy => Cause::SessionPolicyCap,
        Layer::Scp => Cause::ScpBlocks,
        Layer::Rcp => Cause::RcpBlocks,
        Layer::VpcEndpoint => Cause::VpcEndpointPolicy,
        _ => return None,
    })
}

/// Where a layer's policies live, for explanations.
fn place(layer: &LayerTrace<'_>, auth: &AuthorizationTrace<'_>) -> String {
    let first = layer.statements.first().map(|s| s.policy);
    match (layer.layer, first) {
        (Layer::ResourcePolicy, Some(PolicyRef::KeyPolicy { key_arn })) => {
            format!("the key policy of `{key_arn}`")
        }
        (Layer::ResourcePolicy, Some(PolicyRef::BucketPolicy { bucket })) => {
            format!("the bucket policy of `{bucket}`")
        }
        (Layer::ResourcePolicy, _) if auth.action.starts_with("kms:") => {
            format!("the key policy of `{}`", auth.resource)
        }
        (Layer::ResourcePolicy, _) => format!(
            "the bucket policy of `{}`",
            split_s3_arn(&auth.resource).map(|(b, _)| b).unwrap_or("?")
        ),
        (Layer::Identity, _) => "an identity-based policy of the caller".to_string(),
        (Layer::PermissionsBoundary, Some(PolicyRef::Boundary { arn })) => {
            format!("the permissions boundary `{arn}`")
        }
        (Layer::Scp, _) => "a service control policy".to_string(),
        (Layer::Rcp, _) => "a resource control policy".to_string(),
        (Layer::VpcEndpoint, Some(PolicyRef::Vpce { id })) => {
            format!("the policy of VPC endpoint `{id}`")
        }
        (l, _) => format!("the {}", l.title()),
    }
}

/// Every matched Deny of the authorization: one finding per (cause, layer).
pub(crate) fn explicit(
    cx: &Cx<'_>,
    i: usize,
    auth: &AuthorizationTrace<'_>,
    out: &mut Vec<Finding>,
) {
    let kms = auth.action.starts_with("kms:");
    for l in &auth.layers {
        // (cause, evidence, guardrail keys)
        let mut groups: Vec<(Cause, Vec<Evidence>, Vec<String>)> = Vec::new();
        for st in l.matched(Effect::Deny) {
            let keys: Vec<String> = cx
                .statement_of(st)
                .map(|s| guardrail_keys(s).into_iter().map(str::to_string).collect())
                .unwrap_or_default();
            let Some(cause) = deny_cause(l.layer, kms, !keys.is_empty()) else {
                continue;
            };
            let detail = if keys.is_empty() {
                "matched: explicit Deny".to_string()
            } else {
                format!(
                    "matched: explicit Deny guarded by {}",
                    keys.iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            let ev = statement(st, detail);
            match groups.iter_mut().find(|g| g.0 == cause) {
                Some(g) => {
                    g.1.push(ev);
                    for k in keys {
                        if !g.2.contains(&k) {
                            g.2.push(k);
                        }
                    }
                }
                None => groups.push((cause, vec![ev], keys)),
            }
        }
        for (cause, evidence, keys) in groups {
            let names: Vec<String> = evidence
                .iter()
                .filter_map(|e| match e {
                    Evidence::Statement { sid, index, .. } => Some(match sid {
                        Some(s) if !s.is_empty() => format!("`{s}`"),
                        _ => format!("#{index}"),
                    }),
                    _ => None,
                })
                .collect();
            let stmts = format!(
                "{} {}",
                if names.len() == 1 {
                    "statement"
                } else {
                    "statements"
                },
                names.join(", ")
            );
            let where_ = place(l, auth);
            let explanation = match cause {
                Cause::GuardrailDeny => format!(
                    "{stmts} of {where_} explicitly denies {} on `{}` to {} because the request does not satisfy its guardrail on {}; send the request the way the guardrail demands (for example over HTTPS, from the allowed network or endpoint, with the required encryption header)",
                    auth.action,
                    auth.resource,
                    cx.who(),
                    keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
                ),
                Cause::KmsKeyPolicyMissing => format!(
                    "{stmts} of {where_} explicitly denies {} to {}; an explicit Deny in a key policy overrides every Allow",
                    auth.action,
                    cx.who()
                ),
                _ => format!(
                    "{stmts} of {where_} explicitly denies {} on `{}` to {}; an explicit Deny overrides every Allow",
                    auth.action,
                    auth.resource,
                    cx.who()
                ),
            };
            out.push(Finding {
                cause,
                authorization: i,
                action: auth.action.to_string(),
                resource: auth.resource.clone(),
                layer: l.layer,
                explanation,
                evidence,
            });
        }
    }
}

/// The level (its target) of an SCP / RCP layer without an allow.
fn level_of<'t>(l: &'t LayerTrace<'_>) -> Option<&'t str> {
    match &l.reason {
        Some(Reason::OrgLevelWithoutAllow { target }) => Some(target.as_str()),
        _ => None,
    }
}

/// SCP / RCP / VPC-endpoint layers that apply but allow nothing.
pub(crate) fn gates(cx: &Cx<'_>, i: usize, auth: &AuthorizationTrace<'_>, out: &mut Vec<Finding>) {
    for l in &auth.layers {
        if l.outcome != LayerOutcome::NoMatch {
            continue;
        }
        let (cause, looked_in, explanation) = match l.layer {
            Layer::Scp | Layer::Rcp => {
                let scp = l.layer == Layer::Scp;
                let level = level_of(l).unwrap_or("one level");
                let kind = if scp {
                    "service control policies"
                } else {
                    "resource control policies"
                };
                (
                    if scp { Cause::ScpBlocks } else { Cause::RcpBlocks },
                    format!("{kind} attached at level `{level}`"),
                    format!(
                        "no {} attached at organization level `{level}` allows {}{}; every level from the root down to the account must allow it",
                        if scp { "service control policy" } else { "resource control policy" },
                        auth.action,
                        if scp {
                            format!(" for {}", cx.who())
                        } else {
                            format!(" on `{}`", auth.resource)
                        }
                    ),
                )
            }
            Layer::VpcEndpoint => {
                let id = cx.request.vpc_endpoint.as_deref().unwrap_or("?");
                (
                    Cause::VpcEndpointPolicy,
                    format!("policy of VPC endpoint `{id}`"),
                    format!(
                        "the request comes through VPC endpoint `{id}`, whose policy does not allow {} on `{}`",
                        auth.action, auth.resource
                    ),
                )
            }
            _ => continue,
        };
        let mut evidence = vec![missing(&auth.action, &auth.resource, looked_in)];
        evidence.extend(super::evidence::near_misses(Some(l)));
        out.push(Finding {
            cause,
            authorization: i,
            action: auth.action.to_string(),
            resource: auth.resource.clone(),
            layer: l.layer,
            explanation,
            evidence,
        });
    }
}

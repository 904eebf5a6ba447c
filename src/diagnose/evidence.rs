//! Building evidence: statements of the trace (with what they did), guardrail condition keys,
//! missing grants, and statements that grant an action on the wrong ARN level.

use super::context::{split_s3_arn, Cx};
use super::finding::Evidence;
use crate::eval::{LayerTrace, PolicyRef, StatementResult, StatementTrace};
use crate::policy::{wildcard_match, Effect, Policy, ResourceClause, Statement};
use crate::world::Bucket;

/// Condition keys whose Deny is a guardrail (fixed on the caller's side: use TLS, the endpoint,
/// the network, the encryption header, the organization ...). Lower case.
pub(crate) const GUARDRAIL_KEYS: [&str; 12] = [
    "aws:securetransport",
    "aws:sourceip",
    "aws:sourcevpce",
    "aws:sourcevpc",
    "s3:x-amz-server-side-encryption",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "aws:principalorgid",
    "aws:principalaccount",
    "s3:tlsversion",
    "s3:signatureversion",
    "s3:authtype",
    "s3:signatureage",
];

/// The guardrail keys a statement's conditions use, as written.
pub(crate) fn guardrail_keys(st: &Statement) -> Vec<&str> {
    let mut keys: Vec<&str> = Vec::new();
    for c in &st.conditions {
        if GUARDRAIL_KEYS.contains(&c.key_lower.as_str()) && !keys.contains(&c.key.as_str()) {
            keys.push(c.key.as_str());
        }
    }
    keys
}

fn effect_name(e: Effect) -> &'static str {
    match e {
        Effect::Allow => "Allow",
        Effect::Deny => "Deny",
    }
}

/// What a traced statement did, in words.
pub(crate) fn detail(st: &StatementTrace<'_>) -> String {
    match st.result {
        StatementResult::Matched => "matched".to_string(),
        StatementResult::PrincipalMismatch => "its Principal does not name the caller".to_string(),
        StatementResult::ConditionFailed(i) => match st.condition {
            Some((op, key)) => format!("condition `{op} {key}` does not hold"),
            None => format!("condition {i} does not hold"),
        },
        StatementResult::Discarded(d) => format!("matched but discarded: {}", d.explain()),
    }
}

/// A traced statement as evidence, with `detail`.
pub(crate) fn statement(st: &StatementTrace<'_>, detail: String) -> Evidence {
    Evidence::Statement {
        policy: st.policy.to_string(),
        sid: st.sid.map(str::to_string),
        index: st.index,
        effect: effect_name(st.effect).to_string(),
        detail,
    }
}

/// A traced statement as evidence, with the default detail.
pub(crate) fn traced(st: &StatementTrace<'_>) -> Evidence {
    statement(st, detail(st))
}

/// A statement of a policy (not from the trace) as evidence.
pub(crate) fn raw_statement(
    label: &PolicyRef<'_>,
    index: usize,
    st: &Statement,
    detail: String,
) -> Evidence {
    Evidence::Statement {
        policy: label.to_string(),
        sid: st.sid.clone(),
        index,
        effect: effect_name(st.effect).to_string(),
        detail,
    }
}

pub(crate) fn missing(action: &str, resource: &str, looked_in: String) -> Evidence {
    Evidence::Missing {
        action: action.to_string(),
        resource: resource.to_string(),
        looked_in,
    }
}

pub(crate) fn setting(resource: &str, name: &str, value: impl Into<String>) -> Evidence {
    Evidence::Setting {
        resource: resource.to_string(),
        name: name.to_string(),
        value: value.into(),
    }
}

/// The Allow statements of a layer that were relevant (action and resource matched) but did not
/// apply: near misses worth showing next to a missing grant.
pub(crate) fn near_misses(layer: Option<&LayerTrace<'_>>) -> Vec<Evidence> {
    layer
        .map(|l| {
            l.statements
                .iter()
                .filter(|s| s.effect == Effect::Allow && s.result != StatementResult::Matched)
                .map(traced)
                .collect()
        })
        .unwrap_or_default()
}

/// The resource pattern of `st` that names the other ARN level of `resource`'s bucket: an object
/// pattern (`arn:aws:s3:::b/*`) for a bucket ARN, the bucket ARN for an object ARN.
fn wrong_level_pattern<'s>(st: &'s Statement, resource: &str) -> Option<&'s str> {
    let (res_prefix, _) = resource.split_once(":::")?;
    let (bucket, key) = split_s3_arn(resource)?;
    let Some(ResourceClause::Resource(list)) = &st.resource else {
        return None;
    };
    list.items.iter().map(|p| p.original.as_str()).find(|p| {
        let Some((prefix, rest)) = p.split_once(":::") else {
            return false;
        };
        if !wildcard_match(prefix, res_prefix) {
            return false;
        }
        match (key, rest.split_once('/')) {
            // Bucket-level action, object-level pattern of this bucket.
            (None, Some((pb, _))) => wildcard_match(pb, bucket),
            // Object-level action, bucket-level pattern of this bucket.
            (Some(_), None) => wildcard_match(rest, bucket),
            _ => false,
        }
    })
}

/// Allow statements of `policies` that grant `action` but on the wrong ARN level of `resource`.
/// `covers` says whether a statement's principal covers the caller (always for identity policies).
pub(crate) fn wrong_level<'w>(
    cx: &Cx<'w>,
    policies: &[(PolicyRef<'w>, &'w Policy)],
    action: &str,
    resource: &str,
    bucket: Option<&Bucket>,
    covers: impl Fn(&Statement) -> bool,
) -> Vec<Evidence> {
    let action_lower = action.to_ascii_lowercase();
    let ctx = cx.eval_context(bucket);
    let mut out = Vec::new();
    for (label, policy) in policies {
        for (i, st) in policy.statements.iter().enumerate() {
            if st.effect != Effect::Allow
                || !st.matches_action(&action_lower)
                || st.matches_resource(resource, &ctx)
                || !covers(st)
            {
                continue;
            }
            if let Some(p) = wrong_level_pattern(st, resource) {
                out.push(raw_statement(
                    label,
                    i,
                    st,
                    format!("wrong resource level: grants {action} on `{p}`"),
                ));
            }
        }
    }
    out
}

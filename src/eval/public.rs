//! "Is this public?" as S3 Block Public Access decides it, for bucket policies and ACLs.
//!
//! Source: S3 User Guide, "Blocking public access to your Amazon S3 storage" → "The meaning of
//! public", and the `PublicAccessBlockConfiguration` API reference: a bucket policy is public unless
//! every Allow statement is pinned to a fixed (no wildcard, no variable) principal, or to fixed
//! values of one of the listed condition keys, or to a set of CIDRs by `aws:SourceIp`.

use crate::policy::{
    CondValue, Effect, OpKind, Policy, PrincipalClause, PrincipalSet, Statement, Token,
};
use crate::world::{Acl, Grantee};

/// Condition keys whose fixed values make an Allow non-public (lower-case).
const PINNING_KEYS: &[&str] = &[
    "aws:sourcearn",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceowner",
    "aws:sourceaccount",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "aws:userid",
    "s3:dataaccesspointarn",
    "s3:dataaccesspointaccount",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:vpceaccount",
    "aws:vpceorgid",
    "aws:vpceorgpaths",
];

/// Shortest IPv4 / IPv6 prefix that still counts as "a set of CIDRs" rather than the internet.
const MIN_V4_PREFIX: u8 = 8;
const MIN_V6_PREFIX: u8 = 32;

/// Whether a bucket policy is public.
pub fn policy_is_public(policy: &Policy) -> bool {
    policy
        .statements
        .iter()
        .any(|s| s.effect == Effect::Allow && statement_is_public(s))
}

/// Whether one Allow statement grants public access.
pub fn statement_is_public(s: &Statement) -> bool {
    let open_principal = match &s.principal {
        None => false,
        Some(PrincipalClause::NotPrincipal(_)) => true,
        Some(PrincipalClause::Principal(PrincipalSet::Any)) => true,
        Some(PrincipalClause::Principal(PrincipalSet::Map(m))) => m
            .aws
            .iter()
            .chain(&m.service)
            .chain(&m.canonical_user)
            .chain(&m.federated)
            .any(|p| p.contains('*') || p.contains('?')),
    };
    if !open_principal {
        return false;
    }
    !s.conditions.iter().any(pins)
}

/// Whether a condition pins the statement to fixed values of a pinning key.
fn pins(c: &crate::policy::Condition) -> bool {
    if c.operator.set == Some(crate::policy::SetQualifier::ForAllValues) {
        // ForAllValues over an absent key is true: it pins nothing.
        return false;
    }
    if c.operator.if_exists {
        return false;
    }
    let key = c.key_lower.as_str();
    if key == "aws:sourceip" {
        return c.operator.base == OpKind::IpAddress
            && !c.values.is_empty()
            && c.values.iter().all(|v| match v {
                CondValue::Cidr(net) => match net {
                    ipnet::IpNet::V4(n) => n.prefix_len() >= MIN_V4_PREFIX,
                    ipnet::IpNet::V6(n) => n.prefix_len() >= MIN_V6_PREFIX,
                },
                _ => false,
            });
    }
    if !PINNING_KEYS.contains(&key) {
        return false;
    }
    let positive = matches!(
        c.operator.base,
        OpKind::StringEquals
            | OpKind::StringEqualsIgnoreCase
            | OpKind::StringLike
            | OpKind::ArnEquals
            | OpKind::ArnLike
    );
    positive
        && !c.values.is_empty()
        && c.values.iter().all(|v| match v {
            CondValue::Pattern(p) => {
                p.tokens.iter().all(|t| matches!(t, Token::Literal(_)))
                    && !(key == "aws:userid" && p.original.ends_with(":*"))
            }
            _ => false,
        })
}

/// Whether an ACL grants anything to AllUsers or AuthenticatedUsers.
pub fn acl_is_public(acl: &Acl) -> bool {
    acl.grants
        .iter()
        .any(|g| matches!(g.grantee, Grantee::AllUsers | Grantee::AuthenticatedUsers))
}

/// Canned ACLs that are public.
pub fn canned_acl_is_public(acl: &str) -> bool {
    matches!(
        acl,
        "public-read" | "public-read-write" | "authenticated-read"
    )
}

/// Whether an `x-amz-grant-*` header value names AllUsers or AuthenticatedUsers.
pub fn grant_header_is_public(value: &str) -> bool {
    value.contains("acs.amazonaws.com/groups/global/AllUsers")
        || value.contains("acs.amazonaws.com/groups/global/AuthenticatedUsers")
}

//! How the layers of one authorization combine into a decision, and which layer decided.
//!
//! Source: IAM User Guide, "Policy evaluation logic", "Determining whether a request is allowed or
//! denied within an account" (the table of resource-based grants to a user ARN, role ARN and
//! role-session ARN versus boundaries and session policies) and "Cross-account policy evaluation
//! logic". Explicit denies and the SCP / RCP / VPC-endpoint gates are applied by the caller of
//! [`combine`]; this module decides the allow side.

use crate::eval::caller::{CallerKind, Named};
use crate::eval::trace::{Decision, Layer};

/// The allow side of one authorization, summarised.
#[derive(Debug, Clone, Copy)]
pub struct Sides {
    pub kind: CallerKind,
    /// The caller's account owns the resource (for a foreign-owned object: the object).
    pub same_account: bool,
    /// The resource side must grant even in the same account (KMS key policies).
    pub resource_required: bool,
    /// The best grant of the resource side (resource policy, ACL, KMS grant), after discards,
    /// with the layer it came from.
    pub resource_grant: Option<(Named, Layer)>,
    /// Identity-based policies allow (`None`: the caller has none, e.g. anonymous).
    pub identity: Option<bool>,
    /// The permissions boundary allows (`None`: no boundary).
    pub boundary: Option<bool>,
    /// The session policy allows (`None`: no session policy).
    pub session: Option<bool>,
    /// The layer to blame when the resource side is missing.
    pub resource_blame: Layer,
}

/// The caller's identity side of one authorization: identity policies, boundary, session policy.
#[derive(Debug, Clone, Copy)]
pub struct IdentitySide {
    pub kind: CallerKind,
    /// Identity-based policies allow (`None`: the caller has none, e.g. anonymous).
    pub identity: Option<bool>,
    /// The permissions boundary allows (`None`: no boundary).
    pub boundary: Option<bool>,
    /// The session policy allows (`None`: no session policy).
    pub session: Option<bool>,
}

impl IdentitySide {
    /// Identity policies, capped by boundary and session policy, allow.
    pub fn ok(&self) -> bool {
        match self.kind {
            CallerKind::Root => true,
            CallerKind::Anonymous | CallerKind::Service | CallerKind::OriginAccessIdentity => false,
            _ => {
                self.identity == Some(true)
                    && self.boundary != Some(false)
                    && self.session != Some(false)
            }
        }
    }

    /// Whether a resource-side grant naming the caller this way is effective on its own.
    pub fn grant_effective(&self, named: Named) -> bool {
        match named {
            Named::Direct | Named::Any | Named::Service => true,
            Named::Role => self.boundary != Some(false) && self.session != Some(false),
            Named::Account => self.ok(),
        }
    }

    /// The identity-side layer to blame for a missing allow.
    pub fn blame(&self) -> Layer {
        if self.identity == Some(true) {
            if self.boundary == Some(false) {
                return Layer::PermissionsBoundary;
            }
            if self.session == Some(false) {
                return Layer::SessionPolicy;
            }
        }
        Layer::Identity
    }
}

impl Sides {
    fn side(&self) -> IdentitySide {
        IdentitySide {
            kind: self.kind,
            identity: self.identity,
            boundary: self.boundary,
            session: self.session,
        }
    }

    /// Identity policies, capped by boundary and session policy, allow.
    pub fn identity_ok(&self) -> bool {
        self.side().ok()
    }

    fn grant_effective(&self, named: Named) -> bool {
        self.side().grant_effective(named)
    }

    fn identity_layer(&self) -> Layer {
        self.side().blame()
    }
}

/// The allow-side decision: allowed (with the granting layer) or an implicit deny (with the layer
/// whose missing Allow is to blame).
pub fn combine(s: &Sides) -> (Decision, Layer) {
    let grant = s.resource_grant;
    let named = grant.map(|(n, _)| n);
    let granted_by = grant.map(|(_, l)| l).unwrap_or(s.resource_blame);
    match s.kind {
        CallerKind::Anonymous | CallerKind::Service | CallerKind::OriginAccessIdentity => {
            if named.is_some_and(|n| matches!(n, Named::Any | Named::Service | Named::Direct)) {
                (Decision::Allowed, granted_by)
            } else {
                (Decision::ImplicitDeny, s.resource_blame)
            }
        }
        _ if s.same_account => {
            // A grant to the account itself only delegates to the account's identity policies.
            let direct = named.is_some_and(|n| n != Named::Account && s.grant_effective(n));
            if direct {
                return (Decision::Allowed, granted_by);
            }
            let delegated = named == Some(Named::Account);
            if (delegated || !s.resource_required) && s.identity_ok() {
                return (Decision::Allowed, Layer::Identity);
            }
            let blame = match named {
                None if s.resource_required => s.resource_blame,
                Some(Named::Role) if s.boundary == Some(false) => Layer::PermissionsBoundary,
                Some(Named::Role) if s.session == Some(false) => Layer::SessionPolicy,
                _ => s.identity_layer(),
            };
            (Decision::ImplicitDeny, blame)
        }
        _ => {
            // Cross-account: both the caller's account and the resource owner must allow. When
            // neither does, the resource side is blamed first (it comes first in AWS's order).
            if named.is_none() {
                (Decision::ImplicitDeny, s.resource_blame)
            } else if !s.identity_ok() {
                (Decision::ImplicitDeny, s.identity_layer())
            } else {
                (Decision::Allowed, granted_by)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sides(kind: CallerKind, same: bool) -> Sides {
        Sides {
            kind,
            same_account: same,
            resource_required: false,
            resource_grant: None,
            identity: Some(false),
            boundary: None,
            session: None,
            resource_blame: Layer::ResourcePolicy,
        }
    }

    #[test]
    fn same_account_identity_alone_allows() {
        let s = Sides {
            identity: Some(true),
            ..sides(CallerKind::User, true)
        };
        assert_eq!(combine(&s), (Decision::Allowed, Layer::Identity));
    }

    #[test]
    fn boundary_caps_identity_but_not_a_direct_user_grant() {
        let mut s = Sides {
            identity: Some(true),
            boundary: Some(false),
            ..sides(CallerKind::User, true)
        };
        assert_eq!(
            combine(&s),
            (Decision::ImplicitDeny, Layer::PermissionsBoundary)
        );
        s.resource_grant = Some((Named::Direct, Layer::ResourcePolicy));
        assert_eq!(combine(&s), (Decision::Allowed, Layer::ResourcePolicy));
    }

    #[test]
    fn role_arn_grant_is_capped_by_session_policy() {
        let s = Sides {
            resource_grant: Some((Named::Role, Layer::ResourcePolicy)),
            session: Some(false),
            ..sides(CallerKind::RoleSession, true)
        };
        assert_eq!(combine(&s), (Decision::ImplicitDeny, Layer::SessionPolicy));
    }

    #[test]
    fn cross_account_needs_both_sides() {
        let mut s = sides(CallerKind::User, false);
        assert_eq!(combine(&s), (Decision::ImplicitDeny, Layer::ResourcePolicy));
        s.identity = Some(true);
        assert_eq!(combine(&s), (Decision::ImplicitDeny, Layer::ResourcePolicy));
        s.resource_grant = Some((Named::Account, Layer::ResourcePolicy));
        assert_eq!(combine(&s), (Decision::Allowed, Layer::ResourcePolicy));
        s.identity = Some(false);
        assert_eq!(combine(&s), (Decision::ImplicitDeny, Layer::Identity));
    }

    #[test]
    fn kms_key_policy_is_required_in_the_same_account() {
        let s = Sides {
            identity: Some(true),
            resource_required: true,
            ..sides(CallerKind::User, true)
        };
        assert_eq!(combine(&s), (Decision::ImplicitDeny, Layer::ResourcePolicy));
    }

    #[test]
    fn anonymous_only_through_public_grants() {
        let mut s = sides(CallerKind::Anonymous, false);
        s.resource_grant = Some((Named::Account, Layer::ResourcePolicy));
        assert_eq!(combine(&s).0, Decision::ImplicitDeny);
        s.resource_grant = Some((Named::Any, Layer::ResourcePolicy));
        assert_eq!(combine(&s).0, Decision::Allowed);
    }
}

//! Resolves the request's principal against the World: which account it belongs to, which
//! identity policies, permissions boundary and session policy apply to it, its tags and ids, and
//! the principal strings a `Principal` element may name it by.

use std::borrow::Cow;

use crate::eval::trace::PolicyRef;
use crate::policy::{Policy, PrincipalClause, PrincipalSet};
use crate::request::{PrincipalRef, Request};
use crate::world::{Account, Part, World};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallerKind {
    User,
    RoleSession,
    FederatedUser,
    Root,
    Anonymous,
    Service,
    /// A CloudFront origin access identity (legacy): only resource policies and ACLs apply to it.
    OriginAccessIdentity,
}

impl CallerKind {
    /// The value of `aws:PrincipalType`.
    pub fn principal_type(self) -> &'static str {
        match self {
            CallerKind::User => "User",
            CallerKind::RoleSession => "AssumedRole",
            CallerKind::FederatedUser => "FederatedUser",
            CallerKind::Root => "Account",
            CallerKind::Anonymous => "Anonymous",
            CallerKind::Service => "Service",
            CallerKind::OriginAccessIdentity => "User",
        }
    }

    /// True for principals whose own account's IAM policies must allow.
    pub fn has_identity_policies(self) -> bool {
        matches!(
            self,
            CallerKind::User | CallerKind::RoleSession | CallerKind::FederatedUser
        )
    }
}

/// How specifically a `Principal` element named the caller. Order matters: a grant that names the
/// caller more directly is less capped (IAM evaluation logic, resource-based policies table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Named {
    /// `arn:aws:iam::ACCT:root` or the account id: delegates to the account's IAM policies.
    Account,
    /// The role ARN of a role session: capped by boundary and session policy.
    Role,
    /// `"*"` / `{"AWS": "*"}`.
    Any,
    /// A service principal.
    Service,
    /// The IAM user ARN, the role-session ARN or the federated-user ARN: not capped.
    Direct,
}

/// `aws:userid`, joined from its parts on first use (most policies never ask for it).
#[derive(Debug, Clone, Default)]
pub struct UserId<'a> {
    /// The parts, joined in order (`ROLEID`, `:`, `SESSION`); `None` when the caller has none.
    parts: Option<[&'a str; 3]>,
    joined: std::cell::OnceCell<String>,
}

impl<'a> UserId<'a> {
    pub fn new(parts: [&'a str; 3]) -> Self {
        UserId {
            parts: Some(parts),
            joined: std::cell::OnceCell::new(),
        }
    }

    /// The value, if the caller has one.
    pub fn get(&self) -> Option<&str> {
        match self.parts? {
            [whole, "", ""] => Some(whole),
            parts => Some(self.joined.get_or_init(|| parts.concat())),
        }
    }
}

/// The caller's tags as `aws:PrincipalTag/KEY` sees them: the principal's own tags, where a
/// session tag of the same key (any case) overrides them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tags<'a> {
    pub own: &'a [(String, String)],
    pub session: &'a [(String, String)],
}

impl<'a> Tags<'a> {
    /// The value of tag `key` (any case). Of several session tags with the key the last wins;
    /// of several own tags, the first.
    pub fn get(&self, key: &str) -> Option<&'a str> {
        let is_key = |(k, _): &&(String, String)| k.eq_ignore_ascii_case(key);
        self.session
            .iter()
            .rev()
            .find(is_key)
            .or_else(|| self.own.iter().find(is_key))
            .map(|(_, v)| v.as_str())
    }
}

/// A resolved policy with its label.
pub type Labeled<'a> = (PolicyRef<'a>, &'a Policy);

/// The caller, resolved.
#[derive(Debug, Clone)]
pub struct Caller<'a> {
    pub kind: CallerKind,
    pub account: Option<&'a str>,
    /// The account record, when the World holds it.
    pub account_record: Option<&'a Account>,
    /// `aws:PrincipalArn`: the user ARN, the role ARN (for a session), the root ARN.
    pub principal_arn: Option<Cow<'a, str>>,
    /// The ARN the request is signed as (session ARN for role sessions).
    pub caller_arn: Option<Cow<'a, str>>,
    /// `aws:userid`.
    pub userid: UserId<'a>,
    pub username: Option<&'a str>,
    pub service: Option<&'a str>,
    pub org_id: Option<&'a str>,
    pub canonical_id: Option<&'a str>,
    pub source_vpc: Option<&'a str>,
    /// `aws:PrincipalTag/...`: the principal's tags, overridden by session tags.
    pub tags: Tags<'a>,
    pub identity: Vec<Labeled<'a>>,
    pub boundary: Option<Labeled<'a>>,
    pub session_policy: Option<&'a Policy>,
    pub unknowns: Vec<String>,
}

impl<'a> Caller<'a> {
    /// Resolves `request.principal` in `world`.
    pub fn resolve(world: &'a World, request: &'a Request) -> Caller<'a> {
        let partition = world.partition.as_str();
        let mut c = Caller {
            kind: CallerKind::Anonymous,
            account: None,
            account_record: None,
            principal_arn: None,
            caller_arn: None,
            userid: UserId::default(),
            username: None,
            service: None,
            org_id: None,
            canonical_id: None,
            source_vpc: request
                .vpc_endpoint
                .as_deref()
                .and_then(|id| world.vpc_endpoint(id))
                .and_then(|v| v.vpc_id.as_deref()),
            tags: Tags {
                own: &[],
                session: &request.session_tags,
            },
            identity: Vec::with_capacity(6),
            boundary: None,
            session_policy: None,
            unknowns: Vec::new(),
        };
        match &request.principal {
            PrincipalRef::Anonymous => {
                c.userid = UserId::new(["anonymous", "", ""]);
            }
            PrincipalRef::Service { name } => {
                c.kind = CallerKind::Service;
                c.service = Some(name.as_str());
            }
            PrincipalRef::Account { account } => {
                c.kind = CallerKind::Root;
                c.set_account(world, account);
                let arn = ["arn:", partition, ":iam::", account, ":root"].concat();
                c.principal_arn = Some(Cow::Owned(arn.clone()));
                c.caller_arn = Some(Cow::Owned(arn));
                c.userid = UserId::new([account, "", ""]);
            }
            PrincipalRef::User {
                account, name, arn, ..
            } if account == "cloudfront" => {
                c.kind = CallerKind::OriginAccessIdentity;
                c.caller_arn = Some(Cow::Borrowed(arn.as_str()));
                c.principal_arn = Some(Cow::Borrowed(arn.as_str()));
                let id = name.rsplit(' ').next().unwrap_or_default();
                if let Part::Known(cf) = &world.cloudfront {
                    c.canonical_id = cf
                        .origin_access_identities
                        .iter()
                        .find(|o| o.id == id)
                        .and_then(|o| o.s3_canonical_user_id.as_deref());
                }
            }
            PrincipalRef::User {
                account, name, arn, ..
            } => {
                c.kind = CallerKind::User;
                c.set_account(world, account);
                c.principal_arn = Some(Cow::Borrowed(arn.as_str()));
                c.caller_arn = Some(Cow::Borrowed(arn.as_str()));
                c.username = Some(name.as_str());
                c.resolve_user(name, arn);
            }
            PrincipalRef::Role { account, name, .. } => {
                c.kind = CallerKind::RoleSession;
                c.set_account(world, account);
                c.caller_arn = Some(Cow::Owned(
                    [
                        "arn:",
                        partition,
                        ":sts::",
                        account,
                        ":assumed-role/",
                        name,
                        "/s3medic",
                    ]
                    .concat(),
                ));
                c.resolve_role(world, account, name, "s3medic", request);
            }
            PrincipalRef::AssumedRole {
                account,
                role_name,
                session_name,
                arn,
            } => {
                c.kind = CallerKind::RoleSession;
                c.set_account(world, account);
                c.caller_arn = Some(Cow::Borrowed(arn.as_str()));
                c.resolve_role(world, account, role_name, session_name, request);
            }
            PrincipalRef::FederatedUser { account, name, arn } => {
                c.kind = CallerKind::FederatedUser;
                c.set_account(world, account);
                c.principal_arn = Some(Cow::Borrowed(arn.as_str()));
                c.caller_arn = Some(Cow::Borrowed(arn.as_str()));
                c.userid = UserId::new([account, ":", name]);
                c.session_policy = request.session_policy.as_ref();
                c.unknowns.push(format!(
                    "federated user `{arn}`: the policies of the IAM user that created the session are not modelled; only the session policy is evaluated"
                ));
            }
        }
        c
    }

    fn set_account(&mut self, world: &'a World, account: &'a str) {
        self.account = Some(account);
        self.account_record = world.account(account);
        if let Some(acct) = self.account_record {
            self.canonical_id = acct.canonical_user_id.as_deref();
            if let Part::Known(org) = &acct.organization {
                self.org_id = Some(org.id.as_str());
            }
        }
    }

    /// The IAM data of the caller's account; `what` names the caller for an unknown (built
    /// only when one is recorded).
    fn iam(&mut self, what: impl FnOnce() -> String) -> Option<&'a crate::world::Iam> {
        let Some(acct) = self.account_record else {
            self.unknowns.push(format!(
                "account `{}` is not in the world: the identity policies of {} are unknown",
                self.account.unwrap_or("?"),
                what()
            ));
            return None;
        };
        match &acct.iam {
            Part::Known(iam) => Some(iam),
            Part::Unknown(why) => {
                self.unknowns.push(format!(
                    "account `{}`: IAM data could not be read ({why}): the identity policies of {} are unknown",
                    acct.account_id,
                    what()
                ));
                None
            }
            Part::Absent => None,
        }
    }

    fn resolve_user(&mut self, name: &'a str, arn: &'a str) {
        let Some(iam) = self.iam(|| format!("user `{arn}`")) else {
            return;
        };
        let Some(user) = iam.user_by_name(name) else {
            self.unknowns.push(format!(
                "user `{arn}` is not in the IAM data of its account: its identity policies are unknown"
            ));
            return;
        };
        if let Some(id) = user.user_id.as_deref() {
            self.userid = UserId::new([id, "", ""]);
        }
        self.tags.own = &user.tags;
        for p in &user.inline_policies {
            self.identity.push((
                PolicyRef::Inline {
                    owner_arn: user.arn.as_str(),
                    name: p.name.as_str(),
                },
                &p.policy,
            ));
        }
        self.push_managed(iam, user.attached_policies.iter().map(|a| a.arn.as_str()));
        for g in &user.groups {
            match iam.group_by_name(g) {
                Some(group) => {
                    for p in &group.inline_policies {
                        self.identity.push((
                            PolicyRef::Inline {
                                owner_arn: group.arn.as_str(),
                                name: p.name.as_str(),
                            },
                            &p.policy,
                        ));
                    }
                    self.push_managed(iam, group.attached_policies.iter().map(|a| a.arn.as_str()));
                }
                None => self.unknowns.push(format!(
                    "group `{g}` of user `{arn}` is not in the IAM data: its policies are unknown"
                )),
            }
        }
        if let Some(b) = &user.permissions_boundary {
            self.set_boundary(iam, b);
        }
    }

    fn resolve_role(
        &mut self,
        world: &'a World,
        account: &'a str,
        name: &'a str,
        session: &'a str,
        request: &'a Request,
    ) {
        let partition = world.partition.as_str();
        self.session_policy = request.session_policy.as_ref();
        let Some(iam) = self.iam(|| format!("role `{name}`")) else {
            self.principal_arn = Some(Cow::Owned(format!(
                "arn:{partition}:iam::{account}:role/{name}"
            )));
            self.userid = UserId::new(["UNKNOWNROLEID", ":", session]);
            return;
        };
        let Some(role) = iam.role_by_name(name) else {
            self.principal_arn = Some(Cow::Owned(format!(
                "arn:{partition}:iam::{account}:role/{name}"
            )));
            self.userid = UserId::new(["UNKNOWNROLEID", ":", session]);
            self.unknowns.push(format!(
                "role `{name}` is not in the IAM data of account `{account}`: its identity policies are unknown"
            ));
            return;
        };
        self.principal_arn = Some(Cow::Borrowed(role.arn.as_str()));
        self.userid = UserId::new([
            role.role_id.as_deref().unwrap_or("UNKNOWNROLEID"),
            ":",
            session,
        ]);
        self.tags.own = &role.tags;
        for p in &role.inline_policies {
            self.identity.push((
                PolicyRef::Inline {
                    owner_arn: role.arn.as_str(),
                    name: p.name.as_str(),
                },
                &p.policy,
            ));
        }
        self.push_managed(iam, role.attached_policies.iter().map(|a| a.arn.as_str()));
        if let Some(b) = &role.permissions_boundary {
            self.set_boundary(iam, b);
        }
    }

    fn push_managed(&mut self, iam: &'a crate::world::Iam, arns: impl Iterator<Item = &'a str>) {
        for arn in arns {
            match iam.managed_policy(arn).map(|m| &m.document) {
                Some(Part::Known(doc)) => self.identity.push((PolicyRef::Managed { arn }, doc)),
                Some(Part::Unknown(why)) => self
                    .unknowns
                    .push(format!("managed policy `{arn}` could not be read ({why})")),
                Some(Part::Absent) | None => self.unknowns.push(format!(
                    "managed policy `{arn}` is attached but its document is not in the world"
                )),
            }
        }
    }

    fn set_boundary(&mut self, iam: &'a crate::world::Iam, arn: &'a str) {
        match iam.managed_policy(arn).map(|m| &m.document) {
            Some(Part::Known(doc)) => self.boundary = Some((PolicyRef::Boundary { arn }, doc)),
            _ => self.unknowns.push(format!(
                "permissions boundary `{arn}` is set but its document is not in the world: evaluated as no boundary"
            )),
        }
    }

    /// How (if at all) a principal set names this caller.
    pub fn named_by(&self, set: &PrincipalSet) -> Option<Named> {
        let map = match set {
            PrincipalSet::Any => return Some(Named::Any),
            PrincipalSet::Map(m) => m,
        };
        if map.aws.iter().any(|a| a == "*") {
            return Some(Named::Any);
        }
        let mut best: Option<Named> = None;
        let mut consider = |n: Named| {
            if best.is_none_or(|b| n > b) {
                best = Some(n);
            }
        };
        match self.kind {
            CallerKind::Service => {
                if let Some(svc) = self.service {
                    if map.service.iter().any(|s| s == svc) {
                        consider(Named::Service);
                    }
                }
            }
            CallerKind::Anonymous => {}
            CallerKind::OriginAccessIdentity => {
                if map
                    .aws
                    .iter()
                    .any(|a| Some(a.as_str()) == self.caller_arn.as_deref())
                    || self
                        .canonical_id
                        .is_some_and(|id| map.canonical_user.iter().any(|c| c == id))
                {
                    consider(Named::Direct);
                }
            }
            _ => {
                for a in &map.aws {
                    if self.is_account_string(a) {
                        consider(Named::Account);
                    } else if self.caller_arn.as_deref() == Some(a.as_str()) {
                        consider(if self.kind == CallerKind::Root {
                            Named::Account
                        } else {
                            Named::Direct
                        });
                    } else if self.kind == CallerKind::RoleSession
                        && self.principal_arn.as_deref() == Some(a.as_str())
                    {
                        consider(Named::Role);
                    }
                }
                if let Some(canon) = self.canonical_id {
                    if self.kind == CallerKind::Root
                        && map.canonical_user.iter().any(|c| c == canon)
                    {
                        consider(Named::Account);
                    }
                }
            }
        }
        best
    }

    fn is_account_string(&self, a: &str) -> bool {
        let Some(acct) = self.account else {
            return false;
        };
        if a == acct {
            return true;
        }
        // arn:PARTITION:iam::ACCT:root, compared in place (no allocation per statement).
        a.strip_suffix(":root")
            .and_then(|r| r.strip_suffix(acct))
            .and_then(|r| r.strip_suffix(":iam::"))
            .and_then(|r| r.strip_prefix("arn:"))
            .is_some_and(|partition| !partition.contains(':'))
    }

    /// Whether a statement's Principal / NotPrincipal element covers the caller, and how.
    /// `None` means the statement has no principal element (identity-style policies).
    pub fn principal_clause(&self, clause: &PrincipalClause) -> Option<Named> {
        match clause {
            PrincipalClause::Principal(set) => self.named_by(set),
            PrincipalClause::NotPrincipal(set) => {
                // The statement applies to every principal the set does not fully exclude. To
                // exclude an IAM principal the set must name both the principal itself and its
                // account (IAM NotPrincipal reference: "you must also specify the account ARN").
                let excluded = match self.kind {
                    CallerKind::Anonymous => self.named_by(set) == Some(Named::Any),
                    CallerKind::Service | CallerKind::Root | CallerKind::OriginAccessIdentity => {
                        self.named_by(set).is_some()
                    }
                    _ => {
                        let names = self.names_in(set);
                        names.0 && names.1
                    }
                };
                if excluded {
                    None
                } else {
                    Some(Named::Any)
                }
            }
        }
    }

    /// (names the principal itself, names its account)
    fn names_in(&self, set: &PrincipalSet) -> (bool, bool) {
        let PrincipalSet::Map(map) = set else {
            return (true, true);
        };
        let mut own = false;
        let mut account = false;
        for a in &map.aws {
            if a == "*" {
                own = true;
                account = true;
            } else if self.is_account_string(a) {
                account = true;
            } else if self.caller_arn.as_deref() == Some(a.as_str())
                || self.principal_arn.as_deref() == Some(a.as_str())
            {
                own = true;
            }
        }
        (own, account)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn session_tags_override_own_tags() {
        let own = pairs(&[("Team", "data"), ("team", "shadowed"), ("env", "prod")]);
        let session = pairs(&[("TEAM", "ops"), ("team", "ml")]);
        let tags = Tags {
            own: &own,
            session: &session,
        };
        assert_eq!(tags.get("team"), Some("ml"));
        assert_eq!(tags.get("ENV"), Some("prod"));
        assert_eq!(tags.get("other"), None);
        let no_session = Tags {
            own: &own,
            session: &[],
        };
        assert_eq!(no_session.get("TEAM"), Some("data"));
        assert_eq!(Tags::default().get("team"), None);
    }

    #[test]
    fn user_id_is_joined_on_first_use() {
        assert_eq!(UserId::default().get(), None);
        assert_eq!(UserId::new(["AIDAX", "", ""]).get(), Some("AIDAX"));
        let id = UserId::new(["AROAX", ":", "session"]);
        assert_eq!(id.get(), Some("AROAX:session"));
        assert_eq!(id.clone().get(), Some("AROAX:session"));
        assert_eq!(UserId::new(["", "", ""]).get(), Some(""));
    }
}

//! The result of an authorization: the decision, and the trace of every layer and statement that
//! took part in it. Borrowed from the World and the Request (`'a`) so that building it copies no
//! policy text; serialised to the versioned JSON documented in docs/formats.md.

use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use crate::policy::Effect;

/// Version of the decision JSON (`explain --output json`).
pub const DECISION_FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Allowed,
    ImplicitDeny,
    ExplicitDeny,
}

impl Decision {
    pub fn is_allowed(self) -> bool {
        self == Decision::Allowed
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allowed => "allowed",
            Decision::ImplicitDeny => "implicit_deny",
            Decision::ExplicitDeny => "explicit_deny",
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The layers of AWS's evaluation, in the order the trace lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    Request,
    ObjectOwnership,
    BlockPublicAccess,
    Rcp,
    Scp,
    VpcEndpoint,
    ResourcePolicy,
    BucketAcl,
    ObjectAcl,
    KmsKeyState,
    KmsGrant,
    Identity,
    PermissionsBoundary,
    SessionPolicy,
    Existence,
}

impl Layer {
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Request => "request",
            Layer::ObjectOwnership => "object_ownership",
            Layer::BlockPublicAccess => "block_public_access",
            Layer::Rcp => "rcp",
            Layer::Scp => "scp",
            Layer::VpcEndpoint => "vpc_endpoint",
            Layer::ResourcePolicy => "resource_policy",
            Layer::BucketAcl => "bucket_acl",
            Layer::ObjectAcl => "object_acl",
            Layer::KmsKeyState => "kms_key_state",
            Layer::KmsGrant => "kms_grant",
            Layer::Identity => "identity",
            Layer::PermissionsBoundary => "permissions_boundary",
            Layer::SessionPolicy => "session_policy",
            Layer::Existence => "existence",
        }
    }

    /// A short human title.
    pub fn title(self) -> &'static str {
        match self {
            Layer::Request => "request checks",
            Layer::ObjectOwnership => "Object Ownership",
            Layer::BlockPublicAccess => "Block Public Access",
            Layer::Rcp => "resource control policies",
            Layer::Scp => "service control policies",
            Layer::VpcEndpoint => "VPC endpoint policy",
            Layer::ResourcePolicy => "resource-based policy",
            Layer::BucketAcl => "bucket ACL",
            Layer::ObjectAcl => "object ACL",
            Layer::KmsKeyState => "KMS key state",
            Layer::KmsGrant => "KMS grants",
            Layer::Identity => "identity-based policies",
            Layer::PermissionsBoundary => "permissions boundary",
            Layer::SessionPolicy => "session policy",
            Layer::Existence => "object existence (403 vs 404)",
        }
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one layer contributed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LayerOutcome {
    /// An Allow (or grant) in this layer applies.
    Allow,
    /// An explicit Deny (or a hard refusal) in this layer applies.
    Deny,
    /// The layer applies but nothing in it allows: on its own an implicit deny.
    NoMatch,
    /// The layer exists but does not take part in this authorization.
    Skipped,
    /// The layer could not be read; evaluated as absent.
    Unknown,
}

/// Which policy a statement belongs to. Borrowed; `Display` gives the label of docs/formats.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyRef<'a> {
    BucketPolicy { bucket: &'a str },
    KeyPolicy { key_arn: &'a str },
    Managed { arn: &'a str },
    Inline { owner_arn: &'a str, name: &'a str },
    Boundary { arn: &'a str },
    Session,
    Scp { target: &'a str, name: &'a str },
    Rcp { target: &'a str, name: &'a str },
    Vpce { id: &'a str },
}

impl fmt::Display for PolicyRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyRef::BucketPolicy { bucket } => write!(f, "bucket-policy:{bucket}"),
            PolicyRef::KeyPolicy { key_arn } => write!(f, "key-policy:{key_arn}"),
            PolicyRef::Managed { arn } => write!(f, "identity:{arn}"),
            PolicyRef::Inline { owner_arn, name } => {
                write!(f, "identity:{owner_arn}/inline/{name}")
            }
            PolicyRef::Boundary { arn } => write!(f, "boundary:{arn}"),
            PolicyRef::Session => f.write_str("session-policy"),
            PolicyRef::Scp { target, name } => write!(f, "scp:{target}/{name}"),
            PolicyRef::Rcp { target, name } => write!(f, "rcp:{target}/{name}"),
            PolicyRef::Vpce { id } => write!(f, "vpce:{id}"),
        }
    }
}

impl Serialize for PolicyRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// How a relevant statement (its action and resource matched) fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementResult {
    /// Principal (if any) and every condition matched: the statement applies.
    Matched,
    /// The statement's Principal / NotPrincipal does not cover the caller.
    PrincipalMismatch,
    /// Condition number `.0` (in document order) does not hold.
    ConditionFailed(usize),
    /// It matched, but the layer's rules discard it (e.g. a public grant under
    /// RestrictPublicBuckets, or a bucket-policy grant on an object another account owns).
    Discarded(Discard),
}

/// Why a matching Allow was discarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Discard {
    RestrictPublicBuckets,
    ObjectOwnedByOtherAccount,
    CappedByBoundary,
    CappedBySessionPolicy,
    DelegatesToIdentity,
}

impl Discard {
    pub fn explain(self) -> &'static str {
        match self {
            Discard::RestrictPublicBuckets => {
                "the bucket policy is public and RestrictPublicBuckets limits it to the bucket owner's account and AWS services"
            }
            Discard::ObjectOwnedByOtherAccount => {
                "bucket-policy grants do not cover objects owned by another account"
            }
            Discard::CappedByBoundary => {
                "a grant to the role ARN is capped by the role's permissions boundary"
            }
            Discard::CappedBySessionPolicy => {
                "a grant to the role ARN is capped by the session policy"
            }
            Discard::DelegatesToIdentity => {
                "a grant to the account delegates to the account's identity policies"
            }
        }
    }
}

/// One statement in the trace.
#[derive(Debug, Clone, Copy)]
pub struct StatementTrace<'a> {
    pub policy: PolicyRef<'a>,
    pub sid: Option<&'a str>,
    pub index: usize,
    pub effect: Effect,
    pub result: StatementResult,
    /// For a failed condition: the operator and key (e.g. `Bool aws:SecureTransport`).
    pub condition: Option<(&'a str, &'a str)>,
}

impl Serialize for StatementTrace<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("policy", &self.policy)?;
        m.serialize_entry("sid", &self.sid)?;
        m.serialize_entry("index", &self.index)?;
        m.serialize_entry("effect", &self.effect)?;
        let (result, detail): (&str, Option<String>) = match self.result {
            StatementResult::Matched => ("matched", None),
            StatementResult::PrincipalMismatch => ("principal_mismatch", None),
            StatementResult::ConditionFailed(i) => (
                "condition_failed",
                Some(match self.condition {
                    Some((op, key)) => format!("condition {i} (`{op}` on `{key}`) does not hold"),
                    None => format!("condition {i} does not hold"),
                }),
            ),
            StatementResult::Discarded(d) => ("discarded", Some(d.explain().to_string())),
        };
        m.serialize_entry("result", result)?;
        if let Some(d) = detail {
            m.serialize_entry("detail", &d)?;
        }
        m.end()
    }
}

impl StatementTrace<'_> {
    /// `Sid` or `#index` — how corpora and humans name a statement.
    pub fn name(&self) -> String {
        match self.sid {
            Some(s) if !s.is_empty() => s.to_string(),
            _ => format!("#{}", self.index),
        }
    }
}

/// Why a layer said what it said, when that is a fact rather than a statement: machine-readable
/// for diagnosis (the `note` is the same fact for a person).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// Requester Pays bucket, requester from another account without `x-amz-request-payer`.
    RequesterPays,
    /// The presigned URL's validity ended before the request.
    PresignedExpired,
    /// The presigned URL was signed in the future.
    PresignedNotYetValid,
    /// `X-Amz-Expires` above 604800 s.
    PresignedTooLong,
    /// The signer's temporary credentials expired.
    CredentialsExpired,
    /// BlockPublicAcls rejected a request setting a public ACL.
    BlockPublicAcls,
    /// ACLs are disabled (Bucket owner enforced): the ACL layer is skipped or the request refused.
    AclsDisabled,
    /// The bucket policy is public and RestrictPublicBuckets discarded its grants.
    RestrictPublicBuckets,
    /// IgnorePublicAcls ignored a public ACL grant.
    PublicAclIgnored,
    /// An ACL grant matched the caller, and how it names the caller.
    AclGrant { to: AclGrantee },
    /// An SCP / RCP level (its target) has no policy allowing the action.
    OrgLevelWithoutAllow { target: String },
    /// The KMS key is disabled or pending deletion.
    KeyDisabled,
    /// The AWS managed key aws/s3 cannot be used from another account.
    AwsManagedKeyCrossAccount,
    /// Anonymous requests cannot use KMS keys.
    AnonymousKms,
    /// A CloudFront origin access identity cannot use KMS keys.
    OaiKms,
    /// The key does not exist and the caller may (404) or may not (403) list the bucket.
    MissingKey { can_list: bool },
}

/// Whom an ACL grant names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AclGrantee {
    /// The caller's account (canonical id, or the default owner grant).
    Account,
    /// AllUsers / AuthenticatedUsers.
    Public,
    /// A CloudFront origin access identity's canonical user.
    OriginAccessIdentity,
}

/// The relevant statements of one layer, in evaluation order; reads as a slice
/// (`&[StatementTrace]`, through `Deref`).
///
/// The authorizer records the statements of every layer of an authorization into one buffer and
/// shares it between the layers when the authorization is finished: one allocation per
/// authorization instead of one per layer, and cloning a trace copies no statements.
#[derive(Clone, Default)]
pub struct Statements<'a> {
    /// `None` while empty, or while the range still points into the authorizer's buffer.
    shared: Option<Arc<Vec<StatementTrace<'a>>>>,
    start: usize,
    end: usize,
}

impl<'a> Statements<'a> {
    pub const fn new() -> Self {
        Statements {
            shared: None,
            start: 0,
            end: 0,
        }
    }

    pub fn as_slice(&self) -> &[StatementTrace<'a>] {
        self.shared
            .as_deref()
            .and_then(|all| all.get(self.start..self.end))
            .unwrap_or(&[])
    }

    /// Appends a statement (copying the list out of a buffer it shares with other layers).
    pub fn push(&mut self, st: StatementTrace<'a>) {
        let mut own: Vec<StatementTrace<'a>> = match self.shared.take() {
            Some(all) if self.start == 0 && self.end == all.len() => {
                Arc::try_unwrap(all).unwrap_or_else(|shared| (*shared).clone())
            }
            Some(all) => all.get(self.start..self.end).unwrap_or(&[]).to_vec(),
            None => Vec::new(),
        };
        own.push(st);
        *self = Statements::from(own);
    }

    /// Statements recorded at `range` of the authorizer's buffer, not shared yet (they read as
    /// empty until [`Statements::shared`] replaces this).
    pub(crate) fn pending(range: std::ops::Range<usize>) -> Self {
        Statements {
            shared: None,
            start: range.start,
            end: range.end,
        }
    }

    /// The buffer range of pending statements (`None` when there are none, or they are shared).
    pub(crate) fn pending_range(&self) -> Option<std::ops::Range<usize>> {
        (self.shared.is_none() && self.end > self.start).then_some(self.start..self.end)
    }

    /// `range` of the shared statements of an authorization.
    pub(crate) fn shared(
        all: &Arc<Vec<StatementTrace<'a>>>,
        range: std::ops::Range<usize>,
    ) -> Self {
        Statements {
            shared: Some(Arc::clone(all)),
            start: range.start,
            end: range.end,
        }
    }
}

impl<'a> From<Vec<StatementTrace<'a>>> for Statements<'a> {
    fn from(v: Vec<StatementTrace<'a>>) -> Self {
        let end = v.len();
        Statements {
            shared: (end > 0).then(|| Arc::new(v)),
            start: 0,
            end,
        }
    }
}

impl<'a> FromIterator<StatementTrace<'a>> for Statements<'a> {
    fn from_iter<I: IntoIterator<Item = StatementTrace<'a>>>(iter: I) -> Self {
        Statements::from(iter.into_iter().collect::<Vec<_>>())
    }
}

impl<'a> std::ops::Deref for Statements<'a> {
    type Target = [StatementTrace<'a>];
    fn deref(&self) -> &Self::Target {
        self.as_slice()
    }
}

impl<'s, 'a> IntoIterator for &'s Statements<'a> {
    type Item = &'s StatementTrace<'a>;
    type IntoIter = std::slice::Iter<'s, StatementTrace<'a>>;
    fn into_iter(self) -> Self::IntoIter {
        self.as_slice().iter()
    }
}

impl fmt::Debug for Statements<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

impl Serialize for Statements<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.as_slice())
    }
}

/// One layer of one authorization.
#[derive(Debug, Clone, Serialize)]
pub struct LayerTrace<'a> {
    pub layer: Layer,
    pub outcome: LayerOutcome,
    /// For a person; static text where possible, so a trace allocates little.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<Cow<'static, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    pub statements: Statements<'a>,
}

impl<'a> LayerTrace<'a> {
    pub fn new(layer: Layer, outcome: LayerOutcome) -> Self {
        LayerTrace {
            layer,
            outcome,
            note: None,
            reason: None,
            statements: Statements::new(),
        }
    }

    pub fn with_reason(mut self, reason: Reason) -> Self {
        self.reason = Some(reason);
        self
    }

    pub fn with_note(mut self, note: impl Into<Cow<'static, str>>) -> Self {
        self.note = Some(note.into());
        self
    }

    /// Statements that matched with the given effect.
    pub fn matched(&self, effect: Effect) -> impl Iterator<Item = &StatementTrace<'a>> {
        self.statements
            .iter()
            .filter(move |s| s.effect == effect && s.result == StatementResult::Matched)
    }
}

/// One authorization (one IAM action on one resource) that the request needs.
#[derive(Debug, Clone, Serialize)]
pub struct AuthorizationTrace<'a> {
    pub action: Cow<'static, str>,
    pub resource: String,
    pub purpose: Cow<'static, str>,
    pub decision: Decision,
    pub deciding_layer: Option<Layer>,
    pub layers: Vec<LayerTrace<'a>>,
}

impl<'a> AuthorizationTrace<'a> {
    pub fn layer(&self, layer: Layer) -> Option<&LayerTrace<'a>> {
        self.layers.iter().find(|l| l.layer == layer)
    }

    /// The statements that decided: matched Denies for an explicit deny, matched Allows for an
    /// allow, none for an implicit deny.
    pub fn deciding_statements(&self) -> Vec<&StatementTrace<'a>> {
        let Some(layer) = self.deciding_layer.and_then(|l| self.layer(l)) else {
            return Vec::new();
        };
        match self.decision {
            Decision::ExplicitDeny => layer.matched(Effect::Deny).collect(),
            Decision::Allowed => layer.matched(Effect::Allow).collect(),
            Decision::ImplicitDeny => Vec::new(),
        }
    }
}

/// The whole outcome of `authorize`.
#[derive(Debug, Clone)]
pub struct Outcome<'a> {
    pub decision: Decision,
    /// The HTTP status S3 would answer with (200, 403, 404 or 400).
    pub status: u16,
    /// Index of the decisive authorization: the first denied one, or the first one when all allow.
    pub deciding: usize,
    pub authorizations: Vec<AuthorizationTrace<'a>>,
    /// Parts of the World that could not be read and were evaluated as absent.
    pub unknowns: Vec<String>,
    /// Other facts worth telling (assumptions made, things not modelled).
    pub notes: Vec<String>,
}

impl<'a> Outcome<'a> {
    pub fn deciding_authorization(&self) -> Option<&AuthorizationTrace<'a>> {
        self.authorizations.get(self.deciding)
    }

    pub fn deciding_layer(&self) -> Option<Layer> {
        self.deciding_authorization().and_then(|a| a.deciding_layer)
    }
}

impl Serialize for Outcome<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("format_version", &DECISION_FORMAT_VERSION)?;
        m.serialize_entry("decision", &self.decision)?;
        m.serialize_entry("status", &self.status)?;
        let deciding = self.deciding_authorization().map(|a| {
            serde_json::json!({
                "authorization": self.deciding,
                "layer": a.deciding_layer,
                "statements": a.deciding_statements().iter().map(|st| serde_json::json!({
                    "policy": st.policy.to_string(),
                    "sid": st.sid,
                    "index": st.index,
                })).collect::<Vec<_>>(),
            })
        });
        m.serialize_entry("deciding", &deciding)?;
        m.serialize_entry("authorizations", &self.authorizations)?;
        m.serialize_entry("unknowns", &self.unknowns)?;
        m.serialize_entry("notes", &self.notes)?;
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(index: usize) -> StatementTrace<'static> {
        StatementTrace {
            policy: PolicyRef::Session,
            sid: None,
            index,
            effect: Effect::Allow,
            result: StatementResult::Matched,
            condition: None,
        }
    }

    fn indexes(s: &Statements<'_>) -> Vec<usize> {
        s.iter().map(|st| st.index).collect()
    }

    #[test]
    fn statements_share_one_buffer() {
        assert!(Statements::new().is_empty());
        // Pending statements read as none until shared.
        let pending = Statements::pending(1..3);
        assert_eq!(pending.pending_range(), Some(1..3));
        assert!(pending.is_empty());
        assert_eq!(Statements::pending(2..2).pending_range(), None);

        let all = Arc::new((0..5).map(st).collect::<Vec<_>>());
        let a = Statements::shared(&all, 0..2);
        let b = Statements::shared(&all, 2..5);
        assert_eq!(indexes(&a), [0, 1]);
        assert_eq!(indexes(&b), [2, 3, 4]);
        assert_eq!(b.pending_range(), None);
        // Clones share the buffer and read the same.
        let c = b.clone();
        assert_eq!(Arc::strong_count(&all), 4);
        assert_eq!(indexes(&c), [2, 3, 4]);
        drop((a, b, c));
        assert_eq!(Arc::strong_count(&all), 1);

        // Pushing onto a list that shares its buffer copies it out; the others are unchanged.
        let all = Arc::new((0..4).map(st).collect::<Vec<_>>());
        let (mut a, b) = (
            Statements::shared(&all, 0..2),
            Statements::shared(&all, 2..4),
        );
        a.push(st(9));
        assert_eq!(indexes(&a), [0, 1, 9]);
        assert_eq!(indexes(&b), [2, 3]);
        let mut fresh = Statements::new();
        fresh.push(st(1));
        fresh.push(st(2));
        assert_eq!(indexes(&fresh), [1, 2]);

        let owned: Statements<'_> = (7..9).map(st).collect();
        assert_eq!(indexes(&owned), [7, 8]);
        assert_eq!((&owned).into_iter().count(), 2);
        assert_eq!(
            serde_json::to_value(&owned).unwrap(),
            serde_json::to_value(owned.as_slice()).unwrap()
        );
        assert_eq!(format!("{owned:?}"), format!("{:?}", owned.as_slice()));
    }
}

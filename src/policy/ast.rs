//! The parsed ("compiled") form of an IAM JSON policy document.
//!
//! Every pattern is pre-processed once at parse time (lower-cased actions, tokenised wildcards and
//! policy variables, parsed numbers, dates and CIDRs) so that evaluating a request allocates nothing.
//! The original spelling of every element is kept beside its compiled form, so a policy prints back
//! exactly as the user wrote it (modulo whitespace and key order).

use serde_json::Value;

/// A whole policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// `Version`; `None` when the document has no `Version` element (2008 semantics).
    pub version: Option<PolicyVersion>,
    /// `Id`, when present.
    pub id: Option<String>,
    /// `Statement`, always a list here; `statement_was_object` records the original shape.
    pub statements: Vec<Statement>,
    /// True when `Statement` was a single object rather than an array (kept for printing).
    pub statement_was_object: bool,
}

/// The policy language version. Only 2012-10-17 enables policy variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyVersion {
    V2008_10_17,
    V2012_10_17,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Effect {
    Allow,
    Deny,
}

/// One statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    /// `Principal` or `NotPrincipal`; `None` when the statement has neither (identity policies).
    pub principal: Option<PrincipalClause>,
    /// `Action` or `NotAction`.
    pub action: ActionClause,
    /// `Resource` or `NotResource`; `None` when absent (only legal in trust policies).
    pub resource: Option<ResourceClause>,
    /// Every condition block, flattened: one entry per (operator, key). All must hold (AND).
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PrincipalClause {
    Principal(PrincipalSet),
    NotPrincipal(PrincipalSet),
}

/// The value of `Principal` / `NotPrincipal`.
#[derive(Debug, Clone, PartialEq)]
pub enum PrincipalSet {
    /// `"Principal": "*"`.
    Any,
    /// `"Principal": {"AWS": ..., "Service": ..., ...}`. Each list keeps the strings as written
    /// (an account id, `arn:aws:iam::ACCT:root`, a user/role/session ARN, `"*"` ...).
    /// `*_was_string` records whether the value was a bare string rather than an array.
    Map(PrincipalMap),
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct PrincipalMap {
    pub aws: Vec<String>,
    pub service: Vec<String>,
    pub canonical_user: Vec<String>,
    pub federated: Vec<String>,
    /// Which keys held a bare string rather than an array, as (key, true) in document order of
    /// the keys; used only for printing back.
    pub shapes: Vec<(PrincipalKind, bool)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalKind {
    Aws,
    Service,
    CanonicalUser,
    Federated,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ActionClause {
    Action(StringList<ActionPattern>),
    NotAction(StringList<ActionPattern>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum ResourceClause {
    Resource(StringList<Pattern>),
    NotResource(StringList<Pattern>),
}

/// A list that may have been written as a bare string (`was_string`) or as an array.
#[derive(Debug, Clone, PartialEq)]
pub struct StringList<T> {
    pub items: Vec<T>,
    pub was_string: bool,
}

/// `s3:Get*`: matched case-insensitively against a lower-case action name.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionPattern {
    /// As written.
    pub original: String,
    /// Lower-cased, used for matching (`*` any run, `?` one character).
    pub lower: String,
    /// Precomputed from `lower`, so that most matches are one comparison.
    pub shape: Shape,
}

/// The shape of a pattern, precomputed at parse time so that the common cases (an exact name, a
/// literal prefix followed by one `*`) match with a single comparison and every other pattern is
/// rejected early by its literal prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Shape {
    /// No wildcard, no variable: equality.
    Exact,
    /// Literal text then one trailing `*`: a prefix test. For ARN matching only when the literal
    /// already holds all five `:` separators (the `*` lies in the resource part).
    PrefixStar { arn_safe: bool },
    /// Anything else: the general matcher, after a literal-prefix quick reject.
    #[default]
    General,
}

/// A string pattern with `*` / `?` wildcards and (in 2012-10-17 policies) `${...}` variables,
/// tokenised at parse time. Used for `Resource` entries and for `...Like` / `Arn...` condition values.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    /// As written.
    pub original: String,
    pub tokens: Vec<Token>,
    /// Precomputed from `tokens`.
    pub shape: Shape,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Token {
    /// Literal text (already with `${*}`, `${?}`, `${$}` expanded to the literal character).
    Literal(String),
    /// `*` (any run of characters, possibly empty) — only when wildcards are enabled for the use.
    AnyRun,
    /// `?` (exactly one character) — only when wildcards are enabled for the use.
    AnyOne,
    /// `${key}` or `${key, 'default'}`; `key_lower` is lower-cased for context look-up.
    Variable {
        key_lower: String,
        default: Option<String>,
    },
}

/// One (operator, key) pair of a `Condition` block with its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub operator: Operator,
    /// The condition key as written (for printing and traces).
    pub key: String,
    /// The condition key lower-cased (for context look-up).
    pub key_lower: String,
    /// `key_lower` as a [`KnownKey`], recognised once here so that evaluation need not
    /// compare key text.
    pub key_known: Option<KnownKey>,
    /// The values as written (JSON scalars), for printing back.
    pub raw_values: Vec<Value>,
    /// True when the values were written as a single scalar rather than an array.
    pub values_were_scalar: bool,
    /// The values pre-parsed for the operator's type.
    pub values: Vec<CondValue>,
}

/// A condition operator: the base operator plus its `IfExists` suffix and set qualifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operator {
    pub base: OpKind,
    pub if_exists: bool,
    pub set: Option<SetQualifier>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetQualifier {
    ForAnyValue,
    ForAllValues,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

/// A condition value pre-parsed for its operator.
#[derive(Debug, Clone, PartialEq)]
pub enum CondValue {
    /// String operators and Arn operators: a pattern (wildcards only active for Like / Arn ops).
    Pattern(Pattern),
    Number(f64),
    /// Seconds since the Unix epoch (fractional part kept).
    Date(f64),
    Bool(bool),
    /// Decoded bytes of a base64 value.
    Binary(Vec<u8>),
    Cidr(ipnet::IpNet),
}

/// Values of a context key during evaluation. Borrowed, so that evaluation allocates nothing.
#[derive(Debug, Clone, Copy)]
pub enum ContextValue<'a> {
    One(&'a str),
    Many(&'a [String]),
}

impl<'a> ContextValue<'a> {
    /// Iterates over the values (one for `One`).
    pub fn iter(&self) -> impl Iterator<Item = &'a str> + 'a {
        let (one, many): (Option<&'a str>, &'a [String]) = match *self {
            ContextValue::One(s) => (Some(s), &[]),
            ContextValue::Many(m) => (None, m),
        };
        one.into_iter().chain(many.iter().map(String::as_str))
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            ContextValue::One(_) => 1,
            ContextValue::Many(m) => m.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Where condition keys and policy variables get their values from. Implemented by the evaluator;
/// `key_lower` is always lower-case (condition keys are case-insensitive).
pub trait ConditionContext {
    fn value(&self, key_lower: &str) -> Option<ContextValue<'_>>;

    /// [`ConditionContext::value`] for a key whose [`KnownKey`] (if it is one) the caller has
    /// already recognised. Must give the same answer as `value(key_lower)`; the default asks it.
    fn value_known(&self, key_lower: &str, known: Option<KnownKey>) -> Option<ContextValue<'_>> {
        let _ = known;
        self.value(key_lower)
    }
}

macro_rules! known_keys {
    ($($variant:ident => $name:literal,)*) => {
        /// The condition keys a request context derives from the request, the caller and the
        /// resource rather than taking them as given (global `aws:` keys, and the S3 and KMS keys
        /// of an S3 request). Recognised at parse time ([`Condition::key_known`]) so that a
        /// context answers with a `match` instead of comparing key text. Names only: what each
        /// key's value is stays the context's business.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum KnownKey {
            $($variant,)*
        }

        impl KnownKey {
            /// Every known key.
            pub const ALL: &'static [KnownKey] = &[$(KnownKey::$variant,)*];

            /// The key with this lower-case name.
            pub fn from_lower(key_lower: &str) -> Option<KnownKey> {
                match key_lower {
                    $($name => Some(KnownKey::$variant),)*
                    _ => None,
                }
            }

            /// The lower-case name.
            pub fn name(self) -> &'static str {
                match self {
                    $(KnownKey::$variant => $name,)*
                }
            }
        }
    };
}

known_keys! {
    PrincipalArn => "aws:principalarn",
    PrincipalAccount => "aws:principalaccount",
    PrincipalType => "aws:principaltype",
    UserId => "aws:userid",
    Username => "aws:username",
    PrincipalOrgId => "aws:principalorgid",
    PrincipalIsAwsService => "aws:principalisawsservice",
    PrincipalServiceName => "aws:principalservicename",
    ResourceAccount => "aws:resourceaccount",
    S3ResourceAccount => "s3:resourceaccount",
    ResourceOrgId => "aws:resourceorgid",
    RequestedRegion => "aws:requestedregion",
    SecureTransport => "aws:securetransport",
    EpochTime => "aws:epochtime",
    SourceVpce => "aws:sourcevpce",
    SourceVpc => "aws:sourcevpc",
    ViaAwsService => "aws:viaawsservice",
    CalledVia => "aws:calledvia",
    CalledViaFirst => "aws:calledviafirst",
    CalledViaLast => "aws:calledvialast",
    S3Prefix => "s3:prefix",
    S3Delimiter => "s3:delimiter",
    S3MaxKeys => "s3:max-keys",
    S3VersionId => "s3:versionid",
    S3AuthType => "s3:authtype",
    S3SignatureAge => "s3:signatureage",
    S3SignatureVersion => "s3:signatureversion",
    KmsViaService => "kms:viaservice",
    KmsCallerAccount => "kms:calleraccount",
    KmsEncryptionContextS3Arn => "kms:encryptioncontext:aws:s3:arn",
    KmsEncryptionContextKeys => "kms:encryptioncontextkeys",
}

/// A context backed by a plain list of (lower-case key, values); handy for tests.
#[derive(Debug, Clone, Default)]
pub struct MapContext {
    pub entries: Vec<(String, Vec<String>)>,
}

impl MapContext {
    pub fn with(mut self, key: &str, values: &[&str]) -> Self {
        self.entries.push((
            key.to_ascii_lowercase(),
            values.iter().map(|v| v.to_string()).collect(),
        ));
        self
    }
}

impl ConditionContext for MapContext {
    fn value(&self, key_lower: &str) -> Option<ContextValue<'_>> {
        self.entries
            .iter()
            .find(|(k, _)| k == key_lower)
            .map(|(_, v)| match v.as_slice() {
                [one] => ContextValue::One(one.as_str()),
                many => ContextValue::Many(many),
            })
    }
}

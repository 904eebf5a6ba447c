//! The request being diagnosed: who (principal, session policy and tags), what (an S3 operation
//! or a raw IAM action), on what (bucket, key, version, copy source), and how (headers, query,
//! VPC endpoint, condition context). Reads and prints the `Request` JSON of `docs/formats.md`.

mod error;
pub mod operation;
pub mod presigned_url;
pub mod principal;
pub mod requirement;

use serde_json::{Map, Value};

use crate::policy::{parse_policy_value, Policy, PolicyError};
use crate::world::json_kind;

pub use error::RequestError;
pub use operation::{
    operation, operations, suggest_operations, AlsoNeeds, DataAccess, OperationSpec, Scope,
};
pub use principal::{parse_principal, PrincipalRef, DEFAULT_SESSION_NAME};
pub use requirement::{
    borrowed_requirements, requirements, resource_arn, Requirement, RequirementRole, ResourceName,
    ResourceRef,
};

/// What the request asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// An S3 API operation from the table.
    Operation(&'static OperationSpec),
    /// A raw IAM action, as written (e.g. `s3:GetObject`).
    Action(String),
}

impl Target {
    /// The operation name or the action as written.
    pub fn name(&self) -> &str {
        match self {
            Target::Operation(spec) => spec.name,
            Target::Action(a) => a,
        }
    }

    /// The operation, when the target is one.
    pub fn operation(&self) -> Option<&'static OperationSpec> {
        match self {
            Target::Operation(spec) => Some(spec),
            Target::Action(_) => None,
        }
    }
}

/// An object named by bucket, key and optional version (the copy source).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    pub bucket: String,
    pub key: String,
    pub version_id: Option<String>,
}

impl ObjectRef {
    /// Parses `bucket/key` (optionally with a leading `/` and a `?versionId=` suffix), the form of
    /// the `x-amz-copy-source` header (not percent-decoded).
    pub fn parse(s: &str) -> Result<ObjectRef, RequestError> {
        let bad = |why: &str| RequestError::field("copy_source", format!("`{s}` {why}"));
        let trimmed = s.strip_prefix('/').unwrap_or(s);
        let (path, version_id) = match trimmed.split_once("?versionId=") {
            Some((p, v)) if !v.is_empty() => (p, Some(v.to_string())),
            Some(_) => return Err(bad("has an empty versionId")),
            None => (trimmed, None),
        };
        match path.split_once('/') {
            Some((b, k)) if !b.is_empty() && !k.is_empty() => Ok(ObjectRef {
                bucket: b.to_string(),
                key: k.to_string(),
                version_id,
            }),
            _ => Err(bad("is not of the form `bucket/key`")),
        }
    }

    fn from_value(v: &Value) -> Result<ObjectRef, RequestError> {
        match v {
            Value::String(s) => ObjectRef::parse(s),
            Value::Object(map) => {
                const ALLOWED: &[&str] = &["bucket", "key", "version_id"];
                check_fields(map, ALLOWED, "`copy_source`")?;
                let bucket = opt_string(map, "bucket", "copy_source.bucket")?
                    .ok_or(RequestError::Missing("copy_source.bucket"))?;
                let key = opt_string(map, "key", "copy_source.key")?
                    .ok_or(RequestError::Missing("copy_source.key"))?;
                if bucket.is_empty() || key.is_empty() {
                    return Err(RequestError::field(
                        "copy_source",
                        "bucket and key must not be empty",
                    ));
                }
                let version_id = opt_string(map, "version_id", "copy_source.version_id")?;
                Ok(ObjectRef {
                    bucket,
                    key,
                    version_id,
                })
            }
            _ => Err(RequestError::field(
                "copy_source",
                "must be `{\"bucket\", \"key\", \"version_id\"}` or a `bucket/key` string",
            )),
        }
    }

    fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("bucket".into(), Value::String(self.bucket.clone()));
        m.insert("key".into(), Value::String(self.key.clone()));
        if let Some(v) = &self.version_id {
            m.insert("version_id".into(), Value::String(v.clone()));
        }
        Value::Object(m)
    }
}

/// One request to diagnose.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub principal: PrincipalRef,
    pub session_policy: Option<Policy>,
    pub session_tags: Vec<(String, String)>,
    pub target: Target,
    /// Empty for service-level targets (ListBuckets).
    pub bucket: String,
    pub key: Option<String>,
    pub version_id: Option<String>,
    pub copy_source: Option<ObjectRef>,
    /// Names lower-cased, in document order.
    pub headers: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
    pub vpc_endpoint: Option<String>,
    /// Condition keys lower-cased; values as given (numbers and booleans as strings).
    pub context: Vec<(String, Vec<String>)>,
    /// Set when the request is made through a presigned URL (query-string authentication).
    pub presigned: Option<Presigned>,
}

/// A presigned URL's signature facts: the request is authorized as the signer at the time of use,
/// and only until `signed_at + expires_in` (at most 604800 s), and never after the signer's
/// temporary credentials expire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presigned {
    /// `X-Amz-Date`, as written (`20261129T120000Z` or RFC 3339).
    pub signed_at: String,
    /// `signed_at` in seconds since the Unix epoch.
    pub signed_at_epoch: i64,
    /// `X-Amz-Expires`, in seconds.
    pub expires_in: u64,
    /// When the signer's temporary credentials expire (role sessions), if known.
    pub credential_expires_at: Option<String>,
    pub credential_expires_epoch: Option<i64>,
}

/// The longest validity S3 accepts for a SigV4 presigned URL (seven days).
pub const PRESIGNED_MAX_EXPIRES: u64 = 604_800;

/// Parses `X-Amz-Date` (`20261129T120000Z`) or an RFC 3339 time into epoch seconds.
pub fn parse_time(s: &str) -> Option<i64> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp());
    }
    chrono::NaiveDateTime::parse_from_str(s, "%Y%m%dT%H%M%SZ")
        .ok()
        .map(|t| t.and_utc().timestamp())
}

impl Presigned {
    fn from_value(v: &Value) -> Result<Presigned, RequestError> {
        let Value::Object(map) = v else {
            return Err(RequestError::field(
                "presigned",
                "must be an object `{\"signed_at\", \"expires_in\", \"credential_expires_at\"}`",
            ));
        };
        check_fields(
            map,
            &["signed_at", "expires_in", "credential_expires_at"],
            "`presigned`",
        )?;
        let signed_at = opt_string(map, "signed_at", "presigned.signed_at")?
            .ok_or(RequestError::Missing("presigned.signed_at"))?;
        let signed_at_epoch = parse_time(&signed_at).ok_or_else(|| {
            RequestError::field(
                "presigned.signed_at",
                format!("`{signed_at}` is not a time (`20261129T120000Z` or RFC 3339)"),
            )
        })?;
        let expires_in = match map.get("expires_in") {
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.parse().ok(),
            _ => None,
        }
        .ok_or_else(|| {
            RequestError::field("presigned.expires_in", "must be a whole number of seconds")
        })?;
        let credential_expires_at = opt_string(
            map,
            "credential_expires_at",
            "presigned.credential_expires_at",
        )?;
        let credential_expires_epoch = match &credential_expires_at {
            Some(t) => Some(parse_time(t).ok_or_else(|| {
                RequestError::field(
                    "presigned.credential_expires_at",
                    format!("`{t}` is not a time"),
                )
            })?),
            None => None,
        };
        Ok(Presigned {
            signed_at,
            signed_at_epoch,
            expires_in,
            credential_expires_at,
            credential_expires_epoch,
        })
    }

    fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("signed_at".into(), self.signed_at.as_str().into());
        m.insert("expires_in".into(), self.expires_in.into());
        if let Some(t) = &self.credential_expires_at {
            m.insert("credential_expires_at".into(), t.as_str().into());
        }
        Value::Object(m)
    }
}

/// The top-level fields of a request document.
pub const REQUEST_FIELDS: &[&str] = &[
    "principal",
    "session_policy",
    "session_tags",
    "operation",
    "action",
    "bucket",
    "key",
    "version_id",
    "copy_source",
    "headers",
    "query",
    "vpc_endpoint",
    "context",
    "presigned",
];

fn check_fields(
    map: &Map<String, Value>,
    allowed: &[&'static str],
    where_: &str,
) -> Result<(), RequestError> {
    match map.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(RequestError::UnknownField {
            field: k.clone(),
            where_: where_.to_string(),
            allowed: allowed.to_vec(),
        }),
        None => Ok(()),
    }
}

/// A string field; `null` counts as absent.
fn opt_string(
    map: &Map<String, Value>,
    name: &str,
    label: &str,
) -> Result<Option<String>, RequestError> {
    match map.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(RequestError::field(
            label,
            format!("must be a string, not {}", json_kind(other)),
        )),
    }
}

/// A JSON string, number or boolean as a string.
fn scalar_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// An object of scalar values as (name, value) pairs; `lower` lower-cases the names.
fn string_map(
    v: Option<&Value>,
    field: &str,
    lower: bool,
) -> Result<Vec<(String, String)>, RequestError> {
    let map = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Object(m)) => m,
        Some(other) => {
            return Err(RequestError::field(
                field,
                format!("must be an object of strings, not {}", json_kind(other)),
            ))
        }
    };
    let mut out: Vec<(String, String)> = Vec::with_capacity(map.len());
    for (k, v) in map {
        let name = if lower {
            k.to_ascii_lowercase()
        } else {
            k.clone()
        };
        let value = scalar_string(v).ok_or_else(|| {
            RequestError::field(
                field,
                format!("`{k}` must be a string, not {}", json_kind(v)),
            )
        })?;
        if out.iter().any(|(n, _)| *n == name) {
            return Err(RequestError::field(field, format!("`{k}` is given twice")));
        }
        out.push((name, value));
    }
    Ok(out)
}

fn context_map(v: Option<&Value>) -> Result<Vec<(String, Vec<String>)>, RequestError> {
    let map = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Object(m)) => m,
        Some(other) => {
            return Err(RequestError::field(
                "context",
                format!(
                    "must be an object of condition keys, not {}",
                    json_kind(other)
                ),
            ))
        }
    };
    let mut out: Vec<(String, Vec<String>)> = Vec::with_capacity(map.len());
    for (k, v) in map {
        let bad = |item: &Value| {
            RequestError::field(
                "context",
                format!(
                    "`{k}` must be a string, number, boolean or an array of those, not {}",
                    json_kind(item)
                ),
            )
        };
        let values = match v {
            Value::Array(items) => items
                .iter()
                .map(|i| scalar_string(i).ok_or_else(|| bad(i)))
                .collect::<Result<Vec<_>, _>>()?,
            other => vec![scalar_string(other).ok_or_else(|| bad(other))?],
        };
        let key = k.to_ascii_lowercase();
        if out.iter().any(|(n, _)| *n == key) {
            return Err(RequestError::field(
                "context",
                format!("`{k}` is given twice (condition keys ignore case)"),
            ));
        }
        out.push((key, values));
    }
    Ok(out)
}

/// Decodes `%XX` escapes (and `+` as space) of a percent-encoded policy document.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// A session policy given as an object, a JSON string, or a percent-encoded JSON string.
fn session_policy(v: &Value) -> Result<Policy, RequestError> {
    let decoded;
    let doc = match v {
        Value::String(s) => {
            decoded = serde_json::from_str::<Value>(s)
                .ok()
                .or_else(|| percent_decode(s).and_then(|d| serde_json::from_str(&d).ok()))
                .ok_or_else(|| {
                    RequestError::SessionPolicy(PolicyError {
                        statement: None,
                        message:
                            "the string is neither a json policy document nor a percent-encoded one"
                                .into(),
                    })
                })?;
            &decoded
        }
        other => other,
    };
    parse_policy_value(doc).map_err(RequestError::SessionPolicy)
}

/// Checks a raw action: one `s3:Name` action, no wildcard.
fn check_action(a: &str) -> Result<(), RequestError> {
    let bad = |why: &str| RequestError::InvalidAction {
        action: a.to_string(),
        reason: why.to_string(),
    };
    let (service, name) = a
        .split_once(':')
        .ok_or_else(|| bad("an action is `s3:Name`, e.g. `s3:GetObject`"))?;
    if !service.eq_ignore_ascii_case("s3") {
        return Err(bad("only s3 actions can be checked (kms permissions are derived from the object's encryption)"));
    }
    if name.contains(['*', '?']) {
        return Err(bad(
            "a request performs one action; wildcards belong in policies",
        ));
    }
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(bad(
            "the action name must be letters and digits, e.g. `s3:GetObject`",
        ));
    }
    Ok(())
}

impl Request {
    /// Parses a request document from JSON text.
    pub fn from_json_str(text: &str) -> Result<Request, RequestError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| RequestError::Json(e.to_string()))?;
        Request::from_value(&value)
    }

    /// Parses a request document from a JSON value.
    pub fn from_value(value: &Value) -> Result<Request, RequestError> {
        let map = match value {
            Value::Object(m) => m,
            other => return Err(RequestError::NotAnObject(json_kind(other))),
        };
        check_fields(map, REQUEST_FIELDS, "the request")?;

        let principal = match map.get("principal") {
            None | Some(Value::Null) => return Err(RequestError::Missing("principal")),
            Some(v) => PrincipalRef::from_value(v).map_err(|e| match e {
                e @ RequestError::InvalidPrincipal { .. } => e.in_field("principal"),
                e => e,
            })?,
        };

        let target = match (map.get("operation"), map.get("action")) {
            (Some(_), Some(_)) => {
                return Err(RequestError::field(
                    "operation",
                    "give either `operation` (an s3 api name) or `action` (an iam action), not both",
                ))
            }
            (None, None) => {
                return Err(RequestError::field(
                    "operation",
                    "missing: give `operation` (an s3 api name such as `GetObject`) or `action` (an iam action such as `s3:GetObject`)",
                ))
            }
            (Some(Value::String(name)), None) => match operation(name) {
                Some(spec) => Target::Operation(spec),
                None => {
                    return Err(RequestError::UnknownOperation {
                        name: name.clone(),
                        suggestions: suggest_operations(name)
                            .into_iter()
                            .map(str::to_string)
                            .collect(),
                    })
                }
            },
            (None, Some(Value::String(a))) => {
                check_action(a)?;
                Target::Action(a.clone())
            }
            (Some(other), None) => {
                return Err(RequestError::field(
                    "operation",
                    format!("must be a string, not {}", json_kind(other)),
                ))
            }
            (None, Some(other)) => {
                return Err(RequestError::field(
                    "action",
                    format!("must be a string, not {}", json_kind(other)),
                ))
            }
        };

        let session_policy_value = match map.get("session_policy") {
            None | Some(Value::Null) => None,
            Some(v) => Some(v),
        };
        let session_tags = string_map(map.get("session_tags"), "session_tags", false)?;
        if !principal.is_session() {
            if session_policy_value.is_some() {
                return Err(RequestError::field(
                    "session_policy",
                    format!("`{principal}` is not a session; only roles, role sessions and federated users have session policies"),
                ));
            }
            if !session_tags.is_empty() {
                return Err(RequestError::field(
                    "session_tags",
                    format!("`{principal}` is not a session; only roles, role sessions and federated users have session tags"),
                ));
            }
        }
        let session_policy = session_policy_value.map(session_policy).transpose()?;

        let bucket = opt_string(map, "bucket", "bucket")?.unwrap_or_default();
        if bucket.contains('/') {
            return Err(RequestError::field(
                "bucket",
                format!("`{bucket}` is a bucket name and cannot contain `/` (put the object key in `key`)"),
            ));
        }
        let key = opt_string(map, "key", "key")?;
        if key.as_deref() == Some("") {
            return Err(RequestError::field("key", "must not be empty"));
        }
        let version_id = opt_string(map, "version_id", "version_id")?;
        let headers = string_map(map.get("headers"), "headers", true)?;
        let copy_source = match map.get("copy_source") {
            None | Some(Value::Null) => None,
            Some(v) => Some(ObjectRef::from_value(v)?),
        };
        // The source may also come as the raw header.
        let copy_source = match copy_source {
            Some(c) => Some(c),
            None => match headers.iter().find(|(k, _)| k == "x-amz-copy-source") {
                Some((_, v)) => Some(ObjectRef::parse(v)?),
                None => None,
            },
        };
        let query = string_map(map.get("query"), "query", false)?;
        let vpc_endpoint = opt_string(map, "vpc_endpoint", "vpc_endpoint")?;
        let context = context_map(map.get("context"))?;
        let presigned = match map.get("presigned") {
            None | Some(Value::Null) => None,
            Some(v) => Some(Presigned::from_value(v)?),
        };

        Ok(Request {
            principal,
            session_policy,
            session_tags,
            target,
            bucket,
            key,
            version_id,
            copy_source,
            headers,
            query,
            vpc_endpoint,
            context,
            presigned,
        })
    }

    /// Prints the request as a document that [`Request::from_value`] reads back.
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("principal".into(), self.principal.to_value());
        if let Some(p) = &self.session_policy {
            m.insert("session_policy".into(), p.to_value());
        }
        if !self.session_tags.is_empty() {
            m.insert("session_tags".into(), pairs_value(&self.session_tags));
        }
        match &self.target {
            Target::Operation(spec) => m.insert("operation".into(), spec.name.into()),
            Target::Action(a) => m.insert("action".into(), a.as_str().into()),
        };
        if !self.bucket.is_empty() {
            m.insert("bucket".into(), self.bucket.as_str().into());
        }
        if let Some(k) = &self.key {
            m.insert("key".into(), k.as_str().into());
        }
        if let Some(v) = &self.version_id {
            m.insert("version_id".into(), v.as_str().into());
        }
        if let Some(c) = &self.copy_source {
            m.insert("copy_source".into(), c.to_value());
        }
        if !self.headers.is_empty() {
            m.insert("headers".into(), pairs_value(&self.headers));
        }
        if !self.query.is_empty() {
            m.insert("query".into(), pairs_value(&self.query));
        }
        if let Some(v) = &self.vpc_endpoint {
            m.insert("vpc_endpoint".into(), v.as_str().into());
        }
        if !self.context.is_empty() {
            let ctx = self
                .context
                .iter()
                .map(|(k, vs)| {
                    let v = match vs.as_slice() {
                        [one] => Value::String(one.clone()),
                        many => Value::Array(many.iter().cloned().map(Value::String).collect()),
                    };
                    (k.clone(), v)
                })
                .collect();
            m.insert("context".into(), Value::Object(ctx));
        }
        if let Some(p) = &self.presigned {
            m.insert("presigned".into(), p.to_value());
        }
        Value::Object(m)
    }

    /// A request header by lower-case name.
    pub fn header(&self, name_lower: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name_lower))
            .map(|(_, v)| v.as_str())
    }

    /// A query parameter by name.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The values given in `context` for a condition key (any case).
    pub fn context_value(&self, key_lower: &str) -> Option<&[String]> {
        self.context
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key_lower))
            .map(|(_, v)| v.as_slice())
    }

    /// The operation, when the target is one.
    pub fn operation(&self) -> Option<&'static OperationSpec> {
        self.target.operation()
    }

    /// The authorizations this request needs (see [`requirements`]).
    pub fn requirements(&self, partition: &str) -> Result<Vec<Requirement>, RequestError> {
        requirements(self, partition)
    }
}

fn pairs_value(pairs: &[(String, String)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

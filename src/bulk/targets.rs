//! The targets file of `s3medic plan --targets FILE` (docs/formats.md, "Targets file"): the
//! accounts to read (how to connect to each and which buckets, `*` for all), and the requests
//! that must work in them. TOML, or JSON of the same shape (a `.json` file, or text starting with
//! `{`).
//!
//! ```toml
//! cloudtrail = ["trail.json"]     # optional: denied S3 requests of CloudTrail files (super::trail)
//!
//! [defaults]                      # optional: for every account that does not set its own
//! region = "us-east-1"
//!
//! [[account]]
//! id = "111122223333"
//! profile = "audit"               # the credentials (default: the SDK's chain)
//! buckets = ["*"]                 # every bucket ListBuckets returns
//!
//! [[account]]
//! id = "444455556666"
//! role_arn = "arn:aws:iam::444455556666:role/s3medic-audit"   # assumed with the credentials above
//! external_id = "x"
//! buckets = ["reports", "exports"]
//!
//! [[account]]
//! id = "777788889999"             # no `buckets`: only a principals' account, connected to read
//! profile = "users"               # its IAM data, Block Public Access and organization
//!
//! [[request]]
//! name = "reader-get"
//! principal = "arn:aws:iam::{account}:role/DataReader"        # `{account}`: the bucket's account
//! operation = "GetObject"                                     # or `operations = [...]`, or `action`
//! prefix = "reports/"                                         # or `key`
//! buckets = ["rep*"]                                          # optional: only these buckets
//! accounts = ["111122223333"]                                 # optional: only these accounts
//! ```
//!
//! How a `prefix` becomes a concrete request ([`Location`]): for an object operation
//! (GetObject, PutObject …) the key `PREFIX + probe` (`probe` defaults to `s3medic-probe`; the
//! object is not read, so the request is decided on the policies, ACL and settings of the bucket
//! and the accounts, not on one object's own encryption or ACL — give `key` for that); for
//! ListObjects, ListObjectsV2 and ListObjectVersions (`s3:ListBucket`, `s3:ListBucketVersions`)
//! the `prefix` query parameter, which sets the `s3:prefix` condition key. Any other field of a
//! request entry is a field of the Request document (docs/formats.md) and passed through.
//!
//! `[[request]]` entries may be left out when `cloudtrail` names files.
//!
//! Every error names the file, the line (TOML; JSON gives the position of syntax errors only),
//! the entry and the field.

use std::collections::BTreeSet;
use std::fmt;

use serde_json::{Map, Value};

use crate::collect::clients::valid_role_arn;
use crate::collect::ConnectOptions;
use crate::intake::cloudtrail::AccountCaller;
use crate::request::{operation, suggest_operations, Request, Scope};

/// The key under a `prefix` that an object operation is decided on, unless `probe` says otherwise.
pub const DEFAULT_PROBE: &str = "s3medic-probe";

/// The operations whose `prefix` is the ListObjects `prefix` query parameter (`s3:prefix`).
pub const LIST_OPERATIONS: &[&str] = &["ListObjects", "ListObjectsV2", "ListObjectVersions"];

/// The raw actions whose `prefix` is the `prefix` query parameter.
pub const LIST_ACTIONS: &[&str] = &["s3:ListBucket", "s3:ListBucketVersions"];

const TOP_FIELDS: &[&str] = &[
    "defaults",
    "account",
    "accounts",
    "request",
    "requests",
    "cloudtrail",
];
const DEFAULT_FIELDS: &[&str] = &["profile", "region", "endpoint_url", "max_attempts"];
const ACCOUNT_FIELDS: &[&str] = &[
    "id",
    "profile",
    "role_arn",
    "external_id",
    "region",
    "endpoint_url",
    "max_attempts",
    "buckets",
];
/// Fields of a request entry that are s3medic's own; every other field is passed to the Request.
const REQUEST_OWN_FIELDS: &[&str] = &[
    "name",
    "principal",
    "operation",
    "operations",
    "action",
    "key",
    "prefix",
    "probe",
    "accounts",
    "buckets",
];

/// A parsed, validated targets file.
#[derive(Debug, Clone, PartialEq)]
pub struct Targets {
    /// The file name, for messages.
    pub file: String,
    pub accounts: Vec<AccountSpec>,
    /// The requests, one per operation (an entry with `operations = [A, B]` gives two).
    pub requests: Vec<RequestSpec>,
    /// CloudTrail files whose denied S3 requests are targets too (`cloudtrail = [...]`), as
    /// written (relative to the targets file); [`super::trail::add_trail`] adds them.
    pub cloudtrail: Vec<String>,
}

/// One account: how to connect and which buckets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSpec {
    /// The 12-digit account id; the connection must land in this account.
    pub id: String,
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    pub max_attempts: Option<u32>,
    /// A role to assume with the profile's (or the default) credentials.
    pub role_arn: Option<String>,
    pub external_id: Option<String>,
    pub buckets: BucketSelection,
    /// The line of the entry in the file (TOML).
    pub line: Option<usize>,
}

/// Which buckets of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BucketSelection {
    /// `["*"]`: every bucket ListBuckets returns.
    All,
    /// These buckets, in file order, without duplicates; empty when the account lists none (it
    /// is read only for its principals, see [`AccountSpec::principals_only`]).
    Named(Vec<String>),
}

/// What a request entry acts on, resolved against its operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A bucket-level request (no key).
    Bucket,
    /// The object `key`.
    Key(String),
    /// An object operation on a key under `prefix`: the key `prefix + probe`.
    UnderPrefix { prefix: String, probe: String },
    /// A list operation with the `prefix` query parameter (`s3:prefix`).
    ListPrefix(String),
}

/// The operation or raw action of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verb {
    Operation(String),
    Action(String),
}

/// One request that must work, for every bucket it selects.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestSpec {
    /// Unique in the file: `name` (with `.OPERATION` when the entry has several operations), or
    /// `request-N` (N: the entry's position, from 1).
    pub name: String,
    /// The principal; `{account}` is replaced by the bucket's account id.
    pub principal: String,
    pub verb: Verb,
    pub location: Location,
    /// Only buckets of these accounts (None: every account).
    pub accounts: Option<Vec<String>>,
    /// Only buckets whose name matches one of these patterns (`*`, `?`; None: every bucket).
    pub buckets: Option<Vec<String>>,
    /// The other Request fields (headers, query, context, session_policy …), as given.
    pub extra: Map<String, Value>,
    pub line: Option<usize>,
    /// A CloudTrail caller named only by account and principal id ([`super::trail`]): `principal`
    /// is that account, and the runner looks the id up in the bucket's World
    /// ([`super::trail::resolve_caller`]). None for requests of the targets file.
    pub account_caller: Option<AccountCaller>,
}

impl AccountSpec {
    /// Whether the account has no buckets of its own to check (no `buckets`, or `[]`): it is
    /// connected only to read its principals' IAM data, Block Public Access and organization.
    pub fn principals_only(&self) -> bool {
        matches!(&self.buckets, BucketSelection::Named(n) if n.is_empty())
    }

    /// The connection options of this account: its own fields, else `base` (the command line).
    /// The role (and external id) is the account's own only.
    pub fn connect_options(&self, base: &ConnectOptions) -> ConnectOptions {
        ConnectOptions {
            profile: self.profile.clone().or_else(|| base.profile.clone()),
            region: self.region.clone().or_else(|| base.region.clone()),
            endpoint_url: self
                .endpoint_url
                .clone()
                .or_else(|| base.endpoint_url.clone()),
            max_attempts: self.max_attempts.or(base.max_attempts),
            role_arn: self.role_arn.clone(),
            external_id: self.external_id.clone(),
        }
    }
}

impl RequestSpec {
    /// Whether this request is checked on `bucket` of `account`.
    pub fn applies_to(&self, account: &str, bucket: &str) -> bool {
        self.accounts
            .as_ref()
            .is_none_or(|a| a.iter().any(|x| x == account))
            && self.buckets.as_ref().is_none_or(|pats| {
                pats.iter()
                    .any(|p| crate::policy::wildcard_match(p, bucket))
            })
    }
}

/// A problem with the targets file: the file, the line when known, the entry and field, and what
/// is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct TargetsError {
    pub file: String,
    pub line: Option<usize>,
    /// `account 2`, `request 1 (reader-get)`, `defaults`; None for the file as a whole.
    pub entry: Option<String>,
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for TargetsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "targets file `{}`", self.file)?;
        if let Some(l) = self.line {
            write!(f, ", line {l}")?;
        }
        write!(f, ": ")?;
        if let Some(e) = &self.entry {
            write!(f, "{e}: ")?;
        }
        if let Some(x) = &self.field {
            write!(f, "`{x}`: ")?;
        }
        write!(f, "{}", self.message)
    }
}

/// The file's text and where its entries are, for messages.
struct Source<'a> {
    file: &'a str,
    text: &'a str,
    /// Byte offset of each `account` / `request` entry and of `defaults` (TOML only).
    accounts: Vec<usize>,
    requests: Vec<usize>,
    defaults: Option<usize>,
    /// A CloudTrail file is given besides the targets file: `[[request]]` entries are optional.
    trail_given: bool,
}

/// Which entry of the file an error is about.
#[derive(Debug, Clone, Copy)]
enum Entry {
    Defaults,
    Account(usize),
    Request(usize),
}

impl Source<'_> {
    fn line_of_offset(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    fn entry_offset(&self, entry: Entry) -> Option<usize> {
        match entry {
            Entry::Defaults => self.defaults,
            Entry::Account(i) => self.accounts.get(i).copied(),
            Entry::Request(i) => self.requests.get(i).copied(),
        }
    }

    /// The line of `field` inside the entry (the first `field =` line from the entry's start up
    /// to the next table header), else the entry's own line.
    fn line(&self, entry: Entry, field: Option<&str>) -> Option<usize> {
        let start = self.entry_offset(entry)?;
        let first = self.line_of_offset(start);
        let Some(field) = field else {
            return Some(first);
        };
        let top = field.split(['.', '[']).next().unwrap_or(field);
        for (i, l) in self.text.lines().enumerate().skip(first - 1) {
            let t = l.trim_start();
            if i + 1 > first && t.starts_with('[') {
                break;
            }
            let rest = t
                .strip_prefix(top)
                .or_else(|| t.strip_prefix(&format!("\"{top}\"")));
            if rest.is_some_and(|r| r.trim_start().starts_with('=')) {
                return Some(i + 1);
            }
        }
        Some(first)
    }

    fn err(&self, entry: Option<Entry>, field: Option<&str>, message: String) -> TargetsError {
        TargetsError {
            file: self.file.to_string(),
            line: entry.and_then(|e| self.line(e, field)),
            entry: entry.map(|e| match e {
                Entry::Defaults => "defaults".to_string(),
                Entry::Account(i) => format!("account {}", i + 1),
                Entry::Request(i) => format!("request {}", i + 1),
            }),
            field: field.map(str::to_string),
            message,
        }
    }
}

/// Whether the file is JSON: a `.json` name, or text whose first non-blank character is `{`.
fn is_json(file: &str, text: &str) -> bool {
    file.to_ascii_lowercase().ends_with(".json") || text.trim_start().starts_with('{')
}

/// Parses and validates a targets file's `text` (`file` names it in messages).
pub fn parse_targets(file: &str, text: &str) -> Result<Targets, TargetsError> {
    parse_targets_with(file, text, false)
}

/// [`parse_targets`]; with `trail_given` (a CloudTrail file given besides the targets file) the
/// file needs no `[[request]]` entries.
pub fn parse_targets_with(
    file: &str,
    text: &str,
    trail_given: bool,
) -> Result<Targets, TargetsError> {
    let whole = |line: Option<usize>, message: String| TargetsError {
        file: file.to_string(),
        line,
        entry: None,
        field: None,
        message,
    };
    let mut src = Source {
        file,
        text,
        accounts: Vec::new(),
        requests: Vec::new(),
        defaults: None,
        trail_given,
    };
    let value: Value = if is_json(file, text) {
        serde_json::from_str(text).map_err(|e| {
            whole(
                Some(e.line()),
                format!("not valid JSON: {e} (column {})", e.column()),
            )
        })?
    } else {
        let table: toml::Table = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| src.line_of_offset(s.start));
            whole(line, format!("not valid TOML: {}", e.message()))
        })?;
        toml_offsets(text, &mut src);
        serde_json::to_value(table).map_err(|e| whole(None, format!("cannot read: {e}")))?
    };
    from_value(&src, &value)
}

/// Records where the TOML entries start (the same file parsed again, for spans).
fn toml_offsets(text: &str, src: &mut Source<'_>) {
    #[derive(serde::Deserialize)]
    struct Spans {
        #[serde(default, alias = "accounts")]
        account: Option<Vec<toml::Spanned<toml::Value>>>,
        #[serde(default, alias = "requests")]
        request: Option<Vec<toml::Spanned<toml::Value>>>,
        #[serde(default)]
        defaults: Option<toml::Spanned<toml::Value>>,
    }
    if let Ok(s) = toml::from_str::<Spans>(text) {
        src.accounts = s
            .account
            .unwrap_or_default()
            .iter()
            .map(|e| e.span().start)
            .collect();
        src.requests = s
            .request
            .unwrap_or_default()
            .iter()
            .map(|e| e.span().start)
            .collect();
        src.defaults = s.defaults.map(|d| d.span().start);
    }
}

/// A JSON value's type for messages, in TOML's words (an object is a table).
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Object(_) => "a table",
        other => crate::world::json_kind(other),
    }
}

/// The entries under `key` or its plural alias.
fn entries<'v>(
    src: &Source<'_>,
    top: &'v Map<String, Value>,
    key: &str,
) -> Result<&'v [Value], TargetsError> {
    let plural = format!("{key}s");
    let v = match (top.get(key), top.get(&plural)) {
        (Some(_), Some(_)) => {
            return Err(src.err(
                None,
                Some(key),
                format!("give `{key}` or `{plural}`, not both"),
            ))
        }
        (Some(v), None) | (None, Some(v)) => v,
        (None, None) => {
            return Err(src.err(
                None,
                None,
                format!("no `{key}` entries (add at least one `[[{key}]]`)"),
            ))
        }
    };
    match v {
        Value::Array(a) if !a.is_empty() => Ok(a),
        Value::Array(_) => Err(src.err(
            None,
            Some(key),
            format!("no `{key}` entries (add at least one `[[{key}]]`)"),
        )),
        other => Err(src.err(
            None,
            Some(key),
            format!("must be an array of tables, not {}", kind(other)),
        )),
    }
}

fn check_fields(
    src: &Source<'_>,
    entry: Entry,
    m: &Map<String, Value>,
    allowed: &[&str],
) -> Result<(), TargetsError> {
    for k in m.keys() {
        if !allowed.contains(&k.as_str()) {
            return Err(src.err(
                Some(entry),
                Some(k),
                format!("unknown field; allowed: {}", allowed.join(", ")),
            ));
        }
    }
    Ok(())
}

fn opt_str(
    src: &Source<'_>,
    entry: Entry,
    m: &Map<String, Value>,
    field: &str,
) -> Result<Option<String>, TargetsError> {
    match m.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
        Some(Value::String(_)) => Err(src.err(Some(entry), Some(field), "is empty".into())),
        Some(other) => Err(src.err(
            Some(entry),
            Some(field),
            format!("must be a string, not {}", kind(other)),
        )),
    }
}

fn opt_str_list(
    src: &Source<'_>,
    entry: Entry,
    m: &Map<String, Value>,
    field: &str,
) -> Result<Option<Vec<String>>, TargetsError> {
    match m.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => {
            let mut out = Vec::with_capacity(a.len());
            for (i, v) in a.iter().enumerate() {
                match v {
                    Value::String(s) if !s.is_empty() => out.push(s.clone()),
                    other => {
                        return Err(src.err(
                            Some(entry),
                            Some(field),
                            format!("item {} must be a non-empty string, not {}", i + 1, {
                                if other.as_str().is_some() {
                                    "an empty string"
                                } else {
                                    kind(other)
                                }
                            }),
                        ))
                    }
                }
            }
            if out.is_empty() {
                return Err(src.err(Some(entry), Some(field), "is empty".into()));
            }
            Ok(Some(out))
        }
        Some(other) => Err(src.err(
            Some(entry),
            Some(field),
            format!("must be an array of strings, not {}", kind(other)),
        )),
    }
}

fn opt_attempts(
    src: &Source<'_>,
    entry: Entry,
    m: &Map<String, Value>,
) -> Result<Option<u32>, TargetsError> {
    match m.get("max_attempts") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(k @ 1..=20) => Ok(Some(k as u32)),
            _ => Err(src.err(
                Some(entry),
                Some("max_attempts"),
                format!("must be a whole number from 1 to 20, not {n}"),
            )),
        },
        Some(other) => Err(src.err(
            Some(entry),
            Some("max_attempts"),
            format!("must be a number, not {}", kind(other)),
        )),
    }
}

fn check_endpoint(
    src: &Source<'_>,
    entry: Entry,
    url: &Option<String>,
) -> Result<(), TargetsError> {
    match url {
        Some(u) if !(u.starts_with("http://") || u.starts_with("https://")) => Err(src.err(
            Some(entry),
            Some("endpoint_url"),
            format!("`{u}` must start with http:// or https://"),
        )),
        _ => Ok(()),
    }
}

/// Whether `name` is a valid S3 bucket name (3–63 characters of a–z, 0–9, `.` and `-`, starting
/// and ending with a letter or digit).
pub fn valid_bucket_name(name: &str) -> bool {
    let b = name.as_bytes();
    (3..=63).contains(&b.len())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'.' || *c == b'-')
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn from_value(src: &Source<'_>, value: &Value) -> Result<Targets, TargetsError> {
    let top = value
        .as_object()
        .ok_or_else(|| src.err(None, None, format!("must be a table, not {}", kind(value))))?;
    for k in top.keys() {
        if !TOP_FIELDS.contains(&k.as_str()) {
            return Err(src.err(
                None,
                Some(k),
                "unknown top-level key; allowed: defaults, account, request, cloudtrail".into(),
            ));
        }
    }
    let defaults = match top.get("defaults") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => {
            check_fields(src, Entry::Defaults, m, DEFAULT_FIELDS)?;
            m.clone()
        }
        Some(other) => {
            return Err(src.err(
                None,
                Some("defaults"),
                format!("must be a table, not {}", kind(other)),
            ))
        }
    };
    let d_profile = opt_str(src, Entry::Defaults, &defaults, "profile")?;
    let d_region = opt_str(src, Entry::Defaults, &defaults, "region")?;
    let d_endpoint = opt_str(src, Entry::Defaults, &defaults, "endpoint_url")?;
    check_endpoint(src, Entry::Defaults, &d_endpoint)?;
    let d_attempts = opt_attempts(src, Entry::Defaults, &defaults)?;

    let mut accounts: Vec<AccountSpec> = Vec::new();
    for (i, v) in entries(src, top, "account")?.iter().enumerate() {
        let e = Entry::Account(i);
        let m = v
            .as_object()
            .ok_or_else(|| src.err(Some(e), None, format!("must be a table, not {}", kind(v))))?;
        check_fields(src, e, m, ACCOUNT_FIELDS)?;
        let id = match m.get("id") {
            Some(Value::String(s)) if is_account_id(s) => s.clone(),
            Some(Value::Number(n)) => {
                return Err(src.err(
                    Some(e),
                    Some("id"),
                    format!("must be a string of 12 digits: write `id = \"{n:0>12}\"` (quoted keeps leading zeros)"),
                ))
            }
            Some(other) => {
                return Err(src.err(
                    Some(e),
                    Some("id"),
                    format!(
                        "must be a 12-digit account id, not {}",
                        other
                            .as_str()
                            .map(|s| format!("`{s}`"))
                            .unwrap_or_else(|| kind(other).to_string())
                    ),
                ))
            }
            None => return Err(src.err(Some(e), Some("id"), "missing".into())),
        };
        if let Some(j) = accounts.iter().position(|a| a.id == id) {
            return Err(src.err(
                Some(e),
                Some("id"),
                format!("account `{id}` is already listed as account {}", j + 1),
            ));
        }
        let role_arn = opt_str(src, e, m, "role_arn")?;
        if let Some(r) = &role_arn {
            if !valid_role_arn(r) {
                return Err(src.err(
                    Some(e),
                    Some("role_arn"),
                    format!("`{r}` is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)"),
                ));
            }
            let role_account = r.split(':').nth(4).unwrap_or("");
            if role_account != id {
                return Err(src.err(
                    Some(e),
                    Some("role_arn"),
                    format!(
                        "the role is in account {role_account}, but the entry is for account {id}: assuming it would read account {role_account}"
                    ),
                ));
            }
        }
        let external_id = opt_str(src, e, m, "external_id")?;
        if external_id.is_some() && role_arn.is_none() {
            return Err(src.err(
                Some(e),
                Some("external_id"),
                "needs `role_arn` (the external id is given when assuming the role)".into(),
            ));
        }
        let endpoint_url = opt_str(src, e, m, "endpoint_url")?.or(d_endpoint.clone());
        check_endpoint(src, e, &endpoint_url)?;
        // No `buckets` (or `[]`): the account is read only for its principals.
        let names = match m.get("buckets") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) if a.is_empty() => Vec::new(),
            Some(_) => opt_str_list(src, e, m, "buckets")?.unwrap_or_default(),
        };
        let buckets = if names.iter().any(|n| n == "*") {
            if names.len() > 1 {
                return Err(src.err(
                    Some(e),
                    Some("buckets"),
                    "`*` (every bucket) must be alone".into(),
                ));
            }
            BucketSelection::All
        } else {
            let mut seen = BTreeSet::new();
            for n in &names {
                if !valid_bucket_name(n) {
                    return Err(src.err(
                        Some(e),
                        Some("buckets"),
                        format!("`{n}` is not a valid bucket name"),
                    ));
                }
                if !seen.insert(n.as_str()) {
                    return Err(src.err(
                        Some(e),
                        Some("buckets"),
                        format!("`{n}` is listed twice"),
                    ));
                }
            }
            BucketSelection::Named(names)
        };
        accounts.push(AccountSpec {
            id,
            profile: opt_str(src, e, m, "profile")?.or(d_profile.clone()),
            region: opt_str(src, e, m, "region")?.or(d_region.clone()),
            endpoint_url,
            max_attempts: opt_attempts(src, e, m)?.or(d_attempts),
            role_arn,
            external_id,
            buckets,
            line: src.line(e, None),
        });
    }

    let cloudtrail = match top.get("cloudtrail") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(f)) if !f.is_empty() => vec![f.clone()],
        Some(_) => opt_str_list_top(src, top, "cloudtrail")?,
    };
    // A CloudTrail file adds its buckets to the accounts: without one, some account must list
    // buckets.
    let trail = !cloudtrail.is_empty() || src.trail_given;
    if !trail && accounts.iter().all(AccountSpec::principals_only) {
        return Err(src.err(
            Some(Entry::Account(0)),
            Some("buckets"),
            "no account lists `buckets`: nothing to check (list bucket names, or `[\"*\"]` for every bucket of an account; an account without `buckets` is read only for its principals)".into(),
        ));
    }
    // With CloudTrail files, `[[request]]` entries are optional: the trail gives requests.
    let request_entries: &[Value] =
        if trail && top.get("request").or_else(|| top.get("requests")).is_none() {
            &[]
        } else {
            entries(src, top, "request")?
        };
    let mut requests: Vec<RequestSpec> = Vec::new();
    for (i, v) in request_entries.iter().enumerate() {
        let e = Entry::Request(i);
        let m = v
            .as_object()
            .ok_or_else(|| src.err(Some(e), None, format!("must be a table, not {}", kind(v))))?;
        for spec in request_entry(src, e, i, m, &accounts, trail)? {
            if let Some(prev) = requests.iter().find(|r| r.name == spec.name) {
                return Err(src.err(
                    Some(e),
                    Some("name"),
                    format!(
                        "`{}` is already the name of a request{}",
                        spec.name,
                        prev.line
                            .map(|l| format!(" (line {l})"))
                            .unwrap_or_default()
                    ),
                ));
            }
            requests.push(spec);
        }
    }
    Ok(Targets {
        file: src.file.to_string(),
        accounts,
        requests,
        cloudtrail,
    })
}

/// A top-level list of non-empty strings.
fn opt_str_list_top(
    src: &Source<'_>,
    top: &Map<String, Value>,
    field: &str,
) -> Result<Vec<String>, TargetsError> {
    match top.get(field) {
        Some(Value::Array(a)) if !a.is_empty() => a
            .iter()
            .map(|v| match v {
                Value::String(s) if !s.is_empty() => Ok(s.clone()),
                other => Err(src.err(
                    None,
                    Some(field),
                    format!("must list file names, not {}", kind(other)),
                )),
            })
            .collect(),
        _ => Err(src.err(
            None,
            Some(field),
            "must be a file name or a non-empty list of file names".into(),
        )),
    }
}

/// Whether an operation name or raw action takes `prefix` as the ListObjects query parameter.
fn is_list(verb: &Verb) -> bool {
    match verb {
        Verb::Operation(o) => LIST_OPERATIONS.iter().any(|l| l.eq_ignore_ascii_case(o)),
        Verb::Action(a) => LIST_ACTIONS.iter().any(|l| l.eq_ignore_ascii_case(a)),
    }
}

/// Resolves where the request acts (see [`Location`]); `Err` names the field and what is wrong.
fn resolve_location(
    verb: &Verb,
    key: &Option<String>,
    prefix: &Option<String>,
    probe: &str,
) -> Result<Location, (&'static str, String)> {
    let (name, scope) = match verb {
        Verb::Operation(o) => {
            let spec = operation(o).ok_or_else(|| {
                let s = suggest_operations(o);
                let hint = if s.is_empty() {
                    " (`s3medic operations` lists them)".to_string()
                } else {
                    format!(" (did you mean {}?)", s.join(", "))
                };
                ("operation", format!("unknown operation `{o}`{hint}"))
            })?;
            (spec.name.to_string(), spec.scope)
        }
        Verb::Action(a) => (
            a.clone(),
            crate::request::operation::action_scope(a, key.is_some() || prefix.is_some()),
        ),
    };
    if scope == Scope::Service {
        return Err((
            "operation",
            format!("`{name}` is not a request on a bucket; bulk targets are buckets"),
        ));
    }
    match (key, prefix) {
        (Some(_), Some(_)) => Err(("prefix", "give `key` or `prefix`, not both".into())),
        (Some(k), None) => match scope {
            Scope::Object => Ok(Location::Key(k.clone())),
            _ => Err((
                "key",
                format!("`{name}` acts on the bucket, not on an object: remove `key`"),
            )),
        },
        (None, Some(p)) if is_list(verb) => Ok(Location::ListPrefix(p.clone())),
        (None, Some(p)) => match scope {
            Scope::Object => Ok(Location::UnderPrefix {
                prefix: p.clone(),
                probe: probe.to_string(),
            }),
            _ => Err((
                "prefix",
                format!(
                    "`{name}` acts on the bucket: `prefix` applies to object operations (a key under it) and to {} (the `prefix` query parameter)",
                    LIST_OPERATIONS.join(", ")
                ),
            )),
        },
        (None, None) => match (scope, verb) {
            (Scope::Object, Verb::Operation(_)) => Err((
                "key",
                format!("`{name}` acts on an object: give `key` or `prefix`"),
            )),
            _ => Ok(Location::Bucket),
        },
    }
}

/// The request specs of one `[[request]]` entry (one per operation).
fn request_entry(
    src: &Source<'_>,
    e: Entry,
    index: usize,
    m: &Map<String, Value>,
    accounts: &[AccountSpec],
    trail: bool,
) -> Result<Vec<RequestSpec>, TargetsError> {
    if m.contains_key("bucket") {
        return Err(src.err(
            Some(e),
            Some("bucket"),
            "the bucket comes from the accounts' `buckets`; to check only some, give `buckets = [\"NAME\", \"PATTERN*\"]`".into(),
        ));
    }
    let name = opt_str(src, e, m, "name")?;
    if let Some(n) = &name {
        if !n
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(src.err(
                Some(e),
                Some("name"),
                format!(
                    "`{n}` may only hold letters, digits, `-`, `_` and `.` (it names plan files)"
                ),
            ));
        }
    }
    let principal = opt_str(src, e, m, "principal")?
        .ok_or_else(|| src.err(Some(e), Some("principal"), "missing".into()))?;
    let operation = opt_str(src, e, m, "operation")?;
    let operations = opt_str_list(src, e, m, "operations")?;
    let action = opt_str(src, e, m, "action")?;
    let verbs: Vec<Verb> = match (operation, operations, action) {
        (Some(o), None, None) => vec![Verb::Operation(o)],
        (None, Some(os), None) => {
            let mut v: Vec<Verb> = Vec::new();
            for o in os {
                if v.contains(&Verb::Operation(o.clone())) {
                    return Err(src.err(
                        Some(e),
                        Some("operations"),
                        format!("`{o}` is listed twice"),
                    ));
                }
                v.push(Verb::Operation(o));
            }
            v
        }
        (None, None, Some(a)) => vec![Verb::Action(a)],
        (None, None, None) => {
            return Err(src.err(
                Some(e),
                Some("operation"),
                "missing: give `operation`, `operations` or `action`".into(),
            ))
        }
        _ => {
            return Err(src.err(
                Some(e),
                Some("operation"),
                "give exactly one of `operation`, `operations` and `action`".into(),
            ))
        }
    };
    let key = opt_str(src, e, m, "key")?;
    let prefix = opt_str(src, e, m, "prefix")?;
    let probe = opt_str(src, e, m, "probe")?;
    if probe.is_some() && prefix.is_none() {
        return Err(src.err(
            Some(e),
            Some("probe"),
            "needs `prefix` (the key checked is PREFIX + probe)".into(),
        ));
    }
    let probe = probe.unwrap_or_else(|| DEFAULT_PROBE.to_string());
    let acct_filter = opt_str_list(src, e, m, "accounts")?;
    if let Some(list) = &acct_filter {
        for a in list {
            match accounts.iter().find(|x| &x.id == a) {
                None => {
                    return Err(src.err(
                        Some(e),
                        Some("accounts"),
                        format!("account `{a}` is not one of the file's accounts"),
                    ))
                }
                // Without a CloudTrail file (which may add buckets), nothing would be checked.
                Some(x) if x.principals_only() && !trail => {
                    return Err(src.err(
                        Some(e),
                        Some("accounts"),
                        format!("account `{a}` lists no `buckets` (it is read only for its principals): the request would check nothing there"),
                    ))
                }
                Some(_) => {}
            }
        }
    }
    let bucket_filter = opt_str_list(src, e, m, "buckets")?;
    let extra: Map<String, Value> = m
        .iter()
        .filter(|(k, _)| !REQUEST_OWN_FIELDS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let base = name
        .clone()
        .unwrap_or_else(|| format!("request-{}", index + 1));
    let many = verbs.len() > 1;
    let mut out = Vec::with_capacity(verbs.len());
    for verb in verbs {
        let location = resolve_location(&verb, &key, &prefix, &probe)
            .map_err(|(field, msg)| src.err(Some(e), Some(field), msg))?;
        if matches!(location, Location::ListPrefix(_))
            && extra
                .get("query")
                .and_then(Value::as_object)
                .is_some_and(|q| q.contains_key("prefix"))
        {
            return Err(src.err(
                Some(e),
                Some("query"),
                "`query.prefix` and `prefix` both set the list prefix: keep one".into(),
            ));
        }
        let name = if many {
            let op = match &verb {
                Verb::Operation(o) | Verb::Action(o) => o.clone(),
            };
            format!("{base}.{op}")
        } else {
            base.clone()
        };
        let spec = RequestSpec {
            name,
            principal: principal.clone(),
            verb,
            location,
            accounts: acct_filter.clone(),
            buckets: bucket_filter.clone(),
            extra: extra.clone(),
            line: src.line(e, None),
            account_caller: None,
        };
        // Validate the rest of the request now, on a sample account and bucket.
        let sample_account = acct_filter
            .as_ref()
            .and_then(|a| a.first().cloned())
            .or_else(|| accounts.first().map(|a| a.id.clone()))
            .unwrap_or_else(|| "111122223333".to_string());
        let value = super::expand::request_value(&spec, &sample_account, "s3medic-sample-bucket");
        if let Err(err) = Request::from_value(&value) {
            let field = request_error_field(&err.to_string(), m);
            return Err(src.err(Some(e), field.as_deref(), err.to_string()));
        }
        out.push(spec);
    }
    Ok(out)
}

/// The entry's field a request error message names first (`` `headers`: … ``), when it is one.
fn request_error_field(message: &str, m: &Map<String, Value>) -> Option<String> {
    let start = message.find('`')? + 1;
    let end = start + message[start..].find('`')?;
    let named = &message[start..end];
    let top = named.split(['.', '[']).next().unwrap_or(named);
    m.contains_key(top).then(|| top.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Targets, TargetsError> {
        parse_targets("targets.toml", text)
    }

    const GOOD: &str = r#"
[defaults]
region = "eu-west-1"

[[account]]
id = "111122223333"
profile = "audit"
buckets = ["*"]

[[account]]
id = "444455556666"
role_arn = "arn:aws:iam::444455556666:role/s3medic-audit"
external_id = "x-1"
region = "us-east-1"
buckets = ["reports", "exports"]

[[request]]
name = "reader"
principal = "arn:aws:iam::{account}:role/DataReader"
operations = ["ListObjectsV2", "GetObject"]
prefix = "reports/"

[[request]]
principal = "arn:aws:iam::111122223333:user/alice"
operation = "PutObject"
key = "in/x.csv"
buckets = ["rep*"]
accounts = ["444455556666"]
headers = { "x-amz-acl" = "bucket-owner-full-control" }
"#;

    #[test]
    fn parses_accounts_requests_and_defaults() {
        let t = parse(GOOD).expect("parses");
        assert_eq!(t.accounts.len(), 2);
        let a = &t.accounts[0];
        assert_eq!(a.id, "111122223333");
        assert_eq!(a.buckets, BucketSelection::All);
        assert_eq!(a.region.as_deref(), Some("eu-west-1"));
        assert_eq!(a.line, Some(5));
        let b = &t.accounts[1];
        assert_eq!(b.region.as_deref(), Some("us-east-1"));
        assert_eq!(
            b.buckets,
            BucketSelection::Named(vec!["reports".into(), "exports".into()])
        );
        assert_eq!(b.external_id.as_deref(), Some("x-1"));
        let names: Vec<&str> = t.requests.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            ["reader.ListObjectsV2", "reader.GetObject", "request-2"]
        );
        assert_eq!(
            t.requests[0].location,
            Location::ListPrefix("reports/".into())
        );
        assert_eq!(
            t.requests[1].location,
            Location::UnderPrefix {
                prefix: "reports/".into(),
                probe: DEFAULT_PROBE.into()
            }
        );
        assert_eq!(t.requests[2].location, Location::Key("in/x.csv".into()));
        assert!(t.requests[2].extra.contains_key("headers"));
        assert!(t.requests[2].applies_to("444455556666", "reports"));
        assert!(!t.requests[2].applies_to("444455556666", "exports"));
        assert!(!t.requests[2].applies_to("111122223333", "reports"));
        assert!(t.requests[0].applies_to("111122223333", "anything"));
    }

    #[test]
    fn json_of_the_same_shape_parses_the_same() {
        let json = r#"{
  "defaults": {"region": "eu-west-1"},
  "account": [
    {"id": "111122223333", "profile": "audit", "buckets": ["*"]},
    {"id": "444455556666", "role_arn": "arn:aws:iam::444455556666:role/s3medic-audit",
     "external_id": "x-1", "region": "us-east-1", "buckets": ["reports", "exports"]}
  ],
  "requests": [
    {"name": "reader", "principal": "arn:aws:iam::{account}:role/DataReader",
     "operations": ["ListObjectsV2", "GetObject"], "prefix": "reports/"},
    {"principal": "arn:aws:iam::111122223333:user/alice", "operation": "PutObject",
     "key": "in/x.csv", "buckets": ["rep*"], "accounts": ["444455556666"],
     "headers": {"x-amz-acl": "bucket-owner-full-control"}}
  ]
}"#;
        let mut j = parse_targets("t.json", json).expect("json parses");
        let mut t = parse(GOOD).expect("toml parses");
        for a in j.accounts.iter_mut().chain(t.accounts.iter_mut()) {
            a.line = None;
        }
        for r in j.requests.iter_mut().chain(t.requests.iter_mut()) {
            r.line = None;
        }
        j.file = t.file.clone();
        assert_eq!(j, t);
    }

    fn err(text: &str) -> TargetsError {
        parse(text).expect_err("must be rejected")
    }

    const ACCT: &str = "[[account]]\nid = \"111122223333\"\nbuckets = [\"b-one\"]\n";

    #[test]
    fn errors_name_file_line_entry_and_field() {
        let e = err(&format!(
            "{ACCT}\n[[account]]\nid = \"444455556666\"\nbuckets = [\"x\"]\n\n[[request]]\nprincipal = \"anonymous\"\noperation = \"GetObject\"\nkey = \"k\"\n"
        ));
        assert_eq!(e.file, "targets.toml");
        assert_eq!(e.line, Some(7));
        assert_eq!(e.entry.as_deref(), Some("account 2"));
        assert_eq!(e.field.as_deref(), Some("buckets"));
        assert!(e.message.contains("`x` is not a valid bucket name"), "{e}");
        let text = e.to_string();
        assert!(
            text.starts_with("targets file `targets.toml`, line 7: account 2: `buckets`:"),
            "{text}"
        );
    }

    #[test]
    fn syntax_errors_give_the_line() {
        let e = err("[[account]]\nid = \"111122223333\"\nbuckets = [\"a\"\n");
        assert!(e.line.is_some(), "{e}");
        assert!(e.message.starts_with("not valid TOML"), "{e}");
        let e = parse_targets("t.json", "{\n  \"account\": [\n    {\"id\": }\n  ]\n}")
            .expect_err("bad json");
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.message.starts_with("not valid JSON"), "{e}");
    }

    #[test]
    fn account_errors() {
        let req =
            "\n[[request]]\nprincipal = \"anonymous\"\noperation = \"GetObject\"\nkey = \"k\"\n";
        let cases: &[(&str, &str, &str)] = &[
            ("id = 111122223333\nbuckets = [\"b-one\"]", "id", "must be a string of 12 digits"),
            ("id = \"1234\"\nbuckets = [\"b-one\"]", "id", "12-digit account id"),
            ("buckets = [\"b-one\"]", "id", "missing"),
            ("id = \"111122223333\"", "buckets", "no account lists `buckets`"),
            ("id = \"111122223333\"\nbuckets = [\"*\", \"b-one\"]", "buckets", "must be alone"),
            ("id = \"111122223333\"\nbuckets = [\"b-one\", \"b-one\"]", "buckets", "listed twice"),
            ("id = \"111122223333\"\nbuckets = []", "buckets", "no account lists `buckets`"),
            ("id = \"111122223333\"\nbuckets = [\"b-one\", \"\"]", "buckets", "item 2 must be a non-empty string"),
            ("id = \"111122223333\"\nbuckets = \"b-one\"", "buckets", "must be an array of strings"),
            ("id = \"111122223333\"\nrole_arn = \"arn:aws:iam::444455556666:role/r\"\nbuckets = [\"b-one\"]", "role_arn", "the role is in account 444455556666"),
            ("id = \"111122223333\"\nrole_arn = \"arn:aws:iam::111122223333:user/u\"\nbuckets = [\"b-one\"]", "role_arn", "not an IAM role ARN"),
            ("id = \"111122223333\"\nexternal_id = \"x\"\nbuckets = [\"b-one\"]", "external_id", "needs `role_arn`"),
            ("id = \"111122223333\"\nendpoint_url = \"127.0.0.1:5000\"\nbuckets = [\"b-one\"]", "endpoint_url", "http://"),
            ("id = \"111122223333\"\nmax_attempts = 0\nbuckets = [\"b-one\"]", "max_attempts", "1 to 20"),
            ("id = \"111122223333\"\nrolearn = \"x\"\nbuckets = [\"b-one\"]", "rolearn", "unknown field"),
        ];
        for (body, field, msg) in cases {
            let e = err(&format!("[[account]]\n{body}\n{req}"));
            assert_eq!(e.entry.as_deref(), Some("account 1"), "{body}: {e}");
            assert_eq!(e.field.as_deref(), Some(*field), "{body}: {e}");
            assert!(e.message.contains(msg), "{body}: {e}");
            assert!(e.line.is_some(), "{body}: {e}");
        }
        // The line is the field's own line when the field is written.
        let e = err(&format!(
            "[[account]]\nid = \"111122223333\"\n\nbuckets = [\"*\", \"b-one\"]\n{req}"
        ));
        assert_eq!(e.line, Some(4), "{e}");
        let e = err(&format!(
            "{ACCT}\n[[account]]\nid = \"111122223333\"\nbuckets = [\"b\"]\n{req}"
        ));
        assert!(e.message.contains("already listed as account 1"), "{e}");
    }

    #[test]
    fn an_account_without_buckets_is_read_only_for_its_principals() {
        let req = "\n[[request]]\nprincipal = \"arn:aws:iam::777788889999:role/R\"\noperation = \"GetObject\"\nkey = \"k\"\n";
        for users in [
            "[[account]]\nid = \"777788889999\"\nprofile = \"users\"\n",
            "[[account]]\nid = \"777788889999\"\nprofile = \"users\"\nbuckets = []\n",
        ] {
            let t = parse(&format!("{ACCT}\n{users}{req}")).expect("parses");
            assert_eq!(t.accounts.len(), 2);
            let u = &t.accounts[1];
            assert_eq!(u.buckets, BucketSelection::Named(Vec::new()));
            assert!(u.principals_only());
            assert!(!t.accounts[0].principals_only());
            assert_eq!(u.profile.as_deref(), Some("users"));
            assert_eq!(u.line, Some(5));
            // Connected like any other account.
            let o = u.connect_options(&ConnectOptions::default());
            assert_eq!(o.profile.as_deref(), Some("users"));
        }
        // Its values are still checked, naming the line and field.
        let e = err(&format!(
            "{ACCT}\n[[account]]\nid = \"777788889999\"\nbuckets = [\"Bad_Name\"]\n{req}"
        ));
        assert_eq!(
            (e.entry.as_deref(), e.field.as_deref(), e.line),
            (Some("account 2"), Some("buckets"), Some(7)),
            "{e}"
        );
        let e = err(&format!(
            "{ACCT}\n[[account]]\nid = \"777788889999\"\nbuckets = [1]\n{req}"
        ));
        assert_eq!(e.field.as_deref(), Some("buckets"), "{e}");
        assert!(
            e.message
                .contains("item 1 must be a non-empty string, not a number"),
            "{e}"
        );
        // A request only for that account would check nothing.
        let e = err(&format!(
            "{ACCT}\n[[account]]\nid = \"777788889999\"\n{req}accounts = [\"777788889999\"]\n"
        ));
        assert_eq!(e.entry.as_deref(), Some("request 1"), "{e}");
        assert_eq!(e.field.as_deref(), Some("accounts"), "{e}");
        assert_eq!(e.line, Some(12), "{e}");
        assert!(e.message.contains("lists no `buckets`"), "{e}");
        // With a CloudTrail file (which adds buckets to the accounts) no account needs buckets.
        let t = parse_targets_with("targets.toml", "[[account]]\nid = \"777788889999\"\n", true)
            .expect("a trail gives the buckets");
        assert!(t.accounts[0].principals_only());
        let t = parse("cloudtrail = [\"t.json\"]\n[[account]]\nid = \"777788889999\"\n")
            .expect("a trail gives the buckets");
        assert!(t.requests.is_empty());
    }

    #[test]
    fn request_errors() {
        let cases: &[(&str, &str, &str)] = &[
            ("operation = \"GetObject\"\nkey = \"k\"", "principal", "missing"),
            ("principal = \"anonymous\"\nkey = \"k\"", "operation", "give `operation`"),
            ("principal = \"anonymous\"\noperation = \"GetObject\"\naction = \"s3:GetObject\"\nkey = \"k\"", "operation", "exactly one"),
            ("principal = \"anonymous\"\noperation = \"GetObjekt\"\nkey = \"k\"", "operation", "did you mean GetObject"),
            ("principal = \"anonymous\"\noperation = \"GetObject\"", "key", "give `key` or `prefix`"),
            ("principal = \"anonymous\"\noperation = \"GetObject\"\nkey = \"k\"\nprefix = \"p/\"", "prefix", "not both"),
            ("principal = \"anonymous\"\noperation = \"GetBucketPolicy\"\nprefix = \"p/\"", "prefix", "acts on the bucket"),
            ("principal = \"anonymous\"\noperation = \"ListObjectsV2\"\nkey = \"k\"", "key", "remove `key`"),
            ("principal = \"anonymous\"\noperation = \"ListBuckets\"", "operation", "not a request on a bucket"),
            ("principal = \"anonymous\"\noperation = \"GetObject\"\nkey = \"k\"\nprobe = \"x\"", "probe", "needs `prefix`"),
            ("principal = \"anonymous\"\noperation = \"GetObject\"\nkey = \"k\"\nbucket = \"b\"", "bucket", "comes from the accounts"),
            ("principal = \"anonymous\"\noperation = \"GetObject\"\nkey = \"k\"\naccounts = [\"999999999999\"]", "accounts", "not one of the file's accounts"),
            ("principal = \"anonymous\"\noperation = \"ListObjectsV2\"\nprefix = \"p/\"\nquery = { prefix = \"q/\" }", "query", "keep one"),
            ("principal = \"not a principal\"\noperation = \"GetObject\"\nkey = \"k\"", "principal", "not a valid principal"),
            ("principal = \"anonymous\"\noperation = \"GetObject\"\nkey = \"k\"\nheaders = 3", "headers", "headers"),
            ("principal = \"anonymous\"\noperation = \"GetObject\"\nkey = \"k\"\nname = \"a b\"", "name", "may only hold"),
        ];
        for (body, field, msg) in cases {
            let e = err(&format!("{ACCT}\n[[request]]\n{body}\n"));
            assert_eq!(e.entry.as_deref(), Some("request 1"), "{body}: {e}");
            assert_eq!(e.field.as_deref(), Some(*field), "{body}: {e}");
            assert!(e.message.contains(msg), "{body}: {e}");
            assert!(e.line.is_some_and(|l| l >= 5), "{body}: {e}");
        }
        let e = err(&format!(
            "{ACCT}\n[[request]]\nname = \"r\"\nprincipal = \"anonymous\"\noperation = \"GetObject\"\nkey = \"k\"\n\n[[request]]\nname = \"r\"\nprincipal = \"anonymous\"\noperation = \"PutObject\"\nkey = \"k\"\n"
        ));
        assert_eq!(e.entry.as_deref(), Some("request 2"));
        assert_eq!(e.line, Some(12), "{e}");
        assert!(
            e.message.contains("already the name of a request (line 5)"),
            "{e}"
        );
    }

    #[test]
    fn file_level_errors() {
        let e =
            err("[[request]]\nprincipal = \"anonymous\"\noperation = \"GetObject\"\nkey = \"k\"\n");
        assert!(e.message.contains("no `account` entries"), "{e}");
        let e = err(ACCT);
        assert!(e.message.contains("no `request` entries"), "{e}");
        let e = err(&format!("{ACCT}\nbucketz = 1\n"));
        // `bucketz` after a table header belongs to that table.
        assert_eq!(e.field.as_deref(), Some("bucketz"), "{e}");
        let e = err(&format!("target = 1\n{ACCT}"));
        assert!(e.message.contains("unknown top-level key"), "{e}");
        let e = err(&format!("[defaults]\nrole_arn = \"x\"\n{ACCT}"));
        assert_eq!(e.entry.as_deref(), Some("defaults"), "{e}");
        assert_eq!(e.line, Some(2), "{e}");
    }

    #[test]
    fn connect_options_prefer_the_account_then_the_command_line() {
        let t = parse(GOOD).expect("parses");
        let base = ConnectOptions {
            profile: Some("cli".into()),
            region: Some("ap-south-1".into()),
            endpoint_url: Some("http://127.0.0.1:1".into()),
            max_attempts: Some(2),
            role_arn: Some("arn:aws:iam::999999999999:role/ignored".into()),
            external_id: None,
        };
        let a = t.accounts[0].connect_options(&base);
        assert_eq!(a.profile.as_deref(), Some("audit"));
        assert_eq!(a.region.as_deref(), Some("eu-west-1"));
        assert_eq!(a.endpoint_url.as_deref(), Some("http://127.0.0.1:1"));
        assert_eq!(a.max_attempts, Some(2));
        assert_eq!(a.role_arn, None);
        let b = t.accounts[1].connect_options(&base);
        assert_eq!(b.profile.as_deref(), Some("cli"));
        assert_eq!(
            b.role_arn.as_deref(),
            Some("arn:aws:iam::444455556666:role/s3medic-audit")
        );
        assert_eq!(b.external_id.as_deref(), Some("x-1"));
    }

    #[test]
    fn bucket_names() {
        for ok in ["abc", "my.bucket-1", "a1b"] {
            assert!(valid_bucket_name(ok), "{ok}");
        }
        for bad in ["ab", "Abc", "-abc", "abc-", "a_b", &"a".repeat(64)] {
            assert!(!valid_bucket_name(bad), "{bad}");
        }
    }
}

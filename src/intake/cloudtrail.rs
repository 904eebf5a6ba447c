//! CloudTrail records → the denied S3 requests they show, grouped.
//!
//! Accepted input: a CloudTrail log file (`{"Records": [...]}`), a JSON array of events, one event
//! per line (JSON lines), a single event, or `aws cloudtrail lookup-events` output (`{"Events":
//! [{"CloudTrailEvent": "<event as a JSON string>"}]}`). Gzip-compressed log files are refused
//! with a message saying to decompress them.
//!
//! Kept: events with `eventSource` `s3.amazonaws.com` and `errorCode` `AccessDenied` (any case) —
//! the code S3 returns when a policy, ACL or setting denies. Other error codes (`AllAccessDisabled`,
//! `AccountProblem`, `InvalidAccessKeyId`, `SignatureDoesNotMatch`, `NoSuchKey`, ...) are not
//! access decisions s3medic can explain and are only counted.
//!
//! Each kept event becomes a [`RequestDraft`]: the caller from `userIdentity` (IAMUser,
//! AssumedRole — its session ARN, else its `sessionContext.sessionIssuer` role —, Role,
//! FederatedUser, Root, AWSAccount — the account id only, `anonymous` for unsigned requests —,
//! AWSService — its `invokedBy` service principal —; a missing `userIdentity` or type `Anonymous` is
//! anonymous), the operation from `eventName` (CloudTrail's names mapped to the operation table;
//! `ListObjects` with `list-type` 2 is ListObjectsV2), bucket, key, version id, copy source
//! (`x-amz-copy-source`), ACL / encryption / requester-pays headers and list parameters from
//! `requestParameters` (else bucket and key from `resources`), `aws:SourceIp` from
//! `sourceIPAddress` (`aws:VpcSourceIp` when the request came through `vpcEndpointId`),
//! `aws:SecureTransport` `true` when `tlsDetails` is present (`false` when it is absent from an
//! event of version 1.08 or later, which records it for every TLS request; not set for older
//! events), and `aws:CurrentTime` from `eventTime`.
//!
//! Events that make the same request (same caller, operation, bucket, key, version, copy source,
//! headers, query, VPC endpoint, source IP and TLS — everything but the time) form one
//! [`EventGroup`] with a count and the first and last time; the group's request is evaluated at
//! the last time. Copies of one request delivered to two accounts (same `requestID`) count once.
//! A copy's bucket owner and recipient account are kept with the request. Groups are ordered by
//! first time.
//!
//! A caller named only by account (`AWSAccount`) is the account, with a note; its principal id is
//! kept ([`AccountCaller`]), and groups of different principal ids stay apart. With a World,
//! [`AccountCaller::resolve`] (pure) finds the user or role session of that id in the account's
//! IAM data.

use std::collections::HashMap;
use std::net::IpAddr;

use serde_json::{Map, Value};

use super::error::CloudTrailError;
use super::error_message::{self, resolve_operation, ErrorReport};
use super::{split_s3_arn, RequestDraft};
use crate::request::{parse_principal, parse_time};
use crate::world::{json_kind as kind, Part, World};

/// The event source of S3 events.
pub const S3_EVENT_SOURCE: &str = "s3.amazonaws.com";

/// Error codes that are access decisions (see the module header).
pub const DENIED_CODES: &[&str] = &["AccessDenied"];

/// One group of identical denied requests.
#[derive(Debug, Clone, PartialEq)]
pub struct EventGroup {
    /// The request; `aws:CurrentTime` is the last time.
    pub draft: RequestDraft,
    /// How many distinct requests (by `requestID`) the group holds.
    pub count: usize,
    pub first_time: Option<String>,
    pub last_time: Option<String>,
    /// `eventID`s, in input order.
    pub event_ids: Vec<String>,
    /// The `errorCode` (as written in the first event).
    pub error_code: String,
    /// The first `errorMessage`, as written.
    pub error_message: Option<String>,
    /// The first `errorMessage`, read (an enhanced message names the policy type that denied).
    pub report: Option<ErrorReport>,
    /// The bucket owner's account when the event names it (`resources[].accountId` of the bucket).
    pub bucket_owner: Option<String>,
    /// The accounts the events were delivered to (`recipientAccountId`).
    pub recipient_accounts: Vec<String>,
    /// Facts worth telling about how the request was read.
    pub notes: Vec<String>,
    /// The caller when CloudTrail names it only by account and principal id (`AWSAccount`): the
    /// request's principal is the account; [`AccountCaller::resolve`] finds the caller in a World.
    pub account_caller: Option<AccountCaller>,
}

impl EventGroup {
    /// A one-line summary: `3 × arn:... GetObject s3://b/k (2026-... – 2026-...)`.
    pub fn summary(&self) -> String {
        let d = &self.draft;
        let mut s = format!(
            "{} × {} {}",
            self.count,
            d.principal.as_deref().unwrap_or("?"),
            d.target_name().unwrap_or("?")
        );
        if let Some(b) = &d.bucket {
            s.push_str(&format!(" s3://{b}"));
            if let Some(k) = &d.key {
                s.push_str(&format!("/{k}"));
            }
        }
        match (&self.first_time, &self.last_time) {
            (Some(f), Some(l)) if f != l => s.push_str(&format!(" ({f} – {l})")),
            (Some(f), _) => s.push_str(&format!(" ({f})")),
            _ => {}
        }
        s
    }

    /// The group's facts besides the request, as JSON (the `requests` document of docs/formats.md).
    pub fn meta(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("count".into(), self.count.into());
        m.insert("first_time".into(), opt(&self.first_time));
        m.insert("last_time".into(), opt(&self.last_time));
        m.insert(
            "event_ids".into(),
            Value::Array(self.event_ids.iter().cloned().map(Value::String).collect()),
        );
        m.insert("error_code".into(), self.error_code.clone().into());
        m.insert("error_message".into(), opt(&self.error_message));
        m.insert("bucket_owner".into(), opt(&self.bucket_owner));
        m.insert(
            "recipient_accounts".into(),
            Value::Array(
                self.recipient_accounts
                    .iter()
                    .cloned()
                    .map(Value::String)
                    .collect(),
            ),
        );
        m.insert(
            "notes".into(),
            Value::Array(self.notes.iter().cloned().map(Value::String).collect()),
        );
        m
    }
}

/// A caller CloudTrail names only by its account and principal id (`userIdentity` type
/// `AWSAccount`, typical of the bucket owner's copy of a cross-account event): `AIDA...` for an
/// IAM user, `AROA...:SESSION` for a role session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountCaller {
    pub account: String,
    /// As written in `userIdentity.principalId`.
    pub principal_id: String,
}

impl AccountCaller {
    /// The note of a caller evaluated as its account (no World consulted).
    pub fn note(&self) -> String {
        format!(
            "CloudTrail names only the caller's account {} (principal id {}): evaluated as that account; give the caller's ARN with `--principal` to be exact",
            self.account, self.principal_id
        )
    }

    /// The caller's ARN, found through the World's IAM data of its account: the user whose
    /// `UserId` is the principal id, or for `ROLEID:SESSION` the session
    /// `arn:P:sts::ACCOUNT:assumed-role/ROLE/SESSION` of the role whose `RoleId` is `ROLEID` (a
    /// role id without a session gives the role ARN). `Err` says why it cannot be found. Pure.
    pub fn resolve(&self, world: &World) -> Result<String, String> {
        let a = &self.account;
        let (id, session) = match self.principal_id.split_once(':') {
            Some((id, s)) => (id, Some(s)),
            None => (self.principal_id.as_str(), None),
        };
        let account = world
            .account(a)
            .ok_or_else(|| format!("the World has no account {a}"))?;
        let iam = match &account.iam {
            Part::Known(iam) => iam,
            Part::Absent => return Err(format!("the World holds no IAM data of account {a}")),
            Part::Unknown(why) => {
                return Err(format!("the IAM data of account {a} is unknown ({why})"))
            }
        };
        let arn = if let Some(u) = iam.users.iter().find(|u| u.user_id.as_deref() == Some(id)) {
            if session.is_some() {
                return Err(format!(
                    "`{id}` is the id of user `{}`, but a session name follows it (only role sessions have one)",
                    u.arn
                ));
            }
            u.arn.clone()
        } else if let Some(r) = iam.roles.iter().find(|r| r.role_id.as_deref() == Some(id)) {
            match session {
                None => r.arn.clone(),
                Some(s) => {
                    let partition = r.arn.split(':').nth(1).unwrap_or("aws");
                    format!("arn:{partition}:sts::{a}:assumed-role/{}/{s}", r.name)
                }
            }
        } else {
            return Err(format!(
                "no user or role of account {a} in the World has the id `{id}`"
            ));
        };
        parse_principal(&arn)
            .map(|_| arn.clone())
            .map_err(|e| format!("`{arn}` is not a principal s3medic can evaluate: {e}"))
    }

    /// The note of a caller found as `arn` by [`AccountCaller::resolve`].
    pub fn resolved_note(&self, arn: &str) -> String {
        format!(
            "CloudTrail names only the caller's account {} (principal id {}): the World's IAM data gives `{arn}`; evaluated as that caller",
            self.account, self.principal_id
        )
    }

    /// The note of a caller [`AccountCaller::resolve`] could not find (`why`).
    pub fn unresolved_note(&self, why: &str) -> String {
        format!(
            "CloudTrail names only the caller's account {} (principal id {}): evaluated as that account, as the principal id cannot be resolved: {why}; give the caller's ARN with `--principal` to be exact",
            self.account, self.principal_id
        )
    }

    /// The caller in `world`: its ARN when [`AccountCaller::resolve`] finds it, and the note that
    /// replaces [`AccountCaller::note`].
    pub fn in_world(&self, world: &World) -> (Option<String>, String) {
        match self.resolve(world) {
            Ok(arn) => {
                let note = self.resolved_note(&arn);
                (Some(arn), note)
            }
            Err(why) => (None, self.unresolved_note(&why)),
        }
    }
}

fn opt(v: &Option<String>) -> Value {
    v.clone().map_or(Value::Null, Value::String)
}

/// A denied S3 event that could not become a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// 1-based position of the event in the input.
    pub index: usize,
    pub event_id: Option<String>,
    pub reason: String,
}

/// Everything read from the input.
#[derive(Debug, Clone, PartialEq)]
pub struct TrailRequests {
    /// The denied S3 requests, grouped.
    pub groups: Vec<EventGroup>,
    /// How many events the input holds.
    pub events: usize,
    /// Events of other services.
    pub not_s3: usize,
    /// S3 events without an error.
    pub succeeded: usize,
    /// S3 events with another error code, by code (sorted by code).
    pub other_errors: Vec<(String, usize)>,
    /// Denied S3 events that could not become a request.
    pub skipped: Vec<Skipped>,
}

impl TrailRequests {
    /// One line: `12 events: 5 denied S3 requests in 2 groups, 4 not S3, 2 succeeded, ...`.
    pub fn summary(&self) -> String {
        let denied: usize = self.groups.iter().map(|g| g.count).sum();
        let mut parts = vec![format!(
            "{} denied S3 request(s) in {} group(s)",
            denied,
            self.groups.len()
        )];
        if self.not_s3 > 0 {
            parts.push(format!("{} not S3", self.not_s3));
        }
        if self.succeeded > 0 {
            parts.push(format!("{} S3 succeeded", self.succeeded));
        }
        for (code, n) in &self.other_errors {
            parts.push(format!("{n} {code} (not an access decision)"));
        }
        if !self.skipped.is_empty() {
            parts.push(format!("{} unreadable", self.skipped.len()));
        }
        format!("{} event(s): {}", self.events, parts.join(", "))
    }
}

/// Reads CloudTrail input given as bytes (a file's content).
pub fn parse_bytes(bytes: &[u8]) -> Result<TrailRequests, CloudTrailError> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return Err(CloudTrailError::Compressed);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| CloudTrailError::NotText)?;
    parse(text)
}

/// Reads CloudTrail input given as text.
pub fn parse(text: &str) -> Result<TrailRequests, CloudTrailError> {
    let events = events(text)?;
    Ok(group(&events))
}

/// The events of the input, in order, each a JSON object.
pub fn events(text: &str) -> Result<Vec<Map<String, Value>>, CloudTrailError> {
    let text = text.trim_start_matches('\u{feff}').trim();
    if text.is_empty() {
        return Err(CloudTrailError::Empty);
    }
    let list: Vec<Value> = match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(items)) => items,
        Ok(Value::Object(mut m)) => {
            if let Some(records) = m.remove("Records") {
                match records {
                    Value::Array(items) => items,
                    other => {
                        return Err(CloudTrailError::NotCloudTrail {
                            what: format!("`Records` is {}, not an array", kind(&other)),
                        })
                    }
                }
            } else if let Some(evs) = m.remove("Events") {
                match evs {
                    Value::Array(items) => items,
                    other => {
                        return Err(CloudTrailError::NotCloudTrail {
                            what: format!("`Events` is {}, not an array", kind(&other)),
                        })
                    }
                }
            } else if m.contains_key("eventName") || m.contains_key("CloudTrailEvent") {
                vec![Value::Object(m)]
            } else {
                let keys: Vec<&str> = m.keys().take(5).map(String::as_str).collect();
                return Err(CloudTrailError::NotCloudTrail {
                    what: format!("an object with keys {}", keys.join(", ")),
                });
            }
        }
        Ok(other) => {
            return Err(CloudTrailError::NotCloudTrail {
                what: format!("the document is {}", kind(&other)),
            })
        }
        Err(whole) => {
            // JSON lines: one event per non-empty line.
            if !text.contains('\n') {
                return Err(CloudTrailError::NotJson {
                    line: whole.line(),
                    why: whole.to_string(),
                });
            }
            let mut items = Vec::new();
            for (i, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() {
                    continue;
                }
                let v =
                    serde_json::from_str::<Value>(line).map_err(|e| CloudTrailError::NotJson {
                        line: i + 1,
                        why: e.to_string(),
                    })?;
                items.push(v);
            }
            items
        }
    };
    let mut out = Vec::with_capacity(list.len());
    for (i, item) in list.into_iter().enumerate() {
        let Value::Object(mut m) = item else {
            return Err(CloudTrailError::BadEvent {
                index: i + 1,
                why: format!("{}, not an object", kind(&item)),
            });
        };
        // `lookup-events`: the event is a JSON string in `CloudTrailEvent`.
        if let Some(inner) = m.remove("CloudTrailEvent") {
            m = match inner {
                Value::String(s) => match serde_json::from_str::<Value>(&s) {
                    Ok(Value::Object(e)) => e,
                    Ok(other) => {
                        return Err(CloudTrailError::BadEvent {
                            index: i + 1,
                            why: format!("`CloudTrailEvent` holds {}, not an object", kind(&other)),
                        })
                    }
                    Err(e) => {
                        return Err(CloudTrailError::BadEvent {
                            index: i + 1,
                            why: format!("`CloudTrailEvent` is not JSON: {e}"),
                        })
                    }
                },
                Value::Object(e) => e,
                other => {
                    return Err(CloudTrailError::BadEvent {
                        index: i + 1,
                        why: format!("`CloudTrailEvent` is {}", kind(&other)),
                    })
                }
            };
        }
        out.push(m);
    }
    Ok(out)
}

/// A string field, or the first string of an array field (CloudTrail writes `Host` both ways).
fn text_field<'v>(m: &'v Map<String, Value>, name: &str) -> Option<&'v str> {
    match m.get(name)? {
        Value::String(s) if !s.is_empty() => Some(s),
        Value::Array(items) => items.iter().find_map(|i| i.as_str()),
        _ => None,
    }
}

fn scalar_field(m: &Map<String, Value>, name: &str) -> Option<String> {
    match m.get(name)? {
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => text_field(m, name).map(str::to_string),
    }
}

/// What one kept event says besides the request.
struct EventFacts {
    time: Option<String>,
    event_id: Option<String>,
    request_id: Option<String>,
    error_message: Option<String>,
    bucket_owner: Option<String>,
    recipient: Option<String>,
    notes: Vec<String>,
    account_caller: Option<AccountCaller>,
}

/// The caller of an event; `by_id` gets the account and principal id of an `AWSAccount` caller.
fn caller(
    ev: &Map<String, Value>,
    notes: &mut Vec<String>,
    by_id: &mut Option<AccountCaller>,
) -> Result<String, String> {
    let ui = match ev.get("userIdentity") {
        None | Some(Value::Null) => return Ok("anonymous".into()),
        Some(Value::Object(u)) => u,
        Some(other) => return Err(format!("`userIdentity` is {}", kind(other))),
    };
    let arn = text_field(ui, "arn");
    let account = text_field(ui, "accountId");
    let ty = text_field(ui, "type");
    match ty {
        None | Some("Anonymous") => Ok(arn.unwrap_or("anonymous").to_string()),
        Some("IAMUser") => match (arn, account, text_field(ui, "userName")) {
            (Some(a), _, _) => Ok(a.to_string()),
            (None, Some(acct), Some(name)) => Ok(format!("arn:aws:iam::{acct}:user/{name}")),
            _ => Err("an IAMUser `userIdentity` without `arn`".into()),
        },
        Some("AssumedRole") => {
            if let Some(a) = arn {
                return Ok(a.to_string());
            }
            let issuer = ui
                .get("sessionContext")
                .and_then(Value::as_object)
                .and_then(|c| c.get("sessionIssuer"))
                .and_then(Value::as_object)
                .and_then(|i| text_field(i, "arn"));
            match issuer {
                Some(role) => {
                    notes.push(format!(
                        "the session is not named; evaluated as a session of {role}"
                    ));
                    Ok(role.to_string())
                }
                None => Err("an AssumedRole `userIdentity` without `arn` or session issuer".into()),
            }
        }
        Some("Role" | "FederatedUser") => arn
            .map(str::to_string)
            .ok_or_else(|| format!("a {} `userIdentity` without `arn`", ty.unwrap_or(""))),
        Some("Root") => arn
            .or(account)
            .map(str::to_string)
            .ok_or_else(|| "a Root `userIdentity` without `arn` or `accountId`".into()),
        Some("AWSAccount") => match account {
            Some(a) if a.eq_ignore_ascii_case("anonymous") => Ok("anonymous".into()),
            Some(a) => {
                match text_field(ui, "principalId").filter(|p| *p != a) {
                    Some(pid) => {
                        let c = AccountCaller {
                            account: a.to_string(),
                            principal_id: pid.to_string(),
                        };
                        notes.push(c.note());
                        *by_id = Some(c);
                    }
                    None => notes.push(format!(
                        "CloudTrail names only the caller's account {a}: evaluated as that account; give the caller's ARN with `--principal` to be exact"
                    )),
                }
                Ok(a.to_string())
            }
            None => Err("an AWSAccount `userIdentity` without `accountId`".into()),
        },
        Some("AWSService") => text_field(ui, "invokedBy")
            .map(str::to_string)
            .ok_or_else(|| "an AWSService `userIdentity` without `invokedBy`".into()),
        Some(other) => Err(format!(
            "caller type `{other}` is not supported (IAMUser, AssumedRole, Role, FederatedUser, Root, AWSAccount, AWSService, anonymous)"
        )),
    }
}

/// The request of one denied S3 event.
fn event_request(ev: &Map<String, Value>) -> Result<(RequestDraft, EventFacts), String> {
    let mut notes = Vec::new();
    let mut by_id = None;
    let mut d = RequestDraft {
        principal: Some(caller(ev, &mut notes, &mut by_id)?),
        ..Default::default()
    };
    let name = text_field(ev, "eventName").ok_or("no `eventName`")?;
    let empty = Map::new();
    let params = ev
        .get("requestParameters")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let list_v2 = text_field(params, "list-type") == Some("2")
        || params.get("list-type").and_then(Value::as_u64) == Some(2);
    let op = if name == "ListObjects" && list_v2 {
        Some("ListObjectsV2")
    } else {
        resolve_operation(name)
    };
    d.operation = Some(
        op.ok_or_else(|| format!("`eventName` `{name}` is not an S3 operation s3medic knows"))?
            .to_string(),
    );

    d.bucket = text_field(params, "bucketName").map(str::to_string);
    d.key = text_field(params, "key").map(str::to_string);
    let mut bucket_owner = None;
    if let Some(Value::Array(resources)) = ev.get("resources") {
        for r in resources.iter().filter_map(Value::as_object) {
            let ty = text_field(r, "type").unwrap_or("");
            let Some((b, k)) = text_field(r, "ARN").and_then(split_s3_arn) else {
                continue;
            };
            match ty {
                "AWS::S3::Bucket" => {
                    if d.bucket.is_none() {
                        d.bucket = Some(b.clone());
                    }
                    if d.bucket.as_deref() == Some(b.as_str()) {
                        bucket_owner = text_field(r, "accountId").map(str::to_string);
                    }
                }
                "AWS::S3::Object"
                    if d.key.is_none() && d.bucket.as_deref().is_none_or(|x| x == b) =>
                {
                    d.bucket = Some(b);
                    d.key = k;
                }
                _ => {}
            }
        }
    }
    d.version_id = text_field(params, "versionId").map(str::to_string);
    if let Some(src) = text_field(params, "x-amz-copy-source") {
        let decoded = percent_encoding::percent_decode_str(src)
            .decode_utf8()
            .map(|c| c.into_owned())
            .unwrap_or_else(|_| src.to_string());
        d.copy_source = Some(decoded.trim_start_matches('/').to_string());
    }
    for h in [
        "x-amz-acl",
        "x-amz-server-side-encryption",
        "x-amz-server-side-encryption-aws-kms-key-id",
        "x-amz-request-payer",
    ] {
        if let Some(v) = text_field(params, h) {
            d.set_header(h, v);
        }
    }
    for q in ["prefix", "delimiter", "max-keys"] {
        if let Some(v) = scalar_field(params, q) {
            d.set_query(q, v);
        }
    }
    d.vpc_endpoint = text_field(ev, "vpcEndpointId").map(str::to_string);
    if let Some(ip) = text_field(ev, "sourceIPAddress").filter(|s| s.parse::<IpAddr>().is_ok()) {
        let key = if d.vpc_endpoint.is_some() {
            "aws:VpcSourceIp"
        } else {
            "aws:SourceIp"
        };
        d.set_context(key, ip);
    }
    match ev.get("tlsDetails") {
        Some(Value::Object(_)) => d.set_context("aws:SecureTransport", "true"),
        _ if version_at_least(text_field(ev, "eventVersion"), (1, 8)) => {
            notes.push("no `tlsDetails`: the request was made without TLS (HTTP)".into());
            d.set_context("aws:SecureTransport", "false");
        }
        _ => notes.push(
            "the event predates `tlsDetails` (eventVersion < 1.08): evaluated as HTTPS".into(),
        ),
    }
    let facts = EventFacts {
        time: text_field(ev, "eventTime").map(str::to_string),
        event_id: text_field(ev, "eventID").map(str::to_string),
        request_id: text_field(ev, "requestID").map(str::to_string),
        error_message: text_field(ev, "errorMessage").map(str::to_string),
        bucket_owner,
        recipient: text_field(ev, "recipientAccountId").map(str::to_string),
        notes,
        account_caller: by_id,
    };
    Ok((d, facts))
}

/// How precisely a caller string names the caller: an ARN over an account id over nothing.
fn caller_rank(p: Option<&str>) -> u8 {
    match p {
        Some(p) if p.starts_with("arn:") => 2,
        Some(_) => 1,
        None => 0,
    }
}

fn version_at_least(v: Option<&str>, want: (u32, u32)) -> bool {
    let Some((major, minor)) = v.and_then(|v| v.split_once('.')) else {
        return false;
    };
    match (major.parse::<u32>(), minor.parse::<u32>()) {
        (Ok(a), Ok(b)) => (a, b) >= want,
        _ => false,
    }
}

/// Keeps the denied S3 events of `events` and groups them.
pub fn group(events: &[Map<String, Value>]) -> TrailRequests {
    let mut out = TrailRequests {
        groups: Vec::new(),
        events: events.len(),
        not_s3: 0,
        succeeded: 0,
        other_errors: Vec::new(),
        skipped: Vec::new(),
    };
    let mut other: HashMap<String, usize> = HashMap::new();
    // Group key → (index in out.groups, request ids seen, first/last epoch).
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut seen: Vec<Vec<String>> = Vec::new();
    let mut span: Vec<(Option<i64>, Option<i64>)> = Vec::new();
    // First pass: the denied S3 events and their requests.
    let mut kept: Vec<(usize, &str, RequestDraft, EventFacts)> = Vec::new();
    for (i, ev) in events.iter().enumerate() {
        if text_field(ev, "eventSource") != Some(S3_EVENT_SOURCE) {
            out.not_s3 += 1;
            continue;
        }
        let code = match text_field(ev, "errorCode") {
            None => {
                out.succeeded += 1;
                continue;
            }
            Some(c) => c,
        };
        if !DENIED_CODES.iter().any(|d| d.eq_ignore_ascii_case(code)) {
            *other.entry(code.to_string()).or_default() += 1;
            continue;
        }
        match event_request(ev) {
            Ok((draft, facts)) => kept.push((i, code, draft, facts)),
            Err(reason) => out.skipped.push(Skipped {
                index: i + 1,
                event_id: text_field(ev, "eventID").map(str::to_string),
                reason,
            }),
        }
    }
    // One request delivered to two accounts (the caller's and the bucket owner's trail) has one
    // `requestID`; the bucket owner's copy of a cross-account request may name only the caller's
    // account. Keep the copy that names the caller best.
    let mut best: HashMap<&str, (usize, u8)> = HashMap::new();
    // What any copy says of the bucket owner and the accounts it went to.
    let mut copies: HashMap<String, (Option<String>, Vec<String>)> = HashMap::new();
    for (n, (_, _, draft, facts)) in kept.iter().enumerate() {
        if let Some(r) = facts.request_id.as_deref() {
            let rank = caller_rank(draft.principal.as_deref());
            let e = best.entry(r).or_insert((n, rank));
            if rank > e.1 {
                *e = (n, rank);
            }
            let c = copies.entry(r.to_string()).or_default();
            if c.0.is_none() {
                c.0 = facts.bucket_owner.clone();
            }
            if let Some(acct) = &facts.recipient {
                if !c.1.contains(acct) {
                    c.1.push(acct.clone());
                }
            }
        }
    }
    let keep: Vec<bool> = kept
        .iter()
        .enumerate()
        .map(|(n, (_, _, _, f))| {
            f.request_id
                .as_deref()
                .is_none_or(|r| best.get(r).is_none_or(|&(b, _)| b == n))
        })
        .collect();
    let kept: Vec<_> = kept
        .into_iter()
        .zip(keep)
        .filter_map(|(k, keep)| keep.then_some(k))
        .collect();
    for (_, code, draft, mut facts) in kept {
        let mut recipients: Vec<String> = facts.recipient.take().into_iter().collect();
        if let Some((owner, accts)) = facts.request_id.as_ref().and_then(|r| copies.get(r)) {
            if facts.bucket_owner.is_none() {
                facts.bucket_owner = owner.clone();
            }
            for a in accts {
                if !recipients.contains(a) {
                    recipients.push(a.clone());
                }
            }
        }
        // Callers named only by account are told apart by their principal ids.
        let mut key = serde_json::to_string(&draft.to_fields()).unwrap_or_default();
        if let Some(c) = &facts.account_caller {
            key.push('\u{0}');
            key.push_str(&c.principal_id);
        }
        let epoch = facts.time.as_deref().and_then(parse_time);
        let g = match index.get(&key) {
            Some(&g) => g,
            None => {
                let g = out.groups.len();
                index.insert(key, g);
                out.groups.push(EventGroup {
                    draft,
                    count: 0,
                    first_time: None,
                    last_time: None,
                    event_ids: Vec::new(),
                    error_code: code.to_string(),
                    report: facts
                        .error_message
                        .as_deref()
                        .and_then(|m| error_message::parse(m).ok()),
                    error_message: facts.error_message.clone(),
                    bucket_owner: None,
                    recipient_accounts: Vec::new(),
                    notes: Vec::new(),
                    account_caller: facts.account_caller.clone(),
                });
                seen.push(Vec::new());
                span.push((None, None));
                g
            }
        };
        let group = &mut out.groups[g];
        let duplicate = facts
            .request_id
            .as_ref()
            .is_some_and(|r| seen[g].contains(r));
        if let Some(r) = &facts.request_id {
            if !duplicate {
                seen[g].push(r.clone());
            }
        }
        if !duplicate {
            group.count += 1;
        }
        if let Some(id) = facts.event_id {
            group.event_ids.push(id);
        }
        if group.bucket_owner.is_none() {
            group.bucket_owner = facts.bucket_owner;
        }
        for r in recipients {
            if !group.recipient_accounts.contains(&r) {
                group.recipient_accounts.push(r);
            }
        }
        for n in facts.notes {
            if !group.notes.contains(&n) {
                group.notes.push(n);
            }
        }
        // First and last time, by the parsed time where it parses.
        let (first, last) = &mut span[g];
        if let Some(t) = &facts.time {
            if group.first_time.is_none() || (epoch.is_some() && epoch < *first) {
                group.first_time = Some(t.clone());
                *first = epoch;
            }
            if group.last_time.is_none() || (epoch.is_some() && epoch > *last) {
                group.last_time = Some(t.clone());
                *last = epoch;
            }
        }
    }
    for g in &mut out.groups {
        if let Some(t) = &g.last_time {
            g.draft.set_context("aws:CurrentTime", t.clone());
        }
    }
    let mut order: Vec<usize> = (0..out.groups.len()).collect();
    order.sort_by_key(|&i| (span[i].0.unwrap_or(i64::MAX), i));
    let mut groups: Vec<Option<EventGroup>> = out.groups.drain(..).map(Some).collect();
    out.groups = order.into_iter().filter_map(|i| groups[i].take()).collect();
    let mut other: Vec<(String, usize)> = other.into_iter().collect();
    other.sort();
    out.other_errors = other;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A denied GetObject whose caller is named only by account 444455556666 and `principal_id`.
    fn by_account(principal_id: &str, request_id: &str) -> Map<String, Value> {
        json!({
            "eventVersion": "1.10", "eventTime": "2026-11-29T11:00:00Z",
            "eventSource": "s3.amazonaws.com", "eventName": "GetObject",
            "userIdentity": {"type": "AWSAccount", "principalId": principal_id,
                             "accountId": "444455556666"},
            "requestParameters": {"bucketName": "b", "key": "k"},
            "errorCode": "AccessDenied", "tlsDetails": {"tlsVersion": "TLSv1.3"},
            "requestID": request_id, "recipientAccountId": "111122223333"
        })
        .as_object()
        .cloned()
        .unwrap_or_default()
    }

    fn world(iam: Value) -> World {
        let w = json!({
            "format_version": 1,
            "accounts": [{"account_id": "444455556666", "iam": iam}],
            "buckets": []
        });
        World::from_value(&w).unwrap_or_else(|e| panic!("test World: {e}"))
    }

    fn iam() -> Value {
        json!({
            "UserDetailList": [{"UserName": "alice", "UserId": "AIDAEXAMPLEALICE0001",
                "Arn": "arn:aws:iam::444455556666:user/alice", "Path": "/",
                "UserPolicyList": [], "AttachedManagedPolicies": [], "GroupList": []}],
            "GroupDetailList": [],
            "RoleDetailList": [{"RoleName": "DataReader", "RoleId": "AROAEXAMPLEDATAREADR",
                "Arn": "arn:aws:iam::444455556666:role/etl/DataReader", "Path": "/etl/",
                "RolePolicyList": [], "AttachedManagedPolicies": []}],
            "Policies": []
        })
    }

    fn caller(principal_id: &str) -> AccountCaller {
        AccountCaller {
            account: "444455556666".into(),
            principal_id: principal_id.into(),
        }
    }

    #[test]
    fn an_account_caller_keeps_its_principal_id_and_stays_the_account() {
        let t = group(&[by_account("AROAEXAMPLEDATAREADR:etl-job", "R1")]);
        let g = &t.groups[0];
        assert_eq!(g.draft.principal.as_deref(), Some("444455556666"));
        let c = caller("AROAEXAMPLEDATAREADR:etl-job");
        assert_eq!(g.account_caller.as_ref(), Some(&c));
        assert_eq!(g.notes, vec![c.note()]);
        assert!(c
            .note()
            .contains("(principal id AROAEXAMPLEDATAREADR:etl-job)"));
        // Without a principal id there is nothing to resolve.
        let t = group(&[by_account("", "R2")]);
        assert_eq!(t.groups[0].account_caller, None);
        assert!(t.groups[0].notes[0].starts_with(
            "CloudTrail names only the caller's account 444455556666: evaluated as that account"
        ));
    }

    #[test]
    fn callers_of_one_account_with_different_ids_stay_apart() {
        let t = group(&[
            by_account("AIDAEXAMPLEALICE0001", "R1"),
            by_account("AROAEXAMPLEDATAREADR:etl-job", "R2"),
            by_account("AIDAEXAMPLEALICE0001", "R3"),
        ]);
        assert_eq!(t.groups.len(), 2);
        assert_eq!(t.groups[0].count, 2);
        assert_eq!(
            t.groups[0]
                .account_caller
                .as_ref()
                .map(|c| c.principal_id.as_str()),
            Some("AIDAEXAMPLEALICE0001")
        );
        assert_eq!(t.groups[1].count, 1);
    }

    #[test]
    fn principal_ids_resolve_to_users_and_role_sessions() {
        let w = world(iam());
        assert_eq!(
            caller("AROAEXAMPLEDATAREADR:etl-job")
                .resolve(&w)
                .as_deref(),
            Ok("arn:aws:sts::444455556666:assumed-role/DataReader/etl-job"),
            "the session ARN has the role's name without its path"
        );
        assert_eq!(
            caller("AIDAEXAMPLEALICE0001").resolve(&w).as_deref(),
            Ok("arn:aws:iam::444455556666:user/alice")
        );
        assert_eq!(
            caller("AROAEXAMPLEDATAREADR").resolve(&w).as_deref(),
            Ok("arn:aws:iam::444455556666:role/etl/DataReader")
        );
        let (arn, note) = caller("AIDAEXAMPLEALICE0001").in_world(&w);
        assert_eq!(arn.as_deref(), Some("arn:aws:iam::444455556666:user/alice"));
        assert!(
            note.contains("the World's IAM data gives `arn:aws:iam::444455556666:user/alice`"),
            "{note}"
        );
    }

    #[test]
    fn unresolved_principal_ids_say_why() {
        let w = world(iam());
        let why = caller("AIDAEXAMPLENOSUCHID0")
            .resolve(&w)
            .expect_err("no such id");
        assert_eq!(
            why,
            "no user or role of account 444455556666 in the World has the id `AIDAEXAMPLENOSUCHID0`"
        );
        let why = caller("AIDAEXAMPLEALICE0001:s")
            .resolve(&w)
            .expect_err("user with session");
        assert!(why.contains("only role sessions have one"), "{why}");
        let why = caller("AIDAEXAMPLEALICE0001")
            .resolve(&world(
                json!({"unknown": "AccessDenied: needs iam:GetAccountAuthorizationDetails"}),
            ))
            .expect_err("unknown IAM");
        assert_eq!(
            why,
            "the IAM data of account 444455556666 is unknown (AccessDenied: needs iam:GetAccountAuthorizationDetails)"
        );
        let why = caller("AIDAEXAMPLEALICE0001")
            .resolve(&world(Value::Null))
            .expect_err("no IAM");
        assert_eq!(why, "the World holds no IAM data of account 444455556666");
        let other = AccountCaller {
            account: "777788889999".into(),
            principal_id: "AIDAEXAMPLEALICE0001".into(),
        };
        assert_eq!(
            other.resolve(&w).expect_err("no account"),
            "the World has no account 777788889999"
        );
        let (arn, note) = caller("AIDAEXAMPLENOSUCHID0").in_world(&w);
        assert_eq!(arn, None);
        assert!(note.contains("evaluated as that account, as the principal id cannot be resolved: no user or role"), "{note}");
        assert!(
            note.contains("give the caller's ARN with `--principal`"),
            "{note}"
        );
    }
}

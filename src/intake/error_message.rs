//! Reading an S3 error as the user got it: the AWS CLI / SDK message (`An error occurred
//! (AccessDenied) when calling the PutObject operation: Access Denied`, also as printed by
//! `aws s3 cp` with `download failed: s3://b/k to ./k` in front, the Go SDK v2 and Java SDK forms),
//! the raw S3 XML error body (`<Error><Code>AccessDenied</Code><Message>...</Message>...`), and
//! S3's enhanced access denied messages (`User: ARN is not authorized to perform: s3:GetObject on
//! resource: "arn:aws:s3:::b/k" because no identity-based policy allows the s3:GetObject action`).
//!
//! The enhanced message names the caller, the action, the resource and the kind of policy that
//! denied (explicit: `with an explicit deny in a TYPE`, optionally with the policy ARN; implicit:
//! `because no TYPE allows the ACTION action`), or one of the Block Public Access / SSE-C refusals.
//! AWS gives it only for same-account and same-organization requests; a cross-account denial
//! reads `Access Denied`. Whitespace (including the line breaks of wrapped messages) is collapsed
//! before reading.

use super::error::ErrorMessageError;
use super::{normalize_caller, operation_for_action, split_s3_arn, RequestDraft};
use crate::request::{operation, suggest_operations, Scope};

/// Which form the text had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorForm {
    /// AWS CLI / boto: `An error occurred (CODE) when calling the OP operation: MESSAGE`.
    Cli,
    /// Go SDK v2 (`operation error S3: OP, ... api error CODE: MESSAGE`) or Java SDK
    /// (`MESSAGE (Service: Amazon S3; Status Code: 403; Error Code: CODE; ...)`).
    Sdk,
    /// The S3 XML error body.
    Xml,
    /// The enhanced access denied message on its own.
    Denied,
    /// Only a generic text such as `Access Denied` or `403 Forbidden`.
    Plain,
}

/// The kind of policy an enhanced access denied message names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyType {
    ServiceControl,
    ResourceControl,
    IdentityBased,
    ResourceBased,
    PermissionsBoundary,
    Session,
    VpcEndpoint,
    /// A phrase s3medic does not know, as written.
    Other(String),
}

impl PolicyType {
    /// The phrase AWS uses for it.
    pub fn phrase(&self) -> &str {
        match self {
            PolicyType::ServiceControl => "service control policy",
            PolicyType::ResourceControl => "resource control policy",
            PolicyType::IdentityBased => "identity-based policy",
            PolicyType::ResourceBased => "resource-based policy",
            PolicyType::PermissionsBoundary => "permissions boundary",
            PolicyType::Session => "session policy",
            PolicyType::VpcEndpoint => "VPC endpoint policy",
            PolicyType::Other(s) => s,
        }
    }

    fn from_phrase(phrase: &str) -> PolicyType {
        let p = phrase.trim().to_ascii_lowercase();
        const KNOWN: &[(&str, PolicyType)] = &[
            ("service control polic", PolicyType::ServiceControl),
            ("resource control polic", PolicyType::ResourceControl),
            ("identity-based polic", PolicyType::IdentityBased),
            ("identity based polic", PolicyType::IdentityBased),
            ("resource-based polic", PolicyType::ResourceBased),
            ("resource based polic", PolicyType::ResourceBased),
            ("permissions boundar", PolicyType::PermissionsBoundary),
            ("session polic", PolicyType::Session),
            ("vpc endpoint polic", PolicyType::VpcEndpoint),
        ];
        KNOWN
            .iter()
            .find(|(prefix, _)| p.starts_with(prefix))
            .map(|(_, t)| t.clone())
            .unwrap_or_else(|| PolicyType::Other(phrase.trim().to_string()))
    }
}

/// Why the message says access was denied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DenialReason {
    /// `with an explicit deny in a TYPE` (`policy` is `None` when the type is not named).
    Explicit {
        policy: Option<PolicyType>,
        policy_arn: Option<String>,
    },
    /// `because no TYPE allows the ACTION action`.
    Implicit { policy: PolicyType },
    /// `because public ACLs are prevented by the BlockPublicAcls setting in S3 Block Public Access`.
    BlockPublicAcls,
    /// `because public policies are prevented by the BlockPublicPolicy setting ...`.
    BlockPublicPolicy,
    /// `because this bucket has blocked upload requests that specify Server Side Encryption with
    /// Customer provided keys (SSE-C)`.
    SseCBlocked,
}

impl DenialReason {
    /// What the message says, in a few words.
    pub fn describe(&self, action: Option<&str>) -> String {
        match self {
            DenialReason::Explicit { policy, policy_arn } => {
                let mut s = match policy {
                    Some(p) => format!("an explicit deny in {}", with_article(p.phrase())),
                    None => "an explicit deny".to_string(),
                };
                if let Some(arn) = policy_arn {
                    s.push_str(&format!(" ({arn})"));
                }
                s
            }
            DenialReason::Implicit { policy } => match action {
                Some(a) => format!("no {} allows {a}", policy.phrase()),
                None => format!("no {} allows the action", policy.phrase()),
            },
            DenialReason::BlockPublicAcls => {
                "public ACLs are prevented by BlockPublicAcls (S3 Block Public Access)".into()
            }
            DenialReason::BlockPublicPolicy => {
                "public policies are prevented by BlockPublicPolicy (S3 Block Public Access)".into()
            }
            DenialReason::SseCBlocked => "the bucket blocks SSE-C uploads".into(),
        }
    }
}

/// `a resource-based policy`, `an identity-based policy`.
fn with_article(phrase: &str) -> String {
    let vowel = phrase
        .chars()
        .next()
        .is_some_and(|c| "aeiouAEIOU".contains(c));
    format!("{} {phrase}", if vowel { "an" } else { "a" })
}

/// What an error text tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorReport {
    pub form: ErrorForm,
    /// The error code (`AccessDenied`; `403` for a HEAD request, which has no body).
    pub code: Option<String>,
    /// The HTTP status, when the text gives it.
    pub status: Option<u16>,
    /// The operation as named in the text (`PutObject`).
    pub operation: Option<String>,
    /// The human message, whitespace collapsed.
    pub message: Option<String>,
    /// The caller of an enhanced message, as written.
    pub caller: Option<String>,
    /// The action of an enhanced message (`s3:GetObject`).
    pub action: Option<String>,
    /// The resource of an enhanced message (`arn:aws:s3:::b/k`).
    pub resource: Option<String>,
    pub bucket: Option<String>,
    pub key: Option<String>,
    /// The copy source, when the text names both sides of a copy.
    pub copy_source: Option<String>,
    pub reason: Option<DenialReason>,
    pub request_id: Option<String>,
    pub host_id: Option<String>,
}

impl ErrorReport {
    fn new(form: ErrorForm) -> ErrorReport {
        ErrorReport {
            form,
            code: None,
            status: None,
            operation: None,
            message: None,
            caller: None,
            action: None,
            resource: None,
            bucket: None,
            key: None,
            copy_source: None,
            reason: None,
            request_id: None,
            host_id: None,
        }
    }

    /// True when the text is an access denial (code `AccessDenied`, status 403, or an access
    /// denied message), as opposed to another S3 error such as `NoSuchKey`.
    pub fn is_access_denied(&self) -> bool {
        let code_denied = self.code.as_deref().is_some_and(|c| {
            c.eq_ignore_ascii_case("AccessDenied")
                || c == "403"
                || c.eq_ignore_ascii_case("Forbidden")
        });
        code_denied
            || self.status == Some(403)
            || self.reason.is_some()
            || self.caller.is_some()
            || (self.code.is_none()
                && self
                    .message
                    .as_deref()
                    .is_some_and(|m| m.to_ascii_lowercase().contains("access denied")))
    }

    /// What the message says about why (for the confirm / contradict check), if it says anything.
    pub fn stated(&self) -> Option<String> {
        self.reason
            .as_ref()
            .map(|r| r.describe(self.action.as_deref()))
    }

    /// The request this error is about, as far as the text tells.
    pub fn to_draft(&self) -> Result<RequestDraft, ErrorMessageError> {
        let mut d = RequestDraft {
            principal: self.caller.as_deref().map(normalize_caller),
            ..Default::default()
        };
        match &self.operation {
            Some(name) => match resolve_operation(name) {
                Some(op) => d.operation = Some(op.to_string()),
                None => match self.action.as_deref().filter(|a| is_s3_action(a)) {
                    Some(a) => set_action(&mut d, a),
                    None => {
                        return Err(ErrorMessageError::UnknownOperation {
                            name: name.clone(),
                            suggestions: suggest_operations(name)
                                .into_iter()
                                .map(str::to_string)
                                .collect(),
                        })
                    }
                },
            },
            None => {
                if let Some(a) = self.action.as_deref().filter(|a| is_s3_action(a)) {
                    set_action(&mut d, a);
                }
            }
        }
        d.bucket = self.bucket.clone();
        d.key = self.key.clone();
        let spec = d.operation.as_deref().and_then(operation);
        let scope = spec.map(|s| s.scope);
        if matches!(scope, Some(Scope::Bucket | Scope::Service)) {
            // e.g. S3's BlockPublicPolicy message names `bucket/object-name` for PutBucketPolicy.
            d.key = None;
        }
        if scope == Some(Scope::Service) {
            d.bucket = None;
        }
        if spec.is_some_and(|s| s.copy) {
            d.copy_source = self.copy_source.clone();
        }
        Ok(d)
    }
}

fn is_s3_action(a: &str) -> bool {
    a.split_once(':')
        .is_some_and(|(svc, name)| svc.eq_ignore_ascii_case("s3") && !name.is_empty())
}

fn set_action(d: &mut RequestDraft, action: &str) {
    match operation_for_action(action) {
        Some(op) => d.operation = Some(op.to_string()),
        None => d.action = Some(action.to_string()),
    }
}

/// An operation name as written in a message or a CloudTrail event: the table name, or one of
/// the names CloudTrail and older tools use for it.
pub fn resolve_operation(name: &str) -> Option<&'static str> {
    if let Some(spec) = operation(name) {
        return Some(spec.name);
    }
    const ALIASES: &[(&str, &str)] = &[
        ("GetBucketPublicAccessBlock", "GetPublicAccessBlock"),
        ("PutBucketPublicAccessBlock", "PutPublicAccessBlock"),
        ("DeleteBucketPublicAccessBlock", "DeletePublicAccessBlock"),
        ("GetBucketLifecycle", "GetBucketLifecycleConfiguration"),
        ("PutBucketLifecycle", "PutBucketLifecycleConfiguration"),
        (
            "GetBucketNotification",
            "GetBucketNotificationConfiguration",
        ),
        (
            "PutBucketNotification",
            "PutBucketNotificationConfiguration",
        ),
        (
            "GetBucketObjectLockConfiguration",
            "GetObjectLockConfiguration",
        ),
        (
            "PutBucketObjectLockConfiguration",
            "PutObjectLockConfiguration",
        ),
        ("GetBucketAccelerate", "GetBucketAccelerateConfiguration"),
        ("PutBucketAccelerate", "PutBucketAccelerateConfiguration"),
        ("GetBucketPolicyStatus", "GetBucketPolicyStatus"),
        ("InitiateMultipartUpload", "CreateMultipartUpload"),
        ("ListBucket", "ListObjects"),
        ("ListBucketVersions", "ListObjectVersions"),
        ("ListAllMyBuckets", "ListBuckets"),
        ("GetBucketCORS", "GetBucketCors"),
        ("PutBucketCORS", "PutBucketCors"),
    ];
    ALIASES
        .iter()
        .find(|(alias, _)| alias.eq_ignore_ascii_case(name))
        .and_then(|(_, target)| operation(target))
        .map(|spec| spec.name)
}

/// Reads an error text in any of the forms of the module header.
pub fn parse(text: &str) -> Result<ErrorReport, ErrorMessageError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(ErrorMessageError::Empty);
    }
    if let Some(start) = trimmed.find("<Error>") {
        return parse_xml(&trimmed[start + "<Error>".len()..]);
    }
    let s = collapse(trimmed);
    let mut report = parse_cli(&s)
        .or_else(|| parse_go(&s))
        .or_else(|| parse_java(&s))
        .unwrap_or_else(|| ErrorReport::new(ErrorForm::Denied));
    let message = report.message.clone().unwrap_or_else(|| s.clone());
    read_denied(&message, &mut report);
    if report.form == ErrorForm::Denied && report.caller.is_none() {
        let lower = s.to_ascii_lowercase();
        let generic = ["access denied", "accessdenied", "forbidden"]
            .iter()
            .any(|w| lower.contains(w));
        if !generic {
            return Err(ErrorMessageError::NotRecognised {
                snippet: snippet(&s),
            });
        }
        report.form = ErrorForm::Plain;
        report.message = Some(s.clone());
        if lower.contains("accessdenied") || lower.contains("access denied") {
            report
                .code
                .get_or_insert_with(|| "AccessDenied".to_string());
        }
        if lower.contains("403") || lower.contains("forbidden") {
            report.status.get_or_insert(403);
        }
    }
    if report.message.is_none() {
        report.message = Some(s);
    }
    Ok(report)
}

/// Whitespace runs (line breaks of wrapped messages included) become one space.
fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn snippet(s: &str) -> String {
    const MAX: usize = 80;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let cut: String = s.chars().take(MAX).collect();
        format!("{cut}...")
    }
}

/// The text after `prefix` up to the first of `ends` (or the end).
fn after<'s>(s: &'s str, prefix: &str, ends: &[char]) -> Option<&'s str> {
    let start = s.find(prefix)? + prefix.len();
    let rest = &s[start..];
    let end = rest.find(ends).unwrap_or(rest.len());
    Some(rest[..end].trim())
}

/// `[download failed: s3://b/k to ./k] An error occurred (CODE) when calling the OP operation
/// [(reached max retries: N)]: MESSAGE`, and the older `A client error (CODE) occurred when
/// calling the OP operation: MESSAGE`.
fn parse_cli(s: &str) -> Option<ErrorReport> {
    let (head, code_start) = if let Some(i) = s.find("An error occurred (") {
        (&s[..i], i + "An error occurred (".len())
    } else if let Some(i) = s.find("A client error (") {
        (&s[..i], i + "A client error (".len())
    } else {
        return None;
    };
    let rest = &s[code_start..];
    let close = rest.find(')')?;
    let mut r = ErrorReport::new(ErrorForm::Cli);
    let code = rest[..close].trim();
    if !code.is_empty() {
        r.code = Some(code.to_string());
        if let Ok(n) = code.parse::<u16>() {
            r.status = Some(n);
        }
    }
    let rest = &rest[close + 1..];
    if let Some(i) = rest.find("when calling the ") {
        let after_call = &rest[i + "when calling the ".len()..];
        if let Some(j) = after_call.find(" operation") {
            let op = after_call[..j].trim();
            if !op.is_empty() && !op.contains(' ') {
                r.operation = Some(op.to_string());
            }
            let mut tail = &after_call[j + " operation".len()..];
            // `(reached max retries: 4)` may come before the colon.
            if let Some(t) = tail.trim_start().strip_prefix('(') {
                tail = t.split_once(')').map_or("", |(_, t)| t);
            }
            if let Some(msg) = tail.trim_start().strip_prefix(':') {
                let msg = msg.trim();
                if !msg.is_empty() {
                    r.message = Some(msg.to_string());
                }
            }
        }
    }
    read_transfer_paths(head, &mut r);
    Some(r)
}

/// The S3 URIs that `aws s3 cp/mv/rm/sync` print before the error (`download failed: SRC to
/// DST`, `upload failed: ...`, `copy failed: ...`, `delete failed: ...`).
fn read_transfer_paths(head: &str, r: &mut ErrorReport) {
    let uris: Vec<&str> = head
        .split_whitespace()
        .filter(|w| w.starts_with("s3://"))
        .collect();
    let lower = head.to_ascii_lowercase();
    let chosen = if lower.contains("upload failed") {
        uris.last().copied()
    } else if lower.contains("copy failed") && uris.len() == 2 {
        if let Some((b, Some(k))) = split_s3_uri(uris[0]) {
            r.copy_source = Some(format!("{b}/{k}"));
        }
        uris.last().copied()
    } else {
        uris.first().copied()
    };
    if let Some((bucket, key)) = chosen.and_then(split_s3_uri) {
        r.bucket = Some(bucket);
        r.key = key;
    }
}

/// `s3://bucket/key` → (bucket, key).
pub fn split_s3_uri(uri: &str) -> Option<(String, Option<String>)> {
    let rest = uri.strip_prefix("s3://")?;
    let (bucket, key) = match rest.split_once('/') {
        Some((b, k)) => (b, (!k.is_empty()).then(|| k.to_string())),
        None => (rest, None),
    };
    (!bucket.is_empty()).then(|| (bucket.to_string(), key))
}

/// Go SDK v2: `operation error S3: GetObject, https response error StatusCode: 403, RequestID:
/// X, HostID: Y, api error AccessDenied: Access Denied`.
fn parse_go(s: &str) -> Option<ErrorReport> {
    let op = after(s, "operation error S3: ", &[',', ' '])?;
    let mut r = ErrorReport::new(ErrorForm::Sdk);
    if !op.is_empty() {
        r.operation = Some(op.to_string());
    }
    r.status = after(s, "StatusCode: ", &[',', ' ']).and_then(|v| v.parse().ok());
    r.request_id = after(s, "RequestID: ", &[',', ' ']).map(str::to_string);
    r.host_id = after(s, "HostID: ", &[',', ' ']).map(str::to_string);
    if let Some(i) = s.find("api error ") {
        let rest = &s[i + "api error ".len()..];
        match rest.split_once(':') {
            Some((code, msg)) => {
                r.code = Some(code.trim().to_string());
                let msg = msg.trim();
                if !msg.is_empty() {
                    r.message = Some(msg.to_string());
                }
            }
            None => r.code = Some(rest.trim().to_string()),
        }
    }
    Some(r)
}

/// Java SDK v1 `MESSAGE (Service: Amazon S3; Status Code: 403; Error Code: AccessDenied; Request
/// ID: X; S3 Extended Request ID: Y; Proxy: null)` and v2 `MESSAGE (Service: S3, Status Code: 403,
/// Request ID: X, Extended Request ID: Y)`.
fn parse_java(s: &str) -> Option<ErrorReport> {
    let i = s.find("(Service: ")?;
    let mut r = ErrorReport::new(ErrorForm::Sdk);
    let msg = s[..i].trim();
    let msg = msg
        .rsplit_once("Exception: ")
        .map_or(msg, |(_, m)| m)
        .trim();
    if !msg.is_empty() {
        r.message = Some(msg.to_string());
    }
    let tail = &s[i..];
    r.status = after(tail, "Status Code: ", &[';', ',', ')']).and_then(|v| v.parse().ok());
    r.code = after(tail, "Error Code: ", &[';', ',', ')']).map(str::to_string);
    r.request_id = after(tail, "Request ID: ", &[';', ',', ')']).map(str::to_string);
    r.host_id = after(tail, "Extended Request ID: ", &[';', ',', ')']).map(str::to_string);
    Some(r)
}

/// The S3 XML error body, from just after `<Error>`.
fn parse_xml(body: &str) -> Result<ErrorReport, ErrorMessageError> {
    let body = body.split("</Error>").next().unwrap_or(body);
    let mut r = ErrorReport::new(ErrorForm::Xml);
    r.code = xml_tag(body, "Code");
    if r.code.is_none() {
        return Err(ErrorMessageError::BadXml {
            why: "no complete `<Code>` element in `<Error>`".into(),
        });
    }
    r.message = xml_tag(body, "Message").map(|m| collapse(&m));
    r.request_id = xml_tag(body, "RequestId");
    r.host_id = xml_tag(body, "HostId");
    if let Some(resource) = xml_tag(body, "Resource") {
        // `/bucket/key` (path style) or an ARN.
        if let Some((b, k)) = split_s3_arn(&resource) {
            r.bucket = Some(b);
            r.key = k;
        } else if let Some(path) = resource.strip_prefix('/') {
            let (b, k) = match path.split_once('/') {
                Some((b, k)) => (b, (!k.is_empty()).then(|| k.to_string())),
                None => (path, None),
            };
            if !b.is_empty() {
                r.bucket = Some(b.to_string());
                r.key = k;
            }
        }
        r.resource = Some(resource);
    }
    if let Some(b) = xml_tag(body, "BucketName") {
        r.bucket = Some(b);
    }
    if let Some(k) = xml_tag(body, "Key") {
        r.key = Some(k);
    }
    if let Some(m) = r.message.clone() {
        read_denied(&m, &mut r);
    }
    Ok(r)
}

/// The unescaped text of the first complete `<tag>...</tag>`.
fn xml_tag(body: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = body.find(&open)? + open.len();
    let end = body[start..].find(&close)? + start;
    let text = xml_unescape(body[start..end].trim());
    (!text.is_empty()).then_some(text)
}

fn xml_unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after_amp = &rest[i + 1..];
        let entity_end = after_amp.find(';').filter(|&e| e <= 10);
        let decoded = entity_end.and_then(|e| {
            let name = &after_amp[..e];
            let ch = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => {
                    let num = name.strip_prefix('#')?;
                    let code = match num.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => num.parse().ok()?,
                    };
                    char::from_u32(code)
                }
            }?;
            Some((ch, e))
        });
        match decoded {
            Some((ch, e)) => {
                out.push(ch);
                rest = &after_amp[e + 1..];
            }
            None => {
                out.push('&');
                rest = after_amp;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Reads an enhanced access denied message (`User: ARN is not authorized to perform: ACTION [on
/// resource: "ARN"] REASON`) into `r`; leaves `r` as it is when `s` is not one.
fn read_denied(s: &str, r: &mut ErrorReport) {
    const NOT_AUTH: &str = " is not authorized to perform";
    let Some(user) = s.find("User: ") else {
        return;
    };
    let after_user = &s[user + "User: ".len()..];
    let Some(n) = after_user.find(NOT_AUTH) else {
        return;
    };
    let caller = after_user[..n].trim();
    if let Some(c) = caller.split_whitespace().next() {
        r.caller = Some(c.to_string());
    }
    let mut rest = after_user[n + NOT_AUTH.len()..].trim_start();
    rest = rest.strip_prefix(':').unwrap_or(rest).trim_start();
    let action_end = rest.find(' ').unwrap_or(rest.len());
    let action = rest[..action_end].trim_end_matches(['.', ',', ';']);
    if action.contains(':') {
        r.action = Some(action.to_string());
    }
    rest = rest[action_end..].trim_start();
    if let Some(res) = rest.strip_prefix("on resource:") {
        let res = res.trim_start();
        let (resource, tail) = match res.strip_prefix('"') {
            Some(q) => match q.find('"') {
                Some(e) => (&q[..e], &q[e + 1..]),
                None => (q, ""),
            },
            None => {
                let e = res.find(' ').unwrap_or(res.len());
                (&res[..e], &res[e..])
            }
        };
        let resource = resource.trim_end_matches(['.', ',', ';']);
        if resource.starts_with("arn:") {
            r.resource = Some(resource.to_string());
            if let Some((b, k)) = split_s3_arn(resource) {
                r.bucket = Some(b);
                r.key = k;
            }
        }
        rest = tail.trim_start();
    }
    r.reason = read_reason(rest);
    if r.code.is_none() {
        r.code = Some("AccessDenied".to_string());
    }
}

/// The reason clause of an enhanced message.
fn read_reason(rest: &str) -> Option<DenialReason> {
    let lower = rest.to_ascii_lowercase();
    if let Some(i) = lower.find("with an explicit deny") {
        let tail = &rest[i + "with an explicit deny".len()..];
        let tail_lower = tail.to_ascii_lowercase();
        let phrase_start = ["in a ", "in an ", "in the "]
            .iter()
            .filter_map(|p| tail_lower.find(p).map(|j| (j, p.len())))
            .min();
        let (policy, after_phrase) = match phrase_start {
            Some((j, len)) if j <= 1 => {
                let p = &tail[j + len..];
                let end = p.find([':', ',', '.']).unwrap_or(p.len());
                (Some(PolicyType::from_phrase(&p[..end])), &p[end..])
            }
            _ => (None, tail),
        };
        let policy_arn = after_phrase
            .split_whitespace()
            .map(|w| w.trim_end_matches(['.', ',', ';']))
            .find(|w| w.starts_with("arn:"))
            .map(str::to_string);
        return Some(DenialReason::Explicit { policy, policy_arn });
    }
    if let Some(i) = lower.find("because no ") {
        let p = &rest[i + "because no ".len()..];
        let end = p.to_ascii_lowercase().find(" allows").unwrap_or(p.len());
        return Some(DenialReason::Implicit {
            policy: PolicyType::from_phrase(&p[..end]),
        });
    }
    if lower.contains("blockpublicacls") {
        return Some(DenialReason::BlockPublicAcls);
    }
    if lower.contains("blockpublicpolicy") {
        return Some(DenialReason::BlockPublicPolicy);
    }
    if lower.contains("(sse-c)") || lower.contains("customer provided keys") {
        return Some(DenialReason::SseCBlocked);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_entities_decode() {
        assert_eq!(
            xml_unescape("a &amp; b &quot;c&quot; &#65;&#x42; &bogus; &"),
            "a & b \"c\" AB &bogus; &"
        );
    }

    #[test]
    fn policy_phrases_map_to_types() {
        assert_eq!(
            PolicyType::from_phrase("Permissions Boundary"),
            PolicyType::PermissionsBoundary
        );
        assert_eq!(
            PolicyType::from_phrase("VPC endpoint policy"),
            PolicyType::VpcEndpoint
        );
        assert_eq!(
            PolicyType::from_phrase("mystery policy"),
            PolicyType::Other("mystery policy".into())
        );
    }

    #[test]
    fn aliases_resolve() {
        assert_eq!(
            resolve_operation("PutBucketPublicAccessBlock"),
            Some("PutPublicAccessBlock")
        );
        assert_eq!(resolve_operation("getobject"), Some("GetObject"));
        assert_eq!(resolve_operation("Nope"), None);
    }
}

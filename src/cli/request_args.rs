//! The request flags shared by `explain`, `plan` and `requests`: a request file (`--request
//! FILE`), the flags that describe one, or what the user has in hand — an error message
//! (`--error`, `--error-file`), CloudTrail records (`--cloudtrail`) or an AWS CLI command
//! (`--aws-cli`), loaded by `intake_load`. Flags given with those win over what the input says and
//! fill its gaps. Every path builds the request JSON of docs/formats.md, so flags and files share
//! one parser.
//!
//! With `--live`, a request whose caller neither the input nor `--principal` names is made by
//! the caller of the current credentials (STS GetCallerIdentity).

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{Map, Value};

use super::intake_load::{single, CallerCache, Loaded};
use super::live_args::LiveWorldArgs;
use super::OutputFormat;
use s3medic::request::presigned_url::{self, PresignedUrl};
use s3medic::request::Request;

#[derive(Debug, clap::Args)]
pub struct RequestArgs {
    /// The request as a JSON file (docs/formats.md). Alternatively, describe it with the flags below.
    #[arg(long, short = 'r', value_name = "FILE")]
    pub request: Option<PathBuf>,

    /// Who makes the request: an IAM user / role / assumed-role session ARN, an account id,
    /// `anonymous`, or a service principal such as `cloudfront.amazonaws.com`.
    #[arg(long, value_name = "PRINCIPAL")]
    pub principal: Option<String>,

    /// The S3 API operation, e.g. `GetObject` (see `s3medic operations`).
    #[arg(long, value_name = "OPERATION", conflicts_with = "action")]
    pub operation: Option<String>,

    /// A raw IAM action instead of an operation, e.g. `s3:GetObject`.
    #[arg(long, value_name = "ACTION")]
    pub action: Option<String>,

    /// The bucket name.
    #[arg(long, value_name = "BUCKET")]
    pub bucket: Option<String>,

    /// The object key.
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,

    /// The object version id.
    #[arg(long, value_name = "ID")]
    pub version_id: Option<String>,

    /// The copy source of CopyObject / UploadPartCopy, as `bucket/key`.
    #[arg(long, value_name = "BUCKET/KEY")]
    pub copy_source: Option<String>,

    /// A request header that matters (repeatable), e.g. `x-amz-acl=public-read`.
    #[arg(long = "header", value_name = "NAME=VALUE")]
    pub headers: Vec<String>,

    /// A query parameter (repeatable), e.g. `prefix=home/`.
    #[arg(long = "query", value_name = "NAME=VALUE")]
    pub query: Vec<String>,

    /// A condition key and value (repeatable; repeat a key for a multi-valued key),
    /// e.g. `aws:SourceIp=203.0.113.7`.
    #[arg(long = "context", value_name = "KEY=VALUE")]
    pub context: Vec<String>,

    /// The VPC endpoint the request comes through.
    #[arg(long, value_name = "VPCE_ID")]
    pub vpc_endpoint: Option<String>,

    /// The session policy of a role session (a JSON file).
    #[arg(long, value_name = "FILE")]
    pub session_policy: Option<PathBuf>,

    /// A SigV4 presigned S3 URL (path style, virtual-hosted style or a custom endpoint): sets the
    /// bucket, key, version id and the signature's time and validity. Give the signer with
    /// `--principal`. Unless `--context aws:CurrentTime=...` is given, the URL is checked at the
    /// current time.
    #[arg(
        long,
        value_name = "URL",
        conflicts_with_all = ["bucket", "key", "version_id", "request"]
    )]
    pub presigned_url: Option<String>,

    /// The HTTP method the presigned URL is used with (default GET): GET → GetObject,
    /// PUT → PutObject, HEAD → HeadObject, DELETE → DeleteObject.
    #[arg(
        long,
        value_enum,
        ignore_case = true,
        value_name = "METHOD",
        requires = "presigned_url",
        conflicts_with_all = ["operation", "action"]
    )]
    pub method: Option<HttpMethod>,

    /// When the presigned URL's signer's temporary credentials expire (RFC 3339 or
    /// `20261129T120000Z`); the URL stops working then, whatever its `X-Amz-Expires`.
    #[arg(long, value_name = "TIME", requires = "presigned_url")]
    pub credential_expires_at: Option<String>,

    /// The S3 error as you got it: an AWS CLI / SDK message (`An error occurred (AccessDenied)
    /// when calling the GetObject operation: ...`), the S3 XML error body, or S3's access denied
    /// message (`User: ARN is not authorized to perform: s3:GetObject on resource: ...`). Sets
    /// the caller, operation, bucket and key it names; the policy type it blames is checked
    /// against the diagnosis.
    #[arg(long, value_name = "TEXT", conflicts_with_all = ["request", "error_file", "cloudtrail", "aws_cli", "presigned_url"])]
    pub error: Option<String>,

    /// `--error` read from a file.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["request", "error", "cloudtrail", "aws_cli", "presigned_url"])]
    pub error_file: Option<PathBuf>,

    /// CloudTrail records (a log file, a JSON array, JSON lines or `aws cloudtrail lookup-events`
    /// output): every S3 AccessDenied event becomes a request; identical ones are grouped.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["request", "error", "error_file", "aws_cli", "presigned_url"])]
    pub cloudtrail: Option<PathBuf>,

    /// Only this group of `--cloudtrail` (1-based, as listed); `plan` needs it when there are
    /// several.
    #[arg(long, value_name = "N", requires = "cloudtrail", value_parser = clap::value_parser!(usize))]
    pub event_group: Option<usize>,

    /// An AWS CLI command (`aws s3 cp s3://b/k .`, `aws s3api get-object --bucket b --key k out`):
    /// the S3 requests it makes, in order.
    #[arg(long = "aws-cli", value_name = "COMMAND", conflicts_with_all = ["request", "error", "error_file", "cloudtrail", "presigned_url"])]
    pub aws_cli: Option<String>,

    /// Only this request of `--aws-cli` (1-based, as listed); `plan` takes the first denied one
    /// otherwise.
    #[arg(long, value_name = "N", requires = "aws_cli", value_parser = clap::value_parser!(usize))]
    pub step: Option<usize>,
}

/// The HTTP method a presigned URL is used with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HttpMethod {
    #[value(name = "GET")]
    Get,
    #[value(name = "PUT")]
    Put,
    #[value(name = "HEAD")]
    Head,
    #[value(name = "DELETE")]
    Delete,
}

impl HttpMethod {
    fn operation(self) -> &'static str {
        match self {
            HttpMethod::Get => "GetObject",
            HttpMethod::Put => "PutObject",
            HttpMethod::Head => "HeadObject",
            HttpMethod::Delete => "DeleteObject",
        }
    }

    fn name(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Put => "PUT",
            HttpMethod::Head => "HEAD",
            HttpMethod::Delete => "DELETE",
        }
    }
}

impl RequestArgs {
    /// Every request of the input. `live` (when `--live` is on) supplies the caller of the current
    /// credentials for a request that names none.
    pub fn load_all(&self, live: Option<&LiveWorldArgs>) -> Result<Loaded> {
        let live = live.filter(|l| l.live);
        let mut caller = CallerCache::default();
        if self.error.is_some() || self.error_file.is_some() {
            return self.load_error(live, &mut caller);
        }
        if let Some(path) = &self.cloudtrail {
            return self.load_cloudtrail(path, live, &mut caller);
        }
        if let Some(command) = &self.aws_cli {
            return self.load_aws_cli(command, live, &mut caller);
        }
        let value = match &self.request {
            Some(path) => {
                if self.principal.is_some() || self.operation.is_some() || self.action.is_some() {
                    bail!("give the request either as `--request FILE` or with flags, not both");
                }
                read_json(path, "request")?
            }
            None => {
                let fallback = match live {
                    Some(l) if self.principal.is_none() && self.presigned_url.is_none() => {
                        Some(caller.get(l)?)
                    }
                    _ => None,
                };
                self.to_value(fallback.as_deref())?
            }
        };
        let request = Request::from_value(&value).with_context(|| match &self.request {
            Some(p) => format!("invalid request file `{}`", p.display()),
            None => "invalid request".to_string(),
        })?;
        Ok(single(request, None, Vec::new()))
    }

    /// The parsed `--presigned-url`, if given.
    fn presigned_url(&self) -> Result<Option<PresignedUrl>> {
        self.presigned_url
            .as_deref()
            .map(|u| presigned_url::parse(u).map_err(|e| anyhow!("`--presigned-url`: {e}")))
            .transpose()
    }

    /// After an allowed decision on a `--presigned-url` request (text output), prints why S3 may
    /// still answer 403: a SigV4 presigned URL does not record its method or the values of its
    /// signed headers, so a mismatch there is invisible to s3medic.
    pub fn presigned_hint(&self, allowed: bool, output: OutputFormat) {
        if !allowed || output != OutputFormat::Text {
            return;
        }
        let Ok(Some(url)) = self.presigned_url() else {
            return;
        };
        let used = self.method.unwrap_or(HttpMethod::Get);
        let other = if used == HttpMethod::Put {
            "GET"
        } else {
            "PUT"
        };
        println!(
            "\nhint: S3 would allow this request from this signer. A 403 for a presigned URL that is valid and whose signer may do the operation means the signature does not match: most often the URL was signed for another method (e.g. {other}, used with {}), other signed headers (X-Amz-SignedHeaders: {}) were not sent, or the URL was altered.",
            used.name(),
            url.signed_headers.join(";")
        );
    }

    /// Builds the request JSON of docs/formats.md from the flags; `fallback` is the caller when
    /// `--principal` is not given (`--live`: the caller of the current credentials).
    fn to_value(&self, fallback: Option<&str>) -> Result<Value> {
        let mut m = Map::new();
        let url = self.presigned_url()?;
        if let Some(u) = &url {
            eprintln!(
                "note: {}",
                presigned_summary(u, self.method.unwrap_or(HttpMethod::Get))
            );
        }
        let Some(principal) = self.principal.as_deref().or(fallback) else {
            if let Some(u) = &url {
                bail!(
                    "`--principal`: give the ARN of the signer (the URL names only access key `{}`, which s3medic cannot resolve to a principal offline)",
                    u.credential.access_key_id
                );
            }
            bail!("missing `--principal` (or give `--request FILE`, or `--live` to use the caller of the current credentials)");
        };
        let principal = if principal.ends_with(".amazonaws.com") {
            serde_json::json!({ "Service": principal })
        } else {
            Value::String(principal.to_string())
        };
        m.insert("principal".into(), principal);
        match (&self.operation, &self.action) {
            (Some(op), _) => m.insert("operation".into(), Value::String(op.clone())),
            (None, Some(a)) => m.insert("action".into(), Value::String(a.clone())),
            (None, None) if url.is_some() => m.insert(
                "operation".into(),
                self.method.unwrap_or(HttpMethod::Get).operation().into(),
            ),
            (None, None) => {
                bail!("missing `--operation` (e.g. GetObject) or `--action` (e.g. s3:GetObject)")
            }
        };
        for (field, v) in [
            ("bucket", &self.bucket),
            ("key", &self.key),
            ("version_id", &self.version_id),
            ("copy_source", &self.copy_source),
            ("vpc_endpoint", &self.vpc_endpoint),
        ] {
            if let Some(v) = v {
                m.insert(field.into(), Value::String(v.clone()));
            }
        }
        if let Some(u) = &url {
            let mut fields = u.to_request_fields();
            if let (Some(t), Some(Value::Object(p))) =
                (&self.credential_expires_at, fields.get_mut("presigned"))
            {
                p.insert("credential_expires_at".into(), Value::String(t.clone()));
            }
            m.extend(fields);
            if u.security_token && self.credential_expires_at.is_none() {
                eprintln!(
                    "note: the URL was signed with temporary credentials (X-Amz-Security-Token); it stops working when they expire: give `--credential-expires-at TIME` to check that"
                );
            }
        }
        let mut headers = Map::new();
        for h in &self.headers {
            let (k, v) = split_pair(h, "header")?;
            headers.insert(k.to_ascii_lowercase(), Value::String(v.to_string()));
        }
        if !headers.is_empty() {
            m.insert("headers".into(), Value::Object(headers));
        }
        let mut query = Map::new();
        for q in &self.query {
            let (k, v) = split_pair(q, "query")?;
            query.insert(k.to_string(), Value::String(v.to_string()));
        }
        if !query.is_empty() {
            m.insert("query".into(), Value::Object(query));
        }
        let mut context = Map::new();
        for c in &self.context {
            let (k, v) = split_pair(c, "context")?;
            match context.get_mut(k) {
                Some(Value::Array(list)) => list.push(Value::String(v.to_string())),
                Some(prev) => {
                    let first = prev.take();
                    *prev = Value::Array(vec![first, Value::String(v.to_string())]);
                }
                None => {
                    context.insert(k.to_string(), Value::String(v.to_string()));
                }
            }
        }
        if url.is_some()
            && !context.keys().any(|k| {
                k.eq_ignore_ascii_case("aws:CurrentTime") || k.eq_ignore_ascii_case("aws:EpochTime")
            })
        {
            let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            eprintln!(
                "note: the presigned URL is evaluated at {now} (now; give `--context aws:CurrentTime=TIME` for another time)"
            );
            context.insert("aws:CurrentTime".into(), Value::String(now));
        }
        if !context.is_empty() {
            m.insert("context".into(), Value::Object(context));
        }
        if let Some(p) = &self.session_policy {
            m.insert("session_policy".into(), read_json(p, "session policy")?);
        }
        Ok(Value::Object(m))
    }
}

/// One line about a presigned URL: who signed it (access key), when, how long it is valid, which
/// headers are signed, and the method it is checked with.
fn presigned_summary(u: &PresignedUrl, method: HttpMethod) -> String {
    let at = |epoch: i64| {
        chrono::DateTime::from_timestamp(epoch, 0)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_else(|| epoch.to_string())
    };
    format!(
        "presigned URL: signed by access key `{}` ({}) at {}, valid for {} s (until {}), signed headers `{}`{}; checked as {} → {}",
        u.credential.access_key_id,
        u.credential.region,
        at(u.signed_at_epoch),
        u.expires_in,
        at(u.expires_at_epoch()),
        u.signed_headers.join(";"),
        if u.security_token { ", temporary credentials" } else { "" },
        method.name(),
        method.operation()
    )
}

pub(super) fn read_json(path: &Path, what: &str) -> Result<Value> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read {what} file `{}`", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{what} file `{}` is not valid JSON", path.display()))
}

pub(super) fn split_pair<'s>(s: &'s str, flag: &str) -> Result<(&'s str, &'s str)> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k, v)),
        _ => bail!("`--{flag} {s}`: expected NAME=VALUE"),
    }
}

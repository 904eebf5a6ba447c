//! The request flags shared by `explain` and `plan`: a request file (`--request FILE`) or the
//! flags that describe one. Both build the request JSON of docs/formats.md, so flags and files
//! share one parser.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{Map, Value};

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
    /// The request, from the file or the flags, naming the bad input in every error.
    pub fn load(&self) -> Result<Request> {
        let value = match &self.request {
            Some(path) => {
                if self.principal.is_some() || self.operation.is_some() || self.action.is_some() {
                    bail!("give the request either as `--request FILE` or with flags, not both");
                }
                read_json(path, "request")?
            }
            None => self.to_value()?,
        };
        Request::from_value(&value).with_context(|| match &self.request {
            Some(p) => format!("invalid request file `{}`", p.display()),
            None => "invalid request".to_string(),
        })
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

    /// Builds the request JSON of docs/formats.md from the flags.
    fn to_value(&self) -> Result<Value> {
        let mut m = Map::new();
        let url = self.presigned_url()?;
        let Some(principal) = &self.principal else {
            if let Some(u) = &url {
                bail!(
                    "`--principal`: give the ARN of the signer (the URL names only access key `{}`, which s3medic cannot resolve to a principal offline)",
                    u.credential.access_key_id
                );
            }
            bail!("missing `--principal` (or give `--request FILE`)");
        };
        let principal = if principal.ends_with(".amazonaws.com") {
            serde_json::json!({ "Service": principal })
        } else {
            Value::String(principal.clone())
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

fn read_json(path: &Path, what: &str) -> Result<Value> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read {what} file `{}`", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{what} file `{}` is not valid JSON", path.display()))
}

fn split_pair<'s>(s: &'s str, flag: &str) -> Result<(&'s str, &'s str)> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k, v)),
        _ => bail!("`--{flag} {s}`: expected NAME=VALUE"),
    }
}

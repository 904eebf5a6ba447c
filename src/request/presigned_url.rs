//! SigV4 presigned S3 URLs: pure parsing of the URL a user pastes into the request facts s3medic
//! evaluates (bucket, key, version, signer's access key, signing time and validity).
//!
//! Accepted forms: path style (`https://s3.REGION.amazonaws.com/BUCKET/KEY?...`,
//! `https://s3.amazonaws.com/BUCKET/KEY?...`, and any custom endpoint such as
//! `http://127.0.0.1:9000/BUCKET/KEY?...`) and virtual-hosted style
//! (`https://BUCKET.s3.REGION.amazonaws.com/KEY?...`, `https://BUCKET.s3.amazonaws.com/KEY?...`).
//! The key and the query values are percent-decoded; `+` is kept as a literal `+` (SDKs encode a
//! space as `%20`, and version ids may contain `+`).
//!
//! A SigV4 presigned URL does not record its HTTP method; the method is part of the signature
//! only, so it cannot be read from the URL.

use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};

/// The only algorithm S3 accepts for query-string authentication with SigV4.
pub const SIGV4_ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// How the bucket is named in the URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressingStyle {
    /// `https://s3.REGION.amazonaws.com/BUCKET/KEY` or a custom endpoint.
    Path,
    /// `https://BUCKET.s3.REGION.amazonaws.com/KEY`.
    VirtualHosted,
}

/// The `X-Amz-Credential` scope: `ACCESS_KEY_ID/DATE/REGION/SERVICE/aws4_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialScope {
    pub access_key_id: String,
    /// `YYYYMMDD`.
    pub date: String,
    pub region: String,
    /// Always `s3`.
    pub service: String,
}

/// A parsed SigV4 presigned S3 URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresignedUrl {
    /// `http` or `https`, lower-case.
    pub scheme: String,
    /// Lower-case host name (IPv6 addresses keep their brackets).
    pub host: String,
    pub port: Option<u16>,
    pub style: AddressingStyle,
    pub bucket: String,
    /// The decoded object key; `None` for a bucket-level URL.
    pub key: Option<String>,
    /// The region of the host name, else of the credential scope.
    pub region: String,
    /// `X-Amz-Algorithm` (always `AWS4-HMAC-SHA256`).
    pub algorithm: String,
    /// `X-Amz-Credential`.
    pub credential: CredentialScope,
    /// `X-Amz-Date`, as written (`20261129T120000Z`).
    pub signed_at: String,
    /// `signed_at` in seconds since the Unix epoch.
    pub signed_at_epoch: i64,
    /// `X-Amz-Expires`, in seconds (not checked against the 7-day limit here: the authorizer
    /// reports that as S3 does).
    pub expires_in: u64,
    /// `X-Amz-SignedHeaders`, lower-case, in order.
    pub signed_headers: Vec<String>,
    /// `X-Amz-Security-Token` is present: the URL was signed with temporary credentials.
    pub security_token: bool,
    /// `versionId`.
    pub version_id: Option<String>,
    /// Every other query parameter (decoded), in order, e.g. `response-content-type`.
    pub other_params: Vec<(String, String)>,
}

/// Why a URL is not a usable SigV4 presigned S3 URL. Every message names the bad part.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PresignedUrlError {
    #[error("the URL must start with `https://` or `http://` (got `{0}`)")]
    Scheme(String),
    #[error("`host`: {0}")]
    Host(String),
    #[error("`port`: `{0}` is not a port number")]
    Port(String),
    #[error("`bucket`: {0}")]
    Bucket(String),
    #[error("`{part}`: `{value}` is not valid percent-encoded UTF-8")]
    Encoding { part: String, value: String },
    #[error(
        "signature version 2 presigned URLs (`AWSAccessKeyId`, `Expires`, `Signature`) are not supported; sign the URL with SigV4 (`X-Amz-Algorithm=AWS4-HMAC-SHA256`), which every current AWS SDK and the AWS CLI do"
    )]
    SigV2,
    #[error("not a complete SigV4 presigned URL: the query lacks {}", list(.0))]
    Missing(Vec<&'static str>),
    #[error("`{0}` is given twice in the query")]
    Duplicate(String),
    #[error("`{0}` is empty")]
    Empty(&'static str),
    #[error("`X-Amz-Algorithm`: `{0}` is not supported (only `AWS4-HMAC-SHA256`, SigV4; SigV4a URLs are not supported)")]
    Algorithm(String),
    #[error("`X-Amz-Credential`: `{value}` {why}")]
    Credential { value: String, why: String },
    #[error("`X-Amz-Date`: `{0}` is not a time of the form `20261129T120000Z`")]
    Date(String),
    #[error("`X-Amz-Expires`: `{0}` is not a whole number of seconds")]
    Expires(String),
}

fn list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A value as shown in an error: at most 80 characters.
fn shown(s: &str) -> String {
    const MAX: usize = 80;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(MAX).collect();
        out.push('…');
        out
    }
}

fn decode(part: &str, s: &str) -> Result<String, PresignedUrlError> {
    percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| PresignedUrlError::Encoding {
            part: part.to_string(),
            value: shown(s),
        })
}

/// The query parameters s3medic reads, by their canonical names.
const AUTH_PARAMS: &[&str] = &[
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
    "X-Amz-Security-Token",
    "versionId",
];

/// The parameters a SigV4 presigned URL must carry.
const REQUIRED: &[&str] = &[
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
];

/// Parses a SigV4 presigned S3 URL. Never panics; every error names the bad part.
pub fn parse(url: &str) -> Result<PresignedUrl, PresignedUrlError> {
    let url = url.trim();
    let (scheme, rest) = url
        .split_once("://")
        .filter(|(s, _)| s.eq_ignore_ascii_case("https") || s.eq_ignore_ascii_case("http"))
        .ok_or_else(|| PresignedUrlError::Scheme(shown(url)))?;
    let scheme = scheme.to_ascii_lowercase();
    // Drop the fragment; it is never sent.
    let rest = rest.split_once('#').map_or(rest, |(r, _)| r);
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, rest) = rest.split_at(authority_end);
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, q),
        None => (rest, ""),
    };
    let (host, port) = split_authority(authority)?;

    // Where the bucket is: in the host (virtual-hosted) or the first path segment.
    let aws = aws_host(&host);
    let (style, bucket, key_raw, host_region) = match aws {
        Some(AwsHost {
            bucket: Some(b),
            region,
        }) => (
            AddressingStyle::VirtualHosted,
            b,
            path.strip_prefix('/').unwrap_or(path),
            region,
        ),
        other => {
            let region = other.and_then(|h| h.region);
            let p = path.strip_prefix('/').unwrap_or(path);
            let (b, k) = p.split_once('/').unwrap_or((p, ""));
            (AddressingStyle::Path, decode("bucket", b)?, k, region)
        }
    };
    if bucket.is_empty() {
        return Err(PresignedUrlError::Bucket(
            "the URL names no bucket (expected `https://s3.REGION.amazonaws.com/BUCKET/KEY?...` or `https://BUCKET.s3.REGION.amazonaws.com/KEY?...`)".into(),
        ));
    }
    if bucket.contains('/') {
        return Err(PresignedUrlError::Bucket(format!(
            "`{}` cannot contain `/`",
            shown(&bucket)
        )));
    }
    let key = match decode("key", key_raw)? {
        k if k.is_empty() => None,
        k => Some(k),
    };

    // The query: decoded (name, value) pairs; the parameters we read at most once each.
    let mut params: Vec<(&'static str, String)> = Vec::new();
    let mut other_params = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (n, v) = pair.split_once('=').unwrap_or((pair, ""));
        let name = decode("query", n)?;
        let value = decode(&name, v)?;
        match AUTH_PARAMS
            .iter()
            .find(|known| known.eq_ignore_ascii_case(&name))
        {
            Some(known) => {
                if params.iter().any(|(k, _)| k == known) {
                    return Err(PresignedUrlError::Duplicate((*known).to_string()));
                }
                params.push((known, value));
            }
            None => other_params.push((name, value)),
        }
    }
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    };

    if get("X-Amz-Algorithm").is_none() {
        let sigv2 = other_params.iter().any(|(k, _)| {
            ["AWSAccessKeyId", "Signature", "Expires"]
                .iter()
                .any(|v2| v2.eq_ignore_ascii_case(k))
        });
        if sigv2 {
            return Err(PresignedUrlError::SigV2);
        }
    }
    let missing: Vec<&'static str> = REQUIRED
        .iter()
        .copied()
        .filter(|n| get(n).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(PresignedUrlError::Missing(missing));
    }
    let required = |name: &'static str| -> Result<&str, PresignedUrlError> {
        match get(name) {
            Some("") => Err(PresignedUrlError::Empty(name)),
            Some(v) => Ok(v),
            None => Err(PresignedUrlError::Missing(vec![name])),
        }
    };

    let algorithm = required("X-Amz-Algorithm")?;
    if algorithm != SIGV4_ALGORITHM {
        return Err(PresignedUrlError::Algorithm(shown(algorithm)));
    }
    let credential = parse_credential(required("X-Amz-Credential")?)?;
    let signed_at = required("X-Amz-Date")?;
    let signed_at_epoch = chrono::NaiveDateTime::parse_from_str(signed_at, "%Y%m%dT%H%M%SZ")
        .ok()
        .filter(|_| signed_at.len() == 16)
        .map(|t| t.and_utc().timestamp())
        .ok_or_else(|| PresignedUrlError::Date(shown(signed_at)))?;
    if signed_at.get(..8) != Some(credential.date.as_str()) {
        return Err(PresignedUrlError::Credential {
            value: shown(get("X-Amz-Credential").unwrap_or_default()),
            why: format!(
                "is scoped to date {} but `X-Amz-Date` is {signed_at}; S3 rejects the URL (AuthorizationQueryParametersError)",
                credential.date
            ),
        });
    }
    let expires_raw = required("X-Amz-Expires")?;
    let expires_in = expires_raw
        .parse::<u64>()
        .ok()
        .filter(|_| expires_raw.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| PresignedUrlError::Expires(shown(expires_raw)))?;
    let signed_headers: Vec<String> = required("X-Amz-SignedHeaders")?
        .split(';')
        .filter(|h| !h.is_empty())
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    if signed_headers.is_empty() {
        return Err(PresignedUrlError::Empty("X-Amz-SignedHeaders"));
    }
    required("X-Amz-Signature")?;
    let security_token = get("X-Amz-Security-Token").is_some_and(|t| !t.is_empty());
    let version_id = match get("versionId") {
        Some("") => return Err(PresignedUrlError::Empty("versionId")),
        v => v.map(str::to_string),
    };
    let region = host_region.unwrap_or_else(|| credential.region.clone());

    Ok(PresignedUrl {
        scheme,
        host,
        port,
        style,
        bucket,
        key,
        region,
        algorithm: algorithm.to_string(),
        credential,
        signed_at: signed_at.to_string(),
        signed_at_epoch,
        expires_in,
        signed_headers,
        security_token,
        version_id,
        other_params,
    })
}

/// `host[:port]`, lower-casing the host; `[v6]:port` for IPv6.
fn split_authority(authority: &str) -> Result<(String, Option<u16>), PresignedUrlError> {
    if authority.is_empty() {
        return Err(PresignedUrlError::Host("the URL has no host".into()));
    }
    if authority.contains('@') {
        return Err(PresignedUrlError::Host(format!(
            "`{}` carries user information, which S3 URLs never do",
            shown(authority)
        )));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (addr, after) = v6.split_once(']').ok_or_else(|| {
            PresignedUrlError::Host(format!("`{}` lacks the closing `]`", shown(authority)))
        })?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or_else(|| {
                PresignedUrlError::Host(format!("`{}` is not `[ADDRESS]:PORT`", shown(authority)))
            })?),
        };
        (format!("[{addr}]"), port)
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (authority.to_string(), None),
        }
    };
    if host.is_empty() || host == "[]" {
        return Err(PresignedUrlError::Host("the URL has no host".into()));
    }
    if !host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-._[]:".contains(c))
    {
        return Err(PresignedUrlError::Host(format!(
            "`{}` is not a host name",
            shown(&host)
        )));
    }
    let port = match port {
        None => None,
        Some(p) => Some(
            p.parse::<u16>()
                .ok()
                .filter(|_| p.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| PresignedUrlError::Port(shown(p)))?,
        ),
    };
    Ok((host.to_ascii_lowercase(), port))
}

/// What an `*.amazonaws.com` S3 host name says.
struct AwsHost {
    /// The bucket of a virtual-hosted-style host.
    bucket: Option<String>,
    region: Option<String>,
}

/// Reads an S3 endpoint host name (`s3.REGION.amazonaws.com`, `s3-REGION.amazonaws.com`,
/// `s3.dualstack.REGION.amazonaws.com`, `BUCKET.s3.REGION.amazonaws.com`, ...); `None` for any
/// other host (a custom endpoint, path style).
fn aws_host(host: &str) -> Option<AwsHost> {
    let base = host
        .strip_suffix(".amazonaws.com")
        .or_else(|| host.strip_suffix(".amazonaws.com.cn"))?;
    // `base` is `s3...` (path style) or `BUCKET.s3...` (virtual-hosted).
    let (bucket, endpoint) = if base == "s3" || base.starts_with("s3.") || base.starts_with("s3-") {
        (None, base)
    } else {
        let at = [".s3.", ".s3-"]
            .iter()
            .filter_map(|m| base.rfind(m))
            .max()
            .or_else(|| base.strip_suffix(".s3").map(|b| b.len()))?;
        (Some(base.get(..at)?.to_string()), base.get(at + 1..)?)
    };
    // The labels after `s3`: a region, perhaps with `dualstack` / `fips` / `accelerate`.
    let after = endpoint.get(2..).unwrap_or_default();
    let after = after
        .strip_prefix('.')
        .or_else(|| after.strip_prefix('-'))
        .unwrap_or(after);
    let region = after
        .split('.')
        .find(|l| {
            l.contains('-')
                && l.ends_with(|c: char| c.is_ascii_digit())
                && *l != "external-1"
                && !l.starts_with("fips-")
        })
        .map(str::to_string);
    Some(AwsHost { bucket, region })
}

fn parse_credential(value: &str) -> Result<CredentialScope, PresignedUrlError> {
    let bad = |why: &str| PresignedUrlError::Credential {
        value: shown(value),
        why: why.to_string(),
    };
    let parts: Vec<&str> = value.split('/').collect();
    let [access_key_id, date, region, service, terminator] = parts.as_slice() else {
        return Err(bad(
            "is not of the form `ACCESS_KEY_ID/YYYYMMDD/REGION/s3/aws4_request`",
        ));
    };
    if access_key_id.is_empty() {
        return Err(bad("names no access key id"));
    }
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("has no date of the form `YYYYMMDD`"));
    }
    if region.is_empty() {
        return Err(bad("names no region"));
    }
    if *service != "s3" {
        return Err(bad(&format!(
            "is scoped to service `{}`, not `s3`",
            shown(service)
        )));
    }
    if *terminator != "aws4_request" {
        return Err(bad("does not end with `aws4_request`"));
    }
    Ok(CredentialScope {
        access_key_id: access_key_id.to_string(),
        date: date.to_string(),
        region: region.to_string(),
        service: service.to_string(),
    })
}

impl PresignedUrl {
    /// The fields of the Request JSON (docs/formats.md) the URL determines: `bucket`, `key`,
    /// `version_id` and `presigned` (`signed_at`, `expires_in`).
    pub fn to_request_fields(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("bucket".into(), Value::String(self.bucket.clone()));
        if let Some(k) = &self.key {
            m.insert("key".into(), Value::String(k.clone()));
        }
        if let Some(v) = &self.version_id {
            m.insert("version_id".into(), Value::String(v.clone()));
        }
        let mut p = Map::new();
        p.insert("signed_at".into(), Value::String(self.signed_at.clone()));
        p.insert("expires_in".into(), self.expires_in.into());
        m.insert("presigned".into(), Value::Object(p));
        m
    }

    /// When the URL stops being valid, in seconds since the Unix epoch (ignoring the signer's
    /// credential lifetime, which the URL does not show).
    pub fn expires_at_epoch(&self) -> i64 {
        self.signed_at_epoch
            .saturating_add(i64::try_from(self.expires_in).unwrap_or(i64::MAX))
    }
}

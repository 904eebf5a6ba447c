//! Error classification: turns an SDK error of one read into what the World records for that
//! part (absent, or unknown with the reason and the IAM permission the read needs), and the fatal
//! errors that stop a collection altogether ([`CollectError`]).
//!
//! Rules (docs/formats.md, "Parts"): a "not found" code of the read (e.g. `NoSuchBucketPolicy`)
//! means the part is **absent**; AccessDenied / AllAccessDisabled / HTTP 403 (also a 403 with an
//! empty body, as moto sends) means **unknown** naming the permission; anything else is unknown
//! with the code and message. A part that could not be read is never absent. A response the SDK
//! could not parse is described briefly ([`short_detail`]), not with the SDK's debug dump.

use std::error::Error as StdError;

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

/// `GetBucketPolicy`: the bucket has no policy.
pub const NO_SUCH_BUCKET_POLICY: &str = "NoSuchBucketPolicy";
/// `GetPublicAccessBlock` (bucket and account): no Block Public Access configuration.
pub const NO_SUCH_PUBLIC_ACCESS_BLOCK: &str = "NoSuchPublicAccessBlockConfiguration";
/// `GetBucketOwnershipControls`: no Object Ownership setting (the bucket predates it).
pub const OWNERSHIP_CONTROLS_NOT_FOUND: &str = "OwnershipControlsNotFoundError";
/// `GetBucketEncryption`: no default encryption configuration.
pub const SSE_CONFIG_NOT_FOUND: &str = "ServerSideEncryptionConfigurationNotFoundError";
/// `GetBucketWebsite`: the bucket is not a website.
pub const NO_SUCH_WEBSITE: &str = "NoSuchWebsiteConfiguration";
/// Any bucket read: the bucket does not exist.
pub const NO_SUCH_BUCKET: &str = "NoSuchBucket";
/// `HeadObject` / `GetObjectAcl`: the key does not exist.
pub const NO_SUCH_KEY: &str = "NoSuchKey";
/// `HeadObject`'s code for a 404 (the response has no body).
pub const NOT_FOUND: &str = "NotFound";

/// Codes that mean the caller is not allowed to make the read.
pub const ACCESS_DENIED_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "AllAccessDisabled",
    "UnauthorizedOperation",
    "Forbidden",
];

/// How an SDK request failed, reduced to what classification needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureKind {
    /// The service answered with an error (a code, or at least an HTTP status).
    Service,
    /// The request could not be sent or no response came back (network, DNS, TLS, timeout).
    Dispatch,
    /// The request could not be built (e.g. no credentials, bad input).
    Construction,
    /// A response came back that could not be understood.
    Response,
}

/// One failed read: the error code, message and HTTP status the service gave, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiFailure {
    /// What kind of failure this is.
    pub kind: FailureKind,
    /// The AWS error code (`AccessDenied`, `NoSuchBucketPolicy` ...), when the response had one.
    pub code: Option<String>,
    /// The error message, when the response had one (or the SDK's description otherwise).
    pub message: Option<String>,
    /// The HTTP status of the response, when there was one.
    pub status: Option<u16>,
}

/// What a failed read means for the World part it was to fill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Classified {
    /// The thing does not exist.
    Absent,
    /// The thing could not be read; the reason, naming the permission when access was denied.
    Unknown(String),
}

impl ApiFailure {
    /// A service error with the given code, message and status (used by tests and fakes).
    pub fn service(code: Option<&str>, message: Option<&str>, status: Option<u16>) -> ApiFailure {
        ApiFailure {
            kind: FailureKind::Service,
            code: code.map(str::to_string),
            message: message.map(str::to_string),
            status,
        }
    }

    /// Reduces any SDK error (of any service) to its code, message and status.
    pub fn from_sdk<E, R>(err: &SdkError<E, R>) -> ApiFailure
    where
        E: ProvideErrorMetadata + StdError + 'static,
        R: std::fmt::Debug + HasStatus + 'static,
    {
        let nonempty = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(str::to_string);
        let status = err.raw_response().map(HasStatus::status_code);
        let kind = match err {
            SdkError::ServiceError(_) => FailureKind::Service,
            SdkError::ConstructionFailure(_) => FailureKind::Construction,
            SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => FailureKind::Dispatch,
            _ => match status {
                Some(s) if s >= 400 => FailureKind::Service,
                _ => FailureKind::Response,
            },
        };
        let (code, mut message) = match err {
            SdkError::ServiceError(_) => (nonempty(err.code()), nonempty(err.message())),
            _ => (None, None),
        };
        if message.is_none() && code.is_none() && !matches!(status, Some(403 | 404)) {
            message = Some(short_detail(&error_chain(err)));
        }
        ApiFailure {
            kind,
            code,
            message,
            status,
        }
    }

    /// Whether the caller was refused (an access-denied code, or HTTP 403 without a code).
    pub fn is_access_denied(&self) -> bool {
        match &self.code {
            Some(c) => ACCESS_DENIED_CODES.contains(&c.as_str()),
            None => self.status == Some(403),
        }
    }

    /// Whether the error code (or, without a code, the HTTP status 404 when `NotFound` is
    /// among `codes`) is one of `codes`.
    pub fn has_code(&self, codes: &[&str]) -> bool {
        match &self.code {
            Some(c) => codes.contains(&c.as_str()),
            None => self.status == Some(404) && codes.contains(&NOT_FOUND),
        }
    }

    /// A short description: `CODE: message`, the HTTP status, or the SDK's description.
    pub fn describe(&self) -> String {
        if self.kind == FailureKind::Response || (self.code.is_none() && self.status == Some(200)) {
            let status = self
                .status
                .map(|s| format!(" (HTTP {s})"))
                .unwrap_or_default();
            let detail = self.message.as_deref().unwrap_or("no detail");
            return format!("unreadable response{status}: {detail}");
        }
        let code = self.code.clone().or_else(|| match self.status {
            Some(403) => Some("AccessDenied".to_string()),
            Some(404) => Some("NotFound".to_string()),
            Some(s) => Some(format!("HTTP {s}")),
            None => None,
        });
        match (code, &self.message) {
            (Some(c), Some(m)) => format!("{c}: {m}"),
            (Some(c), None) => c,
            (None, Some(m)) => m.clone(),
            (None, None) => "unknown error".to_string(),
        }
    }
}

/// The most characters of an SDK description kept in a reason ([`short_detail`]).
pub const MAX_DETAIL_CHARS: usize = 160;

/// The SDK's description of a failure without an error code, made short enough for a reason:
/// for a body that is another XML document than the one expected (moto answers some reads with a
/// `ListBucketResult`), `expected RequestPaymentConfiguration, got ListBucketResult`; for another
/// XML parse error, the part from `error parsing XML`; anything longer than
/// [`MAX_DETAIL_CHARS`] is cut there with an ellipsis.
pub fn short_detail(chain: &str) -> String {
    if let Some(roots) = xml_root_mismatch(chain) {
        return roots;
    }
    let detail = chain
        .find("error parsing XML")
        .map_or(chain, |i| &chain[i..])
        .trim_end_matches(". This is likely a bug in the SDK.");
    match detail.char_indices().nth(MAX_DETAIL_CHARS) {
        Some((cut, _)) => format!("{}…", detail[..cut].trim_end()),
        None => detail.to_string(),
    }
}

/// `expected A, got B` from the SDK's `encountered invalid XML root: expected A but got StartEl {
/// name: Name { prefix: "", local: "B" }, ... }`.
fn xml_root_mismatch(chain: &str) -> Option<String> {
    const ROOT: &str = "invalid XML root: expected ";
    const LOCAL: &str = "local: \"";
    let rest = &chain[chain.find(ROOT)? + ROOT.len()..];
    let (expected, got) = rest.split_once(" but got ")?;
    let local = &got[got.find(LOCAL)? + LOCAL.len()..];
    let actual = &local[..local.find('"')?];
    let plain = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    (plain(expected) && plain(actual)).then(|| format!("expected {expected}, got {actual}"))
}

/// Classifies a failed read whose success needs IAM permission `permission` (e.g.
/// `s3:GetBucketPolicy`): a code in `absent_codes` → absent; access denied →
/// `Unknown("AccessDenied: needs PERMISSION")`; anything else → `Unknown("CODE: message")`.
pub fn classify(failure: &ApiFailure, permission: &str, absent_codes: &[&str]) -> Classified {
    if failure.kind == FailureKind::Service && failure.has_code(absent_codes) {
        return Classified::Absent;
    }
    if failure.is_access_denied() {
        let code = failure.code.as_deref().unwrap_or("AccessDenied");
        return Classified::Unknown(format!("{code}: needs {permission}"));
    }
    Classified::Unknown(failure.describe())
}

/// Anything that has an HTTP status code (the SDK's raw HTTP response).
pub trait HasStatus {
    /// The HTTP status code.
    fn status_code(&self) -> u16;
}

impl HasStatus for aws_sdk_s3::config::http::HttpResponse {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

/// A problem that stops the whole collection (as opposed to one part that could not be read).
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// No credentials could be found or loaded.
    #[error("no AWS credentials: {0} (set AWS_PROFILE / --profile, AWS_ACCESS_KEY_ID, or configure SSO)")]
    NoCredentials(String),
    /// The AWS endpoint could not be reached.
    #[error("cannot reach AWS{endpoint}: {detail}")]
    Unreachable {
        /// ` at URL` when a custom endpoint is set, else empty.
        endpoint: String,
        /// The SDK's description.
        detail: String,
    },
    /// STS GetCallerIdentity failed (the credentials are invalid or expired).
    #[error("sts:GetCallerIdentity failed: {0}")]
    Sts(String),
    /// The configuration is unusable (bad profile, region, endpoint URL ...).
    #[error("invalid AWS configuration: {0}")]
    Config(String),
    /// The account that owns the bucket could not be found out.
    #[error("cannot tell which account owns bucket `{bucket}` ({why}); give it with `--bucket-account ID` (and `--account-role ID=ROLE_ARN` to read it with that account's credentials)")]
    BucketAccount {
        /// The bucket.
        bucket: String,
        /// Why it could not be found out.
        why: String,
    },
    /// The collected data did not form a valid World (a bug in s3medic).
    #[error("the collected data is not a valid World: {0}")]
    World(#[from] crate::world::WorldError),
}

/// Classifies the failure of the first call (STS GetCallerIdentity) into a fatal error.
pub fn fatal_from_sts<E, R>(err: &SdkError<E, R>, endpoint: Option<&str>) -> CollectError
where
    E: ProvideErrorMetadata + StdError + 'static,
    R: std::fmt::Debug + HasStatus + 'static,
{
    let detail = error_chain(err);
    match err {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => {
            let lower = detail.to_ascii_lowercase();
            if lower.contains("credential") {
                CollectError::NoCredentials(detail)
            } else {
                CollectError::Unreachable {
                    endpoint: endpoint.map(|e| format!(" at {e}")).unwrap_or_default(),
                    detail,
                }
            }
        }
        SdkError::ConstructionFailure(_) => {
            if detail.to_ascii_lowercase().contains("credential") {
                CollectError::NoCredentials(detail)
            } else {
                CollectError::Config(detail)
            }
        }
        _ => CollectError::Sts(ApiFailure::from_sdk(err).describe()),
    }
}

/// An error and its sources, as `error: source: source ...` (each message once).
pub fn error_chain(err: &(dyn StdError + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !text.is_empty() && !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

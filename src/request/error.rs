//! Errors of the request model: a malformed request document, an unknown operation, or a request
//! that lacks what its operation needs. Messages are lower-case and quote the input in backticks.

use crate::policy::PolicyError;

/// Everything that can be wrong with a request.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RequestError {
    /// The text is not JSON at all.
    #[error("the request is not valid json: {0}")]
    Json(String),

    /// The document is JSON but not an object.
    #[error("a request must be a json object, not {0}")]
    NotAnObject(&'static str),

    /// A field that the object (`where_`: `request` or a field name) does not know.
    #[error("unknown field `{field}` in {where_}; allowed fields: {}", allowed.join(", "))]
    UnknownField {
        field: String,
        where_: String,
        allowed: Vec<&'static str>,
    },

    /// A required field is missing.
    #[error("missing `{0}`")]
    Missing(&'static str),

    /// A field has the wrong shape or value.
    #[error("`{field}`: {message}")]
    Field { field: String, message: String },

    /// An error inside a field (e.g. a bad principal inside `principal`).
    #[error("`{field}`: {inner}")]
    In {
        field: String,
        inner: Box<RequestError>,
    },

    /// A principal string that does not parse.
    #[error("`{input}` is not a valid principal: {reason}")]
    InvalidPrincipal { input: String, reason: String },

    /// An operation name that is not in the table.
    #[error("unknown operation `{name}`{}", suggestion_text(suggestions, name))]
    UnknownOperation {
        name: String,
        suggestions: Vec<String>,
    },

    /// A raw action that is not a single S3 action.
    #[error("`{action}` is not a valid action: {reason}")]
    InvalidAction { action: String, reason: String },

    /// An object operation without `key`.
    #[error("`{operation}` is an object operation and needs a `key`")]
    MissingKey { operation: String },

    /// A bucket or object operation without `bucket`.
    #[error("`{operation}` needs a `bucket`")]
    MissingBucket { operation: String },

    /// CopyObject / UploadPartCopy without `copy_source`.
    #[error("`{operation}` copies an object and needs a `copy_source`")]
    MissingCopySource { operation: String },

    /// `copy_source` on an operation that does not copy.
    #[error("`copy_source` is only used by CopyObject and UploadPartCopy, not by `{operation}`")]
    UnexpectedCopySource { operation: String },

    /// The session policy does not parse.
    #[error("`session_policy`: {}", policy_error_text(.0))]
    SessionPolicy(PolicyError),
}

fn suggestion_text(suggestions: &[String], name: &str) -> String {
    let mut out = String::new();
    if !suggestions.is_empty() {
        let quoted: Vec<String> = suggestions.iter().map(|s| format!("`{s}`")).collect();
        out.push_str("; did you mean ");
        out.push_str(&quoted.join(" or "));
        out.push('?');
    }
    if name.contains(':') {
        out.push_str(" (an iam action such as `s3:GetObject` goes in `action`, not `operation`)");
    } else {
        out.push_str(" (any s3 action can also be given as a raw iam action in `action`)");
    }
    out
}

fn policy_error_text(e: &PolicyError) -> String {
    match e.statement {
        Some(i) => format!("statement {i}: {}", e.message),
        None => e.message.clone(),
    }
}

impl RequestError {
    /// Wraps `self` as an error inside `field`.
    pub fn in_field(self, field: &str) -> RequestError {
        RequestError::In {
            field: field.to_string(),
            inner: Box::new(self),
        }
    }

    pub(crate) fn field(field: &str, message: impl Into<String>) -> RequestError {
        RequestError::Field {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

//! Errors raised while loading a World: each names the offending input precisely.
//!
//! Paths are written the way a reader finds the place in the file: by name once the thing has one
//! (`bucket `b`: bucket policy`), by JSON index before that (`` `buckets[3]` ``).

/// A World document that cannot be loaded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WorldError {
    /// The text is not JSON at all.
    #[error("invalid JSON at line {line} column {column}: {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    /// `format_version` is something other than 1.
    #[error("unsupported `format_version` {0}")]
    UnsupportedVersion(String),
    /// A value is missing, has the wrong type, or is not one of the accepted values.
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    /// A policy document embedded in the World is malformed.
    #[error("{path}: {}{message}", statement_prefix(*.statement, .sid.as_deref(), message))]
    Policy {
        /// Where the policy is (`bucket `b`: bucket policy`).
        path: String,
        /// 0-based index of the offending statement, when the error is inside one.
        statement: Option<usize>,
        /// That statement's `Sid`, when it has one.
        sid: Option<String>,
        /// The policy parser's message (it names the statement itself; when it does not, the
        /// statement is named in front of it).
        message: String,
    },
}

fn statement_prefix(statement: Option<usize>, sid: Option<&str>, message: &str) -> String {
    if message.starts_with("statement ") {
        return String::new();
    }
    match (statement, sid) {
        (Some(i), Some(sid)) if !sid.is_empty() => format!("statement {i} (`{sid}`): "),
        (Some(i), _) => format!("statement {i}: "),
        (None, _) => String::new(),
    }
}

impl WorldError {
    /// The path of the offending input (empty for whole-document errors).
    pub fn path(&self) -> &str {
        match self {
            WorldError::Json { .. } | WorldError::UnsupportedVersion(_) => "",
            WorldError::Invalid { path, .. } | WorldError::Policy { path, .. } => path,
        }
    }

    pub(crate) fn invalid(path: &str, message: impl Into<String>) -> Self {
        WorldError::Invalid {
            path: path.to_string(),
            message: message.into(),
        }
    }

    pub(crate) fn from_json(e: &serde_json::Error) -> Self {
        let full = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        let message = full.strip_suffix(&suffix).unwrap_or(&full).to_string();
        WorldError::Json {
            line: e.line(),
            column: e.column(),
            message,
        }
    }
}

//! The authorizer: decides an S3 request against a World exactly as AWS does and records why.
//! Pure: no I/O. Entry point: [`authorize`].

mod authorize;
pub mod caller;
pub mod combine;
pub mod context;
pub mod layers;
pub mod ownership;
pub mod public;
pub mod trace;

pub use authorize::{authorize, decide};
pub use trace::{
    AclGrantee, AuthorizationTrace, Decision, Layer, LayerOutcome, LayerTrace, Outcome, PolicyRef,
    Reason, StatementResult, StatementTrace, DECISION_FORMAT_VERSION,
};

/// Why a request could not be evaluated at all.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("bucket `{0}` is not in the world")]
    UnknownBucket(String),
    #[error(transparent)]
    Request(#[from] crate::request::RequestError),
}

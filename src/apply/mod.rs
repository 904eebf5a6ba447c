//! `apply` and `rollback`: the only part of the library besides `collect` that writes to AWS.
//!
//! A plan file is applied without re-planning: every target is re-read ([`read`]) and compared
//! with the plan's `before_digest` (stale plan → nothing written), the exact prior state of every
//! target is saved as a rollback [`snapshot`] before the first write, the changes are written in
//! the plan's order ([`write`]) and each is read back until it matches (IAM is eventually
//! consistent); on any failure every write already made is undone, newest first
//! ([`execute`]). A snapshot can later be restored with [`execute::rollback`].
//!
//! Reads and writes go through the [`Store`] trait: [`AwsStore`] talks to AWS through the SDK
//! clients of [`crate::collect::Clients`]; tests use an in-memory store.

pub mod checks;
pub mod execute;
pub mod read;
pub mod snapshot;
pub mod write;

use std::future::Future;

use serde_json::Value;

use crate::collect::Clients;
use crate::plan::Target;

pub use execute::{
    apply, apply_with, parse_plan, rollback_with, stale_change, ApplyOptions, ApplyReport,
    ApplyStatus, PlanFile, RollbackReport, RollbackStatus, StaleChange, UndoFailure,
};
pub use snapshot::{Snapshot, SnapshotEntry, SNAPSHOT_FORMAT_VERSION};

/// Anything that can go wrong reading or writing a target, or with the files apply uses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    /// An AWS call failed (`what`: the call and its target; `detail`: code and message).
    #[error("{what} failed: {detail}")]
    Api { what: String, detail: String },
    /// A document (from the plan, the snapshot or AWS) cannot be used for the target.
    #[error("invalid document for {target}: {detail}")]
    Document { target: String, detail: String },
    /// The write would be unsafe (e.g. a key policy that locks everyone out of the key).
    #[error("refused: {0}")]
    Unsafe(String),
    /// The target cannot be written this way (e.g. deleting a key policy).
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The plan file is not a valid plan.
    #[error("invalid plan file `{file}`: {detail}")]
    PlanFile { file: String, detail: String },
    /// The snapshot file is not a valid snapshot, or could not be written or read.
    #[error("snapshot `{file}`: {detail}")]
    Snapshot { file: String, detail: String },
    /// A write was made but reading it back never showed the expected document.
    #[error("read-back of {target} does not match what was written (after {tries} reads)")]
    Verify { target: String, tries: u32 },
}

/// Reads and writes the document of a target (the JSON shape of [`crate::plan::target::document`];
/// `null`: the document does not exist / delete it).
pub trait Store {
    /// The target's current document.
    fn read(&self, target: &Target) -> impl Future<Output = Result<Value, ApplyError>> + Send;
    /// Makes the target's document `doc` (`null`: delete it).
    fn write(
        &self,
        target: &Target,
        doc: &Value,
    ) -> impl Future<Output = Result<(), ApplyError>> + Send;
}

/// The AWS implementation of [`Store`], over the SDK clients of a collection.
#[derive(Debug, Clone)]
pub struct AwsStore {
    pub clients: Clients,
}

impl AwsStore {
    pub fn new(clients: Clients) -> AwsStore {
        AwsStore { clients }
    }
}

impl Store for AwsStore {
    fn read(&self, target: &Target) -> impl Future<Output = Result<Value, ApplyError>> + Send {
        read::read_document(&self.clients, target)
    }

    fn write(
        &self,
        target: &Target,
        doc: &Value,
    ) -> impl Future<Output = Result<(), ApplyError>> + Send {
        write::write_document(&self.clients, target, doc)
    }
}

/// A short label for a target, for messages (`bucket policy of `b``).
pub fn target_label(t: &Target) -> String {
    use crate::plan::PrincipalType;
    match t {
        Target::BucketPolicy { bucket } => format!("bucket policy of `{bucket}`"),
        Target::BucketOwnership { bucket } => format!("Object Ownership of `{bucket}`"),
        Target::BucketAcl { bucket } => format!("ACL of `{bucket}`"),
        Target::BucketPublicAccessBlock { bucket } => {
            format!("Block Public Access of bucket `{bucket}`")
        }
        Target::AccountPublicAccessBlock { account } => {
            format!("Block Public Access of account `{account}`")
        }
        Target::InlinePolicy {
            principal,
            name,
            policy_name,
            ..
        } => {
            let kind = match principal {
                PrincipalType::User => "user",
                PrincipalType::Role => "role",
            };
            format!("inline policy `{policy_name}` of {kind} `{name}`")
        }
        Target::ManagedPolicy { arn } => format!("managed policy `{arn}`"),
        Target::KeyPolicy { key_arn } => format!("key policy of `{key_arn}`"),
        Target::DistributionOrigin {
            distribution_id,
            origin_id,
        } => format!("origin `{origin_id}` of distribution `{distribution_id}`"),
    }
}

//! `apply` and `rollback`: the only part of the library besides `collect` that writes to AWS.
//!
//! A plan file is applied without re-planning: every target is re-read ([`read`]) and compared
//! with the plan's `before_digest` (stale plan → nothing written), the exact prior state of every
//! target is saved as a rollback [`snapshot`] before the first write, the changes are written in
//! the plan's order ([`write`]) and each is read back until it matches (IAM is eventually
//! consistent); on any failure every write already made is undone, newest first
//! ([`execute`]). A snapshot can later be restored with [`execute::rollback_with`]. Undo and
//! rollback restore exactly: a customer managed policy gets its previous default version back
//! and loses the version apply created ([`managed`]); an origin access control apply created is
//! deleted once the origin no longer uses it ([`origin`]). [`steps`] dispatches one change's
//! write and restore.
//!
//! Reads and writes go through the [`Store`] trait: [`AwsStore`] talks to AWS through the SDK
//! clients of [`crate::collect::Clients`]; tests use an in-memory store.

pub mod checks;
pub mod execute;
pub mod managed;
pub mod origin;
pub mod read;
pub mod snapshot;
pub mod steps;
pub mod write;

use std::future::Future;

use serde_json::Value;

use crate::collect::Clients;
use crate::plan::Target;

pub use execute::{
    apply, apply_with, parse_plan, rollback_with, stale_change, ApplyOptions, ApplyReport,
    ApplyStatus, PlanFile, RollbackReport, RollbackStatus, StaleChange, UndoFailure,
};
pub use snapshot::{
    OacState, PolicyVersionsState, SavedPolicyVersion, Snapshot, SnapshotEntry,
    SNAPSHOT_FORMAT_VERSION,
};

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
/// `null`: the document does not exist / delete it), and the few calls an exact undo needs
/// beyond documents: managed-policy versions and CloudFront origin access controls.
pub trait Store {
    /// The target's current document.
    fn read(&self, target: &Target) -> impl Future<Output = Result<Value, ApplyError>> + Send;
    /// Makes the target's document `doc` (`null`: delete it). A managed policy gets a new default
    /// version (the oldest non-default version is deleted first at IAM's limit of five).
    fn write(
        &self,
        target: &Target,
        doc: &Value,
    ) -> impl Future<Output = Result<(), ApplyError>> + Send;

    /// Every version of the managed policy `arn` (`ListPolicyVersions`).
    fn policy_versions(
        &self,
        arn: &str,
    ) -> impl Future<Output = Result<Vec<checks::PolicyVersion>, ApplyError>> + Send;
    /// The document of one version (`GetPolicyVersion`); `None` when the version does not exist.
    fn policy_version_document(
        &self,
        arn: &str,
        version_id: &str,
    ) -> impl Future<Output = Result<Option<Value>, ApplyError>> + Send;
    /// Creates a version holding `doc` (`CreatePolicyVersion`); returns its id.
    fn create_policy_version(
        &self,
        arn: &str,
        doc: &Value,
        set_as_default: bool,
    ) -> impl Future<Output = Result<String, ApplyError>> + Send;
    /// Makes an existing version the default (`SetDefaultPolicyVersion`).
    fn set_default_policy_version(
        &self,
        arn: &str,
        version_id: &str,
    ) -> impl Future<Output = Result<(), ApplyError>> + Send;
    /// Deletes a non-default version (`DeletePolicyVersion`); a version that does not exist is
    /// not an error.
    fn delete_policy_version(
        &self,
        arn: &str,
        version_id: &str,
    ) -> impl Future<Output = Result<(), ApplyError>> + Send;

    /// The id of the origin access control named `name`, if one exists (`target`: the origin it
    /// is for, named in errors).
    fn find_origin_access_control(
        &self,
        target: &Target,
        name: &str,
    ) -> impl Future<Output = Result<Option<String>, ApplyError>> + Send;
    /// Creates an S3 origin access control named `name` (always sign, SigV4); returns its id.
    fn create_origin_access_control(
        &self,
        target: &Target,
        name: &str,
    ) -> impl Future<Output = Result<String, ApplyError>> + Send;
    /// Whether the origin access control `id` exists.
    fn origin_access_control_exists(
        &self,
        target: &Target,
        id: &str,
    ) -> impl Future<Output = Result<bool, ApplyError>> + Send;
    /// Deletes the origin access control `id` with `If-Match` (its current ETag); one that does
    /// not exist is not an error.
    fn delete_origin_access_control(
        &self,
        target: &Target,
        id: &str,
    ) -> impl Future<Output = Result<(), ApplyError>> + Send;
}

/// The AWS implementation of [`Store`], over the SDK clients of a collection. A target in another
/// account (a plan that writes in two accounts) is read and written with that account's clients
/// when [`AwsStore::route`] gave them; everything else with `clients`.
#[derive(Debug, Clone)]
pub struct AwsStore {
    pub clients: Clients,
    /// Account id → that account's own clients.
    pub accounts: std::collections::BTreeMap<String, Clients>,
    /// The account of each routed target.
    pub routes: Vec<(Target, String)>,
}

impl AwsStore {
    pub fn new(clients: Clients) -> AwsStore {
        AwsStore {
            clients,
            accounts: std::collections::BTreeMap::new(),
            routes: Vec::new(),
        }
    }

    /// Reads and writes `target`, which is in `account`, with `clients` (that account's own).
    pub fn route(mut self, target: &Target, account: &str, clients: Clients) -> AwsStore {
        self.accounts.insert(account.to_string(), clients);
        self.routes.push((target.clone(), account.to_string()));
        self
    }

    /// The clients that read and write `target`.
    pub fn clients_for(&self, target: &Target) -> &Clients {
        self.routes
            .iter()
            .find(|(t, _)| t == target)
            .and_then(|(_, a)| self.accounts.get(a))
            .unwrap_or(&self.clients)
    }

    /// The clients for an ARN (a managed policy's): its account's own, when routed.
    pub fn clients_for_arn(&self, arn: &str) -> &Clients {
        arn.split(':')
            .nth(4)
            .and_then(|a| self.accounts.get(a))
            .unwrap_or(&self.clients)
    }
}

impl Store for AwsStore {
    fn read(&self, target: &Target) -> impl Future<Output = Result<Value, ApplyError>> + Send {
        read::read_document(self.clients_for(target), target)
    }

    fn write(
        &self,
        target: &Target,
        doc: &Value,
    ) -> impl Future<Output = Result<(), ApplyError>> + Send {
        write::write_document(self.clients_for(target), target, doc)
    }

    fn policy_versions(
        &self,
        arn: &str,
    ) -> impl Future<Output = Result<Vec<checks::PolicyVersion>, ApplyError>> + Send {
        write::list_policy_versions(self.clients_for_arn(arn), arn)
    }

    fn policy_version_document(
        &self,
        arn: &str,
        version_id: &str,
    ) -> impl Future<Output = Result<Option<Value>, ApplyError>> + Send {
        read::policy_version_document(self.clients_for_arn(arn), arn, version_id)
    }

    fn create_policy_version(
        &self,
        arn: &str,
        doc: &Value,
        set_as_default: bool,
    ) -> impl Future<Output = Result<String, ApplyError>> + Send {
        write::create_policy_version(self.clients_for_arn(arn), arn, doc, set_as_default)
    }

    fn set_default_policy_version(
        &self,
        arn: &str,
        version_id: &str,
    ) -> impl Future<Output = Result<(), ApplyError>> + Send {
        write::set_default_policy_version(self.clients_for_arn(arn), arn, version_id)
    }

    fn delete_policy_version(
        &self,
        arn: &str,
        version_id: &str,
    ) -> impl Future<Output = Result<(), ApplyError>> + Send {
        write::delete_policy_version(self.clients_for_arn(arn), arn, version_id)
    }

    fn find_origin_access_control(
        &self,
        target: &Target,
        name: &str,
    ) -> impl Future<Output = Result<Option<String>, ApplyError>> + Send {
        write::find_oac(self.clients_for(target), target, name)
    }

    fn create_origin_access_control(
        &self,
        target: &Target,
        name: &str,
    ) -> impl Future<Output = Result<String, ApplyError>> + Send {
        write::create_oac(self.clients_for(target), target, name)
    }

    fn origin_access_control_exists(
        &self,
        target: &Target,
        id: &str,
    ) -> impl Future<Output = Result<bool, ApplyError>> + Send {
        read::oac_exists(self.clients_for(target), target, id)
    }

    fn delete_origin_access_control(
        &self,
        target: &Target,
        id: &str,
    ) -> impl Future<Output = Result<(), ApplyError>> + Send {
        write::delete_oac(self.clients_for(target), target, id)
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

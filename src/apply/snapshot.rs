//! The rollback snapshot: the exact prior state of every target a plan touches (`null`: it did
//! not exist), saved as JSON before `apply` writes anything, and read by `rollback`. Besides the
//! document, an entry records what apply changes around it: a managed policy's version state (the
//! previous default version, the versions that existed, the document of a version deleted to make
//! room, the version apply created) and a CloudFront origin access control apply created. Those
//! are filled in after the write, so `apply` rewrites the file in place (atomically) after it.
//!
//! Format 2 (this version) adds those records; format 1 files (without them) are still read: their
//! managed-policy entries are restored by a new default version holding the saved document.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ApplyError;
use crate::plan::Target;

/// Version of the snapshot file format written.
pub const SNAPSHOT_FORMAT_VERSION: u32 = 2;

/// Every snapshot format version `rollback` reads.
pub const SNAPSHOT_FORMAT_VERSIONS_READ: &[u32] = &[1, 2];

/// The default snapshot directory (relative to the working directory).
pub const DEFAULT_SNAPSHOT_DIR: &str = ".s3medic/snapshots";

/// A rollback snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub format_version: u32,
    /// The digest of the plan file (`sha256:` + hex SHA-256 of its canonical JSON).
    pub plan_id: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// One entry per change, in the plan's (apply) order.
    pub entries: Vec<SnapshotEntry>,
}

/// The prior state of one target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotEntry {
    /// The plan's change id (`c1` ...).
    #[serde(default)]
    pub change: String,
    pub target: Target,
    pub account: String,
    pub resource: String,
    /// The exact document before apply (`null`: it did not exist).
    pub document: Value,
    /// What restoring this document cannot undo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_caveat: Option<String>,
    /// A customer managed policy: its versions before apply, and the version apply created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_versions: Option<PolicyVersionsState>,
    /// A CloudFront origin whose new origin access control apply creates (`new:NAME`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_access_control: Option<OacState>,
}

impl SnapshotEntry {
    /// An entry with the document only (no version or origin access control record).
    pub fn new(
        change: &str,
        target: Target,
        account: &str,
        resource: &str,
        document: Value,
    ) -> SnapshotEntry {
        SnapshotEntry {
            change: change.to_string(),
            target,
            account: account.to_string(),
            resource: resource.to_string(),
            document,
            rollback_caveat: None,
            policy_versions: None,
            origin_access_control: None,
        }
    }
}

/// The version state of a customer managed policy before apply wrote a new default version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyVersionsState {
    /// The default version before apply (`v3`); rollback makes it the default again.
    pub default_version_id: String,
    /// Every version that existed before apply.
    pub version_ids: Vec<String>,
    /// The non-default version apply deletes to stay within IAM's five versions, with its
    /// document: rollback recreates it (under a new version id: IAM never reuses one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pruned: Option<SavedPolicyVersion>,
    /// The version apply created (filled in after the write); rollback deletes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_version_id: Option<String>,
}

/// One saved managed-policy version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedPolicyVersion {
    pub version_id: String,
    pub document: Value,
}

/// The origin access control a CloudFront origin change asks for by name (`new:NAME`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OacState {
    /// The control's name.
    pub name: String,
    /// A control of that name existed before apply: apply reuses it and rollback never deletes it.
    pub existed: bool,
    /// The id of the control apply created (filled in after it is created); rollback deletes it
    /// once the origin no longer references it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_id: Option<String>,
}

impl Snapshot {
    /// A snapshot of `entries` for the plan `plan_id`, stamped now.
    pub fn new(plan_id: &str, entries: Vec<SnapshotEntry>) -> Snapshot {
        Snapshot {
            format_version: SNAPSHOT_FORMAT_VERSION,
            plan_id: plan_id.to_string(),
            created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            entries,
        }
    }

    /// Parses a snapshot file's text (`file` names it in errors).
    pub fn from_json_str(text: &str, file: &str) -> Result<Snapshot, ApplyError> {
        let err = |detail: String| ApplyError::Snapshot {
            file: file.to_string(),
            detail,
        };
        let v: Value = serde_json::from_str(text).map_err(|e| err(format!("not JSON: {e}")))?;
        match v.get("format_version").and_then(Value::as_u64) {
            Some(n)
                if SNAPSHOT_FORMAT_VERSIONS_READ
                    .iter()
                    .any(|&r| u64::from(r) == n) => {}
            Some(n) => {
                return Err(err(format!(
                    "unsupported format_version {n} (this s3medic reads {})",
                    SNAPSHOT_FORMAT_VERSIONS_READ
                        .iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(" and ")
                )))
            }
            None => {
                return Err(err(
                    "missing `format_version`: not an s3medic snapshot".into()
                ))
            }
        }
        serde_json::from_value(v).map_err(|e| err(e.to_string()))
    }

    /// Reads a snapshot file.
    pub fn load(path: &Path) -> Result<Snapshot, ApplyError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ApplyError::Snapshot {
            file: file.clone(),
            detail: format!("cannot read: {e}"),
        })?;
        Snapshot::from_json_str(&text, &file)
    }

    /// The file name: `<first 12 hex digits of the plan id>-<UTC timestamp>`.
    pub fn file_stem(&self) -> String {
        let short: String = self
            .plan_id
            .trim_start_matches("sha256:")
            .chars()
            .take(12)
            .collect();
        let stamp: String = self
            .created_at
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        format!("{short}-{stamp}")
    }

    /// Saves the snapshot in `dir` (created when missing) as `<stem>.json`, atomically (a
    /// temporary file renamed into place) and never over an existing file. Returns the path.
    pub fn save(&self, dir: &Path) -> Result<PathBuf, ApplyError> {
        std::fs::create_dir_all(dir).map_err(|e| ApplyError::Snapshot {
            file: dir.display().to_string(),
            detail: format!("cannot create: {e}"),
        })?;
        let stem = self.file_stem();
        let mut path = dir.join(format!("{stem}.json"));
        let mut n = 1;
        while path.exists() {
            path = dir.join(format!("{stem}-{n}.json"));
            n += 1;
        }
        self.write_atomically(&path)?;
        Ok(path)
    }

    /// Rewrites the snapshot saved at `path` (apply records what a write created), atomically:
    /// the file holds either the old or the new snapshot, never part of one.
    pub fn save_as(&self, path: &Path) -> Result<(), ApplyError> {
        self.write_atomically(path)
    }

    fn write_atomically(&self, path: &Path) -> Result<(), ApplyError> {
        let err = |detail: String| ApplyError::Snapshot {
            file: path.display().to_string(),
            detail,
        };
        let text = serde_json::to_string_pretty(self).map_err(|e| err(e.to_string()))? + "\n";
        if let Err(e) = crate::atomic_file::write_atomically(path, text.as_bytes()) {
            return Err(err(format!("cannot write: {e}")));
        }
        Ok(())
    }
}

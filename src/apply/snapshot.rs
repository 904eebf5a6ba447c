//! The rollback snapshot: the exact prior state of every target a plan touches (`null`: it did
//! not exist), saved as JSON before `apply` writes anything, and read by `rollback`.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ApplyError;
use crate::plan::Target;

/// Version of the snapshot file format.
pub const SNAPSHOT_FORMAT_VERSION: u32 = 1;

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
            Some(n) if n == u64::from(SNAPSHOT_FORMAT_VERSION) => {}
            Some(n) => return Err(err(format!("unsupported format_version {n} (expected 1)"))),
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
        let err = |file: &Path, detail: String| ApplyError::Snapshot {
            file: file.display().to_string(),
            detail,
        };
        std::fs::create_dir_all(dir).map_err(|e| err(dir, format!("cannot create: {e}")))?;
        let text = serde_json::to_string_pretty(self).map_err(|e| err(dir, e.to_string()))? + "\n";
        let stem = self.file_stem();
        let mut path = dir.join(format!("{stem}.json"));
        let mut n = 1;
        while path.exists() {
            path = dir.join(format!("{stem}-{n}.json"));
            n += 1;
        }
        let tmp = dir.join(format!(".{stem}.s3medic-tmp-{}", std::process::id()));
        let result = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            drop(f);
            std::fs::rename(&tmp, &path)
        })();
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(err(&path, format!("cannot write: {e}")));
        }
        Ok(path)
    }
}

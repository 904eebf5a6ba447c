//! Customer managed policies, written and undone exactly. `apply` writes a managed policy as a new
//! default version (`CreatePolicyVersion`); at IAM's limit of five versions it first deletes the
//! oldest non-default one. Before the write, [`prepare`] records the previous default version,
//! every version id, and the document of the version that will be deleted (the snapshot keeps
//! them); [`write`] records the version it created. Undo and rollback then restore the version
//! state rather than adding yet another version: [`plan_restore`] works out the steps from what
//! exists now — set the previous default back as the default, delete the version apply created,
//! recreate the deleted version (under a new id: IAM never reuses version ids) — and [`run`]
//! makes them. When the previous default version no longer exists, a new default version holding
//! the saved document takes its place, and a note says so.

use serde_json::Value;

use super::checks::{documents_match, version_to_prune, MAX_POLICY_VERSIONS};
use super::snapshot::{PolicyVersionsState, SavedPolicyVersion};
use super::{ApplyError, Store};
use crate::plan::Target;

/// One step of restoring a managed policy's versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionStep {
    /// Make the previous default version the default again (`SetDefaultPolicyVersion`).
    SetDefault { version_id: String },
    /// The previous default version no longer exists and the policy has five versions: delete
    /// this non-default version to make room for the replacement.
    MakeRoom { version_id: String },
    /// The previous default version `previous` no longer exists: create a new default version
    /// holding the saved document.
    CreateDefault { previous: String },
    /// Delete the version apply created.
    DeleteCreated { version_id: String },
    /// Recreate the version apply deleted to make room (it gets a new id).
    Recreate { version_id: String },
}

impl VersionStep {
    /// The step for a person (`arn`: the policy).
    pub fn describe(&self, arn: &str) -> String {
        match self {
            VersionStep::SetDefault { version_id } => {
                format!("set version `{version_id}` of `{arn}` as the default again")
            }
            VersionStep::MakeRoom { version_id } => format!(
                "delete version `{version_id}` of `{arn}` to make room (IAM keeps {MAX_POLICY_VERSIONS} versions)"
            ),
            VersionStep::CreateDefault { previous } => format!(
                "the previous default version `{previous}` of `{arn}` no longer exists: create a new default version with the saved document"
            ),
            VersionStep::DeleteCreated { version_id } => {
                format!("delete version `{version_id}` of `{arn}` (created by apply)")
            }
            VersionStep::Recreate { version_id } => format!(
                "recreate version `{version_id}` of `{arn}` (deleted by apply to make room) from the snapshot, under a new version id"
            ),
        }
    }
}

fn target(arn: &str) -> Target {
    Target::ManagedPolicy {
        arn: arn.to_string(),
    }
}

fn same_policy(arn: &str, a: &Value, b: &Value) -> bool {
    documents_match(&target(arn), a, b)
}

/// The version state to save before `arn` gets a new default version: the default version, every
/// version id, and the version (with its document) that the write will delete to make room.
/// `None` when the policy has no default version (it does not exist).
pub async fn prepare<S: Store>(
    store: &S,
    arn: &str,
) -> Result<Option<PolicyVersionsState>, ApplyError> {
    let versions = store.policy_versions(arn).await?;
    let Some(default) = versions.iter().find(|v| v.is_default) else {
        return Ok(None);
    };
    let pruned = match version_to_prune(&versions) {
        Some(id) => {
            let document = store
                .policy_version_document(arn, &id)
                .await?
                .ok_or_else(|| ApplyError::Api {
                    what: format!("GetPolicyVersion `{id}` on managed policy `{arn}`"),
                    detail: "the version disappeared while it was being saved".into(),
                })?;
            Some(SavedPolicyVersion {
                version_id: id,
                document,
            })
        }
        None => None,
    };
    Ok(Some(PolicyVersionsState {
        default_version_id: default.id.clone(),
        version_ids: versions.iter().map(|v| v.id.clone()).collect(),
        pruned,
        created_version_id: None,
    }))
}

/// Writes `doc` as the new default version: deletes the version `st` says to delete (saved in
/// the snapshot), creates the version and records its id in `st`. `Err((made, e))`: `made` when
/// something was already changed (a version deleted).
pub async fn write<S: Store>(
    store: &S,
    arn: &str,
    doc: &Value,
    st: &mut PolicyVersionsState,
) -> Result<(), (bool, ApplyError)> {
    let mut made = false;
    if let Some(p) = &st.pruned {
        store
            .delete_policy_version(arn, &p.version_id)
            .await
            .map_err(|e| (false, e))?;
        made = true;
    }
    let id = store
        .create_policy_version(arn, doc, true)
        .await
        .map_err(|e| (made, e))?;
    st.created_version_id = Some(id);
    Ok(())
}

/// The steps that bring `arn` back to the version state `st` recorded, given the versions that
/// exist now and the current default document `current` (`saved`: the previous default's
/// document). Empty when nothing is left to restore.
pub async fn plan_restore<S: Store>(
    store: &S,
    arn: &str,
    saved: &Value,
    current: &Value,
    st: &PolicyVersionsState,
) -> Result<Vec<VersionStep>, ApplyError> {
    let versions = store.policy_versions(arn).await?;
    let versions = versions.as_slice();
    let exists = |id: &str| versions.iter().any(|v| v.id == id);
    let default_now = versions.iter().find(|v| v.is_default).map(|v| v.id.clone());
    let is_new = |id: &str| !st.version_ids.iter().any(|v| v == id);
    // The version apply created: as recorded, or (apply stopped before recording it) the current
    // default when it did not exist before apply.
    let mut created = match &st.created_version_id {
        Some(id) => exists(id).then(|| id.clone()),
        None => default_now.clone().filter(|d| is_new(d)),
    };
    let mut steps = Vec::new();
    let prev = st.default_version_id.as_str();
    if default_now.as_deref() != Some(prev) {
        if exists(prev) {
            steps.push(VersionStep::SetDefault {
                version_id: prev.to_string(),
            });
        } else {
            // A replacement made by an earlier rollback already holds the saved document.
            let replaced = default_now
                .as_deref()
                .is_some_and(|d| is_new(d) && created.as_deref() != Some(d))
                && same_policy(arn, current, saved);
            if !replaced {
                if versions.len() >= MAX_POLICY_VERSIONS {
                    let victim = created
                        .clone()
                        .filter(|c| default_now.as_deref() != Some(c.as_str()))
                        .or_else(|| version_to_prune(versions));
                    if let Some(v) = victim {
                        if created.as_deref() == Some(v.as_str()) {
                            created = None;
                        }
                        steps.push(VersionStep::MakeRoom { version_id: v });
                    }
                }
                steps.push(VersionStep::CreateDefault {
                    previous: prev.to_string(),
                });
            }
        }
    }
    let default_after = match steps.last() {
        Some(VersionStep::SetDefault { version_id }) => Some(version_id.clone()),
        Some(VersionStep::CreateDefault { .. }) => None,
        _ => default_now.clone(),
    };
    if let Some(c) = created.clone() {
        if default_after.as_deref() != Some(c.as_str()) {
            steps.push(VersionStep::DeleteCreated { version_id: c });
        }
    }
    if let Some(p) = &st.pruned {
        // Recreated already (by an earlier rollback): a version that did not exist before apply,
        // not the one apply created, holding the saved document.
        let mut present = false;
        for v in versions {
            if !is_new(&v.id) || created.as_deref() == Some(v.id.as_str()) || v.is_default {
                continue;
            }
            if let Some(doc) = store.policy_version_document(arn, &v.id).await? {
                if same_policy(arn, &doc, &p.document) {
                    present = true;
                    break;
                }
            }
        }
        if !present {
            steps.push(VersionStep::Recreate {
                version_id: p.version_id.clone(),
            });
        }
    }
    Ok(steps)
}

/// Makes the steps, in order, restoring `saved` (the previous default's document) and the
/// deleted version of `st`. What is worth saying (a new version id, a replaced default) is added
/// to `notes`.
pub async fn run<S: Store>(
    store: &S,
    arn: &str,
    saved: &Value,
    st: &PolicyVersionsState,
    steps: &[VersionStep],
    notes: &mut Vec<String>,
) -> Result<(), ApplyError> {
    for step in steps {
        match step {
            VersionStep::SetDefault { version_id } => {
                store.set_default_policy_version(arn, version_id).await?;
            }
            VersionStep::MakeRoom { version_id } => {
                store.delete_policy_version(arn, version_id).await?;
                notes.push(format!(
                    "managed policy `{arn}`: deleted version `{version_id}` to make room for the restored default version (IAM keeps {MAX_POLICY_VERSIONS} versions)"
                ));
            }
            VersionStep::CreateDefault { previous } => {
                let id = store.create_policy_version(arn, saved, true).await?;
                notes.push(format!(
                    "managed policy `{arn}`: the previous default version `{previous}` no longer exists; its saved document was restored as the new default version `{id}`"
                ));
            }
            VersionStep::DeleteCreated { version_id } => {
                store.delete_policy_version(arn, version_id).await?;
            }
            VersionStep::Recreate { version_id } => {
                let Some(p) = &st.pruned else { continue };
                let id = store.create_policy_version(arn, &p.document, false).await?;
                notes.push(format!(
                    "managed policy `{arn}`: version `{version_id}`, deleted by apply to make room, was recreated as `{id}` (IAM does not reuse version ids)"
                ));
            }
        }
    }
    Ok(())
}

/// The rollback caveat of a managed-policy entry whose write deletes a version.
pub fn caveat(arn: &str, st: &PolicyVersionsState) -> Option<String> {
    st.pruned.as_ref().map(|p| {
        format!(
            "managed policy `{arn}`: version `{}` is deleted to make room for the new version (IAM keeps {MAX_POLICY_VERSIONS}); rollback recreates its document under a new version id",
            p.version_id
        )
    })
}

//! One change's write and its exact restore, by target. Most targets are one document written and
//! read back; a customer managed policy is a version state ([`super::managed`]) and a CloudFront
//! origin may come with an origin access control apply created ([`super::origin`]). [`prepare`]
//! builds the snapshot entry (before the first write), [`write`] writes one change and records
//! what it created in the entry, [`plan_restore`] works out what restoring an entry takes now
//! (nothing, when it is in its saved state) and [`restore`] does it: the document first (read
//! back), then the version steps, then the deletion of a created origin access control (the
//! origin no longer references it by then). Both `apply`'s undo and `rollback` use these.

use std::time::Duration;

use serde_json::Value;

use super::checks::documents_match;
use super::execute::{ApplyOptions, MAX_VERIFY_DELAY};
use super::managed::{self, VersionStep};
use super::origin;
use super::snapshot::SnapshotEntry;
use super::{target_label, ApplyError, Store};
use crate::plan::{Change, Target};

/// Reads the target until it shows `expected` (at most `opts.verify_tries` reads, waiting
/// `verify_delay`, doubled each time, between them).
pub(crate) async fn verify<S: Store>(
    store: &S,
    target: &Target,
    expected: &Value,
    opts: &ApplyOptions,
) -> Result<(), ApplyError> {
    let tries = opts.verify_tries.max(1);
    let mut delay = opts.verify_delay;
    let mut last_err = None;
    for i in 0..tries {
        if i > 0 && !delay.is_zero() {
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(MAX_VERIFY_DELAY);
        }
        match store.read(target).await {
            Ok(actual) if documents_match(target, expected, &actual) => return Ok(()),
            Ok(_) => last_err = None,
            Err(e) => last_err = Some(e),
        }
    }
    Err(last_err.unwrap_or(ApplyError::Verify {
        target: target_label(target),
        tries,
    }))
}

/// Writes `doc` and reads it back. `Err((made, e))`: `made` when the write was made (the read-back
/// failed).
pub(crate) async fn write_verified<S: Store>(
    store: &S,
    target: &Target,
    doc: &Value,
    opts: &ApplyOptions,
) -> Result<(), (bool, ApplyError)> {
    store.write(target, doc).await.map_err(|e| (false, e))?;
    verify(store, target, doc, opts)
        .await
        .map_err(|e| (true, e))
}

/// The snapshot entry of change `c` whose document is `prior` now: for a managed policy also its
/// version state, for an origin that gets a new origin access control whether one of that name
/// exists. Reads only.
pub async fn prepare<S: Store>(
    store: &S,
    c: &Change,
    prior: &Value,
) -> Result<SnapshotEntry, ApplyError> {
    let mut e = SnapshotEntry::new(
        &c.id,
        c.target.clone(),
        &c.account,
        &c.resource,
        prior.clone(),
    );
    e.rollback_caveat = c.rollback_caveat.clone();
    match &c.target {
        Target::ManagedPolicy { arn } if !c.after.is_null() => {
            e.policy_versions = managed::prepare(store, arn).await?;
        }
        Target::DistributionOrigin { .. } => {
            if let Some(name) = origin::requested_name(&c.after) {
                e.origin_access_control = Some(origin::prepare(store, &c.target, name).await?);
            }
        }
        _ => {}
    }
    Ok(e)
}

/// Writes `after` to the entry's target and reads it back, recording in the entry what the write
/// created (the managed-policy version, the origin access control). `Err((made, e))`: `made` when
/// something was changed before the failure (undo it).
pub async fn write<S: Store>(
    store: &S,
    entry: &mut SnapshotEntry,
    after: &Value,
    opts: &ApplyOptions,
) -> Result<(), (bool, ApplyError)> {
    let target = entry.target.clone();
    match (
        &target,
        entry.policy_versions.as_mut(),
        entry.origin_access_control.as_mut(),
    ) {
        (Target::ManagedPolicy { arn }, Some(st), _) => {
            managed::write(store, arn, after, st).await?;
            verify(store, &target, after, opts)
                .await
                .map_err(|e| (true, e))
        }
        (Target::DistributionOrigin { .. }, _, Some(st)) => {
            let written = origin::write(store, &target, after, st).await?;
            verify(store, &target, &written, opts)
                .await
                .map_err(|e| (true, e))
        }
        _ => write_verified(store, &target, after, opts).await,
    }
}

/// What restoring one entry takes now.
#[derive(Debug, Clone, PartialEq)]
pub struct Restore {
    /// The target's document now.
    pub current: Value,
    /// Write the saved document (a plain write; for a managed policy without a version record, a
    /// new default version).
    pub write_document: bool,
    /// Managed policy: the version steps.
    pub versions: Vec<VersionStep>,
    /// The origin access control apply created, to delete after the origin is restored.
    pub delete_control: Option<String>,
}

impl Restore {
    /// The steps beyond the document diff, for a person.
    pub fn describe(&self, entry: &SnapshotEntry) -> Vec<String> {
        let mut out = Vec::new();
        if let Target::ManagedPolicy { arn } = &entry.target {
            if self.write_document {
                out.push(format!(
                    "create a new default version of `{arn}` holding the saved document (the snapshot has no version record)"
                ));
            }
            out.extend(self.versions.iter().map(|s| s.describe(arn)));
        }
        if let (Some(id), Some(st)) = (&self.delete_control, &entry.origin_access_control) {
            out.push(origin::describe_delete(id, st));
        }
        out
    }
}

/// What restoring `entry` takes now; `None` when the target is in its saved state (document,
/// versions and origin access controls).
pub async fn plan_restore<S: Store>(
    store: &S,
    entry: &SnapshotEntry,
) -> Result<Option<Restore>, ApplyError> {
    let current = store.read(&entry.target).await?;
    let same = documents_match(&entry.target, &entry.document, &current);
    let mut r = Restore {
        current,
        write_document: !same,
        versions: Vec::new(),
        delete_control: None,
    };
    match (&entry.target, &entry.policy_versions) {
        (Target::ManagedPolicy { arn }, Some(st)) => {
            r.versions = managed::plan_restore(store, arn, &entry.document, &r.current, st).await?;
            // The version steps restore the document; a plain write only when they cannot.
            r.write_document = !same && r.versions.is_empty();
        }
        (Target::DistributionOrigin { .. }, _) => {
            if let Some(st) = &entry.origin_access_control {
                r.delete_control = origin::control_to_delete(store, &entry.target, st).await?;
            }
        }
        _ => {}
    }
    let nothing = !r.write_document && r.versions.is_empty() && r.delete_control.is_none();
    Ok((!nothing).then_some(r))
}

/// Restores `entry` as `plan` says: the document (read back), the version steps (then the
/// document is read back), the deletion of the created origin access control. Notes worth
/// reporting are added to `notes`.
pub async fn restore<S: Store>(
    store: &S,
    entry: &SnapshotEntry,
    plan: &Restore,
    opts: &ApplyOptions,
    notes: &mut Vec<String>,
) -> Result<(), ApplyError> {
    let t = &entry.target;
    if plan.write_document {
        if let (Target::ManagedPolicy { arn }, None) = (t, &entry.policy_versions) {
            notes.push(format!(
                "managed policy `{arn}`: the snapshot has no version record, so the saved document was restored as a new default version"
            ));
        }
        write_verified(store, t, &entry.document, opts)
            .await
            .map_err(|(_, e)| e)?;
    }
    if let (Target::ManagedPolicy { arn }, Some(st)) = (t, &entry.policy_versions) {
        if !plan.versions.is_empty() {
            managed::run(store, arn, &entry.document, st, &plan.versions, notes).await?;
            verify(store, t, &entry.document, opts).await?;
        }
    }
    if let Some(id) = &plan.delete_control {
        // Only once the origin holds its saved document again: it no longer uses the control.
        if !plan.write_document {
            verify(store, t, &entry.document, &no_wait(opts)).await?;
        }
        store.delete_origin_access_control(t, id).await?;
        notes.push(format!(
            "{}: deleted origin access control `{id}` created by apply",
            target_label(t)
        ));
    }
    Ok(())
}

/// One read, no waiting.
fn no_wait(opts: &ApplyOptions) -> ApplyOptions {
    ApplyOptions {
        verify_tries: 1,
        verify_delay: Duration::ZERO,
        ..opts.clone()
    }
}

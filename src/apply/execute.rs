//! The executor: parses a plan file, refuses a stale plan, saves the rollback snapshot, writes
//! the changes in the plan's order, reads each back (with backoff), and on any failure undoes
//! every write already made, newest first. Also `rollback` of a saved snapshot. Both work over
//! any [`Store`]; confirmation is the caller's (a callback), so the library never prompts. What
//! one write and one restore take per target (managed-policy versions, origin access controls)
//! is [`super::steps`].

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use super::checks::{arn_account, is_current, key_policy_keeps_admin};
use super::snapshot::{Snapshot, SnapshotEntry, DEFAULT_SNAPSHOT_DIR};
use super::{managed, steps, target_label, ApplyError, AwsStore, Store};
use crate::collect::{Clients, CollectSpec};
use crate::plan::change::pretty_sorted;
use crate::plan::{digest, Change, Target, PLAN_FORMAT_VERSION};

/// The caveat of every rollback that turns Bucket owner enforced off again.
pub const OWNERSHIP_CAVEAT: &str =
    "objects written while Bucket owner enforced was on stay owned by the bucket owner";

/// A parsed plan file: what `apply` needs of it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanFile {
    /// The file name (for messages).
    pub file: String,
    /// `sha256:` digest of the plan file's canonical JSON.
    pub plan_id: String,
    /// The plan's request (docs/formats.md Request), when it has one.
    pub request: Option<Value>,
    /// The changes, in apply order.
    pub changes: Vec<Change>,
}

/// Parses a plan file's JSON value. Refuses anything that is not a version-1 plan, a change whose
/// `before_digest` is not the digest of its `before` (the file was edited), and duplicate ids or
/// targets.
pub fn parse_plan(value: &Value, file: &str) -> Result<PlanFile, ApplyError> {
    let err = |detail: String| ApplyError::PlanFile {
        file: file.to_string(),
        detail,
    };
    let m = value
        .as_object()
        .ok_or_else(|| err("not a JSON object".into()))?;
    match m.get("format_version").and_then(Value::as_u64) {
        Some(n) if n == u64::from(PLAN_FORMAT_VERSION) => {}
        Some(n) => {
            return Err(err(format!(
                "unsupported format_version {n} (this s3medic reads {PLAN_FORMAT_VERSION})"
            )))
        }
        None => return Err(err(
            "missing `format_version`: not an s3medic plan (write one with `s3medic plan -o FILE`)"
                .into(),
        )),
    }
    let list = m
        .get("changes")
        .and_then(Value::as_array)
        .ok_or_else(|| err("missing `changes` array".into()))?;
    let mut changes: Vec<Change> = Vec::with_capacity(list.len());
    for (i, c) in list.iter().enumerate() {
        let change: Change =
            serde_json::from_value(c.clone()).map_err(|e| err(format!("`changes[{i}]`: {e}")))?;
        if digest(&change.before) != change.before_digest {
            return Err(err(format!(
                "change `{}`: `before_digest` is not the digest of `before` (was the file edited?)",
                change.id
            )));
        }
        if changes.iter().any(|x| x.id == change.id) {
            return Err(err(format!("duplicate change id `{}`", change.id)));
        }
        if changes.iter().any(|x| x.target == change.target) {
            return Err(err(format!(
                "change `{}` writes {} again",
                change.id,
                target_label(&change.target)
            )));
        }
        changes.push(change);
    }
    Ok(PlanFile {
        file: file.to_string(),
        plan_id: digest(value),
        request: m.get("request").filter(|r| !r.is_null()).cloned(),
        changes,
    })
}

/// A change whose resource moved since the plan was made.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StaleChange {
    pub change: String,
    pub resource: String,
    pub target: String,
    /// The plan's `before_digest`.
    pub expected_digest: String,
    /// The digest of the document read now.
    pub current_digest: String,
    /// Unified diff from the plan's `before` to the current document.
    pub diff: String,
}

/// `Some` when `current` no longer has the change's `before_digest`.
pub fn stale_change(change: &Change, current: &Value) -> Option<StaleChange> {
    if is_current(&change.before_digest, current) {
        return None;
    }
    Some(StaleChange {
        change: change.id.clone(),
        resource: change.resource.clone(),
        target: target_label(&change.target),
        expected_digest: change.before_digest.clone(),
        current_digest: digest(current),
        diff: labelled_diff(&change.resource, &change.before, current, "planned", "now"),
    })
}

/// Unified diff of two documents (pretty-printed, key-sorted) with `RESOURCE (a_label)` /
/// `RESOURCE (b_label)` headers.
pub fn labelled_diff(resource: &str, a: &Value, b: &Value, a_label: &str, b_label: &str) -> String {
    let (a, b) = (pretty_sorted(a), pretty_sorted(b));
    similar::TextDiff::from_lines(&a, &b)
        .unified_diff()
        .context_radius(3)
        .header(
            &format!("{resource} ({a_label})"),
            &format!("{resource} ({b_label})"),
        )
        .to_string()
}

/// How `apply` and `rollback` run.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// Where the rollback snapshot is saved.
    pub snapshot_dir: PathBuf,
    /// Reads of each write until it shows (IAM is eventually consistent).
    pub verify_tries: u32,
    /// The first wait between reads; doubled each time, at most [`MAX_VERIFY_DELAY`].
    pub verify_delay: Duration,
    /// After a successful apply, re-collect the World and decide the plan's request again.
    pub decision_after: bool,
}

/// The longest wait between two read-backs.
pub const MAX_VERIFY_DELAY: Duration = Duration::from_secs(2);

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            snapshot_dir: PathBuf::from(DEFAULT_SNAPSHOT_DIR),
            verify_tries: 5,
            verify_delay: Duration::from_millis(200),
            decision_after: true,
        }
    }
}

/// How an apply ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplyStatus {
    /// Every change written and verified.
    Applied,
    /// The plan has no changes.
    NothingToChange,
    /// A resource moved since the plan was made: nothing written.
    Stale,
    /// The confirmation was declined (or impossible): nothing written.
    Declined,
    /// A change is unsafe or unsupported (e.g. a key policy lock-out): nothing written.
    Refused,
    /// A write failed or did not verify: every write made was undone (see `undone`,
    /// `undo_failures`).
    Failed,
    /// The plan could not be read, a resource could not be read, or the snapshot could not be
    /// saved: nothing written.
    Error,
}

impl ApplyStatus {
    /// The process exit code: 0 applied / nothing to change, 1 error, 3 refused.
    pub fn exit_code(self) -> u8 {
        match self {
            ApplyStatus::Applied | ApplyStatus::NothingToChange => 0,
            ApplyStatus::Stale | ApplyStatus::Declined | ApplyStatus::Refused => 3,
            ApplyStatus::Failed | ApplyStatus::Error => 1,
        }
    }
}

/// A write that could not be undone.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UndoFailure {
    pub change: String,
    pub target: String,
    pub error: String,
}

/// What `apply` did (`--output json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApplyReport {
    pub status: ApplyStatus,
    pub plan_id: Option<String>,
    /// The changes written and verified (and still in place when `status` is `applied`).
    pub applied: Vec<String>,
    /// The change that failed, when one did.
    pub failed_change: Option<String>,
    /// The changes undone after the failure, newest first.
    pub undone: Vec<String>,
    /// The undos that failed (the resource is left as `apply` wrote it).
    pub undo_failures: Vec<UndoFailure>,
    pub snapshot_path: Option<String>,
    /// The plan's request decided on the World re-collected after apply.
    pub decision_after: Option<String>,
    pub stale: Vec<StaleChange>,
    pub error: Option<String>,
    /// Anything else worth saying (caveats, decision-after problems).
    pub notes: Vec<String>,
}

impl ApplyReport {
    /// A report with `status` and nothing applied, undone or noted yet.
    pub fn new(status: ApplyStatus, plan_id: Option<String>) -> ApplyReport {
        ApplyReport {
            status,
            plan_id,
            applied: Vec::new(),
            failed_change: None,
            undone: Vec::new(),
            undo_failures: Vec::new(),
            snapshot_path: None,
            decision_after: None,
            stale: Vec::new(),
            error: None,
            notes: Vec::new(),
        }
    }

    fn error(status: ApplyStatus, plan_id: Option<String>, e: &ApplyError) -> ApplyReport {
        let mut r = ApplyReport::new(status, plan_id);
        r.error = Some(e.to_string());
        r
    }

    pub fn exit_code(&self) -> u8 {
        self.status.exit_code()
    }
}

/// Checks that nothing in the plan is unsafe or impossible before anything is read or written.
fn preflight(plan: &PlanFile) -> Result<(), ApplyError> {
    for c in &plan.changes {
        match (&c.target, c.after.is_null()) {
            (Target::KeyPolicy { key_arn }, false) => {
                key_policy_keeps_admin(&c.after, arn_account(key_arn).unwrap_or(""))
                    .map_err(|e| ApplyError::Unsafe(format!("change `{}`: {e}", c.id)))?;
            }
            (
                Target::KeyPolicy { .. }
                | Target::BucketAcl { .. }
                | Target::ManagedPolicy { .. }
                | Target::DistributionOrigin { .. },
                true,
            ) => {
                return Err(ApplyError::Unsupported(format!(
                    "change `{}` would delete the {}",
                    c.id,
                    target_label(&c.target)
                )))
            }
            _ => {}
        }
    }
    Ok(())
}

/// Applies `plan` through `store`: preflight, stale check, `confirm` (given the plan; `false`
/// declines), snapshot, writes with read-back, and undo on failure. Never re-plans.
pub async fn apply_with<S: Store>(
    store: &S,
    plan: &PlanFile,
    opts: &ApplyOptions,
    confirm: impl FnOnce(&PlanFile) -> bool,
) -> ApplyReport {
    let id = Some(plan.plan_id.clone());
    if plan.changes.is_empty() {
        return ApplyReport::new(ApplyStatus::NothingToChange, id);
    }
    if let Err(e) = preflight(plan) {
        return ApplyReport::error(ApplyStatus::Refused, id, &e);
    }
    // Stale check: read every target first; nothing is written unless all match.
    let mut prior: Vec<Value> = Vec::with_capacity(plan.changes.len());
    let mut stale = Vec::new();
    for c in &plan.changes {
        match store.read(&c.target).await {
            Ok(current) => {
                if let Some(s) = stale_change(c, &current) {
                    stale.push(s);
                }
                prior.push(current);
            }
            Err(e) => return ApplyReport::error(ApplyStatus::Error, id, &e),
        }
    }
    if !stale.is_empty() {
        let mut r = ApplyReport::new(ApplyStatus::Stale, id);
        r.error = Some(format!(
            "stale plan: {} of {} resources changed since the plan was made; nothing was written (plan again)",
            stale.len(),
            plan.changes.len()
        ));
        r.stale = stale;
        return r;
    }
    if !confirm(plan) {
        let mut r = ApplyReport::new(ApplyStatus::Declined, id);
        r.error = Some("not confirmed: nothing was written".into());
        return r;
    }
    // The snapshot, before the first write: every prior document, and what an exact undo needs
    // besides (managed-policy versions, whether an origin access control exists).
    let mut entries: Vec<SnapshotEntry> = Vec::with_capacity(plan.changes.len());
    for (c, doc) in plan.changes.iter().zip(&prior) {
        match steps::prepare(store, c, doc).await {
            Ok(e) => entries.push(e),
            Err(e) => return ApplyReport::error(ApplyStatus::Error, id, &e),
        }
    }
    let mut snapshot = Snapshot::new(&plan.plan_id, entries);
    let path = match snapshot.save(&opts.snapshot_dir) {
        Ok(p) => p,
        Err(e) => return ApplyReport::error(ApplyStatus::Error, id, &e),
    };
    let mut report = ApplyReport::new(ApplyStatus::Applied, id);
    report.snapshot_path = Some(path.display().to_string());
    // Writes, in the plan's order; `written` holds the indexes of every write made.
    let mut written: Vec<usize> = Vec::new();
    for (i, c) in plan.changes.iter().enumerate() {
        let Some(entry) = snapshot.entries.get_mut(i) else {
            break;
        };
        let recorded = (
            entry.policy_versions.clone(),
            entry.origin_access_control.clone(),
        );
        let result = steps::write(store, entry, &c.after, opts).await;
        if recorded
            != (
                entry.policy_versions.clone(),
                entry.origin_access_control.clone(),
            )
        {
            // The write created something (a policy version, an origin access control): record it
            // so a later rollback removes exactly that.
            if let Err(e) = snapshot.save_as(&path) {
                report.notes.push(format!(
                    "could not record what change `{}` created in the snapshot ({e}); rollback will infer it",
                    c.id
                ));
            }
        }
        match result {
            Ok(()) => {
                written.push(i);
                report.applied.push(c.id.clone());
            }
            Err((made, e)) => {
                if made {
                    written.push(i);
                }
                report.status = ApplyStatus::Failed;
                report.failed_change = Some(c.id.clone());
                report.error = Some(format!("change `{}`: {e}", c.id));
                break;
            }
        }
    }
    if report.status == ApplyStatus::Failed {
        for &i in written.iter().rev() {
            let Some(entry) = snapshot.entries.get(i) else {
                continue;
            };
            let mut notes = Vec::new();
            let result = match steps::plan_restore(store, entry).await {
                Ok(None) => Ok(()),
                Ok(Some(r)) => steps::restore(store, entry, &r, opts, &mut notes).await,
                Err(e) => Err(e),
            };
            report.notes.extend(notes);
            match result {
                Ok(()) => report.undone.push(entry.change.clone()),
                Err(e) => report.undo_failures.push(UndoFailure {
                    change: entry.change.clone(),
                    target: target_label(&entry.target),
                    error: e.to_string(),
                }),
            }
        }
        report.applied.clear();
        if !report.undo_failures.is_empty() {
            report.notes.push(format!(
                "some writes could not be undone: restore them with `s3medic rollback {}`",
                path.display()
            ));
        }
    } else {
        for c in &plan.changes {
            if let Some(cv) = &c.rollback_caveat {
                report
                    .notes
                    .push(format!("change `{}`: rollback caveat: {cv}", c.id));
            }
        }
        for e in &snapshot.entries {
            if let (Target::ManagedPolicy { arn }, Some(st)) = (&e.target, &e.policy_versions) {
                if let Some(cv) = managed::caveat(arn, st) {
                    report
                        .notes
                        .push(format!("change `{}`: rollback caveat: {cv}", e.change));
                }
            }
        }
    }
    report
}

/// Applies a plan (the plan file's JSON) to AWS without asking (the caller has confirmed), then,
/// when `opts.decision_after` and the plan has a request, re-collects the World and decides the
/// request again.
pub async fn apply(clients: &Clients, plan: &Value, opts: &ApplyOptions) -> ApplyReport {
    let parsed = match parse_plan(plan, "plan") {
        Ok(p) => p,
        Err(e) => return ApplyReport::error(ApplyStatus::Error, None, &e),
    };
    let store = AwsStore::new(clients.clone());
    let mut report = apply_with(&store, &parsed, opts, |_| true).await;
    finish(clients, &parsed, opts, &mut report).await;
    report
}

/// After a successful apply: the decision of the plan's request on the re-collected World.
pub async fn finish(clients: &Clients, plan: &PlanFile, opts: &ApplyOptions, r: &mut ApplyReport) {
    let accounts = crate::collect::AccountClients::single(clients.clone());
    finish_across(&accounts, plan, opts, r).await
}

/// [`finish`], re-collecting other accounts with their own clients (`--account-role`).
pub async fn finish_across(
    accounts: &crate::collect::AccountClients,
    plan: &PlanFile,
    opts: &ApplyOptions,
    r: &mut ApplyReport,
) {
    if r.status != ApplyStatus::Applied || !opts.decision_after {
        return;
    }
    let Some(request) = &plan.request else {
        return;
    };
    match decision_after_across(accounts, request).await {
        Ok(d) => r.decision_after = Some(d),
        Err(e) => r
            .notes
            .push(format!("could not decide the request after apply: {e}")),
    }
}

/// Re-collects the World of `request` and decides it: `allowed`, `implicit_deny` ...
pub async fn decision_after(clients: &Clients, request: &Value) -> Result<String, String> {
    let accounts = crate::collect::AccountClients::single(clients.clone());
    decision_after_across(&accounts, request).await
}

/// [`decision_after`], collecting other accounts with their own clients (`--account-role`).
pub async fn decision_after_across(
    accounts: &crate::collect::AccountClients,
    request: &Value,
) -> Result<String, String> {
    let req = crate::request::Request::from_value(request).map_err(|e| e.to_string())?;
    if req.bucket.is_empty() {
        return Err("the request names no bucket".into());
    }
    let mut keys: Vec<String> = req.key.iter().cloned().collect();
    let mut extra_buckets = Vec::new();
    if let Some(src) = &req.copy_source {
        if src.bucket == req.bucket {
            keys.push(src.key.clone());
        } else {
            extra_buckets.push(src.bucket.clone());
        }
    }
    let spec = CollectSpec {
        bucket: req.bucket.clone(),
        keys,
        principals: req
            .principal
            .arn()
            .or(req.principal.account())
            .map(str::to_string)
            .into_iter()
            .collect(),
        extra_buckets,
        bucket_account: None,
    };
    let collected = crate::collect::collect_across(accounts, &spec)
        .await
        .map_err(|e| e.to_string())?;
    let outcome = crate::eval::authorize(&collected.world, &req).map_err(|e| e.to_string())?;
    Ok(outcome.decision.as_str().to_string())
}

/// One restore `rollback` would make.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RestoreStep {
    pub change: String,
    pub target: String,
    pub resource: String,
    /// Unified diff from the current document to the saved one.
    pub diff: String,
    /// What else the restore does (managed-policy versions, an origin access control to delete).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<String>,
}

/// How a rollback ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RollbackStatus {
    /// Every resource is back to its saved state.
    Restored,
    /// Every resource already had its saved state.
    NothingToRestore,
    /// Not confirmed: nothing written.
    Declined,
    /// Some restores failed (see `failures`); the others were made.
    Failed,
    /// A resource could not be read: nothing written.
    Error,
}

impl RollbackStatus {
    /// 0 restored, 1 error, 3 refused.
    pub fn exit_code(self) -> u8 {
        match self {
            RollbackStatus::Restored | RollbackStatus::NothingToRestore => 0,
            RollbackStatus::Declined => 3,
            RollbackStatus::Failed | RollbackStatus::Error => 1,
        }
    }
}

/// What `rollback` did (`--output json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RollbackReport {
    pub status: RollbackStatus,
    pub plan_id: String,
    /// The entries restored, newest first.
    pub restored: Vec<String>,
    /// The entries that already had their saved state.
    pub unchanged: Vec<String>,
    pub failures: Vec<UndoFailure>,
    /// What rollback cannot undo.
    pub caveats: Vec<String>,
    /// Anything else worth saying (a recreated version's new id, a replaced default version).
    pub notes: Vec<String>,
    pub error: Option<String>,
}

impl RollbackReport {
    pub fn exit_code(&self) -> u8 {
        self.status.exit_code()
    }
}

/// The caveats of restoring `snapshot`: each entry's own, a managed-policy version recreated under
/// a new id, and the Object Ownership one when a rollback turns Bucket owner enforced off.
pub fn rollback_caveats(snapshot: &Snapshot) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in &snapshot.entries {
        if let Some(c) = &e.rollback_caveat {
            out.push(format!("{}: {c}", target_label(&e.target)));
        }
        if let (Target::ManagedPolicy { arn }, Some(st)) = (&e.target, &e.policy_versions) {
            out.extend(managed::caveat(arn, st));
        }
        if let Target::BucketOwnership { .. } = &e.target {
            let enforced = e
                .document
                .pointer("/OwnershipControls/Rules/0/ObjectOwnership")
                .and_then(Value::as_str)
                == Some("BucketOwnerEnforced");
            if !enforced && e.rollback_caveat.is_none() {
                out.push(format!("{}: {OWNERSHIP_CAVEAT}", target_label(&e.target)));
            }
        }
    }
    out
}

/// Restores every entry of `snapshot` (newest first) through `store`, after `confirm` (given the
/// restores to make; `false` declines). Entries already in their saved state are left alone.
pub async fn rollback_with<S: Store>(
    store: &S,
    snapshot: &Snapshot,
    opts: &ApplyOptions,
    confirm: impl FnOnce(&[RestoreStep]) -> bool,
) -> RollbackReport {
    let mut report = RollbackReport {
        status: RollbackStatus::Restored,
        plan_id: snapshot.plan_id.clone(),
        restored: Vec::new(),
        unchanged: Vec::new(),
        failures: Vec::new(),
        caveats: rollback_caveats(snapshot),
        notes: Vec::new(),
        error: None,
    };
    let name = |e: &SnapshotEntry| {
        if e.change.is_empty() {
            target_label(&e.target)
        } else {
            e.change.clone()
        }
    };
    let mut todo: Vec<(&SnapshotEntry, steps::Restore, RestoreStep)> = Vec::new();
    for e in snapshot.entries.iter().rev() {
        match steps::plan_restore(store, e).await {
            Ok(None) => report.unchanged.push(name(e)),
            Ok(Some(r)) => {
                let step = RestoreStep {
                    change: name(e),
                    target: target_label(&e.target),
                    resource: e.resource.clone(),
                    diff: labelled_diff(&e.resource, &r.current, &e.document, "now", "saved"),
                    actions: r.describe(e),
                };
                todo.push((e, r, step));
            }
            Err(err) => {
                report.status = RollbackStatus::Error;
                report.error = Some(format!("{err}; nothing was written"));
                return report;
            }
        }
    }
    if todo.is_empty() {
        report.status = RollbackStatus::NothingToRestore;
        return report;
    }
    let shown: Vec<RestoreStep> = todo.iter().map(|(_, _, s)| s.clone()).collect();
    if !confirm(&shown) {
        report.status = RollbackStatus::Declined;
        report.error = Some("not confirmed: nothing was written".into());
        return report;
    }
    for (e, r, step) in &todo {
        let mut notes = Vec::new();
        let result = steps::restore(store, e, r, opts, &mut notes).await;
        report.notes.extend(notes);
        match result {
            Ok(()) => report.restored.push(step.change.clone()),
            Err(err) => report.failures.push(UndoFailure {
                change: step.change.clone(),
                target: step.target.clone(),
                error: err.to_string(),
            }),
        }
    }
    if !report.failures.is_empty() {
        report.status = RollbackStatus::Failed;
        report.error = Some(format!(
            "{} of {} restores failed",
            report.failures.len(),
            todo.len()
        ));
    }
    report
}

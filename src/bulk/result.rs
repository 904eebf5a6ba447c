//! The outcome of one target (one request on one bucket of one account), the summary of a run,
//! their JSON Lines (docs/formats.md, "Bulk results"), and the exit-code rule. Pure.
//!
//! Status and exit code per target, as for `s3medic plan`: `ok` 0 (already allowed), `planned` 2
//! (changes planned), `manual` 2 (no change s3medic can make: manual steps, or it stays denied),
//! `refused` 3 (the fix would give other requests new access and `--accept-new-access` was not
//! given), `error` 1 (the account, bucket or request could not be read or planned). A run exits
//! with its worst target's code, worst first: error 1, refused 3, planned/manual 2, ok 0.

use serde::Serialize;
use serde_json::{json, Value};

use crate::plan::Plan;

/// The `format_version` of the result and summary lines.
pub const RESULTS_FORMAT_VERSION: u32 = 1;

/// What happened to one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The request is already allowed: nothing to change.
    Ok,
    /// Changes are planned (manual steps may remain too).
    Planned,
    /// No change s3medic can make: only manual steps, or the request stays denied.
    Manual,
    /// The fix would give other requests new access, not accepted: no plan file.
    Refused,
    /// The target could not be read or planned.
    Error,
}

impl Status {
    /// The status of a finished plan (the same rule as `s3medic plan`'s exit code).
    pub fn of_plan(plan: &Plan) -> Status {
        if !plan.proof.accepted {
            Status::Refused
        } else if plan.has_changes() {
            Status::Planned
        } else if !plan.manual_steps.is_empty()
            || !plan.decision_before.is_allowed()
            || !plan.proof.target_allowed
        {
            Status::Manual
        } else {
            Status::Ok
        }
    }

    /// The exit code of a run whose worst target has this status (as `s3medic plan`).
    pub fn exit_code(self) -> u8 {
        match self {
            Status::Ok => 0,
            Status::Planned | Status::Manual => 2,
            Status::Refused => 3,
            Status::Error => 1,
        }
    }

    /// How bad the status is for the run's exit code: error > refused > planned = manual > ok.
    pub fn severity(self) -> u8 {
        match self {
            Status::Ok => 0,
            Status::Planned | Status::Manual => 1,
            Status::Refused => 2,
            Status::Error => 3,
        }
    }

    /// Whether the target is broken and gets a plan file (`planned`, `manual`).
    pub fn writes_plan(self) -> bool {
        matches!(self, Status::Planned | Status::Manual)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Planned => "planned",
            Status::Manual => "manual",
            Status::Refused => "refused",
            Status::Error => "error",
        }
    }
}

/// One result line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetResult {
    pub account: String,
    /// None when the account's bucket list could not be read (`buckets = ["*"]`).
    pub bucket: Option<String>,
    /// The request's name in the targets file; None for an account-level error.
    pub request: Option<String>,
    pub status: Status,
    /// The concrete request decided (docs/formats.md Request), when it could be built.
    pub evaluated: Option<Value>,
    /// The decision before any change (`allowed`, `implicit_deny`, `explicit_deny`).
    pub decision_before: Option<String>,
    /// The cause ids found (playbook ids), in order, without repeats.
    pub causes: Vec<String>,
    /// How many changes the plan makes.
    pub changes: usize,
    /// How many manual steps remain.
    pub manual_steps: usize,
    /// How many requests the fix would newly allow (the reason for `refused`).
    pub new_access: usize,
    /// The parts of the World that could not be read (the plan could not check them).
    pub unknowns: Vec<String>,
    /// The plan file written for this target (`--output-dir`).
    pub plan_file: Option<String>,
    /// Why the target failed (`error`).
    pub error: Option<String>,
    /// Facts about how the request was read (e.g. how a CloudTrail caller named only by its
    /// account was resolved, or why it could not be).
    pub notes: Vec<String>,
}

impl TargetResult {
    /// The result of a finished plan.
    pub fn of_plan(
        account: &str,
        bucket: &str,
        request: &str,
        evaluated: Value,
        plan: &Plan,
    ) -> Self {
        let mut causes: Vec<String> = Vec::new();
        for f in &plan.findings {
            let id = f.cause.id().to_string();
            if !causes.contains(&id) {
                causes.push(id);
            }
        }
        TargetResult {
            account: account.to_string(),
            bucket: Some(bucket.to_string()),
            request: Some(request.to_string()),
            status: Status::of_plan(plan),
            evaluated: Some(evaluated),
            decision_before: Some(plan.decision_before.as_str().to_string()),
            causes,
            changes: plan.changes.len(),
            manual_steps: plan.manual_steps.len(),
            new_access: plan.proof.new_access.len(),
            unknowns: plan.unknowns.clone(),
            plan_file: None,
            error: None,
            notes: Vec::new(),
        }
    }

    /// An error result.
    pub fn error(
        account: &str,
        bucket: Option<&str>,
        request: Option<&str>,
        evaluated: Option<Value>,
        error: String,
    ) -> Self {
        TargetResult {
            account: account.to_string(),
            bucket: bucket.map(str::to_string),
            request: request.map(str::to_string),
            status: Status::Error,
            evaluated,
            decision_before: None,
            causes: Vec::new(),
            changes: 0,
            manual_steps: 0,
            new_access: 0,
            unknowns: Vec::new(),
            plan_file: None,
            error: Some(error),
            notes: Vec::new(),
        }
    }

    /// The result with `note` added to its notes (none: unchanged).
    pub fn with_note(mut self, note: Option<String>) -> Self {
        self.notes.extend(note);
        self
    }

    /// The JSON line (`"type": "result"`).
    pub fn to_line(&self) -> Value {
        let mut v = json!({"type": "result", "format_version": RESULTS_FORMAT_VERSION});
        if let (Some(m), Ok(Value::Object(fields))) =
            (v.as_object_mut(), serde_json::to_value(self))
        {
            m.extend(fields);
        }
        v
    }
}

/// The counts of a run (the summary line).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    /// The shard this run covered (`K/N`), when sharded.
    pub shard: Option<String>,
    /// Result lines written.
    pub targets: usize,
    pub ok: usize,
    pub planned: usize,
    pub manual: usize,
    pub refused: usize,
    pub error: usize,
    /// Accounts in the targets file.
    pub accounts: usize,
    /// Accounts whose connection or bucket list failed.
    pub accounts_failed: usize,
    /// Distinct (account, bucket) pairs with a result.
    pub buckets: usize,
    /// Plan files written.
    pub plan_files: usize,
    /// Wall time of the run, in seconds.
    pub elapsed_s: f64,
}

impl Summary {
    /// Counts one result.
    pub fn add(&mut self, r: &TargetResult) {
        self.targets += 1;
        match r.status {
            Status::Ok => self.ok += 1,
            Status::Planned => self.planned += 1,
            Status::Manual => self.manual += 1,
            Status::Refused => self.refused += 1,
            Status::Error => self.error += 1,
        }
        if r.plan_file.is_some() {
            self.plan_files += 1;
        }
    }

    /// The worst status counted (`Ok` when nothing was counted).
    pub fn worst(&self) -> Status {
        [
            (self.error, Status::Error),
            (self.refused, Status::Refused),
            (self.planned, Status::Planned),
            (self.manual, Status::Manual),
        ]
        .into_iter()
        .find(|(n, _)| *n > 0)
        .map_or(Status::Ok, |(_, s)| s)
    }

    /// The run's exit code: its worst target's.
    pub fn exit_code(&self) -> u8 {
        self.worst().exit_code()
    }

    /// The JSON line (`"type": "summary"`), with the exit code.
    pub fn to_line(&self) -> Value {
        let mut v = json!({"type": "summary", "format_version": RESULTS_FORMAT_VERSION});
        if let (Some(m), Ok(Value::Object(fields))) =
            (v.as_object_mut(), serde_json::to_value(self))
        {
            m.extend(fields);
            m.insert("exit_code".into(), json!(self.exit_code()));
        }
        v
    }
}

/// The worst of several statuses (error > refused > planned = manual > ok).
pub fn worst<I: IntoIterator<Item = Status>>(statuses: I) -> Status {
    statuses
        .into_iter()
        .max_by_key(|s| s.severity())
        .unwrap_or(Status::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::Decision;
    use crate::plan::{ManualStep, NewAccess, Proof, PLAN_FORMAT_VERSION};

    fn plan(before: Decision, after: Decision, changes: bool, manual: bool, refused: bool) -> Plan {
        let change: crate::plan::Change = serde_json::from_value(json!({
            "id": "c1", "account": "111122223333", "resource": "arn:aws:s3:::b",
            "target": {"type": "bucket_policy", "bucket": "b"}, "action": "update",
            "summary": "s", "risk": "low", "reversible": true, "playbooks": ["p"],
            "before": null, "before_digest": crate::plan::digest(&Value::Null),
            "after": {}, "diff": ""
        }))
        .unwrap_or_else(|e| panic!("test change: {e}"));
        Plan {
            format_version: PLAN_FORMAT_VERSION,
            tool_version: "0".into(),
            created_at: None,
            request: json!({}),
            decision_before: before,
            findings: Vec::new(),
            changes: if changes { vec![change] } else { Vec::new() },
            manual_steps: if manual {
                vec![ManualStep {
                    playbook: "scp-blocks".into(),
                    who: "w".into(),
                    action: "a".into(),
                    statement: None,
                }]
            } else {
                Vec::new()
            },
            proof: Proof {
                decision_after: after,
                target_allowed: after.is_allowed(),
                requests_checked: 1,
                requests_evaluated: 1,
                requests_skipped: 0,
                new_access: if refused {
                    vec![NewAccess {
                        principal: "p".into(),
                        action: "s3:GetObject".into(),
                        resource: "r".into(),
                        source_arn: None,
                    }]
                } else {
                    Vec::new()
                },
                accepted: !refused,
            },
            unknowns: Vec::new(),
        }
    }

    #[test]
    fn status_of_a_plan_follows_the_plan_exit_codes() {
        use Decision::*;
        let s = Status::of_plan(&plan(Allowed, Allowed, false, false, false));
        assert_eq!((s, s.exit_code()), (Status::Ok, 0));
        let s = Status::of_plan(&plan(ImplicitDeny, Allowed, true, false, false));
        assert_eq!((s, s.exit_code()), (Status::Planned, 2));
        let s = Status::of_plan(&plan(ImplicitDeny, ImplicitDeny, true, true, false));
        assert_eq!(s, Status::Planned);
        let s = Status::of_plan(&plan(ExplicitDeny, ExplicitDeny, false, true, false));
        assert_eq!((s, s.exit_code()), (Status::Manual, 2));
        // Denied with neither changes nor manual steps: still broken.
        let s = Status::of_plan(&plan(ImplicitDeny, ImplicitDeny, false, false, false));
        assert_eq!(s, Status::Manual);
        let s = Status::of_plan(&plan(ImplicitDeny, Allowed, true, false, true));
        assert_eq!((s, s.exit_code()), (Status::Refused, 3));
        assert!(Status::Planned.writes_plan() && Status::Manual.writes_plan());
        assert!(!Status::Ok.writes_plan() && !Status::Refused.writes_plan());
    }

    fn result(status: Status) -> TargetResult {
        let mut r = TargetResult::error("111122223333", Some("b"), Some("r"), None, "x".into());
        r.status = status;
        r.error = None;
        r
    }

    #[test]
    fn the_worst_status_decides_the_exit_code() {
        use Status::*;
        let all = [Ok, Planned, Manual, Refused, Error];
        // Every subset (as a bit mask) of the five statuses.
        for mask in 0u32..32 {
            let chosen: Vec<Status> = all
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, s)| *s)
                .collect();
            let mut sum = Summary::default();
            for s in &chosen {
                sum.add(&result(*s));
            }
            let want = if chosen.contains(&Error) {
                1
            } else if chosen.contains(&Refused) {
                3
            } else if chosen.contains(&Planned) || chosen.contains(&Manual) {
                2
            } else {
                0
            };
            assert_eq!(sum.exit_code(), want, "{chosen:?}");
            assert_eq!(
                worst(chosen.iter().copied()).exit_code(),
                want,
                "{chosen:?}"
            );
            assert_eq!(sum.targets, chosen.len());
        }
    }

    #[test]
    fn lines_have_their_type_and_fields() {
        let mut r = result(Status::Planned);
        r.plan_file = Some("out/111122223333/b.r.json".into());
        let l = r.to_line();
        assert_eq!(l["type"], "result");
        assert_eq!(l["format_version"], 1);
        assert_eq!(l["status"], "planned");
        assert_eq!(l["bucket"], "b");
        assert_eq!(l["plan_file"], "out/111122223333/b.r.json");
        assert_eq!(
            l["notes"],
            json!([]),
            "always present, empty when nothing to tell"
        );
        let l = result(Status::Ok).with_note(Some("n".into())).to_line();
        assert_eq!(l["notes"], json!(["n"]));
        let mut s = Summary {
            shard: Some("2/3".into()),
            accounts: 3,
            ..Summary::default()
        };
        s.add(&r);
        s.add(&result(Status::Error));
        let l = s.to_line();
        assert_eq!(l["type"], "summary");
        assert_eq!(l["targets"], 2);
        assert_eq!(l["planned"], 1);
        assert_eq!(l["error"], 1);
        assert_eq!(l["plan_files"], 1);
        assert_eq!(l["shard"], "2/3");
        assert_eq!(l["exit_code"], 1);
    }
}

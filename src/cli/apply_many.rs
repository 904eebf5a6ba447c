//! `s3medic apply DIR` / `s3medic apply PLAN PLAN…`: apply several plan files (e.g. the plan
//! files `plan --targets --output-dir` wrote for one account) through the single-plan path of
//! `apply` (src/apply `apply_with`, then `finish`), one plan after another.
//!
//! 1. Every plan is loaded; one that cannot be read is an error for that plan only.
//! 2. Every plan is checked without writing (the same preflight and stale check `apply` makes):
//!    a stale or unsafe plan is refused and reported, and left out.
//! 3. The changes of all the others are shown together and confirmed once (`--yes` for scripts;
//!    without a terminal and without `--yes` nothing is applied).
//! 4. Each plan is applied on its own: its stale check again right before its writes, its own
//!    rollback snapshot, read-back, and undo of its own writes on failure. A plan that fails or
//!    turned stale meanwhile does not stop the next.
//!
//! Exit code: the worst plan's — 1 error or failed (rolled back), 3 refused (stale, unsafe,
//! declined), 0 applied or nothing to change.

use std::cell::Cell;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Serialize;
use serde_json::Value;

use super::apply::{ask, load_plan, report_text, show_changes};
use super::live_args::{runtime, store_for, LiveArgs};
use super::OutputFormat;
use s3medic::apply::{
    apply_with, execute, ApplyOptions, ApplyReport, ApplyStatus, AwsStore, PlanFile,
};

/// What `apply` of several plans was asked.
pub struct Many {
    pub paths: Vec<PathBuf>,
    pub yes: bool,
    pub snapshot_dir: PathBuf,
    pub output: OutputFormat,
    pub decision_after: bool,
    pub conn: LiveArgs,
}

/// Whether `paths` is one plan file (the single-plan `apply`), not a directory or several files.
pub fn single(paths: &[PathBuf]) -> Option<&Path> {
    match paths {
        [p] if !p.is_dir() => Some(p),
        _ => None,
    }
}

/// The plan files: each directory's `*.json` files (not its subdirectories), sorted, and each
/// file as given; a file named twice counts once.
pub fn plan_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("cannot list the plan directory `{}`", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| {
                    f.is_file()
                        && f.extension().is_some_and(|x| x == "json")
                        && !f
                            .file_name()
                            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                })
                .collect();
            if found.is_empty() {
                bail!("no plan files (`*.json`) in `{}`", p.display());
            }
            found.sort();
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    out.retain(|p| seen.insert(std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())));
    Ok(out)
}

/// A plan file as loaded: its JSON and the plan, or why it could not be loaded.
type Loaded = Result<(Value, PlanFile), String>;

/// One plan's outcome.
#[derive(Debug, Serialize)]
pub struct PlanOutcome {
    pub file: String,
    pub report: ApplyReport,
}

/// The counts of a multi-plan apply.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct ManySummary {
    pub plans: usize,
    pub applied: usize,
    pub nothing_to_change: usize,
    pub stale: usize,
    pub declined: usize,
    pub refused: usize,
    pub failed: usize,
    pub error: usize,
    pub exit_code: u8,
}

/// The counts and the worst exit code (1 error/failed > 3 refused/stale/declined > 0).
pub fn summarize(reports: &[&ApplyReport]) -> ManySummary {
    let mut s = ManySummary {
        plans: reports.len(),
        ..ManySummary::default()
    };
    for r in reports {
        match r.status {
            ApplyStatus::Applied => s.applied += 1,
            ApplyStatus::NothingToChange => s.nothing_to_change += 1,
            ApplyStatus::Stale => s.stale += 1,
            ApplyStatus::Declined => s.declined += 1,
            ApplyStatus::Refused => s.refused += 1,
            ApplyStatus::Failed => s.failed += 1,
            ApplyStatus::Error => s.error += 1,
        }
    }
    s.exit_code = reports
        .iter()
        .map(|r| r.exit_code())
        .max_by_key(|c| match c {
            1 => 2,
            3 => 1,
            _ => 0,
        })
        .unwrap_or(0);
    s
}

/// A report for a plan that could not be loaded or run.
fn error_report(error: String) -> ApplyReport {
    ApplyReport {
        error: Some(error),
        ..ApplyReport::new(ApplyStatus::Error, None)
    }
}

/// How many manual steps a plan file lists (they are not applied).
fn manual_steps(value: &Value) -> usize {
    value
        .get("manual_steps")
        .and_then(Value::as_array)
        .map_or(0, Vec::len)
}

pub fn run(m: Many) -> Result<u8> {
    let files = plan_files(&m.paths)?;
    let opts = ApplyOptions {
        snapshot_dir: m.snapshot_dir.clone(),
        decision_after: m.decision_after,
        ..ApplyOptions::default()
    };
    // 1. Load.
    let slots: Vec<(String, Loaded)> = files
        .iter()
        .map(|f| {
            (
                f.display().to_string(),
                load_plan(f).map_err(|e| format!("{e:#}")),
            )
        })
        .collect();
    let rt = runtime()?;
    let refused: Cell<Option<&'static str>> = Cell::new(None);
    let reports: Vec<ApplyReport> = rt.block_on(async {
        // Each plan's changes are read and written with their accounts' clients
        // (`--account-role`, `--accounts`), as the single-plan `apply` does.
        let accounts = m.conn.connect_accounts().await?;
        let mut stores: Vec<Option<AwsStore>> = Vec::with_capacity(slots.len());
        // 2. Check every plan without writing (confirmation "no"): a ready plan's report is
        //    `declined`; any other report is final (nothing to change, stale, unsafe, error).
        let mut reports: Vec<ApplyReport> = Vec::with_capacity(slots.len());
        for (_, slot) in &slots {
            let (store, report) = match slot {
                Err(e) => (None, error_report(e.clone())),
                Ok((_, plan)) => {
                    let targets = plan.changes.iter().map(|c| (&c.target, c.account.as_str()));
                    match store_for(&accounts, targets).await {
                        Ok(store) => {
                            let r = apply_with(&store, plan, &opts, |_| false).await;
                            (Some(store), r)
                        }
                        Err(e) => (None, error_report(format!("{e:#}"))),
                    }
                }
            };
            stores.push(store);
            reports.push(report);
        }
        let is_ready = |r: &ApplyReport| r.status == ApplyStatus::Declined;
        // 3. One confirmation for every ready plan.
        let ready: Vec<&PlanFile> = slots
            .iter()
            .zip(&reports)
            .filter(|(_, r)| is_ready(r))
            .filter_map(|((_, s), _)| s.as_ref().ok().map(|(_, p)| p))
            .collect();
        let confirmed = !ready.is_empty() && {
            for p in &ready {
                show_changes(p);
            }
            let changes: usize = ready.iter().map(|p| p.changes.len()).sum();
            ask(
                &format!(
                    "Apply these {changes} change{} of {} plan{}?",
                    if changes == 1 { "" } else { "s" },
                    ready.len(),
                    if ready.len() == 1 { "" } else { "s" }
                ),
                m.yes,
                &refused,
            )
        };
        // 4. Apply each ready plan on its own.
        let mut out = Vec::with_capacity(slots.len());
        for (((_, slot), mut r), store) in slots.iter().zip(reports).zip(&stores) {
            if let (true, Ok((_, plan)), Some(store)) = (is_ready(&r), slot, store) {
                if confirmed {
                    r = apply_with(store, plan, &opts, |_| true).await;
                    execute::finish_across(&accounts, plan, &opts, &mut r).await;
                } else if let Some(why) = refused.get() {
                    r.error = Some(why.to_string());
                }
            }
            out.push(r);
        }
        anyhow::Ok(out)
    })?;
    let mut outcomes: Vec<PlanOutcome> = Vec::with_capacity(reports.len());
    for ((file, slot), mut report) in slots.into_iter().zip(reports) {
        if let Ok((value, _)) = &slot {
            let n = manual_steps(value);
            if n > 0 {
                report.notes.push(format!(
                    "the plan also lists {n} manual step{} that apply does not take (`s3medic show {file}`)",
                    if n == 1 { "" } else { "s" }
                ));
            }
        }
        outcomes.push(PlanOutcome { file, report });
    }
    let summary = summarize(&outcomes.iter().map(|o| &o.report).collect::<Vec<_>>());
    match m.output {
        OutputFormat::Json => {
            #[derive(Serialize)]
            struct Doc<'a> {
                plans: &'a [PlanOutcome],
                summary: &'a ManySummary,
            }
            print!(
                "{}",
                super::json_out::document(&Doc {
                    plans: &outcomes,
                    summary: &summary,
                })?
            );
        }
        OutputFormat::Text => {
            for o in &outcomes {
                println!("== {} ==", o.file);
                print!("{}", report_text(&o.report));
            }
            println!("{}", summary_text(&summary));
        }
    }
    Ok(summary.exit_code)
}

/// `N plans: A applied, …` (only the non-zero counts after the total).
pub fn summary_text(s: &ManySummary) -> String {
    let parts: Vec<String> = [
        (s.applied, "applied"),
        (s.nothing_to_change, "nothing to change"),
        (s.stale, "refused as stale"),
        (s.refused, "refused as unsafe"),
        (s.declined, "not confirmed"),
        (s.failed, "failed and rolled back"),
        (s.error, "error"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    format!(
        "{} plan{}: {}",
        s.plans,
        if s.plans == 1 { "" } else { "s" },
        parts.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(status: ApplyStatus) -> ApplyReport {
        let mut r = error_report(String::new());
        r.status = status;
        r
    }

    #[test]
    fn the_worst_plan_decides_the_exit_code() {
        use ApplyStatus::*;
        let cases: &[(&[ApplyStatus], u8)] = &[
            (&[], 0),
            (&[Applied, NothingToChange], 0),
            (&[Applied, Stale], 3),
            (&[Declined, Applied], 3),
            (&[Refused], 3),
            (&[Stale, Failed, Applied], 1),
            (&[Error, Stale], 1),
        ];
        for (statuses, want) in cases {
            let rs: Vec<ApplyReport> = statuses.iter().map(|s| report(*s)).collect();
            let s = summarize(&rs.iter().collect::<Vec<_>>());
            assert_eq!(s.exit_code, *want, "{statuses:?}");
            assert_eq!(s.plans, statuses.len());
        }
        let rs = [report(Applied), report(Applied), report(Stale)];
        let s = summarize(&rs.iter().collect::<Vec<_>>());
        assert_eq!((s.applied, s.stale), (2, 1));
        assert_eq!(summary_text(&s), "3 plans: 2 applied, 1 refused as stale");
    }

    #[test]
    fn directories_give_their_json_files_sorted() {
        let dir = std::env::temp_dir().join(format!("s3medic-apply-many-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).expect("dir");
        for f in [
            "b.json",
            "a.json",
            "notes.txt",
            ".hidden.json",
            "sub/c.json",
        ] {
            std::fs::write(dir.join(f), "{}").expect("write");
        }
        let files = plan_files(&[dir.clone(), dir.join("a.json")]).expect("list");
        assert_eq!(files, vec![dir.join("a.json"), dir.join("b.json")]);
        assert!(single(std::slice::from_ref(&dir)).is_none());
        assert_eq!(
            single(&[dir.join("a.json")]),
            Some(dir.join("a.json").as_path())
        );
        assert!(plan_files(&[dir.join("sub").join("nothing")]).is_ok());
        std::fs::remove_dir_all(dir.join("sub")).expect("rm");
        std::fs::create_dir_all(dir.join("empty")).expect("dir");
        assert!(plan_files(&[dir.join("empty")]).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}

//! `s3medic apply PLAN`: apply a plan file exactly as planned (never re-plans). Re-reads every
//! resource and refuses a stale plan, shows every change as a diff and asks for confirmation
//! (`--yes` for scripts; without a terminal and without `--yes` it refuses), saves a rollback
//! snapshot before the first write, writes, reads back, and on any failure undoes what it wrote.
//!
//! Exit 0: applied (or nothing to change); 1: error (every write made was undone); 3: refused
//! (stale plan, not confirmed, unsafe change; nothing written).

use std::cell::Cell;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde_json::Value;

use super::live_args::{runtime, LiveArgs};
use super::OutputFormat;
use s3medic::apply::snapshot::DEFAULT_SNAPSHOT_DIR;
use s3medic::apply::{
    execute, parse_plan, target_label, ApplyOptions, ApplyReport, ApplyStatus, PlanFile,
};
use s3medic::render::plan::diff_text;

#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    /// The plan file (`s3medic plan -o FILE`); or several, or a directory of plan files
    /// (`plan --targets --output-dir` writes one per account): checked, confirmed once, applied
    /// one by one.
    #[arg(value_name = "PLAN", required = true, num_args = 1..)]
    plan: Vec<PathBuf>,

    /// Apply without asking (for scripts; required when there is no terminal to confirm on).
    #[arg(long, short = 'y')]
    yes: bool,

    /// Where to save the rollback snapshot (created when missing).
    #[arg(long, value_name = "DIR", default_value = DEFAULT_SNAPSHOT_DIR)]
    snapshot_dir: PathBuf,

    /// Output format on stdout: text for a person, or the apply report as JSON.
    #[arg(long, value_enum, default_value = "text")]
    output: OutputFormat,

    /// Do not re-collect the World after apply to decide the plan's request again.
    #[arg(long)]
    no_decision_after: bool,

    #[command(flatten)]
    conn: LiveArgs,
}

/// Whether a person can answer a prompt (dialoguer reads stdin and draws on stderr).
pub fn can_prompt() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Colour for text on stderr.
pub fn color_stderr() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// Asks `question` (default no). `Err` text when no answer is possible.
pub fn ask(question: &str, yes: bool, refused: &Cell<Option<&'static str>>) -> bool {
    if yes {
        return true;
    }
    if !can_prompt() {
        refused.set(Some("no terminal to confirm on: rerun with --yes"));
        return false;
    }
    match dialoguer::Confirm::new()
        .with_prompt(question)
        .default(false)
        .interact()
    {
        Ok(true) => true,
        Ok(false) => {
            refused.set(Some("declined: nothing was written"));
            false
        }
        Err(e) => {
            eprintln!("cannot read the answer: {e}");
            refused.set(Some("not confirmed: nothing was written"));
            false
        }
    }
}

pub fn show_changes(plan: &PlanFile) {
    let color = color_stderr();
    eprintln!(
        "{} change{} to apply from `{}`:",
        plan.changes.len(),
        if plan.changes.len() == 1 { "" } else { "s" },
        plan.file
    );
    for c in &plan.changes {
        eprintln!(
            "\n  {} {} {} — {}",
            c.id,
            serde_json::to_value(c.action)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            target_label(&c.target),
            c.summary
        );
        eprintln!(
            "    risk: {}",
            serde_json::to_value(c.risk)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        );
        if let Some(cv) = &c.rollback_caveat {
            eprintln!("    rollback cannot undo: {cv}");
        }
        eprint!("{}", diff_text(&c.diff, "    ", color));
    }
    eprintln!();
}

/// Reads and validates a plan file (`apply`, `show`): its JSON and the plan `apply` would use.
/// Every error names the file.
pub fn load_plan(path: &Path) -> Result<(Value, PlanFile)> {
    let file = path.display().to_string();
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read plan file `{file}`"))?;
    let value: Value = serde_json::from_str(&text)
        .with_context(|| format!("invalid plan file `{file}`: not JSON"))?;
    if value.get("refused").is_some() {
        bail!("invalid plan file `{file}`: it is the report of a refused plan (`plan` exit 3), not a plan");
    }
    let plan = parse_plan(&value, &file)?;
    Ok((value, plan))
}

pub fn run(args: ApplyArgs) -> Result<u8> {
    let Some(path) = super::apply_many::single(&args.plan) else {
        return super::apply_many::run(super::apply_many::Many {
            paths: args.plan,
            yes: args.yes,
            snapshot_dir: args.snapshot_dir,
            output: args.output,
            decision_after: !args.no_decision_after,
            conn: args.conn,
        });
    };
    let (_, plan) = load_plan(path)?;
    let opts = ApplyOptions {
        snapshot_dir: args.snapshot_dir.clone(),
        decision_after: !args.no_decision_after,
        ..ApplyOptions::default()
    };
    let refused: Cell<Option<&'static str>> = Cell::new(None);
    let report = if plan.changes.is_empty() {
        empty_report(&plan)
    } else {
        let rt = runtime()?;
        rt.block_on(async {
            // Each change is read and written with its account's clients (`--account-role`).
            let accounts = args.conn.connect_accounts().await?;
            let targets = plan.changes.iter().map(|c| (&c.target, c.account.as_str()));
            let store = super::live_args::store_for(&accounts, targets).await?;
            let mut report = s3medic::apply::apply_with(&store, &plan, &opts, |p| {
                show_changes(p);
                ask("Apply these changes?", args.yes, &refused)
            })
            .await;
            execute::finish_across(&accounts, &plan, &opts, &mut report).await;
            anyhow::Ok(report)
        })?
    };
    let mut report = report;
    if report.status == ApplyStatus::Declined {
        if let Some(why) = refused.get() {
            report.error = Some(why.to_string());
        }
    }
    match args.output {
        OutputFormat::Json => print!("{}", super::json_out::document(&report)?),
        OutputFormat::Text => print!("{}", report_text(&report)),
    }
    Ok(report.exit_code())
}

fn empty_report(plan: &PlanFile) -> ApplyReport {
    ApplyReport::new(ApplyStatus::NothingToChange, Some(plan.plan_id.clone()))
}

/// The report for a person.
pub fn report_text(r: &ApplyReport) -> String {
    let mut s = String::new();
    let line = |s: &mut String, t: String| {
        s.push_str(&t);
        s.push('\n');
    };
    match r.status {
        ApplyStatus::NothingToChange => {
            line(&mut s, "NOTHING TO CHANGE: the plan has no changes".into())
        }
        ApplyStatus::Applied => {
            line(&mut s, format!("APPLIED: {}", r.applied.join(", ")));
        }
        ApplyStatus::Stale => {
            line(
                &mut s,
                format!("REFUSED: {}", r.error.clone().unwrap_or_default()),
            );
            for st in &r.stale {
                line(
                    &mut s,
                    format!(
                        "  {} {} ({}): planned on {}, now {}",
                        st.change, st.target, st.resource, st.expected_digest, st.current_digest
                    ),
                );
                s.push_str(&diff_text(&st.diff, "    ", false));
            }
        }
        ApplyStatus::Declined | ApplyStatus::Refused => {
            line(
                &mut s,
                format!("REFUSED: {}", r.error.clone().unwrap_or_default()),
            );
        }
        ApplyStatus::Failed => {
            line(
                &mut s,
                format!("FAILED: {}", r.error.clone().unwrap_or_default()),
            );
            if r.undone.is_empty() {
                line(&mut s, "  nothing needed undoing".into());
            } else {
                line(
                    &mut s,
                    format!("  undone (newest first): {}", r.undone.join(", ")),
                );
            }
            for f in &r.undo_failures {
                line(
                    &mut s,
                    format!("  COULD NOT UNDO {} ({}): {}", f.change, f.target, f.error),
                );
            }
        }
        ApplyStatus::Error => {
            line(
                &mut s,
                format!(
                    "ERROR: {}; nothing was written",
                    r.error.clone().unwrap_or_default()
                ),
            );
        }
    }
    if let Some(p) = &r.snapshot_path {
        line(
            &mut s,
            format!("rollback snapshot: {p} (undo with `s3medic rollback {p}`)"),
        );
    }
    if let Some(d) = &r.decision_after {
        line(&mut s, format!("decision after apply: {d}"));
    }
    for n in &r.notes {
        line(&mut s, format!("note: {n}"));
    }
    s
}

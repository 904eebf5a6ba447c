//! `s3medic rollback SNAPSHOT`: restore every resource of an apply's rollback snapshot to its
//! saved state (deleting what did not exist before; a managed policy's previous default version
//! made the default again and the version apply created deleted; an origin access control apply
//! created deleted), newest first, after the same confirmation as `apply`, and say what rollback
//! cannot undo. Exit 0 restored (or nothing to restore), 1 error, 3 refused (not confirmed).

use std::cell::Cell;
use std::path::PathBuf;

use anyhow::Result;

use super::apply::{ask, color_stderr};
use super::live_args::{runtime, LiveArgs};
use super::OutputFormat;
use s3medic::apply::{rollback_with, ApplyOptions, RollbackReport, RollbackStatus, Snapshot};
use s3medic::render::plan::diff_text;

#[derive(Debug, clap::Args)]
pub struct RollbackArgs {
    /// The snapshot file `apply` saved (printed by `apply`; under `.s3medic/snapshots/` by default).
    #[arg(value_name = "SNAPSHOT")]
    snapshot: PathBuf,

    /// Restore without asking (for scripts; required when there is no terminal to confirm on).
    #[arg(long, short = 'y')]
    yes: bool,

    /// Output format on stdout: text for a person, or the rollback report as JSON.
    #[arg(long, value_enum, default_value = "text")]
    output: OutputFormat,

    #[command(flatten)]
    conn: LiveArgs,
}

pub fn run(args: RollbackArgs) -> Result<u8> {
    let snapshot = Snapshot::load(&args.snapshot)?;
    let refused: Cell<Option<&'static str>> = Cell::new(None);
    let rt = runtime()?;
    let opts = ApplyOptions::default();
    let mut report = rt.block_on(async {
        // Each entry is read and written with its account's clients (`--account-role`).
        let accounts = args.conn.connect_accounts().await?;
        let targets = snapshot
            .entries
            .iter()
            .map(|e| (&e.target, e.account.as_str()));
        let store = super::live_args::store_for(&accounts, targets).await?;
        anyhow::Ok(
            rollback_with(&store, &snapshot, &opts, |steps| {
                let color = color_stderr();
                eprintln!(
                    "{} resource{} to restore from `{}` (newest first):",
                    steps.len(),
                    if steps.len() == 1 { "" } else { "s" },
                    args.snapshot.display()
                );
                for st in steps {
                    eprintln!("\n  {} {}", st.change, st.target);
                    eprint!("{}", diff_text(&st.diff, "    ", color));
                    for act in &st.actions {
                        eprintln!("    then: {act}");
                    }
                }
                for c in super::rollback::caveats_of(&snapshot) {
                    eprintln!("  rollback cannot undo: {c}");
                }
                eprintln!();
                ask("Restore these resources?", args.yes, &refused)
            })
            .await,
        )
    })?;
    if report.status == RollbackStatus::Declined {
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

fn caveats_of(snapshot: &Snapshot) -> Vec<String> {
    s3medic::apply::execute::rollback_caveats(snapshot)
}

fn report_text(r: &RollbackReport) -> String {
    let mut s = String::new();
    let mut line = |t: String| {
        s.push_str(&t);
        s.push('\n');
    };
    match r.status {
        RollbackStatus::Restored => line(format!(
            "RESTORED (newest first): {}",
            r.restored.join(", ")
        )),
        RollbackStatus::NothingToRestore => {
            line("NOTHING TO RESTORE: every resource already has its saved state".into())
        }
        RollbackStatus::Declined => {
            line(format!("REFUSED: {}", r.error.clone().unwrap_or_default()))
        }
        RollbackStatus::Failed => {
            line(format!("FAILED: {}", r.error.clone().unwrap_or_default()));
            if !r.restored.is_empty() {
                line(format!("  restored: {}", r.restored.join(", ")));
            }
            for f in &r.failures {
                line(format!(
                    "  COULD NOT RESTORE {} ({}): {}",
                    f.change, f.target, f.error
                ));
            }
        }
        RollbackStatus::Error => line(format!("ERROR: {}", r.error.clone().unwrap_or_default())),
    }
    if !r.unchanged.is_empty() {
        line(format!(
            "already in the saved state: {}",
            r.unchanged.join(", ")
        ));
    }
    for c in &r.caveats {
        line(format!("rollback cannot undo: {c}"));
    }
    for n in &r.notes {
        line(format!("note: {n}"));
    }
    s
}

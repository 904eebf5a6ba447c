//! `s3medic playbooks`: the playbook catalog (one playbook per cause: when it applies, the fix it
//! produces, risk, typical time, rollback). `s3medic playbooks show ID` prints one in full.
//! `--output json`: `{"format_version": 1, "playbooks": [...]}`, or one playbook's fields after
//! `format_version`.

use anyhow::{bail, Result};
use clap::Subcommand;

use super::{exit, OutputFormat};
use s3medic::plan::catalog::{catalog, Playbook};
use s3medic::plan::Risk;

#[derive(Debug, clap::Args)]
pub struct PlaybooksArgs {
    #[command(subcommand)]
    command: Option<PlaybooksCommand>,

    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value = "text", global = true)]
    output: OutputFormat,
}

#[derive(Debug, Subcommand)]
enum PlaybooksCommand {
    /// Print one playbook in full.
    Show {
        /// The playbook id (the cause id, e.g. `wrong-arn-level`).
        id: String,
    },
}

pub fn run(args: PlaybooksArgs) -> Result<u8> {
    let playbooks = catalog()?;
    match args.command {
        None => list(&playbooks, args.output)?,
        Some(PlaybooksCommand::Show { id }) => {
            let Some(p) = playbooks.iter().find(|p| p.id == id) else {
                bail!("no playbook `{id}` (see `s3medic playbooks` for the list)");
            };
            match args.output {
                OutputFormat::Json => print!("{}", super::json_out::document(p)?),
                OutputFormat::Text => print!("{}", show(p)),
            }
        }
    }
    Ok(exit::OK)
}

fn list(playbooks: &[Playbook], output: OutputFormat) -> Result<()> {
    match output {
        OutputFormat::Json => print!("{}", super::json_out::list("playbooks", playbooks)?),
        OutputFormat::Text => {
            println!(
                "{:<32} {:<13} {:<6} {:<8} TITLE",
                "ID", "KIND", "RISK", "ROLLBACK"
            );
            for p in playbooks {
                println!(
                    "{:<32} {:<13} {:<6} {:<8} {}",
                    p.id,
                    p.kind.as_str(),
                    risk(p.risk),
                    p.rollback.as_str(),
                    p.title
                );
            }
        }
    }
    Ok(())
}

fn risk(r: Risk) -> &'static str {
    match r {
        Risk::Low => "low",
        Risk::Medium => "medium",
        Risk::High => "high",
    }
}

/// One playbook as readable text.
fn show(p: &Playbook) -> String {
    let mut s = String::new();
    s.push_str(&format!("{}: {}\n\n", p.id, p.title));
    s.push_str(&format!("kind:          {}\n", p.kind.as_str()));
    let changes = if p.changes.is_empty() {
        "none".to_string()
    } else {
        p.changes.join(", ")
    };
    s.push_str(&format!("changes:       {changes}\n"));
    if let Some(f) = &p.requires_flag {
        s.push_str(&format!("requires flag: --{}\n", f.replace('_', "-")));
    }
    s.push_str(&format!("risk:          {}\n", risk(p.risk)));
    s.push_str(&format!("typical time:  {}\n", p.typical_time));
    s.push_str(&format!("rollback:      {}\n", p.rollback.as_str()));
    s.push_str(&format!("\nApplies when:\n  {}\n", p.applies_when));
    s.push_str(&format!("\nFix:\n  {}\n", p.fix));
    s.push_str(&format!("\nRollback:\n  {}\n", p.rollback_notes));
    s.push_str("\nSources:\n");
    for u in &p.sources {
        s.push_str(&format!("  {u}\n"));
    }
    s.push_str("\nScenarios (playbooks/):\n");
    for sc in &p.scenarios {
        s.push_str(&format!("  {sc}\n"));
    }
    s
}

//! Command-line definitions (clap) and dispatch. The only module that knows about argument
//! syntax, terminals and exit codes; everything it calls is the pure library.

mod apply;
mod apply_many;
mod batch;
mod bulk;
mod completions;
mod explain;
mod intake_load;
mod json_out;
mod live_args;
mod man;
mod operations;
mod plan;
mod playbooks;
mod request_args;
mod requests;
mod rollback;
mod show;
mod snapshot;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit codes shared by every command (see README, "Exit codes").
pub mod exit {
    /// Success: allowed / nothing to change.
    pub const OK: u8 = 0;
    /// Error: bad input, unreadable file, evaluation impossible.
    pub const ERROR: u8 = 1;
    /// `explain`: the request is denied.
    pub const DENIED: u8 = 2;
}

/// Finds out why an AWS S3 request is denied (HTTP 403) and what decided it.
#[derive(Debug, Parser)]
#[command(name = "s3medic", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Decide one request against a World and show the decision and its trace.
    Explain(explain::ExplainArgs),
    /// List the S3 operations s3medic knows and the IAM actions they need.
    Operations(operations::OperationsArgs),
    /// Print the requests an input holds (`--cloudtrail` groups, `--aws-cli` steps, `--error`) as
    /// Request JSON, without evaluating them; `--out-dir DIR` writes one Request file each.
    Requests(requests::RequestsArgs),
    /// List the playbooks (one per cause: the fix, its risk, time and rollback); `show ID` prints one.
    Playbooks(playbooks::PlaybooksArgs),
    /// Find every cause of a denial and plan the smallest safe changes that make it allowed.
    Plan(plan::PlanArgs),
    /// Read the World of a bucket from AWS and write it as a World file.
    Snapshot(snapshot::SnapshotArgs),
    /// Apply a plan file exactly as planned: stale check, confirmation, rollback snapshot, writes
    /// with read-back, undo on failure. Exit 0 applied, 1 error (rolled back), 3 refused.
    Apply(apply::ApplyArgs),
    /// Restore every resource of a rollback snapshot (saved by `apply`) to its saved state.
    Rollback(rollback::RollbackArgs),
    /// Render a saved plan file as text, as Markdown (for a change ticket or pull request) or JSON.
    Show(show::ShowArgs),
    /// Print the shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(completions::CompletionsArgs),
    /// Print the man page, or write one per command with `--out-dir DIR`.
    Man(man::ManArgs),
}

/// Output format of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Readable text for a person.
    Text,
    /// Versioned JSON for scripts.
    Json,
}

/// Parses the arguments and runs the command. Usage errors exit 1 (2 means "denied").
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::ERROR
            } else {
                exit::OK
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Explain(args) => explain::run(args),
        Command::Operations(args) => operations::run(args),
        Command::Playbooks(args) => playbooks::run(args),
        Command::Requests(args) => requests::run(args),
        Command::Plan(args) => plan::run(args),
        Command::Snapshot(args) => snapshot::run(args),
        Command::Apply(args) => apply::run(args),
        Command::Rollback(args) => rollback::run(args),
        Command::Show(args) => show::run(args),
        Command::Completions(args) => completions::run(args),
        Command::Man(args) => man::run(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(exit::ERROR)
        }
    }
}

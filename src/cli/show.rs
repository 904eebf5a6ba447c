//! `s3medic show PLAN`: render a saved plan file (`plan -o FILE`) for a person (`text`, as `plan`
//! prints it), for a change ticket or pull request (`markdown`), or as the plan JSON (`json`). The
//! file is validated the way `apply` validates it; a broken file is an error naming it (exit 1).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::Value;

use super::apply::load_plan;
use super::exit;
use s3medic::plan::Plan;
use s3medic::render;
use s3medic::render::markdown::{Created, PlanSource};

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// The plan file (`s3medic plan -o FILE`).
    #[arg(value_name = "PLAN")]
    plan: PathBuf,

    /// How to render it: text for a terminal, Markdown for a change ticket or pull request, or
    /// the plan JSON (docs/formats.md "Plan file").
    #[arg(long, visible_alias = "output", value_enum, default_value = "text")]
    format: ShowFormat,

    /// Colour the text format: `auto` colours when stdout is a terminal and NO_COLOR is not set.
    #[arg(long, value_enum, default_value = "auto", value_name = "WHEN")]
    color: clap::ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ShowFormat {
    /// Readable text, as `plan` prints it, with the plan id and time.
    Text,
    /// Markdown for a change ticket or a pull request.
    Markdown,
    /// The plan JSON (the plan file, validated).
    Json,
}

/// A plan file, read, validated and parsed.
pub struct SavedPlan {
    pub plan: Plan,
    pub value: Value,
    pub source: PlanSource,
}

/// Reads `path` as a plan file: the checks of `apply` (format version, change digests, duplicate
/// changes), then every part of the plan. Every error names the file.
pub fn read_saved_plan(path: &Path) -> Result<SavedPlan> {
    let (value, parsed) = load_plan(path)?;
    let file = path.display().to_string();
    let plan: Plan = serde_json::from_value(value.clone())
        .with_context(|| format!("invalid plan file `{file}`"))?;
    // Older plan files record no time: the file's modification time stands in, labelled so.
    let created = match &plan.created_at {
        Some(t) => Created::Recorded(t.clone()),
        None => std::fs::metadata(path)
            .and_then(|m| m.modified())
            .map(|t| {
                Created::FileTime(
                    chrono::DateTime::<chrono::Utc>::from(t)
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                )
            })
            .unwrap_or(Created::Unknown),
    };
    let shown = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or(file);
    Ok(SavedPlan {
        plan,
        value,
        source: PlanSource {
            file: shown,
            plan_id: parsed.plan_id,
            created,
        },
    })
}

pub fn run(args: ShowArgs) -> Result<u8> {
    let saved = read_saved_plan(&args.plan)?;
    let out = match args.format {
        ShowFormat::Json => serde_json::to_string_pretty(&saved.value)? + "\n",
        ShowFormat::Markdown => render::markdown::plan_markdown(&saved.plan, &saved.source),
        ShowFormat::Text => {
            let color = match args.color {
                clap::ColorChoice::Always => true,
                clap::ColorChoice::Never => false,
                clap::ColorChoice::Auto => {
                    std::io::stdout().is_terminal()
                        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                }
            };
            let mut s = render::plan::plan_text(&saved.plan, color);
            s.push_str(&footer(&saved));
            s
        }
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out.as_bytes())?;
    stdout.flush()?;
    Ok(exit::OK)
}

/// The facts of the file that `plan_text` does not show.
fn footer(saved: &SavedPlan) -> String {
    format!(
        "\nPlan file\n  file:     {} (format {}, planned by s3medic {})\n  plan id:  {}\n  created:  {}\n",
        saved.source.file,
        saved.plan.format_version,
        saved.plan.tool_version,
        saved.source.plan_id,
        saved.source.created.describe()
    )
}

//! `s3medic plan`: read a World and a request, find every cause of the denial and the smallest
//! safe set of changes that makes the request allowed, and print the plan (findings, each change
//! as a unified JSON diff, manual steps, proof). `--out FILE` writes the versioned plan file,
//! stamped with the time it was made (`created_at`).
//!
//! Exit 0: nothing to change (the request is already allowed); 2: changes planned or manual steps
//! needed; 3: refused (the plan would give unintended new access and `--accept-new-access` was not
//! given; nothing is written); 1: error.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{bail, Context, Result};

use super::live_args::LiveWorldArgs;
use super::request_args::RequestArgs;
use super::OutputFormat;
use s3medic::bulk::Status;
use s3medic::plan::{plan, PlanOptions};
use s3medic::render;

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// The World snapshot: a JSON file in the format of docs/formats.md (or `--live`).
    #[arg(long, short = 'w', value_name = "FILE")]
    world: Option<PathBuf>,

    #[command(flatten)]
    live: LiveWorldArgs,

    #[command(flatten)]
    request: RequestArgs,

    #[command(flatten)]
    bulk: super::bulk::BulkArgs,

    /// Write the plan file (JSON, docs/formats.md "Plan file") here; written only when planning
    /// succeeds (exit 0 or 2), atomically, replacing an existing file.
    #[arg(long, short = 'o', value_name = "FILE")]
    out: Option<PathBuf>,

    /// Output format on stdout: text for a person, or the plan JSON for scripts.
    #[arg(long, value_enum, default_value = "text")]
    output: OutputFormat,

    /// Colour the text output: `auto` colours when stdout is a terminal and NO_COLOR is not set.
    #[arg(long, value_enum, default_value = "auto", value_name = "WHEN")]
    color: ColorChoice,

    /// Allow changes that make something public (Block Public Access off, public statements).
    #[arg(long)]
    allow_public: bool,

    /// Allow weakening guardrail denies (TLS, source IP / VPC / endpoint, encryption, organization).
    #[arg(long)]
    allow_guardrail_change: bool,

    /// Allow exempting the caller from other explicit denies.
    #[arg(long)]
    allow_deny_change: bool,

    /// Accept a plan that gives other requests new access (listed in the plan's proof).
    #[arg(long)]
    accept_new_access: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    fn enabled(self) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        }
    }
}

use s3medic::atomic_file::write_atomically;

pub fn run(args: PlanArgs) -> Result<u8> {
    if args.bulk.targets.is_some() {
        let opts = PlanOptions {
            allow_public: args.allow_public,
            allow_guardrail_change: args.allow_guardrail_change,
            allow_deny_change: args.allow_deny_change,
            accept_new_access: args.accept_new_access,
        };
        return super::bulk::run(&args.bulk, &args.live, &args.request, opts);
    }
    args.bulk.need_targets()?;
    if let Some(out) = &args.out {
        if matches!(out.to_str(), Some("json" | "text")) {
            bail!(
                "`--out {}` would write a plan file named `{}`; for the output format use `--output {}`",
                out.display(),
                out.display(),
                out.display()
            );
        }
    }
    let loaded = args.request.load_all(Some(&args.live))?;
    let mut item =
        super::batch::pick_for_plan(loaded, &args.request, args.world.as_deref(), &args.live)?;
    let world = args.live.load_world(args.world.as_deref(), &item.request)?;
    if let Some(n) = super::batch::resolve_caller(&mut item, &world) {
        eprintln!("note: {n}");
    }
    let request = item.request.clone();
    let opts = PlanOptions {
        allow_public: args.allow_public,
        allow_guardrail_change: args.allow_guardrail_change,
        allow_deny_change: args.allow_deny_change,
        accept_new_access: args.accept_new_access,
    };
    let mut plan = plan(&world, &request, &opts).context("cannot plan the request")?;
    plan.created_at = Some(created_now());
    let verdict = Status::of_plan(&plan);
    let color = args.output == OutputFormat::Text && args.color.enabled();

    if verdict == Status::Refused {
        let report = match args.output {
            OutputFormat::Json => {
                serde_json::to_string_pretty(&render::plan::refusal_json(&plan))? + "\n"
            }
            OutputFormat::Text => render::plan::refusal_text(&plan, color),
        };
        print_stdout(&report)?;
        return Ok(verdict.exit_code());
    }

    let json = serde_json::to_string_pretty(&plan).context("cannot serialize the plan")? + "\n";
    // Write the file first: an error writing it must not follow a plan already printed.
    if let Some(out) = &args.out {
        write_atomically(out, json.as_bytes())
            .with_context(|| format!("cannot write plan file `{}`", out.display()))?;
    }
    match args.output {
        OutputFormat::Json => print_stdout(&json)?,
        OutputFormat::Text => print_stdout(&render::plan::plan_text(&plan, color))?,
    }
    args.request
        .presigned_hint(plan.decision_before.is_allowed(), args.output);
    if args.output == OutputFormat::Text && item.report.is_some() {
        if let Ok(outcome) = s3medic::eval::authorize(&world, &request) {
            if let Some(c) = super::batch::message_check(&item, &outcome) {
                print!("\n{}", c.to_text());
            }
        }
    }
    if let Some(out) = &args.out {
        eprintln!("plan written to `{}`", out.display());
    }
    Ok(verdict.exit_code())
}

/// Now, as a plan file's `created_at`: RFC 3339, UTC, whole seconds (the planner reads no clock).
pub fn created_now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn print_stdout(s: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(s.as_bytes())?;
    stdout.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use s3medic::eval::Decision;
    use s3medic::plan::{ManualStep, NewAccess, Plan, Proof, PLAN_FORMAT_VERSION};

    fn plan_with(before: Decision, after: Decision, new_access: usize, accepted: bool) -> Plan {
        Plan {
            format_version: PLAN_FORMAT_VERSION,
            tool_version: "0.0.0".into(),
            created_at: None,
            request: serde_json::json!({"principal": "anonymous", "operation": "GetObject", "bucket": "b", "key": "k"}),
            decision_before: before,
            findings: Vec::new(),
            changes: Vec::new(),
            manual_steps: Vec::new(),
            proof: Proof {
                decision_after: after,
                target_allowed: after.is_allowed(),
                requests_checked: 12,
                requests_evaluated: 12,
                requests_skipped: 0,
                new_access: (0..new_access)
                    .map(|i| NewAccess {
                        principal: format!("arn:aws:iam::111122223333:user/u{i}"),
                        action: "s3:GetObject".into(),
                        resource: "arn:aws:s3:::b/k".into(),
                        source_arn: None,
                    })
                    .collect(),
                accepted,
            },
            unknowns: Vec::new(),
        }
    }

    #[test]
    fn already_allowed_is_nothing_to_change() {
        let p = plan_with(Decision::Allowed, Decision::Allowed, 0, true);
        assert_eq!(Status::of_plan(&p), Status::Ok);
        assert_eq!(Status::of_plan(&p).exit_code(), 0);
    }

    #[test]
    fn denied_without_changes_needs_manual_steps() {
        let mut p = plan_with(Decision::ImplicitDeny, Decision::ImplicitDeny, 0, true);
        assert_eq!(Status::of_plan(&p).exit_code(), 2);
        p.manual_steps.push(ManualStep {
            playbook: "scp-blocks".into(),
            who: "the organization's management account".into(),
            action: "allow s3:GetObject in the SCP".into(),
            statement: None,
        });
        assert_eq!(Status::of_plan(&p).exit_code(), 2);
    }

    #[test]
    fn unaccepted_new_access_is_refused_and_accepted_is_not() {
        let p = plan_with(Decision::ImplicitDeny, Decision::Allowed, 2, false);
        assert_eq!(Status::of_plan(&p), Status::Refused);
        assert_eq!(Status::of_plan(&p).exit_code(), 3);
        let p = plan_with(Decision::ImplicitDeny, Decision::Allowed, 2, true);
        assert_eq!(Status::of_plan(&p).exit_code(), 2);
    }

    #[test]
    fn refusal_report_lists_the_new_access() {
        let p = plan_with(Decision::ImplicitDeny, Decision::Allowed, 2, false);
        let t = render::plan::refusal_text(&p, false);
        assert!(t.starts_with("REFUSED"), "{t}");
        assert!(
            t.contains("user/u0 s3:GetObject on arn:aws:s3:::b/k"),
            "{t}"
        );
        assert!(t.contains("--accept-new-access"), "{t}");
        let j = render::plan::refusal_json(&p);
        assert_eq!(j["refused"], "new_access");
        assert_eq!(j["new_access"].as_array().map(Vec::len), Some(2));
        assert!(j.get("before_digest").is_none());
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp_file() {
        let dir = std::env::temp_dir().join(format!("s3medic-plan-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let p = dir.join("plan.json");
        std::fs::write(&p, "old").expect("seed");
        write_atomically(&p, b"{}\n").expect("write");
        assert_eq!(std::fs::read_to_string(&p).expect("read"), "{}\n");
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .expect("list")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains("s3medic-tmp"))
            .collect();
        assert!(leftovers.is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}

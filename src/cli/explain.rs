//! `s3medic explain`: read a World and a request (a JSON file, flags, an error message, CloudTrail
//! records or an AWS CLI command), decide the request, and print the decision with its trace (and,
//! for an error message that names a reason, whether the diagnosis confirms it). Several requests
//! (CloudTrail groups, the steps of a command) are decided one by one (`batch`). Exit 0 when
//! allowed, 2 when denied (any of several), 1 on error.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::batch;
use super::live_args::LiveWorldArgs;
use super::request_args::RequestArgs;
use super::{exit, OutputFormat};
use s3medic::eval::authorize;
use s3medic::render;
use s3medic::world::World;

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The World snapshot: a JSON file in the format of docs/formats.md (or `--live`).
    #[arg(long, short = 'w', value_name = "FILE")]
    world: Option<PathBuf>,

    #[command(flatten)]
    live: LiveWorldArgs,

    #[command(flatten)]
    request: RequestArgs,

    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value = "text")]
    output: OutputFormat,
}

pub fn run(args: ExplainArgs) -> Result<u8> {
    let mut loaded = args.request.load_all(Some(&args.live))?;
    if loaded.is_batch(&args.request) {
        return batch::explain_all(&loaded, args.world.as_deref(), &args.live, args.output);
    }
    loaded.print_notes();
    let mut item = loaded.items.remove(0);
    let world = args.live.load_world(args.world.as_deref(), &item.request)?;
    if let Some(n) = batch::resolve_caller(&mut item, &world) {
        eprintln!("note: {n}");
    }
    let request = &item.request;
    let outcome = authorize(&world, request).context("cannot evaluate the request")?;
    let check = batch::message_check(&item, &outcome);
    match args.output {
        OutputFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&batch::decision_json(&outcome, check.as_ref())?)?
        ),
        OutputFormat::Text => {
            print!("{}", render::text::outcome(&outcome, request));
            if let Some(c) = &check {
                print!("\n{}", c.to_text());
            }
        }
    }
    args.request
        .presigned_hint(outcome.decision.is_allowed(), args.output);
    Ok(if outcome.decision.is_allowed() {
        exit::OK
    } else {
        exit::DENIED
    })
}

/// Reads and parses a World file, naming the file in every error.
pub fn read_world(path: &Path) -> Result<World> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read world file `{}`", path.display()))?;
    World::from_json_str(&text).with_context(|| format!("invalid world file `{}`", path.display()))
}

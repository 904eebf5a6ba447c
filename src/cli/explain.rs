//! `s3medic explain`: read a World and a request (a JSON file, or flags), decide the request, and
//! print the decision with its trace. Exit 0 when allowed, 2 when denied, 1 on error.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

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
    let request = args.request.load()?;
    let world = args.live.load_world(args.world.as_deref(), &request)?;
    let outcome = authorize(&world, &request).context("cannot evaluate the request")?;
    match args.output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&outcome)?),
        OutputFormat::Text => print!("{}", render::text::outcome(&outcome, &request)),
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

//! Several requests from one input (`--cloudtrail`, `--aws-cli`): the World of each (one file, or
//! collected live once per bucket and caller), `explain` of every one, and the choice of the one
//! `plan` plans.
//!
//! `explain --output json` over several requests prints one document (docs/formats.md, "Request
//! batch"): `{"format_version": 1, "source": "cloudtrail" | "aws_cli", "input": ..., "summary":
//! ..., "requests": [{"index", "label", <group or step facts>, "request", "decision",
//! "message_check"}], "skipped": [...]}`; `decision` is the decision document of a single
//! `explain`. The exit code is 2 when any request is denied, else 0.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde_json::{Map, Value};

use super::intake_load::{Item, Loaded, SourceKind};
use super::live_args::{collect_live, spec_for_request, LiveWorldArgs};
use super::request_args::RequestArgs;
use super::{exit, OutputFormat};
use s3medic::collect::CollectSpec;
use s3medic::eval::{authorize, Outcome};
use s3medic::intake::cloudtrail::AccountCaller;
use s3medic::intake::hint::{self, MessageCheck};
use s3medic::render;
use s3medic::request::Request;
use s3medic::world::World;

/// Version of the request-batch document.
pub const BATCH_FORMAT_VERSION: u32 = 1;

/// The Worlds of a command: the `--world` file read once, or one live collection per distinct
/// collection spec.
pub struct Worlds<'a> {
    path: Option<&'a Path>,
    live: &'a LiveWorldArgs,
    file: Option<World>,
    collected: Vec<(CollectSpec, World)>,
}

impl<'a> Worlds<'a> {
    pub fn new(path: Option<&'a Path>, live: &'a LiveWorldArgs) -> Worlds<'a> {
        Worlds {
            path,
            live,
            file: None,
            collected: Vec::new(),
        }
    }

    /// The World to evaluate `item` against.
    pub fn get(&mut self, item: &Item) -> Result<&World> {
        if !self.live.live {
            if self.file.is_none() {
                self.file = Some(self.live.load_world(self.path, &item.request)?);
            }
            return self.file.as_ref().context("the world file was read");
        }
        let spec = spec_for_request(&item.request, self.live.bucket_account.clone())?;
        let i = match self.collected.iter().position(|(s, _)| *s == spec) {
            Some(i) => i,
            None => {
                let collected = collect_live(&self.live.conn, &spec)?;
                self.collected.push((spec, collected.world));
                self.collected.len() - 1
            }
        };
        Ok(&self.collected[i].1)
    }
}

/// A note when the input names the bucket's owner and the World says another account owns it
/// (the World is of another bucket of the same name, or stale).
pub fn owner_note(item: &Item, world: &World) -> Option<String> {
    let said = item.meta.get("bucket_owner").and_then(Value::as_str)?;
    let bucket = world.bucket(&item.request.bucket)?;
    (bucket.account_id != said).then(|| {
        format!(
            "CloudTrail says bucket `{}` is owned by {said}; the World says {}: the World may not be of this bucket",
            item.request.bucket, bucket.account_id
        )
    })
}

/// Resolves a CloudTrail caller named only by account and principal id through `world`'s IAM data
/// (`AccountCaller::in_world`): on success the item's request is made by the user or role session
/// found. Either way the item's note about the caller is replaced by one that says what the World
/// gave (or why it gave nothing), which is returned; `None` when the item has no such caller.
pub fn resolve_caller(item: &mut Item, world: &World) -> Option<String> {
    let caller = item.account_caller.take()?;
    let (arn, note) = caller.in_world(world);
    if let Some(arn) = arn {
        let mut v = item.request.to_value();
        if let Value::Object(m) = &mut v {
            m.insert("principal".into(), Value::String(arn.clone()));
        }
        match Request::from_value(&v) {
            Ok(r) => item.request = r,
            Err(e) => {
                let why = format!("`{arn}` does not make a valid request: {e}");
                return Some(replace_note(item, &caller, caller.unresolved_note(&why)));
            }
        }
    }
    Some(replace_note(item, &caller, note))
}

/// Replaces the parser's note about `caller` (in the notes and in the `notes` of the group facts)
/// with `note`; returns it.
fn replace_note(item: &mut Item, caller: &AccountCaller, note: String) -> String {
    let old = caller.note();
    let swap = |n: &mut String| {
        if *n == old {
            *n = note.clone();
        }
    };
    item.notes.iter_mut().for_each(swap);
    if let Some(Value::Array(list)) = item.meta.get_mut("notes") {
        for n in list.iter_mut() {
            if n.as_str() == Some(old.as_str()) {
                *n = Value::String(note.clone());
            }
        }
    }
    note
}

/// The message check of an item's error message against its outcome.
pub fn message_check(item: &Item, outcome: &Outcome<'_>) -> Option<MessageCheck> {
    item.report.as_ref().and_then(|r| hint::check(r, outcome))
}

/// The decision document of `outcome`, with `message_check` when the input stated a reason.
pub fn decision_json(outcome: &Outcome<'_>, check: Option<&MessageCheck>) -> Result<Value> {
    let mut v = serde_json::to_value(outcome).context("cannot serialize the decision")?;
    if let (Some(c), Value::Object(m)) = (check, &mut v) {
        m.insert("message_check".into(), serde_json::to_value(c)?);
    }
    Ok(v)
}

/// The JSON of one item: its index, label, input facts and request.
pub fn item_json(index: usize, item: &Item) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("index".into(), index.into());
    m.insert("label".into(), item.label.clone().into());
    for (k, v) in &item.meta {
        m.insert(k.clone(), v.clone());
    }
    if !item.notes.is_empty() && !m.contains_key("notes") {
        m.insert(
            "notes".into(),
            Value::Array(item.notes.iter().cloned().map(Value::String).collect()),
        );
    }
    if let Some(says) = item.report.as_ref().and_then(|r| r.stated()) {
        m.insert("message_says".into(), says.into());
    }
    m.insert("request".into(), item.request.to_value());
    m
}

/// The head of a batch document (`format_version`, `source`, `input`, `summary`).
pub fn batch_head(loaded: &Loaded) -> Map<String, Value> {
    let mut doc = Map::new();
    doc.insert("format_version".into(), BATCH_FORMAT_VERSION.into());
    doc.insert("source".into(), loaded.kind.as_str().into());
    doc.insert(
        "input".into(),
        loaded.input.clone().map_or(Value::Null, Value::String),
    );
    doc.insert(
        "summary".into(),
        loaded.summary.clone().map_or(Value::Null, Value::String),
    );
    doc
}

/// `explain` of every request of a batch.
pub fn explain_all(
    loaded: &Loaded,
    world_path: Option<&Path>,
    live: &LiveWorldArgs,
    output: OutputFormat,
) -> Result<u8> {
    loaded.print_notes();
    let mut worlds = Worlds::new(world_path, live);
    let mut denied = 0usize;
    let mut documents = Vec::new();
    let total = loaded.items.len();
    for (i, item) in loaded.items.iter().enumerate() {
        let world = worlds.get(item)?;
        let mut item = item.clone();
        resolve_caller(&mut item, world);
        let item = &item;
        let outcome = authorize(world, &item.request)
            .with_context(|| format!("cannot evaluate {}", item.label))?;
        if !outcome.decision.is_allowed() {
            denied += 1;
        }
        let check = message_check(item, &outcome);
        let owner = owner_note(item, world);
        if let Some(n) = &owner {
            eprintln!("note: {}: {n}", item.label);
        }
        match output {
            OutputFormat::Json => {
                let mut m = item_json(i + 1, item);
                if let Some(n) = owner {
                    m.insert("world_note".into(), n.into());
                }
                m.insert("decision".into(), decision_json(&outcome, check.as_ref())?);
                documents.push(Value::Object(m));
            }
            OutputFormat::Text => {
                if i > 0 {
                    println!();
                }
                println!("── {} of {total}: {}", i + 1, item.label);
                for n in &item.notes {
                    println!("   note: {n}");
                }
                print!("{}", render::text::outcome(&outcome, &item.request));
                if let Some(c) = &check {
                    print!("\n{}", c.to_text());
                }
            }
        }
    }
    match output {
        OutputFormat::Json => {
            let mut doc = batch_head(loaded);
            doc.insert("requests".into(), Value::Array(documents));
            doc.insert("skipped".into(), Value::Array(loaded.skipped.clone()));
            println!("{}", serde_json::to_string_pretty(&Value::Object(doc))?);
        }
        OutputFormat::Text => {
            println!(
                "\n{total} request(s): {} allowed, {denied} denied",
                total - denied
            );
        }
    }
    Ok(if denied > 0 { exit::DENIED } else { exit::OK })
}

/// The one request `plan` plans: the only one; for CloudTrail the `--event-group` (required when
/// there are several groups); for an AWS CLI command the `--step`, else the first denied step
/// (the first step when all are allowed).
pub fn pick_for_plan(
    mut loaded: Loaded,
    args: &RequestArgs,
    world_path: Option<&Path>,
    live: &LiveWorldArgs,
) -> Result<Item> {
    loaded.print_notes();
    if loaded.items.len() == 1 {
        let item = loaded.items.remove(0);
        if loaded.kind != SourceKind::Single {
            eprintln!("note: planning {}", item.label);
        }
        return Ok(item);
    }
    match loaded.kind {
        SourceKind::AwsCli if args.step.is_none() => {
            let mut worlds = Worlds::new(world_path, live);
            let mut chosen = None;
            for (i, item) in loaded.items.iter().enumerate() {
                let world = worlds.get(item)?;
                let outcome = authorize(world, &item.request)
                    .with_context(|| format!("cannot evaluate {}", item.label))?;
                if !outcome.decision.is_allowed() {
                    chosen = Some(i);
                    break;
                }
            }
            let i = chosen.unwrap_or(0);
            eprintln!(
                "note: planning {} ({}; choose another with `--step N`)",
                loaded.items[i].label,
                if chosen.is_some() {
                    "the first denied request of the command"
                } else {
                    "every request of the command is allowed"
                }
            );
            Ok(loaded.items.swap_remove(i))
        }
        _ => {
            let list: Vec<String> = loaded
                .items
                .iter()
                .map(|it| format!("  {}", it.label))
                .collect();
            bail!(
                "`plan` plans one request and `--cloudtrail` holds {} groups of denied S3 requests; choose one with `--event-group N`:\n{}",
                loaded.items.len(),
                list.join("\n")
            )
        }
    }
}

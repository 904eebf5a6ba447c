//! `s3medic explain`: read a World and a request (a JSON file, or flags), decide the request, and
//! print the decision with its trace. Exit 0 when allowed, 2 when denied, 1 on error.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde_json::{Map, Value};

use super::{exit, OutputFormat};
use s3medic::eval::authorize;
use s3medic::render;
use s3medic::request::Request;
use s3medic::world::World;

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The World snapshot: a JSON file in the format of docs/formats.md.
    #[arg(long, short = 'w', value_name = "FILE")]
    world: PathBuf,

    /// The request as a JSON file (docs/formats.md). Alternatively, describe it with the flags below.
    #[arg(long, short = 'r', value_name = "FILE")]
    request: Option<PathBuf>,

    /// Who makes the request: an IAM user / role / assumed-role session ARN, an account id,
    /// `anonymous`, or a service principal such as `cloudfront.amazonaws.com`.
    #[arg(long, value_name = "PRINCIPAL")]
    principal: Option<String>,

    /// The S3 API operation, e.g. `GetObject` (see `s3medic operations`).
    #[arg(long, value_name = "OPERATION", conflicts_with = "action")]
    operation: Option<String>,

    /// A raw IAM action instead of an operation, e.g. `s3:GetObject`.
    #[arg(long, value_name = "ACTION")]
    action: Option<String>,

    /// The bucket name.
    #[arg(long, value_name = "BUCKET")]
    bucket: Option<String>,

    /// The object key.
    #[arg(long, value_name = "KEY")]
    key: Option<String>,

    /// The object version id.
    #[arg(long, value_name = "ID")]
    version_id: Option<String>,

    /// The copy source of CopyObject / UploadPartCopy, as `bucket/key`.
    #[arg(long, value_name = "BUCKET/KEY")]
    copy_source: Option<String>,

    /// A request header that matters (repeatable), e.g. `x-amz-acl=public-read`.
    #[arg(long = "header", value_name = "NAME=VALUE")]
    headers: Vec<String>,

    /// A query parameter (repeatable), e.g. `prefix=home/`.
    #[arg(long = "query", value_name = "NAME=VALUE")]
    query: Vec<String>,

    /// A condition key and value (repeatable; repeat a key for a multi-valued key),
    /// e.g. `aws:SourceIp=203.0.113.7`.
    #[arg(long = "context", value_name = "KEY=VALUE")]
    context: Vec<String>,

    /// The VPC endpoint the request comes through.
    #[arg(long, value_name = "VPCE_ID")]
    vpc_endpoint: Option<String>,

    /// The session policy of a role session (a JSON file).
    #[arg(long, value_name = "FILE")]
    session_policy: Option<PathBuf>,

    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value = "text")]
    output: OutputFormat,
}

pub fn run(args: ExplainArgs) -> Result<u8> {
    let world = read_world(&args.world)?;
    let request_value = match &args.request {
        Some(path) => {
            if args.principal.is_some() || args.operation.is_some() || args.action.is_some() {
                bail!("give the request either as `--request FILE` or with flags, not both");
            }
            read_json(path, "request")?
        }
        None => request_from_flags(&args)?,
    };
    let request = Request::from_value(&request_value).with_context(|| match &args.request {
        Some(p) => format!("invalid request file `{}`", p.display()),
        None => "invalid request".to_string(),
    })?;
    let outcome = authorize(&world, &request).context("cannot evaluate the request")?;
    match args.output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&outcome)?),
        OutputFormat::Text => print!("{}", render::text::outcome(&outcome, &request)),
    }
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

fn read_json(path: &Path, what: &str) -> Result<Value> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read {what} file `{}`", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{what} file `{}` is not valid JSON", path.display()))
}

fn split_pair<'s>(s: &'s str, flag: &str) -> Result<(&'s str, &'s str)> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k, v)),
        _ => bail!("`--{flag} {s}`: expected NAME=VALUE"),
    }
}

/// Builds the request JSON of docs/formats.md from flags, so flags and files share one parser.
fn request_from_flags(args: &ExplainArgs) -> Result<Value> {
    let mut m = Map::new();
    let Some(principal) = &args.principal else {
        bail!("missing `--principal` (or give `--request FILE`)");
    };
    let principal = if principal.ends_with(".amazonaws.com") {
        serde_json::json!({ "Service": principal })
    } else {
        Value::String(principal.clone())
    };
    m.insert("principal".into(), principal);
    match (&args.operation, &args.action) {
        (Some(op), _) => m.insert("operation".into(), Value::String(op.clone())),
        (None, Some(a)) => m.insert("action".into(), Value::String(a.clone())),
        (None, None) => {
            bail!("missing `--operation` (e.g. GetObject) or `--action` (e.g. s3:GetObject)")
        }
    };
    for (field, v) in [
        ("bucket", &args.bucket),
        ("key", &args.key),
        ("version_id", &args.version_id),
        ("copy_source", &args.copy_source),
        ("vpc_endpoint", &args.vpc_endpoint),
    ] {
        if let Some(v) = v {
            m.insert(field.into(), Value::String(v.clone()));
        }
    }
    let mut headers = Map::new();
    for h in &args.headers {
        let (k, v) = split_pair(h, "header")?;
        headers.insert(k.to_ascii_lowercase(), Value::String(v.to_string()));
    }
    if !headers.is_empty() {
        m.insert("headers".into(), Value::Object(headers));
    }
    let mut query = Map::new();
    for q in &args.query {
        let (k, v) = split_pair(q, "query")?;
        query.insert(k.to_string(), Value::String(v.to_string()));
    }
    if !query.is_empty() {
        m.insert("query".into(), Value::Object(query));
    }
    let mut context = Map::new();
    for c in &args.context {
        let (k, v) = split_pair(c, "context")?;
        match context.get_mut(k) {
            Some(Value::Array(list)) => list.push(Value::String(v.to_string())),
            Some(prev) => {
                let first = prev.take();
                *prev = Value::Array(vec![first, Value::String(v.to_string())]);
            }
            None => {
                context.insert(k.to_string(), Value::String(v.to_string()));
            }
        }
    }
    if !context.is_empty() {
        m.insert("context".into(), Value::Object(context));
    }
    if let Some(p) = &args.session_policy {
        m.insert("session_policy".into(), read_json(p, "session policy")?);
    }
    Ok(Value::Object(m))
}

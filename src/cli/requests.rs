//! `s3medic requests`: the requests an input holds, as Request JSON, without evaluating them —
//! the grouped denied requests of `--cloudtrail`, the steps of `--aws-cli`, the request of
//! `--error` (request flags fill gaps and win, as for `explain`). Prints one request-batch
//! document (docs/formats.md) and, with `--out-dir DIR`, also writes each request to
//! `DIR/request-N.json`, a file `explain --request` and `plan --request` read. Exit 0, or 1 on
//! error.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use serde_json::Value;

use super::batch::{batch_head, item_json};
use super::exit;
use super::request_args::RequestArgs;

#[derive(Debug, clap::Args)]
pub struct RequestsArgs {
    #[command(flatten)]
    request: RequestArgs,

    /// Also write each request to `DIR/request-N.json` (created if missing; files of the same
    /// names are replaced).
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
}

pub fn run(args: RequestsArgs) -> Result<u8> {
    let r = &args.request;
    let any_input = r.cloudtrail.is_some()
        || r.aws_cli.is_some()
        || r.error.is_some()
        || r.error_file.is_some()
        || r.request.is_some()
        || r.presigned_url.is_some()
        || r.principal.is_some();
    if !any_input {
        bail!("give the input: `--cloudtrail FILE`, `--aws-cli COMMAND`, `--error TEXT` / `--error-file FILE` (or request flags)");
    }
    let loaded = args.request.load_all(None)?;
    loaded.print_notes();
    let mut items = Vec::with_capacity(loaded.items.len());
    if let Some(dir) = &args.out_dir {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create directory `{}`", dir.display()))?;
    }
    for (i, item) in loaded.items.iter().enumerate() {
        let mut m = item_json(i + 1, item);
        if let Some(dir) = &args.out_dir {
            let path = dir.join(format!("request-{}.json", i + 1));
            let text = serde_json::to_string_pretty(&item.request.to_value())? + "\n";
            std::fs::write(&path, text)
                .with_context(|| format!("cannot write request file `{}`", path.display()))?;
            eprintln!("wrote `{}`: {}", path.display(), item.label);
            m.insert("file".into(), path.display().to_string().into());
        }
        items.push(Value::Object(m));
    }
    let mut doc = batch_head(&loaded);
    doc.insert("requests".into(), Value::Array(items));
    doc.insert("skipped".into(), Value::Array(loaded.skipped.clone()));
    println!("{}", serde_json::to_string_pretty(&Value::Object(doc))?);
    Ok(exit::OK)
}

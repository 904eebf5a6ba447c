//! `s3medic snapshot`: read the World of a bucket (and keys, principals) from AWS and write it as
//! a World file (docs/formats.md) for `explain` / `plan --world`. What could not be read is
//! printed on stderr (and recorded as unknown parts in the file). Exit 0 on success, 1 on error.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::exit;
use super::live_args::{collect_live, LiveArgs};
use s3medic::collect::CollectSpec;

#[derive(Debug, clap::Args)]
pub struct SnapshotArgs {
    /// The bucket to read.
    #[arg(long, value_name = "BUCKET")]
    bucket: String,

    /// An object key whose encryption (HeadObject) and ACL to read (repeatable).
    #[arg(long = "key", value_name = "KEY")]
    keys: Vec<String>,

    /// A principal ARN (or account id) involved; its account is added to the World (IAM data is
    /// read for the caller's account only). Repeatable.
    #[arg(long = "principal", value_name = "ARN")]
    principals: Vec<String>,

    /// Another bucket to read (e.g. a copy source), without objects. Repeatable.
    #[arg(long = "extra-bucket", value_name = "BUCKET")]
    extra_buckets: Vec<String>,

    /// The account that owns the bucket, when it is not the caller's account.
    #[arg(long, value_name = "ACCOUNT_ID")]
    bucket_account: Option<String>,

    #[command(flatten)]
    conn: LiveArgs,

    /// Write the World JSON here (atomically: the file is complete or untouched).
    #[arg(long, short = 'o', value_name = "FILE")]
    out: PathBuf,
}

pub fn run(args: SnapshotArgs) -> Result<u8> {
    let spec = CollectSpec {
        bucket: args.bucket.clone(),
        keys: args.keys.clone(),
        principals: args.principals.clone(),
        extra_buckets: args.extra_buckets.clone(),
        bucket_account: args.bucket_account.clone(),
    };
    let collected = collect_live(&args.conn, &spec)?;
    let json = serde_json::to_string_pretty(&collected.world.to_value())
        .context("cannot serialize the World")?
        + "\n";
    write_atomically(&args.out, json.as_bytes())
        .with_context(|| format!("cannot write world file `{}`", args.out.display()))?;
    eprintln!("world written to `{}`", args.out.display());
    Ok(exit::OK)
}

/// Writes `contents` to a temporary file in the same directory, then renames it over `path`.
fn write_atomically(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"))?;
    let tmp = dir.join(format!(
        ".{}.s3medic-tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

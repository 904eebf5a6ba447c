//! `s3medic snapshot`: read the World of a bucket (and keys, principals) from AWS and write it as
//! a World file (docs/formats.md) for `explain` / `plan --world`. What could not be read is
//! printed on stderr (and recorded as unknown parts in the file). Exit 0 on success, 1 on error.
//! `--output json` prints a report on stdout: the file written, the calls made, the unknown parts.

use std::path::PathBuf;

use anyhow::{Context, Result};

use super::live_args::{collect_live_with, LiveArgs};
use super::{exit, OutputFormat};
use s3medic::atomic_file::write_atomically;
use s3medic::collect::CollectSpec;

#[derive(Debug, clap::Args)]
pub struct SnapshotArgs {
    /// The bucket to read.
    #[arg(long, value_name = "BUCKET")]
    bucket: String,

    /// An object key whose encryption (HeadObject) and ACL to read (repeatable).
    #[arg(long = "key", value_name = "KEY")]
    keys: Vec<String>,

    /// A principal ARN (or account id) involved; its account is added to the World (its IAM data
    /// is read for the caller's account and the accounts given with `--account-role` /
    /// `--accounts`). Repeatable.
    #[arg(long = "principal", value_name = "ARN")]
    principals: Vec<String>,

    /// Another bucket to read (e.g. a copy source), without objects. Repeatable.
    #[arg(long = "extra-bucket", value_name = "BUCKET")]
    extra_buckets: Vec<String>,

    /// The account that owns the bucket, when it is not the caller's account.
    #[arg(long, value_name = "ACCOUNT_ID")]
    bucket_account: Option<String>,

    /// A VPC endpoint requests come through (repeatable): recorded with its policy unknown
    /// (s3medic does not read EC2; fill in `aws ec2 describe-vpc-endpoints` output).
    #[arg(long = "vpc-endpoint", value_name = "VPCE_ID")]
    vpc_endpoints: Vec<String>,

    #[command(flatten)]
    conn: LiveArgs,

    /// Write the World JSON here (atomically: the file is complete or untouched).
    #[arg(long, short = 'o', value_name = "FILE")]
    out: PathBuf,

    /// Output format on stdout: text (nothing; progress goes to stderr), or a JSON report of the
    /// file written, the calls made and the parts that could not be read.
    #[arg(long, value_enum, default_value = "text")]
    output: OutputFormat,
}

/// The `--output json` report of a snapshot (docs/formats.md).
#[derive(Debug, serde::Serialize)]
struct SnapshotReport<'a> {
    world_file: String,
    bucket: &'a str,
    keys: &'a [String],
    calls: usize,
    unknown: &'a [String],
}

pub fn run(args: SnapshotArgs) -> Result<u8> {
    let spec = CollectSpec {
        bucket: args.bucket.clone(),
        keys: args.keys.clone(),
        principals: args.principals.clone(),
        extra_buckets: args.extra_buckets.clone(),
        bucket_account: args.bucket_account.clone(),
    };
    let collected = collect_live_with(&args.conn, &spec, &args.vpc_endpoints)?;
    let json = serde_json::to_string_pretty(&collected.world.to_value())
        .context("cannot serialize the World")?
        + "\n";
    write_atomically(&args.out, json.as_bytes())
        .with_context(|| format!("cannot write world file `{}`", args.out.display()))?;
    eprintln!("world written to `{}`", args.out.display());
    if args.output == OutputFormat::Json {
        let report = SnapshotReport {
            world_file: args.out.display().to_string(),
            bucket: &args.bucket,
            keys: &args.keys,
            calls: collected.calls,
            unknown: &collected.unknown,
        };
        print!("{}", super::json_out::document(&report)?);
    }
    Ok(exit::OK)
}

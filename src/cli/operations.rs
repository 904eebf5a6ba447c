//! `s3medic operations`: the S3 operation table (operation → IAM action, resource level, data
//! access that implies KMS use). `--output json`: `{"format_version": 1, "operations": [...]}`.

use anyhow::Result;
use serde_json::json;

use super::{exit, OutputFormat};
use s3medic::request::{operations, DataAccess, Scope};

#[derive(Debug, clap::Args)]
pub struct OperationsArgs {
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value = "text")]
    output: OutputFormat,
}

pub fn run(args: OperationsArgs) -> Result<u8> {
    let ops = operations();
    match args.output {
        OutputFormat::Json => {
            let rows: Vec<_> = ops
                .iter()
                .map(|o| {
                    json!({
                        "operation": o.name,
                        "action": o.action,
                        "version_action": o.version_action,
                        "scope": scope(o.scope),
                        "data": data(o.data),
                        "description": o.doc,
                    })
                })
                .collect();
            print!("{}", super::json_out::list("operations", &rows)?);
        }
        OutputFormat::Text => {
            for o in ops {
                println!(
                    "{:<36} {:<44} {:<7} {}",
                    o.name,
                    o.action,
                    scope(o.scope),
                    data(o.data)
                );
            }
        }
    }
    Ok(exit::OK)
}

fn scope(s: Scope) -> &'static str {
    match s {
        Scope::Service => "service",
        Scope::Bucket => "bucket",
        Scope::Object => "object",
    }
}

fn data(d: DataAccess) -> &'static str {
    match d {
        DataAccess::None => "",
        DataAccess::Read => "reads data (kms:Decrypt)",
        DataAccess::Write => "writes data (kms:GenerateDataKey)",
        DataAccess::ReadWrite => "multipart (kms:GenerateDataKey + kms:Decrypt)",
    }
}

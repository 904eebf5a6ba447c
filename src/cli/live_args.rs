//! The flags that connect to AWS (`--profile`, `--region`, `--endpoint-url`, `--max-attempts`),
//! shared by `snapshot`, `explain --live` and `plan --live`, and the glue that runs a live
//! collection on a small tokio runtime and reports what could not be read.

use std::path::Path;

use anyhow::{bail, Context, Result};

use s3medic::collect::{self, Clients, CollectSpec, Collected, ConnectOptions};
use s3medic::request::Request;
use s3medic::world::World;

/// How to connect to AWS (the SDK's standard credential chain; these override it).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LiveArgs {
    /// The AWS named profile to use (default: AWS_PROFILE, else `default`).
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,

    /// The AWS region of the clients (default: AWS_REGION / the profile's, else us-east-1).
    /// Buckets and KMS keys are read in their own regions.
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// A custom endpoint for every AWS service (e.g. a local emulator); S3 then uses path-style
    /// addressing. The SDK's AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE> variables also work.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,

    /// Maximum attempts per AWS call (default 3; standard retry mode, throttling is retried).
    /// 1 disables retries.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=20))]
    pub max_attempts: Option<u32>,
}

impl LiveArgs {
    /// The connection options of the library.
    pub fn connect_options(&self) -> ConnectOptions {
        ConnectOptions {
            profile: self.profile.clone(),
            region: self.region.clone(),
            endpoint_url: self.endpoint_url.clone(),
            max_attempts: self.max_attempts,
        }
    }

    /// Whether a connection flag other than the defaults was given.
    fn any_given(&self) -> bool {
        self.profile.is_some()
            || self.region.is_some()
            || self.endpoint_url.is_some()
            || self.max_attempts.is_some()
    }
}

/// `--live` for `explain` and `plan`: read the World from AWS instead of a file.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LiveWorldArgs {
    /// Read the World from AWS now (the request's bucket, key, principal and copy source bucket)
    /// instead of a `--world` file. What could not be read is printed on stderr.
    #[arg(long, conflicts_with = "world")]
    pub live: bool,

    /// With `--live`: the account that owns the bucket, when it is not the caller's account.
    #[arg(long, value_name = "ACCOUNT_ID", requires = "live")]
    pub bucket_account: Option<String>,

    #[command(flatten)]
    pub conn: LiveArgs,
}

impl LiveWorldArgs {
    /// The World: from the `--world` file, or collected live for `request`.
    pub fn load_world(&self, world: Option<&Path>, request: &Request) -> Result<World> {
        if !self.live && self.conn.any_given() {
            bail!("`--profile`, `--region`, `--endpoint-url` and `--max-attempts` need `--live`");
        }
        match (world, self.live) {
            (Some(path), false) => super::explain::read_world(path),
            (None, true) => {
                let spec = spec_for_request(request, self.bucket_account.clone())?;
                let collected = collect_live(&self.conn, &spec)?;
                Ok(collected.world)
            }
            (Some(_), true) => bail!("give either `--world FILE` or `--live`, not both"),
            (None, false) => bail!(
                "missing the World: give `--world FILE` (a snapshot, see `s3medic snapshot`) or `--live` to read it from AWS now"
            ),
        }
    }
}

/// What to collect for one request: its bucket and key, the copy source's bucket (and key when it
/// is in the same bucket), and its principal.
pub fn spec_for_request(request: &Request, bucket_account: Option<String>) -> Result<CollectSpec> {
    if request.bucket.is_empty() {
        bail!("`--live` needs a request on a bucket (this request names none)");
    }
    let mut keys: Vec<String> = request.key.iter().cloned().collect();
    let mut extra_buckets = Vec::new();
    if let Some(src) = &request.copy_source {
        if src.bucket == request.bucket {
            if !keys.contains(&src.key) {
                keys.push(src.key.clone());
            }
        } else {
            extra_buckets.push(src.bucket.clone());
            eprintln!(
                "note: `--live` reads the copy source bucket `{}` but not its object `{}` (its encryption and ACL are unknown)",
                src.bucket, src.key
            );
        }
    }
    let principals = request
        .principal
        .arn()
        .or(request.principal.account())
        .map(str::to_string)
        .into_iter()
        .collect();
    Ok(CollectSpec {
        bucket: request.bucket.clone(),
        keys,
        principals,
        extra_buckets,
        bucket_account,
    })
}

/// The tokio runtime of a live command (2 worker threads).
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Connects and collects `spec`, then prints on stderr how many calls were made and every part
/// that could not be read.
pub fn collect_live(conn: &LiveArgs, spec: &CollectSpec) -> Result<Collected> {
    let rt = runtime()?;
    let opts = conn.connect_options();
    let collected = rt
        .block_on(async {
            let clients = Clients::connect(&opts).await?;
            collect::collect(&clients, spec).await
        })
        .context("cannot read the World from AWS")?;
    eprintln!(
        "read the World from AWS ({} calls){}",
        collected.calls,
        if collected.unknown.is_empty() {
            ""
        } else {
            "; could not read:"
        }
    );
    for u in &collected.unknown {
        eprintln!("  - {u}");
    }
    Ok(collected)
}

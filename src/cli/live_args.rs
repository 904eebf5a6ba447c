//! The flags that connect to AWS (`--profile`, `--region`, `--endpoint-url`, `--max-attempts`,
//! `--role-arn`, `--external-id`, and other accounts' credentials: `--account-role`,
//! `--accounts`), shared by `snapshot`, `explain --live`, `plan --live`, `apply` and `rollback`,
//! and the glue that runs a live collection on a small tokio runtime and reports what could not
//! be read, and that gives `apply` / `rollback` a store writing each target with its account's
//! clients.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use s3medic::apply::AwsStore;
use s3medic::collect::{
    self, AccountAccess, AccountClients, Clients, CollectSpec, Collected, ConnectOptions,
};
use s3medic::plan::Target;
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

    /// Assume this IAM role (STS AssumeRole, session name `s3medic`) with the credentials above
    /// and make every call as the role, e.g. a read-only auditor role in the bucket's account.
    #[arg(long, value_name = "ROLE_ARN")]
    pub role_arn: Option<String>,

    /// The external id the role's trust policy requires (with `--role-arn`).
    #[arg(long, value_name = "ID", requires = "role_arn")]
    pub external_id: Option<String>,

    /// Credentials for another account involved (the bucket owner's, the principal's): a role in
    /// that account, assumed with the credentials above, to read its IAM data, Block Public
    /// Access, organization, KMS keys and buckets (and, for `apply` / `rollback`, to write the
    /// changes in that account). Repeatable.
    #[arg(long = "account-role", value_name = "ACCOUNT_ID=ROLE_ARN")]
    pub account_roles: Vec<String>,

    /// A TOML file of other accounts' credentials: `[accounts.ACCOUNT_ID]` tables with
    /// `role_arn`, `external_id` and/or `profile` (see the README).
    #[arg(long = "accounts", value_name = "FILE")]
    pub accounts_file: Option<PathBuf>,
}

impl LiveArgs {
    /// The connection options of the library.
    pub fn connect_options(&self) -> ConnectOptions {
        ConnectOptions {
            profile: self.profile.clone(),
            region: self.region.clone(),
            endpoint_url: self.endpoint_url.clone(),
            max_attempts: self.max_attempts,
            role_arn: self.role_arn.clone(),
            external_id: self.external_id.clone(),
        }
    }

    /// Whether a connection flag other than the defaults was given.
    fn any_given(&self) -> bool {
        self.profile.is_some()
            || self.region.is_some()
            || self.endpoint_url.is_some()
            || self.max_attempts.is_some()
            || self.role_arn.is_some()
            || !self.account_roles.is_empty()
            || self.accounts_file.is_some()
    }

    /// The other accounts' credentials of `--account-role` and `--accounts`.
    pub fn account_access(&self) -> Result<AccountAccess> {
        let file = match &self.accounts_file {
            Some(path) => Some((
                std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read accounts file `{}`", path.display()))?,
                path.display().to_string(),
            )),
            None => None,
        };
        Ok(AccountAccess::parse(
            &self.account_roles,
            file.as_ref().map(|(t, n)| (t.as_str(), n.as_str())),
        )?)
    }

    /// Connects (the caller's clients) and prepares the other accounts' clients.
    pub async fn connect_accounts(&self) -> Result<AccountClients> {
        let access = self.account_access()?;
        let opts = self.connect_options();
        let base = Clients::connect(&opts)
            .await
            .context("cannot connect to AWS")?;
        Ok(AccountClients::new(base, opts, access))
    }
}

/// A store for `apply` / `rollback` that reads and writes each target with its account's own
/// clients when `--account-role` / `--accounts` gives that account (else the caller's).
pub async fn store_for<'a>(
    accounts: &AccountClients,
    targets: impl IntoIterator<Item = (&'a Target, &'a str)>,
) -> Result<AwsStore> {
    let mut store = AwsStore::new(accounts.base().clone());
    for (target, account) in targets {
        if let Some(r) = accounts.get(account).await {
            let clients = r.map_err(|why| anyhow::anyhow!("{why}; nothing was written"))?;
            store = store.route(target, account, clients);
        }
    }
    Ok(store)
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
            bail!("`--profile`, `--region`, `--endpoint-url`, `--max-attempts`, `--role-arn`, `--account-role` and `--accounts` need `--live`");
        }
        match (world, self.live) {
            (Some(path), false) => super::explain::read_world(path),
            (None, true) => {
                let spec = spec_for_request(request, self.bucket_account.clone())?;
                let collected = collect_live_with(&self.conn, &spec, &vpc_endpoints_of(request))?;
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

/// The VPC endpoints a request comes through: `vpc_endpoint`, and `aws:SourceVpce` values.
pub fn vpc_endpoints_of(request: &Request) -> Vec<String> {
    let mut out: Vec<String> = request.vpc_endpoint.iter().cloned().collect();
    for (k, values) in &request.context {
        if k.eq_ignore_ascii_case("aws:sourcevpce") {
            for v in values {
                if !out.contains(v) {
                    out.push(v.clone());
                }
            }
        }
    }
    out
}

/// The tokio runtime of a live command (2 worker threads).
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Connects and collects `spec` (other accounts with their `--account-role` / `--accounts`
/// credentials), then prints on stderr how many calls were made and every part that could not be
/// read.
pub fn collect_live(conn: &LiveArgs, spec: &CollectSpec) -> Result<Collected> {
    collect_live_with(conn, spec, &[])
}

/// [`collect_live`], also recording the VPC endpoints `vpc_endpoints` as unknown (s3medic does
/// not read EC2).
pub fn collect_live_with(
    conn: &LiveArgs,
    spec: &CollectSpec,
    vpc_endpoints: &[String],
) -> Result<Collected> {
    let rt = runtime()?;
    let mut collected = rt.block_on(async {
        let accounts = conn.connect_accounts().await?;
        collect::collect_across(&accounts, spec)
            .await
            .context("cannot read the World from AWS")
    })?;
    collect::add_vpc_endpoints(&mut collected, vpc_endpoints)
        .context("cannot record the VPC endpoints")?;
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

//! The bulk runner: for every account of a targets file, connect (its profile or role), check
//! that the credentials are that account's, read its bucket list when it says `*`, keep the
//! buckets of this shard, then collect one World per bucket and plan every request on it —
//! at most `per_account` buckets of one account and `concurrency` buckets overall at a time.
//! Results stream over a channel as they finish. A failure is reported on the targets it
//! concerns (an account that cannot be reached or listed, a bucket that cannot be read, a request
//! that cannot be planned) and never stops the others.
//!
//! Every account of the targets file is in one [`AccountPool`]: each is connected once (on first
//! use, by its own runner or by a collection that needs it), a bucket's collection acts as the
//! bucket's account and reaches every other account of the file with that account's own
//! credentials (a principal of another account has its IAM data, Block Public Access and
//! organization read there), and the account-level reads (IAM authorization details,
//! ListBuckets, Block Public Access, organization, CloudFront listings) are made once per account
//! for the whole run.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::Semaphore;

use super::expand::{bucket_jobs, concrete_request, reads_object, request_value, BucketJob};
use super::result::TargetResult;
use super::shard::{Shard, ALL_BUCKETS};
use super::targets::{AccountSpec, BucketSelection, Targets};
use super::trail::resolve_caller;
use crate::collect::{
    self, classify, AccountClients, AccountPool, ApiFailure, Classified, Clients, CollectSpec,
    ConnectOptions,
};
use crate::plan::{plan, Plan, PlanOptions};
use crate::request::Request;

/// Default bound on buckets collected at once, overall.
pub const DEFAULT_CONCURRENCY: usize = 8;
/// Default bound on buckets collected at once in one account.
pub const DEFAULT_PER_ACCOUNT: usize = 4;

/// How a bulk run goes.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Buckets collected at once, overall (0 counts as 1).
    pub concurrency: usize,
    /// Buckets collected at once in one account (0 counts as 1).
    pub per_account: usize,
    /// Only the buckets of this shard.
    pub shard: Option<Shard>,
    /// The planner's options, for every target.
    pub plan: PlanOptions,
    /// Connection settings an account does not set itself (the command line's).
    pub base: ConnectOptions,
}

/// What the runner reports.
#[derive(Debug)]
pub enum Event {
    /// An account was opened (or failed to open): how many results will follow for it in this
    /// shard (`targets`), and why it failed.
    Account {
        account: String,
        targets: usize,
        error: Option<String>,
    },
    /// One target's result, with its plan when one was made.
    Result(Box<TargetOutcome>),
}

/// One target's result and plan.
#[derive(Debug)]
pub struct TargetOutcome {
    pub result: TargetResult,
    pub plan: Option<Plan>,
}

impl TargetOutcome {
    fn error(result: TargetResult) -> TargetOutcome {
        TargetOutcome { result, plan: None }
    }
}

/// Runs every target of `targets` and sends each result on `tx`; returns when all are sent.
pub async fn run(targets: Arc<Targets>, opts: RunOptions, tx: UnboundedSender<Event>) {
    let global = Arc::new(Semaphore::new(opts.concurrency.max(1)));
    let pool = pool_of(&targets, &opts.base);
    let opts = Arc::new(opts);
    let mut handles = Vec::new();
    for index in 0..targets.accounts.len() {
        let (targets, opts, global, pool, tx) = (
            targets.clone(),
            opts.clone(),
            global.clone(),
            pool.clone(),
            tx.clone(),
        );
        handles.push(tokio::spawn(async move {
            run_account(targets, index, opts, global, pool, tx).await;
        }));
    }
    for (index, h) in handles.into_iter().enumerate() {
        if let Err(e) = h.await {
            if let Some(a) = targets.accounts.get(index) {
                let _ = tx.send(Event::Result(Box::new(TargetOutcome::error(
                    TargetResult::error(&a.id, None, None, None, format!("internal error: {e}")),
                ))));
            }
        }
    }
}

/// Every account of the targets file with its connection settings (its own fields, else
/// `[defaults]`, else `base`), in one pool.
pub fn pool_of(targets: &Targets, base: &ConnectOptions) -> AccountPool {
    let accounts: BTreeMap<String, ConnectOptions> = targets
        .accounts
        .iter()
        .map(|a| (a.id.clone(), a.connect_options(base)))
        .collect();
    AccountPool::new(accounts)
}

/// Connects to the account (through the pool, which checks with `GetCallerIdentity` that the
/// credentials act in it), and lists its buckets when it says `*`.
async fn open(
    account: &AccountSpec,
    pool: &AccountPool,
) -> Result<(AccountClients, Vec<String>), String> {
    let clients = match pool.acting_as(&account.id).await {
        Some(r) => r?,
        None => {
            return Err(format!(
                "internal error: account {} is not in the pool",
                account.id
            ))
        }
    };
    let buckets = match &account.buckets {
        BucketSelection::Named(n) => n.clone(),
        BucketSelection::All => list_buckets(clients.base()).await?,
    };
    Ok((clients, buckets))
}

/// Every bucket ListBuckets returns (following continuation tokens).
async fn list_buckets(clients: &Clients) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut req = clients.s3.list_buckets();
        if let Some(t) = &token {
            req = req.continuation_token(t);
        }
        let out = req.send().await.map_err(|e| {
            let why = match classify(&ApiFailure::from_sdk(&e), "s3:ListAllMyBuckets", &[]) {
                Classified::Unknown(w) => w,
                Classified::Absent => "no answer".to_string(),
            };
            format!("cannot list the account's buckets (`buckets = [\"*\"]`): {why}")
        })?;
        names.extend(
            out.buckets()
                .iter()
                .filter_map(|b| b.name().map(str::to_string)),
        );
        match out.continuation_token() {
            Some(t) if !t.is_empty() && token.as_deref() != Some(t) => token = Some(t.to_string()),
            _ => break,
        }
    }
    Ok(names)
}

async fn run_account(
    targets: Arc<Targets>,
    index: usize,
    opts: Arc<RunOptions>,
    global: Arc<Semaphore>,
    pool: AccountPool,
    tx: UnboundedSender<Event>,
) {
    let account = &targets.accounts[index];
    let opened = {
        let _permit = global.acquire().await;
        open(account, &pool).await
    };
    let (clients, buckets) = match opened {
        Ok(x) => x,
        Err(why) => {
            report_account_failure(&targets, account, opts.shard, &why, &tx);
            return;
        }
    };
    let jobs = bucket_jobs(&targets, &account.id, &buckets, opts.shard);
    let _ = tx.send(Event::Account {
        account: account.id.clone(),
        targets: jobs.iter().map(|j| j.requests.len()).sum(),
        error: None,
    });
    let per_account = Arc::new(Semaphore::new(opts.per_account.max(1)));
    let mut handles = Vec::with_capacity(jobs.len());
    for job in jobs {
        let (targets, opts, global, per_account, clients, tx) = (
            targets.clone(),
            opts.clone(),
            global.clone(),
            per_account.clone(),
            clients.clone(),
            tx.clone(),
        );
        let j = job.clone();
        let h = tokio::spawn(async move {
            let _a = per_account.acquire_owned().await;
            let _g = global.acquire_owned().await;
            for o in bucket_job(&targets, &j, &clients, opts.plan).await {
                let _ = tx.send(Event::Result(Box::new(o)));
            }
        });
        handles.push((job, h));
    }
    for (job, h) in handles {
        if let Err(e) = h.await {
            for o in job_errors(&targets, &job, &format!("internal error: {e}")) {
                let _ = tx.send(Event::Result(Box::new(o)));
            }
        }
    }
}

/// The results of an account that could not be opened: an error on every target of its named
/// buckets in this shard, or, for `*`, one account-level error (from the shard of `ACCOUNT/*`).
fn report_account_failure(
    targets: &Targets,
    account: &AccountSpec,
    shard: Option<Shard>,
    why: &str,
    tx: &UnboundedSender<Event>,
) {
    let outcomes: Vec<TargetOutcome> = match &account.buckets {
        BucketSelection::Named(names) => bucket_jobs(targets, &account.id, names, shard)
            .iter()
            .flat_map(|j| job_errors(targets, j, why))
            .collect(),
        BucketSelection::All => {
            if shard.is_none_or(|s| s.selects(&account.id, ALL_BUCKETS)) {
                vec![TargetOutcome::error(TargetResult::error(
                    &account.id,
                    None,
                    None,
                    None,
                    why.to_string(),
                ))]
            } else {
                Vec::new()
            }
        }
    };
    let _ = tx.send(Event::Account {
        account: account.id.clone(),
        targets: outcomes.len(),
        error: Some(why.to_string()),
    });
    for o in outcomes {
        let _ = tx.send(Event::Result(Box::new(o)));
    }
}

/// An error result for every request of `job`.
fn job_errors(targets: &Targets, job: &BucketJob, why: &str) -> Vec<TargetOutcome> {
    job.requests
        .iter()
        .filter_map(|&i| targets.requests.get(i))
        .map(|spec| {
            TargetOutcome::error(TargetResult::error(
                &job.account,
                Some(&job.bucket),
                Some(&spec.name),
                Some(request_value(spec, &job.account, &job.bucket)),
                why.to_string(),
            ))
        })
        .collect()
}

/// What to collect for the requests of one bucket: the bucket, the keys named by `key`, the
/// same-bucket copy sources' keys, other copy-source buckets, and the principals.
pub fn collect_spec(
    account: &str,
    bucket: &str,
    requests: &[(&super::targets::RequestSpec, &Request)],
) -> CollectSpec {
    let mut keys: BTreeSet<String> = BTreeSet::new();
    let mut extra: BTreeSet<String> = BTreeSet::new();
    let mut principals: BTreeSet<String> = BTreeSet::new();
    for (spec, r) in requests {
        if let Some(k) = reads_object(spec) {
            keys.insert(k.to_string());
        }
        if let Some(src) = &r.copy_source {
            if src.bucket == bucket {
                keys.insert(src.key.clone());
            } else {
                extra.insert(src.bucket.clone());
            }
        }
        if let Some(p) = r.principal.arn().or(r.principal.account()) {
            principals.insert(p.to_string());
        }
    }
    // The struct update keeps this building when the collector's spec gains fields.
    #[allow(clippy::needless_update)]
    CollectSpec {
        bucket: bucket.to_string(),
        keys: keys.into_iter().collect(),
        principals: principals.into_iter().collect(),
        extra_buckets: extra.into_iter().collect(),
        bucket_account: Some(account.to_string()),
        ..CollectSpec::default()
    }
}

/// Collects the bucket's World once (acting as the bucket's account, reaching the other accounts
/// of the targets file) and plans each of the job's requests on it. A CloudTrail request whose
/// caller is named only by account is collected for that account (its IAM data is read when the
/// account is the bucket's or is in the pool), then resolved in the World
/// ([`resolve_caller`]); the note goes on the result line.
async fn bucket_job(
    targets: &Targets,
    job: &BucketJob,
    clients: &AccountClients,
    plan_opts: PlanOptions,
) -> Vec<TargetOutcome> {
    let mut out = Vec::new();
    let mut built = Vec::new();
    for &i in &job.requests {
        let Some(spec) = targets.requests.get(i) else {
            continue;
        };
        match concrete_request(spec, &job.account, &job.bucket) {
            Ok((v, r)) => built.push((spec, v, r)),
            Err(e) => out.push(TargetOutcome::error(TargetResult::error(
                &job.account,
                Some(&job.bucket),
                Some(&spec.name),
                Some(request_value(spec, &job.account, &job.bucket)),
                format!("invalid request: {e}"),
            ))),
        }
    }
    if built.is_empty() {
        return out;
    }
    let pairs: Vec<(&super::targets::RequestSpec, &Request)> =
        built.iter().map(|(s, _, r)| (*s, r)).collect();
    let spec = collect_spec(&job.account, &job.bucket, &pairs);
    let world = match collect::collect_across(clients, &spec).await {
        Ok(c) => c.world,
        Err(e) => {
            for (s, v, _) in built {
                out.push(TargetOutcome::error(TargetResult::error(
                    &job.account,
                    Some(&job.bucket),
                    Some(&s.name),
                    Some(v),
                    format!("cannot read the World: {e}"),
                )));
            }
            return out;
        }
    };
    // A CloudTrail caller named only by its account: looked up in the World's IAM data.
    let work: Vec<(String, serde_json::Value, Request, Option<String>)> = built
        .into_iter()
        .map(|(s, mut v, mut r)| {
            let note = resolve_caller(s, &world, &mut v, &mut r);
            (s.name.clone(), v, r, note)
        })
        .collect();
    // Planning is CPU work: off the async workers.
    let (account, bucket) = (job.account.clone(), job.bucket.clone());
    let names: Vec<(String, serde_json::Value, Option<String>)> = work
        .iter()
        .map(|(n, v, _, note)| (n.clone(), v.clone(), note.clone()))
        .collect();
    let planned = tokio::task::spawn_blocking(move || {
        work.into_iter()
            .map(|(name, v, r, note)| match plan(&world, &r, &plan_opts) {
                Ok(p) => TargetOutcome {
                    result: TargetResult::of_plan(&account, &bucket, &name, v, &p).with_note(note),
                    plan: Some(p),
                },
                Err(e) => TargetOutcome::error(
                    TargetResult::error(
                        &account,
                        Some(&bucket),
                        Some(&name),
                        Some(v),
                        format!("cannot plan the request: {e}"),
                    )
                    .with_note(note),
                ),
            })
            .collect::<Vec<_>>()
    })
    .await;
    match planned {
        Ok(mut p) => out.append(&mut p),
        Err(e) => {
            for (name, v, note) in names {
                out.push(TargetOutcome::error(
                    TargetResult::error(
                        &job.account,
                        Some(&job.bucket),
                        Some(&name),
                        Some(v),
                        format!("internal error while planning: {e}"),
                    )
                    .with_note(note),
                ));
            }
        }
    }
    out
}

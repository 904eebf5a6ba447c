//! Live collection: fills the World (docs/formats.md) from the real AWS APIs through the AWS SDK.
//! Besides `apply`, this is the only part of the library that does I/O; everything is async and
//! the caller supplies the runtime.
//!
//! [`collect`] reads, for a [`CollectSpec`] (a bucket, some keys, the principals involved), the
//! caller's identity (STS), the buckets (S3), the caller account's Block Public Access (S3
//! Control), its IAM data (`GetAccountAuthorizationDetails`), its organization (SCPs and RCPs per
//! level, [`org`]), the KMS keys the buckets and objects use, and the CloudFront distributions in
//! front of the buckets. [`collect_across`] does the same with an [`AccountClients`]: every other
//! account involved that it reaches (`--account-role`, an accounts file) has its IAM data, Block
//! Public Access, organization and KMS keys read with its own credentials, and so have the parts
//! of its buckets the caller could not read. Accounts it does not reach stay unknown, naming the
//! flag (in a run over a targets file, the file). The World is built as JSON and parsed with [`World::from_value`], so collected Worlds and
//! World files share one parser. VPC endpoints are not read (no EC2 client): [`add_vpc_endpoints`]
//! records the endpoint of a request as unknown. With an [`AccountPool`] (a run over many
//! buckets and accounts), the account-level reads are made once per account for the whole run
//! ([`cache`]).
//!
//! Only fatal problems (no credentials, endpoint unreachable, STS failing, bucket owner unknown)
//! are errors; every part that could not be read becomes `Part::Unknown` with the reason and the
//! permission it needs, and is listed in [`Collected::unknown`]. A part that could not be read is
//! never recorded as absent.

pub mod account;
pub mod accounts;
pub mod cache;
pub mod clients;
pub mod cloudfront;
pub mod errors;
pub mod iam;
pub mod kms;
pub mod org;
pub mod s3;

use std::collections::{BTreeMap, BTreeSet};
use std::error::Error as StdError;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use serde_json::{json, Map, Value};
use tokio::sync::Semaphore;

pub use accounts::{
    AccountAccess, AccountClients, AccountConnect, AccountPool, AccountSource, AccountsError,
};
pub use clients::{Clients, ConnectOptions};
pub use errors::{classify, ApiFailure, Classified, CollectError, FailureKind};

use crate::world::{Part, World};
use errors::HasStatus;

/// How many SDK calls run at the same time.
pub const MAX_CONCURRENT_CALLS: usize = 8;

/// What to collect.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CollectSpec {
    /// The bucket of the request.
    pub bucket: String,
    /// The object keys whose head and ACL are needed.
    pub keys: Vec<String>,
    /// Principal ARNs (or account ids) whose IAM data is needed; their accounts are added to the
    /// World. IAM data is read for the caller's account only.
    pub principals: Vec<String>,
    /// Other buckets to read (e.g. the copy source); their keys are not read.
    pub extra_buckets: Vec<String>,
    /// The account that owns the bucket, when it is not the caller's (s3medic cannot always find
    /// it out: GetBucketAcl gives only a canonical user id).
    pub bucket_account: Option<String>,
}

/// The result of a collection.
#[derive(Debug, Clone)]
pub struct Collected {
    /// The World, as read.
    pub world: World,
    /// How many SDK calls were made (each page and each retried call counts once).
    pub calls: usize,
    /// The parts that could not be read, each with the reason and the permission needed, e.g.
    /// "bucket `b`: bucket policy: AccessDenied: needs s3:GetBucketPolicy".
    pub unknown: Vec<String>,
}

/// The shared state of one collection: the clients, the concurrency bound, the call counter and
/// the unknown parts found so far.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub(crate) clients: Clients,
    sem: Arc<Semaphore>,
    calls: Arc<AtomicUsize>,
    unknown: Arc<Mutex<Vec<String>>>,
}

impl Ctx {
    fn new(clients: Clients, limit: usize) -> Ctx {
        Ctx {
            clients,
            sem: Arc::new(Semaphore::new(limit)),
            calls: Arc::new(AtomicUsize::new(0)),
            unknown: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// The same bound, call counter and unknown list, acting with `clients` (another account's).
    fn with_clients(&self, clients: Clients) -> Ctx {
        Ctx {
            clients,
            sem: self.sem.clone(),
            calls: self.calls.clone(),
            unknown: self.unknown.clone(),
        }
    }

    /// The same bound and call counter with `clients`, and an unknown list of its own that is
    /// dropped with it (for reads whose unknown parts are listed once they are final).
    fn scratch(&self, clients: Clients) -> Ctx {
        Ctx {
            clients,
            sem: self.sem.clone(),
            calls: self.calls.clone(),
            unknown: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Runs one SDK call (within the concurrency bound), counts it, and reduces its error.
    pub(crate) async fn call<T, E, R>(
        &self,
        fut: impl Future<Output = Result<T, SdkError<E, R>>>,
    ) -> Result<T, ApiFailure>
    where
        E: ProvideErrorMetadata + StdError + 'static,
        R: std::fmt::Debug + HasStatus + 'static,
    {
        let _permit = self.sem.acquire().await.expect("semaphore never closed");
        self.calls.fetch_add(1, Ordering::Relaxed);
        fut.await.map_err(|e| ApiFailure::from_sdk(&e))
    }

    /// Records one thing that could not be read.
    pub(crate) fn note(&self, what: String) {
        match self.unknown.lock() {
            Ok(mut u) => u.push(what),
            Err(p) => p.into_inner().push(what),
        }
    }

    /// The reason a read failed (`AccessDenied: needs PERMISSION`, `CODE: message`).
    pub(crate) fn reason(&self, failure: &ApiFailure, permission: &str) -> String {
        match classify(failure, permission, &[]) {
            Classified::Unknown(why) => why,
            Classified::Absent => failure.describe(),
        }
    }

    /// Turns the result of one read into a part: `Ok(Some(v))` known, `Ok(None)` absent, an error
    /// absent when its code is in `absent_codes`, else unknown (recorded under `label`).
    pub(crate) fn part(
        &self,
        label: &str,
        result: Result<Option<Value>, ApiFailure>,
        permission: &str,
        absent_codes: &[&str],
    ) -> Part<Value> {
        match result {
            Ok(Some(v)) => Part::Known(v),
            Ok(None) => Part::Absent,
            Err(f) => match classify(&f, permission, absent_codes) {
                Classified::Absent => Part::Absent,
                Classified::Unknown(why) => {
                    self.note(format!("{label}: {why}"));
                    Part::Unknown(why)
                }
            },
        }
    }
}

/// The account id of a principal: an ARN's account field, or a bare 12-digit account id.
/// `None` for `anonymous`, service principals and anything else.
pub fn principal_account(principal: &str) -> Option<String> {
    if principal.len() == 12 && principal.bytes().all(|b| b.is_ascii_digit()) {
        return Some(principal.to_string());
    }
    let parts: Vec<&str> = principal.splitn(6, ':').collect();
    if parts.len() == 6 && parts[0] == "arn" && matches!(parts[2], "iam" | "sts") {
        let acct = parts[4];
        if acct.len() == 12 && acct.bytes().all(|b| b.is_ascii_digit()) {
            return Some(acct.to_string());
        }
    }
    None
}

/// The reason written for a part of an account s3medic has no credentials for (not the caller's,
/// no `--account-role`).
pub fn not_caller_account(account_id: &str, what: &str) -> String {
    format!(
        "not collected: account {account_id} is not the caller's account (give `--account-role {account_id}=ROLE_ARN` or an accounts file entry to read its {what})"
    )
}

/// The reason written, in a run over a targets file, for a part of an account the file does not
/// list (`--account-role` does not go with `--targets`).
pub fn not_in_targets_file(account_id: &str, what: &str) -> String {
    format!(
        "not collected: account {account_id} is not in the targets file (add an `[[account]]` entry with `id = \"{account_id}\"`, `buckets` may be left out, to read its {what})"
    )
}

/// The reason for a part of an account `accounts` does not reach, by where its accounts are
/// configured: [`not_in_targets_file`] in a run over a targets file, else [`not_caller_account`].
fn unreached_account(accounts: &AccountClients, account_id: &str, what: &str) -> String {
    match accounts.source() {
        AccountSource::TargetsFile => not_in_targets_file(account_id, what),
        AccountSource::CommandLine => not_caller_account(account_id, what),
    }
}

/// The reason written for a VPC endpoint a request comes through: s3medic does not read EC2.
pub const VPC_ENDPOINT_NOT_COLLECTED: &str = "not collected: s3medic does not read EC2; add its policy to a World file (`aws ec2 describe-vpc-endpoints` output)";

/// Collects the World for `spec` with the caller's clients only, with at most
/// [`MAX_CONCURRENT_CALLS`] SDK calls at a time. Fails only on fatal problems (see
/// [`CollectError`]).
pub async fn collect(clients: &Clients, spec: &CollectSpec) -> Result<Collected, CollectError> {
    collect_with_limit(clients, spec, MAX_CONCURRENT_CALLS).await
}

/// [`collect`] with at most `limit` SDK calls at a time (0 counts as 1; 1 makes one call at a
/// time). The same calls are made whatever the limit.
pub async fn collect_with_limit(
    clients: &Clients,
    spec: &CollectSpec,
    limit: usize,
) -> Result<Collected, CollectError> {
    collect_across_with_limit(&AccountClients::single(clients.clone()), spec, limit).await
}

/// Collects the World for `spec` with the caller's clients and, for every other account involved
/// that `accounts` can reach, that account's own clients (its IAM data, Block Public Access,
/// organization, KMS keys, and the parts of its buckets the caller could not read).
pub async fn collect_across(
    accounts: &AccountClients,
    spec: &CollectSpec,
) -> Result<Collected, CollectError> {
    collect_across_with_limit(accounts, spec, MAX_CONCURRENT_CALLS).await
}

/// Another account as read: its index in the list of other accounts, IAM data, Block Public
/// Access, and canonical user id (from its own ListBuckets).
type OtherAccount = (usize, Part<Value>, Part<Value>, Option<String>);

/// One bucket as read.
struct BucketRead {
    name: String,
    region: String,
    /// Why the region could not be read, when it could not.
    region_note: Option<String>,
    keys: Vec<String>,
    parts: s3::BucketParts,
}

/// [`collect_across`] with at most `limit` SDK calls at a time.
pub async fn collect_across_with_limit(
    accounts: &AccountClients,
    spec: &CollectSpec,
    limit: usize,
) -> Result<Collected, CollectError> {
    let calls_before = accounts.calls();
    let ctx = Arc::new(Ctx::new(accounts.base().clone(), limit.max(1)));
    let (caller_account, caller_arn) = match accounts.identity() {
        Some((a, arn)) => (a.to_string(), arn.to_string()),
        None => {
            ctx.calls.fetch_add(1, Ordering::Relaxed);
            let caller = ctx
                .clients
                .sts
                .get_caller_identity()
                .send()
                .await
                .map_err(|e| errors::fatal_from_sts(&e, ctx.clients.endpoint.as_deref()))?;
            let a = caller
                .account()
                .ok_or_else(|| CollectError::Sts("GetCallerIdentity returned no account".into()))?
                .to_string();
            (a, caller.arn().unwrap_or_default().to_string())
        }
    };
    let reads = accounts.reads();

    let mut bucket_names = vec![spec.bucket.clone()];
    for b in &spec.extra_buckets {
        if !bucket_names.contains(b) {
            bucket_names.push(b.clone());
        }
    }

    // Buckets: region first (a bucket answers only in its region), then every part. Their
    // unknown parts are listed once the owner account's credentials had their chance.
    let mut bucket_set = tokio::task::JoinSet::new();
    for (i, name) in bucket_names.iter().enumerate() {
        let ctx = ctx.clone();
        let name = name.clone();
        let keys = if i == 0 {
            spec.keys.clone()
        } else {
            Vec::new()
        };
        bucket_set.spawn(async move {
            let scratch = Arc::new(ctx.scratch(ctx.clients.clone()));
            let (region, region_note) = match s3::bucket_region(&scratch, &name).await {
                Ok(r) => (r, None),
                Err(f) if f.has_code(&[errors::NO_SUCH_BUCKET]) => {
                    ctx.note(format!(
                        "bucket `{name}`: does not exist (NoSuchBucket); left out of the World"
                    ));
                    return None;
                }
                Err(f) => {
                    let why = ctx.reason(&f, "s3:GetBucketLocation");
                    let r = ctx.clients.region.clone();
                    let note = format!(
                        "bucket `{name}`: region: {why} (assumed the configured region {r})"
                    );
                    (r, Some(note))
                }
            };
            let parts =
                s3::collect_bucket(scratch, name.clone(), region.clone(), keys.clone()).await;
            Some((
                i,
                BucketRead {
                    name,
                    region,
                    region_note,
                    keys,
                    parts,
                },
            ))
        });
    }
    let all_buckets = bucket_names.clone();
    let ca = caller_account.as_str();
    let (canonical, caller_bpa, caller_iam, cloudfront_part, buckets) = tokio::join!(
        cache::once(reads.map(|r| &r.listing), ca, &ctx, |c| async move {
            account::caller_canonical_id(&c).await
        }),
        cache::once(reads.map(|r| &r.bpa), ca, &ctx, |c| async move {
            account::account_bpa(&c, ca).await
        }),
        cache::once(reads.map(|r| &r.iam), ca, &ctx, |c| async move {
            iam::collect_iam(&c, ca).await
        }),
        cloudfront_part(&ctx, reads, ca, &all_buckets),
        async {
            let mut out = Vec::new();
            while let Some(r) = bucket_set.join_next().await {
                if let Ok(Some(b)) = r {
                    out.push(b);
                }
            }
            out.sort_by_key(|b| b.0);
            out.into_iter().map(|(_, b)| b).collect::<Vec<BucketRead>>()
        }
    );
    let mut buckets = buckets;
    let (listed_owner, owned_buckets) = canonical;
    // The owner of a bucket the caller's account owns is the caller's canonical user id (on AWS
    // the same as ListBuckets' Owner; emulators may differ, and the ACLs are what it maps).
    let caller_canonical = buckets
        .iter()
        .find(|b| owned_buckets.as_ref().is_some_and(|n| n.contains(&b.name)))
        .and_then(|b| b.parts.owner_id())
        .or(listed_owner);

    // Which account owns each bucket: the caller's when its ListBuckets lists it (or, when
    // ListBuckets was refused, when its ACL owner is the caller's canonical id); else
    // `--bucket-account`, an owner seen before, or the account given with `--account-role`
    // whose ListBuckets lists it.
    let mut listed: BTreeMap<String, (Option<String>, Option<Vec<String>>)> = BTreeMap::new();
    let mut bucket_accounts: Vec<String> = Vec::new();
    let mut owner_accounts: BTreeMap<String, String> = BTreeMap::new();
    for b in &buckets {
        let owner = b.parts.owner_id();
        let is_callers = match &owned_buckets {
            Some(names) => names.contains(&b.name),
            None => {
                matches!((&owner, &caller_canonical), (Some(o), Some(c)) if o.eq_ignore_ascii_case(c))
            }
        };
        let account = if is_callers {
            caller_account.clone()
        } else if let Some(a) = &spec.bucket_account {
            a.clone()
        } else if let Some(a) = owner.as_ref().and_then(|o| owner_accounts.get(o)) {
            a.clone()
        } else if let Some(a) =
            discover_owner(&ctx, accounts, &caller_account, &b.name, &mut listed).await
        {
            a
        } else {
            let mut why = match (&owner, &caller_canonical, &owned_buckets) {
                (_, _, Some(_)) => "the caller's ListBuckets does not list it".to_string(),
                (Some(o), Some(_), None) => {
                    format!("its owner `{o}` is not the caller's canonical user id")
                }
                (Some(o), None, None) => format!(
                    "its owner is `{o}` but the caller's canonical user id could not be read"
                ),
                (None, _, None) => "its ACL could not be read".to_string(),
            };
            if !accounts.access().is_empty() {
                why.push_str("; no account given with `--account-role` lists it");
            }
            return Err(CollectError::BucketAccount {
                bucket: b.name.clone(),
                why,
            });
        };
        if account != caller_account {
            if let Some(o) = owner {
                owner_accounts.entry(o).or_insert_with(|| account.clone());
            }
        }
        bucket_accounts.push(account);
    }

    // The parts of another account's bucket the caller could not read, read again with that
    // account's own credentials.
    for (b, account) in buckets.iter_mut().zip(&bucket_accounts) {
        if *account == caller_account || !(b.parts.has_unknown() || b.region_note.is_some()) {
            continue;
        }
        let Some(Ok(owner_clients)) = accounts.get(account).await else {
            continue;
        };
        let sub = Arc::new(ctx.scratch(owner_clients));
        if b.region_note.is_some() {
            if let Ok(r) = s3::bucket_region(&sub, &b.name).await {
                b.region = r;
                b.region_note = None;
            }
        }
        let theirs =
            s3::collect_bucket(sub, b.name.clone(), b.region.clone(), b.keys.clone()).await;
        b.parts
            .fill_from(theirs, &format!("with account {account}'s credentials"));
        if let Some(o) = b.parts.owner_id() {
            owner_accounts.entry(o).or_insert_with(|| account.clone());
        }
    }
    for b in &buckets {
        if let Some(n) = &b.region_note {
            ctx.note(n.clone());
        }
        for n in b.parts.unknown_notes(&b.name) {
            ctx.note(n);
        }
    }

    // KMS keys named by the buckets and objects, each read with its account's credentials when
    // s3medic has them (else the caller's).
    let mut refs: BTreeSet<(String, String, String)> = BTreeSet::new();
    for (b, account) in buckets.iter().zip(&bucket_accounts) {
        let (ids, aws_managed) = b.parts.kms_key_refs();
        for id in ids {
            refs.insert((id, b.region.clone(), account.clone()));
        }
        let readable = *account == caller_account || accounts.reaches(account);
        if aws_managed && readable {
            refs.insert(("alias/aws/s3".into(), b.region.clone(), account.clone()));
        }
    }
    let mut key_set = tokio::task::JoinSet::new();
    for (reference, region, account) in refs {
        let key_account = reference
            .starts_with("arn:")
            .then(|| reference.split(':').nth(4).map(str::to_string))
            .flatten()
            .unwrap_or_else(|| account.clone());
        let (kctx, acting) = match accounts.get(&key_account).await {
            Some(Ok(c)) if key_account != caller_account => {
                (Arc::new(ctx.with_clients(c)), key_account)
            }
            _ => (ctx.clone(), caller_account.clone()),
        };
        key_set.spawn(async move {
            kms::collect_key(&kctx, &reference, &region, &account, &acting).await
        });
    }
    let mut keys: Vec<kms::CollectedKey> = Vec::new();
    while let Some(r) = key_set.join_next().await {
        if let Ok(Some(k)) = r {
            match keys.iter_mut().find(|x| x.arn == k.arn) {
                Some(x) => x.references.extend(k.references),
                None => keys.push(k),
            }
        }
    }
    keys.sort_by(|a, b| a.arn.cmp(&b.arn));
    let to_arn: BTreeMap<String, String> = keys
        .iter()
        .flat_map(|k| k.references.iter().map(|r| (r.clone(), k.arn.clone())))
        .collect();
    for b in &mut buckets {
        b.parts.normalise_kms_ids(|id| to_arn.get(id).cloned());
    }

    // Accounts: the caller's, and every other account involved, read with its own credentials
    // when `accounts` reaches it.
    let mut others: Vec<String> = Vec::new();
    for a in bucket_accounts
        .iter()
        .cloned()
        .chain(spec.principals.iter().filter_map(|p| principal_account(p)))
    {
        if a != caller_account && !others.contains(&a) {
            others.push(a);
        }
    }
    let mut account_set = tokio::task::JoinSet::new();
    for (i, a) in others.iter().enumerate() {
        let ctx = ctx.clone();
        let accounts = accounts.clone();
        let a = a.clone();
        let known_listing = listed.get(&a).and_then(|(owner, _)| owner.clone());
        account_set.spawn(async move {
            let read = match accounts.get(&a).await {
                None => Err((
                    unreached_account(&accounts, &a, "IAM data"),
                    unreached_account(&accounts, &a, "Block Public Access"),
                )),
                Some(Err(why)) => Err((
                    format!("not collected: {why}"),
                    format!("not collected: {why}"),
                )),
                Some(Ok(c)) => Ok(c),
            };
            match read {
                Err((iam_why, bpa_why)) => {
                    ctx.note(format!("account `{a}`: IAM: {iam_why}"));
                    ctx.note(format!("account `{a}`: Block Public Access: {bpa_why}"));
                    (i, Part::Unknown(iam_why), Part::Unknown(bpa_why), None)
                }
                Ok(c) => {
                    let sub = ctx.with_clients(c);
                    let reads = accounts.reads();
                    let a = a.as_str();
                    let (iam_part, bpa_part, canonical) =
                        tokio::join!(
                            cache::once(reads.map(|r| &r.iam), a, &sub, |c| async move {
                                iam::collect_iam(&c, a).await
                            }),
                            cache::once(reads.map(|r| &r.bpa), a, &sub, |c| async move {
                                account::account_bpa(&c, a).await
                            }),
                            async {
                                match known_listing {
                                    Some(o) => Some(o),
                                    None => cache::once(
                                        reads.map(|r| &r.listing),
                                        a,
                                        &sub,
                                        |c| async move { account::caller_canonical_id(&c).await },
                                    )
                                    .await
                                    .0,
                                }
                            }
                        );
                    (i, iam_part, bpa_part, canonical)
                }
            }
        });
    }
    let mut other_parts: Vec<OtherAccount> = Vec::new();
    while let Some(r) = account_set.join_next().await {
        if let Ok(x) = r {
            other_parts.push(x);
        }
    }
    other_parts.sort_by_key(|x| x.0);

    // Canonical user ids, one account each: a bucket owner's ACL owner belongs to the bucket's
    // account; then the caller's; then what each other account's ListBuckets said.
    let mut claimed: BTreeMap<String, String> = BTreeMap::new();
    for (o, a) in &owner_accounts {
        claimed
            .entry(o.to_ascii_lowercase())
            .or_insert_with(|| a.clone());
    }
    let caller_canonical = match caller_canonical {
        Some(c) => match claimed.get(&c.to_ascii_lowercase()) {
            Some(owner) if *owner != caller_account => {
                ctx.note(format!(
                    "account `{caller_account}`: canonical user id: `{c}` is also the owner of a bucket of account {owner} (an emulator answers one id for every account); recorded for {owner} only"
                ));
                None
            }
            _ => {
                claimed.insert(c.to_ascii_lowercase(), caller_account.clone());
                Some(c)
            }
        },
        None => {
            ctx.note(format!(
                "account `{caller_account}`: canonical user id: s3:ListAllMyBuckets was refused or returned no owner (ACL grants to this account cannot be recognised)"
            ));
            None
        }
    };
    let mut account_ids = vec![caller_account.clone()];
    account_ids.extend(others.iter().cloned());
    let mut canonical_of: BTreeMap<String, Option<String>> = BTreeMap::new();
    canonical_of.insert(caller_account.clone(), caller_canonical.clone());
    for (i, _, _, listed_canonical) in &other_parts {
        let a = &others[*i];
        let from_bucket = owner_accounts
            .iter()
            .find(|(_, acct)| *acct == a)
            .map(|(o, _)| o.clone());
        let c = from_bucket
            .or_else(|| listed_canonical.clone())
            .filter(|c| {
                let key = c.to_ascii_lowercase();
                match claimed.get(&key) {
                    Some(owner) => owner == a,
                    None => {
                        claimed.insert(key, a.clone());
                        true
                    }
                }
            });
        canonical_of.insert(a.clone(), c);
    }

    // Organizations, for every account in the World.
    let orgs = collect_orgs(&ctx, accounts, &caller_account, &account_ids).await;

    let org_of = |a: &str| orgs.get(a).cloned().unwrap_or(Part::Absent);
    let mut account_values = vec![account::account_json(
        &caller_account,
        caller_canonical.as_deref(),
        &caller_iam,
        &caller_bpa,
        &org_of(&caller_account),
    )];
    for (i, iam_part, bpa_part, _) in &other_parts {
        let a = &others[*i];
        account_values.push(account::account_json(
            a,
            canonical_of.get(a).cloned().flatten().as_deref(),
            iam_part,
            bpa_part,
            &org_of(a),
        ));
    }

    let bucket_values: Vec<Value> = buckets
        .iter()
        .zip(&bucket_accounts)
        .map(|(b, account)| b.parts.to_json(&b.name, account, &b.region))
        .collect();
    let mut world = json!({
        "format_version": crate::world::FORMAT_VERSION,
        "partition": partition_of(&caller_arn),
        "accounts": account_values,
        "buckets": bucket_values,
        "kms_keys": keys.into_iter().map(|k| k.value).collect::<Vec<_>>(),
        "cloudfront": cloudfront_part.to_value_with(Value::clone),
        "vpc_endpoints": [],
    });
    for problem in sanitize(&mut world) {
        ctx.note(problem);
    }
    let world = World::from_value(&world)?;
    let calls = ctx.calls.load(Ordering::Relaxed) + accounts.calls().saturating_sub(calls_before);
    let mut unknown = match ctx.unknown.lock() {
        Ok(mut u) => std::mem::take(&mut *u),
        Err(p) => std::mem::take(&mut *p.into_inner()),
    };
    unknown.sort();
    unknown.dedup();
    Ok(Collected {
        world,
        calls,
        unknown,
    })
}

/// The account given with `--account-role` whose ListBuckets lists `bucket` (each account's
/// listing is read once and kept in `listed`: its canonical id and bucket names).
async fn discover_owner(
    ctx: &Ctx,
    accounts: &AccountClients,
    caller_account: &str,
    bucket: &str,
    listed: &mut BTreeMap<String, (Option<String>, Option<Vec<String>>)>,
) -> Option<String> {
    let ids: Vec<String> = accounts
        .account_ids()
        .into_iter()
        .filter(|a| a != caller_account)
        .collect();
    for a in ids {
        if !listed.contains_key(&a) {
            let listing = match accounts.get(&a).await {
                Some(Ok(c)) => {
                    cache::once(
                        accounts.reads().map(|r| &r.listing),
                        &a,
                        &ctx.scratch(c),
                        |c| async move { account::caller_canonical_id(&c).await },
                    )
                    .await
                }
                _ => (None, None),
            };
            listed.insert(a.clone(), listing);
        }
        if listed
            .get(&a)
            .and_then(|(_, names)| names.as_ref())
            .is_some_and(|n| n.iter().any(|x| x == bucket))
        {
            return Some(a);
        }
    }
    None
}

/// The `organization` part of every account in `account_ids`: `DescribeOrganization` with the
/// account's own credentials, then the levels and their SCPs and RCPs with the management
/// account's credentials when s3medic has them (the caller's, or `--account-role`), else the
/// account's own (which works for a delegated administrator). An account s3medic has no
/// credentials for is looked up in the organizations already found whose management account it
/// can reach.
async fn collect_orgs(
    ctx: &Arc<Ctx>,
    accounts: &AccountClients,
    caller_account: &str,
    account_ids: &[String],
) -> BTreeMap<String, Part<Value>> {
    let policies = org::PolicyCache::default();
    let mut out: BTreeMap<String, Part<Value>> = BTreeMap::new();
    // The clients of each account, when s3medic has them.
    let mut own: BTreeMap<String, Result<Clients, String>> = BTreeMap::new();
    for a in account_ids {
        if a == caller_account {
            own.insert(a.clone(), Ok(ctx.clients.clone()));
        } else if let Some(r) = accounts.get(a).await {
            own.insert(a.clone(), r);
        }
    }
    let mut found: Vec<(org::OrgInfo, Clients)> = Vec::new();
    let reads = accounts.reads();
    for a in account_ids {
        let clients = match own.get(a) {
            Some(Ok(c)) => c.clone(),
            Some(Err(why)) => {
                let why = format!("not collected: {why}");
                ctx.note(format!("account `{a}`: organization: {why}"));
                out.insert(a.clone(), Part::Unknown(why));
                continue;
            }
            None => continue,
        };
        let policies = &policies;
        let (part, reader) = cache::once(reads.map(|r| &r.orgs), a, ctx, |c| async move {
            org_with_clients(&c, accounts, caller_account, a, clients, policies).await
        })
        .await;
        if let Some((info, c)) = reader {
            if !found.iter().any(|(i, _)| i.id == info.id) {
                found.push((info, c));
            }
        }
        out.insert(a.clone(), part);
    }
    // Accounts without credentials: members of an organization whose management account s3medic
    // reaches are read from there.
    for a in account_ids {
        if out.contains_key(a) {
            continue;
        }
        let label = format!("account `{a}`: organization");
        let mut part = None;
        for (info, mgmt) in &found {
            let reader = ctx.with_clients(mgmt.clone());
            match org::read_policies(&reader, a, info, &policies).await {
                Ok(v) => {
                    part = Some(Part::Known(v));
                    break;
                }
                Err(f) if f.not_a_member() => {}
                Err(f) => {
                    let why = format!(
                        "organization {}: {}: {}",
                        info.id,
                        f.what,
                        reader.reason(&f.failure, f.permission)
                    );
                    ctx.note(format!("{label}: {why}"));
                    part = Some(Part::Unknown(why));
                    break;
                }
            }
        }
        let part = part.unwrap_or_else(|| {
            let why = unreached_account(accounts, a, "organization");
            ctx.note(format!("{label}: {why}"));
            Part::Unknown(why)
        });
        out.insert(a.clone(), part);
    }
    out
}

/// The `organization` part of account `a` read with its own `clients` (`ctx`: the caller's):
/// `DescribeOrganization`, then the levels with the management account's clients when s3medic
/// has them, else `clients`; with the organization and the management account's clients when
/// s3medic has them (to read the accounts it has no credentials for).
async fn org_with_clients(
    ctx: &Ctx,
    accounts: &AccountClients,
    caller_account: &str,
    a: &str,
    clients: Clients,
    cache: &org::PolicyCache,
) -> cache::OrgRead {
    let label = format!("account `{a}`: organization");
    let sub = ctx.with_clients(clients.clone());
    let info = match org::describe(&sub).await {
        Ok(Some(info)) => info,
        Ok(None) => return (Part::Absent, None),
        Err(why) => {
            ctx.note(format!("{label}: {why}"));
            return (Part::Unknown(why), None);
        }
    };
    // The management account's clients, when s3medic has them.
    let m = info.management_account.clone();
    let mgmt = if m == a {
        Some(clients.clone())
    } else if m == caller_account {
        Some(ctx.clients.clone())
    } else {
        match accounts.get(&m).await {
            Some(Ok(c)) => Some(c),
            _ => None,
        }
    };
    let reader = ctx.with_clients(mgmt.clone().unwrap_or(clients));
    let part = match org::read_policies(&reader, a, &info, cache).await {
        Ok(v) => Part::Known(v),
        Err(f) => {
            let hint = if mgmt.is_none() {
                let give = match accounts.source() {
                    AccountSource::TargetsFile => {
                        format!("add an `[[account]]` entry for {m} to the targets file")
                    }
                    AccountSource::CommandLine => format!("give `--account-role {m}=ROLE_ARN`"),
                };
                format!(" (the levels are read from the management account {m} or a delegated administrator: {give})")
            } else {
                String::new()
            };
            let why = format!(
                "organization {}: {}: {}{hint}",
                info.id,
                f.what,
                sub.reason(&f.failure, f.permission)
            );
            ctx.note(format!("{label}: {why}"));
            Part::Unknown(why)
        }
    };
    (part, mgmt.map(|c| (info, c)))
}

/// The `cloudfront` part for `buckets`; with a run's cache, the account's distribution and OAC
/// listings are read once for the run.
async fn cloudfront_part(
    ctx: &Ctx,
    reads: Option<&cache::AccountCache>,
    account: &str,
    buckets: &[String],
) -> Part<Value> {
    let Some(r) = reads else {
        return cloudfront::collect_cloudfront(ctx, buckets).await;
    };
    let listing = r
        .distributions
        .read(account, ctx, |c| async move {
            cloudfront::list_distributions(&c).await
        })
        .await;
    let ids = listing.map(|l| cloudfront::on_buckets(&l, buckets));
    let oacs = r.oacs.read(
        account,
        ctx,
        |c| async move { cloudfront::list_oacs(&c).await },
    );
    cloudfront::collect_cloudfront_with(ctx, ids, oacs).await
}

/// Adds each VPC endpoint of `ids` that the World does not hold as an endpoint whose policy is
/// unknown ([`VPC_ENDPOINT_NOT_COLLECTED`]: s3medic does not read EC2), and lists it among the
/// parts that could not be read.
pub fn add_vpc_endpoints(collected: &mut Collected, ids: &[String]) -> Result<(), CollectError> {
    let missing: Vec<&String> = ids
        .iter()
        .filter(|id| !id.is_empty() && collected.world.vpc_endpoint(id).is_none())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let mut v = collected.world.to_value();
    let Some(m) = v.as_object_mut() else {
        return Ok(());
    };
    let list = m
        .entry("vpc_endpoints")
        .or_insert_with(|| Value::Array(Vec::new()));
    if !list.is_array() {
        *list = Value::Array(Vec::new());
    }
    let mut added: Vec<&String> = Vec::new();
    if let Some(arr) = list.as_array_mut() {
        for id in missing {
            if added.contains(&id) {
                continue;
            }
            arr.push(json!({
                "VpcEndpointId": id,
                "PolicyDocument": {"unknown": VPC_ENDPOINT_NOT_COLLECTED},
            }));
            collected.unknown.push(format!(
                "VPC endpoint `{id}`: policy: {VPC_ENDPOINT_NOT_COLLECTED}"
            ));
            added.push(id);
        }
    }
    collected.world = World::from_value(&v)?;
    collected.unknown.sort();
    collected.unknown.dedup();
    Ok(())
}

/// The partition of an ARN (`aws` when it cannot be read).
fn partition_of(arn: &str) -> String {
    arn.split(':')
        .nth(1)
        .filter(|p| !p.is_empty())
        .unwrap_or("aws")
        .to_string()
}

/// Makes an assembled World JSON parseable part by part: every known part the World parser
/// rejects (e.g. a policy document in a form s3medic does not understand) becomes unknown with the
/// parser's message, and a KMS key whose metadata is rejected is left out. Returns what it changed.
pub fn sanitize(world: &mut Value) -> Vec<String> {
    let mut problems = Vec::new();
    let partition = world
        .get("partition")
        .and_then(Value::as_str)
        .unwrap_or("aws")
        .to_string();
    let check = |w: Value| World::from_value(&w).err().map(|e| e.to_string());
    fn unknown_if_bad(
        problems: &mut Vec<String>,
        holder: &mut Map<String, Value>,
        field: &str,
        label: &str,
        wrap: &dyn Fn(&Map<String, Value>) -> Value,
    ) {
        let Some(v) = holder.get(field) else { return };
        if v.is_null() || v.get("unknown").is_some() {
            return;
        }
        if let Err(err) = World::from_value(&wrap(holder)) {
            let why = format!("could not be parsed: {err}");
            problems.push(format!("{label}: {why}"));
            holder.insert(field.into(), json!({ "unknown": why }));
        }
    }
    if let Some(accounts) = world.get_mut("accounts").and_then(Value::as_array_mut) {
        for a in accounts.iter_mut().filter_map(Value::as_object_mut) {
            let id = a.get("account_id").cloned().unwrap_or(Value::Null);
            let label = format!("account `{}`", id.as_str().unwrap_or(""));
            for field in ["iam", "block_public_access", "organization"] {
                let wrap = |m: &Map<String, Value>| json!({"partition": partition, "accounts": [{"account_id": id, field: m.get(field)}]});
                unknown_if_bad(&mut problems, a, field, &format!("{label}: {field}"), &wrap);
            }
        }
    }
    if let Some(buckets) = world.get_mut("buckets").and_then(Value::as_array_mut) {
        for b in buckets.iter_mut().filter_map(Value::as_object_mut) {
            let name = b.get("name").cloned().unwrap_or(Value::Null);
            let account = b.get("account_id").cloned().unwrap_or(Value::Null);
            let label = format!("bucket `{}`", name.as_str().unwrap_or(""));
            for field in [
                "policy",
                "public_access_block",
                "ownership_controls",
                "acl",
                "encryption",
                "request_payment",
                "website",
            ] {
                let wrap = |m: &Map<String, Value>| json!({"buckets": [{"name": name, "account_id": account, field: m.get(field)}]});
                unknown_if_bad(&mut problems, b, field, &format!("{label}: {field}"), &wrap);
            }
            if let Some(objects) = b.get_mut("objects").and_then(Value::as_array_mut) {
                for o in objects.iter_mut().filter_map(Value::as_object_mut) {
                    let key = o.get("key").cloned().unwrap_or(Value::Null);
                    let olabel = format!(
                        "object `{}/{}`",
                        name.as_str().unwrap_or(""),
                        key.as_str().unwrap_or("")
                    );
                    for field in ["head", "acl"] {
                        let wrap = |m: &Map<String, Value>| {
                            json!({"buckets": [{"name": name, "account_id": account,
                                "objects": [{"key": key, field: m.get(field)}]}]})
                        };
                        unknown_if_bad(
                            &mut problems,
                            o,
                            field,
                            &format!("{olabel}: {field}"),
                            &wrap,
                        );
                    }
                }
            }
        }
    }
    if let Some(keys) = world.get_mut("kms_keys").and_then(Value::as_array_mut) {
        keys.retain_mut(|k| {
            let Some(km) = k.as_object_mut() else {
                return false;
            };
            let metadata = km.get("metadata").cloned().unwrap_or(Value::Null);
            if let Some(err) = check(json!({"kms_keys": [{"metadata": metadata}]})) {
                problems.push(format!("KMS key left out: {err}"));
                return false;
            }
            let arn = metadata.get("Arn").and_then(Value::as_str).unwrap_or("");
            let label = format!("KMS key `{arn}`");
            for field in ["policy", "grants"] {
                let wrap = |m: &Map<String, Value>| {
                    json!({"kms_keys": [{"metadata": metadata, field: m.get(field)}]})
                };
                unknown_if_bad(&mut problems, km, field, &format!("{label}: {field}"), &wrap);
            }
            true
        });
    }
    if let Some(w) = world.as_object_mut() {
        let wrap = |m: &Map<String, Value>| json!({"cloudfront": m.get("cloudfront")});
        unknown_if_bad(&mut problems, w, "cloudfront", "cloudfront", &wrap);
    }
    problems
}

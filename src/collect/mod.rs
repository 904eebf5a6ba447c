//! Live collection: fills the World (docs/formats.md) from the real AWS APIs through the AWS SDK.
//! Besides `apply`, this is the only part of the library that does I/O; everything is async and
//! the caller supplies the runtime.
//!
//! [`collect`] reads, for a [`CollectSpec`] (a bucket, some keys, the principals involved), the
//! caller's identity (STS), the buckets (S3), the caller account's Block Public Access (S3
//! Control), its IAM data (`GetAccountAuthorizationDetails`), the KMS keys the buckets and objects
//! use, and the CloudFront distributions in front of the buckets. It builds the World JSON and
//! parses it with [`World::from_value`], so collected Worlds and World files share one parser.
//!
//! Only fatal problems (no credentials, endpoint unreachable, STS failing, bucket owner unknown)
//! are errors; every part that could not be read becomes `Part::Unknown` with the reason and the
//! permission it needs, and is listed in [`Collected::unknown`]. A part that could not be read is
//! never recorded as absent.

pub mod account;
pub mod clients;
pub mod cloudfront;
pub mod errors;
pub mod iam;
pub mod kms;
pub mod s3;

use std::collections::{BTreeMap, BTreeSet};
use std::error::Error as StdError;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use serde_json::{json, Map, Value};
use tokio::sync::Semaphore;

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
    sem: Semaphore,
    calls: AtomicUsize,
    unknown: Mutex<Vec<String>>,
}

impl Ctx {
    fn new(clients: Clients, limit: usize) -> Ctx {
        Ctx {
            clients,
            sem: Semaphore::new(limit),
            calls: AtomicUsize::new(0),
            unknown: Mutex::new(Vec::new()),
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
        self.unknown.lock().expect("not poisoned").push(what);
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

/// The reason written for an account s3medic did not read (not the caller's).
pub fn not_caller_account(account_id: &str, what: &str) -> String {
    format!(
        "not collected: account {account_id} is not the caller's account (snapshot with credentials of {account_id} to read its {what})"
    )
}

/// Collects the World for `spec` with at most [`MAX_CONCURRENT_CALLS`] SDK calls at a time.
/// Fails only on fatal problems (see [`CollectError`]).
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
    let ctx = Arc::new(Ctx::new(clients.clone(), limit.max(1)));
    ctx.calls.fetch_add(1, Ordering::Relaxed);
    let caller = ctx
        .clients
        .sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| errors::fatal_from_sts(&e, ctx.clients.endpoint.as_deref()))?;
    let caller_account = caller
        .account()
        .ok_or_else(|| CollectError::Sts("GetCallerIdentity returned no account".into()))?
        .to_string();

    let mut bucket_names = vec![spec.bucket.clone()];
    for b in &spec.extra_buckets {
        if !bucket_names.contains(b) {
            bucket_names.push(b.clone());
        }
    }

    // Buckets: region first (a bucket answers only in its region), then every part.
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
            let region = match s3::bucket_region(&ctx, &name).await {
                Ok(r) => r,
                Err(f) if f.has_code(&[errors::NO_SUCH_BUCKET]) => {
                    ctx.note(format!(
                        "bucket `{name}`: does not exist (NoSuchBucket); left out of the World"
                    ));
                    return None;
                }
                Err(f) => {
                    let why = ctx.reason(&f, "s3:GetBucketLocation");
                    let r = ctx.clients.region.clone();
                    ctx.note(format!(
                        "bucket `{name}`: region: {why} (assumed the configured region {r})"
                    ));
                    r
                }
            };
            let parts = s3::collect_bucket(ctx.clone(), name.clone(), region.clone(), keys).await;
            Some((i, name, region, parts))
        });
    }
    let all_buckets = bucket_names.clone();
    let (canonical, caller_bpa, caller_iam, cloudfront_part, mut buckets) = tokio::join!(
        account::caller_canonical_id(&ctx),
        account::account_bpa(&ctx, &caller_account),
        iam::collect_iam(&ctx, &caller_account),
        cloudfront::collect_cloudfront(&ctx, &all_buckets),
        async {
            let mut out = Vec::new();
            while let Some(r) = bucket_set.join_next().await {
                if let Ok(Some(b)) = r {
                    out.push(b);
                }
            }
            out.sort_by_key(|b| b.0);
            out
        }
    );
    let (listed_owner, owned_buckets) = canonical;
    // The owner of a bucket the caller's account owns is the caller's canonical user id (on AWS
    // the same as ListBuckets' Owner; emulators may differ, and the ACLs are what it maps).
    let caller_canonical = buckets
        .iter()
        .find(|(_, name, _, _)| owned_buckets.as_ref().is_some_and(|n| n.contains(name)))
        .and_then(|(_, _, _, parts)| parts.owner_id())
        .or(listed_owner);
    if caller_canonical.is_none() {
        ctx.note(format!(
            "account `{caller_account}`: canonical user id: s3:ListAllMyBuckets was refused or returned no owner (ACL grants to this account cannot be recognised)"
        ));
    }

    // Which account owns each bucket.
    let mut bucket_accounts: Vec<String> = Vec::new();
    let mut owner_accounts: BTreeMap<String, String> = BTreeMap::new();
    for (_, name, _, parts) in &buckets {
        let owner = parts.owner_id();
        let is_callers = match (&owner, &caller_canonical) {
            (Some(o), Some(c)) => o.eq_ignore_ascii_case(c),
            _ => false,
        } || owned_buckets.as_ref().is_some_and(|n| n.contains(name));
        let account = if is_callers {
            caller_account.clone()
        } else if let Some(a) = &spec.bucket_account {
            a.clone()
        } else if let Some(a) = owner.as_ref().and_then(|o| owner_accounts.get(o)) {
            a.clone()
        } else {
            let why = match (&owner, &caller_canonical) {
                (Some(o), Some(_)) => {
                    format!("its owner `{o}` is not the caller's canonical user id")
                }
                (Some(o), None) => format!(
                    "its owner is `{o}` but the caller's canonical user id could not be read"
                ),
                (None, _) => "its ACL could not be read".to_string(),
            };
            return Err(CollectError::BucketAccount {
                bucket: name.clone(),
                why,
            });
        };
        if let Some(o) = owner {
            owner_accounts.entry(o).or_insert_with(|| account.clone());
        }
        bucket_accounts.push(account);
    }

    // KMS keys named by the buckets and objects.
    let mut refs: BTreeSet<(String, String, String)> = BTreeSet::new();
    for ((_, _, region, parts), account) in buckets.iter().zip(&bucket_accounts) {
        let (ids, aws_managed) = parts.kms_key_refs();
        for id in ids {
            refs.insert((id, region.clone(), account.clone()));
        }
        if aws_managed && *account == caller_account {
            refs.insert(("alias/aws/s3".into(), region.clone(), account.clone()));
        }
    }
    let mut key_set = tokio::task::JoinSet::new();
    for (reference, region, account) in refs {
        let ctx = ctx.clone();
        let caller_account = caller_account.clone();
        key_set.spawn(async move {
            kms::collect_key(&ctx, &reference, &region, &account, &caller_account).await
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
    for (_, _, _, parts) in &mut buckets {
        parts.normalise_kms_ids(|id| to_arn.get(id).cloned());
    }

    // Accounts: the caller's (read), and every other account involved (not read).
    let org = Part::Unknown(account::ORGANIZATION_NOT_COLLECTED.to_string());
    ctx.note(format!(
        "organization: {}",
        account::ORGANIZATION_NOT_COLLECTED
    ));
    let mut accounts = vec![account::account_json(
        &caller_account,
        caller_canonical.as_deref(),
        &caller_iam,
        &caller_bpa,
        &org,
    )];
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
    let mut used_canonical: BTreeSet<String> = caller_canonical
        .iter()
        .map(|c| c.to_ascii_lowercase())
        .collect();
    for a in &others {
        let canonical = owner_accounts
            .iter()
            .find(|(_, acct)| *acct == a)
            .map(|(o, _)| o.clone())
            .filter(|o| used_canonical.insert(o.to_ascii_lowercase()));
        let iam_why = not_caller_account(a, "IAM data");
        let bpa_why = not_caller_account(a, "Block Public Access");
        ctx.note(format!("account `{a}`: IAM: {iam_why}"));
        ctx.note(format!("account `{a}`: Block Public Access: {bpa_why}"));
        accounts.push(account::account_json(
            a,
            canonical.as_deref(),
            &Part::Unknown(iam_why),
            &Part::Unknown(bpa_why),
            &org,
        ));
    }

    let bucket_values: Vec<Value> = buckets
        .iter()
        .zip(&bucket_accounts)
        .map(|((_, name, region, parts), account)| parts.to_json(name, account, region))
        .collect();
    let mut world = json!({
        "format_version": crate::world::FORMAT_VERSION,
        "partition": partition_of(caller.arn().unwrap_or_default()),
        "accounts": accounts,
        "buckets": bucket_values,
        "kms_keys": keys.into_iter().map(|k| k.value).collect::<Vec<_>>(),
        "cloudfront": cloudfront_part.to_value_with(Value::clone),
        "vpc_endpoints": [],
    });
    for problem in sanitize(&mut world) {
        ctx.note(problem);
    }
    let world = World::from_value(&world)?;
    let calls = ctx.calls.load(Ordering::Relaxed);
    let mut unknown = std::mem::take(&mut *ctx.unknown.lock().expect("not poisoned"));
    unknown.sort();
    unknown.dedup();
    Ok(Collected {
        world,
        calls,
        unknown,
    })
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

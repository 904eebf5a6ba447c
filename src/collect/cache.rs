//! Account-level reads shared by the collections of one run over many buckets (`plan --targets`,
//! through an [`AccountPool`](super::AccountPool)): an account's ListBuckets (canonical user id
//! and bucket names), Block Public Access, IAM authorization details, organization, and CloudFront
//! listings are read once per account — by the first collection that needs them, the others wait
//! for that read — and reused by every later collection. The parts that could not be read are
//! recorded with the value and listed again in every collection that uses it.
//!
//! A collection without such a cache (`collect`, `collect_across`: one request) reads everything
//! itself, as before.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::sync::OnceCell;

use super::errors::ApiFailure;
use super::org::OrgInfo;
use super::{Clients, Ctx};
use crate::world::Part;

/// ListBuckets of an account: its canonical user id and bucket names (see
/// `account::caller_canonical_id`).
pub(crate) type Listing = (Option<String>, Option<Vec<String>>);

/// An account's organization part, and its organization with the clients that read its levels
/// (the management account's) when s3medic has them.
pub(crate) type OrgRead = (Part<Value>, Option<(OrgInfo, Clients)>);

/// A CloudFront distribution listing: id and the buckets of its S3 origins.
pub(crate) type DistributionListing = Result<Vec<(String, Vec<String>)>, ApiFailure>;

/// The account-level reads of a run, by account id.
#[derive(Debug, Default)]
pub struct AccountCache {
    pub(crate) listing: Memo<Listing>,
    pub(crate) bpa: Memo<Part<Value>>,
    pub(crate) iam: Memo<Part<Value>>,
    pub(crate) orgs: Memo<OrgRead>,
    pub(crate) distributions: Memo<DistributionListing>,
    pub(crate) oacs: Memo<Result<Vec<Value>, ApiFailure>>,
}

/// One kind of read, once per key: the value and the unknown parts noted while reading it.
pub(crate) struct Memo<T> {
    cells: Mutex<BTreeMap<String, Cell<T>>>,
}

type Cell<T> = Arc<OnceCell<(T, Vec<String>)>>;

impl<T> Default for Memo<T> {
    fn default() -> Memo<T> {
        Memo {
            cells: Mutex::new(BTreeMap::new()),
        }
    }
}

impl<T> std::fmt::Debug for Memo<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys: Vec<String> = match self.cells.lock() {
            Ok(c) => c.keys().cloned().collect(),
            Err(p) => p.into_inner().keys().cloned().collect(),
        };
        f.debug_struct("Memo").field("keys", &keys).finish()
    }
}

impl<T: Clone> Memo<T> {
    /// The value for `key`: read with `read` (given a context with `ctx`'s clients, bound and
    /// call counter) by the first caller, waited for by the others. The unknown parts noted
    /// while reading are noted in `ctx` at every use.
    pub(crate) async fn read<F, Fut>(&self, key: &str, ctx: &Ctx, read: F) -> T
    where
        F: FnOnce(Ctx) -> Fut,
        Fut: Future<Output = T>,
    {
        let cell = {
            let mut cells = match self.cells.lock() {
                Ok(c) => c,
                Err(p) => p.into_inner(),
            };
            cells.entry(key.to_string()).or_default().clone()
        };
        let (value, notes) = cell
            .get_or_init(|| async {
                let scratch = ctx.scratch(ctx.clients.clone());
                let unknown = scratch.unknown.clone();
                let value = read(scratch).await;
                let notes = match unknown.lock() {
                    Ok(mut u) => std::mem::take(&mut *u),
                    Err(p) => std::mem::take(&mut *p.into_inner()),
                };
                (value, notes)
            })
            .await;
        for n in notes {
            ctx.note(n.clone());
        }
        value.clone()
    }
}

/// `memo`'s value for `key` when there is a cache; else `read` now, with `ctx` (its clients,
/// bound, counter and unknown list), exactly as without any cache.
pub(crate) async fn once<T, F, Fut>(memo: Option<&Memo<T>>, key: &str, ctx: &Ctx, read: F) -> T
where
    T: Clone,
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = T>,
{
    match memo {
        Some(m) => m.read(key, ctx, read).await,
        None => read(ctx.with_clients(ctx.clients.clone())).await,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::collect::{AccountClients, AccountPool, ConnectOptions};

    fn clients() -> Clients {
        Clients::offline()
    }

    fn notes(ctx: &Ctx) -> Vec<String> {
        ctx.unknown.lock().map(|u| u.clone()).unwrap_or_default()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_key_is_read_once_and_its_unknown_parts_are_listed_at_every_use() {
        let memo: Memo<u32> = Memo::default();
        let reads = AtomicUsize::new(0);
        let read = |value: u32| {
            let reads = &reads;
            move |c: Ctx| async move {
                reads.fetch_add(1, Ordering::SeqCst);
                // Slow enough for the other collection to arrive while this one reads.
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                c.note(format!("account `1`: IAM: AccessDenied ({value})"));
                value
            }
        };
        let (first, second) = (Ctx::new(clients(), 2), Ctx::new(clients(), 2));
        let (a, b) = tokio::join!(
            memo.read("111122223333", &first, read(7)),
            memo.read("111122223333", &second, read(8)),
        );
        assert_eq!(reads.load(Ordering::SeqCst), 1, "one read for both");
        assert_eq!(a, b, "both get the value read");
        let want = vec![format!("account `1`: IAM: AccessDenied ({a})")];
        assert_eq!(notes(&first), want);
        assert_eq!(notes(&second), want, "the unknown part is listed in both");
        // Another key is read on its own.
        let third = Ctx::new(clients(), 2);
        assert_eq!(memo.read("444455556666", &third, read(9)).await, 9);
        assert_eq!(reads.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn without_a_cache_every_collection_reads_itself() {
        let reads = AtomicUsize::new(0);
        let ctx = Ctx::new(clients(), 1);
        for _ in 0..3 {
            let reads = &reads;
            let v = once(None::<&Memo<u32>>, "111122223333", &ctx, |c| async move {
                reads.fetch_add(1, Ordering::SeqCst);
                c.note("x: unknown".into());
                5
            })
            .await;
            assert_eq!(v, 5);
        }
        assert_eq!(reads.load(Ordering::SeqCst), 3);
        assert_eq!(notes(&ctx), vec!["x: unknown".to_string(); 3]);
    }

    #[tokio::test]
    async fn only_a_pool_shares_account_reads() {
        let single = AccountClients::single(clients());
        assert!(
            single.reads().is_none(),
            "one request reads everything itself"
        );
        assert!(single.identity().is_none());
        let pool = AccountPool::new(
            [
                ("111122223333".to_string(), ConnectOptions::default()),
                ("444455556666".to_string(), ConnectOptions::default()),
            ]
            .into_iter()
            .collect(),
        );
        assert!(
            pool.acting_as("777788889999").await.is_none(),
            "an account outside the pool"
        );
        assert_eq!(pool.calls(), 0, "nothing connected");
    }
}

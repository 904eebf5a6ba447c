//! Which credentials reach which account. [`AccountAccess`] is the pure part: the
//! `--account-role ACCOUNT_ID=ROLE_ARN` flags and the accounts file (TOML) parsed and checked into
//! a map from account id to how to connect ([`AccountConnect`]). [`AccountClients`] holds the
//! caller's clients and creates each other account's clients on first use (STS AssumeRole with the
//! caller's credentials, or a named profile), checks with `GetCallerIdentity` that they act in
//! that account, and caches them (failures too) for the rest of the run.
//!
//! [`AccountPool`] is the same for a run over many accounts (`plan --targets`): every account has
//! complete connection settings of its own and is connected on first use; any of them can act as
//! the caller ([`AccountPool::acting_as`]) while reaching all the others through one shared cache
//! of clients and of account-level reads ([`super::cache::AccountCache`]).
//!
//! The accounts file:
//!
//! ```toml
//! [accounts.111122223333]
//! role_arn = "arn:aws:iam::111122223333:role/s3medic-auditor"
//! external_id = "optional"
//!
//! [accounts.444455556666]
//! profile = "prod-admin"        # a named profile that acts in that account
//! role_arn = "arn:aws:iam::444455556666:role/auditor"   # optional with a profile: assumed with it
//! ```

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde::Deserialize;
use tokio::sync::OnceCell;

use super::cache::AccountCache;
use super::clients::{valid_role_arn, Clients, ConnectOptions};
use super::errors::{fatal_from_sts, ApiFailure, CollectError};

/// How to reach one account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountConnect {
    /// The role to assume (in that account).
    pub role_arn: Option<String>,
    /// The external id the role's trust policy requires.
    pub external_id: Option<String>,
    /// A named profile whose credentials act in that account (or assume `role_arn`).
    pub profile: Option<String>,
    /// Where this entry was given (`--account-role ...`, `accounts file `f``), for messages.
    pub origin: String,
}

impl AccountConnect {
    /// A short description for messages: `role R`, `profile P`, `role R with profile P`.
    pub fn describe(&self) -> String {
        match (&self.role_arn, &self.profile) {
            (Some(r), Some(p)) => format!("role `{r}` with profile `{p}`"),
            (Some(r), None) => format!("role `{r}`"),
            (None, Some(p)) => format!("profile `{p}`"),
            (None, None) => "no credentials".into(),
        }
    }
}

/// A problem with `--account-role` or the accounts file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountsError {
    /// `--account-role` without `=`.
    #[error("`--account-role {given}`: expected ACCOUNT_ID=ROLE_ARN, e.g. 111122223333=arn:aws:iam::111122223333:role/auditor")]
    Flag { given: String },
    /// The account id is not 12 digits.
    #[error("{origin}: account id `{account}` is not a 12-digit AWS account id")]
    AccountId { origin: String, account: String },
    /// The role ARN is not an IAM role ARN.
    #[error("{origin}: `{arn}` is not an IAM role ARN (arn:PARTITION:iam::ACCOUNT_ID:role/NAME)")]
    RoleArn { origin: String, arn: String },
    /// The role is in another account than the one it is given for.
    #[error("{origin}: role `{arn}` is in account {role_account}, not {account} (a role reads the account it is in)")]
    RoleAccount {
        origin: String,
        arn: String,
        account: String,
        role_account: String,
    },
    /// Neither a role nor a profile.
    #[error("{origin}: give `role_arn` or `profile` for account {account}")]
    Empty { origin: String, account: String },
    /// An external id without a role.
    #[error("{origin}: `external_id` needs `role_arn` (account {account})")]
    ExternalIdWithoutRole { origin: String, account: String },
    /// The same account twice.
    #[error("account {account} is given twice: {first} and {second}")]
    Duplicate {
        account: String,
        first: String,
        second: String,
    },
    /// The accounts file cannot be read or is not valid TOML of the expected shape.
    #[error("accounts file `{file}`: {detail}")]
    File { file: String, detail: String },
}

/// Account id → how to connect to it. Pure: building it makes no call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountAccess {
    accounts: BTreeMap<String, AccountConnect>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    #[serde(default)]
    accounts: BTreeMap<String, FileEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileEntry {
    role_arn: Option<String>,
    external_id: Option<String>,
    profile: Option<String>,
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

impl AccountAccess {
    /// No other account reachable.
    pub fn new() -> AccountAccess {
        AccountAccess::default()
    }

    /// Whether no account is configured.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }

    /// The configured account ids, in order.
    pub fn account_ids(&self) -> impl Iterator<Item = &str> {
        self.accounts.keys().map(String::as_str)
    }

    /// How to reach `account`, when configured.
    pub fn get(&self, account: &str) -> Option<&AccountConnect> {
        self.accounts.get(account)
    }

    /// Adds one account after checking it (account id, role ARN and its account, duplicates).
    pub fn add(&mut self, account: &str, entry: AccountConnect) -> Result<(), AccountsError> {
        let origin = entry.origin.clone();
        if !is_account_id(account) {
            return Err(AccountsError::AccountId {
                origin,
                account: account.to_string(),
            });
        }
        match &entry.role_arn {
            Some(arn) => {
                if !valid_role_arn(arn) {
                    return Err(AccountsError::RoleArn {
                        origin,
                        arn: arn.clone(),
                    });
                }
                let role_account = arn.split(':').nth(4).unwrap_or("");
                if role_account != account {
                    return Err(AccountsError::RoleAccount {
                        origin,
                        arn: arn.clone(),
                        account: account.to_string(),
                        role_account: role_account.to_string(),
                    });
                }
            }
            None if entry.profile.is_none() => {
                return Err(AccountsError::Empty {
                    origin,
                    account: account.to_string(),
                })
            }
            None if entry.external_id.is_some() => {
                return Err(AccountsError::ExternalIdWithoutRole {
                    origin,
                    account: account.to_string(),
                })
            }
            None => {}
        }
        if let Some(first) = self.accounts.get(account) {
            return Err(AccountsError::Duplicate {
                account: account.to_string(),
                first: first.origin.clone(),
                second: origin,
            });
        }
        self.accounts.insert(account.to_string(), entry);
        Ok(())
    }

    /// Adds one `--account-role ACCOUNT_ID=ROLE_ARN` value.
    pub fn add_flag(&mut self, value: &str) -> Result<(), AccountsError> {
        let Some((account, arn)) = value.split_once('=') else {
            return Err(AccountsError::Flag {
                given: value.to_string(),
            });
        };
        let (account, arn) = (account.trim(), arn.trim());
        if account.is_empty() || arn.is_empty() {
            return Err(AccountsError::Flag {
                given: value.to_string(),
            });
        }
        self.add(
            account,
            AccountConnect {
                role_arn: Some(arn.to_string()),
                external_id: None,
                profile: None,
                origin: format!("`--account-role {value}`"),
            },
        )
    }

    /// Adds every account of an accounts file's text (`file` names it in messages).
    pub fn add_file_text(&mut self, text: &str, file: &str) -> Result<(), AccountsError> {
        let doc: FileDoc = toml::from_str(text).map_err(|e| AccountsError::File {
            file: file.to_string(),
            detail: e.to_string().trim_end().to_string(),
        })?;
        for (account, e) in doc.accounts {
            let origin = format!("accounts file `{file}`: [accounts.{account}]");
            self.add(
                &account,
                AccountConnect {
                    role_arn: e.role_arn.filter(|s| !s.is_empty()),
                    external_id: e.external_id.filter(|s| !s.is_empty()),
                    profile: e.profile.filter(|s| !s.is_empty()),
                    origin,
                },
            )?;
        }
        Ok(())
    }

    /// The access given by `--account-role` values and an optional accounts file's text.
    pub fn parse(
        flags: &[String],
        file: Option<(&str, &str)>,
    ) -> Result<AccountAccess, AccountsError> {
        let mut a = AccountAccess::new();
        if let Some((text, name)) = file {
            a.add_file_text(text, name)?;
        }
        for f in flags {
            a.add_flag(f)?;
        }
        Ok(a)
    }
}

/// Where the accounts other than the caller's are configured: what a reason for an account
/// s3medic cannot reach tells the user to add.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountSource {
    /// `--account-role ACCOUNT_ID=ROLE_ARN` flags and the accounts file (`--accounts FILE`):
    /// [`AccountClients::new`] and [`AccountClients::single`].
    CommandLine,
    /// The `[[account]]` entries of a targets file (`plan --targets`): an [`AccountPool`].
    TargetsFile,
}

/// The caller's clients and, created on first use and cached, the clients of every account
/// configured in an [`AccountAccess`] (or in an [`AccountPool`]).
/// Cheap to clone: clones share the cache.
#[derive(Debug, Clone)]
pub struct AccountClients {
    base: Clients,
    /// The account and ARN `base` acts as, when already checked with `GetCallerIdentity`.
    identity: Option<(String, String)>,
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    opts: ConnectOptions,
    access: AccountAccess,
    /// Accounts with complete connection settings of their own (an [`AccountPool`]'s).
    own: BTreeMap<String, ConnectOptions>,
    cache: Mutex<BTreeMap<String, Slot>>,
    calls: AtomicUsize,
    /// Account-level reads shared by every collection (an [`AccountPool`]'s).
    reads: Option<Arc<AccountCache>>,
    /// Where the other accounts are configured.
    source: AccountSource,
}

/// Clients checked to act in an account, and the ARN they act as.
#[derive(Debug, Clone)]
struct Connected {
    clients: Clients,
    arn: String,
}

/// One account's clients, or why there are none, once created.
type Slot = Arc<OnceCell<Result<Connected, String>>>;

impl AccountClients {
    /// `base`: the caller's clients, built from `opts` (whose region, endpoint and retry settings
    /// a profile entry reuses).
    pub fn new(base: Clients, opts: ConnectOptions, access: AccountAccess) -> AccountClients {
        AccountClients {
            base,
            identity: None,
            inner: Arc::new(Inner {
                opts,
                access,
                own: BTreeMap::new(),
                cache: Mutex::new(BTreeMap::new()),
                calls: AtomicUsize::new(0),
                reads: None,
                source: AccountSource::CommandLine,
            }),
        }
    }

    /// Only the caller's clients: no other account reachable.
    pub fn single(base: Clients) -> AccountClients {
        AccountClients::new(base, ConnectOptions::default(), AccountAccess::new())
    }

    /// The caller's clients.
    pub fn base(&self) -> &Clients {
        &self.base
    }

    /// The account and ARN the caller's clients act as, when already checked (an
    /// [`AccountPool::acting_as`] account): the collector then does not ask STS again.
    pub fn identity(&self) -> Option<(&str, &str)> {
        self.identity
            .as_ref()
            .map(|(a, arn)| (a.as_str(), arn.as_str()))
    }

    /// The configured accounts (`--account-role`, accounts file).
    pub fn access(&self) -> &AccountAccess {
        &self.inner.access
    }

    /// Whether s3medic has a way to reach `account` (configured, or in the pool).
    pub fn reaches(&self, account: &str) -> bool {
        self.inner.own.contains_key(account) || self.inner.access.get(account).is_some()
    }

    /// Every account s3medic has a way to reach, in order.
    pub fn account_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .inner
            .own
            .keys()
            .map(String::as_str)
            .chain(self.inner.access.account_ids())
            .map(str::to_string)
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }

    /// Where the accounts other than the caller's are configured: the command line (`new`,
    /// `single`) or a targets file (an [`AccountPool`]'s).
    pub fn source(&self) -> AccountSource {
        self.inner.source
    }

    /// The account-level reads shared by the collections of a run, when there is such a cache
    /// (an [`AccountPool`]'s; never for `new` and `single`).
    pub(crate) fn reads(&self) -> Option<&AccountCache> {
        self.inner.reads.as_deref()
    }

    /// How many SDK calls creating clients made (`GetCallerIdentity` checks).
    pub fn calls(&self) -> usize {
        self.inner.calls.load(Ordering::Relaxed)
    }

    /// The clients of `account`: `None` when no way to reach it is configured; `Err` with the
    /// reason when they could not be created or do not act in that account (cached either way).
    pub async fn get(&self, account: &str) -> Option<Result<Clients, String>> {
        self.inner
            .connected(account, Some(&self.base))
            .await
            .map(|r| r.map(|c| c.clients))
    }

    /// The clients that write in `account`: its own when configured, else the caller's.
    pub async fn for_writes(&self, account: &str) -> Result<Clients, CollectError> {
        match self.get(account).await {
            None => Ok(self.base.clone()),
            Some(Ok(c)) => Ok(c),
            Some(Err(why)) => Err(CollectError::Config(why)),
        }
    }
}

impl Inner {
    /// The checked clients of `account`, created on first use (`base`: the caller's, with which
    /// a configured role is assumed).
    async fn connected(
        &self,
        account: &str,
        base: Option<&Clients>,
    ) -> Option<Result<Connected, String>> {
        let own = self.own.get(account);
        let entry = self.access.get(account);
        if own.is_none() && entry.is_none() {
            return None;
        }
        let cell = {
            let mut cache = match self.cache.lock() {
                Ok(c) => c,
                Err(p) => p.into_inner(),
            };
            cache.entry(account.to_string()).or_default().clone()
        };
        let r = cell
            .get_or_init(|| async {
                match (own, entry) {
                    (Some(opts), _) => self.connect_own(account, opts).await,
                    (None, Some(entry)) => self.connect(account, entry, base).await,
                    (None, None) => Err(format!("no way to reach account {account}")),
                }
            })
            .await;
        Some(r.clone())
    }

    /// Connects to an account with complete settings of its own and checks that the credentials
    /// act in it.
    async fn connect_own(&self, account: &str, opts: &ConnectOptions) -> Result<Connected, String> {
        let how = match (&opts.role_arn, &opts.profile) {
            (Some(r), _) => format!("as role `{r}`"),
            (None, Some(p)) => format!("with profile `{p}`"),
            (None, None) => "with the base credentials".to_string(),
        };
        let clients = Clients::connect(opts)
            .await
            .map_err(|e| format!("cannot connect {how}: {e}"))?;
        self.calls.fetch_add(1, Ordering::Relaxed);
        let who = clients
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| {
                format!(
                    "cannot connect {how}: {}",
                    fatal_from_sts(&e, clients.endpoint.as_deref())
                )
            })?;
        let got = who.account().unwrap_or_default();
        if got != account {
            return Err(format!(
                "the credentials ({how}) are for account {got} (`{}`), not {account}",
                who.arn().unwrap_or_default()
            ));
        }
        Ok(Connected {
            arn: who.arn().unwrap_or_default().to_string(),
            clients,
        })
    }

    async fn connect(
        &self,
        account: &str,
        entry: &AccountConnect,
        base: Option<&Clients>,
    ) -> Result<Connected, String> {
        let how = entry.describe();
        let clients = match (&entry.profile, &entry.role_arn, base) {
            (Some(p), _, _) => {
                let opts = ConnectOptions {
                    profile: Some(p.clone()),
                    role_arn: entry.role_arn.clone(),
                    external_id: entry.external_id.clone(),
                    ..self.opts.clone()
                };
                Clients::connect(&opts).await
            }
            (None, Some(r), Some(base)) => base.assume(r, entry.external_id.as_deref()).await,
            (None, Some(_), None) => Err(CollectError::Config(
                "no caller credentials to assume the role with".into(),
            )),
            (None, None, _) => Err(CollectError::Config("no role or profile".into())),
        }
        .map_err(|e| format!("cannot connect to account {account} with {how}: {e}"))?;
        self.calls.fetch_add(1, Ordering::Relaxed);
        let who = clients
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| {
                format!(
                    "cannot act in account {account} with {how}: {}",
                    ApiFailure::from_sdk(&e).describe()
                )
            })?;
        match who.account() {
            Some(a) if a == account => Ok(Connected {
                arn: who.arn().unwrap_or_default().to_string(),
                clients,
            }),
            other => Err(format!(
                "{how} acts in account {}, not {account}",
                other.unwrap_or("?")
            )),
        }
    }
}

/// The accounts of a run over many accounts (`plan --targets`), each with complete connection
/// settings of its own: connected on first use and checked with `GetCallerIdentity`, cached with
/// their failures, and sharing one [`AccountCache`] of account-level reads (IAM authorization
/// details, ListBuckets, Block Public Access, organization, CloudFront listings), so each is read
/// once per account for the whole run. Cheap to clone: clones share everything.
#[derive(Debug, Clone)]
pub struct AccountPool {
    inner: Arc<Inner>,
}

impl AccountPool {
    /// The pool of `accounts` (account id → how to connect to it).
    pub fn new(accounts: BTreeMap<String, ConnectOptions>) -> AccountPool {
        AccountPool {
            inner: Arc::new(Inner {
                opts: ConnectOptions::default(),
                access: AccountAccess::new(),
                own: accounts,
                cache: Mutex::new(BTreeMap::new()),
                calls: AtomicUsize::new(0),
                reads: Some(Arc::new(AccountCache::default())),
                source: AccountSource::TargetsFile,
            }),
        }
    }

    /// Acting as `account` (connected on first use): its clients as the caller's, every other
    /// account of the pool reached with its own clients, and the pool's caches. `None` when the
    /// account is not in the pool; `Err` with the reason when it cannot be connected or its
    /// credentials act in another account.
    pub async fn acting_as(&self, account: &str) -> Option<Result<AccountClients, String>> {
        let r = self.inner.connected(account, None).await?;
        Some(r.map(|c| AccountClients {
            base: c.clients,
            identity: Some((account.to_string(), c.arn)),
            inner: self.inner.clone(),
        }))
    }

    /// How many SDK calls connecting the accounts made (`GetCallerIdentity` checks).
    pub fn calls(&self) -> usize {
        self.inner.calls.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clients() -> Clients {
        Clients::offline()
    }

    #[test]
    fn the_source_of_the_accounts_is_where_they_are_configured() {
        assert_eq!(
            AccountClients::single(clients()).source(),
            AccountSource::CommandLine
        );
        let mut access = AccountAccess::new();
        access
            .add_flag("444455556666=arn:aws:iam::444455556666:role/auditor")
            .unwrap_or_else(|e| panic!("flag: {e}"));
        let flags = AccountClients::new(clients(), ConnectOptions::default(), access);
        assert_eq!(flags.source(), AccountSource::CommandLine);
        // What `AccountPool::acting_as` returns, without connecting.
        let pool = AccountPool::new(BTreeMap::new());
        let acting = AccountClients {
            base: clients(),
            identity: None,
            inner: pool.inner.clone(),
        };
        assert_eq!(acting.source(), AccountSource::TargetsFile);
    }
}

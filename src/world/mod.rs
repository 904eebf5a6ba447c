//! The World: everything s3medic knows about the AWS accounts involved in a request (IAM,
//! Organizations, buckets and objects, KMS keys, CloudFront, VPC endpoints), loaded from the JSON
//! format of docs/formats.md and indexed for O(1) look-ups.
//!
//! Every optional piece is a [`Part`]: absent, unknown (could not be read) or known. The World is
//! plain data with public fields so the planner can mutate copies; call [`World::reindex`] after a
//! mutation that adds, removes or renames things.

mod bucket;
mod cloudfront;
mod error;
mod iam;
mod kms;
mod org;
mod part;

/// A short name of a JSON value's type (`"an object"`, `"a string"`, …), for error messages.
pub(crate) use part::kind as json_kind;
mod vpce;

use std::collections::HashSet;

use rustc_hash::FxHashMap as HashMap;

use serde_json::{Map, Value};

pub use bucket::{
    partition_of_region, Acl, AclPermission, Bucket, DefaultEncryption, Grant, Grantee, Object,
    ObjectHead, ObjectOwnership, Payer, PublicAccessBlock, SseAlgorithm,
};
pub use cloudfront::{
    parse_s3_origin_domain, CloudFront, Distribution, Origin, OriginAccessControl,
    OriginAccessIdentity,
};
pub use error::WorldError;
pub use iam::{AttachedPolicy, Group, Iam, ManagedPolicy, NamedPolicy, Role, User};
pub use kms::{KmsGrant, KmsKey};
pub use org::{OrgLevel, OrgPolicy, Organization};
pub use part::Part;
pub use vpce::VpcEndpoint;

use part::{as_object, opt_array, opt_str, parse_part, put_opt, put_str, req_str};

/// The current (and only) World format version.
pub const FORMAT_VERSION: u64 = 1;

/// Everything known about the accounts and resources involved.
#[derive(Debug, Clone, Default)]
pub struct World {
    /// `aws`, `aws-cn` or `aws-us-gov`.
    pub partition: String,
    pub accounts: Vec<Account>,
    pub buckets: Vec<Bucket>,
    pub kms_keys: Vec<KmsKey>,
    pub cloudfront: Part<CloudFront>,
    pub vpc_endpoints: Vec<VpcEndpoint>,
    index: WorldIndex,
}

#[derive(Debug, Clone, Default)]
struct WorldIndex {
    account: HashMap<String, usize>,
    canonical: HashMap<String, usize>,
    bucket: HashMap<String, usize>,
    /// Key ARN and alias ARN → key.
    kms: HashMap<String, usize>,
    vpce: HashMap<String, usize>,
    /// Bucket name → distribution indexes (each distribution once, in order).
    distributions: HashMap<String, Vec<usize>>,
    /// Region of a bucket → `s3.REGION.amazonaws.com` (`kms:ViaService` of S3's KMS calls).
    s3_service: HashMap<String, String>,
}

/// Equality compares the data only (not the look-up indexes).
impl PartialEq for World {
    fn eq(&self, other: &Self) -> bool {
        self.partition == other.partition
            && self.accounts == other.accounts
            && self.buckets == other.buckets
            && self.kms_keys == other.kms_keys
            && self.cloudfront == other.cloudfront
            && self.vpc_endpoints == other.vpc_endpoints
    }
}

/// An AWS account.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub account_id: String,
    /// Maps ACL grantees and object owners to this account.
    pub canonical_user_id: Option<String>,
    pub iam: Part<Iam>,
    /// Account-level Block Public Access (`s3control get-public-access-block`).
    pub block_public_access: Part<PublicAccessBlock>,
    pub organization: Part<Organization>,
}

impl Account {
    /// An account with every part absent.
    pub fn new(account_id: &str) -> Account {
        Account {
            account_id: account_id.to_string(),
            canonical_user_id: None,
            iam: Part::Absent,
            block_public_access: Part::Absent,
            organization: Part::Absent,
        }
    }

    fn from_value(v: &Value, index: usize, partition: &str) -> Result<Account, WorldError> {
        let p0 = format!("`accounts[{index}]`");
        let m = as_object(v, &p0)?;
        let account_id = req_str(m, "account_id", &p0)?;
        let p = format!("account `{account_id}`");
        let ip = format!("{p}: iam");
        let iam = parse_part(m.get("iam"), &ip, |v| {
            Iam::from_value(v, &ip, &account_id, partition)
        })?;
        let bp = format!("{p}: `block_public_access`");
        let block_public_access = parse_part(m.get("block_public_access"), &bp, |v| {
            PublicAccessBlock::from_value(v, &bp)
        })?;
        let op = format!("{p}: organization");
        let organization = parse_part(m.get("organization"), &op, |v| {
            Organization::from_value(v, &op)
        })?;
        Ok(Account {
            canonical_user_id: opt_str(m, "canonical_user_id", &p)?.filter(|s| !s.is_empty()),
            account_id,
            iam,
            block_public_access,
            organization,
        })
    }

    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        put_str(&mut m, "account_id", &self.account_id);
        put_opt(&mut m, "canonical_user_id", &self.canonical_user_id);
        m.insert("iam".into(), self.iam.to_value_with(Iam::to_value));
        m.insert(
            "block_public_access".into(),
            self.block_public_access
                .to_value_with(PublicAccessBlock::to_value),
        );
        m.insert(
            "organization".into(),
            self.organization.to_value_with(Organization::to_value),
        );
        Value::Object(m)
    }
}

impl World {
    /// A World from its parts; builds the indexes. Fails on duplicate account ids, bucket names,
    /// KMS key ARNs or VPC endpoint ids.
    pub fn new(
        partition: &str,
        accounts: Vec<Account>,
        buckets: Vec<Bucket>,
        kms_keys: Vec<KmsKey>,
        cloudfront: Part<CloudFront>,
        vpc_endpoints: Vec<VpcEndpoint>,
    ) -> Result<World, WorldError> {
        let mut w = World {
            partition: partition.to_string(),
            accounts,
            buckets,
            kms_keys,
            cloudfront,
            vpc_endpoints,
            index: WorldIndex::default(),
        };
        w.check_unique()?;
        w.reindex();
        Ok(w)
    }

    /// Loads a World from JSON text.
    pub fn from_json_str(text: &str) -> Result<World, WorldError> {
        let v: Value = serde_json::from_str(text).map_err(|e| WorldError::from_json(&e))?;
        World::from_value(&v)
    }

    /// Loads a World from a decoded JSON value (docs/formats.md, "World").
    pub fn from_value(v: &Value) -> Result<World, WorldError> {
        let m = as_object(v, "world")?;
        match m.get("format_version") {
            None | Some(Value::Null) => {}
            Some(n) if n.as_u64() == Some(FORMAT_VERSION) => {}
            Some(other) => return Err(WorldError::UnsupportedVersion(other.to_string())),
        }
        let partition = opt_str(m, "partition", "world")?.unwrap_or_else(|| "aws".to_string());
        let mut accounts = Vec::new();
        for (i, a) in opt_array(m, "accounts", "world")?.iter().enumerate() {
            accounts.push(Account::from_value(a, i, &partition)?);
        }
        let mut buckets = Vec::new();
        for (i, b) in opt_array(m, "buckets", "world")?.iter().enumerate() {
            buckets.push(Bucket::from_value(b, i)?);
        }
        let mut kms_keys = Vec::new();
        for (i, k) in opt_array(m, "kms_keys", "world")?.iter().enumerate() {
            kms_keys.push(KmsKey::from_value(k, i)?);
        }
        let cloudfront = parse_part(m.get("cloudfront"), "`cloudfront`", CloudFront::from_value)?;
        let mut vpc_endpoints = Vec::new();
        for (i, e) in opt_array(m, "vpc_endpoints", "world")?.iter().enumerate() {
            vpc_endpoints.push(VpcEndpoint::from_value(e, i)?);
        }
        World::new(
            &partition,
            accounts,
            buckets,
            kms_keys,
            cloudfront,
            vpc_endpoints,
        )
    }

    /// Prints the World in the docs/formats.md format; `from_value(&w.to_value()) == Ok(w)`.
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("format_version".into(), Value::from(FORMAT_VERSION));
        put_str(&mut m, "partition", &self.partition);
        m.insert(
            "accounts".into(),
            Value::Array(self.accounts.iter().map(Account::to_value).collect()),
        );
        m.insert(
            "buckets".into(),
            Value::Array(self.buckets.iter().map(Bucket::to_value).collect()),
        );
        m.insert(
            "kms_keys".into(),
            Value::Array(self.kms_keys.iter().map(KmsKey::to_value).collect()),
        );
        m.insert(
            "cloudfront".into(),
            self.cloudfront.to_value_with(CloudFront::to_value),
        );
        m.insert(
            "vpc_endpoints".into(),
            Value::Array(
                self.vpc_endpoints
                    .iter()
                    .map(VpcEndpoint::to_value)
                    .collect(),
            ),
        );
        Value::Object(m)
    }

    fn check_unique(&self) -> Result<(), WorldError> {
        fn dup<'a>(items: impl Iterator<Item = &'a str>, what: &str) -> Result<(), WorldError> {
            let mut seen = HashSet::new();
            for s in items {
                if !seen.insert(s) {
                    return Err(WorldError::invalid(
                        "world",
                        format!("duplicate {what} `{s}`"),
                    ));
                }
            }
            Ok(())
        }
        dup(
            self.accounts.iter().map(|a| a.account_id.as_str()),
            "account",
        )?;
        dup(
            self.accounts
                .iter()
                .filter_map(|a| a.canonical_user_id.as_deref()),
            "canonical user id",
        )?;
        dup(self.buckets.iter().map(|b| b.name.as_str()), "bucket")?;
        dup(self.kms_keys.iter().map(|k| k.arn.as_str()), "kms key")?;
        dup(
            self.vpc_endpoints.iter().map(|e| e.id.as_str()),
            "vpc endpoint",
        )?;
        Ok(())
    }

    /// Rebuilds every look-up index (World's and each account's IAM); call after mutating the
    /// World. On duplicates the first wins.
    pub fn reindex(&mut self) {
        let mut ix = WorldIndex::default();
        for (i, a) in self.accounts.iter_mut().enumerate() {
            ix.account.entry(a.account_id.clone()).or_insert(i);
            if let Some(c) = &a.canonical_user_id {
                ix.canonical.entry(c.to_ascii_lowercase()).or_insert(i);
            }
            if let Some(iam) = a.iam.known_mut() {
                iam.reindex();
            }
        }
        let mut last_region: Option<&str> = None;
        for (i, b) in self.buckets.iter().enumerate() {
            ix.bucket.entry(b.name.clone()).or_insert(i);
            // Buckets mostly share a few regions: skip the look-up for a run of the same one.
            if last_region != Some(b.region.as_str()) && !ix.s3_service.contains_key(&b.region) {
                ix.s3_service
                    .insert(b.region.clone(), s3_service_name(&b.region));
            }
            last_region = Some(b.region.as_str());
        }
        for (i, k) in self.kms_keys.iter().enumerate() {
            ix.kms.entry(k.arn.clone()).or_insert(i);
            for alias_arn in k.alias_arns() {
                ix.kms.entry(alias_arn).or_insert(i);
            }
        }
        for (i, e) in self.vpc_endpoints.iter().enumerate() {
            ix.vpce.entry(e.id.clone()).or_insert(i);
        }
        if let Some(cf) = self.cloudfront.known() {
            for (i, d) in cf.distributions.iter().enumerate() {
                for o in &d.origins {
                    if let Some(b) = &o.bucket {
                        let list = ix.distributions.entry(b.clone()).or_default();
                        if list.last() != Some(&i) {
                            list.push(i);
                        }
                    }
                }
            }
        }
        self.index = ix;
    }

    pub fn account(&self, id: &str) -> Option<&Account> {
        self.index
            .account
            .get(id)
            .and_then(|&i| self.accounts.get(i))
    }

    pub fn account_mut(&mut self, id: &str) -> Option<&mut Account> {
        let i = *self.index.account.get(id)?;
        self.accounts.get_mut(i)
    }

    /// The account whose canonical user id this is (case-insensitive).
    pub fn account_by_canonical_id(&self, canonical: &str) -> Option<&Account> {
        self.index
            .canonical
            .get(&canonical.to_ascii_lowercase())
            .and_then(|&i| self.accounts.get(i))
    }

    pub fn bucket(&self, name: &str) -> Option<&Bucket> {
        self.index
            .bucket
            .get(name)
            .and_then(|&i| self.buckets.get(i))
    }

    /// Mutable access to a bucket (fields only; call `reindex` after renaming it).
    pub fn bucket_mut(&mut self, name: &str) -> Option<&mut Bucket> {
        let i = *self.index.bucket.get(name)?;
        self.buckets.get_mut(i)
    }

    /// A KMS key by key id, key ARN, alias name (`alias/x`) or alias ARN. A key id or alias name
    /// is resolved in `default_account` / `default_region`, as AWS does.
    pub fn kms_key(
        &self,
        reference: &str,
        default_account: &str,
        default_region: &str,
    ) -> Option<&KmsKey> {
        let lookup = |arn: &str| self.index.kms.get(arn).and_then(|&i| self.kms_keys.get(i));
        if reference.starts_with("arn:") {
            return lookup(reference);
        }
        let resource = if reference.starts_with("alias/") {
            reference.to_string()
        } else {
            format!("key/{reference}")
        };
        lookup(&format!(
            "arn:{}:kms:{default_region}:{default_account}:{resource}",
            self.partition
        ))
    }

    /// `s3.REGION.amazonaws.com`: the `kms:ViaService` value of the KMS calls S3 makes in
    /// `region` (borrowed from the index for the regions of the World's buckets).
    pub fn s3_service_name(&self, region: &str) -> std::borrow::Cow<'_, str> {
        match self.index.s3_service.get(region) {
            Some(name) => std::borrow::Cow::Borrowed(name.as_str()),
            None => std::borrow::Cow::Owned(s3_service_name(region)),
        }
    }

    pub fn vpc_endpoint(&self, id: &str) -> Option<&VpcEndpoint> {
        self.index
            .vpce
            .get(id)
            .and_then(|&i| self.vpc_endpoints.get(i))
    }

    /// The distributions with at least one origin pointing at `bucket` (REST or website endpoint).
    pub fn distributions_for_bucket(&self, bucket: &str) -> Vec<&Distribution> {
        let Some(cf) = self.cloudfront.known() else {
            return Vec::new();
        };
        self.index
            .distributions
            .get(bucket)
            .map(|ids| {
                ids.iter()
                    .filter_map(|&i| cf.distributions.get(i))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A distribution by id.
    pub fn distribution(&self, id: &str) -> Option<&Distribution> {
        self.cloudfront.known().and_then(|cf| cf.distribution(id))
    }
}

/// `s3.REGION.amazonaws.com`.
fn s3_service_name(region: &str) -> String {
    ["s3.", region, ".amazonaws.com"].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_service_names_are_indexed_by_bucket_region() {
        let mut w = World::new(
            "aws",
            Vec::new(),
            vec![Bucket::new("b", "111122223333", "eu-west-1")],
            Vec::new(),
            Part::Absent,
            Vec::new(),
        )
        .unwrap();
        let name = w.s3_service_name("eu-west-1");
        assert!(matches!(name, std::borrow::Cow::Borrowed(_)));
        assert_eq!(name, "s3.eu-west-1.amazonaws.com");
        // A region the index does not hold (or a stale index) is still answered.
        w.buckets[0].region = "us-west-2".into();
        assert_eq!(w.s3_service_name("us-west-2"), "s3.us-west-2.amazonaws.com");
        w.reindex();
        assert!(matches!(
            w.s3_service_name("us-west-2"),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}

//! The proof of a plan: re-evaluate the target request on the patched World (it must now be
//! allowed), and enumerate every request the World can express to report any that flips from
//! denied to allowed beyond the target (no unintended new access).
//!
//! # The enumeration
//!
//! *Principals*: every IAM user (its ARN) and every role (as its session
//! `arn:P:sts::A:assumed-role/NAME/s3medic`, reported by the role ARN) of every account whose IAM
//! is known, every account root, `anonymous`, and for each CloudFront distribution with an origin
//! on a probed bucket the service principal `cloudfront.amazonaws.com` (with `aws:SourceArn` = the
//! distribution ARN and `aws:SourceAccount` = its account) and the legacy origin access identity
//! of each such origin. Principals are taken from both Worlds (deduplicated).
//!
//! *Buckets* (fully probed): the target request's bucket, the copy source's bucket, every bucket
//! whose data differs between the Worlds (policy, ACLs, ownership, Block Public Access, objects
//! ...), and every bucket owned by an account whose account-level Block Public Access differs.
//! On each: the bucket actions [`BUCKET_ACTIONS`] on the bucket ARN, and the object actions
//! [`OBJECT_ACTIONS`] on every known key plus the fresh key [`FRESH_KEY`].
//!
//! *KMS*: a raw action request can only be an S3 action, and the authorizer adds the KMS
//! authorizations (kms:Decrypt, kms:GenerateDataKey) of a data access itself. So for every KMS key
//! whose data (policy, grants, state) differs, the GetObject and GetObjectVersion of every object
//! encrypted with it (in any bucket), and the PutObject of the fresh key in every bucket whose
//! default encryption uses it, are probed too.
//!
//! *Environment*: every probe is made from where the target is made: the target's VPC endpoint
//! and its network and time condition keys ([`ENVIRONMENT_KEYS`]); nothing that describes the
//! principal, the headers or the operation is carried over.
//!
//! # The target
//!
//! The requests the plan exists to allow, never reported as new access: the target's principal
//! (the same user; the same role, any session; the same account root; the same service principal
//! with the same `aws:SourceArn`) performing one of the authorizations the target request needs
//! (its primary action, the copy source read, and the extra actions its headers require) on that
//! authorization's resource. The KMS use implied by a GetObject or PutObject is part of that
//! probe, so it is excluded with it. The same principal doing anything else (another action, or
//! the same action on another key) is new access.
//!
//! One widening: when the target is `cloudfront.amazonaws.com` acting for a distribution
//! (`aws:SourceArn`), the distribution serves its whole origin, so its primary action (s3:GetObject)
//! on every object under the origin path of each of its origins on the target bucket is the
//! target too (the documented OAC grant is `bucket/ORIGIN_PATH/*`). Other distributions, other
//! actions and other buckets stay new access.
//!
//! # Cost
//!
//! Linear in principals × actions × probed resources. Each probe is decided on the patched World
//! first and on the original World only when allowed there; a probe that no difference between
//! the Worlds can reach (see [`Diff`]) is not evaluated at all: its decision is the same on both.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::eval::caller::Caller;
use crate::eval::Decision;
use crate::plan::{PlanError, PlanOptions};
use crate::policy::{Policy, Statement};
use crate::request::{requirements, PrincipalRef, Request, Target};
use crate::world::{Account, Bucket, KmsKey, Part, SseAlgorithm, World};

/// Bucket-level actions probed on every probed bucket.
pub const BUCKET_ACTIONS: &[&str] = &[
    "s3:ListBucket",
    "s3:ListBucketVersions",
    "s3:GetBucketPolicy",
    "s3:PutBucketPolicy",
    "s3:GetBucketAcl",
    "s3:PutBucketAcl",
];

/// Object-level actions probed on every known key and the fresh key of a probed bucket.
pub const OBJECT_ACTIONS: &[&str] = &[
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:GetObjectAcl",
    "s3:PutObjectAcl",
    "s3:GetObjectVersion",
];

/// A key that no World lists: stands for every object not yet written.
pub const FRESH_KEY: &str = "s3medic-probe/fresh-object";

/// Condition keys of the target request carried over to every probe (where and when the request
/// is made, not who makes it).
pub const ENVIRONMENT_KEYS: &[&str] = &[
    "aws:securetransport",
    "aws:sourceip",
    "aws:vpcsourceip",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:currenttime",
    "aws:epochtime",
    "aws:requestedregion",
];

const READ_ACTIONS: &[&str] = &["s3:GetObject", "s3:GetObjectVersion"];
const WRITE_ACTIONS: &[&str] = &["s3:PutObject"];

/// One request that the plan newly allows, other than the target.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct NewAccess {
    /// The user or role ARN, the account id, `anonymous`, or the service principal name.
    pub principal: String,
    pub action: String,
    /// The bucket or object ARN.
    pub resource: String,
    /// For a service principal: the `aws:SourceArn` it acts for (a CloudFront distribution).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_arn: Option<String>,
}

impl NewAccess {
    /// The (principal, action, resource) of a probe request (a raw-action request).
    pub fn of(request: &Request, partition: &str) -> NewAccess {
        NewAccess {
            principal: principal_display(&request.principal),
            action: request.target.name().to_string(),
            resource: probe_arn(request, partition),
            source_arn: source_arn(request).map(str::to_string),
        }
    }
}

/// The result of re-evaluation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Proof {
    /// The target request's decision on the patched World.
    pub decision_after: Decision,
    /// Whether the target request is allowed after the plan.
    pub target_allowed: bool,
    /// Requests (principal × action × resource) checked before and after: evaluated, or proven
    /// unchanged because no difference between the Worlds reaches them.
    pub requests_checked: usize,
    /// Of those, how many were actually evaluated (on the patched World; on the original one
    /// too when allowed).
    pub requests_evaluated: usize,
    /// Enumerated requests the authorizer could not evaluate (not counted as checked).
    pub requests_skipped: usize,
    /// Requests newly allowed beyond the target, sorted.
    pub new_access: Vec<NewAccess>,
    /// True when `new_access` is empty, or the user accepted it.
    pub accepted: bool,
}

/// Proves (or refutes) a plan.
pub fn prove(
    before: &World,
    after: &World,
    request: &Request,
    opts: &PlanOptions,
) -> Result<Proof, PlanError> {
    let decision_after = crate::eval::authorize(after, request)?.decision;
    let target = TargetSet::new(after, request);
    let diff = Diff::between(before, after);
    let probes = Probes::new(before, after, request, &diff);

    let mut new_access: Vec<NewAccess> = Vec::new();
    let mut checked = 0usize;
    let mut evaluated = 0usize;
    let mut skipped = 0usize;
    probes.for_each(false, |req| {
        let Some(req) = req else {
            checked += 1;
            return;
        };
        evaluated += 1;
        match flips(before, after, req) {
            Some(true) => {
                checked += 1;
                if !target.contains(req) {
                    new_access.push(NewAccess::of(req, &after.partition));
                }
            }
            Some(false) => checked += 1,
            None => skipped += 1,
        }
    });
    new_access.sort_unstable();
    new_access.dedup();
    let accepted = new_access.is_empty() || opts.accept_new_access;
    Ok(Proof {
        decision_after,
        target_allowed: decision_after.is_allowed(),
        requests_checked: checked,
        requests_evaluated: evaluated,
        requests_skipped: skipped,
        new_access,
        accepted,
    })
}

/// Whether `req` is denied on `before` and allowed on `after`; `None` when either World cannot
/// evaluate it. The patched World is asked first: most probes are denied there.
fn flips(before: &World, after: &World, req: &Request) -> Option<bool> {
    let allowed_after = crate::eval::decide(after, req).ok()?.decision.is_allowed();
    if !allowed_after {
        return Some(false);
    }
    let allowed_before = crate::eval::decide(before, req).ok()?.decision.is_allowed();
    Some(!allowed_before)
}

/// Every request the proof enumerates for this plan (the target excluded or not: all of them),
/// in enumeration order. For tests and tools; `prove` does not build this list.
pub fn enumerate_requests(before: &World, after: &World, request: &Request) -> Vec<Request> {
    let diff = Diff::between(before, after);
    let probes = Probes::new(before, after, request, &diff);
    let mut out = Vec::with_capacity(probes.len_hint());
    probes.for_each(true, |r| out.extend(r.cloned()));
    out
}

/// Whether `candidate` (a probe) is one of the requests the plan for `target` exists to allow,
/// in the patched World `after` (see the module documentation).
pub fn is_target(after: &World, target: &Request, candidate: &Request) -> bool {
    TargetSet::new(after, target).contains(candidate)
}

// ---------------------------------------------------------------------------------------------
// The target.

/// The target's principal and the (action, resource) pairs it needs.
struct TargetSet {
    principal: String,
    partition: String,
    pairs: Vec<(String, String)>,
    /// A CloudFront distribution's target: (primary action, object ARN prefix) of every origin
    /// of that distribution on the target bucket.
    origins: Vec<(String, String)>,
}

impl TargetSet {
    fn new(after: &World, request: &Request) -> TargetSet {
        let partition = after.partition.as_str();
        let reqs = requirements(request, partition).unwrap_or_default();
        let mut origins = Vec::new();
        let primary = reqs.first().filter(|r| {
            matches!(r.resource, crate::request::ResourceRef::Object { .. })
                && r.role == crate::request::RequirementRole::Primary
        });
        let cloudfront = matches!(
            &request.principal,
            PrincipalRef::Service { name } if name == "cloudfront.amazonaws.com"
        );
        if let (Some(primary), true, Some(src)) = (primary, cloudfront, source_arn(request)) {
            for d in after.distributions_for_bucket(&request.bucket) {
                if d.arn != src {
                    continue;
                }
                for o in &d.origins {
                    if o.bucket.as_deref() != Some(request.bucket.as_str()) {
                        continue;
                    }
                    let path = o.origin_path.as_deref().unwrap_or("").trim_matches('/');
                    let prefix = if path.is_empty() {
                        format!("arn:{partition}:s3:::{}/", request.bucket)
                    } else {
                        format!("arn:{partition}:s3:::{}/{path}/", request.bucket)
                    };
                    origins.push((primary.action_lower.to_string(), prefix));
                }
            }
        }
        TargetSet {
            principal: principal_key(request),
            partition: partition.to_string(),
            pairs: reqs
                .into_iter()
                .map(|r| (r.action_lower.into_owned(), r.resource_arn))
                .collect(),
            origins,
        }
    }

    fn contains(&self, probe: &Request) -> bool {
        if self.pairs.is_empty() {
            return false;
        }
        if probe.bucket.is_empty() {
            return false;
        }
        let action = probe.target.name();
        let arn = probe_arn(probe, &self.partition);
        let object = probe.key.is_some();
        (self
            .pairs
            .iter()
            .any(|(a, r)| same_data_access(a, action) && *r == arn)
            || self.origins.iter().any(|(a, prefix)| {
                object && a.eq_ignore_ascii_case(action) && arn.starts_with(prefix.as_str())
            }))
            && principal_key(probe) == self.principal
    }
}

/// Whether `probe_action` is the target action `target_lower` or its version variant: reading
/// a version of the very object the target reads is the same data access (a KMS grant, scoped to
/// the object's encryption context, cannot tell them apart).
fn same_data_access(target_lower: &str, probe_action: &str) -> bool {
    const READS: [&str; 2] = ["s3:getobject", "s3:getobjectversion"];
    target_lower.eq_ignore_ascii_case(probe_action)
        || (READS.contains(&target_lower)
            && READS.iter().any(|r| r.eq_ignore_ascii_case(probe_action)))
}

/// Who a request is made by, for "the same principal": a role and all its sessions are one.
fn principal_key(request: &Request) -> String {
    match &request.principal {
        PrincipalRef::Anonymous => "anonymous".to_string(),
        PrincipalRef::Account { account } => format!("account:{account}"),
        PrincipalRef::User { arn, .. } => format!("user:{arn}"),
        PrincipalRef::Role { account, name, .. } => format!("role:{account}:{name}"),
        PrincipalRef::AssumedRole {
            account, role_name, ..
        } => format!("role:{account}:{role_name}"),
        PrincipalRef::FederatedUser { arn, .. } => format!("federated:{arn}"),
        PrincipalRef::Service { name } => match source_arn(request) {
            Some(src) => format!("service:{name}:{src}"),
            None => format!("service:{name}"),
        },
    }
}

fn principal_display(p: &PrincipalRef) -> String {
    match p {
        PrincipalRef::Role { arn, .. } => arn.clone(),
        other => other.to_string(),
    }
}

fn source_arn(request: &Request) -> Option<&str> {
    request
        .context_value("aws:sourcearn")
        .and_then(|v| v.first())
        .map(String::as_str)
}

fn probe_arn(req: &Request, partition: &str) -> String {
    match &req.key {
        Some(k) => format!("arn:{partition}:s3:::{}/{k}", req.bucket),
        None => format!("arn:{partition}:s3:::{}", req.bucket),
    }
}

// ---------------------------------------------------------------------------------------------
// What differs between the Worlds.

/// What differs between two Worlds, in the terms of what an authorization reads: a request by
/// principal P on bucket B reads B (and its owner's account-level Block Public Access and
/// organization), P's IAM data (its user or role, groups and managed policies of its account),
/// the canonical ids of the accounts, the KMS key of the data it touches, the VPC endpoint, and
/// (origin access identities only) CloudFront. A probe none of the differences reaches decides
/// the same on both Worlds. Anything else that differs makes every probe relevant (`global`).
#[derive(Debug, Default)]
struct Diff {
    global: bool,
    /// `user:ACCOUNT:NAME` / `role:ACCOUNT:NAME`.
    principals: HashSet<String>,
    /// Accounts whose IAM as a whole (groups, managed policies, the lists) differs.
    accounts_identity: HashSet<String>,
    /// Accounts whose account-level Block Public Access differs.
    accounts_bpa: HashSet<String>,
    /// Buckets where a difference reaches every request.
    buckets: HashSet<String>,
    /// Buckets whose bucket policy alone differs (same version, same publicness): the
    /// statements that differ; only principals they name are reached.
    bucket_policies: Vec<(String, Vec<Statement>)>,
    /// KMS keys that differ in any way.
    kms_keys: HashSet<String>,
    /// Some KMS key differs beyond its policy statements: every data access may be reached.
    kms_all: bool,
    /// The differing statements of the key policies that differ alone.
    kms_statements: Vec<Statement>,
    cloudfront: bool,
}

/// The statements of `a` not in `b` and of `b` not in `a`; `None` when the policies differ in
/// something else (version, readability) that reaches every statement.
fn statement_diff(b: &Part<Policy>, a: &Part<Policy>) -> Option<Vec<Statement>> {
    let empty: &[Statement] = &[];
    let (bs, as_) = match (b, a) {
        (Part::Known(b), Part::Known(a)) if b.version != a.version => return None,
        (Part::Known(b), Part::Known(a)) => (b.statements.as_slice(), a.statements.as_slice()),
        (Part::Known(b), Part::Absent) => (b.statements.as_slice(), empty),
        (Part::Absent, Part::Known(a)) => (empty, a.statements.as_slice()),
        (Part::Absent, Part::Absent) => (empty, empty),
        _ => return None,
    };
    let mut out: Vec<Statement> = Vec::new();
    for st in as_.iter().filter(|s| !bs.contains(s)) {
        out.push(st.clone());
    }
    for st in bs.iter().filter(|s| !as_.contains(s)) {
        out.push(st.clone());
    }
    Some(out)
}

fn is_public(p: &Part<Policy>) -> bool {
    matches!(p, Part::Known(p) if crate::eval::public::policy_is_public(p))
}

/// `b` and `a` differ only in their bucket policy.
fn only_policy_differs(b: &Bucket, a: &Bucket) -> bool {
    b.name == a.name
        && b.account_id == a.account_id
        && b.region == a.region
        && b.public_access_block == a.public_access_block
        && b.ownership == a.ownership
        && b.acl == a.acl
        && b.encryption == a.encryption
        && b.request_payment == a.request_payment
        && b.website == a.website
        && b.objects == a.objects
        && b.objects_complete == a.objects_complete
}

/// `b` and `a` differ only in their key policy.
fn only_key_policy_differs(b: &KmsKey, a: &KmsKey) -> bool {
    b.key_id == a.key_id
        && b.account_id == a.account_id
        && b.region == a.region
        && b.aws_managed == a.aws_managed
        && b.enabled == a.enabled
        && b.key_state == a.key_state
        && b.aliases == a.aliases
        && b.grants == a.grants
}

impl Diff {
    fn between(before: &World, after: &World) -> Diff {
        let mut d = Diff::default();
        if before.partition != after.partition
            || before.accounts.len() != after.accounts.len()
            || before.buckets.len() != after.buckets.len()
            || before.kms_keys.len() != after.kms_keys.len()
            || before.vpc_endpoints != after.vpc_endpoints
        {
            d.global = true;
            return d;
        }
        d.cloudfront = before.cloudfront != after.cloudfront;
        for a in &after.accounts {
            let Some(b) = before.account(&a.account_id) else {
                d.global = true;
                return d;
            };
            if a.canonical_user_id != b.canonical_user_id || a.organization != b.organization {
                d.global = true;
                return d;
            }
            if a.block_public_access != b.block_public_access {
                d.accounts_bpa.insert(a.account_id.clone());
            }
            d.iam(b, a);
        }
        for (i, a) in after.buckets.iter().enumerate() {
            let b = match before.buckets.get(i) {
                Some(b) if b.name == a.name => Some(b),
                _ => before.bucket(&a.name),
            };
            match b {
                Some(b) if b == a => {}
                Some(b) => {
                    // A policy change reaches only the principals its differing statements
                    // name, unless it changes whether the policy is public (Block Public
                    // Access then discards or keeps every statement's grants to outsiders).
                    let stmts = (only_policy_differs(b, a)
                        && is_public(&b.policy) == is_public(&a.policy))
                    .then(|| statement_diff(&b.policy, &a.policy))
                    .flatten();
                    match stmts {
                        Some(st) => d.bucket_policies.push((a.name.clone(), st)),
                        None => {
                            d.buckets.insert(a.name.clone());
                        }
                    }
                }
                None => {
                    d.global = true;
                    return d;
                }
            }
        }
        for (i, a) in after.kms_keys.iter().enumerate() {
            let b = match before.kms_keys.get(i) {
                Some(b) if b.arn == a.arn => Some(b),
                _ => before.kms_keys.iter().find(|k| k.arn == a.arn),
            };
            match b {
                Some(b) if b == a => {}
                Some(b) => {
                    d.kms_keys.insert(a.arn.clone());
                    let stmts = only_key_policy_differs(b, a)
                        .then(|| statement_diff(&b.policy, &a.policy))
                        .flatten();
                    match stmts {
                        Some(st) => d.kms_statements.extend(st),
                        None => d.kms_all = true,
                    }
                }
                None => {
                    d.global = true;
                    return d;
                }
            }
        }
        d
    }

    fn iam(&mut self, before: &Account, after: &Account) {
        let id = &after.account_id;
        let (b, a) = match (&before.iam, &after.iam) {
            (Part::Known(b), Part::Known(a)) => (b, a),
            (b, a) => {
                if b != a {
                    self.accounts_identity.insert(id.clone());
                }
                return;
            }
        };
        if b.groups != a.groups
            || b.managed_policies != a.managed_policies
            || b.users.len() != a.users.len()
            || b.roles.len() != a.roles.len()
        {
            self.accounts_identity.insert(id.clone());
            return;
        }
        for (i, u) in a.users.iter().enumerate() {
            let old = match b.users.get(i) {
                Some(o) if o.name == u.name => Some(o),
                _ => b.user_by_name(&u.name),
            };
            match old {
                Some(o) if o == u => {}
                Some(_) => {
                    self.principals.insert(format!("user:{id}:{}", u.name));
                }
                None => {
                    self.accounts_identity.insert(id.clone());
                    return;
                }
            }
        }
        for (i, r) in a.roles.iter().enumerate() {
            let old = match b.roles.get(i) {
                Some(o) if o.name == r.name => Some(o),
                _ => b.role_by_name(&r.name),
            };
            match old {
                Some(o) if o == r => {}
                Some(_) => {
                    self.principals.insert(format!("role:{id}:{}", r.name));
                }
                None => {
                    self.accounts_identity.insert(id.clone());
                    return;
                }
            }
        }
    }

    /// Whether a difference reaches requests made by this principal (on any resource).
    fn reaches_principal(&self, p: &PrincipalRef) -> bool {
        match p {
            PrincipalRef::User { account, .. } if account == "cloudfront" => self.cloudfront,
            PrincipalRef::User { account, name, .. } => {
                self.accounts_identity.contains(account)
                    || self.principals.contains(&format!("user:{account}:{name}"))
            }
            PrincipalRef::Role { account, name, .. } => {
                self.accounts_identity.contains(account)
                    || self.principals.contains(&format!("role:{account}:{name}"))
            }
            PrincipalRef::AssumedRole {
                account, role_name, ..
            } => {
                self.accounts_identity.contains(account)
                    || self
                        .principals
                        .contains(&format!("role:{account}:{role_name}"))
            }
            PrincipalRef::Account { account } | PrincipalRef::FederatedUser { account, .. } => {
                self.accounts_identity.contains(account)
            }
            PrincipalRef::Anonymous | PrincipalRef::Service { .. } => false,
        }
    }

    /// Whether a difference reaches every request on this bucket.
    fn reaches_bucket(&self, bucket: &Bucket) -> bool {
        self.buckets.contains(&bucket.name) || self.accounts_bpa.contains(&bucket.account_id)
    }

    /// Whether some difference reaches some request on this bucket (it is probed in full).
    fn touches_bucket(&self, bucket: &Bucket) -> bool {
        self.reaches_bucket(bucket) || self.bucket_policies.iter().any(|(b, _)| *b == bucket.name)
    }
}

// ---------------------------------------------------------------------------------------------
// The probes.

/// One enumerated principal.
struct Principal {
    principal: PrincipalRef,
    /// Extra condition keys (service principals: aws:SourceArn, aws:SourceAccount).
    context: Vec<(String, Vec<String>)>,
    /// Some difference reaches every request it makes.
    reached: bool,
    /// Per `Diff::bucket_policies` entry: a differing statement names this principal.
    named_by_bucket_policy: Vec<bool>,
    /// A differing key policy statement names it (or a key differs beyond its policy).
    reached_by_kms: bool,
}

/// One probed resource and the actions probed on it.
struct Resource {
    bucket: String,
    key: Option<String>,
    actions: &'static [&'static str],
    /// Some difference reaches every request on it.
    reached: bool,
    /// The bucket policy alone differs: index into `Diff::bucket_policies` (and the masks).
    policy: Option<usize>,
}

struct Probes {
    principals: Vec<Principal>,
    resources: Vec<Resource>,
    /// Some KMS key differs: data actions (which use KMS) are reached.
    global: bool,
    vpc_endpoint: Option<String>,
    environment: Vec<(String, Vec<String>)>,
}

impl Probes {
    fn new(before: &World, after: &World, request: &Request, diff: &Diff) -> Probes {
        let resources = resources(before, after, request, diff);
        let buckets: Vec<&str> = {
            let mut seen: Vec<&str> = Vec::new();
            for r in &resources {
                if !seen.contains(&r.bucket.as_str()) {
                    seen.push(&r.bucket);
                }
            }
            seen
        };
        let mut principals = principals(before, after, &buckets, diff);
        name_principals(after, &mut principals, diff);
        let environment = request
            .context
            .iter()
            .filter(|(k, _)| ENVIRONMENT_KEYS.contains(&k.as_str()))
            .cloned()
            .collect();
        Probes {
            principals,
            resources,
            global: diff.global,
            vpc_endpoint: request.vpc_endpoint.clone(),
            environment,
        }
    }

    fn len_hint(&self) -> usize {
        self.principals.len()
            * self
                .resources
                .iter()
                .map(|r| r.actions.len())
                .sum::<usize>()
    }

    /// Calls `f` once per probe: with the request when some difference between the Worlds can
    /// reach it (or `all`), else with `None` (the probe is not built). One scratch request is
    /// reused: no allocation per probe.
    fn for_each(&self, all: bool, mut f: impl FnMut(Option<&Request>)) {
        let mut req = Request {
            principal: PrincipalRef::Anonymous,
            session_policy: None,
            session_tags: Vec::new(),
            target: Target::Action(String::new()),
            bucket: String::new(),
            key: None,
            version_id: None,
            copy_source: None,
            headers: Vec::new(),
            query: Vec::new(),
            vpc_endpoint: self.vpc_endpoint.clone(),
            context: Vec::new(),
            presigned: None,
        };
        for p in &self.principals {
            req.principal = p.principal.clone();
            req.context.clear();
            req.context.extend(self.environment.iter().cloned());
            for (k, v) in &p.context {
                req.context.retain(|(ek, _)| ek != k);
                req.context.push((k.clone(), v.clone()));
            }
            for r in &self.resources {
                let whole = self.global
                    || p.reached
                    || r.reached
                    || r.policy.is_some_and(|j| p.named_by_bucket_policy[j]);
                if !whole && !all && !p.reached_by_kms {
                    // Nothing can reach any of these probes: count them without building them.
                    for _ in r.actions {
                        f(None);
                    }
                    continue;
                }
                if req.bucket != r.bucket {
                    req.bucket.clone_from(&r.bucket);
                }
                req.key.clone_from(&r.key);
                for &action in r.actions {
                    let relevant = whole
                        || (p.reached_by_kms
                            && (READ_ACTIONS.contains(&action) || WRITE_ACTIONS.contains(&action)));
                    if !relevant && !all {
                        f(None);
                        continue;
                    }
                    if let Target::Action(a) = &mut req.target {
                        a.clear();
                        a.push_str(action);
                    }
                    f(Some(&req));
                }
            }
        }
    }
}

/// The probed resources: the fully probed buckets, then the KMS-only probes.
fn resources(before: &World, after: &World, request: &Request, diff: &Diff) -> Vec<Resource> {
    fn add<'w>(after: &'w World, name: &str, full: &mut Vec<&'w str>) {
        if let Some(b) = after.bucket(name) {
            if !full.contains(&b.name.as_str()) {
                full.push(&b.name);
            }
        }
    }
    let mut full: Vec<&str> = Vec::new();
    add(after, &request.bucket, &mut full);
    if let Some(src) = &request.copy_source {
        add(after, &src.bucket, &mut full);
    }
    for b in &after.buckets {
        if diff.global || diff.touches_bucket(b) {
            add(after, &b.name, &mut full);
        }
    }

    let mut out: Vec<Resource> = Vec::new();
    for name in &full {
        let reached = diff.global || after.bucket(name).is_some_and(|b| diff.reaches_bucket(b));
        let policy = diff.bucket_policies.iter().position(|(b, _)| b == name);
        out.push(Resource {
            bucket: name.to_string(),
            key: None,
            actions: BUCKET_ACTIONS,
            reached,
            policy,
        });
        let mut keys: Vec<&str> = Vec::new();
        for w in [after, before] {
            if let Some(b) = w.bucket(name) {
                for o in &b.objects {
                    if o.key != FRESH_KEY && !keys.contains(&o.key.as_str()) {
                        keys.push(&o.key);
                    }
                }
            }
        }
        keys.push(FRESH_KEY);
        for k in keys {
            out.push(Resource {
                bucket: name.to_string(),
                key: Some(k.to_string()),
                actions: OBJECT_ACTIONS,
                reached,
                policy,
            });
        }
    }

    // KMS keys that differ: their data accesses in buckets not probed in full.
    if !diff.kms_keys.is_empty() {
        let changed = |w: &World, b: &Bucket, reference: Option<&str>| -> bool {
            reference
                .and_then(|r| w.kms_key(r, &b.account_id, &b.region))
                .is_some_and(|k| diff.kms_keys.contains(&k.arn))
        };
        for b in &after.buckets {
            if full.contains(&b.name.as_str()) {
                continue;
            }
            for o in &b.objects {
                let Part::Known(head) = &o.head else { continue };
                let kms = matches!(
                    head.sse,
                    Some(SseAlgorithm::AwsKms) | Some(SseAlgorithm::AwsKmsDsse)
                );
                if kms && changed(after, b, head.kms_key_id.as_deref()) {
                    out.push(Resource {
                        bucket: b.name.clone(),
                        key: Some(o.key.clone()),
                        actions: READ_ACTIONS,
                        reached: false,
                        policy: None,
                    });
                }
            }
            if let Part::Known(enc) = &b.encryption {
                if changed(after, b, enc.kms_key_id.as_deref()) {
                    out.push(Resource {
                        bucket: b.name.clone(),
                        key: Some(FRESH_KEY.to_string()),
                        actions: WRITE_ACTIONS,
                        reached: false,
                        policy: None,
                    });
                }
            }
        }
    }
    out
}

/// Marks the principals the differing bucket and key policy statements name (Principal or
/// NotPrincipal covers them; conditions are ignored, so this over-approximates).
fn name_principals(after: &World, principals: &mut [Principal], diff: &Diff) {
    let any_kms = !diff.kms_keys.is_empty();
    if diff.bucket_policies.is_empty() && !any_kms {
        return;
    }
    for p in principals.iter_mut() {
        let req = Request {
            principal: p.principal.clone(),
            session_policy: None,
            session_tags: Vec::new(),
            target: Target::Action(String::new()),
            bucket: String::new(),
            key: None,
            version_id: None,
            copy_source: None,
            headers: Vec::new(),
            query: Vec::new(),
            vpc_endpoint: None,
            context: p.context.clone(),
            presigned: None,
        };
        let caller = Caller::resolve(after, &req);
        let names = |st: &Statement| match &st.principal {
            None => true,
            Some(clause) => caller.principal_clause(clause).is_some(),
        };
        p.named_by_bucket_policy = diff
            .bucket_policies
            .iter()
            .map(|(_, stmts)| stmts.iter().any(names))
            .collect();
        p.reached_by_kms = any_kms && (diff.kms_all || diff.kms_statements.iter().any(names));
    }
}

/// The enumerated principals, from both Worlds, deduplicated.
fn principals(before: &World, after: &World, buckets: &[&str], diff: &Diff) -> Vec<Principal> {
    let mut out: Vec<Principal> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut push = |p: PrincipalRef, context: Vec<(String, Vec<String>)>, out: &mut Vec<_>| {
        let key = match (&p, context.first()) {
            (PrincipalRef::Service { name }, Some((_, v))) => format!("{name}:{v:?}"),
            (p, _) => format!("{p:?}"),
        };
        if seen.insert(key) {
            let reached = diff.reaches_principal(&p);
            out.push(Principal {
                principal: p,
                context,
                reached,
                named_by_bucket_policy: Vec::new(),
                reached_by_kms: false,
            });
        }
    };
    for w in [after, before] {
        let partition = w.partition.as_str();
        for a in &w.accounts {
            let Part::Known(iam) = &a.iam else { continue };
            for u in &iam.users {
                push(
                    PrincipalRef::User {
                        account: a.account_id.clone(),
                        path: u.path.clone(),
                        name: u.name.clone(),
                        arn: u.arn.clone(),
                    },
                    Vec::new(),
                    &mut out,
                );
            }
            for r in &iam.roles {
                let arn = if r.arn.is_empty() {
                    format!("arn:{partition}:iam::{}:role/{}", a.account_id, r.name)
                } else {
                    r.arn.clone()
                };
                push(
                    PrincipalRef::Role {
                        account: a.account_id.clone(),
                        path: r.path.clone(),
                        name: r.name.clone(),
                        arn,
                    },
                    Vec::new(),
                    &mut out,
                );
            }
        }
    }
    for w in [after, before] {
        for a in &w.accounts {
            push(
                PrincipalRef::Account {
                    account: a.account_id.clone(),
                },
                Vec::new(),
                &mut out,
            );
        }
    }
    push(PrincipalRef::Anonymous, Vec::new(), &mut out);
    for w in [after, before] {
        for b in buckets {
            for d in w.distributions_for_bucket(b) {
                push(
                    PrincipalRef::Service {
                        name: "cloudfront.amazonaws.com".to_string(),
                    },
                    vec![
                        ("aws:sourcearn".to_string(), vec![d.arn.clone()]),
                        ("aws:sourceaccount".to_string(), vec![d.account_id.clone()]),
                    ],
                    &mut out,
                );
                for o in &d.origins {
                    if o.bucket.as_deref() != Some(*b) {
                        continue;
                    }
                    if let Some(id) = &o.oai_id {
                        let name = format!("CloudFront Origin Access Identity {id}");
                        let arn = format!("arn:aws:iam::cloudfront:user/{name}");
                        push(
                            PrincipalRef::User {
                                account: "cloudfront".to_string(),
                                path: "/".to_string(),
                                name,
                                arn,
                            },
                            Vec::new(),
                            &mut out,
                        );
                    }
                }
            }
        }
    }
    out
}

//! Property tests of the planner (`s3medic::plan`) on generated small Worlds and requests.
//!
//! Three generators:
//! * the *fixable* generator ([`fixable`]): one or two accounts (111122223333 owns bucket `b`;
//!   444455556666 optional), a user `alice` and a role `app` in each with small inline Allow
//!   policies, an optional bucket policy of Allow statements naming specific principals, an
//!   optional SSE-KMS object under a customer managed key whose key policy may or may not
//!   delegate to the account root, an optional ObjectWriter / BucketOwnerPreferred bucket with a
//!   foreign-owned object, and an optional CloudFront distribution (with or without an origin
//!   access control attached). Requests come from those users and roles (never account roots: a bucket-policy grant to an
//!   account root trusts the whole account, so the new access it reports is inherent) or CloudFront
//!   (`aws:SourceArn` = the distribution). There are no Deny statements, no guardrails, no SCP /
//!   RCP / VPC endpoint / boundary / session policy, no Block Public Access and no anonymous
//!   caller, so every cause of a denial is one the planner fixes with a change. A case is used
//!   only when the request is denied and every cause [`diagnose`] reports is in [`FIXABLE`].
//! * the *guardrail* generator: a fixable case plus a `DenyInsecureTransport` bucket-policy
//!   statement and `aws:SecureTransport=false` on the request.
//! * the *generic* generator of tests/eval_props.rs (copied verbatim into [`generic`]): any
//!   decision, any cause.
//!
//! Properties:
//! 1. `fixable_plans_are_proven_minimal_and_idempotent` (fixable cases, default options):
//!    (a) `plan` succeeds; (b) applying its changes to a copy of the World allows the request,
//!    and `proof.target_allowed`; (c) `proof.new_access` is empty unless the plan is *widening*
//!    (see [`is_widening`]); (d) `plan` on the patched World has no changes and no findings;
//!    (e) every statement the plan adds has a `S3Medic*` Sid and no wildcard Action / Principal,
//!    and every statement it edits in place (only `wrong-arn-level`) only gains Resources;
//!    (f) every change's `before_digest` is the digest of its `before`, and writing each
//!    `before` back restores the original World exactly.
//! 2. `guardrail_deny_is_left_alone`: without `allow_guardrail_change` (whatever the other
//!    options), no change alters the `DenyInsecureTransport` statement, and the plan has a manual
//!    step of playbook `guardrail-deny`.
//! 3. `plan_is_total_on_generic_worlds`: `plan` never panics or errors on the generic Worlds and
//!    requests (any options); on an allowed request it plans nothing.
//!
//! `wrong_arn_level_fix_grants_only_the_target` and `kms_key_policy_fix_grants_only_the_target`
//! are the shrunk counterexamples of property 1 (c), kept as plain tests.
//!
//! The number of cases per property follows `PROPTEST_CASES` (default 256; the fixable and
//! guardrail properties use a quarter of it since every case runs the planner and its proof
//! several times).

use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use serde_json::{json, Value};

use s3medic::diagnose::{diagnose, Cause};
use s3medic::eval::authorize;
use s3medic::plan::target::set_document;
use s3medic::plan::{apply_to_world, digest, plan, Change, Plan, PlanOptions, Risk, Target};
use s3medic::request::Request;
use s3medic::world::World;

const A: &str = "111122223333";
const B: &str = "444455556666";
const CANON_A: &str = "aaaa000000000000000000000000000000000000000000000000000000000001";
const CANON_B: &str = "bbbb000000000000000000000000000000000000000000000000000000000002";
const KEY_ARN: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const DIST_ID: &str = "EDFDVBD6EXAMPLE";
const DIST_ARN: &str = "arn:aws:cloudfront::111122223333:distribution/EDFDVBD6EXAMPLE";
const OTHER_DIST_ARN: &str = "arn:aws:cloudfront::111122223333:distribution/EOTHER0EXAMPLE";
const OAC_ID: &str = "E2QWRUHEXAMPLE";

/// The causes synthesis fixes with changes (the only ones the fixable generator may produce).
const FIXABLE: &[Cause] = &[
    Cause::IdentityMissingAllow,
    Cause::WrongArnLevel,
    Cause::CrossAccountResourceMissing,
    Cause::KmsKeyPolicyMissing,
    Cause::KmsIdentityMissing,
    Cause::CloudfrontOacGrantMissing,
    Cause::CloudfrontNoOac,
    Cause::ObjectOwnedByOtherAccount,
];

/// Playbooks whose fix is widening by design, so the proof may report new access:
/// * `object-owned-by-other-account`: Bucket owner enforced makes the bucket owner own every
///   object, so the owner's account (root, and its principals' identity grants) gains access to
///   objects other accounts wrote — inherent to the AWS-recommended fix (its change is a
///   `bucket_ownership` change, also covered by the target check below).
///
/// A plan is also widening when some change has risk High (a public bucket policy, Block Public
/// Access relaxed). Every other playbook (identity, cross-account and KMS grants, the OAC grant
/// and attachment, the wrong-ARN-level correction) must grant exactly the target.
const WIDENING_PLAYBOOKS: &[&str] = &["object-owned-by-other-account"];

fn is_widening(p: &Plan) -> bool {
    p.changes.iter().any(|c| {
        c.risk == Risk::High
            || matches!(c.target, Target::BucketOwnership { .. })
            || c.playbooks
                .iter()
                .any(|pb| WIDENING_PLAYBOOKS.contains(&pb.as_str()))
    })
}

fn cases(divisor: u32) -> ProptestConfig {
    let base = ProptestConfig::default().cases;
    ProptestConfig::with_cases((base / divisor).max(1))
}

// ---------------------------------------------------------------------------------------------
// The fixable generator.

fn doc(stmts: Vec<Value>) -> Value {
    json!({"Version": "2012-10-17", "Statement": stmts})
}

const ID_ACTIONS: &[&str] = &[
    "s3:GetObject",
    "s3:PutObject",
    "s3:ListBucket",
    "s3:DeleteObject",
    "s3:*",
    "kms:Decrypt",
    "kms:GenerateDataKey",
];

const ID_RESOURCES: &[&str] = &[
    "arn:aws:s3:::b",
    "arn:aws:s3:::b/*",
    "arn:aws:s3:::b/k",
    "*",
];

/// An identity Allow statement (no conditions, no Deny).
fn id_stmt() -> impl Strategy<Value = Value> {
    (
        subsequence(ID_ACTIONS, 1..=2),
        subsequence(ID_RESOURCES, 1..=2),
        any::<bool>(),
    )
        .prop_map(|(a, r, single)| {
            let act = if single && a.len() == 1 {
                json!(a[0])
            } else {
                json!(a)
            };
            let res = if single && r.len() == 1 {
                json!(r[0])
            } else {
                json!(r)
            };
            json!({"Effect": "Allow", "Action": act, "Resource": res})
        })
}

fn id_policies() -> impl Strategy<Value = Vec<Vec<Value>>> {
    prop::collection::vec(prop::collection::vec(id_stmt(), 1..=2), 0..=2)
}

fn inline_list(docs: Vec<Vec<Value>>, prefix: &str) -> Vec<Value> {
    docs.into_iter()
        .enumerate()
        .map(|(i, d)| json!({"PolicyName": format!("{prefix}{i}"), "PolicyDocument": doc(d)}))
        .collect()
}

fn fx_account(id: &'static str) -> impl Strategy<Value = Value> {
    (id_policies(), id_policies()).prop_map(move |(u, r)| {
        json!({
            "account_id": id,
            "canonical_user_id": if id == A { CANON_A } else { CANON_B },
            "iam": {
                "UserDetailList": [{
                    "Path": "/", "UserName": "alice", "UserId": format!("AIDA{id}"),
                    "Arn": format!("arn:aws:iam::{id}:user/alice"), "GroupList": [],
                    "UserPolicyList": inline_list(u, "alice-"), "AttachedManagedPolicies": [], "Tags": []
                }],
                "GroupDetailList": [],
                "RoleDetailList": [{
                    "Path": "/", "RoleName": "app", "RoleId": format!("AROA{id}"),
                    "Arn": format!("arn:aws:iam::{id}:role/app"),
                    "RolePolicyList": inline_list(r, "app-"), "AttachedManagedPolicies": [], "Tags": []
                }],
                "Policies": []
            },
            "block_public_access": null,
            "organization": null
        })
    })
}

/// Named (never public) principals of bucket-policy Allow statements.
fn bp_principals() -> Vec<Value> {
    vec![
        json!({"AWS": A}),
        json!({"AWS": B}),
        json!({"AWS": format!("arn:aws:iam::{B}:root")}),
        json!({"AWS": format!("arn:aws:iam::{A}:user/alice")}),
        json!({"AWS": format!("arn:aws:iam::{B}:user/alice")}),
        json!({"AWS": format!("arn:aws:iam::{A}:role/app")}),
        json!({"AWS": format!("arn:aws:iam::{B}:role/app")}),
    ]
}

const BP_ACTIONS: &[&str] = &[
    "s3:GetObject",
    "s3:PutObject",
    "s3:ListBucket",
    "s3:DeleteObject",
    "s3:*",
];

fn bp_stmt() -> impl Strategy<Value = Value> {
    (
        prop_oneof![
            6 => select(bp_principals()),
            1 => Just(json!({"Service": "cloudfront.amazonaws.com"})),
        ],
        subsequence(BP_ACTIONS, 1..=2),
        subsequence(ID_RESOURCES[..3].to_vec(), 1..=2),
        select(vec![DIST_ARN, OTHER_DIST_ARN]),
    )
        .prop_map(|(p, a, r, dist)| {
            let mut s = json!({"Effect": "Allow", "Principal": p, "Action": a, "Resource": r});
            if s["Principal"].get("Service").is_some() {
                s["Condition"] = json!({"StringEquals": {"AWS:SourceArn": dist}});
            }
            s
        })
}

fn kms_head() -> Value {
    json!({"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KEY_ARN, "BucketKeyEnabled": false})
}

/// Object `k`: (SSE-KMS, foreign-owned ACL).
fn fx_object_k(kms: bool, foreign: Option<bool>) -> Value {
    let head = if kms {
        kms_head()
    } else {
        json!({"ServerSideEncryption": "AES256"})
    };
    let mut o = json!({"key": "k", "head": head});
    if let Some(read_a) = foreign {
        let mut grants = vec![
            json!({"Grantee": {"Type": "CanonicalUser", "ID": CANON_B}, "Permission": "FULL_CONTROL"}),
        ];
        if read_a {
            grants.push(
                json!({"Grantee": {"Type": "CanonicalUser", "ID": CANON_A}, "Permission": "READ"}),
            );
        }
        o["acl"] = json!({"Owner": {"ID": CANON_B}, "Grants": grants});
    }
    o
}

fn key_stmt() -> impl Strategy<Value = Value> {
    (
        select(vec![
            json!({"AWS": format!("arn:aws:iam::{A}:user/alice")}),
            json!({"AWS": format!("arn:aws:iam::{B}:user/alice")}),
            json!({"AWS": format!("arn:aws:iam::{A}:role/app")}),
            json!({"AWS": format!("arn:aws:iam::{B}:root")}),
        ]),
        subsequence(
            vec!["kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt"],
            1..=2,
        ),
    )
        .prop_map(|(p, a)| json!({"Effect": "Allow", "Principal": p, "Action": a, "Resource": "*"}))
}

fn fx_key(root: bool, extra: Vec<Value>) -> Value {
    let mut stmts = Vec::new();
    if root {
        stmts.push(json!({"Sid": "EnableIAM", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{A}:root")}, "Action": "kms:*", "Resource": "*"}));
    }
    stmts.extend(extra);
    json!({
        "metadata": {
            "KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab", "Arn": KEY_ARN, "AWSAccountId": A,
            "KeyManager": "CUSTOMER", "KeyState": "Enabled"
        },
        "aliases": ["alias/data"],
        "policy": doc(stmts),
        "grants": {"Grants": []}
    })
}

fn fx_cloudfront(oac_attached: bool) -> Value {
    json!({
        "distributions": [{
            "Id": DIST_ID, "ARN": DIST_ARN, "Status": "Deployed",
            "DomainName": "d111111abcdef8.cloudfront.net",
            "DistributionConfig": {
                "CallerReference": "site", "Comment": "", "DefaultRootObject": "index.html",
                "Enabled": true,
                "Origins": {"Quantity": 1, "Items": [{
                    "Id": "b-origin", "DomainName": "b.s3.us-east-1.amazonaws.com", "OriginPath": "",
                    "S3OriginConfig": {"OriginAccessIdentity": ""},
                    "OriginAccessControlId": if oac_attached { OAC_ID } else { "" }
                }]}
            }
        }],
        "origin_access_controls": [{
            "Id": OAC_ID,
            "OriginAccessControlConfig": {"Name": "b-oac", "Description": "", "SigningProtocol": "sigv4",
                "SigningBehavior": "always", "OriginAccessControlOriginType": "s3"}
        }],
        "origin_access_identities": []
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FxWho {
    User(&'static str),
    Role(&'static str),
    CloudFront,
}

impl FxWho {
    fn to_json(self) -> Value {
        match self {
            FxWho::User(a) => json!(format!("arn:aws:iam::{a}:user/alice")),
            FxWho::Role(a) => json!(format!("arn:aws:sts::{a}:assumed-role/app/s1")),
            FxWho::CloudFront => json!({"Service": "cloudfront.amazonaws.com"}),
        }
    }
}

const FX_OPS: &[&str] = &[
    "GetObject",
    "HeadObject",
    "PutObject",
    "DeleteObject",
    "ListObjectsV2",
    "CopyObject",
];

/// A fixable-family World and a request (both as JSON).
fn fixable() -> impl Strategy<Value = (Value, Value)> {
    let world_parts = (
        fx_account(A),
        prop::option::weighted(0.6, fx_account(B)),
        prop::option::weighted(0.6, prop::collection::vec(bp_stmt(), 1..=3)),
        // object k: SSE-KMS; foreign-owned (Some(object ACL also grants A READ)); bucket default
        // encryption SSE-KMS.
        (
            prop::bool::weighted(0.4),
            prop::option::weighted(0.3, any::<bool>()),
            prop::bool::weighted(0.3),
        ),
        // ownership controls when no foreign object: None (absent), or a setting.
        prop::option::weighted(
            0.6,
            select(vec![
                "BucketOwnerEnforced",
                "BucketOwnerPreferred",
                "ObjectWriter",
            ]),
        ),
        // a bucket ACL granting account B READ (moved into the policy by ownership fixes).
        prop::bool::weighted(0.15),
        // key: root delegation, extra statements.
        (any::<bool>(), prop::collection::vec(key_stmt(), 0..=2)),
        // CloudFront: None, or Some(OAC attached).
        prop::option::weighted(0.35, any::<bool>()),
    );
    let request_parts = (
        select(vec![
            FxWho::User(A),
            FxWho::Role(A),
            FxWho::User(B),
            FxWho::Role(B),
            FxWho::CloudFront,
        ]),
        select(FX_OPS),
        select(vec!["k", "src", "new"]),
    );
    (world_parts, request_parts).prop_map(
        |(
            (a, b, bp, (kms_k, foreign, default_kms), own, bucket_acl, (root, key_extra), cf),
            (who, op, key),
        )| {
            let has_b = b.is_some();
            // Callers of a missing account B are made callers of A; CloudFront needs the
            // distribution.
            let who = match who {
                FxWho::User(x) if x == B && !has_b => FxWho::User(A),
                FxWho::Role(x) if x == B && !has_b => FxWho::Role(A),
                FxWho::CloudFront if cf.is_none() => FxWho::User(A),
                w => w,
            };
            let ownership = if foreign.is_some() {
                // An object owned by another account exists only where ACLs are enabled.
                match own {
                    Some("BucketOwnerPreferred") => Some("BucketOwnerPreferred"),
                    Some(_) => Some("ObjectWriter"),
                    None => None,
                }
            } else {
                own
            };
            let bucket_acl_value = if bucket_acl && ownership != Some("BucketOwnerEnforced") {
                json!({"Owner": {"ID": CANON_A}, "Grants": [
                    {"Grantee": {"Type": "CanonicalUser", "ID": CANON_A}, "Permission": "FULL_CONTROL"},
                    {"Grantee": {"Type": "CanonicalUser", "ID": CANON_B}, "Permission": "READ"}
                ]})
            } else {
                Value::Null
            };
            let uses_kms = kms_k || default_kms;
            let mut accounts = vec![a];
            accounts.extend(b);
            let bucket = json!({
                "name": "b",
                "account_id": A,
                "region": "us-east-1",
                "policy": bp.map(doc).unwrap_or(Value::Null),
                "public_access_block": null,
                "ownership_controls": ownership
                    .map(|o| json!({"OwnershipControls": {"Rules": [{"ObjectOwnership": o}]}}))
                    .unwrap_or(Value::Null),
                "acl": bucket_acl_value,
                "encryption": if default_kms {
                    json!({"ServerSideEncryptionConfiguration": {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KEY_ARN}, "BucketKeyEnabled": false}]}})
                } else {
                    Value::Null
                },
                "objects": [fx_object_k(kms_k, foreign), {"key": "src", "head": {"ServerSideEncryption": "AES256"}}],
                "objects_complete": false
            });
            let mut world = json!({
                "format_version": 1,
                "partition": "aws",
                "accounts": accounts,
                "buckets": [bucket],
                "kms_keys": if uses_kms { vec![fx_key(root, key_extra)] } else { vec![] },
                "vpc_endpoints": []
            });
            if let Some(oac) = cf {
                world["cloudfront"] = fx_cloudfront(oac);
            }
            let mut r = json!({"principal": who.to_json(), "bucket": "b"});
            if who == FxWho::CloudFront {
                // CloudFront reads objects through its origin.
                r["operation"] = json!(if op == "HeadObject" { "HeadObject" } else { "GetObject" });
                r["key"] = json!(if key == "new" { "k" } else { key });
                r["context"] = json!({"aws:SourceArn": DIST_ARN, "aws:SourceAccount": A});
            } else {
                r["operation"] = json!(op);
                match op {
                    "ListObjectsV2" => {}
                    "PutObject" | "DeleteObject" => r["key"] = json!(key),
                    "CopyObject" => {
                        r["key"] = json!(if key == "src" { "new" } else { key });
                        r["copy_source"] = json!({"bucket": "b", "key": "src"});
                    }
                    // Reads of existing objects only (no missing-key 403).
                    _ => r["key"] = json!(if key == "new" { "k" } else { key }),
                }
            }
            (world, r)
        },
    )
}

// ---------------------------------------------------------------------------------------------
// Helpers.

fn load(world: &Value, request: &Value) -> (World, Request) {
    let w = World::from_value(world)
        .unwrap_or_else(|e| panic!("generated world does not load: {e}\n{world:#}"));
    let r = Request::from_value(request)
        .unwrap_or_else(|e| panic!("generated request does not load: {e}\n{request:#}"));
    (w, r)
}

/// The counterexample, for failure messages.
fn show(world: &Value, request: &Value) -> String {
    format!("world: {world}\nrequest: {request}")
}

/// Whether the case is in scope of property 1: denied, and every cause is fixable.
fn in_scope(w: &World, r: &Request) -> Option<Vec<Cause>> {
    let out = authorize(w, r).expect("authorize");
    if out.decision.is_allowed() {
        return None;
    }
    let causes: Vec<Cause> = diagnose(w, r, &out).iter().map(|f| f.cause).collect();
    (!causes.is_empty() && causes.iter().all(|c| FIXABLE.contains(c))).then_some(causes)
}

fn statements(v: &Value) -> Vec<Value> {
    match v.get("Statement") {
        Some(Value::Array(a)) => a.clone(),
        Some(o @ Value::Object(_)) => vec![o.clone()],
        _ => Vec::new(),
    }
}

fn list(v: Option<&Value>) -> Vec<Value> {
    match v {
        Some(Value::Array(a)) => a.clone(),
        Some(other) => vec![other.clone()],
        None => Vec::new(),
    }
}

fn is_policy_target(t: &Target) -> bool {
    matches!(
        t,
        Target::BucketPolicy { .. }
            | Target::InlinePolicy { .. }
            | Target::ManagedPolicy { .. }
            | Target::KeyPolicy { .. }
    )
}

fn wildcard_principal(p: &Value) -> bool {
    p == &json!("*") || list(p.get("AWS")).iter().any(|a| a == &json!("*"))
}

/// (e): the statements a change adds (after the `before` ones) are s3medic's and exact; the ones
/// it edits in place (wrong-arn-level only) only gain Resources.
fn check_statements(c: &Change) -> Result<(), String> {
    if !is_policy_target(&c.target) {
        return Ok(());
    }
    let before = statements(&c.before);
    let after = statements(&c.after);
    if after.len() < before.len() {
        return Err(format!("change {} removes statements", c.id));
    }
    for (i, (b, a)) in before.iter().zip(&after).enumerate() {
        if a == b {
            continue;
        }
        if !c.playbooks.iter().any(|p| p == "wrong-arn-level") {
            return Err(format!(
                "change {} edits statement #{i} in place (playbooks {:?}): {b} -> {a}",
                c.id, c.playbooks
            ));
        }
        let (mut b2, mut a2) = (b.clone(), a.clone());
        let rb = b2.as_object_mut().and_then(|o| o.remove("Resource"));
        let ra = a2.as_object_mut().and_then(|o| o.remove("Resource"));
        let (rb, ra) = (list(rb.as_ref()), list(ra.as_ref()));
        if b2 != a2 || !rb.iter().all(|r| ra.contains(r)) {
            return Err(format!(
                "change {} edits statement #{i} beyond adding Resources: {b} -> {a}",
                c.id
            ));
        }
    }
    for s in &after[before.len()..] {
        let sid = s.get("Sid").and_then(Value::as_str).unwrap_or("");
        if !sid.starts_with("S3Medic") {
            return Err(format!(
                "change {} adds a statement without an S3Medic Sid: {s}",
                c.id
            ));
        }
        if s.get("Effect") != Some(&json!("Allow")) {
            return Err(format!("change {} adds a non-Allow statement: {s}", c.id));
        }
        if s.get("NotAction").is_some()
            || s.get("NotResource").is_some()
            || s.get("NotPrincipal").is_some()
        {
            return Err(format!("change {} adds a Not* statement: {s}", c.id));
        }
        let actions = list(s.get("Action"));
        if actions.is_empty()
            || actions
                .iter()
                .any(|a| a.as_str().is_none_or(|a| a.contains('*')))
        {
            return Err(format!(
                "change {} adds a wildcard (or missing) Action: {s}",
                c.id
            ));
        }
        if s.get("Principal").is_some_and(wildcard_principal) {
            return Err(format!("change {} adds a `*` Principal: {s}", c.id));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Properties.

proptest! {
    #![proptest_config(cases(4))]

    /// Property 1 (a)–(f), on the fixable generator.
    #[test]
    fn fixable_plans_are_proven_minimal_and_idempotent((world, request) in fixable()) {
        let (w, r) = load(&world, &request);
        let Some(causes) = in_scope(&w, &r) else {
            return Ok(());
        };
        let ctx = show(&world, &request);
        // (a)
        let p = plan(&w, &r, &PlanOptions::default());
        prop_assert!(p.is_ok(), "plan failed: {:?}\n{}", p.err(), ctx);
        let p = p.unwrap();
        prop_assert!(p.has_changes(), "no changes for causes {:?}\n{}", causes, ctx);
        // (b)
        let mut patched = w.clone();
        let applied = apply_to_world(&mut patched, &p.changes);
        prop_assert!(applied.is_ok(), "apply_to_world failed: {:?}\n{}", applied.err(), ctx);
        let after = authorize(&patched, &r).expect("authorize").decision;
        let plan_json = serde_json::to_string_pretty(&p).unwrap_or_default();
        prop_assert!(
            after.is_allowed(),
            "after the plan the request is {}; causes {:?}\nplan:\n{}\n{}",
            after, causes, plan_json, ctx
        );
        prop_assert!(p.proof.target_allowed, "proof.target_allowed is false\n{}", ctx);
        // (c)
        if !is_widening(&p) {
            prop_assert!(
                p.proof.new_access.is_empty(),
                "a non-widening plan opens new access: {:?}\nplan:\n{}\n{}",
                p.proof.new_access, plan_json, ctx
            );
        }
        // (d)
        let again = plan(&patched, &r, &PlanOptions::default());
        prop_assert!(again.is_ok(), "re-plan failed: {:?}\n{}", again.err(), ctx);
        let again = again.unwrap();
        prop_assert!(
            again.changes.is_empty() && again.findings.is_empty(),
            "planning the patched World plans again: {} changes, findings {:?}\n{}",
            again.changes.len(),
            again.findings.iter().map(|f| f.cause).collect::<Vec<_>>(),
            ctx
        );
        // (e) and (f)
        for c in &p.changes {
            let checked = check_statements(c);
            prop_assert!(checked.is_ok(), "{}\nplan:\n{}\n{}", checked.unwrap_err(), plan_json, ctx);
            prop_assert_eq!(&c.before_digest, &digest(&c.before), "change {}", c.id);
            prop_assert_eq!(
                &s3medic::plan::target::document(&w, &c.target),
                &c.before,
                "change {}: `before` is not the World's document", c.id
            );
        }
        let mut restored = patched.clone();
        for c in p.changes.iter().rev() {
            let r = set_document(&mut restored, &c.target, &c.before);
            prop_assert!(r.is_ok(), "writing back `before` of {} failed: {:?}", c.id, r.err());
        }
        prop_assert!(restored == w, "writing every `before` back does not restore the World\nplan:\n{}\n{}", plan_json, ctx);
    }

    /// Property 2: a guardrail deny is never changed without `allow_guardrail_change`, and the
    /// plan tells the caller what to do.
    #[test]
    fn guardrail_deny_is_left_alone(
        (mut world, mut request) in fixable(),
        allow_deny_change in any::<bool>(),
        allow_public in any::<bool>(),
        accept_new_access in any::<bool>(),
    ) {
        let guard = json!({
            "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}
        });
        let policy = &mut world["buckets"][0]["policy"];
        if policy.is_null() {
            *policy = doc(vec![]);
        }
        policy["Statement"].as_array_mut().expect("statements").push(guard.clone());
        let ctx = request.get("context").cloned().unwrap_or_else(|| json!({}));
        let mut ctx = ctx.as_object().cloned().unwrap_or_default();
        ctx.insert("aws:SecureTransport".into(), json!("false"));
        request["context"] = Value::Object(ctx);
        let (w, r) = load(&world, &request);
        let shown = show(&world, &request);
        prop_assert!(!authorize(&w, &r).expect("authorize").decision.is_allowed(), "not denied\n{}", shown);
        let opts = PlanOptions {
            allow_public,
            allow_guardrail_change: false,
            allow_deny_change,
            accept_new_access,
        };
        let p = plan(&w, &r, &opts);
        prop_assert!(p.is_ok(), "plan failed: {:?}\n{}", p.err(), shown);
        let p = p.unwrap();
        let plan_json = serde_json::to_string_pretty(&p).unwrap_or_default();
        let mut patched = w.clone();
        prop_assert!(apply_to_world(&mut patched, &p.changes).is_ok());
        for c in &p.changes {
            if let Target::BucketPolicy { .. } = c.target {
                let kept = statements(&c.after).iter().any(|s| s == &guard);
                prop_assert!(kept, "change {} alters the guardrail\nplan:\n{}\n{}", c.id, plan_json, shown);
            }
        }
        let bp = s3medic::plan::target::document(&patched, &Target::BucketPolicy { bucket: "b".into() });
        prop_assert!(statements(&bp).contains(&guard), "the patched bucket policy lost the guardrail\n{}", shown);
        prop_assert!(
            p.manual_steps.iter().any(|m| m.playbook == "guardrail-deny"),
            "no guardrail-deny manual step: {:?}\n{}", p.manual_steps, shown
        );
        prop_assert!(!p.proof.target_allowed, "allowed with the guardrail in place\nplan:\n{}\n{}", plan_json, shown);
    }
}

proptest! {
    /// Property 3: `plan` is total on the generic Worlds and requests (any decision, any cause,
    /// any options); an allowed request plans nothing; the changes apply and the proof agrees with
    /// re-evaluation.
    #[test]
    fn plan_is_total_on_generic_worlds(
        (world, _) in generic::world(),
        (request, _) in generic::request(generic::any_who()),
        opts in (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()),
    ) {
        let (w, r) = load(&world, &request);
        let opts = PlanOptions {
            allow_public: opts.0,
            allow_guardrail_change: opts.1,
            allow_deny_change: opts.2,
            accept_new_access: opts.3,
        };
        let shown = show(&world, &request);
        let before = authorize(&w, &r).expect("authorize").decision;
        let p = plan(&w, &r, &opts);
        prop_assert!(p.is_ok(), "plan failed: {:?}\n{}", p.err(), shown);
        let p = p.unwrap();
        prop_assert_eq!(p.decision_before, before);
        if before.is_allowed() {
            prop_assert!(p.changes.is_empty() && p.findings.is_empty() && p.manual_steps.is_empty(),
                "an allowed request plans something\n{}", shown);
        }
        let mut patched = w.clone();
        let applied = apply_to_world(&mut patched, &p.changes);
        prop_assert!(applied.is_ok(), "apply_to_world failed: {:?}\n{}", applied.err(), shown);
        let after = authorize(&patched, &r).expect("authorize").decision;
        prop_assert_eq!(p.proof.target_allowed, after.is_allowed(), "{}", shown);
        for c in &p.changes {
            prop_assert_eq!(&c.before_digest, &digest(&c.before));
        }
    }
}

/// A minimal World of account A: `alice` (inline statements `alice_stmts`) and `app` (inline
/// statements `app_stmts`), bucket `b` with objects `k` and `src`, optionally default SSE-KMS
/// under a key whose policy is empty.
fn small_world(alice_stmts: Vec<Value>, app_stmts: Vec<Value>, default_kms: bool) -> Value {
    let mut w = json!({
        "format_version": 1,
        "partition": "aws",
        "accounts": [{
            "account_id": A,
            "canonical_user_id": CANON_A,
            "iam": {
                "UserDetailList": [{"Path": "/", "UserName": "alice", "UserId": "AIDAALICE",
                    "Arn": format!("arn:aws:iam::{A}:user/alice"), "GroupList": [],
                    "UserPolicyList": inline_list(vec![alice_stmts], "alice-"),
                    "AttachedManagedPolicies": []}],
                "GroupDetailList": [],
                "RoleDetailList": [{"Path": "/", "RoleName": "app", "RoleId": "AROAAPP",
                    "Arn": format!("arn:aws:iam::{A}:role/app"),
                    "RolePolicyList": inline_list(vec![app_stmts], "app-"),
                    "AttachedManagedPolicies": []}],
                "Policies": []
            }
        }],
        "buckets": [{
            "name": "b", "account_id": A, "region": "us-east-1",
            "objects": [{"key": "k", "head": {"ServerSideEncryption": "AES256"}},
                        {"key": "src", "head": {"ServerSideEncryption": "AES256"}}],
            "objects_complete": false
        }],
        "kms_keys": [],
        "vpc_endpoints": []
    });
    if default_kms {
        w["buckets"][0]["encryption"] = json!({"ServerSideEncryptionConfiguration": {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KEY_ARN}, "BucketKeyEnabled": false}]}});
        w["kms_keys"] = json!([fx_key(false, vec![])]);
    }
    w
}

fn new_access_of(world: &Value, request: &Value) -> Vec<String> {
    let (w, r) = load(world, request);
    let p = plan(&w, &r, &PlanOptions::default()).expect("plan");
    assert!(
        p.proof.target_allowed,
        "the plan does not allow the request"
    );
    assert!(!is_widening(&p), "the plan is widening");
    p.proof
        .new_access
        .iter()
        .map(|n| format!("{} {} {}", n.principal, n.action, n.resource))
        .collect()
}

/// Shrunk from property 1 (c): the wrong-arn-level fix adds the object ARN to the Resource of
/// the caller's `s3:*` statement, in place, so `alice` gains every object action on `b/k`, not
/// only the s3:GetObject the request needs.
#[test]
fn wrong_arn_level_fix_grants_only_the_target() {
    let world = small_world(
        vec![json!({"Effect": "Allow", "Action": ["s3:*"], "Resource": ["arn:aws:s3:::b"]})],
        vec![],
        false,
    );
    let request = json!({"principal": format!("arn:aws:iam::{A}:user/alice"), "operation": "GetObject", "bucket": "b", "key": "k"});
    let new = new_access_of(&world, &request);
    assert!(new.is_empty(), "new access: {new:#?}");
}

/// Shrunk from property 1 (c): the kms-key-policy-missing fix grants the caller
/// kms:GenerateDataKey on the whole key (only `kms:ViaService`), so `app`, which may already
/// PutObject on `b/*`, can now write every key of the SSE-KMS bucket, not only `k`.
#[test]
fn kms_key_policy_fix_grants_only_the_target() {
    let world = small_world(
        vec![],
        vec![
            json!({"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": ["arn:aws:s3:::b/*"]}),
        ],
        true,
    );
    let request = json!({"principal": format!("arn:aws:sts::{A}:assumed-role/app/s1"), "operation": "PutObject", "bucket": "b", "key": "k"});
    let new = new_access_of(&world, &request);
    assert!(new.is_empty(), "new access: {new:#?}");
}

/// The fixable generator reaches the fixable causes, and in-scope cases are common enough for
/// property 1 to mean something.
#[test]
fn fixable_generator_covers_the_causes() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = fixable();
    let n = 400;
    let mut in_scope_n = 0u32;
    let mut seen = std::collections::BTreeMap::new();
    for _ in 0..n {
        let (world, request) = strategy.new_tree(&mut runner).unwrap().current();
        let (w, r) = load(&world, &request);
        if let Some(causes) = in_scope(&w, &r) {
            in_scope_n += 1;
            for c in causes {
                *seen.entry(c.id()).or_insert(0u32) += 1;
            }
        }
    }
    println!("in scope {in_scope_n} of {n}: {seen:#?}");
    assert!(in_scope_n >= n / 4, "too few in-scope cases: {in_scope_n}");
    for c in FIXABLE {
        assert!(
            seen.contains_key(c.id()),
            "the generator never produces {}",
            c.id()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The generic generator: tests/eval_props.rs, verbatim (Worlds and requests of any shape).

#[allow(dead_code)]
mod generic {
    use proptest::prelude::*;
    use proptest::sample::{select, subsequence};
    use serde_json::{json, Value};

    const A: &str = "111122223333";
    const B: &str = "444455556666";
    const CANON_A: &str = "aaaa000000000000000000000000000000000000000000000000000000000001";
    const CANON_B: &str = "bbbb000000000000000000000000000000000000000000000000000000000002";
    const KEY_ARN: &str =
        "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    const VPCE: &str = "vpce-1111aaaa";

    // ---------------------------------------------------------------------------------------------
    // Pools.

    const ACTIONS: &[&str] = &[
        "s3:GetObject",
        "s3:PutObject",
        "s3:ListBucket",
        "s3:*",
        "s3:Get*",
        "kms:Decrypt",
        "*",
    ];

    const RESOURCES: &[&str] = &[
        "arn:aws:s3:::b",
        "arn:aws:s3:::b/*",
        "arn:aws:s3:::b/k",
        "*",
    ];

    fn principal_pool() -> Vec<Value> {
        vec![
            json!("*"),
            json!({"AWS": "*"}),
            json!({"AWS": A}),
            json!({"AWS": B}),
            json!({"AWS": format!("arn:aws:iam::{A}:root")}),
            json!({"AWS": format!("arn:aws:iam::{B}:root")}),
            json!({"AWS": format!("arn:aws:iam::{A}:user/alice")}),
            json!({"AWS": format!("arn:aws:iam::{B}:user/alice")}),
            json!({"AWS": format!("arn:aws:iam::{A}:role/app")}),
            json!({"AWS": format!("arn:aws:iam::{B}:role/app")}),
            json!({"AWS": [format!("arn:aws:iam::{A}:role/app"), A]}),
            json!({"Service": "cloudfront.amazonaws.com"}),
        ]
    }

    fn condition_pool() -> Vec<Value> {
        vec![
            json!({"Bool": {"aws:SecureTransport": "false"}}),
            json!({"Bool": {"aws:SecureTransport": "true"}}),
            json!({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
            json!({"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
            json!({"StringEquals": {"aws:SourceVpce": VPCE}}),
            json!({"StringNotEquals": {"aws:SourceVpce": VPCE}}),
            json!({"StringLike": {"s3:prefix": ["home/*", ""]}}),
            json!({"Null": {"aws:SourceVpce": "true"}}),
            json!({"Null": {"aws:SourceVpce": "false"}}),
            json!({"BoolIfExists": {"aws:SecureTransport": "false"}}),
            json!({"StringNotEqualsIfExists": {"aws:SourceVpce": VPCE}}),
            json!({"StringEquals": {"aws:PrincipalOrgID": "o-aaaaaaaaaa"}}),
            json!({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/app"}}),
            json!({"StringEquals": {"aws:PrincipalAccount": A}}),
        ]
    }

    // ---------------------------------------------------------------------------------------------
    // Statements.

    #[derive(Debug, Clone)]
    struct Stmt {
        effect: &'static str,
        actions: Vec<&'static str>,
        resources: Vec<&'static str>,
        principal: Value,
        /// `NotPrincipal` instead of `Principal` (Deny statements only).
        not_principal: bool,
        /// `NotAction` instead of `Action`.
        not_action: bool,
        /// `NotResource` instead of `Resource`.
        not_resource: bool,
        condition: Option<Value>,
    }

    /// Whether a statement goes into an identity-style policy (no principal element) or a
    /// resource-style one (bucket, key, endpoint policy; RCPs with `Principal: "*"`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Style {
        Identity,
        Resource,
        Rcp,
    }

    impl Stmt {
        fn to_json(&self, style: Style) -> Value {
            let mut m = serde_json::Map::new();
            m.insert("Effect".into(), json!(self.effect));
            match style {
                Style::Identity => {}
                Style::Rcp => {
                    m.insert("Principal".into(), json!("*"));
                }
                Style::Resource => {
                    let key = if self.not_principal && self.effect == "Deny" {
                        "NotPrincipal"
                    } else {
                        "Principal"
                    };
                    let p = if key == "NotPrincipal" && self.principal == json!("*") {
                        json!({"AWS": format!("arn:aws:iam::{A}:root")})
                    } else {
                        self.principal.clone()
                    };
                    m.insert(key.into(), p);
                }
            }
            let action = if self.not_action {
                "NotAction"
            } else {
                "Action"
            };
            m.insert(action.into(), json!(self.actions));
            let resource = if self.not_resource {
                "NotResource"
            } else {
                "Resource"
            };
            m.insert(resource.into(), json!(self.resources));
            if let Some(c) = &self.condition {
                m.insert("Condition".into(), c.clone());
            }
            Value::Object(m)
        }
    }

    fn stmt_with(effect: impl Strategy<Value = &'static str>) -> impl Strategy<Value = Stmt> {
        (
            effect,
            subsequence(ACTIONS, 1..=2),
            subsequence(RESOURCES, 1..=2),
            select(principal_pool()),
            prop::bool::weighted(0.2),
            prop::bool::weighted(0.1),
            prop::bool::weighted(0.1),
            prop::option::weighted(0.4, select(condition_pool())),
        )
            .prop_map(
                |(
                    effect,
                    actions,
                    resources,
                    principal,
                    not_principal,
                    not_action,
                    not_resource,
                    condition,
                )| {
                    Stmt {
                        effect,
                        actions,
                        resources,
                        principal,
                        not_principal,
                        not_action,
                        not_resource,
                        condition,
                    }
                },
            )
    }

    fn stmt() -> impl Strategy<Value = Stmt> {
        stmt_with(prop_oneof![3 => Just("Allow"), 1 => Just("Deny")])
    }

    fn doc(stmts: Vec<Value>) -> Value {
        json!({"Version": "2012-10-17", "Statement": stmts})
    }

    fn policy(style: Style, n: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = Value> {
        prop::collection::vec(stmt(), n)
            .prop_map(move |v| doc(v.iter().map(|s| s.to_json(style)).collect()))
    }

    fn allow_all(style: Style) -> Value {
        let mut s = json!({"Effect": "Allow", "Action": "*", "Resource": "*"});
        if style != Style::Identity {
            s["Principal"] = json!("*");
        }
        s
    }

    /// A policy that usually starts with a full-access Allow (like FullAWSAccess), then generated
    /// statements.
    fn gate_policy(style: Style) -> impl Strategy<Value = Value> {
        (
            prop::bool::weighted(0.8),
            prop::collection::vec(stmt(), 0..=2),
        )
            .prop_map(move |(full, v)| {
                let mut stmts: Vec<Value> = Vec::new();
                if full {
                    stmts.push(allow_all(style));
                }
                stmts.extend(v.iter().map(|s| s.to_json(style)));
                doc(stmts)
            })
    }

    // ---------------------------------------------------------------------------------------------
    // World.

    fn bpa() -> impl Strategy<Value = Value> {
        (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(a, b, c, d)| {
            json!({"PublicAccessBlockConfiguration": {
                "BlockPublicAcls": a, "IgnorePublicAcls": b, "BlockPublicPolicy": c, "RestrictPublicBuckets": d
            }})
        })
    }

    fn managed(account: &str, name: &str, document: Value) -> Value {
        json!({
            "PolicyName": name,
            "PolicyId": format!("ANPA{}", name.to_ascii_uppercase()),
            "Arn": format!("arn:aws:iam::{account}:policy/{name}"),
            "Path": "/",
            "DefaultVersionId": "v1",
            "PolicyVersionList": [{"Document": document, "VersionId": "v1", "IsDefaultVersion": true}]
        })
    }

    fn inline_list(docs: Vec<Value>, prefix: &str) -> Vec<Value> {
        docs.into_iter()
            .enumerate()
            .map(|(i, d)| json!({"PolicyName": format!("{prefix}{i}"), "PolicyDocument": d}))
            .collect()
    }

    #[derive(Debug, Clone)]
    pub struct Flags {
        /// Effective RestrictPublicBuckets of bucket `b` (bucket or account A setting).
        pub restrict_public_buckets: bool,
    }

    fn account(id: &'static str) -> impl Strategy<Value = Value> {
        let iam = (
            prop::collection::vec(policy(Style::Identity, 1..=3), 0..=2),
            prop::collection::vec(policy(Style::Identity, 1..=3), 0..=2),
            prop::option::weighted(0.3, policy(Style::Identity, 1..=2)),
            prop::option::weighted(0.3, policy(Style::Identity, 1..=2)),
            any::<bool>(),
            any::<bool>(),
        );
        let org = prop::option::weighted(
            0.4,
            (
                select(vec!["o-aaaaaaaaaa", "o-bbbbbbbbbb"]),
                prop::collection::vec(gate_policy(Style::Identity), 0..=3),
                prop::collection::vec(gate_policy(Style::Rcp), 0..=1),
            ),
        );
        (iam, prop::option::weighted(0.3, bpa()), org).prop_map(
            move |((user_inline, role_inline, boundary, role_managed, user_b, role_b), bpa, org)| {
                let boundary_arn = format!("arn:aws:iam::{id}:policy/Boundary");
                let mut policies = Vec::new();
                if let Some(b) = boundary.clone() {
                    policies.push(managed(id, "Boundary", b));
                }
                let mut attached = Vec::new();
                if let Some(m) = role_managed {
                    policies.push(managed(id, "AppManaged", m));
                    attached.push(json!({"PolicyName": "AppManaged", "PolicyArn": format!("arn:aws:iam::{id}:policy/AppManaged")}));
                }
                let mut user = json!({
                    "Path": "/", "UserName": "alice", "UserId": format!("AIDA{id}"),
                    "Arn": format!("arn:aws:iam::{id}:user/alice"),
                    "GroupList": [], "UserPolicyList": inline_list(user_inline, "alice-"),
                    "AttachedManagedPolicies": [], "Tags": []
                });
                let mut role = json!({
                    "Path": "/", "RoleName": "app", "RoleId": format!("AROA{id}"),
                    "Arn": format!("arn:aws:iam::{id}:role/app"),
                    "RolePolicyList": inline_list(role_inline, "app-"),
                    "AttachedManagedPolicies": attached, "Tags": []
                });
                if boundary.is_some() {
                    let pb = json!({"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary_arn});
                    if user_b {
                        user["PermissionsBoundary"] = pb.clone();
                    }
                    if role_b {
                        role["PermissionsBoundary"] = pb;
                    }
                }
                let organization = match org {
                    None => Value::Null,
                    Some((org_id, scps, rcps)) => {
                        let targets = ["r-ab12", "ou-ab12-11111111", id];
                        let level = |i: usize, p: Value, kind: &str| {
                            json!({"target": targets[i.min(2)], "policies": [
                                {"Name": format!("{kind}{i}"), "Id": format!("p-{kind}{i}"), "Content": p}
                            ]})
                        };
                        json!({
                            "id": org_id,
                            "is_management_account": false,
                            "scps": scps.into_iter().enumerate().map(|(i, p)| level(i, p, "scp")).collect::<Vec<_>>(),
                            "rcps": rcps.into_iter().enumerate().map(|(i, p)| level(i, p, "rcp")).collect::<Vec<_>>(),
                        })
                    }
                };
                json!({
                    "account_id": id,
                    "canonical_user_id": if id == A { CANON_A } else { CANON_B },
                    "iam": {
                        "UserDetailList": [user],
                        "GroupDetailList": [],
                        "RoleDetailList": [role],
                        "Policies": policies
                    },
                    "block_public_access": bpa.unwrap_or(Value::Null),
                    "organization": organization
                })
            },
        )
    }

    fn grant_pool() -> Vec<Value> {
        vec![
            json!({"Grantee": {"Type": "CanonicalUser", "ID": CANON_A}, "Permission": "FULL_CONTROL"}),
            json!({"Grantee": {"Type": "CanonicalUser", "ID": CANON_B}, "Permission": "READ"}),
            json!({"Grantee": {"Type": "CanonicalUser", "ID": CANON_B}, "Permission": "WRITE"}),
            json!({"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"}),
            json!({"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"}, "Permission": "READ"}),
        ]
    }

    fn acl(owner: &'static str) -> impl Strategy<Value = Value> {
        subsequence(grant_pool(), 0..=3)
            .prop_map(move |g| json!({"Owner": {"ID": owner}, "Grants": g}))
    }

    fn head() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            Just(json!({"ServerSideEncryption": "AES256"})),
            any::<bool>().prop_map(|bk| json!({"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KEY_ARN, "BucketKeyEnabled": bk})),
            Just(json!({"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "alias/aws/s3"})),
        ]
    }

    fn object(key: &'static str) -> impl Strategy<Value = Value> {
        (
            head(),
            prop::option::weighted(0.3, prop_oneof![acl(CANON_A), acl(CANON_B)]),
        )
            .prop_map(move |(h, a)| json!({"key": key, "head": h, "acl": a.unwrap_or(Value::Null)}))
    }

    fn bucket() -> impl Strategy<Value = Value> {
        (
            prop_oneof![
                6 => policy(Style::Resource, 1..=4),
                3 => Just(Value::Null),
                1 => Just(json!({"unknown": "AccessDenied: needs s3:GetBucketPolicy"})),
            ],
            prop::option::weighted(0.3, bpa()),
            prop::option::weighted(
                0.5,
                select(vec!["BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter"]),
            ),
            prop::option::weighted(0.3, acl(CANON_A)),
            prop::option::weighted(0.3, select(vec!["AES256", "aws:kms"])),
            object("k"),
            object("src"),
            any::<bool>(),
        )
            .prop_map(|(policy, bpa, own, acl, enc, k, src, complete)| {
                json!({
                    "name": "b",
                    "account_id": A,
                    "region": "us-east-1",
                    "policy": policy,
                    "public_access_block": bpa.unwrap_or(Value::Null),
                    "ownership_controls": own.map(|o| json!({"OwnershipControls": {"Rules": [{"ObjectOwnership": o}]}})).unwrap_or(Value::Null),
                    "acl": acl.unwrap_or(Value::Null),
                    "encryption": enc.map(|e| {
                        let mut d = json!({"SSEAlgorithm": e});
                        if e == "aws:kms" {
                            d["KMSMasterKeyID"] = json!(KEY_ARN);
                        }
                        json!({"ServerSideEncryptionConfiguration": {"Rules": [{"ApplyServerSideEncryptionByDefault": d, "BucketKeyEnabled": false}]}})
                    }).unwrap_or(Value::Null),
                    "objects": [k, src],
                    "objects_complete": complete
                })
            })
    }

    fn kms_key() -> impl Strategy<Value = Value> {
        (
            prop::bool::weighted(0.9),
            prop::option::weighted(0.85, (any::<bool>(), policy(Style::Resource, 0..=3))),
            prop::bool::weighted(0.1),
            prop::option::weighted(
                0.3,
                (
                    select(vec![
                        format!("arn:aws:iam::{A}:user/alice"),
                        format!("arn:aws:iam::{B}:user/alice"),
                        format!("arn:aws:iam::{A}:role/app"),
                        format!("arn:aws:sts::{A}:assumed-role/app/s1"),
                    ]),
                    subsequence(vec!["Decrypt", "GenerateDataKey", "Encrypt"], 1..=2),
                ),
            ),
        )
            .prop_map(|(enabled, policy, unknown_policy, grant)| {
                let policy = policy.map(|(root, mut p)| {
                    if root {
                        let st = p["Statement"].as_array_mut().expect("statements");
                        st.insert(
                            0,
                            json!({"Sid": "EnableIAM", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{A}:root")}, "Action": "kms:*", "Resource": "*"}),
                        );
                    }
                    p
                });
                json!({
                    "metadata": {
                        "KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab",
                        "Arn": KEY_ARN,
                        "AWSAccountId": A,
                        "KeyManager": "CUSTOMER",
                        "KeyState": if enabled { "Enabled" } else { "Disabled" }
                    },
                    "aliases": ["alias/data"],
                    "policy": if unknown_policy {
                        json!({"unknown": "AccessDeniedException: kms:GetKeyPolicy"})
                    } else {
                        policy.unwrap_or(Value::Null)
                    },
                    "grants": {"Grants": grant.map(|(grantee, ops)| vec![json!({
                        "KeyId": KEY_ARN, "GrantId": "g-1", "Name": "",
                        "GranteePrincipal": grantee, "Operations": ops
                    })]).unwrap_or_default()}
                })
            })
    }

    fn vpce() -> impl Strategy<Value = Value> {
        prop::option::weighted(0.5, policy(Style::Resource, 1..=2)).prop_map(|p| {
            json!({
                "VpcEndpointId": VPCE, "VpcId": "vpc-1111", "ServiceName": "com.amazonaws.us-east-1.s3",
                "OwnerId": A, "PolicyDocument": p.unwrap_or(Value::Null)
            })
        })
    }

    pub fn world() -> impl Strategy<Value = (Value, Flags)> {
        (
            account(A),
            prop::option::weighted(0.6, account(B)),
            bucket(),
            prop::option::weighted(0.6, kms_key()),
            vpce(),
        )
            .prop_map(|(a, b, bucket, key, vpce)| {
                let rpb = |v: &Value| {
                    v.pointer("/PublicAccessBlockConfiguration/RestrictPublicBuckets")
                        .and_then(Value::as_bool)
                        .unwrap_or(false)
                };
                let flags = Flags {
                    restrict_public_buckets: rpb(&bucket["public_access_block"])
                        || rpb(&a["block_public_access"]),
                };
                let mut accounts = vec![a];
                accounts.extend(b);
                let w = json!({
                    "format_version": 1,
                    "partition": "aws",
                    "accounts": accounts,
                    "buckets": [bucket],
                    "kms_keys": key.into_iter().collect::<Vec<_>>(),
                    "vpc_endpoints": [vpce]
                });
                (w, flags)
            })
    }

    // ---------------------------------------------------------------------------------------------
    // Requests.

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Who {
        User(&'static str),
        Role(&'static str),
        Root(&'static str),
        Anonymous,
        CloudFront,
    }

    impl Who {
        fn to_json(self) -> Value {
            match self {
                Who::User(a) => json!(format!("arn:aws:iam::{a}:user/alice")),
                Who::Role(a) => json!(format!("arn:aws:sts::{a}:assumed-role/app/s1")),
                Who::Root(a) => {
                    if a == A {
                        json!(a)
                    } else {
                        json!(format!("arn:aws:iam::{a}:root"))
                    }
                }
                Who::Anonymous => json!("anonymous"),
                Who::CloudFront => json!({"Service": "cloudfront.amazonaws.com"}),
            }
        }
    }

    pub fn any_who() -> impl Strategy<Value = Who> {
        select(vec![
            Who::User(A),
            Who::User(B),
            Who::Role(A),
            Who::Role(B),
            Who::Root(A),
            Who::Root(B),
            Who::Anonymous,
            Who::CloudFront,
        ])
    }

    fn iam_who() -> impl Strategy<Value = Who> {
        select(vec![Who::User(A), Who::User(B), Who::Role(A), Who::Role(B)])
    }

    const OPS: &[&str] = &[
        "GetObject",
        "PutObject",
        "ListObjectsV2",
        "HeadObject",
        "DeleteObject",
        "CopyObject",
    ];

    pub fn request(who: impl Strategy<Value = Who>) -> impl Strategy<Value = (Value, Who)> {
        (
            who,
            select(OPS),
            select(vec!["k", "src", "home/x", "missing"]),
            prop::option::weighted(0.3, select(vec!["home/", "other/", ""])),
            prop::option::weighted(0.4, select(vec!["true", "false"])),
            prop::option::weighted(0.4, select(vec!["203.0.113.7", "198.51.100.1"])),
            prop::bool::weighted(0.4),
            prop::option::weighted(0.3, policy(Style::Identity, 1..=2)),
            prop::option::weighted(
                0.15,
                select(vec!["public-read", "bucket-owner-full-control", "private"]),
            ),
        )
            .prop_map(
                |(who, op, key, prefix, tls, ip, through_vpce, session, canned)| {
                    let mut r = json!({"principal": who.to_json(), "operation": op, "bucket": "b"});
                    if op == "ListObjectsV2" {
                        if let Some(p) = prefix {
                            r["query"] = json!({"prefix": p});
                        }
                    } else {
                        r["key"] = json!(key);
                    }
                    if op == "CopyObject" {
                        r["copy_source"] = json!({"bucket": "b", "key": "src"});
                    }
                    if matches!(op, "PutObject" | "CopyObject") {
                        if let Some(c) = canned {
                            r["headers"] = json!({"x-amz-acl": c});
                        }
                    }
                    let mut ctx = serde_json::Map::new();
                    if let Some(t) = tls {
                        ctx.insert("aws:SecureTransport".into(), json!(t));
                    }
                    if let Some(ip) = ip {
                        ctx.insert("aws:SourceIp".into(), json!(ip));
                    }
                    if !ctx.is_empty() {
                        r["context"] = Value::Object(ctx);
                    }
                    if through_vpce {
                        r["vpc_endpoint"] = json!(VPCE);
                    }
                    if let (Who::Role(_), Some(s)) = (who, session) {
                        r["session_policy"] = s;
                    }
                    (r, who)
                },
            )
    }
}

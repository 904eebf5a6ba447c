//! Properties of the no-new-access proof (`s3medic::plan::prove`): a plan granting exactly the
//! target reports nothing; a public grant, or a wildcard identity grant, reports every extra
//! request it opens; identical Worlds report nothing; and on random Worlds and random added
//! statements, the report is exactly the set of enumerated requests that flip from denied to
//! allowed, the target excluded (soundness and completeness over the enumeration).

use std::collections::BTreeSet;

use proptest::prelude::*;
use serde_json::{json, Value};

use s3medic::eval::authorize;
use s3medic::plan::prove::{enumerate_requests, is_target, prove, NewAccess, FRESH_KEY};
use s3medic::plan::target::set_document;
use s3medic::plan::{PlanOptions, PrincipalType, Target};
use s3medic::request::Request;
use s3medic::world::World;

const A: &str = "111122223333";
const B: &str = "444455556666";
const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/k1";
const READER: &str = "arn:aws:iam::111122223333:role/reader";

fn doc(statements: Vec<Value>) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn user(account: &str, name: &str) -> Value {
    json!({"Path": "/", "UserName": name, "UserId": format!("AIDA{}", name.to_uppercase()),
           "Arn": format!("arn:aws:iam::{account}:user/{name}"), "GroupList": [],
           "UserPolicyList": [], "AttachedManagedPolicies": []})
}

fn role(account: &str, name: &str) -> Value {
    json!({"Path": "/", "RoleName": name, "RoleId": format!("AROA{}", name.to_uppercase()),
           "Arn": format!("arn:aws:iam::{account}:role/{name}"),
           "AssumeRolePolicyDocument": doc(vec![json!({"Effect": "Allow",
               "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"})]),
           "RolePolicyList": [], "AttachedManagedPolicies": []})
}

/// A world: account A (users, roles), account B (user carol), bucket `b` of A with `objects`
/// (`(key, kms)`), KMS key `k1` of A (root statement only).
fn world_value(users: &[&str], roles: &[&str], objects: &[(&str, bool)]) -> Value {
    world_value_bpa(users, roles, objects, false)
}

/// [`world_value`], with the bucket's Block Public Access (RestrictPublicBuckets and
/// IgnorePublicAcls) on when `bpa`.
fn world_value_bpa(users: &[&str], roles: &[&str], objects: &[(&str, bool)], bpa: bool) -> Value {
    let objects: Vec<Value> = objects
        .iter()
        .map(|(k, kms)| {
            let head = if *kms {
                json!({"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KEY})
            } else {
                json!({"ServerSideEncryption": "AES256"})
            };
            json!({"key": k, "head": head})
        })
        .collect();
    json!({
        "format_version": 1,
        "partition": "aws",
        "accounts": [
            {"account_id": A, "canonical_user_id": "a".repeat(64),
             "iam": {"UserDetailList": users.iter().map(|u| user(A, u)).collect::<Vec<_>>(),
                     "GroupDetailList": [],
                     "RoleDetailList": roles.iter().map(|r| role(A, r)).collect::<Vec<_>>(),
                     "Policies": []}},
            {"account_id": B, "canonical_user_id": "b".repeat(64),
             "iam": {"UserDetailList": [user(B, "carol")], "GroupDetailList": [],
                     "RoleDetailList": [], "Policies": []}},
        ],
        "buckets": [{"name": "b", "account_id": A, "region": "us-east-1", "objects": objects,
                     "public_access_block": if bpa {
                         json!({"PublicAccessBlockConfiguration": {"RestrictPublicBuckets": true,
                                "IgnorePublicAcls": true}})
                     } else {
                         Value::Null
                     }}],
        "kms_keys": [{
            "metadata": {"AWSAccountId": A, "KeyId": "k1", "Arn": KEY, "KeyState": "Enabled",
                         "KeyManager": "CUSTOMER"},
            "policy": doc(vec![json!({"Sid": "Root", "Effect": "Allow",
                "Principal": {"AWS": format!("arn:aws:iam::{A}:root")}, "Action": "kms:*", "Resource": "*"})]),
            "grants": {"Grants": []}}],
    })
}

fn small_world() -> World {
    World::from_value(&world_value(
        &["alice", "bob"],
        &["reader", "writer"],
        &[("data/x.txt", true), ("data/y.txt", false)],
    ))
    .expect("world loads")
}

fn request(principal: &str, op: &str, key: &str) -> Request {
    Request::from_value(
        &json!({"principal": principal, "operation": op, "bucket": "b", "key": key}),
    )
    .expect("request loads")
}

fn target_request() -> Request {
    request(READER, "GetObject", "data/y.txt")
}

fn with_bucket_policy(w: &World, statements: Vec<Value>) -> World {
    let mut w = w.clone();
    set_document(
        &mut w,
        &Target::BucketPolicy { bucket: "b".into() },
        &doc(statements),
    )
    .expect("set bucket policy");
    w
}

fn with_inline(w: &World, principal: PrincipalType, name: &str, statements: Vec<Value>) -> World {
    let mut w = w.clone();
    set_document(
        &mut w,
        &Target::InlinePolicy {
            account: A.into(),
            principal,
            name: name.into(),
            policy_name: "s3medic-grants".into(),
        },
        &doc(statements),
    )
    .expect("set inline policy");
    w
}

fn triple(n: &NewAccess) -> (&str, &str, &str) {
    (&n.principal, &n.action, &n.resource)
}

#[test]
fn exact_target_grant_reports_no_new_access() {
    let before = small_world();
    let req = target_request();
    assert!(!authorize(&before, &req).unwrap().decision.is_allowed());
    let after = with_bucket_policy(
        &before,
        vec![
            json!({"Sid": "S3MedicTarget", "Effect": "Allow", "Principal": {"AWS": READER},
                    "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/data/y.txt"}),
        ],
    );
    let proof = prove(&before, &after, &req, &PlanOptions::default()).unwrap();
    assert!(proof.target_allowed);
    assert!(proof.new_access.is_empty(), "{:?}", proof.new_access);
    assert!(proof.accepted);
    assert!(proof.requests_checked > 0);
    assert_eq!(proof.requests_skipped, 0);
}

#[test]
fn public_read_reports_every_other_reader() {
    let before = small_world();
    let req = target_request();
    let after = with_bucket_policy(
        &before,
        vec![
            json!({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::b/*"}),
        ],
    );
    let proof = prove(&before, &after, &req, &PlanOptions::default()).unwrap();
    assert!(proof.target_allowed);
    assert!(!proof.accepted, "new access must be refused by default");
    let got: BTreeSet<(&str, &str, &str)> = proof.new_access.iter().map(triple).collect();
    let y = "arn:aws:s3:::b/data/y.txt";
    let fresh = format!("arn:aws:s3:::b/{FRESH_KEY}");
    for p in [
        "anonymous",
        "arn:aws:iam::111122223333:user/alice",
        "arn:aws:iam::111122223333:user/bob",
        "arn:aws:iam::111122223333:role/writer",
        "444455556666",
    ] {
        assert!(
            got.contains(&(p, "s3:GetObject", y)),
            "{p} reading y: {got:?}"
        );
        assert!(
            got.contains(&(p, "s3:GetObject", fresh.as_str())),
            "{p} reading a fresh key: {got:?}"
        );
    }
    // Carol (account B) still needs an identity grant of her own: cross-account.
    assert!(!got
        .iter()
        .any(|(p, _, _)| *p == "arn:aws:iam::444455556666:user/carol"));
    // The target's own principal on another key is new access; the target itself is not.
    assert!(got.contains(&(READER, "s3:GetObject", fresh.as_str())));
    assert!(!got.contains(&(READER, "s3:GetObject", y)));
    // Only GetObject was granted.
    assert!(got.iter().all(|(_, a, _)| *a == "s3:GetObject"), "{got:?}");
    // Sorted, no duplicates.
    let mut sorted = proof.new_access.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, proof.new_access);

    let accepting = PlanOptions {
        accept_new_access: true,
        ..PlanOptions::default()
    };
    let proof = prove(&before, &after, &req, &accepting).unwrap();
    assert!(proof.accepted);
    assert!(!proof.new_access.is_empty());
}

#[test]
fn wildcard_identity_grant_reports_extra_actions() {
    let before = small_world();
    let req = target_request();
    let after = with_inline(
        &before,
        PrincipalType::Role,
        "reader",
        vec![json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})],
    );
    let proof = prove(&before, &after, &req, &PlanOptions::default()).unwrap();
    assert!(proof.target_allowed);
    assert!(!proof.accepted);
    let got: BTreeSet<(&str, &str, &str)> = proof.new_access.iter().map(triple).collect();
    assert!(got.iter().all(|(p, _, _)| *p == READER), "{got:?}");
    let y = "arn:aws:s3:::b/data/y.txt";
    for (action, resource) in [
        ("s3:PutObject", y),
        ("s3:DeleteObject", y),
        ("s3:GetObjectAcl", y),
        ("s3:PutObjectAcl", y),
        ("s3:ListBucket", "arn:aws:s3:::b"),
        ("s3:PutBucketPolicy", "arn:aws:s3:::b"),
    ] {
        assert!(
            got.contains(&(READER, action, resource)),
            "{action} on {resource}: {got:?}"
        );
    }
    assert!(!got.contains(&(READER, "s3:GetObject", y)), "the target");
    // Reading a version of the target object is the target's own data access.
    assert!(
        !got.contains(&(READER, "s3:GetObjectVersion", y)),
        "the target's versions"
    );
    // Only the role's requests could change: nothing else was evaluated.
    let per_principal = proof.requests_checked / count_principals(&before);
    assert_eq!(proof.requests_evaluated, per_principal);
}

fn count_principals(w: &World) -> usize {
    let users_roles: usize = w
        .accounts
        .iter()
        .filter_map(|a| a.iam.known())
        .map(|i| i.users.len() + i.roles.len())
        .sum();
    users_roles + w.accounts.len() + 1
}

#[test]
fn identical_worlds_report_nothing() {
    let w = small_world();
    let req = target_request();
    let proof = prove(&w, &w.clone(), &req, &PlanOptions::default()).unwrap();
    assert!(proof.new_access.is_empty());
    assert!(proof.accepted);
    assert!(!proof.target_allowed);
    assert_eq!(proof.requests_evaluated, 0);
    assert_eq!(
        proof.requests_checked,
        enumerate_requests(&w, &w, &req).len()
    );
}

#[test]
fn enumeration_covers_principals_actions_and_keys() {
    let w = small_world();
    let req = target_request();
    let all = enumerate_requests(&w, &w, &req);
    // 4 IAM principals in A, 1 in B, 2 roots, anonymous = 8; 6 bucket actions + 6 object
    // actions × (2 keys + fresh) = 24.
    assert_eq!(all.len(), 8 * 24);
    assert!(all.iter().any(|r| is_target(&w, &req, r)));
    // The target GetObject, and GetObjectVersion of the same object (same data access).
    assert_eq!(all.iter().filter(|r| is_target(&w, &req, r)).count(), 2);
    // A session of the target role counts as the same principal.
    let session = request(
        "arn:aws:sts::111122223333:assumed-role/reader/other-session",
        "GetObject",
        "data/y.txt",
    );
    assert!(all.iter().any(|r| is_target(&w, &session, r)));
}

#[test]
fn key_policy_change_probes_encrypted_objects() {
    // The target reads the SSE-KMS object; the plan grants the object and the key to the role.
    let before = small_world();
    let req = request(READER, "GetObject", "data/x.txt");
    let mut after = with_bucket_policy(
        &before,
        vec![
            json!({"Effect": "Allow", "Principal": {"AWS": READER}, "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::b/data/x.txt"}),
        ],
    );
    // The key policy grants the role kms:Decrypt on any object: only the target object is
    // also granted by the bucket policy, so nothing else opens.
    set_document(
        &mut after,
        &Target::KeyPolicy {
            key_arn: KEY.into(),
        },
        &doc(vec![
            json!({"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{A}:root")},
                   "Action": "kms:*", "Resource": "*"}),
            json!({"Effect": "Allow", "Principal": {"AWS": READER}, "Action": "kms:Decrypt", "Resource": "*"}),
        ]),
    )
    .unwrap();
    let proof = prove(&before, &after, &req, &PlanOptions::default()).unwrap();
    assert!(proof.target_allowed);
    assert!(proof.new_access.is_empty(), "{:?}", proof.new_access);
    check_exact(&before, &after, &req);
}

/// The report equals the set of enumerated requests that flip, the target excluded, each
/// re-evaluated on its own.
fn check_exact(before: &World, after: &World, req: &Request) {
    let proof = prove(before, after, req, &PlanOptions::default()).unwrap();
    let mut expected: BTreeSet<NewAccess> = BTreeSet::new();
    let mut checked = 0;
    for r in enumerate_requests(before, after, req) {
        let (Ok(b), Ok(a)) = (authorize(before, &r), authorize(after, &r)) else {
            continue;
        };
        checked += 1;
        if !b.decision.is_allowed() && a.decision.is_allowed() && !is_target(after, req, &r) {
            expected.insert(NewAccess::of(&r, "aws"));
        }
    }
    let got: BTreeSet<NewAccess> = proof.new_access.iter().cloned().collect();
    assert_eq!(got.len(), proof.new_access.len(), "duplicates");
    let unsound: Vec<_> = got.difference(&expected).collect();
    let missing: Vec<_> = expected.difference(&got).collect();
    assert!(unsound.is_empty(), "reported but not flipping: {unsound:?}");
    assert!(missing.is_empty(), "flipping but not reported: {missing:?}");
    assert_eq!(proof.requests_checked, checked);
    assert_eq!(proof.accepted, proof.new_access.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Random worlds.

const USERS: &[&str] = &["u0", "u1", "u2"];
const ROLES: &[&str] = &["r0", "r1", "r2"];
const KEYS: &[&str] = &["k/a", "k/b", "top"];
const ACTIONS: &[&str] = &[
    "s3:GetObject",
    "s3:PutObject",
    "s3:Get*",
    "s3:*",
    "s3:ListBucket",
    "s3:DeleteObject",
    "s3:PutObjectAcl",
];

#[derive(Debug, Clone)]
enum Added {
    BucketPolicy(Value),
    Identity {
        role: bool,
        index: usize,
        stmt: Value,
    },
    KeyPolicy(Value),
}

fn principal_strategy() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!("*")),
        Just(json!({"AWS": format!("arn:aws:iam::{A}:root")})),
        Just(json!({"AWS": B})),
        (0..USERS.len())
            .prop_map(|i| json!({"AWS": format!("arn:aws:iam::{A}:user/{}", USERS[i])})),
        (0..ROLES.len())
            .prop_map(|i| json!({"AWS": format!("arn:aws:iam::{A}:role/{}", ROLES[i])})),
    ]
}

fn resource_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("arn:aws:s3:::b".to_string()),
        Just("arn:aws:s3:::b/*".to_string()),
        Just("arn:aws:s3:::b/k/*".to_string()),
        Just("*".to_string()),
        (0..KEYS.len()).prop_map(|i| format!("arn:aws:s3:::b/{}", KEYS[i])),
    ]
}

fn added_strategy() -> impl Strategy<Value = Added> {
    let effect = prop_oneof![4 => Just("Allow"), 1 => Just("Deny")];
    let actions = proptest::sample::subsequence(ACTIONS.to_vec(), 1..3);
    prop_oneof![
        (
            effect.clone(),
            principal_strategy(),
            actions.clone(),
            resource_strategy()
        )
            .prop_map(|(e, p, a, r)| Added::BucketPolicy(
                json!({"Effect": e, "Principal": p, "Action": a, "Resource": r})
            )),
        (
            any::<bool>(),
            0..3usize,
            effect,
            actions,
            resource_strategy()
        )
            .prop_map(|(role, index, e, a, r)| Added::Identity {
                role,
                index,
                stmt: json!({"Effect": e, "Action": a, "Resource": r}),
            }),
        principal_strategy().prop_map(|p| Added::KeyPolicy(
            json!({"Effect": "Allow", "Principal": p, "Action": "kms:Decrypt", "Resource": "*"})
        )),
    ]
}

#[derive(Debug, Clone)]
struct Case {
    users: usize,
    roles: usize,
    objects: Vec<(usize, bool)>,
    existing: Option<Value>,
    added: Added,
    requester: (bool, usize),
    target_action: usize,
    target_key: usize,
    bpa: bool,
}

fn case_strategy() -> impl Strategy<Value = Case> {
    (
        1..=USERS.len(),
        1..=ROLES.len(),
        proptest::collection::vec((0..KEYS.len(), any::<bool>()), 0..3),
        proptest::option::of(
            (principal_strategy(), resource_strategy()).prop_map(|(p, r)| {
                json!({"Effect": "Allow", "Principal": p, "Action": "s3:GetObject", "Resource": r})
            }),
        ),
        added_strategy(),
        (any::<bool>(), 0..3usize),
        0..3usize,
        (0..KEYS.len(), any::<bool>()),
    )
        .prop_map(
            |(users, roles, objects, existing, added, requester, target_action, (target_key, bpa))| {
                Case {
                    bpa,
                    users,
                    roles,
                    objects,
                    existing,
                    added,
                    requester,
                    target_action,
                    target_key,
                }
            },
        )
}

fn build(case: &Case) -> (World, World, Request) {
    let mut objects: Vec<(&str, bool)> = Vec::new();
    for (k, kms) in &case.objects {
        if !objects.iter().any(|(o, _)| o == &KEYS[*k]) {
            objects.push((KEYS[*k], *kms));
        }
    }
    let users = &USERS[..case.users];
    let roles = &ROLES[..case.roles];
    let mut before = World::from_value(&world_value_bpa(users, roles, &objects, case.bpa)).unwrap();
    let mut existing: Vec<Value> = Vec::new();
    if let Some(st) = &case.existing {
        existing.push(st.clone());
        before = with_bucket_policy(&before, existing.clone());
    }
    let after = match &case.added {
        Added::BucketPolicy(st) => {
            let mut all = existing.clone();
            all.push(st.clone());
            with_bucket_policy(&before, all)
        }
        Added::Identity { role, index, stmt } => {
            let (kind, name) = if *role {
                (PrincipalType::Role, roles[index % roles.len()])
            } else {
                (PrincipalType::User, users[index % users.len()])
            };
            with_inline(&before, kind, name, vec![stmt.clone()])
        }
        Added::KeyPolicy(st) => {
            let mut w = before.clone();
            set_document(
                &mut w,
                &Target::KeyPolicy {
                    key_arn: KEY.into(),
                },
                &doc(vec![
                    json!({"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{A}:root")},
                           "Action": "kms:*", "Resource": "*"}),
                    st.clone(),
                ]),
            )
            .unwrap();
            w
        }
    };
    let principal = if case.requester.0 {
        format!(
            "arn:aws:iam::{A}:role/{}",
            roles[case.requester.1 % roles.len()]
        )
    } else {
        format!(
            "arn:aws:iam::{A}:user/{}",
            users[case.requester.1 % users.len()]
        )
    };
    let op = ["GetObject", "PutObject", "DeleteObject"][case.target_action];
    let req = request(&principal, op, KEYS[case.target_key]);
    (before, after, req)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn report_is_exactly_the_flipping_requests(case in case_strategy()) {
        let (before, after, req) = build(&case);
        check_exact(&before, &after, &req);
        // Nothing flips from a World to itself.
        let same = prove(&after, &after, &req, &PlanOptions::default()).unwrap();
        prop_assert!(same.new_access.is_empty());
    }
}

#[test]
fn cloudfront_distribution_target_covers_its_origin_only() {
    let mut v = world_value(
        &["alice"],
        &["reader"],
        &[("site/app.js", false), ("private/x", false)],
    );
    let dist = |id: &str, path: &str| {
        json!({"Id": id, "ARN": format!("arn:aws:cloudfront::{A}:distribution/{id}"),
               "DomainName": format!("{}.cloudfront.net", id.to_lowercase()),
               "DistributionConfig": {"DefaultRootObject": "", "Origins": {"Quantity": 1, "Items": [{
                   "Id": "o", "DomainName": "b.s3.us-east-1.amazonaws.com", "OriginPath": path,
                   "OriginAccessControlId": "EOAC", "S3OriginConfig": {"OriginAccessIdentity": ""}}]}}})
    };
    v["cloudfront"] = json!({"distributions": [dist("EONE", "/site"), dist("ETWO", "")],
                             "origin_access_controls": [], "origin_access_identities": []});
    let before = World::from_value(&v).unwrap();
    let one = format!("arn:aws:cloudfront::{A}:distribution/EONE");
    let req = Request::from_value(&json!({
        "principal": {"Service": "cloudfront.amazonaws.com"}, "operation": "GetObject",
        "bucket": "b", "key": "site/app.js",
        "context": {"aws:SourceArn": one, "aws:SourceAccount": A}}))
    .unwrap();
    // Too broad: the whole bucket, to any distribution of the account.
    let after = with_bucket_policy(
        &before,
        vec![
            json!({"Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
                    "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*",
                    "Condition": {"StringEquals": {"AWS:SourceAccount": A}}}),
        ],
    );
    let proof = prove(&before, &after, &req, &PlanOptions::default()).unwrap();
    assert!(proof.target_allowed);
    let got: BTreeSet<(&str, &str, &str, Option<&str>)> = proof
        .new_access
        .iter()
        .map(|n| {
            (
                n.principal.as_str(),
                n.action.as_str(),
                n.resource.as_str(),
                n.source_arn.as_deref(),
            )
        })
        .collect();
    let two = format!("arn:aws:cloudfront::{A}:distribution/ETWO");
    // The target distribution reading outside its origin path is new access ...
    assert!(
        got.contains(&(
            "cloudfront.amazonaws.com",
            "s3:GetObject",
            "arn:aws:s3:::b/private/x",
            Some(one.as_str())
        )),
        "{got:?}"
    );
    // ... inside it is not (its origin serves the whole path) ...
    let fresh_under_site = got
        .iter()
        .any(|(_, _, r, s)| r.starts_with("arn:aws:s3:::b/site/") && *s == Some(one.as_str()));
    assert!(!fresh_under_site, "{got:?}");
    // ... and the other distribution is new access everywhere.
    assert!(
        got.contains(&(
            "cloudfront.amazonaws.com",
            "s3:GetObject",
            "arn:aws:s3:::b/site/app.js",
            Some(two.as_str())
        )),
        "{got:?}"
    );
    check_exact(&before, &after, &req);
}

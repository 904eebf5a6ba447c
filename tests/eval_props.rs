//! Property tests of the authorizer on generated small Worlds and requests.
//!
//! Worlds are generated as JSON values in the docs/formats.md shape (one or two accounts, IAM users
//! and roles with inline / managed policies and boundaries in `get-account-authorization-details`
//! shape, a bucket `b` with optional bucket policy, Block Public Access, Object Ownership, ACLs,
//! SSE-KMS objects, a KMS key with a key policy, SCP / RCP levels, a VPC endpoint). Policies are
//! drawn from small pools of actions, resources, principals and conditions so that statements
//! often apply to the request.
//!
//! Properties:
//! * (a) `authorize` never panics and never errors on generated input;
//! * (b) adding a Deny statement to any policy never turns a non-allowed decision into Allowed;
//! * (c) adding an Allow statement to any policy never turns an Allowed decision into a denied one
//!   (except the one AWS-documented non-monotonic case, see `allow_never_denies`);
//! * (d) a `Deny * on *` in the caller's identity policy yields ExplicitDeny for IAM principals;
//! * (e) the decision JSON has format_version 1, a decision string and, when not allowed, a
//!   deciding layer.
//!
//! The number of cases per property follows proptest's `PROPTEST_CASES` (default 256).

use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{json, Value};

use s3medic::eval::{authorize, Decision, Outcome};
use s3medic::request::Request;
use s3medic::world::{Part, World};

#[path = "common/world_gen.rs"]
mod world_gen;
use world_gen::*;

// ---------------------------------------------------------------------------------------------
// Helpers.

fn load(world: &Value, request: &Value) -> (World, Request) {
    let w = World::from_value(world).unwrap_or_else(|e| {
        panic!("generated world does not load: {e}\n{world:#}");
    });
    let r = Request::from_value(request).unwrap_or_else(|e| {
        panic!("generated request does not load: {e}\n{request:#}");
    });
    (w, r)
}

fn decide(world: &Value, request: &Value) -> Decision {
    let (w, r) = load(world, request);
    let out = authorize(&w, &r).unwrap_or_else(|e| panic!("authorize failed: {e}"));
    out.decision
}

/// Where a statement can be added: a JSON pointer to a `Statement` array (in the world, or in the
/// request for the session policy) and the style statements there take.
#[derive(Debug, Clone)]
struct Slot {
    in_request: bool,
    pointer: String,
    style: Style,
    what: &'static str,
}

fn slots(world: &Value, request: &Value) -> Vec<Slot> {
    let mut out = Vec::new();
    let mut push = |in_request: bool, pointer: String, style: Style, what: &'static str| {
        out.push(Slot {
            in_request,
            pointer,
            style,
            what,
        })
    };
    for (i, a) in world["accounts"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let iam = &a["iam"];
        for (j, u) in iam["UserDetailList"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            for k in 0..u["UserPolicyList"].as_array().map_or(0, Vec::len) {
                push(
                    false,
                    format!("/accounts/{i}/iam/UserDetailList/{j}/UserPolicyList/{k}/PolicyDocument/Statement"),
                    Style::Identity,
                    "user inline policy",
                );
            }
        }
        for (j, r) in iam["RoleDetailList"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            for k in 0..r["RolePolicyList"].as_array().map_or(0, Vec::len) {
                push(
                    false,
                    format!("/accounts/{i}/iam/RoleDetailList/{j}/RolePolicyList/{k}/PolicyDocument/Statement"),
                    Style::Identity,
                    "role inline policy",
                );
            }
        }
        for (j, p) in iam["Policies"].as_array().into_iter().flatten().enumerate() {
            let what = if p["PolicyName"] == "Boundary" {
                "permissions boundary"
            } else {
                "managed policy"
            };
            push(
                false,
                format!("/accounts/{i}/iam/Policies/{j}/PolicyVersionList/0/Document/Statement"),
                Style::Identity,
                what,
            );
        }
        let org = &a["organization"];
        for l in 0..org["scps"].as_array().map_or(0, Vec::len) {
            push(
                false,
                format!("/accounts/{i}/organization/scps/{l}/policies/0/Content/Statement"),
                Style::Identity,
                "SCP level",
            );
        }
        for l in 0..org["rcps"].as_array().map_or(0, Vec::len) {
            push(
                false,
                format!("/accounts/{i}/organization/rcps/{l}/policies/0/Content/Statement"),
                Style::Rcp,
                "RCP level",
            );
        }
    }
    // Bucket and key policies are created when absent (a new policy holding only the statement);
    // an unknown one (could not be read) cannot be edited.
    let unknown = |v: &Value| v.get("unknown").is_some();
    if !unknown(&world["buckets"][0]["policy"]) {
        push(
            false,
            "/buckets/0/policy/Statement".into(),
            Style::Resource,
            "bucket policy",
        );
    }
    if world["kms_keys"]
        .as_array()
        .is_some_and(|k| !k.is_empty() && !unknown(&k[0]["policy"]))
    {
        push(
            false,
            "/kms_keys/0/policy/Statement".into(),
            Style::Resource,
            "key policy",
        );
    }
    if !world["vpc_endpoints"][0]["PolicyDocument"].is_null() {
        push(
            false,
            "/vpc_endpoints/0/PolicyDocument/Statement".into(),
            Style::Resource,
            "VPC endpoint policy",
        );
    }
    if request.get("session_policy").is_some() {
        push(
            true,
            "/session_policy/Statement".into(),
            Style::Identity,
            "session policy",
        );
    }
    out
}

/// Appends `st` at `slot`; creates an absent bucket / key policy.
fn add_statement(world: &mut Value, request: &mut Value, slot: &Slot, st: Value) {
    let root = if slot.in_request { request } else { world };
    let parent_ptr = slot
        .pointer
        .strip_suffix("/Statement")
        .expect("slot ends in /Statement");
    let parent = root
        .pointer_mut(parent_ptr)
        .unwrap_or_else(|| panic!("no {parent_ptr}"));
    if parent.is_null() {
        *parent = doc(vec![]);
    }
    parent["Statement"]
        .as_array_mut()
        .expect("Statement array")
        .push(st);
}

fn bucket_policy_is_public(world: &World) -> bool {
    match &world.bucket("b").expect("bucket b").policy {
        Part::Known(p) => s3medic::eval::public::policy_is_public(p),
        _ => false,
    }
}

fn check_json(out: &Outcome<'_>) -> Result<(), TestCaseError> {
    let v = serde_json::to_value(out).expect("outcome serialises");
    prop_assert_eq!(&v["format_version"], &json!(1));
    let d = v["decision"].as_str();
    prop_assert!(
        matches!(d, Some("allowed" | "implicit_deny" | "explicit_deny")),
        "decision {:?}",
        v["decision"]
    );
    prop_assert_eq!(d, Some(out.decision.as_str()));
    if !out.decision.is_allowed() {
        let layer = v.pointer("/deciding/layer").and_then(Value::as_str);
        prop_assert!(
            layer.is_some_and(|l| !l.is_empty()),
            "a denied decision without a deciding layer: {}",
            v
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Properties.

proptest! {
    /// (a) + (e): authorize never panics or errors, and its JSON has the documented shape.
    #[test]
    fn authorize_total_and_json_shape((world, _) in world(), (request, _) in request(any_who())) {
        let (w, r) = load(&world, &request);
        let out = authorize(&w, &r);
        prop_assert!(out.is_ok(), "authorize errored: {:?}", out.err());
        check_json(&out.unwrap())?;
    }

    /// (b): adding a Deny anywhere never turns a non-allowed decision into Allowed.
    #[test]
    fn deny_never_allows(
        (world, _) in world(),
        (request, _) in request(any_who()),
        st in stmt_with(Just("Deny")),
        at in any::<Index>(),
    ) {
        let before = decide(&world, &request);
        let all = slots(&world, &request);
        if all.is_empty() {
            return Ok(());
        }
        let slot = at.get(&all).clone();
        let (mut w2, mut r2) = (world.clone(), request.clone());
        add_statement(&mut w2, &mut r2, &slot, st.to_json(slot.style));
        let after = decide(&w2, &r2);
        if !before.is_allowed() {
            prop_assert!(
                !after.is_allowed(),
                "adding a Deny to the {} ({}) turned {} into {}",
                slot.what, slot.pointer, before, after
            );
        }
    }

    /// (c): adding an Allow anywhere never turns an Allowed decision into a denied one.
    ///
    /// The one exception is AWS's own: with RestrictPublicBuckets in effect, a bucket policy that
    /// becomes public (by the added Allow) only grants to the bucket owner's account and AWS
    /// services, so grants its *other* statements gave to other accounts (or anonymous) stop
    /// applying (S3 User Guide, "Blocking public access", RestrictPublicBuckets). Such cases are
    /// skipped.
    #[test]
    fn allow_never_denies(
        (world, flags) in world(),
        (request, _) in request(any_who()),
        st in stmt_with(Just("Allow")),
        at in any::<Index>(),
    ) {
        let before = decide(&world, &request);
        let all = slots(&world, &request);
        if all.is_empty() {
            return Ok(());
        }
        let slot = at.get(&all).clone();
        let (mut w2, mut r2) = (world.clone(), request.clone());
        add_statement(&mut w2, &mut r2, &slot, st.to_json(slot.style));
        if flags.restrict_public_buckets && slot.what == "bucket policy" {
            let (w1, _) = load(&world, &request);
            let (w2l, _) = load(&w2, &r2);
            let becomes_public = bucket_policy_is_public(&w2l) && !bucket_policy_is_public(&w1);
            prop_assume!(!becomes_public);
        }
        let after = decide(&w2, &r2);
        if before.is_allowed() {
            prop_assert!(
                after.is_allowed(),
                "adding an Allow to the {} ({}) turned allowed into {}",
                slot.what, slot.pointer, after
            );
        }
    }

    /// (d): `Deny *` on `*` without condition in the caller's identity policy denies explicitly.
    #[test]
    fn identity_deny_all_is_explicit(
        (mut world, _) in world(),
        (request, who) in request(iam_who()),
        new_policy in any::<bool>(),
    ) {
        // The caller must exist: account B is optional.
        let acct = match who {
            Who::User(a) | Who::Role(a) => a,
            _ => unreachable!(),
        };
        let Some(i) = world["accounts"].as_array().unwrap().iter().position(|a| a["account_id"] == acct) else {
            return Ok(());
        };
        let (list_ptr, list_key) = match who {
            Who::User(_) => (format!("/accounts/{i}/iam/UserDetailList/0"), "UserPolicyList"),
            _ => (format!("/accounts/{i}/iam/RoleDetailList/0"), "RolePolicyList"),
        };
        let deny = json!({"Sid": "DenyAll", "Effect": "Deny", "Action": "*", "Resource": "*"});
        let principal = world.pointer_mut(&list_ptr).unwrap();
        let list = principal[list_key].as_array_mut().unwrap();
        if new_policy || list.is_empty() {
            list.push(json!({"PolicyName": "deny-all", "PolicyDocument": doc(vec![deny])}));
        } else {
            list[0]["PolicyDocument"]["Statement"].as_array_mut().unwrap().push(deny);
        }
        let (w, r) = load(&world, &request);
        let out = authorize(&w, &r).expect("authorize");
        prop_assert_eq!(
            out.decision,
            Decision::ExplicitDeny,
            "deciding layer {:?}",
            out.deciding_layer()
        );
        check_json(&out)?;
    }
}

/// The generators reach every decision, and Allowed often enough for (c) to mean something.
#[test]
fn generators_cover_every_decision() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = (world(), request(any_who()));
    let (mut allowed, mut implicit, mut explicit) = (0u32, 0u32, 0u32);
    let mut layers = std::collections::BTreeMap::new();
    let n = 600;
    for _ in 0..n {
        let ((world, _), (request, _)) = strategy.new_tree(&mut runner).unwrap().current();
        let (w, r) = load(&world, &request);
        let out = authorize(&w, &r).expect("authorize");
        match out.decision {
            Decision::Allowed => allowed += 1,
            Decision::ImplicitDeny => implicit += 1,
            Decision::ExplicitDeny => explicit += 1,
        }
        *layers
            .entry(format!("{}/{:?}", out.decision, out.deciding_layer()))
            .or_insert(0u32) += 1;
    }
    println!("allowed {allowed}, implicit_deny {implicit}, explicit_deny {explicit} of {n}");
    println!("{layers:#?}");
    assert!(allowed >= n / 10, "too few allowed cases: {allowed}");
    assert!(implicit >= n / 10, "too few implicit denies: {implicit}");
    assert!(explicit >= n / 20, "too few explicit denies: {explicit}");
}

/// The AWS exception `allow_never_denies` skips: under RestrictPublicBuckets, adding a public
/// Allow to a bucket policy stops its non-public cross-account grant from applying.
#[test]
fn restrict_public_buckets_makes_a_public_allow_non_monotonic() {
    let world = |extra: Option<Value>| {
        let mut stmts = vec![json!({
            "Sid": "PartnerRead", "Effect": "Allow", "Principal": {"AWS": B},
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"
        })];
        stmts.extend(extra);
        json!({
            "format_version": 1,
            "accounts": [
                {"account_id": A},
                {"account_id": B, "iam": {"UserDetailList": [{
                    "UserName": "alice", "Arn": format!("arn:aws:iam::{B}:user/alice"), "Path": "/",
                    "UserPolicyList": [{"PolicyName": "p", "PolicyDocument": doc(vec![
                        json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
                    ])}]
                }], "GroupDetailList": [], "RoleDetailList": [], "Policies": []}}
            ],
            "buckets": [{
                "name": "b", "account_id": A, "region": "us-east-1",
                "policy": doc(stmts),
                "public_access_block": {"PublicAccessBlockConfiguration": {"RestrictPublicBuckets": true}}
            }]
        })
    };
    let request = json!({"principal": format!("arn:aws:iam::{B}:user/alice"), "operation": "GetObject", "bucket": "b", "key": "k"});
    assert_eq!(decide(&world(None), &request), Decision::Allowed);
    let public = json!({"Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::b"});
    assert_eq!(
        decide(&world(Some(public)), &request),
        Decision::ImplicitDeny
    );
}

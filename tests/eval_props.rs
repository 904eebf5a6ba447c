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
use proptest::sample::{select, subsequence, Index};
use serde_json::{json, Value};

use s3medic::eval::{authorize, Decision, Outcome};
use s3medic::request::Request;
use s3medic::world::{Part, World};

const A: &str = "111122223333";
const B: &str = "444455556666";
const CANON_A: &str = "aaaa000000000000000000000000000000000000000000000000000000000001";
const CANON_B: &str = "bbbb000000000000000000000000000000000000000000000000000000000002";
const KEY_ARN: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
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
struct Flags {
    /// Effective RestrictPublicBuckets of bucket `b` (bucket or account A setting).
    restrict_public_buckets: bool,
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
    subsequence(grant_pool(), 0..=3).prop_map(move |g| json!({"Owner": {"ID": owner}, "Grants": g}))
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

fn world() -> impl Strategy<Value = (Value, Flags)> {
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
enum Who {
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

fn any_who() -> impl Strategy<Value = Who> {
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

fn request(who: impl Strategy<Value = Who>) -> impl Strategy<Value = (Value, Who)> {
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

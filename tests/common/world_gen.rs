//! World and request generators shared by the property tests (tests/eval_props.rs,
//! tests/plan_props.rs): small Worlds as JSON in the docs/formats.md shape, statements drawn from
//! pools of actions, resources, principals and conditions, and requests of every principal kind.
#![allow(dead_code)]

use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use serde_json::{json, Value};

pub const A: &str = "111122223333";
pub const B: &str = "444455556666";
pub const CANON_A: &str = "aaaa000000000000000000000000000000000000000000000000000000000001";
pub const CANON_B: &str = "bbbb000000000000000000000000000000000000000000000000000000000002";
pub const KEY_ARN: &str =
    "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
pub const VPCE: &str = "vpce-1111aaaa";

// ---------------------------------------------------------------------------------------------
// Pools.

pub const ACTIONS: &[&str] = &[
    "s3:GetObject",
    "s3:PutObject",
    "s3:ListBucket",
    "s3:*",
    "s3:Get*",
    "kms:Decrypt",
    "*",
];

pub const RESOURCES: &[&str] = &[
    "arn:aws:s3:::b",
    "arn:aws:s3:::b/*",
    "arn:aws:s3:::b/k",
    "*",
];

pub fn principal_pool() -> Vec<Value> {
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

pub fn condition_pool() -> Vec<Value> {
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
pub struct Stmt {
    pub effect: &'static str,
    pub actions: Vec<&'static str>,
    pub resources: Vec<&'static str>,
    pub principal: Value,
    /// `NotPrincipal` instead of `Principal` (Deny statements only).
    pub not_principal: bool,
    /// `NotAction` instead of `Action`.
    pub not_action: bool,
    /// `NotResource` instead of `Resource`.
    pub not_resource: bool,
    pub condition: Option<Value>,
}

/// Whether a statement goes into an identity-style policy (no principal element) or a
/// resource-style one (bucket, key, endpoint policy; RCPs with `Principal: "*"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Identity,
    Resource,
    Rcp,
}

impl Stmt {
    pub fn to_json(&self, style: Style) -> Value {
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

pub fn stmt_with(effect: impl Strategy<Value = &'static str>) -> impl Strategy<Value = Stmt> {
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

pub fn stmt() -> impl Strategy<Value = Stmt> {
    stmt_with(prop_oneof![3 => Just("Allow"), 1 => Just("Deny")])
}

pub fn doc(stmts: Vec<Value>) -> Value {
    json!({"Version": "2012-10-17", "Statement": stmts})
}

pub fn policy(style: Style, n: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = Value> {
    prop::collection::vec(stmt(), n)
        .prop_map(move |v| doc(v.iter().map(|s| s.to_json(style)).collect()))
}

pub fn allow_all(style: Style) -> Value {
    let mut s = json!({"Effect": "Allow", "Action": "*", "Resource": "*"});
    if style != Style::Identity {
        s["Principal"] = json!("*");
    }
    s
}

/// A policy that usually starts with a full-access Allow (like FullAWSAccess), then generated
/// statements.
pub fn gate_policy(style: Style) -> impl Strategy<Value = Value> {
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

pub fn bpa() -> impl Strategy<Value = Value> {
    (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(a, b, c, d)| {
        json!({"PublicAccessBlockConfiguration": {
            "BlockPublicAcls": a, "IgnorePublicAcls": b, "BlockPublicPolicy": c, "RestrictPublicBuckets": d
        }})
    })
}

pub fn managed(account: &str, name: &str, document: Value) -> Value {
    json!({
        "PolicyName": name,
        "PolicyId": format!("ANPA{}", name.to_ascii_uppercase()),
        "Arn": format!("arn:aws:iam::{account}:policy/{name}"),
        "Path": "/",
        "DefaultVersionId": "v1",
        "PolicyVersionList": [{"Document": document, "VersionId": "v1", "IsDefaultVersion": true}]
    })
}

pub fn inline_list(docs: Vec<Value>, prefix: &str) -> Vec<Value> {
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

pub fn account(id: &'static str) -> impl Strategy<Value = Value> {
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

pub fn grant_pool() -> Vec<Value> {
    vec![
        json!({"Grantee": {"Type": "CanonicalUser", "ID": CANON_A}, "Permission": "FULL_CONTROL"}),
        json!({"Grantee": {"Type": "CanonicalUser", "ID": CANON_B}, "Permission": "READ"}),
        json!({"Grantee": {"Type": "CanonicalUser", "ID": CANON_B}, "Permission": "WRITE"}),
        json!({"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"}),
        json!({"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"}, "Permission": "READ"}),
    ]
}

pub fn acl(owner: &'static str) -> impl Strategy<Value = Value> {
    subsequence(grant_pool(), 0..=3).prop_map(move |g| json!({"Owner": {"ID": owner}, "Grants": g}))
}

pub fn head() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        Just(json!({"ServerSideEncryption": "AES256"})),
        any::<bool>().prop_map(|bk| json!({"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KEY_ARN, "BucketKeyEnabled": bk})),
        Just(json!({"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "alias/aws/s3"})),
    ]
}

pub fn object(key: &'static str) -> impl Strategy<Value = Value> {
    (
        head(),
        prop::option::weighted(0.3, prop_oneof![acl(CANON_A), acl(CANON_B)]),
    )
        .prop_map(move |(h, a)| json!({"key": key, "head": h, "acl": a.unwrap_or(Value::Null)}))
}

pub fn bucket() -> impl Strategy<Value = Value> {
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

pub fn kms_key() -> impl Strategy<Value = Value> {
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

pub fn vpce() -> impl Strategy<Value = Value> {
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
    pub fn to_json(self) -> Value {
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

pub fn iam_who() -> impl Strategy<Value = Who> {
    select(vec![Who::User(A), Who::User(B), Who::Role(A), Who::Role(B)])
}

pub const OPS: &[&str] = &[
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

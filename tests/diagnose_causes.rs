//! Diagnosis, cause by cause, on small hand-built worlds: for every Cause diagnose can produce, a
//! scenario where it must appear (with the right layer, authorization and evidence) and a
//! look-alike where it must not.

use s3medic::diagnose::{diagnose, Cause, Evidence, Finding};
use s3medic::eval::{authorize, Layer};
use s3medic::request::Request;
use s3medic::world::World;
use serde_json::{json, Value};

const A: &str = "111122223333";
const B: &str = "444455556666";
const CANON_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const CANON_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const DIST: &str = "arn:aws:cloudfront::111122223333:distribution/EDIST1";

/// A World under construction: accounts A and B (empty IAM), bucket `b` of A in us-east-1.
struct W(Value);

fn doc(stmts: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": stmts})
}

impl W {
    fn new() -> W {
        W(json!({
            "format_version": 1,
            "accounts": [
                {"account_id": A, "canonical_user_id": CANON_A,
                 "iam": {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": []}},
                {"account_id": B, "canonical_user_id": CANON_B,
                 "iam": {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": []}}
            ],
            "buckets": [{"name": "b", "account_id": A, "region": "us-east-1", "objects": [], "objects_complete": false}],
            "kms_keys": [],
            "vpc_endpoints": []
        }))
    }

    fn account(&mut self, id: &str) -> &mut Value {
        self.0["accounts"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|a| a["account_id"] == id)
            .unwrap()
    }

    fn bucket(&mut self) -> &mut Value {
        &mut self.0["buckets"][0]
    }

    /// A user with one inline policy (and optionally a boundary with `boundary` statements).
    fn user(mut self, acct: &str, name: &str, stmts: Value, boundary: Option<Value>) -> W {
        let mut u = json!({
            "Path": "/", "UserName": name, "UserId": format!("AIDA{}", name.to_uppercase()),
            "Arn": format!("arn:aws:iam::{acct}:user/{name}"),
            "UserPolicyList": [{"PolicyName": "p", "PolicyDocument": doc(stmts)}],
            "GroupList": [], "AttachedManagedPolicies": [], "Tags": []
        });
        if let Some(bs) = boundary {
            let arn = format!("arn:aws:iam::{acct}:policy/Boundary-{name}");
            u["PermissionsBoundary"] =
                json!({"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": arn});
            self.account(acct)["iam"]["Policies"]
                .as_array_mut()
                .unwrap()
                .push(json!({
                    "PolicyName": format!("Boundary-{name}"), "Arn": arn, "DefaultVersionId": "v1",
                    "PolicyVersionList": [{"Document": doc(bs), "VersionId": "v1", "IsDefaultVersion": true}]
                }));
        }
        self.account(acct)["iam"]["UserDetailList"]
            .as_array_mut()
            .unwrap()
            .push(u);
        self
    }

    fn role(mut self, acct: &str, name: &str, stmts: Value) -> W {
        let r = json!({
            "Path": "/", "RoleName": name, "RoleId": format!("AROA{}", name.to_uppercase()),
            "Arn": format!("arn:aws:iam::{acct}:role/{name}"),
            "AssumeRolePolicyDocument": doc(json!([{"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{acct}:root")}, "Action": "sts:AssumeRole"}])),
            "RolePolicyList": [{"PolicyName": "p", "PolicyDocument": doc(stmts)}],
            "AttachedManagedPolicies": [], "Tags": []
        });
        self.account(acct)["iam"]["RoleDetailList"]
            .as_array_mut()
            .unwrap()
            .push(r);
        self
    }

    fn bucket_policy(mut self, stmts: Value) -> W {
        self.bucket()["policy"] = doc(stmts);
        self
    }

    fn bucket_set(mut self, k: &str, v: Value) -> W {
        self.bucket()[k] = v;
        self
    }

    fn object(mut self, o: Value) -> W {
        self.bucket()["objects"].as_array_mut().unwrap().push(o);
        self
    }

    fn account_set(mut self, acct: &str, k: &str, v: Value) -> W {
        self.account(acct)[k] = v;
        self
    }

    fn set(mut self, k: &str, v: Value) -> W {
        self.0[k] = v;
        self
    }

    fn key(mut self, enabled: bool, manager: &str, policy: Value) -> W {
        self.0["kms_keys"].as_array_mut().unwrap().push(json!({
            "metadata": {"KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab", "Arn": KEY, "AWSAccountId": A,
                         "KeyManager": manager, "Enabled": enabled,
                         "KeyState": if enabled { "Enabled" } else { "Disabled" }},
            "aliases": [],
            "policy": doc(policy),
            "grants": {"Grants": []}
        }));
        self
    }

    fn build(self) -> World {
        World::from_value(&self.0).expect("world")
    }
}

fn get_object(principal: &str) -> Value {
    json!({"principal": principal, "operation": "GetObject", "bucket": "b", "key": "data/x.csv"})
}

fn user_arn(acct: &str, name: &str) -> String {
    format!("arn:aws:iam::{acct}:user/{name}")
}

/// (decision, findings) of `req` in `world`.
fn run(world: &World, req: Value) -> (String, Vec<Finding>) {
    let request = Request::from_value(&req).expect("request");
    let outcome = authorize(world, &request).expect("authorize");
    let f = diagnose(world, &request, &outcome);
    (outcome.decision.as_str().to_string(), f)
}

fn causes(f: &[Finding]) -> Vec<Cause> {
    f.iter().map(|x| x.cause).collect()
}

fn has(f: &[Finding], c: Cause) -> bool {
    f.iter().any(|x| x.cause == c)
}

fn find(f: &[Finding], c: Cause) -> &Finding {
    f.iter()
        .find(|x| x.cause == c)
        .unwrap_or_else(|| panic!("no {c:?} in {:?}", causes(f)))
}

fn statement_sids(f: &Finding) -> Vec<String> {
    f.evidence
        .iter()
        .filter_map(|e| match e {
            Evidence::Statement { sid, .. } => sid.clone(),
            _ => None,
        })
        .collect()
}

fn allow(sid: &str, action: &str, resource: Value) -> Value {
    json!({"Sid": sid, "Effect": "Allow", "Action": action, "Resource": resource})
}

// ---------------------------------------------------------------- identity side

#[test]
fn identity_missing_allow_same_account() {
    let w = W::new()
        .user(
            A,
            "alice",
            json!([allow("Other", "s3:PutObject", json!("arn:aws:s3:::b/*"))]),
            None,
        )
        .build();
    let (d, f) = run(&w, get_object(&user_arn(A, "alice")));
    assert_eq!(d, "implicit_deny");
    assert_eq!(causes(&f), vec![Cause::IdentityMissingAllow]);
    let x = &f[0];
    assert_eq!(x.layer, Layer::Identity);
    assert_eq!(x.authorization, 0);
    assert_eq!(x.action, "s3:GetObject");
    assert_eq!(x.resource, "arn:aws:s3:::b/data/x.csv");
    assert!(x
        .explanation
        .contains("arn:aws:iam::111122223333:user/alice"));
    assert!(x.evidence.iter().any(|e| matches!(e, Evidence::Missing { looked_in, .. } if looked_in.contains("identity policies of arn:aws:iam::111122223333:user/alice"))));
}

#[test]
fn identity_missing_allow_not_when_bucket_policy_grants_user() {
    let w = W::new()
        .user(A, "alice", json!([allow("Other", "s3:PutObject", json!("arn:aws:s3:::b/*"))]), None)
        .bucket_policy(json!([{"Sid": "U", "Effect": "Allow", "Principal": {"AWS": user_arn(A, "alice")}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]))
        .build();
    let (d, f) = run(&w, get_object(&user_arn(A, "alice")));
    assert_eq!(d, "allowed");
    assert!(f.is_empty());
}

#[test]
fn wrong_arn_level_listbucket_on_objects() {
    let w = W::new()
        .user(
            A,
            "alice",
            json!([allow(
                "ListOnObjects",
                "s3:ListBucket",
                json!("arn:aws:s3:::b/*")
            )]),
            None,
        )
        .build();
    let (d, f) = run(
        &w,
        json!({"principal": user_arn(A, "alice"), "operation": "ListObjectsV2", "bucket": "b"}),
    );
    assert_eq!(d, "implicit_deny");
    assert_eq!(causes(&f), vec![Cause::WrongArnLevel]);
    assert!(!has(&f, Cause::IdentityMissingAllow));
    let x = &f[0];
    assert_eq!(x.layer, Layer::Identity);
    match &x.evidence[0] {
        Evidence::Statement {
            policy,
            sid,
            index,
            detail,
            ..
        } => {
            assert_eq!(
                policy,
                "identity:arn:aws:iam::111122223333:user/alice/inline/p"
            );
            assert_eq!(sid.as_deref(), Some("ListOnObjects"));
            assert_eq!(*index, 0);
            assert!(detail.contains("wrong resource level"), "{detail}");
            assert!(detail.contains("arn:aws:s3:::b/*"), "{detail}");
        }
        e => panic!("unexpected evidence {e:?}"),
    }
}

#[test]
fn wrong_arn_level_object_action_on_bucket_arn() {
    let w = W::new()
        .user(
            A,
            "alice",
            json!([allow(
                "GetOnBucket",
                "s3:GetObject",
                json!("arn:aws:s3:::b")
            )]),
            None,
        )
        .build();
    let (_, f) = run(&w, get_object(&user_arn(A, "alice")));
    assert_eq!(causes(&f), vec![Cause::WrongArnLevel]);
    assert_eq!(statement_sids(&f[0]), vec!["GetOnBucket"]);
}

#[test]
fn wrong_arn_level_not_for_another_bucket() {
    let w = W::new()
        .user(
            A,
            "alice",
            json!([allow(
                "OtherBucket",
                "s3:ListBucket",
                json!("arn:aws:s3:::other/*")
            )]),
            None,
        )
        .build();
    let (_, f) = run(
        &w,
        json!({"principal": user_arn(A, "alice"), "operation": "ListObjectsV2", "bucket": "b"}),
    );
    assert_eq!(causes(&f), vec![Cause::IdentityMissingAllow]);
}

#[test]
fn cross_account_both_sides_missing_gives_two_findings() {
    let w = W::new().user(B, "carol", json!([]), None).build();
    let (d, f) = run(&w, get_object(&user_arn(B, "carol")));
    assert_eq!(d, "implicit_deny");
    assert_eq!(
        causes(&f),
        vec![
            Cause::CrossAccountResourceMissing,
            Cause::IdentityMissingAllow
        ]
    );
    assert_eq!(f[0].layer, Layer::ResourcePolicy);
    assert_eq!(f[1].layer, Layer::Identity);
    assert!(f[0].explanation.contains("bucket policy of `b`"));
    assert!(f[0].explanation.contains("cross-account"));
    assert!(f[0].evidence.iter().any(
        |e| matches!(e, Evidence::Missing { looked_in, .. } if looked_in == "bucket policy of `b`")
    ));
}

#[test]
fn cross_account_with_bucket_grant_only_identity_missing() {
    let w = W::new()
        .user(B, "carol", json!([]), None)
        .bucket_policy(json!([{"Sid": "X", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{B}:root")}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]))
        .build();
    let (_, f) = run(&w, get_object(&user_arn(B, "carol")));
    assert_eq!(causes(&f), vec![Cause::IdentityMissingAllow]);
    assert!(f[0].explanation.contains("cross-account"));
}

#[test]
fn cross_account_identity_ok_only_resource_missing() {
    let w = W::new()
        .user(
            B,
            "carol",
            json!([allow("Read", "s3:GetObject", json!("arn:aws:s3:::b/*"))]),
            None,
        )
        .build();
    let (_, f) = run(&w, get_object(&user_arn(B, "carol")));
    assert_eq!(causes(&f), vec![Cause::CrossAccountResourceMissing]);
}

#[test]
fn boundary_cap_on_identity_allow() {
    let w = W::new()
        .user(
            A,
            "gina",
            json!([allow("Read", "s3:GetObject", json!("arn:aws:s3:::b/*"))]),
            Some(json!([allow(
                "ListOnly",
                "s3:ListBucket",
                json!("arn:aws:s3:::b")
            )])),
        )
        .build();
    let (_, f) = run(&w, get_object(&user_arn(A, "gina")));
    assert_eq!(causes(&f), vec![Cause::BoundaryCap]);
    assert_eq!(f[0].layer, Layer::PermissionsBoundary);
}

#[test]
fn boundary_cap_explicit_deny() {
    let w = W::new()
        .user(
            A,
            "gina",
            json!([allow("Read", "s3:GetObject", json!("arn:aws:s3:::b/*"))]),
            Some(json!([allow("All", "s3:*", json!("*")), {"Sid": "NoData", "Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/data/*"}])),
        )
        .build();
    let (d, f) = run(&w, get_object(&user_arn(A, "gina")));
    assert_eq!(d, "explicit_deny");
    assert_eq!(causes(&f), vec![Cause::BoundaryCap]);
    assert_eq!(statement_sids(&f[0]), vec!["NoData"]);
}

#[test]
fn boundary_allowing_is_no_cause() {
    let w = W::new()
        .user(
            A,
            "gina",
            json!([allow("Read", "s3:GetObject", json!("arn:aws:s3:::b/*"))]),
            Some(json!([allow("All", "s3:*", json!("*"))])),
        )
        .build();
    let (d, f) = run(&w, get_object(&user_arn(A, "gina")));
    assert_eq!(d, "allowed");
    assert!(f.is_empty());
}

#[test]
fn session_policy_cap() {
    let w = W::new()
        .role(
            A,
            "Reader",
            json!([allow("Read", "s3:GetObject", json!("arn:aws:s3:::b/*"))]),
        )
        .build();
    let mut req = get_object(&format!("arn:aws:iam::{A}:role/Reader"));
    req["session_policy"] = doc(json!([allow(
        "ListOnly",
        "s3:ListBucket",
        json!("arn:aws:s3:::b")
    )]));
    let (_, f) = run(&w, req.clone());
    assert_eq!(causes(&f), vec![Cause::SessionPolicyCap]);
    assert_eq!(f[0].layer, Layer::SessionPolicy);
    assert!(f[0]
        .explanation
        .contains("arn:aws:iam::111122223333:role/Reader"));
    // Look-alike: a session policy that allows.
    req["session_policy"] = doc(json!([allow(
        "Read",
        "s3:GetObject",
        json!("arn:aws:s3:::b/*")
    )]));
    let (d, f) = run(&w, req);
    assert_eq!(d, "allowed");
    assert!(f.is_empty());
}

// ---------------------------------------------------------------- explicit denies

#[test]
fn secure_transport_deny_is_guardrail() {
    let w = W::new()
        .user(A, "alice", json!([allow("Read", "s3:GetObject", json!("arn:aws:s3:::b/*"))]), None)
        .bucket_policy(json!([{"Sid": "DenyHttp", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]))
        .build();
    let mut req = get_object(&user_arn(A, "alice"));
    req["context"] = json!({"aws:SecureTransport": "false"});
    let (d, f) = run(&w, req);
    assert_eq!(d, "explicit_deny");
    assert_eq!(causes(&f), vec![Cause::GuardrailDeny]);
    assert!(!has(&f, Cause::BucketPolicyDeny));
    let x = &f[0];
    assert_eq!(x.layer, Layer::ResourcePolicy);
    assert_eq!(statement_sids(x), vec!["DenyHttp"]);
    assert!(x.explanation.contains("aws:SecureTransport"));
    match &x.evidence[0] {
        Evidence::Statement { policy, effect, .. } => {
            assert_eq!(policy, "bucket-policy:b");
            assert_eq!(effect, "Deny");
        }
        e => panic!("{e:?}"),
    }
    // Look-alike: over HTTPS nothing is denied.
    let (d, f) = run(&w, get_object(&user_arn(A, "alice")));
    assert_eq!(d, "allowed");
    assert!(f.is_empty());
}

#[test]
fn plain_bucket_policy_deny() {
    let w = W::new()
        .user(A, "alice", json!([allow("Read", "s3:GetObject", json!("arn:aws:s3:::b/*"))]), None)
        .bucket_policy(json!([{"Sid": "NoData", "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/data/*"}]))
        .build();
    let (_, f) = run(&w, get_object(&user_arn(A, "alice")));
    assert_eq!(causes(&f), vec![Cause::BucketPolicyDeny]);
    assert!(!has(&f, Cause::GuardrailDeny));
    assert_eq!(statement_sids(&f[0]), vec!["NoData"]);
}

#[test]
fn two_deny_statements_one_finding() {
    let w = W::new()
        .user(A, "alice", json!([allow("Read", "s3:GetObject", json!("arn:aws:s3:::b/*"))]), None)
        .bucket_policy(json!([
            {"Sid": "D1", "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/data/*"},
            {"Sid": "D2", "Effect": "Deny", "Principal": "*", "Action": "s3:Get*", "Resource": "arn:aws:s3:::b/*"}
        ]))
        .build();
    let (_, f) = run(&w, get_object(&user_arn(A, "alice")));
    assert_eq!(causes(&f), vec![Cause::BucketPolicyDeny]);
    assert_eq!(statement_sids(&f[0]), vec!["D1", "D2"]);
}

#[test]
fn identity_deny_and_identity_guardrail() {
    let plain = W::new()
        .user(A, "alice", json!([allow("Read", "s3:*", json!("*")), {"Sid": "NoGet", "Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"}]), None)
        .build();
    let (_, f) = run(&plain, get_object(&user_arn(A, "alice")));
    assert_eq!(causes(&f), vec![Cause::IdentityDeny]);
    assert_eq!(f[0].layer, Layer::Identity);

    let guard = W::new()
        .user(A, "alice", json!([allow("Read", "s3:*", json!("*")), {"Sid": "OnlyOffice", "Effect": "Deny", "Action": "s3:*", "Resource": "*",
            "Condition": {"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}}}]), None)
        .build();
    let mut req = get_object(&user_arn(A, "alice"));
    req["context"] = json!({"aws:SourceIp": "203.0.113.7"});
    let (_, f) = run(&guard, req);
    assert_eq!(causes(&f), vec![Cause::GuardrailDeny]);
    assert!(!has(&f, Cause::IdentityDeny));
    assert_eq!(f[0].layer, Layer::Identity);
}

#[test]
fn deny_and_missing_allow_are_both_reported() {
    let w = W::new()
        .user(A, "alice", json!([]), None)
        .bucket_policy(json!([{"Sid": "NoData", "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/data/*"}]))
        .build();
    let (_, f) = run(&w, get_object(&user_arn(A, "alice")));
    assert_eq!(
        causes(&f),
        vec![Cause::BucketPolicyDeny, Cause::IdentityMissingAllow]
    );
}

// ---------------------------------------------------------------- gates

fn org(scps: Value, rcps: Value) -> Value {
    json!({"id": "o-example", "is_management_account": false, "scps": scps, "rcps": rcps})
}

fn level(target: &str, name: &str, stmts: Value) -> Value {
    json!({"target": target, "policies": [{"Name": name, "Id": format!("p-{name}"), "Content": doc(stmts)}]})
}

#[test]
fn scp_missing_allow_names_the_level() {
    let full = json!([{"Effect": "Allow", "Action": "*", "Resource": "*"}]);
    let w = W::new()
        .user(
            A,
            "alice",
            json!([allow("Read", "s3:GetObject", json!("arn:aws:s3:::b/*"))]),
            None,
        )
        .account_set(
            A,
            "organization",
            org(
                json!([
                    level("r-root", "Full", full.clone()),
                    level(
                        "ou-ab12-ou1",
                        "Ec2Only",
                        json!([{"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}])
                    ),
                    level(A, "Full", full.clone())
                ]),
                json!([]),
            ),
        )
        .build();
    let (_, f) = run(&w, get_object(&user_arn(A, "alice")));
    assert_eq!(causes(&f), vec![Cause::ScpBlocks]);
    assert_eq!(f[0].layer, Layer::Scp);
    assert!(f[0].evidence.iter().any(
        |e| matches!(e, Evidence::Missing { looked_in, .. } if looked_in.contains("ou-ab12-ou1"))
    ));

    let ok = W::new()
        .user(
            A,
            "alice",
            json!([allow("Read", "s3:GetObject", json!("arn:aws:s3:::b/*"))]),
            None,
        )
        .account_set(
            A,
            "organization",
            org(
                json!([
                    level("r-root", "Full", full.clone()),
                    level(A, "Full", full)
                ]),
                json!([]),
            ),
        )
        .build();
    let (d, f) = run(&ok, get_object(&user_arn(A, "alice")));
    assert_eq!(d, "allowed");
    assert!(f.is_empty());
}

#[test]
fn scp_deny_is_scp_blocks() {
    let full = json!([{"Effect": "Allow", "Action": "*", "Resource": "*"}]);
    let w = W::new()
        .user(A, "alice", json!([allow("Read", "s3:GetObject", json!("arn:aws:s3:::b/*"))]), None)
        .account_set(A, "organization", org(json!([
            level("r-root", "Full", json!([{"Effect": "Allow", "Action": "*", "Resource": "*"}, {"Sid": "NoGet", "Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"}])),
            level(A, "Full", full)
        ]), json!([])))
        .build();
    let (_, f) = run(&w, get_object(&user_arn(A, "alice")));
    assert_eq!(causes(&f), vec![Cause::ScpBlocks]);
    assert_eq!(statement_sids(&f[0]), vec!["NoGet"]);
}

#[test]
fn rcp_deny_and_rcp_full_access() {
    let full = json!([{"Effect": "Allow", "Action": "*", "Resource": "*"}]);
    let rcps = json!([level(
        "r-root",
        "Full",
        json!([
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Sid": "OrgOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
             "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-example"}, "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}}
        ])
    )]);
    let w = W::new()
        .user(B, "carol", json!([allow("Read", "s3:GetObject", json!("arn:aws:s3:::b/*"))]), None)
        .bucket_policy(json!([{"Sid": "X", "Effect": "Allow", "Principal": {"AWS": B}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]))
        .account_set(A, "organization", org(json!([]), rcps))
        .build();
    let (_, f) = run(&w, get_object(&user_arn(B, "carol")));
    assert_eq!(causes(&f), vec![Cause::RcpBlocks]);
    assert_eq!(f[0].layer, Layer::Rcp);

    let ok = W::new()
        .user(B, "carol", json!([allow("Read", "s3:GetObject", json!("arn:aws:s3:::b/*"))]), None)
        .bucket_policy(json!([{"Sid": "X", "Effect": "Allow", "Principal": {"AWS": B}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]))
        .account_set(A, "organization", org(json!([]), json!([level("r-root", "Full", full)])))
        .build();
    let (d, f) = run(&ok, get_object(&user_arn(B, "carol")));
    assert_eq!(d, "allowed");
    assert!(f.is_empty());
}

#[test]
fn vpc_endpoint_policy() {
    let w = W::new()
        .user(A, "alice", json!([allow("Read", "s3:GetObject", json!("arn:aws:s3:::b/*"))]), None)
        .set("vpc_endpoints", json!([{"VpcEndpointId": "vpce-1", "VpcId": "vpc-1", "ServiceName": "com.amazonaws.us-east-1.s3", "OwnerId": A,
            "PolicyDocument": doc(json!([{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::other/*"}])).to_string()}]))
        .build();
    let mut req = get_object(&user_arn(A, "alice"));
    req["vpc_endpoint"] = json!("vpce-1");
    let (_, f) = run(&w, req);
    assert_eq!(causes(&f), vec![Cause::VpcEndpointPolicy]);
    assert_eq!(f[0].layer, Layer::VpcEndpoint);
    assert!(f[0].explanation.contains("vpce-1"));
    // Look-alike: the same request not through the endpoint.
    let (d, f) = run(&w, get_object(&user_arn(A, "alice")));
    assert_eq!(d, "allowed");
    assert!(f.is_empty());
}

// ---------------------------------------------------------------- Block Public Access

fn public_read() -> Value {
    json!([{"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}])
}

fn bpa(block_acls: bool, ignore_acls: bool, restrict: bool) -> Value {
    json!({"PublicAccessBlockConfiguration": {"BlockPublicAcls": block_acls, "IgnorePublicAcls": ignore_acls,
        "BlockPublicPolicy": false, "RestrictPublicBuckets": restrict}})
}

#[test]
fn restrict_public_buckets_blocks_anonymous() {
    let w = W::new()
        .bucket_policy(public_read())
        .bucket_set("public_access_block", bpa(false, false, true))
        .build();
    let (_, f) = run(&w, get_object("anonymous"));
    assert_eq!(causes(&f), vec![Cause::BpaBlocksPublicAccess]);
    assert!(!has(&f, Cause::CrossAccountResourceMissing));
    let x = &f[0];
    assert_eq!(x.layer, Layer::BlockPublicAccess);
    assert!(x
        .evidence
        .iter()
        .any(|e| matches!(e, Evidence::Setting { resource, name, value }
        if resource == "arn:aws:s3:::b" && name == "RestrictPublicBuckets" && value == "true")));
    assert_eq!(statement_sids(x), vec!["Public"]);
}

#[test]
fn anonymous_without_public_grant_is_not_bpa() {
    let w = W::new().build();
    let (_, f) = run(&w, get_object("anonymous"));
    assert_eq!(causes(&f), vec![Cause::CrossAccountResourceMissing]);
    assert!(f[0].explanation.contains("no public grant"));
}

#[test]
fn restrict_public_buckets_cuts_cross_account() {
    let w = W::new()
        .user(
            B,
            "bob",
            json!([allow("Read", "s3:GetObject", json!("*"))]),
            None,
        )
        .bucket_policy(public_read())
        .bucket_set("public_access_block", bpa(false, false, true))
        .build();
    let (_, f) = run(&w, get_object(&user_arn(B, "bob")));
    assert_eq!(causes(&f), vec![Cause::BpaBlocksPublicAccess]);
}

#[test]
fn block_public_acls_rejects_public_acl() {
    let w = W::new()
        .user(
            A,
            "alice",
            json!([allow("All", "s3:*", json!("arn:aws:s3:::b/*"))]),
            None,
        )
        .bucket_set(
            "ownership_controls",
            json!({"OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]}}),
        )
        .bucket_set("public_access_block", bpa(true, false, false))
        .build();
    let put = |acl: &str| json!({"principal": user_arn(A, "alice"), "operation": "PutObject", "bucket": "b", "key": "up/x", "headers": {"x-amz-acl": acl}});
    let (d, f) = run(&w, put("public-read"));
    assert_eq!(d, "explicit_deny");
    assert_eq!(causes(&f), vec![Cause::BpaRejectsPublicAcl]);
    assert_eq!(f[0].layer, Layer::BlockPublicAccess);
    let (d, f) = run(&w, put("private"));
    assert_eq!(d, "allowed");
    assert!(f.is_empty());
}

// ---------------------------------------------------------------- Object Ownership

#[test]
fn object_owned_by_other_account() {
    let base = || {
        W::new()
            .user(A, "alice", json!([allow("Read", "s3:GetObject", json!("arn:aws:s3:::b/*"))]), None)
            .object(json!({"key": "data/x.csv", "acl": {"Owner": {"ID": CANON_B}, "Grants": [
                {"Grantee": {"Type": "CanonicalUser", "ID": CANON_B}, "Permission": "FULL_CONTROL"}]}}))
    };
    let w = base()
        .bucket_set(
            "ownership_controls",
            json!({"OwnershipControls": {"Rules": [{"ObjectOwnership": "ObjectWriter"}]}}),
        )
        .build();
    let (_, f) = run(&w, get_object(&user_arn(A, "alice")));
    assert_eq!(causes(&f), vec![Cause::ObjectOwnedByOtherAccount]);
    let x = &f[0];
    assert_eq!(x.layer, Layer::ObjectAcl);
    assert!(x.evidence.iter().any(|e| matches!(e, Evidence::Setting { name, value, .. } if name == "object owner" && value.contains(B))));
    assert!(x.evidence.iter().any(|e| matches!(e, Evidence::Setting { name, value, .. } if name == "ObjectOwnership" && value == "ObjectWriter")));
    // Look-alike: Bucket owner enforced makes the bucket owner own the object.
    let w = base()
        .bucket_set(
            "ownership_controls",
            json!({"OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}}),
        )
        .build();
    let (d, f) = run(&w, get_object(&user_arn(A, "alice")));
    assert_eq!(d, "allowed");
    assert!(f.is_empty());
}

#[test]
fn acl_not_supported_on_enforced_bucket() {
    let w = W::new()
        .user(
            A,
            "alice",
            json!([allow("All", "s3:*", json!("arn:aws:s3:::b/*"))]),
            None,
        )
        .bucket_set(
            "ownership_controls",
            json!({"OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}}),
        )
        .build();
    let put = |acl: &str| json!({"principal": user_arn(A, "alice"), "operation": "PutObject", "bucket": "b", "key": "up/x", "headers": {"x-amz-acl": acl}});
    let (_, f) = run(&w, put("public-read"));
    assert_eq!(causes(&f), vec![Cause::AclNotSupported]);
    assert_eq!(f[0].layer, Layer::ObjectOwnership);
    let (d, f) = run(&w, put("bucket-owner-full-control"));
    assert_eq!(d, "allowed");
    assert!(f.is_empty());
}

// ---------------------------------------------------------------- KMS

fn kms_object(w: W) -> W {
    w.object(json!({"key": "data/x.csv", "head": {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KEY}}))
}

fn delegate_to(acct: &str) -> Value {
    json!({"Sid": "Delegate", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{acct}:root")}, "Action": "kms:*", "Resource": "*"})
}

#[test]
fn kms_delegation_without_iam_is_kms_identity_missing() {
    let w = kms_object(W::new())
        .user(
            A,
            "alice",
            json!([allow("Read", "s3:GetObject", json!("arn:aws:s3:::b/*"))]),
            None,
        )
        .key(true, "CUSTOMER", json!([delegate_to(A)]))
        .build();
    let (d, f) = run(&w, get_object(&user_arn(A, "alice")));
    assert_eq!(d, "implicit_deny");
    assert_eq!(causes(&f), vec![Cause::KmsIdentityMissing]);
    let x = find(&f, Cause::KmsIdentityMissing);
    assert_eq!(x.authorization, 1);
    assert_eq!(x.action, "kms:Decrypt");
    assert_eq!(x.resource, KEY);
    assert_eq!(x.layer, Layer::Identity);
    assert!(!has(&f, Cause::KmsKeyPolicyMissing));
    // Look-alike: with kms:Decrypt in IAM it is allowed.
    let w = kms_object(W::new())
        .user(
            A,
            "alice",
            json!([
                allow("Read", "s3:GetObject", json!("arn:aws:s3:::b/*")),
                allow("Kms", "kms:Decrypt", json!(KEY))
            ]),
            None,
        )
        .key(true, "CUSTOMER", json!([delegate_to(A)]))
        .build();
    let (d, f) = run(&w, get_object(&user_arn(A, "alice")));
    assert_eq!(d, "allowed");
    assert!(f.is_empty());
}

#[test]
fn kms_key_policy_missing_without_delegation() {
    let w = kms_object(W::new())
        .user(A, "alice", json!([allow("Read", "s3:GetObject", json!("arn:aws:s3:::b/*")), allow("Kms", "kms:Decrypt", json!(KEY))]), None)
        .key(true, "CUSTOMER", json!([{"Sid": "Other", "Effect": "Allow", "Principal": {"AWS": user_arn(A, "zed")}, "Action": "kms:*", "Resource": "*"}]))
        .build();
    let (_, f) = run(&w, get_object(&user_arn(A, "alice")));
    assert_eq!(causes(&f), vec![Cause::KmsKeyPolicyMissing]);
    assert_eq!(f[0].layer, Layer::ResourcePolicy);
    assert!(!has(&f, Cause::KmsIdentityMissing));
    assert_eq!(statement_sids(&f[0]), vec!["Other"]);
}

#[test]
fn kms_key_policy_deny_is_key_policy_missing() {
    let w = kms_object(W::new())
        .user(A, "alice", json!([allow("Read", "s3:GetObject", json!("arn:aws:s3:::b/*")), allow("Kms", "kms:Decrypt", json!(KEY))]), None)
        .key(true, "CUSTOMER", json!([delegate_to(A), {"Sid": "NoAlice", "Effect": "Deny", "Principal": {"AWS": user_arn(A, "alice")}, "Action": "kms:Decrypt", "Resource": "*"}]))
        .build();
    let (d, f) = run(&w, get_object(&user_arn(A, "alice")));
    assert_eq!(d, "explicit_deny");
    assert_eq!(causes(&f), vec![Cause::KmsKeyPolicyMissing]);
    assert_eq!(statement_sids(&f[0]), vec!["NoAlice"]);
}

#[test]
fn kms_cross_account_both_missing() {
    let w = kms_object(W::new())
        .user(B, "carol", json!([allow("Read", "s3:GetObject", json!("arn:aws:s3:::b/*"))]), None)
        .bucket_policy(json!([{"Sid": "X", "Effect": "Allow", "Principal": {"AWS": B}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]))
        .key(true, "CUSTOMER", json!([delegate_to(A)]))
        .build();
    let (_, f) = run(&w, get_object(&user_arn(B, "carol")));
    assert_eq!(
        causes(&f),
        vec![Cause::KmsKeyPolicyMissing, Cause::KmsIdentityMissing]
    );
    assert!(f.iter().all(|x| x.authorization == 1));
    // Key policy allows B: only the IAM side is missing.
    let w = kms_object(W::new())
        .user(B, "carol", json!([allow("Read", "s3:GetObject", json!("arn:aws:s3:::b/*"))]), None)
        .bucket_policy(json!([{"Sid": "X", "Effect": "Allow", "Principal": {"AWS": B}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]))
        .key(true, "CUSTOMER", json!([delegate_to(A), delegate_to(B)]))
        .build();
    let (_, f) = run(&w, get_object(&user_arn(B, "carol")));
    assert_eq!(causes(&f), vec![Cause::KmsIdentityMissing]);
}

#[test]
fn kms_aws_managed_key_cross_account() {
    let obj = json!({"key": "data/x.csv", "head": {"ServerSideEncryption": "aws:kms"}});
    let w = W::new()
        .object(obj.clone())
        .user(B, "carol", json!([allow("Read", "s3:GetObject", json!("*")), allow("Kms", "kms:Decrypt", json!("*"))]), None)
        .bucket_policy(json!([{"Sid": "X", "Effect": "Allow", "Principal": {"AWS": B}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]))
        .user(A, "alice", json!([allow("Read", "s3:GetObject", json!("*"))]), None)
        .build();
    let (_, f) = run(&w, get_object(&user_arn(B, "carol")));
    assert_eq!(causes(&f), vec![Cause::KmsAwsManagedCrossAccount]);
    assert_eq!(f[0].authorization, 1);
    // Look-alike: the owner's account may use aws/s3.
    let (d, f) = run(&w, get_object(&user_arn(A, "alice")));
    assert_eq!(d, "allowed");
    assert!(f.is_empty());
}

#[test]
fn kms_key_disabled() {
    let mk = |enabled: bool| {
        kms_object(W::new())
            .user(
                A,
                "alice",
                json!([
                    allow("Read", "s3:GetObject", json!("arn:aws:s3:::b/*")),
                    allow("Kms", "kms:Decrypt", json!(KEY))
                ]),
                None,
            )
            .key(enabled, "CUSTOMER", json!([delegate_to(A)]))
            .build()
    };
    let (_, f) = run(&mk(false), get_object(&user_arn(A, "alice")));
    assert_eq!(causes(&f), vec![Cause::KmsKeyDisabled]);
    assert_eq!(f[0].layer, Layer::KmsKeyState);
    let (d, f) = run(&mk(true), get_object(&user_arn(A, "alice")));
    assert_eq!(d, "allowed");
    assert!(f.is_empty());
}

// ---------------------------------------------------------------- CloudFront

fn cloudfront(oac: Option<&str>, default_root: &str) -> Value {
    json!({
        "distributions": [{
            "Id": "EDIST1", "ARN": DIST, "DomainName": "d1.cloudfront.net",
            "DistributionConfig": {"DefaultRootObject": default_root, "Origins": {"Quantity": 1, "Items": [{
                "Id": "b-origin", "DomainName": "b.s3.us-east-1.amazonaws.com", "OriginPath": "",
                "S3OriginConfig": {"OriginAccessIdentity": ""}, "OriginAccessControlId": oac.unwrap_or("")}]}}
        }],
        "origin_access_controls": [{"Id": "EOAC1", "OriginAccessControlConfig": {"Name": "oac", "SigningBehavior": "always", "OriginAccessControlOriginType": "s3"}}],
        "origin_access_identities": [{"Id": "EOAI1", "S3CanonicalUserId": "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"}]
    })
}

fn oac_grant(dist: &str) -> Value {
    json!([{"Sid": "OAC", "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::b/*", "Condition": {"StringEquals": {"AWS:SourceArn": dist}}}])
}

fn cf_get(key: &str) -> Value {
    json!({"principal": {"Service": "cloudfront.amazonaws.com"}, "operation": "GetObject", "bucket": "b", "key": key,
        "context": {"aws:SourceArn": DIST}})
}

#[test]
fn oac_grant_naming_another_distribution() {
    let w = W::new()
        .bucket_policy(oac_grant(
            "arn:aws:cloudfront::111122223333:distribution/EOTHER",
        ))
        .set("cloudfront", cloudfront(Some("EOAC1"), "index.html"))
        .build();
    let (_, f) = run(&w, cf_get("data/x.csv"));
    assert_eq!(causes(&f), vec![Cause::CloudfrontOacGrantMissing]);
    assert!(!has(&f, Cause::CloudfrontNoOac));
    let x = &f[0];
    assert_eq!(x.layer, Layer::ResourcePolicy);
    assert!(x.explanation.contains(DIST));
    assert!(x.evidence.iter().any(|e| matches!(e, Evidence::Setting { name, value, .. } if name == "aws:SourceArn" && value == DIST)));
    assert_eq!(statement_sids(x), vec!["OAC"]);
    // Look-alike: the grant names this distribution.
    let w = W::new()
        .bucket_policy(oac_grant(DIST))
        .set("cloudfront", cloudfront(Some("EOAC1"), "index.html"))
        .build();
    let (d, f) = run(&w, cf_get("data/x.csv"));
    assert_eq!(d, "allowed");
    assert!(f.is_empty());
}

#[test]
fn origin_without_oac() {
    let w = W::new()
        .set("cloudfront", cloudfront(None, "index.html"))
        .build();
    let (_, f) = run(&w, cf_get("data/x.csv"));
    assert_eq!(
        causes(&f),
        vec![Cause::CloudfrontOacGrantMissing, Cause::CloudfrontNoOac]
    );
}

#[test]
fn oai_cannot_read_sse_kms() {
    let oai = "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity EOAI1";
    let base = || {
        W::new()
            .bucket_policy(json!([{"Sid": "OAI", "Effect": "Allow", "Principal": {"AWS": oai}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]))
            .set("cloudfront", cloudfront(None, "index.html"))
            .key(true, "CUSTOMER", json!([delegate_to(A)]))
    };
    let w = base()
        .object(json!({"key": "data/x.csv", "head": {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KEY}}))
        .build();
    let (_, f) = run(&w, get_object(oai));
    assert_eq!(causes(&f), vec![Cause::CloudfrontOaiSseKms]);
    assert_eq!(f[0].authorization, 1);
    let w = base()
        .object(json!({"key": "data/x.csv", "head": {"ServerSideEncryption": "AES256"}}))
        .build();
    let (d, f) = run(&w, get_object(oai));
    assert_eq!(d, "allowed");
    assert!(f.is_empty());
}

#[test]
fn default_root_object_informational() {
    let mk = |root: &str| {
        W::new()
            .bucket_policy(oac_grant(DIST))
            .object(json!({"key": "index.html"}))
            .bucket_set("objects_complete", json!(true))
            .set("cloudfront", cloudfront(Some("EOAC1"), root))
            .build()
    };
    let (d, f) = run(&mk(""), cf_get("missing.html"));
    assert_eq!(d, "implicit_deny");
    assert!(
        has(&f, Cause::CloudfrontDefaultRootObject),
        "{:?}",
        causes(&f)
    );
    assert!(has(&f, Cause::MissingKeyNoList));
    let (_, f) = run(&mk("index.html"), cf_get("missing.html"));
    assert!(!has(&f, Cause::CloudfrontDefaultRootObject));
    assert!(has(&f, Cause::MissingKeyNoList));
}

// ---------------------------------------------------------------- existence and request refusals

#[test]
fn missing_key_without_list_is_403() {
    let mk = |stmts: Value| {
        W::new()
            .user(A, "alice", stmts, None)
            .object(json!({"key": "data/other.csv"}))
            .bucket_set("objects_complete", json!(true))
            .build()
    };
    let (d, f) = run(
        &mk(json!([allow(
            "Read",
            "s3:GetObject",
            json!("arn:aws:s3:::b/*")
        )])),
        get_object(&user_arn(A, "alice")),
    );
    assert_eq!(d, "implicit_deny");
    assert_eq!(causes(&f), vec![Cause::MissingKeyNoList]);
    assert_eq!(f[0].layer, Layer::Existence);
    // With s3:ListBucket S3 answers 404, which is an allowed outcome: nothing to diagnose.
    let w = mk(json!([
        allow("Read", "s3:GetObject", json!("arn:aws:s3:::b/*")),
        allow("List", "s3:ListBucket", json!("arn:aws:s3:::b"))
    ]));
    let request = Request::from_value(&get_object(&user_arn(A, "alice"))).unwrap();
    let outcome = authorize(&w, &request).unwrap();
    assert_eq!(outcome.status, 404);
    assert!(diagnose(&w, &request, &outcome).is_empty());
}

#[test]
fn presigned_url_expired() {
    let w = W::new()
        .user(
            A,
            "alice",
            json!([allow("Read", "s3:GetObject", json!("arn:aws:s3:::b/*"))]),
            None,
        )
        .build();
    let mk = |now: &str| {
        let mut r = get_object(&user_arn(A, "alice"));
        r["presigned"] = json!({"signed_at": "20261129T120000Z", "expires_in": 3600});
        r["context"] = json!({"aws:CurrentTime": now});
        r
    };
    let (_, f) = run(&w, mk("2026-11-29T13:00:01Z"));
    assert_eq!(causes(&f), vec![Cause::PresignedUrlExpired]);
    assert_eq!(f[0].layer, Layer::Request);
    let (d, f) = run(&w, mk("2026-11-29T12:30:00Z"));
    assert_eq!(d, "allowed");
    assert!(f.is_empty());
}

#[test]
fn requester_pays_header() {
    let w = W::new()
        .user(B, "bob", json!([allow("Read", "s3:GetObject", json!("*"))]), None)
        .bucket_policy(json!([{"Sid": "X", "Effect": "Allow", "Principal": {"AWS": B}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]))
        .bucket_set("request_payment", json!({"Payer": "Requester"}))
        .build();
    let (_, f) = run(&w, get_object(&user_arn(B, "bob")));
    assert_eq!(causes(&f), vec![Cause::RequesterPaysHeader]);
    assert_eq!(f[0].layer, Layer::Request);
    let mut req = get_object(&user_arn(B, "bob"));
    req["headers"] = json!({"x-amz-request-payer": "requester"});
    let (d, f) = run(&w, req);
    assert_eq!(d, "allowed");
    assert!(f.is_empty());
}

#[test]
fn requester_pays_and_missing_identity_both_reported() {
    let w = W::new()
        .user(B, "bob", json!([]), None)
        .bucket_policy(json!([{"Sid": "X", "Effect": "Allow", "Principal": {"AWS": B}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]))
        .bucket_set("request_payment", json!({"Payer": "Requester"}))
        .build();
    let (_, f) = run(&w, get_object(&user_arn(B, "bob")));
    assert_eq!(
        causes(&f),
        vec![Cause::RequesterPaysHeader, Cause::IdentityMissingAllow]
    );
}

// ---------------------------------------------------------------- ordering

#[test]
fn decisive_authorization_first_then_index() {
    // CopyObject: the destination write (0) is allowed, the source read (1) is denied by identity,
    // the source's KMS decrypt (2) too.
    let w = kms_object(W::new())
        .user(
            A,
            "alice",
            json!([allow("Put", "s3:PutObject", json!("arn:aws:s3:::b/*"))]),
            None,
        )
        .key(true, "CUSTOMER", json!([delegate_to(A)]))
        .build();
    let req = json!({"principal": user_arn(A, "alice"), "operation": "CopyObject", "bucket": "b", "key": "copy.csv",
        "copy_source": {"bucket": "b", "key": "data/x.csv"}});
    let request = Request::from_value(&req).unwrap();
    let outcome = authorize(&w, &request).unwrap();
    let f = diagnose(&w, &request, &outcome);
    assert!(!f.is_empty());
    assert_eq!(f[0].authorization, outcome.deciding);
    let idx: Vec<usize> = f.iter().map(|x| x.authorization).collect();
    assert!(idx.windows(2).all(|p| p[0] <= p[1]), "{idx:?}");
    for x in &f {
        let a = &outcome.authorizations[x.authorization];
        assert!(!a.decision.is_allowed());
        assert_eq!(x.action, a.action);
    }
    assert!(has(&f, Cause::IdentityMissingAllow));
    assert!(has(&f, Cause::KmsIdentityMissing));
}

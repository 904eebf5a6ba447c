//! Loading Worlds (docs/formats.md, "Parts" and "World"): the bundled example, absent / unknown /
//! known parts, policy encodings, real `get-account-authorization-details` output, look-ups,
//! error messages and the JSON round trip.

use s3medic::policy::parse_policy_value;
use s3medic::world::*;
use serde_json::{json, Value};

const EXAMPLE: &str = include_str!("../examples/worlds/cross-account.json");

/// `aws iam get-account-authorization-details` sample output from the AWS CLI documentation
/// (awscli/examples/iam/get-account-authorization-details.rst in aws/aws-cli), verbatim, including
/// its quirks (`AttachedManagedPolicies` as a single object in `GroupDetailList`, `IsTruncated`).
const AUTH_DETAILS_SAMPLE: &str = r#"{
    "RoleDetailList": [
      {
        "AssumeRolePolicyDocument": {
          "Version": "2012-10-17",
          "Statement": [
            {
              "Sid": "",
              "Effect": "Allow",
              "Principal": {
                "Service": "ec2.amazonaws.com"
              },
              "Action": "sts:AssumeRole"
            }
          ]
        },
        "RoleId": "AROAFP4BKI7Y7TEXAMPLE",
        "CreateDate": "2014-07-30T17:09:20Z",
        "InstanceProfileList": [
          {
            "InstanceProfileId": "AIPAFFYRBHWXW2EXAMPLE",
            "Roles": [
              {
                "AssumeRolePolicyDocument": {
                  "Version":"2012-10-17",
                  "Statement": [
                    {
                      "Sid":"",
                      "Effect":"Allow",
                      "Principal": {
                        "Service":"ec2.amazonaws.com"
                      },
                      "Action":"sts:AssumeRole"
                    }
                  ]
                },
                "RoleId": "AROAFP4BKI7Y7TEXAMPLE",
                "CreateDate": "2014-07-30T17:09:20Z",
                "RoleName": "EC2role",
                "Path": "/",
                "Arn": "arn:aws:iam::123456789012:role/EC2role"
              }
            ],
            "CreateDate": "2014-07-30T17:09:20Z",
            "InstanceProfileName": "EC2role",
            "Path": "/",
            "Arn": "arn:aws:iam::123456789012:instance-profile/EC2role"
          }
        ],
        "RoleName": "EC2role",
        "Path": "/",
        "AttachedManagedPolicies": [
          {
            "PolicyName": "AmazonS3FullAccess",
            "PolicyArn": "arn:aws:iam::aws:policy/AmazonS3FullAccess"
          },
          {
            "PolicyName": "AmazonDynamoDBFullAccess",
            "PolicyArn": "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess"
          }
        ],
        "RolePolicyList": [],
        "Arn": "arn:aws:iam::123456789012:role/EC2role"
      }],
    "GroupDetailList": [
      {
        "GroupId": "AIDACKCEVSQ6C7EXAMPLE",
        "AttachedManagedPolicies": {
          "PolicyName": "AdministratorAccess",
          "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"
        },
        "GroupName": "Admins",
        "Path": "/",
        "Arn": "arn:aws:iam::123456789012:group/Admins",
        "CreateDate": "2013-10-14T18:32:24Z",
        "GroupPolicyList": []
      },
      {
        "GroupId": "AIDACKCEVSQ6C8EXAMPLE",
        "AttachedManagedPolicies": {
          "PolicyName": "PowerUserAccess",
          "PolicyArn": "arn:aws:iam::aws:policy/PowerUserAccess"
        },
        "GroupName": "Dev",
        "Path": "/",
        "Arn": "arn:aws:iam::123456789012:group/Dev",
        "CreateDate": "2013-10-14T18:33:55Z",
        "GroupPolicyList": []
      },
      {
        "GroupId": "AIDACKCEVSQ6C9EXAMPLE",
        "AttachedManagedPolicies": [],
        "GroupName": "Finance",
        "Path": "/",
        "Arn": "arn:aws:iam::123456789012:group/Finance",
        "CreateDate": "2013-10-14T18:57:48Z",
        "GroupPolicyList": [
          {
            "PolicyName": "policygen-201310141157",
            "PolicyDocument": {
              "Version":"2012-10-17",
              "Statement": [
                {
                  "Action": "aws-portal:*",
                  "Sid":"Stmt1381777017000",
                  "Resource": "*",
                  "Effect":"Allow"
                }
              ]
            }
          }
        ]
      }],
    "UserDetailList": [
      {
        "UserName": "Alice",
        "GroupList": [
          "Admins"
        ],
        "CreateDate": "2013-10-14T18:32:24Z",
        "UserId": "AIDACKCEVSQ6C2EXAMPLE",
        "UserPolicyList": [],
        "Path": "/",
        "AttachedManagedPolicies": [],
        "Arn": "arn:aws:iam::123456789012:user/Alice"
      },
      {
        "UserName": "Bob",
        "GroupList": [
          "Admins"
        ],
        "CreateDate": "2013-10-14T18:32:25Z",
        "UserId": "AIDACKCEVSQ6C3EXAMPLE",
        "UserPolicyList": [
          {
            "PolicyName": "DenyBillingAndIAMPolicy",
            "PolicyDocument": {
              "Version":"2012-10-17",
              "Statement": {
                "Effect":"Deny",
                "Action": [
                  "aws-portal:*",
                  "iam:*"
                ],
                "Resource":"*"
              }
            }
          }
        ],
        "Path": "/",
        "AttachedManagedPolicies": [],
        "Arn": "arn:aws:iam::123456789012:user/Bob"
      },
      {
        "UserName": "Charlie",
        "GroupList": [
          "Dev"
        ],
        "CreateDate": "2013-10-14T18:33:56Z",
        "UserId": "AIDACKCEVSQ6C4EXAMPLE",
        "UserPolicyList": [],
        "Path": "/",
        "AttachedManagedPolicies": [],
        "Arn": "arn:aws:iam::123456789012:user/Charlie"
      }],
    "Policies": [
      {
        "PolicyName": "create-update-delete-set-managed-policies",
        "CreateDate": "2015-02-06T19:58:34Z",
        "AttachmentCount": 1,
        "IsAttachable": true,
        "PolicyId": "ANPAJ2UCCR6DPCEXAMPLE",
        "DefaultVersionId": "v1",
        "PolicyVersionList": [
          {
            "CreateDate": "2015-02-06T19:58:34Z",
            "VersionId": "v1",
            "Document": {
              "Version":"2012-10-17",
              "Statement": {
                "Effect":"Allow",
                "Action": [
                  "iam:CreatePolicy",
                  "iam:CreatePolicyVersion",
                  "iam:DeletePolicy",
                  "iam:DeletePolicyVersion",
                  "iam:GetPolicy",
                  "iam:GetPolicyVersion",
                  "iam:ListPolicies",
                  "iam:ListPolicyVersions",
                  "iam:SetDefaultPolicyVersion"
                ], 
                "Resource": "*"
              }
            },
            "IsDefaultVersion": true
          }
        ],
        "Path": "/",
        "Arn": "arn:aws:iam::123456789012:policy/create-update-delete-set-managed-policies",
        "UpdateDate": "2015-02-06T19:58:34Z"
      },
      {
        "PolicyName": "S3-read-only-specific-bucket",
        "CreateDate": "2015-01-21T21:39:41Z",
        "AttachmentCount": 1,
        "IsAttachable": true,
        "PolicyId": "ANPAJ4AE5446DAEXAMPLE",
        "DefaultVersionId": "v1",
        "PolicyVersionList": [
          {
            "CreateDate": "2015-01-21T21:39:41Z",
            "VersionId": "v1",
            "Document": {
              "Version":"2012-10-17",
              "Statement": [
                {
                  "Effect":"Allow",
                  "Action": [
                    "s3:Get*",
                    "s3:List*"
                  ],
                  "Resource": [
                    "arn:aws:s3:::example-bucket",
                    "arn:aws:s3:::example-bucket/*"
                  ]
                }
              ]
            },
            "IsDefaultVersion": true
          }
        ],  
        "Path": "/",
        "Arn": "arn:aws:iam::123456789012:policy/S3-read-only-specific-bucket",
        "UpdateDate": "2015-01-21T23:39:41Z"
      },
      {
        "PolicyName": "AmazonEC2FullAccess",
        "CreateDate": "2015-02-06T18:40:15Z",
        "AttachmentCount": 1,
        "IsAttachable": true,
        "PolicyId": "ANPAE3QWE5YT46TQ34WLG",
        "DefaultVersionId": "v1",
        "PolicyVersionList": [
          {
            "CreateDate": "2014-10-30T20:59:46Z",
            "VersionId": "v1",
            "Document": {
              "Version":"2012-10-17",
              "Statement": [
                {
                  "Action":"ec2:*",
                  "Effect":"Allow",
                  "Resource":"*"
                },
                {
                  "Effect":"Allow",
                  "Action":"elasticloadbalancing:*",
                  "Resource":"*"
                },
                {
                  "Effect":"Allow",
                  "Action":"cloudwatch:*",
                  "Resource":"*"
                },
                {
                  "Effect":"Allow",
                  "Action":"autoscaling:*",
                  "Resource":"*"
                }
              ]
            },
            "IsDefaultVersion": true
          }
        ],
        "Path": "/",
        "Arn": "arn:aws:iam::aws:policy/AmazonEC2FullAccess",
        "UpdateDate": "2015-02-06T18:40:15Z"
      }],
    "Marker": "EXAMPLEkakv9BCuUNFDtxWSyfzetYwEx2ADc8dnzfvERF5S6YMvXKx41t6gCl/eeaCX3Jo94/bKqezEAg8TEVS99EKFLxm3jtbpl25FDWEXAMPLE",
    "IsTruncated": true
  }"#;

const KEY_ID: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";
const KEY_ARN: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

fn load(v: Value) -> World {
    match World::from_value(&v) {
        Ok(w) => w,
        Err(e) => panic!("world should load: {e}"),
    }
}

fn load_err(v: Value) -> String {
    match World::from_value(&v) {
        Ok(_) => panic!("world should not load"),
        Err(e) => e.to_string(),
    }
}

fn example() -> World {
    match World::from_json_str(EXAMPLE) {
        Ok(w) => w,
        Err(e) => panic!("example world should load: {e}"),
    }
}

fn assert_round_trip(w: &World) {
    let v = w.to_value();
    let back = World::from_value(&v).map_err(|e| e.to_string());
    assert_eq!(back.as_ref(), Ok(w), "round trip of {v:#}");
}

// ---------------------------------------------------------------------------------------------
// Parts that need no policy parsing.

fn bucket_with(part: &str, value: Value) -> World {
    let mut b = json!({"name": "b", "account_id": "111122223333", "region": "eu-west-1"});
    if let Some(m) = b.as_object_mut() {
        m.insert(part.to_string(), value);
    }
    load(json!({"format_version": 1, "buckets": [b]}))
}

#[test]
fn bucket_parts_absent_unknown_known() {
    let unknown = json!({"unknown": "AccessDenied: needs s3:GetBucketAcl"});

    // Missing key and null are both absent.
    let w = load(json!({"buckets": [{"name": "b", "account_id": "1", "region": "us-east-1"}]}));
    let b = w.bucket("b").expect("bucket");
    assert!(b.policy.is_absent());
    assert!(b.public_access_block.is_absent());
    assert!(b.ownership.is_absent());
    assert!(b.acl.is_absent());
    assert!(b.encryption.is_absent());
    assert!(b.request_payment.is_absent());
    assert!(b.website.is_absent());
    assert!(b.objects.is_empty());
    assert!(!b.objects_complete);
    assert_eq!(b.effective_ownership(), Some(ObjectOwnership::ObjectWriter));
    assert_eq!(b.arn(), "arn:aws:s3:::b");
    assert_round_trip(&w);

    for part in [
        "policy",
        "public_access_block",
        "ownership_controls",
        "acl",
        "encryption",
        "request_payment",
        "website",
    ] {
        let w = bucket_with(part, Value::Null);
        assert_eq!(
            w.bucket("b").map(|b| b.to_value()[part].clone()),
            Some(Value::Null)
        );
        let w = bucket_with(part, unknown.clone());
        let b = w.bucket("b").expect("bucket");
        let reason = match part {
            "policy" => b.policy.unknown_reason(),
            "public_access_block" => b.public_access_block.unknown_reason(),
            "ownership_controls" => b.ownership.unknown_reason(),
            "acl" => b.acl.unknown_reason(),
            "encryption" => b.encryption.unknown_reason(),
            "request_payment" => b.request_payment.unknown_reason(),
            _ => b.website.unknown_reason(),
        };
        assert_eq!(
            reason,
            Some("AccessDenied: needs s3:GetBucketAcl"),
            "{part}"
        );
        assert_round_trip(&w);
    }
    assert_eq!(
        bucket_with("ownership_controls", unknown)
            .bucket("b")
            .and_then(|b| b.effective_ownership()),
        None
    );
}

#[test]
fn bucket_parts_known() {
    let w = bucket_with(
        "public_access_block",
        json!({"PublicAccessBlockConfiguration": {"BlockPublicAcls": true, "RestrictPublicBuckets": true}}),
    );
    let bpa = w
        .bucket("b")
        .and_then(|b| b.public_access_block.known().copied());
    assert_eq!(
        bpa,
        Some(PublicAccessBlock {
            block_public_acls: true,
            ignore_public_acls: false,
            block_public_policy: false,
            restrict_public_buckets: true
        })
    );
    // Bare configuration, too.
    let w = bucket_with("public_access_block", json!({"IgnorePublicAcls": true}));
    let bpa = w
        .bucket("b")
        .and_then(|b| b.public_access_block.known().copied());
    assert_eq!(bpa.map(|b| b.ignore_public_acls), Some(true));
    assert_round_trip(&w);

    let w = bucket_with(
        "ownership_controls",
        json!({"OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}}),
    );
    let b = w.bucket("b").expect("bucket");
    assert_eq!(
        b.ownership,
        Part::Known(ObjectOwnership::BucketOwnerEnforced)
    );
    assert_eq!(
        b.effective_ownership(),
        Some(ObjectOwnership::BucketOwnerEnforced)
    );
    assert_round_trip(&w);

    let w = bucket_with(
        "acl",
        json!({"Owner": {"DisplayName": "o", "ID": "abc"}, "Grants": [
            {"Grantee": {"Type": "CanonicalUser", "ID": "abc", "DisplayName": "o"}, "Permission": "FULL_CONTROL"},
            {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"},
            {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"}, "Permission": "READ_ACP"},
            {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/s3/LogDelivery"}, "Permission": "WRITE"},
            {"Grantee": {"Type": "AmazonCustomerByEmail", "EmailAddress": "a@example.com"}, "Permission": "WRITE_ACP"}
        ]}),
    );
    let acl = w
        .bucket("b")
        .and_then(|b| b.acl.known().cloned())
        .expect("acl");
    assert_eq!(acl.owner_id.as_deref(), Some("abc"));
    let grantees: Vec<_> = acl
        .grants
        .iter()
        .map(|g| (g.grantee.clone(), g.permission))
        .collect();
    assert_eq!(
        grantees,
        vec![
            (
                Grantee::CanonicalUser("abc".into()),
                AclPermission::FullControl
            ),
            (Grantee::AllUsers, AclPermission::Read),
            (Grantee::AuthenticatedUsers, AclPermission::ReadAcp),
            (Grantee::LogDelivery, AclPermission::Write),
            (
                Grantee::Email("a@example.com".into()),
                AclPermission::WriteAcp
            ),
        ]
    );
    assert_round_trip(&w);

    let w = bucket_with(
        "encryption",
        json!({"ServerSideEncryptionConfiguration": {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/x"}, "BucketKeyEnabled": true}]}}),
    );
    let enc = w.bucket("b").and_then(|b| b.encryption.known().cloned());
    assert_eq!(
        enc,
        Some(DefaultEncryption {
            algorithm: SseAlgorithm::AwsKms,
            kms_key_id: Some("alias/x".into()),
            bucket_key_enabled: true
        })
    );
    assert_round_trip(&w);

    let w = bucket_with("request_payment", json!({"Payer": "Requester"}));
    assert_eq!(
        w.bucket("b").map(|b| b.request_payment.clone()),
        Some(Part::Known(Payer::Requester))
    );
    assert_round_trip(&w);

    let site = json!({"IndexDocument": {"Suffix": "index.html"}});
    let w = bucket_with("website", site.clone());
    assert_eq!(
        w.bucket("b").and_then(|b| b.website.known().cloned()),
        Some(site)
    );
    assert_round_trip(&w);
}

#[test]
fn object_parts() {
    let w = load(
        json!({"buckets": [{"name": "b", "account_id": "1", "region": "us-east-1",
        "objects_complete": true,
        "objects": [
            {"key": "absent"},
            {"key": "null", "head": null, "acl": null},
            {"key": "unknown", "head": {"unknown": "403 on HeadObject"}, "acl": {"unknown": "AccessDenied"}},
            {"key": "known", "head": {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KEY_ARN, "BucketKeyEnabled": true,
                                       "VersionId": "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY", "ContentLength": 5},
                              "acl": {"Owner": {"ID": "c0ffee"}, "Grants": []}}
        ]}]}),
    );
    let b = w.bucket("b").expect("bucket");
    assert!(b.objects_complete);
    for key in ["absent", "null"] {
        let o = b.object(key).expect("object");
        assert!(o.head.is_absent() && o.acl.is_absent(), "{key}");
    }
    let o = b.object("unknown").expect("object");
    assert_eq!(o.head.unknown_reason(), Some("403 on HeadObject"));
    assert_eq!(o.acl.unknown_reason(), Some("AccessDenied"));
    let o = b.object("known").expect("object");
    assert_eq!(
        o.head.known(),
        Some(&ObjectHead {
            sse: Some(SseAlgorithm::AwsKms),
            kms_key_id: Some(KEY_ARN.into()),
            bucket_key_enabled: true,
            version_id: Some("3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY".into()),
            sse_customer_algorithm: None,
        })
    );
    assert_eq!(
        o.acl.known().and_then(|a| a.owner_id.as_deref()),
        Some("c0ffee")
    );
    assert!(b.object("missing").is_none());
    assert_round_trip(&w);
}

#[test]
fn account_parts_absent_unknown_known() {
    let w = load(json!({"accounts": [
        {"account_id": "111111111111"},
        {"account_id": "222222222222", "iam": null, "block_public_access": null, "organization": null},
        {"account_id": "333333333333", "canonical_user_id": "ABCDEF",
         "iam": {"unknown": "AccessDenied: iam:GetAccountAuthorizationDetails"},
         "block_public_access": {"unknown": "AccessDenied: s3:GetAccountPublicAccessBlock"},
         "organization": {"unknown": "not in an organization we can read"}},
        {"account_id": "444444444444",
         "iam": {"UserDetailList": [{"UserName": "u"}]},
         "block_public_access": {"PublicAccessBlockConfiguration": {"BlockPublicPolicy": true}},
         "organization": {"id": "o-1", "is_management_account": true}}
    ]}));
    for id in ["111111111111", "222222222222"] {
        let a = w.account(id).expect("account");
        assert!(
            a.iam.is_absent() && a.block_public_access.is_absent() && a.organization.is_absent()
        );
    }
    let a = w.account("333333333333").expect("account");
    assert_eq!(
        a.iam.unknown_reason(),
        Some("AccessDenied: iam:GetAccountAuthorizationDetails")
    );
    assert!(a.block_public_access.is_unknown() && a.organization.is_unknown());
    // Canonical ids match case-insensitively.
    assert_eq!(
        w.account_by_canonical_id("abcdef")
            .map(|a| a.account_id.as_str()),
        Some("333333333333")
    );
    let a = w.account("444444444444").expect("account");
    let iam = a.iam.known().expect("iam");
    // A hand-written user gets its ARN built from the account and path.
    assert_eq!(
        iam.user_by_name("u").map(|u| u.arn.as_str()),
        Some("arn:aws:iam::444444444444:user/u")
    );
    assert!(iam
        .user_by_arn("arn:aws:iam::444444444444:user/u")
        .is_some());
    assert_eq!(
        a.block_public_access.known().map(|b| b.block_public_policy),
        Some(true)
    );
    let org = a.organization.known().expect("org");
    assert!(org.is_management_account && org.scps.is_empty() && org.rcps.is_empty());
    assert!(w.account("999999999999").is_none());
    assert_round_trip(&w);
}

#[test]
fn cloudfront_and_kms_and_vpce_parts() {
    let key = |extra: Value| {
        let mut k =
            json!({"metadata": {"KeyId": KEY_ID, "Arn": KEY_ARN, "KeyManager": "CUSTOMER"}});
        if let (Some(m), Some(e)) = (k.as_object_mut(), extra.as_object()) {
            m.extend(e.clone());
        }
        k
    };
    let w = load(json!({
        "kms_keys": [key(json!({"policy": {"unknown": "AccessDenied: kms:GetKeyPolicy"},
                                 "grants": {"Grants": [{"GrantId": "g1", "GranteePrincipal": "arn:aws:iam::111122223333:role/R",
                                     "Operations": ["Decrypt", "GenerateDataKey"],
                                     "Constraints": {"EncryptionContextSubset": {"aws:s3:arn": "arn:aws:s3:::b"}}}]}}))],
        "cloudfront": {"unknown": "AccessDenied: cloudfront:ListDistributions"},
        "vpc_endpoints": [{"VpcEndpointId": "vpce-1", "VpcId": "vpc-1"},
                          {"VpcEndpointId": "vpce-2", "PolicyDocument": {"unknown": "not collected"}}]
    }));
    assert_eq!(
        w.cloudfront.unknown_reason(),
        Some("AccessDenied: cloudfront:ListDistributions")
    );
    assert!(w.distributions_for_bucket("b").is_empty());
    let k = w.kms_key(KEY_ARN, "", "").expect("key");
    assert!(k.enabled && !k.aws_managed);
    assert_eq!(k.account_id, "111122223333");
    assert_eq!(k.region, "us-east-1");
    assert!(k.policy.is_unknown());
    let grants = k.grants.known().expect("grants");
    assert_eq!(grants[0].grant_id.as_deref(), Some("g1"));
    assert!(grants[0].allows_operation("Decrypt"));
    assert_eq!(
        grants[0].encryption_context_subset,
        vec![("aws:s3:arn".to_string(), "arn:aws:s3:::b".to_string())]
    );
    assert!(w
        .vpc_endpoint("vpce-1")
        .is_some_and(|e| e.policy.is_absent()));
    assert!(w
        .vpc_endpoint("vpce-2")
        .is_some_and(|e| e.policy.is_unknown()));
    assert!(w.vpc_endpoint("vpce-3").is_none());
    assert_round_trip(&w);

    let w = load(json!({"kms_keys": [key(json!({"metadata": {"KeyMetadata": {
        "KeyId": KEY_ID, "Arn": KEY_ARN, "KeyManager": "AWS", "KeyState": "PendingDeletion"}}}))]}));
    let k = w.kms_key(KEY_ID, "111122223333", "us-east-1").expect("key");
    assert!(!k.enabled && k.aws_managed);
    assert_eq!(k.key_state.as_deref(), Some("PendingDeletion"));
    assert!(k.policy.is_absent() && k.grants.is_absent());
    assert_round_trip(&w);
}

// ---------------------------------------------------------------------------------------------
// Look-ups.

#[test]
fn kms_key_lookup_by_id_arn_alias() {
    let w = load(json!({"kms_keys": [
        {"metadata": {"KeyId": KEY_ID, "Arn": KEY_ARN}, "aliases": ["alias/reports", {"AliasName": "alias/other"}]},
        {"metadata": {"Arn": "arn:aws:kms:eu-west-1:111122223333:key/mrk-1"}, "aliases": ["alias/reports"]}
    ]}));
    let id = |k: Option<&KmsKey>| k.map(|k| k.key_id.clone());
    let (acct, region) = ("111122223333", "us-east-1");
    assert_eq!(id(w.kms_key(KEY_ID, acct, region)), Some(KEY_ID.into()));
    assert_eq!(
        id(w.kms_key(KEY_ARN, "999999999999", "ap-south-1")),
        Some(KEY_ID.into())
    );
    assert_eq!(
        id(w.kms_key("alias/reports", acct, region)),
        Some(KEY_ID.into())
    );
    assert_eq!(
        id(w.kms_key("alias/other", acct, region)),
        Some(KEY_ID.into())
    );
    assert_eq!(
        id(w.kms_key("arn:aws:kms:us-east-1:111122223333:alias/reports", "x", "y")),
        Some(KEY_ID.into())
    );
    // The same alias name in another region is another key; the key id comes from the ARN.
    assert_eq!(
        id(w.kms_key("alias/reports", acct, "eu-west-1")),
        Some("mrk-1".into())
    );
    assert_eq!(
        id(w.kms_key("mrk-1", acct, "eu-west-1")),
        Some("mrk-1".into())
    );
    // Key ids and alias names resolve in the given account and region only.
    assert!(w.kms_key(KEY_ID, "444455556666", region).is_none());
    assert!(w.kms_key(KEY_ID, acct, "eu-west-1").is_none());
    assert!(w.kms_key("alias/nope", acct, region).is_none());
    assert!(w
        .kms_key("arn:aws:kms:us-east-1:111122223333:key/nope", acct, region)
        .is_none());
}

#[test]
fn origin_domain_parsing() {
    let cases: &[(&str, Option<(&str, bool)>)] = &[
        ("b.s3.amazonaws.com", Some(("b", false))),
        (
            "my.dotted.bucket.s3.amazonaws.com",
            Some(("my.dotted.bucket", false)),
        ),
        ("b.s3.us-west-2.amazonaws.com", Some(("b", false))),
        ("b.s3-us-west-2.amazonaws.com", Some(("b", false))),
        ("b.s3-external-1.amazonaws.com", Some(("b", false))),
        ("b.s3.dualstack.eu-west-1.amazonaws.com", Some(("b", false))),
        ("B.S3.AMAZONAWS.COM", Some(("b", false))),
        ("s3-logs.s3.amazonaws.com", Some(("s3-logs", false))),
        ("b.s3.cn-north-1.amazonaws.com.cn", Some(("b", false))),
        ("b.s3-website-us-east-1.amazonaws.com", Some(("b", true))),
        ("b.s3-website.eu-central-1.amazonaws.com", Some(("b", true))),
        (
            "www.example.com.s3-website.eu-central-1.amazonaws.com",
            Some(("www.example.com", true)),
        ),
        ("s3.amazonaws.com", None),
        ("example.com", None),
        ("d111111abcdef8.cloudfront.net", None),
        ("ap-1234.s3-accesspoint.us-east-1.amazonaws.com", None),
        ("myelb-123.us-east-1.elb.amazonaws.com", None),
    ];
    for (domain, want) in cases {
        let got = parse_s3_origin_domain(domain);
        assert_eq!(
            got.as_ref().map(|(b, w)| (b.as_str(), *w)),
            *want,
            "{domain}"
        );
    }
}

#[test]
fn distributions_and_origins() {
    let w = load(json!({"cloudfront": {
        "distributions": [
            {"Distribution": {"Id": "E1", "ARN": "arn:aws:cloudfront::111122223333:distribution/E1", "DomainName": "d1.cloudfront.net",
             "DistributionConfig": {"DefaultRootObject": "", "Origins": {"Quantity": 3, "Items": [
                {"Id": "oac", "DomainName": "site.s3.us-east-1.amazonaws.com", "OriginPath": "/public",
                 "S3OriginConfig": {"OriginAccessIdentity": ""}, "OriginAccessControlId": "EOAC1"},
                {"Id": "oai", "DomainName": "legacy.s3.amazonaws.com",
                 "S3OriginConfig": {"OriginAccessIdentity": "origin-access-identity/cloudfront/EOAI1"}, "OriginAccessControlId": ""},
                {"Id": "web", "DomainName": "site.s3-website-us-east-1.amazonaws.com",
                 "CustomOriginConfig": {"HTTPPort": 80, "OriginProtocolPolicy": "http-only"}}]}}},
             "ETag": "E2QWRUHEXAMPLE"},
            {"Id": "E2", "ARN": "arn:aws:cloudfront::444455556666:distribution/E2", "DomainName": "d2.cloudfront.net",
             "DistributionConfig": {"DefaultRootObject": "index.html", "Origins": {"Quantity": 1, "Items": [
                {"Id": "o", "DomainName": "api.example.com", "CustomOriginConfig": {}}]}}}
        ],
        "origin_access_controls": [
            {"Id": "EOAC1", "OriginAccessControlConfig": {"Name": "site", "SigningBehavior": "always", "OriginAccessControlOriginType": "s3"}},
            {"Id": "EOAC2", "Name": "flat", "SigningBehavior": "never", "OriginAccessControlOriginType": "s3"}
        ],
        "origin_access_identities": [{"Id": "EOAI1", "S3CanonicalUserId": "cafe"}]
    }}));
    let cf = w.cloudfront.known().expect("cloudfront");
    let d1 = w.distribution("E1").expect("E1");
    assert_eq!(d1.account_id, "111122223333");
    assert_eq!(d1.default_root_object, None);
    let o = &d1.origins;
    assert_eq!(
        (
            o[0].bucket.as_deref(),
            o[0].oac_id.as_deref(),
            o[0].oai_id.as_deref(),
            o[0].website_endpoint
        ),
        (Some("site"), Some("EOAC1"), None, false)
    );
    assert_eq!(o[0].origin_path.as_deref(), Some("/public"));
    assert_eq!(
        (
            o[1].bucket.as_deref(),
            o[1].oac_id.as_deref(),
            o[1].oai_id.as_deref()
        ),
        (Some("legacy"), None, Some("EOAI1"))
    );
    assert_eq!(
        (o[2].bucket.as_deref(), o[2].website_endpoint),
        (Some("site"), true)
    );
    let d2 = w.distribution("E2").expect("E2");
    assert_eq!(d2.default_root_object.as_deref(), Some("index.html"));
    assert_eq!(d2.origins[0].bucket, None);

    let ids = |b: &str| {
        w.distributions_for_bucket(b)
            .iter()
            .map(|d| d.id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids("site"), vec!["E1"]); // once, although two origins point at it
    assert_eq!(ids("legacy"), vec!["E1"]);
    assert!(ids("api.example.com").is_empty());

    assert_eq!(
        cf.origin_access_control("EOAC2")
            .and_then(|o| o.signing_behavior.as_deref()),
        Some("never")
    );
    assert_eq!(
        cf.origin_access_control("EOAC1")
            .and_then(|o| o.name.as_deref()),
        Some("site")
    );
    let oai = cf.origin_access_identity("EOAI1").expect("oai");
    assert_eq!(oai.s3_canonical_user_id.as_deref(), Some("cafe"));
    assert_eq!(
        oai.principal_arn(),
        "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity EOAI1"
    );
    assert_round_trip(&w);
}

#[test]
fn reindex_after_mutation() {
    let mut w = load(
        json!({"buckets": [{"name": "a", "account_id": "1", "region": "us-east-1"}],
                            "accounts": [{"account_id": "1"}]}),
    );
    w.buckets.push(Bucket::new("new", "1", "us-east-1"));
    w.buckets[0].name = "renamed".into();
    w.accounts.push(Account::new("2"));
    assert!(w.bucket("new").is_none());
    w.reindex();
    assert!(w.bucket("a").is_none());
    assert_eq!(
        w.bucket("renamed").map(|b| b.account_id.as_str()),
        Some("1")
    );
    assert!(w.bucket("new").is_some());
    assert!(w.account("2").is_some());
    if let Some(b) = w.bucket_mut("new") {
        b.public_access_block = Part::Known(PublicAccessBlock::all());
    }
    assert!(w
        .bucket("new")
        .is_some_and(|b| b.public_access_block.is_known()));
    assert_round_trip(&w);
}

// ---------------------------------------------------------------------------------------------
// Errors name the input.

#[test]
fn error_messages_name_the_path() {
    assert_eq!(
        World::from_json_str("{\n  \"buckets\": [\n    {\"name\": \"b\",}\n  ]\n}")
            .map_err(|e| e.to_string()),
        Err("invalid JSON at line 3 column 18: trailing comma".to_string())
    );
    assert_eq!(
        load_err(json!({"format_version": 2})),
        "unsupported `format_version` 2"
    );
    assert_eq!(
        load_err(json!([])),
        "world: expected an object, found an array"
    );
    let three = json!({"name": "x", "account_id": "1"});
    assert_eq!(
        load_err(
            json!({"buckets": [three.clone(), json!({"name": "y", "account_id": "1"}), json!({"name": "z", "account_id": "1"}), {"account_id": "1"}]})
        ),
        "`buckets[3]`: missing `name`"
    );
    assert_eq!(
        load_err(json!({"buckets": [{"name": "b"}]})),
        "bucket `b`: missing `account_id`"
    );
    assert_eq!(
        load_err(json!({"buckets": [three.clone(), three]})),
        "world: duplicate bucket `x`"
    );
    assert_eq!(
        load_err(json!({"accounts": [{"account_id": "1"}, {"account_id": "1"}]})),
        "world: duplicate account `1`"
    );
    assert_eq!(
        load_err(json!({"accounts": [{"account_id": 111}]})),
        "`accounts[0]`: `account_id` must be a string, found a number"
    );
    assert_eq!(
        load_err(json!({"buckets": [{"name": "b", "account_id": "1", "ownership_controls": {"OwnershipControls": {"Rules": [{"ObjectOwnership": "Owner"}]}}}]})),
        "bucket `b`: `ownership_controls`: unknown `ObjectOwnership` `Owner` (expected `BucketOwnerEnforced`, `BucketOwnerPreferred` or `ObjectWriter`)"
    );
    assert_eq!(
        load_err(json!({"buckets": [{"name": "b", "account_id": "1", "acl": {"Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": "x"}, "Permission": "ALL"}]}}]})),
        "bucket `b`: `acl`: `Grants[0]`: unknown `Permission` `ALL` (expected `FULL_CONTROL`, `READ`, `WRITE`, `READ_ACP` or `WRITE_ACP`)"
    );
    assert_eq!(
        load_err(json!({"buckets": [{"name": "b", "account_id": "1", "policy": {"unknown": 3}}]})),
        "bucket `b`: bucket policy: `unknown` must be a string saying why the part could not be read"
    );
    assert_eq!(
        load_err(
            json!({"buckets": [{"name": "b", "account_id": "1", "objects": [{"key": "k", "head": {"BucketKeyEnabled": "maybe"}}]}]})
        ),
        "bucket `b`: object `k`: `head`: `BucketKeyEnabled` must be a boolean, found a string"
    );
    assert_eq!(
        load_err(json!({"buckets": [{"name": "b", "account_id": "1", "policy": "{\"Version\": "}]})),
        "bucket `b`: bucket policy: policy is not valid JSON (line 1 column 12): EOF while parsing a value"
    );
    assert_eq!(
        load_err(json!({"buckets": [{"name": "b", "account_id": "1", "policy": 7}]})),
        "bucket `b`: bucket policy: a policy document must be an object or a JSON string, found a number"
    );
    assert_eq!(
        load_err(json!({"kms_keys": [{"metadata": {"Arn": "arn:aws:s3:::b"}}]})),
        "kms key `arn:aws:s3:::b`: `Arn` is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)"
    );
    assert_eq!(
        load_err(
            json!({"accounts": [{"account_id": "111", "iam": {"RoleDetailList": [{"RoleName": "R", "RolePolicyList": [{"PolicyName": "P"}]}]}}]})
        ),
        "account `111`: iam: role `R`: inline policy `P`: missing `PolicyDocument`"
    );
    assert_eq!(
        load_err(
            json!({"accounts": [{"account_id": "111", "iam": {"UserDetailList": [{"UserName": "u"}, {"UserId": "x"}]}}]})
        ),
        "account `111`: iam: `UserDetailList[1]`: missing `UserName`"
    );
    assert_eq!(
        load_err(json!({"cloudfront": {"distributions": [{"Id": "E1", "ARN": "nope"}]}})),
        "distribution `E1`: `ARN` `nope` is not a CloudFront distribution ARN"
    );
}

#[test]
fn policy_errors_name_the_statement() {
    // The exact message after the statement is the policy parser's; the prefix is ours.
    let bad_effect = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "Ok", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"},
        {"Sid": "Ok2", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"},
        {"Sid": "DenyHttp", "Effect": "Maybe", "Principal": "*", "Action": "s3:*", "Resource": "*"}]});
    let err = World::from_value(
        &json!({"buckets": [{"name": "b", "account_id": "1", "policy": bad_effect}]}),
    )
    .expect_err("error");
    assert!(
        matches!(
            err,
            WorldError::Policy {
                statement: Some(2),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("bucket `b`: bucket policy: statement 2 (`DenyHttp`): "),
        "{err}"
    );
    assert_eq!(err.to_string().matches("statement 2").count(), 1, "{err}");
    assert_eq!(err.path(), "bucket `b`: bucket policy");

    let err = load_err(
        json!({"accounts": [{"account_id": "111", "iam": {"RoleDetailList": [{"RoleName": "R",
        "RolePolicyList": [{"PolicyName": "P", "PolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow"}]}}]}]}}]}),
    );
    assert!(
        err.starts_with("account `111`: iam: role `R`: inline policy `P`: statement 0: "),
        "{err}"
    );

    let err = load_err(
        json!({"accounts": [{"account_id": "111", "organization": {"id": "o-1", "scps": [{"target": "r-1",
        "policies": [{"Name": "Bad", "Content": "{\"Statement\": [{\"Effect\": \"Nope\"}]}"}]}]}}]}),
    );
    assert!(
        err.starts_with("account `111`: organization: scp level `r-1`: scp `Bad`: "),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------------
// Policy encodings.

#[test]
fn policy_encodings() {
    let doc = json!({"Version": "2012-10-17", "Statement": [{"Sid": "Read", "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::b/*", "Condition": {"StringLike": {"s3:prefix": ["a b/%*"]}}}]});
    let expected = parse_policy_value(&doc).expect("policy parses");
    let text = doc.to_string();
    let encoded: String =
        percent_encoding::utf8_percent_encode(&text, percent_encoding::NON_ALPHANUMERIC)
            .to_string();
    assert!(encoded.starts_with("%7B"));
    // Lower-case escapes, as some encoders write them.
    let encoded_lower = encoded.replace("%7B", "%7b");
    let forms = [
        ("object", doc.clone()),
        ("string", Value::String(text.clone())),
        ("percent-encoded", Value::String(encoded.clone())),
        ("percent-encoded, lower-case", Value::String(encoded_lower)),
    ];
    for (name, form) in forms {
        let w = load(json!({
            "buckets": [{"name": "b", "account_id": "1", "policy": form.clone()}],
            "vpc_endpoints": [{"VpcEndpointId": "vpce-1", "PolicyDocument": form.clone()}],
            "accounts": [{"account_id": "111122223333", "iam": {"UserDetailList": [{"UserName": "u",
                "UserPolicyList": [{"PolicyName": "p", "PolicyDocument": form.clone()}]}]}}]
        }));
        assert_eq!(
            w.bucket("b").and_then(|b| b.policy.known()),
            Some(&expected),
            "{name}"
        );
        assert_eq!(
            w.vpc_endpoint("vpce-1").and_then(|e| e.policy.known()),
            Some(&expected),
            "{name}"
        );
        let iam = w
            .account("111122223333")
            .and_then(|a| a.iam.known())
            .expect("iam");
        assert_eq!(
            iam.user_by_name("u").map(|u| &u.inline_policies[0].policy),
            Some(&expected),
            "{name}"
        );
        assert_round_trip(&w);
    }
    // Resource policies also come wrapped as `get-bucket-policy` / `get-key-policy` print them.
    for (name, form) in [
        ("get-bucket-policy output", json!({"Policy": text})),
        (
            "get-bucket-policy output, encoded",
            json!({"Policy": encoded.clone()}),
        ),
        (
            "get-key-policy output",
            json!({"PolicyName": "default", "Policy": doc.clone()}),
        ),
    ] {
        let w = load(json!({
            "buckets": [{"name": "b", "account_id": "1", "policy": form.clone()}],
            "kms_keys": [{"metadata": {"Arn": KEY_ARN}, "policy": form.clone()}]
        }));
        assert_eq!(
            w.bucket("b").and_then(|b| b.policy.known()),
            Some(&expected),
            "{name}"
        );
        assert_eq!(
            w.kms_key(KEY_ARN, "", "").and_then(|k| k.policy.known()),
            Some(&expected),
            "{name}"
        );
        assert_round_trip(&w);
    }
    // A JSON string that is valid JSON is not percent-decoded: `%2A` stays literal.
    let literal = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/%2A"}]});
    let w =
        load(json!({"buckets": [{"name": "b", "account_id": "1", "policy": literal.to_string()}]}));
    assert_eq!(
        w.bucket("b").and_then(|b| b.policy.known()),
        Some(&parse_policy_value(&literal).expect("parses"))
    );
}

// ---------------------------------------------------------------------------------------------
// IAM: real `get-account-authorization-details` output.

#[test]
fn iam_account_authorization_details_sample() {
    let details: Value = serde_json::from_str(AUTH_DETAILS_SAMPLE).expect("sample is JSON");
    let w = load(json!({"accounts": [{"account_id": "123456789012", "iam": details}]}));
    let iam = w
        .account("123456789012")
        .and_then(|a| a.iam.known())
        .expect("iam");
    assert_eq!(iam.users.len(), 3);
    assert_eq!(iam.groups.len(), 3);
    assert_eq!(iam.roles.len(), 1);
    assert_eq!(iam.managed_policies.len(), 3);

    let bob = iam
        .user_by_arn("arn:aws:iam::123456789012:user/Bob")
        .expect("Bob");
    assert_eq!(bob.name, "Bob");
    assert_eq!(bob.user_id.as_deref(), Some("AIDACKCEVSQ6C3EXAMPLE"));
    assert_eq!(bob.groups, vec!["Admins"]);
    assert_eq!(bob.inline_policies.len(), 1);
    assert_eq!(bob.inline_policies[0].name, "DenyBillingAndIAMPolicy");
    assert!(bob.inline_policies[0].policy.statement_was_object);
    assert_eq!(bob.permissions_boundary, None);
    assert!(bob.tags.is_empty());

    let role = iam.role_by_name("EC2role").expect("role");
    assert_eq!(role.arn, "arn:aws:iam::123456789012:role/EC2role");
    assert_eq!(role.role_id.as_deref(), Some("AROAFP4BKI7Y7TEXAMPLE"));
    assert!(role.trust_policy.is_some());
    assert_eq!(
        role.attached_policies
            .iter()
            .map(|a| a.arn.as_str())
            .collect::<Vec<_>>(),
        vec![
            "arn:aws:iam::aws:policy/AmazonS3FullAccess",
            "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess"
        ]
    );
    assert!(iam
        .role_by_arn("arn:aws:iam::123456789012:role/EC2role")
        .is_some());

    // The sample prints `AttachedManagedPolicies` of a group as one object; accepted as a list.
    let admins = iam.group_by_name("Admins").expect("Admins");
    assert_eq!(admins.attached_policies.len(), 1);
    assert_eq!(admins.attached_policies[0].name, "AdministratorAccess");
    let finance = iam.group_by_name("Finance").expect("Finance");
    assert_eq!(finance.inline_policies[0].name, "policygen-201310141157");

    let p = iam
        .managed_policy("arn:aws:iam::123456789012:policy/S3-read-only-specific-bucket")
        .expect("managed policy");
    assert_eq!(p.policy_id.as_deref(), Some("ANPAJ4AE5446DAEXAMPLE"));
    assert_eq!(p.default_version_id.as_deref(), Some("v1"));
    assert_eq!(p.document.known().map(|d| d.statements.len()), Some(1));
    assert!(iam
        .managed_policy_document("arn:aws:iam::aws:policy/AmazonEC2FullAccess")
        .is_known());
    // Attached but not in `Policies`: unknown, not absent.
    assert!(iam
        .managed_policy_document("arn:aws:iam::aws:policy/AdministratorAccess")
        .is_unknown());
    assert_round_trip(&w);
}

#[test]
fn managed_policy_default_version() {
    let doc = |action: &str| json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]});
    let w = load(
        json!({"accounts": [{"account_id": "1", "iam": {"Policies": [
            {"PolicyName": "flag", "Arn": "arn:aws:iam::1:policy/flag", "DefaultVersionId": "v1",
             "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": false, "Document": doc("s3:a")},
                                   {"VersionId": "v2", "IsDefaultVersion": true, "Document": doc("s3:b")}]},
            {"PolicyName": "byid", "Arn": "arn:aws:iam::1:policy/byid", "DefaultVersionId": "v2",
             "PolicyVersionList": [{"VersionId": "v1", "Document": doc("s3:a")}, {"VersionId": "v2", "Document": doc("s3:b")}]},
            {"PolicyName": "none", "Arn": "arn:aws:iam::1:policy/none", "DefaultVersionId": "v3", "PolicyVersionList": []},
            {"PolicyName": "encoded", "Arn": "arn:aws:iam::1:policy/encoded",
             "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": true,
                "Document": "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3Ab%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D"}]}
        ]}}]}),
    );
    let iam = w.account("1").and_then(|a| a.iam.known()).expect("iam");
    let b = parse_policy_value(&doc("s3:b")).expect("parses");
    let get = |n: &str| {
        iam.managed_policy(&format!("arn:aws:iam::1:policy/{n}"))
            .expect(n)
    };
    assert_eq!(get("flag").document.known(), Some(&b));
    assert_eq!(get("byid").document.known(), Some(&b));
    assert!(get("none").document.is_unknown());
    assert_eq!(get("encoded").document.known(), Some(&b));
    assert_round_trip(&w);
}

// ---------------------------------------------------------------------------------------------
// The bundled example.

#[test]
fn example_world_loads() {
    let w = example();
    assert_eq!(w.partition, "aws");
    assert_eq!(w.accounts.len(), 2);
    let owner = w.account("111122223333").expect("owner");
    assert_eq!(
        w.account_by_canonical_id(owner.canonical_user_id.as_deref().unwrap_or_default())
            .map(|a| a.account_id.as_str()),
        Some("111122223333")
    );
    let org = owner.organization.known().expect("org");
    assert_eq!(org.id, "o-a1b2c3d4e5");
    assert_eq!(
        org.scps
            .iter()
            .map(|l| l.target.as_str())
            .collect::<Vec<_>>(),
        vec!["r-a1b2", "ou-a1b2-22222222", "111122223333"]
    );
    assert_eq!(org.rcps.len(), 1);

    let b = w.bucket("example-reports").expect("bucket");
    assert_eq!(b.account_id, "111122223333");
    assert_eq!(
        b.effective_ownership(),
        Some(ObjectOwnership::BucketOwnerEnforced)
    );
    let policy = b.policy.known().expect("bucket policy");
    assert_eq!(
        policy.statements[0].sid.as_deref(),
        Some("DenyInsecureTransport")
    );
    let enc = b.encryption.known().expect("encryption");
    assert_eq!(enc.algorithm, SseAlgorithm::AwsKms);
    assert!(enc.bucket_key_enabled);
    let key = w
        .kms_key(
            enc.kms_key_id.as_deref().unwrap_or_default(),
            &b.account_id,
            &b.region,
        )
        .expect("default key");
    assert!(!key.aws_managed && key.enabled);
    assert_eq!(key.aliases, vec!["alias/example-reports"]);
    assert!(key.policy.is_known());
    assert_eq!(
        w.kms_key("alias/example-reports", "111122223333", "us-east-1")
            .map(|k| &k.arn),
        Some(&key.arn)
    );
    let aws_s3 = w
        .kms_key("alias/aws/s3", "111122223333", "us-east-1")
        .expect("aws/s3");
    assert!(aws_s3.aws_managed && aws_s3.policy.is_unknown() && aws_s3.grants.is_unknown());
    let obj = b.object("reports/2026/q1.csv").expect("object");
    assert_eq!(
        obj.head.known().and_then(|h| h.sse.clone()),
        Some(SseAlgorithm::AwsKms)
    );

    let reader = w
        .account("444455556666")
        .and_then(|a| a.iam.known())
        .expect("iam");
    let role = reader.role_by_name("DataReader").expect("DataReader");
    assert_eq!(
        role.permissions_boundary.as_deref(),
        Some("arn:aws:iam::444455556666:policy/DataBoundary")
    );
    assert!(reader
        .managed_policy_document("arn:aws:iam::444455556666:policy/DataBoundary")
        .is_known());
    let alice = reader.user_by_name("alice").expect("alice");
    assert_eq!(
        alice.tags,
        vec![("team".to_string(), "analytics".to_string())]
    );
    let group = reader.group_by_name(&alice.groups[0]).expect("group");
    let managed = reader
        .managed_policy(&group.attached_policies[0].arn)
        .expect("managed");
    assert_eq!(managed.default_version_id.as_deref(), Some("v2"));
    assert_eq!(
        managed.document.known().map(|d| d.statements.len()),
        Some(2)
    );

    let dists = w.distributions_for_bucket("example-site");
    assert_eq!(dists.len(), 1);
    assert_eq!(
        dists[0].origins[0].oac_id.as_deref(),
        Some("E2QWRUHEXAMPLE")
    );
    assert!(w.distributions_for_bucket("example-reports").is_empty());
    let vpce = w.vpc_endpoint("vpce-1a2b3c4d").expect("vpce");
    assert_eq!(vpce.vpc_id.as_deref(), Some("vpc-0a1b2c3d4e5f67890"));
    assert!(vpce.policy.is_known());
    assert_round_trip(&w);
}

#[test]
fn example_requests_name_things_in_the_example_world() {
    let w = example();
    for text in [
        include_str!("../examples/requests/datareader-get-report.json"),
        include_str!("../examples/requests/alice-get-report.json"),
        include_str!("../examples/requests/datareader-get-report-http.json"),
    ] {
        let r: Value = serde_json::from_str(text).expect("request is JSON");
        let bucket = w
            .bucket(r["bucket"].as_str().unwrap_or_default())
            .expect("bucket exists");
        assert!(bucket
            .object(r["key"].as_str().unwrap_or_default())
            .is_some());
        if let Some(e) = r.get("vpc_endpoint").and_then(Value::as_str) {
            assert!(w.vpc_endpoint(e).is_some());
        }
    }
}

#[test]
fn round_trip_is_stable_text() {
    let w = example();
    let once = w.to_value();
    let twice = World::from_value(&once)
        .map(|w| w.to_value())
        .map_err(|e| e.to_string());
    assert_eq!(twice, Ok(once.clone()));
    assert_eq!(once["format_version"], json!(1));
    // Parts print as null / {"unknown": ...} / the AWS shape.
    assert_eq!(once["buckets"][0]["website"], Value::Null);
    assert_eq!(
        once["kms_keys"][1]["grants"],
        json!({"unknown": "AccessDenied: needs kms:ListGrants"})
    );
    assert!(once["buckets"][0]["policy"]["Statement"].is_array());
}

//! The operation table and the authorizations each request needs.

use s3medic::request::{
    operation, operations, requirements, DataAccess, Request, RequestError, Requirement,
    RequirementRole, ResourceRef, Scope,
};
use serde_json::{json, Value};

const USER: &str = "arn:aws:iam::111122223333:user/alice";

fn request(extra: Value) -> Request {
    let mut v = json!({"principal": USER, "bucket": "b"});
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    Request::from_value(&v).unwrap_or_else(|e| panic!("{e}"))
}

fn reqs(extra: Value) -> Vec<Requirement> {
    requirements(&request(extra), "aws").unwrap_or_else(|e| panic!("{e}"))
}

/// (action, resource ARN) pairs.
fn pairs(extra: Value) -> Vec<(String, String)> {
    reqs(extra)
        .into_iter()
        .map(|r| (r.action.into_owned(), r.resource_arn))
        .collect()
}

fn p(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, r)| (a.to_string(), r.to_string()))
        .collect()
}

const OBJ: &str = "arn:aws:s3:::b/k";
const BKT: &str = "arn:aws:s3:::b";

#[test]
fn table_actions() {
    let cases: &[(&str, &str, Scope)] = &[
        ("ListBuckets", "s3:ListAllMyBuckets", Scope::Service),
        ("CreateBucket", "s3:CreateBucket", Scope::Bucket),
        ("DeleteBucket", "s3:DeleteBucket", Scope::Bucket),
        ("HeadBucket", "s3:ListBucket", Scope::Bucket),
        ("GetBucketLocation", "s3:GetBucketLocation", Scope::Bucket),
        ("ListObjects", "s3:ListBucket", Scope::Bucket),
        ("ListObjectsV2", "s3:ListBucket", Scope::Bucket),
        ("ListObjectVersions", "s3:ListBucketVersions", Scope::Bucket),
        (
            "ListMultipartUploads",
            "s3:ListBucketMultipartUploads",
            Scope::Bucket,
        ),
        ("GetBucketPolicy", "s3:GetBucketPolicy", Scope::Bucket),
        ("PutBucketPolicy", "s3:PutBucketPolicy", Scope::Bucket),
        ("DeleteBucketPolicy", "s3:DeleteBucketPolicy", Scope::Bucket),
        (
            "GetBucketPolicyStatus",
            "s3:GetBucketPolicyStatus",
            Scope::Bucket,
        ),
        ("GetBucketAcl", "s3:GetBucketAcl", Scope::Bucket),
        ("PutBucketAcl", "s3:PutBucketAcl", Scope::Bucket),
        (
            "GetBucketOwnershipControls",
            "s3:GetBucketOwnershipControls",
            Scope::Bucket,
        ),
        (
            "PutBucketOwnershipControls",
            "s3:PutBucketOwnershipControls",
            Scope::Bucket,
        ),
        (
            "DeleteBucketOwnershipControls",
            "s3:PutBucketOwnershipControls",
            Scope::Bucket,
        ),
        (
            "GetPublicAccessBlock",
            "s3:GetBucketPublicAccessBlock",
            Scope::Bucket,
        ),
        (
            "PutPublicAccessBlock",
            "s3:PutBucketPublicAccessBlock",
            Scope::Bucket,
        ),
        (
            "DeletePublicAccessBlock",
            "s3:PutBucketPublicAccessBlock",
            Scope::Bucket,
        ),
        (
            "GetBucketEncryption",
            "s3:GetEncryptionConfiguration",
            Scope::Bucket,
        ),
        (
            "PutBucketEncryption",
            "s3:PutEncryptionConfiguration",
            Scope::Bucket,
        ),
        (
            "DeleteBucketEncryption",
            "s3:PutEncryptionConfiguration",
            Scope::Bucket,
        ),
        (
            "GetBucketVersioning",
            "s3:GetBucketVersioning",
            Scope::Bucket,
        ),
        (
            "PutBucketVersioning",
            "s3:PutBucketVersioning",
            Scope::Bucket,
        ),
        ("GetBucketTagging", "s3:GetBucketTagging", Scope::Bucket),
        ("PutBucketTagging", "s3:PutBucketTagging", Scope::Bucket),
        ("DeleteBucketTagging", "s3:PutBucketTagging", Scope::Bucket),
        ("GetBucketWebsite", "s3:GetBucketWebsite", Scope::Bucket),
        ("PutBucketWebsite", "s3:PutBucketWebsite", Scope::Bucket),
        (
            "DeleteBucketWebsite",
            "s3:DeleteBucketWebsite",
            Scope::Bucket,
        ),
        ("GetBucketCors", "s3:GetBucketCORS", Scope::Bucket),
        ("PutBucketCors", "s3:PutBucketCORS", Scope::Bucket),
        ("GetBucketLogging", "s3:GetBucketLogging", Scope::Bucket),
        ("PutBucketLogging", "s3:PutBucketLogging", Scope::Bucket),
        (
            "GetBucketLifecycleConfiguration",
            "s3:GetLifecycleConfiguration",
            Scope::Bucket,
        ),
        (
            "PutBucketLifecycleConfiguration",
            "s3:PutLifecycleConfiguration",
            Scope::Bucket,
        ),
        (
            "GetBucketRequestPayment",
            "s3:GetBucketRequestPayment",
            Scope::Bucket,
        ),
        (
            "PutBucketRequestPayment",
            "s3:PutBucketRequestPayment",
            Scope::Bucket,
        ),
        (
            "GetObjectLockConfiguration",
            "s3:GetBucketObjectLockConfiguration",
            Scope::Bucket,
        ),
        (
            "PutObjectLockConfiguration",
            "s3:PutBucketObjectLockConfiguration",
            Scope::Bucket,
        ),
        ("GetObject", "s3:GetObject", Scope::Object),
        ("HeadObject", "s3:GetObject", Scope::Object),
        (
            "GetObjectAttributes",
            "s3:GetObjectAttributes",
            Scope::Object,
        ),
        ("GetObjectAcl", "s3:GetObjectAcl", Scope::Object),
        ("PutObjectAcl", "s3:PutObjectAcl", Scope::Object),
        ("GetObjectTagging", "s3:GetObjectTagging", Scope::Object),
        ("PutObjectTagging", "s3:PutObjectTagging", Scope::Object),
        (
            "DeleteObjectTagging",
            "s3:DeleteObjectTagging",
            Scope::Object,
        ),
        ("PutObject", "s3:PutObject", Scope::Object),
        ("CopyObject", "s3:PutObject", Scope::Object),
        ("DeleteObject", "s3:DeleteObject", Scope::Object),
        ("DeleteObjects", "s3:DeleteObject", Scope::Object),
        ("RestoreObject", "s3:RestoreObject", Scope::Object),
        ("SelectObjectContent", "s3:GetObject", Scope::Object),
        ("CreateMultipartUpload", "s3:PutObject", Scope::Object),
        ("UploadPart", "s3:PutObject", Scope::Object),
        ("UploadPartCopy", "s3:PutObject", Scope::Object),
        ("CompleteMultipartUpload", "s3:PutObject", Scope::Object),
        (
            "AbortMultipartUpload",
            "s3:AbortMultipartUpload",
            Scope::Object,
        ),
        ("ListParts", "s3:ListMultipartUploadParts", Scope::Object),
        ("GetObjectRetention", "s3:GetObjectRetention", Scope::Object),
        ("PutObjectRetention", "s3:PutObjectRetention", Scope::Object),
        ("GetObjectLegalHold", "s3:GetObjectLegalHold", Scope::Object),
        ("PutObjectLegalHold", "s3:PutObjectLegalHold", Scope::Object),
    ];
    for (name, action, scope) in cases {
        let spec = operation(name).unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(spec.action, *action, "{name}");
        assert_eq!(spec.scope, *scope, "{name}");
        // And the requirement lands on the right resource.
        let r = &reqs(
            json!({"operation": name, "key": "k", "copy_source": if spec.copy { json!("s/src") } else { Value::Null }}),
        )[0];
        assert_eq!(r.action, *action, "{name}");
        assert_eq!(r.role, RequirementRole::Primary);
        let (arn, res) = match scope {
            Scope::Service => ("*", ResourceRef::Service),
            Scope::Bucket => (BKT, ResourceRef::Bucket { bucket: "b".into() }),
            Scope::Object => (
                OBJ,
                ResourceRef::Object {
                    bucket: "b".into(),
                    key: "k".into(),
                },
            ),
        };
        assert_eq!(r.resource_arn, arn, "{name}");
        assert_eq!(r.resource, res, "{name}");
        assert_eq!(r.action_lower, action.to_ascii_lowercase());
    }
}

#[test]
fn table_is_consistent() {
    let ops = operations();
    for (i, o) in ops.iter().enumerate() {
        assert!(o.action.starts_with("s3:"), "{}", o.name);
        assert!(!o.doc.is_empty() && !o.purpose.is_empty(), "{}", o.name);
        assert!(
            ops[i + 1..]
                .iter()
                .all(|x| !x.name.eq_ignore_ascii_case(o.name)),
            "duplicate {}",
            o.name
        );
        assert_eq!(o.copy, matches!(o.name, "CopyObject" | "UploadPartCopy"));
        if o.version_action.is_some() {
            assert_eq!(o.scope, Scope::Object, "{}", o.name);
        }
    }
}

#[test]
fn case_insensitive_lookup() {
    assert_eq!(operation("getobject").unwrap().name, "GetObject");
    assert_eq!(operation("LISTOBJECTSV2").unwrap().name, "ListObjectsV2");
    assert!(operation("GetObjects").is_none());
    let r = request(json!({"operation": "headobject", "key": "k"}));
    assert_eq!(r.target.name(), "HeadObject");
}

#[test]
fn data_access() {
    let cases = [
        ("GetObject", DataAccess::Read),
        ("HeadObject", DataAccess::None),
        ("SelectObjectContent", DataAccess::Read),
        ("PutObject", DataAccess::Write),
        ("CopyObject", DataAccess::Write),
        ("CreateMultipartUpload", DataAccess::ReadWrite),
        ("UploadPart", DataAccess::ReadWrite),
        ("UploadPartCopy", DataAccess::ReadWrite),
        ("CompleteMultipartUpload", DataAccess::ReadWrite),
        ("DeleteObject", DataAccess::None),
        ("ListObjectsV2", DataAccess::None),
    ];
    for (name, data) in cases {
        assert_eq!(operation(name).unwrap().data, data, "{name}");
    }
    // HeadObject with checksum mode reads (kms:Decrypt for SSE-KMS).
    let r = reqs(
        json!({"operation": "HeadObject", "key": "k", "headers": {"x-amz-checksum-mode": "ENABLED"}}),
    );
    assert_eq!(r[0].data, DataAccess::Read);
}

#[test]
fn version_variants() {
    let cases = [
        ("GetObject", "s3:GetObjectVersion"),
        ("HeadObject", "s3:GetObjectVersion"),
        ("GetObjectAcl", "s3:GetObjectVersionAcl"),
        ("PutObjectAcl", "s3:PutObjectVersionAcl"),
        ("DeleteObject", "s3:DeleteObjectVersion"),
        ("DeleteObjects", "s3:DeleteObjectVersion"),
        ("GetObjectTagging", "s3:GetObjectVersionTagging"),
        ("PutObjectTagging", "s3:PutObjectVersionTagging"),
        ("DeleteObjectTagging", "s3:DeleteObjectVersionTagging"),
        // No version-specific action: unchanged.
        ("PutObjectRetention", "s3:PutObjectRetention"),
        ("RestoreObject", "s3:RestoreObject"),
    ];
    for (name, action) in cases {
        let r = reqs(json!({"operation": name, "key": "k", "version_id": "v1"}));
        assert_eq!(r[0].action, action, "{name}");
        assert_eq!(r[0].resource_arn, OBJ, "{name}");
        let plain = reqs(json!({"operation": name, "key": "k"}));
        assert_eq!(plain[0].action, operation(name).unwrap().action, "{name}");
    }
    let r = reqs(json!({"operation": "GetObject", "key": "k", "version_id": "v1"}));
    assert_eq!(r[0].purpose, "read the object version");
}

#[test]
fn get_object_attributes_needs_both() {
    assert_eq!(
        pairs(json!({"operation": "GetObjectAttributes", "key": "k"})),
        p(&[("s3:GetObjectAttributes", OBJ), ("s3:GetObject", OBJ)])
    );
    assert_eq!(
        pairs(json!({"operation": "GetObjectAttributes", "key": "k", "version_id": "v"})),
        p(&[
            ("s3:GetObjectVersionAttributes", OBJ),
            ("s3:GetObjectVersion", OBJ)
        ])
    );
}

#[test]
fn header_extras() {
    let cases: Vec<(Value, Vec<(String, String)>)> = vec![
        (
            json!({"operation": "PutObject", "headers": {"x-amz-acl": "bucket-owner-full-control"}}),
            p(&[("s3:PutObject", OBJ), ("s3:PutObjectAcl", OBJ)]),
        ),
        (
            json!({"operation": "PutObject", "headers": {"X-Amz-Grant-Read": "id=abc"}}),
            p(&[("s3:PutObject", OBJ), ("s3:PutObjectAcl", OBJ)]),
        ),
        (
            json!({"operation": "CreateMultipartUpload", "headers": {"x-amz-grant-full-control": "id=abc", "x-amz-tagging": "a=b"}}),
            p(&[
                ("s3:PutObject", OBJ),
                ("s3:PutObjectAcl", OBJ),
                ("s3:PutObjectTagging", OBJ),
            ]),
        ),
        (
            json!({"operation": "PutObject", "headers": {"x-amz-tagging": "a=b"}}),
            p(&[("s3:PutObject", OBJ), ("s3:PutObjectTagging", OBJ)]),
        ),
        (
            json!({"operation": "PutObject", "headers": {"x-amz-object-lock-mode": "GOVERNANCE", "x-amz-object-lock-retain-until-date": "2030-01-01T00:00:00Z"}}),
            p(&[("s3:PutObject", OBJ), ("s3:PutObjectRetention", OBJ)]),
        ),
        (
            json!({"operation": "PutObject", "headers": {"x-amz-object-lock-legal-hold": "ON"}}),
            p(&[("s3:PutObject", OBJ), ("s3:PutObjectLegalHold", OBJ)]),
        ),
        (
            json!({"operation": "DeleteObject", "version_id": "v", "headers": {"x-amz-bypass-governance-retention": "true"}}),
            p(&[
                ("s3:DeleteObjectVersion", OBJ),
                ("s3:BypassGovernanceRetention", OBJ),
            ]),
        ),
        (
            json!({"operation": "DeleteObjects", "headers": {"x-amz-bypass-governance-retention": "true"}}),
            p(&[
                ("s3:DeleteObject", OBJ),
                ("s3:BypassGovernanceRetention", OBJ),
            ]),
        ),
        (
            json!({"operation": "PutObjectRetention", "headers": {"x-amz-bypass-governance-retention": "true"}}),
            p(&[
                ("s3:PutObjectRetention", OBJ),
                ("s3:BypassGovernanceRetention", OBJ),
            ]),
        ),
        (
            json!({"operation": "PutObjectRetention", "headers": {"x-amz-bypass-governance-retention": "false"}}),
            p(&[("s3:PutObjectRetention", OBJ)]),
        ),
        // Headers that add nothing on these operations.
        (
            json!({"operation": "GetObject", "headers": {"x-amz-acl": "private", "x-amz-tagging": "a=b"}}),
            p(&[("s3:GetObject", OBJ)]),
        ),
        (
            json!({"operation": "PutObjectAcl", "headers": {"x-amz-acl": "private"}}),
            p(&[("s3:PutObjectAcl", OBJ)]),
        ),
        (
            json!({"operation": "PutObject", "headers": {"x-amz-server-side-encryption": "aws:kms"}}),
            p(&[("s3:PutObject", OBJ)]),
        ),
        (
            json!({"operation": "CreateBucket", "headers": {"x-amz-acl": "private", "x-amz-bucket-object-lock-enabled": "true", "x-amz-object-ownership": "BucketOwnerEnforced"}}),
            p(&[
                ("s3:CreateBucket", BKT),
                ("s3:PutBucketAcl", BKT),
                ("s3:PutBucketObjectLockConfiguration", BKT),
                ("s3:PutBucketVersioning", BKT),
                ("s3:PutBucketOwnershipControls", BKT),
            ]),
        ),
    ];
    for (mut extra, want) in cases {
        extra["key"] = json!("k");
        assert_eq!(pairs(extra.clone()), want, "{extra}");
    }
    let r = reqs(
        json!({"operation": "PutObject", "key": "k", "headers": {"x-amz-acl": "public-read"}}),
    );
    assert_eq!(r[1].role, RequirementRole::Extra);
    assert_eq!(
        r[1].purpose,
        "write the object ACL from the x-amz-acl header"
    );
    assert_eq!(r[1].data, DataAccess::None);
}

#[test]
fn copy_object() {
    let r = reqs(
        json!({"operation": "CopyObject", "key": "k", "copy_source": {"bucket": "src", "key": "a/b.txt"}}),
    );
    assert_eq!(r.len(), 2);
    assert_eq!(
        (r[0].action.as_ref(), r[0].resource_arn.as_str()),
        ("s3:PutObject", OBJ)
    );
    assert_eq!(r[0].role, RequirementRole::Primary);
    assert_eq!(r[0].data, DataAccess::Write);
    assert_eq!(r[1].action, "s3:GetObject");
    assert_eq!(r[1].resource_arn, "arn:aws:s3:::src/a/b.txt");
    assert_eq!(r[1].role, RequirementRole::CopySource);
    assert_eq!(r[1].data, DataAccess::Read);
    assert_eq!(
        r[1].resource,
        ResourceRef::Object {
            bucket: "src".into(),
            key: "a/b.txt".into()
        }
    );

    // A source version, tagging REPLACE and an ACL header.
    assert_eq!(
        pairs(
            json!({"operation": "CopyObject", "key": "k", "copy_source": "src/a?versionId=v1",
            "headers": {"x-amz-tagging-directive": "replace", "x-amz-tagging": "a=b", "x-amz-acl": "private"}})
        ),
        p(&[
            ("s3:PutObject", OBJ),
            ("s3:GetObjectVersion", "arn:aws:s3:::src/a"),
            ("s3:PutObjectAcl", OBJ),
            ("s3:PutObjectTagging", OBJ),
        ])
    );
    // x-amz-tagging without REPLACE is ignored by CopyObject (the tags are copied).
    assert_eq!(
        pairs(
            json!({"operation": "CopyObject", "key": "k", "copy_source": "src/a", "headers": {"x-amz-tagging": "a=b"}})
        ),
        p(&[
            ("s3:PutObject", OBJ),
            ("s3:GetObject", "arn:aws:s3:::src/a")
        ])
    );
    // UploadPartCopy.
    let r = reqs(json!({"operation": "UploadPartCopy", "key": "k", "copy_source": "src/a"}));
    assert_eq!(r[0].data, DataAccess::ReadWrite);
    assert_eq!(r[1].action, "s3:GetObject");
    assert_eq!(r[1].role, RequirementRole::CopySource);
}

#[test]
fn partitions() {
    let r = requirements(
        &request(json!({"operation": "GetObject", "key": "k"})),
        "aws-cn",
    )
    .unwrap();
    assert_eq!(r[0].resource_arn, "arn:aws-cn:s3:::b/k");
    let r = requirements(&request(json!({"operation": "ListBuckets"})), "aws-us-gov").unwrap();
    assert_eq!(r[0].resource_arn, "*");
}

#[test]
fn missing_parts() {
    let e = requirements(&request(json!({"operation": "GetObject"})), "aws").unwrap_err();
    assert_eq!(
        e,
        RequestError::MissingKey {
            operation: "GetObject".into()
        }
    );
    assert_eq!(
        e.to_string(),
        "`GetObject` is an object operation and needs a `key`"
    );
    let e = requirements(
        &request(json!({"operation": "CopyObject", "key": "k"})),
        "aws",
    )
    .unwrap_err();
    assert!(e.to_string().contains("needs a `copy_source`"), "{e}");
    let e = requirements(
        &request(json!({"operation": "GetObject", "key": "k", "copy_source": "s/k"})),
        "aws",
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("only used by CopyObject and UploadPartCopy"),
        "{e}"
    );
    let nob =
        Request::from_value(&json!({"principal": USER, "operation": "ListObjectsV2"})).unwrap();
    let e = requirements(&nob, "aws").unwrap_err();
    assert_eq!(e.to_string(), "`ListObjectsV2` needs a `bucket`");
    // ListBuckets needs no bucket.
    let lb = Request::from_value(&json!({"principal": USER, "operation": "ListBuckets"})).unwrap();
    assert_eq!(
        requirements(&lb, "aws").unwrap()[0].action,
        "s3:ListAllMyBuckets"
    );
}

#[test]
fn raw_actions() {
    let cases: &[(&str, Option<&str>, &str, &str)] = &[
        // (action as written, key, canonical action, resource)
        ("s3:GetObject", Some("k"), "s3:GetObject", OBJ),
        ("s3:getobject", Some("k"), "s3:GetObject", OBJ),
        ("s3:GetObject", None, "s3:GetObject", BKT),
        ("s3:ListBucket", Some("k"), "s3:ListBucket", BKT),
        (
            "s3:listbucketversions",
            Some("k"),
            "s3:ListBucketVersions",
            BKT,
        ),
        (
            "s3:ListBucketMultipartUploads",
            Some("k"),
            "s3:ListBucketMultipartUploads",
            BKT,
        ),
        ("s3:GetBucketPolicy", Some("k"), "s3:GetBucketPolicy", BKT),
        ("s3:PutBucketAcl", Some("k"), "s3:PutBucketAcl", BKT),
        ("s3:CreateBucket", Some("k"), "s3:CreateBucket", BKT),
        (
            "s3:GetEncryptionConfiguration",
            Some("k"),
            "s3:GetEncryptionConfiguration",
            BKT,
        ),
        (
            "s3:PutLifecycleConfiguration",
            Some("k"),
            "s3:PutLifecycleConfiguration",
            BKT,
        ),
        (
            "s3:GetBucketObjectLockConfiguration",
            Some("k"),
            "s3:GetBucketObjectLockConfiguration",
            BKT,
        ),
        (
            "s3:GetInventoryConfiguration",
            Some("k"),
            "s3:GetInventoryConfiguration",
            BKT,
        ),
        (
            "s3:ListMultipartUploadParts",
            Some("k"),
            "s3:ListMultipartUploadParts",
            OBJ,
        ),
        (
            "s3:GetObjectVersionAcl",
            Some("k"),
            "s3:GetObjectVersionAcl",
            OBJ,
        ),
        (
            "s3:BypassGovernanceRetention",
            Some("k"),
            "s3:BypassGovernanceRetention",
            OBJ,
        ),
        ("s3:ListAllMyBuckets", Some("k"), "s3:ListAllMyBuckets", "*"),
        ("s3:ReplicateObject", Some("k"), "s3:ReplicateObject", OBJ),
        // Unknown to s3medic: kept as written.
        ("s3:SomeFutureAction", Some("k"), "s3:SomeFutureAction", OBJ),
        ("s3:SomeFutureAction", None, "s3:SomeFutureAction", BKT),
    ];
    for (action, key, canonical, arn) in cases {
        let mut extra = json!({"action": action});
        if let Some(k) = key {
            extra["key"] = json!(k);
        }
        let r = reqs(extra);
        assert_eq!(r.len(), 1, "{action}");
        assert_eq!(r[0].action, *canonical, "{action}");
        assert_eq!(
            r[0].action_lower,
            canonical.to_ascii_lowercase(),
            "{action}"
        );
        assert_eq!(r[0].resource_arn, *arn, "{action} {key:?}");
        assert_eq!(r[0].role, RequirementRole::Primary);
    }
    assert_eq!(
        reqs(json!({"action": "s3:GetObject", "key": "k"}))[0].data,
        DataAccess::Read
    );
    assert_eq!(
        reqs(json!({"action": "s3:PutObject", "key": "k"}))[0].data,
        DataAccess::Write
    );
    assert_eq!(
        reqs(json!({"action": "s3:ListBucket"}))[0].data,
        DataAccess::None
    );
    // A raw service action needs no bucket.
    let r =
        Request::from_value(&json!({"principal": USER, "action": "s3:ListAllMyBuckets"})).unwrap();
    assert_eq!(
        requirements(&r, "aws").unwrap()[0].resource,
        ResourceRef::Service
    );
}

#[test]
fn unknown_operations_suggest() {
    let cases: &[(&str, &[&str])] = &[
        ("GetObjcet", &["GetObject"]),
        ("ListObjectV2", &["ListObjectsV2"]),
        ("ListBucket", &["ListBuckets"]),
        ("PutBucketPolicies", &["PutBucketPolicy"]),
    ];
    for (name, want) in cases {
        let e = Request::from_value(
            &json!({"principal": USER, "operation": name, "bucket": "b", "key": "k"}),
        )
        .unwrap_err();
        match &e {
            RequestError::UnknownOperation {
                name: n,
                suggestions,
            } => {
                assert_eq!(n, name);
                for w in *want {
                    assert!(
                        suggestions.iter().any(|s| s == w),
                        "{name}: {suggestions:?}"
                    );
                }
                assert_eq!(suggestions[0], want[0], "{name}: {suggestions:?}");
            }
            other => panic!("{name}: {other:?}"),
        }
        let text = e.to_string();
        assert!(
            text.starts_with(&format!(
                "unknown operation `{name}`; did you mean `{}`",
                want[0]
            )),
            "{text}"
        );
    }
    let e =
        Request::from_value(&json!({"principal": USER, "operation": "Frobnicate", "bucket": "b"}))
            .unwrap_err();
    assert_eq!(
        e.to_string(),
        "unknown operation `Frobnicate` (any s3 action can also be given as a raw iam action in `action`)"
    );
    let e = Request::from_value(
        &json!({"principal": USER, "operation": "s3:GetObject", "bucket": "b"}),
    )
    .unwrap_err();
    let text = e.to_string();
    assert!(text.contains("did you mean `GetObject`"), "{text}");
    assert!(text.contains("goes in `action`"), "{text}");
}

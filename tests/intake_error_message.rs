//! Reading S3 errors as users get them (tests/intake/errors, from the AWS documentation and SDK
//! outputs): every field each form gives, the request drafted from it, and clear errors for what is
//! not an AWS error.

use std::path::PathBuf;

use s3medic::intake::error_message::{parse, DenialReason, ErrorForm, ErrorReport, PolicyType};
use s3medic::intake::ErrorMessageError;

fn fixture(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/intake/errors")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn read(name: &str) -> ErrorReport {
    parse(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

const MARY_123: &str = "arn:aws:iam::123456789012:user/MaryMajor";
const MARY_777: &str = "arn:aws:iam::777788889999:user/MaryMajor";
const OBJECT_ARN: &str = "arn:aws:s3:::amzn-s3-demo-bucket1/object-name";

#[test]
fn cli_message_gives_code_and_operation() {
    let r = read("cli-put-access-denied.txt");
    assert_eq!(r.form, ErrorForm::Cli);
    assert_eq!(r.code.as_deref(), Some("AccessDenied"));
    assert_eq!(r.operation.as_deref(), Some("PutObject"));
    assert_eq!(r.message.as_deref(), Some("Access Denied"));
    assert!(r.is_access_denied());
    assert_eq!(r.reason, None);
    assert_eq!(r.caller, None);
    let d = r.to_draft().expect("draft");
    assert_eq!(d.operation.as_deref(), Some("PutObject"));
    assert_eq!(d.missing(), vec!["principal", "bucket", "key"]);

    let old = read("cli-old-client-error.txt");
    assert_eq!(old.code.as_deref(), Some("AccessDenied"));
    assert_eq!(old.operation.as_deref(), Some("PutObject"));
}

#[test]
fn aws_s3_transfer_prefix_names_the_object() {
    let r = read("cli-download-failed.txt");
    assert_eq!(r.operation.as_deref(), Some("GetObject"));
    assert_eq!(r.bucket.as_deref(), Some("amzn-s3-demo-bucket"));
    assert_eq!(r.key.as_deref(), Some("object.txt"));
    let d = r.to_draft().expect("draft");
    assert_eq!(d.missing(), vec!["principal"]);
}

#[test]
fn head_request_403_is_an_access_denial() {
    let r = read("cli-head-forbidden.txt");
    assert_eq!(r.code.as_deref(), Some("403"));
    assert_eq!(r.status, Some(403));
    assert_eq!(r.operation.as_deref(), Some("HeadObject"));
    assert!(r.is_access_denied());
}

/// Every documented policy type, explicit and implicit, with and without the resource.
#[test]
fn enhanced_messages_name_caller_action_resource_and_policy_type() {
    let cases: &[(&str, &str, bool, Option<PolicyType>, bool)] = &[
        // (file, caller, has resource, policy type (None: the reason has none), explicit)
        (
            "scp-implicit.txt",
            MARY_777,
            false,
            Some(PolicyType::ServiceControl),
            false,
        ),
        (
            "scp-explicit.txt",
            MARY_777,
            false,
            Some(PolicyType::ServiceControl),
            true,
        ),
        (
            "rcp-explicit.txt",
            MARY_777,
            true,
            Some(PolicyType::ResourceControl),
            true,
        ),
        (
            "vpce-implicit.txt",
            MARY_123,
            false,
            Some(PolicyType::VpcEndpoint),
            false,
        ),
        (
            "vpce-explicit.txt",
            MARY_123,
            true,
            Some(PolicyType::VpcEndpoint),
            true,
        ),
        (
            "boundary-implicit.txt",
            MARY_123,
            true,
            Some(PolicyType::PermissionsBoundary),
            false,
        ),
        (
            "boundary-explicit.txt",
            MARY_777,
            false,
            Some(PolicyType::PermissionsBoundary),
            true,
        ),
        (
            "session-implicit.txt",
            MARY_123,
            false,
            Some(PolicyType::Session),
            false,
        ),
        (
            "session-explicit.txt",
            MARY_123,
            true,
            Some(PolicyType::Session),
            true,
        ),
        (
            "resource-implicit.txt",
            MARY_123,
            false,
            Some(PolicyType::ResourceBased),
            false,
        ),
        (
            "resource-explicit.txt",
            MARY_123,
            true,
            Some(PolicyType::ResourceBased),
            true,
        ),
        (
            "identity-implicit.txt",
            MARY_123,
            false,
            Some(PolicyType::IdentityBased),
            false,
        ),
        (
            "identity-explicit.txt",
            MARY_123,
            true,
            Some(PolicyType::IdentityBased),
            true,
        ),
    ];
    for (file, caller, has_resource, policy, explicit) in cases {
        let r = read(file);
        assert_eq!(r.caller.as_deref(), Some(*caller), "{file}");
        assert_eq!(r.action.as_deref(), Some("s3:GetObject"), "{file}");
        assert_eq!(r.code.as_deref(), Some("AccessDenied"), "{file}");
        assert!(r.is_access_denied(), "{file}");
        if *has_resource {
            assert_eq!(r.resource.as_deref(), Some(OBJECT_ARN), "{file}");
            assert_eq!(r.bucket.as_deref(), Some("amzn-s3-demo-bucket1"), "{file}");
            assert_eq!(r.key.as_deref(), Some("object-name"), "{file}");
        } else {
            assert_eq!(r.resource, None, "{file}");
            assert_eq!(r.bucket, None, "{file}");
        }
        let expected = match (policy, explicit) {
            (p, true) => DenialReason::Explicit {
                policy: p.clone(),
                policy_arn: None,
            },
            (Some(p), false) => DenialReason::Implicit { policy: p.clone() },
            (None, false) => unreachable!("every implicit message names its type"),
        };
        assert_eq!(r.reason.as_ref(), Some(&expected), "{file}");
        // The action names the operation of the same name.
        let d = r.to_draft().expect("draft");
        assert_eq!(d.operation.as_deref(), Some("GetObject"), "{file}");
        assert_eq!(d.principal.as_deref(), Some(*caller), "{file}");
    }
}

#[test]
fn explicit_denies_carry_the_policy_arn() {
    let r = read("rcp-explicit-arn.txt");
    assert_eq!(
        r.reason,
        Some(DenialReason::Explicit {
            policy: Some(PolicyType::ResourceControl),
            policy_arn: Some(
                "arn:aws:organizations::777788889999:policy/o-exampleorgid/resource_control_policy/p-examplepolicyid"
                    .into()
            ),
        })
    );
    let r = read("identity-explicit-arn.txt");
    assert_eq!(r.action.as_deref(), Some("s3:DeleteObject"));
    assert_eq!(r.key.as_deref(), Some("cli-tests/phase4-test.txt"));
    assert_eq!(
        r.reason,
        Some(DenialReason::Explicit {
            policy: Some(PolicyType::IdentityBased),
            policy_arn: Some("arn:aws:iam::111122223333:policy/phase4-explicit-deny-policy".into()),
        })
    );
    assert_eq!(
        r.stated().as_deref(),
        Some("an explicit deny in an identity-based policy (arn:aws:iam::111122223333:policy/phase4-explicit-deny-policy)")
    );
}

#[test]
fn block_public_access_and_ssec_refusals() {
    let r = read("bpa-block-public-acls.txt");
    assert_eq!(r.reason, Some(DenialReason::BlockPublicAcls));
    assert_eq!(r.operation.as_deref(), Some("CopyObject"));
    // The documentation writes the user as an sts ARN; it is an IAM user.
    let d = r.to_draft().expect("draft");
    assert_eq!(d.principal.as_deref(), Some(MARY_123));
    assert_eq!(d.operation.as_deref(), Some("CopyObject"));
    assert_eq!(d.key.as_deref(), Some("object-name"));

    let r = read("bpa-block-public-policy.txt");
    assert_eq!(r.reason, Some(DenialReason::BlockPublicPolicy));
    let d = r.to_draft().expect("draft");
    // PutBucketPolicy is a bucket operation: the `/object-name` of the example is dropped.
    assert_eq!(d.operation.as_deref(), Some("PutBucketPolicy"));
    assert_eq!(d.bucket.as_deref(), Some("amzn-s3-demo-bucket1"));
    assert_eq!(d.key, None);
    assert_eq!(d.missing(), Vec::<&str>::new());

    let r = read("ssec-blocked.txt");
    assert_eq!(r.reason, Some(DenialReason::SseCBlocked));
    assert_eq!(r.caller.as_deref(), Some(MARY_123));
    assert_eq!(r.action.as_deref(), Some("s3:PutObject"));
}

#[test]
fn xml_bodies() {
    let r = read("xml-access-denied.xml");
    assert_eq!(r.form, ErrorForm::Xml);
    assert_eq!(r.code.as_deref(), Some("AccessDenied"));
    assert_eq!(r.message.as_deref(), Some("Access Denied"));
    assert_eq!(
        r.request_id.as_deref(),
        Some("656c76696e6727732072657175657374")
    );
    assert!(r.host_id.as_deref().is_some_and(|h| h.ends_with("==")));
    assert!(r.is_access_denied());

    let r = read("xml-no-such-key.xml");
    assert_eq!(r.code.as_deref(), Some("NoSuchKey"));
    assert_eq!(r.bucket.as_deref(), Some("mybucket"));
    assert_eq!(r.key.as_deref(), Some("myfoto.jpg"));
    assert!(!r.is_access_denied());

    let r = read("xml-enhanced.xml");
    assert_eq!(r.caller.as_deref(), Some(MARY_123));
    assert_eq!(r.resource.as_deref(), Some(OBJECT_ARN));
    assert_eq!(
        r.reason,
        Some(DenialReason::Implicit {
            policy: PolicyType::IdentityBased
        })
    );
    let d = r.to_draft().expect("draft");
    assert_eq!(d.missing(), Vec::<&str>::new());
    assert!(d.complete("test").is_ok());
}

#[test]
fn sdk_strings() {
    let r = read("go-sdk-v2.txt");
    assert_eq!(r.form, ErrorForm::Sdk);
    assert_eq!(r.operation.as_deref(), Some("GetObject"));
    assert_eq!(r.status, Some(403));
    assert_eq!(r.code.as_deref(), Some("AccessDenied"));
    assert_eq!(r.request_id.as_deref(), Some("4442587FB7D0A2F9"));
    assert_eq!(r.message.as_deref(), Some("Access Denied"));

    let r = read("java-sdk-v1.txt");
    assert_eq!(r.form, ErrorForm::Sdk);
    assert_eq!(r.code.as_deref(), Some("AccessDenied"));
    assert_eq!(r.status, Some(403));
    assert_eq!(r.message.as_deref(), Some("Access Denied"));
    assert_eq!(r.request_id.as_deref(), Some("4442587FB7D0A2F9"));
}

#[test]
fn a_bare_access_denied_is_plain() {
    let r = parse("Access Denied").expect("plain");
    assert_eq!(r.form, ErrorForm::Plain);
    assert!(r.is_access_denied());
    let r = parse("HTTP/1.1 403 Forbidden").expect("plain");
    assert_eq!(r.status, Some(403));
}

#[test]
fn what_is_not_an_aws_error_is_refused_by_name() {
    assert_eq!(parse("  \n "), Err(ErrorMessageError::Empty));
    match parse("segmentation fault (core dumped)") {
        Err(ErrorMessageError::NotRecognised { snippet }) => {
            assert_eq!(snippet, "segmentation fault (core dumped)")
        }
        other => panic!("{other:?}"),
    }
    match parse("<Error><Message>no code</Message></Error>") {
        Err(ErrorMessageError::BadXml { why }) => assert!(why.contains("<Code>"), "{why}"),
        other => panic!("{other:?}"),
    }
    // An operation that is no S3 operation, with no S3 action to fall back on.
    let r = parse(
        "An error occurred (AccessDenied) when calling the GetObjekt operation: Access Denied",
    )
    .expect("reads");
    match r.to_draft() {
        Err(e @ ErrorMessageError::UnknownOperation { .. }) => {
            let text = e.to_string();
            assert!(text.contains("`GetObjekt`"), "{text}");
            assert!(text.contains("`GetObject`"), "{text}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn kms_denials_name_no_s3_operation() {
    // S3 passes KMS's message through for SSE-KMS objects; the action is not an S3 one, so the
    // operation must come from the CLI prefix or a flag.
    let text = "An error occurred (AccessDenied) when calling the GetObject operation: User: arn:aws:iam::123456789012:user/MaryMajor is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab because no resource-based policy allows the kms:Decrypt action";
    let r = parse(text).expect("reads");
    assert_eq!(r.action.as_deref(), Some("kms:Decrypt"));
    assert_eq!(r.bucket, None);
    let d = r.to_draft().expect("draft");
    assert_eq!(d.operation.as_deref(), Some("GetObject"));
    assert_eq!(d.missing(), vec!["bucket", "key"]);
    let without_op = text
        .split_once("operation: ")
        .map(|(_, m)| m)
        .expect("split");
    let d = parse(without_op).expect("reads").to_draft().expect("draft");
    assert_eq!(d.operation, None);
    assert_eq!(d.action, None);
    assert!(d.missing().contains(&"operation"));
}

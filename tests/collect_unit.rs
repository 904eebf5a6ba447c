//! Unit tests of the live collection layer that need no network: error classification, and the
//! JSON assembly helpers (SDK types built with their builders) producing Worlds that
//! `World::from_value` accepts, with absent and unknown parts as specified.

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ErrorMetadata, SdkError};
use aws_sdk_s3::operation::get_bucket_policy::GetBucketPolicyError;
use aws_sdk_s3::operation::get_bucket_request_payment::GetBucketRequestPaymentError;
use aws_sdk_s3::primitives::SdkBody;
use s3medic::collect::errors::{
    classify, short_detail, ApiFailure, Classified, FailureKind, MAX_DETAIL_CHARS, NOT_FOUND,
    NO_SUCH_BUCKET_POLICY, NO_SUCH_KEY, NO_SUCH_PUBLIC_ACCESS_BLOCK, OWNERSHIP_CONTROLS_NOT_FOUND,
    SSE_CONFIG_NOT_FOUND,
};
use s3medic::collect::s3::BucketParts;
use s3medic::collect::{account, cloudfront, iam, kms, principal_account, s3, sanitize};
use s3medic::world::{ObjectOwnership, Part, Payer, SseAlgorithm, World};
use serde_json::{json, Value};

fn svc(code: Option<&str>, msg: Option<&str>, status: u16) -> ApiFailure {
    ApiFailure::service(code, msg, Some(status))
}

fn unknown(s: &str) -> Classified {
    Classified::Unknown(s.to_string())
}

// ---------------------------------------------------------------- classification

#[test]
fn access_denied_names_the_permission() {
    let f = svc(Some("AccessDenied"), Some("Access Denied"), 403);
    assert_eq!(
        classify(&f, "s3:GetBucketPolicy", &[NO_SUCH_BUCKET_POLICY]),
        unknown("AccessDenied: needs s3:GetBucketPolicy")
    );
    let f = svc(Some("AllAccessDisabled"), None, 403);
    assert_eq!(
        classify(&f, "s3:GetBucketAcl", &[]),
        unknown("AllAccessDisabled: needs s3:GetBucketAcl")
    );
    let f = svc(Some("AccessDeniedException"), Some("no"), 400);
    assert_eq!(
        classify(&f, "kms:GetKeyPolicy", &[]),
        unknown("AccessDeniedException: needs kms:GetKeyPolicy")
    );
}

#[test]
fn empty_403_falls_back_to_the_status() {
    // moto's bucket-policy deny: 403 without a body.
    let f = svc(None, None, 403);
    assert!(f.is_access_denied());
    assert_eq!(
        classify(&f, "s3:GetObject", &[NOT_FOUND]),
        unknown("AccessDenied: needs s3:GetObject")
    );
}

#[test]
fn not_found_codes_are_absent() {
    for (code, perm) in [
        (NO_SUCH_BUCKET_POLICY, "s3:GetBucketPolicy"),
        (NO_SUCH_PUBLIC_ACCESS_BLOCK, "s3:GetBucketPublicAccessBlock"),
        (
            OWNERSHIP_CONTROLS_NOT_FOUND,
            "s3:GetBucketOwnershipControls",
        ),
        (SSE_CONFIG_NOT_FOUND, "s3:GetEncryptionConfiguration"),
    ] {
        let f = svc(Some(code), Some("not there"), 404);
        assert_eq!(classify(&f, perm, &[code]), Classified::Absent, "{code}");
        // The same code where it does not mean "absent" is unknown, never absent.
        assert_eq!(
            classify(&f, perm, &[]),
            unknown(&format!("{code}: not there")),
            "{code}"
        );
    }
    // Account BPA through S3 Control: same code.
    let f = svc(Some(NO_SUCH_PUBLIC_ACCESS_BLOCK), None, 404);
    assert_eq!(
        classify(
            &f,
            "s3:GetAccountPublicAccessBlock",
            &[NO_SUCH_PUBLIC_ACCESS_BLOCK]
        ),
        Classified::Absent
    );
    // HeadObject's 404 has no body: the status stands for NotFound.
    let f = svc(None, None, 404);
    assert_eq!(
        classify(&f, "s3:GetObject", &[NOT_FOUND, NO_SUCH_KEY]),
        Classified::Absent
    );
    assert_eq!(classify(&f, "s3:GetObject", &[]), unknown("NotFound"));
}

#[test]
fn other_errors_are_unknown_with_code_and_message() {
    let f = svc(Some("NotImplemented"), Some("not yet"), 500);
    assert_eq!(
        classify(&f, "s3:GetBucketPolicy", &[NO_SUCH_BUCKET_POLICY]),
        unknown("NotImplemented: not yet")
    );
    let f = svc(None, None, 500);
    assert_eq!(classify(&f, "s3:GetBucketAcl", &[]), unknown("HTTP 500"));
    let f = svc(Some("SlowDown"), None, 503);
    assert_eq!(classify(&f, "s3:GetBucketAcl", &[]), unknown("SlowDown"));
    let f = ApiFailure {
        kind: FailureKind::Dispatch,
        code: None,
        message: Some("connection refused".into()),
        status: None,
    };
    assert_eq!(
        classify(&f, "s3:GetBucketAcl", &[NO_SUCH_BUCKET_POLICY]),
        unknown("connection refused")
    );
}

#[test]
fn sdk_errors_are_reduced_to_code_message_status() {
    let meta = ErrorMetadata::builder()
        .code("AccessDenied")
        .message("Access Denied")
        .build();
    let raw = HttpResponse::new(403u16.try_into().unwrap(), SdkBody::empty());
    let err: SdkError<GetBucketPolicyError, HttpResponse> =
        SdkError::service_error(GetBucketPolicyError::generic(meta), raw);
    let f = ApiFailure::from_sdk(&err);
    assert_eq!(f.kind, FailureKind::Service);
    assert_eq!(f.code.as_deref(), Some("AccessDenied"));
    assert_eq!(f.status, Some(403));
    assert_eq!(
        classify(&f, "s3:GetBucketPolicy", &[NO_SUCH_BUCKET_POLICY]),
        unknown("AccessDenied: needs s3:GetBucketPolicy")
    );

    let meta = ErrorMetadata::builder().code(NO_SUCH_BUCKET_POLICY).build();
    let raw = HttpResponse::new(404u16.try_into().unwrap(), SdkBody::empty());
    let err: SdkError<GetBucketPolicyError, HttpResponse> =
        SdkError::service_error(GetBucketPolicyError::generic(meta), raw);
    assert_eq!(
        classify(
            &ApiFailure::from_sdk(&err),
            "s3:GetBucketPolicy",
            &[NO_SUCH_BUCKET_POLICY]
        ),
        Classified::Absent
    );

    // A 403 with an empty body: no code at all.
    let raw = HttpResponse::new(403u16.try_into().unwrap(), SdkBody::empty());
    let err: SdkError<GetBucketPolicyError, HttpResponse> = SdkError::service_error(
        GetBucketPolicyError::generic(ErrorMetadata::builder().build()),
        raw,
    );
    let f = ApiFailure::from_sdk(&err);
    assert_eq!(f.code, None);
    assert_eq!(
        classify(&f, "s3:GetBucketPolicy", &[NO_SUCH_BUCKET_POLICY]),
        unknown("AccessDenied: needs s3:GetBucketPolicy")
    );
}

/// `SdkError` for a 200 response whose body the SDK could not parse, with `detail` as the
/// parser's message (the SDK wraps it as an unhandled error, as for moto's answer below).
fn unparseable(detail: &str) -> ApiFailure {
    let raw = HttpResponse::new(200u16.try_into().unwrap(), SdkBody::empty());
    let err: SdkError<GetBucketRequestPaymentError, HttpResponse> = SdkError::service_error(
        GetBucketRequestPaymentError::unhandled(detail.to_string()),
        raw,
    );
    ApiFailure::from_sdk(&err)
}

#[test]
fn unreadable_responses_are_described_briefly() {
    // moto answers GetBucketRequestPayment with a ListBucketResult body.
    let moto = "error parsing XML: encountered invalid XML root: expected RequestPaymentConfiguration but got StartEl { name: Name { prefix: \"\", local: \"ListBucketResult\" }, attributes: [Attr { name: Name { prefix: \"\", local: \"xmlns\" }, value: \"http://s3.amazonaws.com/doc/2006-03-01/\" }], closed: false, depth: 1 }. This is likely a bug in the SDK.";
    let f = unparseable(moto);
    assert_eq!(f.code, None);
    assert_eq!(f.status, Some(200));
    assert_eq!(
        classify(&f, "s3:GetBucketRequestPayment", &[]),
        unknown("unreadable response (HTTP 200): expected RequestPaymentConfiguration, got ListBucketResult")
    );

    // Another XML error: the SDK's wrapping ("service error: unhandled error: ") is dropped.
    let f = unparseable("error parsing XML: invalid XML: unexpected end of input");
    assert_eq!(
        f.describe(),
        "unreadable response (HTTP 200): error parsing XML: invalid XML: unexpected end of input"
    );

    // Anything long is cut at MAX_DETAIL_CHARS characters (on a char boundary), with an ellipsis.
    let long = "é".repeat(400);
    let f = unparseable(&long);
    let message = f.message.clone().unwrap_or_default();
    assert!(message.starts_with("service error: "), "{message}");
    assert!(message.ends_with('…'), "{message}");
    assert_eq!(message.chars().count(), MAX_DETAIL_CHARS + 1, "{message}");
    assert!(f.describe().len() < 400, "{}", f.describe());

    // Short descriptions are kept whole.
    assert_eq!(
        short_detail("dispatch failure: io error"),
        "dispatch failure: io error"
    );
    // A root mismatch the parser cannot name is cut like any other text, never misread.
    assert_eq!(
        short_detail("encountered invalid XML root: expected A but got something else"),
        "encountered invalid XML root: expected A but got something else"
    );
}

// ---------------------------------------------------------------- small helpers

#[test]
fn regions_principals_and_key_arns() {
    assert_eq!(s3::region_of_location(None), "us-east-1");
    assert_eq!(s3::region_of_location(Some("")), "us-east-1");
    assert_eq!(s3::region_of_location(Some("EU")), "eu-west-1");
    assert_eq!(s3::region_of_location(Some("eu-central-1")), "eu-central-1");

    assert_eq!(
        principal_account("arn:aws:iam::111122223333:user/alice").as_deref(),
        Some("111122223333")
    );
    assert_eq!(
        principal_account("arn:aws:sts::111122223333:assumed-role/R/s").as_deref(),
        Some("111122223333")
    );
    assert_eq!(
        principal_account("444455556666").as_deref(),
        Some("444455556666")
    );
    assert_eq!(principal_account("anonymous"), None);
    assert_eq!(principal_account("cloudfront.amazonaws.com"), None);

    let arn = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    assert_eq!(
        kms::arn_without_describe(arn, "us-east-1", "999988887777").as_deref(),
        Some(arn)
    );
    assert_eq!(
        kms::arn_without_describe("1234abcd", "eu-west-1", "111122223333").as_deref(),
        Some("arn:aws:kms:eu-west-1:111122223333:key/1234abcd")
    );
    assert_eq!(
        kms::arn_without_describe("alias/mine", "eu-west-1", "1"),
        None
    );
}

// ---------------------------------------------------------------- buckets

fn bucket_parts() -> BucketParts {
    use aws_sdk_s3::types::{
        Grant, Grantee, ObjectOwnership as SdkOwnership, OwnershipControls, OwnershipControlsRule,
        Permission, PublicAccessBlockConfiguration, ServerSideEncryption,
        ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
        Type,
    };
    let grants = vec![
        Grant::builder()
            .grantee(
                Grantee::builder()
                    .r#type(Type::CanonicalUser)
                    .id("owner-canonical")
                    .build()
                    .unwrap(),
            )
            .permission(Permission::FullControl)
            .build(),
        Grant::builder()
            .grantee(
                Grantee::builder()
                    .r#type(Type::Group)
                    .uri("http://acs.amazonaws.com/groups/global/AllUsers")
                    .build()
                    .unwrap(),
            )
            .permission(Permission::Read)
            .build(),
    ];
    let pab = PublicAccessBlockConfiguration::builder()
        .block_public_acls(true)
        .restrict_public_buckets(true)
        .build();
    let ownership = OwnershipControls::builder()
        .rules(
            OwnershipControlsRule::builder()
                .object_ownership(SdkOwnership::BucketOwnerEnforced)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let enc = ServerSideEncryptionConfiguration::builder()
        .rules(
            ServerSideEncryptionRule::builder()
                .apply_server_side_encryption_by_default(
                    ServerSideEncryptionByDefault::builder()
                        .sse_algorithm(ServerSideEncryption::AwsKms)
                        .kms_master_key_id("alias/mine")
                        .build()
                        .unwrap(),
                )
                .bucket_key_enabled(true)
                .build(),
        )
        .build()
        .unwrap();
    let head = aws_sdk_s3::operation::head_object::HeadObjectOutput::builder()
        .server_side_encryption(ServerSideEncryption::AwsKms)
        .ssekms_key_id("alias/mine")
        .version_id("v1")
        .build();
    BucketParts {
        policy: Part::Known(s3::policy_json(
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#,
        )),
        public_access_block: Part::Known(s3::public_access_block_json(&pab)),
        ownership_controls: Part::Known(s3::ownership_json(&ownership)),
        acl: Part::Known(s3::acl_json(Some("owner-canonical"), &grants)),
        encryption: Part::Known(s3::encryption_json(&enc)),
        request_payment: Part::Known(json!({"Payer": "Requester"})),
        website: Part::Absent,
        objects: vec![
            s3::ObjectParts {
                key: "a.txt".into(),
                head: Part::Known(s3::head_json(&head)),
                acl: Part::Unknown("AccessDenied: needs s3:GetObjectAcl".into()),
            },
            s3::ObjectParts {
                key: "b.txt".into(),
                head: Part::Unknown("AccessDenied: needs s3:GetObject".into()),
                acl: Part::Known(s3::acl_json(Some("other-canonical"), &[])),
            },
        ],
    }
}

#[test]
fn bucket_parts_become_a_valid_bucket() {
    let mut parts = bucket_parts();
    assert_eq!(parts.owner_id().as_deref(), Some("owner-canonical"));
    assert_eq!(
        parts.kms_key_refs(),
        (vec!["alias/mine".to_string()], false)
    );
    let key_arn = "arn:aws:kms:us-east-1:111122223333:key/k1";
    parts.normalise_kms_ids(|id| (id == "alias/mine").then(|| key_arn.to_string()));

    let world = json!({
        "accounts": [account::account_json(
            "111122223333", Some("owner-canonical"), &Part::Absent, &Part::Absent,
            &Part::Unknown(s3medic::collect::not_caller_account("111122223333", "organization")))],
        "buckets": [parts.to_json("b", "111122223333", "us-east-1")],
    });
    let w = World::from_value(&world).expect("valid world");
    let b = &w.buckets[0];
    assert!(b.policy.is_known());
    let pab = b.public_access_block.known().unwrap();
    assert!(pab.block_public_acls && pab.restrict_public_buckets && !pab.ignore_public_acls);
    assert_eq!(
        b.ownership,
        Part::Known(ObjectOwnership::BucketOwnerEnforced)
    );
    let acl = b.acl.known().unwrap();
    assert_eq!(acl.grants.len(), 2);
    let enc = b.encryption.known().unwrap();
    assert_eq!(enc.algorithm, SseAlgorithm::parse("aws:kms"));
    assert_eq!(enc.kms_key_id.as_deref(), Some(key_arn));
    assert!(enc.bucket_key_enabled);
    assert_eq!(b.request_payment, Part::Known(Payer::Requester));
    assert!(b.website.is_absent());
    assert!(!b.objects_complete);
    let a = b.object("a.txt").unwrap();
    assert_eq!(
        a.head.known().unwrap().kms_key_id.as_deref(),
        Some(key_arn),
        "the alias the head echoed is normalised to the key ARN"
    );
    assert_eq!(
        a.acl.unknown_reason(),
        Some("AccessDenied: needs s3:GetObjectAcl")
    );
    let bo = b.object("b.txt").unwrap();
    assert!(bo.head.is_unknown());
    assert!(bo.acl.is_known());
    assert!(w.accounts[0].organization.is_unknown());
    // Round trip through the file format.
    assert_eq!(World::from_value(&w.to_value()).unwrap(), w);
}

#[test]
fn unknown_parts_stay_unknown_never_absent() {
    let parts = BucketParts {
        policy: Part::Unknown("AccessDenied: needs s3:GetBucketPolicy".into()),
        public_access_block: Part::Unknown(
            "AccessDenied: needs s3:GetBucketPublicAccessBlock".into(),
        ),
        ownership_controls: Part::Absent,
        acl: Part::Unknown("AccessDenied: needs s3:GetBucketAcl".into()),
        encryption: Part::Absent,
        request_payment: Part::Unknown("NotImplemented".into()),
        website: Part::Absent,
        objects: vec![],
    };
    let v = parts.to_json("b", "111122223333", "eu-west-1");
    assert_eq!(
        v["policy"],
        json!({"unknown": "AccessDenied: needs s3:GetBucketPolicy"})
    );
    assert_eq!(v["ownership_controls"], Value::Null);
    let w = World::from_value(&json!({"buckets": [v]})).unwrap();
    let b = &w.buckets[0];
    assert_eq!(
        b.policy.unknown_reason(),
        Some("AccessDenied: needs s3:GetBucketPolicy")
    );
    assert!(b.public_access_block.is_unknown());
    assert!(b.acl.is_unknown());
    assert!(b.request_payment.is_unknown());
    assert!(b.ownership.is_absent());
    assert!(b.encryption.is_absent());
    assert_eq!(b.region, "eu-west-1");
}

#[test]
fn account_bpa_json_is_accepted() {
    let v = account::account_json(
        "111122223333",
        None,
        &Part::Unknown("AccessDenied: needs iam:GetAccountAuthorizationDetails".into()),
        &Part::Known(s3::pab_json(Some(true), Some(true), None, Some(false))),
        &Part::Unknown(s3medic::collect::not_caller_account(
            "111122223333",
            "organization",
        )),
    );
    let w = World::from_value(&json!({"accounts": [v]})).unwrap();
    let a = &w.accounts[0];
    assert!(a.iam.is_unknown());
    let bpa = a.block_public_access.known().unwrap();
    assert!(bpa.block_public_acls && bpa.ignore_public_acls);
    assert!(!bpa.block_public_policy && !bpa.restrict_public_buckets);
}

// ---------------------------------------------------------------- IAM

#[test]
fn auth_details_become_the_cli_shape() {
    use aws_sdk_iam::types::{
        AttachedPermissionsBoundary, AttachedPolicy, GroupDetail, ManagedPolicyDetail,
        PermissionsBoundaryAttachmentType, PolicyDetail, PolicyVersion, RoleDetail, Tag,
        UserDetail,
    };
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
    let encoded: String =
        percent_encoding::utf8_percent_encode(doc, percent_encoding::NON_ALPHANUMERIC).to_string();
    let managed_arn = "arn:aws:iam::111122223333:policy/mp";
    let boundary_arn = "arn:aws:iam::111122223333:policy/boundary";
    let details = iam::AuthDetails {
        users: vec![UserDetail::builder()
            .user_name("alice")
            .user_id("AIDAEXAMPLE")
            .arn("arn:aws:iam::111122223333:user/alice")
            .path("/")
            .group_list("devs")
            .user_policy_list(
                PolicyDetail::builder()
                    .policy_name("inline")
                    .policy_document(&encoded)
                    .build(),
            )
            .attached_managed_policies(
                AttachedPolicy::builder()
                    .policy_name("mp")
                    .policy_arn(managed_arn)
                    .build(),
            )
            .permissions_boundary(
                AttachedPermissionsBoundary::builder()
                    .permissions_boundary_type(PermissionsBoundaryAttachmentType::Policy)
                    .permissions_boundary_arn(boundary_arn)
                    .build(),
            )
            .tags(Tag::builder().key("team").value("data").build().unwrap())
            .build()],
        groups: vec![GroupDetail::builder()
            .group_name("devs")
            .arn("arn:aws:iam::111122223333:group/devs")
            .path("/")
            .group_policy_list(
                PolicyDetail::builder()
                    .policy_name("g")
                    .policy_document(&encoded)
                    .build(),
            )
            .build()],
        roles: vec![RoleDetail::builder()
            .role_name("r")
            .arn("arn:aws:iam::111122223333:role/r")
            .path("/")
            .assume_role_policy_document(percent_encoding::utf8_percent_encode(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
                percent_encoding::NON_ALPHANUMERIC,
            ).to_string())
            .role_policy_list(
                PolicyDetail::builder()
                    .policy_name("rp")
                    .policy_document(doc)
                    .build(),
            )
            .build()],
        policies: vec![
            ManagedPolicyDetail::builder()
                .policy_name("mp")
                .arn(managed_arn)
                .default_version_id("v2")
                .policy_version_list(
                    PolicyVersion::builder()
                        .version_id("v1")
                        .is_default_version(false)
                        .document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#)
                        .build(),
                )
                .policy_version_list(
                    PolicyVersion::builder()
                        .version_id("v2")
                        .is_default_version(true)
                        .document(&encoded)
                        .build(),
                )
                .build(),
            ManagedPolicyDetail::builder()
                .policy_name("boundary")
                .arn(boundary_arn)
                .default_version_id("v1")
                .policy_version_list(
                    PolicyVersion::builder()
                        .version_id("v1")
                        .is_default_version(true)
                        .document(doc)
                        .build(),
                )
                .build(),
        ],
    };
    let v = details.to_json();
    assert_eq!(
        v["UserDetailList"][0]["UserPolicyList"][0]["PolicyDocument"],
        json!(encoded)
    );
    assert_eq!(
        v["Policies"][0]["PolicyVersionList"][1]["IsDefaultVersion"],
        json!(true)
    );
    let acct = account::account_json(
        "111122223333",
        None,
        &Part::Known(v),
        &Part::Absent,
        &Part::Unknown(s3medic::collect::not_caller_account(
            "111122223333",
            "organization",
        )),
    );
    let w = World::from_value(&json!({"accounts": [acct]})).expect("valid world");
    let iam = w.accounts[0].iam.known().expect("iam known");
    let alice = iam.user_by_name("alice").unwrap();
    assert_eq!(alice.groups, vec!["devs".to_string()]);
    assert_eq!(alice.inline_policies.len(), 1);
    assert_eq!(alice.permissions_boundary.as_deref(), Some(boundary_arn));
    assert_eq!(alice.tags, vec![("team".to_string(), "data".to_string())]);
    assert_eq!(alice.attached_policies[0].arn, managed_arn);
    assert!(iam.role_by_name("r").is_some());
    assert!(iam.group_by_name("devs").is_some());
    let mp = iam.managed_policy(managed_arn).unwrap();
    assert_eq!(mp.default_version_id.as_deref(), Some("v2"));
    assert!(mp.document.is_known());
    // The default version (v2, an Allow) is the one that applies, not v1 (a Deny).
    let text = serde_json::to_string(&mp.document.known().unwrap().to_value()).unwrap();
    assert!(text.contains("Allow") && !text.contains("Deny"), "{text}");
}

// ---------------------------------------------------------------- KMS

#[test]
fn kms_key_json_is_accepted() {
    use aws_sdk_kms::types::{
        GrantConstraints, GrantListEntry, GrantOperation, KeyManagerType, KeyMetadata, KeyState,
    };
    let arn = "arn:aws:kms:us-east-1:111122223333:key/k1";
    let md = KeyMetadata::builder()
        .key_id("k1")
        .arn(arn)
        .aws_account_id("111122223333")
        .key_manager(KeyManagerType::Customer)
        .key_state(KeyState::Disabled)
        .build()
        .unwrap();
    let grants = vec![
        GrantListEntry::builder()
            .grant_id("g1")
            .grantee_principal("arn:aws:iam::444455556666:role/reader")
            .operations(GrantOperation::Decrypt)
            .constraints(
                GrantConstraints::builder()
                    .encryption_context_subset("aws:s3:arn", "arn:aws:s3:::b")
                    .build(),
            )
            .build(),
        // No grantee: left out.
        GrantListEntry::builder().grant_id("g2").build(),
    ];
    let policy = Part::Known(
        json!({"Policy": r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}"#}),
    );
    let v = kms::key_json(
        kms::metadata_json(&md),
        &["alias/mine".to_string()],
        &policy,
        &Part::Known(kms::grants_json(&grants)),
    );
    let w = World::from_value(&json!({"kms_keys": [v]})).expect("valid world");
    let k = &w.kms_keys[0];
    assert_eq!(k.arn, arn);
    assert!(!k.enabled);
    assert!(!k.aws_managed);
    assert_eq!(k.aliases, vec!["alias/mine".to_string()]);
    assert!(k.policy.is_known());
    let g = k.grants.known().unwrap();
    assert_eq!(g.len(), 1);
    assert!(g[0].allows_operation("Decrypt"));

    // Metadata built from the ARN alone (DescribeKey refused) with unknown policy and grants.
    let v = kms::key_json(
        json!({"Arn": arn}),
        &[],
        &Part::Unknown("AccessDeniedException: needs kms:GetKeyPolicy".into()),
        &Part::Unknown("AccessDeniedException: needs kms:ListGrants".into()),
    );
    let w = World::from_value(&json!({"kms_keys": [v]})).unwrap();
    assert!(w.kms_keys[0].policy.is_unknown() && w.kms_keys[0].grants.is_unknown());
}

// ---------------------------------------------------------------- CloudFront

#[test]
fn cloudfront_json_is_accepted() {
    use aws_sdk_cloudfront::types::{
        OriginAccessControlOriginTypes, OriginAccessControlSigningBehaviors,
        OriginAccessControlSigningProtocols, OriginAccessControlSummary,
    };
    let oac = OriginAccessControlSummary::builder()
        .id("E2OAC")
        .description("")
        .name("oac")
        .signing_protocol(OriginAccessControlSigningProtocols::Sigv4)
        .signing_behavior(OriginAccessControlSigningBehaviors::Always)
        .origin_access_control_origin_type(OriginAccessControlOriginTypes::S3)
        .build()
        .unwrap();
    let v = json!({
        "distributions": [],
        "origin_access_controls": [cloudfront::oac_json(&oac)],
        "origin_access_identities": [],
    });
    let w = World::from_value(&json!({"cloudfront": v})).expect("valid world");
    let cf = w.cloudfront.known().unwrap();
    let o = cf.origin_access_control("E2OAC").unwrap();
    assert_eq!(o.signing_behavior.as_deref(), Some("always"));
    assert_eq!(o.origin_type.as_deref(), Some("s3"));
}

// ---------------------------------------------------------------- sanitize

#[test]
fn unparseable_parts_become_unknown() {
    let mut world = json!({
        "format_version": 1,
        "accounts": [{"account_id": "111122223333", "iam": {"UserDetailList": "oops"}}],
        "buckets": [{
            "name": "b", "account_id": "111122223333",
            "policy": {"Policy": "{not json"},
            "acl": {"Grants": []},
            "objects": [{"key": "k", "head": {"ServerSideEncryption": 5}}]
        }],
        "kms_keys": [{"metadata": {"Arn": "not-an-arn"}}],
    });
    let problems = sanitize(&mut world);
    assert_eq!(problems.len(), 4, "{problems:#?}");
    let w = World::from_value(&world).expect("sanitized world parses");
    assert!(w.accounts[0].iam.is_unknown());
    assert!(w.buckets[0].policy.is_unknown());
    assert!(w.buckets[0].acl.is_known());
    assert!(w.buckets[0].objects[0].head.is_unknown());
    assert!(w.kms_keys.is_empty());
}

// ---------------------------------------------------------------- other accounts' credentials

use s3medic::collect::{
    add_vpc_endpoints, org, AccountAccess, AccountsError, Collected, VPC_ENDPOINT_NOT_COLLECTED,
};

const ROLE_B: &str = "arn:aws:iam::222222222222:role/auditor";

fn flags(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn account_role_flags_map_accounts_to_roles() {
    let a = AccountAccess::parse(
        &flags(&[
            &format!("222222222222={ROLE_B}"),
            " 333333333333 = arn:aws-cn:iam::333333333333:role/path/reader ",
        ]),
        None,
    )
    .expect("valid flags");
    assert_eq!(
        a.account_ids().collect::<Vec<_>>(),
        ["222222222222", "333333333333"]
    );
    let b = a.get("222222222222").expect("B configured");
    assert_eq!(b.role_arn.as_deref(), Some(ROLE_B));
    assert_eq!(b.external_id, None);
    assert_eq!(b.profile, None);
    assert_eq!(
        a.get("333333333333").and_then(|c| c.role_arn.as_deref()),
        Some("arn:aws-cn:iam::333333333333:role/path/reader")
    );
    assert!(a.get("444444444444").is_none());
}

#[test]
fn bad_account_role_flags_are_refused_with_clear_errors() {
    let err = |v: &str| AccountAccess::parse(&flags(&[v]), None).expect_err(v);
    // No `=`.
    let e = err(ROLE_B);
    assert!(matches!(e, AccountsError::Flag { .. }), "{e:?}");
    assert!(
        e.to_string().contains("expected ACCOUNT_ID=ROLE_ARN"),
        "{e}"
    );
    assert!(matches!(err("222222222222="), AccountsError::Flag { .. }));
    // Bad account id.
    let e = err(&format!("2222={ROLE_B}"));
    assert_eq!(
        e,
        AccountsError::AccountId {
            origin: format!("`--account-role 2222={ROLE_B}`"),
            account: "2222".into()
        }
    );
    assert!(
        e.to_string()
            .contains("`2222` is not a 12-digit AWS account id"),
        "{e}"
    );
    assert!(matches!(
        err(&format!("22222222222x={ROLE_B}")),
        AccountsError::AccountId { .. }
    ));
    // Bad role ARNs: a user, no name, not IAM, a bad account field.
    for arn in [
        "arn:aws:iam::222222222222:user/alice",
        "arn:aws:iam::222222222222:role/",
        "arn:aws:sts::222222222222:assumed-role/auditor/s",
        "arn:aws:iam::2222:role/auditor",
        "auditor",
    ] {
        let e = err(&format!("222222222222={arn}"));
        assert!(matches!(e, AccountsError::RoleArn { .. }), "{arn}: {e:?}");
        assert!(e.to_string().contains("is not an IAM role ARN"), "{e}");
    }
    // A role of another account.
    let e = err(&format!("111122223333={ROLE_B}"));
    assert!(matches!(e, AccountsError::RoleAccount { .. }), "{e:?}");
    assert!(
        e.to_string()
            .contains("is in account 222222222222, not 111122223333"),
        "{e}"
    );
}

#[test]
fn an_account_given_twice_is_refused() {
    let e = AccountAccess::parse(
        &flags(&[
            &format!("222222222222={ROLE_B}"),
            "222222222222=arn:aws:iam::222222222222:role/other",
        ]),
        None,
    )
    .expect_err("duplicate");
    assert!(matches!(e, AccountsError::Duplicate { .. }), "{e:?}");
    let text = e.to_string();
    assert!(
        text.starts_with("account 222222222222 is given twice"),
        "{text}"
    );
    assert!(
        text.contains("role/auditor") && text.contains("role/other"),
        "{text}"
    );

    // The same account in the file and on the command line.
    let file = format!("[accounts.222222222222]\nrole_arn = \"{ROLE_B}\"\n");
    let e = AccountAccess::parse(
        &flags(&[&format!("222222222222={ROLE_B}")]),
        Some((&file, "accounts.toml")),
    )
    .expect_err("duplicate across file and flag");
    let text = e.to_string();
    assert!(
        text.contains("accounts file `accounts.toml`: [accounts.222222222222]")
            && text.contains("`--account-role 222222222222="),
        "{text}"
    );
}

#[test]
fn accounts_file_gives_roles_external_ids_and_profiles() {
    let text = format!(
        r#"
[accounts.222222222222]
role_arn = "{ROLE_B}"
external_id = "s3medic-audit"

[accounts.333333333333]
profile = "prod"

[accounts.444444444444]
profile = "hub"
role_arn = "arn:aws:iam::444444444444:role/reader"
"#
    );
    let a = AccountAccess::parse(&[], Some((&text, "accounts.toml"))).expect("valid file");
    let b = a.get("222222222222").unwrap();
    assert_eq!(b.role_arn.as_deref(), Some(ROLE_B));
    assert_eq!(b.external_id.as_deref(), Some("s3medic-audit"));
    assert_eq!(b.describe(), format!("role `{ROLE_B}`"));
    let c = a.get("333333333333").unwrap();
    assert_eq!(
        (c.role_arn.as_deref(), c.profile.as_deref()),
        (None, Some("prod"))
    );
    assert_eq!(
        a.get("444444444444").unwrap().describe(),
        "role `arn:aws:iam::444444444444:role/reader` with profile `hub`"
    );
}

#[test]
fn bad_accounts_files_are_refused_with_clear_errors() {
    let parse = |t: &str| AccountAccess::parse(&[], Some((t, "a.toml")));
    // Not TOML.
    let e = parse("[accounts.222222222222\n").expect_err("not toml");
    assert!(matches!(e, AccountsError::File { .. }), "{e:?}");
    assert!(e.to_string().starts_with("accounts file `a.toml`: "), "{e}");
    // A misspelt key.
    let e = parse("[accounts.222222222222]\nrole = \"x\"\n").expect_err("unknown key");
    assert!(e.to_string().contains("role"), "{e}");
    // Neither role nor profile; external id without a role.
    let e = parse("[accounts.222222222222]\n").expect_err("empty");
    assert!(matches!(e, AccountsError::Empty { .. }), "{e:?}");
    assert!(
        e.to_string().contains("give `role_arn` or `profile`"),
        "{e}"
    );
    let e = parse("[accounts.222222222222]\nprofile = \"p\"\nexternal_id = \"x\"\n")
        .expect_err("external id without role");
    assert!(
        matches!(e, AccountsError::ExternalIdWithoutRole { .. }),
        "{e:?}"
    );
    // A bad account id as table name, a bad role.
    let e = parse(&format!(
        "[accounts.bucket-owner]\nrole_arn = \"{ROLE_B}\"\n"
    ))
    .expect_err("id");
    assert!(matches!(e, AccountsError::AccountId { .. }), "{e:?}");
    let e = parse("[accounts.222222222222]\nrole_arn = \"arn:aws:iam::222222222222:user/u\"\n")
        .expect_err("role");
    assert!(
        e.to_string()
            .starts_with("accounts file `a.toml`: [accounts.222222222222]: `arn:aws:iam::222222222222:user/u` is not an IAM role ARN"),
        "{e}"
    );
}

#[test]
fn unknown_reason_for_other_accounts_names_the_flag() {
    let why = s3medic::collect::not_caller_account("222222222222", "IAM data");
    assert!(why.starts_with("not collected: account 222222222222 is not the caller's account"));
    assert!(
        why.contains("`--account-role 222222222222=ROLE_ARN`"),
        "{why}"
    );
}

// ---------------------------------------------------------------- bucket re-read by its owner

#[test]
fn owner_reads_fill_only_the_unknown_parts() {
    let mut caller = bucket_parts();
    caller.policy = Part::Unknown("AccessDenied: needs s3:GetBucketPolicy".into());
    caller.website = Part::Unknown("AccessDenied: needs s3:GetBucketWebsite".into());
    caller.objects[0].head = Part::Unknown("AccessDenied: needs s3:GetObject".into());
    assert!(caller.has_unknown());
    let notes = caller.unknown_notes("b");
    assert!(
        notes.contains(
            &"bucket `b`: bucket policy: AccessDenied: needs s3:GetBucketPolicy".to_string()
        ),
        "{notes:#?}"
    );
    assert!(
        notes.iter().any(|n| n.starts_with("object `b/")
            && n.ends_with(": HeadObject: AccessDenied: needs s3:GetObject")),
        "{notes:#?}"
    );

    let mut owner = bucket_parts();
    owner.policy = Part::Known(s3::policy_json(
        r#"{"Version":"2012-10-17","Statement":[]}"#,
    ));
    owner.website = Part::Unknown("NoSuchWebsiteConfiguration: gone".into());
    owner.encryption = Part::Absent; // the caller's known part must stay
    owner.objects[0].acl = Part::Known(s3::acl_json(Some("owner-canonical"), &[]));
    owner.objects[1].head = Part::Known(json!({"VersionId": "v2"}));
    owner.objects.push(s3::ObjectParts {
        key: "only-the-owner-saw-it".into(),
        head: Part::Known(json!({})),
        acl: Part::Absent,
    });
    let before_encryption = caller.encryption.clone();
    caller.fill_from(owner.clone(), "with account 222222222222's credentials");

    assert_eq!(caller.policy, owner.policy);
    assert_eq!(caller.encryption, before_encryption);
    assert_eq!(caller.objects[0].head, owner.objects[0].head);
    assert_eq!(caller.objects[0].acl, owner.objects[0].acl);
    assert_eq!(caller.objects[1].head, owner.objects[1].head);
    assert_eq!(
        caller.website,
        Part::Unknown(
            "AccessDenied: needs s3:GetBucketWebsite; with account 222222222222's credentials: NoSuchWebsiteConfiguration: gone".into()
        )
    );
    assert!(caller
        .objects
        .iter()
        .any(|o| o.key == "only-the-owner-saw-it"));
    assert_eq!(
        caller.unknown_notes("b").len(),
        1,
        "only the website stays unknown"
    );
}

// ---------------------------------------------------------------- organizations

#[test]
fn organization_json_is_the_world_shape() {
    let info = org::OrgInfo {
        id: "o-abc123".into(),
        management_account: "111111111111".into(),
    };
    let deny = r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoGet","Effect":"Deny","Action":"s3:GetObject","Resource":"*"}]}"#;
    let full =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    let scps = vec![
        org::LevelPolicies {
            target: "r-ab12".into(),
            policies: vec![(
                "FullAWSAccess".into(),
                "p-FullAWSAccess".into(),
                full.into(),
            )],
        },
        org::LevelPolicies {
            target: "222222222222".into(),
            policies: vec![
                (
                    "FullAWSAccess".into(),
                    "p-FullAWSAccess".into(),
                    full.into(),
                ),
                ("DenyGet".into(), "p-12345678".into(), deny.into()),
            ],
        },
    ];
    let v = org::organization_json(&info, "222222222222", &scps, &[]);
    let acct = account::account_json(
        "222222222222",
        None,
        &Part::Absent,
        &Part::Absent,
        &Part::Known(v),
    );
    let w = World::from_value(&json!({"accounts": [acct]})).expect("valid world");
    let o = w.accounts[0]
        .organization
        .known()
        .expect("organization known");
    assert_eq!(o.id, "o-abc123");
    assert!(!o.is_management_account);
    assert_eq!(o.scps.len(), 2);
    assert_eq!(o.scps[1].target, "222222222222");
    assert_eq!(o.scps[1].policies[1].name, "DenyGet");
    assert_eq!(o.scps[1].policies[1].id.as_deref(), Some("p-12345678"));
    assert!(o.rcps.is_empty());

    let m = org::organization_json(&info, "111111111111", &[], &[]);
    assert_eq!(m["is_management_account"], json!(true));
}

#[test]
fn policy_types_apply_only_when_enabled_at_the_root() {
    let statuses = vec![
        ("SERVICE_CONTROL_POLICY".to_string(), "ENABLED".to_string()),
        (
            "RESOURCE_CONTROL_POLICY".to_string(),
            "PENDING_ENABLE".to_string(),
        ),
    ];
    assert_eq!(
        org::type_enabled(&statuses, "SERVICE_CONTROL_POLICY"),
        Ok(true)
    );
    assert_eq!(org::type_enabled(&statuses, "TAG_POLICY"), Ok(false));
    let e = org::type_enabled(&statuses, "RESOURCE_CONTROL_POLICY").expect_err("pending");
    assert!(e.contains("PENDING_ENABLE"), "{e}");
}

// ---------------------------------------------------------------- VPC endpoints

#[test]
fn a_request_endpoint_is_recorded_unknown_and_reported_as_unchecked() {
    let world = World::from_value(&json!({
        "format_version": 1,
        "accounts": [{"account_id": "111122223333", "iam": {"UserDetailList": [{
            "UserName": "alice", "UserId": "AIDA1", "Arn": "arn:aws:iam::111122223333:user/alice",
            "UserPolicyList": [{"PolicyName": "get", "PolicyDocument": {"Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}}],
            "GroupList": [], "AttachedManagedPolicies": []}],
            "GroupDetailList": [], "RoleDetailList": [], "Policies": []}}],
        "buckets": [{"name": "b", "account_id": "111122223333"}],
    }))
    .expect("world");
    let mut c = Collected {
        world,
        calls: 0,
        unknown: Vec::new(),
    };
    add_vpc_endpoints(&mut c, &["vpce-1a2b3c4d".to_string()]).expect("added");
    let e = c
        .world
        .vpc_endpoint("vpce-1a2b3c4d")
        .expect("endpoint in the world");
    assert_eq!(e.policy, Part::Unknown(VPC_ENDPOINT_NOT_COLLECTED.into()));
    assert_eq!(
        c.unknown,
        [format!(
            "VPC endpoint `vpce-1a2b3c4d`: policy: {VPC_ENDPOINT_NOT_COLLECTED}"
        )]
    );
    // Twice is once.
    add_vpc_endpoints(&mut c, &["vpce-1a2b3c4d".to_string()]).expect("no-op");
    assert_eq!(c.world.vpc_endpoints.len(), 1);

    let req = s3medic::request::Request::from_value(&json!({
        "principal": "arn:aws:iam::111122223333:user/alice",
        "action": "s3:GetObject", "bucket": "b", "key": "k",
        "vpc_endpoint": "vpce-1a2b3c4d",
    }))
    .expect("request");
    let out = s3medic::eval::authorize(&c.world, &req).expect("decided");
    assert!(
        out.unknowns.iter().any(|u| u.contains("vpce-1a2b3c4d")
            && u.contains("s3medic does not read EC2")
            && u.contains("aws ec2 describe-vpc-endpoints")),
        "{:#?}",
        out.unknowns
    );
}

//! A Finding: one cause of a denial, with its evidence and a plain-language explanation. Each cause
//! has a stable id that names the playbook (`playbooks/<id>.toml`) that knows how to fix it.

use serde::{Deserialize, Serialize};

use crate::eval::Layer;

/// Every cause s3medic can name. The kebab-case form is the playbook id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cause {
    /// No identity-based policy allows the action (same account, or the caller's side of a
    /// cross-account request).
    IdentityMissingAllow,
    /// An identity statement grants the action on the wrong ARN level (ListBucket on `bucket/*`,
    /// an object action on the bucket ARN).
    WrongArnLevel,
    /// An explicit Deny in the bucket policy (not a guardrail).
    BucketPolicyDeny,
    /// An explicit Deny in an identity-based policy.
    IdentityDeny,
    /// A guardrail Deny (aws:SecureTransport, aws:SourceIp, aws:SourceVpce, aws:SourceVpc,
    /// encryption headers, aws:PrincipalOrgID ...): fixed on the caller's side.
    GuardrailDeny,
    /// Cross-account: the bucket policy (or ACL) of the owner does not grant the caller.
    CrossAccountResourceMissing,
    /// The permissions boundary does not allow the action.
    BoundaryCap,
    /// The session policy does not allow the action.
    SessionPolicyCap,
    /// An SCP denies, or a level has no SCP allowing the action.
    ScpBlocks,
    /// An RCP denies, or a level has no RCP allowing the action.
    RcpBlocks,
    /// The VPC endpoint policy denies or does not allow.
    VpcEndpointPolicy,
    /// Block Public Access (RestrictPublicBuckets / IgnorePublicAcls) removes a public grant.
    BpaBlocksPublicAccess,
    /// BlockPublicAcls rejects a request that sets a public ACL.
    BpaRejectsPublicAcl,
    /// The object is owned by another account and its ACL does not grant the caller.
    ObjectOwnedByOtherAccount,
    /// The bucket has ACLs disabled and the request carries an ACL.
    AclNotSupported,
    /// The KMS key policy does not allow the caller (and does not delegate to its account).
    KmsKeyPolicyMissing,
    /// The caller's IAM policies lack kms:Decrypt / kms:GenerateDataKey on the key.
    KmsIdentityMissing,
    /// The AWS managed key aws/s3 cannot be used from another account.
    KmsAwsManagedCrossAccount,
    /// The KMS key is disabled or pending deletion.
    KmsKeyDisabled,
    /// The bucket policy has no OAC grant for the CloudFront distribution (or names another).
    CloudfrontOacGrantMissing,
    /// The distribution's S3 origin has no origin access control attached.
    CloudfrontNoOac,
    /// A legacy origin access identity cannot read SSE-KMS objects.
    CloudfrontOaiSseKms,
    /// The distribution has no default root object, so `/` maps to no key.
    CloudfrontDefaultRootObject,
    /// The key does not exist and the caller lacks s3:ListBucket: 403 instead of 404.
    MissingKeyNoList,
    /// The presigned URL expired, is not yet valid, or outlived its credentials.
    PresignedUrlExpired,
    /// Requester Pays bucket without `x-amz-request-payer: requester`.
    RequesterPaysHeader,
}

impl Cause {
    pub const ALL: [Cause; 26] = [
        Cause::IdentityMissingAllow,
        Cause::WrongArnLevel,
        Cause::BucketPolicyDeny,
        Cause::IdentityDeny,
        Cause::GuardrailDeny,
        Cause::CrossAccountResourceMissing,
        Cause::BoundaryCap,
        Cause::SessionPolicyCap,
        Cause::ScpBlocks,
        Cause::RcpBlocks,
        Cause::VpcEndpointPolicy,
        Cause::BpaBlocksPublicAccess,
        Cause::BpaRejectsPublicAcl,
        Cause::ObjectOwnedByOtherAccount,
        Cause::AclNotSupported,
        Cause::KmsKeyPolicyMissing,
        Cause::KmsIdentityMissing,
        Cause::KmsAwsManagedCrossAccount,
        Cause::KmsKeyDisabled,
        Cause::CloudfrontOacGrantMissing,
        Cause::CloudfrontNoOac,
        Cause::CloudfrontOaiSseKms,
        Cause::CloudfrontDefaultRootObject,
        Cause::MissingKeyNoList,
        Cause::PresignedUrlExpired,
        Cause::RequesterPaysHeader,
    ];

    /// The playbook id (kebab-case).
    pub fn id(self) -> &'static str {
        match self {
            Cause::IdentityMissingAllow => "identity-missing-allow",
            Cause::WrongArnLevel => "wrong-arn-level",
            Cause::BucketPolicyDeny => "bucket-policy-deny",
            Cause::IdentityDeny => "identity-deny",
            Cause::GuardrailDeny => "guardrail-deny",
            Cause::CrossAccountResourceMissing => "cross-account-resource-missing",
            Cause::BoundaryCap => "boundary-cap",
            Cause::SessionPolicyCap => "session-policy-cap",
            Cause::ScpBlocks => "scp-blocks",
            Cause::RcpBlocks => "rcp-blocks",
            Cause::VpcEndpointPolicy => "vpc-endpoint-policy",
            Cause::BpaBlocksPublicAccess => "bpa-blocks-public-access",
            Cause::BpaRejectsPublicAcl => "bpa-rejects-public-acl",
            Cause::ObjectOwnedByOtherAccount => "object-owned-by-other-account",
            Cause::AclNotSupported => "acl-not-supported",
            Cause::KmsKeyPolicyMissing => "kms-key-policy-missing",
            Cause::KmsIdentityMissing => "kms-identity-missing",
            Cause::KmsAwsManagedCrossAccount => "kms-aws-managed-cross-account",
            Cause::KmsKeyDisabled => "kms-key-disabled",
            Cause::CloudfrontOacGrantMissing => "cloudfront-oac-grant-missing",
            Cause::CloudfrontNoOac => "cloudfront-no-oac",
            Cause::CloudfrontOaiSseKms => "cloudfront-oai-sse-kms",
            Cause::CloudfrontDefaultRootObject => "cloudfront-default-root-object",
            Cause::MissingKeyNoList => "missing-key-no-list",
            Cause::PresignedUrlExpired => "presigned-url-expired",
            Cause::RequesterPaysHeader => "requester-pays-header",
        }
    }

    pub fn from_id(id: &str) -> Option<Cause> {
        Cause::ALL.iter().copied().find(|c| c.id() == id)
    }
}

/// A piece of evidence: a statement, a setting, or a missing grant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Evidence {
    /// A statement of a policy (label as in the decision trace), with what it did.
    Statement {
        policy: String,
        sid: Option<String>,
        index: usize,
        effect: String,
        /// `matched`, `condition_failed: Bool aws:SecureTransport`, `wrong resource level` ...
        detail: String,
    },
    /// A setting and its value (e.g. `RestrictPublicBuckets` = `true` on bucket `b`).
    Setting {
        resource: String,
        name: String,
        value: String,
    },
    /// Nothing grants this: the action, the resource and where a grant was looked for.
    Missing {
        action: String,
        resource: String,
        looked_in: String,
    },
}

/// One cause of a denial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The cause (its kebab-case id names the playbook).
    pub cause: Cause,
    /// Index of the authorization (in the decision's `authorizations`) it blocks.
    pub authorization: usize,
    /// The action and resource of that authorization.
    pub action: String,
    pub resource: String,
    /// The layer at fault.
    pub layer: Layer,
    /// One sentence a person can act on.
    pub explanation: String,
    pub evidence: Vec<Evidence>,
}

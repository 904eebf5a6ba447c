//! The S3 operation table: each S3 API operation with the IAM action it needs, the resource it
//! acts on, and whether it reads or writes object data (which decides the KMS permissions the
//! evaluator adds for encrypted objects).
//!
//! Sources: "Required permissions for Amazon S3 API operations"
//! (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html>),
//! "Actions, resources, and condition keys for Amazon S3"
//! (<https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html>), and
//! the Permissions section of each operation's page in the Amazon S3 API Reference.

/// What an operation acts on, which decides the resource ARN of its authorization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// No resource: `"*"` (ListBuckets).
    Service,
    /// `arn:PARTITION:s3:::BUCKET`.
    Bucket,
    /// `arn:PARTITION:s3:::BUCKET/KEY`.
    Object,
}

/// Whether an authorization reads or writes object data, for the KMS permissions of SSE-KMS
/// objects: `Read` → `kms:Decrypt`, `Write` → `kms:GenerateDataKey`, `ReadWrite` → both
/// (multipart uploads).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataAccess {
    None,
    Read,
    Write,
    ReadWrite,
}

/// One extra authorization an operation always needs besides its main action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlsoNeeds {
    pub action: &'static str,
    /// Used instead of `action` when the request names a version.
    pub version_action: Option<&'static str>,
    pub purpose: &'static str,
}

/// One S3 API operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperationSpec {
    /// The S3 API name, e.g. `GetObject`.
    pub name: &'static str,
    pub scope: Scope,
    /// The IAM action, canonical case, e.g. `s3:GetObject`.
    pub action: &'static str,
    /// The action needed instead of `action` when the request names a version (`versionId`).
    pub version_action: Option<&'static str>,
    pub data: DataAccess,
    /// True for operations that read a copy source (CopyObject, UploadPartCopy).
    pub copy: bool,
    /// What the main authorization is for, e.g. `read the object`.
    pub purpose: &'static str,
    /// Further authorizations always needed (GetObjectAttributes also needs s3:GetObject).
    pub also: &'static [AlsoNeeds],
    /// One-line description.
    pub doc: &'static str,
}

const fn op(
    name: &'static str,
    scope: Scope,
    action: &'static str,
    purpose: &'static str,
    doc: &'static str,
) -> OperationSpec {
    OperationSpec {
        name,
        scope,
        action,
        version_action: None,
        data: DataAccess::None,
        copy: false,
        purpose,
        also: &[],
        doc,
    }
}

const fn bucket(
    name: &'static str,
    action: &'static str,
    purpose: &'static str,
    doc: &'static str,
) -> OperationSpec {
    op(name, Scope::Bucket, action, purpose, doc)
}

const fn object(
    name: &'static str,
    action: &'static str,
    purpose: &'static str,
    doc: &'static str,
) -> OperationSpec {
    op(name, Scope::Object, action, purpose, doc)
}

impl OperationSpec {
    const fn version(mut self, action: &'static str) -> Self {
        self.version_action = Some(action);
        self
    }
    const fn data(mut self, data: DataAccess) -> Self {
        self.data = data;
        self
    }
    const fn copies(mut self) -> Self {
        self.copy = true;
        self
    }
    const fn also(mut self, also: &'static [AlsoNeeds]) -> Self {
        self.also = also;
        self
    }

    /// The main action for a request with (`versioned`) or without a version id.
    pub fn action_for(&self, versioned: bool) -> &'static str {
        match (versioned, self.version_action) {
            (true, Some(v)) => v,
            _ => self.action,
        }
    }
}

use DataAccess::{Read, ReadWrite, Write};

static OPERATIONS: &[OperationSpec] = &[
    // ---- service ----
    op(
        "ListBuckets",
        Scope::Service,
        "s3:ListAllMyBuckets",
        "list the account's buckets",
        "lists the buckets of the caller's account",
    ),
    // ---- buckets ----
    bucket(
        "CreateBucket",
        "s3:CreateBucket",
        "create the bucket",
        "creates a bucket",
    ),
    bucket(
        "DeleteBucket",
        "s3:DeleteBucket",
        "delete the bucket",
        "deletes an empty bucket",
    ),
    bucket(
        "HeadBucket",
        "s3:ListBucket",
        "check that the bucket exists and is accessible",
        "checks that a bucket exists and the caller may access it",
    ),
    bucket(
        "GetBucketLocation",
        "s3:GetBucketLocation",
        "read the bucket's region",
        "returns the region of a bucket",
    ),
    bucket(
        "ListObjects",
        "s3:ListBucket",
        "list the bucket's objects",
        "lists the objects of a bucket (version 1)",
    ),
    bucket(
        "ListObjectsV2",
        "s3:ListBucket",
        "list the bucket's objects",
        "lists the objects of a bucket",
    ),
    bucket(
        "ListObjectVersions",
        "s3:ListBucketVersions",
        "list the bucket's object versions",
        "lists the object versions of a bucket",
    ),
    bucket(
        "ListMultipartUploads",
        "s3:ListBucketMultipartUploads",
        "list the bucket's multipart uploads in progress",
        "lists the multipart uploads in progress in a bucket",
    ),
    bucket(
        "GetBucketPolicy",
        "s3:GetBucketPolicy",
        "read the bucket policy",
        "returns the bucket policy",
    ),
    bucket(
        "PutBucketPolicy",
        "s3:PutBucketPolicy",
        "write the bucket policy",
        "replaces the bucket policy",
    ),
    bucket(
        "DeleteBucketPolicy",
        "s3:DeleteBucketPolicy",
        "delete the bucket policy",
        "deletes the bucket policy",
    ),
    bucket(
        "GetBucketPolicyStatus",
        "s3:GetBucketPolicyStatus",
        "read whether the bucket policy is public",
        "returns whether the bucket policy is public",
    ),
    bucket(
        "GetBucketAcl",
        "s3:GetBucketAcl",
        "read the bucket ACL",
        "returns the bucket ACL",
    ),
    bucket(
        "PutBucketAcl",
        "s3:PutBucketAcl",
        "write the bucket ACL",
        "replaces the bucket ACL",
    ),
    bucket(
        "GetBucketOwnershipControls",
        "s3:GetBucketOwnershipControls",
        "read the bucket's Object Ownership setting",
        "returns the Object Ownership setting of a bucket",
    ),
    bucket(
        "PutBucketOwnershipControls",
        "s3:PutBucketOwnershipControls",
        "write the bucket's Object Ownership setting",
        "sets the Object Ownership setting of a bucket",
    ),
    bucket(
        "DeleteBucketOwnershipControls",
        "s3:PutBucketOwnershipControls",
        "delete the bucket's Object Ownership setting",
        "removes the Object Ownership setting of a bucket",
    ),
    bucket(
        "GetPublicAccessBlock",
        "s3:GetBucketPublicAccessBlock",
        "read the bucket's Block Public Access settings",
        "returns the Block Public Access settings of a bucket",
    ),
    bucket(
        "PutPublicAccessBlock",
        "s3:PutBucketPublicAccessBlock",
        "write the bucket's Block Public Access settings",
        "sets the Block Public Access settings of a bucket",
    ),
    bucket(
        "DeletePublicAccessBlock",
        "s3:PutBucketPublicAccessBlock",
        "delete the bucket's Block Public Access settings",
        "removes the Block Public Access settings of a bucket",
    ),
    bucket(
        "GetBucketEncryption",
        "s3:GetEncryptionConfiguration",
        "read the bucket's default encryption",
        "returns the default encryption of a bucket",
    ),
    bucket(
        "PutBucketEncryption",
        "s3:PutEncryptionConfiguration",
        "write the bucket's default encryption",
        "sets the default encryption of a bucket",
    ),
    bucket(
        "DeleteBucketEncryption",
        "s3:PutEncryptionConfiguration",
        "reset the bucket's default encryption",
        "resets the default encryption of a bucket to SSE-S3",
    ),
    bucket(
        "GetBucketVersioning",
        "s3:GetBucketVersioning",
        "read the bucket's versioning state",
        "returns the versioning state of a bucket",
    ),
    bucket(
        "PutBucketVersioning",
        "s3:PutBucketVersioning",
        "write the bucket's versioning state",
        "enables or suspends versioning of a bucket",
    ),
    bucket(
        "GetBucketTagging",
        "s3:GetBucketTagging",
        "read the bucket's tags",
        "returns the tags of a bucket",
    ),
    bucket(
        "PutBucketTagging",
        "s3:PutBucketTagging",
        "write the bucket's tags",
        "replaces the tags of a bucket",
    ),
    bucket(
        "DeleteBucketTagging",
        "s3:PutBucketTagging",
        "delete the bucket's tags",
        "deletes the tags of a bucket",
    ),
    bucket(
        "GetBucketWebsite",
        "s3:GetBucketWebsite",
        "read the bucket's website configuration",
        "returns the website configuration of a bucket",
    ),
    bucket(
        "PutBucketWebsite",
        "s3:PutBucketWebsite",
        "write the bucket's website configuration",
        "sets the website configuration of a bucket",
    ),
    bucket(
        "DeleteBucketWebsite",
        "s3:DeleteBucketWebsite",
        "delete the bucket's website configuration",
        "removes the website configuration of a bucket",
    ),
    bucket(
        "GetBucketCors",
        "s3:GetBucketCORS",
        "read the bucket's CORS configuration",
        "returns the CORS configuration of a bucket",
    ),
    bucket(
        "PutBucketCors",
        "s3:PutBucketCORS",
        "write the bucket's CORS configuration",
        "sets the CORS configuration of a bucket",
    ),
    bucket(
        "DeleteBucketCors",
        "s3:PutBucketCORS",
        "delete the bucket's CORS configuration",
        "removes the CORS configuration of a bucket",
    ),
    bucket(
        "GetBucketLogging",
        "s3:GetBucketLogging",
        "read the bucket's access logging configuration",
        "returns the server access logging configuration of a bucket",
    ),
    bucket(
        "PutBucketLogging",
        "s3:PutBucketLogging",
        "write the bucket's access logging configuration",
        "sets the server access logging configuration of a bucket",
    ),
    bucket(
        "GetBucketLifecycleConfiguration",
        "s3:GetLifecycleConfiguration",
        "read the bucket's lifecycle configuration",
        "returns the lifecycle configuration of a bucket",
    ),
    bucket(
        "PutBucketLifecycleConfiguration",
        "s3:PutLifecycleConfiguration",
        "write the bucket's lifecycle configuration",
        "sets the lifecycle configuration of a bucket",
    ),
    bucket(
        "DeleteBucketLifecycle",
        "s3:PutLifecycleConfiguration",
        "delete the bucket's lifecycle configuration",
        "removes the lifecycle configuration of a bucket",
    ),
    bucket(
        "GetBucketRequestPayment",
        "s3:GetBucketRequestPayment",
        "read the bucket's Requester Pays setting",
        "returns the Requester Pays setting of a bucket",
    ),
    bucket(
        "PutBucketRequestPayment",
        "s3:PutBucketRequestPayment",
        "write the bucket's Requester Pays setting",
        "sets the Requester Pays setting of a bucket",
    ),
    bucket(
        "GetObjectLockConfiguration",
        "s3:GetBucketObjectLockConfiguration",
        "read the bucket's Object Lock configuration",
        "returns the Object Lock configuration of a bucket",
    ),
    bucket(
        "PutObjectLockConfiguration",
        "s3:PutBucketObjectLockConfiguration",
        "write the bucket's Object Lock configuration",
        "sets the Object Lock configuration of a bucket",
    ),
    bucket(
        "GetBucketNotificationConfiguration",
        "s3:GetBucketNotification",
        "read the bucket's event notifications",
        "returns the event notification configuration of a bucket",
    ),
    bucket(
        "PutBucketNotificationConfiguration",
        "s3:PutBucketNotification",
        "write the bucket's event notifications",
        "sets the event notification configuration of a bucket",
    ),
    bucket(
        "GetBucketReplication",
        "s3:GetReplicationConfiguration",
        "read the bucket's replication configuration",
        "returns the replication configuration of a bucket",
    ),
    bucket(
        "PutBucketReplication",
        "s3:PutReplicationConfiguration",
        "write the bucket's replication configuration",
        "sets the replication configuration of a bucket",
    ),
    bucket(
        "DeleteBucketReplication",
        "s3:PutReplicationConfiguration",
        "delete the bucket's replication configuration",
        "removes the replication configuration of a bucket",
    ),
    bucket(
        "GetBucketAccelerateConfiguration",
        "s3:GetAccelerateConfiguration",
        "read the bucket's Transfer Acceleration state",
        "returns the Transfer Acceleration state of a bucket",
    ),
    bucket(
        "PutBucketAccelerateConfiguration",
        "s3:PutAccelerateConfiguration",
        "write the bucket's Transfer Acceleration state",
        "sets the Transfer Acceleration state of a bucket",
    ),
    // ---- objects ----
    object(
        "GetObject",
        "s3:GetObject",
        "read the object",
        "returns an object",
    )
    .version("s3:GetObjectVersion")
    .data(Read),
    object(
        "HeadObject",
        "s3:GetObject",
        "read the object's metadata",
        "returns the metadata of an object",
    )
    .version("s3:GetObjectVersion"),
    object(
        "GetObjectAttributes",
        "s3:GetObjectAttributes",
        "read the object's attributes",
        "returns attributes (checksum, parts, size, storage class) of an object",
    )
    .version("s3:GetObjectVersionAttributes")
    .also(&[AlsoNeeds {
        action: "s3:GetObject",
        version_action: Some("s3:GetObjectVersion"),
        purpose: "read the object (GetObjectAttributes also needs it)",
    }]),
    object(
        "GetObjectAcl",
        "s3:GetObjectAcl",
        "read the object ACL",
        "returns the ACL of an object",
    )
    .version("s3:GetObjectVersionAcl"),
    object(
        "PutObjectAcl",
        "s3:PutObjectAcl",
        "write the object ACL",
        "replaces the ACL of an object",
    )
    .version("s3:PutObjectVersionAcl"),
    object(
        "GetObjectTagging",
        "s3:GetObjectTagging",
        "read the object's tags",
        "returns the tags of an object",
    )
    .version("s3:GetObjectVersionTagging"),
    object(
        "PutObjectTagging",
        "s3:PutObjectTagging",
        "write the object's tags",
        "replaces the tags of an object",
    )
    .version("s3:PutObjectVersionTagging"),
    object(
        "DeleteObjectTagging",
        "s3:DeleteObjectTagging",
        "delete the object's tags",
        "deletes the tags of an object",
    )
    .version("s3:DeleteObjectVersionTagging"),
    object(
        "PutObject",
        "s3:PutObject",
        "write the object",
        "uploads an object",
    )
    .data(Write),
    object(
        "CopyObject",
        "s3:PutObject",
        "write the copy",
        "copies an object (read the source, write the destination)",
    )
    .data(Write)
    .copies(),
    object(
        "DeleteObject",
        "s3:DeleteObject",
        "delete the object",
        "deletes an object (or, with a version id, one version)",
    )
    .version("s3:DeleteObjectVersion"),
    object(
        "DeleteObjects",
        "s3:DeleteObject",
        "delete the object",
        "deletes several objects in one request (one key is checked here)",
    )
    .version("s3:DeleteObjectVersion"),
    object(
        "RestoreObject",
        "s3:RestoreObject",
        "restore the archived object",
        "restores a temporary copy of an archived object",
    ),
    object(
        "SelectObjectContent",
        "s3:GetObject",
        "read the object",
        "runs an SQL expression over an object's content",
    )
    .data(Read),
    object(
        "GetObjectTorrent",
        "s3:GetObjectTorrent",
        "read the object's torrent file",
        "returns the torrent file of an object",
    ),
    object(
        "CreateMultipartUpload",
        "s3:PutObject",
        "start a multipart upload of the object",
        "starts a multipart upload",
    )
    .data(ReadWrite),
    object(
        "UploadPart",
        "s3:PutObject",
        "upload a part of the object",
        "uploads one part of a multipart upload",
    )
    .data(ReadWrite),
    object(
        "UploadPartCopy",
        "s3:PutObject",
        "upload a part of the object",
        "uploads one part of a multipart upload by copying from an object",
    )
    .data(ReadWrite)
    .copies(),
    object(
        "CompleteMultipartUpload",
        "s3:PutObject",
        "complete the multipart upload of the object",
        "assembles the uploaded parts into the object",
    )
    .data(ReadWrite),
    object(
        "AbortMultipartUpload",
        "s3:AbortMultipartUpload",
        "abort the multipart upload",
        "aborts a multipart upload and frees its parts",
    ),
    object(
        "ListParts",
        "s3:ListMultipartUploadParts",
        "list the parts of the multipart upload",
        "lists the uploaded parts of a multipart upload",
    ),
    object(
        "GetObjectRetention",
        "s3:GetObjectRetention",
        "read the object's retention",
        "returns the Object Lock retention of an object",
    ),
    object(
        "PutObjectRetention",
        "s3:PutObjectRetention",
        "write the object's retention",
        "sets the Object Lock retention of an object",
    ),
    object(
        "GetObjectLegalHold",
        "s3:GetObjectLegalHold",
        "read the object's legal hold",
        "returns the Object Lock legal hold of an object",
    ),
    object(
        "PutObjectLegalHold",
        "s3:PutObjectLegalHold",
        "write the object's legal hold",
        "sets the Object Lock legal hold of an object",
    ),
];

/// Every known operation, in table order.
pub fn operations() -> &'static [OperationSpec] {
    OPERATIONS
}

/// Looks up an operation by its S3 API name: exact first, then ignoring ASCII case.
pub fn operation(name: &str) -> Option<&'static OperationSpec> {
    OPERATIONS.iter().find(|o| o.name == name).or_else(|| {
        OPERATIONS
            .iter()
            .find(|o| o.name.eq_ignore_ascii_case(name))
    })
}

/// Up to three known operation names close to `name` (edit distance, ignoring case), closest
/// first; names that start with `name` also count.
pub fn suggest_operations(name: &str) -> Vec<&'static str> {
    let wanted = name.to_ascii_lowercase();
    // Someone who wrote an action (`s3:GetObject`) as an operation: compare the part after `:`.
    let wanted = match wanted.split_once(':') {
        Some((_, rest)) => rest.to_string(),
        None => wanted,
    };
    let limit = (wanted.chars().count() / 3).max(2);
    let mut scored: Vec<(usize, &'static str)> = OPERATIONS
        .iter()
        .filter_map(|o| {
            let lower = o.name.to_ascii_lowercase();
            let d = edit_distance(&wanted, &lower);
            if d <= limit {
                Some((d, o.name))
            } else if wanted.len() >= 4 && lower.starts_with(&wanted) {
                Some((limit + 1, o.name))
            } else {
                None
            }
        })
        .collect();
    scored.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(3).map(|(_, n)| n).collect()
}

/// Levenshtein distance over chars.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// S3 actions that take no resource (`"*"`), canonical case.
const SERVICE_ACTIONS: &[&str] = &[
    "s3:ListAllMyBuckets",
    "s3:GetAccountPublicAccessBlock",
    "s3:PutAccountPublicAccessBlock",
    "s3:ListAccessPoints",
    "s3:ListAccessPointsForObjectLambda",
    "s3:ListMultiRegionAccessPoints",
    "s3:ListStorageLensConfigurations",
    "s3:ListJobs",
    "s3:CreateJob",
];

/// Object-level actions that no operation in the table names as its main action.
const OTHER_OBJECT_ACTIONS: &[&str] = &[
    "s3:BypassGovernanceRetention",
    "s3:GetObjectVersionTorrent",
    "s3:ReplicateObject",
    "s3:ReplicateDelete",
    "s3:ReplicateTags",
    "s3:ObjectOwnerOverrideToBucketOwner",
];

/// The canonical spelling of a known S3 action (`s3:getobject` → `s3:GetObject`), or `None` for
/// an action s3medic does not know.
pub fn canonical_action(action: &str) -> Option<&'static str> {
    let eq = |a: &&'static str| a.eq_ignore_ascii_case(action);
    for o in OPERATIONS {
        if eq(&o.action) {
            return Some(o.action);
        }
        if let Some(v) = o.version_action.filter(eq) {
            return Some(v);
        }
        for a in o.also {
            if eq(&a.action) {
                return Some(a.action);
            }
            if let Some(v) = a.version_action.filter(eq) {
                return Some(v);
            }
        }
    }
    SERVICE_ACTIONS
        .iter()
        .chain(OTHER_OBJECT_ACTIONS)
        .find(|a| eq(a))
        .copied()
}

/// The scope of a raw action: `"*"` for account-level actions (s3:ListAllMyBuckets ...), the
/// bucket for bucket-level ones (`s3:ListBucket*`, `s3:*Bucket*`, `s3:*Configuration` such as
/// s3:GetEncryptionConfiguration), the object otherwise (`has_key`), or the bucket when the request
/// names no key.
pub fn action_scope(action: &str, has_key: bool) -> Scope {
    let lower = action.to_ascii_lowercase();
    if SERVICE_ACTIONS
        .iter()
        .any(|a| a.eq_ignore_ascii_case(&lower))
    {
        return Scope::Service;
    }
    // A known action's scope comes from the table.
    for o in OPERATIONS {
        let named = o.action.eq_ignore_ascii_case(&lower)
            || o.version_action
                .is_some_and(|v| v.eq_ignore_ascii_case(&lower));
        if named {
            return match o.scope {
                Scope::Object if !has_key => Scope::Bucket,
                s => s,
            };
        }
    }
    let name = lower.split_once(':').map_or(lower.as_str(), |(_, n)| n);
    if name.contains("bucket") || name.ends_with("configuration") {
        Scope::Bucket
    } else if has_key {
        Scope::Object
    } else {
        Scope::Bucket
    }
}

/// The data access of a raw action: reading (`s3:GetObject`, `s3:GetObjectVersion`) or writing
/// (`s3:PutObject`) object content; `None` otherwise.
pub fn action_data(action: &str) -> DataAccess {
    let lower = action.to_ascii_lowercase();
    match lower.as_str() {
        "s3:getobject" | "s3:getobjectversion" => DataAccess::Read,
        "s3:putobject" => DataAccess::Write,
        _ => DataAccess::None,
    }
}

//! What authorizations a request needs: the main action on the right resource ARN, the read of a
//! copy source, and the extra actions that request headers add (an ACL header on PutObject also
//! needs s3:PutObjectAcl, and so on). KMS permissions are not listed here: the evaluator adds them
//! from the object's encryption and each requirement's [`DataAccess`].

use super::operation::{
    action_data, action_scope, canonical_action, DataAccess, OperationSpec, Scope,
};
use super::{ObjectRef, Request, RequestError, Target};

/// The resource an authorization is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceRef {
    /// `"*"`.
    Service,
    Bucket {
        bucket: String,
    },
    Object {
        bucket: String,
        key: String,
    },
}

/// Why an authorization is needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequirementRole {
    /// The operation's own action.
    Primary,
    /// Reading the source of a copy.
    CopySource,
    /// Required in addition, by a header or by the operation itself.
    Extra,
}

/// One (action, resource) pair that must be authorized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// Canonical case, e.g. `s3:GetObject` (a raw action s3medic does not know: as written).
    pub action: String,
    pub action_lower: String,
    /// `*`, `arn:PARTITION:s3:::BUCKET` or `arn:PARTITION:s3:::BUCKET/KEY`.
    pub resource_arn: String,
    pub resource: ResourceRef,
    pub role: RequirementRole,
    pub data: DataAccess,
    /// What it is for, e.g. `write the object ACL from the x-amz-acl header`.
    pub purpose: String,
}

impl Requirement {
    fn new(
        action: &str,
        resource: ResourceRef,
        partition: &str,
        role: RequirementRole,
        data: DataAccess,
        purpose: impl Into<String>,
    ) -> Requirement {
        Requirement {
            action: action.to_string(),
            action_lower: action.to_ascii_lowercase(),
            resource_arn: resource_arn(&resource, partition),
            resource,
            role,
            data,
            purpose: purpose.into(),
        }
    }
}

/// The ARN of a resource: `*`, `arn:P:s3:::BUCKET`, `arn:P:s3:::BUCKET/KEY`.
pub fn resource_arn(resource: &ResourceRef, partition: &str) -> String {
    match resource {
        ResourceRef::Service => "*".to_string(),
        ResourceRef::Bucket { bucket } => format!("arn:{partition}:s3:::{bucket}"),
        ResourceRef::Object { bucket, key } => format!("arn:{partition}:s3:::{bucket}/{key}"),
    }
}

/// The authorizations `req` needs, main one first, then the copy source, then extras.
pub fn requirements(req: &Request, partition: &str) -> Result<Vec<Requirement>, RequestError> {
    match &req.target {
        Target::Operation(spec) => operation_requirements(req, spec, partition),
        Target::Action(action) => Ok(vec![action_requirement(req, action, partition)?]),
    }
}

fn action_requirement(
    req: &Request,
    action: &str,
    partition: &str,
) -> Result<Requirement, RequestError> {
    let canonical = canonical_action(action).map_or_else(|| action.to_string(), str::to_string);
    let scope = action_scope(action, req.key.is_some());
    let resource = resource_for(req, scope, &canonical)?;
    let purpose = format!("perform {canonical}");
    Ok(Requirement::new(
        &canonical,
        resource,
        partition,
        RequirementRole::Primary,
        action_data(action),
        purpose,
    ))
}

fn resource_for(req: &Request, scope: Scope, what: &str) -> Result<ResourceRef, RequestError> {
    match scope {
        Scope::Service => Ok(ResourceRef::Service),
        Scope::Bucket | Scope::Object if req.bucket.is_empty() => {
            Err(RequestError::MissingBucket {
                operation: what.to_string(),
            })
        }
        Scope::Bucket => Ok(ResourceRef::Bucket {
            bucket: req.bucket.clone(),
        }),
        Scope::Object => match &req.key {
            Some(key) if !key.is_empty() => Ok(ResourceRef::Object {
                bucket: req.bucket.clone(),
                key: key.clone(),
            }),
            _ => Err(RequestError::MissingKey {
                operation: what.to_string(),
            }),
        },
    }
}

/// A header counts as set when present and not `false`.
fn header_true(req: &Request, name: &str) -> bool {
    req.header(name)
        .is_some_and(|v| !v.trim().eq_ignore_ascii_case("false"))
}

fn operation_requirements(
    req: &Request,
    spec: &'static OperationSpec,
    partition: &str,
) -> Result<Vec<Requirement>, RequestError> {
    use RequirementRole::{CopySource, Extra, Primary};

    let resource = resource_for(req, spec.scope, spec.name)?;
    let versioned = req.version_id.is_some() && spec.scope == Scope::Object;
    let mut out = Vec::new();

    let action = spec.action_for(versioned);
    let purpose = if versioned && spec.version_action.is_some() {
        format!("{} version", spec.purpose)
    } else {
        spec.purpose.to_string()
    };
    // HeadObject reads no data, except the checksum with `x-amz-checksum-mode` (HeadObject API
    // reference: kms:Decrypt is then needed for SSE-KMS objects).
    let data = if spec.name == "HeadObject" && req.header("x-amz-checksum-mode").is_some() {
        DataAccess::Read
    } else {
        spec.data
    };
    out.push(Requirement::new(
        action,
        resource.clone(),
        partition,
        Primary,
        data,
        purpose,
    ));

    // The copy source.
    if spec.copy {
        let src: &ObjectRef =
            req.copy_source
                .as_ref()
                .ok_or_else(|| RequestError::MissingCopySource {
                    operation: spec.name.to_string(),
                })?;
        if src.bucket.is_empty() || src.key.is_empty() {
            return Err(RequestError::field(
                "copy_source",
                "needs both a bucket and a key",
            ));
        }
        let (action, purpose) = match src.version_id {
            Some(_) => ("s3:GetObjectVersion", "read the copy source version"),
            None => ("s3:GetObject", "read the copy source"),
        };
        out.push(Requirement::new(
            action,
            ResourceRef::Object {
                bucket: src.bucket.clone(),
                key: src.key.clone(),
            },
            partition,
            CopySource,
            DataAccess::Read,
            purpose,
        ));
    } else if req.copy_source.is_some() {
        return Err(RequestError::UnexpectedCopySource {
            operation: spec.name.to_string(),
        });
    }

    // Authorizations the operation always needs besides its main action.
    for also in spec.also {
        let action = match (versioned, also.version_action) {
            (true, Some(v)) => v,
            _ => also.action,
        };
        out.push(Requirement::new(
            action,
            resource.clone(),
            partition,
            Extra,
            DataAccess::None,
            also.purpose,
        ));
    }

    // Authorizations added by request headers.
    let mut extra = |action: &str, resource: &ResourceRef, purpose: String| {
        out.push(Requirement::new(
            action,
            resource.clone(),
            partition,
            Extra,
            DataAccess::None,
            purpose,
        ));
    };
    let acl_header = req
        .headers
        .iter()
        .map(|(k, _)| k.as_str())
        .find(|k| *k == "x-amz-acl" || k.starts_with("x-amz-grant-"));
    let writes_object = matches!(
        spec.name,
        "PutObject" | "CopyObject" | "CreateMultipartUpload"
    );
    if writes_object {
        if let Some(h) = acl_header {
            extra(
                "s3:PutObjectAcl",
                &resource,
                format!("write the object ACL from the {h} header"),
            );
        }
        let tagging = if spec.name == "CopyObject" {
            req.header("x-amz-tagging-directive")
                .is_some_and(|d| d.trim().eq_ignore_ascii_case("REPLACE"))
                .then_some("write the object's tags (x-amz-tagging-directive REPLACE)")
        } else {
            req.header("x-amz-tagging")
                .map(|_| "write the object's tags from the x-amz-tagging header")
        };
        if let Some(purpose) = tagging {
            extra("s3:PutObjectTagging", &resource, purpose.to_string());
        }
        let retention = [
            "x-amz-object-lock-mode",
            "x-amz-object-lock-retain-until-date",
        ]
        .into_iter()
        .find(|h| req.header(h).is_some());
        if let Some(h) = retention {
            extra(
                "s3:PutObjectRetention",
                &resource,
                format!("set the object's retention from the {h} header"),
            );
        }
        if req.header("x-amz-object-lock-legal-hold").is_some() {
            extra(
                "s3:PutObjectLegalHold",
                &resource,
                "set the object's legal hold from the x-amz-object-lock-legal-hold header"
                    .to_string(),
            );
        }
    }
    if matches!(
        spec.name,
        "DeleteObject" | "DeleteObjects" | "PutObjectRetention"
    ) && header_true(req, "x-amz-bypass-governance-retention")
    {
        extra(
            "s3:BypassGovernanceRetention",
            &resource,
            "bypass governance-mode retention (x-amz-bypass-governance-retention header)"
                .to_string(),
        );
    }
    if spec.name == "CreateBucket" {
        if let Some(h) = acl_header {
            extra(
                "s3:PutBucketAcl",
                &resource,
                format!("write the bucket ACL from the {h} header"),
            );
        }
        if header_true(req, "x-amz-bucket-object-lock-enabled") {
            let purpose = "enable Object Lock (x-amz-bucket-object-lock-enabled header)";
            extra(
                "s3:PutBucketObjectLockConfiguration",
                &resource,
                purpose.to_string(),
            );
            extra("s3:PutBucketVersioning", &resource, purpose.to_string());
        }
        if req.header("x-amz-object-ownership").is_some() {
            extra(
                "s3:PutBucketOwnershipControls",
                &resource,
                "set Object Ownership from the x-amz-object-ownership header".to_string(),
            );
        }
    }
    Ok(out)
}

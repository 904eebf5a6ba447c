//! What authorizations a request needs: the main action on the right resource ARN, the read of a
//! copy source, and the extra actions that request headers add (an ACL header on PutObject also
//! needs s3:PutObjectAcl, and so on). KMS permissions are not listed here: the evaluator adds them
//! from the object's encryption and each requirement's [`DataAccess`].

use std::borrow::Cow;

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
    /// Borrowed from the operation table where possible, so building requirements allocates little.
    pub action: Cow<'static, str>,
    pub action_lower: Cow<'static, str>,
    /// `*`, `arn:PARTITION:s3:::BUCKET` or `arn:PARTITION:s3:::BUCKET/KEY`.
    pub resource_arn: String,
    pub resource: ResourceRef,
    pub role: RequirementRole,
    pub data: DataAccess,
    /// What it is for, e.g. `write the object ACL from the x-amz-acl header`.
    pub purpose: Cow<'static, str>,
}

impl Requirement {
    fn new(
        action: impl Into<Cow<'static, str>>,
        resource: ResourceRef,
        partition: &str,
        role: RequirementRole,
        data: DataAccess,
        purpose: impl Into<Cow<'static, str>>,
    ) -> Requirement {
        let action = action.into();
        let action_lower = lower_action(&action);
        Requirement {
            action,
            action_lower,
            resource_arn: resource_arn(&resource, partition),
            resource,
            role,
            data,
            purpose: purpose.into(),
        }
    }
}

/// The lower-case form of an action: borrowed from a table built once from the operation table
/// (every action s3medic knows), computed for others.
fn lower_action(action: &str) -> Cow<'static, str> {
    static TABLE: std::sync::OnceLock<Vec<(&'static str, String)>> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t: Vec<(&'static str, String)> = Vec::new();
        for op in super::operation::operations() {
            for a in std::iter::once(op.action)
                .chain(op.version_action)
                .chain(op.also.iter().map(|x| x.action))
            {
                if !t.iter().any(|(k, _)| *k == a) {
                    t.push((a, a.to_ascii_lowercase()));
                }
            }
        }
        t.sort_by(|x, y| x.0.cmp(y.0));
        t
    });
    match table.binary_search_by(|(k, _)| (*k).cmp(action)) {
        Ok(i) => table.get(i).map_or_else(
            || Cow::Owned(action.to_ascii_lowercase()),
            |(_, l)| Cow::Borrowed(l.as_str()),
        ),
        Err(_) => Cow::Owned(action.to_ascii_lowercase()),
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
    let canonical: Cow<'static, str> =
        canonical_action(action).map_or_else(|| Cow::Owned(action.to_string()), Cow::Borrowed);
    let scope = action_scope(action, req.key.is_some());
    let resource = resource_for(req, scope, &canonical)?;
    let purpose = format!("perform {canonical}");
    Ok(Requirement::new(
        canonical,
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
    let mut extra = |action: &'static str, resource: &ResourceRef, purpose: String| {
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

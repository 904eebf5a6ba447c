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

/// A [`ResourceRef`] whose names borrow from the request: what the evaluator works with, so that
/// building its requirements copies no bucket or key names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceName<'r> {
    /// `"*"`.
    Service,
    Bucket(&'r str),
    Object {
        bucket: &'r str,
        key: &'r str,
    },
}

impl<'r> ResourceName<'r> {
    pub fn to_resource_ref(self) -> ResourceRef {
        match self {
            ResourceName::Service => ResourceRef::Service,
            ResourceName::Bucket(bucket) => ResourceRef::Bucket {
                bucket: bucket.to_string(),
            },
            ResourceName::Object { bucket, key } => ResourceRef::Object {
                bucket: bucket.to_string(),
                key: key.to_string(),
            },
        }
    }

    /// The object key, for an object.
    pub fn key(self) -> Option<&'r str> {
        match self {
            ResourceName::Object { key, .. } => Some(key),
            _ => None,
        }
    }

    /// `*`, `arn:P:s3:::BUCKET` or `arn:P:s3:::BUCKET/KEY` (one allocation of the exact size).
    pub fn arn(self, partition: &str) -> String {
        match self {
            ResourceName::Service => "*".to_string(),
            ResourceName::Bucket(bucket) => ["arn:", partition, ":s3:::", bucket].concat(),
            ResourceName::Object { bucket, key } => {
                ["arn:", partition, ":s3:::", bucket, "/", key].concat()
            }
        }
    }
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

/// One (action, resource) pair that must be authorized. `R` is [`ResourceRef`] (owned names), or
/// [`ResourceName`] for the borrowed form [`borrowed_requirements`] builds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement<R = ResourceRef> {
    /// Canonical case, e.g. `s3:GetObject` (a raw action s3medic does not know: as written).
    /// Borrowed from the operation table where possible, so building requirements allocates little.
    pub action: Cow<'static, str>,
    pub action_lower: Cow<'static, str>,
    /// `*`, `arn:PARTITION:s3:::BUCKET` or `arn:PARTITION:s3:::BUCKET/KEY`.
    pub resource_arn: String,
    pub resource: R,
    pub role: RequirementRole,
    pub data: DataAccess,
    /// What it is for, e.g. `write the object ACL from the x-amz-acl header`.
    pub purpose: Cow<'static, str>,
}

impl<'r> Requirement<ResourceName<'r>> {
    /// The owned form.
    pub fn into_owned(self) -> Requirement {
        Requirement {
            action: self.action,
            action_lower: self.action_lower,
            resource_arn: self.resource_arn,
            resource: self.resource.to_resource_ref(),
            role: self.role,
            data: self.data,
            purpose: self.purpose,
        }
    }

    /// A requirement whose resource ARN is already known.
    fn with_arn(
        action: impl Into<Cow<'static, str>>,
        resource: ResourceName<'r>,
        resource_arn: String,
        role: RequirementRole,
        data: DataAccess,
        purpose: impl Into<Cow<'static, str>>,
    ) -> Self {
        let action = action.into();
        let action_lower = lower_action(&action);
        Requirement {
            action,
            action_lower,
            resource_arn,
            resource,
            role,
            data,
            purpose: purpose.into(),
        }
    }

    fn new(
        action: impl Into<Cow<'static, str>>,
        resource: ResourceName<'r>,
        partition: &str,
        role: RequirementRole,
        data: DataAccess,
        purpose: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self::with_arn(
            action,
            resource,
            resource.arn(partition),
            role,
            data,
            purpose,
        )
    }
}

/// The lower-case form of an action: borrowed from a table built once from the operation table
/// (every action s3medic knows; one hash look-up), computed for others.
fn lower_action(action: &str) -> Cow<'static, str> {
    type Table = rustc_hash::FxHashMap<&'static str, String>;
    static TABLE: std::sync::OnceLock<Table> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = Table::default();
        for op in super::operation::operations() {
            for a in std::iter::once(op.action)
                .chain(op.version_action)
                .chain(op.also.iter().map(|x| x.action))
            {
                t.entry(a).or_insert_with(|| a.to_ascii_lowercase());
            }
        }
        t
    });
    match table.get(action) {
        Some(l) => Cow::Borrowed(l.as_str()),
        None => Cow::Owned(action.to_ascii_lowercase()),
    }
}

/// The ARN of a resource: `*`, `arn:P:s3:::BUCKET`, `arn:P:s3:::BUCKET/KEY`.
pub fn resource_arn(resource: &ResourceRef, partition: &str) -> String {
    let name = match resource {
        ResourceRef::Service => ResourceName::Service,
        ResourceRef::Bucket { bucket } => ResourceName::Bucket(bucket),
        ResourceRef::Object { bucket, key } => ResourceName::Object { bucket, key },
    };
    name.arn(partition)
}

/// The authorizations `req` needs, main one first, then the copy source, then extras.
pub fn requirements(req: &Request, partition: &str) -> Result<Vec<Requirement>, RequestError> {
    Ok(borrowed_requirements(req, partition)?
        .into_iter()
        .map(Requirement::into_owned)
        .collect())
}

/// [`requirements`] with the resource names borrowed from `req` (what the evaluator uses).
pub fn borrowed_requirements<'r>(
    req: &'r Request,
    partition: &str,
) -> Result<Vec<Requirement<ResourceName<'r>>>, RequestError> {
    match &req.target {
        Target::Operation(spec) => operation_requirements(req, spec, partition),
        Target::Action(action) => Ok(vec![action_requirement(req, action, partition)?]),
    }
}

fn action_requirement<'r>(
    req: &'r Request,
    action: &str,
    partition: &str,
) -> Result<Requirement<ResourceName<'r>>, RequestError> {
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

fn resource_for<'r>(
    req: &'r Request,
    scope: Scope,
    what: &str,
) -> Result<ResourceName<'r>, RequestError> {
    match scope {
        Scope::Service => Ok(ResourceName::Service),
        Scope::Bucket | Scope::Object if req.bucket.is_empty() => {
            Err(RequestError::MissingBucket {
                operation: what.to_string(),
            })
        }
        Scope::Bucket => Ok(ResourceName::Bucket(&req.bucket)),
        Scope::Object => match &req.key {
            Some(key) if !key.is_empty() => Ok(ResourceName::Object {
                bucket: &req.bucket,
                key,
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

fn operation_requirements<'r>(
    req: &'r Request,
    spec: &'static OperationSpec,
    partition: &str,
) -> Result<Vec<Requirement<ResourceName<'r>>>, RequestError> {
    use RequirementRole::{CopySource, Extra, Primary};

    let resource = resource_for(req, spec.scope, spec.name)?;
    let versioned = req.version_id.is_some() && spec.scope == Scope::Object;
    let mut out = Vec::with_capacity(1 + usize::from(spec.copy) + spec.also.len());

    let action = spec.action_for(versioned);
    let purpose: Cow<'static, str> = if versioned && spec.version_action.is_some() {
        format!("{} version", spec.purpose).into()
    } else {
        spec.purpose.into()
    };
    // HeadObject reads no data, except the checksum with `x-amz-checksum-mode` (HeadObject API
    // reference: kms:Decrypt is then needed for SSE-KMS objects).
    let data = if spec.name == "HeadObject" && req.header("x-amz-checksum-mode").is_some() {
        DataAccess::Read
    } else {
        spec.data
    };
    out.push(Requirement::new(
        action, resource, partition, Primary, data, purpose,
    ));
    // Every later requirement on the operation's own resource copies the primary's.
    let primary_resource = |out: &[Requirement<ResourceName<'r>>]| {
        out.first().map_or_else(
            || (ResourceName::Service, "*".to_string()),
            |p| (p.resource, p.resource_arn.clone()),
        )
    };

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
            ResourceName::Object {
                bucket: &src.bucket,
                key: &src.key,
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
        let (resource, resource_arn) = primary_resource(&out);
        out.push(Requirement::with_arn(
            action,
            resource,
            resource_arn,
            Extra,
            DataAccess::None,
            also.purpose,
        ));
    }

    // Authorizations added by request headers.
    let mut extra = |action: &'static str, purpose: String| {
        let (resource, resource_arn) = primary_resource(&out);
        out.push(Requirement::with_arn(
            action,
            resource,
            resource_arn,
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
            extra("s3:PutObjectTagging", purpose.to_string());
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
                format!("set the object's retention from the {h} header"),
            );
        }
        if req.header("x-amz-object-lock-legal-hold").is_some() {
            extra(
                "s3:PutObjectLegalHold",
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
            "bypass governance-mode retention (x-amz-bypass-governance-retention header)"
                .to_string(),
        );
    }
    if spec.name == "CreateBucket" {
        if let Some(h) = acl_header {
            extra(
                "s3:PutBucketAcl",
                format!("write the bucket ACL from the {h} header"),
            );
        }
        if header_true(req, "x-amz-bucket-object-lock-enabled") {
            let purpose = "enable Object Lock (x-amz-bucket-object-lock-enabled header)";
            extra("s3:PutBucketObjectLockConfiguration", purpose.to_string());
            extra("s3:PutBucketVersioning", purpose.to_string());
        }
        if req.header("x-amz-object-ownership").is_some() {
            extra(
                "s3:PutBucketOwnershipControls",
                "set Object Ownership from the x-amz-object-ownership header".to_string(),
            );
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrowed_names_build_the_same_resources() {
        for name in [
            ResourceName::Service,
            ResourceName::Bucket("b"),
            ResourceName::Object {
                bucket: "b",
                key: "a/k.txt",
            },
        ] {
            let owned = name.to_resource_ref();
            for partition in ["aws", "aws-cn"] {
                assert_eq!(name.arn(partition), resource_arn(&owned, partition));
            }
        }
        assert_eq!(
            ResourceName::Object {
                bucket: "b",
                key: "k"
            }
            .arn("aws"),
            "arn:aws:s3:::b/k"
        );
        assert_eq!(ResourceName::Bucket("b").key(), None);
    }

    #[test]
    fn owned_requirements_equal_the_borrowed_ones() {
        let req = Request::from_value(&serde_json::json!({
            "principal": "arn:aws:iam::111122223333:user/alice",
            "operation": "CopyObject", "bucket": "dst", "key": "k",
            "copy_source": {"bucket": "src", "key": "s", "version_id": "v1"},
            "headers": {"x-amz-acl": "private", "x-amz-tagging-directive": "REPLACE"}
        }))
        .unwrap();
        let borrowed = borrowed_requirements(&req, "aws").unwrap();
        let owned = requirements(&req, "aws").unwrap();
        assert_eq!(borrowed.len(), owned.len());
        assert!(borrowed.len() >= 4, "primary, source, ACL and tagging");
        for (b, o) in borrowed.into_iter().zip(owned) {
            assert_eq!(b.into_owned(), o);
        }
    }
}

//! Reads one bucket (location, ACL, policy, Block Public Access, Object Ownership, default
//! encryption, Requester Pays, website) and the requested objects (HeadObject, GetObjectAcl) and
//! turns the SDK outputs into the AWS CLI JSON shapes of docs/formats.md ("Bucket", "Object").

use std::sync::Arc;

use aws_sdk_s3::operation::head_object::HeadObjectOutput;
use aws_sdk_s3::types::{
    Grant, OwnershipControls, PublicAccessBlockConfiguration, ServerSideEncryptionConfiguration,
};
use serde_json::{json, Map, Value};

use super::errors::{
    ApiFailure, NOT_FOUND, NO_SUCH_BUCKET_POLICY, NO_SUCH_KEY, NO_SUCH_PUBLIC_ACCESS_BLOCK,
    NO_SUCH_WEBSITE, OWNERSHIP_CONTROLS_NOT_FOUND, SSE_CONFIG_NOT_FOUND,
};
use super::Ctx;
use crate::world::Part;

/// The names of the parts in the unknown list (`bucket `b`: bucket policy: why`).
const LABEL_POLICY: &str = "bucket policy";
const LABEL_PAB: &str = "Block Public Access";
const LABEL_OWNERSHIP: &str = "Object Ownership";
const LABEL_ACL: &str = "ACL";
const LABEL_ENCRYPTION: &str = "default encryption";
const LABEL_PAYMENT: &str = "request payment";
const LABEL_WEBSITE: &str = "website";
const LABEL_HEAD: &str = "HeadObject";

/// The parts of one bucket as read, in the World JSON shapes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BucketParts {
    /// `GetBucketPolicy`: `{"Policy": "<json string>"}`.
    pub policy: Part<Value>,
    /// `GetPublicAccessBlock`: `{"PublicAccessBlockConfiguration": {...}}`.
    pub public_access_block: Part<Value>,
    /// `GetBucketOwnershipControls`: `{"OwnershipControls": {"Rules": [...]}}`.
    pub ownership_controls: Part<Value>,
    /// `GetBucketAcl`: `{"Owner": {"ID"}, "Grants": [...]}`.
    pub acl: Part<Value>,
    /// `GetBucketEncryption`: `{"ServerSideEncryptionConfiguration": {"Rules": [...]}}`.
    pub encryption: Part<Value>,
    /// `GetBucketRequestPayment`: `{"Payer": ...}`.
    pub request_payment: Part<Value>,
    /// `GetBucketWebsite`.
    pub website: Part<Value>,
    /// The requested objects that exist (or whose existence could not be ruled out).
    pub objects: Vec<ObjectParts>,
}

/// The parts of one object as read.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectParts {
    /// The key.
    pub key: String,
    /// `HeadObject` (encryption, version).
    pub head: Part<Value>,
    /// `GetObjectAcl`.
    pub acl: Part<Value>,
}

impl BucketParts {
    /// The bucket in the World JSON shape (`objects_complete` is false: only the requested keys
    /// were read, so a key not listed may still exist).
    pub fn to_json(&self, name: &str, account_id: &str, region: &str) -> Value {
        let p = |part: &Part<Value>| part.to_value_with(Value::clone);
        let objects: Vec<Value> = self
            .objects
            .iter()
            .map(|o| json!({"key": o.key, "head": p(&o.head), "acl": p(&o.acl)}))
            .collect();
        json!({
            "name": name,
            "account_id": account_id,
            "region": region,
            "policy": p(&self.policy),
            "public_access_block": p(&self.public_access_block),
            "ownership_controls": p(&self.ownership_controls),
            "acl": p(&self.acl),
            "encryption": p(&self.encryption),
            "request_payment": p(&self.request_payment),
            "website": p(&self.website),
            "objects": objects,
            "objects_complete": false,
        })
    }

    fn fields(&self) -> [(&'static str, &Part<Value>); 7] {
        [
            (LABEL_POLICY, &self.policy),
            (LABEL_PAB, &self.public_access_block),
            (LABEL_OWNERSHIP, &self.ownership_controls),
            (LABEL_ACL, &self.acl),
            (LABEL_ENCRYPTION, &self.encryption),
            (LABEL_PAYMENT, &self.request_payment),
            (LABEL_WEBSITE, &self.website),
        ]
    }

    fn fields_mut(&mut self) -> [&mut Part<Value>; 7] {
        [
            &mut self.policy,
            &mut self.public_access_block,
            &mut self.ownership_controls,
            &mut self.acl,
            &mut self.encryption,
            &mut self.request_payment,
            &mut self.website,
        ]
    }

    /// Whether any part of the bucket or its objects could not be read.
    pub fn has_unknown(&self) -> bool {
        self.fields().iter().any(|(_, p)| p.is_unknown())
            || self
                .objects
                .iter()
                .any(|o| o.head.is_unknown() || o.acl.is_unknown())
    }

    /// One line per unknown part, as the collection lists them
    /// (`bucket `b`: bucket policy: AccessDenied: needs s3:GetBucketPolicy`).
    pub fn unknown_notes(&self, bucket: &str) -> Vec<String> {
        let mut out = Vec::new();
        for (label, p) in self.fields() {
            if let Part::Unknown(why) = p {
                out.push(format!("bucket `{bucket}`: {label}: {why}"));
            }
        }
        for o in &self.objects {
            for (label, p) in [(LABEL_HEAD, &o.head), (LABEL_ACL, &o.acl)] {
                if let Part::Unknown(why) = p {
                    out.push(format!("object `{bucket}/{}`: {label}: {why}", o.key));
                }
            }
        }
        out
    }

    /// Fills every unknown part from `other` (the same bucket read with other credentials, e.g.
    /// the owner account's): a part `other` read replaces the unknown one; when both are unknown
    /// the reasons are joined, `other`'s introduced by `via`. Objects only `other` found are added.
    pub fn fill_from(&mut self, other: BucketParts, via: &str) {
        fn fill(mine: &mut Part<Value>, theirs: Part<Value>, via: &str) {
            if let Part::Unknown(why) = mine {
                *mine = match theirs {
                    Part::Unknown(other_why) => Part::Unknown(format!("{why}; {via}: {other_why}")),
                    known_or_absent => known_or_absent,
                };
            }
        }
        let BucketParts {
            policy,
            public_access_block,
            ownership_controls,
            acl,
            encryption,
            request_payment,
            website,
            objects,
        } = other;
        let theirs = [
            policy,
            public_access_block,
            ownership_controls,
            acl,
            encryption,
            request_payment,
            website,
        ];
        for (mine, theirs) in self.fields_mut().into_iter().zip(theirs) {
            fill(mine, theirs, via);
        }
        for o in objects {
            match self.objects.iter_mut().find(|m| m.key == o.key) {
                Some(m) => {
                    fill(&mut m.head, o.head, via);
                    fill(&mut m.acl, o.acl, via);
                }
                None => self.objects.push(o),
            }
        }
    }

    /// The canonical id of the bucket owner, when the ACL was read.
    pub fn owner_id(&self) -> Option<String> {
        self.acl
            .known()?
            .pointer("/Owner/ID")?
            .as_str()
            .map(str::to_string)
    }

    /// The KMS key ids this bucket and its objects name (default encryption, object heads),
    /// and whether the default encryption uses the AWS managed key (SSE-KMS without a key id).
    pub fn kms_key_refs(&self) -> (Vec<String>, bool) {
        let mut ids = Vec::new();
        let mut aws_managed = false;
        if let Some(rules) = self
            .encryption
            .known()
            .and_then(|e| e.pointer("/ServerSideEncryptionConfiguration/Rules"))
            .and_then(Value::as_array)
        {
            for r in rules {
                let Some(d) = r.get("ApplyServerSideEncryptionByDefault") else {
                    continue;
                };
                let alg = d.get("SSEAlgorithm").and_then(Value::as_str).unwrap_or("");
                match d.get("KMSMasterKeyID").and_then(Value::as_str) {
                    Some(id) if !id.is_empty() => ids.push(id.to_string()),
                    _ if alg.starts_with("aws:kms") => aws_managed = true,
                    _ => {}
                }
            }
        }
        for o in &self.objects {
            if let Some(id) = o
                .head
                .known()
                .and_then(|h| h.get("SSEKMSKeyId"))
                .and_then(Value::as_str)
            {
                ids.push(id.to_string());
            }
        }
        ids.sort();
        ids.dedup();
        (ids, aws_managed)
    }

    /// Replaces every KMS key id (alias, bare id) in the encryption and object heads by
    /// `normalise(id)` (the key ARN), when it returns one.
    pub fn normalise_kms_ids(&mut self, normalise: impl Fn(&str) -> Option<String>) {
        let fix = |v: &mut Value, field: &str| {
            if let Some(Value::String(s)) = v.get_mut(field) {
                if let Some(arn) = normalise(s) {
                    *s = arn;
                }
            }
        };
        if let Some(rules) = self
            .encryption
            .known_mut()
            .and_then(|e| e.pointer_mut("/ServerSideEncryptionConfiguration/Rules"))
            .and_then(Value::as_array_mut)
        {
            for r in rules {
                if let Some(d) = r.get_mut("ApplyServerSideEncryptionByDefault") {
                    fix(d, "KMSMasterKeyID");
                }
            }
        }
        for o in &mut self.objects {
            if let Some(h) = o.head.known_mut() {
                fix(h, "SSEKMSKeyId");
            }
        }
    }
}

/// The region of a `GetBucketLocation` answer: empty / missing means us-east-1, `EU` eu-west-1.
pub fn region_of_location(location: Option<&str>) -> String {
    match location.unwrap_or("") {
        "" => "us-east-1".to_string(),
        "EU" => "eu-west-1".to_string(),
        r => r.to_string(),
    }
}

/// An ACL (`GetBucketAcl` / `GetObjectAcl`) in the CLI shape.
pub fn acl_json(owner_id: Option<&str>, grants: &[Grant]) -> Value {
    let grants: Vec<Value> = grants
        .iter()
        .filter_map(|g| {
            let ge = g.grantee()?;
            let mut gm = Map::new();
            gm.insert("Type".into(), ge.r#type().as_str().into());
            if let Some(id) = ge.id() {
                gm.insert("ID".into(), id.into());
            }
            if let Some(uri) = ge.uri() {
                gm.insert("URI".into(), uri.into());
            }
            if let Some(e) = ge.email_address() {
                gm.insert("EmailAddress".into(), e.into());
            }
            if let Some(n) = ge.display_name() {
                gm.insert("DisplayName".into(), n.into());
            }
            Some(json!({"Grantee": gm, "Permission": g.permission()?.as_str()}))
        })
        .collect();
    let mut m = Map::new();
    if let Some(id) = owner_id {
        m.insert("Owner".into(), json!({ "ID": id }));
    }
    m.insert("Grants".into(), Value::Array(grants));
    Value::Object(m)
}

/// A Block Public Access configuration (bucket or account) in the CLI shape.
pub fn public_access_block_json(c: &PublicAccessBlockConfiguration) -> Value {
    pab_json(
        c.block_public_acls(),
        c.ignore_public_acls(),
        c.block_public_policy(),
        c.restrict_public_buckets(),
    )
}

/// `{"PublicAccessBlockConfiguration": {...}}` from the four settings (missing = false).
pub fn pab_json(
    block_public_acls: Option<bool>,
    ignore_public_acls: Option<bool>,
    block_public_policy: Option<bool>,
    restrict_public_buckets: Option<bool>,
) -> Value {
    json!({"PublicAccessBlockConfiguration": {
        "BlockPublicAcls": block_public_acls.unwrap_or(false),
        "IgnorePublicAcls": ignore_public_acls.unwrap_or(false),
        "BlockPublicPolicy": block_public_policy.unwrap_or(false),
        "RestrictPublicBuckets": restrict_public_buckets.unwrap_or(false),
    }})
}

/// Object Ownership controls in the CLI shape.
pub fn ownership_json(c: &OwnershipControls) -> Value {
    let rules: Vec<Value> = c
        .rules()
        .iter()
        .map(|r| json!({"ObjectOwnership": r.object_ownership().as_str()}))
        .collect();
    json!({"OwnershipControls": {"Rules": rules}})
}

/// Default encryption in the CLI shape.
pub fn encryption_json(c: &ServerSideEncryptionConfiguration) -> Value {
    let rules: Vec<Value> = c
        .rules()
        .iter()
        .map(|r| {
            let mut rm = Map::new();
            if let Some(d) = r.apply_server_side_encryption_by_default() {
                let mut dm = Map::new();
                dm.insert("SSEAlgorithm".into(), d.sse_algorithm().as_str().into());
                if let Some(k) = d.kms_master_key_id().filter(|k| !k.is_empty()) {
                    dm.insert("KMSMasterKeyID".into(), k.into());
                }
                rm.insert(
                    "ApplyServerSideEncryptionByDefault".into(),
                    Value::Object(dm),
                );
            }
            if let Some(b) = r.bucket_key_enabled() {
                rm.insert("BucketKeyEnabled".into(), b.into());
            }
            Value::Object(rm)
        })
        .collect();
    json!({"ServerSideEncryptionConfiguration": {"Rules": rules}})
}

/// The fields of a `HeadObject` answer the World uses.
pub fn head_json(h: &HeadObjectOutput) -> Value {
    let mut m = Map::new();
    if let Some(s) = h.server_side_encryption() {
        m.insert("ServerSideEncryption".into(), s.as_str().into());
    }
    if let Some(k) = h.ssekms_key_id() {
        m.insert("SSEKMSKeyId".into(), k.into());
    }
    if let Some(b) = h.bucket_key_enabled() {
        m.insert("BucketKeyEnabled".into(), b.into());
    }
    if let Some(v) = h.version_id() {
        m.insert("VersionId".into(), v.into());
    }
    if let Some(a) = h.sse_customer_algorithm() {
        m.insert("SSECustomerAlgorithm".into(), a.into());
    }
    Value::Object(m)
}

/// A bucket policy as `get-bucket-policy` prints it: `{"Policy": "<json string>"}`.
pub fn policy_json(text: &str) -> Value {
    json!({ "Policy": text })
}

/// Reads the bucket's region with `GetBucketLocation`.
pub(crate) async fn bucket_region(ctx: &Ctx, bucket: &str) -> Result<String, ApiFailure> {
    let out = ctx
        .call(ctx.clients.s3.get_bucket_location().bucket(bucket).send())
        .await?;
    Ok(region_of_location(
        out.location_constraint().map(|c| c.as_str()),
    ))
}

/// Reads every part of `bucket` (in `region`) and the requested `keys`. Each failed read becomes
/// an unknown part (recorded in the context's unknown list under `label`); a key that does not
/// exist is left out.
pub(crate) async fn collect_bucket(
    ctx: Arc<Ctx>,
    bucket: String,
    region: String,
    keys: Vec<String>,
) -> BucketParts {
    let s3 = ctx.clients.s3_in(&region);
    let label = format!("bucket `{bucket}`");
    let b = bucket.as_str();
    let (policy, pab, ownership, acl, encryption, payment, website) = tokio::join!(
        ctx.call(s3.get_bucket_policy().bucket(b).send()),
        ctx.call(s3.get_public_access_block().bucket(b).send()),
        ctx.call(s3.get_bucket_ownership_controls().bucket(b).send()),
        ctx.call(s3.get_bucket_acl().bucket(b).send()),
        ctx.call(s3.get_bucket_encryption().bucket(b).send()),
        ctx.call(s3.get_bucket_request_payment().bucket(b).send()),
        ctx.call(s3.get_bucket_website().bucket(b).send()),
    );
    let mut parts = BucketParts {
        policy: ctx.part(
            &format!("{label}: {}", LABEL_POLICY),
            policy.map(|o| o.policy().map(policy_json)),
            "s3:GetBucketPolicy",
            &[NO_SUCH_BUCKET_POLICY],
        ),
        public_access_block: ctx.part(
            &format!("{label}: {}", LABEL_PAB),
            pab.map(|o| {
                o.public_access_block_configuration()
                    .map(public_access_block_json)
            }),
            "s3:GetBucketPublicAccessBlock",
            &[NO_SUCH_PUBLIC_ACCESS_BLOCK],
        ),
        ownership_controls: ctx.part(
            &format!("{label}: {}", LABEL_OWNERSHIP),
            ownership.map(|o| o.ownership_controls().map(ownership_json)),
            "s3:GetBucketOwnershipControls",
            &[OWNERSHIP_CONTROLS_NOT_FOUND],
        ),
        acl: ctx.part(
            &format!("{label}: {}", LABEL_ACL),
            acl.map(|o| Some(acl_json(o.owner().and_then(|w| w.id()), o.grants()))),
            "s3:GetBucketAcl",
            &[],
        ),
        encryption: ctx.part(
            &format!("{label}: {}", LABEL_ENCRYPTION),
            encryption.map(|o| {
                o.server_side_encryption_configuration()
                    .map(encryption_json)
            }),
            "s3:GetEncryptionConfiguration",
            &[SSE_CONFIG_NOT_FOUND],
        ),
        request_payment: ctx.part(
            &format!("{label}: {}", LABEL_PAYMENT),
            payment.map(|o| o.payer().map(|p| json!({"Payer": p.as_str()}))),
            "s3:GetBucketRequestPayment",
            &[],
        ),
        website: ctx.part(
            &format!("{label}: {}", LABEL_WEBSITE),
            website.map(|o| {
                let mut m = Map::new();
                if let Some(i) = o.index_document() {
                    m.insert("IndexDocument".into(), json!({"Suffix": i.suffix()}));
                }
                if let Some(e) = o.error_document() {
                    m.insert("ErrorDocument".into(), json!({"Key": e.key()}));
                }
                if let Some(r) = o.redirect_all_requests_to() {
                    let mut rm = Map::new();
                    rm.insert("HostName".into(), r.host_name().into());
                    if let Some(p) = r.protocol() {
                        rm.insert("Protocol".into(), p.as_str().into());
                    }
                    m.insert("RedirectAllRequestsTo".into(), Value::Object(rm));
                }
                Some(Value::Object(m))
            }),
            "s3:GetBucketWebsite",
            &[NO_SUCH_WEBSITE],
        ),
        objects: Vec::new(),
    };
    let mut set = tokio::task::JoinSet::new();
    for (i, key) in keys.into_iter().enumerate() {
        let ctx = ctx.clone();
        let s3 = s3.clone();
        let bucket = bucket.clone();
        set.spawn(async move {
            let (head, acl) = tokio::join!(
                ctx.call(s3.head_object().bucket(&bucket).key(&key).send()),
                ctx.call(s3.get_object_acl().bucket(&bucket).key(&key).send()),
            );
            (i, collect_object(&ctx, &bucket, key, head, acl))
        });
    }
    let mut objects = Vec::new();
    while let Some(r) = set.join_next().await {
        if let Ok((i, Some(o))) = r {
            objects.push((i, o));
        }
    }
    objects.sort_by_key(|(i, _)| *i);
    parts.objects = objects.into_iter().map(|(_, o)| o).collect();
    parts
}

/// One object from its `HeadObject` and `GetObjectAcl` answers; `None` when it does not exist.
fn collect_object(
    ctx: &Ctx,
    bucket: &str,
    key: String,
    head: Result<HeadObjectOutput, ApiFailure>,
    acl: Result<aws_sdk_s3::operation::get_object_acl::GetObjectAclOutput, ApiFailure>,
) -> Option<ObjectParts> {
    fn missing<T>(r: &Result<T, ApiFailure>) -> bool {
        matches!(r, Err(f) if f.kind == super::errors::FailureKind::Service
            && f.has_code(&[NOT_FOUND, NO_SUCH_KEY]))
    }
    if missing(&head) || missing(&acl) {
        return None;
    }
    let label = format!("object `{bucket}/{key}`");
    let head = ctx.part(
        &format!("{label}: {}", LABEL_HEAD),
        head.map(|h| Some(head_json(&h))),
        "s3:GetObject",
        &[],
    );
    let acl = ctx.part(
        &format!("{label}: {}", LABEL_ACL),
        acl.map(|o| Some(acl_json(o.owner().and_then(|w| w.id()), o.grants()))),
        "s3:GetObjectAcl",
        &[],
    );
    Some(ObjectParts { key, head, acl })
}

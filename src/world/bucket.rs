//! S3 buckets and objects: bucket policy, Block Public Access, Object Ownership, ACLs, default
//! encryption, Requester Pays, website configuration, and the objects the diagnosis looks at.

use serde_json::{Map, Value};

use super::error::WorldError;
use super::part::{
    as_object, opt_array, opt_bool, opt_nonempty_str, opt_str, parse_part, parse_policy_doc,
    put_opt, put_str, req_str, unwrap_key, Obj, Part,
};
use crate::policy::Policy;

/// A bucket and what is known about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Bucket {
    pub name: String,
    /// The bucket owner's account.
    pub account_id: String,
    pub region: String,
    pub policy: Part<Policy>,
    pub public_access_block: Part<PublicAccessBlock>,
    /// JSON key `ownership_controls`.
    pub ownership: Part<ObjectOwnership>,
    pub acl: Part<Acl>,
    pub encryption: Part<DefaultEncryption>,
    pub request_payment: Part<Payer>,
    /// `get-bucket-website` output, kept as is.
    pub website: Part<Value>,
    pub objects: Vec<Object>,
    /// True: a key not listed in `objects` does not exist.
    pub objects_complete: bool,
}

/// Block Public Access settings (bucket or account level). A flag left out is false, as in AWS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PublicAccessBlock {
    pub block_public_acls: bool,
    pub ignore_public_acls: bool,
    pub block_public_policy: bool,
    pub restrict_public_buckets: bool,
}

/// S3 Object Ownership setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectOwnership {
    BucketOwnerEnforced,
    BucketOwnerPreferred,
    ObjectWriter,
}

/// A bucket or object ACL.
#[derive(Debug, Clone, PartialEq)]
pub struct Acl {
    /// `Owner.ID`: canonical user id of the owner.
    pub owner_id: Option<String>,
    pub grants: Vec<Grant>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Grant {
    pub grantee: Grantee,
    pub permission: AclPermission,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Grantee {
    CanonicalUser(String),
    /// `http://acs.amazonaws.com/groups/global/AllUsers`
    AllUsers,
    /// `http://acs.amazonaws.com/groups/global/AuthenticatedUsers`
    AuthenticatedUsers,
    /// `http://acs.amazonaws.com/groups/s3/LogDelivery`
    LogDelivery,
    /// `AmazonCustomerByEmail`
    Email(String),
    /// Any other group URI.
    Group(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AclPermission {
    FullControl,
    Read,
    Write,
    ReadAcp,
    WriteAcp,
}

/// Default encryption (first rule of `ServerSideEncryptionConfiguration`).
#[derive(Debug, Clone, PartialEq)]
pub struct DefaultEncryption {
    pub algorithm: SseAlgorithm,
    /// `KMSMasterKeyID`: key id, key ARN, alias name or alias ARN, as written.
    pub kms_key_id: Option<String>,
    pub bucket_key_enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SseAlgorithm {
    Aes256,
    AwsKms,
    AwsKmsDsse,
    Other(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Payer {
    BucketOwner,
    Requester,
}

/// An object the diagnosis looks at.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    pub key: String,
    pub head: Part<ObjectHead>,
    pub acl: Part<Acl>,
}

/// What `head-object` says about an object.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ObjectHead {
    /// `ServerSideEncryption`.
    pub sse: Option<SseAlgorithm>,
    /// `SSEKMSKeyId`.
    pub kms_key_id: Option<String>,
    pub bucket_key_enabled: bool,
    pub version_id: Option<String>,
    /// `SSECustomerAlgorithm`: set when the object is encrypted with SSE-C.
    pub sse_customer_algorithm: Option<String>,
}

const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
const AUTHENTICATED_USERS: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
const LOG_DELIVERY: &str = "http://acs.amazonaws.com/groups/s3/LogDelivery";

impl Bucket {
    /// A bucket with every part absent and no objects.
    pub fn new(name: &str, account_id: &str, region: &str) -> Bucket {
        Bucket {
            name: name.to_string(),
            account_id: account_id.to_string(),
            region: region.to_string(),
            policy: Part::Absent,
            public_access_block: Part::Absent,
            ownership: Part::Absent,
            acl: Part::Absent,
            encryption: Part::Absent,
            request_payment: Part::Absent,
            website: Part::Absent,
            objects: Vec::new(),
            objects_complete: false,
        }
    }

    /// The listed object with this key (linear: worlds list few objects).
    pub fn object(&self, key: &str) -> Option<&Object> {
        self.objects.iter().find(|o| o.key == key)
    }

    pub fn object_mut(&mut self, key: &str) -> Option<&mut Object> {
        self.objects.iter_mut().find(|o| o.key == key)
    }

    /// The partition, from the region (`cn-*` → `aws-cn`, `us-gov-*` → `aws-us-gov`).
    pub fn partition(&self) -> &'static str {
        partition_of_region(&self.region)
    }

    /// `arn:PARTITION:s3:::NAME`.
    pub fn arn(&self) -> String {
        format!("arn:{}:s3:::{}", self.partition(), self.name)
    }

    /// `arn:PARTITION:s3:::NAME/KEY`.
    pub fn object_arn(&self, key: &str) -> String {
        format!("arn:{}:s3:::{}/{}", self.partition(), self.name, key)
    }

    /// Absent ownership controls mean `ObjectWriter`; unknown gives `None`.
    pub fn effective_ownership(&self) -> Option<ObjectOwnership> {
        match &self.ownership {
            Part::Absent => Some(ObjectOwnership::ObjectWriter),
            Part::Unknown(_) => None,
            Part::Known(o) => Some(*o),
        }
    }

    pub(crate) fn from_value(v: &Value, index: usize) -> Result<Bucket, WorldError> {
        let p0 = format!("`buckets[{index}]`");
        let m = as_object(v, &p0)?;
        let name = req_str(m, "name", &p0)?;
        let p = format!("bucket `{name}`");
        let account_id = req_str(m, "account_id", &p)?;
        let region = opt_str(m, "region", &p)?.unwrap_or_else(|| "us-east-1".to_string());
        let pp = format!("{p}: bucket policy");
        let policy = parse_part(m.get("policy"), &pp, |v| parse_wrapped_policy(v, &pp))?;
        let bpa = format!("{p}: `public_access_block`");
        let public_access_block = parse_part(m.get("public_access_block"), &bpa, |v| {
            PublicAccessBlock::from_value(v, &bpa)
        })?;
        let op = format!("{p}: `ownership_controls`");
        let ownership = parse_part(m.get("ownership_controls"), &op, |v| {
            ObjectOwnership::from_controls(v, &op)
        })?;
        let ap = format!("{p}: `acl`");
        let acl = parse_part(m.get("acl"), &ap, |v| Acl::from_value(v, &ap))?;
        let ep = format!("{p}: `encryption`");
        let encryption = parse_part(m.get("encryption"), &ep, |v| {
            DefaultEncryption::from_value(v, &ep)
        })?;
        let rp = format!("{p}: `request_payment`");
        let request_payment = parse_part(m.get("request_payment"), &rp, |v| {
            let inner = unwrap_key(v, "Payer");
            match inner.as_str() {
                Some("BucketOwner") => Ok(Payer::BucketOwner),
                Some("Requester") => Ok(Payer::Requester),
                _ => Err(WorldError::invalid(
                    &rp,
                    "`Payer` must be `BucketOwner` or `Requester`",
                )),
            }
        })?;
        let website = parse_part(m.get("website"), &format!("{p}: `website`"), |v| {
            Ok(v.clone())
        })?;
        let mut objects: Vec<Object> = Vec::new();
        for (i, o) in opt_array(m, "objects", &p)?.iter().enumerate() {
            let obj = Object::from_value(o, &p, i)?;
            if objects.iter().any(|x| x.key == obj.key) {
                return Err(WorldError::invalid(
                    &p,
                    format!("duplicate object key `{}`", obj.key),
                ));
            }
            objects.push(obj);
        }
        let objects_complete = opt_bool(m, "objects_complete", &p)?.unwrap_or(false);
        Ok(Bucket {
            name,
            account_id,
            region,
            policy,
            public_access_block,
            ownership,
            acl,
            encryption,
            request_payment,
            website,
            objects,
            objects_complete,
        })
    }

    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        put_str(&mut m, "name", &self.name);
        put_str(&mut m, "account_id", &self.account_id);
        put_str(&mut m, "region", &self.region);
        m.insert("policy".into(), self.policy.to_value_with(Policy::to_value));
        m.insert(
            "public_access_block".into(),
            self.public_access_block
                .to_value_with(PublicAccessBlock::to_value),
        );
        m.insert(
            "ownership_controls".into(),
            self.ownership
                .to_value_with(ObjectOwnership::controls_value),
        );
        m.insert("acl".into(), self.acl.to_value_with(Acl::to_value));
        m.insert(
            "encryption".into(),
            self.encryption.to_value_with(DefaultEncryption::to_value),
        );
        m.insert(
            "request_payment".into(),
            self.request_payment.to_value_with(|p| {
                let mut pm = Map::new();
                put_str(&mut pm, "Payer", p.as_str());
                Value::Object(pm)
            }),
        );
        m.insert("website".into(), self.website.to_value_with(Value::clone));
        m.insert(
            "objects".into(),
            Value::Array(self.objects.iter().map(Object::to_value).collect()),
        );
        m.insert(
            "objects_complete".into(),
            Value::Bool(self.objects_complete),
        );
        Value::Object(m)
    }
}

/// `cn-*` → `aws-cn`, `us-gov-*` → `aws-us-gov`, else `aws`.
pub fn partition_of_region(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// A resource policy as `get-bucket-policy` / `get-key-policy` print it (`{"Policy": "<json>"}`)
/// or as a bare document (object, JSON string, percent-encoded string).
pub(crate) fn parse_wrapped_policy(v: &Value, path: &str) -> Result<Policy, WorldError> {
    let inner = match v.as_object() {
        Some(m) if m.contains_key("Policy") && !m.contains_key("Statement") => {
            m.get("Policy").unwrap_or(v)
        }
        _ => v,
    };
    parse_policy_doc(inner, path)
}

impl PublicAccessBlock {
    /// Reads `{"PublicAccessBlockConfiguration": {...}}` or the bare configuration.
    pub(crate) fn from_value(v: &Value, path: &str) -> Result<PublicAccessBlock, WorldError> {
        let m = as_object(unwrap_key(v, "PublicAccessBlockConfiguration"), path)?;
        Ok(PublicAccessBlock {
            block_public_acls: opt_bool(m, "BlockPublicAcls", path)?.unwrap_or(false),
            ignore_public_acls: opt_bool(m, "IgnorePublicAcls", path)?.unwrap_or(false),
            block_public_policy: opt_bool(m, "BlockPublicPolicy", path)?.unwrap_or(false),
            restrict_public_buckets: opt_bool(m, "RestrictPublicBuckets", path)?.unwrap_or(false),
        })
    }

    /// All four flags on.
    pub fn all() -> PublicAccessBlock {
        PublicAccessBlock {
            block_public_acls: true,
            ignore_public_acls: true,
            block_public_policy: true,
            restrict_public_buckets: true,
        }
    }

    /// The stricter of two configurations (flag-wise OR), as S3 combines account and bucket level.
    pub fn combine(&self, other: &PublicAccessBlock) -> PublicAccessBlock {
        PublicAccessBlock {
            block_public_acls: self.block_public_acls || other.block_public_acls,
            ignore_public_acls: self.ignore_public_acls || other.ignore_public_acls,
            block_public_policy: self.block_public_policy || other.block_public_policy,
            restrict_public_buckets: self.restrict_public_buckets || other.restrict_public_buckets,
        }
    }

    /// `{"PublicAccessBlockConfiguration": {...}}`.
    pub fn to_value(&self) -> Value {
        let mut c = Map::new();
        c.insert(
            "BlockPublicAcls".into(),
            Value::Bool(self.block_public_acls),
        );
        c.insert(
            "IgnorePublicAcls".into(),
            Value::Bool(self.ignore_public_acls),
        );
        c.insert(
            "BlockPublicPolicy".into(),
            Value::Bool(self.block_public_policy),
        );
        c.insert(
            "RestrictPublicBuckets".into(),
            Value::Bool(self.restrict_public_buckets),
        );
        let mut m = Map::new();
        m.insert("PublicAccessBlockConfiguration".into(), Value::Object(c));
        Value::Object(m)
    }
}

impl ObjectOwnership {
    pub fn as_str(&self) -> &'static str {
        match self {
            ObjectOwnership::BucketOwnerEnforced => "BucketOwnerEnforced",
            ObjectOwnership::BucketOwnerPreferred => "BucketOwnerPreferred",
            ObjectOwnership::ObjectWriter => "ObjectWriter",
        }
    }

    pub fn parse(s: &str) -> Option<ObjectOwnership> {
        match s {
            "BucketOwnerEnforced" => Some(ObjectOwnership::BucketOwnerEnforced),
            "BucketOwnerPreferred" => Some(ObjectOwnership::BucketOwnerPreferred),
            "ObjectWriter" => Some(ObjectOwnership::ObjectWriter),
            _ => None,
        }
    }

    /// Reads `{"OwnershipControls": {"Rules": [{"ObjectOwnership": ...}]}}`, the bare
    /// `{"Rules": [...]}`, or just the setting's name.
    fn from_controls(v: &Value, path: &str) -> Result<ObjectOwnership, WorldError> {
        let bad = |s: &str| {
            WorldError::invalid(
                path,
                format!(
                    "unknown `ObjectOwnership` `{s}` (expected `BucketOwnerEnforced`, `BucketOwnerPreferred` or `ObjectWriter`)"
                ),
            )
        };
        if let Value::String(s) = v {
            return ObjectOwnership::parse(s).ok_or_else(|| bad(s));
        }
        let m = as_object(unwrap_key(v, "OwnershipControls"), path)?;
        let rules = opt_array(m, "Rules", path)?;
        let first = rules
            .first()
            .ok_or_else(|| WorldError::invalid(path, "`Rules` is empty"))?;
        let s = req_str(as_object(first, path)?, "ObjectOwnership", path)?;
        ObjectOwnership::parse(&s).ok_or_else(|| bad(&s))
    }

    fn controls_value(&self) -> Value {
        serde_json::json!({"OwnershipControls": {"Rules": [{"ObjectOwnership": self.as_str()}]}})
    }
}

impl Acl {
    /// Reads `get-bucket-acl` / `get-object-acl` output.
    pub(crate) fn from_value(v: &Value, path: &str) -> Result<Acl, WorldError> {
        let m = as_object(v, path)?;
        let owner_id = match m.get("Owner") {
            None | Some(Value::Null) => None,
            Some(o) => opt_nonempty_str(as_object(o, path)?, "ID", &format!("{path}: `Owner`"))?,
        };
        let mut grants = Vec::new();
        for (i, g) in opt_array(m, "Grants", path)?.iter().enumerate() {
            let gp = format!("{path}: `Grants[{i}]`");
            grants.push(Grant::from_value(g, &gp)?);
        }
        Ok(Acl { owner_id, grants })
    }

    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        if let Some(id) = &self.owner_id {
            let mut o = Map::new();
            put_str(&mut o, "ID", id);
            m.insert("Owner".into(), Value::Object(o));
        }
        m.insert(
            "Grants".into(),
            Value::Array(self.grants.iter().map(Grant::to_value).collect()),
        );
        Value::Object(m)
    }
}

impl Grant {
    fn from_value(v: &Value, path: &str) -> Result<Grant, WorldError> {
        let m = as_object(v, path)?;
        let gv = m
            .get("Grantee")
            .ok_or_else(|| WorldError::invalid(path, "missing `Grantee`"))?;
        let gp = format!("{path}: `Grantee`");
        let gm = as_object(gv, &gp)?;
        let ty = req_str(gm, "Type", &gp)?;
        let grantee = match ty.as_str() {
            "CanonicalUser" => Grantee::CanonicalUser(req_str(gm, "ID", &gp)?),
            "AmazonCustomerByEmail" => Grantee::Email(req_str(gm, "EmailAddress", &gp)?),
            "Group" => Grantee::from_uri(&req_str(gm, "URI", &gp)?),
            other => {
                return Err(WorldError::invalid(
                    &gp,
                    format!(
                        "unknown grantee `Type` `{other}` (expected `CanonicalUser`, `Group` or `AmazonCustomerByEmail`)"
                    ),
                ))
            }
        };
        let perm = req_str(m, "Permission", path)?;
        let permission = AclPermission::parse(&perm).ok_or_else(|| {
            WorldError::invalid(
                path,
                format!("unknown `Permission` `{perm}` (expected `FULL_CONTROL`, `READ`, `WRITE`, `READ_ACP` or `WRITE_ACP`)"),
            )
        })?;
        Ok(Grant {
            grantee,
            permission,
        })
    }

    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("Grantee".into(), self.grantee.to_value());
        put_str(&mut m, "Permission", self.permission.as_str());
        Value::Object(m)
    }
}

impl Grantee {
    /// A group grantee from its URI.
    pub fn from_uri(uri: &str) -> Grantee {
        match uri {
            ALL_USERS => Grantee::AllUsers,
            AUTHENTICATED_USERS => Grantee::AuthenticatedUsers,
            LOG_DELIVERY => Grantee::LogDelivery,
            other => Grantee::Group(other.to_string()),
        }
    }

    /// AllUsers or AuthenticatedUsers: a grant to them makes an ACL public.
    pub fn is_public(&self) -> bool {
        matches!(self, Grantee::AllUsers | Grantee::AuthenticatedUsers)
    }

    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        match self {
            Grantee::CanonicalUser(id) => {
                put_str(&mut m, "Type", "CanonicalUser");
                put_str(&mut m, "ID", id);
            }
            Grantee::Email(e) => {
                put_str(&mut m, "Type", "AmazonCustomerByEmail");
                put_str(&mut m, "EmailAddress", e);
            }
            Grantee::AllUsers => group(&mut m, ALL_USERS),
            Grantee::AuthenticatedUsers => group(&mut m, AUTHENTICATED_USERS),
            Grantee::LogDelivery => group(&mut m, LOG_DELIVERY),
            Grantee::Group(uri) => group(&mut m, uri),
        }
        Value::Object(m)
    }
}

fn group(m: &mut Obj, uri: &str) {
    put_str(m, "Type", "Group");
    put_str(m, "URI", uri);
}

impl AclPermission {
    pub fn as_str(&self) -> &'static str {
        match self {
            AclPermission::FullControl => "FULL_CONTROL",
            AclPermission::Read => "READ",
            AclPermission::Write => "WRITE",
            AclPermission::ReadAcp => "READ_ACP",
            AclPermission::WriteAcp => "WRITE_ACP",
        }
    }

    pub fn parse(s: &str) -> Option<AclPermission> {
        match s {
            "FULL_CONTROL" => Some(AclPermission::FullControl),
            "READ" => Some(AclPermission::Read),
            "WRITE" => Some(AclPermission::Write),
            "READ_ACP" => Some(AclPermission::ReadAcp),
            "WRITE_ACP" => Some(AclPermission::WriteAcp),
            _ => None,
        }
    }
}

impl DefaultEncryption {
    /// Reads `{"ServerSideEncryptionConfiguration": {"Rules": [...]}}` or the bare configuration.
    fn from_value(v: &Value, path: &str) -> Result<DefaultEncryption, WorldError> {
        let m = as_object(unwrap_key(v, "ServerSideEncryptionConfiguration"), path)?;
        let rules = opt_array(m, "Rules", path)?;
        let first = rules
            .first()
            .ok_or_else(|| WorldError::invalid(path, "`Rules` is empty"))?;
        let rp = format!("{path}: `Rules[0]`");
        let rm = as_object(first, &rp)?;
        let dp = format!("{rp}: `ApplyServerSideEncryptionByDefault`");
        let d = rm
            .get("ApplyServerSideEncryptionByDefault")
            .ok_or_else(|| {
                WorldError::invalid(&rp, "missing `ApplyServerSideEncryptionByDefault`")
            })?;
        let dm = as_object(d, &dp)?;
        Ok(DefaultEncryption {
            algorithm: SseAlgorithm::parse(&req_str(dm, "SSEAlgorithm", &dp)?),
            kms_key_id: opt_nonempty_str(dm, "KMSMasterKeyID", &dp)?,
            bucket_key_enabled: opt_bool(rm, "BucketKeyEnabled", &rp)?.unwrap_or(false),
        })
    }

    pub fn to_value(&self) -> Value {
        let mut d = Map::new();
        put_str(&mut d, "SSEAlgorithm", self.algorithm.as_str());
        put_opt(&mut d, "KMSMasterKeyID", &self.kms_key_id);
        let mut rule = Map::new();
        rule.insert(
            "ApplyServerSideEncryptionByDefault".into(),
            Value::Object(d),
        );
        rule.insert(
            "BucketKeyEnabled".into(),
            Value::Bool(self.bucket_key_enabled),
        );
        serde_json::json!({"ServerSideEncryptionConfiguration": {"Rules": [Value::Object(rule)]}})
    }
}

impl SseAlgorithm {
    pub fn parse(s: &str) -> SseAlgorithm {
        match s {
            "AES256" => SseAlgorithm::Aes256,
            "aws:kms" => SseAlgorithm::AwsKms,
            "aws:kms:dsse" => SseAlgorithm::AwsKmsDsse,
            other => SseAlgorithm::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            SseAlgorithm::Aes256 => "AES256",
            SseAlgorithm::AwsKms => "aws:kms",
            SseAlgorithm::AwsKmsDsse => "aws:kms:dsse",
            SseAlgorithm::Other(s) => s,
        }
    }

    /// SSE-KMS or DSSE-KMS: using the object needs the KMS key.
    pub fn uses_kms(&self) -> bool {
        matches!(self, SseAlgorithm::AwsKms | SseAlgorithm::AwsKmsDsse)
    }
}

impl Payer {
    pub fn as_str(&self) -> &'static str {
        match self {
            Payer::BucketOwner => "BucketOwner",
            Payer::Requester => "Requester",
        }
    }
}

impl Object {
    /// An object whose head and ACL are absent.
    pub fn new(key: &str) -> Object {
        Object {
            key: key.to_string(),
            head: Part::Absent,
            acl: Part::Absent,
        }
    }

    fn from_value(v: &Value, bucket_path: &str, index: usize) -> Result<Object, WorldError> {
        let p0 = format!("{bucket_path}: `objects[{index}]`");
        let m = as_object(v, &p0)?;
        let key = req_str(m, "key", &p0)?;
        let p = format!("{bucket_path}: object `{key}`");
        let hp = format!("{p}: `head`");
        let head = parse_part(m.get("head"), &hp, |v| ObjectHead::from_value(v, &hp))?;
        let ap = format!("{p}: `acl`");
        let acl = parse_part(m.get("acl"), &ap, |v| Acl::from_value(v, &ap))?;
        Ok(Object { key, head, acl })
    }

    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        put_str(&mut m, "key", &self.key);
        m.insert("head".into(), self.head.to_value_with(ObjectHead::to_value));
        m.insert("acl".into(), self.acl.to_value_with(Acl::to_value));
        Value::Object(m)
    }
}

impl ObjectHead {
    fn from_value(v: &Value, path: &str) -> Result<ObjectHead, WorldError> {
        let m = as_object(v, path)?;
        Ok(ObjectHead {
            sse: opt_nonempty_str(m, "ServerSideEncryption", path)?
                .map(|s| SseAlgorithm::parse(&s)),
            kms_key_id: opt_nonempty_str(m, "SSEKMSKeyId", path)?,
            bucket_key_enabled: opt_bool(m, "BucketKeyEnabled", path)?.unwrap_or(false),
            version_id: opt_nonempty_str(m, "VersionId", path)?,
            sse_customer_algorithm: opt_nonempty_str(m, "SSECustomerAlgorithm", path)?,
        })
    }

    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        if let Some(sse) = &self.sse {
            put_str(&mut m, "ServerSideEncryption", sse.as_str());
        }
        put_opt(&mut m, "SSEKMSKeyId", &self.kms_key_id);
        if self.bucket_key_enabled {
            m.insert("BucketKeyEnabled".into(), Value::Bool(true));
        }
        put_opt(&mut m, "VersionId", &self.version_id);
        put_opt(&mut m, "SSECustomerAlgorithm", &self.sse_customer_algorithm);
        Value::Object(m)
    }
}

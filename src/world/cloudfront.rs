//! CloudFront distributions, origin access controls (OAC) and legacy origin access identities
//! (OAI), with the S3 bucket each origin points at parsed from its domain name.

use serde_json::{Map, Value};

use super::error::WorldError;
use super::kms::split_arn;
use super::part::{
    as_object, opt_array, opt_nonempty_str, opt_str, put_opt, put_str, req_str, unwrap_key,
};

/// The CloudFront data of the World.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CloudFront {
    pub distributions: Vec<Distribution>,
    pub origin_access_controls: Vec<OriginAccessControl>,
    pub origin_access_identities: Vec<OriginAccessIdentity>,
}

/// A distribution (`get-distribution` `Distribution`).
#[derive(Debug, Clone, PartialEq)]
pub struct Distribution {
    pub id: String,
    pub arn: String,
    /// From the ARN.
    pub account_id: String,
    pub domain_name: String,
    /// `DefaultRootObject`; an empty string is `None`.
    pub default_root_object: Option<String>,
    pub origins: Vec<Origin>,
}

/// One origin of a distribution.
#[derive(Debug, Clone, PartialEq)]
pub struct Origin {
    pub id: String,
    pub domain_name: String,
    /// `OriginPath` (prefix added to the request path); empty is `None`.
    pub origin_path: Option<String>,
    /// The OAI id, from `S3OriginConfig.OriginAccessIdentity`
    /// (`origin-access-identity/cloudfront/EXXXX`); empty is `None`.
    pub oai_id: Option<String>,
    /// `OriginAccessControlId`; empty is `None`.
    pub oac_id: Option<String>,
    /// The S3 bucket the domain names, when it is an S3 endpoint.
    pub bucket: Option<String>,
    /// The domain is an S3 website endpoint (no OAC/OAI possible).
    pub website_endpoint: bool,
}

/// An origin access control.
#[derive(Debug, Clone, PartialEq)]
pub struct OriginAccessControl {
    pub id: String,
    pub name: Option<String>,
    /// `OriginAccessControlOriginType` (`s3`, `mediastore` ...).
    pub origin_type: Option<String>,
    /// `SigningBehavior`: `always`, `never` (requests reach S3 unsigned, i.e. anonymous) or
    /// `no-override`.
    pub signing_behavior: Option<String>,
}

/// A legacy origin access identity.
#[derive(Debug, Clone, PartialEq)]
pub struct OriginAccessIdentity {
    pub id: String,
    /// `S3CanonicalUserId`: the canonical user an ACL or `CanonicalUser` principal names.
    pub s3_canonical_user_id: Option<String>,
}

const OAI_PREFIX: &str = "origin-access-identity/cloudfront/";

/// The bucket an S3 origin domain names, and whether it is a website endpoint.
///
/// Recognises `B.s3.amazonaws.com`, `B.s3.REGION.amazonaws.com`, `B.s3-REGION.amazonaws.com`,
/// `B.s3.dualstack.REGION.amazonaws.com`, `B.s3-website-REGION.amazonaws.com` and
/// `B.s3-website.REGION.amazonaws.com` (also under `amazonaws.com.cn`). Bucket names may
/// contain dots.
pub fn parse_s3_origin_domain(domain: &str) -> Option<(String, bool)> {
    let d = domain.trim_end_matches('.').to_ascii_lowercase();
    let rest = d
        .strip_suffix(".amazonaws.com")
        .or_else(|| d.strip_suffix(".amazonaws.com.cn"))?;
    let labels: Vec<&str> = rest.split('.').collect();
    // The right-most label naming the S3 service.
    let at = labels
        .iter()
        .rposition(|l| *l == "s3" || l.starts_with("s3-"))?;
    if at == 0 {
        return None;
    }
    let service = labels[at];
    let after = &labels[at + 1..];
    let website = service == "s3-website" || service.starts_with("s3-website-");
    let shape_ok = match (service, after) {
        ("s3", []) | ("s3", [_]) | ("s3", ["dualstack", _]) => true,
        ("s3-website", [_]) => true,
        (s, []) => s.starts_with("s3-"),
        _ => false,
    };
    if !shape_ok || service.starts_with("s3-accesspoint") {
        return None;
    }
    Some((labels[..at].join("."), website))
}

impl CloudFront {
    pub(crate) fn from_value(v: &Value) -> Result<CloudFront, WorldError> {
        let p = "`cloudfront`";
        let m = as_object(v, p)?;
        let mut distributions = Vec::new();
        for (i, d) in opt_array(m, "distributions", p)?.iter().enumerate() {
            distributions.push(Distribution::from_value(d, i)?);
        }
        let mut origin_access_controls = Vec::new();
        for (i, o) in opt_array(m, "origin_access_controls", p)?
            .iter()
            .enumerate()
        {
            origin_access_controls.push(OriginAccessControl::from_value(o, i)?);
        }
        let mut origin_access_identities = Vec::new();
        for (i, o) in opt_array(m, "origin_access_identities", p)?
            .iter()
            .enumerate()
        {
            origin_access_identities.push(OriginAccessIdentity::from_value(o, i)?);
        }
        let mut seen = std::collections::HashSet::new();
        for d in &distributions {
            if !seen.insert(d.id.as_str()) {
                return Err(WorldError::invalid(
                    p,
                    format!("duplicate distribution `{}`", d.id),
                ));
            }
        }
        Ok(CloudFront {
            distributions,
            origin_access_controls,
            origin_access_identities,
        })
    }

    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert(
            "distributions".into(),
            Value::Array(
                self.distributions
                    .iter()
                    .map(Distribution::to_value)
                    .collect(),
            ),
        );
        m.insert(
            "origin_access_controls".into(),
            Value::Array(
                self.origin_access_controls
                    .iter()
                    .map(OriginAccessControl::to_value)
                    .collect(),
            ),
        );
        m.insert(
            "origin_access_identities".into(),
            Value::Array(
                self.origin_access_identities
                    .iter()
                    .map(OriginAccessIdentity::to_value)
                    .collect(),
            ),
        );
        Value::Object(m)
    }

    pub fn distribution(&self, id: &str) -> Option<&Distribution> {
        self.distributions.iter().find(|d| d.id == id)
    }

    pub fn origin_access_control(&self, id: &str) -> Option<&OriginAccessControl> {
        self.origin_access_controls.iter().find(|o| o.id == id)
    }

    pub fn origin_access_identity(&self, id: &str) -> Option<&OriginAccessIdentity> {
        self.origin_access_identities.iter().find(|o| o.id == id)
    }
}

impl Distribution {
    fn from_value(v: &Value, index: usize) -> Result<Distribution, WorldError> {
        let p0 = format!("`cloudfront.distributions[{index}]`");
        // Also accept the whole `get-distribution` output (`{"Distribution": {...}, "ETag"}`).
        let m = as_object(unwrap_key(v, "Distribution"), &p0)?;
        let id = req_str(m, "Id", &p0)?;
        let p = format!("distribution `{id}`");
        let arn = req_str(m, "ARN", &p)?;
        let account_id = split_arn(&arn)
            .filter(|a| a[2] == "cloudfront")
            .map(|a| a[4].to_string())
            .ok_or_else(|| {
                WorldError::invalid(
                    &p,
                    format!("`ARN` `{arn}` is not a CloudFront distribution ARN"),
                )
            })?;
        let domain_name = opt_str(m, "DomainName", &p)?.unwrap_or_default();
        let cp = format!("{p}: `DistributionConfig`");
        let (default_root_object, origins) = match m.get("DistributionConfig") {
            None | Some(Value::Null) => (None, Vec::new()),
            Some(c) => {
                let cm = as_object(c, &cp)?;
                let dro = opt_nonempty_str(cm, "DefaultRootObject", &cp)?;
                let mut origins = Vec::new();
                if let Some(o) = cm.get("Origins").filter(|o| !o.is_null()) {
                    let op = format!("{cp}: `Origins`");
                    let om = as_object(o, &op)?;
                    for (i, item) in opt_array(om, "Items", &op)?.iter().enumerate() {
                        origins.push(Origin::from_value(item, &format!("{op}: `Items[{i}]`"))?);
                    }
                }
                (dro, origins)
            }
        };
        Ok(Distribution {
            id,
            arn,
            account_id,
            domain_name,
            default_root_object,
            origins,
        })
    }

    pub fn to_value(&self) -> Value {
        let mut cfg = Map::new();
        put_str(
            &mut cfg,
            "DefaultRootObject",
            self.default_root_object.as_deref().unwrap_or(""),
        );
        let mut origins = Map::new();
        origins.insert("Quantity".into(), Value::from(self.origins.len()));
        origins.insert(
            "Items".into(),
            Value::Array(self.origins.iter().map(Origin::to_value).collect()),
        );
        cfg.insert("Origins".into(), Value::Object(origins));
        let mut m = Map::new();
        put_str(&mut m, "Id", &self.id);
        put_str(&mut m, "ARN", &self.arn);
        put_str(&mut m, "DomainName", &self.domain_name);
        m.insert("DistributionConfig".into(), Value::Object(cfg));
        Value::Object(m)
    }
}

impl Origin {
    fn from_value(v: &Value, p: &str) -> Result<Origin, WorldError> {
        let m = as_object(v, p)?;
        let id = req_str(m, "Id", p)?;
        let p = format!("{p} (origin `{id}`)");
        let domain_name = req_str(m, "DomainName", &p)?;
        let oai_id = match m.get("S3OriginConfig") {
            None | Some(Value::Null) => None,
            Some(s) => {
                let sp = format!("{p}: `S3OriginConfig`");
                opt_nonempty_str(as_object(s, &sp)?, "OriginAccessIdentity", &sp)?
                    .map(|oai| oai.strip_prefix(OAI_PREFIX).unwrap_or(&oai).to_string())
            }
        };
        let (bucket, website_endpoint) = match parse_s3_origin_domain(&domain_name) {
            Some((b, w)) => (Some(b), w),
            None => (None, false),
        };
        Ok(Origin {
            origin_path: opt_nonempty_str(m, "OriginPath", &p)?,
            oac_id: opt_nonempty_str(m, "OriginAccessControlId", &p)?,
            id,
            domain_name,
            oai_id,
            bucket,
            website_endpoint,
        })
    }

    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        put_str(&mut m, "Id", &self.id);
        put_str(&mut m, "DomainName", &self.domain_name);
        put_str(
            &mut m,
            "OriginPath",
            self.origin_path.as_deref().unwrap_or(""),
        );
        let s3_origin = self.oai_id.is_some() || (self.bucket.is_some() && !self.website_endpoint);
        if !s3_origin {
            m.insert(
                "CustomOriginConfig".into(),
                serde_json::json!({"OriginProtocolPolicy": "http-only"}),
            );
        } else {
            let oai = self
                .oai_id
                .as_ref()
                .map(|id| format!("{OAI_PREFIX}{id}"))
                .unwrap_or_default();
            m.insert(
                "S3OriginConfig".into(),
                serde_json::json!({"OriginAccessIdentity": oai}),
            );
        }
        put_str(
            &mut m,
            "OriginAccessControlId",
            self.oac_id.as_deref().unwrap_or(""),
        );
        Value::Object(m)
    }
}

impl OriginAccessControl {
    fn from_value(v: &Value, index: usize) -> Result<OriginAccessControl, WorldError> {
        let p0 = format!("`cloudfront.origin_access_controls[{index}]`");
        // `get-origin-access-control` output, a `{"Id", "OriginAccessControlConfig"}` object, or a
        // flat `list-origin-access-controls` item.
        let m = as_object(unwrap_key(v, "OriginAccessControl"), &p0)?;
        let id = req_str(m, "Id", &p0)?;
        let p = format!("origin access control `{id}`");
        let cfg = match m.get("OriginAccessControlConfig") {
            Some(c) if !c.is_null() => as_object(c, &format!("{p}: `OriginAccessControlConfig`"))?,
            _ => m,
        };
        Ok(OriginAccessControl {
            name: opt_str(cfg, "Name", &p)?,
            origin_type: opt_str(cfg, "OriginAccessControlOriginType", &p)?,
            signing_behavior: opt_str(cfg, "SigningBehavior", &p)?,
            id,
        })
    }

    pub fn to_value(&self) -> Value {
        let mut cfg = Map::new();
        put_opt(&mut cfg, "Name", &self.name);
        put_opt(&mut cfg, "OriginAccessControlOriginType", &self.origin_type);
        put_opt(&mut cfg, "SigningBehavior", &self.signing_behavior);
        let mut m = Map::new();
        put_str(&mut m, "Id", &self.id);
        m.insert("OriginAccessControlConfig".into(), Value::Object(cfg));
        Value::Object(m)
    }
}

impl OriginAccessIdentity {
    fn from_value(v: &Value, index: usize) -> Result<OriginAccessIdentity, WorldError> {
        let p0 = format!("`cloudfront.origin_access_identities[{index}]`");
        let m = as_object(unwrap_key(v, "CloudFrontOriginAccessIdentity"), &p0)?;
        let id = req_str(m, "Id", &p0)?;
        let p = format!("origin access identity `{id}`");
        Ok(OriginAccessIdentity {
            s3_canonical_user_id: opt_str(m, "S3CanonicalUserId", &p)?,
            id,
        })
    }

    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        put_str(&mut m, "Id", &self.id);
        put_opt(&mut m, "S3CanonicalUserId", &self.s3_canonical_user_id);
        Value::Object(m)
    }

    /// `arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity ID`, the principal a
    /// bucket policy names.
    pub fn principal_arn(&self) -> String {
        format!(
            "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity {}",
            self.id
        )
    }
}

//! The condition-key context of one authorization: the keys the request states, and the keys AWS
//! derives itself from the caller, the resource and the request (aws:PrincipalArn, s3:prefix,
//! kms:ViaService ...). Look-ups borrow; nothing here allocates per look-up.

use crate::eval::caller::{Caller, CallerKind};
use crate::policy::{ConditionContext, ContextValue, KnownKey};
use crate::request::Request;

/// Extra keys of a KMS authorization made by S3 on the caller's behalf.
#[derive(Debug, Clone)]
pub struct KmsKeys<'k> {
    /// `s3.REGION.amazonaws.com`
    pub via_service: std::borrow::Cow<'k, str>,
    /// `kms:EncryptionContext:aws:s3:arn`: the object ARN (or the bucket ARN with S3 Bucket Keys).
    pub s3_arn: std::borrow::Cow<'k, str>,
}

/// The context of one authorization.
pub struct EvalContext<'a> {
    pub request: &'a Request,
    pub caller: &'a Caller<'a>,
    /// The account owning the resource (bucket owner, or key owner for KMS).
    pub resource_account: &'a str,
    pub resource_org_id: Option<&'a str>,
    pub region: &'a str,
    /// Set for KMS authorizations.
    pub kms: Option<&'a KmsKeys<'a>>,
    /// `aws:EpochTime`, derived from `aws:CurrentTime` on first use (most policies never ask).
    pub epoch_time: &'a std::cell::OnceCell<Option<String>>,
    /// `s3:signatureAge` (milliseconds) of a presigned request, when the time is known.
    pub signature_age: Option<&'a str>,
}

const TRUE: &str = "true";
const FALSE: &str = "false";

impl<'a> EvalContext<'a> {
    /// A key the request does not state: derived, when AWS derives it (`known`: the key as a
    /// [`KnownKey`], when it is one).
    fn derived(&self, key: &str, known: Option<KnownKey>) -> Option<ContextValue<'a>> {
        if let Some(k) = known {
            return self.known(k);
        }
        if let Some(tag) = key.strip_prefix("aws:principaltag/") {
            return self.caller.tags.get(tag).map(ContextValue::One);
        }
        if let Some(header) = key.strip_prefix("s3:") {
            if header.starts_with("x-amz-") {
                return self.request.header(header).map(ContextValue::One);
            }
        }
        None
    }

    fn known(&self, key: KnownKey) -> Option<ContextValue<'a>> {
        use KnownKey::*;
        let c = self.caller;
        let one = |s: &'a str| Some(ContextValue::One(s));
        match key {
            PrincipalArn => c.principal_arn.as_deref().and_then(one),
            PrincipalAccount => c.account.and_then(one),
            PrincipalType => one(c.kind.principal_type()),
            UserId => c.userid.get().and_then(one),
            Username => c.username.and_then(one),
            PrincipalOrgId => c.org_id.and_then(one),
            PrincipalIsAwsService => one(if c.kind == CallerKind::Service {
                TRUE
            } else {
                FALSE
            }),
            PrincipalServiceName => c.service.and_then(one),
            ResourceAccount | S3ResourceAccount => one(self.resource_account),
            ResourceOrgId => self.resource_org_id.and_then(one),
            RequestedRegion => one(self.region),
            SecureTransport => one(TRUE),
            EpochTime => self
                .epoch_time
                .get_or_init(|| derive_epoch_time(self.request))
                .as_deref()
                .map(ContextValue::One),
            SourceVpce => self.request.vpc_endpoint.as_deref().and_then(one),
            SourceVpc => c.source_vpc.and_then(one),
            ViaAwsService => one(if self.kms.is_some() { TRUE } else { FALSE }),
            CalledVia | CalledViaFirst | CalledViaLast => {
                self.kms.map(|_| ContextValue::One("s3.amazonaws.com"))
            }
            S3Prefix => query(self.request, "prefix"),
            S3Delimiter => query(self.request, "delimiter"),
            S3MaxKeys => query(self.request, "max-keys"),
            S3VersionId => self.request.version_id.as_deref().and_then(one),
            S3AuthType => match c.kind {
                CallerKind::Anonymous => None,
                _ if self.request.presigned.is_some() => one("REST-QUERY-STRING"),
                _ => one("REST-HEADER"),
            },
            S3SignatureAge => self.signature_age.and_then(one),
            S3SignatureVersion => match c.kind {
                CallerKind::Anonymous => None,
                _ => one("AWS4-HMAC-SHA256"),
            },
            KmsViaService => self.kms.map(|k| ContextValue::One(&k.via_service)),
            KmsCallerAccount => self.kms.and(c.account).and_then(one),
            KmsEncryptionContextS3Arn => self.kms.map(|k| ContextValue::One(&k.s3_arn)),
            KmsEncryptionContextKeys => self.kms.map(|_| ContextValue::One("aws:s3:arn")),
        }
    }
}

/// `aws:EpochTime` from `aws:CurrentTime` (the request gives no `aws:EpochTime` of its own, or
/// the context look-up would have returned it first).
fn derive_epoch_time(request: &Request) -> Option<String> {
    let now = request.context_value("aws:currenttime")?.first()?;
    chrono::DateTime::parse_from_rfc3339(now)
        .ok()
        .map(|t| t.timestamp().to_string())
}

fn query<'a>(request: &'a Request, name: &str) -> Option<ContextValue<'a>> {
    request
        .query
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| ContextValue::One(v.as_str()))
}

impl ConditionContext for EvalContext<'_> {
    fn value(&self, key_lower: &str) -> Option<ContextValue<'_>> {
        self.value_known(key_lower, KnownKey::from_lower(key_lower))
    }

    fn value_known(&self, key_lower: &str, known: Option<KnownKey>) -> Option<ContextValue<'_>> {
        debug_assert_eq!(known, KnownKey::from_lower(key_lower), "key `{key_lower}`");
        // A key the request states wins over a derived one.
        if let Some(v) = self.request.context_value(key_lower) {
            return match v {
                [one] => Some(ContextValue::One(one.as_str())),
                many => Some(ContextValue::Many(many)),
            };
        }
        self.derived(key_lower, known)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::World;
    use serde_json::json;

    fn world() -> World {
        World::from_value(&json!({
            "accounts": [{
                "account_id": "111122223333",
                "iam": {"RoleDetailList": [{
                    "RoleName": "app", "RoleId": "AROAAPP", "Arn": "arn:aws:iam::111122223333:role/app",
                    "RolePolicyList": [], "AttachedManagedPolicies": [],
                    "Tags": [{"Key": "team", "Value": "data"}, {"Key": "env", "Value": "prod"}]
                }]},
                "organization": {"id": "o-1", "is_management_account": false, "scps": [], "rcps": []}
            }],
            "buckets": [{"name": "b", "account_id": "111122223333", "region": "eu-west-1"}]
        }))
        .unwrap()
    }

    fn values(v: Option<ContextValue<'_>>) -> Option<Vec<&str>> {
        v.map(|v| v.iter().collect())
    }

    #[test]
    fn derived_and_stated_keys() {
        let world = world();
        let request = Request::from_value(&json!({
            "principal": "arn:aws:sts::111122223333:assumed-role/app/s1",
            "operation": "GetObject", "bucket": "b", "key": "k",
            "session_tags": {"TEAM": "ops", "team": "ml"},
            "context": {"aws:SecureTransport": "false", "aws:SourceIp": ["10.0.0.1", "10.0.0.2"]}
        }))
        .unwrap();
        let caller = Caller::resolve(&world, &request);
        let epoch = std::cell::OnceCell::new();
        let kms = KmsKeys {
            via_service: "s3.eu-west-1.amazonaws.com".into(),
            s3_arn: "arn:aws:s3:::b/k".into(),
        };
        let ctx = EvalContext {
            request: &request,
            caller: &caller,
            resource_account: "111122223333",
            resource_org_id: Some("o-1"),
            region: "eu-west-1",
            kms: Some(&kms),
            epoch_time: &epoch,
            signature_age: None,
        };
        let get = |k: &str| values(ctx.value(k));
        assert_eq!(get("aws:userid"), Some(vec!["AROAAPP:s1"]));
        assert_eq!(
            get("aws:principalarn"),
            Some(vec!["arn:aws:iam::111122223333:role/app"])
        );
        assert_eq!(get("aws:principalorgid"), Some(vec!["o-1"]));
        // Session tags override the role's own (any case; the last one given wins).
        assert_eq!(get("aws:principaltag/team"), Some(vec!["ml"]));
        assert_eq!(get("aws:principaltag/env"), Some(vec!["prod"]));
        assert_eq!(get("aws:principaltag/none"), None);
        // A stated key wins over the derived one; multi-valued keys stay multi-valued.
        assert_eq!(get("aws:securetransport"), Some(vec!["false"]));
        assert_eq!(get("aws:sourceip"), Some(vec!["10.0.0.1", "10.0.0.2"]));
        assert_eq!(
            get("kms:viaservice"),
            Some(vec!["s3.eu-west-1.amazonaws.com"])
        );
        assert_eq!(get("aws:sourcevpce"), None);
        assert_eq!(get("no:such-key"), None);
        // The interned look-up answers as the look-up by name, for every known key.
        for k in KnownKey::ALL {
            assert_eq!(
                values(ctx.value_known(k.name(), Some(*k))),
                get(k.name()),
                "{}",
                k.name()
            );
        }
    }
}

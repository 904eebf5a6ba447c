//! The condition-key context of one authorization: the keys the request states, and the keys AWS
//! derives itself from the caller, the resource and the request (aws:PrincipalArn, s3:prefix,
//! kms:ViaService ...). Look-ups borrow; nothing here allocates per look-up.

use crate::eval::caller::{Caller, CallerKind};
use crate::policy::{ConditionContext, ContextValue};
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
    fn derived(&self, key: &str) -> Option<ContextValue<'a>> {
        let c = self.caller;
        let one = |s: &'a str| Some(ContextValue::One(s));
        if let Some(tag) = key.strip_prefix("aws:principaltag/") {
            return c
                .tags
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(tag))
                .map(|(_, v)| ContextValue::One(v));
        }
        if let Some(header) = key.strip_prefix("s3:") {
            if header.starts_with("x-amz-") {
                return self.request.header(header).map(ContextValue::One);
            }
        }
        match key {
            "aws:principalarn" => c.principal_arn.as_deref().and_then(one),
            "aws:principalaccount" => c.account.and_then(one),
            "aws:principaltype" => one(c.kind.principal_type()),
            "aws:userid" => c.userid.as_deref().and_then(one),
            "aws:username" => c.username.and_then(one),
            "aws:principalorgid" => c.org_id.and_then(one),
            "aws:principalisawsservice" => one(if c.kind == CallerKind::Service {
                TRUE
            } else {
                FALSE
            }),
            "aws:principalservicename" => c.service.and_then(one),
            "aws:resourceaccount" | "s3:resourceaccount" => one(self.resource_account),
            "aws:resourceorgid" => self.resource_org_id.and_then(one),
            "aws:requestedregion" => one(self.region),
            "aws:securetransport" => one(TRUE),
            "aws:epochtime" => self
                .epoch_time
                .get_or_init(|| derive_epoch_time(self.request))
                .as_deref()
                .map(ContextValue::One),
            "aws:sourcevpce" => self.request.vpc_endpoint.as_deref().and_then(one),
            "aws:sourcevpc" => c.source_vpc.and_then(one),
            "aws:viaawsservice" => one(if self.kms.is_some() { TRUE } else { FALSE }),
            "aws:calledvia" | "aws:calledviafirst" | "aws:calledvialast" => {
                self.kms.map(|_| ContextValue::One("s3.amazonaws.com"))
            }
            "s3:prefix" => query(self.request, "prefix"),
            "s3:delimiter" => query(self.request, "delimiter"),
            "s3:max-keys" => query(self.request, "max-keys"),
            "s3:versionid" => self.request.version_id.as_deref().and_then(one),
            "s3:authtype" => match c.kind {
                CallerKind::Anonymous => None,
                _ if self.request.presigned.is_some() => one("REST-QUERY-STRING"),
                _ => one("REST-HEADER"),
            },
            "s3:signatureage" => self.signature_age.and_then(one),
            "s3:signatureversion" => match c.kind {
                CallerKind::Anonymous => None,
                _ => one("AWS4-HMAC-SHA256"),
            },
            "kms:viaservice" => self.kms.map(|k| ContextValue::One(&k.via_service)),
            "kms:calleraccount" => self.kms.and(c.account).and_then(one),
            "kms:encryptioncontext:aws:s3:arn" => self.kms.map(|k| ContextValue::One(&k.s3_arn)),
            "kms:encryptioncontextkeys" => self.kms.map(|_| ContextValue::One("aws:s3:arn")),
            _ => None,
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
        if let Some(v) = self.request.context_value(key_lower) {
            return match v {
                [one] => Some(ContextValue::One(one.as_str())),
                many => Some(ContextValue::Many(many)),
            };
        }
        self.derived(key_lower)
    }
}

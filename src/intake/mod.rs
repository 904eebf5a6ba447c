//! Intake: turns what a user has in hand into requests to diagnose — an error message or S3 error
//! body ([`error_message`]), CloudTrail records ([`cloudtrail`]) or an AWS CLI command
//! ([`aws_cli`]). Pure: every parser takes text and returns typed values or a typed error that
//! names what was wrong; none does I/O and none panics on garbage or truncated input.
//!
//! Every parser produces [`RequestDraft`]s: the fields of the Request JSON of docs/formats.md that
//! the input tells, each possibly missing. The command line lays its own flags over a draft (flags
//! win and fill gaps) and completes it into a [`Request`] with [`RequestDraft::complete`], which
//! names every field still missing and where it could come from.

pub mod aws_cli;
pub mod cloudtrail;
mod error;
pub mod error_message;
pub mod hint;
pub mod shell;

use serde_json::{Map, Value};

use crate::request::{operation, Request, Scope};

pub use error::{AwsCliError, CloudTrailError, ErrorMessageError, IncompleteRequest};

/// A request as far as the input tells it: every field optional. Field meanings are those of the
/// Request JSON (docs/formats.md).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestDraft {
    /// A principal string as the Request JSON takes it (ARN, account id, `anonymous`, service name).
    pub principal: Option<String>,
    /// An S3 API operation name (canonical spelling when it comes from a parser; a flag may give
    /// any name, which the Request parser then checks).
    pub operation: Option<String>,
    /// A raw IAM action, when the input names an action but no operation.
    pub action: Option<String>,
    pub bucket: Option<String>,
    pub key: Option<String>,
    pub version_id: Option<String>,
    /// `bucket/key` with an optional `?versionId=` suffix.
    pub copy_source: Option<String>,
    /// Lower-case names.
    pub headers: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
    pub vpc_endpoint: Option<String>,
    /// Condition keys (as written) and values; a key may repeat for a multi-valued key.
    pub context: Vec<(String, String)>,
}

impl RequestDraft {
    /// Sets a header, replacing an earlier value of the same (case-insensitive) name.
    pub fn set_header(&mut self, name: &str, value: impl Into<String>) {
        let name = name.to_ascii_lowercase();
        self.headers.retain(|(k, _)| *k != name);
        self.headers.push((name, value.into()));
    }

    /// Sets a query parameter, replacing an earlier value of the same name.
    pub fn set_query(&mut self, name: &str, value: impl Into<String>) {
        self.query.retain(|(k, _)| k != name);
        self.query.push((name.to_string(), value.into()));
    }

    /// Sets a single-valued condition key, replacing earlier values (key case ignored).
    pub fn set_context(&mut self, key: &str, value: impl Into<String>) {
        self.context.retain(|(k, _)| !k.eq_ignore_ascii_case(key));
        self.context.push((key.to_string(), value.into()));
    }

    /// The value given for a condition key (first value; key case ignored).
    pub fn context_value(&self, key: &str) -> Option<&str> {
        self.context
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// The name of what the request does: the operation, else the action.
    pub fn target_name(&self) -> Option<&str> {
        self.operation.as_deref().or(self.action.as_deref())
    }

    /// The fields of the Request JSON this draft knows, in the order of docs/formats.md.
    pub fn to_fields(&self) -> Map<String, Value> {
        let mut m = Map::new();
        if let Some(p) = &self.principal {
            m.insert("principal".into(), Value::String(p.clone()));
        }
        if let Some(op) = &self.operation {
            m.insert("operation".into(), Value::String(op.clone()));
        } else if let Some(a) = &self.action {
            m.insert("action".into(), Value::String(a.clone()));
        }
        for (field, v) in [
            ("bucket", &self.bucket),
            ("key", &self.key),
            ("version_id", &self.version_id),
            ("copy_source", &self.copy_source),
        ] {
            if let Some(v) = v {
                m.insert(field.into(), Value::String(v.clone()));
            }
        }
        if !self.headers.is_empty() {
            m.insert("headers".into(), pairs(&self.headers));
        }
        if !self.query.is_empty() {
            m.insert("query".into(), pairs(&self.query));
        }
        if let Some(v) = &self.vpc_endpoint {
            m.insert("vpc_endpoint".into(), Value::String(v.clone()));
        }
        if !self.context.is_empty() {
            let mut ctx = Map::new();
            for (k, v) in &self.context {
                match ctx.get_mut(k) {
                    Some(Value::Array(list)) => list.push(Value::String(v.clone())),
                    Some(prev) => {
                        let first = prev.take();
                        *prev = Value::Array(vec![first, Value::String(v.clone())]);
                    }
                    None => {
                        ctx.insert(k.clone(), Value::String(v.clone()));
                    }
                }
            }
            m.insert("context".into(), Value::Object(ctx));
        }
        m
    }

    /// The fields that are still missing for the request to be evaluated: `principal`,
    /// `operation`, `bucket` (unless the target is account-level, e.g. ListBuckets), `key` (for
    /// object operations) and `copy_source` (for CopyObject / UploadPartCopy).
    pub fn missing(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.principal.is_none() {
            out.push("principal");
        }
        let spec = self.operation.as_deref().and_then(operation);
        if self.operation.is_none() && self.action.is_none() {
            out.push("operation");
        }
        let scope = spec.map(|s| s.scope);
        if self.bucket.is_none() && scope != Some(Scope::Service) {
            out.push("bucket");
        }
        if scope == Some(Scope::Object) && self.key.is_none() {
            out.push("key");
        }
        if spec.is_some_and(|s| s.copy) && self.copy_source.is_none() {
            out.push("copy_source");
        }
        out
    }

    /// Completes the draft into a request, or says which fields are missing (`source` names the
    /// input, e.g. "the error message", for the message).
    pub fn complete(&self, source: &str) -> Result<Request, IncompleteRequest> {
        self.complete_with(source, Map::new())
    }

    /// [`RequestDraft::complete`] with further Request JSON fields (e.g. `session_policy`).
    pub fn complete_with(
        &self,
        source: &str,
        extra: Map<String, Value>,
    ) -> Result<Request, IncompleteRequest> {
        let missing = self.missing();
        if !missing.is_empty() {
            return Err(IncompleteRequest::Missing {
                input: source.to_string(),
                missing,
            });
        }
        let mut fields = self.to_fields();
        fields.extend(extra);
        Request::from_value(&Value::Object(fields)).map_err(|e| IncompleteRequest::Invalid {
            input: source.to_string(),
            error: e,
        })
    }
}

fn pairs(list: &[(String, String)]) -> Value {
    Value::Object(
        list.iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

/// Normalises a caller ARN as AWS messages and STS print it: `arn:P:sts::A:user/N` (how some AWS
/// documentation examples and emulators write an IAM user) becomes `arn:P:iam::A:user/N`; every
/// other string is returned unchanged.
pub fn normalize_caller(arn: &str) -> String {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() == 6 && parts[0] == "arn" && parts[2] == "sts" && parts[5].starts_with("user/") {
        return format!("arn:{}:iam::{}:{}", parts[1], parts[4], parts[5]);
    }
    arn.to_string()
}

/// The operation a raw S3 action most directly names: the operation of the same name
/// (`s3:GetObject` → GetObject); `None` when no operation has the action's name
/// (`s3:ListBucket`).
pub fn operation_for_action(action: &str) -> Option<&'static str> {
    let (service, name) = action.split_once(':')?;
    if !service.eq_ignore_ascii_case("s3") {
        return None;
    }
    operation(name)
        .filter(|spec| spec.name.eq_ignore_ascii_case(name))
        .map(|spec| spec.name)
}

/// Splits an S3 resource ARN (`arn:P:s3:::bucket` or `arn:P:s3:::bucket/key`) into bucket and
/// key; `None` for anything else (access point ARNs included).
pub fn split_s3_arn(arn: &str) -> Option<(String, Option<String>)> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" || parts[2] != "s3" || !parts[3].is_empty() {
        return None;
    }
    if !parts[4].is_empty() {
        return None;
    }
    let rest = parts[5];
    let (bucket, key) = match rest.split_once('/') {
        Some((b, k)) => (b, (!k.is_empty()).then(|| k.to_string())),
        None => (rest, None),
    };
    if bucket.is_empty() || bucket.contains(['*', '?']) {
        return None;
    }
    Some((bucket.to_string(), key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sts_user_arn_becomes_an_iam_user_arn() {
        assert_eq!(
            normalize_caller("arn:aws:sts::123456789012:user/MaryMajor"),
            "arn:aws:iam::123456789012:user/MaryMajor"
        );
        let session = "arn:aws:sts::123456789012:assumed-role/R/s";
        assert_eq!(normalize_caller(session), session);
    }

    #[test]
    fn actions_map_to_operations_of_the_same_name_only() {
        assert_eq!(operation_for_action("s3:GetObject"), Some("GetObject"));
        assert_eq!(operation_for_action("S3:putobject"), Some("PutObject"));
        assert_eq!(operation_for_action("s3:ListBucket"), None);
        assert_eq!(operation_for_action("kms:Decrypt"), None);
        assert_eq!(operation_for_action("GetObject"), None);
    }

    #[test]
    fn s3_arns_split_into_bucket_and_key() {
        assert_eq!(
            split_s3_arn("arn:aws:s3:::b/k/x.csv"),
            Some(("b".into(), Some("k/x.csv".into())))
        );
        assert_eq!(split_s3_arn("arn:aws:s3:::b"), Some(("b".into(), None)));
        assert_eq!(
            split_s3_arn("arn:aws:s3:us-east-1:111122223333:accesspoint/ap"),
            None
        );
        assert_eq!(split_s3_arn("arn:aws:s3:::*"), None);
        assert_eq!(split_s3_arn("not an arn"), None);
    }

    #[test]
    fn missing_fields_depend_on_the_operation() {
        let mut d = RequestDraft {
            operation: Some("ListBuckets".into()),
            ..Default::default()
        };
        assert_eq!(d.missing(), vec!["principal"]);
        d.operation = Some("GetObject".into());
        d.principal = Some("anonymous".into());
        assert_eq!(d.missing(), vec!["bucket", "key"]);
        d.operation = Some("CopyObject".into());
        d.bucket = Some("b".into());
        d.key = Some("k".into());
        assert_eq!(d.missing(), vec!["copy_source"]);
        d.copy_source = Some("src/a".into());
        let r = d.complete("test").expect("complete");
        assert_eq!(r.bucket, "b");
    }

    #[test]
    fn context_keys_repeat_into_lists() {
        let d = RequestDraft {
            context: vec![
                ("aws:SourceIp".into(), "192.0.2.1".into()),
                ("aws:SourceIp".into(), "192.0.2.2".into()),
            ],
            ..Default::default()
        };
        let f = d.to_fields();
        assert_eq!(
            f["context"]["aws:SourceIp"],
            serde_json::json!(["192.0.2.1", "192.0.2.2"])
        );
    }
}

//! Pure safety and comparison rules of `apply`: is a plan stale, does a read-back match what was
//! written, does a new key policy keep the key administrable (no lock-out), and which managed
//! policy version to delete to stay within IAM's five-version limit.

use serde_json::Value;

use crate::plan::{canonical_json, digest, Target};
use crate::policy::{parse_policy_value, wildcard_match};

/// IAM keeps at most this many versions of a managed policy.
pub const MAX_POLICY_VERSIONS: usize = 5;

/// Whether `current` (the document read now) still has the plan's `before_digest`.
pub fn is_current(before_digest: &str, current: &Value) -> bool {
    digest(current) == before_digest
}

/// Whether the target holds a policy document (compared semantically on read-back: the service
/// may reformat it).
fn is_policy_target(t: &Target) -> bool {
    matches!(
        t,
        Target::BucketPolicy { .. }
            | Target::InlinePolicy { .. }
            | Target::ManagedPolicy { .. }
            | Target::KeyPolicy { .. }
    )
}

/// Whether the document read back (`actual`) is what was written (`expected`): equal canonical
/// JSON; for policies, equal once parsed; for a CloudFront origin whose expected origin access
/// control is `new:NAME` (created by the write), any origin access control id.
pub fn documents_match(target: &Target, expected: &Value, actual: &Value) -> bool {
    if canonical_json(expected) == canonical_json(actual) {
        return true;
    }
    if expected.is_null() || actual.is_null() {
        return false;
    }
    if is_policy_target(target) {
        return match (parse_policy_value(expected), parse_policy_value(actual)) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        };
    }
    if let Target::DistributionOrigin { .. } = target {
        let oac = |v: &Value| {
            v.get("OriginAccessControlId")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        if oac(expected).starts_with("new:") && !oac(actual).is_empty() {
            let strip = |v: &Value| {
                let mut v = v.clone();
                if let Some(m) = v.as_object_mut() {
                    m.remove("OriginAccessControlId");
                }
                canonical_json(&v)
            };
            return strip(expected) == strip(actual);
        }
    }
    false
}

/// The statements of a policy document given as a JSON value (an object, or a JSON string).
fn statements(doc: &Value) -> Vec<Value> {
    let doc = match doc {
        Value::String(s) => serde_json::from_str(s).unwrap_or(Value::Null),
        other => other.clone(),
    };
    match doc.get("Statement") {
        Some(Value::Array(a)) => a.clone(),
        Some(s @ Value::Object(_)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

fn covers_put_key_policy(stmt: &Value) -> bool {
    strings(stmt.get("Action"))
        .iter()
        .any(|a| wildcard_match(&a.to_ascii_lowercase(), "kms:putkeypolicy"))
}

/// The AWS principals a statement names (`"*"` for everyone).
fn aws_principals(stmt: &Value) -> Vec<String> {
    match stmt.get("Principal") {
        Some(Value::String(s)) if s == "*" => vec!["*".to_string()],
        Some(Value::Object(m)) => strings(m.get("AWS")),
        _ => Vec::new(),
    }
}

/// Whether a principal string can administer a key of `key_account`: the account (`ID`, its
/// root ARN), an IAM user or role ARN, or everyone.
fn is_admin_principal(p: &str, key_account: &str) -> bool {
    if p == "*" || p == key_account {
        return true;
    }
    let parts: Vec<&str> = p.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[2] == "iam"
        && (parts[5] == "root" || parts[5].starts_with("user/") || parts[5].starts_with("role/"))
}

/// The lock-out check of a new key policy: some `Allow` statement (without `NotAction` /
/// `NotPrincipal`) must still grant `kms:PutKeyPolicy` to the key's account root or an IAM
/// principal, and no unconditional `Deny` may take `kms:PutKeyPolicy` from everyone. `Err` says
/// why the policy would lock the key out.
pub fn key_policy_keeps_admin(doc: &Value, key_account: &str) -> Result<(), String> {
    let stmts = statements(doc);
    if stmts.is_empty() {
        return Err("the new key policy has no statements".into());
    }
    let blanket_deny = stmts.iter().any(|s| {
        s.get("Effect").and_then(Value::as_str) == Some("Deny")
            && s.get("Condition").is_none()
            && covers_put_key_policy(s)
            && aws_principals(s).iter().any(|p| p == "*")
    });
    if blanket_deny {
        return Err("the new key policy denies kms:PutKeyPolicy to everyone (the key could no longer be administered)".into());
    }
    let admin = stmts.iter().any(|s| {
        s.get("Effect").and_then(Value::as_str) == Some("Allow")
            && s.get("NotAction").is_none()
            && s.get("NotPrincipal").is_none()
            && covers_put_key_policy(s)
            && aws_principals(s)
                .iter()
                .any(|p| is_admin_principal(p, key_account))
    });
    if admin {
        Ok(())
    } else {
        Err(format!(
            "no statement of the new key policy allows kms:PutKeyPolicy to the account root (arn:aws:iam::{key_account}:root) or an IAM principal: the key would be locked out"
        ))
    }
}

/// One version of a managed policy, as `ListPolicyVersions` gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyVersion {
    /// `v1`, `v2` ...
    pub id: String,
    pub is_default: bool,
    /// Creation time in seconds since the epoch, when known.
    pub created: Option<i64>,
}

/// The version to delete before `CreatePolicyVersion` so the policy stays within the five-version
/// limit: `None` while there is room; else the oldest non-default version (by creation time, then
/// by version number).
pub fn version_to_prune(versions: &[PolicyVersion]) -> Option<String> {
    if versions.len() < MAX_POLICY_VERSIONS {
        return None;
    }
    let number = |id: &str| {
        id.trim_start_matches(['v', 'V'])
            .parse::<u64>()
            .unwrap_or(u64::MAX)
    };
    versions
        .iter()
        .filter(|v| !v.is_default)
        .min_by_key(|v| (v.created.unwrap_or(i64::MAX), number(&v.id)))
        .map(|v| v.id.clone())
}

/// The account id in an ARN (`arn:PARTITION:SERVICE:REGION:ACCOUNT:...`).
pub fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

/// The region in an ARN.
pub fn arn_region(arn: &str) -> Option<&str> {
    arn.split(':').nth(3).filter(|r| !r.is_empty())
}

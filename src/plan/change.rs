//! A Change: one document s3medic would write (a bucket policy, an inline IAM policy, a key
//! policy, ownership controls ...), with its full `before` and `after` and the digest that lets
//! `apply` refuse a stale plan. Also the manual steps s3medic cannot or will not take itself.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// What a change writes to. Every variant names its account implicitly through its ARN or
/// through `Change::account`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Target {
    /// `PutBucketPolicy` / `DeleteBucketPolicy`.
    BucketPolicy { bucket: String },
    /// `PutBucketOwnershipControls`.
    BucketOwnership { bucket: String },
    /// `PutBucketAcl` (reset to the owner's full control after grants moved into the policy).
    BucketAcl { bucket: String },
    /// `PutPublicAccessBlock` on the bucket.
    BucketPublicAccessBlock { bucket: String },
    /// `s3control PutPublicAccessBlock` on the account.
    AccountPublicAccessBlock { account: String },
    /// `PutUserPolicy` / `PutRolePolicy` (inline policy `policy_name` of user or role `name`).
    InlinePolicy {
        account: String,
        principal: PrincipalType,
        name: String,
        policy_name: String,
    },
    /// `CreatePolicyVersion` (set as default) on a customer managed policy.
    ManagedPolicy { arn: String },
    /// `PutKeyPolicy` (policy name `default`).
    KeyPolicy { key_arn: String },
    /// CloudFront: create an origin access control and attach it to the distribution's origin
    /// (`UpdateDistribution` with `If-Match`).
    DistributionOrigin {
        distribution_id: String,
        origin_id: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalType {
    User,
    Role,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeAction {
    Create,
    Update,
    Delete,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    Low,
    Medium,
    High,
}

/// One write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// `c1`, `c2` ... in apply order.
    pub id: String,
    /// The account the change is made in (whose credentials apply it).
    pub account: String,
    /// The ARN of the resource written.
    pub resource: String,
    pub target: Target,
    pub action: ChangeAction,
    /// The full document as read (`null`: it did not exist).
    pub before: Value,
    /// The full document to write (`null`: delete it).
    pub after: Value,
    /// SHA-256 of the canonical JSON of `before`.
    pub before_digest: String,
    /// Unified diff of the pretty-printed, key-sorted `before` and `after`.
    pub diff: String,
    pub risk: Risk,
    /// Whether `rollback` restores everything this change affects.
    pub reversible: bool,
    /// What rollback cannot undo, when `reversible` is false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_caveat: Option<String>,
    /// The playbooks (cause ids) this change comes from.
    pub playbooks: Vec<String>,
    /// One line: what and why.
    pub summary: String,
}

/// A step s3medic does not take itself (guardrails, SCPs, RCPs, endpoint policies, caller-side
/// changes): who must do what, with the exact statement where one applies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManualStep {
    pub playbook: String,
    /// Who must act: `the caller`, `the organization's management account`, an account id ...
    pub who: String,
    pub action: String,
    /// The exact statement or document to add, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement: Option<Value>,
}

/// Canonical JSON: object keys sorted, no insignificant whitespace.
pub fn canonical_json(v: &Value) -> String {
    fn sorted(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                Value::Object(
                    keys.into_iter()
                        .map(|k| (k.clone(), sorted(&m[k])))
                        .collect(),
                )
            }
            Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    serde_json::to_string(&sorted(v)).unwrap_or_default()
}

/// `sha256:` + hex SHA-256 of the canonical JSON of `v`.
pub fn digest(v: &Value) -> String {
    let hash = Sha256::digest(canonical_json(v).as_bytes());
    let mut s = String::with_capacity(7 + 64);
    s.push_str("sha256:");
    for b in hash {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Pretty-printed, key-sorted JSON (for diffs).
pub fn pretty_sorted(v: &Value) -> String {
    if v.is_null() {
        return String::new();
    }
    let canon: Value = serde_json::from_str(&canonical_json(v)).unwrap_or(Value::Null);
    let mut s = serde_json::to_string_pretty(&canon).unwrap_or_default();
    s.push('\n');
    s
}

/// Unified diff of two documents (pretty-printed, key-sorted), labelled with the resource.
pub fn unified_diff(resource: &str, before: &Value, after: &Value) -> String {
    let a = pretty_sorted(before);
    let b = pretty_sorted(after);
    similar::TextDiff::from_lines(&a, &b)
        .unified_diff()
        .context_radius(3)
        .header(
            &format!("{resource} (before)"),
            &format!("{resource} (after)"),
        )
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn digest_ignores_key_order_and_whitespace() {
        let a = json!({"b": 1, "a": [1, {"y": 2, "x": 1}]});
        let b: Value =
            serde_json::from_str(r#"{ "a" : [1, {"x":1,"y":2}], "b":1 }"#).unwrap_or_default();
        assert_eq!(digest(&a), digest(&b));
        assert_ne!(digest(&a), digest(&json!({"b": 2})));
        assert!(digest(&a).starts_with("sha256:") && digest(&a).len() == 71);
    }

    #[test]
    fn diff_shows_added_statement() {
        let before = json!({"Statement": [{"Sid": "A"}]});
        let after = json!({"Statement": [{"Sid": "A"}, {"Sid": "B"}]});
        let d = unified_diff("arn:aws:s3:::b", &before, &after);
        assert!(
            d.contains("+    {\n") || d.contains("+      \"Sid\": \"B\""),
            "{d}"
        );
        assert!(d.contains("--- arn:aws:s3:::b (before)"));
    }
}

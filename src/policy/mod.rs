//! The IAM JSON policy language: grammar (parse), printing, and matching of actions, resources,
//! principals' strings and conditions. Pure: no I/O, no knowledge of S3 or of the authorizer.
//!
//! * [`ast`] — the compiled policy types;
//! * `parse` — JSON → AST with precise errors; `print` — AST → JSON (round-trips);
//! * `pattern` — wildcard / policy-variable tokenising and matching, ARN segment matching;
//! * `condition` — condition operators and their evaluation; `scalar` — typed value parsing.

mod ast;
mod condition;
mod parse;
mod pattern;
mod print;
mod scalar;

pub use ast::*;
pub use condition::OpFamily;
pub use pattern::wildcard_match;
pub use scalar::{parse_bool, parse_cidr, parse_date, parse_ip, parse_number};

use serde_json::Value;

/// A malformed policy document: says which statement and what is wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct PolicyError {
    /// Index of the offending statement (0-based), when the error is inside one.
    pub statement: Option<usize>,
    pub message: String,
}

/// Parses a policy document from JSON text.
pub fn parse_policy(text: &str) -> Result<Policy, PolicyError> {
    parse::parse_text(text)
}

/// Parses a policy document from an already-decoded JSON value.
pub fn parse_policy_value(value: &Value) -> Result<Policy, PolicyError> {
    parse::parse_value(value)
}

impl Policy {
    /// Prints the policy back as JSON; `parse_policy_value(&p.to_value()) == Ok(p)`.
    pub fn to_value(&self) -> Value {
        print::policy_value(self)
    }

    /// [`Policy::to_value`] as indented JSON text.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(&self.to_value()).unwrap_or_default()
    }
}

impl ActionPattern {
    /// `action_lower` is a lower-case action name such as `s3:getobject`.
    pub fn matches(&self, action_lower: &str) -> bool {
        self.matches_lower(action_lower)
    }
}

impl Pattern {
    /// Plain wildcard match of the whole value (variables resolved from `ctx`).
    pub fn matches(&self, value: &str, ctx: &dyn ConditionContext) -> bool {
        self.matches_impl(value, ctx, false)
    }

    /// ARN match: the first five `:`-separated segments are matched one by one, the resource part
    /// (everything after the fifth `:`) as a whole.
    pub fn matches_arn(&self, arn: &str, ctx: &dyn ConditionContext) -> bool {
        self.matches_arn_impl(arn, ctx)
    }
}

impl Statement {
    /// Action / NotAction against a lower-case action name.
    pub fn matches_action(&self, action_lower: &str) -> bool {
        match &self.action {
            ActionClause::Action(l) => l.items.iter().any(|a| a.matches(action_lower)),
            ActionClause::NotAction(l) => !l.items.iter().any(|a| a.matches(action_lower)),
        }
    }

    /// Resource / NotResource against an ARN; a statement with neither matches.
    pub fn matches_resource(&self, arn: &str, ctx: &dyn ConditionContext) -> bool {
        match &self.resource {
            None => true,
            Some(ResourceClause::Resource(l)) => l.items.iter().any(|p| p.matches_arn(arn, ctx)),
            Some(ResourceClause::NotResource(l)) => {
                !l.items.iter().any(|p| p.matches_arn(arn, ctx))
            }
        }
    }

    /// Index (into `conditions`) of the first condition that does not hold, or `None` if all hold.
    pub fn failing_condition(&self, ctx: &dyn ConditionContext) -> Option<usize> {
        self.conditions.iter().position(|c| !c.evaluate(ctx))
    }
}

impl Condition {
    /// Whether this (operator, key, values) holds in `ctx`.
    pub fn evaluate(&self, ctx: &dyn ConditionContext) -> bool {
        self.evaluate_impl(ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = r#"{
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Objects", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
             "Action": ["s3:Get*", "S3:ListBucket"], "Resource": ["arn:aws:s3:::bucket", "arn:aws:s3:::bucket/${aws:username}/*"],
             "Condition": {"Bool": {"aws:SecureTransport": "true"}, "StringEquals": {"aws:SourceVpce": "vpce-1"}}},
            {"Effect": "Deny", "Principal": "*", "NotAction": "s3:GetObject", "NotResource": "arn:aws:s3:::bucket/public/*"}
        ]
    }"#;

    #[test]
    fn statement_matching() {
        let p = parse_policy(POLICY).unwrap();
        let (allow, deny) = (&p.statements[0], &p.statements[1]);
        // Actions are case-insensitive.
        assert!(allow.matches_action("s3:getobject"));
        assert!(allow.matches_action("s3:listbucket"));
        assert!(!allow.matches_action("s3:putobject"));
        assert!(deny.matches_action("s3:putobject"));
        assert!(!deny.matches_action("s3:getobject"));

        let ctx = MapContext::default()
            .with("aws:username", &["alice"])
            .with("aws:SecureTransport", &["true"])
            .with("aws:sourcevpce", &["vpce-1"]);
        assert!(allow.matches_resource("arn:aws:s3:::bucket", &ctx));
        assert!(allow.matches_resource("arn:aws:s3:::bucket/alice/x", &ctx));
        assert!(!allow.matches_resource("arn:aws:s3:::bucket/bob/x", &ctx));
        // ARNs are case-sensitive.
        assert!(!allow.matches_resource("arn:aws:s3:::Bucket", &ctx));
        assert!(!deny.matches_resource("arn:aws:s3:::bucket/public/x", &ctx));
        assert!(deny.matches_resource("arn:aws:s3:::bucket/private/x", &ctx));

        assert_eq!(allow.failing_condition(&ctx), None);
        let http = MapContext::default()
            .with("aws:securetransport", &["false"])
            .with("aws:sourcevpce", &["vpce-1"]);
        assert_eq!(allow.failing_condition(&http), Some(0));
        let no_vpce = MapContext::default().with("aws:securetransport", &["true"]);
        assert_eq!(allow.failing_condition(&no_vpce), Some(1));
        assert_eq!(deny.failing_condition(&no_vpce), None);
    }

    #[test]
    fn statement_without_resource_matches_any() {
        let p = parse_policy(
            r#"{"Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}}"#,
        )
        .unwrap();
        assert!(p.statements[0].matches_resource("anything", &MapContext::default()));
    }

    #[test]
    fn round_trip_sample() {
        let p = parse_policy(POLICY).unwrap();
        assert_eq!(parse_policy_value(&p.to_value()), Ok(p));
    }
}

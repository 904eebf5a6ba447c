//! [`Policy`] → JSON: prints a policy back in the shapes it was written in (bare string vs array,
//! single statement object vs array, condition values as scalar vs array), so that
//! `parse_policy_value(&p.to_value()) == Ok(p)`.
//!
//! Element order is canonical (`Version`, `Id`, `Statement`; `Sid`, `Effect`, `Principal`,
//! `Action`, `Resource`, `Condition`); principal types and condition operators keep their
//! document order. Conditions that share an operator are grouped under the first occurrence of
//! that operator (which is the parser's own order for any parsed policy).

use serde_json::{Map, Value};

use super::ast::{
    ActionClause, Condition, Policy, PolicyVersion, PrincipalClause, PrincipalKind, PrincipalMap,
    PrincipalSet, ResourceClause, Statement, StringList,
};

impl PolicyVersion {
    /// `2012-10-17` or `2008-10-17`.
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyVersion::V2008_10_17 => "2008-10-17",
            PolicyVersion::V2012_10_17 => "2012-10-17",
        }
    }
}

impl super::ast::Effect {
    /// `Allow` or `Deny`.
    pub fn as_str(self) -> &'static str {
        match self {
            super::ast::Effect::Allow => "Allow",
            super::ast::Effect::Deny => "Deny",
        }
    }
}

impl PrincipalKind {
    /// The key as written in a `Principal` object (`AWS`, `Service`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::Aws => "AWS",
            PrincipalKind::Service => "Service",
            PrincipalKind::CanonicalUser => "CanonicalUser",
            PrincipalKind::Federated => "Federated",
        }
    }
}

impl PrincipalMap {
    /// The list of principals of one kind.
    pub fn list(&self, kind: PrincipalKind) -> &[String] {
        match kind {
            PrincipalKind::Aws => &self.aws,
            PrincipalKind::Service => &self.service,
            PrincipalKind::CanonicalUser => &self.canonical_user,
            PrincipalKind::Federated => &self.federated,
        }
    }
}

fn list_value<T>(list: &StringList<T>, text: impl Fn(&T) -> &str) -> Value {
    match list.items.as_slice() {
        [one] if list.was_string => Value::String(text(one).to_string()),
        items => Value::Array(
            items
                .iter()
                .map(|i| Value::String(text(i).to_string()))
                .collect(),
        ),
    }
}

fn strings_value(items: &[String], was_string: bool) -> Value {
    match items {
        [one] if was_string => Value::String(one.clone()),
        _ => Value::Array(items.iter().cloned().map(Value::String).collect()),
    }
}

fn principal_value(set: &PrincipalSet) -> Value {
    match set {
        PrincipalSet::Any => Value::String("*".to_string()),
        PrincipalSet::Map(m) => {
            let mut out = Map::new();
            for &(kind, was_string) in &m.shapes {
                if !out.contains_key(kind.as_str()) {
                    out.insert(
                        kind.as_str().to_string(),
                        strings_value(m.list(kind), was_string),
                    );
                }
            }
            // Lists missing from `shapes` (hand-built maps) print as arrays, in a fixed order.
            for kind in [
                PrincipalKind::Aws,
                PrincipalKind::Service,
                PrincipalKind::CanonicalUser,
                PrincipalKind::Federated,
            ] {
                if !out.contains_key(kind.as_str()) && !m.list(kind).is_empty() {
                    out.insert(
                        kind.as_str().to_string(),
                        strings_value(m.list(kind), false),
                    );
                }
            }
            Value::Object(out)
        }
    }
}

fn condition_values(c: &Condition) -> Value {
    match c.raw_values.as_slice() {
        [one] if c.values_were_scalar => one.clone(),
        items => Value::Array(items.to_vec()),
    }
}

fn conditions_value(conditions: &[Condition]) -> Value {
    let mut blocks = Map::new();
    for c in conditions {
        let entry = blocks
            .entry(c.operator.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(keys) = entry {
            keys.insert(c.key.clone(), condition_values(c));
        }
    }
    Value::Object(blocks)
}

impl Statement {
    /// Prints one statement as a JSON object.
    pub fn to_value(&self) -> Value {
        let mut out = Map::new();
        if let Some(sid) = &self.sid {
            out.insert("Sid".into(), Value::String(sid.clone()));
        }
        out.insert("Effect".into(), Value::String(self.effect.as_str().into()));
        match &self.principal {
            Some(PrincipalClause::Principal(p)) => {
                out.insert("Principal".into(), principal_value(p));
            }
            Some(PrincipalClause::NotPrincipal(p)) => {
                out.insert("NotPrincipal".into(), principal_value(p));
            }
            None => {}
        }
        match &self.action {
            ActionClause::Action(l) => {
                out.insert("Action".into(), list_value(l, |a| &a.original));
            }
            ActionClause::NotAction(l) => {
                out.insert("NotAction".into(), list_value(l, |a| &a.original));
            }
        }
        match &self.resource {
            Some(ResourceClause::Resource(l)) => {
                out.insert("Resource".into(), list_value(l, |p| &p.original));
            }
            Some(ResourceClause::NotResource(l)) => {
                out.insert("NotResource".into(), list_value(l, |p| &p.original));
            }
            None => {}
        }
        if !self.conditions.is_empty() {
            out.insert("Condition".into(), conditions_value(&self.conditions));
        }
        Value::Object(out)
    }
}

pub(crate) fn policy_value(p: &Policy) -> Value {
    let mut out = Map::new();
    if let Some(v) = p.version {
        out.insert("Version".into(), Value::String(v.as_str().into()));
    }
    if let Some(id) = &p.id {
        out.insert("Id".into(), Value::String(id.clone()));
    }
    let statements = match p.statements.as_slice() {
        [one] if p.statement_was_object => one.to_value(),
        all => Value::Array(all.iter().map(Statement::to_value).collect()),
    };
    out.insert("Statement".into(), statements);
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use crate::policy::{parse_policy, parse_policy_value};
    use serde_json::json;

    #[test]
    fn round_trip_keeps_shapes() {
        let doc = json!({
            "Version": "2012-10-17",
            "Id": "p1",
            "Statement": [
                {
                    "Sid": "A",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudfront.amazonaws.com", "AWS": ["1", "2"]},
                    "Action": ["s3:GetObject"],
                    "Resource": "arn:aws:s3:::b/${aws:username}/*",
                    "Condition": {
                        "StringEquals": {"AWS:SourceArn": "arn:x", "k2": ["a", 1, true]},
                        "ForAllValues:StringLikeIfExists": {"aws:TagKeys": ["t*"]},
                        "NumericLessThan": {"s3:max-keys": 10},
                        "Null": {"x": "true"}
                    }
                },
                {"Effect": "Deny", "NotPrincipal": "*", "NotAction": "s3:*", "NotResource": ["arn:aws:s3:::b"]},
                {"Effect": "Allow", "Action": "sts:AssumeRole"}
            ]
        });
        let p = parse_policy_value(&doc).unwrap();
        let printed = p.to_value();
        assert_eq!(printed, doc);
        assert_eq!(parse_policy_value(&printed), Ok(p));
    }

    #[test]
    fn single_statement_object_and_no_version() {
        let text = r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#;
        let p = parse_policy(text).unwrap();
        assert_eq!(p.to_value().to_string(), text);
        assert_eq!(
            p.to_json_pretty(),
            serde_json::to_string_pretty(&p.to_value()).unwrap()
        );
    }
}

//! JSON → [`Policy`]: validates the IAM policy grammar and compiles every pattern, with precise,
//! lower-case error messages (`statement 2 (`DenyHttp`): `Effect` must be `Allow` or `Deny`,
//! found `allow``). Statement numbers in messages are 0-based, like [`PolicyError::statement`]
//! and like `.Statement[2]` in `jq`.
//!
//! Never panics: every access to the input is checked.

use serde_json::{Map, Value};

use super::ast::{
    ActionClause, ActionPattern, Condition, Effect, Pattern, Policy, PolicyVersion,
    PrincipalClause, PrincipalKind, PrincipalMap, PrincipalSet, ResourceClause, Statement,
    StringList,
};
use super::condition::describe;
use super::pattern::quote;
use super::PolicyError;

const STATEMENT_KEYS: [&str; 9] = [
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

/// Parses JSON text; invalid JSON is reported with its line and column.
pub fn parse_text(text: &str) -> Result<Policy, PolicyError> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        let msg = e.to_string();
        // serde_json appends " at line L column C"; we put the position first instead.
        let msg = match msg.rfind(" at line ") {
            Some(i) => msg.get(..i).unwrap_or(&msg).to_string(),
            None => msg,
        };
        PolicyError {
            statement: None,
            message: format!(
                "invalid JSON at line {}, column {}: {msg}",
                e.line(),
                e.column()
            ),
        }
    })?;
    parse_value(&value)
}

fn top(message: String) -> PolicyError {
    PolicyError {
        statement: None,
        message,
    }
}

/// Parses an already-decoded JSON document.
pub fn parse_value(value: &Value) -> Result<Policy, PolicyError> {
    let Value::Object(doc) = value else {
        return Err(top(format!(
            "a policy must be a JSON object, found {}",
            describe(value)
        )));
    };
    for key in doc.keys() {
        if !matches!(key.as_str(), "Version" | "Id" | "Statement") {
            return Err(top(format!(
                "unknown policy element {} (expected `Version`, `Id` or `Statement`)",
                quote(key)
            )));
        }
    }
    let version = match doc.get("Version") {
        None => None,
        Some(Value::String(s)) if s == "2012-10-17" => Some(PolicyVersion::V2012_10_17),
        Some(Value::String(s)) if s == "2008-10-17" => Some(PolicyVersion::V2008_10_17),
        Some(other) => {
            return Err(top(format!(
                "`Version` must be `2012-10-17` or `2008-10-17`, found {}",
                describe(other)
            )))
        }
    };
    let id = match doc.get("Id") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            return Err(top(format!(
                "`Id` must be a string, found {}",
                describe(other)
            )))
        }
    };
    let (items, statement_was_object): (Vec<&Value>, bool) = match doc.get("Statement") {
        None => return Err(top("the policy has no `Statement`".to_string())),
        Some(obj @ Value::Object(_)) => (vec![obj], true),
        Some(Value::Array(items)) => (items.iter().collect(), false),
        Some(other) => {
            return Err(top(format!(
                "`Statement` must be an object or an array of objects, found {}",
                describe(other)
            )))
        }
    };
    let mut statements = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        statements.push(parse_statement(index, item, version)?);
    }
    Ok(Policy {
        version,
        id,
        statements,
        statement_was_object,
    })
}

/// Builds errors prefixed with the statement's number and Sid.
struct Ctx {
    index: usize,
    sid: Option<String>,
}

impl Ctx {
    fn err(&self, message: impl AsRef<str>) -> PolicyError {
        let prefix = match &self.sid {
            Some(sid) => format!("statement {} ({})", self.index, quote(sid)),
            None => format!("statement {}", self.index),
        };
        PolicyError {
            statement: Some(self.index),
            message: format!("{prefix}: {}", message.as_ref()),
        }
    }
}

fn parse_statement(
    index: usize,
    item: &Value,
    version: Option<PolicyVersion>,
) -> Result<Statement, PolicyError> {
    let mut cx = Ctx { index, sid: None };
    let Value::Object(st) = item else {
        return Err(cx.err(format!(
            "a statement must be a JSON object, found {}",
            describe(item)
        )));
    };
    let sid = match st.get("Sid") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            return Err(cx.err(format!("`Sid` must be a string, found {}", describe(other))))
        }
    };
    cx.sid = sid.clone();
    for key in st.keys() {
        if !STATEMENT_KEYS.contains(&key.as_str()) {
            return Err(cx.err(format!(
                "unknown statement element {} (expected one of `Sid`, `Effect`, `Principal`, `NotPrincipal`, `Action`, `NotAction`, `Resource`, `NotResource`, `Condition`)",
                quote(key)
            )));
        }
    }
    let effect = match st.get("Effect") {
        Some(Value::String(s)) if s == "Allow" => Effect::Allow,
        Some(Value::String(s)) if s == "Deny" => Effect::Deny,
        Some(other) => {
            return Err(cx.err(format!(
                "`Effect` must be `Allow` or `Deny`, found {}",
                describe(other)
            )))
        }
        None => return Err(cx.err("`Effect` is missing")),
    };
    let principal = match (st.get("Principal"), st.get("NotPrincipal")) {
        (Some(_), Some(_)) => {
            return Err(cx.err("`Principal` and `NotPrincipal` cannot both be present"))
        }
        (Some(v), None) => Some(PrincipalClause::Principal(parse_principal(
            &cx,
            "Principal",
            v,
        )?)),
        (None, Some(v)) => Some(PrincipalClause::NotPrincipal(parse_principal(
            &cx,
            "NotPrincipal",
            v,
        )?)),
        (None, None) => None,
    };
    let action = match (st.get("Action"), st.get("NotAction")) {
        (Some(_), Some(_)) => return Err(cx.err("`Action` and `NotAction` cannot both be present")),
        (Some(v), None) => ActionClause::Action(action_list(&cx, "Action", v)?),
        (None, Some(v)) => ActionClause::NotAction(action_list(&cx, "NotAction", v)?),
        (None, None) => return Err(cx.err("one of `Action` or `NotAction` is required")),
    };
    let resource = match (st.get("Resource"), st.get("NotResource")) {
        (Some(_), Some(_)) => {
            return Err(cx.err("`Resource` and `NotResource` cannot both be present"))
        }
        (Some(v), None) => Some(ResourceClause::Resource(resource_list(
            &cx, "Resource", v, version,
        )?)),
        (None, Some(v)) => Some(ResourceClause::NotResource(resource_list(
            &cx,
            "NotResource",
            v,
            version,
        )?)),
        (None, None) => None,
    };
    let conditions = match st.get("Condition") {
        None => Vec::new(),
        Some(Value::Object(blocks)) => parse_conditions(&cx, blocks, version)?,
        Some(other) => {
            return Err(cx.err(format!(
                "`Condition` must be an object, found {}",
                describe(other)
            )))
        }
    };
    Ok(Statement {
        sid,
        effect,
        principal,
        action,
        resource,
        conditions,
    })
}

/// A string or a non-empty array of strings; returns the strings and whether it was a string.
fn strings<'a>(cx: &Ctx, element: &str, v: &'a Value) -> Result<(Vec<&'a str>, bool), PolicyError> {
    match v {
        Value::String(s) => Ok((vec![s.as_str()], true)),
        Value::Array(items) => {
            if items.is_empty() {
                return Err(cx.err(format!("`{element}` must not be an empty array")));
            }
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::String(s) => out.push(s.as_str()),
                    other => {
                        return Err(cx.err(format!(
                            "`{element}` entry {i} must be a string, found {}",
                            describe(other)
                        )))
                    }
                }
            }
            Ok((out, false))
        }
        other => Err(cx.err(format!(
            "`{element}` must be a string or an array of strings, found {}",
            describe(other)
        ))),
    }
}

fn action_list(
    cx: &Ctx,
    element: &str,
    v: &Value,
) -> Result<StringList<ActionPattern>, PolicyError> {
    let (items, was_string) = strings(cx, element, v)?;
    Ok(StringList {
        items: items.into_iter().map(ActionPattern::new).collect(),
        was_string,
    })
}

fn resource_list(
    cx: &Ctx,
    element: &str,
    v: &Value,
    version: Option<PolicyVersion>,
) -> Result<StringList<Pattern>, PolicyError> {
    let (items, was_string) = strings(cx, element, v)?;
    let variables = version == Some(PolicyVersion::V2012_10_17);
    let mut out = Vec::with_capacity(items.len());
    for s in items {
        let p = Pattern::new(s, true, variables)
            .map_err(|m| cx.err(format!("`{element}` {}: {m}", quote(s))))?;
        out.push(p);
    }
    Ok(StringList {
        items: out,
        was_string,
    })
}

fn parse_principal(cx: &Ctx, element: &str, v: &Value) -> Result<PrincipalSet, PolicyError> {
    match v {
        Value::String(s) if s == "*" => Ok(PrincipalSet::Any),
        Value::Object(map) => {
            if map.is_empty() {
                return Err(cx.err(format!("`{element}` must not be an empty object")));
            }
            let mut pm = PrincipalMap::default();
            for (key, value) in map {
                let kind = match key.as_str() {
                    "AWS" => PrincipalKind::Aws,
                    "Service" => PrincipalKind::Service,
                    "CanonicalUser" => PrincipalKind::CanonicalUser,
                    "Federated" => PrincipalKind::Federated,
                    _ => {
                        return Err(cx.err(format!(
                            "unknown principal type {} in `{element}` (expected `AWS`, `Service`, `CanonicalUser` or `Federated`)",
                            quote(key)
                        )))
                    }
                };
                let (items, was_string) = strings(cx, &format!("{element}.{key}"), value)?;
                let list = match kind {
                    PrincipalKind::Aws => &mut pm.aws,
                    PrincipalKind::Service => &mut pm.service,
                    PrincipalKind::CanonicalUser => &mut pm.canonical_user,
                    PrincipalKind::Federated => &mut pm.federated,
                };
                list.extend(items.into_iter().map(str::to_string));
                pm.shapes.push((kind, was_string));
            }
            Ok(PrincipalSet::Map(pm))
        }
        other => Err(cx.err(format!(
            "`{element}` must be `*` or an object such as {{\"AWS\": ...}}, found {}",
            describe(other)
        ))),
    }
}

fn parse_conditions(
    cx: &Ctx,
    blocks: &Map<String, Value>,
    version: Option<PolicyVersion>,
) -> Result<Vec<Condition>, PolicyError> {
    let mut out = Vec::new();
    for (op_name, block) in blocks {
        let operator = super::ast::Operator::parse(op_name).map_err(|m| cx.err(m))?;
        let Value::Object(keys) = block else {
            return Err(cx.err(format!(
                "condition operator {} must map condition keys to values, found {}",
                quote(op_name),
                describe(block)
            )));
        };
        for (key, raw) in keys {
            if key.is_empty() {
                return Err(cx.err(format!(
                    "condition operator {} has an empty condition key",
                    quote(op_name)
                )));
            }
            let c = Condition::from_json(operator, key, raw, version)
                .map_err(|m| cx.err(format!("condition {} {}: {m}", quote(op_name), quote(key))))?;
            out.push(c);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::ast::{CondValue, OpKind, SetQualifier, Token};
    use super::*;
    use serde_json::json;

    fn err(v: Value) -> PolicyError {
        parse_value(&v).unwrap_err()
    }

    fn stmt(extra: Value) -> Value {
        let mut s = json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"});
        if let (Value::Object(s), Value::Object(e)) = (&mut s, extra) {
            for (k, v) in e {
                s.insert(k, v);
            }
        }
        json!({"Version": "2012-10-17", "Statement": [s]})
    }

    #[test]
    fn minimal_policy() {
        let p = parse_text(
            r#"{"Version":"2012-10-17","Id":"x","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#,
        )
        .unwrap();
        assert_eq!(p.version, Some(PolicyVersion::V2012_10_17));
        assert_eq!(p.id.as_deref(), Some("x"));
        assert!(p.statement_was_object);
        assert_eq!(p.statements.len(), 1);
        let s = &p.statements[0];
        assert_eq!(s.effect, Effect::Allow);
        assert!(s.principal.is_none());
        assert!(s.conditions.is_empty());
        match &s.action {
            ActionClause::Action(l) => {
                assert!(l.was_string);
                assert_eq!(l.items[0].lower, "s3:*");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn versions() {
        let no_version = json!({"Statement": []});
        assert_eq!(parse_value(&no_version).unwrap().version, None);
        let old = json!({"Version": "2008-10-17", "Statement": []});
        assert_eq!(
            parse_value(&old).unwrap().version,
            Some(PolicyVersion::V2008_10_17)
        );
        let e = err(json!({"Version": "2012-10-18", "Statement": []}));
        assert_eq!(e.statement, None);
        assert_eq!(
            e.message,
            "`Version` must be `2012-10-17` or `2008-10-17`, found `2012-10-18`"
        );
        assert!(err(json!({"Version": 2012, "Statement": []}))
            .message
            .contains("number `2012`"));
    }

    #[test]
    fn document_errors() {
        assert!(err(json!([])).message.contains("must be a JSON object"));
        assert!(err(json!({"Version": "2012-10-17"}))
            .message
            .contains("no `Statement`"));
        assert!(err(json!({"Statement": "x"}))
            .message
            .contains("`Statement` must be"));
        assert!(err(json!({"Statement": [], "Foo": 1}))
            .message
            .contains("unknown policy element `Foo`"));
        assert!(err(json!({"Statement": [], "Id": 3}))
            .message
            .contains("`Id` must be a string"));
        let e = err(json!({"Statement": [1]}));
        assert_eq!(e.statement, Some(0));
        assert!(e
            .message
            .contains("statement 0: a statement must be a JSON object"));
    }

    #[test]
    fn invalid_json_has_position() {
        let e = parse_text("{\n  \"Statement\": [\n    {,\n  ]\n}").unwrap_err();
        assert_eq!(e.statement, None);
        assert!(
            e.message.starts_with("invalid JSON at line 3, column 6: "),
            "{}",
            e.message
        );
        let e = parse_text("").unwrap_err();
        assert!(
            e.message.starts_with("invalid JSON at line 1"),
            "{}",
            e.message
        );
    }

    #[test]
    fn effect_errors() {
        let v = json!({"Statement": [
            {"Effect": "Allow", "Action": "s3:*"},
            {"Effect": "Allow", "Action": "s3:*"},
            {"Sid": "DenyHttp", "Effect": "allow", "Action": "s3:*"}
        ]});
        let e = err(v);
        assert_eq!(e.statement, Some(2));
        assert_eq!(
            e.message,
            "statement 2 (`DenyHttp`): `Effect` must be `Allow` or `Deny`, found `allow`"
        );
        assert_eq!(e.to_string(), e.message);
        let e = err(json!({"Statement": {"Action": "s3:*"}}));
        assert_eq!(e.message, "statement 0: `Effect` is missing");
        assert!(err(stmt(json!({"Effect": true})))
            .message
            .contains("boolean `true`"));
        assert!(err(stmt(json!({"Sid": 1})))
            .message
            .contains("`Sid` must be a string"));
    }

    #[test]
    fn element_errors() {
        let m = |extra: Value| err(stmt(extra)).message;
        assert!(m(json!({"NotAction": "s3:*"})).contains("`Action` and `NotAction` cannot both"));
        assert!(m(json!({"NotResource": "*"})).contains("`Resource` and `NotResource` cannot both"));
        assert!(m(json!({"Principal": "*", "NotPrincipal": "*"}))
            .contains("`Principal` and `NotPrincipal` cannot both"));
        assert!(m(json!({"Actions": "s3:*"})).contains("unknown statement element `Actions`"));
        assert!(m(json!({"Action": []})).contains("`Action` must not be an empty array"));
        assert!(m(json!({"Action": [1]}))
            .contains("`Action` entry 0 must be a string, found number `1`"));
        assert!(m(json!({"Action": {}})).contains("`Action` must be a string or an array"));
        assert!(m(json!({"Resource": null})).contains("`Resource` must be a string"));
        assert!(
            m(json!({"Resource": "arn:aws:s3:::${oops"})).contains("unterminated policy variable")
        );
        assert!(m(json!({"Condition": []})).contains("`Condition` must be an object"));
        let e = err(json!({"Statement": {"Effect": "Deny", "Resource": "*"}}));
        assert!(e
            .message
            .contains("one of `Action` or `NotAction` is required"));
    }

    #[test]
    fn principal_errors() {
        let m = |p: Value| err(stmt(json!({"Principal": p}))).message;
        assert!(m(json!("arn:aws:iam::1:root")).contains("`Principal` must be `*` or an object"));
        assert!(m(json!({})).contains("must not be an empty object"));
        assert!(m(json!({"Aws": "1"})).contains("unknown principal type `Aws`"));
        assert!(m(json!({"AWS": 1})).contains("`Principal.AWS` must be a string or an array"));
        assert!(m(json!({"AWS": []})).contains("`Principal.AWS` must not be an empty array"));
        assert!(err(stmt(json!({"NotPrincipal": 5})))
            .message
            .contains("`NotPrincipal` must be"));
    }

    #[test]
    fn principals() {
        let p = parse_value(&stmt(json!({"Principal": "*"}))).unwrap();
        assert_eq!(
            p.statements[0].principal,
            Some(PrincipalClause::Principal(PrincipalSet::Any))
        );
        let p = parse_value(&stmt(json!({"NotPrincipal": {
            "Service": "cloudfront.amazonaws.com",
            "AWS": ["111122223333", "arn:aws:iam::444455556666:root"],
            "CanonicalUser": "abc",
            "Federated": ["cognito-identity.amazonaws.com"]
        }})))
        .unwrap();
        let Some(PrincipalClause::NotPrincipal(PrincipalSet::Map(m))) = &p.statements[0].principal
        else {
            panic!()
        };
        assert_eq!(
            m.aws,
            vec!["111122223333", "arn:aws:iam::444455556666:root"]
        );
        assert_eq!(m.service, vec!["cloudfront.amazonaws.com"]);
        assert_eq!(m.canonical_user, vec!["abc"]);
        assert_eq!(m.federated, vec!["cognito-identity.amazonaws.com"]);
        assert_eq!(
            m.shapes,
            vec![
                (PrincipalKind::Service, true),
                (PrincipalKind::Aws, false),
                (PrincipalKind::CanonicalUser, true),
                (PrincipalKind::Federated, false)
            ]
        );
    }

    #[test]
    fn conditions_flatten_in_order() {
        let p = parse_value(&stmt(json!({"Condition": {
            "StringEquals": {"aws:SourceVpce": "vpce-1", "s3:prefix": ["a", "b"]},
            "ForAnyValue:StringLikeIfExists": {"aws:TagKeys": "team*"},
            "Bool": {"aws:SecureTransport": false},
            "IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "2001:db8::1"]},
            "DateLessThan": {"aws:CurrentTime": "2026-01-01"},
            "NumericLessThanEquals": {"s3:max-keys": "10"},
            "BinaryEquals": {"k": "aGk="},
            "Null": {"aws:TokenIssueTime": "true"},
            "ArnLike": {"aws:SourceArn": "arn:aws:s3:::b*"}
        }})))
        .unwrap();
        let c = &p.statements[0].conditions;
        let ops: Vec<String> = c.iter().map(|c| c.operator.to_string()).collect();
        assert_eq!(
            ops,
            [
                "StringEquals",
                "StringEquals",
                "ForAnyValue:StringLikeIfExists",
                "Bool",
                "IpAddress",
                "DateLessThan",
                "NumericLessThanEquals",
                "BinaryEquals",
                "Null",
                "ArnLike"
            ]
        );
        assert_eq!(c[0].key, "aws:SourceVpce");
        assert_eq!(c[0].key_lower, "aws:sourcevpce");
        assert!(c[0].values_were_scalar);
        assert!(!c[1].values_were_scalar);
        assert_eq!(c[2].operator.set, Some(SetQualifier::ForAnyValue));
        assert!(c[2].operator.if_exists);
        assert_eq!(c[2].operator.base, OpKind::StringLike);
        assert_eq!(c[3].values, vec![CondValue::Bool(false)]);
        assert!(matches!(c[4].values[1], CondValue::Cidr(n) if n.prefix_len() == 128));
        assert_eq!(c[5].values, vec![CondValue::Date(1_767_225_600.0)]);
        assert_eq!(c[6].values, vec![CondValue::Number(10.0)]);
        assert_eq!(c[7].values, vec![CondValue::Binary(b"hi".to_vec())]);
        assert_eq!(c[8].values, vec![CondValue::Bool(true)]);
        match &c[9].values[0] {
            CondValue::Pattern(p) => assert!(p.has_wildcard()),
            other => panic!("{other:?}"),
        }
        // StringEquals values have no wildcards.
        match &c[0].values[0] {
            CondValue::Pattern(p) => assert_eq!(p.tokens, vec![Token::Literal("vpce-1".into())]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn condition_errors() {
        let m = |c: Value| err(stmt(json!({"Sid": "S", "Condition": c}))).message;
        assert_eq!(
            m(json!({"stringEquals": {"k": "v"}})),
            "statement 0 (`S`): unknown condition operator `stringEquals`"
        );
        assert!(m(json!({"NullIfExists": {"k": true}})).contains("`IfExists`"));
        assert!(m(json!({"StringEquals": "v"})).contains("must map condition keys to values"));
        assert!(m(json!({"StringEquals": {"": "v"}})).contains("empty condition key"));
        assert_eq!(
            m(json!({"NumericLessThan": {"s3:max-keys": "ten"}})),
            "statement 0 (`S`): condition `NumericLessThan` `s3:max-keys`: value `ten` is not a number"
        );
        assert!(m(json!({"IpAddress": {"aws:SourceIp": "10.0.0.300"}})).contains("`10.0.0.300`"));
        assert!(m(json!({"Bool": {"k": [true, "maybe"]}})).contains("`maybe`"));
    }

    #[test]
    fn variables_by_version() {
        let mk = |version: Option<&str>| {
            let mut doc = json!({"Statement": {"Effect": "Allow", "Action": "s3:*",
                "Resource": "arn:aws:s3:::b/${aws:username}/*"}});
            if let (Some(v), Value::Object(m)) = (version, &mut doc) {
                m.insert("Version".into(), json!(v));
            }
            parse_value(&doc).unwrap()
        };
        let res = |p: &Policy| match &p.statements[0].resource {
            Some(ResourceClause::Resource(l)) => l.items[0].clone(),
            other => panic!("{other:?}"),
        };
        assert!(res(&mk(Some("2012-10-17"))).has_variable());
        assert!(!res(&mk(Some("2008-10-17"))).has_variable());
        assert!(!res(&mk(None)).has_variable());
        // Malformed variables are fine in 2008 (literal text).
        let doc = json!({"Version": "2008-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*",
            "Resource": "arn:aws:s3:::b/${oops"}});
        assert!(parse_value(&doc).is_ok());
    }

    #[test]
    fn long_user_text_is_truncated() {
        let long = "x".repeat(500);
        let e = err(stmt(json!({"Effect": long})));
        assert!(e.message.len() < 200, "{}", e.message);
    }
}

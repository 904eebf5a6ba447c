//! Condition operators: their names, the pre-parsing of policy values for each operator, and the
//! evaluation of one (operator, key, values) entry against a request context.
//!
//! Semantics (AWS "IAM JSON policy elements: Condition operators" and "Single-valued vs.
//! multivalued context keys"):
//!
//! * Key absent (or present with an empty set of values, which is treated the same way):
//!   `ForAllValues:` → true, `ForAnyValue:` → false (the set qualifier decides first, even with
//!   `IfExists` or a negated operator — this follows the documented "ForAnyValue ... returns false
//!   when the key is missing" and the observed behaviour recorded by iam.cloudcopilot.io for
//!   `ForAnyValue:ArnEqualsIfExists` / `ForAnyValue:ArnNotEqualsIfExists`); otherwise `...IfExists` →
//!   true; `Null` → its value is `true`; negated operators (`StringNotEquals`, `NotIpAddress`,
//!   `ArnNotLike`, ...) → true; everything else → false.
//! * No set qualifier: a positive operator holds when ANY context value matches ANY policy value;
//!   a negated operator is the negation of its positive counterpart (no context value matches any
//!   policy value).
//! * `ForAnyValue:Op`: some context value satisfies the single-valued `Op`;
//!   `ForAllValues:Op`: every context value does.
//! * `ArnEquals` / `ArnNotEquals` use the same segment-wise wildcard matching as `ArnLike` /
//!   `ArnNotLike`: the AWS page documents the two in one row ("Case-sensitive matching of the
//!   ARN. Each of the six colon-delimited components of the ARN is checked separately and each
//!   can include multi-character match wildcards (*) or single-character match wildcards (?)").
//! * `StringEqualsIgnoreCase` folds ASCII letters only (`É` ≠ `é`); good enough for the keys S3
//!   conditions use.
//! * A context value that does not parse for the operator's type (a non-number for `Numeric*`,
//!   a non-date for `Date*`, ...) matches no policy value.

use std::fmt;

use serde_json::Value;

use super::ast::{
    CondValue, Condition, ConditionContext, ContextValue, KnownKey, OpKind, Operator, Pattern,
    PolicyVersion, SetQualifier,
};
use super::pattern::quote;
use super::scalar;

const ALL_KINDS: [OpKind; 27] = [
    OpKind::StringEquals,
    OpKind::StringNotEquals,
    OpKind::StringEqualsIgnoreCase,
    OpKind::StringNotEqualsIgnoreCase,
    OpKind::StringLike,
    OpKind::StringNotLike,
    OpKind::NumericEquals,
    OpKind::NumericNotEquals,
    OpKind::NumericLessThan,
    OpKind::NumericLessThanEquals,
    OpKind::NumericGreaterThan,
    OpKind::NumericGreaterThanEquals,
    OpKind::DateEquals,
    OpKind::DateNotEquals,
    OpKind::DateLessThan,
    OpKind::DateLessThanEquals,
    OpKind::DateGreaterThan,
    OpKind::DateGreaterThanEquals,
    OpKind::Bool,
    OpKind::BinaryEquals,
    OpKind::IpAddress,
    OpKind::NotIpAddress,
    OpKind::ArnEquals,
    OpKind::ArnLike,
    OpKind::ArnNotEquals,
    OpKind::ArnNotLike,
    OpKind::Null,
];

/// The family an operator belongs to, which decides how its values are parsed and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpFamily {
    String,
    Numeric,
    Date,
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

impl OpKind {
    /// Every base operator.
    pub fn all() -> &'static [OpKind] {
        &ALL_KINDS
    }

    /// The name as written in policies (`StringEquals`).
    pub fn name(self) -> &'static str {
        match self {
            OpKind::StringEquals => "StringEquals",
            OpKind::StringNotEquals => "StringNotEquals",
            OpKind::StringEqualsIgnoreCase => "StringEqualsIgnoreCase",
            OpKind::StringNotEqualsIgnoreCase => "StringNotEqualsIgnoreCase",
            OpKind::StringLike => "StringLike",
            OpKind::StringNotLike => "StringNotLike",
            OpKind::NumericEquals => "NumericEquals",
            OpKind::NumericNotEquals => "NumericNotEquals",
            OpKind::NumericLessThan => "NumericLessThan",
            OpKind::NumericLessThanEquals => "NumericLessThanEquals",
            OpKind::NumericGreaterThan => "NumericGreaterThan",
            OpKind::NumericGreaterThanEquals => "NumericGreaterThanEquals",
            OpKind::DateEquals => "DateEquals",
            OpKind::DateNotEquals => "DateNotEquals",
            OpKind::DateLessThan => "DateLessThan",
            OpKind::DateLessThanEquals => "DateLessThanEquals",
            OpKind::DateGreaterThan => "DateGreaterThan",
            OpKind::DateGreaterThanEquals => "DateGreaterThanEquals",
            OpKind::Bool => "Bool",
            OpKind::BinaryEquals => "BinaryEquals",
            OpKind::IpAddress => "IpAddress",
            OpKind::NotIpAddress => "NotIpAddress",
            OpKind::ArnEquals => "ArnEquals",
            OpKind::ArnLike => "ArnLike",
            OpKind::ArnNotEquals => "ArnNotEquals",
            OpKind::ArnNotLike => "ArnNotLike",
            OpKind::Null => "Null",
        }
    }

    /// The base operator with this exact (case-sensitive) name.
    pub fn from_name(name: &str) -> Option<OpKind> {
        ALL_KINDS.iter().copied().find(|k| k.name() == name)
    }

    /// True for the operators that hold when the key does NOT match (and when it is absent).
    pub fn is_negated(self) -> bool {
        matches!(
            self,
            OpKind::StringNotEquals
                | OpKind::StringNotEqualsIgnoreCase
                | OpKind::StringNotLike
                | OpKind::NumericNotEquals
                | OpKind::DateNotEquals
                | OpKind::NotIpAddress
                | OpKind::ArnNotEquals
                | OpKind::ArnNotLike
        )
    }

    /// The family (value type) of the operator.
    pub fn family(self) -> OpFamily {
        use OpKind::*;
        match self {
            StringEquals
            | StringNotEquals
            | StringEqualsIgnoreCase
            | StringNotEqualsIgnoreCase
            | StringLike
            | StringNotLike => OpFamily::String,
            NumericEquals
            | NumericNotEquals
            | NumericLessThan
            | NumericLessThanEquals
            | NumericGreaterThan
            | NumericGreaterThanEquals => OpFamily::Numeric,
            DateEquals
            | DateNotEquals
            | DateLessThan
            | DateLessThanEquals
            | DateGreaterThan
            | DateGreaterThanEquals => OpFamily::Date,
            Bool => OpFamily::Bool,
            BinaryEquals => OpFamily::Binary,
            IpAddress | NotIpAddress => OpFamily::Ip,
            ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => OpFamily::Arn,
            Null => OpFamily::Null,
        }
    }

    /// Whether `*` / `?` are wildcards in this operator's values.
    pub fn wildcards(self) -> bool {
        matches!(self.family(), OpFamily::Arn)
            || matches!(self, OpKind::StringLike | OpKind::StringNotLike)
    }
}

impl Operator {
    /// Parses an operator name such as `ForAnyValue:StringLikeIfExists` (case-sensitive, as AWS).
    pub fn parse(name: &str) -> Result<Operator, String> {
        let unknown = || format!("unknown condition operator {}", quote(name));
        let (set, rest) = if let Some(r) = name.strip_prefix("ForAnyValue:") {
            (Some(SetQualifier::ForAnyValue), r)
        } else if let Some(r) = name.strip_prefix("ForAllValues:") {
            (Some(SetQualifier::ForAllValues), r)
        } else {
            (None, name)
        };
        let (base, if_exists) = match OpKind::from_name(rest) {
            Some(k) => (k, false),
            None => match rest.strip_suffix("IfExists").and_then(OpKind::from_name) {
                Some(k) => (k, true),
                None => return Err(unknown()),
            },
        };
        if base == OpKind::Null && if_exists {
            return Err(format!(
                "condition operator {}: `Null` cannot take the `IfExists` suffix",
                quote(name)
            ));
        }
        if base == OpKind::Null && set.is_some() {
            return Err(format!(
                "condition operator {}: `Null` cannot take a `ForAnyValue:` / `ForAllValues:` qualifier",
                quote(name)
            ));
        }
        Ok(Operator {
            base,
            if_exists,
            set,
        })
    }

    /// The name as written in policies.
    pub fn name(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.set {
            Some(SetQualifier::ForAnyValue) => f.write_str("ForAnyValue:")?,
            Some(SetQualifier::ForAllValues) => f.write_str("ForAllValues:")?,
            None => {}
        }
        f.write_str(self.base.name())?;
        if self.if_exists {
            f.write_str("IfExists")?;
        }
        Ok(())
    }
}

/// A short description of a JSON value for error messages.
pub(crate) fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => quote(s),
        Value::Number(n) => format!("number `{n}`"),
        Value::Bool(b) => format!("boolean `{b}`"),
        Value::Null => "`null`".to_string(),
        Value::Array(_) => "an array".to_string(),
        Value::Object(_) => "an object".to_string(),
    }
}

/// The text of a JSON scalar as a string-typed condition compares it.
fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl Condition {
    /// Builds one (operator, key) condition from its JSON value (a scalar or an array of
    /// scalars), pre-parsing the values for the operator. `version` decides whether `${...}`
    /// policy variables are active. Errors are lower-case messages naming the bad value.
    pub fn from_json(
        operator: Operator,
        key: &str,
        raw: &Value,
        version: Option<PolicyVersion>,
    ) -> Result<Condition, String> {
        let (raw_values, values_were_scalar) = match raw {
            Value::Array(items) => (items.clone(), false),
            other => (vec![other.clone()], true),
        };
        let variables = version == Some(PolicyVersion::V2012_10_17);
        let mut values = Vec::with_capacity(raw_values.len());
        for v in &raw_values {
            values
                .push(parse_value(operator.base, v, variables).map_err(|m| format!("value {m}"))?);
        }
        let key_lower = key.to_ascii_lowercase();
        Ok(Condition {
            operator,
            key: key.to_string(),
            key_known: KnownKey::from_lower(&key_lower),
            key_lower,
            raw_values,
            values_were_scalar,
            values,
        })
    }

    pub(crate) fn evaluate_impl(&self, ctx: &dyn ConditionContext) -> bool {
        let op = self.operator;
        let present = ctx
            .value_known(&self.key_lower, self.key_known)
            .filter(|v| !v.is_empty());
        if op.base == OpKind::Null {
            let absent = present.is_none();
            return self
                .values
                .iter()
                .any(|v| matches!(v, CondValue::Bool(b) if *b == absent));
        }
        let Some(found) = present else {
            return match op.set {
                Some(SetQualifier::ForAllValues) => true,
                Some(SetQualifier::ForAnyValue) => false,
                None => op.if_exists || op.base.is_negated(),
            };
        };
        let negated = op.base.is_negated();
        // The single-valued operator applied to one context value.
        let single = |v: &str| self.any_value_matches(v, ctx) != negated;
        match op.set {
            None => {
                let any = iter(found).any(|v| self.any_value_matches(v, ctx));
                any != negated
            }
            Some(SetQualifier::ForAnyValue) => iter(found).any(single),
            Some(SetQualifier::ForAllValues) => iter(found).all(single),
        }
    }

    /// Whether the context value `v` matches at least one policy value under the POSITIVE
    /// form of the operator (`StringNotEquals` is handled as `StringEquals` here).
    fn any_value_matches(&self, v: &str, ctx: &dyn ConditionContext) -> bool {
        use OpKind::*;
        let base = self.operator.base;
        match base.family() {
            OpFamily::String => {
                let fold = matches!(base, StringEqualsIgnoreCase | StringNotEqualsIgnoreCase);
                self.patterns().any(|p| p.matches_impl(v, ctx, fold))
            }
            OpFamily::Arn => self.patterns().any(|p| p.matches_arn_impl(v, ctx)),
            OpFamily::Numeric => {
                let Some(x) = scalar::parse_number(v) else {
                    return false;
                };
                self.numbers().any(|n| compare(base, x, n))
            }
            OpFamily::Date => {
                let Some(x) = scalar::parse_date(v) else {
                    return false;
                };
                self.numbers().any(|n| compare(base, x, n))
            }
            OpFamily::Bool => {
                let Some(x) = scalar::parse_bool(v) else {
                    return false;
                };
                self.values
                    .iter()
                    .any(|c| matches!(c, CondValue::Bool(b) if *b == x))
            }
            OpFamily::Binary => self.values.iter().any(|c| match c {
                CondValue::Binary(bytes) => scalar::base64_equals(v, bytes),
                _ => false,
            }),
            OpFamily::Ip => {
                let Some(ip) = scalar::parse_ip(v) else {
                    return false;
                };
                self.values
                    .iter()
                    .any(|c| matches!(c, CondValue::Cidr(net) if net.contains(&ip)))
            }
            OpFamily::Null => false,
        }
    }

    fn patterns(&self) -> impl Iterator<Item = &Pattern> {
        self.values.iter().filter_map(|c| match c {
            CondValue::Pattern(p) => Some(p),
            _ => None,
        })
    }

    fn numbers(&self) -> impl Iterator<Item = f64> + '_ {
        self.values.iter().filter_map(|c| match c {
            CondValue::Number(n) | CondValue::Date(n) => Some(*n),
            _ => None,
        })
    }
}

fn iter<'a>(v: ContextValue<'a>) -> impl Iterator<Item = &'a str> + 'a {
    v.iter()
}

/// `context <op> policy` for numeric and date operators (equality for the negated ones).
fn compare(base: OpKind, x: f64, policy: f64) -> bool {
    use OpKind::*;
    match base {
        NumericLessThan | DateLessThan => x < policy,
        NumericLessThanEquals | DateLessThanEquals => x <= policy,
        NumericGreaterThan | DateGreaterThan => x > policy,
        NumericGreaterThanEquals | DateGreaterThanEquals => x >= policy,
        _ => x == policy,
    }
}

/// Pre-parses one policy value for `base`; the error reads after "value ".
fn parse_value(base: OpKind, v: &Value, variables: bool) -> Result<CondValue, String> {
    let bad = |what: &str| format!("{} {what}", describe(v));
    match base.family() {
        OpFamily::String | OpFamily::Arn => {
            let text = scalar_text(v).ok_or_else(|| bad("is not a string"))?;
            let p = Pattern::new(&text, base.wildcards(), variables)
                .map_err(|m| format!("{}: {m}", quote(&text)))?;
            Ok(CondValue::Pattern(p))
        }
        OpFamily::Numeric => {
            let n = match v {
                Value::Number(n) => n.as_f64().filter(|f| f.is_finite()),
                Value::String(s) => scalar::parse_number(s),
                _ => None,
            };
            n.map(CondValue::Number)
                .ok_or_else(|| bad("is not a number"))
        }
        OpFamily::Date => {
            let d = match v {
                Value::Number(n) => n.as_f64().filter(|f| f.is_finite()),
                Value::String(s) => scalar::parse_date(s),
                _ => None,
            };
            d.map(CondValue::Date).ok_or_else(|| {
                bad("is not a date (expected ISO 8601 such as `2026-01-01T00:00:00Z`, or epoch seconds)")
            })
        }
        OpFamily::Bool | OpFamily::Null => {
            let b = match v {
                Value::Bool(b) => Some(*b),
                Value::String(s) => scalar::parse_bool(s),
                _ => None,
            };
            b.map(CondValue::Bool)
                .ok_or_else(|| bad("is not `true` or `false`"))
        }
        OpFamily::Binary => match v {
            Value::String(s) => scalar::decode_base64(s)
                .map(CondValue::Binary)
                .ok_or_else(|| bad("is not valid base64")),
            _ => Err(bad("is not a base64 string")),
        },
        OpFamily::Ip => match v {
            Value::String(s) => scalar::parse_cidr(s)
                .map(CondValue::Cidr)
                .ok_or_else(|| bad("is not an IP address or CIDR block")),
            _ => Err(bad("is not an IP address or CIDR block")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::ast::MapContext;
    use serde_json::json;

    fn cond_v(op: &str, raw: Value, version: Option<PolicyVersion>) -> Condition {
        Condition::from_json(Operator::parse(op).unwrap(), "K", &raw, version).unwrap()
    }

    fn cond(op: &str, raw: Value) -> Condition {
        cond_v(op, raw, Some(PolicyVersion::V2012_10_17))
    }

    fn ctx(values: &[&str]) -> MapContext {
        MapContext::default().with("k", values)
    }

    fn absent() -> MapContext {
        MapContext::default()
    }

    /// (value present and matching, present and not matching, absent)
    fn check(op: &str, raw: Value, yes: &[&str], no: &[&str]) -> (bool, bool, bool) {
        let c = cond(op, raw);
        (
            c.evaluate_impl(&ctx(yes)),
            c.evaluate_impl(&ctx(no)),
            c.evaluate_impl(&absent()),
        )
    }

    #[test]
    fn operator_names() {
        for k in OpKind::all() {
            let op = Operator::parse(k.name()).unwrap();
            assert_eq!(op.base, *k);
            assert_eq!(op.to_string(), k.name());
        }
        let op = Operator::parse("ForAllValues:StringNotEqualsIfExists").unwrap();
        assert_eq!(op.base, OpKind::StringNotEquals);
        assert!(op.if_exists);
        assert_eq!(op.set, Some(SetQualifier::ForAllValues));
        assert_eq!(op.name(), "ForAllValues:StringNotEqualsIfExists");
        assert!(Operator::parse("stringequals")
            .unwrap_err()
            .contains("`stringequals`"));
        assert!(Operator::parse("StringEqual").is_err());
        assert!(Operator::parse("NullIfExists")
            .unwrap_err()
            .contains("IfExists"));
        assert!(Operator::parse("ForAnyValue:Null").is_err());
        assert!(Operator::parse("ForSomeValues:StringEquals").is_err());
        assert!(Operator::parse("IfExists").is_err());
        assert!(Operator::parse("StringEqualsIfExistsIfExists").is_err());
    }

    #[test]
    fn string_equals() {
        assert_eq!(
            check("StringEquals", json!("a"), &["a"], &["A"]),
            (true, false, false)
        );
        assert_eq!(
            check("StringNotEquals", json!("a"), &["b"], &["a"]),
            (true, false, true)
        );
        assert_eq!(
            check("StringEqualsIfExists", json!(["a", "b"]), &["b"], &["c"]),
            (true, false, true)
        );
        assert_eq!(
            check("StringNotEqualsIfExists", json!("a"), &["b"], &["a"]),
            (true, false, true)
        );
        // No wildcards in StringEquals.
        assert_eq!(
            check("StringEquals", json!("a*"), &["a*"], &["ab"]),
            (true, false, false)
        );
        // Numbers and booleans compare as text.
        assert_eq!(
            check("StringEquals", json!(true), &["true"], &["True"]),
            (true, false, false)
        );
        assert_eq!(
            check("StringEquals", json!(10), &["10"], &["10.0"]),
            (true, false, false)
        );
    }

    #[test]
    fn string_ignore_case() {
        assert_eq!(
            check(
                "StringEqualsIgnoreCase",
                json!("Hello"),
                &["hELLO"],
                &["help"]
            ),
            (true, false, false)
        );
        assert_eq!(
            check(
                "StringNotEqualsIgnoreCase",
                json!("Hello"),
                &["x"],
                &["HELLO"]
            ),
            (true, false, true)
        );
    }

    #[test]
    fn string_like() {
        assert_eq!(
            check(
                "StringLike",
                json!(["home/*", "x?z"]),
                &["home/a/b"],
                &["Home/a"]
            ),
            (true, false, false)
        );
        assert_eq!(
            check("StringLike", json!("x?z"), &["xyz"], &["xz"]),
            (true, false, false)
        );
        assert_eq!(
            check("StringNotLike", json!("home/*"), &["tmp/x"], &["home/x"]),
            (true, false, true)
        );
        assert_eq!(
            check("StringLikeIfExists", json!("a*"), &["ab"], &["b"]),
            (true, false, true)
        );
    }

    #[test]
    fn numeric() {
        assert_eq!(
            check("NumericEquals", json!(10), &["10.0"], &["11"]),
            (true, false, false)
        );
        assert_eq!(
            check("NumericNotEquals", json!("10"), &["9"], &["10"]),
            (true, false, true)
        );
        assert_eq!(
            check("NumericLessThan", json!(10), &["9"], &["10"]),
            (true, false, false)
        );
        assert_eq!(
            check("NumericLessThanEquals", json!(10), &["10"], &["11"]),
            (true, false, false)
        );
        assert_eq!(
            check("NumericGreaterThan", json!(10), &["11"], &["10"]),
            (true, false, false)
        );
        assert_eq!(
            check("NumericGreaterThanEquals", json!(1.5), &["1.5"], &["1.4"]),
            (true, false, false)
        );
        assert_eq!(
            check("NumericLessThanIfExists", json!(10), &["1"], &["100"]),
            (true, false, true)
        );
        // Unparsable context values never match; the negated operator then holds.
        let c = cond("NumericEquals", json!(1));
        assert!(!c.evaluate_impl(&ctx(&["one"])));
        let c = cond("NumericNotEquals", json!(1));
        assert!(c.evaluate_impl(&ctx(&["one"])));
    }

    #[test]
    fn dates() {
        let (t, f, a) = check(
            "DateGreaterThan",
            json!("2026-01-01T00:00:00Z"),
            &["2026-06-01T00:00:00Z"],
            &["2025-12-31"],
        );
        assert_eq!((t, f, a), (true, false, false));
        assert_eq!(
            check(
                "DateLessThan",
                json!(1767225600),
                &["2025-12-31T23:59:59Z"],
                &["1767225600"]
            ),
            (true, false, false)
        );
        assert_eq!(
            check(
                "DateLessThanEquals",
                json!("1767225600"),
                &["2026-01-01"],
                &["2026-01-02"]
            ),
            (true, false, false)
        );
        assert_eq!(
            check(
                "DateGreaterThanEquals",
                json!("2026-01-01"),
                &["2026-01-01T00:00:00Z"],
                &["2025-01-01"]
            ),
            (true, false, false)
        );
        assert_eq!(
            check(
                "DateEquals",
                json!("2026-01-01T01:00:00+01:00"),
                &["2026-01-01T00:00:00Z"],
                &["2026-01-01T00:00:01Z"]
            ),
            (true, false, false)
        );
        assert_eq!(
            check(
                "DateNotEquals",
                json!("2026-01-01"),
                &["2026-01-02"],
                &["1767225600"]
            ),
            (true, false, true)
        );
        assert_eq!(
            check(
                "DateLessThanIfExists",
                json!("2026-01-01"),
                &["2025-01-01"],
                &["2027-01-01"]
            ),
            (true, false, true)
        );
        assert!(!cond("DateLessThan", json!("2026-01-01")).evaluate_impl(&ctx(&["soon"])));
    }

    #[test]
    fn bools() {
        assert_eq!(
            check("Bool", json!(true), &["TRUE"], &["false"]),
            (true, false, false)
        );
        assert_eq!(
            check("Bool", json!("False"), &["false"], &["true"]),
            (true, false, false)
        );
        assert_eq!(
            check("BoolIfExists", json!("false"), &["false"], &["true"]),
            (true, false, true)
        );
        assert!(!cond("Bool", json!(true)).evaluate_impl(&ctx(&["yes"])));
    }

    #[test]
    fn binary() {
        assert_eq!(
            check("BinaryEquals", json!("aGVsbG8="), &["aGVsbG8="], &["aGk="]),
            (true, false, false)
        );
        assert_eq!(
            check(
                "BinaryEqualsIfExists",
                json!("aGk="),
                &["aGk="],
                &["aGVsbG8="]
            ),
            (true, false, true)
        );
    }

    #[test]
    fn ip_addresses() {
        assert_eq!(
            check(
                "IpAddress",
                json!(["203.0.113.0/24", "2001:db8::/32"]),
                &["203.0.113.9"],
                &["198.51.100.1"]
            ),
            (true, false, false)
        );
        assert_eq!(
            check(
                "IpAddress",
                json!("2001:db8::/32"),
                &["2001:db8:1::5"],
                &["2001:db9::1"]
            ),
            (true, false, false)
        );
        assert_eq!(
            check("IpAddress", json!("10.0.0.1"), &["10.0.0.1"], &["10.0.0.2"]),
            (true, false, false)
        );
        assert_eq!(
            check(
                "NotIpAddress",
                json!("10.0.0.0/8"),
                &["11.0.0.1"],
                &["10.9.9.9"]
            ),
            (true, false, true)
        );
        assert_eq!(
            check(
                "IpAddressIfExists",
                json!("10.0.0.0/8"),
                &["10.0.0.1"],
                &["11.0.0.1"]
            ),
            (true, false, true)
        );
        // An unparsable request IP matches no block.
        assert!(!cond("IpAddress", json!("0.0.0.0/0")).evaluate_impl(&ctx(&["x"])));
        assert!(cond("NotIpAddress", json!("0.0.0.0/0")).evaluate_impl(&ctx(&["x"])));
        // IPv4 block does not contain IPv6 addresses.
        assert!(!cond("IpAddress", json!("0.0.0.0/0")).evaluate_impl(&ctx(&["::1"])));
    }

    #[test]
    fn arns() {
        let arn = "arn:aws:cloudfront::111122223333:distribution/EDFDVBD6EXAMPLE";
        assert_eq!(
            check(
                "ArnEquals",
                json!(arn),
                &[arn],
                &["arn:aws:cloudfront::111122223333:distribution/OTHER"]
            ),
            (true, false, false)
        );
        // ArnEquals honours wildcards like ArnLike (see module docs).
        assert_eq!(
            check(
                "ArnEquals",
                json!("arn:aws:iam::*:role/*"),
                &["arn:aws:iam::1:role/r"],
                &["arn:aws:iam::1:user/u"]
            ),
            (true, false, false)
        );
        assert_eq!(
            check(
                "ArnLike",
                json!("arn:aws:iam::*:role/*"),
                &["arn:aws:iam::1:role/a/b"],
                &["arn:aws:iam::1:Role/x"]
            ),
            (true, false, false)
        );
        assert_eq!(
            check(
                "ArnNotLike",
                json!("arn:aws:iam::*:role/*"),
                &["arn:aws:iam::1:user/u"],
                &["arn:aws:iam::1:role/x"]
            ),
            (true, false, true)
        );
        assert_eq!(
            check("ArnNotEquals", json!(arn), &["arn:aws:s3:::b"], &[arn]),
            (true, false, true)
        );
        assert_eq!(
            check(
                "ArnLikeIfExists",
                json!("arn:aws:s3:::b*"),
                &["arn:aws:s3:::bb"],
                &["arn:aws:s3:::c"]
            ),
            (true, false, true)
        );
        // Wildcards do not cross `:` outside the resource part.
        assert!(!cond("ArnLike", json!("arn:aws:*:role/x"))
            .evaluate_impl(&ctx(&["arn:aws:iam::1:role/x"])));
    }

    #[test]
    fn null_operator() {
        let t = cond("Null", json!("true"));
        assert!(t.evaluate_impl(&absent()));
        assert!(!t.evaluate_impl(&ctx(&["x"])));
        assert!(t.evaluate_impl(&ctx(&[])));
        let f = cond("Null", json!(false));
        assert!(!f.evaluate_impl(&absent()));
        assert!(f.evaluate_impl(&ctx(&["x"])));
    }

    #[test]
    fn set_qualifiers() {
        let any = cond("ForAnyValue:StringEquals", json!(["a", "b"]));
        assert!(any.evaluate_impl(&ctx(&["x", "b"])));
        assert!(!any.evaluate_impl(&ctx(&["x", "y"])));
        assert!(!any.evaluate_impl(&ctx(&[])));
        assert!(!any.evaluate_impl(&absent()));

        let all = cond("ForAllValues:StringEquals", json!(["a", "b"]));
        assert!(all.evaluate_impl(&ctx(&["a", "b", "a"])));
        assert!(!all.evaluate_impl(&ctx(&["a", "c"])));
        assert!(all.evaluate_impl(&ctx(&[])));
        assert!(all.evaluate_impl(&absent()));

        // Negated under a qualifier: per context value, "matches none of the policy values".
        let any_not = cond("ForAnyValue:StringNotEquals", json!(["a", "b"]));
        assert!(any_not.evaluate_impl(&ctx(&["a", "c"])));
        assert!(!any_not.evaluate_impl(&ctx(&["a", "b"])));
        assert!(!any_not.evaluate_impl(&absent()));
        let all_not = cond("ForAllValues:StringNotLike", json!(["tmp/*"]));
        assert!(all_not.evaluate_impl(&ctx(&["a", "b"])));
        assert!(!all_not.evaluate_impl(&ctx(&["a", "tmp/x"])));
        assert!(all_not.evaluate_impl(&absent()));

        // The qualifier decides for absent keys, even with IfExists.
        assert!(!cond("ForAnyValue:StringEqualsIfExists", json!("a")).evaluate_impl(&absent()));
        assert!(cond("ForAllValues:StringEqualsIfExists", json!("a")).evaluate_impl(&absent()));

        // Multi-valued without a qualifier: any value matching suffices; negation is total.
        assert!(cond("StringEquals", json!("a")).evaluate_impl(&ctx(&["x", "a"])));
        assert!(!cond("StringNotEquals", json!("a")).evaluate_impl(&ctx(&["x", "a"])));
        assert!(cond("StringNotEquals", json!("a")).evaluate_impl(&ctx(&["x", "y"])));
        // Empty set without a qualifier behaves as absent.
        assert!(!cond("StringEquals", json!("a")).evaluate_impl(&ctx(&[])));
        assert!(cond("StringNotEquals", json!("a")).evaluate_impl(&ctx(&[])));
        assert!(cond("StringEqualsIfExists", json!("a")).evaluate_impl(&ctx(&[])));

        let any_num = cond("ForAnyValue:NumericLessThan", json!(5));
        assert!(any_num.evaluate_impl(&ctx(&["9", "3"])));
        let all_ip = cond("ForAllValues:IpAddress", json!("10.0.0.0/8"));
        assert!(all_ip.evaluate_impl(&ctx(&["10.1.1.1", "10.2.2.2"])));
        assert!(!all_ip.evaluate_impl(&ctx(&["10.1.1.1", "11.2.2.2"])));
    }

    #[test]
    fn variables_in_values() {
        let c = cond("StringEquals", json!("${aws:username}"));
        let ctx = MapContext::default()
            .with("k", &["alice"])
            .with("aws:username", &["alice"]);
        assert!(c.evaluate_impl(&ctx));
        let other = MapContext::default().with("k", &["alice"]);
        assert!(!c.evaluate_impl(&other));
        // Unresolvable variable with a negated operator: the value matches nothing.
        assert!(cond("StringNotEquals", json!("${aws:username}")).evaluate_impl(&other));
        let d = cond("StringLike", json!("${aws:username, 'al*'}x"));
        assert!(d.evaluate_impl(&MapContext::default().with("k", &["al*x"])));
        assert!(!d.evaluate_impl(&MapContext::default().with("k", &["alix"])));
        // 2008: literal.
        let lit = cond_v(
            "StringEquals",
            json!("${aws:username}"),
            Some(PolicyVersion::V2008_10_17),
        );
        assert!(lit.evaluate_impl(&MapContext::default().with("k", &["${aws:username}"])));
        let lit = cond_v("StringEquals", json!("${aws:username}"), None);
        assert!(lit.evaluate_impl(&MapContext::default().with("k", &["${aws:username}"])));
        // Arn values take variables too.
        let a = cond(
            "ArnEquals",
            json!("arn:aws:iam::${aws:PrincipalAccount}:role/x"),
        );
        let ctx = MapContext::default()
            .with("k", &["arn:aws:iam::123:role/x"])
            .with("aws:principalaccount", &["123"]);
        assert!(a.evaluate_impl(&ctx));
    }

    #[test]
    fn condition_keys_are_case_insensitive() {
        let c = Condition::from_json(
            Operator::parse("StringEquals").unwrap(),
            "AWS:SourceVpce",
            &json!("vpce-1"),
            None,
        )
        .unwrap();
        assert_eq!(c.key_lower, "aws:sourcevpce");
        assert!(c.evaluate_impl(&MapContext::default().with("aws:sourcevpce", &["vpce-1"])));
        assert!(!c.evaluate_impl(&MapContext::default().with("aws:sourcevpce", &["VPCE-1"])));
    }

    #[test]
    fn known_keys_are_recognised_once() {
        for k in KnownKey::ALL {
            assert_eq!(KnownKey::from_lower(k.name()), Some(*k));
            assert_eq!(k.name(), k.name().to_ascii_lowercase());
        }
        let key = |name: &str| {
            Condition::from_json(
                Operator::parse("StringEquals").unwrap(),
                name,
                &json!("x"),
                None,
            )
            .unwrap()
            .key_known
        };
        assert_eq!(key("AWS:SourceVpce"), Some(KnownKey::SourceVpce));
        assert_eq!(
            key("kms:EncryptionContext:aws:s3:arn"),
            Some(KnownKey::KmsEncryptionContextS3Arn)
        );
        // Keys the request states, or that are looked up by prefix, are not interned.
        assert_eq!(key("aws:SourceIp"), None);
        assert_eq!(key("aws:PrincipalTag/team"), None);
        assert_eq!(key("s3:x-amz-acl"), None);
    }

    #[test]
    fn value_errors() {
        let bad = |op: &str, v: Value| {
            Condition::from_json(Operator::parse(op).unwrap(), "k", &v, None).unwrap_err()
        };
        assert!(bad("NumericEquals", json!("ten")).contains("is not a number"));
        assert!(bad("NumericEquals", json!(true)).contains("is not a number"));
        assert!(bad("DateEquals", json!("someday")).contains("is not a date"));
        assert!(bad("Bool", json!("yes")).contains("`yes`"));
        assert!(bad("Null", json!(1)).contains("is not `true` or `false`"));
        assert!(bad("BinaryEquals", json!("**")).contains("base64"));
        assert!(bad("IpAddress", json!("10.0.0.0/40")).contains("IP address"));
        assert!(bad("StringEquals", json!(null)).contains("`null`"));
        assert!(bad("StringEquals", json!({"a": 1})).contains("an object"));
        assert!(bad("StringEquals", json!([["a"]])).contains("an array"));
        let e = Condition::from_json(
            Operator::parse("StringLike").unwrap(),
            "k",
            &json!("${oops"),
            Some(PolicyVersion::V2012_10_17),
        )
        .unwrap_err();
        assert!(e.contains("unterminated policy variable"), "{e}");
    }

    #[test]
    fn shapes_are_recorded() {
        let c = cond("StringEquals", json!("a"));
        assert!(c.values_were_scalar);
        assert_eq!(c.raw_values, vec![json!("a")]);
        let c = cond("StringEquals", json!(["a"]));
        assert!(!c.values_were_scalar);
        let c = cond("StringEquals", json!([]));
        assert!(c.values.is_empty());
        assert!(!c.evaluate_impl(&ctx(&["a"])));
    }
}

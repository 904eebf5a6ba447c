//! Exempting one caller from one Deny statement for exactly the request's action on the request's
//! resource (`--allow-guardrail-change`, `--allow-deny-change`), and nothing more.
//!
//! A Deny statement `S` (Principal `P`, Action `A`, Resource `R`, Condition `C`) cannot say "unless
//! the caller is X *and* the resource is T": its condition keys are ANDed and IAM has no key for
//! an S3 resource ARN. So `S` is split, the caller being X (`aws:PrincipalArn`), the request `t` on
//! `T`:
//!
//! * `S` itself gets `ArnNotEquals aws:PrincipalArn X`: unchanged for everyone else;
//! * X keeps the deny on the rest of `R` (`R ∖ {T}`) for all of `A`, and on `T` for the rest of
//!   `A` (`A ∖ {t}`), as at most two new statements, each `S` plus `ArnEquals aws:PrincipalArn X`:
//!   - `R ∖ {T}`: the patterns of `R` that cannot match `T` when every pattern that matches `T` is
//!     `T` itself; else `NotResource [T, …]` plus what the statement's scope holds outside `R`
//!     (a bucket policy only governs its bucket and its objects: when `R` covers every object,
//!     the bucket ARN unless `R` covers it too; an identity policy governs everything: only a
//!     `R` of `*` — or `arn:P:s3:::*` with S3 actions only — has nothing outside); `NotResource N`
//!     becomes `NotResource N + [T]`;
//!   - `A ∖ {t}` on `Resource [T]`: the patterns of `A` without `t` when every pattern that
//!     matches `t` is `t` itself; `NotAction [t]` when `A` is `*` or `s3:*` (only S3 actions
//!     apply to an S3 ARN); `NotAction N` becomes `NotAction N + [t]`.
//!
//! In X's own inline policy (only X's requests read it) the first part is not needed: `S` is
//! replaced in place by X's remaining deny. A statement covering nothing but `t` on `T` is simply
//! exempted. When `R ∖ {T}` or `A ∖ {t}` cannot be written (a wildcard such as `bucket/private/*`
//! in a bucket policy, or `bucket/*` in an identity policy, or `s3:Get*`), the caller is exempted
//! from the whole statement, as before, and the proof reports whatever new access that gives.

use serde_json::{json, Map, Value};

use crate::plan::SID_PREFIX;
use crate::policy::wildcard_match;

/// Which resources a statement can ever be evaluated against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    /// A bucket policy: the bucket and its objects.
    Bucket { partition: &'a str, bucket: &'a str },
    /// An identity policy: every resource.
    Everything { partition: &'a str },
}

/// The edit that exempts the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct Exemption {
    /// The statement that replaces the Deny in place.
    pub replace: Value,
    /// Statements to append after the policy's last statement (with their `S3Medic…` Sids).
    pub append: Vec<Value>,
    /// Whether the caller is exempted for the request's action on its resource only (false: from
    /// the whole statement, because its remainder cannot be written).
    pub narrowed: bool,
    /// The statement already excludes the caller (an earlier finding of the same request split
    /// it): nothing to change here; the caller's share is split when it is the one that denies.
    pub already: bool,
}

/// What one request needs exempting: the caller's principal ARN (`aws:PrincipalArn`), the action
/// and the resource ARN.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub caller_arn: &'a str,
    pub action: &'a str,
    pub resource: &'a str,
}

/// The exemption of `req.caller_arn` from the Deny statement `stmt` (at `index` in its policy)
/// for `req.action` on `req.resource`. `own`: the policy is the caller's own inline policy.
/// `taken`: the Sids the policy has.
pub fn exempt(
    stmt: &Map<String, Value>,
    index: usize,
    req: Request<'_>,
    scope: Scope<'_>,
    own: bool,
    taken: &[String],
) -> Exemption {
    if principal_arn_values(stmt, &["ArnNotEquals", "ArnNotLike"])
        .iter()
        .any(|v| v == req.caller_arn)
    {
        // Already exempted (an earlier finding of the same request): nothing to do here.
        return Exemption {
            replace: Value::Object(stmt.clone()),
            append: Vec::new(),
            narrowed: true,
            already: true,
        };
    }
    // A statement s3medic pinned to the caller (its share of a split deny) is the caller's own.
    let own = own || principal_arn_values(stmt, &["ArnEquals", "ArnLike"]) == [req.caller_arn];
    let parts = match (
        resource_part(stmt, req.resource, scope),
        action_part(stmt, req.action, req.resource),
    ) {
        (Some(r), Some(a)) => r.into_iter().chain(a).collect::<Vec<_>>(),
        _ => return whole(stmt, req.caller_arn, false),
    };
    if parts.is_empty() {
        // The statement denies nothing but this request: exempting the caller is exact.
        return whole(stmt, req.caller_arn, true);
    }
    let base = sid_base(stmt, index);
    let mut taken: Vec<String> = taken.to_vec();
    // The part on the target resource keeps the other actions; the other keeps the other
    // resources.
    let mut named = |part: Map<String, Value>| {
        let suffix = if is_on_target(&part, req.resource) {
            "CallerOtherActions"
        } else {
            "CallerElsewhere"
        };
        let sid = unique_sid(&format!("{SID_PREFIX}{base}{suffix}"), &taken);
        taken.push(sid.clone());
        ordered(Some(json!(sid)), part)
    };
    if own {
        // Only the caller's requests read this policy: its remaining deny replaces the statement.
        let mut parts = parts.into_iter();
        let Some(first) = parts.next() else {
            return whole(stmt, req.caller_arn, true);
        };
        let replace = ordered(stmt.get("Sid").cloned(), first);
        let append = parts.map(&mut named).collect();
        return Exemption {
            replace,
            append,
            narrowed: true,
            already: false,
        };
    }
    let mut pinned = Vec::with_capacity(parts.len());
    for p in parts {
        match pin_to_caller(p, req.caller_arn) {
            Some(p) => pinned.push(p),
            None => return whole(stmt, req.caller_arn, false),
        }
    }
    let append = pinned.into_iter().map(named).collect();
    Exemption {
        replace: whole(stmt, req.caller_arn, true).replace,
        append,
        narrowed: true,
        already: false,
    }
}

/// The values of `aws:PrincipalArn` under the condition operators `ops`.
fn principal_arn_values(stmt: &Map<String, Value>, ops: &[&str]) -> Vec<String> {
    let Some(cond) = stmt.get("Condition").and_then(Value::as_object) else {
        return Vec::new();
    };
    cond.iter()
        .filter(|(op, _)| ops.iter().any(|o| o.eq_ignore_ascii_case(op)))
        .filter_map(|(_, block)| block.as_object())
        .flat_map(|block| {
            block
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case("aws:PrincipalArn"))
                .flat_map(|(_, v)| strings(Some(v)).unwrap_or_default())
        })
        .collect()
}

/// Whether a part is the one on the target resource only (`Resource [T]`).
fn is_on_target(part: &Map<String, Value>, resource: &str) -> bool {
    part.get("Resource") == Some(&json!([resource]))
}

/// The statement with the caller excluded (`ArnNotEquals aws:PrincipalArn`).
fn whole(stmt: &Map<String, Value>, caller_arn: &str, narrowed: bool) -> Exemption {
    let mut s = stmt.clone();
    let cond = s.entry("Condition").or_insert_with(|| json!({}));
    let block = cond
        .as_object_mut()
        .map(|c| c.entry("ArnNotEquals").or_insert_with(|| json!({})));
    if let Some(Value::Object(block)) = block {
        match block.get_mut("aws:PrincipalArn") {
            Some(Value::Array(list)) => list.push(json!(caller_arn)),
            Some(Value::String(first)) => {
                let first = first.clone();
                block.insert("aws:PrincipalArn".into(), json!([first, caller_arn]));
            }
            _ => {
                block.insert("aws:PrincipalArn".into(), json!(caller_arn));
            }
        }
    }
    Exemption {
        replace: Value::Object(s),
        append: Vec::new(),
        narrowed,
        already: false,
    }
}

/// A string or a list of strings; `None` for anything else.
fn strings(v: Option<&Value>) -> Option<Vec<String>> {
    match v? {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Array(a) => a.iter().map(|x| x.as_str().map(String::from)).collect(),
        _ => None,
    }
}

fn is_literal(p: &str) -> bool {
    !p.contains(['*', '?', '$'])
}

/// A list element value: one string as itself, several as an array.
fn list_value(items: Vec<String>) -> Value {
    match items.as_slice() {
        [one] => json!(one),
        _ => json!(items),
    }
}

/// `s` with `key` set to `value` and `remove` removed.
fn with(s: &Map<String, Value>, remove: &str, key: &str, value: Value) -> Map<String, Value> {
    let mut out = s.clone();
    out.remove(remove);
    out.remove("Sid");
    out.insert(key.to_string(), value);
    out
}

/// The caller's deny on the statement's resources other than `resource` (all its actions);
/// `Some(None)`: there are none; `None`: they cannot be written.
fn resource_part(
    stmt: &Map<String, Value>,
    resource: &str,
    scope: Scope<'_>,
) -> Option<Option<Map<String, Value>>> {
    if stmt.contains_key("NotResource") {
        let mut n = strings(stmt.get("NotResource"))?;
        if !n.iter().any(|p| p == resource) {
            n.push(resource.to_string());
        }
        return Some(Some(with(stmt, "Resource", "NotResource", json!(n))));
    }
    let r = strings(stmt.get("Resource"))?;
    let may_match = |p: &String| p.contains('$') || wildcard_match(p, resource);
    if r.iter().filter(|p| may_match(p)).all(|p| is_literal(p)) {
        let rest: Vec<String> = r.into_iter().filter(|p| !may_match(p)).collect();
        if rest.is_empty() {
            return Some(None);
        }
        return Some(Some(with(
            stmt,
            "NotResource",
            "Resource",
            list_value(rest),
        )));
    }
    let mut not = vec![resource.to_string()];
    not.extend(outside(&r, stmt, scope)?);
    Some(Some(with(stmt, "Resource", "NotResource", json!(not))))
}

/// What the scope holds outside the resource patterns `r`, as patterns; `None` when that cannot
/// be written.
fn outside(r: &[String], stmt: &Map<String, Value>, scope: Scope<'_>) -> Option<Vec<String>> {
    if r.iter().any(|p| p.contains('$')) {
        return None;
    }
    match scope {
        Scope::Everything { partition } => {
            let s3_only = strings(stmt.get("Action"))
                .is_some_and(|a| a.iter().all(|a| a.to_ascii_lowercase().starts_with("s3:")));
            let all_s3 = format!("arn:{partition}:s3:::");
            let covers = r
                .iter()
                .any(|p| p == "*" || (s3_only && covers_prefix(p, &all_s3)));
            covers.then(Vec::new)
        }
        Scope::Bucket { partition, bucket } => {
            let bucket_arn = format!("arn:{partition}:s3:::{bucket}");
            let objects = format!("{bucket_arn}/");
            if !r.iter().any(|p| covers_prefix(p, &objects)) {
                return None;
            }
            if r.iter().any(|p| wildcard_match(p, &bucket_arn)) {
                Some(Vec::new())
            } else {
                Some(vec![bucket_arn])
            }
        }
    }
}

/// Whether pattern `p` matches every string that starts with `prefix`: it ends with `*` and what
/// comes before that `*` matches some prefix of `prefix`.
fn covers_prefix(p: &str, prefix: &str) -> bool {
    let Some(head) = p.strip_suffix('*') else {
        return false;
    };
    prefix
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(prefix.len()))
        .any(|i| prefix.get(..i).is_some_and(|pre| wildcard_match(head, pre)))
}

/// The caller's deny on `resource` for the statement's actions other than `action`; `Some(None)`:
/// there are none; `None`: they cannot be written.
fn action_part(
    stmt: &Map<String, Value>,
    action: &str,
    resource: &str,
) -> Option<Option<Map<String, Value>>> {
    let on_target = |s: Map<String, Value>| {
        let mut s = s;
        s.remove("NotResource");
        s.insert("Resource".into(), json!([resource]));
        s
    };
    let lower = action.to_ascii_lowercase();
    if stmt.contains_key("NotAction") {
        let mut n = strings(stmt.get("NotAction"))?;
        if !n.iter().any(|a| a.eq_ignore_ascii_case(action)) {
            n.push(action.to_string());
        }
        return Some(Some(on_target(with(stmt, "Action", "NotAction", json!(n)))));
    }
    let a = strings(stmt.get("Action"))?;
    let matches = |p: &String| wildcard_match(&p.to_ascii_lowercase(), &lower);
    if a.iter().filter(|p| matches(p)).all(|p| is_literal(p)) {
        let rest: Vec<String> = a.into_iter().filter(|p| !matches(p)).collect();
        if rest.is_empty() {
            return Some(None);
        }
        return Some(Some(on_target(with(
            stmt,
            "NotAction",
            "Action",
            list_value(rest),
        ))));
    }
    let s3_resource = resource.split(':').nth(2) == Some("s3");
    let every_action = a
        .iter()
        .any(|p| p == "*" || (s3_resource && p.eq_ignore_ascii_case("s3:*")));
    if !every_action {
        return None;
    }
    Some(Some(on_target(with(
        stmt,
        "Action",
        "NotAction",
        json!([action]),
    ))))
}

/// `part` applying only to the caller (`ArnEquals aws:PrincipalArn`, or `ArnLike` when the
/// statement already has an `ArnEquals` on that key); `None` when both are taken.
fn pin_to_caller(mut part: Map<String, Value>, caller_arn: &str) -> Option<Map<String, Value>> {
    let cond = part
        .entry("Condition")
        .or_insert_with(|| json!({}))
        .as_object_mut()?;
    let has_key = |block: Option<&Value>| {
        block
            .and_then(Value::as_object)
            .is_some_and(|b| b.keys().any(|k| k.eq_ignore_ascii_case("aws:PrincipalArn")))
    };
    let op = ["ArnEquals", "ArnLike"]
        .into_iter()
        .find(|op| !has_key(cond.get(*op)))?;
    let block = cond
        .entry(op)
        .or_insert_with(|| json!({}))
        .as_object_mut()?;
    block.insert("aws:PrincipalArn".into(), json!(caller_arn));
    Some(part)
}

/// The statement's Sid reduced to letters and digits (IAM Sids), or `Deny{index}`; for a
/// statement s3medic split off before, the Sid of the statement it came from.
fn sid_base(stmt: &Map<String, Value>, index: usize) -> String {
    let mut sid: String = stmt
        .get("Sid")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    if let Some(rest) = sid.strip_prefix(SID_PREFIX) {
        let rest = rest.trim_end_matches(|c: char| c.is_ascii_digit());
        if let Some(base) = ["CallerElsewhere", "CallerOtherActions"]
            .iter()
            .find_map(|s| rest.strip_suffix(s))
        {
            sid = base.to_string();
        }
    }
    if sid.is_empty() {
        format!("Deny{index}")
    } else {
        sid
    }
}

fn unique_sid(base: &str, taken: &[String]) -> String {
    if !taken.iter().any(|t| t == base) {
        return base.to_string();
    }
    (2..)
        .map(|n| format!("{base}{n}"))
        .find(|s| !taken.contains(s))
        .unwrap_or_else(|| base.to_string())
}

/// The statement with its keys in the usual order (Sid first).
fn ordered(sid: Option<Value>, mut s: Map<String, Value>) -> Value {
    let mut out = Map::new();
    if let Some(sid) = sid {
        out.insert("Sid".into(), sid);
    }
    for k in [
        "Effect",
        "Principal",
        "NotPrincipal",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
    ] {
        if let Some(v) = s.remove(k) {
            out.insert(k.into(), v);
        }
    }
    out.extend(s);
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const X: &str = "arn:aws:iam::111122223333:user/alice";
    const T: &str = "arn:aws:s3:::b/reports/q1.csv";

    fn stmt(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    fn req() -> Request<'static> {
        Request {
            caller_arn: X,
            action: "s3:GetObject",
            resource: T,
        }
    }

    const BUCKET: Scope<'static> = Scope::Bucket {
        partition: "aws",
        bucket: "b",
    };
    const ALL: Scope<'static> = Scope::Everything { partition: "aws" };

    #[test]
    fn tls_guardrail_on_the_whole_bucket_is_split_in_three() {
        let s = stmt(
            json!({"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*",
            "Action": "s3:*", "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}),
        );
        let e = exempt(
            &s,
            0,
            req(),
            BUCKET,
            false,
            &["DenyInsecureTransport".into()],
        );
        assert!(e.narrowed);
        assert_eq!(
            e.replace["Condition"]["ArnNotEquals"]["aws:PrincipalArn"],
            json!(X)
        );
        assert_eq!(e.append.len(), 2, "{:#?}", e.append);
        let elsewhere = &e.append[0];
        assert_eq!(
            elsewhere["Sid"],
            "S3MedicDenyInsecureTransportCallerElsewhere"
        );
        assert_eq!(elsewhere["Action"], "s3:*");
        assert_eq!(elsewhere["NotResource"], json!([T]));
        assert!(elsewhere.get("Resource").is_none());
        assert_eq!(
            elsewhere["Condition"]["ArnEquals"]["aws:PrincipalArn"],
            json!(X)
        );
        assert_eq!(
            elsewhere["Condition"]["Bool"]["aws:SecureTransport"],
            "false"
        );
        let other_actions = &e.append[1];
        assert_eq!(
            other_actions["Sid"],
            "S3MedicDenyInsecureTransportCallerOtherActions"
        );
        assert_eq!(other_actions["NotAction"], json!(["s3:GetObject"]));
        assert_eq!(other_actions["Resource"], json!([T]));
        assert!(other_actions.get("Action").is_none());
    }

    #[test]
    fn objects_only_deny_keeps_the_bucket_arn_outside() {
        let s = stmt(
            json!({"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::b/*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}),
        );
        let e = exempt(&s, 3, req(), BUCKET, false, &[]);
        assert!(e.narrowed);
        assert_eq!(
            e.append.len(),
            1,
            "GetObject is the only action: {:#?}",
            e.append
        );
        assert_eq!(e.append[0]["Sid"], "S3MedicDeny3CallerElsewhere");
        assert_eq!(e.append[0]["NotResource"], json!([T, "arn:aws:s3:::b"]));
    }

    #[test]
    fn literal_resources_and_actions_are_subtracted() {
        let s = stmt(json!({"Effect": "Deny", "Principal": "*",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": [T, "arn:aws:s3:::b/other.csv"]}));
        let e = exempt(&s, 0, req(), BUCKET, false, &[]);
        assert!(e.narrowed);
        assert_eq!(e.append[0]["Resource"], "arn:aws:s3:::b/other.csv");
        assert_eq!(
            e.append[0]["Action"],
            json!(["s3:GetObject", "s3:PutObject"])
        );
        assert_eq!(e.append[1]["Action"], "s3:PutObject");
        assert_eq!(e.append[1]["Resource"], json!([T]));
        // Exactly the request: plain exemption.
        let only = stmt(
            json!({"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": T}),
        );
        let e = exempt(&only, 0, req(), BUCKET, false, &[]);
        assert!(e.narrowed && e.append.is_empty());
        assert!(e.replace["Condition"]["ArnNotEquals"].is_object());
    }

    #[test]
    fn unwritable_remainders_fall_back_to_the_whole_statement() {
        // A prefix deny in a bucket policy: bucket/other/* is outside R but inside NotResource [T].
        let prefix = stmt(
            json!({"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::b/reports/*"}),
        );
        assert!(!exempt(&prefix, 0, req(), BUCKET, false, &[]).narrowed);
        // bucket/* in an identity policy.
        let identity = stmt(
            json!({"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}),
        );
        assert!(!exempt(&identity, 0, req(), ALL, false, &[]).narrowed);
        // A wildcard action other than s3:* / *.
        let gets = stmt(
            json!({"Effect": "Deny", "Principal": "*", "Action": "s3:Get*",
            "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]}),
        );
        assert!(!exempt(&gets, 0, req(), BUCKET, false, &[]).narrowed);
    }

    #[test]
    fn identity_deny_on_everything_in_the_callers_own_policy_is_replaced_in_place() {
        let s = stmt(
            json!({"Sid": "DenyHttp", "Effect": "Deny", "Action": "*", "Resource": "*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}),
        );
        let e = exempt(&s, 0, req(), ALL, true, &["DenyHttp".into()]);
        assert!(e.narrowed);
        assert_eq!(e.replace["Sid"], "DenyHttp");
        assert_eq!(e.replace["NotResource"], json!([T]));
        assert!(
            e.replace["Condition"].get("ArnEquals").is_none(),
            "no caller condition needed"
        );
        assert_eq!(e.append.len(), 1);
        assert_eq!(e.append[0]["NotAction"], json!(["s3:GetObject"]));
        assert_eq!(e.append[0]["Sid"], "S3MedicDenyHttpCallerOtherActions");
    }

    #[test]
    fn caller_pinning_uses_arn_like_when_arn_equals_is_taken() {
        let s = stmt(
            json!({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
            "Condition": {"ArnEquals": {"aws:PrincipalArn": [X, "arn:aws:iam::111122223333:user/bob"]}}}),
        );
        let e = exempt(&s, 0, req(), BUCKET, false, &[]);
        assert!(e.narrowed);
        assert_eq!(
            e.append[0]["Condition"]["ArnLike"]["aws:PrincipalArn"],
            json!(X)
        );
    }

    #[test]
    fn a_second_authorization_splits_the_callers_share_in_place() {
        let s = stmt(
            json!({"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*",
            "Action": "s3:*", "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}),
        );
        let first = exempt(&s, 0, req(), BUCKET, false, &[]);
        // The statement that now excludes the caller is left alone.
        let others = first.replace.as_object().cloned().unwrap_or_default();
        let second = Request {
            resource: "arn:aws:s3:::b/reports/q2.csv",
            ..req()
        };
        let again = exempt(&others, 0, second, BUCKET, false, &[]);
        assert_eq!(again.replace, first.replace);
        assert!(again.append.is_empty());
        // The caller's share is split in place, still pinned to the caller.
        let share = first.append[0].as_object().cloned().unwrap_or_default();
        let e = exempt(&share, 1, second, BUCKET, false, &[]);
        assert_eq!(e.replace["Sid"], share["Sid"]);
        assert_eq!(
            e.replace["NotResource"],
            json!([T, "arn:aws:s3:::b/reports/q2.csv"])
        );
        assert_eq!(
            e.replace["Condition"]["ArnEquals"]["aws:PrincipalArn"],
            json!(X)
        );
        assert!(e.replace["Condition"].get("ArnNotEquals").is_none());
        assert_eq!(e.append.len(), 1);
        assert_eq!(
            e.append[0]["Resource"],
            json!(["arn:aws:s3:::b/reports/q2.csv"])
        );
    }

    #[test]
    fn prefix_coverage() {
        assert!(covers_prefix("arn:aws:s3:::b/*", "arn:aws:s3:::b/"));
        assert!(covers_prefix("arn:aws:s3:::*", "arn:aws:s3:::b/"));
        assert!(covers_prefix("*", "arn:aws:s3:::b/"));
        assert!(covers_prefix("arn:aws:s3:::b*", "arn:aws:s3:::b/"));
        assert!(!covers_prefix("arn:aws:s3:::b/r*", "arn:aws:s3:::b/"));
        assert!(!covers_prefix("arn:aws:s3:::b/x", "arn:aws:s3:::b/"));
    }
}

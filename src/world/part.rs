//! `Part<T>`: an optional piece of the World that is absent, unknown (could not be read) or known,
//! plus the small JSON readers every World module shares (typed field access with precise error
//! paths, and policy documents in their three accepted encodings).

use serde_json::{Map, Value};

use super::error::WorldError;
use crate::policy::{parse_policy_value, Policy};

/// One optional part of the World (see docs/formats.md, "Parts").
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Part<T> {
    /// The thing does not exist (JSON: key missing or `null`).
    #[default]
    Absent,
    /// The thing could not be read; the string says why (JSON: `{"unknown": "why"}`).
    Unknown(String),
    /// The thing, as read.
    Known(T),
}

impl<T> Part<T> {
    /// The value when known.
    pub fn known(&self) -> Option<&T> {
        match self {
            Part::Known(t) => Some(t),
            _ => None,
        }
    }

    /// Mutable access to the value when known.
    pub fn known_mut(&mut self) -> Option<&mut T> {
        match self {
            Part::Known(t) => Some(t),
            _ => None,
        }
    }

    /// The value when known, by value.
    pub fn into_known(self) -> Option<T> {
        match self {
            Part::Known(t) => Some(t),
            _ => None,
        }
    }

    pub fn is_known(&self) -> bool {
        matches!(self, Part::Known(_))
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Part::Unknown(_))
    }

    pub fn is_absent(&self) -> bool {
        matches!(self, Part::Absent)
    }

    /// Why the part could not be read, when unknown.
    pub fn unknown_reason(&self) -> Option<&str> {
        match self {
            Part::Unknown(why) => Some(why),
            _ => None,
        }
    }

    pub fn as_ref(&self) -> Part<&T> {
        match self {
            Part::Absent => Part::Absent,
            Part::Unknown(why) => Part::Unknown(why.clone()),
            Part::Known(t) => Part::Known(t),
        }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Part<U> {
        match self {
            Part::Absent => Part::Absent,
            Part::Unknown(why) => Part::Unknown(why),
            Part::Known(t) => Part::Known(f(t)),
        }
    }

    /// Like `map`, for a fallible conversion.
    pub fn try_map<U, E>(self, f: impl FnOnce(T) -> Result<U, E>) -> Result<Part<U>, E> {
        Ok(match self {
            Part::Absent => Part::Absent,
            Part::Unknown(why) => Part::Unknown(why),
            Part::Known(t) => Part::Known(f(t)?),
        })
    }

    /// Prints the part in the World format: `null`, `{"unknown": why}`, or `f(value)`.
    pub fn to_value_with(&self, f: impl FnOnce(&T) -> Value) -> Value {
        match self {
            Part::Absent => Value::Null,
            Part::Unknown(why) => unknown_value(why),
            Part::Known(t) => f(t),
        }
    }
}

/// `{"unknown": why}`.
pub(crate) fn unknown_value(why: &str) -> Value {
    let mut m = Map::new();
    m.insert("unknown".into(), Value::String(why.to_string()));
    Value::Object(m)
}

/// Reads a part: missing/`null` → absent, `{"unknown": "why"}` → unknown, else `parse(value)`.
pub(crate) fn parse_part<T>(
    value: Option<&Value>,
    path: &str,
    parse: impl FnOnce(&Value) -> Result<T, WorldError>,
) -> Result<Part<T>, WorldError> {
    match value {
        None | Some(Value::Null) => Ok(Part::Absent),
        Some(Value::Object(m)) if m.contains_key("unknown") => match m.get("unknown") {
            Some(Value::String(why)) => Ok(Part::Unknown(why.clone())),
            _ => Err(WorldError::invalid(
                path,
                "`unknown` must be a string saying why the part could not be read",
            )),
        },
        Some(v) => parse(v).map(Part::Known),
    }
}

/// A short name of a JSON value's type, for messages.
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(crate) type Obj = Map<String, Value>;

/// `path` must be an object.
pub(crate) fn as_object<'a>(v: &'a Value, path: &str) -> Result<&'a Obj, WorldError> {
    v.as_object()
        .ok_or_else(|| WorldError::invalid(path, format!("expected an object, found {}", kind(v))))
}

/// Optional string field (missing or `null` → `None`).
pub(crate) fn opt_str(m: &Obj, key: &str, path: &str) -> Result<Option<String>, WorldError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(v) => Err(WorldError::invalid(
            path,
            format!("`{key}` must be a string, found {}", kind(v)),
        )),
    }
}

/// Optional string field; an empty string counts as missing.
pub(crate) fn opt_nonempty_str(
    m: &Obj,
    key: &str,
    path: &str,
) -> Result<Option<String>, WorldError> {
    Ok(opt_str(m, key, path)?.filter(|s| !s.is_empty()))
}

/// Required string field.
pub(crate) fn req_str(m: &Obj, key: &str, path: &str) -> Result<String, WorldError> {
    opt_str(m, key, path)?.ok_or_else(|| WorldError::invalid(path, format!("missing `{key}`")))
}

/// Optional boolean field; also accepts the strings `"true"` / `"false"`.
pub(crate) fn opt_bool(m: &Obj, key: &str, path: &str) -> Result<Option<bool>, WorldError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(v) => Err(WorldError::invalid(
            path,
            format!("`{key}` must be a boolean, found {}", kind(v)),
        )),
    }
}

/// Optional array field (missing or `null` → empty).
pub(crate) fn opt_array<'a>(m: &'a Obj, key: &str, path: &str) -> Result<&'a [Value], WorldError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(v) => Err(WorldError::invalid(
            path,
            format!("`{key}` must be an array, found {}", kind(v)),
        )),
    }
}

/// Optional list field that AWS output sometimes (wrongly) shows as a single object: accepts an
/// array or one object.
pub(crate) fn opt_list<'a>(
    m: &'a Obj,
    key: &str,
    path: &str,
) -> Result<Vec<&'a Value>, WorldError> {
    match m.get(key) {
        Some(Value::Object(_)) => Ok(m.get(key).into_iter().collect()),
        _ => Ok(opt_array(m, key, path)?.iter().collect()),
    }
}

/// Optional list of strings.
pub(crate) fn opt_str_list(m: &Obj, key: &str, path: &str) -> Result<Vec<String>, WorldError> {
    opt_array(m, key, path)?
        .iter()
        .enumerate()
        .map(|(i, v)| match v {
            Value::String(s) => Ok(s.clone()),
            other => Err(WorldError::invalid(
                path,
                format!("`{key}[{i}]` must be a string, found {}", kind(other)),
            )),
        })
        .collect()
}

/// If `v` is an object holding `key` (AWS CLI wrapper such as `PublicAccessBlockConfiguration`),
/// the inner value; else `v` itself.
pub(crate) fn unwrap_key<'a>(v: &'a Value, key: &str) -> &'a Value {
    match v.as_object().and_then(|m| m.get(key)) {
        Some(inner) => inner,
        None => v,
    }
}

/// Parses a policy document given as a JSON object, a JSON string holding the document, or a
/// percent-encoded JSON string (IAM API form). `path` names the policy for errors.
pub(crate) fn parse_policy_doc(v: &Value, path: &str) -> Result<Policy, WorldError> {
    let decoded;
    let doc = match v {
        Value::String(s) => {
            decoded = decode_policy_text(s, path)?;
            &decoded
        }
        Value::Object(_) => v,
        other => {
            return Err(WorldError::invalid(
                path,
                format!(
                    "a policy document must be an object or a JSON string, found {}",
                    kind(other)
                ),
            ))
        }
    };
    parse_policy_value(doc).map_err(|e| {
        let sid = e.statement.and_then(|i| statement_sid(doc, i));
        WorldError::Policy {
            path: path.to_string(),
            statement: e.statement,
            sid,
            message: e.message,
        }
    })
}

/// Text of a policy: JSON, or percent-encoded JSON (decoded when it starts with `%7B` or is not
/// valid JSON as it stands).
fn decode_policy_text(s: &str, path: &str) -> Result<Value, WorldError> {
    let trimmed = s.trim_start();
    let looks_encoded = trimmed
        .get(..3)
        .is_some_and(|p| p.eq_ignore_ascii_case("%7B"));
    if !looks_encoded {
        match serde_json::from_str::<Value>(s) {
            Ok(v) => return Ok(v),
            Err(e) => {
                if !s.contains('%') {
                    return Err(json_in_policy_error(&e, path));
                }
                // Not JSON as it stands: maybe percent-encoded.
                if let Ok(v) = decode_percent_json(s) {
                    return Ok(v);
                }
                return Err(json_in_policy_error(&e, path));
            }
        }
    }
    decode_percent_json(s).map_err(|e| match e {
        Ok(json) => WorldError::invalid(
            path,
            format!(
                "percent-decoded policy is not valid JSON (line {} column {}): {}",
                json.line(),
                json.column(),
                strip_position(&json)
            ),
        ),
        Err(()) => WorldError::invalid(path, "percent-decoded policy is not valid UTF-8"),
    })
}

fn decode_percent_json(s: &str) -> Result<Value, Result<serde_json::Error, ()>> {
    let text = percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .map_err(|_| Err(()))?;
    serde_json::from_str(&text).map_err(Ok)
}

fn strip_position(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    full.strip_suffix(&suffix).unwrap_or(&full).to_string()
}

fn json_in_policy_error(e: &serde_json::Error, path: &str) -> WorldError {
    WorldError::invalid(
        path,
        format!(
            "policy is not valid JSON (line {} column {}): {}",
            e.line(),
            e.column(),
            strip_position(e)
        ),
    )
}

/// The `Sid` of statement `i` in a raw policy document, when there is one.
fn statement_sid(doc: &Value, i: usize) -> Option<String> {
    let st = doc.get("Statement")?;
    let st = match st {
        Value::Array(a) => a.get(i)?,
        Value::Object(_) if i == 0 => st,
        _ => return None,
    };
    st.get("Sid")?.as_str().map(str::to_string)
}

/// Inserts `key: value` unless `value` is `None`.
pub(crate) fn put_opt(m: &mut Obj, key: &str, value: &Option<String>) {
    if let Some(v) = value {
        m.insert(key.to_string(), Value::String(v.clone()));
    }
}

pub(crate) fn put_str(m: &mut Obj, key: &str, value: &str) {
    m.insert(key.to_string(), Value::String(value.to_string()));
}

/// `[{"Key": k, "Value": v}]` tag lists.
pub(crate) fn parse_tags(
    m: &Obj,
    key: &str,
    path: &str,
) -> Result<Vec<(String, String)>, WorldError> {
    opt_array(m, key, path)?
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let p = format!("{path}: `{key}[{i}]`");
            let t = as_object(t, &p)?;
            Ok((
                req_str(t, "Key", &p)?,
                opt_str(t, "Value", &p)?.unwrap_or_default(),
            ))
        })
        .collect()
}

pub(crate) fn tags_value(tags: &[(String, String)]) -> Value {
    Value::Array(
        tags.iter()
            .map(|(k, v)| {
                let mut m = Map::new();
                put_str(&mut m, "Key", k);
                put_str(&mut m, "Value", v);
                Value::Object(m)
            })
            .collect(),
    )
}

/// `{"k": "v", ...}` string maps as ordered pairs.
pub(crate) fn parse_string_map(
    v: Option<&Value>,
    path: &str,
) -> Result<Vec<(String, String)>, WorldError> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(v) => as_object(v, path)?
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                other => Err(WorldError::invalid(
                    path,
                    format!("`{k}` must be a string, found {}", kind(other)),
                )),
            })
            .collect(),
    }
}

pub(crate) fn string_map_value(pairs: &[(String, String)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

//! The `--output json` envelope of the commands whose JSON is a report or a list (`operations`,
//! `playbooks`, `snapshot`, `apply`, `rollback`): every document is an object whose first key is
//! `format_version` (docs/formats.md), like the decision and the plan file.

use anyhow::{Context, Result};
use serde::Serialize;
use serde_json::{Map, Value};

/// Version of the report and list formats of `--output json`.
pub const FORMAT_VERSION: u32 = 1;

/// `value` (an object) with `format_version` first, pretty-printed with a final newline.
pub fn document(value: &impl Serialize) -> Result<String> {
    let v = serde_json::to_value(value).context("cannot serialize the report")?;
    let mut out = Map::new();
    out.insert("format_version".into(), Value::from(FORMAT_VERSION));
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                if k != "format_version" {
                    out.insert(k, v);
                }
            }
        }
        other => {
            out.insert("value".into(), other);
        }
    }
    Ok(serde_json::to_string_pretty(&Value::Object(out))? + "\n")
}

/// `{"format_version": 1, "<key>": [items]}`, pretty-printed with a final newline.
pub fn list<T: Serialize>(key: &str, items: &[T]) -> Result<String> {
    let mut out = Map::new();
    out.insert("format_version".into(), Value::from(FORMAT_VERSION));
    out.insert(
        key.into(),
        serde_json::to_value(items).context("cannot serialize the list")?,
    );
    Ok(serde_json::to_string_pretty(&Value::Object(out))? + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn format_version_comes_first_and_is_not_duplicated() {
        let s = document(&json!({"status": "applied", "format_version": 9})).unwrap_or_default();
        assert!(
            s.starts_with("{\n  \"format_version\": 1,\n  \"status\""),
            "{s}"
        );
        assert_eq!(s.matches("format_version").count(), 1);
        let l = list("operations", &[json!({"operation": "GetObject"})]).unwrap_or_default();
        let v: Value = serde_json::from_str(&l).unwrap_or_default();
        assert_eq!(v["format_version"], 1);
        assert_eq!(v["operations"][0]["operation"], "GetObject");
    }
}

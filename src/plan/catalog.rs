//! The playbook catalog: one playbook per [`Cause`](crate::diagnose::Cause), read from
//! `playbooks/<id>.toml`. Each playbook says when it applies, the fix it produces (a change s3medic
//! applies, a manual step, a caller-side action, or information only), its risk, the typical time to
//! apply it, whether rollback fully undoes it, and the scenarios (`playbooks/<id>/*.json`) that test
//! it.
//!
//! The TOML files are embedded in the binary (`include_str!`), so the catalog works from any
//! directory; the scenario files are not embedded (the tests read them from disk).
//!
//! Format of a playbook file (all fields required unless marked optional):
//!
//! ```toml
//! id = "identity-missing-allow"        # == the file name == a Cause id (kebab-case)
//! title = "No identity-based policy allows the action"
//! kind = "change"                       # change | manual | caller-side | informational
//! changes = ["inline_policy"]           # Target `type`s the fix writes ([] for none)
//! requires_flag = "allow_public"        # optional: allow_public | allow_guardrail_change | allow_deny_change
//! risk = "low"                          # low | medium | high
//! typical_time = "1 minute (...)"
//! rollback = "full"                     # full | partial | none
//! applies_when = "..."                  # plain language
//! fix = "..."
//! rollback_notes = "..."
//! sources = ["https://docs.aws.amazon.com/..."]
//! scenarios = ["identity-missing-allow/fires.json", "identity-missing-allow/look-alike.json"]
//! ```
//!
//! Long texts may be wrapped over several lines; runs of whitespace are folded into one space.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::diagnose::Cause;
use crate::plan::change::Risk;

/// Every playbook file, embedded: `(file stem, contents)`, in the order of [`Cause::ALL`].
const FILES: &[(&str, &str)] = &[
    (
        "identity-missing-allow",
        include_str!("../../playbooks/identity-missing-allow.toml"),
    ),
    (
        "wrong-arn-level",
        include_str!("../../playbooks/wrong-arn-level.toml"),
    ),
    (
        "bucket-policy-deny",
        include_str!("../../playbooks/bucket-policy-deny.toml"),
    ),
    (
        "identity-deny",
        include_str!("../../playbooks/identity-deny.toml"),
    ),
    (
        "guardrail-deny",
        include_str!("../../playbooks/guardrail-deny.toml"),
    ),
    (
        "cross-account-resource-missing",
        include_str!("../../playbooks/cross-account-resource-missing.toml"),
    ),
    (
        "boundary-cap",
        include_str!("../../playbooks/boundary-cap.toml"),
    ),
    (
        "session-policy-cap",
        include_str!("../../playbooks/session-policy-cap.toml"),
    ),
    (
        "scp-blocks",
        include_str!("../../playbooks/scp-blocks.toml"),
    ),
    (
        "rcp-blocks",
        include_str!("../../playbooks/rcp-blocks.toml"),
    ),
    (
        "vpc-endpoint-policy",
        include_str!("../../playbooks/vpc-endpoint-policy.toml"),
    ),
    (
        "bpa-blocks-public-access",
        include_str!("../../playbooks/bpa-blocks-public-access.toml"),
    ),
    (
        "bpa-rejects-public-acl",
        include_str!("../../playbooks/bpa-rejects-public-acl.toml"),
    ),
    (
        "object-owned-by-other-account",
        include_str!("../../playbooks/object-owned-by-other-account.toml"),
    ),
    (
        "acl-not-supported",
        include_str!("../../playbooks/acl-not-supported.toml"),
    ),
    (
        "kms-key-policy-missing",
        include_str!("../../playbooks/kms-key-policy-missing.toml"),
    ),
    (
        "kms-identity-missing",
        include_str!("../../playbooks/kms-identity-missing.toml"),
    ),
    (
        "kms-aws-managed-cross-account",
        include_str!("../../playbooks/kms-aws-managed-cross-account.toml"),
    ),
    (
        "kms-key-disabled",
        include_str!("../../playbooks/kms-key-disabled.toml"),
    ),
    (
        "cloudfront-oac-grant-missing",
        include_str!("../../playbooks/cloudfront-oac-grant-missing.toml"),
    ),
    (
        "cloudfront-no-oac",
        include_str!("../../playbooks/cloudfront-no-oac.toml"),
    ),
    (
        "cloudfront-oai-sse-kms",
        include_str!("../../playbooks/cloudfront-oai-sse-kms.toml"),
    ),
    (
        "cloudfront-default-root-object",
        include_str!("../../playbooks/cloudfront-default-root-object.toml"),
    ),
    (
        "missing-key-no-list",
        include_str!("../../playbooks/missing-key-no-list.toml"),
    ),
    (
        "presigned-url-expired",
        include_str!("../../playbooks/presigned-url-expired.toml"),
    ),
    (
        "requester-pays-header",
        include_str!("../../playbooks/requester-pays-header.toml"),
    ),
];

/// What a playbook's fix is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// s3medic writes the change itself (possibly only with a flag; see `requires_flag`).
    Change,
    /// Someone else must act (an SCP, an RCP, an endpoint policy, a key state ...).
    Manual,
    /// The caller must change the request or its environment.
    CallerSide,
    /// Nothing to fix; the plan explains.
    Informational,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Change => "change",
            Kind::Manual => "manual",
            Kind::CallerSide => "caller-side",
            Kind::Informational => "informational",
        }
    }
}

/// Whether `s3medic rollback` can undo the fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rollback {
    /// Rollback restores everything the fix changed.
    Full,
    /// Rollback restores the documents, but some effect stays (see `rollback_notes`).
    Partial,
    /// Nothing s3medic can roll back (manual, caller-side or informational fixes).
    None,
}

impl Rollback {
    pub fn as_str(self) -> &'static str {
        match self {
            Rollback::Full => "full",
            Rollback::Partial => "partial",
            Rollback::None => "none",
        }
    }
}

/// One playbook: how s3medic fixes one cause.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Playbook {
    /// The cause id (kebab-case), also the file name.
    pub id: String,
    pub title: String,
    /// When the playbook applies, in plain language.
    pub applies_when: String,
    /// What the fix produces, and who applies it.
    pub fix: String,
    pub kind: Kind,
    /// The Target `type`s the fix writes (`bucket_policy`, `inline_policy` ...); empty when none.
    pub changes: Vec<String>,
    /// The PlanOptions flag without which the change is not made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires_flag: Option<String>,
    pub risk: Risk,
    /// Typical time to apply and take effect.
    pub typical_time: String,
    pub rollback: Rollback,
    pub rollback_notes: String,
    /// The AWS documentation pages the playbook follows.
    pub sources: Vec<String>,
    /// Scenario files, relative to `playbooks/` (`<id>/fires.json` ...).
    pub scenarios: Vec<String>,
}

impl Playbook {
    /// The cause this playbook fixes.
    pub fn cause(&self) -> Option<Cause> {
        Cause::from_id(&self.id)
    }
}

/// The Target `type` values a playbook may name in `changes`.
pub const TARGET_TYPES: [&str; 9] = [
    "bucket_policy",
    "bucket_ownership",
    "bucket_acl",
    "bucket_public_access_block",
    "account_public_access_block",
    "inline_policy",
    "managed_policy",
    "key_policy",
    "distribution_origin",
];

/// The PlanOptions flags a playbook may require.
pub const FLAGS: [&str; 3] = [
    "allow_public",
    "allow_guardrail_change",
    "allow_deny_change",
];

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("playbooks/{file}.toml: {message}")]
    Parse { file: String, message: String },
    #[error("playbooks/{file}.toml: id `{id}` differs from the file name")]
    IdMismatch { file: String, id: String },
    #[error("playbook `{0}` is defined twice")]
    Duplicate(String),
    #[error("playbook `{0}` names no known cause")]
    UnknownCause(String),
    #[error("cause `{0}` has no playbook")]
    MissingPlaybook(String),
    #[error("playbook `{id}`: {message}")]
    Invalid { id: String, message: String },
}

/// Folds runs of whitespace (line wraps of long TOML strings) into single spaces.
fn fold(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Parses one playbook file (`file` is its stem) and checks its fields.
pub fn parse(file: &str, text: &str) -> Result<Playbook, CatalogError> {
    let mut p: Playbook = toml::from_str(text).map_err(|e| CatalogError::Parse {
        file: file.to_string(),
        message: e.to_string(),
    })?;
    for s in [
        &mut p.title,
        &mut p.applies_when,
        &mut p.fix,
        &mut p.typical_time,
        &mut p.rollback_notes,
    ] {
        *s = fold(s);
    }
    if p.id != file {
        return Err(CatalogError::IdMismatch {
            file: file.to_string(),
            id: p.id,
        });
    }
    if Cause::from_id(&p.id).is_none() {
        return Err(CatalogError::UnknownCause(p.id));
    }
    let invalid = |message: String| CatalogError::Invalid {
        id: p.id.clone(),
        message,
    };
    for (name, value) in [
        ("title", &p.title),
        ("applies_when", &p.applies_when),
        ("fix", &p.fix),
        ("typical_time", &p.typical_time),
        ("rollback_notes", &p.rollback_notes),
    ] {
        if value.is_empty() {
            return Err(invalid(format!("`{name}` is empty")));
        }
    }
    let mut seen = BTreeSet::new();
    for c in &p.changes {
        if !TARGET_TYPES.contains(&c.as_str()) {
            return Err(invalid(format!(
                "`changes`: unknown target type `{c}` (one of {})",
                TARGET_TYPES.join(", ")
            )));
        }
        if !seen.insert(c.as_str()) {
            return Err(invalid(format!("`changes`: `{c}` listed twice")));
        }
    }
    if let Some(f) = &p.requires_flag {
        if !FLAGS.contains(&f.as_str()) {
            return Err(invalid(format!(
                "`requires_flag`: unknown flag `{f}` (one of {})",
                FLAGS.join(", ")
            )));
        }
        if p.changes.is_empty() {
            return Err(invalid(
                "`requires_flag` is set but the playbook writes no change".into(),
            ));
        }
    }
    match p.kind {
        Kind::Change if p.changes.is_empty() => {
            return Err(invalid("kind `change` with no `changes`".into()));
        }
        Kind::Manual | Kind::Informational if !p.changes.is_empty() => {
            return Err(invalid(format!(
                "kind `{}` cannot list `changes`",
                p.kind.as_str()
            )));
        }
        Kind::CallerSide if !p.changes.is_empty() && p.requires_flag.is_none() => {
            return Err(invalid(
                "a caller-side playbook writes changes only behind `requires_flag`".into(),
            ));
        }
        _ => {}
    }
    if p.changes.is_empty() && p.rollback != Rollback::None {
        return Err(invalid(
            "a playbook that writes nothing has `rollback = \"none\"`".into(),
        ));
    }
    if p.sources.is_empty() || p.sources.iter().any(|s| !s.starts_with("https://")) {
        return Err(invalid("`sources` must list https:// pages".into()));
    }
    let prefix = format!("{}/", p.id);
    let mut seen = BTreeSet::new();
    for s in &p.scenarios {
        let ok = s.starts_with(&prefix)
            && s.ends_with(".json")
            && !s[prefix.len()..].contains('/')
            && !s.contains("..");
        if !ok {
            return Err(invalid(format!(
                "scenario `{s}` must be `{prefix}<name>.json`"
            )));
        }
        if !seen.insert(s.as_str()) {
            return Err(invalid(format!("scenario `{s}` listed twice")));
        }
    }
    if p.scenarios.len() < 2 {
        return Err(invalid(
            "at least two scenarios (one where it fires, one look-alike)".into(),
        ));
    }
    Ok(p)
}

/// The names of the embedded playbook files (stems), in catalog order.
pub fn embedded_files() -> impl Iterator<Item = &'static str> {
    FILES.iter().map(|(f, _)| *f)
}

/// Parses and validates every embedded playbook: ids unique and equal to their file name, each a
/// Cause id, and every Cause covered. In the order of [`Cause::ALL`].
pub fn catalog() -> Result<Vec<Playbook>, CatalogError> {
    let mut out: Vec<Playbook> = Vec::with_capacity(FILES.len());
    for (file, text) in FILES {
        let p = parse(file, text)?;
        if out.iter().any(|q| q.id == p.id) {
            return Err(CatalogError::Duplicate(p.id));
        }
        out.push(p);
    }
    for c in Cause::ALL {
        if !out.iter().any(|p| p.id == c.id()) {
            return Err(CatalogError::MissingPlaybook(c.id().to_string()));
        }
    }
    out.sort_by_key(|p| p.cause());
    Ok(out)
}

static CACHE: OnceLock<Vec<Playbook>> = OnceLock::new();

/// The catalog, parsed once (empty if it is invalid: `catalog()` gives the error; a unit test
/// keeps it valid).
pub fn all() -> &'static [Playbook] {
    CACHE.get_or_init(|| catalog().unwrap_or_default())
}

/// The playbook with this id.
pub fn playbook(id: &str) -> Option<&'static Playbook> {
    all().iter().find(|p| p.id == id)
}

/// The playbook of a cause.
pub fn for_cause(cause: Cause) -> Option<&'static Playbook> {
    playbook(cause.id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_is_valid_and_complete() {
        let c = match catalog() {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(c.len(), Cause::ALL.len());
        for (p, cause) in c.iter().zip(Cause::ALL) {
            assert_eq!(p.id, cause.id());
            assert_eq!(for_cause(cause).map(|q| q.id.as_str()), Some(cause.id()));
        }
        assert!(playbook("no-such-cause").is_none());
    }

    #[test]
    fn every_playbook_file_is_embedded() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("playbooks");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().to_string();
                name.strip_suffix(".toml").map(str::to_string)
            })
            .collect();
        on_disk.sort();
        let mut embedded: Vec<String> = embedded_files().map(str::to_string).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded, "every playbooks/*.toml must be in FILES");
        for (file, text) in FILES {
            let disk =
                std::fs::read_to_string(dir.join(format!("{file}.toml"))).unwrap_or_default();
            assert_eq!(&disk, text, "{file}.toml");
        }
    }

    #[test]
    fn rejects_bad_playbooks() {
        let good = FILES[0].1;
        assert!(parse(FILES[0].0, good).is_ok());
        assert!(matches!(
            parse("other-name", good),
            Err(CatalogError::IdMismatch { .. })
        ));
        let bad_risk = good.replace("risk = \"low\"", "risk = \"extreme\"");
        assert!(matches!(
            parse(FILES[0].0, &bad_risk),
            Err(CatalogError::Parse { .. })
        ));
        let bad_kind = good.replace("kind = \"change\"", "kind = \"magic\"");
        assert!(parse(FILES[0].0, &bad_kind).is_err());
        let bad_target = good.replace("[\"inline_policy\"]", "[\"iam_user\"]");
        assert!(matches!(
            parse(FILES[0].0, &bad_target),
            Err(CatalogError::Invalid { .. })
        ));
        let unknown = good.replace("id = \"identity-missing-allow\"", "id = \"not-a-cause\"");
        assert!(matches!(
            parse("not-a-cause", &unknown),
            Err(CatalogError::UnknownCause(_))
        ));
    }

    #[test]
    fn flags_and_kinds_are_consistent() {
        for p in all() {
            if p.requires_flag.as_deref() == Some("allow_public") {
                assert_eq!(
                    p.risk,
                    Risk::High,
                    "{}: making things public is high risk",
                    p.id
                );
            }
            if p.kind != Kind::Change && p.kind != Kind::CallerSide {
                assert!(p.changes.is_empty(), "{}", p.id);
            }
        }
    }
}

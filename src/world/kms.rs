//! KMS keys: metadata from `describe-key`, aliases, the key policy and grants.

use serde_json::{Map, Value};

use super::bucket::parse_wrapped_policy;
use super::error::WorldError;
use super::part::{
    as_object, kind, opt_array, opt_str, parse_part, parse_string_map, put_opt, put_str, req_str,
    string_map_value, unwrap_key, Part,
};
use crate::policy::Policy;

/// A KMS key.
#[derive(Debug, Clone, PartialEq)]
pub struct KmsKey {
    pub key_id: String,
    pub arn: String,
    pub account_id: String,
    /// From the ARN.
    pub region: String,
    /// `KeyManager` is `AWS` (e.g. `aws/s3`): cannot be used cross-account.
    pub aws_managed: bool,
    /// `KeyState` is `Enabled` (a missing state counts as enabled).
    pub enabled: bool,
    /// `KeyState` as read (`PendingDeletion`, `Disabled` ...), for messages.
    pub key_state: Option<String>,
    /// Alias names (`alias/x`).
    pub aliases: Vec<String>,
    pub policy: Part<Policy>,
    pub grants: Part<Vec<KmsGrant>>,
}

/// A `list-grants` item.
#[derive(Debug, Clone, PartialEq)]
pub struct KmsGrant {
    pub grant_id: Option<String>,
    pub grantee_principal: String,
    /// Operation names as AWS writes them (`Decrypt`, `GenerateDataKey` ...).
    pub operations: Vec<String>,
    pub encryption_context_equals: Vec<(String, String)>,
    pub encryption_context_subset: Vec<(String, String)>,
}

/// The pieces of an ARN: `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`.
pub(crate) fn split_arn(arn: &str) -> Option<[&str; 6]> {
    let mut it = arn.splitn(6, ':');
    let parts = [
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
    ];
    (parts[0] == "arn").then_some(parts)
}

impl KmsKey {
    /// The alias ARNs of this key (`arn:P:kms:REGION:ACCOUNT:alias/x`).
    pub fn alias_arns(&self) -> Vec<String> {
        let partition = split_arn(&self.arn).map_or("aws", |p| p[1]);
        self.aliases
            .iter()
            .map(|a| {
                format!(
                    "arn:{partition}:kms:{}:{}:{}",
                    self.region, self.account_id, a
                )
            })
            .collect()
    }

    pub(crate) fn from_value(v: &Value, index: usize) -> Result<KmsKey, WorldError> {
        let p0 = format!("`kms_keys[{index}]`");
        let m = as_object(v, &p0)?;
        let mv = m
            .get("metadata")
            .ok_or_else(|| WorldError::invalid(&p0, "missing `metadata`"))?;
        let mp = format!("{p0}: `metadata`");
        let md = as_object(unwrap_key(mv, "KeyMetadata"), &mp)?;
        let arn = req_str(md, "Arn", &mp)?;
        let p = format!("kms key `{arn}`");
        let parts = split_arn(&arn)
            .filter(|p| p[2] == "kms" && p[5].starts_with("key/"))
            .ok_or_else(|| {
                WorldError::invalid(
                    &p,
                    "`Arn` is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)",
                )
            })?;
        let key_id = match opt_str(md, "KeyId", &p)? {
            Some(id) => id,
            None => parts[5].trim_start_matches("key/").to_string(),
        };
        let account_id = opt_str(md, "AWSAccountId", &p)?.unwrap_or_else(|| parts[4].to_string());
        let key_state = opt_str(md, "KeyState", &p)?;
        let mut aliases = Vec::new();
        for (i, a) in opt_array(m, "aliases", &p)?.iter().enumerate() {
            // A name, or a `list-aliases` item.
            let name = match a {
                Value::String(s) => s.clone(),
                Value::Object(am) => req_str(am, "AliasName", &format!("{p}: `aliases[{i}]`"))?,
                other => {
                    return Err(WorldError::invalid(
                        &p,
                        format!("`aliases[{i}]` must be a string, found {}", kind(other)),
                    ))
                }
            };
            if !name.starts_with("alias/") {
                return Err(WorldError::invalid(
                    &p,
                    format!("alias `{name}` must start with `alias/`"),
                ));
            }
            aliases.push(name);
        }
        let pp = format!("{p}: key policy");
        let policy = parse_part(m.get("policy"), &pp, |v| parse_wrapped_policy(v, &pp))?;
        let gp = format!("{p}: `grants`");
        let grants = parse_part(m.get("grants"), &gp, |v| parse_grants(v, &gp))?;
        Ok(KmsKey {
            key_id,
            region: parts[3].to_string(),
            account_id,
            aws_managed: opt_str(md, "KeyManager", &p)?.as_deref() == Some("AWS"),
            enabled: key_state.as_deref().is_none_or(|s| s == "Enabled"),
            key_state,
            aliases,
            policy,
            grants,
            arn,
        })
    }

    pub fn to_value(&self) -> Value {
        let mut md = Map::new();
        put_str(&mut md, "KeyId", &self.key_id);
        put_str(&mut md, "Arn", &self.arn);
        put_str(&mut md, "AWSAccountId", &self.account_id);
        put_str(
            &mut md,
            "KeyManager",
            if self.aws_managed { "AWS" } else { "CUSTOMER" },
        );
        let state = match (&self.key_state, self.enabled) {
            (None, true) => None,
            (_, true) => Some("Enabled".to_string()),
            (Some(s), false) if s != "Enabled" => Some(s.clone()),
            (_, false) => Some("Disabled".to_string()),
        };
        put_opt(&mut md, "KeyState", &state);
        let mut m = Map::new();
        m.insert("metadata".into(), Value::Object(md));
        m.insert(
            "aliases".into(),
            Value::Array(self.aliases.iter().cloned().map(Value::String).collect()),
        );
        m.insert("policy".into(), self.policy.to_value_with(Policy::to_value));
        m.insert(
            "grants".into(),
            self.grants.to_value_with(|gs| {
                let mut g = Map::new();
                g.insert(
                    "Grants".into(),
                    Value::Array(gs.iter().map(KmsGrant::to_value).collect()),
                );
                Value::Object(g)
            }),
        );
        Value::Object(m)
    }
}

/// `{"Grants": [...]}` or the bare list.
fn parse_grants(v: &Value, path: &str) -> Result<Vec<KmsGrant>, WorldError> {
    let list = match unwrap_key(v, "Grants") {
        Value::Array(a) => a,
        other => {
            return Err(WorldError::invalid(
                path,
                format!("`Grants` must be an array, found {}", kind(other)),
            ))
        }
    };
    list.iter()
        .enumerate()
        .map(|(i, g)| KmsGrant::from_value(g, &format!("{path}: `Grants[{i}]`")))
        .collect()
}

impl KmsGrant {
    fn from_value(v: &Value, path: &str) -> Result<KmsGrant, WorldError> {
        let m = as_object(v, path)?;
        let mut operations = Vec::new();
        for (i, op) in opt_array(m, "Operations", path)?.iter().enumerate() {
            match op.as_str() {
                Some(s) => operations.push(s.to_string()),
                None => {
                    return Err(WorldError::invalid(
                        path,
                        format!("`Operations[{i}]` must be a string"),
                    ))
                }
            }
        }
        let (equals, subset) = match m.get("Constraints") {
            None | Some(Value::Null) => (Vec::new(), Vec::new()),
            Some(c) => {
                let cp = format!("{path}: `Constraints`");
                let cm = as_object(c, &cp)?;
                (
                    parse_string_map(
                        cm.get("EncryptionContextEquals"),
                        &format!("{cp}: `EncryptionContextEquals`"),
                    )?,
                    parse_string_map(
                        cm.get("EncryptionContextSubset"),
                        &format!("{cp}: `EncryptionContextSubset`"),
                    )?,
                )
            }
        };
        Ok(KmsGrant {
            grant_id: opt_str(m, "GrantId", path)?,
            grantee_principal: req_str(m, "GranteePrincipal", path)?,
            operations,
            encryption_context_equals: equals,
            encryption_context_subset: subset,
        })
    }

    /// Whether the grant allows `operation` (`Decrypt`, `GenerateDataKey` ...).
    pub fn allows_operation(&self, operation: &str) -> bool {
        self.operations.iter().any(|o| o == operation)
    }

    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        put_opt(&mut m, "GrantId", &self.grant_id);
        put_str(&mut m, "GranteePrincipal", &self.grantee_principal);
        m.insert(
            "Operations".into(),
            Value::Array(self.operations.iter().cloned().map(Value::String).collect()),
        );
        if !self.encryption_context_equals.is_empty() || !self.encryption_context_subset.is_empty()
        {
            let mut c = Map::new();
            if !self.encryption_context_equals.is_empty() {
                c.insert(
                    "EncryptionContextEquals".into(),
                    string_map_value(&self.encryption_context_equals),
                );
            }
            if !self.encryption_context_subset.is_empty() {
                c.insert(
                    "EncryptionContextSubset".into(),
                    string_map_value(&self.encryption_context_subset),
                );
            }
            m.insert("Constraints".into(), Value::Object(c));
        }
        Value::Object(m)
    }
}

//! AWS Organizations data of an account: the SCPs and RCPs at every level from the root down to
//! the account.

use serde_json::{Map, Value};

use super::error::WorldError;
use super::part::{
    as_object, opt_array, opt_bool, opt_str, parse_policy_doc, put_opt, put_str, req_str,
};
use crate::policy::Policy;

/// The organization an account belongs to, as it applies to that account.
#[derive(Debug, Clone, PartialEq)]
pub struct Organization {
    /// `o-...`; the value of `aws:PrincipalOrgID` / `aws:ResourceOrgID`.
    pub id: String,
    /// SCPs do not apply to the management account.
    pub is_management_account: bool,
    /// Root first, then each OU down to the account itself.
    pub scps: Vec<OrgLevel>,
    /// Same shape; RCPs apply to resources in this account.
    pub rcps: Vec<OrgLevel>,
}

/// One level (root, OU or account) and the policies attached there. Every level must allow.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgLevel {
    /// `r-...`, `ou-...` or the account id.
    pub target: String,
    pub policies: Vec<OrgPolicy>,
}

/// An SCP or RCP.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgPolicy {
    pub name: String,
    pub id: Option<String>,
    pub policy: Policy,
}

impl Organization {
    /// `path` is e.g. "account `111`: organization".
    pub(crate) fn from_value(v: &Value, path: &str) -> Result<Organization, WorldError> {
        let m = as_object(v, path)?;
        Ok(Organization {
            id: req_str(m, "id", path)?,
            is_management_account: opt_bool(m, "is_management_account", path)?.unwrap_or(false),
            scps: parse_levels(m, "scps", "scp", path)?,
            rcps: parse_levels(m, "rcps", "rcp", path)?,
        })
    }

    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        put_str(&mut m, "id", &self.id);
        m.insert(
            "is_management_account".into(),
            Value::Bool(self.is_management_account),
        );
        m.insert("scps".into(), levels_value(&self.scps));
        m.insert("rcps".into(), levels_value(&self.rcps));
        Value::Object(m)
    }
}

fn parse_levels(
    m: &Map<String, Value>,
    key: &str,
    what: &str,
    path: &str,
) -> Result<Vec<OrgLevel>, WorldError> {
    let mut out = Vec::new();
    for (i, l) in opt_array(m, key, path)?.iter().enumerate() {
        let lp0 = format!("{path}: `{key}[{i}]`");
        let lm = as_object(l, &lp0)?;
        let target = req_str(lm, "target", &lp0)?;
        let lp = format!("{path}: {what} level `{target}`");
        let mut policies = Vec::new();
        for (j, pv) in opt_array(lm, "policies", &lp)?.iter().enumerate() {
            let pp0 = format!("{lp}: `policies[{j}]`");
            let pm = as_object(pv, &pp0)?;
            let name = req_str(pm, "Name", &pp0)?;
            let pp = format!("{lp}: {what} `{name}`");
            let content = pm
                .get("Content")
                .filter(|c| !c.is_null())
                .ok_or_else(|| WorldError::invalid(&pp, "missing `Content`"))?;
            policies.push(OrgPolicy {
                id: opt_str(pm, "Id", &pp)?,
                policy: parse_policy_doc(content, &pp)?,
                name,
            });
        }
        out.push(OrgLevel { target, policies });
    }
    Ok(out)
}

fn levels_value(levels: &[OrgLevel]) -> Value {
    Value::Array(
        levels
            .iter()
            .map(|l| {
                let mut m = Map::new();
                put_str(&mut m, "target", &l.target);
                m.insert(
                    "policies".into(),
                    Value::Array(
                        l.policies
                            .iter()
                            .map(|p| {
                                let mut pm = Map::new();
                                put_str(&mut pm, "Name", &p.name);
                                put_opt(&mut pm, "Id", &p.id);
                                pm.insert("Content".into(), p.policy.to_value());
                                Value::Object(pm)
                            })
                            .collect(),
                    ),
                );
                Value::Object(m)
            })
            .collect(),
    )
}

//! IAM principals and policies of one account, read from the output of
//! `aws iam get-account-authorization-details` as is, with O(1) look-ups by name and ARN.

use rustc_hash::FxHashMap as HashMap;

use serde_json::{Map, Value};

use super::error::WorldError;
use super::part::{
    as_object, opt_array, opt_list, opt_nonempty_str, opt_str, opt_str_list, parse_part,
    parse_policy_doc, parse_tags, put_opt, put_str, req_str, tags_value, unknown_value, Obj, Part,
};
use crate::policy::Policy;

/// The IAM data of one account.
#[derive(Debug, Clone, Default)]
pub struct Iam {
    pub users: Vec<User>,
    pub groups: Vec<Group>,
    pub roles: Vec<Role>,
    pub managed_policies: Vec<ManagedPolicy>,
    index: IamIndex,
}

#[derive(Debug, Clone, Default)]
struct IamIndex {
    user_arn: HashMap<String, usize>,
    user_name: HashMap<String, usize>,
    role_arn: HashMap<String, usize>,
    role_name: HashMap<String, usize>,
    group_arn: HashMap<String, usize>,
    group_name: HashMap<String, usize>,
    policy_arn: HashMap<String, usize>,
}

/// Equality compares the data only (not the look-up indexes).
impl PartialEq for Iam {
    fn eq(&self, other: &Self) -> bool {
        self.users == other.users
            && self.groups == other.groups
            && self.roles == other.roles
            && self.managed_policies == other.managed_policies
    }
}

/// An IAM user (`UserDetailList` item).
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub name: String,
    /// `UserId` (`AIDA...`); the value of `aws:userid`.
    pub user_id: Option<String>,
    pub arn: String,
    pub path: String,
    /// Names of the groups the user belongs to (`GroupList`).
    pub groups: Vec<String>,
    pub inline_policies: Vec<NamedPolicy>,
    pub attached_policies: Vec<AttachedPolicy>,
    /// ARN of the permissions boundary policy.
    pub permissions_boundary: Option<String>,
    pub tags: Vec<(String, String)>,
}

/// An IAM role (`RoleDetailList` item).
#[derive(Debug, Clone, PartialEq)]
pub struct Role {
    pub name: String,
    /// `RoleId` (`AROA...`); role sessions have `aws:userid` = `ROLEID:session`.
    pub role_id: Option<String>,
    pub arn: String,
    pub path: String,
    /// `AssumeRolePolicyDocument`.
    pub trust_policy: Option<Policy>,
    pub inline_policies: Vec<NamedPolicy>,
    pub attached_policies: Vec<AttachedPolicy>,
    pub permissions_boundary: Option<String>,
    pub tags: Vec<(String, String)>,
}

/// An IAM group (`GroupDetailList` item).
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub name: String,
    pub group_id: Option<String>,
    pub arn: String,
    pub path: String,
    pub inline_policies: Vec<NamedPolicy>,
    pub attached_policies: Vec<AttachedPolicy>,
}

/// A customer- or AWS-managed policy (`Policies` item).
#[derive(Debug, Clone, PartialEq)]
pub struct ManagedPolicy {
    pub name: String,
    pub arn: String,
    pub policy_id: Option<String>,
    /// `DefaultVersionId`.
    pub default_version_id: Option<String>,
    /// The document of the default version; unknown when the input has no default version
    /// document.
    pub document: Part<Policy>,
}

/// An inline policy.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedPolicy {
    pub name: String,
    pub policy: Policy,
}

/// An attached managed policy (`AttachedManagedPolicies` item).
#[derive(Debug, Clone, PartialEq)]
pub struct AttachedPolicy {
    pub name: String,
    pub arn: String,
}

impl Iam {
    /// Builds the IAM data of an account and its indexes.
    pub fn new(
        users: Vec<User>,
        groups: Vec<Group>,
        roles: Vec<Role>,
        managed_policies: Vec<ManagedPolicy>,
    ) -> Iam {
        let mut iam = Iam {
            users,
            groups,
            roles,
            managed_policies,
            index: IamIndex::default(),
        };
        iam.reindex();
        iam
    }

    /// Rebuilds the look-up indexes; call after mutating the lists. On duplicates the first wins.
    pub fn reindex(&mut self) {
        let mut ix = IamIndex::default();
        for (i, u) in self.users.iter().enumerate() {
            ix.user_arn.entry(u.arn.clone()).or_insert(i);
            ix.user_name.entry(u.name.clone()).or_insert(i);
        }
        for (i, r) in self.roles.iter().enumerate() {
            ix.role_arn.entry(r.arn.clone()).or_insert(i);
            ix.role_name.entry(r.name.clone()).or_insert(i);
        }
        for (i, g) in self.groups.iter().enumerate() {
            ix.group_arn.entry(g.arn.clone()).or_insert(i);
            ix.group_name.entry(g.name.clone()).or_insert(i);
        }
        for (i, p) in self.managed_policies.iter().enumerate() {
            ix.policy_arn.entry(p.arn.clone()).or_insert(i);
        }
        self.index = ix;
    }

    pub fn user_by_arn(&self, arn: &str) -> Option<&User> {
        self.index
            .user_arn
            .get(arn)
            .and_then(|&i| self.users.get(i))
    }

    pub fn user_by_name(&self, name: &str) -> Option<&User> {
        self.index
            .user_name
            .get(name)
            .and_then(|&i| self.users.get(i))
    }

    pub fn role_by_arn(&self, arn: &str) -> Option<&Role> {
        self.index
            .role_arn
            .get(arn)
            .and_then(|&i| self.roles.get(i))
    }

    pub fn role_by_name(&self, name: &str) -> Option<&Role> {
        self.index
            .role_name
            .get(name)
            .and_then(|&i| self.roles.get(i))
    }

    pub fn group_by_name(&self, name: &str) -> Option<&Group> {
        self.index
            .group_name
            .get(name)
            .and_then(|&i| self.groups.get(i))
    }

    pub fn group_by_arn(&self, arn: &str) -> Option<&Group> {
        self.index
            .group_arn
            .get(arn)
            .and_then(|&i| self.groups.get(i))
    }

    pub fn managed_policy(&self, arn: &str) -> Option<&ManagedPolicy> {
        self.index
            .policy_arn
            .get(arn)
            .and_then(|&i| self.managed_policies.get(i))
    }

    /// The document of an attached managed policy: unknown when the policy is not in the IAM data
    /// (docs/formats.md: a managed policy missing from `Policies` is unknown) or has no default
    /// version document.
    pub fn managed_policy_document(&self, arn: &str) -> Part<&Policy> {
        match self.managed_policy(arn) {
            Some(p) => p.document.as_ref(),
            None => Part::Unknown(format!(
                "managed policy `{arn}` is not in the IAM data (`Policies`)"
            )),
        }
    }

    /// Reads `get-account-authorization-details` output. `path` is e.g. "account `111`: iam";
    /// `account_id` and `partition` complete ARNs left out of hand-written input.
    pub(crate) fn from_value(
        v: &Value,
        path: &str,
        account_id: &str,
        partition: &str,
    ) -> Result<Iam, WorldError> {
        let m = as_object(v, path)?;
        let mut users = Vec::new();
        for (i, u) in opt_array(m, "UserDetailList", path)?.iter().enumerate() {
            let p = format!("{path}: `UserDetailList[{i}]`");
            users.push(User::from_value(u, &p, path, account_id, partition)?);
        }
        let mut groups = Vec::new();
        for (i, g) in opt_array(m, "GroupDetailList", path)?.iter().enumerate() {
            let p = format!("{path}: `GroupDetailList[{i}]`");
            groups.push(Group::from_value(g, &p, path, account_id, partition)?);
        }
        let mut roles = Vec::new();
        for (i, r) in opt_array(m, "RoleDetailList", path)?.iter().enumerate() {
            let p = format!("{path}: `RoleDetailList[{i}]`");
            roles.push(Role::from_value(r, &p, path, account_id, partition)?);
        }
        let mut managed_policies = Vec::new();
        for (i, pv) in opt_array(m, "Policies", path)?.iter().enumerate() {
            let p = format!("{path}: `Policies[{i}]`");
            managed_policies.push(ManagedPolicy::from_value(pv, &p, path)?);
        }
        check_unique(users.iter().map(|u| &u.name), path, "user")?;
        check_unique(groups.iter().map(|g| &g.name), path, "group")?;
        check_unique(roles.iter().map(|r| &r.name), path, "role")?;
        check_unique(
            managed_policies.iter().map(|p| &p.arn),
            path,
            "managed policy",
        )?;
        Ok(Iam::new(users, groups, roles, managed_policies))
    }

    /// Prints back as `get-account-authorization-details` output.
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert(
            "UserDetailList".into(),
            Value::Array(self.users.iter().map(User::to_value).collect()),
        );
        m.insert(
            "GroupDetailList".into(),
            Value::Array(self.groups.iter().map(Group::to_value).collect()),
        );
        m.insert(
            "RoleDetailList".into(),
            Value::Array(self.roles.iter().map(Role::to_value).collect()),
        );
        m.insert(
            "Policies".into(),
            Value::Array(
                self.managed_policies
                    .iter()
                    .map(ManagedPolicy::to_value)
                    .collect(),
            ),
        );
        Value::Object(m)
    }
}

fn check_unique<'a>(
    names: impl Iterator<Item = &'a String>,
    path: &str,
    what: &str,
) -> Result<(), WorldError> {
    let mut seen = std::collections::HashSet::new();
    for n in names {
        if !seen.insert(n.as_str()) {
            return Err(WorldError::invalid(path, format!("duplicate {what} `{n}`")));
        }
    }
    Ok(())
}

/// `Path`, defaulting to `/`.
fn iam_path(m: &Obj, p: &str) -> Result<String, WorldError> {
    Ok(opt_str(m, "Path", p)?.unwrap_or_else(|| "/".to_string()))
}

/// `Arn`, or the ARN built from account, kind, path and name when the input leaves it out.
fn iam_arn(
    m: &Obj,
    p: &str,
    partition: &str,
    account_id: &str,
    kind: &str,
    path: &str,
    name: &str,
) -> Result<String, WorldError> {
    Ok(opt_str(m, "Arn", p)?
        .unwrap_or_else(|| format!("arn:{partition}:iam::{account_id}:{kind}{path}{name}")))
}

fn parse_inline(m: &Obj, key: &str, p: &str, owner: &str) -> Result<Vec<NamedPolicy>, WorldError> {
    let mut out = Vec::new();
    for (i, item) in opt_array(m, key, p)?.iter().enumerate() {
        let ip = format!("{p}: `{key}[{i}]`");
        let im = as_object(item, &ip)?;
        let name = req_str(im, "PolicyName", &ip)?;
        let pp = format!("{owner}: inline policy `{name}`");
        let doc = im
            .get("PolicyDocument")
            .filter(|d| !d.is_null())
            .ok_or_else(|| WorldError::invalid(&pp, "missing `PolicyDocument`"))?;
        out.push(NamedPolicy {
            name,
            policy: parse_policy_doc(doc, &pp)?,
        });
    }
    Ok(out)
}

fn inline_value(list: &[NamedPolicy]) -> Value {
    Value::Array(
        list.iter()
            .map(|np| {
                let mut m = Map::new();
                put_str(&mut m, "PolicyName", &np.name);
                m.insert("PolicyDocument".into(), np.policy.to_value());
                Value::Object(m)
            })
            .collect(),
    )
}

fn parse_attached(m: &Obj, p: &str) -> Result<Vec<AttachedPolicy>, WorldError> {
    let mut out = Vec::new();
    for (i, item) in opt_list(m, "AttachedManagedPolicies", p)?
        .into_iter()
        .enumerate()
    {
        let ap = format!("{p}: `AttachedManagedPolicies[{i}]`");
        let am = as_object(item, &ap)?;
        let arn = req_str(am, "PolicyArn", &ap)?;
        let name = match opt_str(am, "PolicyName", &ap)? {
            Some(n) => n,
            None => arn.rsplit('/').next().unwrap_or(&arn).to_string(),
        };
        out.push(AttachedPolicy { name, arn });
    }
    Ok(out)
}

fn attached_value(list: &[AttachedPolicy]) -> Value {
    Value::Array(
        list.iter()
            .map(|a| {
                let mut m = Map::new();
                put_str(&mut m, "PolicyName", &a.name);
                put_str(&mut m, "PolicyArn", &a.arn);
                Value::Object(m)
            })
            .collect(),
    )
}

fn parse_boundary(m: &Obj, p: &str) -> Result<Option<String>, WorldError> {
    match m.get("PermissionsBoundary") {
        None | Some(Value::Null) => Ok(None),
        Some(b) => {
            let bp = format!("{p}: `PermissionsBoundary`");
            opt_nonempty_str(as_object(b, &bp)?, "PermissionsBoundaryArn", &bp)
        }
    }
}

fn put_boundary(m: &mut Obj, boundary: &Option<String>) {
    if let Some(arn) = boundary {
        let mut b = Map::new();
        put_str(&mut b, "PermissionsBoundaryType", "Policy");
        put_str(&mut b, "PermissionsBoundaryArn", arn);
        m.insert("PermissionsBoundary".into(), Value::Object(b));
    }
}

impl User {
    fn from_value(
        v: &Value,
        p: &str,
        iam_path_prefix: &str,
        account_id: &str,
        partition: &str,
    ) -> Result<User, WorldError> {
        let m = as_object(v, p)?;
        let name = req_str(m, "UserName", p)?;
        let owner = format!("{iam_path_prefix}: user `{name}`");
        let path = iam_path(m, &owner)?;
        Ok(User {
            user_id: opt_str(m, "UserId", &owner)?,
            arn: iam_arn(m, &owner, partition, account_id, "user", &path, &name)?,
            path,
            groups: opt_str_list(m, "GroupList", &owner)?,
            inline_policies: parse_inline(m, "UserPolicyList", &owner, &owner)?,
            attached_policies: parse_attached(m, &owner)?,
            permissions_boundary: parse_boundary(m, &owner)?,
            tags: parse_tags(m, "Tags", &owner)?,
            name,
        })
    }

    fn to_value(&self) -> Value {
        let mut m = Map::new();
        put_str(&mut m, "UserName", &self.name);
        put_opt(&mut m, "UserId", &self.user_id);
        put_str(&mut m, "Arn", &self.arn);
        put_str(&mut m, "Path", &self.path);
        m.insert(
            "GroupList".into(),
            Value::Array(self.groups.iter().cloned().map(Value::String).collect()),
        );
        m.insert("UserPolicyList".into(), inline_value(&self.inline_policies));
        m.insert(
            "AttachedManagedPolicies".into(),
            attached_value(&self.attached_policies),
        );
        put_boundary(&mut m, &self.permissions_boundary);
        m.insert("Tags".into(), tags_value(&self.tags));
        Value::Object(m)
    }
}

impl Role {
    fn from_value(
        v: &Value,
        p: &str,
        iam_path_prefix: &str,
        account_id: &str,
        partition: &str,
    ) -> Result<Role, WorldError> {
        let m = as_object(v, p)?;
        let name = req_str(m, "RoleName", p)?;
        let owner = format!("{iam_path_prefix}: role `{name}`");
        let path = iam_path(m, &owner)?;
        let trust_policy = match m.get("AssumeRolePolicyDocument") {
            None | Some(Value::Null) => None,
            Some(d) => Some(parse_policy_doc(d, &format!("{owner}: trust policy"))?),
        };
        Ok(Role {
            role_id: opt_str(m, "RoleId", &owner)?,
            arn: iam_arn(m, &owner, partition, account_id, "role", &path, &name)?,
            path,
            trust_policy,
            inline_policies: parse_inline(m, "RolePolicyList", &owner, &owner)?,
            attached_policies: parse_attached(m, &owner)?,
            permissions_boundary: parse_boundary(m, &owner)?,
            tags: parse_tags(m, "Tags", &owner)?,
            name,
        })
    }

    fn to_value(&self) -> Value {
        let mut m = Map::new();
        put_str(&mut m, "RoleName", &self.name);
        put_opt(&mut m, "RoleId", &self.role_id);
        put_str(&mut m, "Arn", &self.arn);
        put_str(&mut m, "Path", &self.path);
        if let Some(t) = &self.trust_policy {
            m.insert("AssumeRolePolicyDocument".into(), t.to_value());
        }
        m.insert("RolePolicyList".into(), inline_value(&self.inline_policies));
        m.insert(
            "AttachedManagedPolicies".into(),
            attached_value(&self.attached_policies),
        );
        put_boundary(&mut m, &self.permissions_boundary);
        m.insert("Tags".into(), tags_value(&self.tags));
        Value::Object(m)
    }
}

impl Group {
    fn from_value(
        v: &Value,
        p: &str,
        iam_path_prefix: &str,
        account_id: &str,
        partition: &str,
    ) -> Result<Group, WorldError> {
        let m = as_object(v, p)?;
        let name = req_str(m, "GroupName", p)?;
        let owner = format!("{iam_path_prefix}: group `{name}`");
        let path = iam_path(m, &owner)?;
        Ok(Group {
            group_id: opt_str(m, "GroupId", &owner)?,
            arn: iam_arn(m, &owner, partition, account_id, "group", &path, &name)?,
            path,
            inline_policies: parse_inline(m, "GroupPolicyList", &owner, &owner)?,
            attached_policies: parse_attached(m, &owner)?,
            name,
        })
    }

    fn to_value(&self) -> Value {
        let mut m = Map::new();
        put_str(&mut m, "GroupName", &self.name);
        put_opt(&mut m, "GroupId", &self.group_id);
        put_str(&mut m, "Arn", &self.arn);
        put_str(&mut m, "Path", &self.path);
        m.insert(
            "GroupPolicyList".into(),
            inline_value(&self.inline_policies),
        );
        m.insert(
            "AttachedManagedPolicies".into(),
            attached_value(&self.attached_policies),
        );
        Value::Object(m)
    }
}

impl ManagedPolicy {
    fn from_value(v: &Value, p: &str, iam_path_prefix: &str) -> Result<ManagedPolicy, WorldError> {
        let m = as_object(v, p)?;
        let arn = req_str(m, "Arn", p)?;
        let owner = format!("{iam_path_prefix}: managed policy `{arn}`");
        let name = match opt_str(m, "PolicyName", &owner)? {
            Some(n) => n,
            None => arn.rsplit('/').next().unwrap_or(&arn).to_string(),
        };
        let default_version_id = opt_str(m, "DefaultVersionId", &owner)?;
        // The default version: `IsDefaultVersion`, else the one named by `DefaultVersionId`.
        let versions = opt_array(m, "PolicyVersionList", &owner)?;
        let mut chosen: Option<(usize, &Value)> = None;
        for (i, ver) in versions.iter().enumerate() {
            let vp = format!("{owner}: `PolicyVersionList[{i}]`");
            let vm = as_object(ver, &vp)?;
            let is_default = super::part::opt_bool(vm, "IsDefaultVersion", &vp)?.unwrap_or(false);
            let id = opt_str(vm, "VersionId", &vp)?;
            if is_default || (chosen.is_none() && id.is_some() && id == default_version_id) {
                chosen = Some((i, ver));
                if is_default {
                    break;
                }
            }
        }
        let document = match chosen {
            Some((_, ver)) => {
                let doc = ver.get("Document").filter(|d| !d.is_null());
                match doc {
                    Some(d) => Part::Known(parse_policy_doc(d, &owner)?),
                    None => Part::Unknown(format!(
                        "managed policy `{arn}`: the default version has no `Document`"
                    )),
                }
            }
            // s3medic's own spelling of an unknown / hand-written document: `"Document"` at the
            // policy level, itself a part.
            None if m.contains_key("Document") => {
                match parse_part(m.get("Document"), &owner, |d| parse_policy_doc(d, &owner))? {
                    Part::Absent => Part::Unknown(no_default(&arn)),
                    other => other,
                }
            }
            None => Part::Unknown(no_default(&arn)),
        };
        Ok(ManagedPolicy {
            name,
            arn,
            policy_id: opt_str(m, "PolicyId", &owner)?,
            default_version_id,
            document,
        })
    }

    fn to_value(&self) -> Value {
        let mut m = Map::new();
        put_str(&mut m, "PolicyName", &self.name);
        put_opt(&mut m, "PolicyId", &self.policy_id);
        put_str(&mut m, "Arn", &self.arn);
        put_opt(&mut m, "DefaultVersionId", &self.default_version_id);
        match &self.document {
            Part::Known(doc) => {
                let mut ver = Map::new();
                ver.insert("Document".into(), doc.to_value());
                put_opt(&mut ver, "VersionId", &self.default_version_id);
                ver.insert("IsDefaultVersion".into(), Value::Bool(true));
                m.insert(
                    "PolicyVersionList".into(),
                    Value::Array(vec![Value::Object(ver)]),
                );
            }
            Part::Unknown(why) => {
                m.insert("PolicyVersionList".into(), Value::Array(Vec::new()));
                m.insert("Document".into(), unknown_value(why));
            }
            Part::Absent => {
                m.insert("PolicyVersionList".into(), Value::Array(Vec::new()));
            }
        }
        Value::Object(m)
    }
}

fn no_default(arn: &str) -> String {
    format!("managed policy `{arn}` has no default version document in the IAM data")
}

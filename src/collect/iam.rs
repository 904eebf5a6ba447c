//! IAM: `GetAccountAuthorizationDetails` (all pages) turned into exactly the JSON of
//! `aws iam get-account-authorization-details`. Policy documents pass through as the API returns
//! them (URL-encoded JSON strings on AWS); the World parser decodes them.

use aws_sdk_iam::types::{
    AttachedPermissionsBoundary, AttachedPolicy, GroupDetail, ManagedPolicyDetail, PolicyDetail,
    RoleDetail, Tag, UserDetail,
};
use serde_json::{json, Map, Value};

use super::Ctx;
use crate::world::Part;

/// Everything `GetAccountAuthorizationDetails` returned, over all pages.
#[derive(Debug, Clone, Default)]
pub struct AuthDetails {
    /// `UserDetailList`.
    pub users: Vec<UserDetail>,
    /// `GroupDetailList`.
    pub groups: Vec<GroupDetail>,
    /// `RoleDetailList`.
    pub roles: Vec<RoleDetail>,
    /// `Policies`.
    pub policies: Vec<ManagedPolicyDetail>,
}

impl AuthDetails {
    /// The CLI JSON: `UserDetailList`, `GroupDetailList`, `RoleDetailList`, `Policies`.
    pub fn to_json(&self) -> Value {
        json!({
            "UserDetailList": self.users.iter().map(user_json).collect::<Vec<_>>(),
            "GroupDetailList": self.groups.iter().map(group_json).collect::<Vec<_>>(),
            "RoleDetailList": self.roles.iter().map(role_json).collect::<Vec<_>>(),
            "Policies": self.policies.iter().map(policy_json).collect::<Vec<_>>(),
        })
    }
}

fn put(m: &mut Map<String, Value>, k: &str, v: Option<&str>) {
    if let Some(v) = v {
        m.insert(k.into(), v.into());
    }
}

fn inline_json(list: &[PolicyDetail]) -> Value {
    Value::Array(
        list.iter()
            .map(|p| {
                let mut m = Map::new();
                put(&mut m, "PolicyName", p.policy_name());
                put(&mut m, "PolicyDocument", p.policy_document());
                Value::Object(m)
            })
            .collect(),
    )
}

fn attached_json(list: &[AttachedPolicy]) -> Value {
    Value::Array(
        list.iter()
            .map(|p| {
                let mut m = Map::new();
                put(&mut m, "PolicyName", p.policy_name());
                put(&mut m, "PolicyArn", p.policy_arn());
                Value::Object(m)
            })
            .collect(),
    )
}

fn boundary_json(m: &mut Map<String, Value>, b: Option<&AttachedPermissionsBoundary>) {
    if let Some(arn) = b.and_then(|b| b.permissions_boundary_arn()) {
        m.insert(
            "PermissionsBoundary".into(),
            json!({"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": arn}),
        );
    }
}

fn tags_json(tags: &[Tag]) -> Value {
    Value::Array(
        tags.iter()
            .map(|t| json!({"Key": t.key(), "Value": t.value()}))
            .collect(),
    )
}

/// A `UserDetailList` item.
pub fn user_json(u: &UserDetail) -> Value {
    let mut m = Map::new();
    put(&mut m, "Path", u.path());
    put(&mut m, "UserName", u.user_name());
    put(&mut m, "UserId", u.user_id());
    put(&mut m, "Arn", u.arn());
    m.insert("UserPolicyList".into(), inline_json(u.user_policy_list()));
    m.insert(
        "GroupList".into(),
        Value::Array(u.group_list().iter().map(|g| g.as_str().into()).collect()),
    );
    m.insert(
        "AttachedManagedPolicies".into(),
        attached_json(u.attached_managed_policies()),
    );
    boundary_json(&mut m, u.permissions_boundary());
    m.insert("Tags".into(), tags_json(u.tags()));
    Value::Object(m)
}

/// A `GroupDetailList` item.
pub fn group_json(g: &GroupDetail) -> Value {
    let mut m = Map::new();
    put(&mut m, "Path", g.path());
    put(&mut m, "GroupName", g.group_name());
    put(&mut m, "GroupId", g.group_id());
    put(&mut m, "Arn", g.arn());
    m.insert("GroupPolicyList".into(), inline_json(g.group_policy_list()));
    m.insert(
        "AttachedManagedPolicies".into(),
        attached_json(g.attached_managed_policies()),
    );
    Value::Object(m)
}

/// A `RoleDetailList` item.
pub fn role_json(r: &RoleDetail) -> Value {
    let mut m = Map::new();
    put(&mut m, "Path", r.path());
    put(&mut m, "RoleName", r.role_name());
    put(&mut m, "RoleId", r.role_id());
    put(&mut m, "Arn", r.arn());
    put(
        &mut m,
        "AssumeRolePolicyDocument",
        r.assume_role_policy_document(),
    );
    m.insert("RolePolicyList".into(), inline_json(r.role_policy_list()));
    m.insert(
        "AttachedManagedPolicies".into(),
        attached_json(r.attached_managed_policies()),
    );
    boundary_json(&mut m, r.permissions_boundary());
    m.insert("Tags".into(), tags_json(r.tags()));
    Value::Object(m)
}

/// A `Policies` item with its `PolicyVersionList`.
pub fn policy_json(p: &ManagedPolicyDetail) -> Value {
    let mut m = Map::new();
    put(&mut m, "PolicyName", p.policy_name());
    put(&mut m, "PolicyId", p.policy_id());
    put(&mut m, "Arn", p.arn());
    put(&mut m, "Path", p.path());
    put(&mut m, "DefaultVersionId", p.default_version_id());
    let versions: Vec<Value> = p
        .policy_version_list()
        .iter()
        .map(|v| {
            let mut vm = Map::new();
            put(&mut vm, "Document", v.document());
            put(&mut vm, "VersionId", v.version_id());
            vm.insert("IsDefaultVersion".into(), v.is_default_version().into());
            Value::Object(vm)
        })
        .collect();
    m.insert("PolicyVersionList".into(), Value::Array(versions));
    Value::Object(m)
}

/// Reads the IAM data of the caller's account (every page).
pub(crate) async fn collect_iam(ctx: &Ctx, account_id: &str) -> Part<Value> {
    let mut all = AuthDetails::default();
    let mut marker: Option<String> = None;
    loop {
        let r = ctx
            .call(
                ctx.clients
                    .iam
                    .get_account_authorization_details()
                    .set_marker(marker.clone())
                    .send(),
            )
            .await;
        let out = match r {
            Ok(o) => o,
            Err(f) => {
                return ctx.part(
                    &format!("account `{account_id}`: IAM"),
                    Err::<Option<Value>, _>(f),
                    "iam:GetAccountAuthorizationDetails",
                    &[],
                )
            }
        };
        all.users.extend_from_slice(out.user_detail_list());
        all.groups.extend_from_slice(out.group_detail_list());
        all.roles.extend_from_slice(out.role_detail_list());
        all.policies.extend_from_slice(out.policies());
        match out.marker() {
            Some(m) if out.is_truncated() && Some(m) != marker.as_deref() => {
                marker = Some(m.to_string())
            }
            _ => break,
        }
    }
    Part::Known(all.to_json())
}

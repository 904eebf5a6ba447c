//! AWS Organizations: the organization of an account as the World records it (docs/formats.md,
//! `Organization`): its id (`DescribeOrganization`, with the account's own credentials), whether
//! the account is the management account, and the SCPs and RCPs attached at every level from the
//! root down to the account (`ListRoots` for the enabled policy types, `ListParents` up to the
//! root, `ListPoliciesForTarget` per level and type, `DescribePolicy` for each policy's content).
//! The levels can be listed only from the management account or a delegated administrator.
//!
//! `AWSOrganizationsNotInUseException` from `DescribeOrganization` means the account is in no
//! organization: the part is absent. A policy type not enabled at the root applies to nobody: its
//! level list is empty. Anything that could not be read makes the whole part unknown with the
//! reason and the permission: the World keeps SCPs and RCPs in one part, so SCPs read without the
//! RCPs (or the other way round) cannot be recorded as known.

use std::collections::BTreeMap;
use std::sync::Mutex;

use aws_sdk_organizations::types::{ParentType, PolicyType};
use serde_json::{json, Value};

use super::errors::ApiFailure;
use super::Ctx;

/// `DescribeOrganization` and others: the account is in no organization.
pub const NOT_IN_USE: &str = "AWSOrganizationsNotInUseException";
/// `ListParents` from the management account: the account is not in this organization.
pub const CHILD_NOT_FOUND: &str = "ChildNotFoundException";
/// `ListParents` / `ListPoliciesForTarget`: no such account in this organization.
pub const ACCOUNT_NOT_FOUND: &str = "AccountNotFoundException";

/// The most levels between an account and the root (AWS allows five OU levels).
const MAX_DEPTH: usize = 10;

/// What `DescribeOrganization` says about an account's organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgInfo {
    /// `o-...`.
    pub id: String,
    /// The management account's id.
    pub management_account: String,
}

/// One level and the policies of one type attached there: `(name, id, content)`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LevelPolicies {
    /// `r-...`, `ou-...` or the account id.
    pub target: String,
    /// `(Name, Id, Content)` of each policy.
    pub policies: Vec<(String, String, String)>,
}

/// The World's `Organization` JSON (docs/formats.md).
pub fn organization_json(
    info: &OrgInfo,
    account_id: &str,
    scps: &[LevelPolicies],
    rcps: &[LevelPolicies],
) -> Value {
    let levels = |ls: &[LevelPolicies]| -> Value {
        Value::Array(
            ls.iter()
                .map(|l| {
                    json!({
                        "target": l.target,
                        "policies": l.policies.iter().map(|(name, id, content)| {
                            json!({"Name": name, "Id": id, "Content": content})
                        }).collect::<Vec<_>>(),
                    })
                })
                .collect(),
        )
    };
    json!({
        "id": info.id,
        "is_management_account": info.management_account == account_id,
        "scps": levels(scps),
        "rcps": levels(rcps),
    })
}

/// Whether a policy type applies, from the root's `PolicyTypes`: `Ok(true)` enabled,
/// `Ok(false)` not enabled (no policy of that type applies), `Err` while it is changing.
pub fn type_enabled(statuses: &[(String, String)], policy_type: &str) -> Result<bool, String> {
    match statuses.iter().find(|(t, _)| t == policy_type) {
        None => Ok(false),
        Some((_, s)) if s == "ENABLED" => Ok(true),
        Some((_, s)) => Err(format!(
            "policy type {policy_type} is {s} at the root (read again once it has settled)"
        )),
    }
}

/// The policy contents read so far in one collection, by policy id.
#[derive(Debug, Default)]
pub(crate) struct PolicyCache {
    contents: Mutex<BTreeMap<String, String>>,
}

impl PolicyCache {
    fn get(&self, id: &str) -> Option<String> {
        self.contents.lock().ok()?.get(id).cloned()
    }

    fn put(&self, id: &str, content: &str) {
        if let Ok(mut m) = self.contents.lock() {
            m.insert(id.to_string(), content.to_string());
        }
    }
}

/// A failed read: the failure and the permission it needed.
#[derive(Debug, Clone)]
pub(crate) struct OrgFailure {
    pub failure: ApiFailure,
    pub permission: &'static str,
    /// What was being read (`the OU path`, `SCPs at r-ab12` ...).
    pub what: String,
}

impl OrgFailure {
    fn new(failure: ApiFailure, permission: &'static str, what: String) -> OrgFailure {
        OrgFailure {
            failure,
            permission,
            what,
        }
    }

    /// Whether the account is not in the organization the reader belongs to.
    pub fn not_a_member(&self) -> bool {
        self.failure.has_code(&[CHILD_NOT_FOUND, ACCOUNT_NOT_FOUND])
    }
}

/// `DescribeOrganization` with the account's own clients: `Ok(None)` when the account is in no
/// organization.
pub(crate) async fn describe(ctx: &Ctx) -> Result<Option<OrgInfo>, String> {
    match ctx
        .call(ctx.clients.organizations.describe_organization().send())
        .await
    {
        Ok(out) => {
            let Some(o) = out.organization() else {
                return Err("DescribeOrganization returned no organization".into());
            };
            match (o.id(), o.master_account_id()) {
                (Some(id), Some(m)) => Ok(Some(OrgInfo {
                    id: id.to_string(),
                    management_account: m.to_string(),
                })),
                _ => Err("DescribeOrganization returned no id or management account".into()),
            }
        }
        Err(f) if f.has_code(&[NOT_IN_USE]) => Ok(None),
        Err(f) => Err(ctx.reason(&f, "organizations:DescribeOrganization")),
    }
}

/// Reads the SCPs and RCPs that apply to `account` with the reader's clients (the management
/// account's, or a delegated administrator's) and returns the World JSON.
pub(crate) async fn read_policies(
    ctx: &Ctx,
    account: &str,
    info: &OrgInfo,
    cache: &PolicyCache,
) -> Result<Value, OrgFailure> {
    let org = &ctx.clients.organizations;
    // The root and the policy types enabled there.
    let roots = ctx
        .call(org.list_roots().send())
        .await
        .map_err(|f| OrgFailure::new(f, "organizations:ListRoots", "the root".into()))?;
    let Some(root) = roots.roots().first() else {
        return Err(OrgFailure::new(
            ApiFailure::service(None, Some("ListRoots returned no root"), None),
            "organizations:ListRoots",
            "the root".into(),
        ));
    };
    let root_id = root.id().unwrap_or_default().to_string();
    let statuses: Vec<(String, String)> = root
        .policy_types()
        .iter()
        .filter_map(|t| {
            Some((
                t.r#type()?.as_str().to_string(),
                t.status()?.as_str().to_string(),
            ))
        })
        .collect();
    let enabled = |t: &PolicyType| {
        type_enabled(&statuses, t.as_str()).map_err(|why| {
            OrgFailure::new(
                ApiFailure::service(None, Some(&why), None),
                "organizations:ListRoots",
                "the enabled policy types".into(),
            )
        })
    };
    let scp_on = enabled(&PolicyType::ServiceControlPolicy)?;
    let rcp_on = enabled(&PolicyType::ResourceControlPolicy)?;

    // The path: the account's parents up to the root.
    let mut path: Vec<String> = vec![account.to_string()];
    let mut child = account.to_string();
    for _ in 0..MAX_DEPTH {
        let out = ctx
            .call(org.list_parents().child_id(&child).send())
            .await
            .map_err(|f| {
                OrgFailure::new(
                    f,
                    "organizations:ListParents",
                    format!("the parent of `{child}`"),
                )
            })?;
        let Some(parent) = out.parents().first() else {
            break;
        };
        let id = parent.id().unwrap_or_default().to_string();
        path.push(id.clone());
        if parent.r#type() == Some(&ParentType::Root) || id == root_id {
            break;
        }
        child = id;
    }
    if path.last() != Some(&root_id) {
        return Err(OrgFailure::new(
            ApiFailure::service(
                None,
                Some(&format!(
                    "the parents of `{account}` do not lead to the root `{root_id}`"
                )),
                None,
            ),
            "organizations:ListParents",
            "the OU path".into(),
        ));
    }
    path.reverse();

    let mut scps = Vec::new();
    let mut rcps = Vec::new();
    for target in &path {
        let (s, r) = tokio::join!(
            async {
                if scp_on {
                    level(ctx, target, PolicyType::ServiceControlPolicy, cache)
                        .await
                        .map(Some)
                } else {
                    Ok(None)
                }
            },
            async {
                if rcp_on {
                    level(ctx, target, PolicyType::ResourceControlPolicy, cache)
                        .await
                        .map(Some)
                } else {
                    Ok(None)
                }
            }
        );
        if let Some(l) = s? {
            scps.push(l);
        }
        if let Some(l) = r? {
            rcps.push(l);
        }
    }
    Ok(organization_json(info, account, &scps, &rcps))
}

/// The policies of `policy_type` attached to `target`, with their content.
async fn level(
    ctx: &Ctx,
    target: &str,
    policy_type: PolicyType,
    cache: &PolicyCache,
) -> Result<LevelPolicies, OrgFailure> {
    let kind = match policy_type {
        PolicyType::ResourceControlPolicy => "RCPs",
        _ => "SCPs",
    };
    let org = &ctx.clients.organizations;
    let mut summaries: Vec<(String, String)> = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = ctx
            .call(
                org.list_policies_for_target()
                    .target_id(target)
                    .filter(policy_type.clone())
                    .set_next_token(token.clone())
                    .send(),
            )
            .await
            .map_err(|f| {
                OrgFailure::new(
                    f,
                    "organizations:ListPoliciesForTarget",
                    format!("{kind} attached to `{target}`"),
                )
            })?;
        summaries.extend(out.policies().iter().filter_map(|p| {
            Some((
                p.id()?.to_string(),
                p.name().unwrap_or_default().to_string(),
            ))
        }));
        match out.next_token() {
            Some(t) if !t.is_empty() && Some(t) != token.as_deref() => token = Some(t.to_string()),
            _ => break,
        }
    }
    let mut policies = Vec::with_capacity(summaries.len());
    for (id, name) in summaries {
        let content = match cache.get(&id) {
            Some(c) => c,
            None => {
                let out = ctx
                    .call(org.describe_policy().policy_id(&id).send())
                    .await
                    .map_err(|f| {
                        OrgFailure::new(
                            f,
                            "organizations:DescribePolicy",
                            format!("the content of {kind} `{name}` ({id})"),
                        )
                    })?;
                let Some(c) = out.policy().and_then(|p| p.content()) else {
                    return Err(OrgFailure::new(
                        ApiFailure::service(None, Some("DescribePolicy returned no content"), None),
                        "organizations:DescribePolicy",
                        format!("the content of {kind} `{name}` ({id})"),
                    ));
                };
                cache.put(&id, c);
                c.to_string()
            }
        };
        policies.push((name, id, content));
    }
    Ok(LevelPolicies {
        target: target.to_string(),
        policies,
    })
}

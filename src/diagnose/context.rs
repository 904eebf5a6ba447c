//! What diagnosis reads besides the trace: the World, the Request and the resolved caller, with
//! look-ups from a trace's policy labels back to the policies and statements they name.

use crate::eval::caller::{Caller, CallerKind, Named};
use crate::eval::context::EvalContext;
use crate::eval::{PolicyRef, StatementTrace};
use crate::policy::{Policy, Statement};
use crate::request::Request;
use crate::world::{Bucket, World};

/// The diagnosis context.
pub(crate) struct Cx<'w> {
    pub world: &'w World,
    pub request: &'w Request,
    pub caller: Caller<'w>,
    /// `aws:EpochTime`, derived on first use (as in the authorizer).
    epoch: std::cell::OnceCell<Option<String>>,
}

impl<'w> Cx<'w> {
    pub fn new(world: &'w World, request: &'w Request) -> Cx<'w> {
        Cx {
            world,
            request,
            caller: Caller::resolve(world, request),
            epoch: std::cell::OnceCell::new(),
        }
    }

    /// The caller as a person would name it in a policy: the role ARN for a role session, the
    /// user / federated / root ARN, the service principal, or "anonymous callers".
    pub fn who(&self) -> String {
        let c = &self.caller;
        match c.kind {
            CallerKind::Anonymous => "anonymous callers".to_string(),
            CallerKind::Service => format!(
                "the service principal `{}`",
                c.service.unwrap_or("(unknown service)")
            ),
            CallerKind::OriginAccessIdentity => format!(
                "the CloudFront origin access identity `{}`",
                c.caller_arn.as_deref().unwrap_or("?")
            ),
            CallerKind::RoleSession => format!(
                "`{}`",
                c.principal_arn
                    .as_deref()
                    .or(c.caller_arn.as_deref())
                    .unwrap_or("?")
            ),
            _ => format!(
                "`{}`",
                c.caller_arn
                    .as_deref()
                    .or(c.principal_arn.as_deref())
                    .unwrap_or("?")
            ),
        }
    }

    /// The caller's ARN for `looked_in` texts (role ARN for a session).
    pub fn caller_arn(&self) -> String {
        let c = &self.caller;
        match c.kind {
            CallerKind::RoleSession => c
                .principal_arn
                .clone()
                .or(c.caller_arn.clone())
                .map(|a| a.into_owned()),
            _ => c
                .caller_arn
                .clone()
                .or(c.principal_arn.clone())
                .map(|a| a.into_owned()),
        }
        .unwrap_or_else(|| "the caller".to_string())
    }

    /// The policy a trace label names.
    pub fn policy_of(&self, label: &PolicyRef<'_>) -> Option<&'w Policy> {
        let w = self.world;
        match *label {
            PolicyRef::BucketPolicy { bucket } => w.bucket(bucket)?.policy.known(),
            PolicyRef::KeyPolicy { key_arn } => {
                w.kms_keys.iter().find(|k| k.arn == key_arn)?.policy.known()
            }
            PolicyRef::Managed { .. } | PolicyRef::Inline { .. } => self
                .caller
                .identity
                .iter()
                .find(|(l, _)| l == label)
                .map(|(_, p)| *p),
            PolicyRef::Boundary { .. } => self.caller.boundary.map(|(_, p)| p),
            PolicyRef::Session => self.caller.session_policy,
            PolicyRef::Scp { target, name } | PolicyRef::Rcp { target, name } => {
                let scp = matches!(label, PolicyRef::Scp { .. });
                w.accounts.iter().find_map(|a| {
                    let org = a.organization.known()?;
                    let levels = if scp { &org.scps } else { &org.rcps };
                    levels
                        .iter()
                        .filter(|l| l.target == target)
                        .flat_map(|l| l.policies.iter())
                        .find(|p| p.name == name)
                        .map(|p| &p.policy)
                })
            }
            PolicyRef::Vpce { id } => w.vpc_endpoint(id)?.policy.known(),
        }
    }

    /// The statement a trace entry names.
    pub fn statement_of(&self, st: &StatementTrace<'_>) -> Option<&'w Statement> {
        self.policy_of(&st.policy)?.statements.get(st.index)
    }

    /// How a resource-policy statement names the caller (`Direct` for a statement without a
    /// principal element, as the authorizer counts it).
    pub fn named_by(&self, st: &StatementTrace<'_>) -> Named {
        match self.statement_of(st).and_then(|s| s.principal.as_ref()) {
            Some(clause) => self
                .caller
                .principal_clause(clause)
                .unwrap_or(Named::Direct),
            None => Named::Direct,
        }
    }

    /// A condition context for re-matching statements against another resource (variables
    /// resolve from the caller and the request as in the authorizer).
    pub fn eval_context<'c>(&'c self, bucket: Option<&'c Bucket>) -> EvalContext<'c> {
        EvalContext {
            request: self.request,
            caller: &self.caller,
            resource_account: bucket.map(|b| b.account_id.as_str()).unwrap_or(""),
            resource_org_id: None,
            region: bucket.map(|b| b.region.as_str()).unwrap_or(""),
            kms: None,
            epoch_time: &self.epoch,
            signature_age: None,
        }
    }
}

/// `(bucket, key)` of an S3 ARN (`arn:P:s3:::bucket[/key]`).
pub(crate) fn split_s3_arn(arn: &str) -> Option<(&str, Option<&str>)> {
    let (_, rest) = arn.split_once(":::")?;
    Some(match rest.split_once('/') {
        Some((b, k)) => (b, Some(k)),
        None => (rest, None),
    })
}

pub(crate) use crate::eval::ownership::foreign_owner;

/// Object-level actions the authorizer evaluates in the object's own context.
pub(crate) fn uses_object_context(action: &str) -> bool {
    crate::eval::ownership::uses_object_context(&action.to_ascii_lowercase())
}

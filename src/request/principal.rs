//! Who makes the request: parsing of principal strings (`arn:aws:iam::111122223333:user/alice`,
//! assumed-role session ARNs, account ids, `anonymous`) and of `{"Service": "..."}` principals.
//!
//! Partitions `aws`, `aws-cn`, `aws-us-gov` (and the isolated `aws-iso*` ones) are accepted. IAM
//! paths are kept: `user/division/alice` has path `/division/` and name `alice`. A role ARN stands
//! for a session of that role, named [`DEFAULT_SESSION_NAME`].

use std::fmt;

use serde_json::{json, Value};

use super::RequestError;

/// Session name used when a role ARN (not a session ARN) is given as the principal.
pub const DEFAULT_SESSION_NAME: &str = "s3medic";

/// Partitions whose ARNs are accepted.
pub const PARTITIONS: &[&str] = &[
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
];

/// The principal that makes the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalRef {
    /// An unsigned request (`"anonymous"` or `"*"`).
    Anonymous,
    /// The account itself: `"111122223333"` or `arn:aws:iam::111122223333:root`.
    Account { account: String },
    /// An IAM user.
    User {
        account: String,
        path: String,
        name: String,
        arn: String,
    },
    /// A role given by its role ARN: stands for a session of that role named
    /// [`DEFAULT_SESSION_NAME`] (see [`PrincipalRef::session_arn`]).
    Role {
        account: String,
        path: String,
        name: String,
        arn: String,
    },
    /// A role session, `arn:aws:sts::A:assumed-role/R/S`.
    AssumedRole {
        account: String,
        role_name: String,
        session_name: String,
        arn: String,
    },
    /// A federated user session, `arn:aws:sts::A:federated-user/N`.
    FederatedUser {
        account: String,
        name: String,
        arn: String,
    },
    /// An AWS service principal such as `cloudfront.amazonaws.com`.
    Service { name: String },
}

impl PrincipalRef {
    /// The principal's account, when it has one (not for anonymous and service principals).
    pub fn account(&self) -> Option<&str> {
        match self {
            PrincipalRef::Account { account }
            | PrincipalRef::User { account, .. }
            | PrincipalRef::Role { account, .. }
            | PrincipalRef::AssumedRole { account, .. }
            | PrincipalRef::FederatedUser { account, .. } => Some(account),
            PrincipalRef::Anonymous | PrincipalRef::Service { .. } => None,
        }
    }

    /// The ARN as given, for users, roles and sessions.
    pub fn arn(&self) -> Option<&str> {
        match self {
            PrincipalRef::User { arn, .. }
            | PrincipalRef::Role { arn, .. }
            | PrincipalRef::AssumedRole { arn, .. }
            | PrincipalRef::FederatedUser { arn, .. } => Some(arn),
            _ => None,
        }
    }

    /// The partition named in the ARN, when the principal was given as an ARN.
    pub fn partition(&self) -> Option<&str> {
        self.arn().and_then(|a| a.split(':').nth(1))
    }

    /// The ARN of the session that makes the request: a role's session named
    /// [`DEFAULT_SESSION_NAME`], or the session ARN itself.
    pub fn session_arn(&self) -> Option<String> {
        match self {
            PrincipalRef::Role {
                account, name, arn, ..
            } => {
                let partition = arn.split(':').nth(1).unwrap_or("aws");
                Some(format!(
                    "arn:{partition}:sts::{account}:assumed-role/{name}/{DEFAULT_SESSION_NAME}"
                ))
            }
            PrincipalRef::AssumedRole { arn, .. } | PrincipalRef::FederatedUser { arn, .. } => {
                Some(arn.clone())
            }
            _ => None,
        }
    }

    /// The role's ARN for a role or a role session (`arn:P:iam::A:role/R`; a session ARN carries
    /// no path, so the path is `/` there).
    pub fn role_arn(&self) -> Option<String> {
        match self {
            PrincipalRef::Role { arn, .. } => Some(arn.clone()),
            PrincipalRef::AssumedRole {
                account,
                role_name,
                arn,
                ..
            } => {
                let partition = arn.split(':').nth(1).unwrap_or("aws");
                Some(format!("arn:{partition}:iam::{account}:role/{role_name}"))
            }
            _ => None,
        }
    }

    /// True for principals that are temporary sessions (roles, role sessions, federated users):
    /// the only ones that can carry a session policy and session tags.
    pub fn is_session(&self) -> bool {
        matches!(
            self,
            PrincipalRef::Role { .. }
                | PrincipalRef::AssumedRole { .. }
                | PrincipalRef::FederatedUser { .. }
        )
    }

    /// The JSON form used in a request document.
    pub fn to_value(&self) -> Value {
        match self {
            PrincipalRef::Service { name } => json!({ "Service": name }),
            other => Value::String(other.to_string()),
        }
    }

    /// Reads the JSON form: a principal string or `{"Service": "..."}`.
    pub fn from_value(value: &Value) -> Result<PrincipalRef, RequestError> {
        match value {
            Value::String(s) => parse_principal(s),
            Value::Object(map) => {
                let mut service = None;
                for (k, v) in map {
                    if k != "Service" {
                        return Err(RequestError::UnknownField {
                            field: k.clone(),
                            where_: "`principal`".into(),
                            allowed: vec!["Service"],
                        });
                    }
                    service = Some(v);
                }
                match service {
                    Some(Value::String(s)) if is_service_name(s) => {
                        Ok(PrincipalRef::Service { name: s.clone() })
                    }
                    Some(Value::String(s)) => Err(RequestError::InvalidPrincipal {
                        input: s.clone(),
                        reason: "a service principal is a name such as `cloudfront.amazonaws.com`"
                            .into(),
                    }),
                    Some(_) => Err(RequestError::field(
                        "principal",
                        "`Service` must be a string such as `cloudfront.amazonaws.com`",
                    )),
                    None => Err(RequestError::field(
                        "principal",
                        "an object principal must be `{\"Service\": \"...\"}`",
                    )),
                }
            }
            _ => Err(RequestError::field(
                "principal",
                "must be a string (an arn, an account id or `anonymous`) or `{\"Service\": \"...\"}`",
            )),
        }
    }
}

impl fmt::Display for PrincipalRef {
    /// The string form: `anonymous`, the account id, the ARN, or the service name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PrincipalRef::Anonymous => f.write_str("anonymous"),
            PrincipalRef::Account { account } => f.write_str(account),
            PrincipalRef::Service { name } => f.write_str(name),
            PrincipalRef::User { arn, .. }
            | PrincipalRef::Role { arn, .. }
            | PrincipalRef::AssumedRole { arn, .. }
            | PrincipalRef::FederatedUser { arn, .. } => f.write_str(arn),
        }
    }
}

fn is_service_name(s: &str) -> bool {
    !s.is_empty()
        && s.contains('.')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
}

/// True for a 12-digit AWS account id.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Characters allowed in IAM user, role and session names.
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "+=,.@_-".contains(c)
}

/// Parses a principal string.
///
/// Accepted: `anonymous` / `*`; a 12-digit account id; `arn:P:iam::A:root`;
/// `arn:P:iam::A:user/[path/]name`; `arn:P:iam::A:role/[path/]name`;
/// `arn:P:sts::A:assumed-role/ROLE/SESSION`; `arn:P:sts::A:federated-user/NAME`; a service
/// principal name such as `cloudfront.amazonaws.com`; and the CloudFront origin access identity
/// user `arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity ID` (account `cloudfront`).
pub fn parse_principal(s: &str) -> Result<PrincipalRef, RequestError> {
    let bad = |reason: &str| RequestError::InvalidPrincipal {
        input: s.to_string(),
        reason: reason.to_string(),
    };
    if s == "*" || s.eq_ignore_ascii_case("anonymous") {
        return Ok(PrincipalRef::Anonymous);
    }
    if is_account_id(s) {
        return Ok(PrincipalRef::Account {
            account: s.to_string(),
        });
    }
    if !s.starts_with("arn:") {
        if s.ends_with(".amazonaws.com") && is_service_name(s) {
            return Ok(PrincipalRef::Service {
                name: s.to_string(),
            });
        }
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("account id must be 12 digits"));
        }
        return Err(bad(
            "expected an iam or sts arn, a 12-digit account id, `anonymous` or `{\"Service\": \"...\"}`",
        ));
    }
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    if parts.len() != 6 {
        return Err(bad(
            "an arn has six `:`-separated parts: arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE",
        ));
    }
    let (partition, service, region, account, resource) =
        (parts[1], parts[2], parts[3], parts[4], parts[5]);
    if !PARTITIONS.contains(&partition) {
        return Err(bad(&format!(
            "unknown partition `{partition}` (expected {})",
            PARTITIONS.join(", ")
        )));
    }
    if service != "iam" && service != "sts" {
        return Err(bad(&format!(
            "only iam and sts arns name a principal, not `{service}` arns"
        )));
    }
    if !region.is_empty() {
        return Err(bad("iam and sts arns have an empty region"));
    }
    // CloudFront origin access identities live in the pseudo-account `cloudfront`.
    if service == "iam" && account == "cloudfront" {
        if let Some(name) = resource.strip_prefix("user/") {
            if name.starts_with("CloudFront Origin Access Identity ") {
                return Ok(PrincipalRef::User {
                    account: account.to_string(),
                    path: "/".to_string(),
                    name: name.to_string(),
                    arn: s.to_string(),
                });
            }
        }
    }
    if !is_account_id(account) {
        return Err(bad("account id must be 12 digits"));
    }
    let account = account.to_string();
    match service {
        "iam" => {
            if resource == "root" {
                return Ok(PrincipalRef::Account { account });
            }
            let (kind, rest) = resource.split_once('/').ok_or_else(|| {
                bad("an iam principal arn ends in `root`, `user/NAME` or `role/NAME`")
            })?;
            let (path, name) = split_path(rest).map_err(|r| bad(&r))?;
            match kind {
                "user" => Ok(PrincipalRef::User {
                    account,
                    path,
                    name,
                    arn: s.to_string(),
                }),
                "role" => Ok(PrincipalRef::Role {
                    account,
                    path,
                    name,
                    arn: s.to_string(),
                }),
                "group" => Err(bad("a group cannot make requests; name one of its users")),
                "policy" => Err(bad("a policy is not a principal")),
                other => Err(bad(&format!(
                    "`{other}` is not an iam principal type (expected `user` or `role`)"
                ))),
            }
        }
        _ => {
            if let Some(rest) = resource.strip_prefix("assumed-role/") {
                let (role_name, session_name) = rest
                    .split_once('/')
                    .ok_or_else(|| bad("a role session arn ends in `assumed-role/ROLE/SESSION`"))?;
                check_name(role_name, "role name").map_err(|r| bad(&r))?;
                check_name(session_name, "session name").map_err(|r| bad(&r))?;
                Ok(PrincipalRef::AssumedRole {
                    account,
                    role_name: role_name.to_string(),
                    session_name: session_name.to_string(),
                    arn: s.to_string(),
                })
            } else if let Some(name) = resource.strip_prefix("federated-user/") {
                check_name(name, "federated user name").map_err(|r| bad(&r))?;
                Ok(PrincipalRef::FederatedUser {
                    account,
                    name: name.to_string(),
                    arn: s.to_string(),
                })
            } else {
                Err(bad(
                    "an sts principal arn ends in `assumed-role/ROLE/SESSION` or `federated-user/NAME`",
                ))
            }
        }
    }
}

/// `division/alice` → (`/division/`, `alice`); `alice` → (`/`, `alice`).
fn split_path(rest: &str) -> Result<(String, String), String> {
    let (dirs, name) = match rest.rsplit_once('/') {
        Some((dirs, name)) => (Some(dirs), name),
        None => (None, rest),
    };
    check_name(name, "name")?;
    let path = match dirs {
        None => "/".to_string(),
        Some(dirs) => {
            if dirs.split('/').any(|seg| seg.is_empty()) {
                return Err("the iam path has an empty segment".to_string());
            }
            if !dirs.chars().all(|c| ('\u{21}'..='\u{7e}').contains(&c)) {
                return Err("the iam path has a character outside printable ascii".to_string());
            }
            format!("/{dirs}/")
        }
    };
    Ok((path, name.to_string()))
}

fn check_name(name: &str, what: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err(format!("the {what} is empty"));
    }
    if let Some(c) = name.chars().find(|c| !is_name_char(*c)) {
        return Err(format!(
            "the {what} `{name}` contains `{c}` (allowed: letters, digits and +=,.@_-)"
        ));
    }
    Ok(())
}

//! VPC endpoints (`aws ec2 describe-vpc-endpoints` items) and their endpoint policies.

use serde_json::{Map, Value};

use super::error::WorldError;
use super::part::{
    as_object, opt_str, parse_part, parse_policy_doc, put_opt, put_str, req_str, Part,
};
use crate::policy::Policy;

/// A VPC endpoint a request can come through.
#[derive(Debug, Clone, PartialEq)]
pub struct VpcEndpoint {
    /// `VpcEndpointId` (`vpce-...`): the value of `aws:SourceVpce`.
    pub id: String,
    /// `VpcId`: the value of `aws:SourceVpc`.
    pub vpc_id: Option<String>,
    /// `ServiceName` (`com.amazonaws.REGION.s3`).
    pub service_name: Option<String>,
    pub owner_id: Option<String>,
    /// `VpcEndpointType`: `Gateway` or `Interface`.
    pub endpoint_type: Option<String>,
    /// `PolicyDocument`; absent means the default full-access policy.
    pub policy: Part<Policy>,
}

impl VpcEndpoint {
    pub(crate) fn from_value(v: &Value, index: usize) -> Result<VpcEndpoint, WorldError> {
        let p0 = format!("`vpc_endpoints[{index}]`");
        let m = as_object(v, &p0)?;
        let id = req_str(m, "VpcEndpointId", &p0)?;
        let p = format!("vpc endpoint `{id}`");
        let pp = format!("{p}: endpoint policy");
        Ok(VpcEndpoint {
            vpc_id: opt_str(m, "VpcId", &p)?,
            service_name: opt_str(m, "ServiceName", &p)?,
            owner_id: opt_str(m, "OwnerId", &p)?,
            endpoint_type: opt_str(m, "VpcEndpointType", &p)?,
            policy: parse_part(m.get("PolicyDocument"), &pp, |v| parse_policy_doc(v, &pp))?,
            id,
        })
    }

    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        put_str(&mut m, "VpcEndpointId", &self.id);
        put_opt(&mut m, "VpcId", &self.vpc_id);
        put_opt(&mut m, "ServiceName", &self.service_name);
        put_opt(&mut m, "OwnerId", &self.owner_id);
        put_opt(&mut m, "VpcEndpointType", &self.endpoint_type);
        if !self.policy.is_absent() {
            m.insert(
                "PolicyDocument".into(),
                self.policy.to_value_with(Policy::to_value),
            );
        }
        Value::Object(m)
    }
}

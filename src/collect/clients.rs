//! The AWS SDK clients a collection uses, built from the standard credential chain (aws-config)
//! with the profile, region, endpoint URL and retry settings of [`ConnectOptions`].
//!
//! With a custom endpoint (`--endpoint-url`, or the SDK's `AWS_ENDPOINT_URL*` variables) S3 uses
//! path-style addressing, and S3 Control is given a fixed endpoint: its endpoint rules otherwise
//! put the account id in front of the host (`123456789012.127.0.0.1`), which does not resolve.

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_s3control::config::endpoint::{Endpoint, EndpointFuture, Params, ResolveEndpoint};

use super::errors::CollectError;

/// How to connect to AWS.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectOptions {
    /// The named profile (`--profile`); default: the SDK's (AWS_PROFILE or `default`).
    pub profile: Option<String>,
    /// The region (`--region`); default: the SDK's (AWS_REGION, the profile), else us-east-1.
    pub region: Option<String>,
    /// A custom endpoint for every service (`--endpoint-url`), e.g. a local emulator.
    pub endpoint_url: Option<String>,
    /// Maximum attempts per call with the standard retry mode (default 3; 1 disables retries).
    pub max_attempts: Option<u32>,
    /// A role to assume (STS AssumeRole) with the credentials above before any call
    /// (`--role-arn`): every client then acts as that role.
    pub role_arn: Option<String>,
    /// The external id the role's trust policy requires, if any (`--external-id`).
    pub external_id: Option<String>,
}

/// The session name s3medic gives the sessions it starts with AssumeRole (visible in CloudTrail).
pub const ROLE_SESSION_NAME: &str = "s3medic";

/// The region used when none is configured.
pub const DEFAULT_REGION: &str = "us-east-1";

/// The default maximum number of attempts per call.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;

/// The SDK clients of one collection (cheap to clone: the SDK clients share their state).
#[derive(Debug, Clone)]
pub struct Clients {
    /// S3 in the configured region.
    pub s3: aws_sdk_s3::Client,
    /// S3 Control (account Block Public Access).
    pub s3control: aws_sdk_s3control::Client,
    /// IAM.
    pub iam: aws_sdk_iam::Client,
    /// KMS in the configured region.
    pub kms: aws_sdk_kms::Client,
    /// CloudFront.
    pub cloudfront: aws_sdk_cloudfront::Client,
    /// AWS Organizations (SCPs, RCPs, the OU path of an account).
    pub organizations: aws_sdk_organizations::Client,
    /// STS.
    pub sts: aws_sdk_sts::Client,
    /// The configured region.
    pub region: String,
    /// The custom endpoint URL, when one is set (by option or environment).
    pub endpoint: Option<String>,
    config: SdkConfig,
}

impl Clients {
    /// Loads the SDK configuration (credential chain, profile, region, endpoint, retries) and
    /// builds every client. Fails only when the configuration itself is unusable; credentials are
    /// checked by the first call.
    pub async fn connect(opts: &ConnectOptions) -> Result<Clients, CollectError> {
        let attempts = opts.max_attempts.unwrap_or(DEFAULT_MAX_ATTEMPTS);
        if attempts == 0 {
            return Err(CollectError::Config(
                "max attempts must be at least 1".into(),
            ));
        }
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::standard().with_max_attempts(attempts));
        if let Some(p) = &opts.profile {
            loader = loader.profile_name(p);
        }
        if let Some(r) = &opts.region {
            loader = loader.region(Region::new(r.clone()));
        }
        if let Some(e) = &opts.endpoint_url {
            if !(e.starts_with("http://") || e.starts_with("https://")) {
                return Err(CollectError::Config(format!(
                    "endpoint URL `{e}` must start with http:// or https://"
                )));
            }
            loader = loader.endpoint_url(e);
        }
        let mut config = loader.load().await;
        if config.region().is_none() {
            config = config
                .into_builder()
                .region(Region::new(DEFAULT_REGION))
                .build();
        }
        match &opts.role_arn {
            None => Ok(Clients::from_config(config)),
            Some(role) => Ok(Clients::from_config(
                assume_role_config(&config, role, opts.external_id.as_deref()).await?,
            )),
        }
    }

    /// Clients acting as `role_arn`, assumed with these clients' credentials (a role per account
    /// in a bulk run). Same region, endpoint and retry settings.
    pub async fn assume(
        &self,
        role_arn: &str,
        external_id: Option<&str>,
    ) -> Result<Clients, CollectError> {
        Ok(Clients::from_config(
            assume_role_config(&self.config, role_arn, external_id).await?,
        ))
    }

    /// Clients for unit tests: built from a bare configuration, never called (building clients
    /// makes no call).
    #[cfg(test)]
    pub(crate) fn offline() -> Clients {
        Clients::from_config(
            SdkConfig::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new(DEFAULT_REGION))
                .build(),
        )
    }

    /// The SDK configuration the clients were built from.
    pub fn sdk_config(&self) -> &SdkConfig {
        &self.config
    }

    /// Builds every client from a loaded SDK configuration.
    pub fn from_config(config: SdkConfig) -> Clients {
        let region = config
            .region()
            .map_or(DEFAULT_REGION.to_string(), |r| r.to_string());
        let endpoint = config
            .endpoint_url()
            .map(str::to_string)
            .or_else(|| env_endpoint("S3"));
        let s3control = {
            let b = aws_sdk_s3control::config::Builder::from(&config)
                .endpoint_resolver(FixedHostResolver::default());
            aws_sdk_s3control::Client::from_conf(b.build())
        };
        let mut clients = Clients {
            s3: s3_client(&config, endpoint.is_some()),
            s3control,
            iam: aws_sdk_iam::Client::new(&config),
            kms: aws_sdk_kms::Client::new(&config),
            cloudfront: aws_sdk_cloudfront::Client::new(&config),
            organizations: aws_sdk_organizations::Client::new(&config),
            sts: aws_sdk_sts::Client::new(&config),
            region,
            endpoint,
            config,
        };
        clients.region = clients.region.trim().to_string();
        clients
    }

    /// An S3 client for `region` (buckets answer only in their own region).
    pub fn s3_in(&self, region: &str) -> aws_sdk_s3::Client {
        if region == self.region {
            return self.s3.clone();
        }
        let config = self
            .config
            .clone()
            .into_builder()
            .region(Region::new(region.to_string()))
            .build();
        s3_client(&config, self.endpoint.is_some())
    }

    /// A KMS client for `region` (a key is read in its own region).
    pub fn kms_in(&self, region: &str) -> aws_sdk_kms::Client {
        if region == self.region || region.is_empty() {
            return self.kms.clone();
        }
        let config = self
            .config
            .clone()
            .into_builder()
            .region(Region::new(region.to_string()))
            .build();
        aws_sdk_kms::Client::new(&config)
    }
}

/// `config` with its credentials replaced by an STS AssumeRole provider for `role_arn` (the
/// session is started lazily by the first call and refreshed before it expires).
async fn assume_role_config(
    config: &SdkConfig,
    role_arn: &str,
    external_id: Option<&str>,
) -> Result<SdkConfig, CollectError> {
    if !valid_role_arn(role_arn) {
        return Err(CollectError::Config(format!(
            "role ARN `{role_arn}` is not an IAM role ARN (arn:PARTITION:iam::ACCOUNT:role/NAME)"
        )));
    }
    let mut b = aws_config::sts::AssumeRoleProvider::builder(role_arn)
        .configure(config)
        .session_name(ROLE_SESSION_NAME);
    if let Some(id) = external_id {
        b = b.external_id(id);
    }
    let provider = b.build().await;
    Ok(config
        .clone()
        .into_builder()
        .credentials_provider(aws_sdk_sts::config::SharedCredentialsProvider::new(
            provider,
        ))
        .build())
}

/// Whether `arn` has the shape of an IAM role ARN.
pub fn valid_role_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && !parts[1].is_empty()
        && parts[2] == "iam"
        && parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5].starts_with("role/")
        && parts[5].len() > "role/".len()
}

fn s3_client(config: &SdkConfig, path_style: bool) -> aws_sdk_s3::Client {
    let b = aws_sdk_s3::config::Builder::from(config).force_path_style(path_style);
    aws_sdk_s3::Client::from_conf(b.build())
}

/// `AWS_ENDPOINT_URL_<SERVICE>` when set and not empty.
fn env_endpoint(service: &str) -> Option<String> {
    std::env::var(format!("AWS_ENDPOINT_URL_{service}"))
        .ok()
        .filter(|s| !s.is_empty())
}

/// The S3 Control endpoint resolver: the SDK's default rules, except that with a custom endpoint
/// the endpoint's URL is used as given (no `ACCOUNT.` host prefix), keeping the rules' headers and
/// signing properties.
#[derive(Debug, Default)]
pub struct FixedHostResolver {
    inner: aws_sdk_s3control::config::endpoint::DefaultResolver,
}

impl ResolveEndpoint for FixedHostResolver {
    fn resolve_endpoint<'a>(&'a self, params: &'a Params) -> EndpointFuture<'a> {
        let resolved = self.inner.resolve_endpoint(params);
        match params.endpoint() {
            None => resolved,
            Some(url) => {
                let url = url.to_string();
                EndpointFuture::new(async move {
                    let ep: Endpoint = resolved.await?;
                    Ok(ep.into_builder().url(url).build())
                })
            }
        }
    }
}

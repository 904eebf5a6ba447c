//! The local AWS emulator for the live tests (tests/live_*.rs): starts a private moto server on a
//! free port, waits until it answers, and kills it when dropped; builds AWS SDK clients pointed at
//! it for setting up the state under test; and prepares `s3medic` subprocesses with credentials
//! for it. See the README, "Tests", and the comments below for moto quirks.
//!
//! The server binary comes from `S3MEDIC_MOTO_SERVER` or `.venv/bin/moto_server` in the repository
//! (`bash scripts/test.sh` installs it). A missing server is a test failure, never a skip.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// moto's default account id.
pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "us-east-1";
/// Any key pair works with moto (its own enforcement is off); these are AWS's documentation keys.
pub const ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
pub const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running moto server, killed on drop.
pub struct Moto {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    pub port: u16,
    /// The server's stdout/stderr.
    pub log: PathBuf,
    child: Child,
}

/// The moto server executable: `S3MEDIC_MOTO_SERVER`, else `.venv/bin/moto_server`; panics when
/// neither exists.
pub fn moto_server_path() -> PathBuf {
    let from_env = std::env::var_os("S3MEDIC_MOTO_SERVER")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let candidates = from_env.into_iter().chain(std::iter::once(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/moto_server"),
    ));
    for c in candidates {
        if c.is_file() {
            return c;
        }
    }
    panic!(
        "moto server not found: run `bash scripts/test.sh` (it installs moto into .venv) or set \
         S3MEDIC_MOTO_SERVER"
    );
}

/// A port on 127.0.0.1 that was free a moment ago (nothing listens on it).
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

/// One plain HTTP/1.1 request; returns the status code, or None when nothing answers yet.
fn http_status(port: u16, method: &str, path: &str) -> Option<u16> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.set_write_timeout(Some(Duration::from_secs(5))).ok()?;
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf);
    let status = text.lines().next()?.split_whitespace().nth(1)?;
    status.parse().ok()
}

impl Moto {
    /// Starts a fresh server on a free port and waits (up to 30 s) until `GET /moto-api/` answers.
    pub fn start() -> Moto {
        let server = moto_server_path();
        let mut last_err = String::new();
        // A port picked free can be taken before moto binds it: retry with a new port.
        for _attempt in 0..3 {
            let port = free_port();
            let log = std::env::temp_dir()
                .join(format!("s3medic-moto-{}-{port}.log", std::process::id()));
            let out = std::fs::File::create(&log).expect("create moto log file");
            let err = out.try_clone().expect("clone moto log file");
            let child = Command::new(&server)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", server.display()));
            let mut moto = Moto {
                endpoint: format!("http://127.0.0.1:{port}"),
                port,
                log,
                child,
            };
            let deadline = Instant::now() + START_TIMEOUT;
            loop {
                if http_status(port, "GET", "/moto-api/").is_some_and(|s| s < 500) {
                    return moto;
                }
                if let Ok(Some(status)) = moto.child.try_wait() {
                    last_err = format!(
                        "moto server exited ({status}) before answering on port {port}; log {}:\n{}",
                        moto.log.display(),
                        std::fs::read_to_string(&moto.log).unwrap_or_default()
                    );
                    break;
                }
                if Instant::now() > deadline {
                    panic!(
                        "moto server did not answer on port {port} within {}s; log {}:\n{}",
                        START_TIMEOUT.as_secs(),
                        moto.log.display(),
                        std::fs::read_to_string(&moto.log).unwrap_or_default()
                    );
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        panic!("{last_err}");
    }

    /// `POST /moto-api/reset`: forgets all state.
    pub fn reset(&self) {
        let st = http_status(self.port, "POST", "/moto-api/reset");
        assert_eq!(st, Some(200), "moto reset failed");
    }

    /// The shared SDK configuration for setup clients: static credentials, us-east-1, this
    /// endpoint, no retries (a failing setup call fails the test at once).
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        let creds =
            aws_sdk_s3::config::Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "moto");
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .credentials_provider(creds)
            .region(aws_config::Region::new(REGION))
            .endpoint_url(&self.endpoint)
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .load()
            .await
    }

    /// An S3 client with path-style addressing.
    pub async fn s3(&self) -> aws_sdk_s3::Client {
        s3_of(&self.sdk_config().await)
    }

    pub async fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.sdk_config().await)
    }

    pub async fn kms(&self) -> aws_sdk_kms::Client {
        aws_sdk_kms::Client::new(&self.sdk_config().await)
    }

    /// An s3control client with a fixed endpoint: the SDK's rules would put the account id in
    /// front of the host (`123456789012.127.0.0.1`), which does not resolve.
    pub async fn s3control(&self) -> aws_sdk_s3control::Client {
        let conf = aws_sdk_s3control::config::Builder::from(&self.sdk_config().await)
            .endpoint_resolver(FixedEndpoint(self.endpoint.clone()))
            .build();
        aws_sdk_s3control::Client::from_conf(conf)
    }

    /// `s3medic` as a subprocess with credentials and region for this server (see
    /// [`isolated_s3medic`]; the endpoint is given by flag).
    pub fn s3medic(&self) -> Command {
        isolated_s3medic()
    }
}

/// `s3medic` as a subprocess with static credentials and region, isolated from the caller's AWS
/// configuration (no profile, no config files, no instance metadata, no endpoint override).
pub fn isolated_s3medic() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_s3medic"));
    c.env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env("AWS_REGION", REGION)
        .env("AWS_DEFAULT_REGION", REGION)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/s3medic-test/config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/s3medic-test/credentials",
        )
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_ENDPOINT_URL")
        .env("NO_COLOR", "1");
    c
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("moto server log kept: {}", self.log.display());
        } else {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

#[derive(Debug)]
struct FixedEndpoint(String);

impl aws_sdk_s3control::config::endpoint::ResolveEndpoint for FixedEndpoint {
    fn resolve_endpoint<'a>(
        &'a self,
        _params: &'a aws_sdk_s3control::config::endpoint::Params,
    ) -> aws_sdk_s3control::config::endpoint::EndpointFuture<'a> {
        aws_sdk_s3control::config::endpoint::EndpointFuture::ready(Ok(
            aws_sdk_s3control::config::endpoint::Endpoint::builder()
                .url(self.0.clone())
                .build(),
        ))
    }
}

/// A unique-enough lowercase name suffix for buckets, users and roles of one test.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// The value of an AWS SDK result, or a panic naming the call and the full error chain.
pub fn must<T, E: std::error::Error>(r: Result<T, E>, what: &str) -> T {
    r.unwrap_or_else(|e| panic!("{what}: {}", aws_sdk_s3::error::DisplayErrorContext(&e)))
}

/// A policy document compiled by s3medic's parser, for semantic comparison with the World.
pub fn policy(v: &Value) -> s3medic::policy::Policy {
    s3medic::policy::parse_policy_value(v).expect("test policy parses")
}

/// The SDK configuration of a session in `account`: AssumeRole with moto's default credentials
/// into `arn:aws:iam::{account}:role/{role}` as `session` (moto starts the session in the role's
/// account whether or not the role exists), checked with GetCallerIdentity.
pub async fn config_in(
    moto: &Moto,
    account: &str,
    role: &str,
    session: &str,
) -> aws_config::SdkConfig {
    let base = moto.sdk_config().await;
    let sts = aws_sdk_sts::Client::new(&base);
    let out = must(
        sts.assume_role()
            .role_arn(format!("arn:aws:iam::{account}:role/{role}"))
            .role_session_name(session)
            .send()
            .await,
        "AssumeRole",
    );
    let c = out.credentials().expect("credentials");
    let creds = aws_sdk_s3::config::Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        None,
        "assumed",
    );
    let config = base
        .into_builder()
        .credentials_provider(aws_sdk_s3::config::SharedCredentialsProvider::new(creds))
        .build();
    let who = must(
        aws_sdk_sts::Client::new(&config)
            .get_caller_identity()
            .send()
            .await,
        "GetCallerIdentity",
    );
    assert_eq!(
        who.account(),
        Some(account),
        "the session acts in {account}"
    );
    config
}

/// An S3 client with path-style addressing for `config`.
pub fn s3_of(config: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(true)
            .build(),
    )
}

/// Creates `bucket` and puts one object `key` holding `body` into it.
pub async fn bucket_with_object(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    body: &'static [u8],
) {
    create_bucket(s3, bucket).await;
    must(
        s3.put_object()
            .bucket(bucket)
            .key(key)
            .body(aws_sdk_s3::primitives::ByteStream::from_static(body))
            .send()
            .await,
        "PutObject",
    );
}

/// Creates `bucket`.
pub async fn create_bucket(s3: &aws_sdk_s3::Client, bucket: &str) {
    must(
        s3.create_bucket().bucket(bucket).send().await,
        "CreateBucket",
    );
}

/// Puts `doc` as the bucket policy of `bucket`.
pub async fn put_bucket_policy(s3: &aws_sdk_s3::Client, bucket: &str, doc: &Value) {
    must(
        s3.put_bucket_policy()
            .bucket(bucket)
            .policy(doc.to_string())
            .send()
            .await,
        "PutBucketPolicy",
    );
}

/// Puts one object `key` holding `body` into `bucket`; with `kms`, SSE-KMS encrypted under a new
/// key from [`key_for_admin_only`], whose ARN and original policy are returned.
pub async fn put_object(
    moto: &Moto,
    s3: &aws_sdk_s3::Client,
    [bucket, key]: [&str; 2],
    body: &'static [u8],
    kms: bool,
) -> Option<(String, Value)> {
    let mut put = s3
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(aws_sdk_s3::primitives::ByteStream::from_static(body));
    let mut kms_out = None;
    if kms {
        let (key_id, key_arn, key_policy) = key_for_admin_only(moto).await;
        put = put
            .server_side_encryption(aws_sdk_s3::types::ServerSideEncryption::AwsKms)
            .ssekms_key_id(&key_id);
        kms_out = Some((key_arn, key_policy));
    }
    must(put.send().await, "PutObject");
    kms_out
}

/// Creates IAM user `name`; returns its ARN.
pub async fn create_user(iam: &aws_sdk_iam::Client, name: &str) -> String {
    let user = must(iam.create_user().user_name(name).send().await, "CreateUser");
    user.user().expect("user").arn().to_string()
}

/// Puts the inline policy `name` (`doc`) on user `user`.
pub async fn put_user_policy(iam: &aws_sdk_iam::Client, user: &str, name: &str, doc: &Value) {
    must(
        iam.put_user_policy()
            .user_name(user)
            .policy_name(name)
            .policy_document(doc.to_string())
            .send()
            .await,
        &format!("PutUserPolicy {name}"),
    );
}

/// Creates a KMS key whose key policy (returned with the key id and ARN) names only a new key
/// administrator role of this account, so that no other principal is granted by the key policy.
pub async fn key_for_admin_only(moto: &Moto) -> (String, String, Value) {
    let iam = moto.iam().await;
    let kms = moto.kms().await;
    let role = must(
        iam.create_role()
            .role_name(unique("KeyAdmin"))
            .assume_role_policy_document(
                serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                    "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
                    "Action": "sts:AssumeRole"}]})
                .to_string(),
            )
            .send()
            .await,
        "CreateRole",
    );
    let admin = role.role().expect("role").arn().to_string();
    let key_policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "KeyAdmin", "Effect": "Allow",
            "Principal": {"AWS": admin}, "Action": "kms:*", "Resource": "*"}]
    });
    let created = must(kms.create_key().send().await, "CreateKey");
    let meta = created.key_metadata().expect("key metadata");
    let key_id = meta.key_id().to_string();
    let key_arn = meta.arn().expect("key arn").to_string();
    must(
        kms.put_key_policy()
            .key_id(&key_id)
            .policy_name("default")
            .policy(key_policy.to_string())
            .send()
            .await,
        "PutKeyPolicy",
    );
    (key_id, key_arn, key_policy)
}

//! Shared by the integration tests: a small known org, SDK configs pointed at the emulator, and
//! a bare HTTP client for the admin API.

use std::time::{Duration, SystemTime};

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_sdk_sts::error::SdkError;
use aws_sdk_sts::operation::assume_root::{AssumeRootError, AssumeRootOutput};
use aws_sdk_sts::types::PolicyDescriptorType;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use rootsweep_emulator::{
    DEFAULT_CALLER_ACCESS_KEY_ID, DEFAULT_CALLER_SECRET_ACCESS_KEY, EmulatorHandle, Org,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub const MANAGEMENT: &str = "111111111111";
/// Password, two access keys, a signing certificate, a virtual and a hardware MFA device.
pub const FULL: &str = "222222222222";
/// No credentials, but a password was used 200 days ago.
pub const CLEAN: &str = "333333333333";
pub const SUSPENDED: &str = "444444444444";
pub const ACTIVE_KEY: &str = "AKIAFULLACTIVEKEY001";
pub const UNUSED_KEY: &str = "AKIAFULLUNUSEDKEY002";
pub const VIRTUAL_MFA: &str = "arn:aws:iam::222222222222:mfa/root-account-mfa-device";
pub const HARDWARE_MFA: &str = "GAHT12345678";

pub const AUDIT: &str = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials";
pub const DELETE: &str = "arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials";

pub fn test_org() -> Org {
    Org::from_json(
        r#"{
        "organization_id": "o-testorg123",
        "management_account_id": "111111111111",
        "organizational_units": [
            {"id": "ou-test-workload", "name": "Workloads"},
            {"id": "ou-test-legacy01", "name": "Legacy", "parent": "ou-test-workload"}
        ],
        "accounts": [
            {"id": "111111111111", "name": "management", "email": "mgmt@example.com"},
            {"id": "222222222222", "name": "full", "email": "full@example.com", "parent": "ou-test-workload",
             "root_user": {
                "created": "-400d",
                "password_last_used": "-10d",
                "login_profile": {"created": "-100d"},
                "access_keys": [
                    {"id": "AKIAFULLACTIVEKEY001", "created": "-300d",
                     "last_used": {"date": "-1d", "service": "s3", "region": "eu-west-1"}},
                    {"id": "AKIAFULLUNUSEDKEY002", "status": "Inactive", "created": "-200d"}
                ],
                "signing_certificates": [{"id": "CERT0000000000000000000000000001", "uploaded": "-50d"}],
                "mfa_devices": [
                    {"serial": "arn:aws:iam::222222222222:mfa/root-account-mfa-device", "kind": "virtual", "enabled": "-90d"},
                    {"serial": "GAHT12345678", "kind": "hardware", "enabled": "-80d"}
                ]
             }},
            {"id": "333333333333", "name": "clean", "email": "clean@example.com", "parent": "ou-test-legacy01",
             "tags": {"rootsweep:exempt": "true"},
             "root_user": {"password_last_used": "-200d"}},
            {"id": "444444444444", "name": "suspended", "email": "suspended@example.com", "state": "SUSPENDED",
             "root_user": {"login_profile": {"created": "-30d"}}}
        ]
    }"#,
    )
    .expect("the test org is valid")
}

/// An SDK config for the emulator with fast standard retries (3 attempts).
pub async fn config(emulator: &EmulatorHandle, credentials: Credentials) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(emulator.url())
        .region(Region::new("us-east-1"))
        .credentials_provider(credentials)
        .retry_config(RetryConfig::standard().with_initial_backoff(Duration::from_millis(5)))
        .load()
        .await
}

/// The caller's own static credentials (not a root session).
pub async fn caller_config(emulator: &EmulatorHandle) -> SdkConfig {
    config(
        emulator,
        Credentials::new(
            DEFAULT_CALLER_ACCESS_KEY_ID,
            DEFAULT_CALLER_SECRET_ACCESS_KEY,
            None,
            None,
            "test",
        ),
    )
    .await
}

/// AssumeRoot signed with `config`'s credentials (the caller's, or a session's to test refusals).
pub async fn assume_root(
    config: &SdkConfig,
    account: &str,
    task_policy_arn: &str,
    duration_seconds: i32,
) -> Result<AssumeRootOutput, SdkError<AssumeRootError>> {
    aws_sdk_sts::Client::new(config)
        .assume_root()
        .target_principal(account)
        .task_policy_arn(PolicyDescriptorType::builder().arn(task_policy_arn).build())
        .duration_seconds(duration_seconds)
        .send()
        .await
}

/// The SDK credentials of the session AssumeRoot answered.
pub fn session_credentials(output: &AssumeRootOutput) -> Credentials {
    let c = output.credentials().expect("credentials");
    Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_owned()),
        None,
        "assume-root",
    )
}

/// A 900 s root session on `account` scoped by `task_policy_arn`, as an SDK config.
pub async fn root_session(
    emulator: &EmulatorHandle,
    account: &str,
    task_policy_arn: &str,
) -> SdkConfig {
    let caller = caller_config(emulator).await;
    let output = assume_root(&caller, account, task_policy_arn, 900)
        .await
        .expect("AssumeRoot");
    config(emulator, session_credentials(&output)).await
}

pub async fn iam_for(
    emulator: &EmulatorHandle,
    account: &str,
    task_policy_arn: &str,
) -> aws_sdk_iam::Client {
    aws_sdk_iam::Client::new(&root_session(emulator, account, task_policy_arn).await)
}

/// A minimal HTTP/1.1 exchange (admin API, hand-made AWS requests): (status, body). The
/// `Host` is `localhost` unless `headers` name one.
pub async fn http(
    emulator: &EmulatorHandle,
    method: &str,
    path: &str,
    headers: &[&str],
    body: &str,
) -> (u16, String) {
    let response = exchange(emulator, method, path, headers, body).await;
    (response.status, response.body)
}

/// An HTTP response: status, headers (names lowercased), body.
pub struct HttpResponse {
    pub status: u16,
    pub headers: std::collections::HashMap<String, String>,
    pub body: String,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

/// [`http`] with the response's headers.
pub async fn exchange(
    emulator: &EmulatorHandle,
    method: &str,
    path: &str,
    headers: &[&str],
    body: &str,
) -> HttpResponse {
    let mut stream = TcpStream::connect(emulator.addr()).await.expect("connect");
    let named_host = headers
        .iter()
        .any(|h| h.to_ascii_lowercase().starts_with("host:"));
    let host = if named_host {
        ""
    } else {
        "Host: localhost\r\n"
    };
    let extra: String = headers.iter().map(|h| format!("{h}\r\n")).collect();
    let request = format!(
        "{method} {path} HTTP/1.1\r\n{host}{extra}Content-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status");
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    HttpResponse {
        status,
        headers,
        body: body.to_owned(),
    }
}

/// `method path` with `headers` and `body`, signed as `signing` says, with the response's headers.
pub async fn signed(
    emulator: &EmulatorHandle,
    signing: &Signing,
    method: &str,
    path: &str,
    headers: &[&str],
    body: &str,
) -> HttpResponse {
    let signed = signing.sign_request(method, "localhost", path, headers, body);
    let signed: Vec<&str> = signed.iter().map(String::as_str).collect();
    exchange(emulator, method, path, &signed, body).await
}

/// `POST /` with these header lines and body.
pub async fn post(emulator: &EmulatorHandle, headers: &[String], body: &str) -> (u16, String) {
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    http(emulator, "POST", "/", &headers, body).await
}

/// `POST /` with `headers` and `body`, signed as `signing` says.
pub async fn signed_post(
    emulator: &EmulatorHandle,
    signing: &Signing,
    headers: &[&str],
    body: &str,
) -> (u16, String) {
    post(
        emulator,
        &signing.sign("localhost", "/", headers, body),
        body,
    )
    .await
}

/// Runs `test` on a thread with a 64 MiB stack and a runtime of its own. The Security Hub SDK's
/// finding deserializers (ASFF nests deeply) take more stack in debug builds than a test
/// thread's 2 MiB.
pub fn with_large_stack<F>(test: impl FnOnce() -> F + Send + 'static)
where
    F: std::future::Future<Output = ()>,
{
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime")
                .block_on(test())
        })
        .expect("a thread")
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
}

/// How long [`eventually`] waits: far beyond what a loaded machine needs for what it waits for
/// (the emulator's own work after its client stopped waiting), so that a test that would hang
/// fails instead, saying what it waited for.
pub const EVENTUALLY_LIMIT: Duration = Duration::from_secs(60);

/// Waits until `done` holds, for effects that finish after the client stopped waiting; panics,
/// naming `what`, after [`EVENTUALLY_LIMIT`].
pub async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let waited = tokio::time::timeout(EVENTUALLY_LIMIT, async {
        while !done() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "waited {EVENTUALLY_LIMIT:?} for {what}");
}

/// `config` with a single attempt per call, so a test sees each error the emulator answers.
pub fn without_retries(config: &SdkConfig) -> SdkConfig {
    config
        .to_builder()
        .retry_config(RetryConfig::standard().with_max_attempts(1))
        .build()
}

/// How a hand-made request is signed, by aws-sigv4 (the AWS SDK for Rust's own signer).
pub struct Signing {
    pub service: &'static str,
    pub region: String,
    pub credentials: Credentials,
    pub time: SystemTime,
    /// Sign `UNSIGNED-PAYLOAD` instead of the body's hash.
    pub unsigned_payload: bool,
    /// Send `x-amz-content-sha256` (the payload hash that was signed).
    pub content_sha256: bool,
}

impl Signing {
    /// The caller's default credentials, us-east-1, now, the body signed.
    pub fn caller(service: &'static str) -> Self {
        Self {
            service,
            region: "us-east-1".to_owned(),
            credentials: Credentials::new(
                DEFAULT_CALLER_ACCESS_KEY_ID,
                DEFAULT_CALLER_SECRET_ACCESS_KEY,
                None,
                None,
                "test",
            ),
            time: SystemTime::now(),
            unsigned_payload: false,
            content_sha256: false,
        }
    }

    /// `headers` (as `name: value` lines) plus the signature's headers, for a POST to `host` at
    /// `path` (with its query) carrying `body`.
    pub fn sign(&self, host: &str, path: &str, headers: &[&str], body: &str) -> Vec<String> {
        self.sign_request("POST", host, path, headers, body)
    }

    /// [`Signing::sign`] for any method.
    pub fn sign_request(
        &self,
        method: &str,
        host: &str,
        path: &str,
        headers: &[&str],
        body: &str,
    ) -> Vec<String> {
        let mut pairs: Vec<(&str, &str)> = headers
            .iter()
            .map(|line| {
                let (name, value) = line.split_once(':').expect("name: value");
                (name.trim(), value.trim())
            })
            .collect();
        pairs.push(("host", host));
        let mut settings = SigningSettings::default();
        if self.content_sha256 {
            settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        }
        // S3 signs the path as sent, as the SDK's S3 client does.
        if self.service == "s3" {
            settings.percent_encoding_mode = PercentEncodingMode::Single;
            settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        }
        let identity = self.credentials.clone().into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(self.service)
            .time(self.time)
            .settings(settings)
            .build()
            .expect("signing parameters")
            .into();
        let body = match self.unsigned_payload {
            true => SignableBody::UnsignedPayload,
            false => SignableBody::Bytes(body.as_bytes()),
        };
        let url = format!("http://{host}{path}");
        let signable = SignableRequest::new(method, url, pairs.iter().copied(), body)
            .expect("a signable request");
        let (instructions, _) = sign(signable, &params).expect("signed").into_parts();
        pairs
            .iter()
            .map(|(name, value)| format!("{name}: {value}"))
            .chain(
                instructions
                    .headers()
                    .map(|(name, value)| format!("{name}: {value}")),
            )
            .collect()
    }
}

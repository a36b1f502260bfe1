//! Shared by the integration tests: a small known org, SDK configs pointed at the emulator, and
//! a bare HTTP client for the admin API.

#![allow(dead_code)] // each test binary uses its own subset

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_sdk_sts::error::SdkError;
use aws_sdk_sts::operation::assume_root::{AssumeRootError, AssumeRootOutput};
use aws_sdk_sts::types::PolicyDescriptorType;
use rootsweep_emulator::{EmulatorHandle, Org};
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
        Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI", None, None, "test"),
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

/// A minimal HTTP/1.1 exchange (admin API, hand-made AWS requests): (status, body).
pub async fn http(
    emulator: &EmulatorHandle,
    method: &str,
    path: &str,
    headers: &[&str],
    body: &str,
) -> (u16, String) {
    let mut stream = TcpStream::connect(emulator.addr()).await.expect("connect");
    let extra: String = headers.iter().map(|h| format!("{h}\r\n")).collect();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\n{extra}Content-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    (status, body.to_owned())
}

/// Waits (without a deadline of its own) until `done` holds, for effects that finish after the
/// client stopped waiting.
pub async fn eventually(mut done: impl FnMut() -> bool) {
    while !done() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// `config` with a single attempt per call, so a test sees each error the emulator answers.
pub fn without_retries(config: &SdkConfig) -> SdkConfig {
    config
        .to_builder()
        .retry_config(RetryConfig::standard().with_max_attempts(1))
        .build()
}

//! Root sessions through the SDK: `sts:AssumeRoot` into a member account, then IAM calls on
//! its root user.
//!
//! With a root session every IAM call omits `UserName`, so it acts on the root user itself.
//! The session credentials live only inside the per-session IAM client: they are never
//! returned, logged or reported (the access key id included).

use aws_credential_types::Credentials;
use aws_sdk_iam::config::retry::{RetryConfig, RetryMode, RetryPartition};
use aws_sdk_iam::types::SummaryKeyType;
use aws_sdk_sts::operation::RequestId;
use aws_sdk_sts::types::PolicyDescriptorType;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use chrono::{DateTime, Utc};

use super::{aws_error, to_chrono};
use crate::account::AccountId;
use crate::config::RootSessionDuration;
use crate::credentials::{Credential, CredentialKind, TaskPolicyArn};
use crate::ports::{
    AccountSummary, AwsError, AwsErrorKind, Removal, RootAccess, RootSession, RootUser,
};

/// The SDK implementation. `iam` is the base IAM configuration each session's client derives
/// from (endpoint, retry, timeouts, HTTP client): only the credentials differ.
#[derive(Clone)]
pub struct SdkRootAccess {
    sts: aws_sdk_sts::Client,
    iam: aws_sdk_iam::Config,
    duration: RootSessionDuration,
    /// The base configuration's retry policy in standard mode.
    session_retries: RetryConfig,
}

impl SdkRootAccess {
    pub fn new(
        sts: aws_sdk_sts::Client,
        iam: aws_sdk_iam::Config,
        duration: RootSessionDuration,
    ) -> Self {
        let session_retries = iam
            .retry_config()
            .cloned()
            .unwrap_or_else(RetryConfig::standard)
            .with_retry_mode(RetryMode::Standard);
        Self {
            sts,
            iam,
            duration,
            session_retries,
        }
    }
}

pub struct SdkRootSession {
    iam: aws_sdk_iam::Client,
    request_id: Option<String>,
}

const ASSUME_ROOT: &str = "sts:AssumeRoot";

impl RootAccess for SdkRootAccess {
    type Session = SdkRootSession;

    async fn assume_root(
        &self,
        account: &AccountId,
        task: &TaskPolicyArn,
    ) -> Result<SdkRootSession, AwsError> {
        let output = self
            .sts
            .assume_root()
            .target_principal(account.as_str())
            .task_policy_arn(PolicyDescriptorType::builder().arn(task.as_str()).build())
            .duration_seconds(self.duration.seconds())
            .send()
            .await
            .map_err(|err| aws_error(ASSUME_ROOT, err))?;
        let request_id = output.request_id().map(str::to_owned);
        let credentials = output.credentials.ok_or_else(|| {
            AwsError::new(
                ASSUME_ROOT,
                AwsErrorKind::Other,
                "the answer carried no credentials",
            )
        })?;
        let expiry = std::time::SystemTime::try_from(credentials.expiration).ok();
        let provider = Credentials::new(
            credentials.access_key_id,
            credentials.secret_access_key,
            Some(credentials.session_token),
            expiry,
            "AssumeRoot",
        );
        let config = self
            .iam
            .to_builder()
            .credentials_provider(provider)
            // IAM throttles a root session against the member account's own quota, so each
            // account gets its own retry budget instead of sharing one; and standard retries,
            // not adaptive: a session makes a handful of calls, which adaptive mode, once
            // throttled, would slow to one every couple of seconds. The caller-wide limits
            // (AssumeRoot, Organizations) keep adaptive retries.
            .retry_partition(RetryPartition::new(format!("rootsweep-iam-{account}")))
            .retry_config(self.session_retries.clone())
            .build();
        Ok(SdkRootSession {
            iam: aws_sdk_iam::Client::from_conf(config),
            request_id,
        })
    }
}

/// `NoSuchEntity` on a removal means the credential is already gone: success.
fn removal<T, E>(
    operation: &'static str,
    result: Result<T, SdkError<E, HttpResponse>>,
) -> Result<Removal, AwsError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(Removal::Removed),
        Err(err) => match aws_error(operation, err) {
            e if e.kind == AwsErrorKind::NotFound => Ok(Removal::AlreadyGone),
            e => Err(e),
        },
    }
}

impl SdkRootSession {
    async fn login_profile(&self) -> Result<Vec<Credential>, AwsError> {
        match self.iam.get_login_profile().send().await {
            Ok(output) => Ok(output
                .login_profile()
                .map(|profile| Credential::password(to_chrono(profile.create_date())))
                .into_iter()
                .collect()),
            Err(err) => match aws_error("iam:GetLoginProfile", err) {
                // No login profile: the root user has no password.
                e if e.kind == AwsErrorKind::NotFound => Ok(Vec::new()),
                e => Err(e),
            },
        }
    }

    async fn access_keys(&self) -> Result<Vec<Credential>, AwsError> {
        let keys: Vec<_> = self
            .iam
            .list_access_keys()
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|err| aws_error("iam:ListAccessKeys", err))?;
        Ok(keys
            .iter()
            .map(|key| Credential {
                status: key.status().map(|s| s.as_str().to_owned()),
                ..Credential::new(
                    CredentialKind::AccessKey,
                    key.access_key_id().unwrap_or_default(),
                    key.create_date().and_then(to_chrono),
                )
            })
            .collect())
    }

    async fn signing_certificates(&self) -> Result<Vec<Credential>, AwsError> {
        let certificates: Vec<_> = self
            .iam
            .list_signing_certificates()
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|err| aws_error("iam:ListSigningCertificates", err))?;
        Ok(certificates
            .iter()
            .map(|c| Credential {
                status: Some(c.status().as_str().to_owned()),
                ..Credential::new(
                    CredentialKind::SigningCertificate,
                    c.certificate_id(),
                    c.upload_date().and_then(to_chrono),
                )
            })
            .collect())
    }

    async fn mfa_devices(&self) -> Result<Vec<Credential>, AwsError> {
        let devices: Vec<_> = self
            .iam
            .list_mfa_devices()
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|err| aws_error("iam:ListMFADevices", err))?;
        Ok(devices
            .iter()
            .map(|d| {
                Credential::new(
                    CredentialKind::MfaDevice,
                    d.serial_number(),
                    to_chrono(d.enable_date()),
                )
            })
            .collect())
    }
}

impl RootSession for SdkRootSession {
    fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    async fn summary(&self) -> Result<AccountSummary, AwsError> {
        let output = self
            .iam
            .get_account_summary()
            .send()
            .await
            .map_err(|err| aws_error("iam:GetAccountSummary", err))?;
        // A missing map or key is unknown: the kind is listed, never taken for "none".
        let present = |key: SummaryKeyType| {
            output
                .summary_map()
                .and_then(|map| map.get(&key))
                .map(|n| *n > 0)
        };
        Ok(AccountSummary {
            access_keys: present(SummaryKeyType::AccountAccessKeysPresent),
            signing_certificates: present(SummaryKeyType::AccountSigningCertificatesPresent),
            mfa_devices: present(SummaryKeyType::AccountMfaEnabled),
        })
    }

    async fn root_user(&self) -> Result<RootUser, AwsError> {
        let output = self
            .iam
            .get_user()
            .send()
            .await
            .map_err(|err| aws_error("iam:GetUser", err))?;
        let user = output.user();
        Ok(RootUser {
            created: user.and_then(|u| to_chrono(u.create_date())),
            password_last_used: user
                .and_then(|u| u.password_last_used())
                .and_then(to_chrono),
        })
    }

    async fn list(&self, kind: CredentialKind) -> Result<Vec<Credential>, AwsError> {
        match kind {
            CredentialKind::Password => self.login_profile().await,
            CredentialKind::AccessKey => self.access_keys().await,
            CredentialKind::SigningCertificate => self.signing_certificates().await,
            CredentialKind::MfaDevice => self.mfa_devices().await,
        }
    }

    async fn last_used(&self, access_key_id: &str) -> Result<Option<DateTime<Utc>>, AwsError> {
        let output = self
            .iam
            .get_access_key_last_used()
            .access_key_id(access_key_id)
            .send()
            .await
            .map_err(|err| aws_error("iam:GetAccessKeyLastUsed", err))?;
        Ok(output
            .access_key_last_used()
            .and_then(|used| used.last_used_date())
            .and_then(to_chrono))
    }

    async fn remove(&self, credential: &Credential) -> Result<Removal, AwsError> {
        let id = credential.id.as_str();
        match credential.kind {
            CredentialKind::Password => removal(
                "iam:DeleteLoginProfile",
                self.iam.delete_login_profile().send().await,
            ),
            CredentialKind::AccessKey => removal(
                "iam:DeleteAccessKey",
                self.iam.delete_access_key().access_key_id(id).send().await,
            ),
            CredentialKind::SigningCertificate => removal(
                "iam:DeleteSigningCertificate",
                self.iam
                    .delete_signing_certificate()
                    .certificate_id(id)
                    .send()
                    .await,
            ),
            CredentialKind::MfaDevice => removal(
                "iam:DeactivateMFADevice",
                self.iam
                    .deactivate_mfa_device()
                    .serial_number(id)
                    .send()
                    .await,
            ),
        }
    }

    async fn delete_virtual_mfa_device(&self, serial: &str) -> Result<Removal, AwsError> {
        removal(
            "iam:DeleteVirtualMFADevice",
            self.iam
                .delete_virtual_mfa_device()
                .serial_number(serial)
                .send()
                .await,
        )
    }
}

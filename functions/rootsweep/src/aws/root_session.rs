//! Root sessions: `sts:AssumeRoot` into a member account, then IAM calls on its root user.
//!
//! With a root session every IAM call omits `UserName`, so it acts on the root user itself.
//! The session credentials live only inside the per-session IAM client: they are never
//! returned, logged or reported (the access key id included).

use std::future::Future;

use aws_credential_types::Credentials;
use aws_sdk_iam::config::retry::RetryPartition;
use aws_sdk_sts::operation::RequestId;
use aws_sdk_sts::types::PolicyDescriptorType;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{AwsError, AwsErrorKind};
use crate::config::{AccountId, RootSessionDuration};
use crate::credentials::{Credential, CredentialKind, LOGIN_PROFILE_ID, RootCredentials};

/// The AWS-managed task policies rootsweep uses. The session can do only what its policy allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TaskPolicy {
    #[serde(rename = "IAMAuditRootUserCredentials")]
    Audit,
    #[serde(rename = "IAMDeleteRootUserCredentials")]
    Delete,
}

impl TaskPolicy {
    pub fn arn(self) -> &'static str {
        match self {
            TaskPolicy::Audit => "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials",
            TaskPolicy::Delete => "arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials",
        }
    }
}

/// What a removal call found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    Removed,
    /// `NoSuchEntity`: someone else removed it first, which is what we wanted anyway.
    AlreadyGone,
}

pub trait RootAccess: Send + Sync {
    type Session: RootSession;
    fn assume_root(
        &self,
        account: &AccountId,
        task: TaskPolicy,
    ) -> impl Future<Output = Result<Self::Session, AwsError>> + Send;
}

pub trait RootSession: Send + Sync {
    /// The AssumeRoot request id: how an operator finds this session in CloudTrail.
    fn request_id(&self) -> Option<&str>;
    /// Reads the root user's password, access keys, signing certificates and MFA devices.
    fn read(&self) -> impl Future<Output = Result<RootCredentials, AwsError>> + Send;
    /// Deletes a password, access key or signing certificate, or deactivates an MFA device.
    fn remove(
        &self,
        credential: &Credential,
    ) -> impl Future<Output = Result<Removal, AwsError>> + Send;
    /// Deletes a virtual MFA device left behind by its deactivation.
    fn delete_virtual_mfa_device(
        &self,
        serial: &str,
    ) -> impl Future<Output = Result<Removal, AwsError>> + Send;
}

/// The SDK implementation. `iam` is the base IAM configuration each session's client derives
/// from (endpoint, retry, timeouts, HTTP client): only the credentials differ.
#[derive(Clone)]
pub struct SdkRootAccess {
    sts: aws_sdk_sts::Client,
    iam: aws_sdk_iam::Config,
    duration: RootSessionDuration,
}

impl SdkRootAccess {
    pub fn new(
        sts: aws_sdk_sts::Client,
        iam: aws_sdk_iam::Config,
        duration: RootSessionDuration,
    ) -> Self {
        Self { sts, iam, duration }
    }
}

pub struct SdkRootSession {
    iam: aws_sdk_iam::Client,
    request_id: Option<String>,
}

fn to_chrono(date: &aws_smithy_types::DateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(date.secs(), date.subsec_nanos())
}

const ASSUME_ROOT: &str = "sts:AssumeRoot";

impl RootAccess for SdkRootAccess {
    type Session = SdkRootSession;

    async fn assume_root(
        &self,
        account: &AccountId,
        task: TaskPolicy,
    ) -> Result<SdkRootSession, AwsError> {
        let output = self
            .sts
            .assume_root()
            .target_principal(account.as_str())
            .task_policy_arn(PolicyDescriptorType::builder().arn(task.arn()).build())
            .duration_seconds(self.duration.seconds())
            .send()
            .await
            .map_err(|err| AwsError::from_sdk(ASSUME_ROOT, err))?;
        let request_id = output.request_id().map(str::to_owned);
        let credentials = output.credentials.ok_or_else(|| AwsError {
            operation: ASSUME_ROOT,
            kind: AwsErrorKind::Other,
            code: None,
            message: "the answer carried no credentials".into(),
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
            // account gets its own retry budget and rate limiter instead of sharing one.
            .retry_partition(RetryPartition::new(format!("rootsweep-iam-{account}")))
            .build();
        Ok(SdkRootSession {
            iam: aws_sdk_iam::Client::from_conf(config),
            request_id,
        })
    }
}

impl SdkRootSession {
    /// The root user's creation date and `PasswordLastUsed`.
    async fn user_dates(&self) -> Result<(Option<DateTime<Utc>>, Option<DateTime<Utc>>), AwsError> {
        let output = self
            .iam
            .get_user()
            .send()
            .await
            .map_err(|err| AwsError::from_sdk("iam:GetUser", err))?;
        let user = output.user();
        Ok((
            user.and_then(|u| to_chrono(u.create_date())),
            user.and_then(|u| u.password_last_used())
                .and_then(to_chrono),
        ))
    }

    async fn login_profile(&self) -> Result<Option<Credential>, AwsError> {
        match self.iam.get_login_profile().send().await {
            Ok(output) => Ok(output.login_profile().map(|profile| {
                Credential::new(
                    CredentialKind::Password,
                    LOGIN_PROFILE_ID,
                    to_chrono(profile.create_date()),
                )
            })),
            Err(err) => match AwsError::from_sdk("iam:GetLoginProfile", err) {
                // No login profile: the root user has no password.
                e if e.kind == AwsErrorKind::NotFound => Ok(None),
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
            .map_err(|err| AwsError::from_sdk("iam:ListAccessKeys", err))?;
        let mut credentials = Vec::with_capacity(keys.len());
        for key in keys {
            let id = key.access_key_id().unwrap_or_default().to_owned();
            let last_used = self
                .iam
                .get_access_key_last_used()
                .access_key_id(&id)
                .send()
                .await
                .map_err(|err| AwsError::from_sdk("iam:GetAccessKeyLastUsed", err))?;
            credentials.push(Credential {
                last_used: last_used
                    .access_key_last_used()
                    .and_then(|u| u.last_used_date())
                    .and_then(to_chrono),
                status: key.status().map(|s| s.as_str().to_owned()),
                ..Credential::new(
                    CredentialKind::AccessKey,
                    id,
                    key.create_date().and_then(to_chrono),
                )
            });
        }
        Ok(credentials)
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
            .map_err(|err| AwsError::from_sdk("iam:ListSigningCertificates", err))?;
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
            .map_err(|err| AwsError::from_sdk("iam:ListMFADevices", err))?;
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

/// `NoSuchEntity` on a removal means the credential is already gone: success.
fn removal<T, E>(
    operation: &'static str,
    result: Result<
        T,
        aws_smithy_runtime_api::client::result::SdkError<
            E,
            aws_smithy_runtime_api::client::orchestrator::HttpResponse,
        >,
    >,
) -> Result<Removal, AwsError>
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata
        + std::error::Error
        + Send
        + Sync
        + 'static,
{
    match result {
        Ok(_) => Ok(Removal::Removed),
        Err(err) => match AwsError::from_sdk(operation, err) {
            e if e.kind == AwsErrorKind::NotFound => Ok(Removal::AlreadyGone),
            e => Err(e),
        },
    }
}

impl RootSession for SdkRootSession {
    fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    async fn read(&self) -> Result<RootCredentials, AwsError> {
        let ((user_created, password_last_used), login_profile, keys, certificates, mfa) = tokio::try_join!(
            self.user_dates(),
            self.login_profile(),
            self.access_keys(),
            self.signing_certificates(),
            self.mfa_devices(),
        )?;
        let credentials = login_profile
            .into_iter()
            .chain(keys)
            .chain(certificates)
            .chain(mfa)
            .collect();
        Ok(RootCredentials {
            user_created,
            password_last_used,
            credentials,
        })
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

//! What the root user of one member account holds, and the task policies that read or delete it.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::account::Partition;
use crate::names::named_enum;

named_enum! {
    /// The kinds of long-term root credentials, in the order they are removed: the password
    /// first (it ends console access), MFA last.
    pub enum CredentialKind {
        Password => "password",
        AccessKey => "access_key",
        SigningCertificate => "signing_certificate",
        MfaDevice => "mfa_device",
    }
}

/// The id the login profile is reported under: it has none of its own.
pub const LOGIN_PROFILE_ID: &str = "login-profile";

/// One credential of the root user. `created` is the login profile's creation, the access key's
/// creation, the certificate's upload or the MFA device's enablement; AWS may omit some of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Credential {
    pub kind: CredentialKind,
    /// Access key id, certificate id or MFA serial number; never a secret.
    pub id: String,
    pub created: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

impl Credential {
    pub fn new(
        kind: CredentialKind,
        id: impl Into<String>,
        created: Option<DateTime<Utc>>,
    ) -> Self {
        Self {
            kind,
            id: id.into(),
            created,
            last_used: None,
            status: None,
        }
    }

    /// The root user's password (login profile).
    pub fn password(created: Option<DateTime<Utc>>) -> Self {
        Self::new(CredentialKind::Password, LOGIN_PROFILE_ID, created)
    }

    /// Virtual MFA devices are IAM resources named by an ARN (`arn:aws:iam::ACCOUNT:mfa/NAME`);
    /// hardware and FIDO devices have other serials. Only a virtual one is left behind after
    /// deactivation.
    pub fn is_virtual_mfa(&self) -> bool {
        self.kind == CredentialKind::MfaDevice
            && self.id.starts_with("arn:")
            && self.id.contains(":mfa/")
    }
}

/// Everything read about the root user in one session.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RootCredentials {
    /// When the root user (so the account) was created: no credential can be older.
    pub user_created: Option<DateTime<Utc>>,
    /// Stays on the user after the password is deleted, so on its own it is not a credential.
    pub password_last_used: Option<DateTime<Utc>>,
    pub credentials: Vec<Credential>,
}

impl RootCredentials {
    pub fn is_empty(&self) -> bool {
        self.credentials.is_empty()
    }

    /// The credentials in the order they must be removed.
    pub fn in_removal_order(&self) -> Vec<&Credential> {
        let mut ordered: Vec<&Credential> = self.credentials.iter().collect();
        ordered.sort_by_key(|c| c.kind);
        ordered
    }

    pub fn kinds(&self) -> impl Iterator<Item = CredentialKind> + '_ {
        self.credentials.iter().map(|c| c.kind)
    }
}

named_enum! {
    /// The AWS-managed task policies rootsweep uses. A session can do only what its policy allows.
    pub enum TaskPolicy {
        Audit => "IAMAuditRootUserCredentials",
        Delete => "IAMDeleteRootUserCredentials",
    }
}

/// A task policy's ARN in the caller's partition (`arn:aws-cn:iam::aws:policy/root-task/...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskPolicyArn {
    pub task: TaskPolicy,
    arn: String,
}

impl TaskPolicyArn {
    pub fn new(task: TaskPolicy, partition: &Partition) -> Self {
        Self {
            task,
            arn: format!("arn:{partition}:iam::aws:policy/root-task/{task}"),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.arn
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removal_starts_with_the_password_and_ends_with_mfa() {
        let creds = RootCredentials {
            credentials: vec![
                Credential::new(
                    CredentialKind::MfaDevice,
                    "arn:aws:iam::111111111111:mfa/root",
                    None,
                ),
                Credential::new(CredentialKind::SigningCertificate, "CERT", None),
                Credential::new(CredentialKind::AccessKey, "AKIAEXAMPLE", None),
                Credential::password(None),
            ],
            ..RootCredentials::default()
        };
        let kinds: Vec<CredentialKind> = creds.in_removal_order().iter().map(|c| c.kind).collect();
        assert_eq!(kinds, CredentialKind::ALL);
    }

    #[test]
    fn only_arn_serials_are_virtual_mfa_devices() {
        let virtual_mfa = Credential::new(
            CredentialKind::MfaDevice,
            "arn:aws:iam::111111111111:mfa/root-account-mfa-device",
            None,
        );
        let hardware = Credential::new(CredentialKind::MfaDevice, "GAHT12345678", None);
        assert!(virtual_mfa.is_virtual_mfa());
        assert!(!hardware.is_virtual_mfa());
    }

    #[test]
    fn task_policy_arns_are_in_the_callers_partition() {
        let china = Partition::of_arn("arn:aws-cn:iam::111111111111:root").unwrap();
        assert_eq!(
            TaskPolicyArn::new(TaskPolicy::Delete, &china).as_str(),
            "arn:aws-cn:iam::aws:policy/root-task/IAMDeleteRootUserCredentials"
        );
        assert_eq!(
            TaskPolicyArn::new(TaskPolicy::Audit, &Partition::default()).as_str(),
            "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"
        );
    }
}

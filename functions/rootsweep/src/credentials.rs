//! What the root user of one member account holds, as read in a root session.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// The kinds of long-term root credentials, in the order they are removed: the password first
/// (it ends console access), MFA last (deactivating it is what lets nobody re-enable the rest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    Password,
    AccessKey,
    SigningCertificate,
    MfaDevice,
}

impl CredentialKind {
    pub const ALL: [CredentialKind; 4] = [
        CredentialKind::Password,
        CredentialKind::AccessKey,
        CredentialKind::SigningCertificate,
        CredentialKind::MfaDevice,
    ];

    /// The `CredentialType` metric dimension value.
    pub fn metric_value(self) -> &'static str {
        match self {
            CredentialKind::Password => "Password",
            CredentialKind::AccessKey => "AccessKey",
            CredentialKind::SigningCertificate => "SigningCertificate",
            CredentialKind::MfaDevice => "MfaDevice",
        }
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removal_starts_with_the_password_and_ends_with_mfa() {
        let creds = RootCredentials {
            user_created: None,
            password_last_used: None,
            credentials: vec![
                Credential::new(
                    CredentialKind::MfaDevice,
                    "arn:aws:iam::111111111111:mfa/root",
                    None,
                ),
                Credential::new(CredentialKind::SigningCertificate, "CERT", None),
                Credential::new(CredentialKind::AccessKey, "AKIAEXAMPLE", None),
                Credential::new(CredentialKind::Password, LOGIN_PROFILE_ID, None),
            ],
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
}

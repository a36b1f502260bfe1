//! What IAM holds of a member account: its root user and the root user's long-term credentials
//! (password, access keys, signing certificates, MFA devices), as the org declares them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::time::{a_year_ago, relative, relative_option};

/// A member account's root user and its long-term credentials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RootUser {
    #[serde(default = "a_year_ago", deserialize_with = "relative")]
    pub created: DateTime<Utc>,
    /// Stays after the login profile is deleted, as on AWS.
    #[serde(
        default,
        deserialize_with = "relative_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub password_last_used: Option<DateTime<Utc>>,
    /// The root password; absent when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_profile: Option<LoginProfile>,
    #[serde(default)]
    pub access_keys: Vec<AccessKey>,
    #[serde(default)]
    pub signing_certificates: Vec<SigningCertificate>,
    /// Devices assigned to (enabled for) the root user.
    #[serde(default)]
    pub mfa_devices: Vec<MfaDevice>,
    /// Serial numbers of virtual MFA devices that were deactivated but not deleted: they still
    /// exist in the account but are no longer the root user's.
    #[serde(default)]
    pub unassigned_virtual_mfa_devices: Vec<String>,
}

impl Default for RootUser {
    fn default() -> Self {
        Self {
            created: a_year_ago(),
            password_last_used: None,
            login_profile: None,
            access_keys: Vec::new(),
            signing_certificates: Vec::new(),
            mfa_devices: Vec::new(),
            unassigned_virtual_mfa_devices: Vec::new(),
        }
    }
}

impl RootUser {
    /// True when the root user has no password, access key, signing certificate or MFA device.
    pub fn is_clean(&self) -> bool {
        self.login_profile.is_none()
            && self.access_keys.is_empty()
            && self.signing_certificates.is_empty()
            && self.mfa_devices.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginProfile {
    #[serde(deserialize_with = "relative")]
    pub created: DateTime<Utc>,
}

/// IAM's `Active` / `Inactive`, used by access keys and signing certificates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum CredentialStatus {
    #[default]
    Active,
    Inactive,
}

impl CredentialStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "Active",
            Self::Inactive => "Inactive",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessKey {
    /// For example `AKIAIOSFODNN7EXAMPLE`.
    pub id: String,
    #[serde(default)]
    pub status: CredentialStatus,
    /// Absent: IAM's `CreateDate` is optional in its model, and then the answer has none.
    #[serde(
        default,
        deserialize_with = "relative_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub created: Option<DateTime<Utc>>,
    /// Absent when the key was never used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used: Option<AccessKeyLastUsed>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessKeyLastUsed {
    #[serde(deserialize_with = "relative")]
    pub date: DateTime<Utc>,
    /// For example `s3`.
    pub service: String,
    /// For example `us-east-1`.
    pub region: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigningCertificate {
    pub id: String,
    #[serde(default)]
    pub status: CredentialStatus,
    /// Absent: IAM's `UploadDate` is optional in its model, and then the answer has none.
    #[serde(
        default,
        deserialize_with = "relative_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub uploaded: Option<DateTime<Utc>>,
}

impl SigningCertificate {
    /// A stand-in PEM body: nobody parses it, but `CertificateBody` is a required field.
    pub fn body(&self) -> String {
        format!(
            "-----BEGIN CERTIFICATE-----\nRU1VTEFURUQ{}\n-----END CERTIFICATE-----\n",
            self.id
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MfaDevice {
    /// A virtual device's serial is its ARN (`arn:aws:iam::ACCOUNT:mfa/NAME`); a hardware
    /// device's is printed on it (for example `GAHT12345678`).
    pub serial: String,
    pub kind: MfaKind,
    #[serde(deserialize_with = "relative")]
    pub enabled: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MfaKind {
    Virtual,
    Hardware,
}

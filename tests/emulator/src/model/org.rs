//! The emulated organization: its accounts, OU tree, and each member account's root user.
//!
//! Loaded from JSON (times relative to now, see [`super::time`]) or built by [`Org::generate`].
//! The same types are what the emulator mutates while it runs and what `/_emulator/state` shows
//! (there with absolute times, which load back unchanged).
//!
//! # Org files
//!
//! JSON, unknown fields refused, errors name the line and the field. **Times are relative to the
//! moment of loading**: `-<N><unit>` with units `s`, `m`, `h`, `d`, `w` (`"-3d"`, `"-90m"`, `"-0s"`
//! is now), so a file means the same (in grace, due, ...) whenever it runs. RFC 3339 dates
//! (`"2025-03-15T10:23:45Z"`) are accepted too, which is what `/_emulator/state` writes, so a state
//! dump loads back. Times are whole seconds. See `tests/emulator/orgs/example.json`.
//!
//! ```jsonc
//! {
//!   "organization_id": "o-example123",           // o- then 10-32 lowercase letters/digits; root id is r-<4 chars>
//!   "management_account_id": "111111111111",     // must be one of accounts
//!   "caller_account_id": "222222222222",         // optional, default the management account
//!   "enabled_features": ["RootCredentialsManagement", "RootSessions"],   // the default
//!   "preflight_failure": "ServiceAccessNotEnabledException",             // optional, one of the four
//!   "delete_virtual_mfa_allowed": false,         // default false
//!   "organizational_units": [{"id": "ou-exam-legacy01", "name": "Legacy", "parent": "ou-exam-workload"}],
//!   "schedule_groups": ["follow-ups"],           // Scheduler groups besides "default", in every region
//!   "security_hub_enabled": true,                // the default; false: InvalidAccessException
//!   "buckets": ["rootsweep-archive"],            // S3 buckets of the caller's (S3's naming rules)
//!   "accounts": [{
//!     "id": "444444444444", "name": "n", "email": "e@example.com",
//!     "state": "ACTIVE",                         // PENDING_ACTIVATION|ACTIVE|SUSPENDED|PENDING_CLOSURE|CLOSED
//!     "parent": "ou-exam-workload",              // optional, default the root
//!     "tags": {"rootsweep:exempt": "true"},
//!     "joined": "-400d", "joined_method": "CREATED",   // defaults: a year ago, CREATED
//!     "root_user": {                             // optional, default: no credentials
//!       "created": "-400d",                      // default a year ago
//!       "password_last_used": "-60d",            // optional
//!       "login_profile": {"created": "-200d"},   // optional: the root password
//!       "access_keys": [{"id": "AKIA...", "status": "Active", "created": "-500d",   // created/uploaded optional:
//!                        "last_used": {"date": "-2d", "service": "s3", "region": "us-east-1"}}],
//!       "signing_certificates": [{"id": "CERT...", "status": "Active", "uploaded": "-300d"}],  // IAM omits them then
//!       "mfa_devices": [{"serial": "arn:aws:iam::444444444444:mfa/root-account-mfa-device",
//!                        "kind": "virtual", "enabled": "-90d"},          // or "hardware", serial like GAHT12345678
//!       ],
//!       "unassigned_virtual_mfa_devices": []     // deactivated virtual devices still in the account
//!     }
//!   }]
//! }
//! ```

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::time::{a_year_ago, relative, relative_option};

/// A whole organization and the emulator's configuration for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Org {
    /// `o-` then 10 to 32 lowercase letters or digits.
    pub organization_id: String,
    /// Must be one of `accounts`; AssumeRoot cannot target it.
    pub management_account_id: String,
    /// The account whose (non-session) credentials call the emulator: the management account when
    /// absent, or a delegated administrator member account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller_account_id: Option<String>,
    /// What `iam:ListOrganizationsFeatures` reports. AssumeRoot needs `RootSessions`.
    #[serde(default = "default_features")]
    pub enabled_features: Vec<String>,
    /// Makes `ListOrganizationsFeatures` fail (and AssumeRoot with it, see the README).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preflight_failure: Option<PreflightFailure>,
    /// Whether `IAMDeleteRootUserCredentials` sessions may call `DeleteVirtualMFADevice`. AWS
    /// removed it from the task policy in January 2025, hence the default `false`.
    #[serde(default)]
    pub delete_virtual_mfa_allowed: bool,
    /// OUs; one without `parent` hangs under the organization's root.
    #[serde(default)]
    pub organizational_units: Vec<OrganizationalUnit>,
    /// Every account, the management account included.
    pub accounts: Vec<Account>,
    /// EventBridge Scheduler groups of the caller account, in every region, besides `default`
    /// (which always exists). More can be created with `CreateScheduleGroup`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schedule_groups: Vec<String>,
    /// Whether Security Hub is enabled for the caller account (in every region); its calls
    /// answer `InvalidAccessException` otherwise.
    #[serde(default = "enabled")]
    pub security_hub_enabled: bool,
    /// S3 buckets of the caller account (path-style, any region); objects can be put in these
    /// only (`NoSuchBucket` otherwise).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buckets: Vec<String>,
}

fn enabled() -> bool {
    true
}

fn default_features() -> Vec<String> {
    vec![
        "RootCredentialsManagement".to_owned(),
        "RootSessions".to_owned(),
    ]
}

/// The documented failures of `iam:ListOrganizationsFeatures`; each names an operator mistake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PreflightFailure {
    AccountNotManagementOrDelegatedAdministratorException,
    /// Also makes every Organizations call fail with `AWSOrganizationsNotInUseException`.
    OrganizationNotFoundException,
    /// Also makes `DescribeOrganization` report the `CONSOLIDATED_BILLING` feature set.
    OrganizationNotInAllFeaturesModeException,
    ServiceAccessNotEnabledException,
}

impl PreflightFailure {
    /// The error code IAM answers with: the exception's full name.
    pub fn code(self) -> &'static str {
        match self {
            Self::AccountNotManagementOrDelegatedAdministratorException => {
                "AccountNotManagementOrDelegatedAdministratorException"
            }
            Self::OrganizationNotFoundException => "OrganizationNotFoundException",
            Self::OrganizationNotInAllFeaturesModeException => {
                "OrganizationNotInAllFeaturesModeException"
            }
            Self::ServiceAccessNotEnabledException => "ServiceAccessNotEnabledException",
        }
    }

    /// Messages paraphrase the IAM API reference.
    pub fn message(self) -> &'static str {
        match self {
            Self::AccountNotManagementOrDelegatedAdministratorException => {
                "The request was rejected because the account making the request is not the management account or delegated administrator account for centralized root access."
            }
            Self::OrganizationNotFoundException => {
                "The request was rejected because no organization is associated with your account."
            }
            Self::OrganizationNotInAllFeaturesModeException => {
                "The request was rejected because your organization does not have All features enabled."
            }
            Self::ServiceAccessNotEnabledException => {
                "The request was rejected because trusted access is not enabled for IAM in Organizations."
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganizationalUnit {
    /// For example `ou-ab12-security1`.
    pub id: String,
    pub name: String,
    /// The parent OU's id; absent for an OU directly under the root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// 12 digits.
    pub id: String,
    pub name: String,
    pub email: String,
    #[serde(default)]
    pub state: AccountState,
    /// The OU holding the account; absent for an account directly under the root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default = "a_year_ago", deserialize_with = "relative")]
    pub joined: DateTime<Utc>,
    #[serde(default)]
    pub joined_method: JoinedMethod,
    #[serde(default)]
    pub root_user: RootUser,
}

/// Organizations' `Account.State`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccountState {
    PendingActivation,
    #[default]
    Active,
    Suspended,
    PendingClosure,
    Closed,
}

impl AccountState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PendingActivation => "PENDING_ACTIVATION",
            Self::Active => "ACTIVE",
            Self::Suspended => "SUSPENDED",
            Self::PendingClosure => "PENDING_CLOSURE",
            Self::Closed => "CLOSED",
        }
    }

    /// The deprecated `Account.Status`, which only knows ACTIVE, SUSPENDED and PENDING_CLOSURE.
    /// Our assumption: a closed account reads SUSPENDED (it is, for 90 days) and one still being
    /// activated reads ACTIVE.
    pub fn legacy_status(self) -> &'static str {
        match self {
            Self::PendingActivation | Self::Active => "ACTIVE",
            Self::Suspended | Self::Closed => "SUSPENDED",
            Self::PendingClosure => "PENDING_CLOSURE",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JoinedMethod {
    #[default]
    Created,
    Invited,
}

impl JoinedMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "CREATED",
            Self::Invited => "INVITED",
        }
    }
}

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

/// Why an org file or value was refused.
#[derive(Debug, thiserror::Error)]
pub enum OrgError {
    #[error("cannot read org file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{origin}: {source}")]
    Json {
        origin: String,
        source: serde_json::Error,
    },
    #[error("invalid org: {0}")]
    Invalid(String),
}

impl Org {
    /// Parses and validates an org from JSON text.
    pub fn from_json(text: &str) -> Result<Org, OrgError> {
        Self::parse(text, "org JSON")
    }

    /// Reads, parses and validates an org file.
    pub fn load(path: &Path) -> Result<Org, OrgError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| OrgError::Read {
            path: shown.clone(),
            source,
        })?;
        Self::parse(&text, &shown)
    }

    fn parse(text: &str, origin: &str) -> Result<Org, OrgError> {
        let org: Org = serde_json::from_str(text).map_err(|source| OrgError::Json {
            origin: origin.to_owned(),
            source,
        })?;
        org.validate()?;
        Ok(org)
    }

    /// Checks what serde cannot: ids' shapes, uniqueness, and that every reference resolves.
    pub fn validate(&self) -> Result<(), OrgError> {
        let invalid = |message: String| Err(OrgError::Invalid(message));
        let id = &self.organization_id;
        let id_ok = id.strip_prefix("o-").is_some_and(|rest| {
            (10..=32).contains(&rest.len())
                && rest
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        });
        if !id_ok {
            return invalid(format!(
                "organization_id {id:?} must be \"o-\" then 10 to 32 lowercase letters or digits"
            ));
        }
        let mut account_ids = HashSet::new();
        for account in &self.accounts {
            if account.id.len() != 12 || !account.id.chars().all(|c| c.is_ascii_digit()) {
                return invalid(format!("account id {:?} must be 12 digits", account.id));
            }
            if !account_ids.insert(account.id.as_str()) {
                return invalid(format!("account {} is listed twice", account.id));
            }
        }
        for (role, id) in [
            ("management_account_id", self.management_account_id.as_str()),
            ("caller_account_id", self.caller_account_id()),
        ] {
            if !account_ids.contains(id) {
                return invalid(format!("{role} {id} is not one of the accounts"));
            }
        }
        let mut ou_ids = HashSet::new();
        for ou in &self.organizational_units {
            if !ou.id.starts_with("ou-") {
                return invalid(format!("OU id {:?} must start with \"ou-\"", ou.id));
            }
            if !ou_ids.insert(ou.id.as_str()) {
                return invalid(format!("OU {} is listed twice", ou.id));
            }
        }
        // Parents must resolve; walking up at most once per OU also rules out cycles.
        for ou in &self.organizational_units {
            let mut parent = ou.parent.as_deref();
            for _ in 0..=self.organizational_units.len() {
                let Some(id) = parent else { break };
                let Some(up) = self.organizational_unit(id) else {
                    return invalid(format!("OU {} has unknown parent {id}", ou.id));
                };
                parent = up.parent.as_deref();
            }
            if parent.is_some() {
                return invalid(format!("OU {} is part of a parent cycle", ou.id));
            }
        }
        for account in &self.accounts {
            if let Some(parent) = &account.parent
                && !ou_ids.contains(parent.as_str())
            {
                return invalid(format!(
                    "account {} has unknown parent {parent}",
                    account.id
                ));
            }
        }
        self.validate_services()
    }

    /// The other services' resources the org declares: unique, and named as AWS allows.
    fn validate_services(&self) -> Result<(), OrgError> {
        let invalid = |message: String| Err(OrgError::Invalid(message));
        let mut groups = HashSet::new();
        for group in &self.schedule_groups {
            if !is_schedule_group_name(group) || group == "default" {
                return invalid(format!(
                    "schedule group {group:?} must be 1 to 64 letters, digits, '-', '_' or '.', and not \"default\" (it always exists)"
                ));
            }
            if !groups.insert(group.as_str()) {
                return invalid(format!("schedule group {group} is listed twice"));
            }
        }
        let mut buckets = HashSet::new();
        for bucket in &self.buckets {
            if !is_bucket_name(bucket) {
                return invalid(format!(
                    "bucket {bucket:?} must be 3 to 63 lowercase letters, digits, '.' or '-', starting and ending with a letter or digit, without '..', not an IP address"
                ));
            }
            if !buckets.insert(bucket.as_str()) {
                return invalid(format!("bucket {bucket} is listed twice"));
            }
        }
        Ok(())
    }

    pub fn caller_account_id(&self) -> &str {
        self.caller_account_id
            .as_deref()
            .unwrap_or(&self.management_account_id)
    }

    pub fn account(&self, id: &str) -> Option<&Account> {
        self.accounts.iter().find(|account| account.id == id)
    }

    pub fn account_mut(&mut self, id: &str) -> Option<&mut Account> {
        self.accounts.iter_mut().find(|account| account.id == id)
    }

    pub fn organizational_unit(&self, id: &str) -> Option<&OrganizationalUnit> {
        self.organizational_units.iter().find(|ou| ou.id == id)
    }

    /// The root's id, derived from the organization id (`o-abcd123456` has root `r-abcd`).
    pub fn root_id(&self) -> String {
        format!("r-{}", &self.organization_id[2..6])
    }

    pub fn management_account(&self) -> &Account {
        self.account(&self.management_account_id)
            .expect("validated: the management account is one of the accounts")
    }

    /// `ARN` of the organization or of one of its resources (`account`, `ou`, `root`).
    pub fn arn(&self, resource: Option<(&str, &str)>) -> String {
        let (management, org) = (&self.management_account_id, &self.organization_id);
        match resource {
            None => format!("arn:aws:organizations::{management}:organization/{org}"),
            Some((kind, id)) => format!("arn:aws:organizations::{management}:{kind}/{org}/{id}"),
        }
    }

    /// `ALL`, or `CONSOLIDATED_BILLING` when the preflight failure says so.
    pub fn feature_set(&self) -> &'static str {
        match self.preflight_failure {
            Some(PreflightFailure::OrganizationNotInAllFeaturesModeException) => {
                "CONSOLIDATED_BILLING"
            }
            _ => "ALL",
        }
    }

    /// False when the caller belongs to no organization (`OrganizationNotFoundException`).
    pub fn in_use(&self) -> bool {
        self.preflight_failure != Some(PreflightFailure::OrganizationNotFoundException)
    }
}

/// A schedule group's name as Scheduler's model allows it: `^[0-9a-zA-Z-_.]+$`, 1 to 64 long.
pub fn is_schedule_group_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// A general purpose bucket's name ("General purpose bucket naming rules", S3 User Guide), the
/// rules path-style requests depend on.
fn is_bucket_name(name: &str) -> bool {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    (3..=63).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
        && edge(name.chars().next())
        && edge(name.chars().last())
        && !name.contains("..")
        && name.parse::<std::net::Ipv4Addr>().is_err()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"{
        "organization_id": "o-abcdef1234",
        "management_account_id": "111111111111",
        "accounts": [
            {"id": "111111111111", "name": "management", "email": "m@example.com"},
            {"id": "222222222222", "name": "dev", "email": "d@example.com", "parent": "ou-ab12-dev00001",
             "root_user": {"login_profile": {"created": "-2h"}, "password_last_used": "-1h"}}
        ],
        "organizational_units": [{"id": "ou-ab12-dev00001", "name": "Dev"}]
    }"#;

    #[test]
    fn minimal_org_loads_with_defaults() {
        let org = Org::from_json(MINIMAL).unwrap();
        assert_eq!(org.caller_account_id(), "111111111111");
        assert_eq!(org.root_id(), "r-abcd");
        assert_eq!(
            org.enabled_features,
            ["RootCredentialsManagement", "RootSessions"]
        );
        let dev = org.account("222222222222").unwrap();
        assert_eq!(dev.state, AccountState::Active);
        assert!(!dev.root_user.is_clean());
        assert!(org.account("111111111111").unwrap().root_user.is_clean());
    }

    #[test]
    fn the_readme_example_loads() {
        let org = Org::from_json(include_str!("../../orgs/example.json")).unwrap();
        assert_eq!(org.caller_account_id(), "222222222222");
        assert_eq!(org.accounts.len(), 6);
    }

    #[test]
    fn state_output_loads_back() {
        let org = Org::from_json(MINIMAL).unwrap();
        let again = Org::from_json(&serde_json::to_string(&org).unwrap()).unwrap();
        assert_eq!(org, again);
    }

    #[test]
    fn errors_name_the_problem() {
        let typo = MINIMAL.replace("\"email\": \"m@", "\"e_mail\": \"m@");
        let message = Org::from_json(&typo).unwrap_err().to_string();
        assert!(message.contains("unknown field `e_mail`"), "{message}");
        assert!(message.contains("line 5"), "{message}");

        let bad_parent =
            MINIMAL.replace("\"parent\": \"ou-ab12-dev00001\"", "\"parent\": \"ou-x\"");
        let message = Org::from_json(&bad_parent).unwrap_err().to_string();
        assert_eq!(
            message,
            "invalid org: account 222222222222 has unknown parent ou-x"
        );

        let bad_time = MINIMAL.replace("-2h", "2 hours ago");
        let message = Org::from_json(&bad_time).unwrap_err().to_string();
        assert!(
            message.contains("invalid time \"2 hours ago\""),
            "{message}"
        );
    }
}

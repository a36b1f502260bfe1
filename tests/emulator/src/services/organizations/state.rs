//! What Organizations holds: the organization (its id, management account, features), its OU
//! tree and accounts, and what the org declares for the other services (Scheduler groups,
//! Security Hub, S3 buckets); each account's root user is IAM's ([`crate::services::iam`]).
//! Loaded from an org file ([`crate::model`]'s `org_file`) or generated ([`Org::generate`]); the
//! emulator mutates it while it runs and `/_emulator/state` shows it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::time::{a_year_ago, relative};
use crate::services::iam::RootUser;

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
    /// (which always exists); the only others (`CreateScheduleGroup` is not emulated).
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

impl Org {
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

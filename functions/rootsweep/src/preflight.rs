//! The organization prerequisites, checked at the start of every run, never assumed.

use crate::account::{AccountId, Caller};
use crate::ports::{AwsError, AwsErrorKind, Organization};

/// The features `iam:ListOrganizationsFeatures` must report, with the command that enables each.
const REQUIRED_FEATURES: [(&str, &str); 2] = [
    (
        "RootCredentialsManagement",
        "aws iam enable-organizations-root-credentials-management",
    ),
    ("RootSessions", "aws iam enable-organizations-root-sessions"),
];

/// Why a run cannot start, each in one sentence that says what the operator must do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PreflightError {
    #[error(
        "this account is neither the management account nor the delegated administrator for centralized root access: deploy rootsweep there, or register this account from the management account with `aws organizations register-delegated-administrator --service-principal iam.amazonaws.com --account-id <this account>`"
    )]
    NotManagementOrDelegatedAdministrator,
    #[error(
        "this account is not in an AWS Organization: centralized root access needs an organization; run rootsweep in its management account or delegated administrator account"
    )]
    NoOrganization,
    #[error(
        "the organization does not have all features enabled: enable them from the management account (`aws organizations enable-all-features`) and accept the handshake, then enable centralized root access"
    )]
    NotAllFeatures,
    #[error(
        "trusted access for IAM is not enabled in AWS Organizations: run `aws organizations enable-aws-service-access --service-principal iam.amazonaws.com` from the management account"
    )]
    TrustedAccessDisabled,
    #[error("centralized root access is not fully enabled: {}", missing_features(.0))]
    FeaturesDisabled(Vec<&'static str>),
    #[error(
        "{0}. Check that the function's role allows iam:ListOrganizationsFeatures, organizations:DescribeOrganization and organizations:ListAccounts (a delegated administrator also needs an Organizations delegation policy for them)"
    )]
    CallFailed(AwsError),
    #[error(
        "could not tell who is calling ({0}): configure AWS credentials (a profile with --profile or AWS_PROFILE, environment variables, or the function's role)"
    )]
    Credentials(AwsError),
    /// No call could be sent: the SDK's account of what it tried is logged at DEBUG (the CLI's
    /// `--verbose`), not shown here.
    #[error(
        "no AWS credentials were found: use a profile (--profile NAME or AWS_PROFILE; for IAM Identity Center, `aws sso login --profile NAME` first) or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (a Lambda function gets them from its execution role)"
    )]
    NoCredentials(AwsError),
    #[error(
        "could not list the accounts of the exempt organizational units ({0}), so nothing was done: an exempt account could otherwise be touched. Check ROOTSWEEP_EXEMPT_OUS and that the role allows organizations:ListOrganizationalUnitsForParent and organizations:ListAccountsForParent"
    )]
    Exemptions(AwsError),
}

/// A call that could not be sent for want of credentials says so, whichever call it was; the
/// SDK's own account of what it tried (the credential chain, over a thousand characters) goes
/// to the debug log.
fn failure(err: AwsError, otherwise: impl FnOnce(AwsError) -> PreflightError) -> PreflightError {
    if err.kind != AwsErrorKind::NoCredentials {
        return otherwise(err);
    }
    tracing::debug!(operation = err.operation, error = %err.message, "no AWS credentials");
    PreflightError::NoCredentials(err)
}

/// `iam:ListOrganizationsFeatures` failures each mean a distinct operator mistake.
fn features_error(err: AwsError) -> PreflightError {
    failure(err, |err| match err.code.as_deref() {
        Some("AccountNotManagementOrDelegatedAdministratorException") => {
            PreflightError::NotManagementOrDelegatedAdministrator
        }
        Some("OrganizationNotFoundException") => PreflightError::NoOrganization,
        Some("OrganizationNotInAllFeaturesModeException") => PreflightError::NotAllFeatures,
        Some("ServiceAccessNotEnabledException") => PreflightError::TrustedAccessDisabled,
        _ => PreflightError::CallFailed(err),
    })
}

pub(crate) fn organization_error(err: AwsError) -> PreflightError {
    failure(err, |err| {
        if err.has_code("AWSOrganizationsNotInUseException") {
            PreflightError::NoOrganization
        } else {
            PreflightError::CallFailed(err)
        }
    })
}

pub(crate) async fn enabled_features(org: &impl Organization) -> Result<(), PreflightError> {
    check_features(&org.root_access_features().await.map_err(features_error)?)
}

pub(crate) async fn management_account(
    org: &impl Organization,
) -> Result<AccountId, PreflightError> {
    org.management_account().await.map_err(organization_error)
}

pub(crate) async fn caller(org: &impl Organization) -> Result<Caller, PreflightError> {
    org.caller()
        .await
        .map_err(|err| failure(err, PreflightError::Credentials))
}

fn missing_features(missing: &[&'static str]) -> String {
    REQUIRED_FEATURES
        .iter()
        .filter(|(name, _)| missing.contains(name))
        .map(|(name, command)| format!("{name} is off (enable it with `{command}`)"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Fails unless every feature rootsweep relies on is enabled.
pub fn check_features(enabled: &[String]) -> Result<(), PreflightError> {
    let missing: Vec<&'static str> = REQUIRED_FEATURES
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| !enabled.iter().any(|e| e == name))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(PreflightError::FeaturesDisabled(missing))
    }
}

/// What the preflight learned that the run needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgFacts {
    pub management_account: AccountId,
    /// The caller, whose partition every ARN of the run is built in.
    pub caller: Caller,
}

/// Checks the prerequisites a run needs: features enabled, caller allowed, organization known.
pub async fn preflight(org: &impl Organization) -> Result<OrgFacts, PreflightError> {
    let ((), management_account, caller) =
        tokio::try_join!(enabled_features(org), management_account(org), caller(org))?;
    Ok(OrgFacts {
        management_account,
        caller,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn features(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn both_features_are_required() {
        assert_eq!(
            check_features(&features(&["RootCredentialsManagement", "RootSessions"])),
            Ok(())
        );
        let err = check_features(&features(&["RootCredentialsManagement"])).unwrap_err();
        assert_eq!(err, PreflightError::FeaturesDisabled(vec!["RootSessions"]));
        assert_eq!(
            err.to_string(),
            "centralized root access is not fully enabled: RootSessions is off (enable it with `aws iam enable-organizations-root-sessions`)"
        );
        let none = check_features(&[]).unwrap_err().to_string();
        assert!(none.contains("enable-organizations-root-credentials-management"));
        assert!(none.contains("enable-organizations-root-sessions"));
    }
}

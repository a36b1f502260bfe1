//! The organization prerequisites, checked at the start of every run, never assumed.

use crate::aws::AwsError;
use crate::aws::organization::Organization;
use crate::config::AccountId;

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
    #[error("AWS gave an answer rootsweep does not understand: {0}")]
    UnexpectedAnswer(String),
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
}

/// Checks the prerequisites: features enabled, caller allowed, organization known.
pub async fn preflight(org: &impl Organization) -> Result<OrgFacts, PreflightError> {
    check_features(&org.root_access_features().await?)?;
    Ok(OrgFacts {
        management_account: org.management_account().await?,
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

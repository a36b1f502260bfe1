//! `rootsweep preflight`'s check list: every prerequisite of a run and every configured feature,
//! each checked on its own so that an operator sees all that is wrong at once, with its remedy.

use futures::StreamExt;

use crate::account::{AccountState, Caller};
use crate::config::Config;
use crate::deliver::Features;
use crate::findings::GENERATOR;
use crate::ports::{AwsError, Organization};
use crate::preflight::{
    PreflightError, caller, enabled_features, management_account, organization_error,
};

/// One prerequisite, passed (with what was found) or failed (with the remedy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: &'static str,
    pub result: Result<String, String>,
}

impl Check {
    fn new(name: &'static str, result: Result<String, impl ToString>) -> Self {
        Self {
            name,
            result: result.map_err(|e| e.to_string()),
        }
    }
}

/// The optional features that are configured, each reached once: the follow-up schedule group,
/// the archive bucket, Security Hub. (Whether CloudTrail delivers management events to
/// EventBridge in this region cannot be read with rootsweep's permissions: infra/README.md says
/// how to check it.)
pub async fn feature_checks(
    config: &Config,
    features: &Features,
    caller: Option<&Caller>,
) -> Vec<Check> {
    let mut checks = Vec::new();
    if let (Some(settings), Some(scheduler)) = (&config.follow_ups, &features.scheduler) {
        let result = scheduler.list().await.map(|pending| {
            format!(
                "schedule group {}: {} follow-up(s) pending",
                settings.group,
                pending.len()
            )
        });
        let remedy = |e: AwsError| {
            format!(
                "{e}. Check that schedule group {} exists and that scheduler:ListSchedules is allowed",
                settings.group
            )
        };
        checks.push(Check::new(
            "Follow-ups (EventBridge Scheduler)",
            result.map_err(remedy),
        ));
    }
    if let (Some(location), Some(archive)) = (&config.archive, &features.archive) {
        // Listing after the last possible date partition: one call, no object read.
        let runs = location.key("runs/");
        let after = location.key("runs/date=9999");
        let result = archive
            .list(&runs, Some(&after))
            .await
            .map(|_| format!("{location} is reachable"));
        let remedy = |e: AwsError| {
            format!("{e}. Check ROOTSWEEP_ARCHIVE and that s3:ListBucket on the prefix is allowed")
        };
        checks.push(Check::new("Run archive (S3)", result.map_err(remedy)));
    }
    if let (true, Some(findings)) = (config.security_hub, &features.findings) {
        let remedy = |e: AwsError| {
            format!(
                "{e}. Enable Security Hub in this account and region, or turn findings off (ROOTSWEEP_SECURITY_HUB)"
            )
        };
        let result = match caller {
            Some(caller) => findings
                .prior(caller, GENERATOR)
                .await
                .map(|prior| {
                    let active = prior.iter().filter(|p| p.active).count();
                    format!(
                        "Security Hub is enabled: {} rootsweep finding(s), {active} active",
                        prior.len()
                    )
                })
                .map_err(remedy),
            None => Err("not checked: the caller is unknown (see the caller check)".to_owned()),
        };
        checks.push(Check::new("Findings (Security Hub)", result));
    }
    checks
}

/// Every prerequisite, each checked on its own so that an operator sees all that is wrong at
/// once: the operator CLI's `preflight`. A run itself only needs [`preflight`].
pub async fn checks(org: &impl Organization) -> Vec<Check> {
    let (caller, management, features) =
        tokio::join!(caller(org), management_account(org), enabled_features(org));
    let role = match (&caller, &management, &features) {
        (Ok(caller), Ok(management), _) if &caller.account == management => Ok(format!(
            "account {} is the management account",
            caller.account
        )),
        (Ok(caller), Ok(_), Ok(())) => Ok(format!(
            "account {} is the delegated administrator for root access",
            caller.account
        )),
        (_, _, Err(PreflightError::NotManagementOrDelegatedAdministrator)) => {
            Err(PreflightError::NotManagementOrDelegatedAdministrator)
        }
        (Err(err), _, _) | (_, Err(err), _) | (_, _, Err(err)) => Err(err.clone()),
    };
    let listing = {
        let accounts: Vec<_> = org.accounts().collect().await;
        match accounts.iter().find_map(|a| a.as_ref().err()) {
            Some(err) => Err(organization_error(err.clone())),
            None => {
                let active = accounts
                    .iter()
                    .flatten()
                    .filter(|a| a.state == AccountState::Active)
                    .count();
                Ok(format!(
                    "{} accounts, {active} of them ACTIVE",
                    accounts.len()
                ))
            }
        }
    };
    vec![
        Check::new(
            "AWS credentials",
            caller.map(|c| format!("calling as {}", c.arn)),
        ),
        Check::new(
            "Organization",
            management.map(|id| format!("management account {id}")),
        ),
        Check::new(
            "Centralized root access (trusted access, RootCredentialsManagement, RootSessions)",
            features.map(|()| "enabled".to_owned()),
        ),
        Check::new(
            "Caller is the management account or the delegated administrator",
            role,
        ),
        Check::new("Account listing (organizations:ListAccounts)", listing),
    ]
}

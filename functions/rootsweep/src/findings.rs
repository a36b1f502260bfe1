//! Security Hub findings: one per member account with root credentials, where security teams
//! look (next to IAM.4, IAM.6, IAM.9). Severity by outcome; archived once the account is clean
//! or remediated.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::account::{AccountId, Caller};
use crate::budget::Budget;
use crate::outcome::{AccountReport, Outcome};
use crate::ports::{FailedFinding, Finding, Findings};

/// The generator of rootsweep's findings, to find them again.
pub const GENERATOR: &str = "rootsweep-root-credentials";
/// BatchImportFindings takes at most 100 findings a call.
const BATCH: usize = 100;

/// The one finding id an account has.
pub fn finding_id(account: &AccountId) -> String {
    format!("rootsweep/root-credentials/{account}")
}

/// What a run's accounts mean for their findings. `active`: the ids of the findings still
/// active from earlier runs, so that those of accounts now clean are archived.
pub fn for_run(accounts: &[AccountReport], active: &[String], now: DateTime<Utc>) -> Vec<Finding> {
    accounts
        .iter()
        .filter_map(|account| {
            let id = finding_id(&account.account_id);
            let (severity, compliance, state) = match &account.outcome {
                Outcome::Due { .. } | Outcome::RetryLater { .. } => ("HIGH", "FAILED", "ACTIVE"),
                Outcome::InGrace { .. } => ("LOW", "FAILED", "ACTIVE"),
                Outcome::Failed(_) => ("MEDIUM", "FAILED", "ACTIVE"),
                Outcome::Remediated { .. } => ("INFORMATIONAL", "PASSED", "ARCHIVED"),
                Outcome::Clean if active.contains(&id) => ("INFORMATIONAL", "PASSED", "ARCHIVED"),
                _ => return None,
            };
            Some(Finding {
                id,
                account: account.account_id.clone(),
                severity,
                compliance,
                record_state: state,
                title: format!(
                    "Root user credentials in member account {}",
                    account.account_id
                ),
                description: description(account),
                first_observed: account
                    .credentials
                    .iter()
                    .filter_map(|c| c.created)
                    .min()
                    .unwrap_or(now),
                updated: now,
            })
        })
        .collect()
}

fn description(account: &AccountReport) -> String {
    let kinds: Vec<&str> = account
        .credentials
        .iter()
        .map(|c| c.kind.as_str())
        .collect();
    let held = if kinds.is_empty() {
        "none".to_owned()
    } else {
        kinds.join(", ")
    };
    let outcome = account.outcome.kind();
    match account.outcome.detail() {
        Some(detail) => format!("rootsweep: {outcome} ({detail}). Root credentials: {held}."),
        None => format!("rootsweep: {outcome}. Root credentials: {held}."),
    }
}

/// What the run did in Security Hub, in its summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Published {
    pub imported: usize,
    pub archived: usize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failed: Vec<FailedFinding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Imports the run's findings in batches of 100, within the run's time. Failures are
/// returned to be reported: they never change an account's outcome.
pub async fn publish(
    findings: &dyn Findings,
    caller: &Caller,
    accounts: &[AccountReport],
    budget: Budget,
) -> Published {
    let mut published = Published {
        imported: 0,
        archived: 0,
        failed: Vec::new(),
        error: None,
    };
    let active = match budget.publish(findings.active(GENERATOR)).await {
        Some(Ok(active)) => active,
        Some(Err(err)) => {
            published.error = Some(format!(
                "{err}. Findings of accounts now clean stay active until a run can read them"
            ));
            Vec::new()
        }
        None => {
            published.error = Some("the run's deadline came before the findings".into());
            return published;
        }
    };
    let all = for_run(accounts, &active, Utc::now());
    for batch in all.chunks(BATCH) {
        match budget.publish(findings.import(caller, batch)).await {
            Some(Ok(failed)) => {
                let imported = batch
                    .iter()
                    .filter(|f| !failed.iter().any(|x| x.id == f.id));
                for finding in imported {
                    published.imported += 1;
                    published.archived += usize::from(finding.record_state == "ARCHIVED");
                }
                published.failed.extend(failed);
            }
            Some(Err(err)) => {
                published.failed.extend(batch.iter().map(|f| FailedFinding {
                    id: f.id.clone(),
                    error: err.to_string(),
                }));
            }
            None => published.error = Some("the run's deadline came before every finding".into()),
        }
    }
    published
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::AccountState;
    use crate::credentials::Credential;
    use crate::outcome::{Failure, Stage};
    use crate::reasons::{Cause, SkipReason};

    fn account(n: u64, outcome: Outcome) -> AccountReport {
        let id = format!("{n:012}").parse().unwrap();
        let mut report = AccountReport::new(id, String::new(), Some(AccountState::Active), outcome);
        report.credentials = vec![Credential::password(Some(
            "2026-01-01T00:00:00Z".parse().unwrap(),
        ))];
        report
    }

    #[test]
    fn severity_and_state_follow_the_outcome_and_clean_accounts_only_archive() {
        let due_at = "2026-11-01T00:00:00Z".parse().unwrap();
        let accounts = [
            account(1, Outcome::Due { due_at, held: None }),
            account(2, Outcome::InGrace { due_at }),
            account(
                3,
                Outcome::Failed(Failure::new(Stage::Audit, Cause::Deadline)),
            ),
            account(4, Outcome::Remediated { due_at }),
            account(5, Outcome::Clean),
            account(6, Outcome::Clean),
            account(7, Outcome::Skipped(SkipReason::ManagementAccount)),
        ];
        let active = vec![finding_id(&"000000000005".parse().unwrap())];
        let found = for_run(&accounts, &active, Utc::now());
        let seen: Vec<(u64, &str, &str, &str)> = found
            .iter()
            .map(|f| {
                (
                    f.account.as_str().parse().unwrap(),
                    f.severity,
                    f.compliance,
                    f.record_state,
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                (1, "HIGH", "FAILED", "ACTIVE"),
                (2, "LOW", "FAILED", "ACTIVE"),
                (3, "MEDIUM", "FAILED", "ACTIVE"),
                (4, "INFORMATIONAL", "PASSED", "ARCHIVED"),
                (5, "INFORMATIONAL", "PASSED", "ARCHIVED"),
            ]
        );
        assert_eq!(found[0].id, "rootsweep/root-credentials/000000000001");
        assert_eq!(
            found[0].first_observed.to_rfc3339(),
            "2026-01-01T00:00:00+00:00"
        );
    }
}

//! Security Hub findings: one per member account with root credentials, where security teams
//! look (next to IAM.4, IAM.6, IAM.9), with a lifecycle an auditor can follow: created once
//! (`CreatedAt` kept on every update), severity by outcome in the provider's own fields, a
//! failed check `NOT_AVAILABLE` without lowering what an earlier run said, archived once the
//! account is clean or remediated, and archived with the reason once rootsweep no longer checks
//! it (exempt, skipped, gone from the organization).

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::account::{AccountId, Caller};
use crate::budget::Budget;
use crate::outcome::{AccountReport, Outcome};
use crate::pace::Pace;
use crate::ports::{FailedFinding, Finding, Findings, PriorFinding, Severity};

/// The generator of rootsweep's findings, to find them again.
pub const GENERATOR: &str = "rootsweep-root-credentials";
/// BatchImportFindings takes at most 100 findings and 6 MB a call, 240 KB a finding, at 10
/// calls a second with bursts of 30 ("BatchImportFindings for finding providers", Security Hub
/// User Guide): a run keeps to 10 a second.
const BATCH: usize = 100;
const BATCH_BYTES: usize = 6 * 1024 * 1024;
const IMPORTS_PER_SECOND: usize = 10;
/// What a finding weighs besides its texts, generously: the ASFF envelope (ids, ARNs, dates,
/// resource, severity, types) is under 1 KB.
const ENVELOPE_BYTES: usize = 2048;
/// ASFF's limits on the texts ("AWS Security Finding Format", required attributes): with them
/// a finding stays far under 240 KB.
const TITLE_CHARS: usize = 256;
const DESCRIPTION_CHARS: usize = 1024;

/// The one finding id an account has.
pub fn finding_id(account: &AccountId) -> String {
    format!("rootsweep/root-credentials/{account}")
}

/// What the run's accounts mean for their findings. `prior`: the findings already there, by
/// id. `whole_view`: the run listed every account of the organization, so that an active
/// finding of an account it did not report is of an account gone from it.
pub fn for_run(
    accounts: &[AccountReport],
    prior: &HashMap<String, PriorFinding>,
    whole_view: bool,
    now: DateTime<Utc>,
) -> Vec<Finding> {
    let mut findings: Vec<Finding> = accounts
        .iter()
        .filter_map(|account| {
            let id = finding_id(&account.account_id);
            let before = prior.get(&id);
            let (severity, compliance, state, description) = verdict(account, before)?;
            let seen = !account.credentials.is_empty();
            Some(Finding {
                account: account.account_id.clone(),
                severity,
                compliance,
                record_state: state,
                title: title(&account.account_id),
                description: clip(&description, DESCRIPTION_CHARS),
                created: before.map_or(now, |b| b.created),
                first_observed: oldest_credential(account)
                    .or_else(|| before.and_then(|b| b.first_observed)),
                last_observed: seen
                    .then_some(account.finished_at)
                    .or_else(|| before.and_then(|b| b.last_observed)),
                updated: now,
                id,
            })
        })
        .collect();
    if whole_view {
        let reported: BTreeSet<&AccountId> = accounts.iter().map(|a| &a.account_id).collect();
        let gone = prior
            .values()
            .filter(|p| p.active)
            .filter_map(|p| Some((p, p.account.as_ref()?)))
            .filter(|(_, account)| !reported.contains(account));
        findings.extend(gone.map(|(p, account)| Finding {
            id: p.id.clone(),
            account: account.clone(),
            severity: Severity::Informational,
            compliance: "NOT_AVAILABLE",
            record_state: "ARCHIVED",
            title: title(account),
            description: "rootsweep no longer checks this account: it is not in the organization any more. Archived.".into(),
            created: p.created,
            first_observed: p.first_observed,
            last_observed: p.last_observed,
            updated: now,
        }));
    }
    findings
}

type Verdict = (Severity, &'static str, &'static str, String);

/// Severity, compliance, record state and description; `None` leaves the finding as it is.
fn verdict(account: &AccountReport, before: Option<&PriorFinding>) -> Option<Verdict> {
    let active = before.is_some_and(|b| b.active);
    let outcome = &account.outcome;
    let said = describe(account);
    Some(match outcome {
        Outcome::InGrace { .. } => (Severity::Low, "FAILED", "ACTIVE", said),
        Outcome::Remediated { .. } => (Severity::Informational, "PASSED", "ARCHIVED", said),
        Outcome::Clean if active => (Severity::Informational, "PASSED", "ARCHIVED", said),
        // Found past its grace period, whatever came next: held, failed while deleting, not
        // reached, refused for now.
        _ if outcome.due_at().is_some() => (Severity::High, "FAILED", "ACTIVE", said),
        // A failed check says nothing new of the credentials: it never lowers what an earlier
        // run said, and never reopens a finding archived when the account was last clean.
        Outcome::Failed(_) if before.is_none() || active => {
            let severity = before
                .and_then(|b| b.severity)
                .map_or(Severity::Medium, |s| s.max(Severity::Medium));
            (severity, "NOT_AVAILABLE", "ACTIVE", said)
        }
        Outcome::Exempt(_) | Outcome::Skipped(_) if active => {
            let reason = format!(
                "rootsweep no longer checks this account: {} ({}). Archived.",
                outcome.kind(),
                outcome.detail().unwrap_or_default()
            );
            (Severity::Informational, "NOT_AVAILABLE", "ARCHIVED", reason)
        }
        _ => return None,
    })
}

fn title(account: &AccountId) -> String {
    clip(
        &format!("Root user credentials in member account {account}"),
        TITLE_CHARS,
    )
}

fn oldest_credential(account: &AccountReport) -> Option<DateTime<Utc>> {
    account.credentials.iter().filter_map(|c| c.created).min()
}

fn describe(account: &AccountReport) -> String {
    let kinds: Vec<&str> = account
        .credentials
        .iter()
        .map(|c| c.kind.as_str())
        .collect();
    let held = match (&account.outcome, kinds.is_empty()) {
        (Outcome::Failed(f), _) if f.due_at.is_none() => "unknown (the check failed)".to_owned(),
        (_, true) => "none".to_owned(),
        (_, false) => kinds.join(", "),
    };
    let outcome = account.outcome.kind();
    let due = match account.outcome.due_at() {
        Some(due_at) if !matches!(account.outcome, Outcome::InGrace { .. }) => {
            format!(" Past the grace period since {}.", due_at.to_rfc3339())
        }
        Some(due_at) => format!(" Due {}.", due_at.to_rfc3339()),
        None => String::new(),
    };
    match account.outcome.detail() {
        Some(detail) => format!("rootsweep: {outcome} ({detail}).{due} Root credentials: {held}."),
        None => format!("rootsweep: {outcome}.{due} Root credentials: {held}."),
    }
}

/// At most `chars` characters, the cut marked.
fn clip(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        return text.to_owned();
    }
    let kept: String = text.chars().take(chars - 1).collect();
    format!("{kept}…")
}

/// The import calls: at most 100 findings and 6 MB each.
fn batches(findings: &[Finding]) -> Vec<&[Finding]> {
    let mut batches = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, finding) in findings.iter().enumerate() {
        let size =
            ENVELOPE_BYTES + finding.id.len() + finding.title.len() + finding.description.len();
        if i > start && (i - start == BATCH || bytes + size > BATCH_BYTES) {
            batches.push(&findings[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += size;
    }
    if start < findings.len() {
        batches.push(&findings[start..]);
    }
    batches
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

/// Imports the run's findings, within the run's time and under Security Hub's rate. Failures
/// are returned to be reported: they never change an account's outcome. Without the earlier
/// findings nothing is imported: their creation dates and severities are what the updates keep.
pub async fn publish(
    findings: &dyn Findings,
    caller: &Caller,
    accounts: &[AccountReport],
    whole_view: bool,
    budget: Budget,
) -> Published {
    let mut published = Published {
        imported: 0,
        archived: 0,
        failed: Vec::new(),
        error: None,
    };
    let prior = match budget.publish(findings.prior(caller, GENERATOR)).await {
        Some(Ok(prior)) => prior.into_iter().map(|p| (p.id.clone(), p)).collect(),
        Some(Err(err)) => {
            published.error = Some(format!(
                "{err}. No finding was imported: the earlier ones must be read first (check that the role may securityhub:GetFindings); the next run imports them"
            ));
            return published;
        }
        None => {
            published.error = Some("the run's deadline came before the findings".into());
            return published;
        }
    };
    let all = for_run(accounts, &prior, whole_view, Utc::now());
    let pace = Pace::per_second(IMPORTS_PER_SECOND);
    for batch in batches(&all) {
        let import = async {
            pace.wait().await;
            findings.import(caller, batch).await
        };
        match budget.publish(import).await {
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
    use std::sync::Mutex;
    use std::time::Duration;

    use futures::FutureExt;
    use tokio::time::Instant;

    use super::*;
    use crate::account::AccountState;
    use crate::credentials::Credential;
    use crate::error::{AwsError, AwsErrorKind};
    use crate::outcome::{Failure, Stage};
    use crate::ports::Call;
    use crate::reasons::{Cause, ExemptRule, SkipReason};

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn account(n: u64, outcome: Outcome) -> AccountReport {
        let id = format!("{n:012}").parse().unwrap();
        let mut report = AccountReport::new(id, String::new(), Some(AccountState::Active), outcome);
        report.credentials = vec![Credential::password(Some(at("2026-01-01T00:00:00Z")))];
        report.finished_at = at("2026-11-02T03:00:00Z");
        report
    }

    fn prior(n: u64, severity: Severity, active: bool) -> (String, PriorFinding) {
        let account: AccountId = format!("{n:012}").parse().unwrap();
        let id = finding_id(&account);
        let finding = PriorFinding {
            id: id.clone(),
            account: Some(account),
            created: at("2026-10-01T03:00:00Z"),
            first_observed: Some(at("2026-01-01T00:00:00Z")),
            last_observed: Some(at("2026-11-01T03:00:00Z")),
            severity: Some(severity),
            active,
        };
        (id, finding)
    }

    fn denied(stage: Stage) -> Failure {
        let error = AwsError::new("sts:AssumeRoot", AwsErrorKind::AccessDenied, "SCP");
        Failure::new(stage, Cause::Aws(error))
    }

    fn seen(found: &[Finding]) -> Vec<(u64, Severity, &str, &str)> {
        found
            .iter()
            .map(|f| {
                let n = f.account.as_str().parse().unwrap();
                (n, f.severity, f.compliance, f.record_state)
            })
            .collect()
    }

    #[test]
    fn severity_and_state_follow_the_outcome_and_clean_accounts_only_archive() {
        let due_at = at("2026-11-01T00:00:00Z");
        let accounts = [
            account(1, Outcome::Due { due_at, held: None }),
            account(2, Outcome::InGrace { due_at }),
            account(3, Outcome::Failed(denied(Stage::AssumeRootAudit))),
            account(4, Outcome::Remediated { due_at }),
            account(5, Outcome::Clean),
            account(6, Outcome::Clean),
            account(7, Outcome::Skipped(SkipReason::ManagementAccount)),
            account(
                8,
                Outcome::Failed(denied(Stage::Remove).after_due(Some(due_at))),
            ),
        ];
        let before = HashMap::from([prior(5, Severity::High, true)]);
        let now = at("2026-11-02T03:00:01Z");
        let found = for_run(&accounts, &before, true, now);
        assert_eq!(
            seen(&found),
            [
                (1, Severity::High, "FAILED", "ACTIVE"),
                (2, Severity::Low, "FAILED", "ACTIVE"),
                (3, Severity::Medium, "NOT_AVAILABLE", "ACTIVE"),
                (4, Severity::Informational, "PASSED", "ARCHIVED"),
                (5, Severity::Informational, "PASSED", "ARCHIVED"),
                (8, Severity::High, "FAILED", "ACTIVE"),
            ]
        );
        assert_eq!(found[0].id, "rootsweep/root-credentials/000000000001");
        // New findings are created now; an update keeps the creation of the earlier one.
        assert_eq!(found[0].created, now);
        assert_eq!(found[4].created, at("2026-10-01T03:00:00Z"));
        assert_eq!(found[0].first_observed, Some(at("2026-01-01T00:00:00Z")));
        assert_eq!(found[0].last_observed, Some(at("2026-11-02T03:00:00Z")));
        assert!(
            found[2]
                .description
                .contains("Root credentials: unknown (the check failed)")
        );
        assert!(
            found[5]
                .description
                .contains("Past the grace period since 2026-11-01")
        );
    }

    #[test]
    fn a_failed_check_never_lowers_a_due_finding_nor_reopens_an_archived_one() {
        let failed = Outcome::Failed(denied(Stage::AssumeRootAudit));
        let accounts = [account(1, failed.clone()), account(2, failed)];
        let before = HashMap::from([
            prior(1, Severity::High, true),
            prior(2, Severity::Informational, false),
        ]);
        let found = for_run(&accounts, &before, true, Utc::now());
        assert_eq!(
            seen(&found),
            [(1, Severity::High, "NOT_AVAILABLE", "ACTIVE")]
        );
    }

    #[test]
    fn findings_of_accounts_no_longer_checked_are_archived_with_the_reason() {
        let accounts = [
            account(1, Outcome::Exempt(ExemptRule::ListedAccount)),
            account(
                2,
                Outcome::Skipped(SkipReason::NotActive(AccountState::Suspended)),
            ),
            account(3, Outcome::Exempt(ExemptRule::ListedAccount)),
        ];
        let before = HashMap::from([
            prior(1, Severity::High, true),
            prior(2, Severity::Low, true),
            prior(9, Severity::High, true),
        ]);
        let found = for_run(&accounts, &before, true, Utc::now());
        assert_eq!(
            seen(&found),
            [
                (1, Severity::Informational, "NOT_AVAILABLE", "ARCHIVED"),
                (2, Severity::Informational, "NOT_AVAILABLE", "ARCHIVED"),
                (9, Severity::Informational, "NOT_AVAILABLE", "ARCHIVED"),
            ]
        );
        assert!(
            found[0].description.contains("exempt ("),
            "{}",
            found[0].description
        );
        assert!(
            found[1].description.contains("SUSPENDED"),
            "{}",
            found[1].description
        );
        assert!(found[2].description.contains("not in the organization"));
        assert_eq!(found[2].created, at("2026-10-01T03:00:00Z"));
        // A run that did not see the whole organization says nothing of account 9.
        let partial = for_run(&accounts, &before, false, Utc::now());
        assert_eq!(partial.len(), 2);
    }

    #[test]
    fn texts_are_clipped_to_asff_limits_and_calls_to_100_findings_and_6_mb() {
        let long = "x".repeat(5000);
        assert_eq!(clip(&long, DESCRIPTION_CHARS).chars().count(), 1024);
        let finding = |description: String| Finding {
            id: "f".into(),
            account: "000000000001".parse().unwrap(),
            severity: Severity::Low,
            compliance: "FAILED",
            record_state: "ACTIVE",
            title: "t".into(),
            description,
            created: Utc::now(),
            first_observed: None,
            last_observed: None,
            updated: Utc::now(),
        };
        let small: Vec<Finding> = (0..250).map(|_| finding("d".into())).collect();
        let sizes: Vec<usize> = batches(&small).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [100, 100, 50]);
        // 200 KB each: 30 fit in 6 MB with their envelopes.
        let large: Vec<Finding> = (0..70).map(|_| finding("y".repeat(200 * 1024))).collect();
        let sizes: Vec<usize> = batches(&large).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [30, 30, 10]);
    }

    /// Security Hub in memory: when each import came, and no earlier findings.
    #[derive(Default)]
    struct Hub(Mutex<Vec<Instant>>);

    impl Findings for Hub {
        fn import<'a>(&'a self, _: &'a Caller, _: &'a [Finding]) -> Call<'a, Vec<FailedFinding>> {
            self.0.lock().unwrap().push(Instant::now());
            async { Ok(Vec::new()) }.boxed()
        }
        fn prior<'a>(&'a self, _: &'a Caller, _: &'a str) -> Call<'a, Vec<PriorFinding>> {
            async { Ok(Vec::new()) }.boxed()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn imports_keep_to_ten_calls_a_second() {
        let due_at = at("2026-11-01T00:00:00Z");
        let accounts: Vec<AccountReport> = (1..=2500)
            .map(|n| account(n, Outcome::InGrace { due_at }))
            .collect();
        let caller = Caller {
            account: "111111111111".parse().unwrap(),
            arn: "arn:aws:iam::111111111111:root".into(),
            partition: Default::default(),
        };
        let hub = Hub::default();
        let start = Instant::now();
        let published = publish(&hub, &caller, &accounts, true, Budget::new(None)).await;
        assert_eq!(published.imported, 2500);
        let at: Vec<Duration> = hub.0.lock().unwrap().iter().map(|t| *t - start).collect();
        assert_eq!(at.len(), 25);
        assert_eq!(at[..10], [Duration::ZERO; 10], "a second's worth at once");
        assert_eq!(at[24], Duration::from_millis(1500), "then one every 100 ms");
    }
}

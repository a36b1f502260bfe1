//! Outcomes -> the run summary, the metric data and the report lines. Everything here is pure:
//! it only looks at outcomes.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::account::AccountId;
use crate::config::{GracePeriod, Mode};
use crate::credentials::CredentialKind;
use crate::findings::Published;
use crate::followup::{FollowUp, FollowUpAction};
use crate::ledger::{LedgerState, LedgerSummary};
use crate::names::camel_case;
use crate::outcome::{AccountReport, Outcome, OutcomeKind};
use crate::ports::{MetricPoint, MetricUnit};
use crate::reasons::{HoldReason, ListingStop};

/// What archiving a run did, in its summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Archived {
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// An exempt account and the rule that exempts it, as a run summary lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exemption {
    pub account_id: String,
    pub rule: String,
}

/// The whole result of a run: the summary and every account, in account order.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub summary: RunSummary,
    pub accounts: Vec<AccountReport>,
}

/// An account that needs a person's attention, in the summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attention {
    pub account_id: AccountId,
    pub outcome: OutcomeKind,
    pub detail: String,
}

/// The run summary: the Lambda's response and the last report line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSummary {
    pub run_id: String,
    pub mode: Mode,
    /// As configured (`72h`).
    pub grace_period: String,
    pub grace_period_seconds: u64,
    pub started_at: DateTime<Utc>,
    pub duration_seconds: f64,
    /// Whether the run covered the whole organization, or only accounts named in the request.
    pub whole_organization: bool,
    /// False when the account listing stopped early: some accounts were not even seen.
    pub complete: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listing_error: Option<String>,
    /// When the run took the accounts from the last complete listing (in the run ledger)
    /// instead of listing them, to give its time to tag reads: when that listing was made.
    /// Accounts that joined since are audited once a run lists again, within
    /// `LISTING_REUSED_FOR` (3 days) of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listing_reused_from: Option<DateTime<Utc>>,
    /// Why the due accounts were not remediated, when they were held (audit mode aside).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remediation_held: Option<String>,
    /// True when more accounts were due (or unknown) than a run may remediate.
    pub over_remediation_cap: bool,
    pub accounts_scanned: usize,
    /// The seed of this run's audit order (a hash of the run id): a run cut short by its
    /// deadline leaves a different part of the organization unreached each time.
    pub audit_order_seed: u64,
    /// Accounts by outcome, every outcome listed.
    pub accounts: BTreeMap<OutcomeKind, usize>,
    /// In grace only because of an odd date (missing, before the account, in the future).
    pub accounts_held_by_odd_dates: usize,
    pub credentials_found: BTreeMap<CredentialKind, usize>,
    pub credentials_deleted: BTreeMap<CredentialKind, usize>,
    /// Failed, not reached, retry-later, due (not deleted) and odd-dated accounts.
    pub attention: Vec<Attention>,
    /// What became of the run ledger, and how well it covers the organization.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ledger: Option<LedgerSummary>,
    /// The exempt accounts with their rules: the exemptions in force, for the evidence.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exemptions: Vec<Exemption>,
    /// The follow-ups this run scheduled (or kept, skipped, failed to schedule).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub follow_ups: Vec<FollowUp>,
    /// Where the run was archived, when an archive is configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archive: Option<Archived>,
    /// What went to Security Hub, when findings are on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub findings: Option<Published>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_error: Option<String>,
}

/// The answer to a recovery event: the follow-up it scheduled.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecoveryReport {
    pub run_id: String,
    pub account_id: AccountId,
    pub recovered_at: DateTime<Utc>,
    pub event_id: String,
    /// `None` when follow-ups are off (no group configured, or no function to invoke).
    pub follow_up: Option<FollowUp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_error: Option<String>,
}

/// What a summary is made from besides the outcomes.
#[derive(Debug, Clone)]
pub struct RunFacts {
    pub run_id: String,
    pub mode: Mode,
    pub grace: GracePeriod,
    pub started_at: DateTime<Utc>,
    pub duration_seconds: f64,
    pub whole_organization: bool,
    pub listing_error: Option<ListingStop>,
    pub listing_reused_from: Option<DateTime<Utc>>,
    pub held: Option<HoldReason>,
    pub audit_order_seed: u64,
}

fn tally<K: Ord + Copy>(all: &[K], items: impl Iterator<Item = K>) -> BTreeMap<K, usize> {
    let mut map: BTreeMap<K, usize> = all.iter().map(|k| (*k, 0)).collect();
    for item in items {
        *map.entry(item).or_default() += 1;
    }
    map
}

fn attention(account: &AccountReport) -> Option<Attention> {
    let detail = match &account.outcome {
        Outcome::Due { due_at, .. } => format!(
            "root credentials past their grace period since {due_at} ({})",
            account.outcome.detail().unwrap_or_default()
        ),
        Outcome::InGrace { due_at } if account.held_by_odd_dates() => {
            let odd: Vec<String> = account
                .date_anomalies
                .iter()
                .map(ToString::to_string)
                .collect();
            format!("due {due_at} only because of odd dates: {}", odd.join("; "))
        }
        outcome @ (Outcome::Failed(_) | Outcome::NotReached(_) | Outcome::RetryLater { .. }) => {
            outcome.detail().unwrap_or_default()
        }
        _ => return None,
    };
    Some(Attention {
        account_id: account.account_id.clone(),
        outcome: account.outcome.kind(),
        detail,
    })
}

impl RunSummary {
    pub fn new(facts: RunFacts, accounts: &[AccountReport]) -> Self {
        let listing_error = facts.listing_error.map(|err| {
            format!("{err}. Accounts after this point were not listed, so this run is incomplete: run it again")
        });
        Self {
            run_id: facts.run_id,
            mode: facts.mode,
            grace_period: facts.grace.to_string(),
            grace_period_seconds: facts.grace.seconds(),
            started_at: facts.started_at,
            duration_seconds: facts.duration_seconds,
            whole_organization: facts.whole_organization,
            complete: listing_error.is_none(),
            listing_error,
            listing_reused_from: facts.listing_reused_from,
            over_remediation_cap: matches!(facts.held, Some(HoldReason::OverCap { .. })),
            remediation_held: facts
                .held
                .filter(|held| *held != HoldReason::AuditMode)
                .map(|held| held.to_string()),
            accounts_scanned: accounts.iter().filter(|a| a.outcome.was_scanned()).count(),
            audit_order_seed: facts.audit_order_seed,
            accounts: tally(OutcomeKind::ALL, accounts.iter().map(|a| a.outcome.kind())),
            accounts_held_by_odd_dates: accounts.iter().filter(|a| a.held_by_odd_dates()).count(),
            credentials_found: tally(
                CredentialKind::ALL,
                accounts.iter().flat_map(|a| a.found.iter().copied()),
            ),
            credentials_deleted: tally(
                CredentialKind::ALL,
                accounts.iter().flat_map(AccountReport::deleted),
            ),
            attention: accounts.iter().filter_map(attention).collect(),
            ledger: None,
            exemptions: accounts
                .iter()
                .filter_map(|a| match &a.outcome {
                    Outcome::Exempt(rule) => Some(Exemption {
                        account_id: a.account_id.to_string(),
                        rule: rule.to_string(),
                    }),
                    _ => None,
                })
                .collect(),
            follow_ups: Vec::new(),
            archive: None,
            findings: None,
            metrics_error: None,
        }
    }

    pub fn count(&self, kind: OutcomeKind) -> usize {
        self.accounts.get(&kind).copied().unwrap_or(0)
    }
}

impl MetricPoint {
    fn count(name: impl Into<String>, value: usize) -> Self {
        Self {
            name: name.into(),
            value: value as f64,
            unit: MetricUnit::Count,
            dimensions: Vec::new(),
        }
    }
}

/// The run's metrics: `Accounts<Outcome>` for every outcome (from the outcome name table),
/// `CredentialsFound`/`CredentialsDeleted` in total and by `CredentialType`, the run's health,
/// and what it delivered (follow-ups, archive, findings). `SweepCompleted` is only sent by a run
/// over the whole organization that listed every account: its absence is what the missed-sweep
/// alarm watches, so a targeted or broken-off run must not stand in for a real sweep.
pub fn metric_points(summary: &RunSummary) -> Vec<MetricPoint> {
    let mut points = sweep_figures(summary);
    // A run over named accounts (a follow-up, a hand invocation) says nothing of the others:
    // its figures carry `RunScope`, so the alarms on a sweep's figures are not moved by it.
    // What it deleted and delivered is counted as any run's.
    if !summary.whole_organization {
        for point in &mut points {
            point
                .dimensions
                .push(("RunScope", NAMED_ACCOUNTS.to_owned()));
        }
    }
    // A hold by the cap is a hold whichever run meets it (a follow-up over the cap too): its
    // alarm watches every run.
    points.push(MetricPoint::count(
        "RemediationCapExceeded",
        usize::from(summary.over_remediation_cap),
    ));
    if let Some(ledger) = summary
        .ledger
        .as_ref()
        .filter(|l| l.state != LedgerState::None)
    {
        points.push(MetricPoint::count(
            "LedgerFailed",
            usize::from(ledger.failed()),
        ));
    }
    points.extend(by_kind("CredentialsDeleted", &summary.credentials_deleted));
    points.extend(follow_up_points(&summary.follow_ups));
    if let Some(archived) = &summary.archive {
        points.push(MetricPoint::count(
            "ArchiveFailed",
            usize::from(archived.error.is_some()),
        ));
    }
    if let Some(published) = &summary.findings {
        let failed = published.failed.len() + usize::from(published.error.is_some());
        points.push(MetricPoint::count("FindingsFailed", failed));
    }
    if summary.complete && summary.whole_organization {
        points.push(MetricPoint::count("SweepCompleted", 1));
    }
    points
}

/// What the run found: accounts by outcome, credentials found, its duration.
fn sweep_figures(summary: &RunSummary) -> Vec<MetricPoint> {
    let mut points = vec![MetricPoint::count(
        "AccountsScanned",
        summary.accounts_scanned,
    )];
    points.extend(
        summary.accounts.iter().map(|(kind, n)| {
            MetricPoint::count(format!("Accounts{}", camel_case(kind.as_str())), *n)
        }),
    );
    points.push(MetricPoint::count(
        "AccountsHeldByOddDates",
        summary.accounts_held_by_odd_dates,
    ));
    points.push(MetricPoint {
        unit: MetricUnit::Seconds,
        value: summary.duration_seconds,
        ..MetricPoint::count("RunDuration", 0)
    });
    points.extend(by_kind("CredentialsFound", &summary.credentials_found));
    points
}

/// `name` in total and by `CredentialType`.
fn by_kind(name: &'static str, counts: &BTreeMap<CredentialKind, usize>) -> Vec<MetricPoint> {
    let mut points = vec![MetricPoint::count(name, counts.values().sum())];
    points.extend(counts.iter().map(|(kind, n)| MetricPoint {
        dimensions: vec![("CredentialType", camel_case(kind.as_str()))],
        ..MetricPoint::count(name, *n)
    }));
    points
}

/// The `RunScope` dimension of the metrics of a run over named accounts.
pub const NAMED_ACCOUNTS: &str = "NamedAccounts";

/// `FollowUps<Action>` for every action of the table, zeros included.
pub fn follow_up_points(follow_ups: &[FollowUp]) -> Vec<MetricPoint> {
    FollowUpAction::ALL
        .iter()
        .map(|action| {
            let n = follow_ups.iter().filter(|f| f.action == *action).count();
            MetricPoint::count(format!("FollowUps{}", camel_case(action.as_str())), n)
        })
        .collect()
}

/// Receives the report as the run produces it: each account as soon as it is done, so that a
/// run cut short still leaves a line for every account it finished.
pub trait ReportSink: Send + Sync {
    fn account(&self, run_id: &str, report: &AccountReport);
    fn summary(&self, summary: &RunSummary);
    fn recovery(&self, _report: &RecoveryReport) {}
}

/// Writes one JSON object per line (`"kind": "account_report"` or `"run_summary"`), the form
/// CloudWatch Logs Insights discovers fields in.
pub struct JsonLines<W>(Mutex<W>);

impl<W: Write + Send> JsonLines<W> {
    pub fn new(writer: W) -> Self {
        Self(Mutex::new(writer))
    }

    pub fn into_inner(self) -> W {
        self.0
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write_line(&self, line: &impl Serialize) {
        let mut writer = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // A report line that cannot be written (closed stdout) must not stop the sweep.
        if let Ok(json) = serde_json::to_string(line) {
            let _ = writeln!(writer, "{json}");
            let _ = writer.flush();
        }
    }
}

#[derive(Serialize)]
struct Line<'a, T: Serialize> {
    /// Lambda's application log-level filter reads `level` from JSON log lines: the report is
    /// INFO, like the logs beside it, so a filter at INFO or finer keeps it.
    level: &'static str,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    run_id: Option<&'a str>,
    #[serde(flatten)]
    body: &'a T,
}

impl<W: Write + Send> ReportSink for JsonLines<W> {
    fn account(&self, run_id: &str, report: &AccountReport) {
        self.write_line(&Line {
            level: "INFO",
            kind: "account_report",
            run_id: Some(run_id),
            body: report,
        });
    }

    fn summary(&self, summary: &RunSummary) {
        self.write_line(&Line {
            level: "INFO",
            kind: "run_summary",
            run_id: None,
            body: summary,
        });
    }

    fn recovery(&self, report: &RecoveryReport) {
        self.write_line(&Line {
            level: "INFO",
            kind: "recovery_follow_up",
            run_id: None,
            body: report,
        });
    }
}

#[cfg(test)]
mod tests;

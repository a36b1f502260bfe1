//! Outcomes -> the per-account report lines, the run summary and the metric data.
//! Everything here is pure: it only looks at outcomes.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::aws::organization::AccountState;
use crate::aws::root_session::TaskPolicy;
use crate::config::{AccountId, Mode};
use crate::credentials::{Credential, CredentialKind};

/// Where an account's processing failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    ExemptionCheck,
    AssumeRootAudit,
    Audit,
    AssumeRootDelete,
    Recheck,
    Remove,
    Verify,
}

/// How one account ended. Every account in a run ends in exactly one of these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// No root credentials.
    Clean,
    /// Root credentials that may be deleted from `due_at` on.
    InGrace {
        due_at: DateTime<Utc>,
    },
    /// Past their grace period, not deleted because the run only audits.
    Due {
        due_at: DateTime<Utc>,
    },
    /// Past their grace period, deleted, and checked gone.
    Remediated {
        due_at: DateTime<Utc>,
    },
    /// Past their grace period; AWS refused a removal for now (MFA right after a password
    /// recovery). Not a failure: the next run finishes it.
    RetryLater {
        due_at: DateTime<Utc>,
        error: String,
    },
    Skipped {
        reason: String,
    },
    Exempt {
        rule: String,
    },
    Failed {
        stage: Stage,
        error: String,
    },
    /// Not started because the run reached its deadline.
    NotReached {
        reason: String,
    },
}

impl Outcome {
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Clean => "clean",
            Outcome::InGrace { .. } => "in_grace",
            Outcome::Due { .. } => "due",
            Outcome::Remediated { .. } => "remediated",
            Outcome::RetryLater { .. } => "retry_later",
            Outcome::Skipped { .. } => "skipped",
            Outcome::Exempt { .. } => "exempt",
            Outcome::Failed { .. } => "failed",
            Outcome::NotReached { .. } => "not_reached",
        }
    }

    /// Whether the account was audited (or an audit was attempted).
    pub fn was_scanned(&self) -> bool {
        !matches!(
            self,
            Outcome::Skipped { .. } | Outcome::Exempt { .. } | Outcome::NotReached { .. }
        )
    }
}

/// One thing done to a credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    Deleted,
    Deactivated,
    /// It was gone already when we tried (`NoSuchEntity`).
    AlreadyGone,
    /// A deactivated virtual MFA device, deleted as well.
    DeletedVirtualMfaDevice,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Action {
    pub action: ActionKind,
    pub kind: CredentialKind,
    pub id: String,
}

/// One root session opened for an account, so that an operator can match the root activity
/// CloudTrail records in the member account to this run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionRecord {
    pub task_policy: TaskPolicy,
    pub request_id: Option<String>,
}

/// Everything the report says about one account. Never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountReport {
    pub account_id: AccountId,
    pub account_name: String,
    /// `None` when a targeted account was not found in the organization.
    pub account_state: Option<AccountState>,
    #[serde(flatten)]
    pub outcome: Outcome,
    /// The credentials as last read (after a deletion: what was deleted).
    pub credentials: Vec<Credential>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_last_used: Option<DateTime<Utc>>,
    /// Credentials found by the audit, for the counts; the same as `credentials` unless a delete
    /// session saw something else.
    #[serde(skip)]
    pub found: Vec<CredentialKind>,
    pub actions: Vec<Action>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub root_sessions: Vec<SessionRecord>,
}

impl AccountReport {
    pub fn new(
        account_id: AccountId,
        account_name: String,
        account_state: Option<AccountState>,
        outcome: Outcome,
    ) -> Self {
        Self {
            account_id,
            account_name,
            account_state,
            outcome,
            credentials: Vec::new(),
            password_last_used: None,
            found: Vec::new(),
            actions: Vec::new(),
            notes: Vec::new(),
            root_sessions: Vec::new(),
        }
    }

    fn deleted(&self) -> impl Iterator<Item = CredentialKind> + '_ {
        self.actions
            .iter()
            .filter(|a| matches!(a.action, ActionKind::Deleted | ActionKind::Deactivated))
            .map(|a| a.kind)
    }
}

/// An account that needs a person's attention, in the summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attention {
    pub account_id: AccountId,
    pub outcome: &'static str,
    pub detail: String,
}

/// The run summary: the Lambda's response and the last report line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSummary {
    pub run_id: String,
    pub mode: Mode,
    pub grace_period: String,
    pub started_at: DateTime<Utc>,
    pub duration_seconds: f64,
    /// Whether the run covered the whole organization, or only accounts named in the request.
    pub whole_organization: bool,
    /// True when more accounts were due than a run may remediate, so nothing was deleted.
    pub over_remediation_cap: bool,
    /// False when the account listing stopped early: some accounts were not even seen.
    pub complete: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listing_error: Option<String>,
    pub accounts_scanned: usize,
    pub accounts_clean: usize,
    pub accounts_in_grace: usize,
    pub accounts_due: usize,
    pub accounts_remediated: usize,
    pub accounts_retry_later: usize,
    pub accounts_skipped: usize,
    pub accounts_exempt: usize,
    pub accounts_failed: usize,
    pub accounts_not_reached: usize,
    pub credentials_found: BTreeMap<CredentialKind, usize>,
    pub credentials_deleted: BTreeMap<CredentialKind, usize>,
    /// Failed, not reached, retry-later and due (not deleted) accounts.
    pub attention: Vec<Attention>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_error: Option<String>,
}

/// What a summary is made from besides the outcomes.
pub struct RunFacts {
    pub run_id: String,
    pub mode: Mode,
    pub grace_period: String,
    pub started_at: DateTime<Utc>,
    pub duration_seconds: f64,
    pub whole_organization: bool,
    pub over_remediation_cap: bool,
    pub listing_error: Option<String>,
}

impl RunSummary {
    pub fn new(facts: RunFacts, accounts: &[AccountReport]) -> Self {
        let count = |name: &str| accounts.iter().filter(|a| a.outcome.name() == name).count();
        let tally = |kinds: &mut dyn Iterator<Item = CredentialKind>| {
            let mut map: BTreeMap<CredentialKind, usize> =
                CredentialKind::ALL.iter().map(|k| (*k, 0)).collect();
            for kind in kinds {
                *map.entry(kind).or_default() += 1;
            }
            map
        };
        let attention = accounts
            .iter()
            .filter_map(|a| {
                let detail = match &a.outcome {
                    Outcome::Failed { stage, error } => format!("{stage:?}: {error}"),
                    Outcome::NotReached { reason } => reason.clone(),
                    Outcome::RetryLater { error, .. } => error.clone(),
                    Outcome::Due { due_at } => {
                        format!("root credentials past their grace period since {due_at}")
                    }
                    _ => return None,
                };
                Some(Attention {
                    account_id: a.account_id.clone(),
                    outcome: a.outcome.name(),
                    detail,
                })
            })
            .collect();
        Self {
            run_id: facts.run_id,
            mode: facts.mode,
            grace_period: facts.grace_period,
            started_at: facts.started_at,
            duration_seconds: facts.duration_seconds,
            whole_organization: facts.whole_organization,
            over_remediation_cap: facts.over_remediation_cap,
            complete: facts.listing_error.is_none(),
            listing_error: facts.listing_error,
            accounts_scanned: accounts.iter().filter(|a| a.outcome.was_scanned()).count(),
            accounts_clean: count("clean"),
            accounts_in_grace: count("in_grace"),
            accounts_due: count("due"),
            accounts_remediated: count("remediated"),
            accounts_retry_later: count("retry_later"),
            accounts_skipped: count("skipped"),
            accounts_exempt: count("exempt"),
            accounts_failed: count("failed"),
            accounts_not_reached: count("not_reached"),
            credentials_found: tally(&mut accounts.iter().flat_map(|a| a.found.iter().copied())),
            credentials_deleted: tally(&mut accounts.iter().flat_map(AccountReport::deleted)),
            attention,
            metrics_error: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricUnit {
    Count,
    Seconds,
}

/// One CloudWatch data point, with at most one dimension.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricPoint {
    pub name: &'static str,
    pub value: f64,
    pub unit: MetricUnit,
    pub dimension: Option<(&'static str, &'static str)>,
}

/// The run's metrics. `SweepCompleted` is only sent by a run over the whole organization that
/// listed every account: its absence is what the missed-sweep alarm watches, so a targeted or
/// broken-off run must not stand in for a real sweep.
pub fn metric_points(summary: &RunSummary) -> Vec<MetricPoint> {
    let count = |name, value: usize| MetricPoint {
        name,
        value: value as f64,
        unit: MetricUnit::Count,
        dimension: None,
    };
    let mut points = vec![
        count("AccountsScanned", summary.accounts_scanned),
        count("AccountsClean", summary.accounts_clean),
        count("AccountsInGrace", summary.accounts_in_grace),
        count("AccountsDue", summary.accounts_due),
        count("AccountsRemediated", summary.accounts_remediated),
        count("AccountsRetryLater", summary.accounts_retry_later),
        count("AccountsSkipped", summary.accounts_skipped),
        count("AccountsExempt", summary.accounts_exempt),
        count("AccountsFailed", summary.accounts_failed),
        count("AccountsNotReached", summary.accounts_not_reached),
        count(
            "RemediationCapExceeded",
            usize::from(summary.over_remediation_cap),
        ),
        MetricPoint {
            name: "RunDuration",
            value: summary.duration_seconds,
            unit: MetricUnit::Seconds,
            dimension: None,
        },
    ];
    for (name, by_kind) in [
        ("CredentialsFound", &summary.credentials_found),
        ("CredentialsDeleted", &summary.credentials_deleted),
    ] {
        points.push(count(name, by_kind.values().sum()));
        points.extend(by_kind.iter().map(|(kind, n)| MetricPoint {
            dimension: Some(("CredentialType", kind.metric_value())),
            ..count(name, *n)
        }));
    }
    if summary.complete && summary.whole_organization {
        points.push(count("SweepCompleted", 1));
    }
    points
}

/// Receives the report as the run produces it: each account as soon as it is done, so that a
/// run cut short still leaves a line for every account it finished.
pub trait ReportSink: Send + Sync {
    fn account(&self, run_id: &str, report: &AccountReport);
    fn summary(&self, summary: &RunSummary);
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> AccountId {
        s.parse().unwrap()
    }

    fn facts(listing_error: Option<String>) -> RunFacts {
        RunFacts {
            run_id: "run-1".into(),
            mode: Mode::Enforce,
            grace_period: "3days".into(),
            started_at: "2026-11-23T10:00:00Z".parse().unwrap(),
            duration_seconds: 12.5,
            whole_organization: true,
            over_remediation_cap: false,
            listing_error,
        }
    }

    fn remediated() -> AccountReport {
        let mut r = AccountReport::new(
            id("111111111111"),
            "dev".into(),
            Some(AccountState::Active),
            Outcome::Remediated {
                due_at: "2026-11-20T10:00:00Z".parse().unwrap(),
            },
        );
        r.found = vec![
            CredentialKind::Password,
            CredentialKind::AccessKey,
            CredentialKind::AccessKey,
        ];
        r.actions = vec![
            Action {
                action: ActionKind::Deleted,
                kind: CredentialKind::Password,
                id: "login-profile".into(),
            },
            Action {
                action: ActionKind::Deleted,
                kind: CredentialKind::AccessKey,
                id: "AKIA1".into(),
            },
            Action {
                action: ActionKind::AlreadyGone,
                kind: CredentialKind::AccessKey,
                id: "AKIA2".into(),
            },
        ];
        r
    }

    fn failed() -> AccountReport {
        AccountReport::new(
            id("222222222222"),
            "prod".into(),
            Some(AccountState::Active),
            Outcome::Failed {
                stage: Stage::AssumeRootAudit,
                error: "denied".into(),
            },
        )
    }

    fn skipped() -> AccountReport {
        AccountReport::new(
            id("333333333333"),
            "old".into(),
            Some(AccountState::Suspended),
            Outcome::Skipped {
                reason: "suspended".into(),
            },
        )
    }

    #[test]
    fn the_summary_counts_every_outcome_and_what_was_deleted() {
        let s = RunSummary::new(facts(None), &[remediated(), failed(), skipped()]);
        assert_eq!(
            (
                s.accounts_scanned,
                s.accounts_remediated,
                s.accounts_failed,
                s.accounts_skipped
            ),
            (2, 1, 1, 1)
        );
        assert_eq!(s.credentials_found[&CredentialKind::AccessKey], 2);
        // An access key someone else removed first is not counted as deleted by us.
        assert_eq!(s.credentials_deleted[&CredentialKind::AccessKey], 1);
        assert_eq!(s.credentials_deleted[&CredentialKind::Password], 1);
        assert_eq!(s.attention.len(), 1);
        assert_eq!(s.attention[0].account_id, id("222222222222"));
        assert!(s.complete);
    }

    #[test]
    fn metrics_carry_totals_and_per_type_counts_and_mark_complete_runs_only() {
        let s = RunSummary::new(facts(None), &[remediated(), failed()]);
        let points = metric_points(&s);
        let find = |name: &str, dim: Option<&str>| {
            points
                .iter()
                .find(|p| p.name == name && p.dimension.map(|d| d.1) == dim)
                .map(|p| p.value)
        };
        assert_eq!(find("AccountsFailed", None), Some(1.0));
        assert_eq!(find("CredentialsDeleted", None), Some(2.0));
        assert_eq!(find("CredentialsDeleted", Some("AccessKey")), Some(1.0));
        assert_eq!(find("CredentialsFound", Some("AccessKey")), Some(2.0));
        assert_eq!(find("RunDuration", None), Some(12.5));
        assert_eq!(find("SweepCompleted", None), Some(1.0));
        let incomplete = RunSummary::new(facts(Some("ListAccounts failed".into())), &[]);
        assert!(!incomplete.complete);
        assert_eq!(
            metric_points(&incomplete)
                .iter()
                .filter(|p| p.name == "SweepCompleted")
                .count(),
            0
        );
        // A run over named accounts proves nothing about the others.
        let targeted = RunSummary::new(
            RunFacts {
                whole_organization: false,
                ..facts(None)
            },
            &[],
        );
        let completed = metric_points(&targeted)
            .iter()
            .filter(|p| p.name == "SweepCompleted")
            .count();
        assert_eq!(completed, 0);
    }

    #[test]
    fn report_lines_are_flat_json_objects() {
        let sink = JsonLines::new(Vec::new());
        sink.account("run-1", &remediated());
        sink.summary(&RunSummary::new(facts(None), &[remediated()]));
        let text = String::from_utf8(sink.into_inner()).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["kind"], "account_report");
        assert_eq!(lines[0]["level"], "INFO");
        assert_eq!(lines[0]["run_id"], "run-1");
        assert_eq!(lines[0]["account_id"], "111111111111");
        assert_eq!(lines[0]["account_state"], "ACTIVE");
        assert_eq!(lines[0]["outcome"], "remediated");
        assert_eq!(lines[0]["due_at"], "2026-11-20T10:00:00Z");
        assert_eq!(lines[0]["actions"][0]["action"], "deleted");
        assert_eq!(lines[1]["kind"], "run_summary");
        assert_eq!(lines[1]["accounts_remediated"], 1);
        assert_eq!(lines[1]["credentials_deleted"]["password"], 1);
    }
}

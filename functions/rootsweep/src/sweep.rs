//! One run: preflight, then every listed account through scope -> audit -> grace rule, then
//! (when enforcing) remediation of the due accounts, each phase concurrent under one bound and
//! the run's deadline; then summary and metrics.
//!
//! Enforcing runs plan before they act: every account is audited first, so that the run knows
//! how many are due before it deletes anything (the blast-radius cap).

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::{StreamExt, future, stream};
use tokio::time::Instant;

use crate::aws::metrics::Metrics;
use crate::aws::organization::{Account, Organization};
use crate::aws::root_session::{Removal, RootAccess, RootSession, TaskPolicy};
use crate::aws::{AwsError, AwsErrorKind};
use crate::config::{AccountId, Config, Mode};
use crate::credentials::{CredentialKind, RootCredentials};
use crate::event::{RunRequest, Scope};
use crate::grace::{self, Verdict};
use crate::preflight::{PreflightError, preflight};
use crate::report::{
    AccountReport, Action, ActionKind, Outcome, ReportSink, RunFacts, RunSummary, SessionRecord,
    Stage, metric_points,
};
use crate::scope::{Disposition, ScopeRules, disposition};

/// No new account is started this long before the deadline: enough for one account's calls.
const STOP_STARTING_BEFORE_DEADLINE: Duration = Duration::from_secs(60);
/// Accounts still running this long before the deadline are stopped, so that the report and
/// the metrics always get out.
const STOP_WORKING_BEFORE_DEADLINE: Duration = Duration::from_secs(10);

/// How one run is identified and bounded.
pub struct RunOptions {
    /// Appears on every report line: the Lambda request id, or one made by the CLI.
    pub run_id: String,
    /// When the run must be over (the Lambda deadline); `None` for no limit.
    pub deadline: Option<Instant>,
}

/// The whole result of a run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub summary: RunSummary,
    pub accounts: Vec<AccountReport>,
}

#[derive(Clone, Copy)]
struct Deadlines {
    stop_starting: Instant,
    stop_working: Instant,
}

impl Deadlines {
    fn too_late_to_start(deadlines: Option<Self>) -> bool {
        deadlines.is_some_and(|d| Instant::now() >= d.stop_starting)
    }
}

/// An audited account: finished, or due and waiting for the remediation phase.
enum Audited {
    Done(AccountReport),
    Due(AccountReport, DateTime<Utc>),
}

/// The sweep engine, generic over its AWS adapters.
pub struct Sweeper<O, R, M> {
    config: Config,
    org: O,
    root: R,
    metrics: M,
}

impl<O: Organization, R: RootAccess, M: Metrics> Sweeper<O, R, M> {
    pub fn new(config: Config, org: O, root: R, metrics: M) -> Self {
        Self {
            config,
            org,
            root,
            metrics,
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn organization(&self) -> &O {
        &self.org
    }

    /// Runs one sweep. Only a failed preflight is an error: every account's failure is in the
    /// report, and a listing cut short is in the summary (`complete: false`).
    pub async fn run(
        &self,
        request: &RunRequest,
        options: RunOptions,
        sink: &dyn ReportSink,
    ) -> Result<Report, PreflightError> {
        let started_at = Utc::now();
        let clock = Instant::now();
        tracing::info!(
            run_id = %options.run_id,
            mode = %request.mode,
            grace_period = %self.config.grace,
            targeted = matches!(request.scope, Scope::Accounts(_)),
            "sweep starting"
        );
        let facts = preflight(&self.org).await?;
        let exempt_by_unit = self.exempt_by_unit().await?;
        let rules = ScopeRules {
            management_account: &facts.management_account,
            exempt_accounts: &self.config.exempt_accounts,
            exempt_by_unit: &exempt_by_unit,
            scope: &request.scope,
        };
        let deadlines = options.deadline.map(|deadline| Deadlines {
            stop_starting: deadline
                .checked_sub(STOP_STARTING_BEFORE_DEADLINE)
                .unwrap_or(clock),
            stop_working: deadline
                .checked_sub(STOP_WORKING_BEFORE_DEADLINE)
                .unwrap_or(clock),
        });
        let mut accounts = Vec::new();
        let mut emit = |report: AccountReport| {
            sink.account(&options.run_id, &report);
            accounts.push(report);
        };

        // Phase 1: list and audit. Listing is lazy: auditing starts with the first page.
        let mut listed = BTreeSet::new();
        let mut listing_error: Option<AwsError> = None;
        let mut due = Vec::new();
        {
            let jobs = self.org.accounts().filter_map(|item| {
                future::ready(match item {
                    Ok(account) => {
                        listed.insert(account.id.clone());
                        disposition(&account, &rules).map(|d| (account, d))
                    }
                    Err(err) => {
                        listing_error = Some(err);
                        None
                    }
                })
            });
            let mut audited = jobs
                .map(|(account, d)| self.audit_account(account, d, request.mode, deadlines))
                .buffer_unordered(self.config.concurrency.get());
            while let Some(result) = audited.next().await {
                match result {
                    Audited::Done(report) => emit(report),
                    Audited::Due(report, due_at) => due.push((report, due_at)),
                }
            }
        }
        if let Scope::Accounts(targets) = &request.scope {
            for id in targets.difference(&listed) {
                let outcome = match &listing_error {
                    None => Outcome::Skipped {
                        reason: "not found among the organization's accounts".into(),
                    },
                    Some(_) => Outcome::NotReached {
                        reason: "the account listing failed before reaching it".into(),
                    },
                };
                emit(AccountReport::new(id.clone(), String::new(), None, outcome));
            }
        }

        // Phase 2: remediate the due accounts, unless there are more than the run may touch.
        let cap = self.config.max_remediations.get();
        let over_cap = request.scope == Scope::Organization && due.len() > cap;
        if over_cap {
            tracing::warn!(
                due = due.len(),
                cap,
                "more accounts are due than a run may remediate: nothing deleted"
            );
            let note = format!(
                "not deleted: {} accounts are due, more than the {cap} a run may remediate (ROOTSWEEP_MAX_REMEDIATIONS). Review them (the run summary lists them), then raise the cap or invoke with {{\"accounts\": [...]}} naming the accounts to remediate",
                due.len()
            );
            for (mut report, due_at) in due {
                report.notes.push(note.clone());
                report.outcome = Outcome::Due { due_at };
                emit(report);
            }
        } else {
            let mut remediated = stream::iter(due)
                .map(|(report, due_at)| self.remediate_account(report, due_at, deadlines))
                .buffer_unordered(self.config.concurrency.get());
            while let Some(report) = remediated.next().await {
                emit(report);
            }
        }

        // Lines went out as accounts finished; the returned report is in account order.
        accounts.sort_by(|a, b| a.account_id.cmp(&b.account_id));
        let listing_error = listing_error.map(|err| {
            format!("{err}. Accounts after this point were not listed, so this run is incomplete: run it again")
        });
        let mut summary = RunSummary::new(
            RunFacts {
                run_id: options.run_id,
                mode: request.mode,
                grace_period: self.config.grace.to_string(),
                started_at,
                duration_seconds: clock.elapsed().as_secs_f64(),
                whole_organization: request.scope == Scope::Organization,
                over_remediation_cap: over_cap,
                listing_error,
            },
            &accounts,
        );
        let namespace = self.config.metrics_namespace.as_str();
        if let Err(err) = self
            .metrics
            .publish(namespace, &metric_points(&summary))
            .await
        {
            tracing::warn!(error = %err, "run metrics were not published");
            let hint = match err.kind {
                AwsErrorKind::AccessDenied => format!(
                    ". Check that the role allows cloudwatch:PutMetricData for namespace {namespace}"
                ),
                // A timed-out call may still have been stored: the missed-sweep alarm may not fire.
                _ => ". The next run publishes again".into(),
            };
            summary.metrics_error = Some(format!("{err}{hint}"));
        }
        sink.summary(&summary);
        Ok(Report { summary, accounts })
    }

    async fn audit_account(
        &self,
        account: Account,
        disposition: Disposition,
        mode: Mode,
        deadlines: Option<Deadlines>,
    ) -> Audited {
        let Account { id, name, state } = account;
        let mut report = AccountReport::new(id, name, Some(state), Outcome::Clean);
        report.outcome = match disposition {
            Disposition::Skip(reason) => Outcome::Skipped { reason },
            Disposition::Exempt(rule) => Outcome::Exempt { rule },
            Disposition::Sweep if Deadlines::too_late_to_start(deadlines) => Outcome::NotReached {
                reason: format!(
                    "not audited: the run stops starting accounts {}s before its deadline; the next run will cover it",
                    STOP_STARTING_BEFORE_DEADLINE.as_secs()
                ),
            },
            Disposition::Sweep => {
                match bounded(deadlines, self.tag_exemption(&report.account_id)).await {
                    Err(error) => Outcome::Failed {
                        stage: Stage::ExemptionCheck,
                        error,
                    },
                    Ok(Some(rule)) => Outcome::Exempt { rule },
                    Ok(None) => {
                        let mut stage = Stage::AssumeRootAudit;
                        let audit = self.audit(&mut report, &mut stage);
                        match bounded(deadlines, audit).await {
                            Ok(Verdict::Clean) => Outcome::Clean,
                            Ok(Verdict::InGrace { due_at }) => Outcome::InGrace { due_at },
                            Ok(Verdict::Due { due_at }) if mode == Mode::Audit => {
                                Outcome::Due { due_at }
                            }
                            Ok(Verdict::Due { due_at }) => return Audited::Due(report, due_at),
                            Err(error) => Outcome::Failed { stage, error },
                        }
                    }
                }
            }
        };
        Audited::Done(report)
    }

    async fn remediate_account(
        &self,
        mut report: AccountReport,
        due_at: DateTime<Utc>,
        deadlines: Option<Deadlines>,
    ) -> AccountReport {
        report.outcome = if Deadlines::too_late_to_start(deadlines) {
            Outcome::NotReached {
                reason: format!(
                    "audited and due since {due_at}, but not remediated: the run stops starting accounts {}s before its deadline",
                    STOP_STARTING_BEFORE_DEADLINE.as_secs()
                ),
            }
        } else {
            let mut stage = Stage::AssumeRootDelete;
            let remediation = self.remediate(&mut report, &mut stage);
            bounded(deadlines, remediation)
                .await
                .unwrap_or_else(|error| Outcome::Failed { stage, error })
        };
        report
    }

    /// The accounts under the exempt organizational units, each with its rule. Organizations is
    /// only asked when units are configured, with one walk per unit.
    async fn exempt_by_unit(&self) -> Result<BTreeMap<AccountId, String>, PreflightError> {
        let mut exempt = BTreeMap::new();
        for unit in &self.config.exempt_ous {
            let accounts = self
                .org
                .accounts_under(unit)
                .await
                .map_err(PreflightError::Exemptions)?;
            for (id, holder) in accounts {
                let rule = if holder == unit.as_str() {
                    format!("in exempt organizational unit {unit} (ROOTSWEEP_EXEMPT_OUS)")
                } else {
                    format!(
                        "in organizational unit {holder}, under exempt {unit} (ROOTSWEEP_EXEMPT_OUS)"
                    )
                };
                exempt.entry(id).or_insert(rule);
            }
        }
        Ok(exempt)
    }

    /// The exempting tag rule, if one is configured and the account carries its tag. An account
    /// whose tags cannot be read is not touched: it may be a break-glass account.
    async fn tag_exemption(&self, id: &AccountId) -> Result<Option<String>, String> {
        let Some(rule) = &self.config.exempt_tag else {
            return Ok(None);
        };
        let tags = self.org.tags(id).await.map_err(|err| {
            format!("{err}. Its tags could not be read, so it was left alone: check that the role allows organizations:ListTagsForResource")
        })?;
        Ok(rule.matches(&tags).then(|| {
            format!("tagged {rule} (ROOTSWEEP_EXEMPT_TAG_KEY/ROOTSWEEP_EXEMPT_TAG_VALUE)")
        }))
    }

    /// Reads the root user's credentials in an audit session and applies the grace rule.
    async fn audit(
        &self,
        report: &mut AccountReport,
        stage: &mut Stage,
    ) -> Result<Verdict, String> {
        let id = report.account_id.clone();
        let session = self.open_session(&id, TaskPolicy::Audit, report).await?;
        *stage = Stage::Audit;
        let snapshot = session.read().await.map_err(|e| explain(&e, &id))?;
        report.found = snapshot.credentials.iter().map(|c| c.kind).collect();
        Ok(self.assess(&snapshot, report))
    }

    /// Deletes the root user's credentials in a fresh delete session, after checking in that
    /// same session that they are still due, then checks that nothing is left.
    async fn remediate(
        &self,
        report: &mut AccountReport,
        stage: &mut Stage,
    ) -> Result<Outcome, String> {
        let id = report.account_id.clone();
        *stage = Stage::AssumeRootDelete;
        let session = self.open_session(&id, TaskPolicy::Delete, report).await?;
        *stage = Stage::Recheck;
        let current = session.read().await.map_err(|e| explain(&e, &id))?;
        let due_at = match self.assess(&current, report) {
            Verdict::Due { due_at } => due_at,
            Verdict::Clean => {
                report.notes.push(
                    "by the delete session the credentials were already gone: nothing deleted"
                        .into(),
                );
                return Ok(Outcome::Clean);
            }
            Verdict::InGrace { due_at } => {
                report.notes.push(
                    "the delete session found newer activity than the audit (a fresh sign-in or a new credential): nothing deleted".into(),
                );
                return Ok(Outcome::InGrace { due_at });
            }
        };

        *stage = Stage::Remove;
        for credential in current.in_removal_order() {
            let removal = match session.remove(credential).await {
                Ok(removal) => removal,
                // Right after a root password recovery AWS refuses MFA deactivation for a while
                // (seed 001: 10-15 minutes). Not a failure: a later run finishes the job.
                Err(err)
                    if credential.kind == CredentialKind::MfaDevice && is_mfa_settling(&err) =>
                {
                    return Ok(Outcome::RetryLater {
                        due_at,
                        error: format!(
                            "{err}. AWS refuses to deactivate MFA for a while after a root password recovery: the next run will finish this account"
                        ),
                    });
                }
                Err(err) => return Err(explain(&err, &id)),
            };
            report.actions.push(Action {
                action: match (removal, credential.kind) {
                    (Removal::AlreadyGone, _) => ActionKind::AlreadyGone,
                    (Removal::Removed, CredentialKind::MfaDevice) => ActionKind::Deactivated,
                    (Removal::Removed, _) => ActionKind::Deleted,
                },
                kind: credential.kind,
                id: credential.id.clone(),
            });
        }
        // A deactivated virtual MFA device stays in the account as an unassigned resource. The
        // delete task policy no longer allows deleting it (since January 2025): say so, do not fail.
        for device in current.credentials.iter().filter(|c| c.is_virtual_mfa()) {
            match session.delete_virtual_mfa_device(&device.id).await {
                Ok(Removal::Removed) => report.actions.push(Action {
                    action: ActionKind::DeletedVirtualMfaDevice,
                    kind: CredentialKind::MfaDevice,
                    id: device.id.clone(),
                }),
                Ok(Removal::AlreadyGone) => {}
                // Expected since the January 2025 task policy: say it briefly, AWS's words otherwise.
                Err(err) if err.kind == AwsErrorKind::AccessDenied => report.notes.push(format!(
                    "virtual MFA device {} deactivated but left in the account: the delete task policy does not allow iam:DeleteVirtualMFADevice",
                    device.id
                )),
                Err(err) => report.notes.push(format!(
                    "virtual MFA device {} deactivated but left in the account: {err}",
                    device.id
                )),
            }
        }

        *stage = Stage::Verify;
        let after = session.read().await.map_err(|e| explain(&e, &id))?;
        if !after.is_empty() {
            let left: Vec<String> = after
                .credentials
                .iter()
                .map(|c| format!("{:?} {}", c.kind, c.id))
                .collect();
            report.credentials = after.credentials;
            return Err(format!("still present after deletion: {}", left.join(", ")));
        }
        report
            .notes
            .push("verified: no root credentials left".into());
        Ok(Outcome::Remediated { due_at })
    }

    async fn open_session(
        &self,
        id: &AccountId,
        task: TaskPolicy,
        report: &mut AccountReport,
    ) -> Result<R::Session, String> {
        let session = self
            .root
            .assume_root(id, task)
            .await
            .map_err(|e| explain(&e, id))?;
        report.root_sessions.push(SessionRecord {
            task_policy: task,
            request_id: session.request_id().map(str::to_owned),
        });
        Ok(session)
    }

    /// Applies the grace rule now and records what was read in the report.
    fn assess(&self, snapshot: &RootCredentials, report: &mut AccountReport) -> Verdict {
        let assessment = grace::assess(snapshot, self.config.grace, Utc::now());
        report.credentials = snapshot.credentials.clone();
        report.password_last_used = snapshot.password_last_used;
        for warning in assessment.date_warnings {
            if !report.notes.contains(&warning) {
                report.notes.push(warning);
            }
        }
        assessment.verdict
    }
}

/// Runs one account's work, stopping it at the run's deadline if it has one. A stopped account
/// says so: the actions in its report were done, the one in flight may or may not have been.
async fn bounded<T>(
    deadlines: Option<Deadlines>,
    work: impl Future<Output = Result<T, String>>,
) -> Result<T, String> {
    match deadlines {
        None => work.await,
        Some(d) => tokio::time::timeout_at(d.stop_working, work).await.unwrap_or_else(|_| {
            Err("stopped at the run's deadline before this account was finished: the actions listed were done, a call in flight may or may not have been, and the next run will check this account again".into())
        }),
    }
}

/// The transient refusal to deactivate MFA after a root password recovery. AWS's exact code is
/// not documented; seen as an "invalid MFA device" error, and modelled by the emulator as
/// `EntityTemporarilyUnmodifiable`.
fn is_mfa_settling(err: &AwsError) -> bool {
    err.code.as_deref() == Some("EntityTemporarilyUnmodifiable")
        || err.message.to_ascii_lowercase().contains("invalid mfa")
}

/// An AWS error as the operator needs to read it: what failed, and the likely causes.
fn explain(err: &AwsError, account: &AccountId) -> String {
    let hint = match (err.kind, err.operation) {
        (AwsErrorKind::AccessDenied, "sts:AssumeRoot") => format!(
            ". Likely causes: the caller's role lacks sts:AssumeRoot on arn:aws:iam::*:root for this task policy; root sessions are not enabled (`aws iam enable-organizations-root-sessions`); or a service control policy on account {account} denies it without exempting root sessions (a Null condition on aws:AssumedRoot)"
        ),
        (AwsErrorKind::AccessDenied, _) => format!(
            ". A service control policy on account {account} may deny root-session actions: exempt them with a Null condition on aws:AssumedRoot"
        ),
        (AwsErrorKind::Throttled, _) => {
            ". Lower ROOTSWEEP_CONCURRENCY, or let the next run retry".into()
        }
        _ => String::new(),
    };
    format!("{err}{hint}")
}

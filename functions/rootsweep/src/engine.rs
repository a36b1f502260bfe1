//! The run, as both the Lambda and the operator CLI make it: plan -> decide -> act -> report.
//! The Lambda goes straight through ([`Engine::run`]); the CLI shows the plan and the decision,
//! asks, then concludes the same plan ([`Engine::plan`], [`decide`], [`Engine::conclude`]).

use std::sync::Arc;

use futures::{StreamExt, stream};
use tokio::time::Instant;

use crate::act::Act;
use crate::budget::Budget;
use crate::config::Config;
use crate::credentials::{TaskPolicy, TaskPolicyArn};
use crate::decide::{Decision, decide};
use crate::event::{RunRequest, Scope};
use crate::outcome::{AccountReport, Outcome};
use crate::pace::Pace;
use crate::plan::{DueAccount, Plan, Planner};
use crate::ports::{AwsErrorKind, Metrics, Organization, RootAccess};
use crate::preflight::PreflightError;
use crate::reasons::{HoldReason, NotReachedReason};
use crate::report::{Report, ReportSink, RunFacts, RunSummary, metric_points};
use crate::session::Opener;

/// How one run is identified and bounded.
pub struct RunOptions {
    /// Appears on every report line: the Lambda request id, or one made by the CLI.
    pub run_id: String,
    /// When the run must be over (the Lambda deadline); `None` for no limit.
    pub deadline: Option<Instant>,
}

/// The sweep engine, generic over its AWS adapters.
pub struct Engine<O, R, M> {
    config: Arc<Config>,
    org: Arc<O>,
    root: Arc<R>,
    metrics: M,
    /// AssumeRoot's caller-wide pace, across runs of this engine (a warm Lambda's too).
    pace: Arc<Pace>,
}

impl<O: Organization, R: RootAccess, M: Metrics> Engine<O, R, M> {
    pub fn new(config: Config, org: O, root: R, metrics: M) -> Self {
        Self {
            pace: Arc::new(Pace::per_second(config.assume_root_rate.get())),
            config: Arc::new(config),
            org: Arc::new(org),
            root: Arc::new(root),
            metrics,
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn organization(&self) -> &O {
        &self.org
    }

    /// A whole run. Only a failed preflight is an error: every account's failure is in the
    /// report, and a listing cut short is in the summary (`complete: false`).
    pub async fn run(
        &self,
        request: &RunRequest,
        options: RunOptions,
        sink: &dyn ReportSink,
    ) -> Result<Report, PreflightError> {
        let plan = self.plan(request, options, sink).await?;
        let decision = decide(plan.tally(), self.config.max_remediations);
        Ok(self.conclude(plan, decision, sink).await)
    }

    /// The plan phase: every account in scope audited, nothing deleted. Settled accounts are
    /// reported to `sink` as they settle.
    pub async fn plan(
        &self,
        request: &RunRequest,
        options: RunOptions,
        sink: &dyn ReportSink,
    ) -> Result<Plan, PreflightError> {
        tracing::info!(
            run_id = %options.run_id,
            mode = %request.mode,
            grace_period = %self.config.grace,
            targeted = matches!(request.scope, Scope::Accounts(_)),
            "sweep starting"
        );
        let planner = Planner {
            config: self.config.clone(),
            org: self.org.clone(),
            root: self.root.clone(),
            pace: self.pace.clone(),
        };
        let budget = Budget::new(options.deadline);
        planner
            .plan(request.clone(), options.run_id, budget, sink)
            .await
    }

    /// Acts on `plan` as `decision` says, then reports: the due accounts' lines, the summary,
    /// and the metrics (once per run, bounded by the time left).
    pub async fn conclude(&self, plan: Plan, decision: Decision, sink: &dyn ReportSink) -> Report {
        let held = match &decision {
            Decision::Remediate => None,
            Decision::Hold(reason) => Some(reason.clone()),
        };
        let facts = RunFacts {
            run_id: plan.run_id.clone(),
            mode: plan.request.mode,
            grace_period: self.config.grace.to_string(),
            started_at: plan.started_at,
            duration_seconds: 0.0,
            whole_organization: plan.request.scope == Scope::Organization,
            listing_error: plan.listing_error.clone(),
            held: held.clone().filter(|_| !plan.due.is_empty()),
            audit_order_seed: plan.rotation.seed,
        };
        let (run_id, clock, budget) = (plan.run_id.clone(), plan.clock, plan.budget);
        let task = TaskPolicyArn::new(TaskPolicy::Delete, &plan.facts.caller.partition);
        let mut accounts = plan.settled;
        let due = match held {
            Some(held) => hold(plan.due, &held),
            None => self.act(plan.due, task, budget).await,
        };
        for report in due {
            let report = report.finish();
            sink.account(&run_id, &report);
            accounts.push(report);
        }
        accounts.sort_by(|a, b| a.account_id.cmp(&b.account_id));
        let mut summary = RunSummary::new(
            RunFacts {
                duration_seconds: clock.elapsed().as_secs_f64(),
                ..facts
            },
            &accounts,
        );
        sink.summary(&summary);
        summary.metrics_error = self.publish(&summary, budget).await;
        Report { summary, accounts }
    }

    /// Remediates the due accounts, each in a task of its own, at most `concurrency` at once.
    async fn act(
        &self,
        due: Vec<DueAccount>,
        task: TaskPolicyArn,
        budget: Budget,
    ) -> Vec<AccountReport> {
        let act = Arc::new(Act {
            opener: Opener {
                root: self.root.clone(),
                pace: self.pace.clone(),
                task,
            },
            grace: self.config.grace,
            delete_virtual_mfa_devices: self.config.delete_virtual_mfa_devices,
            budget,
        });
        stream::iter(due)
            .map(|DueAccount { mut report, .. }| {
                let act = act.clone();
                async move {
                    tokio::spawn(async move {
                        report.outcome = if act.budget.too_late_to_start() {
                            Outcome::NotReached(NotReachedReason::NotRemediated {
                                margin: Budget::STOP_STARTING_BEFORE_DEADLINE,
                            })
                        } else {
                            act.remediate(&mut report).await
                        };
                        report
                    })
                    .await
                    .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
                }
            })
            .buffer_unordered(self.config.concurrency.get())
            .collect()
            .await
    }

    /// Publishes the run's metrics within the time left; what went wrong, for the summary.
    async fn publish(&self, summary: &RunSummary, budget: Budget) -> Option<String> {
        let namespace = self.config.metrics_namespace.as_str();
        let points = metric_points(summary);
        let error = match budget.publish(self.metrics.publish(namespace, &points)).await {
            Some(Ok(())) => return None,
            None => "the run's deadline came before the metrics were published: the missed-sweep alarm may fire".to_owned(),
            Some(Err(err)) => {
                let hint = match err.kind {
                    AwsErrorKind::AccessDenied => format!(
                        ". Check that the role allows cloudwatch:PutMetricData for namespace {namespace}"
                    ),
                    // A timed-out call may still have been stored: the missed-sweep alarm may not fire.
                    _ => ". The next run publishes again".into(),
                };
                format!("{err}{hint}")
            }
        };
        tracing::warn!(error = %error, "run metrics were not published");
        Some(error)
    }
}

/// The due accounts, not remediated, with the reason.
fn hold(due: Vec<DueAccount>, held: &HoldReason) -> Vec<AccountReport> {
    if *held != HoldReason::AuditMode {
        tracing::warn!(due = due.len(), reason = %held, "due accounts held: nothing deleted");
    }
    due.into_iter()
        .map(|DueAccount { mut report, due_at }| {
            report.outcome = Outcome::Due {
                due_at,
                held: Some(held.clone()),
            };
            report
        })
        .collect()
}

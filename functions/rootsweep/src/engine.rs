//! The run, as both the Lambda and the operator CLI make it: plan -> decide -> act -> report.
//! The Lambda goes straight through ([`Engine::run`]); the CLI shows the plan and the decision,
//! asks, then concludes the same plan ([`Engine::plan`], [`decide`], [`Engine::conclude`]).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use futures::{StreamExt, stream};

use chrono::Utc;

use crate::act::{Act, TagCheck};
use crate::budget::Budget;
use crate::config::Config;
use crate::credentials::{TaskPolicy, TaskPolicyArn};
use crate::decide::{Decision, decide};
use crate::deliver::{Delivery, Features};
use crate::event::{Recovery, RunRequest, Scope};
use crate::followup;
use crate::ledger::store::{self, Recall};
use crate::ledger::{LedgerState, LedgerSummary, RunRecord, TagRead};
use crate::memory;
use crate::outcome::{AccountReport, Outcome};
use crate::pace::Pace;
pub use crate::plan::RunOptions;
use crate::plan::{DueAccount, Plan, Planner};
use crate::ports::{Metrics, Organization, RootAccess, StateStore};
use crate::preflight::PreflightError;
use crate::reasons::{HoldReason, NotReachedReason};
use crate::report::{
    RecoveryReport, Report, ReportSink, RunFacts, RunSummary, follow_up_points, metric_points,
};
use crate::session::Opener;

/// The sweep engine, generic over its AWS adapters.
pub struct Engine<O, R, M> {
    config: Arc<Config>,
    org: Arc<O>,
    root: Arc<R>,
    metrics: M,
    /// AssumeRoot's caller-wide pace, across runs of this engine (a warm Lambda's too).
    pace: Arc<Pace>,
    features: Features,
    /// Where the run ledger lives, when `ROOTSWEEP_STATE` says.
    state: Option<Arc<dyn StateStore>>,
}

impl<O: Organization, R: RootAccess, M: Metrics> Engine<O, R, M> {
    pub fn new(config: Config, org: O, root: R, metrics: M) -> Self {
        Self {
            pace: Arc::new(Pace::per_second(config.assume_root_rate.get())),
            config: Arc::new(config),
            org: Arc::new(org),
            root: Arc::new(root),
            metrics,
            features: Features::default(),
            state: None,
        }
    }

    /// The adapters of the optional features (follow-ups, archive, findings).
    pub fn with_features(mut self, features: Features) -> Self {
        self.features = features;
        self
    }

    /// The run ledger's store.
    pub fn with_state(mut self, state: Option<Arc<dyn StateStore>>) -> Self {
        self.state = state;
        self
    }

    pub fn features(&self) -> &Features {
        &self.features
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
        let decision = self.decide(&plan);
        Ok(self.conclude(plan, decision, sink).await)
    }

    /// The plan phase: the run ledger read, every account in scope audited, nothing deleted.
    /// Settled accounts are reported to `sink` as they settle.
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
        let budget = Budget::new(options.deadline);
        let memory = store::recall(self.state.as_deref()).await;
        if let Recall::Unreadable(err) = &memory {
            tracing::error!(error = %err, "run ledger unreadable: nothing will be deleted");
        }
        let planner = Planner {
            config: self.config.clone(),
            org: self.org.clone(),
            root: self.root.clone(),
            pace: self.pace.clone(),
        };
        planner
            .plan(request.clone(), options, memory, budget, sink)
            .await
    }

    /// The decision on `plan`, with what the run ledger adds to it.
    pub fn decide(&self, plan: &Plan) -> Decision {
        let tally = plan.tally(plan.ledger(), Utc::now());
        decide(&tally, self.config.max_remediations)
    }

    /// Acts on `plan` as `decision` says (first reserving the cap in the run ledger, which may
    /// turn the decision into a hold), then reports: the due accounts' lines, the follow-ups,
    /// the ledger, the summary; then sends out the archive, the findings and the metrics (once
    /// per run, each bounded by the time left).
    pub async fn conclude(
        &self,
        mut plan: Plan,
        decision: Decision,
        sink: &dyn ReportSink,
    ) -> Report {
        let cap = self.config.max_remediations;
        let decision = memory::reserve(self.state.as_deref(), &mut plan, decision, cap).await;
        let held = match &decision {
            Decision::Remediate => None,
            Decision::Hold(reason) => Some(reason.clone()),
        };
        let facts = RunFacts {
            run_id: plan.run_id.clone(),
            mode: plan.request.mode,
            grace: self.config.grace.clone(),
            started_at: plan.started_at,
            duration_seconds: 0.0,
            whole_organization: plan.request.scope == Scope::Organization,
            listing_error: plan.listing_stop.clone(),
            listing_reused_from: plan.listing_reused_from,
            held: held.clone().filter(|_| !plan.due.is_empty()),
            audit_order_seed: plan.rotation.seed,
        };
        let (clock, budget, chain) = (plan.clock, plan.budget, plan.request.follow_up);
        let caller = plan.facts.caller.clone();
        let task = TaskPolicyArn::new(TaskPolicy::Delete, &plan.facts.caller.partition);
        let mut accounts = std::mem::take(&mut plan.settled);
        let due = std::mem::take(&mut plan.due);
        let (due, tags_read_before_deleting) = match held {
            Some(held) => (hold(due, &held), BTreeMap::new()),
            None => self.act(due, task, budget).await,
        };
        for report in due {
            let report = report.finish();
            sink.account(&facts.run_id, &report);
            accounts.push(report);
        }
        accounts.sort_by(|a, b| a.account_id.cmp(&b.account_id));
        let delivery = self.delivery(budget);
        let wanted = match &self.config.follow_ups {
            Some(settings) => followup::for_run(&accounts, settings, chain, Utc::now()),
            None => Vec::new(),
        };
        let follow_ups = delivery
            .follow_ups(wanted, plan.function_arn.as_deref())
            .await;
        let ledger = self
            .remember(&mut plan, &accounts, tags_read_before_deleting)
            .await;
        let facts = RunFacts {
            duration_seconds: clock.elapsed().as_secs_f64(),
            ..facts
        };
        let mut summary = RunSummary::new(facts, &accounts);
        summary.follow_ups = follow_ups;
        summary.ledger = Some(ledger);
        summary.findings = delivery.findings(&caller, &accounts, &summary).await;
        summary.archive = delivery.archive(&accounts, &summary).await;
        summary.metrics_error = delivery.metrics(&metric_points(&summary)).await;
        // One summary, written once, everything delivered: the log line, the response and the
        // report are the same object (the archived one lacks only the metrics' result).
        sink.summary(&summary);
        Report { summary, accounts }
    }

    /// Records the run in the ledger, with every tag it read. A run with a deadline lets the
    /// background reads go on until it must stop starting work, as every tag read brings the
    /// organization's coverage closer; an operator waiting at the CLI is not kept waiting.
    async fn remember(
        &self,
        plan: &mut Plan,
        accounts: &[AccountReport],
        before_deleting: BTreeMap<crate::account::AccountId, TagRead>,
    ) -> LedgerSummary {
        let mut tags = std::mem::take(&mut plan.tags);
        let mut out_of_time = false;
        if let Some(later) = plan.later_reads.take() {
            if !plan.budget.has_deadline() {
                let _ = later.stop.send(true);
            }
            if let Ok(later) = later.reads.await {
                tags.extend(later.read);
                out_of_time = later.out_of_time;
            }
        }
        tags.extend(before_deleting);
        let run = RunRecord {
            run_id: &plan.run_id,
            accounts,
            tags: &tags,
            whole_organization: plan.request.scope == Scope::Organization,
            listed_every_account_at: plan.listed_every_account_at(),
            tag_pace: out_of_time.then(|| plan.tag_pace(tags.len(), accounts.len())),
            now: Utc::now(),
        };
        let memory = std::mem::replace(&mut plan.memory, Recall::Stateless);
        let recorded = memory::record(
            self.state.as_deref(),
            self.config.state.as_ref(),
            memory,
            &run,
            self.config.exempt_tag.is_some(),
        );
        let late = "the run's deadline came before the run ledger was written: the cap it reserved stays spent for 24 hours";
        plan.budget.publish(recorded).await.unwrap_or_else(|| {
            let location = self.config.state.as_ref().map(ToString::to_string);
            LedgerSummary::new(LedgerState::NotWritten, location, Some(late.into()))
        })
    }

    /// A recovery event: schedules its follow-up and reports it.
    pub async fn follow_recovery(
        &self,
        recovery: &Recovery,
        options: RunOptions,
        sink: &dyn ReportSink,
    ) -> RecoveryReport {
        let delivery = self.delivery(Budget::new(options.deadline));
        let wanted = followup::for_recovery(&recovery.account, recovery.at, &self.config.grace);
        let follow_up = delivery
            .follow_ups(vec![wanted], options.function_arn.as_deref())
            .await
            .pop();
        let mut report = RecoveryReport {
            run_id: options.run_id,
            account_id: recovery.account.clone(),
            recovered_at: recovery.at,
            event_id: recovery.event_id.clone(),
            follow_up,
            metrics_error: None,
        };
        sink.recovery(&report);
        let points = follow_up_points(report.follow_up.as_slice());
        report.metrics_error = delivery.metrics(&points).await;
        report
    }

    fn delivery(&self, budget: Budget) -> Delivery<'_, M> {
        Delivery {
            config: &self.config,
            metrics: &self.metrics,
            features: &self.features,
            budget,
        }
    }

    /// Remediates the due accounts, each in a task of its own, at most `concurrency` at once;
    /// the tags read again before deleting, for the ledger.
    async fn act(
        &self,
        due: Vec<DueAccount>,
        task: TaskPolicyArn,
        budget: Budget,
    ) -> (
        Vec<AccountReport>,
        BTreeMap<crate::account::AccountId, TagRead>,
    ) {
        let act = Arc::new(Act {
            opener: Opener {
                root: self.root.clone(),
                pace: self.pace.clone(),
                task,
            },
            grace: self.config.grace.clone(),
            delete_virtual_mfa_devices: self.config.delete_virtual_mfa_devices,
            budget,
            tags: self.config.exempt_tag.clone().map(|rule| TagCheck {
                org: self.org.clone(),
                rule,
                reads: Mutex::new(BTreeMap::new()),
            }),
        });
        let reports = stream::iter(due)
            .map(
                |DueAccount {
                     mut report,
                     due_at,
                     tags_read_now,
                 }| {
                    let act = act.clone();
                    async move {
                        tokio::spawn(async move {
                            report.outcome = if act.budget.too_late_to_start() {
                                Outcome::NotReached(NotReachedReason::NotRemediated {
                                    margin: Budget::STOP_STARTING_BEFORE_DEADLINE,
                                    due_at,
                                })
                            } else {
                                act.remediate(&mut report, tags_read_now).await
                            };
                            report
                        })
                        .await
                        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
                    }
                },
            )
            .buffer_unordered(self.config.concurrency.get())
            .collect()
            .await;
        let reads = act.tags.as_ref().map(|check| {
            let mut reads = check.reads.lock().unwrap_or_else(PoisonError::into_inner);
            std::mem::take(&mut *reads)
        });
        (reports, reads.unwrap_or_default())
    }
}

/// The due accounts, not remediated, with the reason.
fn hold(due: Vec<DueAccount>, held: &HoldReason) -> Vec<AccountReport> {
    if *held != HoldReason::AuditMode {
        tracing::warn!(due = due.len(), reason = %held, "due accounts held: nothing deleted");
    }
    due.into_iter()
        .map(
            |DueAccount {
                 mut report, due_at, ..
             }| {
                report.outcome = Outcome::Due {
                    due_at,
                    held: Some(held.clone()),
                };
                report
            },
        )
        .collect()
}

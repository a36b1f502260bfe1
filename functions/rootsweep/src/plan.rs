//! Plan: preflight, list the accounts, apply the scope and exemption rules, and audit every
//! account in scope -> a [`Plan`]: the accounts already settled, the accounts due, whether the
//! view is complete, and what earlier runs saw (the run ledger). Nothing is deleted here.
//!
//! The listing runs in its own task ([`crate::listing`]) and makes every Organizations call of
//! the plan from that one place; audits start as soon as accounts are listed, in the run's order
//! ([`crate::order`]), each account in its own task, at most `concurrency` at once.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt, stream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::account::AccountId;
use crate::budget::Budget;
use crate::config::{Config, GracePeriod};
use crate::credentials::{TaskPolicy, TaskPolicyArn};
use crate::decide::PlanTally;
use crate::event::{RunRequest, Scope};
use crate::grace::{self, Verdict};
use crate::ledger::store::Recall;
use crate::ledger::{Ledger, Roster, TagPace, TagRead};
use crate::listing::{self, Candidate, Listing, Outlets, Tags, settled};
use crate::order::{AuditOrder, Rotation, Waiting};
use crate::outcome::{AccountReport, Failure, Outcome, Stage};
use crate::pace::Pace;
use crate::ports::{Organization, RootAccess};
use crate::preflight::{OrgFacts, PreflightError, preflight};
use crate::reasons::{ExemptRule, ListingStop, NotReachedReason, SkipReason};
use crate::report::ReportSink;
use crate::scope::ScopeRules;
use crate::session::{self, Opener};

/// How one run is identified and bounded.
pub struct RunOptions {
    /// Appears on every report line: the Lambda request id, or one made by the CLI.
    pub run_id: String,
    /// When the run must be over (the Lambda deadline); `None` for no limit.
    pub deadline: Option<Instant>,
    /// The function follow-ups invoke: the Lambda's own ARN; `None` from the CLI.
    pub function_arn: Option<String>,
}

/// An account audited and past its grace period, waiting for the decision.
#[derive(Debug, Clone)]
pub struct DueAccount {
    pub report: AccountReport,
    pub due_at: DateTime<Utc>,
    /// Whether this run read its tags (otherwise they are read again before deleting).
    pub tags_read_now: bool,
}

/// Tag reads that go on in the background while the run acts, for the next runs.
#[derive(Debug)]
pub struct LaterReads {
    pub stop: watch::Sender<bool>,
    pub reads: JoinHandle<listing::LaterTags>,
}

/// What the plan phase learned.
#[derive(Debug)]
pub struct Plan {
    pub run_id: String,
    /// The function follow-ups invoke, when the run knows it.
    pub function_arn: Option<String>,
    pub request: RunRequest,
    pub started_at: DateTime<Utc>,
    pub clock: Instant,
    pub budget: Budget,
    /// The order this run audits accounts in.
    pub rotation: Rotation,
    pub facts: OrgFacts,
    /// Why the listing ended early, if it did: then the view is incomplete.
    pub listing_stop: Option<ListingStop>,
    /// When the accounts were taken from the last complete listing: when it was made.
    pub listing_reused_from: Option<DateTime<Utc>>,
    /// Accounts whose outcome is final (reported as they settled).
    pub settled: Vec<AccountReport>,
    pub due: Vec<DueAccount>,
    /// What earlier runs saw, as read when the run started.
    pub memory: Recall,
    /// The tags this run read.
    pub tags: BTreeMap<AccountId, TagRead>,
    /// The tag reads for the next runs, going on in the background.
    pub later_reads: Option<LaterReads>,
}

impl Plan {
    /// What the decision needs, from this plan and `ledger` (the one read at the start of the
    /// run, or a newer one after another run wrote it).
    pub fn tally(&self, ledger: Option<&Ledger>, now: DateTime<Utc>) -> PlanTally {
        let unknown = self
            .settled
            .iter()
            .filter(|a| match &a.outcome {
                Outcome::Failed(_) => true,
                Outcome::NotReached(_) => {
                    ledger.is_none_or(|l| l.counts_against_cap(&a.account_id, now))
                }
                _ => false,
            })
            .count();
        let elsewhere = match (&self.request.scope, ledger) {
            (Scope::Accounts(ids), Some(ledger)) => ledger.elsewhere(&|id| ids.contains(id), now),
            _ => 0,
        };
        PlanTally {
            mode: self.request.mode,
            due: self.due.len(),
            unknown,
            elsewhere,
            spent: ledger.map_or(0, |l| l.spent(now)),
            view_complete: self.listing_stop.is_none(),
            ledger_unreadable: match &self.memory {
                Recall::Unreadable(err) => Some(err.to_string()),
                _ => None,
            },
        }
    }

    /// When this run listed every account of the organization (from its start, as accounts that
    /// joined during the listing may have been missed); `None` when it covered named accounts,
    /// its listing broke off, or it took the accounts from the last listing.
    pub fn listed_every_account_at(&self) -> Option<DateTime<Utc>> {
        let whole = self.request.scope == Scope::Organization;
        let listed = self.listing_stop.is_none() && self.listing_reused_from.is_none();
        (whole && listed).then_some(self.started_at)
    }

    /// The pace of a run that read `read` tags of its `accounts` before its time ran out.
    pub fn tag_pace(&self, read: usize, accounts: usize) -> TagPace {
        match (
            may_reuse_listing(&self.request, self.budget),
            self.listing_reused_from,
        ) {
            (false, _) => TagPace::Alone { read },
            (true, None) => TagPace::Listed { read, accounts },
            (true, Some(_)) => TagPace::Reused { read, accounts },
        }
    }

    /// The ledger read at the start of the run, when there is one.
    pub fn ledger(&self) -> Option<&Ledger> {
        match &self.memory {
            Recall::Read(held) => Some(&held.ledger),
            _ => None,
        }
    }
}

enum Audited {
    Settled(AccountReport),
    Due(DueAccount),
}

/// The plan phase, with what it shares among its tasks.
pub struct Planner<O, R> {
    pub config: Arc<Config>,
    pub org: Arc<O>,
    pub root: Arc<R>,
    /// The caller-wide AssumeRoot pace, shared with the act phase.
    pub pace: Arc<Pace>,
}

impl<O: Organization, R: RootAccess> Planner<O, R> {
    pub async fn plan(
        &self,
        request: RunRequest,
        options: RunOptions,
        memory: Recall,
        budget: Budget,
        sink: &dyn ReportSink,
    ) -> Result<Plan, PreflightError> {
        let (started_at, clock) = (Utc::now(), Instant::now());
        let facts = preflight(&*self.org).await?;
        let rules = ScopeRules {
            management_account: facts.management_account.clone(),
            exempt_accounts: self.config.exempt_accounts.clone(),
            exempt_by_unit: self.exempt_by_unit().await?,
            scope: request.scope.clone(),
        };
        let ledger = match &memory {
            Recall::Read(held) => held.ledger.clone(),
            Recall::Stateless | Recall::Unreadable(_) => Arc::new(Ledger::empty()),
        };
        let rotation = Rotation::for_run(&options.run_id);
        let (settled, settled_receiver) = mpsc::unbounded_channel();
        let order = AuditOrder::new(rotation, ledger.clone(), started_at);
        let waiting = Arc::new(Waiting::new(order));
        let outlets = Outlets {
            waiting: waiting.clone(),
            settled,
        };
        let tags = Tags {
            rule: self.config.exempt_tag.clone(),
            ledger: ledger.clone(),
        };
        let roster = self.roster(&request, &ledger, budget, started_at);
        let lister = tokio::spawn(listing::list(
            self.org.clone(),
            rules,
            tags,
            roster,
            budget,
            outlets,
        ));
        let auditor = Arc::new(Auditor {
            opener: Opener {
                root: self.root.clone(),
                pace: self.pace.clone(),
                task: TaskPolicyArn::new(TaskPolicy::Audit, &facts.caller.partition),
            },
            grace: self.config.grace.clone(),
            budget,
        });
        let mut plan = Plan {
            run_id: options.run_id,
            function_arn: options.function_arn,
            request,
            started_at,
            clock,
            budget,
            rotation,
            facts,
            listing_stop: None,
            listing_reused_from: None,
            settled: Vec::new(),
            due: Vec::new(),
            memory,
            tags: BTreeMap::new(),
            later_reads: None,
        };
        let audits = stream::unfold(waiting, |w| async move { w.pop().await.map(|a| (a, w)) })
            .map(|candidate| auditor.clone().spawn(candidate))
            .buffer_unordered(self.config.concurrency.get());
        let settled = stream::unfold(settled_receiver, |mut r| async move {
            r.recv().await.map(|report| (Audited::Settled(report), r))
        });
        collect(&mut plan, stream::select(settled, audits), sink).await;
        let listing = lister
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
        self.conclude_listing(&mut plan, listing, ledger, sink);
        Ok(plan)
    }

    /// The last complete listing, for a whole-organization run with a deadline and an exemption
    /// tag, when the ledger offers it ([`Ledger::roster`]); an operator at the CLI has the
    /// time to list.
    fn roster(
        &self,
        request: &RunRequest,
        ledger: &Ledger,
        budget: Budget,
        now: DateTime<Utc>,
    ) -> Option<Roster> {
        let tag_rule = self.config.exempt_tag.is_some();
        (tag_rule && may_reuse_listing(request, budget))
            .then(|| ledger.roster(now))
            .flatten()
    }

    /// Takes what the listing task found; starts reading the tags left for the next runs.
    fn conclude_listing(
        &self,
        plan: &mut Plan,
        listing: Listing,
        ledger: Arc<Ledger>,
        sink: &dyn ReportSink,
    ) {
        plan.listing_stop = listing.stop;
        plan.listing_reused_from = listing.reused_from;
        plan.tags = listing.tags;
        for report in unlisted_targets(plan, &listing.seen) {
            sink.account(&plan.run_id, &report);
            plan.settled.push(report);
        }
        if let (Some(rule), false) = (&self.config.exempt_tag, listing.read_later.is_empty()) {
            let (stop, stopped) = watch::channel(false);
            let reads = tokio::spawn(listing::read_for_next_runs(
                self.org.clone(),
                rule.clone(),
                ledger,
                listing.read_later,
                plan.budget,
                stopped,
            ));
            plan.later_reads = Some(LaterReads { stop, reads });
        }
    }

    /// The accounts under the exempt organizational units, each with its rule. Organizations is
    /// only asked when units are configured, with one walk per unit.
    async fn exempt_by_unit(&self) -> Result<BTreeMap<AccountId, ExemptRule>, PreflightError> {
        let mut exempt = BTreeMap::new();
        for unit in &self.config.exempt_ous {
            let accounts = self
                .org
                .accounts_under(unit)
                .await
                .map_err(PreflightError::Exemptions)?;
            for (id, holder) in accounts {
                exempt.entry(id).or_insert_with(|| ExemptRule::Unit {
                    unit: unit.clone(),
                    holder,
                });
            }
        }
        Ok(exempt)
    }
}

/// Takes every account's result as it comes: settled ones are reported at once.
async fn collect(plan: &mut Plan, results: impl Stream<Item = Audited>, sink: &dyn ReportSink) {
    let mut results = std::pin::pin!(results);
    while let Some(result) = results.next().await {
        match result {
            Audited::Settled(report) => {
                let report = report.finish();
                sink.account(&plan.run_id, &report);
                plan.settled.push(report);
            }
            Audited::Due(due) => plan.due.push(due),
        }
    }
}

/// Named accounts the listing did not show: not in the organization, or not reached.
fn unlisted_targets(plan: &Plan, seen: &HashSet<AccountId>) -> Vec<AccountReport> {
    let Scope::Accounts(targets) = &plan.request.scope else {
        return Vec::new();
    };
    targets
        .iter()
        .filter(|id| !seen.contains(*id))
        .map(|id| {
            let outcome = match plan.listing_stop {
                None => Outcome::Skipped(SkipReason::NotInOrganization),
                Some(_) => Outcome::NotReached(NotReachedReason::ListingBrokeOff),
            };
            AccountReport::new(id.clone(), String::new(), None, outcome)
        })
        .collect()
}

/// Audits accounts: an audit session, a read, the grace rule.
struct Auditor<R> {
    opener: Opener<R>,
    grace: GracePeriod,
    budget: Budget,
}

impl<R: RootAccess> Auditor<R> {
    /// Audits an account in a task of its own: polled inside the run's task instead, a sweep
    /// spent more CPU per AWS call, even on one thread (tests/bench/README.md). On a runtime
    /// with more threads, accounts spread over them.
    async fn spawn(self: Arc<Self>, candidate: Candidate) -> Audited {
        tokio::spawn(async move { self.audit(candidate).await })
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
    }

    async fn audit(&self, candidate: Candidate) -> Audited {
        let Candidate {
            account,
            tags_read_now,
        } = candidate;
        let mut report = settled(&account, Outcome::Clean);
        if self.budget.too_late_to_plan() {
            report.outcome = Outcome::NotReached(NotReachedReason::NotAudited {
                margin: Budget::STOP_STARTING_BEFORE_DEADLINE,
            });
            return Audited::Settled(report);
        }
        report.outcome = match self.verdict(&mut report).await {
            Ok(Verdict::Due { due_at }) => {
                report.outcome = Outcome::Due { due_at, held: None };
                return Audited::Due(DueAccount {
                    report,
                    due_at,
                    tags_read_now,
                });
            }
            Ok(Verdict::Clean) => Outcome::Clean,
            Ok(Verdict::InGrace { due_at }) => Outcome::InGrace { due_at },
            Err(failure) => Outcome::Failed(failure),
        };
        Audited::Settled(report)
    }

    async fn verdict(&self, report: &mut AccountReport) -> Result<Verdict, Failure> {
        let session =
            session::open(&self.opener, report, self.budget, Stage::AssumeRootAudit).await?;
        let snapshot = self
            .budget
            .call(Stage::Audit, session::audit(&session))
            .await?;
        report.found = snapshot.kinds().collect();
        Ok(report.record(&snapshot, grace::assess(&snapshot, &self.grace, Utc::now())))
    }
}

/// Whether a run with an exemption tag rule may take its accounts from the last complete
/// listing: a whole-organization run with a deadline. An operator at the CLI has the time to
/// list.
fn may_reuse_listing(request: &RunRequest, budget: Budget) -> bool {
    budget.has_deadline() && request.scope == Scope::Organization
}

//! Plan: preflight, list the accounts, apply the scope and exemption rules, and audit every
//! account in scope -> a [`Plan`]: the accounts already settled, the accounts due, and whether
//! the view is complete. Nothing is deleted here.
//!
//! The listing runs in its own task, page by page, and makes every Organizations call of the
//! run (tags included) from that one place; audits start as soon as accounts are listed, in the
//! run's rotating order ([`crate::order`]), each account in its own task, at most
//! `concurrency` at once.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt, stream};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::account::{Account, AccountId};
use crate::budget::Budget;
use crate::config::{Config, GracePeriod, TagRule};
use crate::credentials::{TaskPolicy, TaskPolicyArn};
use crate::decide::PlanTally;
use crate::event::{RunRequest, Scope};
use crate::grace::{self, Verdict};
use crate::order::{Rotation, Waiting};
use crate::outcome::{AccountReport, Failure, Outcome, Stage};
use crate::pace::Pace;
use crate::ports::{AwsError, Organization, RootAccess};
use crate::preflight::{OrgFacts, PreflightError, preflight};
use crate::reasons::{Cause, ExemptRule, NotReachedReason, SkipReason};
use crate::report::ReportSink;
use crate::scope::{Disposition, ScopeRules, disposition};
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
    /// Why the listing broke off, if it did: then the view is incomplete.
    pub listing_error: Option<AwsError>,
    /// Accounts whose outcome is final (reported as they settled).
    pub settled: Vec<AccountReport>,
    pub due: Vec<DueAccount>,
}

impl Plan {
    pub fn tally(&self) -> PlanTally {
        PlanTally {
            mode: self.request.mode,
            due: self.due.len(),
            unknown: self
                .settled
                .iter()
                .filter(|a| a.outcome.is_unknown())
                .count(),
            view_complete: self.listing_error.is_none(),
        }
    }
}

/// What the listing task settles or sends on to be audited.
enum Listed {
    /// Audit it.
    Candidate(Account),
    /// Settled without an audit: skipped, exempt, or its exemption could not be checked.
    Settled(Box<AccountReport>),
}

impl Listed {
    fn settled(account: &Account, outcome: Outcome) -> Self {
        Listed::Settled(Box::new(settled(account, outcome)))
    }
}

enum Audited {
    Settled(AccountReport),
    Due(DueAccount),
}

/// How the listing ended.
struct Listing {
    seen: HashSet<AccountId>,
    error: Option<AwsError>,
}

/// Where the listing task puts accounts: settled ones straight to the report, the others in
/// the run's audit order. Dropping it (the listing is over, or failed) closes both.
struct Outlets {
    waiting: Arc<Waiting<Account>>,
    settled: mpsc::UnboundedSender<AccountReport>,
}

impl Outlets {
    fn send(&self, listed: Listed) {
        match listed {
            Listed::Candidate(account) => self.waiting.push(&account.id.clone(), account),
            // The receiver only goes away when the run itself is dropped.
            Listed::Settled(report) => {
                let _ = self.settled.send(*report);
            }
        }
    }
}

impl Drop for Outlets {
    fn drop(&mut self) {
        self.waiting.close();
    }
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
        budget: Budget,
        sink: &dyn ReportSink,
    ) -> Result<Plan, PreflightError> {
        let RunOptions {
            run_id,
            function_arn,
            ..
        } = options;
        let (started_at, clock) = (Utc::now(), Instant::now());
        let facts = preflight(&*self.org).await?;
        let rules = ScopeRules {
            management_account: facts.management_account.clone(),
            exempt_accounts: self.config.exempt_accounts.clone(),
            exempt_by_unit: self.exempt_by_unit().await?,
            scope: request.scope.clone(),
        };
        let rotation = Rotation::for_run(&run_id);
        let (settled, settled_receiver) = mpsc::unbounded_channel();
        let waiting = Arc::new(Waiting::new(rotation));
        let outlets = Outlets {
            waiting: waiting.clone(),
            settled,
        };
        let tags = self.config.exempt_tag.clone();
        let lister = tokio::spawn(list(self.org.clone(), rules, tags, budget, outlets));
        let auditor = Arc::new(Auditor {
            opener: Opener {
                root: self.root.clone(),
                pace: self.pace.clone(),
                task: TaskPolicyArn::new(TaskPolicy::Audit, &facts.caller.partition),
            },
            grace: self.config.grace,
            budget,
        });
        let mut plan = Plan {
            run_id,
            function_arn,
            request,
            started_at,
            clock,
            budget,
            rotation,
            facts,
            listing_error: None,
            settled: Vec::new(),
            due: Vec::new(),
        };
        let audits = stream::unfold(waiting, |w| async move { w.pop().await.map(|a| (a, w)) })
            .map(|account| auditor.clone().spawn(account))
            .buffer_unordered(self.config.concurrency.get());
        let settled = stream::unfold(settled_receiver, |mut r| async move {
            r.recv().await.map(|report| (Audited::Settled(report), r))
        });
        collect(&mut plan, stream::select(settled, audits), sink).await;
        let listing = lister
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
        plan.listing_error = listing.error;
        for report in unlisted_targets(&plan, &listing.seen) {
            sink.account(&plan.run_id, &report);
            plan.settled.push(report);
        }
        Ok(plan)
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
            let outcome = match plan.listing_error {
                None => Outcome::Skipped(SkipReason::NotInOrganization),
                Some(_) => Outcome::NotReached(NotReachedReason::ListingBrokeOff),
            };
            AccountReport::new(id.clone(), String::new(), None, outcome)
        })
        .collect()
}

/// The listing task: pages through the accounts, settles those the rules leave alone, and
/// sends the rest on to be audited. Each account is taken once, however often it is listed.
/// A run over named accounts stops listing once it has seen them all.
async fn list<O: Organization>(
    org: Arc<O>,
    rules: ScopeRules,
    tag_rule: Option<TagRule>,
    budget: Budget,
    outlets: Outlets,
) -> Listing {
    let mut listing = Listing {
        seen: HashSet::new(),
        error: None,
    };
    let targets: Option<&BTreeSet<AccountId>> = match &rules.scope {
        Scope::Organization => None,
        Scope::Accounts(ids) => Some(ids),
    };
    let mut accounts = org.accounts();
    while let Some(item) = accounts.next().await {
        let account = match item {
            Ok(account) => account,
            Err(err) => {
                listing.error = Some(err);
                break;
            }
        };
        let Some(disposition) = disposition(&account, &rules) else {
            continue;
        };
        if !listing.seen.insert(account.id.clone()) {
            continue;
        }
        let listed = match disposition {
            Disposition::Skip(reason) => Listed::settled(&account, Outcome::Skipped(reason)),
            Disposition::Exempt(rule) => Listed::settled(&account, Outcome::Exempt(rule)),
            Disposition::Sweep => match &tag_rule {
                Some(rule) if !budget.too_late_to_start() => tag_check(&*org, rule, account).await,
                _ => Listed::Candidate(account),
            },
        };
        outlets.send(listed);
        if targets.is_some_and(|ids| ids.len() == listing.seen.len()) {
            break;
        }
    }
    listing
}

/// An account carrying the exempting tag is exempt; one whose tags cannot be read is left
/// alone, as it may be a break-glass account.
async fn tag_check<O: Organization>(org: &O, rule: &TagRule, account: Account) -> Listed {
    match org.tags(&account.id).await {
        Ok(tags) if rule.matches(&tags) => {
            Listed::settled(&account, Outcome::Exempt(ExemptRule::Tag(rule.clone())))
        }
        Ok(_) => Listed::Candidate(account),
        Err(err) => {
            let failure = Failure::new(Stage::ExemptionCheck, Cause::TagsUnreadable(err));
            Listed::settled(&account, Outcome::Failed(failure))
        }
    }
}

fn settled(account: &Account, outcome: Outcome) -> AccountReport {
    AccountReport::new(
        account.id.clone(),
        account.name.clone(),
        Some(account.state.clone()),
        outcome,
    )
}

/// Audits accounts: an audit session, a read, the grace rule.
struct Auditor<R> {
    opener: Opener<R>,
    grace: GracePeriod,
    budget: Budget,
}

impl<R: RootAccess> Auditor<R> {
    /// Audits `account` in a task of its own: polled inside the run's task instead, a sweep
    /// spent more CPU per AWS call, even on one thread (`make bench`, 10k audit at concurrency
    /// 64: 0.26 to 0.28 ms against 0.23 to 0.24). On a runtime with more threads, accounts
    /// spread over them.
    async fn spawn(self: Arc<Self>, account: Account) -> Audited {
        tokio::spawn(async move { self.audit(account).await })
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
    }

    async fn audit(&self, account: Account) -> Audited {
        let mut report = settled(&account, Outcome::Clean);
        if self.budget.too_late_to_start() {
            report.outcome = Outcome::NotReached(NotReachedReason::NotAudited {
                margin: Budget::STOP_STARTING_BEFORE_DEADLINE,
            });
            return Audited::Settled(report);
        }
        report.outcome = match self.verdict(&mut report).await {
            Ok(Verdict::Due { due_at }) => {
                report.outcome = Outcome::Due { due_at, held: None };
                return Audited::Due(DueAccount { report, due_at });
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
        Ok(report.record(&snapshot, grace::assess(&snapshot, self.grace, Utc::now())))
    }
}

//! A finished run, written into the ledger: each account's outcome, audit and tag read, newest
//! first; the run's reservations settled by what it deleted; accounts gone from a complete
//! listing forgotten, and the names and states it listed kept for the runs that reuse them.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use super::coverage::TagPace;
use super::{Audit, CAP_WINDOW, Found, Ledger, Listed, Memory, TagRead};
use crate::account::AccountId;
use crate::outcome::{AccountReport, Outcome};
use crate::reasons::NotReachedReason;

/// What a finished run has to tell the ledger.
pub struct RunRecord<'a> {
    pub run_id: &'a str,
    /// Every account the run reported.
    pub accounts: &'a [AccountReport],
    /// The tags it read, by account.
    pub tags: &'a BTreeMap<AccountId, TagRead>,
    /// Whether it covered the whole organization.
    pub whole_organization: bool,
    /// When it listed every account of the organization; `None` when it covered named accounts
    /// only, its listing broke off, or it took the accounts from the last listing.
    pub listed_every_account_at: Option<DateTime<Utc>>,
    /// The tags it read, when its time ran out before its tag reads did.
    pub tag_pace: Option<TagPace>,
    pub now: DateTime<Utc>,
}

impl RunRecord<'_> {
    /// Writes this run into `ledger`, which may hold what other runs wrote since this one read
    /// it: of two memories of an account, the newer wins.
    pub fn write_into(&self, ledger: &mut Ledger) {
        if self.whole_organization {
            ledger.sweeps += 1;
        }
        let sweep = ledger.sweeps;
        for report in self.accounts {
            let memory = ledger.accounts.get(&report.account_id);
            if let Some(memory) = remembered(memory, report, sweep) {
                ledger.accounts.insert(report.account_id.clone(), memory);
            }
        }
        for (account, read) in self.tags {
            if let Some(memory) = ledger.accounts.get_mut(account)
                && memory.tags.is_none_or(|known| known.at < read.at)
            {
                memory.tags = Some(*read);
            }
        }
        self.settle(ledger);
        if let Some(at) = self.listed_every_account_at {
            let listed: BTreeSet<&AccountId> =
                self.accounts.iter().map(|a| &a.account_id).collect();
            ledger.accounts.retain(|id, _| listed.contains(id));
            ledger.listed_at = Some(at);
        }
        let now = self.now;
        ledger.spent.retain(|spend| spend.at + CAP_WINDOW > now);
    }

    /// This run's reservations: an account it deleted something from stays spent, from when it
    /// was done; one it deleted nothing from is given back.
    fn settle(&self, ledger: &mut Ledger) {
        let reports: BTreeMap<&AccountId, &AccountReport> = self
            .accounts
            .iter()
            .map(|report| (&report.account_id, report))
            .collect();
        ledger.spent.retain_mut(|spend| {
            if spend.run_id != self.run_id || spend.settled {
                return true;
            }
            match reports.get(&spend.account) {
                Some(report) if report.deleted().next().is_some() => {
                    spend.settled = true;
                    spend.at = report.finished_at;
                    true
                }
                Some(_) => false,
                // Reserved and not reported: what happened is unknown, so it stays spent.
                None => true,
            }
        });
    }
}

/// The memory of `report`'s account after this run, or `None` to keep what is there (a newer
/// run wrote it meanwhile).
fn remembered(current: Option<&Memory>, report: &AccountReport, sweep: u64) -> Option<Memory> {
    if current.is_some_and(|memory| memory.seen_at > report.finished_at) {
        return None;
    }
    let audit = audit_of(report, sweep).or_else(|| current.and_then(|memory| memory.audit));
    let listed = report.account_state.clone().map(|state| Listed {
        name: report.account_name.clone(),
        state,
    });
    Some(Memory {
        listed: listed.or_else(|| current.and_then(|memory| memory.listed.clone())),
        outcome: report.outcome.kind(),
        seen_at: report.finished_at,
        audit,
        tags: current.and_then(|memory| memory.tags),
    })
}

/// What the run's audit (or delete session) found, when it completed one.
fn audit_of(report: &AccountReport, sweep: u64) -> Option<Audit> {
    let found = match &report.outcome {
        Outcome::Clean | Outcome::Remediated { .. } => Found::Clean,
        Outcome::InGrace { due_at } => Found::InGrace { due_at: *due_at },
        Outcome::Due { due_at, .. }
        | Outcome::RetryLater { due_at, .. }
        | Outcome::NotReached(NotReachedReason::NotRemediated { due_at, .. }) => {
            Found::Due { due_at: *due_at }
        }
        Outcome::Skipped(_) | Outcome::Exempt(_) | Outcome::Failed(_) | Outcome::NotReached(_) => {
            return None;
        }
    };
    Some(Audit {
        at: report.finished_at,
        sweep,
        found,
    })
}

//! The run ledger: what earlier runs learned, kept between runs so that the promises that span
//! runs hold. The remediation cap counts the accounts remediated in the last 24 hours by every
//! run (nightly sweeps, targeted runs, follow-ups, the operator CLI); an account a run does not
//! reach is judged by what the last run that reached it saw; the accounts least recently audited,
//! and whose tags were least recently read, go first.
//!
//! The ledger is a memory, not an authority: a delete session still reads the account's
//! credentials again, and its exemption tag is read again in the same run, before anything is
//! deleted. Everything here is pure; [`store`] reads and writes it with S3 conditional writes.

mod coverage;
mod record;
mod roster;
pub mod store;
mod summary;

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::account::{AccountId, AccountState};
use crate::outcome::OutcomeKind;

pub use coverage::{Coverage, TagPace};
pub use record::RunRecord;
pub use roster::{LISTING_REUSED_FOR, Roster};
pub use summary::{LedgerState, LedgerSummary, STATELESS};

/// The ledger's format; a ledger of another format is unreadable, never guessed at.
pub const FORMAT: u32 = 1;
/// The remediation cap holds over any window of this length.
pub const CAP_WINDOW: TimeDelta = TimeDelta::hours(24);
/// An account a run does not reach counts as unknown against the cap once its last audit is
/// older than this, whatever it found. A week covers the largest organization AWS allows at the
/// slowest pace Organizations has shown for tag reads (docs/across-runs.md).
pub const AUDIT_TRUSTED_FOR: TimeDelta = TimeDelta::days(7);
/// Tags read longer ago than this are read again before the account is audited. Until then the
/// last read decides whether the account is audited; before any delete session its tags are
/// always read again.
pub const TAGS_TRUSTED_FOR: TimeDelta = TimeDelta::days(30);
/// Tags read longer ago than this are read again whenever Organizations has time to spare in a
/// run, oldest first: a newly added exemption tag stops audits within a day where
/// Organizations' pace allows every account's tags to be read in a day.
pub const TAGS_REFRESHED_AFTER: TimeDelta = TimeDelta::hours(20);

/// What earlier runs learned: one object per organization.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ledger {
    pub format: u32,
    /// Whole-organization runs recorded so far: coverage is told in them.
    pub sweeps: u64,
    /// When a whole-organization run last listed every account: the accounts (with their
    /// names and states) a run may take from here instead of listing them ([`Roster`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listed_at: Option<DateTime<Utc>>,
    pub accounts: BTreeMap<AccountId, Memory>,
    /// The remediations of the last [`CAP_WINDOW`], and the ones runs have reserved and not yet
    /// settled.
    pub spent: Vec<Spend>,
}

/// The last a run saw of one account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Memory {
    /// Its name and state when last listed; `None` for a named account not in the
    /// organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listed: Option<Listed>,
    /// Its last outcome, and when.
    pub outcome: OutcomeKind,
    pub seen_at: DateTime<Utc>,
    /// Its last completed audit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit: Option<Audit>,
    /// Its last tag read, when an exemption tag is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<TagRead>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Audit {
    pub at: DateTime<Utc>,
    /// The number of the sweep it was made in (or the last sweep before it).
    pub sweep: u64,
    pub found: Found,
}

/// An account as Organizations last listed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Listed {
    pub name: String,
    pub state: AccountState,
}

/// What an audit found, as far as the cap is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case", deny_unknown_fields)]
pub enum Found {
    Clean,
    InGrace { due_at: DateTime<Utc> },
    Due { due_at: DateTime<Utc> },
}

/// A read of an account's tags, against the configured exemption tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagRead {
    pub at: DateTime<Utc>,
    pub exempt: bool,
}

/// One account's remediation, counted against the cap from `at` for [`CAP_WINDOW`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spend {
    pub account: AccountId,
    pub run_id: String,
    pub at: DateTime<Utc>,
    /// False while the run that reserved it has not said what it deleted: a run that never
    /// says (stopped by its timeout) keeps it spent for the whole window.
    pub settled: bool,
}

/// What the tags of an account are known to say, for a run at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KnownTags {
    /// Never read, or read too long ago to decide an audit: read them first.
    Unread,
    /// Read recently enough to decide whether the account is audited.
    Read(TagRead),
}

impl Memory {
    /// Whether an account this run did not reach could hold credentials past their grace
    /// period, as far as the ledger can tell: it counts as unknown against the cap unless its
    /// last audit, recent enough, found it clean or in grace until after `now`. Exempt and
    /// skipped accounts are no candidates.
    pub fn counts_against_cap(&self, now: DateTime<Utc>) -> bool {
        match self.outcome {
            OutcomeKind::Exempt | OutcomeKind::Skipped => return false,
            OutcomeKind::Failed => return true,
            _ => {}
        }
        match self.audit {
            None => true,
            Some(audit) if audit.at + AUDIT_TRUSTED_FOR < now => true,
            Some(audit) => match audit.found {
                Found::Clean => false,
                Found::InGrace { due_at } => due_at <= now,
                Found::Due { .. } => true,
            },
        }
    }

    /// Where the account stands in a run's audit order: accounts known to be due or in trouble
    /// first (a handful, and the ones a remediation needs), then the never audited, then the
    /// least recently audited.
    fn rank(&self, now: DateTime<Utc>) -> (u8, i64) {
        let trouble = matches!(
            self.outcome,
            OutcomeKind::Failed | OutcomeKind::RetryLater | OutcomeKind::Due
        );
        match self.audit {
            _ if trouble => (0, 0),
            Some(Audit {
                found: Found::Due { .. },
                ..
            }) => (0, 0),
            Some(Audit {
                found: Found::InGrace { due_at },
                ..
            }) if due_at <= now => (0, 0),
            None => (1, 0),
            Some(audit) => (2, audit.at.timestamp()),
        }
    }
}

impl Ledger {
    pub fn empty() -> Self {
        Self {
            format: FORMAT,
            ..Self::default()
        }
    }

    /// The accounts remediated, or reserved for remediation, in the window ending at `now`.
    pub fn spent(&self, now: DateTime<Utc>) -> usize {
        self.spent
            .iter()
            .filter(|spend| spend.at + CAP_WINDOW > now)
            .count()
    }

    /// When the earliest spend of the window ends, making room under the cap again.
    pub fn next_room(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.spent
            .iter()
            .map(|spend| spend.at + CAP_WINDOW)
            .filter(|ends| *ends > now)
            .min()
    }

    /// Where `account` goes in a run's audit order (smaller first); accounts the ledger has
    /// never seen rank with the never audited.
    pub fn audit_rank(&self, account: &AccountId, now: DateTime<Utc>) -> (u8, i64) {
        self.accounts
            .get(account)
            .map_or((1, 0), |memory| memory.rank(now))
    }

    /// When `account`'s tags were last read, if ever: the order tag reads go in (the never-read
    /// first, then the oldest read).
    pub fn last_tag_read(&self, account: &AccountId) -> Option<DateTime<Utc>> {
        self.accounts
            .get(account)
            .and_then(|memory| memory.tags)
            .map(|read| read.at)
    }

    /// What `account`'s tags are known to say for a run at `now`.
    pub fn tags(&self, account: &AccountId, now: DateTime<Utc>) -> KnownTags {
        match self.accounts.get(account).and_then(|memory| memory.tags) {
            Some(read) if read.at + TAGS_TRUSTED_FOR >= now => KnownTags::Read(read),
            _ => KnownTags::Unread,
        }
    }

    /// Whether an account this run did not reach counts as unknown against the cap.
    pub fn counts_against_cap(&self, account: &AccountId, now: DateTime<Utc>) -> bool {
        self.accounts
            .get(account)
            .is_none_or(|memory| memory.counts_against_cap(now))
    }

    /// The accounts outside `reached` that count as unknown against the cap: what a run over
    /// some accounts must add to its own view to judge the whole organization.
    pub fn elsewhere(&self, reached: &dyn Fn(&AccountId) -> bool, now: DateTime<Utc>) -> usize {
        self.accounts
            .iter()
            .filter(|(id, memory)| !reached(id) && memory.counts_against_cap(now))
            .count()
    }

    /// Reserves the cap for `accounts`, to be remediated by `run_id` from `now`.
    pub fn reserve<'a>(
        &mut self,
        run_id: &str,
        accounts: impl IntoIterator<Item = &'a AccountId>,
        now: DateTime<Utc>,
    ) {
        self.spent.extend(accounts.into_iter().map(|account| Spend {
            account: account.clone(),
            run_id: run_id.to_owned(),
            at: now,
            settled: false,
        }));
    }
}

#[cfg(test)]
mod tests;

//! The accounts of the last complete listing, which a run short of time may take instead of
//! listing them again. Listing costs one Organizations call per 20 accounts (25 s at 10,000
//! accounts and 20 calls a second), and a tag rule's reads queue behind it on the same pace.
//! While accounts wait unaudited for their tags, those seconds go to reading them: an
//! organization that needs more nights to read every tag than a read is trusted for then
//! converges, where it otherwise never would (docs/across-runs.md).
//!
//! What the run does not learn meanwhile is bounded by [`LISTING_REUSED_FOR`]: an account that
//! joined the organization since the listing is audited once a run lists again, and one that
//! left or was suspended fails its root session (a failure, so unknown against the cap) until
//! then. The management account and the exempt units are read fresh in every run all the same.

use chrono::{DateTime, TimeDelta, Utc};

use super::{KnownTags, Ledger};
use crate::account::Account;
use crate::outcome::OutcomeKind;

/// The longest a run takes its accounts from the last complete listing: a new account is seen
/// at most this long after it joins, even while tag reads are behind.
pub const LISTING_REUSED_FOR: TimeDelta = TimeDelta::days(3);

/// The most accounts a `ListAccounts` call returns: a listing costs at least one Organizations
/// call per this many accounts.
pub const ACCOUNTS_PER_LISTING_CALL: usize = 20;

/// Nightly runs that surely take their accounts from one listing: the night after it and the
/// next. The third comes [`LISTING_REUSED_FOR`] after it to within the seconds a schedule's
/// start varies by, so it may list again.
pub const NIGHTS_OVER_ONE_LISTING: usize = LISTING_REUSED_FOR.num_days() as usize - 1;

/// The accounts of the last complete listing, and when it was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roster {
    pub listed_at: DateTime<Utc>,
    pub accounts: Vec<Account>,
}

impl Ledger {
    /// The last complete listing, for a run at `now` that is short of time, when it is recent
    /// enough and earlier runs left accounts unaudited for want of their tags; otherwise `None`,
    /// and the run lists the accounts.
    pub fn roster(&self, now: DateTime<Utc>) -> Option<Roster> {
        let listed_at = self.listed_at?;
        if listed_at + LISTING_REUSED_FOR < now || !self.waiting_for_tags(now) {
            return None;
        }
        let accounts = self
            .accounts
            .iter()
            .filter_map(|(id, memory)| {
                let listed = memory.listed.clone()?;
                Some(Account {
                    id: id.clone(),
                    name: listed.name,
                    state: listed.state,
                })
            })
            .collect();
        Some(Roster {
            listed_at,
            accounts,
        })
    }

    /// Whether some account was last left unaudited with its tags unread (never read, or read
    /// too long ago to decide an audit).
    fn waiting_for_tags(&self, now: DateTime<Utc>) -> bool {
        self.accounts.iter().any(|(id, memory)| {
            memory.outcome == OutcomeKind::NotReached && self.tags(id, now) == KnownTags::Unread
        })
    }
}

//! How well the ledger covers the organization, for the run summary: "every account audited
//! within the last N sweeps; oldest audit ...".

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::roster::{ACCOUNTS_PER_LISTING_CALL, NIGHTS_OVER_ONE_LISTING};
use super::{Ledger, TAGS_TRUSTED_FOR};
use crate::outcome::OutcomeKind;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// Member accounts a run audits: neither skipped nor exempt when last seen.
    pub accounts: usize,
    pub never_audited: usize,
    /// When every one of them has been audited: the oldest last audit, and within how many
    /// sweeps (the last one included) they all were.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oldest_audit: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audited_within_sweeps: Option<u64>,
    /// Accounts that count as unknown against the cap (see `Memory::counts_against_cap`).
    pub unknown: usize,
    /// With an exemption tag: how many of them never had their tags read, and the oldest read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags_never_read: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oldest_tag_read: Option<DateTime<Utc>>,
    /// When the run's time ran out before its tag reads did: how many runs at its pace
    /// ([`TagPace::per_run`]) take to read every account's tags. Above the days a read is
    /// trusted (one run a night), the organization cannot converge at this pace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runs_to_read_all_tags: Option<u64>,
    /// Accounts remediated (or reserved) in the last 24 hours, and when the earliest of them
    /// stops counting.
    pub remediated_last_24h: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cap_room_from: Option<DateTime<Utc>>,
}

/// The tags a run read when its time ran out before its reads did, and how it came by its
/// accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagPace {
    /// A run that never takes its accounts from a listing before (one over named accounts, or
    /// at the CLI).
    Alone { read: usize },
    /// A whole-organization run short of time, over `accounts`, that listed them.
    Listed { read: usize, accounts: usize },
    /// The same, having taken them from the last listing.
    Reused { read: usize, accounts: usize },
}

impl TagPace {
    /// Tags read a run, on average over a listing and the nights that take their accounts from
    /// it. Organizations serves one call at a time, so a run over the last listing reads a tag
    /// in the place of each call the listing took: on a night that listed 10,000 accounts and
    /// read 194 tags, the next two read 694.
    pub fn per_run(self) -> usize {
        let calls = |accounts: usize| accounts.div_ceil(ACCOUNTS_PER_LISTING_CALL);
        let (listing_night, night_over_it) = match self {
            TagPace::Alone { read } => return read,
            TagPace::Listed { read, accounts } => (read, read + calls(accounts)),
            TagPace::Reused { read, accounts } => (read.saturating_sub(calls(accounts)), read),
        };
        (listing_night + NIGHTS_OVER_ONE_LISTING * night_over_it) / (1 + NIGHTS_OVER_ONE_LISTING)
    }
}

impl Coverage {
    /// `tag_pace`: the tags the run read, when its time ran out before its reads did.
    pub fn of(
        ledger: &Ledger,
        tag_rule: bool,
        tag_pace: Option<TagPace>,
        now: DateTime<Utc>,
    ) -> Self {
        let candidates: Vec<_> = ledger
            .accounts
            .values()
            .filter(|m| !matches!(m.outcome, OutcomeKind::Skipped | OutcomeKind::Exempt))
            .collect();
        let audits: Vec<_> = candidates.iter().filter_map(|m| m.audit).collect();
        let never_audited = candidates.len() - audits.len();
        let oldest = audits.iter().min_by_key(|audit| audit.at);
        let all_audited = never_audited == 0 && oldest.is_some();
        let tag_reads: Vec<_> = candidates.iter().filter_map(|m| m.tags).collect();
        Self {
            accounts: candidates.len(),
            never_audited,
            oldest_audit: oldest.filter(|_| all_audited).map(|audit| audit.at),
            audited_within_sweeps: oldest
                .filter(|_| all_audited)
                .map(|audit| ledger.sweeps.saturating_sub(audit.sweep) + 1),
            unknown: candidates
                .iter()
                .filter(|m| m.counts_against_cap(now))
                .count(),
            tags_never_read: tag_rule.then(|| candidates.len() - tag_reads.len()),
            oldest_tag_read: tag_rule
                .then(|| tag_reads.iter().map(|read| read.at).min())
                .flatten(),
            runs_to_read_all_tags: tag_pace
                .filter(|_| tag_rule)
                .map(|pace| runs_to_read(ledger, pace.per_run())),
            remediated_last_24h: ledger.spent(now),
            cap_room_from: ledger.next_room(now),
        }
    }
}

impl std::fmt::Display for Coverage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.audited_within_sweeps, self.oldest_audit) {
            (Some(sweeps), Some(oldest)) => write!(
                f,
                "every one of {} accounts audited within the last {sweeps} sweep(s), the oldest audit at {oldest}",
                self.accounts
            )?,
            _ => write!(
                f,
                "{} of {} accounts not audited yet: the next runs audit them first",
                self.never_audited, self.accounts
            )?,
        }
        if self.unknown > 0 {
            write!(
                f,
                "; {} count as unknown against the cap (due, failed, or not audited for a week)",
                self.unknown
            )?;
        }
        if let Some(unread) = self.tags_never_read.filter(|n| *n > 0) {
            write!(f, "; the tags of {unread} accounts not read yet")?;
        }
        match self.runs_to_read_all_tags {
            Some(runs) if runs > TAGS_TRUSTED_FOR.num_days() as u64 => write!(
                f,
                "; at this run's pace every account's tags take {runs} runs to read, more than the {} days a read is trusted: the organization cannot converge, set a longer function Timeout (docs/across-runs.md)",
                TAGS_TRUSTED_FOR.num_days()
            )?,
            Some(runs) => write!(
                f,
                "; at this run's pace every account's tags are read in {runs} runs"
            )?,
            None => {}
        }
        Ok(())
    }
}

/// Runs reading `per_run` tags each take to read those of every account the ledger holds that a
/// run does not skip.
fn runs_to_read(ledger: &Ledger, per_run: usize) -> u64 {
    let accounts = ledger
        .accounts
        .values()
        .filter(|m| m.outcome != OutcomeKind::Skipped)
        .count();
    accounts.div_ceil(per_run.max(1)) as u64
}

//! The listing task: every Organizations call of the plan phase, from one task. It pages
//! through the accounts, settles those the rules leave alone, and sends the others to be
//! audited in the run's order. With an exemption tag, an account is audited only once its
//! tags are known: read in an earlier run (the ledger) recently enough, or read now, the
//! never-read and oldest first, while the run has time to plan. The tags it has no time left
//! to read are read afterwards for the next runs ([`read_for_next_runs`]), so that each run
//! leaves fewer accounts unread than it found. A run short of time while accounts wait for
//! their tags takes the accounts from the last complete listing instead ([`Roster`]), and gives
//! the listing's calls to the tag reads.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::{StreamExt, stream};
use tokio::sync::mpsc;

use crate::account::{Account, AccountId};
use crate::budget::Budget;
use crate::config::TagRule;
use crate::event::Scope;
use crate::ledger::{KnownTags, Ledger, Roster, TAGS_REFRESHED_AFTER, TagRead};
use crate::order::Waiting;
use crate::outcome::{AccountReport, Failure, Outcome, Stage};
use crate::ports::{AwsError, Organization};
use crate::reasons::{Cause, ExemptRule, ListingStop, NotReachedReason};
use crate::scope::{Disposition, ScopeRules, disposition};

/// An account to audit, and whether its tags were read in this run (otherwise they are read
/// again before any delete session).
pub struct Candidate {
    pub account: Account,
    pub tags_read_now: bool,
}

/// What the listing task settles or sends on to be audited.
enum Listed {
    Candidate(Candidate),
    /// Settled without an audit: skipped, exempt, not reached, or its exemption could not be
    /// checked.
    Settled(Box<AccountReport>),
}

impl Listed {
    fn settled(account: &Account, outcome: Outcome) -> Self {
        Listed::Settled(Box::new(settled(account, outcome)))
    }
}

/// A listed account's report, settled with `outcome`.
pub fn settled(account: &Account, outcome: Outcome) -> AccountReport {
    AccountReport::new(
        account.id.clone(),
        account.name.clone(),
        Some(account.state.clone()),
        outcome,
    )
}

/// How the listing ended, and the tags it read.
#[derive(Default)]
pub struct Listing {
    pub seen: HashSet<AccountId>,
    pub stop: Option<ListingStop>,
    /// When the accounts were taken from the last complete listing: when it was made.
    pub reused_from: Option<DateTime<Utc>>,
    pub tags: BTreeMap<AccountId, TagRead>,
    /// Accounts whose tags to read for the next runs, while the run may still start work:
    /// those it had no time to read before auditing, and those audited on a read due for
    /// another. The never-read first, then the oldest read.
    pub read_later: Vec<AccountId>,
}

/// Where the listing task puts accounts: settled ones straight to the report, the others in
/// the run's audit order. Dropping it (the listing is over) closes both.
pub struct Outlets {
    pub waiting: Arc<Waiting<Candidate>>,
    pub settled: mpsc::UnboundedSender<AccountReport>,
}

impl Outlets {
    fn send(&self, listed: Listed) {
        match listed {
            Listed::Candidate(candidate) => {
                let id = candidate.account.id.clone();
                self.waiting.push(&id, candidate);
            }
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

/// The exemption tag rule and what earlier runs read of the tags.
pub struct Tags {
    pub rule: Option<TagRule>,
    pub ledger: Arc<Ledger>,
}

/// The listing task, over Organizations' listing or, when given, the last complete one. Each
/// account is taken once, however often it is listed; a run over named accounts stops listing
/// once it has seen them all.
pub async fn list<O: Organization>(
    org: Arc<O>,
    rules: ScopeRules,
    tags: Tags,
    roster: Option<Roster>,
    budget: Budget,
    outlets: Outlets,
) -> Listing {
    let mut listing = Listing::default();
    let mut unread = Vec::new();
    let targets: Option<&BTreeSet<AccountId>> = match &rules.scope {
        Scope::Organization => None,
        Scope::Accounts(ids) => Some(ids),
    };
    let mut accounts = match roster {
        Some(roster) => {
            listing.reused_from = Some(roster.listed_at);
            stream::iter(roster.accounts.into_iter().map(Ok)).boxed()
        }
        None => org.accounts(),
    };
    loop {
        let account = match budget.planning(accounts.next()).await {
            None => {
                listing.stop = Some(ListingStop::OutOfTime);
                break;
            }
            Some(None) => break,
            Some(Some(Ok(account))) => account,
            Some(Some(Err(err))) => {
                listing.stop = Some(ListingStop::Failed(err));
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
            Disposition::Sweep => match known(&tags, &account.id, &mut listing) {
                Known::NoRule => Listed::Candidate(Candidate {
                    account,
                    tags_read_now: false,
                }),
                Known::Unread => {
                    unread.push(account);
                    continue;
                }
                Known::Read(read) => by_tags(read.exempt, &tags, account, false),
            },
        };
        outlets.send(listed);
        if targets.is_some_and(|ids| ids.len() == listing.seen.len()) {
            break;
        }
    }
    read_unread(&*org, &tags, unread, budget, &outlets, &mut listing).await;
    listing
}

enum Known {
    NoRule,
    Unread,
    Read(TagRead),
}

/// What is known of `account`'s tags; an account known from a read due for another goes on
/// the list of reads for the next runs.
fn known(tags: &Tags, account: &AccountId, listing: &mut Listing) -> Known {
    if tags.rule.is_none() {
        return Known::NoRule;
    }
    let now = Utc::now();
    match tags.ledger.tags(account, now) {
        KnownTags::Unread => Known::Unread,
        KnownTags::Read(read) => {
            if read.at + TAGS_REFRESHED_AFTER < now {
                listing.read_later.push(account.clone());
            }
            Known::Read(read)
        }
    }
}

/// Exempt, or to be audited, by what the tags say.
fn by_tags(exempt: bool, tags: &Tags, account: Account, tags_read_now: bool) -> Listed {
    match (&tags.rule, exempt) {
        (Some(rule), true) => {
            Listed::settled(&account, Outcome::Exempt(ExemptRule::Tag(rule.clone())))
        }
        _ => Listed::Candidate(Candidate {
            account,
            tags_read_now,
        }),
    }
}

/// Reads the tags no earlier run read recently enough, the never-read first, then the oldest;
/// the accounts whose tags the run has no time left to read are not audited, and their tags
/// are read later for the next runs.
async fn read_unread<O: Organization>(
    org: &O,
    tags: &Tags,
    mut unread: Vec<Account>,
    budget: Budget,
    outlets: &Outlets,
    listing: &mut Listing,
) {
    let Some(rule) = &tags.rule else {
        return;
    };
    unread.sort_by_key(|account| tags.ledger.last_tag_read(&account.id));
    let mut unread = unread.into_iter();
    while let Some(account) = unread.next() {
        let Some(read) = budget.planning(org.tags(&account.id)).await else {
            for account in std::iter::once(account).chain(unread.by_ref()) {
                let late = Outcome::NotReached(NotReachedReason::TagsNotRead);
                outlets.send(Listed::settled(&account, late));
                listing.read_later.push(account.id);
            }
            break;
        };
        outlets.send(match read {
            Ok(found) => {
                let read = TagRead {
                    at: Utc::now(),
                    exempt: rule.matches(&found),
                };
                listing.tags.insert(account.id.clone(), read);
                by_tags(read.exempt, tags, account, true)
            }
            Err(err) => unreadable(&account, err),
        });
    }
}

/// An account whose tags cannot be read is left alone, as it may be a break-glass account.
fn unreadable(account: &Account, err: AwsError) -> Listed {
    let failure = Failure::new(Stage::ExemptionCheck, Cause::TagsUnreadable(err));
    Listed::settled(account, Outcome::Failed(failure))
}

/// The tags read for the next runs, and whether the run's time ran out before they were all read.
#[derive(Debug, Default)]
pub struct LaterTags {
    pub read: BTreeMap<AccountId, TagRead>,
    pub out_of_time: bool,
}

/// Reads the tags of `accounts` (the never-read first, then the oldest read) until `stop` says
/// the run is done or it is too late to start work: only for the next runs, which audit or
/// leave alone by them. Organizations serves tag reads one at a time, so these reads are what
/// lets an organization too large for one run's planning be covered night after night.
pub async fn read_for_next_runs<O: Organization>(
    org: Arc<O>,
    rule: TagRule,
    ledger: Arc<Ledger>,
    mut accounts: Vec<AccountId>,
    budget: Budget,
    stop: tokio::sync::watch::Receiver<bool>,
) -> LaterTags {
    accounts.sort_by_key(|id| ledger.last_tag_read(id));
    let mut later = LaterTags::default();
    for account in accounts {
        if *stop.borrow() {
            break;
        }
        let Some(result) = budget.starting(org.tags(&account)).await else {
            later.out_of_time = true;
            break;
        };
        if let Ok(found) = result {
            let exempt = rule.matches(&found);
            later.read.insert(
                account,
                TagRead {
                    at: Utc::now(),
                    exempt,
                },
            );
        }
    }
    later
}

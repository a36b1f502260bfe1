use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};

use super::store::{LedgerError, decode, encode};
use super::*;
use crate::account::AccountState;
use crate::credentials::CredentialKind;
use crate::outcome::{AccountReport, Action, ActionKind, Outcome};

fn now() -> DateTime<Utc> {
    "2026-12-04T03:00:00Z".parse().unwrap()
}

fn id(n: u64) -> AccountId {
    format!("{n:012}").parse().unwrap()
}

fn audited(found: Found, days_ago: i64) -> Memory {
    Memory {
        listed: None,
        outcome: match found {
            Found::Clean => OutcomeKind::Clean,
            Found::InGrace { .. } => OutcomeKind::InGrace,
            Found::Due { .. } => OutcomeKind::Due,
        },
        seen_at: now() - TimeDelta::days(days_ago),
        audit: Some(Audit {
            at: now() - TimeDelta::days(days_ago),
            sweep: 1,
            found,
        }),
        tags: None,
    }
}

#[test]
fn an_account_not_reached_counts_unless_recently_found_clean_or_in_grace_until_later() {
    let clean = |days| audited(Found::Clean, days);
    assert!(!clean(6).counts_against_cap(now()));
    // Seven days is the bound: a day more and the account counts as unknown.
    assert!(!clean(7).counts_against_cap(now()));
    assert!(clean(8).counts_against_cap(now()));
    let in_grace = |hours| {
        audited(
            Found::InGrace {
                due_at: now() + TimeDelta::hours(hours),
            },
            1,
        )
    };
    assert!(!in_grace(1).counts_against_cap(now()));
    assert!(in_grace(0).counts_against_cap(now()), "due at this moment");
    assert!(in_grace(-1).counts_against_cap(now()));
    let due = audited(Found::Due { due_at: now() }, 1);
    assert!(due.counts_against_cap(now()));
    let never = Memory {
        audit: None,
        ..clean(1)
    };
    assert!(never.counts_against_cap(now()));
    let failed_after_a_clean_audit = Memory {
        outcome: OutcomeKind::Failed,
        ..clean(1)
    };
    assert!(failed_after_a_clean_audit.counts_against_cap(now()));
    for outcome in [OutcomeKind::Exempt, OutcomeKind::Skipped] {
        let left_alone = Memory {
            outcome,
            audit: None,
            ..clean(1)
        };
        assert!(!left_alone.counts_against_cap(now()), "{outcome}");
    }
}

#[test]
fn the_cap_counts_what_was_spent_in_the_last_24_hours() {
    let mut ledger = Ledger::empty();
    ledger.reserve("r1", [&id(1), &id(2)], now() - TimeDelta::hours(24));
    ledger.reserve("r2", [&id(3)], now() - TimeDelta::hours(23));
    ledger.reserve("r3", [&id(4)], now());
    // The two spent exactly 24 h ago no longer count.
    assert_eq!(ledger.spent(now()), 2);
    assert_eq!(ledger.next_room(now()), Some(now() + TimeDelta::hours(1)));
}

#[test]
fn the_audit_order_puts_trouble_first_then_the_never_audited_then_the_oldest() {
    let mut ledger = Ledger::empty();
    ledger.accounts.insert(id(1), audited(Found::Clean, 1));
    ledger.accounts.insert(id(2), audited(Found::Clean, 5));
    ledger
        .accounts
        .insert(id(3), audited(Found::Due { due_at: now() }, 1));
    let past_due = Found::InGrace {
        due_at: now() - TimeDelta::minutes(1),
    };
    ledger.accounts.insert(id(4), audited(past_due, 2));
    let mut order = vec![id(1), id(2), id(3), id(4), id(5)];
    order.sort_by_key(|account| ledger.audit_rank(account, now()));
    assert_eq!(order, [id(3), id(4), id(5), id(2), id(1)]);
}

#[test]
fn tags_decide_audits_for_thirty_days_then_are_read_again() {
    let mut ledger = Ledger::empty();
    let read = |days| TagRead {
        at: now() - TimeDelta::days(days),
        exempt: true,
    };
    for (n, days) in [(1, 30), (2, 31)] {
        let memory = Memory {
            tags: Some(read(days)),
            ..audited(Found::Clean, 1)
        };
        ledger.accounts.insert(id(n), memory);
    }
    assert_eq!(ledger.tags(&id(1), now()), KnownTags::Read(read(30)));
    assert_eq!(ledger.tags(&id(2), now()), KnownTags::Unread);
    assert_eq!(ledger.tags(&id(3), now()), KnownTags::Unread);
}

fn report(n: u64, outcome: Outcome, deleted: bool) -> AccountReport {
    let mut report = AccountReport::new(id(n), String::new(), Some(AccountState::Active), outcome);
    report.finished_at = now();
    if deleted {
        report.actions.push(Action {
            action: ActionKind::Deleted,
            kind: CredentialKind::Password,
            id: "login-profile".into(),
        });
    }
    report
}

#[test]
fn a_finished_run_settles_its_reservations_by_what_it_deleted() {
    let mut ledger = Ledger::empty();
    let reserved_at = now() - TimeDelta::minutes(5);
    ledger.reserve("run", [&id(1), &id(2), &id(3)], reserved_at);
    ledger.reserve("other", [&id(9)], reserved_at);
    let due_at = now() - TimeDelta::days(1);
    let accounts = [
        report(1, Outcome::Remediated { due_at }, true),
        // Found in grace by its delete session: nothing deleted, the reservation goes back.
        report(
            2,
            Outcome::InGrace {
                due_at: now() + TimeDelta::hours(2),
            },
            false,
        ),
    ];
    let tags = BTreeMap::new();
    RunRecord {
        run_id: "run",
        accounts: &accounts,
        tags: &tags,
        whole_organization: false,
        listed_every_account_at: None,
        tag_pace: None,
        now: now(),
    }
    .write_into(&mut ledger);
    let spent: Vec<(AccountId, bool)> = ledger
        .spent
        .iter()
        .map(|s| (s.account.clone(), s.settled))
        .collect();
    // Account 3 was reserved and never reported: it stays spent, unsettled.
    assert_eq!(spent, [(id(1), true), (id(3), false), (id(9), false)]);
    assert_eq!(ledger.spent[0].at, now());
    assert_eq!(ledger.sweeps, 0, "a run over named accounts is not a sweep");
    assert_eq!(
        ledger.accounts[&id(1)].audit.map(|a| a.found),
        Some(Found::Clean)
    );
}

#[test]
fn the_newer_memory_of_an_account_wins_and_a_complete_sweep_forgets_who_left() {
    let mut ledger = Ledger::empty();
    let mut newer = audited(Found::Due { due_at: now() }, 0);
    newer.seen_at = now() + TimeDelta::seconds(1);
    ledger.accounts.insert(id(1), newer.clone());
    ledger.accounts.insert(id(2), audited(Found::Clean, 3));
    ledger.accounts.insert(id(7), audited(Found::Clean, 3));
    let accounts = [
        report(1, Outcome::Clean, false),
        report(2, Outcome::Clean, false),
    ];
    let tags = BTreeMap::from([(
        id(2),
        TagRead {
            at: now(),
            exempt: false,
        },
    )]);
    RunRecord {
        run_id: "sweep",
        accounts: &accounts,
        tags: &tags,
        whole_organization: true,
        listed_every_account_at: Some(now()),
        tag_pace: None,
        now: now(),
    }
    .write_into(&mut ledger);
    assert_eq!(
        ledger.accounts[&id(1)],
        newer,
        "written by a later run meanwhile"
    );
    assert_eq!(ledger.accounts[&id(2)].audit.unwrap().at, now());
    assert_eq!(ledger.accounts[&id(2)].audit.unwrap().sweep, 1);
    assert_eq!(ledger.accounts[&id(2)].tags, Some(tags[&id(2)]));
    assert!(!ledger.accounts.contains_key(&id(7)), "no longer listed");
    assert_eq!(ledger.listed_at, Some(now()));
}

fn listed(name: &str, state: AccountState) -> Option<Listed> {
    Some(Listed {
        name: name.into(),
        state,
    })
}

#[test]
fn a_run_reuses_the_last_complete_listing_for_three_days_while_accounts_wait_for_their_tags() {
    let mut ledger = Ledger::empty();
    let waiting = Memory {
        listed: listed("waiting", AccountState::Active),
        outcome: OutcomeKind::NotReached,
        audit: None,
        ..audited(Found::Clean, 1)
    };
    let suspended = Memory {
        listed: listed("suspended", AccountState::Suspended),
        outcome: OutcomeKind::Skipped,
        ..audited(Found::Clean, 1)
    };
    ledger.accounts.insert(id(1), waiting.clone());
    ledger.accounts.insert(id(2), suspended);
    // A named account a targeted run did not find in the organization: never listed.
    ledger.accounts.insert(id(3), audited(Found::Clean, 1));
    assert_eq!(ledger.roster(now()), None, "never listed in full");
    ledger.listed_at = Some(now() - TimeDelta::days(3));
    let roster = ledger.roster(now()).expect("a listing of three days ago");
    assert_eq!(roster.listed_at, now() - TimeDelta::days(3));
    let accounts: Vec<(AccountId, &str, AccountState)> = roster
        .accounts
        .iter()
        .map(|a| (a.id.clone(), a.name.as_str(), a.state.clone()))
        .collect();
    assert_eq!(
        accounts,
        [
            (id(1), "waiting", AccountState::Active),
            (id(2), "suspended", AccountState::Suspended)
        ]
    );
    // A minute older than three days, and the run lists again.
    ledger.listed_at = Some(now() - TimeDelta::days(3) - TimeDelta::minutes(1));
    assert_eq!(ledger.roster(now()), None);
    // Once no account waits for its tags, every run lists.
    ledger.listed_at = Some(now() - TimeDelta::days(1));
    let audited_unread = Memory {
        outcome: OutcomeKind::Clean,
        ..waiting.clone()
    };
    ledger.accounts.insert(id(1), audited_unread);
    assert_eq!(
        ledger.roster(now()),
        None,
        "audited, with no tag to wait for"
    );
    let not_reached_for_time = Memory {
        tags: Some(TagRead {
            at: now() - TimeDelta::days(30),
            exempt: false,
        }),
        ..waiting
    };
    ledger.accounts.insert(id(1), not_reached_for_time);
    assert_eq!(ledger.roster(now()), None, "not reached for want of time");
}

#[test]
fn a_run_over_the_last_listing_forgets_no_account_and_keeps_the_listing_date() {
    let mut ledger = Ledger::empty();
    let listed_at = now() - TimeDelta::days(1);
    ledger.listed_at = Some(listed_at);
    // Account 4 joined since the listing, and a run over it alone remembered it.
    for n in [1, 4] {
        ledger.accounts.insert(id(n), audited(Found::Clean, 1));
    }
    let mut renamed = report(1, Outcome::Clean, false);
    renamed.account_name = "renamed".into();
    let tags = BTreeMap::new();
    RunRecord {
        run_id: "reused",
        accounts: &[renamed],
        tags: &tags,
        whole_organization: true,
        listed_every_account_at: None,
        tag_pace: None,
        now: now(),
    }
    .write_into(&mut ledger);
    assert_eq!(ledger.listed_at, Some(listed_at));
    assert!(ledger.accounts.contains_key(&id(4)), "not forgotten");
    assert_eq!(
        ledger.accounts[&id(1)].listed,
        listed("renamed", AccountState::Active)
    );
    assert_eq!(ledger.sweeps, 1);
}

#[test]
fn a_ledger_reads_back_as_written_and_anything_else_is_refused_as_unreadable() {
    let mut ledger = Ledger::empty();
    ledger.accounts.insert(id(1), audited(Found::Clean, 1));
    ledger.reserve("r", [&id(1)], now());
    assert_eq!(decode(&encode(&ledger)), Ok(ledger.clone()));
    assert!(matches!(decode(b"not gzip"), Err(LedgerError::Corrupt(_))));
    let truncated = &encode(&ledger)[..20];
    assert!(matches!(decode(truncated), Err(LedgerError::Corrupt(_))));
    let future = Ledger {
        format: 2,
        ..ledger
    };
    let err = decode(&encode(&future)).unwrap_err();
    assert!(err.to_string().contains("format 2"), "{err}");
}

#[test]
fn a_run_out_of_time_for_its_tag_reads_says_whether_thirty_nights_can_read_them_all() {
    // 3,001 accounts the runs do not skip, one they do.
    let mut ledger = Ledger::empty();
    for n in 1..=3_001 {
        ledger.accounts.insert(id(n), audited(Found::Clean, 1));
    }
    let mut skipped = audited(Found::Clean, 1);
    skipped.outcome = OutcomeKind::Skipped;
    ledger.accounts.insert(id(9_999), skipped);
    // 100 reads a run: 31 runs, more than the 30 days a read is trusted.
    let slow = Coverage::of(&ledger, true, Some(TagPace::Alone { read: 100 }), now());
    assert_eq!(slow.runs_to_read_all_tags, Some(31));
    assert!(
        slow.to_string()
            .contains("take 31 runs to read, more than the 30 days a read is trusted: the organization cannot converge, set a longer function Timeout"),
        "{slow}"
    );
    // 101 reads a run: 30 runs, within them.
    let enough = Coverage::of(&ledger, true, Some(TagPace::Alone { read: 101 }), now());
    assert_eq!(enough.runs_to_read_all_tags, Some(30));
    assert!(
        enough
            .to_string()
            .contains("every account's tags are read in 30 runs")
    );
    assert!(!enough.to_string().contains("Timeout"));
    // A run that read every tag it wanted to, or one without a tag rule, says nothing of a pace.
    assert_eq!(
        Coverage::of(&ledger, true, None, now()).runs_to_read_all_tags,
        None
    );
    assert_eq!(
        Coverage::of(&ledger, false, Some(TagPace::Alone { read: 100 }), now())
            .runs_to_read_all_tags,
        None
    );
}

#[test]
fn a_night_out_of_time_counts_the_tags_the_nights_over_its_listing_read_in_the_listings_place() {
    // The bench's 10,000 accounts at a 100 s timeout: a night that lists them (500 calls) reads
    // 194 tags, the two nights over its listing 694 each: 527 a night, 19 nights for all.
    let mut ledger = Ledger::empty();
    for n in 1..=10_000 {
        ledger.accounts.insert(id(n), audited(Found::Clean, 1));
    }
    let runs = |pace| Coverage::of(&ledger, true, Some(pace), now()).runs_to_read_all_tags;
    let listed = TagPace::Listed {
        read: 194,
        accounts: 10_000,
    };
    let reused = TagPace::Reused {
        read: 694,
        accounts: 10_000,
    };
    assert_eq!(listed.per_run(), 527);
    assert_eq!(reused.per_run(), 527);
    assert_eq!(runs(listed), Some(19));
    assert_eq!(runs(reused), Some(19));
    // Taken alone, the listing night's pace would say the organization cannot converge.
    assert_eq!(runs(TagPace::Alone { read: 194 }), Some(52));
    let converges = Coverage::of(&ledger, true, Some(listed), now()).to_string();
    assert!(converges.contains("read in 19 runs"), "{converges}");
    assert!(!converges.contains("cannot converge"), "{converges}");
}

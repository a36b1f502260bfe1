//! The run ledger's promises, on in-memory fakes: the cap holds over 24 hours whichever runs
//! spend it, two runs never both spend it, a ledger that cannot be read or written deletes
//! nothing, a first run creates it, and an exemption tag added since the last read stops the
//! deletion.

use chrono::TimeDelta;
use rootsweep::Config;
use rootsweep::credentials::TaskPolicy;
use rootsweep::event::{RunRequest, Scope};
use rootsweep::ledger::store::{decode, encode};
use rootsweep::ledger::{Audit, Found, Ledger, LedgerState, Memory, TagRead};
use rootsweep::outcome::{Outcome, OutcomeKind};
use rootsweep::ports::AwsErrorKind;
use rootsweep::reasons::{ExemptRule, HoldReason, Note};
use rootsweep::report::Report;
use rootsweep_testkit::capture;
use rootsweep_testkit::fake::{FakeAws, FaultBuilder as Fault, member};
use rootsweep_testkit::{ReportExt, days_ago, enforcing_with, hours_ago, id};

const STATE: (&str, &str) = ("ROOTSWEEP_STATE", "s3://rootsweep-state/rootsweep");

fn with_ledger(extra: &[(&str, &str)]) -> Config {
    enforcing_with(&[&[STATE], extra].concat())
}

/// A run over the accounts `ids`, as a follow-up or a hand invocation makes it.
async fn named(aws: &FakeAws, config: Config, ids: &[u64]) -> Report {
    let request = RunRequest {
        mode: config.mode,
        scope: Scope::Accounts(ids.iter().map(|n| id(*n)).collect()),
        follow_up: Some(1),
    };
    let engine = aws.engine(config);
    capture::run(&engine, &request, capture::options())
        .await
        .report()
        .clone()
}

async fn sweep(aws: &FakeAws, config: Config) -> Report {
    let request = RunRequest::scheduled(config.mode);
    capture::run(&aws.engine(config), &request, capture::options())
        .await
        .report()
        .clone()
}

/// The ledger as the fake's S3 holds it.
fn stored(aws: &FakeAws) -> Ledger {
    let world = aws.world();
    decode(&world.state.as_ref().expect("a ledger was written").body).expect("readable")
}

/// Accounts each holding a password recovered 73 h ago: due, under a 72 h grace.
fn recovered(ids: impl IntoIterator<Item = u64>) -> FakeAws {
    FakeAws::new().with_all(
        ids.into_iter()
            .map(|n| member(n).password(Some(hours_ago(73)))),
    )
}

#[tokio::test]
async fn a_first_run_creates_the_ledger_and_says_so() {
    let aws = FakeAws::new().with_all((1..=3).map(member));
    let report = sweep(&aws, with_ledger(&[])).await;
    let ledger = report.summary.ledger.clone().expect("a ledger summary");
    assert_eq!(ledger.state, LedgerState::Created);
    assert_eq!(
        ledger.location.as_deref(),
        Some("s3://rootsweep-state/rootsweep/ledger.json.gz")
    );
    let coverage = ledger.coverage.expect("coverage");
    assert_eq!((coverage.accounts, coverage.never_audited), (3, 0));
    assert_eq!(coverage.audited_within_sweeps, Some(1));
    let stored = stored(&aws);
    assert_eq!(stored.sweeps, 1);
    assert_eq!(stored.accounts.len(), 3);
    let again = sweep(&aws, with_ledger(&[])).await;
    assert_eq!(again.summary.ledger.unwrap().state, LedgerState::Updated);
    assert_eq!(aws.world().state_writes, 2);
}

#[tokio::test]
async fn thirty_recoveries_followed_up_one_by_one_under_a_cap_of_ten_remediate_ten() {
    let aws = recovered(1..=30);
    let config = || with_ledger(&[("ROOTSWEEP_MAX_REMEDIATIONS", "10")]);
    let mut held = Vec::new();
    for n in 1..=30 {
        let report = named(&aws, config(), &[n]).await;
        match report.outcome_of(&id(n)) {
            Outcome::Remediated { .. } => {}
            Outcome::Due {
                held: Some(HoldReason::OverCap { spent, cap, .. }),
                ..
            } => {
                assert_eq!((*spent, *cap), (10, 10));
                assert!(report.summary.over_remediation_cap);
                assert_eq!(report.summary.attention.len(), 1, "named for the operator");
                held.push(n);
            }
            other => panic!("account {n}: {other:?}"),
        }
    }
    assert_eq!(aws.sessions(TaskPolicy::Delete).len(), 10);
    assert_eq!(held.len(), 20);
    let held_by_run = aws.metric_by_run("RemediationCapExceeded");
    assert_eq!(held_by_run.len(), 30);
    assert_eq!(
        held_by_run.iter().sum::<f64>(),
        20.0,
        "each hold alarmed on"
    );
    assert_eq!(stored(&aws).spent(chrono::Utc::now()), 10);
    // The nightly sweep the same day sees the twenty, over what is left of the cap: it holds.
    let nightly = sweep(&aws, config()).await;
    assert_eq!(nightly.summary.count(OutcomeKind::Due), 20);
    assert_eq!(aws.sessions(TaskPolicy::Delete).len(), 10);
}

#[tokio::test]
async fn what_was_remediated_a_day_ago_no_longer_counts() {
    let aws = recovered([1]);
    let mut ledger = Ledger::empty();
    ledger.reserve(
        "yesterday",
        (2..=11).map(id).collect::<Vec<_>>().iter(),
        days_ago(1),
    );
    aws.world().write_state(encode(&ledger));
    let report = named(
        &aws,
        with_ledger(&[("ROOTSWEEP_MAX_REMEDIATIONS", "10")]),
        &[1],
    )
    .await;
    assert_eq!(report.kind_of(&id(1)), OutcomeKind::Remediated);
}

#[tokio::test]
async fn two_runs_spending_the_cap_at_once_never_both_spend_it() {
    // Another run reserves two accounts between this run's read of the ledger and its write.
    let aws = recovered([1, 2]).before(
        |call| call.operation == "s3:PutObject",
        |world| {
            let mut theirs = decode(&world.state.as_ref().unwrap().body).unwrap();
            theirs.reserve("the-other-run", [&id(8), &id(9)], chrono::Utc::now());
            world.write_state(encode(&theirs));
        },
    );
    // A ledger exists already, so that both runs start from the same version.
    aws.world().write_state(encode(&Ledger::empty()));
    let report = named(
        &aws,
        with_ledger(&[("ROOTSWEEP_MAX_REMEDIATIONS", "3")]),
        &[1, 2],
    )
    .await;
    for n in [1, 2] {
        assert!(
            matches!(
                report.outcome_of(&id(n)),
                Outcome::Due {
                    held: Some(HoldReason::OverCap {
                        spent: 2,
                        due: 2,
                        ..
                    }),
                    ..
                }
            ),
            "{:?}",
            report.outcome_of(&id(n))
        );
    }
    assert!(aws.sessions(TaskPolicy::Delete).is_empty());
    let spent: Vec<String> = stored(&aws)
        .spent
        .iter()
        .map(|s| s.run_id.clone())
        .collect();
    assert_eq!(
        spent,
        ["the-other-run", "the-other-run"],
        "only the winner's"
    );
}

#[tokio::test]
async fn a_run_that_loses_the_race_with_room_left_reads_again_and_remediates() {
    let aws = recovered([1]).before(
        |call| call.operation == "s3:PutObject",
        |world| {
            let mut theirs = decode(&world.state.as_ref().unwrap().body).unwrap();
            theirs.reserve("the-other-run", [&id(9)], chrono::Utc::now());
            world.write_state(encode(&theirs));
        },
    );
    aws.world().write_state(encode(&Ledger::empty()));
    let report = named(
        &aws,
        with_ledger(&[("ROOTSWEEP_MAX_REMEDIATIONS", "2")]),
        &[1],
    )
    .await;
    assert_eq!(report.kind_of(&id(1)), OutcomeKind::Remediated);
    let ledger = stored(&aws);
    assert_eq!(ledger.spent(chrono::Utc::now()), 2, "theirs and ours");
    assert_eq!(
        aws.count("s3:PutObject"),
        3,
        "lost once, reserved, recorded"
    );
}

#[tokio::test]
async fn a_corrupt_or_unreadable_ledger_deletes_nothing_and_is_left_as_it_was() {
    for unreadable in [
        Some(b"not a ledger".to_vec()),
        None, // denied
    ] {
        let mut aws = recovered([1]);
        match &unreadable {
            Some(garbage) => {
                aws.world().write_state(garbage.clone());
            }
            None => aws = aws.fault(Fault::error("s3:GetObject", AwsErrorKind::AccessDenied)),
        }
        let report = sweep(&aws, with_ledger(&[])).await;
        let Outcome::Due {
            held: Some(HoldReason::LedgerUnreadable(why)),
            ..
        } = report.outcome_of(&id(1))
        else {
            panic!("{:?}", report.outcome_of(&id(1)));
        };
        assert!(why.contains("run ledger"), "{why}");
        assert!(aws.sessions(TaskPolicy::Delete).is_empty());
        let ledger = report.summary.ledger.unwrap();
        assert_eq!(ledger.state, LedgerState::Unreadable);
        assert!(report.summary.remediation_held.is_some());
        assert_eq!(aws.count("s3:PutObject"), 0, "never overwritten");
        assert_eq!(aws.metric("LedgerFailed"), Some(1.0));
        if let Some(garbage) = unreadable {
            assert_eq!(aws.world().state.as_ref().unwrap().body, garbage);
        }
    }
}

#[tokio::test]
async fn a_ledger_that_cannot_be_written_deletes_nothing() {
    let aws = recovered([1]).fault(Fault::error("s3:PutObject", AwsErrorKind::AccessDenied));
    let report = sweep(&aws, with_ledger(&[])).await;
    assert!(matches!(
        report.outcome_of(&id(1)),
        Outcome::Due {
            held: Some(HoldReason::LedgerUnwritable(_)),
            ..
        }
    ));
    assert!(aws.sessions(TaskPolicy::Delete).is_empty());
    assert_eq!(
        report.summary.ledger.unwrap().state,
        LedgerState::NotWritten
    );
}

#[tokio::test]
async fn without_a_ledger_an_enforcing_run_says_what_it_cannot_promise() {
    let aws = recovered([1]);
    let report = sweep(&aws, enforcing_with(&[])).await;
    assert_eq!(report.kind_of(&id(1)), OutcomeKind::Remediated);
    let ledger = report.summary.ledger.unwrap();
    assert_eq!(ledger.state, LedgerState::None);
    assert!(
        ledger.detail.unwrap().contains("holds for this run only"),
        "the summary says the cap is per run"
    );
    assert_eq!(aws.metric("LedgerFailed"), None);
}

/// The ledger of an organization audited yesterday: `due` found due, the others clean.
fn audited_yesterday(accounts: impl IntoIterator<Item = u64>, due: &[u64]) -> Ledger {
    let mut ledger = Ledger::empty();
    for n in accounts {
        let at = days_ago(1);
        let found = match due.contains(&n) {
            true => Found::Due { due_at: at },
            false => Found::Clean,
        };
        let memory = Memory {
            listed: None,
            outcome: OutcomeKind::Clean,
            seen_at: at,
            audit: Some(Audit {
                at,
                sweep: 1,
                found,
            }),
            tags: None,
        };
        ledger.accounts.insert(id(n), memory);
    }
    ledger
}

#[tokio::test]
async fn a_run_over_named_accounts_counts_what_the_ledger_knows_of_the_others() {
    let config = || with_ledger(&[("ROOTSWEEP_MAX_REMEDIATIONS", "3")]);
    // Yesterday's sweep found three other accounts due: with this one, over the cap of 3.
    let aws = recovered([1]);
    aws.world()
        .write_state(encode(&audited_yesterday(2..=20, &[2, 3, 4])));
    let report = named(&aws, config(), &[1]).await;
    assert!(matches!(
        report.outcome_of(&id(1)),
        Outcome::Due {
            held: Some(HoldReason::OverCap { elsewhere: 3, .. }),
            ..
        }
    ));
    // Found clean yesterday, the others vouch for themselves.
    let aws = recovered([1]);
    aws.world()
        .write_state(encode(&audited_yesterday(2..=20, &[])));
    let report = named(&aws, config(), &[1]).await;
    assert_eq!(report.kind_of(&id(1)), OutcomeKind::Remediated);
}

const EXEMPT_TAG: [(&str, &str); 2] = [
    ("ROOTSWEEP_EXEMPT_TAG_KEY", "break-glass"),
    ("ROOTSWEEP_EXEMPT_TAG_VALUE", "true"),
];

/// A ledger whose only account's tags were read `ago`, without the exemption tag.
fn tags_read(ago: TimeDelta) -> Ledger {
    let mut ledger = audited_yesterday([1], &[]);
    let memory = ledger.accounts.get_mut(&id(1)).unwrap();
    memory.tags = Some(TagRead {
        at: chrono::Utc::now() - ago,
        exempt: false,
    });
    ledger
}

#[tokio::test]
async fn an_exemption_tag_added_since_the_last_read_stops_the_deletion() {
    // Its tags were read yesterday, untagged; it has been tagged since.
    let aws = FakeAws::new().with(
        member(1)
            .password(Some(hours_ago(73)))
            .tag("break-glass", "true"),
    );
    aws.world()
        .write_state(encode(&tags_read(TimeDelta::days(1))));
    let report = sweep(&aws, with_ledger(&EXEMPT_TAG)).await;
    let account = report.account(&id(1));
    assert_eq!(
        account.outcome,
        Outcome::Exempt(ExemptRule::Tag(
            rootsweep::config::TagRule::parse(Some("break-glass".into()), Some("true".into()))
                .unwrap()
                .unwrap()
        ))
    );
    assert!(account.notes.contains(&Note::ExemptBeforeDeletion));
    // The audit went by yesterday's read; the deletion did not.
    assert_eq!(aws.sessions(TaskPolicy::Audit), [id(1)]);
    assert!(aws.sessions(TaskPolicy::Delete).is_empty());
    let memory = &stored(&aws).accounts[&id(1)];
    assert!(
        memory.tags.unwrap().exempt,
        "remembered for the next audits"
    );
    assert_eq!(memory.outcome, OutcomeKind::Exempt);
    // Read a month ago, the tags are read again before the audit: no root session at all.
    let aws = FakeAws::new().with(
        member(1)
            .password(Some(hours_ago(73)))
            .tag("break-glass", "true"),
    );
    aws.world()
        .write_state(encode(&tags_read(TimeDelta::days(31))));
    let report = sweep(&aws, with_ledger(&EXEMPT_TAG)).await;
    assert_eq!(report.kind_of(&id(1)), OutcomeKind::Exempt);
    assert!(aws.sessions(TaskPolicy::Audit).is_empty());
}

#[tokio::test]
async fn tags_read_in_the_same_run_are_not_read_again_before_deleting() {
    let aws = recovered([1]);
    let report = sweep(&aws, with_ledger(&EXEMPT_TAG)).await;
    assert_eq!(report.kind_of(&id(1)), OutcomeKind::Remediated);
    assert_eq!(aws.count("organizations:ListTagsForResource"), 1);
}

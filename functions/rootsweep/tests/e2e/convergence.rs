//! An organization too large for one run, night after night, with the run ledger: a tag rule
//! whose reads Organizations serves one at a time at 20 a second, and runs too short to read
//! every account's tags. Each run resumes where the last stopped; once every account is known,
//! the due ones are remediated, and no tag-exempt account ever gets a root session.

use std::collections::BTreeSet;
use std::time::Duration;

use rootsweep::budget::Budget;
use rootsweep::config::Mode;
use rootsweep::event::RunRequest;
use rootsweep::ledger::LedgerState;
use rootsweep::outcome::{Outcome, OutcomeKind};
use rootsweep::reasons::NotReachedReason;
use rootsweep::{Report, RunOptions};
use rootsweep_emulator::{Org, OrganizationsLimits, Throttling, TokenBucket};
use rootsweep_testkit::emulator::{Exemption, Harness, Timeouts, assume_root_targets, config};
use rootsweep_testkit::oracle::{credentials_of, due};
use tokio::time::Instant;

const BUCKET: &str = "rootsweep-state";
/// Nights after which the test gives up: far more than the three or four the organization below
/// takes on an idle machine, so that a loaded one only makes the test longer. What a night does
/// must not depend on the machine: each one must leave fewer accounts never audited.
const MOST_NIGHTS: usize = 30;

fn organizations_one_at_a_time_at(rate: f64) -> Throttling {
    Throttling {
        organizations: Some(OrganizationsLimits {
            max_concurrent: Some(1),
            rate: Some(TokenBucket::new(rate, 1)),
        }),
        ..Throttling::default()
    }
}

/// The emulator on `org`, with the ledger's bucket and Organizations one call at a time at 20 a
/// second.
async fn start(org: Org) -> Harness {
    Harness::start_with(org, Timeouts::Production, |e| {
        e.bucket(BUCKET)
            .throttling(organizations_one_at_a_time_at(20.0))
    })
    .await
}

#[tokio::test]
async fn a_sweep_too_large_for_one_run_converges_and_never_opens_an_exempt_account() {
    // 184 accounts: three due, three in grace, eight tag-exempt with due passwords.
    let org = Org::steady_state(184, 29, 3, 3);
    let harness = start(org.clone()).await;
    let exempt: BTreeSet<String> = org
        .accounts
        .iter()
        .filter(|a| Exemption::Tag.covers(&org, a))
        .map(|a| a.id.clone())
        .collect();
    let wanted = due(&org, Exemption::Tag);
    assert_eq!((exempt.len(), wanted.len()), (8, 3));
    let state = format!("s3://{BUCKET}/rootsweep");
    let mut nights = Vec::new();
    let mut never_audited = usize::MAX;
    for night in 1..=MOST_NIGHTS {
        let report = one_night(&harness, &state, night).await;
        let opened = assume_root_targets(&harness.calls());
        assert!(
            opened.is_disjoint(&exempt),
            "night {night}: a root session in a tag-exempt account"
        );
        let ledger = report.summary.ledger.clone().expect("a ledger summary");
        assert!(matches!(
            ledger.state,
            LedgerState::Created | LedgerState::Updated
        ));
        let remediated = report.summary.count(OutcomeKind::Remediated);
        let coverage = ledger.coverage.expect("coverage");
        eprintln!(
            "convergence: night {night}: {} accounts audited this run, {remediated} remediated; {coverage}",
            report.summary.accounts_scanned
        );
        // Each night resumes where the last one stopped.
        assert!(
            coverage.never_audited < never_audited || coverage.never_audited == 0,
            "night {night}: no progress, {} never audited",
            coverage.never_audited
        );
        never_audited = coverage.never_audited;
        // Nothing is remediated while the accounts the run could not vouch for, with the due
        // ones, could be more than the cap (25 by default). Not every account a night does not
        // reach is unknown: the ledger vouches for those audited within the week (a loaded
        // machine reaches fewer each night), so the count is the ledger's.
        if remediated > 0 {
            let unvouched = coverage.unknown;
            assert!(
                remediated + unvouched <= 25,
                "night {night}: {unvouched} unknown"
            );
        }
        nights.push(remediated);
        let now = harness.state();
        if wanted
            .iter()
            .all(|id| credentials_of(&now.account(id).unwrap().root_user).is_empty())
        {
            break;
        }
    }
    let after = harness.state();
    for id in &wanted {
        let left = credentials_of(&after.account(id).unwrap().root_user);
        assert!(
            left.is_empty(),
            "{id} still holds {left:?} after {nights:?}"
        );
    }
    assert!(nights.len() > 1, "the org was too large for one run");
    for id in &exempt {
        assert_eq!(after.account(id), org.account(id), "{id} untouched");
    }
    harness.shutdown().await;
}

#[tokio::test]
async fn tags_a_night_had_no_time_to_plan_with_are_read_for_the_next_nights() {
    // 184 accounts' tags take 9.2 s at 20 reads a second: more than the night's 3.75 s of
    // planning. What planning leaves unread is read until the night must stop starting work.
    let org = Org::steady_state(184, 29, 3, 3);
    let harness = start(org).await;
    let report = one_night(&harness, &format!("s3://{BUCKET}/rootsweep"), 1).await;
    let not_read = report
        .accounts
        .iter()
        .filter(|a| a.outcome == Outcome::NotReached(NotReachedReason::TagsNotRead))
        .count();
    assert!(not_read > 0, "the night had time to read every tag");
    let coverage = report.summary.ledger.clone().unwrap().coverage.unwrap();
    let never_read = coverage.tags_never_read.unwrap();
    assert!(
        never_read < not_read,
        "{not_read} accounts not audited for want of their tags, and {never_read} still never read: none was read for the next nights"
    );
    // The night ran out of time before its reads did, so the summary says its pace.
    let runs = coverage
        .runs_to_read_all_tags
        .expect("the pace of a night out of time");
    assert!(runs > 1, "{runs} run(s) to read tags one night could not");
    harness.shutdown().await;
}

#[tokio::test]
async fn a_night_waiting_for_tags_takes_the_accounts_from_the_last_listing_for_three_days() {
    let org = Org::steady_state(184, 29, 3, 3);
    let harness = start(org).await;
    let state = format!("s3://{BUCKET}/rootsweep");
    let listings = |calls: &[rootsweep_emulator::CallRecord]| {
        calls
            .iter()
            .filter(|c| c.operation == "ListAccounts")
            .count()
    };
    let first = one_night(&harness, &state, 1).await;
    assert!(listings(&harness.calls()) > 0);
    assert_eq!(first.summary.listing_reused_from, None);
    let waiting = first
        .accounts
        .iter()
        .filter(|a| a.outcome == Outcome::NotReached(NotReachedReason::TagsNotRead))
        .count();
    assert!(waiting > 0, "the night had time to read every tag");
    // An account joins after the first night's listing.
    let newcomer = "700000000001";
    harness.emulator.edit_org(|org| {
        let mut joined = org.accounts[1].clone();
        joined.id = newcomer.into();
        joined.name = "newcomer".into();
        org.accounts.push(joined);
    });
    let calls_before = harness.calls().len();
    let second = one_night(&harness, &state, 2).await;
    assert_eq!(
        listings(&harness.calls()[calls_before..]),
        0,
        "listed again"
    );
    let listed_at = second
        .summary
        .listing_reused_from
        .expect("the listing reused");
    assert!(listed_at <= first.summary.started_at + chrono::TimeDelta::seconds(1));
    assert!(second.summary.complete);
    let ids = |report: &Report| -> BTreeSet<String> {
        report
            .accounts
            .iter()
            .map(|a| a.account_id.to_string())
            .collect()
    };
    assert_eq!(ids(&second), ids(&first), "the first night's accounts");
    let named = second
        .accounts
        .iter()
        .find(|a| a.account_id == first.accounts[0].account_id);
    assert_eq!(
        named.map(|a| (&a.account_name, &a.account_state)),
        Some((
            &first.accounts[0].account_name,
            &first.accounts[0].account_state
        ))
    );
    // Three days and a minute later, the next night lists again and meets the newcomer.
    age_the_listing(
        &harness,
        chrono::TimeDelta::days(3) + chrono::TimeDelta::minutes(1),
    )
    .await;
    let calls_before = harness.calls().len();
    let third = one_night(&harness, &state, 3).await;
    assert!(listings(&harness.calls()[calls_before..]) > 0, "not listed");
    assert_eq!(third.summary.listing_reused_from, None);
    assert!(ids(&third).contains(newcomer));
    harness.shutdown().await;
}

/// Moves the ledger's last complete listing `by` into the past, as the days passing would.
async fn age_the_listing(harness: &Harness, by: chrono::TimeDelta) {
    use rootsweep::ledger::store::{decode, encode};
    let s3 = aws_sdk_s3::Client::new(harness.sdk());
    let key = "rootsweep/ledger.json.gz";
    let object = s3
        .get_object()
        .bucket(BUCKET)
        .key(key)
        .send()
        .await
        .unwrap();
    let bytes = object.body.collect().await.unwrap().into_bytes();
    let mut ledger = decode(&bytes).expect("a readable ledger");
    ledger.listed_at = ledger.listed_at.map(|at| at - by);
    let body = aws_sdk_s3::primitives::ByteStream::from(encode(&ledger));
    s3.put_object()
        .bucket(BUCKET)
        .key(key)
        .body(body)
        .send()
        .await
        .unwrap();
}

/// One nightly run with 5 s to start work in (3.75 s of it to plan): far too short to read the
/// tags of every account at Organizations' pace.
async fn one_night(harness: &Harness, state: &str, night: usize) -> Report {
    let config = config(
        Mode::Enforce,
        Exemption::Tag,
        &harness.initial,
        &[("ROOTSWEEP_STATE", state)],
    );
    let options = RunOptions {
        run_id: format!("night-{night}"),
        deadline: Some(
            Instant::now() + Budget::STOP_STARTING_BEFORE_DEADLINE + Duration::from_secs(5),
        ),
        ..rootsweep_testkit::capture::options()
    };
    let run = harness
        .run_with(
            &harness.engine(config),
            &RunRequest::scheduled(Mode::Enforce),
            options,
        )
        .await;
    run.report().clone()
}

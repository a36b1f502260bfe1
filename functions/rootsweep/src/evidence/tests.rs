use std::collections::BTreeMap;
use std::sync::Mutex;

use futures::FutureExt;

use super::*;
use crate::account::AccountState;
use crate::archive::{body, key};
use crate::config::Mode;
use crate::outcome::AccountReport;
use crate::outcome::{Failure, Outcome, Stage};
use crate::ports::{AwsErrorKind, Call};
use crate::reasons::{Cause, ExemptRule};
use crate::report::RunFacts;
use crate::report::RunSummary;

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn account(n: u64, outcome: Outcome, finished: &str) -> AccountReport {
    let mut report = AccountReport::new(
        format!("{n:012}").parse().unwrap(),
        format!("acct-{n}"),
        Some(AccountState::Active),
        outcome,
    );
    report.finished_at = at(finished);
    report
}

/// A run's archive object, made by the archive's own writer.
fn run(id: &str, started: &str, whole: bool, accounts: &[AccountReport]) -> Vec<u8> {
    summarized(id, started, whole, None, accounts)
}

/// [`run`], over the accounts of the listing made at `reused` when given.
fn summarized(
    id: &str,
    started: &str,
    whole: bool,
    reused: Option<&str>,
    accounts: &[AccountReport],
) -> Vec<u8> {
    let facts = RunFacts {
        run_id: id.into(),
        mode: Mode::Enforce,
        grace: crate::config::GracePeriod::parse("72h").unwrap(),
        started_at: at(started),
        duration_seconds: 1.0,
        whole_organization: whole,
        listing_error: None,
        listing_reused_from: reused.map(at),
        held: None,
        audit_order_seed: 1,
    };
    body(accounts, &RunSummary::new(facts, accounts)).unwrap()
}

fn denied(stage: Stage) -> Failure {
    let error = AwsError::new("iam:DeleteLoginProfile", AwsErrorKind::AccessDenied, "SCP");
    Failure::new(stage, Cause::Aws(error))
}

#[test]
fn an_account_denied_deletion_three_nights_is_counted_past_grace_each_night() {
    let due_at = at("2026-11-01T02:00:00Z");
    let nights = [
        // Found due, its deletion denied; then denied again at verify; then the audit
        // itself denied: its credentials were last seen past grace, so it still counts.
        Outcome::Failed(denied(Stage::Remove).after_due(Some(due_at))),
        Outcome::Failed(denied(Stage::Verify).after_due(Some(due_at))),
        Outcome::Failed(denied(Stage::AssumeRootAudit)),
    ];
    let mut reader = Reader::default();
    for (night, outcome) in nights.into_iter().enumerate() {
        let day = 1 + night;
        let finished = format!("2026-11-{day:02}T03:00:00Z");
        let exempt = Outcome::Exempt(ExemptRule::ListedAccount);
        let accounts = [
            account(1, outcome, &finished),
            account(2, Outcome::Clean, &finished),
            account(3, exempt, &finished),
        ];
        let started = format!("2026-11-{day:02}T02:59:00Z");
        let object = run(&format!("night-{day}"), &started, true, &accounts);
        reader.object("k", &object).unwrap();
    }
    let evidence = reader.finish(NaiveDate::from_ymd_opt(2026, 11, 1).unwrap());
    let first = &evidence.accounts[0];
    assert_eq!(first.account_id, "000000000001");
    assert_eq!(first.runs_past_grace, 3);
    assert_eq!(first.longest_past_grace_seconds, 2 * 86_400 + 3600);
    assert_eq!(first.worst_run.as_deref(), Some("night-3"));
    assert!(first.past_grace_at_end);
    assert_eq!(first.last_outcome, "failed");
    let counts: Vec<usize> = evidence
        .run_list
        .iter()
        .map(|r| r.accounts_past_grace)
        .collect();
    assert_eq!(counts, [1, 1, 1]);
    assert_eq!((evidence.runs, evidence.accounts_audited), (3, 2));
    assert_eq!(evidence.exemptions.len(), 1);
    assert_eq!(evidence.exemptions[0].account_id, "000000000003");
    let others: Vec<(usize, i64)> = evidence.accounts[1..]
        .iter()
        .map(|a| (a.runs_past_grace, a.longest_past_grace_seconds))
        .collect();
    assert_eq!(others, [(0, 0), (0, 0)]);
}

#[test]
fn exposure_ends_when_the_credentials_are_gone_or_back_in_grace() {
    let due_at = at("2026-11-01T00:00:00Z");
    let lines = [
        (
            "r1",
            Outcome::Due { due_at, held: None },
            "2026-11-01T06:00:00Z",
        ),
        ("r2", Outcome::Remediated { due_at }, "2026-11-02T00:00:00Z"),
        // Not checked after it was remediated: nothing is carried over.
        (
            "r3",
            Outcome::Failed(denied(Stage::AssumeRootAudit)),
            "2026-11-03T00:00:00Z",
        ),
    ];
    let mut reader = Reader::default();
    for (id, outcome, finished) in lines {
        let object = run(id, finished, false, &[account(7, outcome, finished)]);
        reader.object(id, &object).unwrap();
    }
    let evidence = reader.finish(NaiveDate::from_ymd_opt(2026, 11, 1).unwrap());
    let a = &evidence.accounts[0];
    assert_eq!((a.runs, a.runs_past_grace), (3, 2));
    assert_eq!(a.longest_past_grace_seconds, 86_400);
    assert_eq!(a.worst_run.as_deref(), Some("r2"));
    assert!(!a.past_grace_at_end);
    assert!(evidence.exemptions.is_empty(), "no whole-organization run");
}

#[test]
fn a_cut_short_object_is_an_incomplete_run_and_garbage_is_refused() {
    let mut reader = Reader::default();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, b"{\"kind\":\"account_report\",\"run_id\":\"cut\",\"account_id\":\"1\",\"outcome\":\"clean\"}\n").unwrap();
    reader.object("cut", &gz.finish().unwrap()).unwrap();
    assert!(matches!(
        reader.object("bad", b"not gzip"),
        Err(EvidenceError::Unreadable { .. })
    ));
    let evidence = reader.finish(NaiveDate::from_ymd_opt(2026, 11, 1).unwrap());
    assert_eq!(evidence.incomplete_runs[0], "cut");
}

/// Objects in memory, listed in key order as S3 lists them.
#[derive(Default)]
struct Objects(Mutex<BTreeMap<String, Vec<u8>>>);

impl Archive for Objects {
    fn put<'a>(&'a self, key: &'a str, body: Vec<u8>) -> Call<'a, ()> {
        self.0.lock().unwrap().insert(key.to_owned(), body);
        async { Ok(()) }.boxed()
    }
    fn list<'a>(&'a self, prefix: &'a str, after: Option<&'a str>) -> Call<'a, Vec<String>> {
        let objects = self.0.lock().unwrap();
        let keys = objects
            .keys()
            .filter(|k| k.starts_with(prefix) && after.is_none_or(|a| k.as_str() > a))
            .cloned()
            .collect();
        async { Ok(keys) }.boxed()
    }
    fn get<'a>(&'a self, key: &'a str) -> Call<'a, Vec<u8>> {
        let body = self.0.lock().unwrap()[key].clone();
        async { Ok(body) }.boxed()
    }
}

#[tokio::test]
async fn since_reads_exactly_from_that_day_in_the_order_the_runs_started() {
    let location = ArchiveLocation::parse("X", "s3://bucket/evidence").unwrap();
    let store = Objects::default();
    let runs = [
        ("before", "2026-10-31T23:59:59Z"),
        ("late", "2026-11-01T23:00:00Z"),
        ("early", "2026-11-01T00:00:00Z"),
        ("next-day", "2026-11-02T01:00:00Z"),
    ];
    for (id, started) in runs {
        let object = run(id, started, true, &[account(1, Outcome::Clean, started)]);
        store
            .put(&key(&location, at(started), id), object)
            .await
            .unwrap();
    }
    let since = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    let evidence = read(&store, &location, since).await.unwrap();
    let ids: Vec<&str> = evidence
        .run_list
        .iter()
        .map(|r| r.run_id.as_str())
        .collect();
    assert_eq!(ids, ["early", "late", "next-day"]);
}

#[test]
fn keys_are_partitioned_by_date_and_sort_by_start_time() {
    let at_ = ArchiveLocation::parse("X", "s3://bucket/evidence").unwrap();
    assert_eq!(
        key(&at_, at("2026-12-02T03:00:00.5Z"), "abc"),
        "evidence/runs/date=2026-12-02/030000.500Z-abc.jsonl.gz"
    );
}

#[test]
fn a_run_over_the_last_listing_is_complete_and_says_when_that_listing_was_made() {
    let mut reader = Reader::default();
    let listed = "2026-11-01T02:59:00Z";
    let clean = |finished| [account(1, Outcome::Clean, finished)];
    let first = summarized(
        "night-1",
        listed,
        true,
        None,
        &clean("2026-11-01T03:00:00Z"),
    );
    let second = summarized(
        "night-2",
        "2026-11-02T02:59:00Z",
        true,
        Some(listed),
        &clean("2026-11-02T03:00:00Z"),
    );
    reader.object("k1", &first).unwrap();
    reader.object("k2", &second).unwrap();
    let evidence = reader.finish(NaiveDate::from_ymd_opt(2026, 11, 1).unwrap());
    let runs: Vec<(&str, bool, Option<DateTime<Utc>>)> = evidence
        .run_list
        .iter()
        .map(|r| (r.run_id.as_str(), r.complete, r.listing_reused_from))
        .collect();
    assert_eq!(
        runs,
        [("night-1", true, None), ("night-2", true, Some(at(listed)))]
    );
    assert!(evidence.incomplete_runs.is_empty());
}

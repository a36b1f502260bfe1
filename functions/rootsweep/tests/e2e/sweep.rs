//! Whole runs over a generated organization, checked against the emulator's own state: audit
//! changes nothing, enforce deletes exactly the due credentials, a second run has nothing left
//! to do, and a direct invocation narrows the run.

use std::collections::BTreeSet;
use std::time::Duration;

use rootsweep::config::Mode;
use rootsweep::credentials::CredentialKind;
use rootsweep::event::RunRequest;
use rootsweep::lambda;
use rootsweep::outcome::OutcomeKind;
use rootsweep_emulator::Org;
use rootsweep_testkit::capture::lambda_event;
use rootsweep_testkit::emulator::{
    EVERY_SCENARIO, EVERY_SCENARIO_TWICE, Exemption, Harness, Timeouts, assume_root_targets,
    config, delete_calls,
};
use rootsweep_testkit::oracle::{
    Expected, check_deletions, check_report, credentials_of, deletions, due, expected,
    held_by_odd_dates, named,
};
use serde_json::json;

const PLENTY: Duration = Duration::from_secs(900);

fn all_ids(org: &Org) -> BTreeSet<String> {
    org.accounts.iter().map(|a| a.id.clone()).collect()
}

/// Each account's reported outcome, by id.
fn outcomes(report: &rootsweep::Report) -> Vec<(String, &'static str)> {
    report
        .accounts
        .iter()
        .map(|a| (a.account_id.to_string(), a.outcome.kind().as_str()))
        .collect()
}

fn expected_outcomes(org: &Org, exemption: Exemption, mode: Mode) -> Vec<(String, &'static str)> {
    expected(org, exemption)
        .into_iter()
        .map(|(id, fate)| (id, fate.outcome(mode)))
        .collect()
}

#[tokio::test]
async fn an_audit_run_reports_every_account_and_changes_nothing() {
    let harness = Harness::start(Org::generate(EVERY_SCENARIO_TWICE, 11)).await;
    let before = harness.state();

    let run = harness.sweep(Mode::Audit, &[]).await;

    check_report(&run, Some(&all_ids(&before)));
    assert_eq!(harness.state(), before, "the emulator's org is unchanged");
    assert!(delete_calls(&harness.calls()).is_empty());
    assert!(
        harness.delete_sessions().is_empty(),
        "no delete session was opened"
    );
    let report = run.report();
    assert_eq!(
        outcomes(report),
        expected_outcomes(&before, Exemption::Tag, Mode::Audit)
    );
    assert!(
        report.summary.count(OutcomeKind::Due) > 0,
        "the org has due accounts to report"
    );
    harness.shutdown().await;
}

#[tokio::test]
async fn an_enforcing_run_deletes_exactly_the_due_credentials_and_leaves_the_rest_alone() {
    for (seed, exemption) in [(12, Exemption::Tag), (13, Exemption::Unit)] {
        // With odd dates too: an undated key, a certificate older than its root user, a
        // password created tomorrow.
        let org = Org::generate(EVERY_SCENARIO_TWICE, seed).with_odd_dates();
        let harness = Harness::start(org).await;
        let before = harness.state();
        let due = due(&before, exemption);

        let run = harness
            .run(
                config(Mode::Enforce, exemption, &before, &[]),
                &RunRequest::scheduled(Mode::Enforce),
            )
            .await;

        check_report(&run, Some(&all_ids(&before)));
        let after = harness.state();
        check_deletions(run.report(), &before, &after, &due, false);
        // Exactly the due accounts lost credentials, and all of them.
        let gone = deletions(&before, &after);
        assert_eq!(
            gone.keys().cloned().collect::<BTreeSet<_>>(),
            due,
            "{exemption:?}"
        );
        for id in &due {
            let root = &after.account(id).expect("still in the org").root_user;
            assert!(
                root.is_clean(),
                "{exemption:?}: due account {id} still holds credentials"
            );
        }
        // The accounts that must never be touched, by name, were not.
        let fates = expected(&before, exemption);
        for scenario in [
            "management",
            "in-grace",
            "exempt",
            "suspended",
            "pending-closure",
        ] {
            let accounts = named(&before, scenario);
            assert!(!accounts.is_empty(), "the org has a {scenario} account");
            for account in accounts {
                assert_ne!(fates[&account.id], Expected::Due);
                assert_eq!(
                    after.account(&account.id),
                    Some(account),
                    "{exemption:?}: {scenario} account {} was changed",
                    account.id
                );
            }
        }
        // Accounts that are skipped or exempt are never even assumed into.
        let assumed = assume_root_targets(&harness.calls());
        for (id, fate) in &fates {
            if matches!(fate, Expected::Skipped | Expected::Exempt) {
                assert!(
                    !assumed.contains(id),
                    "{exemption:?}: AssumeRoot targeted {id}"
                );
            }
        }
        let report = run.report();
        assert_eq!(
            outcomes(report),
            expected_outcomes(&before, exemption, Mode::Enforce)
        );
        // What the summary says was deleted is what the emulator lost.
        for kind in CredentialKind::ALL {
            let lost = gone.values().flatten().filter(|(k, _)| k == kind).count();
            assert_eq!(report.summary.credentials_deleted[kind], lost, "{kind:?}");
        }
        // And what CloudWatch received says so too, one data point each: the missed-sweep
        // alarm's SweepCompleted, the remediated and failed accounts, the deletions by type.
        assert!(
            harness
                .emulator
                .metrics()
                .iter()
                .all(|datum| datum.namespace == "Rootsweep")
        );
        let received = harness.metrics_since(0);
        assert_eq!(received.repeated(), Vec::<&(String, Vec<String>)>::new());
        assert_eq!(received.values("SweepCompleted", &[]), [1.0]);
        assert_eq!(
            received.values("AccountsRemediated", &[]),
            [due.len() as f64]
        );
        assert_eq!(received.values("AccountsFailed", &[]), [0.0]);
        let deleted_keys = gone
            .values()
            .flatten()
            .filter(|(k, _)| *k == CredentialKind::AccessKey)
            .count();
        assert_eq!(
            received.values("CredentialsDeleted", &["CredentialType=AccessKey"]),
            [deleted_keys as f64]
        );
        // Each account in grace only by an odd date is named, counted and sent to CloudWatch.
        let held = held_by_odd_dates(&before, exemption);
        assert!(!held.is_empty(), "{exemption:?}: the org has odd dates");
        let reported: BTreeSet<String> = report
            .accounts
            .iter()
            .filter(|a| a.held_by_odd_dates())
            .map(|a| a.account_id.to_string())
            .collect();
        assert_eq!(reported, held, "{exemption:?}");
        assert_eq!(report.summary.accounts_held_by_odd_dates, held.len());
        assert_eq!(
            received.values("AccountsHeldByOddDates", &[]),
            [held.len() as f64]
        );
        harness.shutdown().await;
    }
}

#[tokio::test]
async fn a_second_enforcing_run_right_after_finds_nothing_to_delete() {
    let harness = Harness::start(Org::generate(EVERY_SCENARIO, 14)).await;
    let org = harness.state();
    let enforce = || config(Mode::Enforce, Exemption::Tag, &org, &[]);
    let first = harness
        .run(enforce(), &RunRequest::scheduled(Mode::Enforce))
        .await;
    assert!(first.report().summary.count(OutcomeKind::Remediated) > 0);
    let after_first = harness.state();
    let calls_before = harness.calls().len();
    let sessions_before = harness.delete_sessions().len();

    let second = harness
        .run(enforce(), &RunRequest::scheduled(Mode::Enforce))
        .await;

    check_report(&second, Some(&all_ids(&org)));
    assert_eq!(
        harness.state(),
        after_first,
        "the second run changed nothing"
    );
    let second_calls = harness.calls().split_off(calls_before);
    assert!(!second_calls.is_empty(), "the second run did audit the org");
    assert_eq!(delete_calls(&second_calls), Vec::<&_>::new());
    assert_eq!(harness.delete_sessions().len(), sessions_before);
    let summary = &second.report().summary;
    assert_eq!(
        (
            summary.count(OutcomeKind::Remediated),
            summary.count(OutcomeKind::Due)
        ),
        (0, 0)
    );
    // What the first run remediated, the second finds clean.
    for account in &first.report().accounts {
        if account.outcome.kind() == OutcomeKind::Remediated {
            let again = second
                .report()
                .accounts
                .iter()
                .find(|a| a.account_id == account.account_id)
                .expect("reported again");
            assert_eq!(
                again.outcome.kind(),
                OutcomeKind::Clean,
                "{}",
                account.account_id
            );
        }
    }
    harness.shutdown().await;
}

#[tokio::test]
async fn a_direct_invocation_naming_accounts_runs_only_on_them_and_may_lower_the_mode() {
    let harness = Harness::start(Org::generate(EVERY_SCENARIO_TWICE, 15)).await;
    let before = harness.state();
    let due = due(&before, Exemption::Tag);
    let target = named(&before, "due")[0].id.clone();
    assert!(due.contains(&target));
    let in_grace = named(&before, "in-grace")[0].id.clone();
    let unknown = "999999999999";
    let engine = harness.engine(config(Mode::Enforce, Exemption::Tag, &before, &[]));
    let payload = |mode: Option<&str>| {
        let mut payload = json!({"accounts": [target, in_grace, unknown]});
        if let Some(mode) = mode {
            payload["mode"] = mode.into();
        }
        payload
    };

    // Lowered to audit: the named accounts are reported, nothing is deleted.
    let audit = lambda::handle(&engine, lambda_event(payload(Some("audit")), PLENTY))
        .await
        .expect("the invocation succeeds");
    let audit = audit.summary().expect("a run");
    assert!(!audit.whole_organization);
    assert_eq!(
        (
            audit.count(OutcomeKind::Due),
            audit.count(OutcomeKind::InGrace),
            audit.count(OutcomeKind::Skipped)
        ),
        (1, 1, 1),
        "the unknown account is skipped and named: {:?}",
        audit.attention
    );
    assert_eq!(harness.state(), before);

    // In the configured mode: only the named due account loses its credentials.
    let enforce = lambda::handle(&engine, lambda_event(payload(None), PLENTY))
        .await
        .expect("the invocation succeeds");
    let enforce = enforce.summary().expect("a run");
    assert_eq!(
        (
            enforce.count(OutcomeKind::Remediated),
            enforce.count(OutcomeKind::InGrace),
            enforce.count(OutcomeKind::Skipped)
        ),
        (1, 1, 1)
    );
    let gone = deletions(&before, &harness.state());
    assert_eq!(gone.keys().collect::<Vec<_>>(), [&target]);
    assert_eq!(
        gone[&target],
        credentials_of(&before.account(&target).unwrap().root_user)
    );
    assert!(
        due.len() > 1,
        "other due accounts were left for the schedule"
    );
    assert_eq!(
        assume_root_targets(&harness.calls()),
        BTreeSet::from([target, in_grace]),
        "no other account was assumed into"
    );
    harness.shutdown().await;
}

/// Every SDK client of a run shares one connection pool: over 200 accounts at 8 at a time, a
/// run opens a few connections per task that makes calls at once, not one per root session
/// (178 when each session's IAM client had a pool of its own). How many a loaded machine opens
/// at concurrency 64 is a `make bench` figure.
///
/// The bound holds however loaded the machine: a task makes one call at a time, and takes a
/// new connection only when none is idle. Load can delay the return of its last connection to
/// the pool (two task hops), never past its next call's answer, which the single-threaded
/// runtime waits for behind those hops: each task holds at most the connection in use and the
/// one on its way back. The tasks: the 8 accounts', the listing's, and the preflight's three
/// calls (before any account) or the metrics' (after them).
#[tokio::test]
async fn a_sweep_reuses_its_connections_whatever_the_number_of_accounts() {
    let harness = Harness::start_with(Org::generate(200, 16), Timeouts::Patient, |emulator| {
        emulator.latency_ms(2)
    })
    .await;

    let run = harness
        .sweep(Mode::Audit, &[("ROOTSWEEP_CONCURRENCY", "8")])
        .await;

    check_report(&run, Some(&all_ids(&harness.initial)));
    let calls = harness.calls().len();
    let connections = harness.emulator.connections();
    assert!(calls > 600, "{calls} calls");
    assert!(
        connections <= 2 * (8 + 1 + 3),
        "{connections} connections for {calls} calls at concurrency 8"
    );
    harness.shutdown().await;
}

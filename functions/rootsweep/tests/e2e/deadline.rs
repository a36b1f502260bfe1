//! The Lambda deadline reached mid-run. A run starts no account in the last 60 s before its
//! deadline, and stops any account still running 10 s before it.
//!
//! The first two tests give the run a deadline 60 s away plus a little, so it has that little
//! to start accounts in; emulator latency makes sure it cannot finish in that time, whatever the
//! machine. Their assertions do not depend on how far it got: the accounts not reached are
//! reported as such and untouched.
//!
//! The third reaches the point 10 s before the deadline without waiting 50 s: rootsweep runs on
//! a paused clock, the emulator in real time on a runtime of its own, and the clock is moved to
//! that point while an account's deletion is in flight. That account must say it was stopped
//! and list what it had done.

use std::collections::BTreeSet;
use std::time::Duration;

use rootsweep::config::Mode;
use rootsweep::event::RunRequest;
use rootsweep::outcome::{Outcome, OutcomeKind};
use rootsweep::{Report, RunOptions};
use rootsweep_emulator::{Fault, FaultKind, Org};
use rootsweep_testkit::capture::Run;
use rootsweep_testkit::emulator::{
    EVERY_SCENARIO, EVERY_SCENARIO_TWICE, Exemption, Harness, Timeouts, assume_root_targets,
    config, one_of_each,
};
use rootsweep_testkit::oracle::{
    Expected, check_deletions, check_report, credentials_of, deletions, due, expected, named,
};
use tokio::time::Instant;

/// The README's figures, as literals: no account is started in the last 60 s, and none is
/// worked on in the last 10 s.
const STOP_STARTING_BEFORE_DEADLINE: Duration = Duration::from_secs(60);
const STOP_WORKING_BEFORE_DEADLINE: Duration = Duration::from_secs(10);

/// Runs `harness` in enforce mode with a deadline that leaves `time_to_start` to start accounts.
async fn run_until(harness: &Harness, concurrency: &str, time_to_start: Duration) -> Run {
    let org = &harness.initial;
    let engine = harness.engine(config(
        Mode::Enforce,
        Exemption::Tag,
        org,
        &[("ROOTSWEEP_CONCURRENCY", concurrency)],
    ));
    let options = RunOptions {
        run_id: "e2e-deadline".into(),
        deadline: Some(Instant::now() + STOP_STARTING_BEFORE_DEADLINE + time_to_start),
        ..rootsweep_testkit::capture::options()
    };
    harness
        .run_with(&engine, &RunRequest::scheduled(Mode::Enforce), options)
        .await
}

/// The accounts reported `not_reached`, each with its reason.
fn not_reached(report: &Report) -> Vec<(String, String)> {
    report
        .accounts
        .iter()
        .filter_map(|a| match &a.outcome {
            Outcome::NotReached(reason) => Some((a.account_id.to_string(), reason.to_string())),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn accounts_not_started_before_the_deadline_are_reported_not_reached_and_never_assumed() {
    let org = Org::generate(EVERY_SCENARIO_TWICE, 41);
    // 50 ms a call: listing the accounts takes a few calls, reading the tags of the 35 accounts
    // to audit (one at a time, as every Organizations call) 1.75 s, auditing them at least three
    // calls each, two at a time. The run has 2 s to start work in, 1.5 s of it to plan.
    let harness = Harness::start_with(org.clone(), Timeouts::Patient, |e| e.latency_ms(50)).await;
    let run = run_until(&harness, "2", Duration::from_secs(2)).await;

    let all: BTreeSet<String> = org.accounts.iter().map(|a| a.id.clone()).collect();
    check_report(&run, Some(&all));
    let report = run.report();
    let late = not_reached(report);
    assert!(
        !late.is_empty(),
        "the run could not have reached every account"
    );
    assert_eq!(report.summary.count(OutcomeKind::NotReached), late.len());
    let fates = expected(&org, Exemption::Tag);
    let assumed = assume_root_targets(&harness.calls());
    for (id, reason) in &late {
        // A tag exemption is only known once the tags are read, which is part of starting it.
        assert_ne!(
            fates[id],
            Expected::Skipped,
            "{id}: a skipped account is reported skipped"
        );
        // Either never started, or audited and due but not remediated: never a delete session.
        if reason.starts_with("not audited") {
            assert!(!assumed.contains(id), "{id} was assumed into: {reason}");
        } else {
            assert!(reason.contains("not remediated"), "{id}: {reason}");
        }
        assert!(!harness.delete_sessions().contains(id), "{id}");
    }
    // Accounts skipped are still reported as such, whenever the listing reaches them.
    for account in &report.accounts {
        let fate = fates[account.account_id.as_str()];
        if fate == Expected::Skipped {
            assert_eq!(account.outcome.kind(), OutcomeKind::Skipped);
        }
    }
    let after = harness.state();
    check_deletions(report, &org, &after, &due(&org, Exemption::Tag), false);
    let touched = deletions(&org, &after);
    assert!(late.iter().all(|(id, _)| !touched.contains_key(id)));
    eprintln!(
        "deadline: {} of {} accounts not reached, {} remediated",
        late.len(),
        all.len(),
        report.summary.count(OutcomeKind::Remediated)
    );
    harness.shutdown().await;
}

#[tokio::test]
async fn due_accounts_not_remediated_before_the_deadline_are_reported_and_none_is_half_done() {
    let org = Org::generate(EVERY_SCENARIO, 42);
    let due = due(&org, Exemption::Tag);
    assert!(due.len() >= 6, "the org has {} due accounts", due.len());
    // Audits are quick; every removal takes 300 ms and accounts are remediated one at a time,
    // so the due accounts need at least 1.8 s: more than the 1.5 s the run has to start them.
    let slow_removals = [
        "DeleteLoginProfile",
        "DeleteAccessKey",
        "DeleteSigningCertificate",
        "DeactivateMFADevice",
    ]
    .map(|operation| Fault::new(operation, FaultKind::Latency { ms: 300 }))
    .to_vec();
    let harness =
        Harness::start_with(org.clone(), Timeouts::Patient, |e| e.faults(slow_removals)).await;
    let run = run_until(&harness, "1", Duration::from_millis(1500)).await;

    let all: BTreeSet<String> = org.accounts.iter().map(|a| a.id.clone()).collect();
    check_report(&run, Some(&all));
    let report = run.report();
    let after = harness.state();
    check_deletions(report, &org, &after, &due, false);
    let late = not_reached(report);
    assert!(
        !late.is_empty(),
        "the run could not have remediated every due account"
    );
    for account in &report.accounts {
        let id = account.account_id.to_string();
        if !due.contains(&id) {
            continue;
        }
        let root = &after.account(&id).expect("still there").root_user;
        match &account.outcome {
            // Started in time: finished, whatever the deadline.
            Outcome::Remediated { .. } => assert!(root.is_clean(), "{id}"),
            // Not started (or not even audited): untouched, and the report says so.
            Outcome::NotReached(_) => {
                assert_eq!(root, &org.account(&id).unwrap().root_user, "{id}");
                assert!(account.actions.is_empty(), "{id}");
            }
            other => panic!("due account {id} ended {other:?}"),
        }
    }
    eprintln!(
        "deadline: {} of {} due accounts remediated, {} accounts not reached",
        report.summary.count(OutcomeKind::Remediated),
        due.len(),
        late.len()
    );
    harness.shutdown().await;
}

#[test]
fn an_account_still_being_remediated_near_the_deadline_is_stopped_and_lists_what_was_done() {
    let org = one_of_each(43);
    let due = due(&org, Exemption::Tag);
    // Its password goes first, then its access key: the call the deadline will catch.
    let target = named(&org, "everything")[0];
    assert!(due.contains(&target.id), "the everything account is due");
    let root = &target.root_user;
    assert!(
        root.login_profile.is_some()
            && !root.access_keys.is_empty()
            && !root.mfa_devices.is_empty()
    );
    let target = target.id.clone();

    // AWS, in real time: it deletes the key at once, and holds the answer.
    let aws = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime for the emulator");
    let held = Fault::new("DeleteAccessKey", FaultKind::Slow { ms: 600_000 }).for_account(&target);
    let harness = aws.block_on(Harness::start_with(org.clone(), Timeouts::Patient, |e| {
        e.faults(vec![held])
    }));

    // rootsweep, on a paused clock that only this test moves: one account at a time, 61 s to
    // the deadline, so it may start accounts for 1 s and must stop them 51 s from now.
    let lambda = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("a runtime for rootsweep");
    let run = lambda.block_on(run_holding_the_clock_until_held(&harness, &target));
    let after = harness.state();
    aws.block_on(harness.shutdown());

    the_account_caught_by_the_deadline_failed_and_none_is_half_done(
        &run, &org, &after, &due, &target,
    );
}

/// Runs rootsweep (one account at a time, 1 s to start accounts in) on this runtime's paused
/// clock, and moves that clock to 10 s before the deadline once `target`'s held
/// DeleteAccessKey has reached AWS.
async fn run_holding_the_clock_until_held(harness: &Harness, target: &str) -> Run {
    let run = run_until(harness, "1", Duration::from_secs(1));
    tokio::pin!(run);
    let mut moved = false;
    // Real time, not the paused clock: a limit far beyond the run's few calls turns a
    // held call that never comes into a failure, not a hang.
    let waiting = std::time::Instant::now();
    loop {
        tokio::select! {
            biased;
            run = &mut run => break run,
            // Yielding keeps this runtime busy, so its paused clock never jumps ahead on its
            // own; the short real sleep keeps that from burning a core the emulator and the
            // other tests need. Once the held call has reached AWS, the clock moves to 10 s
            // before the deadline.
            () = tokio::task::yield_now() => {
                std::thread::sleep(Duration::from_micros(200));
                if moved {
                    continue;
                }
                assert!(
                    waiting.elapsed() < Duration::from_secs(60),
                    "the held DeleteAccessKey never reached AWS"
                );
                let held = harness.calls().iter().any(|c| {
                    c.operation == "DeleteAccessKey"
                        && c.target_account_id.as_deref() == Some(target)
                });
                if held {
                    tokio::time::advance(
                        Duration::from_secs(1) + STOP_STARTING_BEFORE_DEADLINE
                            - STOP_WORKING_BEFORE_DEADLINE,
                    )
                    .await;
                    moved = true;
                }
            }
        }
    }
}

/// The account caught by the deadline failed, saying its call may or may not have completed,
/// with its password deletion listed and its MFA device left; every other due account was
/// remediated before it or not started.
fn the_account_caught_by_the_deadline_failed_and_none_is_half_done(
    run: &Run,
    org: &Org,
    after: &Org,
    due: &BTreeSet<String>,
    target: &str,
) {
    let all: BTreeSet<String> = org.accounts.iter().map(|a| a.id.clone()).collect();
    check_report(run, Some(&all));
    let report = run.report();
    // Deleted but unanswered, the key is gone without being listed: the account says a call
    // was in flight.
    check_deletions(report, org, after, due, true);
    let account = report
        .accounts
        .iter()
        .find(|a| a.account_id.as_str() == target)
        .expect("reported");
    match &account.outcome {
        Outcome::Failed(failure) => {
            let error = failure.cause.to_string();
            assert!(error.contains("stopped at the run's deadline"), "{error}");
            assert!(error.contains("may or may not have been"), "{error}");
        }
        other => panic!("the account caught by the deadline ended {other:?}"),
    }
    let listed: Vec<String> = account.actions.iter().map(|x| x.id.clone()).collect();
    assert_eq!(listed, ["login-profile"], "the password deletion is listed");
    let left = credentials_of(&after.account(target).unwrap().root_user);
    assert!(
        left.iter()
            .all(|(kind, _)| *kind == rootsweep::credentials::CredentialKind::MfaDevice)
    );
    assert!(
        !left.is_empty(),
        "the MFA device, never reached, is still there"
    );
    // Every other due account was remediated before it (in the run's order) or not started
    // after it: none is half done.
    let late = not_reached(report);
    let before: Vec<&str> = report
        .accounts
        .iter()
        .filter(|a| a.outcome.kind() == OutcomeKind::Remediated)
        .map(|a| a.account_id.as_str())
        .collect();
    assert_eq!(
        late.len() + before.len() + 1,
        due.len(),
        "{late:?} {before:?}"
    );
    for id in before {
        assert!(after.account(id).unwrap().root_user.is_clean(), "{id}");
    }
    for (id, reason) in &late {
        assert!(reason.contains("not remediated"), "{id}: {reason}");
        assert_eq!(after.account(id), org.account(id), "{id} is untouched");
    }
    eprintln!(
        "deadline: {target} stopped with {listed:?} done, {} remediated before it, {} not reached",
        report.summary.count(OutcomeKind::Remediated),
        late.len()
    );
}

//! The Lambda deadline reached mid-run. A run starts no account in the last 60 s before its
//! deadline, so a deadline 60 s away plus a little leaves it that little to start accounts in;
//! emulator latency makes sure it cannot finish in that time, whatever the machine. The
//! assertions do not depend on how far it got: the accounts not reached are reported as such and
//! untouched, and none is half-done without saying so.

use std::collections::BTreeSet;
use std::time::Duration;

use rootsweep::config::Mode;
use rootsweep::event::RunRequest;
use rootsweep::report::Outcome;
use rootsweep::{Report, RunOptions};
use rootsweep_e2e::{
    EVERY_SCENARIO, EVERY_SCENARIO_TWICE, Exemption, Expected, Harness, Run, Timeouts,
    assume_root_targets, check_deletions, check_report, config, deletions, due, expected,
};
use rootsweep_emulator::{Fault, FaultKind, Org};
use tokio::time::Instant;

/// How long before its deadline a run stops starting accounts (`sweep.rs`).
const STOP_STARTING_BEFORE_DEADLINE: Duration = Duration::from_secs(60);

/// Runs `harness` in enforce mode with a deadline that leaves `time_to_start` to start accounts.
async fn run_until(harness: &Harness, concurrency: &str, time_to_start: Duration) -> Run {
    let org = &harness.initial;
    let sweeper = harness.sweeper(config(
        Mode::Enforce,
        Exemption::Tag,
        org,
        &[("ROOTSWEEP_CONCURRENCY", concurrency)],
    ));
    let options = RunOptions {
        run_id: "e2e-deadline".into(),
        deadline: Some(Instant::now() + STOP_STARTING_BEFORE_DEADLINE + time_to_start),
    };
    harness
        .run_with(&sweeper, &RunRequest::scheduled(Mode::Enforce), options)
        .await
}

/// The accounts reported `not_reached`, each with its reason.
fn not_reached(report: &Report) -> Vec<(String, String)> {
    report
        .accounts
        .iter()
        .filter_map(|a| match &a.outcome {
            Outcome::NotReached { reason } => Some((a.account_id.to_string(), reason.clone())),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn accounts_not_started_before_the_deadline_are_reported_not_reached_and_never_assumed() {
    let org = Org::generate(EVERY_SCENARIO_TWICE, 41);
    // 20 ms a call, two accounts at a time: auditing the 35 accounts takes over a second, at
    // least three calls each; the run has half a second to start accounts.
    let harness = Harness::start_with(org.clone(), Timeouts::Patient, |e| e.latency_ms(20)).await;
    let run = run_until(&harness, "2", Duration::from_millis(500)).await;

    let all: BTreeSet<String> = org.accounts.iter().map(|a| a.id.clone()).collect();
    check_report(&run, Some(&all));
    let report = run.report();
    let late = not_reached(report);
    assert!(
        !late.is_empty(),
        "the run could not have reached every account"
    );
    assert_eq!(report.summary.accounts_not_reached, late.len());
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
            assert_eq!(account.outcome.name(), "skipped");
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
        report.summary.accounts_remediated
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
            Outcome::NotReached { .. } => {
                assert_eq!(root, &org.account(&id).unwrap().root_user, "{id}");
                assert!(account.actions.is_empty(), "{id}");
            }
            other => panic!("due account {id} ended {other:?}"),
        }
    }
    eprintln!(
        "deadline: {} of {} due accounts remediated, {} accounts not reached",
        report.summary.accounts_remediated,
        due.len(),
        late.len()
    );
    harness.shutdown().await;
}

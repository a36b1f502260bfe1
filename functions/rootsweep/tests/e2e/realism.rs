//! Where AWS is hard: the whole-organization sweep with the deployed role's policy enforced
//! (infra/template.yaml, evaluated by the emulator on every caller request), throttling (an
//! AssumeRoot token bucket, Organizations one call at a time, IAM per member account), short and
//! empty Organizations pages, and IAM's eventual consistency after deletes. It must still end as
//! the rules say. And a role missing a permission must fail with the error that names it.

use std::collections::BTreeSet;

use rootsweep::config::Mode;
use rootsweep::outcome::{Outcome, OutcomeKind, Stage};
use rootsweep::preflight::PreflightError;
use rootsweep::reasons::Cause;
use rootsweep_emulator::{Org, OrganizationsLimits, TaskPolicy, Throttling, TokenBucket};
use rootsweep_testkit::emulator::{
    EVERY_SCENARIO, Exemption, Harness, Timeouts, deployed_policy, template,
};
use rootsweep_testkit::oracle::{check_deletions, check_report, deletions, due};

/// AWS-like limits: AssumeRoot 20 a second in the caller account (a second's worth at once),
/// Organizations one
/// call at a time ("another request is already in progress", as large organizations see it),
/// IAM 10 a second per member account.
fn throttling() -> Throttling {
    Throttling {
        assume_root: Some(TokenBucket::new(20.0, 20)),
        iam: Some(TokenBucket::new(10.0, 5)),
        organizations: Some(OrganizationsLimits {
            max_concurrent: Some(1),
            rate: None,
        }),
    }
}

#[tokio::test]
async fn a_sweep_under_the_deployed_policy_throttling_and_eventual_consistency_ends_as_the_rules_say()
 {
    let org = Org::generate(EVERY_SCENARIO, 81);
    let policy = deployed_policy(&template(), &[("Mode", "enforce")]);
    // Production's retries: IAM's per-account throttling is ridden out as it would be.
    let harness = Harness::start_deployed(org.clone(), Timeouts::Production, policy, |e| {
        e.throttling(throttling())
            .organizations_short_pages(81)
            .iam_propagation_delay_ms(1500)
    })
    .await;
    // Paced under the emulator's AssumeRoot bucket, as an operator would set it, with room for
    // a loaded machine: rootsweep sends at most 10 at once, then 10 a second (10 + 10w in any
    // w seconds); calls delayed on their way by up to D seconds arrive at most 10 + 10(w + D)
    // in any w seconds, within the bucket's 20 + 20w as long as D <= 1 + w. Only a stall of
    // over a second between the pace and the emulator could throttle one.
    let run = harness
        .sweep(Mode::Enforce, &[("ROOTSWEEP_ASSUME_ROOT_RATE", "10")])
        .await;
    let all: BTreeSet<String> = org.accounts.iter().map(|a| a.id.clone()).collect();
    check_report(&run, Some(&all));
    let report = run.report();
    let after = harness.state();
    let wanted = due(&org, Exemption::Tag);
    check_deletions(report, &org, &after, &wanted, false);
    assert_eq!(
        deletions(&org, &after)
            .keys()
            .cloned()
            .collect::<BTreeSet<_>>(),
        wanted,
        "every due account remediated, no other touched"
    );
    assert_eq!(
        report.summary.count(OutcomeKind::Failed),
        0,
        "{:?}",
        report.summary.attention
    );
    assert!(report.summary.complete);
    // The limits were there, and rootsweep stayed under them: no AssumeRoot or Organizations
    // call was throttled (the pace and the one listing task), however many IAM calls were.
    let stats = harness.emulator.throttling_stats();
    for operation in ["AssumeRoot", "ListAccounts", "ListTagsForResource"] {
        assert_eq!(
            stats.throttled.get(operation),
            None,
            "{operation}: {stats:?}"
        );
    }
    // Deletions were still listed for 1.5 s: verification read back more than once before it
    // found the account clean (re-check, then two reads or more).
    let calls = harness.calls();
    let reads_in_delete_session = |account: &str| {
        calls
            .iter()
            .filter(|c| c.operation == "GetLoginProfile")
            .filter(|c| c.task_policy == Some(TaskPolicy::IAMDeleteRootUserCredentials))
            .filter(|c| c.session_account_id.as_deref() == Some(account))
            .count()
    };
    assert!(
        wanted.iter().any(|id| reads_in_delete_session(id) >= 3),
        "{:?}",
        wanted
            .iter()
            .map(|id| reads_in_delete_session(id))
            .collect::<Vec<_>>()
    );
    harness.shutdown().await;
}

#[tokio::test]
async fn a_role_without_list_organizations_features_stops_the_run_naming_the_permission() {
    let org = Org::generate(EVERY_SCENARIO, 82);
    let text = template().replacen(
        "Action: iam:ListOrganizationsFeatures",
        "Action: iam:ListRoles",
        1,
    );
    assert_ne!(text, template(), "the permission was removed");
    let policy = deployed_policy(&text, &[("Mode", "enforce")]);
    let harness = Harness::start_deployed(org.clone(), Timeouts::Patient, policy, |e| e).await;
    let run = harness.sweep(Mode::Enforce, &[]).await;
    let Err(err @ PreflightError::CallFailed(failed)) = &run.result else {
        panic!("{:?}", run.result.map(|r| r.summary));
    };
    assert_eq!(failed.operation, "iam:ListOrganizationsFeatures");
    let message = err.to_string();
    assert!(
        message.contains("not authorized to perform: iam:ListOrganizationsFeatures"),
        "{message}"
    );
    assert!(
        message.contains("Check that the function's role allows iam:ListOrganizationsFeatures"),
        "{message}"
    );
    assert_eq!(harness.state(), org, "nothing changed");
    harness.shutdown().await;
}

#[tokio::test]
async fn an_enforcing_run_under_an_audit_deployment_policy_cannot_delete_and_says_why() {
    // The role of an audit deployment allows only the audit task policy: a run configured to
    // enforce is refused its delete sessions by IAM, and each due account says so.
    let org = Org::generate(EVERY_SCENARIO, 83);
    let policy = deployed_policy(&template(), &[("Mode", "audit")]);
    let harness = Harness::start_deployed(org.clone(), Timeouts::Patient, policy, |e| e).await;
    let run = harness.sweep(Mode::Enforce, &[]).await;
    check_report(&run, None);
    let report = run.report();
    let wanted = due(&org, Exemption::Tag);
    assert!(!wanted.is_empty());
    for account in report
        .accounts
        .iter()
        .filter(|a| wanted.contains(a.account_id.as_str()))
    {
        let Outcome::Failed(failure) = &account.outcome else {
            panic!("{}: {:?}", account.account_id, account.outcome);
        };
        assert_eq!(failure.stage, Stage::AssumeRootDelete);
        assert!(matches!(&failure.cause, Cause::Aws(e) if e.operation == "sts:AssumeRoot"));
        assert!(
            failure.cause.to_string().contains("Likely causes"),
            "{}",
            failure.cause
        );
    }
    assert_eq!(harness.state(), org, "nothing deleted");
    // What CloudWatch received: the failed accounts, one data point.
    let received = harness.metrics_since(0);
    assert_eq!(
        received.values("AccountsFailed", &[]),
        [wanted.len() as f64]
    );
    assert_eq!(received.values("AccountsRemediated", &[]), [0.0]);
    assert_eq!(received.repeated(), Vec::<&(String, Vec<String>)>::new());
    harness.shutdown().await;
}

//! The optional features end to end, against the emulator's EventBridge Scheduler, S3 and
//! Security Hub, with the deployed role's policy enforced: a recovery followed to its exact due
//! time, the archive holding exactly the run's report, findings moving from FAILED to ARCHIVED,
//! and failures of either never changing an outcome.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use rootsweep::config::Mode;
use rootsweep::followup::{FollowUpAction, MARGIN};
use rootsweep::lambda::{Response, handle};
use rootsweep::outcome::OutcomeKind;
use rootsweep_emulator::{Fault, FaultKind, LoginProfile, Org, TemplatePolicy};
use rootsweep_testkit::ReportExt;
use rootsweep_testkit::capture::lambda_event;
use rootsweep_testkit::emulator::{
    EVERY_SCENARIO, Exemption, Harness, Timeouts, config, deployed_policy, follow_up_group,
    template,
};
use rootsweep_testkit::oracle::{credentials_of, due, named};
use serde_json::{Value, json};

const INVOKE_ROLE: &str = "arn:aws:iam::999999999999:role/rootsweep-follow-up-invoke";
const DEAD_LETTERS: &str = "arn:aws:sqs:us-east-1:999999999999:rootsweep-FollowUpDeadLetterQueue";
const BUCKET: &str = "rootsweep-evidence";
const PLENTY: Duration = Duration::from_secs(900);

fn template_policy(parameters: &[(&str, &str)]) -> TemplatePolicy {
    deployed_policy(&template(), &[&[("Mode", "enforce")], parameters].concat())
}

/// The CloudTrail record of a password recovery for `account` at `at`.
fn recovery_event(account: &str, at: DateTime<Utc>) -> Value {
    json!({
        "detail-type": "AWS API Call via CloudTrail", "source": "aws.sts",
        "detail": {
            "eventName": "AssumeRoot", "eventTime": at.to_rfc3339(), "eventID": format!("e-{account}"),
            "requestParameters": {
                "targetPrincipal": account,
                "taskPolicyArn": {"arn": "arn:aws:iam::aws:policy/root-task/IAMCreateRootUserPassword"}
            }
        }
    })
}

async fn follow_up_harness(org: &Org) -> Harness {
    let policy = template_policy(&[("FollowUps", "Enabled")]);
    Harness::start_deployed(org.clone(), Timeouts::Patient, policy, |e| {
        e.schedule_group(follow_up_group())
    })
    .await
}

fn follow_up_config(org: &Org) -> rootsweep::Config {
    let group = follow_up_group();
    config(
        Mode::Enforce,
        Exemption::Tag,
        org,
        &[
            ("ROOTSWEEP_GRACE_PERIOD", "1h"),
            ("ROOTSWEEP_FOLLOW_UP_GROUP", &group),
            ("ROOTSWEEP_FOLLOW_UP_ROLE_ARN", INVOKE_ROLE),
            ("ROOTSWEEP_FOLLOW_UP_DEAD_LETTER_ARN", DEAD_LETTERS),
        ],
    )
}

#[tokio::test]
async fn a_recovery_is_followed_to_its_exact_due_time_and_the_password_removed_then_not_before() {
    let org = Org::generate(EVERY_SCENARIO, 91);
    let target = named(&org, "clean")[0].id.clone();
    let harness = follow_up_harness(&org).await;
    let engine = harness.engine(follow_up_config(&org));
    // The password is reset right after the recovery: due (1 h grace) 3 s from now.
    let recovered = Utc::now() - TimeDelta::hours(1) + TimeDelta::seconds(3);
    harness.emulator.edit_org(|org| {
        let root = &mut org.account_mut(&target).unwrap().root_user;
        root.login_profile = Some(LoginProfile { created: recovered });
    });
    let event = || lambda_event(recovery_event(&target, recovered), PLENTY);
    let Response::Recovery(first) = handle(&engine, event()).await.unwrap() else {
        panic!("a recovery");
    };
    let follow_up = first.follow_up.expect("scheduled");
    let at = recovered + TimeDelta::hours(1) + MARGIN;
    assert_eq!(
        (follow_up.action, follow_up.at.timestamp()),
        (FollowUpAction::Created, at.timestamp())
    );
    // The same event again: no second schedule.
    let Response::Recovery(again) = handle(&engine, event()).await.unwrap() else {
        panic!("a recovery");
    };
    assert_eq!(again.follow_up.unwrap().action, FollowUpAction::Kept);
    let schedules = harness.emulator.schedules();
    assert_eq!(schedules.len(), 1);
    assert_eq!(schedules[0].at.timestamp(), at.timestamp());
    // A schedule that could not invoke the function would dead-letter to the stack's queue.
    assert_eq!(schedules[0].dead_letter_arn(), Some(DEAD_LETTERS));
    assert!(
        harness
            .emulator
            .due_schedules(at - TimeDelta::minutes(1))
            .is_empty()
    );
    // Run early anyway, the follow-up deletes nothing: the password is in its grace period.
    let early = json!({"accounts": [target], "follow_up": 1});
    let summary = handle(&engine, lambda_event(early, PLENTY)).await.unwrap();
    assert_eq!(summary.summary().unwrap().count(OutcomeKind::InGrace), 1);
    assert!(!credentials_of(&harness.state().account(&target).unwrap().root_user).is_empty());
    // At its time the schedule fires; the run it makes removes the password.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let fired = harness.emulator.fire_due_schedules(at);
    assert_eq!(fired.len(), 1);
    let input: Value = serde_json::from_str(fired[0].input.as_deref().unwrap()).unwrap();
    assert_eq!(input, json!({"accounts": [target], "follow_up": 1}));
    assert_eq!(
        fired[0].target_arn,
        "arn:aws:lambda:us-east-1:999999999999:function:rootsweep-test"
    );
    let summary = handle(&engine, lambda_event(input, PLENTY)).await.unwrap();
    assert_eq!(summary.summary().unwrap().count(OutcomeKind::Remediated), 1);
    assert!(credentials_of(&harness.state().account(&target).unwrap().root_user).is_empty());
    assert!(
        harness.emulator.schedules().is_empty(),
        "deleted after it fired"
    );
    harness.shutdown().await;
}

#[tokio::test]
async fn a_sign_in_before_the_follow_up_moves_it_to_the_new_due_time() {
    let org = Org::generate(EVERY_SCENARIO, 92);
    let target = named(&org, "clean")[0].id.clone();
    let harness = follow_up_harness(&org).await;
    let engine = harness.engine(follow_up_config(&org));
    let recovered = Utc::now() - TimeDelta::minutes(30);
    let signed_in = Utc::now();
    harness.emulator.edit_org(|org| {
        let root = &mut org.account_mut(&target).unwrap().root_user;
        root.login_profile = Some(LoginProfile { created: recovered });
        root.password_last_used = Some(signed_in);
    });
    handle(
        &engine,
        lambda_event(recovery_event(&target, recovered), PLENTY),
    )
    .await
    .unwrap();
    let first_at = recovered + TimeDelta::hours(1) + MARGIN;
    let fired = harness.emulator.fire_due_schedules(first_at);
    let input: Value = serde_json::from_str(fired[0].input.as_deref().unwrap()).unwrap();
    let Response::Run(summary) = handle(&engine, lambda_event(input, PLENTY)).await.unwrap() else {
        panic!("a run");
    };
    assert_eq!(
        summary.count(OutcomeKind::InGrace),
        1,
        "the sign-in gave it a new grace period"
    );
    let again = &summary.follow_ups[0];
    assert_eq!(again.action, FollowUpAction::Created);
    let moved = harness.emulator.schedules();
    assert_eq!(moved.len(), 1);
    let new_at = (signed_in + TimeDelta::hours(1) + MARGIN).timestamp();
    assert!(
        (moved[0].at.timestamp() - new_at).abs() <= 1,
        "{} vs {new_at}",
        moved[0].at
    );
    assert!(
        moved[0]
            .input()
            .unwrap_or_default()
            .contains(r#""follow_up":2"#)
    );
    harness.shutdown().await;
}

async fn evidence_harness(org: &Org, faults: Vec<Fault>) -> Harness {
    let policy = template_policy(&[
        ("ArchiveBucketName", BUCKET),
        ("ArchivePrefix", "evidence"),
        ("SecurityHubFindings", "true"),
    ]);
    Harness::start_deployed(org.clone(), Timeouts::Impatient, policy, |e| {
        e.bucket(BUCKET).faults(faults)
    })
    .await
}

const EVIDENCE: [(&str, &str); 2] = [
    ("ROOTSWEEP_ARCHIVE", "s3://rootsweep-evidence/evidence"),
    ("ROOTSWEEP_SECURITY_HUB", "true"),
];

/// Report lines in account order (the log has them as each account finished), the summary last.
fn in_order(mut lines: Vec<Value>) -> Vec<Value> {
    lines.sort_by_key(|line| {
        (
            line["kind"] == "run_summary",
            line["account_id"].to_string(),
        )
    });
    lines
}

/// The lines as they were when the run was archived: the summary without what the archiving,
/// and the findings after it, added.
fn before_delivery(mut lines: Vec<Value>) -> Vec<Value> {
    for line in &mut lines {
        if let Some(summary) = line.as_object_mut().filter(|l| l["kind"] == "run_summary") {
            summary.remove("archive");
            summary.remove("findings");
        }
    }
    lines
}

/// The Security Hub finding of each member account, by account: (compliance, record state).
fn findings(harness: &Harness) -> std::collections::BTreeMap<String, (String, String)> {
    harness
        .emulator
        .findings()
        .iter()
        .map(|f| {
            let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
            let account = text(&f["Resources"][0]["Id"]).replace("AWS::::Account:", "");
            (
                account,
                (text(&f["Compliance"]["Status"]), text(&f["RecordState"])),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_sweep_archives_exactly_its_report_and_findings_go_from_failed_to_archived() {
    let org = Org::generate(EVERY_SCENARIO, 93);
    let harness = evidence_harness(&org, Vec::new()).await;
    let wanted = due(&org, Exemption::Tag);
    let audit = harness.sweep(Mode::Audit, &EVIDENCE).await;
    let active = findings(&harness);
    for id in &wanted {
        assert_eq!(
            active[id],
            ("FAILED".to_owned(), "ACTIVE".to_owned()),
            "{id}"
        );
    }
    let archived = audit.report().summary.archive.clone().unwrap();
    assert_eq!(archived.error, None);
    let object = harness
        .emulator
        .object(BUCKET, &archived.key)
        .expect("archived");
    assert_eq!(
        in_order(crate::gunzip_lines(&object.body)),
        in_order(before_delivery(audit.lines.clone())),
        "the run's lines as logged"
    );

    let sweep = harness.sweep(Mode::Enforce, &EVIDENCE).await;
    assert_eq!(
        sweep.report().summary.count(OutcomeKind::Remediated),
        wanted.len()
    );
    let after = findings(&harness);
    for id in &wanted {
        assert_eq!(
            after[id],
            ("PASSED".to_owned(), "ARCHIVED".to_owned()),
            "{id}"
        );
    }
    // A later audit finds them clean and leaves them archived.
    harness.sweep(Mode::Audit, &EVIDENCE).await;
    assert_eq!(findings(&harness), after);
    harness.shutdown().await;
}

#[tokio::test]
async fn an_archive_or_security_hub_that_fails_changes_no_outcome_and_is_reported() {
    for kind in [
        FaultKind::AccessDenied,
        FaultKind::ServerError { status: 503 },
        FaultKind::Slow { ms: 10_000 },
    ] {
        let org = Org::generate(EVERY_SCENARIO, 94);
        let faults = vec![
            Fault::new("PutObject", kind),
            Fault::new("BatchImportFindings", kind),
        ];
        let harness = evidence_harness(&org, faults).await;
        let run = harness.sweep(Mode::Enforce, &EVIDENCE).await;
        let report = run.report();
        let wanted = due(&org, Exemption::Tag);
        assert_eq!(
            report.summary.count(OutcomeKind::Remediated),
            wanted.len(),
            "{kind:?}"
        );
        assert_eq!(report.summary.count(OutcomeKind::Failed), 0, "{kind:?}");
        for id in &wanted {
            assert_eq!(
                report.kind_of(&id.parse().unwrap()),
                OutcomeKind::Remediated
            );
        }
        let error = report.summary.archive.clone().unwrap().error;
        assert!(
            error.as_deref().is_some_and(|e| e.contains("s3:PutObject")),
            "{kind:?}: {error:?}"
        );
        let published = report.summary.findings.clone().unwrap();
        assert!(!published.failed.is_empty(), "{kind:?}: {published:?}");
        let received: Vec<String> = harness
            .emulator
            .metrics()
            .into_iter()
            .map(|d| d.metric_name)
            .collect();
        for metric in ["ArchiveFailed", "FindingsFailed"] {
            assert!(received.contains(&metric.to_owned()), "{kind:?}: {metric}");
        }
        harness.shutdown().await;
    }
}

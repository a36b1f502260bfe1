//! The optional features end to end, against the emulator's EventBridge Scheduler, S3 and
//! Security Hub, with the deployed role's policy enforced: a recovery followed to its exact due
//! time, the archive holding exactly the run's report, findings moving from FAILED to ARCHIVED,
//! and failures of either never changing an outcome.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use rootsweep::config::Mode;
use rootsweep::followup::{FollowUpAction, MARGIN};
use rootsweep::lambda::{Response, handle};
use rootsweep::outcome::OutcomeKind;
use rootsweep_emulator::EXEMPT_TAG;
use rootsweep_emulator::{Fault, FaultKind, LoginProfile, Org, TemplatePolicy};
use rootsweep_testkit::ReportExt;
use rootsweep_testkit::capture::{Run, lambda_event};
use rootsweep_testkit::emulator::{
    EVERY_SCENARIO, Exemption, Harness, SLOWER_THAN_ANY_TIMEOUT_MS, Timeouts, config,
    deployed_policy, follow_up_group, template,
};
use rootsweep_testkit::oracle::{Expected, credentials_of, due, expected, expected_finding, named};
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

/// Time passes for `account`'s root user: every date of it moves `by` into the past, as if the
/// clock had moved `by` forward. How a test reaches a due time without waiting for it, however
/// slow the machine.
fn time_passes(harness: &Harness, account: &str, by: TimeDelta) {
    harness.emulator.edit_org(|org| {
        let root = &mut org.account_mut(account).unwrap().root_user;
        root.created -= by;
        root.password_last_used = root.password_last_used.map(|at| at - by);
        if let Some(profile) = &mut root.login_profile {
            profile.created -= by;
        }
    });
}

#[tokio::test]
async fn a_recovery_is_followed_to_its_exact_due_time_and_the_password_removed_then_not_before() {
    let org = Org::generate(EVERY_SCENARIO, 91);
    let target = named(&org, "clean")[0].id.clone();
    let harness = follow_up_harness(&org).await;
    let engine = harness.engine(follow_up_config(&org));
    // The password is reset right after the recovery: due (1 h grace) 10 minutes from now, so
    // that a run now is early on any machine.
    let recovered = Utc::now() - TimeDelta::hours(1) + TimeDelta::minutes(10);
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
    // At its time (the clock moved there) the schedule fires; the run it makes removes the
    // password.
    time_passes(&harness, &target, at - Utc::now());
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
        ("FollowUps", "Enabled"),
    ]);
    // Only a call the emulator holds times out, and at once.
    Harness::start_deployed(org.clone(), Timeouts::GiveUpOnHeldCalls, policy, |e| {
        e.bucket(BUCKET)
            .schedule_group(follow_up_group())
            .faults(faults)
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

/// The Security Hub finding of each member account, by account: (severity, compliance, record
/// state).
fn findings(harness: &Harness) -> BTreeMap<String, (String, String, String)> {
    harness
        .emulator
        .findings()
        .iter()
        .map(|f| {
            let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
            let account = text(&f["Resources"][0]["Id"]).replace("AWS::::Account:", "");
            let held = (
                text(&f["FindingProviderFields"]["Severity"]["Label"]),
                text(&f["Compliance"]["Status"]),
                text(&f["RecordState"]),
            );
            (account, held)
        })
        .collect()
}

/// Every account's finding is the one the oracle gives from the emulator's data: exempt,
/// skipped, clean and in-grace accounts included.
fn check_findings(harness: &Harness, org: &Org, enforced: bool) {
    let held = findings(harness);
    for (id, fate) in expected(org, Exemption::Tag) {
        let wanted = expected_finding(fate, enforced);
        let found = held.get(&id);
        match (wanted, found) {
            (None, None) => {}
            (Some((severity, compliance, state)), Some((s, c, r))) => {
                assert_eq!(
                    (compliance, state),
                    (c.as_str(), r.as_str()),
                    "{id} ({fate:?})"
                );
                if let Some(severity) = severity {
                    assert_eq!(severity, s, "{id} ({fate:?})");
                }
            }
            (wanted, found) => panic!("{id} ({fate:?}): {found:?} instead of {wanted:?}"),
        }
    }
}

/// The archived object of `run`: its lines, in account order, the summary last.
fn archived(harness: &Harness, run: &Run) -> Vec<Value> {
    let archived = run.report().summary.archive.clone().expect("archived");
    assert_eq!(archived.error, None);
    let object = harness
        .emulator
        .object(BUCKET, &archived.key)
        .expect("archived");
    in_order(crate::gunzip_lines(&object.body))
}

/// The archive holds one line per account of the org, each with the outcome the oracle gives
/// from the emulator's data (exempt, skipped and in-grace accounts included).
fn check_archive(lines: &[Value], org: &Org, mode: Mode) {
    let archived: BTreeMap<String, String> = lines
        .iter()
        .filter(|line| line["kind"] == "account_report")
        .map(|line| {
            let text = |field: &str| line[field].as_str().expect(field).to_owned();
            (text("account_id"), text("outcome"))
        })
        .collect();
    let wanted: BTreeMap<String, String> = expected(org, Exemption::Tag)
        .into_iter()
        .map(|(id, fate)| (id, fate.outcome(mode).to_owned()))
        .collect();
    assert_eq!(archived, wanted, "the archived outcomes are the oracle's");
}

#[tokio::test]
async fn a_sweep_archives_exactly_its_report_and_findings_go_from_failed_to_archived() {
    let org = Org::generate(EVERY_SCENARIO, 93);
    let harness = evidence_harness(&org, Vec::new()).await;
    let wanted = due(&org, Exemption::Tag);
    let audit = harness.sweep(Mode::Audit, &EVIDENCE).await;
    check_findings(&harness, &org, false);
    let archived_lines = archived(&harness, &audit);
    assert_eq!(
        archived_lines,
        in_order(audit.lines.clone()),
        "the run's lines as logged, the summary naming its archive object"
    );
    check_archive(&archived_lines, &org, Mode::Audit);
    let summary = archived_lines.last().expect("the summary line");
    assert_eq!(
        (&summary["grace_period"], &summary["grace_period_seconds"]),
        (&json!("72h"), &json!(259_200)),
        "the grace period as configured, and in seconds"
    );
    let received = harness.metrics_since(0);
    assert_eq!(received.values("ArchiveFailed", &[]), [0.0]);
    assert_eq!(received.values("FindingsFailed", &[]), [0.0]);

    let before = harness.emulator.metrics().len();
    let sweep = harness.sweep(Mode::Enforce, &EVIDENCE).await;
    assert_eq!(
        sweep.report().summary.count(OutcomeKind::Remediated),
        wanted.len()
    );
    check_findings(&harness, &org, true);
    check_archive(&archived(&harness, &sweep), &org, Mode::Enforce);
    let received = harness.metrics_since(before);
    assert_eq!(received.repeated(), Vec::<&(String, Vec<String>)>::new());
    assert_eq!(received.values("ArchiveFailed", &[]), [0.0]);
    assert_eq!(received.values("FindingsFailed", &[]), [0.0]);
    // A later audit finds them clean and leaves them archived.
    let after = findings(&harness);
    harness.sweep(Mode::Audit, &EVIDENCE).await;
    assert_eq!(findings(&harness), after);
    harness.shutdown().await;
}

#[tokio::test]
async fn an_archive_or_security_hub_that_fails_changes_no_outcome_and_is_reported() {
    let group = follow_up_group();
    let follow_ups = [
        ("ROOTSWEEP_FOLLOW_UP_GROUP", group.as_str()),
        ("ROOTSWEEP_FOLLOW_UP_ROLE_ARN", INVOKE_ROLE),
        ("ROOTSWEEP_FOLLOW_UP_IN_GRACE", "true"),
    ];
    for kind in [
        FaultKind::AccessDenied,
        FaultKind::ServerError { status: 503 },
        FaultKind::Slow {
            ms: SLOWER_THAN_ANY_TIMEOUT_MS,
        },
    ] {
        let org = Org::generate(EVERY_SCENARIO, 94);
        // The archive's and Security Hub's writes fail, and Scheduler's calls, as the fault
        // says, whatever the machine's load: only a call the emulator holds can time out. (Security
        // Hub's read of the earlier findings goes through: a run that cannot read them imports
        // none.)
        let faults = ["PutObject", "BatchImportFindings", "GetSchedule"]
            .map(|operation| Fault::new(operation, kind))
            .to_vec();
        let harness = evidence_harness(&org, faults).await;
        let run = harness
            .sweep(Mode::Enforce, &[&EVIDENCE[..], &follow_ups[..]].concat())
            .await;
        let report = run.report();
        let fates = expected(&org, Exemption::Tag);
        let wanted = due(&org, Exemption::Tag);
        let in_grace = fates.values().filter(|f| **f == Expected::InGrace).count();
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
        // Every finding the run had failed: one per remediated and in-grace account.
        let findings = wanted.len() + in_grace;
        let published = report.summary.findings.clone().unwrap();
        assert_eq!(published.failed.len(), findings, "{kind:?}: {published:?}");
        // What CloudWatch received, one data point each: those findings, the archive, and each
        // in-grace account's follow-up failed.
        let received = harness.metrics_since(0);
        assert_eq!(received.repeated(), Vec::<&(String, Vec<String>)>::new());
        assert_eq!(received.values("ArchiveFailed", &[]), [1.0], "{kind:?}");
        assert_eq!(
            received.values("FindingsFailed", &[]),
            [findings as f64],
            "{kind:?}"
        );
        assert_eq!(
            received.values("FollowUpsFailed", &[]),
            [in_grace as f64],
            "{kind:?}"
        );
        assert_eq!(received.values("FollowUpsCreated", &[]), [0.0], "{kind:?}");
        assert_eq!(
            received.values("AccountsRemediated", &[]),
            [wanted.len() as f64]
        );
        assert_eq!(received.values("AccountsFailed", &[]), [0.0]);
        harness.shutdown().await;
    }
}

/// Each account's finding as Security Hub holds it: (provider severity, top-level severity,
/// compliance, record state, created, description).
fn finding_of(
    harness: &Harness,
    account: &str,
) -> (String, String, String, String, String, String) {
    let all = harness.emulator.findings();
    let f = all
        .iter()
        .find(|f| f["Resources"][0]["Id"] == format!("AWS::::Account:{account}"))
        .unwrap_or_else(|| panic!("a finding for {account}"));
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    (
        text(&f["FindingProviderFields"]["Severity"]["Label"]),
        text(&f["Severity"]["Label"]),
        text(&f["Compliance"]["Status"]),
        text(&f["RecordState"]),
        text(&f["CreatedAt"]),
        text(&f["Description"]),
    )
}

#[tokio::test]
async fn findings_keep_their_creation_through_remediation_exemption_suspension_failure_triage_and_departure()
 {
    let org = Org::generate(EVERY_SCENARIO, 95);
    // No caller policy: the triage below is a customer's BatchUpdateFindings, not rootsweep's.
    let harness = Harness::start_with(org.clone(), Timeouts::Patient, |e| e.bucket(BUCKET)).await;
    let one = |scenario: &str| named(&org, scenario)[0].id.clone();
    let (denied, departed, exempted, suspended, triaged) = (
        one("due"),
        one("due-never-used"),
        one("in-grace"),
        one("grace-71h"),
        one("recent-sign-in"),
    );
    let refuse = |operation: &str, account: &str| {
        Fault::new(operation, FaultKind::AccessDenied).for_account(account)
    };
    // Night 1 remediates, but two due accounts refuse the deletion.
    harness.emulator.set_faults(vec![
        refuse("DeleteLoginProfile", &denied),
        refuse("DeleteLoginProfile", &departed),
    ]);
    harness.sweep(Mode::Enforce, &EVIDENCE).await;
    let first: std::collections::BTreeMap<&str, _> =
        [&denied, &departed, &exempted, &suspended, &triaged]
            .into_iter()
            .map(|id| (id.as_str(), finding_of(&harness, id)))
            .collect();
    assert_eq!(first[denied.as_str()].0, "HIGH");
    assert_eq!(first[exempted.as_str()].0, "LOW");
    let remediated = finding_of(&harness, &one("access-keys"));
    assert_eq!(
        (remediated.2.as_str(), remediated.3.as_str()),
        ("PASSED", "ARCHIVED")
    );
    // A customer triages one in-grace finding down; then, by night 2, its credentials are due
    // and their deletion is refused, one account is tagged exempt, one suspended, one has left
    // the organization, and the audit of the account denied before is denied too.
    let product = harness.emulator.findings()[0]["ProductArn"].clone();
    let id_of = |account: &str| format!("rootsweep/root-credentials/{account}");
    let securityhub = aws_sdk_securityhub::Client::new(harness.sdk());
    securityhub
        .batch_update_findings()
        .finding_identifiers(
            aws_sdk_securityhub::types::AwsSecurityFindingIdentifier::builder()
                .id(id_of(&triaged))
                .product_arn(product.as_str().unwrap())
                .build(),
        )
        .severity(
            aws_sdk_securityhub::types::SeverityUpdate::builder()
                .label(aws_sdk_securityhub::types::SeverityLabel::Informational)
                .build(),
        )
        .send()
        .await
        .expect("the triage");
    harness.emulator.edit_org(|org| {
        let root = &mut org.account_mut(&triaged).unwrap().root_user;
        root.password_last_used = Some(Utc::now() - TimeDelta::days(30));
        org.account_mut(&exempted)
            .unwrap()
            .tags
            .insert(EXEMPT_TAG.0.into(), EXEMPT_TAG.1.into());
        org.account_mut(&suspended).unwrap().state = rootsweep_emulator::AccountState::Suspended;
        org.accounts.retain(|a| a.id != departed);
    });
    harness.emulator.set_faults(vec![
        refuse("AssumeRoot", &denied),
        refuse("DeleteLoginProfile", &triaged),
    ]);
    let night2 = harness.sweep(Mode::Enforce, &EVIDENCE).await;
    assert!(
        night2
            .report()
            .summary
            .findings
            .clone()
            .unwrap()
            .failed
            .is_empty()
    );
    let second = |id: &str| finding_of(&harness, id);
    let created = |id: &str| first[id].4.clone();
    // The failed audit: not available, still HIGH, still active, its creation unchanged.
    let d = second(&denied);
    assert_eq!(
        (d.0.as_str(), d.2.as_str(), d.3.as_str()),
        ("HIGH", "NOT_AVAILABLE", "ACTIVE")
    );
    assert!(d.5.contains("Root credentials: unknown"), "{}", d.5);
    // The triaged finding: the provider's HIGH in its fields, the customer's severity on top.
    let t = second(&triaged);
    assert_eq!(
        (t.0.as_str(), t.1.as_str(), t.2.as_str(), t.3.as_str()),
        ("HIGH", "INFORMATIONAL", "FAILED", "ACTIVE")
    );
    for (id, reason) in [
        (&exempted, "exempt"),
        (&suspended, "SUSPENDED"),
        (&departed, "not in the organization"),
    ] {
        let f = second(id);
        assert_eq!(
            (f.2.as_str(), f.3.as_str()),
            ("NOT_AVAILABLE", "ARCHIVED"),
            "{id}"
        );
        assert!(f.5.contains(reason), "{id}: {}", f.5);
    }
    for id in [&denied, &departed, &exempted, &suspended, &triaged] {
        assert_eq!(second(id).4, created(id), "{id}: CreatedAt unchanged");
    }
    harness.shutdown().await;
}

/// `rootsweep evidence` against the harness's archive, as an operator runs it: for the deployed
/// function `rootsweep`, whose ROOTSWEEP_ARCHIVE names the archive.
async fn evidence_cli(harness: &Harness, output: &str) -> Vec<u8> {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_rootsweep"));
    let since = Utc::now().date_naive().to_string();
    command
        .args(["evidence", "--since", &since, "--output", output])
        .env_clear()
        .envs(rootsweep_emulator::client_environment(
            &harness.emulator.url(),
        ))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("ROOTSWEEP_FUNCTION", "rootsweep");
    let out = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("rootsweep evidence runs");
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[tokio::test]
async fn an_account_denied_deletion_three_nights_is_three_nights_past_grace_in_json_and_html() {
    let org = Org::generate(EVERY_SCENARIO, 97);
    let denied = named(&org, "due")[0].id.clone();
    let refused = Fault::new("DeleteLoginProfile", FaultKind::AccessDenied).for_account(&denied);
    let harness = Harness::start_with(org.clone(), Timeouts::Patient, |e| {
        e.bucket(BUCKET)
            .faults(vec![refused])
            .function("rootsweep", EVIDENCE)
    })
    .await;
    // Three nights: between two runs the world ages a day (the credentials' dates move back).
    let mut exposures = Vec::new();
    for night in 0..3 {
        if night > 0 {
            harness.emulator.edit_org(|org| {
                let root = &mut org.account_mut(&denied).unwrap().root_user;
                let profile = root.login_profile.as_mut().unwrap();
                profile.created -= TimeDelta::days(1);
                root.password_last_used = root.password_last_used.map(|t| t - TimeDelta::days(1));
            });
        }
        let run = harness.sweep(Mode::Enforce, &EVIDENCE).await;
        let line = run
            .lines
            .iter()
            .find(|l| l["account_id"] == denied.as_str())
            .unwrap();
        assert_eq!(
            (line["outcome"].as_str(), line["stage"].as_str()),
            (Some("failed"), Some("remove"))
        );
        let time = |v: &Value| v.as_str().unwrap().parse::<DateTime<Utc>>().unwrap();
        exposures.push((time(&line["finished_at"]) - time(&line["due_at"])).num_seconds());
    }
    // The JSON evidence: three nights past grace, the third two days later than the first.
    let json: Value = serde_json::from_slice(&evidence_cli(&harness, "json").await).unwrap();
    let account = json["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["account_id"] == denied.as_str())
        .unwrap();
    assert_eq!(account["runs_past_grace"], 3);
    assert_eq!(account["past_grace_at_end"], true);
    let longest = account["longest_past_grace_seconds"].as_i64().unwrap();
    assert_eq!(longest, exposures[2]);
    assert!(
        (longest - exposures[0] - 2 * 86_400).abs() < 60,
        "{exposures:?}"
    );
    let counts: Vec<u64> = json["run_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["accounts_past_grace"].as_u64().unwrap())
        .collect();
    // The first night every due account was past grace (the others then remediated).
    assert_eq!(counts, [due(&org, Exemption::Tag).len() as u64, 1, 1]);
    check_html_page(&evidence_cli(&harness, "html").await, &json);
    harness.shutdown().await;
}

/// The HTML evidence in headless Chromium: it renders, the chart has a bar per run with the
/// JSON's counts at heights in proportion, and every figure is the JSON evidence's.
fn check_html_page(page: &[u8], json: &Value) {
    use rootsweep_testkit::browser::{elements, render, text_after};
    let path = std::env::temp_dir().join(format!("rootsweep-evidence-{}.html", std::process::id()));
    std::fs::write(&path, page).unwrap();
    let rendered = render(&path, 1000, 1200);
    let _ = std::fs::remove_file(&path);
    let dom = &rendered.dom;
    let figure = |name: &str| text_after(dom, &format!("data-figure=\"{name}\"")).unwrap();
    assert_eq!(figure("runs"), json["runs"].to_string());
    assert_eq!(
        figure("accounts_audited"),
        json["accounts_audited"].to_string()
    );
    let incomplete = json["incomplete_runs"].as_array().unwrap().len();
    assert_eq!(figure("incomplete_runs"), incomplete.to_string());
    let accounts = json["accounts"].as_array().unwrap();
    assert_eq!(figure("accounts_reported"), accounts.len().to_string());
    let bars = elements(dom, "rect");
    let runs = json["run_list"].as_array().unwrap();
    assert_eq!(bars.len(), runs.len(), "a bar per run");
    let top = runs
        .iter()
        .map(|r| r["accounts_past_grace"].as_f64().unwrap())
        .fold(1.0, f64::max);
    for (bar, run) in bars.iter().zip(runs) {
        let count = run["accounts_past_grace"].as_f64().unwrap();
        assert_eq!(bar["data-run"], run["run_id"].as_str().unwrap());
        assert_eq!(bar["data-count"].parse::<f64>().unwrap(), count);
        let height: f64 = bar["height"].parse().unwrap();
        assert!(
            (height - count * 180.0 / top).abs() <= 1.0,
            "{bar:?} for {count} of {top}"
        );
    }
    // Every account's row: the JSON's figures.
    for account in accounts {
        let id = account["account_id"].as_str().unwrap();
        let start = dom
            .find(&format!("<tr data-account=\"{id}\""))
            .expect("a row");
        let row = &dom[start..start + dom[start..].find("</tr>").unwrap()];
        let cells = elements(row, "td");
        let value = |field: &str| {
            cells
                .iter()
                .find(|c| c.get("data-field").map(String::as_str) == Some(field))
                .map(|c| c["data-value"].clone())
                .unwrap()
        };
        for field in ["runs", "runs_past_grace", "longest_past_grace_seconds"] {
            assert_eq!(value(field), account[field].to_string(), "{id} {field}");
        }
        assert_eq!(
            value("last_outcome"),
            account["last_outcome"].as_str().unwrap()
        );
    }
    // Drawn: the screenshot has the bars' red.
    let red = rendered.screenshot.count([0xb3, 0x26, 0x1e], 8);
    assert!(red > 500, "{red} bar pixels in the screenshot");
}

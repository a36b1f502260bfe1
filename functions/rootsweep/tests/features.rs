//! The optional features on the fakes: follow-ups after a recovery, the run archive, Security Hub
//! findings. None of them may ever change an account's outcome.

use chrono::{DateTime, TimeDelta, Utc};
use rootsweep::Config;
use rootsweep::config::Mode;
use rootsweep::engine::RunOptions;
use rootsweep::event::{Recovery, RunRequest, Scope};
use rootsweep::evidence;
use rootsweep::findings::finding_id;
use rootsweep::followup::{FollowUpAction, FollowUpReason, MARGIN, MAX_CHAIN, RETRY_AFTER};
use rootsweep::outcome::OutcomeKind;
use rootsweep::ports::AwsErrorKind;
use rootsweep::report::{JsonLines, Report};
use rootsweep_testkit::capture::{self, FUNCTION_ARN};
use rootsweep_testkit::fake::{FakeAws, FaultBuilder as Fault, member};
use rootsweep_testkit::{ReportExt, days_ago, enforcing_with, hours_ago, id};

const GROUP: &str = "rootsweep-follow-ups";
const INVOKE_ROLE: &str = "arn:aws:iam::999999999999:role/rootsweep-invoke";

fn with_follow_ups(extra: &[(&str, &str)]) -> Config {
    let mut pairs = vec![
        ("ROOTSWEEP_FOLLOW_UP_GROUP", GROUP),
        ("ROOTSWEEP_FOLLOW_UP_ROLE_ARN", INVOKE_ROLE),
    ];
    pairs.extend_from_slice(extra);
    enforcing_with(&pairs)
}

async fn run(aws: &FakeAws, config: Config, request: RunRequest) -> Report {
    capture::run(&aws.engine(config), &request, capture::options())
        .await
        .report()
        .clone()
}

fn follow_up_run(account: u64, chain: u32) -> RunRequest {
    RunRequest {
        mode: Mode::Enforce,
        scope: Scope::Accounts([id(account)].into()),
        follow_up: Some(chain),
    }
}

#[tokio::test]
async fn a_recovery_is_followed_up_once_at_its_due_time_with_a_targeted_run() {
    let aws = FakeAws::new().with(member(7));
    let engine = aws.engine(with_follow_ups(&[("ROOTSWEEP_GRACE_PERIOD", "4h")]));
    let recovered: DateTime<Utc> = hours_ago(1);
    let recovery = Recovery {
        account: id(7),
        at: recovered,
        event_id: "e1".into(),
    };
    let first = engine
        .follow_recovery(
            &recovery,
            capture::options(),
            &JsonLines::new(std::io::sink()),
        )
        .await;
    let follow_up = first.follow_up.expect("scheduled");
    assert_eq!(follow_up.action, FollowUpAction::Created);
    assert_eq!(follow_up.at, recovered + TimeDelta::hours(4) + MARGIN);
    let schedules = aws.world().schedules.clone();
    assert_eq!(schedules.len(), 1);
    let schedule = schedules.values().next().unwrap();
    assert_eq!(
        (schedule.target_arn.as_str(), schedule.role_arn.as_str()),
        (FUNCTION_ARN, INVOKE_ROLE)
    );
    assert_eq!(
        schedule.input,
        r#"{"accounts":["000000000007"],"follow_up":1}"#
    );
    // The same event again (EventBridge delivers at least once): no second schedule.
    let again = engine
        .follow_recovery(
            &recovery,
            capture::options(),
            &JsonLines::new(std::io::sink()),
        )
        .await;
    assert_eq!(again.follow_up.unwrap().action, FollowUpAction::Kept);
    assert_eq!(aws.world().schedules.len(), 1);
    assert_eq!(
        aws.count("sts:AssumeRoot"),
        0,
        "scheduling reads no account"
    );
}

#[tokio::test]
async fn a_follow_up_that_finds_a_later_sign_in_follows_the_account_again_at_its_new_due_time() {
    let signed_in = hours_ago(2);
    let aws = FakeAws::new().with(member(7).password(Some(days_ago(30))).signed_in(signed_in));
    let report = run(&aws, with_follow_ups(&[]), follow_up_run(7, 1)).await;
    assert_eq!(report.kind_of(&id(7)), OutcomeKind::InGrace);
    let follow_up = &report.summary.follow_ups[0];
    assert_eq!(
        (follow_up.reason, follow_up.action, follow_up.at),
        (
            FollowUpReason::InGrace,
            FollowUpAction::Created,
            signed_in + TimeDelta::hours(72) + MARGIN
        )
    );
    let schedule = aws.world().schedules.values().next().unwrap().clone();
    assert!(
        schedule.input.contains(r#""follow_up":2"#),
        "{}",
        schedule.input
    );
    // When the chain has run its course, the nightly sweep takes over.
    let report = run(&aws, with_follow_ups(&[]), follow_up_run(7, MAX_CHAIN)).await;
    assert_eq!(report.summary.follow_ups[0].action, FollowUpAction::Skipped);
}

#[tokio::test]
async fn in_grace_accounts_of_a_sweep_are_followed_up_only_when_the_setting_asks() {
    let aws = || FakeAws::new().with_all([member(1).password(Some(hours_ago(5))), member(2)]);
    let (off, on) = (aws(), aws());
    let report = run(
        &off,
        with_follow_ups(&[]),
        RunRequest::scheduled(Mode::Enforce),
    )
    .await;
    assert!(report.summary.follow_ups.is_empty());
    assert!(off.world().schedules.is_empty());
    let asked = with_follow_ups(&[("ROOTSWEEP_FOLLOW_UP_IN_GRACE", "true")]);
    let report = run(&on, asked, RunRequest::scheduled(Mode::Enforce)).await;
    let accounts: Vec<_> = report
        .summary
        .follow_ups
        .iter()
        .map(|f| f.account_id.clone())
        .collect();
    assert_eq!(accounts, [id(1)]);
}

#[tokio::test]
async fn an_account_aws_will_not_finish_yet_is_followed_up_minutes_later_not_tomorrow() {
    let recovered = Some(hours_ago(73));
    let aws = FakeAws::new()
        .with(member(1).password(recovered).virtual_mfa("root", recovered))
        .fault(Fault::coded(
            "iam:DeactivateMFADevice",
            AwsErrorKind::Other,
            "EntityTemporarilyUnmodifiable",
            "Invalid MFA device",
        ));
    let before = Utc::now();
    let report = run(
        &aws,
        with_follow_ups(&[]),
        RunRequest::scheduled(Mode::Enforce),
    )
    .await;
    assert_eq!(report.kind_of(&id(1)), OutcomeKind::RetryLater);
    let follow_up = &report.summary.follow_ups[0];
    assert_eq!(follow_up.reason, FollowUpReason::RetryLater);
    assert!(follow_up.at >= before + RETRY_AFTER && follow_up.at <= Utc::now() + RETRY_AFTER);
    assert_eq!(aws.metric("FollowUpsCreated"), Some(1.0));
    assert_eq!(aws.metric("FollowUpsFailed"), Some(0.0));
}

#[tokio::test]
async fn a_scheduler_that_fails_is_reported_and_changes_no_outcome() {
    let aws = FakeAws::new()
        .with(member(1).password(Some(hours_ago(5))))
        .fault(Fault::error(
            "scheduler:CreateSchedule",
            AwsErrorKind::AccessDenied,
        ));
    let report = run(
        &aws,
        with_follow_ups(&[("ROOTSWEEP_FOLLOW_UP_IN_GRACE", "true")]),
        RunRequest::scheduled(Mode::Enforce),
    )
    .await;
    assert_eq!(report.kind_of(&id(1)), OutcomeKind::InGrace);
    let follow_up = &report.summary.follow_ups[0];
    assert_eq!(follow_up.action, FollowUpAction::Failed);
    assert!(
        follow_up
            .detail
            .as_deref()
            .unwrap()
            .contains("scheduler:CreateSchedule")
    );
}

fn with_evidence(extra: &[(&str, &str)]) -> Config {
    let mut pairs = vec![
        ("ROOTSWEEP_ARCHIVE", "s3://evidence-bucket/rootsweep"),
        ("ROOTSWEEP_SECURITY_HUB", "true"),
    ];
    pairs.extend_from_slice(extra);
    enforcing_with(&pairs)
}

#[tokio::test]
async fn a_run_archives_exactly_its_report_under_its_date() {
    let aws = FakeAws::new().with_all([member(1), member(2).with_everything_old()]);
    let run = capture::run(
        &aws.engine(with_evidence(&[])),
        &RunRequest::scheduled(Mode::Enforce),
        capture::options(),
    )
    .await;
    let summary = &run.report().summary;
    let archived = summary.archive.clone().expect("archived");
    assert_eq!(archived.error, None);
    let (date, time) = (
        summary.started_at.format("%Y-%m-%d"),
        summary.started_at.format("%H%M%S%.3f"),
    );
    assert_eq!(
        archived.key,
        format!("rootsweep/runs/date={date}/{time}Z-test-run.jsonl.gz")
    );
    let object = aws.world().objects[&archived.key].clone();
    assert_eq!(
        crate::gunzip_lines(&object),
        run.lines,
        "the archive holds the report lines as logged"
    );
}

#[tokio::test]
async fn evidence_read_back_says_how_long_each_account_held_credentials_past_grace() {
    let aws = FakeAws::new().with_all([member(1), member(2).with_everything_old()]);
    let config = with_evidence(&[]);
    let engine = aws.engine(config.clone());
    for run_id in ["night-1", "night-2"] {
        let options = RunOptions {
            run_id: run_id.into(),
            ..capture::options()
        };
        capture::run(&engine, &RunRequest::scheduled(Mode::Enforce), options).await;
    }
    let location = config.archive.unwrap();
    let since = (Utc::now() - TimeDelta::days(1)).date_naive();
    let evidence = evidence::read(&aws, &location, since).await.unwrap();
    assert_eq!(evidence.runs, 2);
    let worst = &evidence.accounts[0];
    assert_eq!(worst.account_id, "000000000002");
    // Its credentials were 30 days old against a 72 h grace: 27 days past it when deleted.
    let past = TimeDelta::seconds(worst.longest_past_grace_seconds);
    assert!(
        past > TimeDelta::days(26) && past < TimeDelta::days(28),
        "{past}"
    );
    assert_eq!(worst.last_outcome, "clean", "remediated by the first night");
}

#[tokio::test]
async fn findings_go_from_active_to_archived_as_accounts_are_remediated() {
    let aws = FakeAws::new().with_all([member(1), member(2).with_everything_old()]);
    let audit = with_evidence(&[("ROOTSWEEP_MODE", "audit")]);
    run(&aws, audit.clone(), RunRequest::scheduled(Mode::Audit)).await;
    let finding = |n| aws.world().findings.get(&finding_id(&id(n))).cloned();
    let due = finding(2).expect("a finding for the due account");
    assert_eq!(
        (due.severity.as_str(), due.compliance, due.record_state),
        ("HIGH", "FAILED", "ACTIVE")
    );
    assert!(finding(1).is_none(), "no finding for a clean account");
    let report = run(
        &aws,
        with_evidence(&[]),
        RunRequest::scheduled(Mode::Enforce),
    )
    .await;
    assert_eq!(report.kind_of(&id(2)), OutcomeKind::Remediated);
    let after = finding(2).unwrap();
    assert_eq!(
        (after.compliance, after.record_state),
        ("PASSED", "ARCHIVED")
    );
    let published = report.summary.findings.clone().unwrap();
    assert_eq!((published.imported, published.archived), (1, 1));
}

#[tokio::test]
async fn an_archive_or_findings_failure_is_reported_with_a_metric_and_changes_no_outcome() {
    let aws = FakeAws::new()
        .with(member(2).with_everything_old())
        .fault(Fault::error("s3:PutObject", AwsErrorKind::AccessDenied))
        .fault(Fault::error(
            "securityhub:BatchImportFindings",
            AwsErrorKind::ServiceUnavailable,
        ));
    let report = run(
        &aws,
        with_evidence(&[]),
        RunRequest::scheduled(Mode::Enforce),
    )
    .await;
    assert_eq!(report.kind_of(&id(2)), OutcomeKind::Remediated);
    let error = report.summary.archive.clone().unwrap().error.unwrap();
    assert!(error.contains("s3:PutObject"), "{error}");
    assert_eq!(report.summary.findings.clone().unwrap().failed.len(), 1);
    assert_eq!(aws.metric("ArchiveFailed"), Some(1.0));
    assert_eq!(aws.metric("FindingsFailed"), Some(1.0));
}

/// `infra/tests/fixtures/report_lines.jsonl`: report lines with every field the function
/// writes, made by the function's own writer, which the infrastructure tests check the Athena
/// table and queries against. `ROOTSWEEP_BLESS=1` rewrites it after a change of the format.
#[test]
fn the_athena_fixture_is_what_the_function_writes() {
    use rootsweep::credentials::{Credential, CredentialKind, TaskPolicy};
    use rootsweep::findings::Published;
    use rootsweep::outcome::{Action, ActionKind, Failure, Outcome, SessionRecord, Stage};
    use rootsweep::ports::AwsError;
    use rootsweep::reasons::{Cause, ExemptRule, Note};
    use rootsweep::report::{Archived, Exemption};
    use rootsweep::report::{JsonLines, ReportSink, RunFacts, RunSummary};
    let at = |text: &str| text.parse::<chrono::DateTime<Utc>>().unwrap();
    let due_at = at("2026-11-20T03:00:00Z");
    let account = |n: u64, outcome: Outcome| {
        let mut report = rootsweep::outcome::AccountReport::new(
            id(n),
            format!("member-{n}"),
            Some(rootsweep::account::AccountState::Active),
            outcome,
        );
        report.finished_at = at("2026-11-23T03:00:05Z");
        report
    };
    let mut remediated = account(1, Outcome::Remediated { due_at });
    let mut key = Credential::new(
        CredentialKind::AccessKey,
        "AKIAEXAMPLE",
        Some(at("2026-01-01T00:00:00Z")),
    );
    key.last_used = Some(at("2026-02-01T00:00:00Z"));
    key.status = Some("Active".into());
    remediated.credentials = vec![Credential::password(Some(at("2026-01-01T00:00:00Z"))), key];
    remediated.password_last_used = Some(at("2026-11-17T03:00:00Z"));
    remediated.actions = vec![Action {
        action: ActionKind::Deleted,
        kind: CredentialKind::Password,
        id: "login-profile".into(),
    }];
    remediated.note(Note::Verified);
    remediated.date_anomalies = vec![rootsweep::reasons::DateAnomaly {
        item: rootsweep::reasons::DatedItem::PasswordLastUsed,
        issue: rootsweep::reasons::DateIssue::Missing,
    }];
    remediated.root_sessions = vec![SessionRecord {
        task_policy: TaskPolicy::Delete,
        request_id: Some("request-1".into()),
    }];
    let denied = AwsError::new(
        "iam:DeleteLoginProfile",
        AwsErrorKind::AccessDenied,
        "denied",
    );
    let accounts = vec![
        remediated,
        account(
            2,
            Outcome::Failed(
                Failure::new(Stage::Remove, Cause::Aws(denied)).after_due(Some(due_at)),
            ),
        ),
        account(3, Outcome::Exempt(ExemptRule::ListedAccount)),
        account(
            4,
            Outcome::Skipped(rootsweep::reasons::SkipReason::ManagementAccount),
        ),
    ];
    let listing = AwsError::new(
        "organizations:ListAccounts",
        AwsErrorKind::Throttled,
        "slow",
    );
    let facts = RunFacts {
        run_id: "fixture-run".into(),
        mode: Mode::Enforce,
        grace: rootsweep::config::GracePeriod::parse("72h").unwrap(),
        started_at: at("2026-11-23T03:00:00Z"),
        duration_seconds: 5.5,
        whole_organization: true,
        listing_error: Some(rootsweep::reasons::ListingStop::Failed(listing)),
        listing_reused_from: Some(at("2026-11-21T03:00:00Z")),
        held: Some(rootsweep::reasons::HoldReason::IncompleteView),
        audit_order_seed: 7,
    };
    let mut summary = RunSummary::new(facts, &accounts);
    summary.archive = Some(Archived {
        key: "rootsweep/runs/date=2026-11-23/x.jsonl.gz".into(),
        error: None,
    });
    summary.findings = Some(Published {
        imported: 2,
        archived: 1,
        failed: Vec::new(),
        error: None,
    });
    summary.metrics_error = Some("throttled".into());
    summary.ledger = Some(rootsweep::ledger::LedgerSummary::new(
        rootsweep::ledger::LedgerState::Updated,
        Some("s3://state/rootsweep/ledger.json.gz".into()),
        None,
    ));
    assert_eq!(
        summary.exemptions,
        [Exemption {
            account_id: "000000000003".into(),
            rule: ExemptRule::ListedAccount.to_string()
        }]
    );
    let lines = JsonLines::new(Vec::new());
    for report in &accounts {
        lines.account(&summary.run_id, report);
    }
    lines.summary(&summary);
    let written = String::from_utf8(lines.into_inner()).unwrap();
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../infra/tests/fixtures/report_lines.jsonl"
    );
    if std::env::var_os("ROOTSWEEP_BLESS").is_some() {
        std::fs::write(path, &written).unwrap();
    }
    let fixture = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        fixture == written,
        "{path} is not what the function writes: run this test with ROOTSWEEP_BLESS=1 and check the diff"
    );
}

//! The engine's promises, on in-memory fakes of its ports: each test arranges an organization in
//! a line or two and asserts on outcomes and on the calls AWS would have seen.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use rootsweep::Config;
use rootsweep::account::{AccountId, AccountState, Partition};
use rootsweep::config::Mode;
use rootsweep::credentials::{CredentialKind, TaskPolicy};
use rootsweep::engine::RunOptions;
use rootsweep::event::{RunRequest, Scope};
use rootsweep::outcome::AccountReport;
use rootsweep::outcome::{ActionKind, Outcome, OutcomeKind, Stage};
use rootsweep::ports::AwsErrorKind;
use rootsweep::preflight::PreflightError;
use rootsweep::reasons::{Cause, ExemptRule, HoldReason, LeftBecause, Note, SkipReason};
use rootsweep::report::{Report, ReportSink, RunSummary};
use rootsweep_testkit::capture::{self, Run};
use rootsweep_testkit::fake::{Answer, FakeAws, FaultBuilder as Fault, MANAGEMENT, member};
use rootsweep_testkit::{ReportExt, days_ago, enforcing, enforcing_with, hours_ago, id};

async fn run(aws: &FakeAws, config: Config) -> Report {
    let request = RunRequest::scheduled(config.mode);
    run_request(aws, config, request).await.report().clone()
}

async fn run_request(aws: &FakeAws, config: Config, request: RunRequest) -> Run {
    capture::run(&aws.engine(config), &request, capture::options()).await
}

fn named(ids: &[u64]) -> RunRequest {
    RunRequest {
        mode: Mode::Enforce,
        scope: Scope::Accounts(ids.iter().map(|n| id(*n)).collect()),
        follow_up: None,
    }
}

#[tokio::test]
async fn a_clean_account_costs_three_calls_and_is_left_untouched() {
    let aws = FakeAws::new().with(member(1));
    let report = run(&aws, enforcing()).await;
    assert_eq!(report.kind_of(&id(1)), OutcomeKind::Clean);
    assert_eq!(
        aws.calls_for(&id(1)),
        [
            "sts:AssumeRoot",
            "iam:GetAccountSummary",
            "iam:GetLoginProfile"
        ]
    );
}

#[tokio::test]
async fn a_password_used_yesterday_is_in_grace_until_the_grace_period_after_that_sign_in() {
    let signed_in = days_ago(1);
    let aws = FakeAws::new().with(member(1).password(Some(days_ago(40))).signed_in(signed_in));
    let report = run(&aws, enforcing()).await;
    assert_eq!(
        *report.outcome_of(&id(1)),
        Outcome::InGrace {
            due_at: signed_in + TimeDelta::hours(72)
        }
    );
    assert!(aws.sessions(TaskPolicy::Delete).is_empty());
}

#[tokio::test]
async fn due_credentials_are_removed_in_order_in_a_delete_session_and_read_back() {
    let aws = FakeAws::new().with(member(1).with_everything_old());
    let report = run(&aws, enforcing()).await;
    let account = report.account(&id(1));
    assert_eq!(account.outcome.kind(), OutcomeKind::Remediated);
    assert!(aws.credentials_of(&id(1)).is_empty());
    let removals: Vec<&str> = aws
        .calls_for(&id(1))
        .into_iter()
        .filter(|op| op.contains("Delete") || op.contains("Deactivate"))
        .collect();
    assert_eq!(
        removals,
        [
            "iam:DeleteLoginProfile",
            "iam:DeleteAccessKey",
            "iam:DeleteSigningCertificate",
            "iam:DeactivateMFADevice",
        ]
    );
    let kinds: Vec<(ActionKind, CredentialKind)> =
        account.actions.iter().map(|a| (a.action, a.kind)).collect();
    assert_eq!(
        kinds,
        [
            (ActionKind::Deleted, CredentialKind::Password),
            (ActionKind::Deleted, CredentialKind::AccessKey),
            (ActionKind::Deleted, CredentialKind::SigningCertificate),
            (ActionKind::Deactivated, CredentialKind::MfaDevice),
        ]
    );
    assert!(account.notes.contains(&Note::Verified));
    let tasks: Vec<TaskPolicy> = account
        .root_sessions
        .iter()
        .map(|s| s.task_policy)
        .collect();
    assert_eq!(tasks, [TaskPolicy::Audit, TaskPolicy::Delete]);
}

#[tokio::test]
async fn audit_mode_reports_due_credentials_and_opens_no_delete_session() {
    let aws = FakeAws::new().with(member(1).with_everything_old());
    let report = run(&aws, Config::default()).await;
    assert!(matches!(
        report.outcome_of(&id(1)),
        Outcome::Due {
            held: Some(HoldReason::AuditMode),
            ..
        }
    ));
    assert!(aws.sessions(TaskPolicy::Delete).is_empty());
    assert_eq!(aws.credentials_of(&id(1)).len(), 4);
}

#[tokio::test]
async fn a_sign_in_between_audit_and_delete_session_stops_the_deletion() {
    let aws = FakeAws::new()
        .with(member(1).password(Some(days_ago(30))))
        .before_delete_session(&id(1), |root| root.password_last_used = Some(Utc::now()));
    let report = run(&aws, enforcing()).await;
    assert_eq!(report.kind_of(&id(1)), OutcomeKind::InGrace);
    assert!(report.account(&id(1)).notes.contains(&Note::NewerActivity));
    assert_eq!(aws.count("iam:DeleteLoginProfile"), 0);
}

#[tokio::test]
async fn credentials_someone_else_removed_first_count_as_gone() {
    let aws = FakeAws::new()
        .with(
            member(1)
                .password(Some(days_ago(30)))
                .key("AKIAOLD", Some(days_ago(30))),
        )
        // Someone removes the key between our re-read and our delete call.
        .before(
            |c| c.operation == "iam:DeleteAccessKey",
            |w| {
                w.member(&id(1))
                    .unwrap()
                    .root
                    .credentials
                    .retain(|c| c.kind != CredentialKind::AccessKey)
            },
        );
    let report = run(&aws, enforcing()).await;
    let account = report.account(&id(1));
    assert_eq!(account.outcome.kind(), OutcomeKind::Remediated);
    assert!(
        account
            .actions
            .iter()
            .any(|a| a.action == ActionKind::AlreadyGone && a.kind == CredentialKind::AccessKey)
    );
    assert_eq!(
        report.summary.credentials_deleted[&CredentialKind::AccessKey],
        0
    );
}

#[tokio::test]
async fn access_denied_on_one_account_fails_only_that_account_and_names_the_likely_causes() {
    let aws = FakeAws::new()
        .with_all([1, 2, 3].map(|n| member(n).with_everything_old()))
        .fault(Fault::error("sts:AssumeRoot", AwsErrorKind::AccessDenied).for_account(&id(2)));
    let report = run(&aws, enforcing()).await;
    assert_eq!(report.kind_of(&id(1)), OutcomeKind::Remediated);
    assert_eq!(report.kind_of(&id(3)), OutcomeKind::Remediated);
    let Outcome::Failed(failure) = report.outcome_of(&id(2)) else {
        panic!("account 2 should have failed");
    };
    assert_eq!(failure.stage, Stage::AssumeRootAudit);
    assert!(matches!(&failure.cause, Cause::Aws(e) if e.kind == AwsErrorKind::AccessDenied));
    assert!(failure.cause.to_string().contains("aws:AssumedRoot"));
    assert_eq!(report.summary.attention.len(), 1);
}

#[tokio::test]
async fn management_inactive_and_exempt_accounts_are_reported_and_never_assumed() {
    let management: u64 = MANAGEMENT.parse().unwrap();
    let aws = FakeAws::new().with_all([
        member(management).with_everything_old(),
        member(1)
            .with_everything_old()
            .state(AccountState::Suspended),
        member(2).with_everything_old(),
        member(3).with_everything_old(),
    ]);
    let report = run(
        &aws,
        enforcing_with(&[("ROOTSWEEP_EXEMPT_ACCOUNTS", "000000000002")]),
    )
    .await;
    assert_eq!(
        *report.outcome_of(&id(management)),
        Outcome::Skipped(SkipReason::ManagementAccount)
    );
    assert_eq!(
        *report.outcome_of(&id(1)),
        Outcome::Skipped(SkipReason::NotActive(AccountState::Suspended))
    );
    assert_eq!(
        *report.outcome_of(&id(2)),
        Outcome::Exempt(ExemptRule::ListedAccount)
    );
    assert_eq!(report.kind_of(&id(3)), OutcomeKind::Remediated);
    let assumed: BTreeSet<AccountId> = aws.sessions(TaskPolicy::Audit).into_iter().collect();
    assert_eq!(assumed, BTreeSet::from([id(3)]));
}

#[tokio::test]
async fn a_named_run_covers_only_its_accounts_says_which_it_could_not_find_and_stops_listing() {
    let aws = FakeAws::new()
        .with_all((1..=45).map(|n| member(n).with_everything_old()))
        .edit(|w| w.page_size = 20);
    let run = run_request(&aws, enforcing(), named(&[2, 5, 99])).await;
    let report = run.report();
    let reported: BTreeSet<AccountId> = report
        .accounts
        .iter()
        .map(|a| a.account_id.clone())
        .collect();
    assert_eq!(reported, BTreeSet::from([id(2), id(5), id(99)]));
    assert_eq!(report.kind_of(&id(2)), OutcomeKind::Remediated);
    assert_eq!(
        *report.outcome_of(&id(99)),
        Outcome::Skipped(SkipReason::NotInOrganization)
    );
    assert!(!report.summary.whole_organization);
    // 99 is not there: every page is read.
    assert_eq!(aws.count("organizations:ListAccounts"), 3);
    let aws = FakeAws::new().with_all((1..=45).map(member));
    run_request(&aws, enforcing(), named(&[2, 5])).await;
    assert_eq!(
        aws.count("organizations:ListAccounts"),
        1,
        "both are on the first page"
    );
}

#[tokio::test]
async fn each_preflight_failure_stops_the_run_before_any_root_session_and_says_what_to_do() {
    let cases = [
        (
            "AccountNotManagementOrDelegatedAdministratorException",
            "register-delegated-administrator",
        ),
        (
            "OrganizationNotFoundException",
            "not in an AWS Organization",
        ),
        (
            "OrganizationNotInAllFeaturesModeException",
            "enable-all-features",
        ),
        (
            "ServiceAccessNotEnabledException",
            "enable-aws-service-access",
        ),
    ];
    for (code, remedy) in cases {
        let aws = FakeAws::new()
            .with(member(1).with_everything_old())
            .fault(Fault::coded(
                "iam:ListOrganizationsFeatures",
                AwsErrorKind::Other,
                code,
                "no",
            ));
        let run = run_request(&aws, enforcing(), RunRequest::scheduled(Mode::Enforce)).await;
        let err = run.result.expect_err(code);
        assert!(err.to_string().contains(remedy), "{code}: {err}");
        assert_eq!(aws.count("sts:AssumeRoot"), 0);
    }
    let aws = FakeAws::new().edit(|w| w.features = vec!["RootCredentialsManagement".into()]);
    let err = run_request(&aws, enforcing(), RunRequest::scheduled(Mode::Enforce))
        .await
        .result
        .unwrap_err();
    assert_eq!(err, PreflightError::FeaturesDisabled(vec!["RootSessions"]));
    let aws = FakeAws::new().fault(Fault::coded(
        "organizations:DescribeOrganization",
        AwsErrorKind::Other,
        "AWSOrganizationsNotInUseException",
        "no org",
    ));
    let err = run_request(&aws, enforcing(), RunRequest::scheduled(Mode::Enforce))
        .await
        .result
        .unwrap_err();
    assert_eq!(err, PreflightError::NoOrganization);
}

#[tokio::test(start_paused = true)]
async fn near_the_deadline_no_account_is_started_and_each_is_reported_not_reached() {
    let aws = FakeAws::new().with_all((1..=3).map(|n| member(n).with_everything_old()));
    let options = RunOptions {
        run_id: "late".into(),
        // 60 s before the deadline: the README's cutoff, not one account is started.
        deadline: Some(tokio::time::Instant::now() + Duration::from_secs(60)),
        ..capture::options()
    };
    let report = capture::run(
        &aws.engine(enforcing()),
        &RunRequest::scheduled(Mode::Enforce),
        options,
    )
    .await
    .report()
    .clone();
    for n in 1..=3 {
        assert!(matches!(report.outcome_of(&id(n)), Outcome::NotReached(_)));
    }
    assert_eq!(aws.count("sts:AssumeRoot"), 0);
    assert_eq!(report.summary.count(OutcomeKind::NotReached), 3);
}

fn invalid_mfa(code: &str) -> Fault {
    Fault::coded(
        "iam:DeactivateMFADevice",
        AwsErrorKind::Other,
        code,
        "Invalid MFA device: the device cannot be deactivated right now",
    )
}

#[tokio::test]
async fn mfa_that_aws_will_not_deactivate_yet_is_retried_later_not_failed() {
    // Due an hour ago: a password recovered 73 h ago, with a new MFA device.
    let recovered = Some(hours_ago(73));
    let aws = FakeAws::new()
        .with(member(1).password(recovered).virtual_mfa("root", recovered))
        .fault(invalid_mfa("EntityTemporarilyUnmodifiable"));
    let report = run(&aws, enforcing()).await;
    assert_eq!(report.kind_of(&id(1)), OutcomeKind::RetryLater);
    assert_eq!(report.summary.count(OutcomeKind::RetryLater), 1);
    assert_eq!(report.summary.attention[0].outcome, OutcomeKind::RetryLater);
}

#[tokio::test]
async fn a_refusal_that_only_mentions_an_invalid_mfa_device_fails_the_account() {
    let aws = FakeAws::new()
        .with(member(1).with_everything_old())
        .fault(invalid_mfa("InvalidInput"));
    let report = run(&aws, enforcing()).await;
    let Outcome::Failed(failure) = report.outcome_of(&id(1)) else {
        panic!("{:?}", report.outcome_of(&id(1)));
    };
    assert_eq!(failure.stage, Stage::Remove);
}

#[tokio::test]
async fn mfa_still_refused_a_day_after_the_account_became_due_fails_it() {
    // The README's 24 h, either side: due 23 h ago, retried later; due 25 h ago, failed.
    let due_since = |hours| Some(Utc::now() - TimeDelta::hours(72) - TimeDelta::hours(hours));
    let aws = FakeAws::new()
        .with_all([
            member(1).virtual_mfa("root", due_since(23)),
            member(2).virtual_mfa("root", due_since(25)),
        ])
        .fault(invalid_mfa("EntityTemporarilyUnmodifiable"));
    let report = run(&aws, enforcing()).await;
    assert_eq!(report.kind_of(&id(1)), OutcomeKind::RetryLater);
    let Outcome::Failed(failure) = report.outcome_of(&id(2)) else {
        panic!("{:?}", report.outcome_of(&id(2)));
    };
    assert!(matches!(failure.cause, Cause::MfaStillRefused { .. }));
}

#[tokio::test]
async fn more_due_accounts_than_the_cap_deletes_nothing_and_says_how_to_proceed() {
    let aws = FakeAws::new().with_all((1..=3).map(|n| member(n).with_everything_old()));
    let report = run(&aws, enforcing_with(&[("ROOTSWEEP_MAX_REMEDIATIONS", "2")])).await;
    for n in 1..=3 {
        assert_eq!(
            *report.outcome_of(&id(n)),
            Outcome::Due {
                due_at: report.outcome_of(&id(n)).due_at().unwrap(),
                held: Some(HoldReason::OverCap {
                    due: 3,
                    unknown: 0,
                    elsewhere: 0,
                    spent: 0,
                    cap: 2
                })
            }
        );
    }
    assert!(aws.sessions(TaskPolicy::Delete).is_empty());
    assert!(report.summary.over_remediation_cap);
    assert!(
        report
            .summary
            .remediation_held
            .as_ref()
            .unwrap()
            .contains("raise the cap")
    );
}

#[tokio::test]
async fn accounts_whose_audit_failed_count_against_the_cap() {
    let aws = FakeAws::new()
        .with_all((1..=3).map(|n| member(n).with_everything_old()))
        .fault(Fault::error("iam:GetAccountSummary", AwsErrorKind::Throttled).for_account(&id(2)))
        .fault(Fault::error("iam:GetAccountSummary", AwsErrorKind::Throttled).for_account(&id(3)));
    let report = run(&aws, enforcing_with(&[("ROOTSWEEP_MAX_REMEDIATIONS", "2")])).await;
    assert!(matches!(
        report.outcome_of(&id(1)),
        Outcome::Due {
            held: Some(HoldReason::OverCap {
                due: 1,
                unknown: 2,
                elsewhere: 0,
                spent: 0,
                cap: 2
            }),
            ..
        }
    ));
    assert!(aws.sessions(TaskPolicy::Delete).is_empty());
}

#[tokio::test]
async fn a_listing_that_breaks_off_deletes_nothing_even_within_the_cap() {
    let aws = FakeAws::new()
        .with_all((1..=30).map(|n| member(n).with_everything_old()))
        .edit(|w| w.page_size = 10)
        .fault(Fault::error("organizations:ListAccounts", AwsErrorKind::Throttled).after(1));
    let report = run(
        &aws,
        enforcing_with(&[("ROOTSWEEP_MAX_REMEDIATIONS", "25")]),
    )
    .await;
    assert_eq!(report.accounts.len(), 10, "the first page");
    for account in &report.accounts {
        assert!(matches!(
            account.outcome,
            Outcome::Due {
                held: Some(HoldReason::IncompleteView),
                ..
            }
        ));
    }
    assert!(!report.summary.complete);
    assert!(aws.sessions(TaskPolicy::Delete).is_empty());
}

/// A page that never comes (Organizations throttling for minutes) cannot run the function into
/// its timeout: the listing stops when the plan's time is up, as incomplete, and the run ends
/// with its summary.
#[tokio::test(start_paused = true)]
async fn a_listing_still_waiting_for_a_page_when_the_planning_time_ends_stops_there() {
    let aws = FakeAws::new()
        .with_all((1..=30).map(|n| member(n).with_everything_old()))
        .edit(|w| w.page_size = 10)
        .fault(Fault::on("organizations:ListAccounts", Answer::Hang).after(1));
    // 100 s to the deadline: 40 s to start work in, 30 s of it to plan.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(100);
    let options = RunOptions {
        run_id: "slow-listing".into(),
        deadline: Some(deadline),
        ..capture::options()
    };
    let engine = aws.engine(enforcing());
    let run = capture::run(&engine, &RunRequest::scheduled(Mode::Enforce), options).await;
    let report = run.report();
    assert!(tokio::time::Instant::now() < deadline);
    assert_eq!(report.accounts.len(), 10, "the first page");
    assert!(!report.summary.complete);
    let why = report.summary.listing_error.as_deref().unwrap_or_default();
    assert!(why.contains("time for planning ran out"), "{why}");
    assert!(aws.sessions(TaskPolicy::Delete).is_empty());
}

#[tokio::test]
async fn an_account_listed_twice_is_audited_reported_and_counted_once() {
    let twice = member(1).with_everything_old();
    let aws = FakeAws::new().with_all([twice.clone(), member(2), twice]);
    // A cap of one: counted twice, the account would be held over the cap.
    let report = run(&aws, enforcing_with(&[("ROOTSWEEP_MAX_REMEDIATIONS", "1")])).await;
    assert!(!report.summary.over_remediation_cap);
    assert_eq!(report.accounts.len(), 2);
    assert_eq!(aws.sessions(TaskPolicy::Audit).len(), 2);
    assert_eq!(aws.sessions(TaskPolicy::Delete), [id(1)]);
    assert_eq!(report.summary.count(OutcomeKind::Remediated), 1);
}

#[tokio::test]
async fn an_account_held_in_grace_by_an_odd_date_is_counted_named_and_alarmed_on() {
    let aws = FakeAws::new().with_all([
        // Undated key next to an old password; a certificate dated before the account existed.
        member(1)
            .password(Some(days_ago(30)))
            .key("AKIANODATE", None),
        member(2)
            .created(Some(days_ago(100)))
            .certificate("CERTOLD", Some(days_ago(500))),
        member(3).password(Some(days_ago(1))),
    ]);
    let report = run(&aws, enforcing()).await;
    for n in [1, 2] {
        let account = report.account(&id(n));
        assert_eq!(account.outcome.kind(), OutcomeKind::InGrace, "{n}");
        assert!(account.held_by_odd_dates(), "{n}");
        assert_eq!(account.date_anomalies.len(), 1);
    }
    assert!(!report.account(&id(3)).held_by_odd_dates());
    assert_eq!(report.summary.accounts_held_by_odd_dates, 2);
    let named: BTreeSet<AccountId> = report
        .summary
        .attention
        .iter()
        .map(|a| a.account_id.clone())
        .collect();
    assert_eq!(named, BTreeSet::from([id(1), id(2)]));
    assert_eq!(aws.metric("AccountsHeldByOddDates"), Some(2.0));
}

/// Records, when the summary is written, how many calls AWS had seen.
struct CallsAtSummary {
    aws: FakeAws,
    seen: std::sync::Mutex<Option<usize>>,
}

impl ReportSink for CallsAtSummary {
    fn account(&self, _: &str, _: &AccountReport) {}
    fn summary(&self, _: &RunSummary) {
        *self.seen.lock().unwrap() = Some(self.aws.calls().len());
    }
}

/// One summary: written once, after the metrics (the last delivery) are published.
#[tokio::test]
async fn the_summary_is_written_once_everything_is_delivered() {
    let aws = FakeAws::new().with(member(1));
    let sink = CallsAtSummary {
        aws: aws.clone(),
        seen: Default::default(),
    };
    aws.engine(enforcing())
        .run(
            &RunRequest::scheduled(Mode::Enforce),
            capture::options(),
            &sink,
        )
        .await
        .unwrap();
    let at_summary = sink.seen.lock().unwrap().expect("a summary");
    let calls = aws.calls();
    assert_eq!(calls.last().unwrap().operation, "cloudwatch:PutMetricData");
    assert_eq!(at_summary, calls.len(), "no call after the summary");
}

#[tokio::test(start_paused = true)]
async fn publishing_metrics_that_hang_stops_before_the_deadline_and_is_reported() {
    let aws = FakeAws::new()
        .with(member(1))
        .fault(Fault::on("cloudwatch:PutMetricData", Answer::Hang));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
    let options = RunOptions {
        run_id: "r".into(),
        deadline: Some(deadline),
        ..capture::options()
    };
    let run = capture::run(
        &aws.engine(enforcing()),
        &RunRequest::scheduled(Mode::Enforce),
        options,
    )
    .await;
    assert!(tokio::time::Instant::now() < deadline);
    let error = run
        .report()
        .summary
        .metrics_error
        .clone()
        .expect("reported");
    assert!(error.contains("deadline"), "{error}");
    // The summary line was written all the same.
    assert_eq!(run.lines.last().unwrap()["kind"], "run_summary");
}

#[tokio::test]
async fn task_policies_are_asked_for_in_the_callers_partition() {
    let aws = FakeAws::new()
        .with(member(1).with_everything_old())
        .edit(|w| {
            w.caller.arn = "arn:aws-cn:sts::999999999999:assumed-role/rootsweep/run".into();
            w.caller.partition = Partition::of_arn(&w.caller.arn).unwrap();
        });
    let report = run(&aws, enforcing()).await;
    assert_eq!(report.kind_of(&id(1)), OutcomeKind::Remediated);
    let arns: Vec<String> = aws
        .calls()
        .into_iter()
        .filter_map(|c| c.task_policy_arn)
        .collect();
    assert_eq!(
        arns,
        [
            "arn:aws-cn:iam::aws:policy/root-task/IAMAuditRootUserCredentials",
            "arn:aws-cn:iam::aws:policy/root-task/IAMDeleteRootUserCredentials"
        ]
    );
}

#[tokio::test]
async fn a_deactivated_virtual_mfa_device_is_deleted_only_where_the_configuration_allows_it() {
    let aws = FakeAws::new().with(member(1).with_everything_old());
    let report = run(&aws, enforcing()).await;
    assert_eq!(
        aws.count("iam:DeleteVirtualMFADevice"),
        0,
        "no AccessDenied as root by default"
    );
    let left = report.account(&id(1)).notes.iter().any(|n| {
        matches!(
            n,
            Note::VirtualMfaDeviceLeft {
                why: LeftBecause::NotConfigured,
                ..
            }
        )
    });
    assert!(left, "the leftover device is reported");

    let aws = FakeAws::new()
        .with(member(1).with_everything_old())
        .edit(|w| w.delete_policy_allows_virtual_mfa = true);
    let report = run(
        &aws,
        enforcing_with(&[("ROOTSWEEP_DELETE_VIRTUAL_MFA_DEVICES", "true")]),
    )
    .await;
    let account = report.account(&id(1));
    assert!(
        account
            .actions
            .iter()
            .any(|a| a.action == ActionKind::DeletedVirtualMfaDevice)
    );
    assert!(
        aws.world()
            .member(&id(1))
            .unwrap()
            .root
            .unassigned_virtual_mfa
            .is_empty()
    );
}

#[tokio::test(start_paused = true)]
async fn verification_allows_for_iam_eventual_consistency_then_fails_what_stays() {
    // Deleted credentials still listed for two reads; IAM answers AccessDenied to the last use
    // of a deleted key it still lists: verification asks only what is left.
    let aws = FakeAws::new()
        .with(member(1).with_everything_old())
        .edit(|w| w.stale_reads_after_delete = 2);
    let report = run(&aws, enforcing()).await;
    assert_eq!(report.kind_of(&id(1)), OutcomeKind::Remediated);
    let calls = aws.calls_for(&id(1));
    let deleted = calls
        .iter()
        .position(|op| *op == "iam:DeleteAccessKey")
        .expect("the key was deleted");
    assert!(
        !calls[deleted..].contains(&"iam:GetAccessKeyLastUsed"),
        "{calls:?}"
    );

    let aws = FakeAws::new()
        .with(member(1).password(Some(days_ago(30))))
        .edit(|w| w.stale_reads_after_delete = 100);
    let report = run(&aws, enforcing()).await;
    let Outcome::Failed(failure) = report.outcome_of(&id(1)) else {
        panic!("{:?}", report.outcome_of(&id(1)));
    };
    assert_eq!(failure.stage, Stage::Verify);
    assert!(matches!(&failure.cause, Cause::StillPresent { reads: 4, left } if left.len() == 1));
    // The README's pauses between the reads back: 1, 2 and 4 s (on the paused clock, exactly).
    let reads: Vec<_> = aws
        .calls()
        .into_iter()
        .filter(|c| c.operation == "iam:GetLoginProfile" && c.task == Some(TaskPolicy::Delete))
        .map(|c| c.at)
        .collect();
    let (_recheck, verify) = reads
        .split_first()
        .expect("the re-read, then the reads back");
    let pauses: Vec<u128> = verify
        .windows(2)
        .map(|w| (w[1] - w[0]).as_millis())
        .collect();
    assert_eq!(pauses, [1000, 2000, 4000], "ms between the reads back");
}

#[tokio::test]
async fn accounts_in_an_exempt_unit_or_nested_below_it_and_tagged_accounts_are_exempt() {
    let aws = FakeAws::new()
        .with_all([
            member(1).with_everything_old().in_unit("ou-ab12-sandbox1"),
            member(2).with_everything_old().in_unit("ou-ab12-legacy01"),
            member(3)
                .with_everything_old()
                .tag("rootsweep:exempt", "true"),
            member(4)
                .with_everything_old()
                .tag("rootsweep:exempt", "false"),
        ])
        .edit(|w| {
            w.units.insert("ou-ab12-sandbox1".into(), None);
            w.units
                .insert("ou-ab12-legacy01".into(), Some("ou-ab12-sandbox1".into()));
        });
    let report = run(
        &aws,
        enforcing_with(&[
            ("ROOTSWEEP_EXEMPT_OUS", "ou-ab12-sandbox1"),
            ("ROOTSWEEP_EXEMPT_TAG_KEY", "rootsweep:exempt"),
            ("ROOTSWEEP_EXEMPT_TAG_VALUE", "true"),
        ]),
    )
    .await;
    assert!(
        matches!(report.outcome_of(&id(1)), Outcome::Exempt(ExemptRule::Unit { holder, .. }) if holder == "ou-ab12-sandbox1")
    );
    assert!(
        matches!(report.outcome_of(&id(2)), Outcome::Exempt(ExemptRule::Unit { holder, .. }) if holder == "ou-ab12-legacy01")
    );
    assert!(matches!(
        report.outcome_of(&id(3)),
        Outcome::Exempt(ExemptRule::Tag(_))
    ));
    assert_eq!(report.kind_of(&id(4)), OutcomeKind::Remediated);
    assert_eq!(aws.sessions(TaskPolicy::Audit), [id(4)]);
    // Tags are read only for accounts the other rules did not already settle.
    assert_eq!(aws.count("organizations:ListTagsForResource"), 2);
}

#[tokio::test]
async fn exemption_lookups_are_made_only_when_an_exemption_needs_them() {
    let aws = FakeAws::new().with_all((1..=3).map(member));
    run(&aws, enforcing()).await;
    assert_eq!(aws.count("organizations:ListTagsForResource"), 0);
    assert_eq!(aws.count("organizations:ListAccountsForParent"), 0);
}

#[tokio::test]
async fn an_account_whose_tags_cannot_be_read_is_left_alone_and_reported() {
    let aws = FakeAws::new()
        .with_all([
            member(1).with_everything_old(),
            member(2).with_everything_old(),
        ])
        .fault(
            Fault::error(
                "organizations:ListTagsForResource",
                AwsErrorKind::AccessDenied,
            )
            .for_account(&id(1)),
        );
    let report = run(
        &aws,
        enforcing_with(&[("ROOTSWEEP_EXEMPT_TAG_KEY", "break-glass")]),
    )
    .await;
    let Outcome::Failed(failure) = report.outcome_of(&id(1)) else {
        panic!("{:?}", report.outcome_of(&id(1)));
    };
    assert_eq!(failure.stage, Stage::ExemptionCheck);
    assert!(failure.cause.to_string().contains("left alone"));
    assert_eq!(aws.sessions(TaskPolicy::Audit), [id(2)]);
    assert_eq!(report.kind_of(&id(2)), OutcomeKind::Remediated);
}

#[tokio::test]
async fn exempt_units_that_cannot_be_listed_stop_the_run_before_any_root_session() {
    let aws = FakeAws::new()
        .with(member(1).with_everything_old())
        .fault(Fault::error(
            "organizations:ListAccountsForParent",
            AwsErrorKind::AccessDenied,
        ));
    let run = run_request(
        &aws,
        enforcing_with(&[("ROOTSWEEP_EXEMPT_OUS", "ou-ab12-sandbox1")]),
        RunRequest::scheduled(Mode::Enforce),
    )
    .await;
    assert!(matches!(run.result, Err(PreflightError::Exemptions(_))));
    assert_eq!(aws.count("sts:AssumeRoot"), 0);
}

#[tokio::test]
async fn every_account_ends_in_exactly_one_outcome_and_the_summary_counts_them() {
    let aws = FakeAws::new()
        .with_all([
            member(1),
            member(2).password(Some(hours_ago(2))),
            member(3).with_everything_old(),
            member(4).with_everything_old().state(AccountState::Closed),
            member(5).with_everything_old(),
        ])
        .fault(
            Fault::error("iam:ListAccessKeys", AwsErrorKind::ServiceUnavailable)
                .for_account(&id(5)),
        );
    let run = run_request(&aws, enforcing(), RunRequest::scheduled(Mode::Enforce)).await;
    let report = run.report();
    let kinds: Vec<OutcomeKind> = (1..=5).map(|n| report.kind_of(&id(n))).collect();
    assert_eq!(
        kinds,
        [
            OutcomeKind::Clean,
            OutcomeKind::InGrace,
            OutcomeKind::Remediated,
            OutcomeKind::Skipped,
            OutcomeKind::Failed
        ]
    );
    assert_eq!(report.summary.accounts_scanned, 4);
    assert_eq!(run.lines.len(), 6, "five account lines and the summary");
}

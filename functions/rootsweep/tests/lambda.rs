//! The Lambda handler: events checked before any AWS call, the summary as the response, and the
//! invocation errors the function's alarm sees.

use std::path::Path;
use std::time::Duration;

use rootsweep::lambda::{HandlerError, Response, handle};
use rootsweep::outcome::OutcomeKind;
use rootsweep::ports::AwsErrorKind;
use rootsweep_emulator::{Emulator, Org};
use rootsweep_testkit::capture::lambda_event;
use rootsweep_testkit::fake::{FakeAws, FaultBuilder as Fault, member};
use rootsweep_testkit::lambda_api::{Answer, RuntimeApi};
use rootsweep_testkit::{config, enforcing};
use serde_json::json;

const PLENTY: Duration = Duration::from_secs(900);

#[tokio::test]
async fn a_bad_event_is_rejected_before_any_aws_call() {
    let aws = FakeAws::new().with(member(1).with_everything_old());
    let engine = aws.engine(enforcing());
    for event in [
        json!({"accounts": null}),
        json!({"accounts": []}),
        json!({"acounts": ["000000000001"]}),
        json!({"mode": "delete"}),
        json!("sweep"),
        // A direct invocation's fields in a scheduled event: not EventBridge's, refused.
        json!({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {},
               "mode": "audit", "accounts": ["000000000001"]}),
    ] {
        let err = handle(&engine, lambda_event(event.clone(), PLENTY))
            .await
            .unwrap_err();
        assert!(matches!(err, HandlerError::Event(_)), "{event}: {err}");
    }
    let audit_only = aws.engine(config(&[]));
    let err = handle(
        &audit_only,
        lambda_event(json!({"mode": "enforce"}), PLENTY),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("ROOTSWEEP_MODE=enforce"), "{err}");
    assert!(aws.calls().is_empty());
}

#[tokio::test]
async fn a_scheduled_event_sweeps_and_answers_with_the_summary() {
    let aws = FakeAws::new().with(member(1).with_everything_old());
    let event = json!({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}});
    let response = handle(&aws.engine(enforcing()), lambda_event(event, PLENTY))
        .await
        .unwrap();
    let summary = response.summary().expect("a run");
    assert_eq!(summary.run_id, "test-lambda-request");
    assert_eq!(summary.count(OutcomeKind::Remediated), 1);
    assert!(summary.whole_organization && summary.complete);
}

#[tokio::test]
async fn an_invocation_without_time_to_start_anything_is_refused_with_the_timeout_to_set() {
    let aws = FakeAws::new().with(member(1).with_everything_old());
    let err = handle(
        &aws.engine(enforcing()),
        lambda_event(json!({}), Duration::from_secs(45)),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, HandlerError::TimeoutTooShort(_)));
    assert!(
        err.to_string().contains("Timeout to at least 120s"),
        "{err}"
    );
    assert!(aws.calls().is_empty());
}

#[tokio::test]
async fn a_listing_that_breaks_off_is_an_invocation_error_the_error_alarm_sees() {
    let aws = FakeAws::new()
        .with_all((1..=30).map(member))
        .edit(|w| w.page_size = 10)
        .fault(Fault::error("organizations:ListAccounts", AwsErrorKind::Throttled).after(2));
    let err = handle(&aws.engine(enforcing()), lambda_event(json!({}), PLENTY))
        .await
        .unwrap_err();
    assert!(matches!(err, HandlerError::IncompleteListing(_)), "{err}");
    // The accounts it did list were audited all the same.
    assert_eq!(aws.count("sts:AssumeRoot"), 20);
}

#[tokio::test]
async fn a_password_recovery_event_schedules_its_follow_up_and_answers_with_it() {
    let aws = FakeAws::new().with(member(7));
    let engine = aws.engine(config(&[
        ("ROOTSWEEP_MODE", "enforce"),
        ("ROOTSWEEP_FOLLOW_UP_GROUP", "rootsweep-follow-ups"),
        (
            "ROOTSWEEP_FOLLOW_UP_ROLE_ARN",
            "arn:aws:iam::999999999999:role/invoke",
        ),
    ]));
    let recovered = chrono::Utc::now() - chrono::TimeDelta::minutes(10);
    let event = json!({
        "detail-type": "AWS API Call via CloudTrail", "source": "aws.sts",
        "detail": {
            "eventName": "AssumeRoot", "eventTime": recovered.to_rfc3339(), "eventID": "e-1",
            "requestParameters": {
                "targetPrincipal": "000000000007",
                "taskPolicyArn": {"arn": "arn:aws:iam::aws:policy/root-task/IAMCreateRootUserPassword"}
            }
        }
    });
    let response = handle(&engine, lambda_event(event, PLENTY)).await.unwrap();
    let Response::Recovery(report) = response else {
        panic!("{response:?}");
    };
    let follow_up = report.follow_up.expect("scheduled");
    assert_eq!(
        follow_up.at,
        // The README's margin: five minutes after the password becomes due.
        recovered + chrono::TimeDelta::hours(72) + chrono::TimeDelta::minutes(5)
    );
    assert_eq!(aws.world().schedules.len(), 1);
    let schedule = aws.world().schedules.values().next().unwrap().clone();
    assert_eq!(
        schedule.target_arn,
        "arn:aws:lambda:us-east-1:999999999999:function:rootsweep-test"
    );
}

/// The function binary itself, as Lambda runs it, where no credentials can be found (no role
/// credentials in its environment): the invocation error says so in a line, as the CLI does.
#[tokio::test]
async fn the_function_without_credentials_answers_that_none_were_found() {
    let emulator = Emulator::start(Org::generate(3, 75)).await.unwrap();
    let api = RuntimeApi::start().await;
    let binary = Path::new(env!("CARGO_BIN_EXE_rootsweep-lambda"));
    let mut function = api.start_function(
        binary,
        [
            ("AWS_ENDPOINT_URL", emulator.url()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ],
    );
    let answer = api.invoke(json!({})).await;
    function.kill().expect("the function stops");
    function.wait().expect("and is gone");
    let Answer::Error(error) = answer else {
        panic!("{answer:?}");
    };
    assert_eq!(error["errorType"], "RootsweepPreflightError");
    let message = error["errorMessage"].as_str().expect("a message");
    assert!(
        message.contains("no AWS credentials were found") && message.contains("execution role"),
        "{message}"
    );
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(!message.contains("Ec2InstanceMetadata"), "{message}");
    assert!(emulator.calls().is_empty(), "nothing reached AWS");
    emulator.shutdown().await.unwrap();
}

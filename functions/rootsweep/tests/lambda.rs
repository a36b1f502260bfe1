//! The Lambda handler: events checked before any AWS call, the summary as the response, and the
//! invocation errors the function's alarm sees.

use std::time::Duration;

use rootsweep::lambda::{HandlerError, handle};
use rootsweep::outcome::OutcomeKind;
use rootsweep::ports::AwsErrorKind;
use rootsweep_testkit::capture::lambda_event;
use rootsweep_testkit::fake::{FakeAws, FaultBuilder as Fault, member};
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
    let summary = handle(&aws.engine(enforcing()), lambda_event(event, PLENTY))
        .await
        .unwrap();
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

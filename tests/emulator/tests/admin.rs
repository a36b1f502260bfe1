//! The `/_emulator/*` admin API over plain HTTP, and the protocol edges a hand-made request hits.

use crate::common::*;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use rootsweep_emulator::{CallRecord, CallerKind, Emulator, Fault, FaultKind, MetricDatum, Org};

#[tokio::test]
async fn state_calls_metrics_and_faults_over_http() {
    let emulator = Emulator::start(test_org()).await.unwrap();

    let (status, body) = http(&emulator, "GET", "/_emulator/state", &[], "").await;
    assert_eq!(status, 200);
    let state = Org::from_json(&body).expect("the state is an org file");
    assert_eq!(state, emulator.state());
    assert!(
        state
            .account(FULL)
            .unwrap()
            .root_user
            .login_profile
            .is_some()
    );

    // A deletion shows in the state; the call shows in the log.
    let iam = iam_for(&emulator, FULL, DELETE).await;
    iam.delete_login_profile().send().await.unwrap();
    let (_, body) = http(&emulator, "GET", "/_emulator/state", &[], "").await;
    let state = Org::from_json(&body).unwrap();
    assert!(
        state
            .account(FULL)
            .unwrap()
            .root_user
            .login_profile
            .is_none()
    );

    let (status, body) = http(&emulator, "GET", "/_emulator/calls", &[], "").await;
    assert_eq!(status, 200);
    let calls: Vec<CallRecord> = serde_json::from_str(&body).unwrap();
    assert_eq!(calls, emulator.calls());
    let operations: Vec<_> = calls
        .iter()
        .map(|c| (c.service.as_deref(), c.operation.as_str(), c.caller))
        .collect();
    assert_eq!(
        operations,
        [
            (Some("sts"), "AssumeRoot", CallerKind::Principal),
            (Some("iam"), "DeleteLoginProfile", CallerKind::RootSession)
        ]
    );
    assert_eq!(calls[0].target_account_id.as_deref(), Some(FULL));
    assert!(
        !body.contains(&emulator.issued_credentials()[0].access_key_id),
        "no credentials in the call log"
    );

    // Faults: POST replaces the list, DELETE clears it, bad JSON is refused with the reason.
    let (status, _) = http(
        &emulator,
        "POST",
        "/_emulator/faults",
        &[],
        r#"[{"operation": "ListAccessKeys", "kind": "access_denied", "count": 1}]"#,
    )
    .await;
    assert_eq!(status, 204);
    let error = iam.list_access_keys().send().await.unwrap_err();
    assert_eq!(error.into_service_error().code(), Some("AccessDenied"));
    iam.list_access_keys()
        .send()
        .await
        .expect("count 1: only the first call");

    let faults = serde_json::to_string(&[Fault::new("*", FaultKind::Throttle)]).unwrap();
    assert_eq!(
        http(&emulator, "POST", "/_emulator/faults", &[], &faults)
            .await
            .0,
        204
    );
    assert_eq!(
        http(&emulator, "DELETE", "/_emulator/faults", &[], "")
            .await
            .0,
        204
    );
    iam.list_access_keys().send().await.expect("faults cleared");
    let (status, body) = http(
        &emulator,
        "POST",
        "/_emulator/faults",
        &[],
        r#"[{"operation": "X", "kind": "boom"}]"#,
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains("unknown fault kind \"boom\""), "{body}");

    let cloudwatch = aws_sdk_cloudwatch::Client::new(&caller_config(&emulator).await);
    cloudwatch
        .put_metric_data()
        .namespace("RootSweep")
        .metric_data(
            aws_sdk_cloudwatch::types::MetricDatum::builder()
                .metric_name("Runs")
                .value(1.0)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let (status, body) = http(&emulator, "GET", "/_emulator/metrics", &[], "").await;
    assert_eq!(status, 200);
    let metrics: Vec<MetricDatum> = serde_json::from_str(&body).unwrap();
    assert_eq!(metrics, emulator.metrics());
    assert_eq!(metrics[0].metric_name, "Runs");
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn unsigned_and_unknown_requests_get_aws_errors() {
    let emulator = Emulator::start(test_org()).await.unwrap();
    let (status, body) = http(&emulator, "POST", "/", &[], "Action=GetCallerIdentity").await;
    assert_eq!(status, 403);
    assert!(
        body.contains("<Code>MissingAuthenticationToken</Code>"),
        "{body}"
    );

    let (status, body) = signed_post(&emulator, &Signing::caller("sqs"), &[], "").await;
    assert_eq!(status, 400);
    assert!(body.contains("UnknownService"), "{body}");

    let form = "Action=CreateUser&UserName=x";
    let (status, body) = signed_post(&emulator, &Signing::caller("iam"), &[], form).await;
    assert_eq!(status, 400);
    assert!(body.contains("<Code>InvalidAction</Code>"), "{body}");

    let headers = [
        "X-Amz-Target: AWSOrganizationsV20161128.CreateAccount",
        "Content-Type: application/x-amz-json-1.1",
    ];
    let organizations = Signing::caller("organizations");
    let (status, body) = signed_post(&emulator, &organizations, &headers, "{}").await;
    assert_eq!(status, 400);
    assert!(
        body.contains("\"__type\":\"UnknownOperationException\""),
        "{body}"
    );

    let records = emulator.calls();
    assert_eq!(records.len(), 4);
    assert_eq!(records[0].caller, CallerKind::Unauthenticated);
    assert!(
        records
            .iter()
            .all(|r| r.status >= 400 && r.error_code.is_some())
    );
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn only_loopback_addresses() {
    let error = Emulator::start_on("0.0.0.0:0".parse().unwrap(), test_org())
        .await
        .err()
        .unwrap();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
}

//! Throttling limits (off by default) through the real AWS SDK for Rust: each service's answer,
//! the call records' marker, and the counts in `throttling_stats`.

use crate::common::*;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use rootsweep_emulator::{
    Emulator, Fault, FaultKind, OrganizationsLimits, ThrottleLimit, Throttling, TokenBucket,
};

fn throttled_calls(emulator: &rootsweep_emulator::EmulatorHandle) -> Vec<(String, ThrottleLimit)> {
    emulator
        .calls()
        .into_iter()
        .filter_map(|c| c.throttled.map(|limit| (c.operation, limit)))
        .collect()
}

#[tokio::test]
async fn nothing_is_throttled_by_default() {
    let emulator = Emulator::start(test_org()).await.unwrap();
    let caller = without_retries(&caller_config(&emulator).await);
    for _ in 0..30 {
        assume_root(&caller, FULL, AUDIT, 900).await.unwrap();
    }
    assert!(emulator.throttling_stats().throttled.is_empty());
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn assume_root_has_a_bucket_for_the_caller_account() {
    let emulator = Emulator::new(test_org())
        .throttling(Throttling {
            assume_root: Some(TokenBucket::new(0.0, 2)),
            ..Throttling::default()
        })
        .spawn()
        .await
        .unwrap();
    let caller = without_retries(&caller_config(&emulator).await);
    // The bucket is the caller's, whichever account is the target.
    assume_root(&caller, FULL, AUDIT, 900).await.unwrap();
    assume_root(&caller, CLEAN, AUDIT, 900).await.unwrap();
    let error = assume_root(&caller, FULL, DELETE, 900).await.unwrap_err();
    let raw = error.raw_response().unwrap();
    assert_eq!(raw.status().as_u16(), 400);
    let body = std::str::from_utf8(raw.body().bytes().unwrap())
        .unwrap()
        .to_owned();
    assert!(
        body.starts_with(
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>\
             <Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>"
        ),
        "{body}"
    );
    let error = error.into_service_error();
    assert_eq!(
        (error.code(), error.message()),
        (Some("Throttling"), Some("Rate exceeded"))
    );
    // Other STS calls are not limited; no session was issued for the throttled call.
    aws_sdk_sts::Client::new(&caller)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(emulator.issued_credentials().len(), 2);
    assert_eq!(
        throttled_calls(&emulator),
        [("AssumeRoot".to_owned(), ThrottleLimit::AssumeRootRate)]
    );
    assert_eq!(emulator.throttling_stats().throttled["AssumeRoot"], 1);
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn iam_root_session_calls_count_against_the_member_account() {
    let emulator = Emulator::start(test_org()).await.unwrap();
    // Sessions first: AssumeRoot is STS, not IAM, and set_throttling starts with full buckets.
    let full = aws_sdk_iam::Client::new(&without_retries(
        &root_session(&emulator, FULL, AUDIT).await,
    ));
    let clean = aws_sdk_iam::Client::new(&without_retries(
        &root_session(&emulator, CLEAN, AUDIT).await,
    ));
    emulator.set_throttling(Throttling {
        iam: Some(TokenBucket::new(0.0, 3)),
        ..Throttling::default()
    });
    for _ in 0..3 {
        full.get_user().send().await.unwrap();
    }
    let error = full.list_access_keys().send().await.unwrap_err();
    assert_eq!(error.raw_response().unwrap().status().as_u16(), 400);
    assert_eq!(error.into_service_error().code(), Some("Throttling"));
    // Another member account has a bucket of its own.
    for _ in 0..3 {
        clean.get_user().send().await.unwrap();
    }
    assert!(clean.get_user().send().await.is_err());
    assert_eq!(
        throttled_calls(&emulator),
        [
            ("ListAccessKeys".to_owned(), ThrottleLimit::IamRate),
            ("GetUser".to_owned(), ThrottleLimit::IamRate)
        ]
    );
    // The SDK retries throttling: with 3 attempts and no refill, the call still fails.
    let patient = aws_sdk_iam::Client::new(&root_session(&emulator, FULL, AUDIT).await);
    let error = patient.get_user().send().await.unwrap_err();
    assert_eq!(error.into_service_error().code(), Some("Throttling"));
    assert_eq!(emulator.throttling_stats().throttled["GetUser"], 4);
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn organizations_refuses_a_call_while_another_is_in_progress() {
    let emulator = Emulator::new(test_org())
        .throttling(Throttling {
            organizations: Some(OrganizationsLimits {
                max_concurrent: Some(1),
                rate: None,
            }),
            ..Throttling::default()
        })
        .faults(vec![
            // Holds the first call in flight until the emulator shuts down.
            Fault::new("DescribeOrganization", FaultKind::Latency { ms: 600_000 }).times(1),
        ])
        .spawn()
        .await
        .unwrap();
    let config = without_retries(&caller_config(&emulator).await);
    let organizations = aws_sdk_organizations::Client::new(&config);
    let held = {
        let organizations = organizations.clone();
        tokio::spawn(async move { organizations.describe_organization().send().await })
    };
    eventually("one Organizations call in flight", || {
        emulator.throttling_stats().organizations_in_flight == 1
    })
    .await;

    let error = organizations.list_roots().send().await.unwrap_err();
    let raw = error.raw_response().unwrap();
    assert_eq!(raw.status().as_u16(), 400);
    let body: serde_json::Value = serde_json::from_slice(raw.body().bytes().unwrap()).unwrap();
    assert_eq!(
        body,
        serde_json::json!({
            "__type": "TooManyRequestsException",
            "Message": "AWS Organizations can't complete your request because another request is already in progress. Try again later."
        })
    );
    assert!(error.into_service_error().is_too_many_requests_exception());
    assert_eq!(
        throttled_calls(&emulator),
        [(
            "ListRoots".to_owned(),
            ThrottleLimit::OrganizationsConcurrency
        )]
    );
    held.abort();
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn organizations_rate_and_slots_released() {
    let emulator = Emulator::new(test_org())
        .throttling(Throttling {
            organizations: Some(OrganizationsLimits {
                max_concurrent: Some(1),
                rate: Some(TokenBucket::new(0.0, 3)),
            }),
            ..Throttling::default()
        })
        .spawn()
        .await
        .unwrap();
    let organizations =
        aws_sdk_organizations::Client::new(&without_retries(&caller_config(&emulator).await));
    // One at a time: each call's slot is free again once it has answered.
    for _ in 0..3 {
        organizations.list_roots().send().await.unwrap();
    }
    let error = organizations.list_roots().send().await.unwrap_err();
    let error = error.into_service_error();
    assert!(error.is_too_many_requests_exception());
    assert!(
        error
            .message()
            .unwrap()
            .starts_with("You have sent too many requests")
    );
    let stats = emulator.throttling_stats();
    assert_eq!(stats.organizations_in_flight, 0);
    assert_eq!(stats.throttled["ListRoots"], 1);
    assert_eq!(
        throttled_calls(&emulator),
        [("ListRoots".to_owned(), ThrottleLimit::OrganizationsRate)]
    );
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn throttling_over_the_admin_api() {
    let emulator = Emulator::start(test_org()).await.unwrap();
    let (status, _) = http(
        &emulator,
        "POST",
        "/_emulator/throttling",
        &[],
        r#"{"iam": {"rate_per_second": 0, "burst": 1}}"#,
    )
    .await;
    assert_eq!(status, 204);
    let iam = aws_sdk_iam::Client::new(&without_retries(&caller_config(&emulator).await));
    iam.list_organizations_features().send().await.unwrap();
    let error = iam.list_organizations_features().send().await.unwrap_err();
    assert_eq!(error.into_service_error().code(), Some("Throttling"));

    let (status, body) = http(&emulator, "GET", "/_emulator/throttling", &[], "").await;
    assert_eq!(status, 200);
    let stats: rootsweep_emulator::ThrottlingStats = serde_json::from_str(&body).unwrap();
    assert_eq!(stats, emulator.throttling_stats());
    assert_eq!(stats.config.iam, Some(TokenBucket::new(0.0, 1)));
    assert_eq!(stats.throttled["ListOrganizationsFeatures"], 1);
    let (_, calls) = http(&emulator, "GET", "/_emulator/calls", &[], "").await;
    assert!(calls.contains("\"throttled\":\"iam_rate\""), "{calls}");

    for (bad, says) in [
        (
            r#"{"iam": {"rate_per_second": -1, "burst": 1}}"#,
            "rate_per_second",
        ),
        (r#"{"stss": {}}"#, "unknown field"),
    ] {
        let (status, body) = http(&emulator, "POST", "/_emulator/throttling", &[], bad).await;
        assert_eq!(status, 400);
        assert!(body.contains(says), "{body}");
    }
    // An empty object turns every limit off.
    http(&emulator, "POST", "/_emulator/throttling", &[], "{}").await;
    iam.list_organizations_features().send().await.unwrap();
    emulator.shutdown().await.unwrap();
}

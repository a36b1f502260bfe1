//! Each fault kind as the AWS SDK for Rust sees it.

use std::time::Duration;

use crate::common::*;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_iam::error::SdkError;
use aws_sdk_iam::operation::deactivate_mfa_device::DeactivateMFADeviceError;
use aws_sdk_iam::operation::get_login_profile::GetLoginProfileError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use rootsweep_emulator::{Emulator, Fault, FaultKind, Org};

fn faulted(
    emulator: &rootsweep_emulator::EmulatorHandle,
    operation: &str,
) -> Vec<(u16, Option<String>)> {
    emulator
        .calls()
        .into_iter()
        .filter(|c| c.operation == operation)
        .map(|c| (c.status, c.fault))
        .collect()
}

#[tokio::test]
async fn throttling_is_retried_until_it_stops() {
    let emulator = Emulator::start(test_org()).await.unwrap();
    let iam = iam_for(&emulator, FULL, AUDIT).await;
    // Standard retry makes 3 attempts: 2 throttles are absorbed.
    emulator.set_faults(vec![
        Fault::new("ListAccessKeys", FaultKind::Throttle).times(2),
    ]);
    let keys = iam.list_access_keys().send().await.unwrap();
    assert_eq!(keys.access_key_metadata().len(), 2);
    let throttle = Some("throttle".to_owned());
    assert_eq!(
        faulted(&emulator, "ListAccessKeys"),
        [
            (400, throttle.clone()),
            (400, throttle.clone()),
            (200, None)
        ]
    );

    // More throttles than attempts: the SDK gives up with the service's code.
    emulator.set_faults(vec![Fault::new("GetUser", FaultKind::Throttle).times(5)]);
    let error = iam.get_user().send().await.unwrap_err();
    assert_eq!(error.into_service_error().code(), Some("Throttling"));
    assert_eq!(faulted(&emulator, "GetUser").len(), 3);

    // Organizations throttles with TooManyRequestsException, which the SDK also retries.
    let organizations = aws_sdk_organizations::Client::new(&caller_config(&emulator).await);
    emulator.set_faults(vec![
        Fault::new("ListAccounts", FaultKind::Throttle).times(1),
    ]);
    let accounts = organizations.list_accounts().send().await.unwrap();
    assert_eq!(accounts.accounts().len(), 4);
    assert_eq!(faulted(&emulator, "ListAccounts")[0], (400, throttle));
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn server_errors_are_retried_and_reported() {
    let emulator = Emulator::start(test_org()).await.unwrap();
    let organizations = aws_sdk_organizations::Client::new(&caller_config(&emulator).await);
    emulator.set_faults(vec![
        Fault::new(
            "DescribeOrganization",
            FaultKind::ServerError { status: 500 },
        )
        .times(1),
    ]);
    organizations.describe_organization().send().await.unwrap();

    emulator.set_faults(vec![Fault::new(
        "ListAccounts",
        FaultKind::ServerError { status: 500 },
    )]);
    let error = organizations.list_accounts().send().await.unwrap_err();
    assert_eq!(error.raw_response().map(|r| r.status().as_u16()), Some(500));
    assert!(error.into_service_error().is_service_exception());

    let iam = aws_sdk_iam::Client::new(&caller_config(&emulator).await);
    emulator.set_faults(vec![Fault::new(
        "*",
        FaultKind::ServerError { status: 503 },
    )]);
    let error = iam.list_organizations_features().send().await.unwrap_err();
    assert_eq!(error.raw_response().map(|r| r.status().as_u16()), Some(503));
    assert_eq!(
        error.into_service_error().code(),
        Some("ServiceUnavailable")
    );
    assert_eq!(
        faulted(&emulator, "ListOrganizationsFeatures").len(),
        3,
        "5xx are retried"
    );
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn latency_delays_but_answers() {
    let emulator = Emulator::new(test_org())
        .latency_ms(20)
        .spawn()
        .await
        .unwrap();
    emulator.set_faults(vec![Fault::new("GetUser", FaultKind::Latency { ms: 100 })]);
    let iam = iam_for(&emulator, FULL, AUDIT).await;
    let user = iam.get_user().send().await.unwrap().user.unwrap();
    assert_eq!(user.user_id(), FULL);
    assert_eq!(
        faulted(&emulator, "GetUser"),
        [(200, Some("latency".to_owned()))]
    );
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn slow_answers_time_out_the_client_but_the_work_is_done() {
    let emulator = Emulator::start(test_org()).await.unwrap();
    let session = root_session(&emulator, FULL, DELETE).await;
    let impatient = session
        .to_builder()
        .retry_config(RetryConfig::standard().with_max_attempts(1))
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(Duration::from_millis(300))
                .build(),
        )
        .build();
    let iam = aws_sdk_iam::Client::new(&impatient);
    emulator.set_faults(vec![Fault::new(
        "DeleteAccessKey",
        FaultKind::Slow { ms: 60_000 },
    )]);
    let error = iam
        .delete_access_key()
        .access_key_id(ACTIVE_KEY)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(error, SdkError::TimeoutError(_)), "{error:?}");

    // The deletion happened although the client never heard back: retrying sees NoSuchEntity.
    eventually("the held DeleteAccessKey to be recorded", || {
        !faulted(&emulator, "DeleteAccessKey").is_empty()
    })
    .await;
    let state = emulator.state();
    let keys = &state.account(FULL).unwrap().root_user.access_keys;
    assert!(keys.iter().all(|k| k.id != ACTIVE_KEY));
    // Shutdown cuts the held answer short rather than waiting a minute.
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn access_denied_and_no_such_entity_per_account() {
    let emulator = Emulator::start(test_org()).await.unwrap();
    emulator.set_faults(vec![
        Fault::new("AssumeRoot", FaultKind::AccessDenied).for_account(CLEAN),
        Fault::new("GetLoginProfile", FaultKind::NoSuchEntity)
            .for_account(FULL)
            .times(1),
    ]);
    let caller = caller_config(&emulator).await;
    let error = assume_root(&caller, CLEAN, AUDIT, 900).await.unwrap_err();
    assert_eq!(error.raw_response().map(|r| r.status().as_u16()), Some(403));
    assert_eq!(error.into_service_error().code(), Some("AccessDenied"));

    let iam = iam_for(&emulator, FULL, AUDIT).await; // another account: not denied
    let error = iam
        .get_login_profile()
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(error, GetLoginProfileError::NoSuchEntityException(_)),
        "{error:?}"
    );
    iam.get_login_profile()
        .send()
        .await
        .expect("only the first call was faulted");
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn invalid_mfa_device_for_the_first_attempts() {
    let emulator = Emulator::start(test_org()).await.unwrap();
    emulator.set_faults(vec![Fault::new("*", FaultKind::InvalidMfaDevice).times(2)]);
    let iam = iam_for(&emulator, FULL, DELETE).await;
    // `*` still only hits DeactivateMFADevice.
    iam.list_mfa_devices().send().await.unwrap();
    for _ in 0..2 {
        let error = iam
            .deactivate_mfa_device()
            .serial_number(HARDWARE_MFA)
            .send()
            .await
            .unwrap_err();
        assert_eq!(error.raw_response().map(|r| r.status().as_u16()), Some(409));
        let error = error.into_service_error();
        assert!(error.message().unwrap().starts_with("Invalid MFA device"));
        assert!(
            matches!(
                error,
                DeactivateMFADeviceError::EntityTemporarilyUnmodifiableException(_)
            ),
            "{error:?}"
        );
    }
    iam.deactivate_mfa_device()
        .serial_number(HARDWARE_MFA)
        .send()
        .await
        .unwrap();
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn faults_armed_at_start() {
    let emulator = Emulator::new(Org::generate(5, 1))
        .faults(vec![Fault::new(
            "DescribeOrganization",
            FaultKind::AccessDenied,
        )])
        .spawn()
        .await
        .unwrap();
    let organizations = aws_sdk_organizations::Client::new(&caller_config(&emulator).await);
    let error = organizations
        .describe_organization()
        .send()
        .await
        .unwrap_err();
    assert!(error.into_service_error().is_access_denied_exception());
    emulator.shutdown().await.unwrap();
}

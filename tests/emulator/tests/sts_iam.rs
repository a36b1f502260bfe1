//! AssumeRoot and the IAM root-user calls through the real AWS SDK for Rust.

use crate::common::*;
use aws_sdk_iam::operation::delete_login_profile::DeleteLoginProfileError;
use aws_sdk_iam::operation::get_login_profile::GetLoginProfileError;
use aws_sdk_iam::operation::list_organizations_features::ListOrganizationsFeaturesError;
use aws_sdk_iam::types::{FeatureType, StatusType, SummaryKeyType};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use chrono::{DateTime, Utc};
use rootsweep_emulator::{CallerKind, Emulator, PreflightFailure, TaskPolicy};

fn utc(date: &aws_smithy_types::DateTime) -> DateTime<Utc> {
    DateTime::from_timestamp(date.secs(), date.subsec_nanos()).unwrap()
}

#[tokio::test]
async fn assume_root_hands_out_recognisable_expiring_credentials() {
    let emulator = Emulator::start(test_org()).await.unwrap();
    let caller = caller_config(&emulator).await;
    let before = Utc::now();
    let output = assume_root(&caller, FULL, AUDIT, 600).await.unwrap();
    let credentials = output.credentials().unwrap();
    assert!(credentials.access_key_id().starts_with("ASIAEMU"));
    assert!(credentials.secret_access_key().contains("EMUSECRET"));
    let expires = utc(credentials.expiration());
    assert!(expires > before + chrono::Duration::seconds(590));
    assert!(expires <= Utc::now() + chrono::Duration::seconds(600));

    let issued = emulator.issued_credentials();
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0].access_key_id, credentials.access_key_id());
    assert_eq!(issued[0].session_token, credentials.session_token());
    assert_eq!(issued[0].account_id, FULL);
    assert_eq!(
        issued[0].task_policy,
        TaskPolicy::IAMAuditRootUserCredentials
    );

    // The session is the member account's root user.
    let session = root_session(&emulator, FULL, AUDIT).await;
    let identity = aws_sdk_sts::Client::new(&session)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(identity.account(), Some(FULL));
    assert_eq!(identity.arn(), Some("arn:aws:iam::222222222222:root"));
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn audit_session_reads_every_root_credential() {
    let emulator = Emulator::start(test_org()).await.unwrap();
    let root = emulator.state().account(FULL).unwrap().root_user.clone();
    let iam = iam_for(&emulator, FULL, AUDIT).await;

    let user = iam.get_user().send().await.unwrap().user.unwrap();
    assert_eq!(user.user_name(), "root");
    assert_eq!(user.user_id(), FULL);
    assert_eq!(user.arn(), "arn:aws:iam::222222222222:root");
    assert_eq!(utc(user.create_date()), root.created);
    assert_eq!(user.password_last_used().map(utc), root.password_last_used);

    let profile = iam
        .get_login_profile()
        .send()
        .await
        .unwrap()
        .login_profile
        .unwrap();
    assert_eq!(
        utc(profile.create_date()),
        root.login_profile.as_ref().unwrap().created
    );

    let keys = iam.list_access_keys().send().await.unwrap();
    let keys: Vec<_> = keys
        .access_key_metadata()
        .iter()
        .map(|k| {
            (
                k.access_key_id().unwrap().to_owned(),
                k.status().cloned(),
                k.create_date().map(utc),
            )
        })
        .collect();
    assert_eq!(
        keys,
        [
            (
                ACTIVE_KEY.to_owned(),
                Some(StatusType::Active),
                root.access_keys[0].created
            ),
            (
                UNUSED_KEY.to_owned(),
                Some(StatusType::Inactive),
                root.access_keys[1].created
            ),
        ]
    );

    let used = iam
        .get_access_key_last_used()
        .access_key_id(ACTIVE_KEY)
        .send()
        .await
        .unwrap();
    let used = used.access_key_last_used().unwrap();
    assert_eq!(
        used.last_used_date().map(utc),
        Some(root.access_keys[0].last_used.as_ref().unwrap().date)
    );
    assert_eq!((used.service_name(), used.region()), ("s3", "eu-west-1"));
    let never = iam
        .get_access_key_last_used()
        .access_key_id(UNUSED_KEY)
        .send()
        .await
        .unwrap();
    let never = never.access_key_last_used().unwrap();
    assert_eq!(
        (never.last_used_date(), never.service_name(), never.region()),
        (None, "N/A", "N/A")
    );

    let certificates = iam.list_signing_certificates().send().await.unwrap();
    let certificate = &certificates.certificates()[0];
    assert_eq!(
        certificate.certificate_id(),
        "CERT0000000000000000000000000001"
    );
    assert_eq!(certificate.status(), &StatusType::Active);
    assert_eq!(
        certificate.upload_date().map(utc),
        root.signing_certificates[0].uploaded
    );
    assert!(
        certificate
            .certificate_body()
            .starts_with("-----BEGIN CERTIFICATE-----\n")
    );

    let devices = iam.list_mfa_devices().send().await.unwrap();
    let devices: Vec<_> = devices
        .mfa_devices()
        .iter()
        .map(|d| (d.serial_number(), utc(d.enable_date())))
        .collect();
    assert_eq!(
        devices,
        [
            (VIRTUAL_MFA, root.mfa_devices[0].enabled),
            (HARDWARE_MFA, root.mfa_devices[1].enabled)
        ]
    );

    let summary = iam.get_account_summary().send().await.unwrap();
    let summary = summary.summary_map().unwrap();
    assert_eq!(summary[&SummaryKeyType::AccountAccessKeysPresent], 1);
    assert_eq!(summary[&SummaryKeyType::AccountMfaEnabled], 1);
    assert_eq!(
        summary[&SummaryKeyType::AccountSigningCertificatesPresent],
        1
    );
    assert_eq!(summary[&SummaryKeyType::MfaDevicesInUse], 2);

    let calls = emulator.calls();
    let last = calls.last().unwrap();
    assert_eq!(
        (last.operation.as_str(), last.caller, last.status),
        ("GetAccountSummary", CallerKind::RootSession, 200)
    );
    assert_eq!(last.session_account_id.as_deref(), Some(FULL));
    assert_eq!(
        last.task_policy,
        Some(TaskPolicy::IAMAuditRootUserCredentials)
    );
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn clean_account_has_no_login_profile_but_keeps_password_last_used() {
    let emulator = Emulator::start(test_org()).await.unwrap();
    let iam = iam_for(&emulator, CLEAN, AUDIT).await;
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
    let user = iam.get_user().send().await.unwrap().user.unwrap();
    assert!(user.password_last_used().is_some());
    assert!(
        iam.list_access_keys()
            .send()
            .await
            .unwrap()
            .access_key_metadata()
            .is_empty()
    );
    let summary = iam.get_account_summary().send().await.unwrap();
    assert_eq!(
        summary.summary_map().unwrap()[&SummaryKeyType::AccountMfaEnabled],
        0
    );
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn delete_session_removes_everything_and_deletes_are_idempotent_errors() {
    let emulator = Emulator::start(test_org()).await.unwrap();
    let iam = iam_for(&emulator, FULL, DELETE).await;
    iam.delete_login_profile().send().await.unwrap();
    for key in [ACTIVE_KEY, UNUSED_KEY] {
        iam.delete_access_key()
            .access_key_id(key)
            .send()
            .await
            .unwrap();
    }
    iam.delete_signing_certificate()
        .certificate_id("CERT0000000000000000000000000001")
        .send()
        .await
        .unwrap();
    for serial in [VIRTUAL_MFA, HARDWARE_MFA] {
        iam.deactivate_mfa_device()
            .serial_number(serial)
            .send()
            .await
            .unwrap();
    }

    let root = emulator.state().account(FULL).unwrap().root_user.clone();
    assert!(root.is_clean(), "{root:?}");
    assert!(
        root.password_last_used.is_some(),
        "PasswordLastUsed stays after the profile is gone"
    );
    assert_eq!(root.unassigned_virtual_mfa_devices, [VIRTUAL_MFA]);
    assert!(
        iam.list_mfa_devices()
            .send()
            .await
            .unwrap()
            .mfa_devices()
            .is_empty()
    );

    // Deleting what is gone is NoSuchEntity, the SDK's modeled variant.
    let again = iam
        .delete_login_profile()
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(again, DeleteLoginProfileError::NoSuchEntityException(_)),
        "{again:?}"
    );
    let key = iam
        .delete_access_key()
        .access_key_id(ACTIVE_KEY)
        .send()
        .await
        .unwrap_err();
    assert_eq!(key.into_service_error().code(), Some("NoSuchEntity"));
    let device = iam
        .deactivate_mfa_device()
        .serial_number(HARDWARE_MFA)
        .send()
        .await
        .unwrap_err();
    assert!(device.into_service_error().is_no_such_entity_exception());

    // DeleteVirtualMFADevice left the delete policy in January 2025 (the default) ...
    let denied = iam
        .delete_virtual_mfa_device()
        .serial_number(VIRTUAL_MFA)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        denied.raw_response().map(|r| r.status().as_u16()),
        Some(403)
    );
    assert_eq!(denied.into_service_error().code(), Some("AccessDenied"));
    // ... and an org can still allow it, as early copies of the policy did.
    emulator.edit_org(|org| org.delete_virtual_mfa_allowed = true);
    iam.delete_virtual_mfa_device()
        .serial_number(VIRTUAL_MFA)
        .send()
        .await
        .unwrap();
    assert!(
        emulator
            .state()
            .account(FULL)
            .unwrap()
            .root_user
            .unassigned_virtual_mfa_devices
            .is_empty()
    );

    // GetAccountSummary is the audit policy's alone.
    let summary = iam.get_account_summary().send().await.unwrap_err();
    assert_eq!(summary.into_service_error().code(), Some("AccessDenied"));
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn audit_session_cannot_delete() {
    let emulator = Emulator::start(test_org()).await.unwrap();
    let iam = iam_for(&emulator, FULL, AUDIT).await;
    let error = iam.delete_login_profile().send().await.unwrap_err();
    assert_eq!(error.raw_response().map(|r| r.status().as_u16()), Some(403));
    let error = error.into_service_error();
    assert_eq!(error.code(), Some("AccessDenied"));
    assert!(
        error
            .message()
            .unwrap()
            .contains("IAMAuditRootUserCredentials")
    );
    assert!(
        emulator
            .state()
            .account(FULL)
            .unwrap()
            .root_user
            .login_profile
            .is_some()
    );
    let error = iam
        .delete_access_key()
        .access_key_id(ACTIVE_KEY)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.into_service_error().code(), Some("AccessDenied"));
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn assume_root_refuses_what_aws_refuses() {
    let emulator = Emulator::start(test_org()).await.unwrap();
    let caller = caller_config(&emulator).await;
    let attempt = |target: &'static str, policy: &'static str, duration: i32| {
        let caller = caller.clone();
        async move {
            let error = assume_root(&caller, target, policy, duration)
                .await
                .unwrap_err();
            let status = error.raw_response().map(|r| r.status().as_u16());
            (error.into_service_error().code().map(str::to_owned), status)
        }
    };
    let validation = (Some("ValidationError".to_owned()), Some(400));
    let denied = (Some("AccessDenied".to_owned()), Some(403));
    assert_eq!(attempt(FULL, AUDIT, 901).await, validation);
    assert_eq!(
        attempt(FULL, "arn:aws:iam::aws:policy/root-task/Nope", 900).await,
        validation
    );
    assert_eq!(attempt("12345", AUDIT, 900).await, validation);
    assert_eq!(attempt(MANAGEMENT, AUDIT, 900).await, denied);
    assert_eq!(attempt(SUSPENDED, AUDIT, 900).await, denied);
    assert_eq!(attempt("999999999999", AUDIT, 900).await, denied);
    assert!(emulator.issued_credentials().is_empty());

    // A root session can neither start another nor call Organizations or CloudWatch.
    let session = root_session(&emulator, FULL, DELETE).await;
    let nested = assume_root(&session, CLEAN, AUDIT, 900).await.unwrap_err();
    assert_eq!(nested.into_service_error().code(), Some("AccessDenied"));
    let organizations = aws_sdk_organizations::Client::new(&session)
        .list_accounts()
        .send()
        .await
        .unwrap_err();
    assert!(
        organizations
            .into_service_error()
            .is_access_denied_exception()
    );
    let metrics = aws_sdk_cloudwatch::Client::new(&session)
        .put_metric_data()
        .namespace("RootSweep")
        .metric_data(
            aws_sdk_cloudwatch::types::MetricDatum::builder()
                .metric_name("X")
                .value(1.0)
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(metrics.into_service_error().code(), Some("AccessDenied"));

    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_callers_own_credentials_name_no_user() {
    let emulator = Emulator::start(test_org()).await.unwrap();
    let caller_iam = aws_sdk_iam::Client::new(&without_retries(&caller_config(&emulator).await));
    // A role's credentials have no user of their own: IAM asks for a UserName.
    let error = caller_iam.get_login_profile().send().await.unwrap_err();
    assert_eq!(error.raw_response().unwrap().status().as_u16(), 400);
    let body = std::str::from_utf8(error.raw_response().unwrap().body().bytes().unwrap())
        .unwrap()
        .to_owned();
    assert!(
        body.starts_with("<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"),
        "{body}"
    );
    let error = error.into_service_error();
    assert_eq!(
        (error.code(), error.message()),
        (
            Some("ValidationError"),
            Some("Must specify userName when calling with non-User credentials")
        )
    );
    let keys = caller_iam.list_access_keys().send().await.unwrap_err();
    assert_eq!(keys.into_service_error().code(), Some("ValidationError"));
    let delete = caller_iam.delete_login_profile().send().await.unwrap_err();
    assert_eq!(delete.into_service_error().code(), Some("ValidationError"));
    // With a UserName, IAM looks for that user in the caller's account, which has none.
    let error = caller_iam
        .get_login_profile()
        .user_name("root")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(
        error.into_service_error(),
        GetLoginProfileError::NoSuchEntityException(_)
    ));
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn last_use_of_a_key_that_is_not_the_root_users_is_access_denied() {
    let emulator = Emulator::start(test_org()).await.unwrap();
    for (account, key) in [(FULL, "AKIANOSUCHKEY0000001"), (CLEAN, ACTIVE_KEY)] {
        let iam = iam_for(&emulator, account, AUDIT).await;
        let error = iam
            .get_access_key_last_used()
            .access_key_id(key)
            .send()
            .await
            .unwrap_err();
        assert_eq!(error.raw_response().unwrap().status().as_u16(), 403);
        let error = error.into_service_error();
        assert_eq!(error.code(), Some("AccessDenied"));
        assert_eq!(
            error.message().unwrap(),
            format!(
                "User: arn:aws:iam::{account}:root is not authorized to perform: iam:GetAccessKeyLastUsed on resource: access key {key}"
            )
        );
    }
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn expired_and_unknown_sessions_are_refused() {
    let emulator = Emulator::start(test_org()).await.unwrap();
    let caller = caller_config(&emulator).await;
    // DurationSeconds 0 is valid and expires at once: expiry without waiting.
    let output = assume_root(&caller, FULL, AUDIT, 0).await.unwrap();
    let expired = session_credentials(&output);
    let iam = aws_sdk_iam::Client::new(&config(&emulator, expired).await);
    let error = iam.get_user().send().await.unwrap_err();
    assert_eq!(error.raw_response().map(|r| r.status().as_u16()), Some(403));
    assert_eq!(error.into_service_error().code(), Some("ExpiredToken"));

    let forged = aws_credential_types::Credentials::new(
        "ASIAEMUNOTISSUED0000",
        "x",
        Some("y".into()),
        None,
        "test",
    );
    let iam = aws_sdk_iam::Client::new(&config(&emulator, forged).await);
    let error = iam.get_user().send().await.unwrap_err();
    assert_eq!(
        error.into_service_error().code(),
        Some("InvalidClientTokenId")
    );
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn list_organizations_features_and_each_preflight_failure() {
    let emulator = Emulator::start(test_org()).await.unwrap();
    let iam = aws_sdk_iam::Client::new(&caller_config(&emulator).await);
    let features = iam.list_organizations_features().send().await.unwrap();
    assert_eq!(features.organization_id(), Some("o-testorg123"));
    assert_eq!(
        features.enabled_features(),
        [
            FeatureType::RootCredentialsManagement,
            FeatureType::RootSessions
        ]
    );

    use ListOrganizationsFeaturesError as E;
    for failure in [
        PreflightFailure::AccountNotManagementOrDelegatedAdministratorException,
        PreflightFailure::OrganizationNotFoundException,
        PreflightFailure::OrganizationNotInAllFeaturesModeException,
        PreflightFailure::ServiceAccessNotEnabledException,
    ] {
        emulator.edit_org(|org| org.preflight_failure = Some(failure));
        let error = iam.list_organizations_features().send().await.unwrap_err();
        assert_eq!(error.raw_response().map(|r| r.status().as_u16()), Some(400));
        let error = error.into_service_error();
        let modeled = match failure {
            PreflightFailure::AccountNotManagementOrDelegatedAdministratorException => {
                matches!(
                    error,
                    E::AccountNotManagementOrDelegatedAdministratorException(_)
                )
            }
            PreflightFailure::OrganizationNotFoundException => {
                matches!(error, E::OrganizationNotFoundException(_))
            }
            PreflightFailure::OrganizationNotInAllFeaturesModeException => {
                matches!(error, E::OrganizationNotInAllFeaturesModeException(_))
            }
            PreflightFailure::ServiceAccessNotEnabledException => {
                matches!(error, E::ServiceAccessNotEnabledException(_))
            }
        };
        assert!(modeled, "{failure:?} surfaced as {error:?}");
    }
    emulator.shutdown().await.unwrap();
}

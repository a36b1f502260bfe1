//! IAM's eventual consistency (`iam_propagation_delay_ms`) through the real AWS SDK for Rust:
//! reads keep seeing deleted credentials for the delay, the emulator's state does not.

use std::time::Duration;

use crate::common::*;
use aws_sdk_iam::error::ProvideErrorMetadata;
use aws_sdk_iam::operation::get_login_profile::GetLoginProfileError;
use aws_sdk_iam::types::SummaryKeyType;
use rootsweep_emulator::Emulator;

const AN_HOUR_MS: u64 = 3_600_000;

#[tokio::test]
async fn reads_see_the_old_state_while_the_writes_propagate() {
    let emulator = Emulator::new(test_org())
        .iam_propagation_delay_ms(AN_HOUR_MS)
        .spawn()
        .await
        .unwrap();
    let delete = iam_for(&emulator, FULL, DELETE).await;
    delete.delete_login_profile().send().await.unwrap();
    for key in [ACTIVE_KEY, UNUSED_KEY] {
        delete
            .delete_access_key()
            .access_key_id(key)
            .send()
            .await
            .unwrap();
    }
    delete
        .delete_signing_certificate()
        .certificate_id("CERT0000000000000000000000000001")
        .send()
        .await
        .unwrap();
    for serial in [VIRTUAL_MFA, HARDWARE_MFA] {
        delete
            .deactivate_mfa_device()
            .serial_number(serial)
            .send()
            .await
            .unwrap();
    }

    // The writes happened...
    let state = emulator.state();
    let root = &state.account(FULL).unwrap().root_user;
    assert!(root.is_clean());
    assert_eq!(root.unassigned_virtual_mfa_devices, [VIRTUAL_MFA]);
    // ...so a repeated delete finds nothing to delete,
    let again = delete.delete_login_profile().send().await.unwrap_err();
    assert!(again.into_service_error().is_no_such_entity_exception());

    // ...but every read, in this session or a new one, still sees the credentials.
    let audit = iam_for(&emulator, FULL, AUDIT).await;
    for iam in [&delete, &audit] {
        iam.get_login_profile().send().await.unwrap();
        assert_eq!(
            iam.list_access_keys()
                .send()
                .await
                .unwrap()
                .access_key_metadata()
                .len(),
            2
        );
        assert_eq!(
            iam.list_signing_certificates()
                .send()
                .await
                .unwrap()
                .certificates()
                .len(),
            1
        );
        assert_eq!(
            iam.list_mfa_devices()
                .send()
                .await
                .unwrap()
                .mfa_devices()
                .len(),
            2
        );
        // ...but for the last use of a deleted key, which one IAM endpoint already knows gone.
        let last_used = iam
            .get_access_key_last_used()
            .access_key_id(ACTIVE_KEY)
            .send()
            .await
            .unwrap_err();
        assert_eq!(last_used.code(), Some("AccessDenied"), "{last_used:?}");
        assert!(iam.get_user().send().await.unwrap().user.is_some());
    }
    let summary = audit.get_account_summary().send().await.unwrap();
    let summary = summary.summary_map().unwrap();
    assert_eq!(summary[&SummaryKeyType::AccountMfaEnabled], 1);
    assert_eq!(summary[&SummaryKeyType::AccountAccessKeysPresent], 1);
    // Another account's root user is not affected.
    let clean = iam_for(&emulator, CLEAN, AUDIT).await;
    assert!(
        clean
            .list_access_keys()
            .send()
            .await
            .unwrap()
            .access_key_metadata()
            .is_empty()
    );
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_deletion_becomes_visible_after_the_delay() {
    let emulator = Emulator::new(test_org())
        .iam_propagation_delay_ms(200)
        .spawn()
        .await
        .unwrap();
    let iam = iam_for(&emulator, FULL, DELETE).await;
    iam.delete_login_profile().send().await.unwrap();
    // The loop ends once the deletion shows, however slow the machine; a limit far beyond the
    // delay turns a hang into a failure.
    let shown = tokio::time::timeout(EVENTUALLY_LIMIT, async {
        loop {
            match iam.get_login_profile().send().await {
                Ok(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                Err(error) => break error.into_service_error(),
            }
        }
    })
    .await
    .expect("the deletion shows within the limit");
    assert!(
        matches!(shown, GetLoginProfileError::NoSuchEntityException(_)),
        "{shown:?}"
    );
    emulator.shutdown().await.unwrap();
}

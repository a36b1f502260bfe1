//! Security Hub through the AWS SDK for Rust: BatchImportFindings with per-finding failures and
//! updates, GetFindings with string filters and paging, Security Hub not enabled, faults, call
//! records and the caller's policy from the template.

use crate::common::*;
use aws_sdk_securityhub::Client;
use aws_sdk_securityhub::types::{
    AwsSecurityFinding, AwsSecurityFindingFilters, RecordState, Resource, Severity, SeverityLabel,
    StringFilter, StringFilterComparison,
};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use rootsweep_emulator::{Emulator, EmulatorHandle, Fault, FaultKind, Protocol, TemplatePolicy};

/// test_org's caller: the management account.
const CALLER: &str = "111111111111";
const PRODUCT: &str = "arn:aws:securityhub:us-east-1:111111111111:product/111111111111/default";
const GENERATOR: &str = "rootsweep/root-credentials";

async fn client(emulator: &EmulatorHandle) -> Client {
    Client::new(&without_retries(&caller_config(emulator).await))
}

/// A finding about `member`'s root credentials, shaped as rootsweep imports it.
fn finding(
    member: &str,
    updated: &str,
) -> aws_sdk_securityhub::types::builders::AwsSecurityFindingBuilder {
    AwsSecurityFinding::builder()
        .schema_version("2018-10-08")
        .id(format!("rootsweep/{member}"))
        .product_arn(PRODUCT)
        .generator_id(GENERATOR)
        .aws_account_id(CALLER)
        .types("Software and Configuration Checks/AWS Security Best Practices")
        .created_at("2026-12-01T00:00:00+00:00")
        .updated_at(updated)
        .severity(Severity::builder().label(SeverityLabel::High).build())
        .title(format!("Root credentials in {member}"))
        .description("The root user has a password past its grace period.")
        .resources(
            Resource::builder()
                .r#type("AwsAccount")
                .id(format!("AWS::::Account:{member}"))
                .build(),
        )
        .record_state(RecordState::Active)
}

fn equals(value: &str) -> StringFilter {
    StringFilter::builder()
        .value(value)
        .comparison(StringFilterComparison::Equals)
        .build()
}

fn active() -> AwsSecurityFindingFilters {
    AwsSecurityFindingFilters::builder()
        .generator_id(equals(GENERATOR))
        .record_state(equals("ACTIVE"))
        .build()
}

#[test]
fn import_then_get_with_filters_and_pages() {
    with_large_stack(|| async {
        let emulator = Emulator::start(test_org()).await.unwrap();
        let client = client(&emulator).await;
        let imported = client
            .batch_import_findings()
            .findings(finding(FULL, "2026-12-02T18:00:00Z").build())
            .findings(finding(CLEAN, "2026-12-02T18:00:00Z").build())
            .send()
            .await
            .unwrap();
        assert_eq!(
            (imported.success_count(), imported.failed_count()),
            (Some(2), Some(0))
        );
        assert!(imported.failed_findings().is_empty());

        let found: Vec<_> = client
            .get_findings()
            .filters(active())
            .max_results(1)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .unwrap();
        let ids: Vec<&str> = found.iter().filter_map(|f| f.id()).collect();
        assert_eq!(
            ids,
            [format!("rootsweep/{FULL}"), format!("rootsweep/{CLEAN}")]
        );
        let first = &found[0];
        assert_eq!(first.region(), Some("us-east-1"));
        assert_eq!(
            (first.product_name(), first.company_name()),
            (Some("Default"), Some("Personal"))
        );
        assert_eq!(first.severity().and_then(|s| s.normalized()), Some(70));
        let workflow = first.workflow().and_then(|w| w.status());
        assert_eq!(workflow.map(|s| s.as_str()), Some("NEW"));
        assert!(first.processed_at().is_some());

        let elsewhere = caller_config(&emulator)
            .await
            .to_builder()
            .region(aws_config::Region::new("eu-west-1"))
            .build();
        let there = Client::new(&elsewhere).get_findings().send().await.unwrap();
        assert!(there.findings().is_empty(), "findings are regional");

        let (status, body) = http(&emulator, "GET", "/_emulator/findings", &[], "").await;
        assert_eq!(status, 200);
        let stored: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(stored[0]["Id"], format!("rootsweep/{FULL}"));
        assert_eq!(emulator.findings().len(), 2);
    });
}

#[test]
fn some_findings_fail_while_the_call_succeeds() {
    with_large_stack(|| async {
        let emulator = Emulator::start(test_org()).await.unwrap();
        let client = client(&emulator).await;
        let no_severity = finding("444444444444", "2026-12-02T18:00:00Z")
            .set_severity(None)
            .build();
        let output = client
            .batch_import_findings()
            .findings(finding(FULL, "2026-12-02T18:00:00Z").build())
            .findings(
                finding(CLEAN, "2026-12-02T18:00:00Z")
                    .aws_account_id(FULL)
                    .build(),
            )
            .findings(no_severity)
            .send()
            .await
            .unwrap();
        assert_eq!(
            (output.success_count(), output.failed_count()),
            (Some(1), Some(2))
        );
        let failed = output.failed_findings();
        assert_eq!(failed[0].id(), Some(format!("rootsweep/{CLEAN}").as_str()));
        assert_eq!(failed[0].error_code(), Some("AccessDeniedException"));
        assert_eq!(failed[1].error_code(), Some("InvalidInput"));
        assert_eq!(
            failed[1].error_message(),
            Some(
                "Finding does not adhere to Amazon Finding Format. data should have required property 'Severity'."
            )
        );
        assert_eq!(emulator.findings().len(), 1);

        let too_many: Vec<AwsSecurityFinding> = (0..101)
            .map(|i| finding(&format!("{i:012}"), "2026-12-02T18:00:00Z").build())
            .collect();
        let refused = client
            .batch_import_findings()
            .set_findings(Some(too_many))
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(refused.is_invalid_input_exception(), "{refused:?}");
    });
}

#[test]
fn a_later_import_replaces_what_the_provider_says_but_a_triaged_severity() {
    with_large_stack(|| async {
        let emulator = Emulator::start(test_org()).await.unwrap();
        let client = client(&emulator).await;
        let import =
            |finding: AwsSecurityFinding| client.batch_import_findings().findings(finding).send();
        import(
            finding(FULL, "2026-12-02T18:00:00Z")
                .first_observed_at("2026-11-30T00:00:00Z")
                .build(),
        )
        .await
        .unwrap();
        let archived = finding(FULL, "2026-12-03T09:00:00.5Z")
            .created_at("2026-12-03T09:00:00Z")
            .first_observed_at("2026-12-03T09:00:00Z")
            .record_state(RecordState::Archived)
            .build();
        assert_eq!(import(archived).await.unwrap().success_count(), Some(1));
        let stale = finding(FULL, "2026-12-03T09:00:00.5Z")
            .title("stale")
            .build();
        assert_eq!(
            import(stale).await.unwrap().success_count(),
            Some(1),
            "accepted, and ignored"
        );

        let stored = &emulator.findings()[0];
        assert_eq!(emulator.findings().len(), 1);
        assert_eq!(stored["RecordState"], "ARCHIVED");
        // Only what customers manage is kept: a provider keeps CreatedAt by sending it again.
        assert_eq!(stored["CreatedAt"], "2026-12-03T09:00:00Z");
        assert_eq!(stored["FirstObservedAt"], "2026-12-03T09:00:00Z");
        assert_eq!(stored["Title"], format!("Root credentials in {FULL}"));
        // A customer's triage through BatchUpdateFindings outlives the provider's next import,
        // which still lands in FindingProviderFields.
        let triaged = client
            .batch_update_findings()
            .finding_identifiers(
                aws_sdk_securityhub::types::AwsSecurityFindingIdentifier::builder()
                    .id(format!("rootsweep/{FULL}"))
                    .product_arn(PRODUCT)
                    .build(),
            )
            .severity(
                aws_sdk_securityhub::types::SeverityUpdate::builder()
                    .label(SeverityLabel::Low)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(triaged.processed_findings().len(), 1);
        let critical = finding(FULL, "2026-12-04T00:00:00Z")
            .severity(Severity::builder().label(SeverityLabel::Critical).build())
            .record_state(RecordState::Archived)
            .build();
        import(critical).await.unwrap();
        let stored = &emulator.findings()[0];
        assert_eq!(stored["Severity"]["Label"], "LOW");
        assert_eq!(
            stored["FindingProviderFields"]["Severity"]["Label"],
            "CRITICAL"
        );
        let active = client
            .get_findings()
            .filters(active())
            .send()
            .await
            .unwrap();
        assert!(active.findings().is_empty());
    });
}

#[test]
fn not_enabled_filters_refused_and_errors_on_the_wire() {
    with_large_stack(|| async {
        let emulator = Emulator::new(test_org())
            .security_hub_enabled(false)
            .spawn()
            .await
            .unwrap();
        let hub = client(&emulator).await;
        let error = hub.get_findings().send().await.unwrap_err();
        assert_eq!(error.code(), Some("InvalidAccessException"));
        assert_eq!(
            error.message(),
            Some("Account 111111111111 is not subscribed to AWS Security Hub")
        );
        let import = hub
            .batch_import_findings()
            .findings(finding(FULL, "2026-12-02T18:00:00Z").build())
            .send()
            .await;
        assert!(
            import
                .unwrap_err()
                .into_service_error()
                .is_invalid_access_exception()
        );
        let response = signed(
            &emulator,
            &Signing::caller("securityhub"),
            "POST",
            "/findings",
            &[],
            "{}",
        )
        .await;
        assert_eq!(response.status, 401);
        assert_eq!(
            response.header("x-amzn-errortype"),
            Some("InvalidAccessException")
        );
        let body: serde_json::Value = serde_json::from_str(&response.body).unwrap();
        assert_eq!(body["Code"], "InvalidAccessException");

        let enabled = Emulator::start(test_org()).await.unwrap();
        let contains =
            |c: StringFilterComparison| StringFilter::builder().value("x").comparison(c).build();
        let mixed = AwsSecurityFindingFilters::builder()
            .title(contains(StringFilterComparison::Contains))
            .title(contains(StringFilterComparison::NotContains))
            .build();
        let refused = client(&enabled)
            .await
            .get_findings()
            .filters(mixed)
            .send()
            .await;
        assert!(
            refused
                .unwrap_err()
                .into_service_error()
                .is_invalid_input_exception()
        );
    });
}

#[test]
fn faults_records_and_root_sessions() {
    with_large_stack(|| async {
        let emulator = Emulator::start(test_org()).await.unwrap();
        emulator.set_faults(vec![
            Fault::new("BatchImportFindings", FaultKind::Throttle).times(1),
        ]);
        let retrying = Client::new(&caller_config(&emulator).await);
        let output = retrying
            .batch_import_findings()
            .findings(finding(FULL, "2026-12-02T18:00:00Z").build())
            .send()
            .await
            .unwrap();
        assert_eq!(output.success_count(), Some(1));
        let calls = emulator.calls();
        let imports: Vec<_> = calls
            .iter()
            .filter(|c| c.operation == "BatchImportFindings")
            .collect();
        assert_eq!(imports.len(), 2);
        assert_eq!(imports[0].service.as_deref(), Some("securityhub"));
        assert_eq!(imports[0].protocol, Protocol::RestJson1);
        assert_eq!(imports[0].status, 429);
        assert_eq!(
            imports[0].error_code.as_deref(),
            Some("LimitExceededException")
        );
        assert_eq!(imports[1].status, 200);

        let root = root_session(&emulator, FULL, AUDIT).await;
        let denied = Client::new(&without_retries(&root))
            .get_findings()
            .send()
            .await;
        assert_eq!(denied.unwrap_err().code(), Some("AccessDeniedException"));
    });
}

#[test]
fn the_templates_role_imports_its_own_accounts_findings_only() {
    with_large_stack(|| async {
        let template = include_str!("../../../infra/template.yaml");
        let deployed = |on: &str| {
            let policy = TemplatePolicy::parse(template)
                .unwrap()
                .parameter("SecurityHubFindings", on);
            Emulator::new(test_org()).caller_policy(policy).spawn()
        };
        let emulator = deployed("true").await.unwrap();
        let hub = client(&emulator).await;
        let own = hub
            .batch_import_findings()
            .findings(finding(FULL, "2026-12-02T18:00:00Z").build())
            .send()
            .await
            .unwrap();
        assert_eq!(own.success_count(), Some(1));
        hub.get_findings().filters(active()).send().await.unwrap();
        let other = hub
            .batch_import_findings()
            .findings(finding(FULL, "2026-12-02T18:00:00Z").build())
            .findings(
                finding(CLEAN, "2026-12-02T18:00:00Z")
                    .aws_account_id(FULL)
                    .build(),
            )
            .send()
            .await
            .unwrap_err();
        assert_eq!(other.code(), Some("AccessDeniedException"));
        assert_eq!(
            other.message(),
            Some(
                "User: arn:aws:sts::111111111111:assumed-role/RootSweep/emulator is not authorized to perform: securityhub:BatchImportFindings on resource: arn:aws:securityhub:us-east-1:111111111111:product/111111111111/default because no identity-based policy allows the securityhub:BatchImportFindings action"
            )
        );

        let off = deployed("false").await.unwrap();
        let denied = client(&off).await.get_findings().send().await.unwrap_err();
        assert_eq!(denied.code(), Some("AccessDeniedException"));
        assert!(
            denied
                .message()
                .unwrap()
                .contains("on resource: arn:aws:securityhub:us-east-1:111111111111:hub/default")
        );
    });
}

//! Security Hub findings through the SDK, in the AWS Security Finding Format.

use aws_sdk_securityhub::types::{
    AwsSecurityFinding, AwsSecurityFindingFilters, Compliance, ComplianceStatus,
    FindingProviderFields, FindingProviderSeverity, Partition, RecordState, Resource,
    SeverityLabel, StringFilter, StringFilterComparison,
};
use chrono::{DateTime, SecondsFormat, Utc};
use futures::FutureExt;

use super::aws_error;
use crate::account::Caller;
use crate::pace::Pace;
use crate::ports::{AwsError, Call, FailedFinding, Finding, Findings, PriorFinding, Severity};

/// The ASFF version Security Hub accepts.
const SCHEMA_VERSION: &str = "2018-10-08";
/// The finding type, a best-practice configuration check.
const TYPE: &str = "Software and Configuration Checks/AWS Security Best Practices";
/// GetFindings: 3 calls a second, bursts of 6 (Security Hub API reference, throttling limits).
const GET_FINDINGS_PER_SECOND: usize = 3;
/// The resource id of a member account.
const ACCOUNT_RESOURCE: &str = "AWS::::Account:";

pub struct SecurityHubFindings {
    client: aws_sdk_securityhub::Client,
    region: String,
    pages: Pace,
}

impl SecurityHubFindings {
    pub fn new(client: aws_sdk_securityhub::Client, region: String) -> Self {
        Self {
            client,
            region,
            pages: Pace::per_second(GET_FINDINGS_PER_SECOND),
        }
    }

    fn product_arn(&self, caller: &Caller) -> String {
        let account = caller.account.as_str();
        format!(
            "arn:{}:securityhub:{}:{account}:product/{account}/default",
            caller.partition, self.region
        )
    }

    /// With the default product ARN, `AwsAccountId` must be the caller's account
    /// (BatchImportFindings, Security Hub API reference); the member account is the resource.
    /// Severity and types go in `FindingProviderFields` only: Security Hub copies them to the
    /// top-level fields unless a customer changed those with BatchUpdateFindings ("Using
    /// FindingProviderFields", Security Hub User Guide), so a triage is never undone and the
    /// provider's own values stay visible.
    fn asff(&self, caller: &Caller, finding: &Finding) -> AwsSecurityFinding {
        let partition = caller.partition.as_str();
        let resource = Resource::builder()
            .r#type("AwsAccount")
            .id(format!("{ACCOUNT_RESOURCE}{}", finding.account))
            .partition(Partition::from(partition))
            .region(&self.region)
            .build();
        let provided = FindingProviderFields::builder()
            .severity(
                FindingProviderSeverity::builder()
                    .label(SeverityLabel::from(finding.severity.as_str()))
                    .build(),
            )
            .types(TYPE)
            .build();
        AwsSecurityFinding::builder()
            .schema_version(SCHEMA_VERSION)
            .id(&finding.id)
            .product_arn(self.product_arn(caller))
            .generator_id(crate::findings::GENERATOR)
            .aws_account_id(caller.account.as_str())
            .created_at(timestamp(finding.created))
            .updated_at(timestamp(finding.updated))
            .set_first_observed_at(finding.first_observed.map(timestamp))
            .set_last_observed_at(finding.last_observed.map(timestamp))
            .finding_provider_fields(provided)
            .title(&finding.title)
            .description(&finding.description)
            .resources(resource)
            .compliance(
                Compliance::builder()
                    .status(ComplianceStatus::from(finding.compliance))
                    .build(),
            )
            .record_state(RecordState::from(finding.record_state))
            .build()
    }

    async fn import_findings(
        &self,
        caller: &Caller,
        findings: &[Finding],
    ) -> Result<Vec<FailedFinding>, AwsError> {
        let asff = findings.iter().map(|f| self.asff(caller, f)).collect();
        let output = self
            .client
            .batch_import_findings()
            .set_findings(Some(asff))
            .send()
            .await
            .map_err(|err| aws_error("securityhub:BatchImportFindings", err))?;
        Ok(output
            .failed_findings()
            .iter()
            .map(|f| FailedFinding {
                id: f.id().unwrap_or_default().to_owned(),
                error: format!(
                    "{}: {}",
                    f.error_code().unwrap_or_default(),
                    f.error_message().unwrap_or_default()
                ),
            })
            .collect())
    }

    /// Every finding of `generator` in the caller's default product, a page at a time under
    /// GetFindings' rate.
    async fn prior_findings(
        &self,
        caller: &Caller,
        generator: &str,
    ) -> Result<Vec<PriorFinding>, AwsError> {
        let equals = |value: &str| {
            StringFilter::builder()
                .value(value)
                .comparison(StringFilterComparison::Equals)
                .build()
        };
        let filters = AwsSecurityFindingFilters::builder()
            .product_arn(equals(&self.product_arn(caller)))
            .generator_id(equals(generator))
            .build();
        let mut pages = self
            .client
            .get_findings()
            .filters(filters)
            .into_paginator()
            .send();
        let mut prior = Vec::new();
        loop {
            self.pages.wait().await;
            let Some(page) = pages.next().await else {
                return Ok(prior);
            };
            let page = page.map_err(|err| aws_error("securityhub:GetFindings", err))?;
            prior.extend(page.findings().iter().filter_map(prior_finding));
        }
    }
}

/// ASFF timestamps: RFC 3339 with milliseconds, so that an update within the second of the
/// previous one still comes after it.
fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn parse_time(text: Option<&str>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A finding as read back; one without an id or a creation date is not one of ours to update.
fn prior_finding(finding: &AwsSecurityFinding) -> Option<PriorFinding> {
    let account = finding
        .resources()
        .iter()
        .filter_map(|r| r.id()?.strip_prefix(ACCOUNT_RESOURCE)?.parse().ok())
        .next();
    let severity = finding
        .finding_provider_fields()
        .and_then(|f| f.severity())
        .and_then(|s| s.label())
        .and_then(|label| label.as_str().parse::<Severity>().ok());
    Some(PriorFinding {
        id: finding.id()?.to_owned(),
        account,
        created: parse_time(finding.created_at())?,
        first_observed: parse_time(finding.first_observed_at()),
        last_observed: parse_time(finding.last_observed_at()),
        severity,
        active: finding.record_state() != Some(&RecordState::Archived),
    })
}

impl Findings for SecurityHubFindings {
    fn import<'a>(
        &'a self,
        caller: &'a Caller,
        findings: &'a [Finding],
    ) -> Call<'a, Vec<FailedFinding>> {
        self.import_findings(caller, findings).boxed()
    }

    fn prior<'a>(&'a self, caller: &'a Caller, generator: &'a str) -> Call<'a, Vec<PriorFinding>> {
        self.prior_findings(caller, generator).boxed()
    }
}

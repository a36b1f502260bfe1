//! Security Hub findings through the SDK, in the AWS Security Finding Format.

use aws_sdk_securityhub::types::{
    AwsSecurityFinding, AwsSecurityFindingFilters, Compliance, ComplianceStatus, Partition,
    RecordState, Resource, Severity, SeverityLabel, StringFilter, StringFilterComparison,
};
use futures::FutureExt;

use super::aws_error;
use crate::account::Caller;
use crate::ports::{AwsError, Call, FailedFinding, Finding, Findings};

/// The ASFF version Security Hub accepts.
const SCHEMA_VERSION: &str = "2018-10-08";

#[derive(Clone)]
pub struct SecurityHubFindings {
    client: aws_sdk_securityhub::Client,
    region: String,
}

impl SecurityHubFindings {
    pub fn new(client: aws_sdk_securityhub::Client, region: String) -> Self {
        Self { client, region }
    }

    /// With the default product ARN, `AwsAccountId` must be the caller's account
    /// (BatchImportFindings, Security Hub API reference); the member account is the resource.
    fn asff(&self, caller: &Caller, finding: &Finding) -> AwsSecurityFinding {
        let partition = caller.partition.as_str();
        let account = caller.account.as_str();
        let resource = Resource::builder()
            .r#type("AwsAccount")
            .id(format!("AWS::::Account:{}", finding.account))
            .partition(Partition::from(partition))
            .region(&self.region)
            .build();
        AwsSecurityFinding::builder()
            .schema_version(SCHEMA_VERSION)
            .id(&finding.id)
            .product_arn(format!(
                "arn:{partition}:securityhub:{}:{account}:product/{account}/default",
                self.region
            ))
            .generator_id(crate::findings::GENERATOR)
            .aws_account_id(account)
            .types("Software and Configuration Checks/AWS Security Best Practices")
            .created_at(finding.first_observed.to_rfc3339())
            .updated_at(finding.updated.to_rfc3339())
            .severity(
                Severity::builder()
                    .label(SeverityLabel::from(finding.severity))
                    .build(),
            )
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

    async fn active_ids(&self, generator: &str) -> Result<Vec<String>, AwsError> {
        let equals = |value: &str| {
            StringFilter::builder()
                .value(value)
                .comparison(StringFilterComparison::Equals)
                .build()
        };
        let filters = AwsSecurityFindingFilters::builder()
            .generator_id(equals(generator))
            .record_state(equals("ACTIVE"))
            .build();
        let findings: Vec<_> = self
            .client
            .get_findings()
            .filters(filters)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|err| aws_error("securityhub:GetFindings", err))?;
        Ok(findings
            .iter()
            .filter_map(|f| f.id().map(str::to_owned))
            .collect())
    }
}

impl Findings for SecurityHubFindings {
    fn import<'a>(
        &'a self,
        caller: &'a Caller,
        findings: &'a [Finding],
    ) -> Call<'a, Vec<FailedFinding>> {
        self.import_findings(caller, findings).boxed()
    }

    fn active<'a>(&'a self, generator: &'a str) -> Call<'a, Vec<String>> {
        self.active_ids(generator).boxed()
    }
}

//! Security Hub (restJson1, API version 2018-10-26; botocore's `securityhub` model):
//! `BatchImportFindings` of AWS Security Finding Format (ASFF) documents through the caller
//! account's default product, and `GetFindings` with string filters. Findings are kept per
//! region, as Security Hub keeps them.
//!
//! # Behaviour
//!
//! restJson1 (botocore's `securityhub` model, API version 2018-10-26), signed for `securityhub`; the
//! caller principal's findings, per region. Root sessions get `AccessDeniedException` (403).
//!
//! - **Enabled** unless the org says `"security_hub_enabled": false`
//!   (`Emulator::security_hub_enabled(false)`, `--security-hub-disabled`): then every call answers
//!   `InvalidAccessException` (401) "Account ACCOUNT is not subscribed to AWS Security Hub", as
//!   Security Hub does. The switch holds for every region.
//! - **BatchImportFindings** (`POST /findings/import`): 1 to 100 findings, else
//!   `InvalidInputException` (400). Each finding is checked on its own; a finding can fail while the
//!   call succeeds: `{FailedCount, SuccessCount, FailedFindings: [{Id, ErrorCode, ErrorMessage}]}`.
//!   - `InvalidInput` "Finding does not adhere to Amazon Finding Format. data should have required
//!     property 'X'." (the schema validator's wording, as Security Hub answers it) for a missing or
//!     empty `SchemaVersion`, `Id`, `ProductArn`, `GeneratorId`, `AwsAccountId`, `CreatedAt`,
//!     `UpdatedAt`, `Title`, `Description`, `Resources` (1 to 32, each with `Type` and `Id`),
//!     `Severity` (a `Label` or a `Normalized` 0..=100) and `Types` (1 to 50,
//!     `namespace/category/classifier` in one of ASFF's five namespaces) — those two may come in
//!     `FindingProviderFields` instead; and for a `SchemaVersion` other than `2018-10-08`, an
//!     `AwsAccountId` that is not 12 digits, timestamps not in Security Hub's formats
//!     (`YYYY-MM-DDTHH:MM:SS[.1-9 digits](Z|±HH[:MM])`), `Title` over 256, `Description` over 1024,
//!     `Id` over 512 characters, a `RecordState` or `Compliance.Status` outside the model's values,
//!     a finding over 240 KB.
//!   - The product: `ProductArn` must be the caller's default product in the request's region,
//!     `arn:aws:securityhub:REGION:ACCOUNT:product/ACCOUNT/default`, and `AwsAccountId` the
//!     caller's account ("BatchImportFindings", API reference). Another account:
//!     `AccessDeniedException` (AWS support's answer reported in prowler-cloud/prowler#867; that it
//!     fails the finding rather than the call is our assumption); a partner product: `InvalidAccess`
//!     (partner integrations are not emulated; Security Hub answers so for a provider that is not
//!     enabled); another region: `InvalidInput`.
//!   - A finding with the `Id` of a stored one (same product, same region) updates it ("Determining
//!     whether to create or update a finding", Security Hub User Guide): an update whose `UpdatedAt`
//!     is not later than the stored one's is ignored (and counted as a success); an update keeps the
//!     stored `Note`, `UserDefinedFields`, `VerificationState`, `Workflow` and `WorkflowState`
//!     ("Restricted attributes") and takes everything else (`CreatedAt` and `RecordState`
//!     included: a provider keeps `CreatedAt` by sending it again).
//!   - `Confidence`, `Criticality`, `RelatedFindings`, `Severity`, `Types` ("Using
//!     FindingProviderFields"): a value in `FindingProviderFields` (else at the top level) sets
//!     `FindingProviderFields`; a new finding takes it at the top level too (the provider's value
//!     wins over a top-level one sent with it); an update changes the top level only where no
//!     `BatchUpdateFindings` changed the attribute.
//!   - At most 6 MB of findings a call (the whole call is refused with `InvalidInputException`: the
//!     limit is documented, the wording is our assumption).
//!   - Security Hub fills in `Region` (the request's), `ProcessedAt`, `RecordState` `ACTIVE` when
//!     absent, `ProductName` `Default` and `CompanyName` `Personal` when absent, `Workflow.Status`
//!     and `WorkflowState` `NEW` on a new finding, and the missing one of `Severity.Label` /
//!     `Severity.Normalized` (0, 1, 40, 70, 90 for INFORMATIONAL..CRITICAL, and back by range).
//! - **GetFindings** (`POST /findings`): the region's findings in import order, paged by
//!   `MaxResults` (1..=100, default 100, our assumption) and `NextToken` (bound to the filters).
//!   `Filters` takes string filters (`{Value, Comparison}`) with `EQUALS` or `PREFIX` on
//!   `ProductArn`, `GeneratorId` and `RecordState`, what the clients here send (`filters`): values
//!   of one attribute joined by OR, attributes by AND. Other attributes and comparisons, non-string
//!   filters and `SortCriteria` are `InvalidInputException` saying they are not emulated.
//! - **BatchUpdateFindings** (`PATCH /findings/batchupdate`), as a customer triages: `Severity`,
//!   `Types` and `Workflow.Status` of 1 to 100 identified findings (`FindingNotFound` in
//!   `UnprocessedFindings` for an unknown one); other attributes are refused as not emulated.
//! - **Rates**, always on as in AWS, per caller account: `BatchImportFindings` 10 calls a second
//!   with bursts of 30, `GetFindings` 3 with bursts of 6; a throttled call answers
//!   `TooManyRequestsException` (429).
//! - Errors: status, header `x-amzn-ErrorType: <code>`, body `{"Code": .., "Message": ..}`.
//! - **Findings for tests**: `EmulatorHandle::findings() -> Vec<serde_json::Value>` and
//!   `GET /_emulator/findings`: every finding as GetFindings answers it, in import order.
//!   In debug builds the Rust SDK's finding deserializers need more stack than a test thread's
//!   2 MiB (a stack overflow otherwise): the tests run on a larger one (`with_large_stack` in
//!   `tests/common`).
//!
//! # Not emulated
//!
//! Security Hub's other operations (`DescribeHub`, ...), partner products, `SortCriteria`,
//! filters but those the clients here send (`filters`), cross-region aggregation, the 90-day
//! expiry of findings, and enabling it per region.

mod errors;
mod filters;
#[cfg(test)]
mod fixtures;
mod handlers;
mod schema;
mod state;

use chrono::{DateTime, Utc};

use super::Service;
use crate::error::ApiError;
use crate::policy::Request;
use crate::protocol::rest::Route;
use crate::protocol::{Input, Reply, list};
use crate::world::World;

pub(crate) use state::Findings;

pub const ROUTES: &[Route] = &[
    Route {
        operation: "BatchImportFindings",
        method: "POST",
        uri: "/findings/import",
        query: &[],
        headers: &[],
    },
    Route {
        operation: "GetFindings",
        method: "POST",
        uri: "/findings",
        query: &[],
        headers: &[],
    },
    Route {
        operation: "BatchUpdateFindings",
        method: "PATCH",
        uri: "/findings/batchupdate",
        query: &[],
        headers: &[],
    },
];

/// Where a call's findings live: the caller's account and the region the request was signed for.
pub struct Place<'a> {
    pub account: &'a str,
    pub region: &'a str,
}

impl Place<'_> {
    /// The account's own product, through which it imports its findings ("Using the default
    /// product ARN", Security Hub User Guide, custom integrations).
    fn default_product(&self) -> String {
        format!(
            "arn:aws:securityhub:{}:{}:product/{}/default",
            self.region, self.account, self.account
        )
    }
}

/// Routes an operation to its handler, once Security Hub is enabled.
pub fn call(
    world: &mut World,
    at: &Place,
    operation: &str,
    input: &Input,
    now: DateTime<Utc>,
) -> Result<Reply, ApiError> {
    if !world.org.security_hub_enabled {
        return Err(errors::not_subscribed(at.account));
    }
    let reply = match operation {
        "BatchImportFindings" => handlers::import(world, at, input, now)?,
        "GetFindings" => handlers::get_findings(world, at, input)?,
        "BatchUpdateFindings" => handlers::batch_update(world, at, input)?,
        _ => return Err(Service::SecurityHub.unknown_operation(operation)),
    };
    Ok(Reply::Json(reply))
}

/// What the caller's policy must allow (Service Authorization Reference, AWS Security Hub):
/// BatchImportFindings on each finding's product, with `securityhub:TargetAccount` its
/// `AwsAccountId` (one request per product and account in the batch: each must be allowed, our
/// reading of a batch); GetFindings and BatchUpdateFindings on the hub (`hub/default`).
pub fn authorization(
    operation: &str,
    input: &Input,
    account: &str,
    region: &str,
) -> Option<Vec<Request>> {
    let action = format!("securityhub:{operation}");
    match operation {
        "BatchImportFindings" => {
            let mut requests: Vec<Request> = Vec::new();
            for finding in list(input.get("Findings")) {
                let Some(product) = finding["ProductArn"].as_str() else {
                    continue;
                };
                let target = finding["AwsAccountId"].as_str();
                let context = target
                    .map(|t| ("securityhub:TargetAccount".to_owned(), t.to_owned()))
                    .into_iter()
                    .collect();
                let request = Request {
                    action: action.clone(),
                    resource: product.to_owned(),
                    context,
                };
                if !requests.contains(&request) {
                    requests.push(request);
                }
            }
            Some(requests)
        }
        // The customer's triage acts on findings in the hub, as reading them does.
        "GetFindings" | "BatchUpdateFindings" => Some(vec![Request {
            action,
            resource: format!("arn:aws:securityhub:{region}:{account}:hub/default"),
            context: Vec::new(),
        }]),
        _ => None,
    }
}

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
//!   `Filters` takes string filters (`{Value, Comparison}`) on `Id`, `ProductArn`, `GeneratorId`,
//!   `AwsAccountId`, `AwsAccountName`, `Region`, `Type`, `SeverityLabel`, `Title`, `Description`,
//!   `SourceUrl`, `ProductName`, `CompanyName`, `RecordState`, `WorkflowState`, `WorkflowStatus`,
//!   `ComplianceStatus`, `ComplianceSecurityControlId`, `VerificationState`, `ResourceType`,
//!   `ResourceId`, `ResourcePartition`, `ResourceRegion`, with `EQUALS`, `PREFIX`, `CONTAINS`
//!   (joined by OR on one attribute) and `NOT_EQUALS`, `PREFIX_NOT_EQUALS`, `NOT_CONTAINS` (joined by
//!   AND); attributes are joined by AND; a list attribute (`Resources`, `Types`) matches when one
//!   item does. As the model's `StringFilter` says, `CONTAINS` and `NOT_CONTAINS` combine only with
//!   themselves, `EQUALS` not with `NOT_EQUALS` / `PREFIX_NOT_EQUALS`, `CONTAINS_WORD` is for the V2
//!   APIs, and at most 10 attributes with 20 values each: else `InvalidInputException`. Other
//!   filters (dates, numbers, maps, keywords, IPs) and `SortCriteria` are `InvalidInputException`
//!   saying they are not emulated.
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
//! non-string filters, cross-region aggregation, the 90-day expiry of findings, and enabling it per
//! region.

mod filters;

use std::collections::HashMap;

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::Service;
use crate::error::ApiError;
use crate::paging;
use crate::policy::Request;
use crate::protocol::rest::Route;
use crate::protocol::{Input, Reply, list};
use crate::world::World;

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

/// At most 100 findings per import (`BatchImportFindingsRequestFindingList`) and per page of
/// GetFindings (`MaxResults`, also its default: our assumption, the reference gives none).
const MAX_FINDINGS: usize = 100;
/// "Security Hub accepts up to 100 findings per batch, up to 240 KB per finding, and up to 6
/// MB per batch" (Security Hub User Guide, "BatchImportFindings for finding providers").
const MAX_FINDING_BYTES: usize = 240 * 1024;
const MAX_BATCH_BYTES: usize = 6 * 1024 * 1024;
/// The only ASFF version.
const SCHEMA_VERSION: &str = "2018-10-08";

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

/// Every imported finding, as GetFindings answers them, in import order.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    findings: Vec<Value>,
    /// (region, product ARN, finding id) to its place in `findings`.
    index: HashMap<(String, String, String), usize>,
    /// Per finding, the provider attributes a customer changed with BatchUpdateFindings.
    triaged: Vec<Vec<&'static str>>,
}

impl Findings {
    pub fn all(&self) -> &[Value] {
        &self.findings
    }
}

pub fn call(
    world: &mut World,
    at: &Place,
    operation: &str,
    input: &Input,
    now: DateTime<Utc>,
) -> Result<Reply, ApiError> {
    // The answer to any call in an account and region where Security Hub is not enabled.
    if !world.org.security_hub_enabled {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "InvalidAccessException",
            format!(
                "Account {} is not subscribed to AWS Security Hub",
                at.account
            ),
        ));
    }
    let reply = match operation {
        "BatchImportFindings" => import(world, at, input, now)?,
        "GetFindings" => get_findings(world, at, input)?,
        "BatchUpdateFindings" => batch_update(world, at, input)?,
        _ => return Err(Service::SecurityHub.unknown_operation(operation)),
    };
    Ok(Reply::Json(reply))
}

/// BatchImportFindings: each finding is checked on its own, so some can fail while the call
/// succeeds; the failures are listed with their `Id`, `ErrorCode` and `ErrorMessage`.
fn import(
    world: &mut World,
    at: &Place,
    input: &Input,
    now: DateTime<Utc>,
) -> Result<Value, ApiError> {
    let findings = list(input.get("Findings"));
    if findings.is_empty() || findings.len() > MAX_FINDINGS {
        return Err(invalid_input(format!(
            "1 validation error detected: Value at 'findings' failed to satisfy constraint: Member must have length between 1 and {MAX_FINDINGS}"
        )));
    }
    // The whole call is refused: its wording is our assumption, the limit is documented.
    let bytes: usize = findings.iter().map(|f| f.to_string().len()).sum();
    if bytes > MAX_BATCH_BYTES {
        return Err(invalid_input(format!(
            "The findings of one BatchImportFindings call take {bytes} bytes, more than the 6 MB allowed."
        )));
    }
    let mut failed = Vec::new();
    for finding in findings {
        if let Err((code, message)) = check(finding, at) {
            let id = finding["Id"].as_str().unwrap_or_default();
            failed.push(json!({"Id": id, "ErrorCode": code, "ErrorMessage": message}));
            continue;
        }
        store(&mut world.findings, at, finding.clone(), now);
    }
    Ok(json!({
        "FailedCount": failed.len(),
        "SuccessCount": findings.len() - failed.len(),
        "FailedFindings": failed,
    }))
}

/// The attributes a provider sets through `FindingProviderFields`, and customers change at the
/// top level with BatchUpdateFindings ("Using FindingProviderFields", Security Hub User Guide).
const PROVIDER_FIELDS: [&str; 5] = [
    "Confidence",
    "Criticality",
    "RelatedFindings",
    "Severity",
    "Types",
];

/// Creates the finding, or updates the one with its product and id ("Determining whether to
/// create or update a finding", Security Hub User Guide): an update whose `UpdatedAt` is not
/// later than the stored one's is ignored; an update replaces the finding but for what
/// customers manage, which BatchImportFindings cannot change (`Note`, `UserDefinedFields`,
/// `VerificationState`, `Workflow`, "Restricted attributes"). `CreatedAt` is what the update
/// says: a provider keeps it by sending it again. The provider fields follow
/// [`provider_fields`].
fn store(findings: &mut Findings, at: &Place, mut finding: Value, now: DateTime<Utc>) {
    let key = (
        at.region.to_owned(),
        finding["ProductArn"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        finding["Id"].as_str().unwrap_or_default().to_owned(),
    );
    let Some(&index) = findings.index.get(&key) else {
        provider_fields(&mut finding, None, &[]);
        complete(&mut finding, at, now);
        finding["WorkflowState"] = json!("NEW");
        finding["Workflow"] = json!({"Status": "NEW"});
        findings.index.insert(key, findings.findings.len());
        findings.findings.push(finding);
        findings.triaged.push(Vec::new());
        return;
    };
    let stored = &findings.findings[index];
    let time = |f: &Value| timestamp(f["UpdatedAt"].as_str().unwrap_or_default());
    if time(&finding) <= time(stored) {
        return;
    }
    provider_fields(&mut finding, Some(stored), &findings.triaged[index]);
    complete(&mut finding, at, now);
    const KEPT: [&str; 5] = [
        "Note",
        "UserDefinedFields",
        "VerificationState",
        "Workflow",
        "WorkflowState",
    ];
    let Some(update) = finding.as_object_mut() else {
        return;
    };
    for member in KEPT {
        match stored.get(member) {
            Some(value) => update.insert(member.to_owned(), value.clone()),
            None => update.remove(member),
        };
    }
    findings.findings[index] = finding;
}

/// Where an import's provider fields go ("Using FindingProviderFields"): a value given in
/// `FindingProviderFields` (else at the top level) sets `FindingProviderFields`; a new finding
/// takes it at the top level too, whatever top-level value came with it; an existing one takes
/// the given top-level value (else the provider's) only where no customer changed the
/// attribute with BatchUpdateFindings (`triaged`), and keeps what it had where nothing is given.
fn provider_fields(update: &mut Value, stored: Option<&Value>, triaged: &[&str]) {
    let mut provided = update["FindingProviderFields"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    for member in PROVIDER_FIELDS {
        let top = update.get(member).filter(|v| !v.is_null()).cloned();
        let from_provider = provided.get(member).cloned();
        let (provider_value, top_value) = match stored {
            None => {
                let value = from_provider.or(top);
                (value.clone(), value)
            }
            Some(stored) if triaged.contains(&member) => {
                (from_provider.or(top), stored.get(member).cloned())
            }
            Some(stored) => {
                let kept = || stored.get(member).cloned();
                (
                    from_provider.clone().or(top.clone()),
                    top.or(from_provider).or_else(kept),
                )
            }
        };
        let kept = stored.and_then(|s| s["FindingProviderFields"].get(member).cloned());
        match provider_value.or(kept) {
            Some(value) => provided.insert(member.to_owned(), value),
            None => provided.remove(member),
        };
        let Some(object) = update.as_object_mut() else {
            return;
        };
        match top_value {
            Some(value) => object.insert(member.to_owned(), value),
            None => object.remove(member),
        };
    }
    if !provided.is_empty() {
        update["FindingProviderFields"] = Value::Object(provided);
    }
}

/// BatchUpdateFindings, as a customer triages: `Severity`, `Types` and `Workflow.Status` of the
/// identified findings (the other attributes are not emulated, and refused). Each changed
/// provider attribute is the customer's from then on: imports no longer touch it at the top
/// level.
fn batch_update(world: &mut World, at: &Place, input: &Input) -> Result<Value, ApiError> {
    const EMULATED: [&str; 4] = ["FindingIdentifiers", "Severity", "Types", "Workflow"];
    if let Some(other) = input.members().into_iter().find(|k| !EMULATED.contains(k)) {
        return Err(invalid_input(format!(
            "BatchUpdateFindings {other} is not emulated (Severity, Types and Workflow only)."
        )));
    }
    let identifiers = list(input.get("FindingIdentifiers"));
    if identifiers.is_empty() || identifiers.len() > MAX_FINDINGS {
        return Err(invalid_input(format!(
            "FindingIdentifiers must have between 1 and {MAX_FINDINGS} items."
        )));
    }
    let findings = &mut world.findings;
    let (mut processed, mut unprocessed) = (Vec::new(), Vec::new());
    for identifier in identifiers {
        let key = (
            at.region.to_owned(),
            identifier["ProductArn"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            identifier["Id"].as_str().unwrap_or_default().to_owned(),
        );
        let Some(&index) = findings.index.get(&key) else {
            unprocessed.push(json!({"FindingIdentifier": identifier, "ErrorCode": "FindingNotFound", "ErrorMessage": "Finding Not Found"}));
            continue;
        };
        let finding = &mut findings.findings[index];
        for member in ["Severity", "Types"] {
            if let Some(value) = input.get(member) {
                finding[member] = value.clone();
                if !findings.triaged[index].contains(&member) {
                    findings.triaged[index].push(member);
                }
            }
        }
        if let Some(status) = input.get("Workflow").map(|w| w["Status"].clone()) {
            finding["Workflow"] = json!({"Status": status});
        }
        processed.push(identifier.clone());
    }
    Ok(json!({"ProcessedFindings": processed, "UnprocessedFindings": unprocessed}))
}

/// What Security Hub fills in on import: `Region` (always the request's), `ProcessedAt`,
/// `RecordState` `ACTIVE` when absent, a custom integration's `ProductName` and `CompanyName`
/// when absent (the console shows "Default" and "Personal"), and the severity `Label` or
/// `Normalized` that was left out (ASFF `Severity`: "If only one of these attributes is
/// populated, then Security Hub automatically populates the other one").
fn complete(finding: &mut Value, at: &Place, now: DateTime<Utc>) {
    finding["Region"] = json!(at.region);
    finding["ProcessedAt"] = json!(now.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string());
    for (member, default) in [
        ("RecordState", "ACTIVE"),
        ("ProductName", "Default"),
        ("CompanyName", "Personal"),
    ] {
        if finding.get(member).is_none() {
            finding[member] = json!(default);
        }
    }
    let severity = &mut finding["Severity"];
    if !severity.is_object() {
        return;
    }
    let label = severity["Label"].as_str().map(str::to_owned);
    match (label, severity["Normalized"].as_u64()) {
        (Some(label), None) => {
            let normalized = match label.as_str() {
                "INFORMATIONAL" => 0,
                "LOW" => 1,
                "MEDIUM" => 40,
                "HIGH" => 70,
                _ => 90,
            };
            severity["Normalized"] = json!(normalized);
        }
        (None, Some(normalized)) => {
            let label = match normalized {
                0 => "INFORMATIONAL",
                1..=39 => "LOW",
                40..=69 => "MEDIUM",
                70..=89 => "HIGH",
                _ => "CRITICAL",
            };
            severity["Label"] = json!(label);
        }
        _ => {}
    }
}

/// Why a finding cannot be imported: `(ErrorCode, ErrorMessage)`.
type Refusal = (&'static str, String);

/// A finding as Security Hub checks it: the ASFF schema's required attributes and formats
/// (`InvalidInput`, with the schema validator's wording, "Finding does not adhere to Amazon
/// Finding Format. data should have required property 'X'."), then its product.
fn check(finding: &Value, at: &Place) -> Result<(), Refusal> {
    schema(finding).map_err(|why| {
        (
            "InvalidInput",
            format!("Finding does not adhere to Amazon Finding Format. {why}."),
        )
    })?;
    product(finding, at)
}

/// The ASFF attributes that matter here ("AWS Security Finding Format (ASFF)", required
/// top-level attributes, and "Timestamps" for the date formats).
fn schema(finding: &Value) -> Result<(), String> {
    if !finding.is_object() {
        return Err("data should be object".to_owned());
    }
    const REQUIRED: [(&str, usize); 9] = [
        ("SchemaVersion", 64),
        ("Id", 512),
        ("ProductArn", 2048),
        ("GeneratorId", 512),
        ("AwsAccountId", 12),
        ("CreatedAt", 64),
        ("UpdatedAt", 64),
        ("Title", 256),
        ("Description", 1024),
    ];
    for (member, longest) in REQUIRED {
        let text = finding[member]
            .as_str()
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| format!("data should have required property '{member}'"))?;
        if text.chars().count() > longest {
            return Err(format!(
                "data.{member} should NOT be longer than {longest} characters"
            ));
        }
    }
    if finding["SchemaVersion"] != SCHEMA_VERSION {
        return Err("data.SchemaVersion should be equal to one of the allowed values".to_owned());
    }
    let account = finding["AwsAccountId"].as_str().unwrap_or_default();
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err("data.AwsAccountId should match pattern \"^[0-9]{12}$\"".to_owned());
    }
    for member in [
        "CreatedAt",
        "UpdatedAt",
        "FirstObservedAt",
        "LastObservedAt",
    ] {
        if let Some(text) = finding.get(member)
            && text.as_str().and_then(timestamp).is_none()
        {
            return Err(format!("data.{member} should match format \"date-time\""));
        }
    }
    severity_and_types(finding)?;
    resources(finding)?;
    enums(finding)?;
    if finding.to_string().len() > MAX_FINDING_BYTES {
        return Err("data should NOT be larger than 240 KB".to_owned());
    }
    Ok(())
}

/// `Severity` (with a `Label` or a `Normalized` 0..=100) and `Types` (each
/// `namespace/category/classifier` in one of ASFF's namespaces), at the top level or in
/// `FindingProviderFields`, where finding providers may give them instead.
fn severity_and_types(finding: &Value) -> Result<(), String> {
    let provided = &finding["FindingProviderFields"];
    let severity = [&finding["Severity"], &provided["Severity"]]
        .into_iter()
        .find(|s| s.is_object())
        .ok_or("data should have required property 'Severity'")?;
    const LABELS: [&str; 5] = ["INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"];
    let label_ok = severity["Label"]
        .as_str()
        .map(|label| LABELS.contains(&label));
    let normalized_ok = severity["Normalized"].as_u64().map(|n| n <= 100);
    if label_ok == Some(false)
        || normalized_ok == Some(false)
        || (label_ok, normalized_ok) == (None, None)
    {
        return Err("data.Severity should have a valid Label or Normalized".to_owned());
    }
    let types = [&finding["Types"], &provided["Types"]]
        .into_iter()
        .find_map(Value::as_array)
        .ok_or("data should have required property 'Types'")?;
    const NAMESPACES: [&str; 5] = [
        "Software and Configuration Checks",
        "TTPs",
        "Effects",
        "Unusual Behaviors",
        "Sensitive Data Identifications",
    ];
    if types.is_empty() || types.len() > 50 {
        return Err("data.Types should have 1 to 50 items".to_owned());
    }
    for (i, kind) in types.iter().enumerate() {
        let namespace = kind.as_str().and_then(|k| k.split('/').next());
        if !namespace.is_some_and(|n| NAMESPACES.contains(&n)) {
            return Err(format!(
                "data.Types[{i}] should match namespace/category/classifier with a valid namespace"
            ));
        }
    }
    Ok(())
}

/// `Resources`: 1 to 32 items, each with a `Type` and an `Id`.
fn resources(finding: &Value) -> Result<(), String> {
    let resources = finding["Resources"]
        .as_array()
        .ok_or("data should have required property 'Resources'")?;
    if resources.is_empty() || resources.len() > 32 {
        return Err("data.Resources should have 1 to 32 items".to_owned());
    }
    for (i, resource) in resources.iter().enumerate() {
        for member in ["Type", "Id"] {
            if resource[member]
                .as_str()
                .is_none_or(|t| t.trim().is_empty())
            {
                return Err(format!(
                    "data.Resources[{i}] should have required property '{member}'"
                ));
            }
        }
    }
    Ok(())
}

/// The enumerations a provider sets (the model's `RecordState`, `ComplianceStatus`).
fn enums(finding: &Value) -> Result<(), String> {
    let checks: [(&str, &Value, &[&str]); 2] = [
        (
            "RecordState",
            &finding["RecordState"],
            &["ACTIVE", "ARCHIVED"],
        ),
        (
            "Compliance.Status",
            &finding["Compliance"]["Status"],
            &["PASSED", "WARNING", "FAILED", "NOT_AVAILABLE"],
        ),
    ];
    for (member, value, allowed) in checks {
        if !value.is_null() && !value.as_str().is_some_and(|v| allowed.contains(&v)) {
            return Err(format!(
                "data.{member} should be equal to one of the allowed values"
            ));
        }
    }
    Ok(())
}

/// The finding's product must be the caller's default product in the request's region, and its
/// `AwsAccountId` the caller's: "the identifier of the account that you are calling
/// BatchImportFindings from needs to be the same as the AwsAccountId attribute for the finding"
/// (BatchImportFindings, API reference). Partner products are not emulated: their findings fail
/// as those of a provider whose integration is not enabled (`InvalidAccess`, "BatchImportFindings
/// for finding providers"). For another account, AWS support reported `AccessDeniedException`
/// (prowler-cloud/prowler#867); that it fails the finding, not the call, is our assumption.
fn product(finding: &Value, at: &Place) -> Result<(), Refusal> {
    let arn = finding["ProductArn"].as_str().unwrap_or_default();
    let account = finding["AwsAccountId"].as_str().unwrap_or_default();
    let fields: Vec<&str> = arn.splitn(6, ':').collect();
    let (region, owner, resource) = match fields[..] {
        ["arn", "aws", "securityhub", region, owner, resource] => (region, owner, resource),
        _ => {
            return Err((
                "InvalidInput",
                format!("ProductArn {arn} is not a product ARN."),
            ));
        }
    };
    let Some(company) = resource
        .strip_prefix("product/")
        .and_then(|p| p.strip_suffix("/default"))
    else {
        return Err((
            "InvalidAccess",
            format!(
                "The product {arn} is not enabled for this account (partner integrations are not emulated)."
            ),
        ));
    };
    if region != at.region {
        return Err((
            "InvalidInput",
            format!("ProductArn {arn} is not of this region ({}).", at.region),
        ));
    }
    let denied = |why: String| Err(("AccessDeniedException", why));
    if owner != at.account || company != at.account {
        return denied(format!(
            "The product {arn} is not the default product of account {}, which imports the finding.",
            at.account
        ));
    }
    if account != at.account {
        return denied(format!(
            "The finding's AwsAccountId {account} is not account {}, which imports it through its default product {}.",
            at.account,
            at.default_product()
        ));
    }
    Ok(())
}

fn get_findings(world: &World, at: &Place, input: &Input) -> Result<Value, ApiError> {
    if input
        .get("SortCriteria")
        .is_some_and(|s| !list(Some(s)).is_empty())
    {
        return Err(invalid_input(
            "SortCriteria is not emulated: findings are answered in import order.",
        ));
    }
    let filter = filters::Filter::parse(input.get("Filters")).map_err(invalid_input)?;
    let max = input
        .u64("MaxResults")
        .map_err(|value| invalid_input(format!("MaxResults {value} is not a number.")))?
        .unwrap_or(MAX_FINDINGS as u64);
    if !(1..=MAX_FINDINGS as u64).contains(&max) {
        return Err(invalid_input(format!(
            "1 validation error detected: Value '{max}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and {MAX_FINDINGS}"
        )));
    }
    let matching: Vec<&Value> = world
        .findings
        .findings
        .iter()
        .filter(|f| f["Region"] == at.region && filter.matches(f))
        .collect();
    let filters = input
        .get("Filters")
        .map(Value::to_string)
        .unwrap_or_default();
    let binding = ["GetFindings", at.region, filters.as_str()];
    let (page, next) = paging::page(&matching, &binding, max as usize, input.str("NextToken"))
        .ok_or_else(|| invalid_input("The NextToken is not valid."))?;
    let mut reply = json!({"Findings": page});
    if let Some(next) = next {
        reply["NextToken"] = Value::String(next);
    }
    Ok(reply)
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

/// A Security Hub timestamp: `YYYY-MM-DDTHH:MM:SS`, up to 9 fraction digits, then `Z` or an
/// offset `±HH[:MM]` ("Timestamps", Security Hub User Guide).
fn timestamp(text: &str) -> Option<DateTime<Utc>> {
    let fraction = text
        .split_once('.')
        .map(|(_, rest)| rest.bytes().take_while(u8::is_ascii_digit).count());
    if text.as_bytes().get(10) != Some(&b'T') || fraction.is_some_and(|n| !(1..=9).contains(&n)) {
        return None;
    }
    // An offset of hours alone (`+05`), which RFC 3339 does not have.
    let tail = text.get(text.len().saturating_sub(3)..).unwrap_or_default();
    let hours_only = tail.starts_with(['+', '-']) && tail[1..].bytes().all(|b| b.is_ascii_digit());
    let full = match hours_only {
        true => format!("{text}:00"),
        false => text.to_owned(),
    };
    DateTime::parse_from_rfc3339(&full)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn invalid_input(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "InvalidInputException", message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding() -> Value {
        json!({
            "SchemaVersion": "2018-10-08",
            "Id": "rootsweep/222222222222",
            "ProductArn": "arn:aws:securityhub:us-east-1:111111111111:product/111111111111/default",
            "GeneratorId": "rootsweep",
            "AwsAccountId": "111111111111",
            "Types": ["Software and Configuration Checks/AWS Security Best Practices"],
            "CreatedAt": "2026-12-02T18:00:00Z",
            "UpdatedAt": "2026-12-02T18:00:00.123+00:00",
            "Severity": {"Label": "HIGH"},
            "Title": "Root credentials",
            "Description": "d",
            "Resources": [{"Type": "AwsAccount", "Id": "AWS::::Account:222222222222"}],
        })
    }

    const AT: Place = Place {
        account: "111111111111",
        region: "us-east-1",
    };

    #[test]
    fn the_schema_and_the_product() {
        assert_eq!(check(&finding(), &AT), Ok(()));
        let without = |member: &str| {
            let mut f = finding();
            f.as_object_mut().unwrap().remove(member);
            check(&f, &AT).unwrap_err()
        };
        assert_eq!(
            without("Severity").1,
            "Finding does not adhere to Amazon Finding Format. data should have required property 'Severity'."
        );
        assert_eq!(without("Types").0, "InvalidInput");
        assert!(without("Resources").1.contains("'Resources'"));
        let with = |member: &str, value: Value| {
            let mut f = finding();
            f[member] = value;
            check(&f, &AT)
        };
        assert!(with("CreatedAt", json!("2026-12-02 18:00:00Z")).is_err());
        assert!(with("CreatedAt", json!("2026-12-02T18:00:00-05")).is_ok());
        assert!(with("CreatedAt", json!("2026-12-02T18:00:00.1234567890Z")).is_err());
        assert!(with("Types", json!(["Hunches/x"])).is_err());
        assert_eq!(
            with("AwsAccountId", json!("222222222222")).unwrap_err().0,
            "AccessDeniedException"
        );
        let partner = json!("arn:aws:securityhub:us-east-1::product/prowler/prowler");
        assert_eq!(with("ProductArn", partner).unwrap_err().0, "InvalidAccess");
    }

    #[test]
    fn updates_keep_what_customers_manage_and_take_the_rest() {
        let now = Utc::now();
        let mut findings = Findings::default();
        let mut first = finding();
        first["FirstObservedAt"] = json!("2026-11-01T00:00:00Z");
        store(&mut findings, &AT, first, now);
        assert_eq!(findings.all()[0]["Severity"]["Normalized"], 70);
        assert_eq!(findings.all()[0]["Workflow"]["Status"], "NEW");
        assert_eq!(
            findings.all()[0]["FindingProviderFields"]["Severity"]["Label"],
            "HIGH",
            "a new finding's top-level values fill the provider fields"
        );
        let mut stale = finding();
        stale["Title"] = json!("stale");
        store(&mut findings, &AT, stale, now);
        assert_eq!(
            findings.all()[0]["Title"],
            "Root credentials",
            "same UpdatedAt: ignored"
        );
        let mut update = finding();
        update["UpdatedAt"] = json!("2026-12-03T00:00:00Z");
        update["CreatedAt"] = json!("2026-12-03T00:00:00Z");
        update["RecordState"] = json!("ARCHIVED");
        update["Workflow"] = json!({"Status": "RESOLVED"});
        store(&mut findings, &AT, update, now);
        let stored = &findings.all()[0];
        assert_eq!(findings.all().len(), 1);
        assert_eq!(stored["RecordState"], "ARCHIVED");
        assert_eq!(
            stored["CreatedAt"], "2026-12-03T00:00:00Z",
            "as the update says"
        );
        assert!(stored.get("FirstObservedAt").is_none());
        assert_eq!(stored["Workflow"]["Status"], "NEW", "the customer's");
    }

    /// A finding as rootsweep sends it: severity and types in the provider fields only.
    fn provided(label: &str, updated: &str) -> Value {
        let mut f = finding();
        let object = f.as_object_mut().unwrap();
        object.remove("Severity");
        object.remove("Types");
        f["FindingProviderFields"] = json!({
            "Severity": {"Label": label},
            "Types": ["Software and Configuration Checks/AWS Security Best Practices"],
        });
        f["UpdatedAt"] = json!(updated);
        f
    }

    #[test]
    fn provider_fields_reach_the_top_level_until_a_customer_changes_it() {
        let now = Utc::now();
        let mut world = World::new(crate::model::Org::generate(1, 1));
        world.org.security_hub_enabled = true;
        store(
            &mut world.findings,
            &AT,
            provided("LOW", "2026-12-01T00:00:00Z"),
            now,
        );
        assert_eq!(world.findings.all()[0]["Severity"]["Label"], "LOW");
        assert_eq!(
            world.findings.all()[0]["Types"][0],
            "Software and Configuration Checks/AWS Security Best Practices"
        );
        // Top-level and provider values together in a new finding: the provider's win.
        let mut both = provided("MEDIUM", "2026-12-01T00:00:00Z");
        both["Id"] = json!("other");
        both["Severity"] = json!({"Label": "CRITICAL"});
        store(&mut world.findings, &AT, both, now);
        assert_eq!(world.findings.all()[1]["Severity"]["Label"], "MEDIUM");
        store(
            &mut world.findings,
            &AT,
            provided("MEDIUM", "2026-12-02T00:00:00Z"),
            now,
        );
        assert_eq!(world.findings.all()[0]["Severity"]["Label"], "MEDIUM");
        // A customer triages it down; the provider's next severity no longer reaches the top.
        let identifier =
            json!({"Id": "rootsweep/222222222222", "ProductArn": finding()["ProductArn"]});
        let triage = Input::new(
            json!({"FindingIdentifiers": [identifier], "Severity": {"Label": "INFORMATIONAL"}}),
        );
        let answer = batch_update(&mut world, &AT, &triage).unwrap();
        assert_eq!(answer["ProcessedFindings"].as_array().unwrap().len(), 1);
        store(
            &mut world.findings,
            &AT,
            provided("HIGH", "2026-12-03T00:00:00Z"),
            now,
        );
        let stored = &world.findings.all()[0];
        assert_eq!(stored["Severity"]["Label"], "INFORMATIONAL");
        assert_eq!(stored["FindingProviderFields"]["Severity"]["Label"], "HIGH");
        let unknown =
            Input::new(json!({"FindingIdentifiers": [identifier], "Note": {"Text": "x"}}));
        assert!(batch_update(&mut world, &AT, &unknown).is_err());
    }
}

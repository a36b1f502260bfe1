//! Security Hub's operations: BatchImportFindings (each finding checked on its own, then
//! stored), GetFindings (filtered, paged) and BatchUpdateFindings (a customer's triage).

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::errors::invalid_input;
use super::state::store;
use super::{Place, filters, schema};
use crate::error::ApiError;
use crate::paging;
use crate::protocol::{Input, list};
use crate::world::World;

/// At most 100 findings per import (`BatchImportFindingsRequestFindingList`) and per page of
/// GetFindings (`MaxResults`, also its default: our assumption, the reference gives none).
const MAX_FINDINGS: usize = 100;
/// "Security Hub accepts up to 100 findings per batch, up to 240 KB per finding, and up to 6
/// MB per batch" (Security Hub User Guide, "BatchImportFindings for finding providers").
const MAX_BATCH_BYTES: usize = 6 * 1024 * 1024;

/// BatchImportFindings: each finding is checked on its own, so some can fail while the call
/// succeeds; the failures are listed with their `Id`, `ErrorCode` and `ErrorMessage`.
pub(super) fn import(
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
        if let Err((code, message)) = schema::check(finding, at) {
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

/// BatchUpdateFindings, as a customer triages: `Severity`, `Types` and `Workflow.Status` of the
/// identified findings (the other attributes are not emulated, and refused). Each changed
/// provider attribute is the customer's from then on: imports no longer touch it at the top
/// level.
pub(super) fn batch_update(
    world: &mut World,
    at: &Place,
    input: &Input,
) -> Result<Value, ApiError> {
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

pub(super) fn get_findings(world: &World, at: &Place, input: &Input) -> Result<Value, ApiError> {
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

#[cfg(test)]
mod tests {
    use super::super::fixtures::{AT, finding};
    use super::*;

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
        let mut world = World::new(crate::services::Org::generate(1, 1));
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

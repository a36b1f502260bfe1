//! What Security Hub stores: every imported finding, in import order, and which provider
//! attributes customers changed; how an import creates or updates a finding and what Security
//! Hub fills in.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::Place;
use super::schema::timestamp;

/// Every imported finding, as GetFindings answers them, in import order.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    pub(super) findings: Vec<Value>,
    /// (region, product ARN, finding id) to its place in `findings`.
    pub(super) index: HashMap<(String, String, String), usize>,
    /// Per finding, the provider attributes a customer changed with BatchUpdateFindings.
    pub(super) triaged: Vec<Vec<&'static str>>,
}

impl Findings {
    pub fn all(&self) -> &[Value] {
        &self.findings
    }
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
pub(super) fn store(findings: &mut Findings, at: &Place, mut finding: Value, now: DateTime<Utc>) {
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

#[cfg(test)]
mod tests {
    use super::super::fixtures::{AT, finding};
    use super::*;

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
}

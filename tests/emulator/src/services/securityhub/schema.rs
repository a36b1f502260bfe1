//! A finding as BatchImportFindings checks it: the ASFF schema's required attributes and
//! formats, then its product and account.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::Place;

/// "Security Hub accepts up to 100 findings per batch, up to 240 KB per finding, and up to 6
/// MB per batch" (Security Hub User Guide, "BatchImportFindings for finding providers").
const MAX_FINDING_BYTES: usize = 240 * 1024;
/// The only ASFF version.
const SCHEMA_VERSION: &str = "2018-10-08";

/// Why a finding cannot be imported: `(ErrorCode, ErrorMessage)`.
type Refusal = (&'static str, String);

/// A finding as Security Hub checks it: the ASFF schema's required attributes and formats
/// (`InvalidInput`, with the schema validator's wording, "Finding does not adhere to Amazon
/// Finding Format. data should have required property 'X'."), then its product.
pub(super) fn check(finding: &Value, at: &Place) -> Result<(), Refusal> {
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

/// A Security Hub timestamp: `YYYY-MM-DDTHH:MM:SS`, up to 9 fraction digits, then `Z` or an
/// offset `±HH[:MM]` ("Timestamps", Security Hub User Guide).
pub(super) fn timestamp(text: &str) -> Option<DateTime<Utc>> {
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

#[cfg(test)]
mod tests {
    use super::super::fixtures::{AT, finding};
    use super::*;
    use serde_json::json;

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
}

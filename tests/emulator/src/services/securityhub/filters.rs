//! GetFindings' `Filters` (`AwsSecurityFindingFilters`) as the clients here send them: string
//! filters with `EQUALS` on `ProductArn` and `GeneratorId` (rootsweep's prior findings,
//! `functions/rootsweep/src/aws/findings.rs`, which its e2e test
//! `a_sweep_archives_exactly_its_report_and_findings_go_from_failed_to_archived` needs), `PREFIX` on
//! `GeneratorId` and `EQUALS` on `RecordState` (boto3's `test_security_hub_findings`). Values
//! of one attribute are joined by OR, attributes by AND, as Security Hub joins them (the model's
//! `StringFilter.Comparison`). Other attributes, other comparisons (`CONTAINS`, `NOT_EQUALS`,
//! ...) and non-string filters, which no client here sends, are refused as not emulated.

use serde_json::Value;

/// The attributes filtered on, each a top-level string of a finding.
const STRING_FIELDS: [&str; 3] = ["ProductArn", "GeneratorId", "RecordState"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Comparison {
    Equals,
    Prefix,
}

impl Comparison {
    fn parse(name: &str) -> Result<Comparison, String> {
        match name {
            "EQUALS" => Ok(Self::Equals),
            "PREFIX" => Ok(Self::Prefix),
            other => Err(format!(
                "The comparison {other} is not emulated (EQUALS and PREFIX only)."
            )),
        }
    }

    fn holds(self, wanted: &str, actual: &str) -> bool {
        match self {
            Self::Equals => actual == wanted,
            Self::Prefix => actual.starts_with(wanted),
        }
    }
}

/// The filters of one GetFindings call.
#[derive(Debug, Default)]
pub struct Filter {
    /// Per attribute: its name, and its comparisons with their values.
    attributes: Vec<(&'static str, Vec<(Comparison, String)>)>,
}

impl Filter {
    /// `Filters` as sent; `Err` is the `InvalidInputException` message.
    pub fn parse(filters: Option<&Value>) -> Result<Filter, String> {
        let Some(filters) = filters else {
            return Ok(Filter::default());
        };
        let filters = filters.as_object().ok_or("Filters must be an object.")?;
        let mut attributes = Vec::new();
        for (name, items) in filters {
            let field = STRING_FIELDS
                .iter()
                .find(|field| *field == name)
                .ok_or_else(|| {
                    format!("The filter {name} is not emulated (string filters on ProductArn, GeneratorId and RecordState only).")
                })?;
            let items = items.as_array().map(Vec::as_slice).unwrap_or_default();
            let comparisons = items
                .iter()
                .map(|item| {
                    let comparison = Comparison::parse(item["Comparison"].as_str().unwrap_or(""))?;
                    let value = item["Value"]
                        .as_str()
                        .ok_or("A StringFilter needs a Value.")?;
                    Ok((comparison, value.to_owned()))
                })
                .collect::<Result<Vec<_>, String>>()?;
            attributes.push((*field, comparisons));
        }
        Ok(Filter { attributes })
    }

    pub fn matches(&self, finding: &Value) -> bool {
        self.attributes.iter().all(|(field, comparisons)| {
            let actual = finding[*field].as_str();
            comparisons
                .iter()
                .any(|(c, wanted)| actual.is_some_and(|actual| c.holds(wanted, actual)))
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn filter(filters: Value) -> Result<Filter, String> {
        Filter::parse(Some(&filters))
    }

    #[test]
    fn values_of_an_attribute_or_attributes_and() {
        let finding = json!({"GeneratorId": "rootsweep/root-credentials", "RecordState": "ACTIVE"});
        let equals = |v: &str| json!({"Value": v, "Comparison": "EQUALS"});
        let f = filter(json!({
            "GeneratorId": [equals("other"), equals("rootsweep/root-credentials")],
            "RecordState": [equals("ACTIVE")],
        }));
        assert!(f.unwrap().matches(&finding));
        let archived = filter(json!({"RecordState": [equals("ARCHIVED")]})).unwrap();
        assert!(!archived.matches(&finding));
        let prefix =
            filter(json!({"GeneratorId": [{"Value": "rootsweep/", "Comparison": "PREFIX"}]}));
        assert!(prefix.unwrap().matches(&finding));
        let absent = filter(json!({"ProductArn": [equals("arn")]})).unwrap();
        assert!(!absent.matches(&finding));
    }

    #[test]
    fn refusals() {
        let bad = [
            json!({"Title": [{"Value": "a", "Comparison": "EQUALS"}]}),
            json!({"GeneratorId": [{"Value": "a", "Comparison": "CONTAINS"}]}),
            json!({"GeneratorId": [{"Value": "a", "Comparison": "NOT_EQUALS"}]}),
            json!({"CreatedAt": [{"Start": "2026-01-01T00:00:00Z"}]}),
        ];
        for filters in bad {
            let error = filter(filters.clone()).unwrap_err();
            assert!(error.contains("not emulated"), "{filters}: {error}");
        }
    }
}

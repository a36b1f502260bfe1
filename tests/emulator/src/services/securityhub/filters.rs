//! GetFindings' `Filters` (`AwsSecurityFindingFilters`): the string filters, combined as Security
//! Hub combines them (the model's `StringFilter.Comparison`): on one attribute, `EQUALS`,
//! `PREFIX` and `CONTAINS` filters are joined by OR, `NOT_EQUALS`, `PREFIX_NOT_EQUALS` and
//! `NOT_CONTAINS` by AND; different attributes are joined by AND.

use serde_json::Value;

/// The string attributes the emulator filters on and where a finding holds them (`*`: each item
/// of a list; a list attribute matches when one of its items does).
const STRING_FIELDS: [(&str, &str); 23] = [
    ("Id", "Id"),
    ("ProductArn", "ProductArn"),
    ("GeneratorId", "GeneratorId"),
    ("AwsAccountId", "AwsAccountId"),
    ("AwsAccountName", "AwsAccountName"),
    ("Region", "Region"),
    ("Type", "Types/*"),
    ("SeverityLabel", "Severity/Label"),
    ("Title", "Title"),
    ("Description", "Description"),
    ("SourceUrl", "SourceUrl"),
    ("ProductName", "ProductName"),
    ("CompanyName", "CompanyName"),
    ("RecordState", "RecordState"),
    ("WorkflowState", "WorkflowState"),
    ("WorkflowStatus", "Workflow/Status"),
    ("ComplianceStatus", "Compliance/Status"),
    (
        "ComplianceSecurityControlId",
        "Compliance/SecurityControlId",
    ),
    ("VerificationState", "VerificationState"),
    ("ResourceType", "Resources/*/Type"),
    ("ResourceId", "Resources/*/Id"),
    ("ResourcePartition", "Resources/*/Partition"),
    ("ResourceRegion", "Resources/*/Region"),
];

/// "You can filter by up to 10 finding attributes. For each attribute, you can provide up to 20
/// filter values." (GetFindings, `Filters`).
const MAX_ATTRIBUTES: usize = 10;
const MAX_VALUES: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Comparison {
    Equals,
    Prefix,
    Contains,
    NotEquals,
    PrefixNotEquals,
    NotContains,
}

impl Comparison {
    fn parse(name: &str) -> Result<Comparison, String> {
        Ok(match name {
            "EQUALS" => Self::Equals,
            "PREFIX" => Self::Prefix,
            "CONTAINS" => Self::Contains,
            "NOT_EQUALS" => Self::NotEquals,
            "PREFIX_NOT_EQUALS" => Self::PrefixNotEquals,
            "NOT_CONTAINS" => Self::NotContains,
            "CONTAINS_WORD" => {
                return Err(
                    "The CONTAINS_WORD operator works only in GetFindingsV2 and the other V2 APIs."
                        .to_owned(),
                );
            }
            other => return Err(format!("Invalid comparison {other}.")),
        })
    }

    fn negative(self) -> bool {
        matches!(
            self,
            Self::NotEquals | Self::PrefixNotEquals | Self::NotContains
        )
    }

    /// Whether `actual` matches the positive form of this comparison.
    fn holds(self, wanted: &str, actual: &str) -> bool {
        match self {
            Self::Equals | Self::NotEquals => actual == wanted,
            Self::Prefix | Self::PrefixNotEquals => actual.starts_with(wanted),
            Self::Contains | Self::NotContains => actual.contains(wanted),
        }
    }
}

/// The filters of one GetFindings call.
#[derive(Debug, Default)]
pub struct Filter {
    /// Per attribute: where it is, and its comparisons with their values.
    attributes: Vec<(&'static str, Vec<(Comparison, String)>)>,
}

impl Filter {
    /// `Filters` as sent; `Err` is the `InvalidInputException` message.
    pub fn parse(filters: Option<&Value>) -> Result<Filter, String> {
        let Some(filters) = filters else {
            return Ok(Filter::default());
        };
        let filters = filters.as_object().ok_or("Filters must be an object.")?;
        if filters.len() > MAX_ATTRIBUTES {
            return Err(format!(
                "You can filter by up to {MAX_ATTRIBUTES} finding attributes."
            ));
        }
        let mut attributes = Vec::new();
        for (name, items) in filters {
            let (_, path) = STRING_FIELDS
                .iter()
                .find(|(field, _)| field == name)
                .ok_or_else(|| {
                    format!("The filter {name} is not emulated (string filters only, on the ASFF attributes rootsweep uses).")
                })?;
            let items = items.as_array().map(Vec::as_slice).unwrap_or_default();
            if items.len() > MAX_VALUES {
                return Err(format!(
                    "You can provide up to {MAX_VALUES} filter values for {name}."
                ));
            }
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
            combinable(name, &comparisons)?;
            attributes.push((*path, comparisons));
        }
        Ok(Filter { attributes })
    }

    pub fn matches(&self, finding: &Value) -> bool {
        self.attributes.iter().all(|(path, comparisons)| {
            let values = values_at(finding, path);
            let any = |c: Comparison, wanted: &str| values.iter().any(|v| c.holds(wanted, v));
            let (negative, positive): (Vec<_>, Vec<_>) =
                comparisons.iter().partition(|(c, _)| c.negative());
            (positive.is_empty() || positive.iter().any(|(c, w)| any(*c, w)))
                && negative.iter().all(|(c, w)| !any(*c, w))
        })
    }
}

/// "You can't have both a CONTAINS filter and a NOT_CONTAINS filter on the same field.
/// Similarly, you can't provide both an EQUALS filter and a NOT_EQUALS or PREFIX_NOT_EQUALS
/// filter on the same field. [...] CONTAINS filters can only be used with other CONTAINS
/// filters. NOT_CONTAINS filters can only be used with other NOT_CONTAINS filters."
fn combinable(name: &str, comparisons: &[(Comparison, String)]) -> Result<(), String> {
    let has = |wanted: Comparison| comparisons.iter().any(|(c, _)| *c == wanted);
    let only = |wanted: Comparison| comparisons.iter().all(|(c, _)| *c == wanted);
    let refused = (has(Comparison::Contains) && !only(Comparison::Contains))
        || (has(Comparison::NotContains) && !only(Comparison::NotContains))
        || (has(Comparison::Equals)
            && (has(Comparison::NotEquals) || has(Comparison::PrefixNotEquals)));
    match refused {
        true => Err(format!(
            "The comparisons of the {name} filter cannot be combined."
        )),
        false => Ok(()),
    }
}

/// The strings at `path` in `finding` (`*` takes each item of a list).
fn values_at<'a>(finding: &'a Value, path: &str) -> Vec<&'a str> {
    let mut nodes = vec![finding];
    for step in path.split('/') {
        nodes = nodes
            .into_iter()
            .flat_map(|node| match step {
                "*" => node
                    .as_array()
                    .map(|items| items.iter().collect())
                    .unwrap_or_default(),
                name => node.get(name).into_iter().collect::<Vec<_>>(),
            })
            .collect();
    }
    nodes.into_iter().filter_map(Value::as_str).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn filter(filters: Value) -> Result<Filter, String> {
        Filter::parse(Some(&filters))
    }

    #[test]
    fn comparisons_combine_as_security_hub_says() {
        let finding = json!({
            "GeneratorId": "rootsweep",
            "RecordState": "ACTIVE",
            "Resources": [{"Id": "AWS::::Account:222222222222"}, {"Id": "AWS::::Account:333333333333"}],
        });
        let equals = |v: &str| json!({"Value": v, "Comparison": "EQUALS"});
        let f = filter(
            json!({"GeneratorId": [equals("other"), equals("rootsweep")], "RecordState": [equals("ACTIVE")]}),
        );
        assert!(f.unwrap().matches(&finding));
        let archived = filter(json!({"RecordState": [equals("ARCHIVED")]})).unwrap();
        assert!(!archived.matches(&finding));
        let resources = filter(json!({"ResourceId": [
            {"Value": "AWS::::Account:", "Comparison": "PREFIX"},
            {"Value": "AWS::::Account:444444444444", "Comparison": "NOT_EQUALS"},
        ]}));
        assert!(resources.unwrap().matches(&finding));
        let excluded =
            filter(json!({"ResourceId": [{"Value": "333", "Comparison": "NOT_CONTAINS"}]}));
        assert!(!excluded.unwrap().matches(&finding));
        let absent = filter(json!({"Title": [{"Value": "x", "Comparison": "NOT_EQUALS"}]}));
        assert!(absent.unwrap().matches(&finding));
    }

    #[test]
    fn refusals() {
        let bad = [
            json!({"Title": [{"Value": "a", "Comparison": "CONTAINS"}, {"Value": "b", "Comparison": "NOT_CONTAINS"}]}),
            json!({"Title": [{"Value": "a", "Comparison": "EQUALS"}, {"Value": "b", "Comparison": "PREFIX_NOT_EQUALS"}]}),
            json!({"Title": [{"Value": "a", "Comparison": "CONTAINS_WORD"}]}),
            json!({"CreatedAt": [{"Start": "2026-01-01T00:00:00Z"}]}),
        ];
        for filters in bad {
            assert!(filter(filters.clone()).is_err(), "{filters}");
        }
    }
}

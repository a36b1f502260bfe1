//! A finding and a place that the unit tests of Security Hub's modules share.

use serde_json::{Value, json};

use super::Place;

pub(super) fn finding() -> Value {
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

pub(super) const AT: Place = Place {
    account: "111111111111",
    region: "us-east-1",
};

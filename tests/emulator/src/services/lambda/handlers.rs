//! Lambda's one operation served: GetFunctionConfiguration, answered as `infra/template.yaml`
//! deploys rootsweep.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::Place;
use super::errors::not_found;
use super::names::{function_arn, requested};
use crate::error::ApiError;
use crate::protocol::{Input, Reply};
use crate::services::Service;
use crate::world::World;

pub(super) fn get_function_configuration(
    world: &World,
    at: &Place,
    input: &Input,
) -> Result<Reply, ApiError> {
    let operation = "GetFunctionConfiguration";
    let (function, qualifier) = requested(input)?;
    let arn = function_arn(
        function.region.unwrap_or(at.region),
        function.account.unwrap_or(at.account),
        function.name,
        qualifier,
    );
    // An ARN of another region: Lambda does not look there (aws/aws-cli#3954 shows its answer).
    if let Some(region) = function.region.filter(|r| *r != at.region) {
        return Err(not_found(format!(
            "Functions from '{region}' are not reachable in this region ('{}')",
            at.region
        )));
    }
    // Another account's function needs its resource-based policy, which the emulator has none
    // of; the message is IAM's for that case.
    if function.account.is_some_and(|a| a != at.account) {
        return Err(Service::Lambda.access_denied(format!(
            "User: {} is not authorized to perform: lambda:{operation} on resource: {arn} because no resource-based policy allows the lambda:{operation} action",
            at.caller_arn
        )));
    }
    let variables = world
        .functions
        .variables
        .get(function.name)
        .filter(|_| qualifier.is_none_or(|q| q == "$LATEST"))
        // "Function not found: <ARN>", qualified as asked (localstack/localstack#702 and
        // aarondfrancis/sidecar#23 show Lambda's answer).
        .ok_or_else(|| not_found(format!("Function not found: {arn}")))?;
    Ok(Reply::Json(configuration(
        world.functions.deployed,
        at,
        function.name,
        &arn,
        variables,
    )))
}

/// The `FunctionConfiguration` of a function deployed as `infra/template.yaml` deploys
/// rootsweep (its defaults: `provided.al2023`, `bootstrap`, 900 s, 256 MB). `Environment` is
/// left out when there are no variables. The role's name is ours.
fn configuration(
    deployed: DateTime<Utc>,
    at: &Place,
    name: &str,
    arn: &str,
    variables: &BTreeMap<String, String>,
) -> Value {
    let mut configuration = json!({
        "FunctionName": name,
        "FunctionArn": arn,
        "Runtime": "provided.al2023",
        "Role": format!("arn:aws:iam::{}:role/{name}-role", at.account),
        "Handler": "bootstrap",
        "Description": "",
        "Timeout": 900,
        "MemorySize": 256,
        // Lambda's format: "2019-10-26T00:00:00.000+0000".
        "LastModified": deployed.format("%Y-%m-%dT%H:%M:%S%.3f%z").to_string(),
        "Version": "$LATEST",
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "PackageType": "Zip",
        "Architectures": ["x86_64"],
    });
    if !variables.is_empty() {
        configuration["Environment"] = json!({"Variables": variables});
    }
    configuration
}

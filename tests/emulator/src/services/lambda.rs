//! AWS Lambda (restJson1, API version 2015-03-31; botocore's `lambda` model), signed for
//! `lambda`: `GetFunctionConfiguration` ("GetFunctionConfiguration", AWS Lambda API Reference,
//! <https://docs.aws.amazon.com/lambda/latest/api/API_GetFunctionConfiguration.html>), what the
//! operator CLI reads the deployed function's settings with. The functions are the run's
//! ([`crate::Emulator::function`], `--function NAME=FILE`), deployed in the caller's account in
//! every region, `$LATEST` only: no published versions or aliases.
//!
//! # Behaviour
//!
//! restJson1 (botocore's `lambda` model, API version 2015-03-31), signed for `lambda`:
//! `GetFunctionConfiguration` (`GET /2015-03-31/functions/NAME/configuration?Qualifier=Q`), for the
//! operator CLI to read what a deployment enforces. The functions are the run's
//! (`Emulator::function(name, [(key, value)...])`, `--function NAME=FILE`), in the caller's account,
//! in every region, `$LATEST` only; a name, variable name (`[a-zA-Z]([a-zA-Z0-9_])+`) or more than
//! 4 KB of variables that Lambda would refuse stops the emulator from starting. Root sessions get
//! `AccessDeniedException` (403).
//! - `FunctionName` is a name, an ARN (`arn:aws:lambda:REGION:ACCOUNT:function:NAME`) or a partial
//!   ARN (`ACCOUNT:function:NAME`), with an optional `:QUALIFIER`, as the model's pattern reads it
//!   (else `ValidationException` 400, quoting the pattern). A qualifier in the name and a different
//!   `Qualifier` are `InvalidParameterValueException` (400).
//! - The answer: `FunctionName`, `FunctionArn` (qualified when a qualifier was asked for), `Runtime`
//!   `provided.al2023`, `Role` `arn:aws:iam::ACCOUNT:role/NAME-role`, `Handler` `bootstrap`,
//!   `Timeout` 900, `MemorySize` 256, `LastModified` (the emulator's start,
//!   `2026-12-02T18:00:00.000+0000`), `Version` `$LATEST`, `State` `Active`, `Architectures`
//!   `["x86_64"]`, and `Environment.Variables` (no `Environment` for a function without variables).
//! - Missing function or version: `ResourceNotFoundException` (404) "Function not found: ARN"; an
//!   ARN of another region: the same code, "Functions from 'R' are not reachable in this region
//!   ('R2')"; of another account: `AccessDeniedException` (403, no resource-based policy emulated).
//!   The caller's policy is checked for `lambda:GetFunctionConfiguration` on the function's ARN
//!   (qualified when a qualifier is given).
//! - Errors: status, header `x-amzn-ErrorType: <code>`, body `{"Type": "User", "Message": ..}`
//!   (`Service` for server errors). Faults: `throttle` is `TooManyRequestsException` (429, the SDKs
//!   retry it), `server_error` `ServiceException`, `access_denied` `AccessDeniedException` (403),
//!   `no_such_entity` `ResourceNotFoundException` (404).

use std::collections::BTreeMap;

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::policy::Request;
use crate::protocol::rest::Route;
use crate::protocol::{Input, Reply};
use crate::sigv4::is_region;
use crate::world::World;

pub const ROUTES: &[Route] = &[Route {
    operation: "GetFunctionConfiguration",
    method: "GET",
    uri: "/2015-03-31/functions/{FunctionName}/configuration",
    query: &[("Qualifier", "Qualifier")],
    headers: &[],
}];

/// The model's `NamespacedFunctionName` pattern and length limit, as validation errors quote them.
const NAME_PATTERN: &str = r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?";
const NAME_MAX: usize = 256;
/// The model's `NumericLatestPublishedOrAliasQualifier` pattern and length limit.
const QUALIFIER_PATTERN: &str = r"\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+";
const QUALIFIER_MAX: usize = 128;
/// "The total size of all environment variables doesn't exceed 4 KB" ("Working with Lambda
/// environment variables", Lambda Developer Guide): checked when a run declares a function.
const ENVIRONMENT_MAX_BYTES: usize = 4 * 1024;

/// The run's functions, by name, with their environment variables.
#[derive(Debug)]
pub(crate) struct Functions {
    /// When the emulator started: every function's `LastModified`.
    deployed: DateTime<Utc>,
    variables: BTreeMap<String, BTreeMap<String, String>>,
}

impl Functions {
    pub fn new(deployed: DateTime<Utc>) -> Self {
        Self {
            deployed,
            variables: BTreeMap::new(),
        }
    }

    /// Deploys the declared functions, refusing what Lambda would refuse to create: a name
    /// that is not 1-64 letters, digits, `-` or `_` (`CreateFunction`), a variable name not
    /// matching `[a-zA-Z]([a-zA-Z0-9_])+` (the model's `EnvironmentVariableName`), more than
    /// 4 KB of variables. Lambda's reserved keys (`AWS_REGION`, ...) are not checked.
    pub fn deploy(
        &mut self,
        functions: BTreeMap<String, BTreeMap<String, String>>,
    ) -> Result<(), String> {
        for (name, variables) in &functions {
            let name_ok = (1..=64).contains(&name.len())
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !name_ok {
                return Err(format!(
                    "function name {name:?}: 1 to 64 letters, digits, '-' or '_'"
                ));
            }
            if let Some(key) = variables.keys().find(|key| !is_variable_name(key)) {
                return Err(format!(
                    "function {name}: environment variable name {key:?} must match [a-zA-Z]([a-zA-Z0-9_])+"
                ));
            }
            let size: usize = variables.iter().map(|(k, v)| k.len() + v.len()).sum();
            if size > ENVIRONMENT_MAX_BYTES {
                return Err(format!(
                    "function {name}: its environment variables take {size} bytes, Lambda allows 4 KB"
                ));
            }
        }
        self.variables = functions;
        Ok(())
    }
}

/// The model's `EnvironmentVariableName`: `[a-zA-Z]([a-zA-Z0-9_])+`.
fn is_variable_name(key: &str) -> bool {
    let mut chars = key.chars();
    key.len() >= 2
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `$LATEST`, `$LATEST.PUBLISHED`, or letters, digits and `others`: a qualifier in the name
/// (`-_`) or in `Qualifier` (`-_$`), as the model's two patterns have it.
fn is_qualifier(qualifier: &str, others: &str) -> bool {
    ["$LATEST", "$LATEST.PUBLISHED"].contains(&qualifier)
        || (!qualifier.is_empty()
            && qualifier
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || others.contains(c)))
}

/// What a `FunctionName` names, read in the order of the model's pattern: an ARN prefix, a
/// region, an account, `function:`, the name, a qualifier (`my-function`, `my-function:v1`,
/// `123456789012:function:my-function`, `arn:aws:lambda:us-west-2:123456789012:function:my-function`).
#[derive(Debug, PartialEq, Eq)]
struct FunctionRef<'a> {
    region: Option<&'a str>,
    account: Option<&'a str>,
    name: &'a str,
    qualifier: Option<&'a str>,
}

impl<'a> FunctionRef<'a> {
    fn parse(text: &'a str) -> Option<Self> {
        let segments: Vec<&str> = text.split(':').collect();
        let mut rest = &segments[..];
        if let ["arn", partition, "lambda", tail @ ..] = rest
            && (partition.is_empty() || partition.starts_with("aws"))
        {
            rest = tail;
        }
        // An optional segment is taken when more follow it, as the pattern's `(...:)?` does.
        let mut optional = |wanted: &dyn Fn(&str) -> bool| match rest {
            [segment, tail @ ..] if !tail.is_empty() && wanted(segment) => {
                rest = tail;
                Some(*segment)
            }
            _ => None,
        };
        let region = optional(&is_region);
        let account = optional(&|s: &str| s.len() == 12 && s.chars().all(|c| c.is_ascii_digit()));
        optional(&|s: &str| s == "function");
        let (name, qualifier) = match rest {
            [name] => (*name, None),
            [name, qualifier] => (*name, Some(*qualifier)),
            _ => return None,
        };
        let name_ok = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        let qualifier_ok = qualifier.is_none_or(|q| is_qualifier(q, "-_"));
        (name_ok && qualifier_ok).then_some(Self {
            region,
            account,
            name,
            qualifier,
        })
    }
}

/// The function's ARN, with its qualifier when the request named a version.
fn function_arn(region: &str, account: &str, name: &str, qualifier: Option<&str>) -> String {
    let arn = format!("arn:aws:lambda:{region}:{account}:function:{name}");
    match qualifier {
        Some(qualifier) => format!("{arn}:{qualifier}"),
        None => arn,
    }
}

/// The function a request names and the qualifier it asks for, once both are valid: the
/// qualifier may come in the name or in `Qualifier`, not differently in both.
fn requested(input: &Input) -> Result<(FunctionRef<'_>, Option<&str>), ApiError> {
    let text = input.str("FunctionName").unwrap_or_default();
    if text.len() > NAME_MAX {
        return Err(too_long(text, "functionName", NAME_MAX));
    }
    let function = FunctionRef::parse(text)
        .ok_or_else(|| validation(text, "functionName", &pattern_rule(NAME_PATTERN)))?;
    let qualifier = match input.str("Qualifier") {
        None => function.qualifier,
        Some(given) => {
            if given.len() > QUALIFIER_MAX {
                return Err(too_long(given, "qualifier", QUALIFIER_MAX));
            }
            if !is_qualifier(given, "-_$") {
                let rule = pattern_rule(QUALIFIER_PATTERN);
                return Err(validation(given, "qualifier", &rule));
            }
            if function.qualifier.is_some_and(|derived| derived != given) {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "InvalidParameterValueException",
                    "The derived qualifier from the function name does not match the specified qualifier.",
                ));
            }
            Some(given)
        }
    };
    Ok((function, qualifier))
}

/// `lambda:GetFunctionConfiguration` on the function's ARN, qualified when the request names a
/// version ("Functions–Actions that operate on a function can be restricted to a specific
/// function by function, version, or alias ARN", "Fine-tuning the Resources and Conditions
/// sections of policies", Lambda Developer Guide). None for an invalid request: it fails
/// validation first (our assumption).
pub fn authorization(
    operation: &str,
    input: &Input,
    account: &str,
    region: &str,
) -> Option<Vec<Request>> {
    if operation != "GetFunctionConfiguration" {
        return None;
    }
    let (function, qualifier) = requested(input).ok()?;
    let resource = function_arn(
        function.region.unwrap_or(region),
        function.account.unwrap_or(account),
        function.name,
        qualifier,
    );
    Some(vec![Request {
        action: format!("lambda:{operation}"),
        resource,
        context: Vec::new(),
    }])
}

/// Who calls and where: the caller principal's ARN and account, the request's region.
pub struct Place<'a> {
    pub caller_arn: &'a str,
    pub account: &'a str,
    pub region: &'a str,
}

pub fn call(world: &World, at: &Place, operation: &str, input: &Input) -> Result<Reply, ApiError> {
    if operation != "GetFunctionConfiguration" {
        return Err(super::Service::Lambda.unknown_operation(operation));
    }
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
        return Err(super::Service::Lambda.access_denied(format!(
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

/// Lambda's answer to a request outside the model's constraints.
fn validation(value: &str, member: &str, rule: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "ValidationException",
        format!(
            "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {rule}"
        ),
    )
}

fn pattern_rule(pattern: &str) -> String {
    format!("Member must satisfy regular expression pattern: {pattern}")
}

fn too_long(value: &str, member: &str, max: usize) -> ApiError {
    let rule = format!("Member must have length less than or equal to {max}");
    validation(value, member, &rule)
}

fn not_found(message: String) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "ResourceNotFoundException", message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named<'a>(
        region: Option<&'a str>,
        account: Option<&'a str>,
        name: &'a str,
        qualifier: Option<&'a str>,
    ) -> Option<FunctionRef<'a>> {
        Some(FunctionRef {
            region,
            account,
            name,
            qualifier,
        })
    }

    #[test]
    fn every_name_format_of_the_model() {
        let parse = FunctionRef::parse;
        let account = Some("111111111111");
        assert_eq!(parse("rootsweep"), named(None, None, "rootsweep", None));
        assert_eq!(
            parse("rootsweep:v1"),
            named(None, None, "rootsweep", Some("v1"))
        );
        assert_eq!(
            parse("111111111111:function:rootsweep"),
            named(None, account, "rootsweep", None)
        );
        assert_eq!(
            parse("arn:aws:lambda:eu-west-1:111111111111:function:rootsweep:$LATEST"),
            named(Some("eu-west-1"), account, "rootsweep", Some("$LATEST"))
        );
        // The older partial form `account-id:Thumbnail`, and a region alone before the name.
        assert_eq!(
            parse("111111111111:rootsweep"),
            named(None, account, "rootsweep", None)
        );
        assert_eq!(
            parse("us-east-1:rootsweep"),
            named(Some("us-east-1"), None, "rootsweep", None)
        );
        for invalid in [
            "",
            "a b",
            "x:y:z",
            "rootsweep:",
            "arn:aws:lambda:us-east-1:1:function:f:v:w",
        ] {
            assert_eq!(parse(invalid), None, "{invalid}");
        }
    }
}

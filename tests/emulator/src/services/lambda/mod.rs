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

mod errors;
mod handlers;
mod names;
mod state;

use crate::error::ApiError;
use crate::policy::Request;
use crate::protocol::rest::Route;
use crate::protocol::{Input, Reply};
use crate::world::World;

use names::{function_arn, requested};
pub(crate) use state::Functions;

pub const ROUTES: &[Route] = &[Route {
    operation: "GetFunctionConfiguration",
    method: "GET",
    uri: "/2015-03-31/functions/{FunctionName}/configuration",
    query: &[("Qualifier", "Qualifier")],
    headers: &[],
}];

/// Who calls and where: the caller principal's ARN and account, the request's region.
pub struct Place<'a> {
    pub caller_arn: &'a str,
    pub account: &'a str,
    pub region: &'a str,
}

/// Routes the one operation served to its handler.
pub fn call(world: &World, at: &Place, operation: &str, input: &Input) -> Result<Reply, ApiError> {
    match operation {
        "GetFunctionConfiguration" => handlers::get_function_configuration(world, at, input),
        _ => Err(super::Service::Lambda.unknown_operation(operation)),
    }
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

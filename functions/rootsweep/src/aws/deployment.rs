//! The deployed function's configuration through the SDK: Lambda's GetFunctionConfiguration.

use futures::FutureExt;

use super::aws_error;
use crate::ports::{AwsError, AwsErrorKind, Call, DeployedFunction, Deployment};

const OPERATION: &str = "lambda:GetFunctionConfiguration";

#[derive(Clone)]
pub struct SdkDeployment {
    client: aws_sdk_lambda::Client,
}

impl SdkDeployment {
    pub fn new(client: aws_sdk_lambda::Client) -> Self {
        Self { client }
    }

    async fn read(&self, function: &str) -> Result<DeployedFunction, AwsError> {
        let output = self
            .client
            .get_function_configuration()
            .function_name(function)
            .send()
            .await
            .map_err(|err| match aws_error(OPERATION, err) {
                // "Function not found: ARN", or an ARN of another region.
                e if e.has_code("ResourceNotFoundException") => AwsError {
                    kind: AwsErrorKind::NotFound,
                    ..e
                },
                e => e,
            })?;
        let unexpected = |what: String| AwsError::new(OPERATION, AwsErrorKind::Other, what);
        let arn = output.function_arn().ok_or_else(|| {
            unexpected(format!(
                "the configuration of {function} came back without a FunctionArn; try again, or read it with the AWS CLI"
            ))
        })?;
        let environment = output.environment();
        // The model marks the error's message sensitive: only its code is reported.
        if let Some(error) = environment.and_then(|e| e.error()) {
            let code = error.error_code();
            let mut err = unexpected(format!(
                "Lambda could not read the environment variables of {arn} ({}), so its settings are unknown; check that the function may use its KMS key",
                code.unwrap_or("no error code")
            ));
            err.code = code.map(str::to_owned);
            return Err(err);
        }
        let variables = environment
            .and_then(|e| e.variables())
            .map(|variables| variables.clone().into_iter().collect())
            .unwrap_or_default();
        Ok(DeployedFunction {
            arn: arn.to_owned(),
            variables,
        })
    }
}

impl Deployment for SdkDeployment {
    fn configuration<'a>(&'a self, function: &'a str) -> Call<'a, DeployedFunction> {
        self.read(function).boxed()
    }
}

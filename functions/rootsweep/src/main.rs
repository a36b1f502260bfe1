//! The Lambda function: configuration is read once at start; each invocation is one sweep.

use lambda_runtime::{Error, service_fn};
use rootsweep::{Config, aws, lambda, logging};

#[tokio::main]
async fn main() -> Result<(), Error> {
    logging::init_lambda();
    let config =
        Config::from_env().inspect_err(|err| tracing::error!(error = %err, "bad configuration"))?;
    let sdk = aws::load_sdk_config(None, None).await;
    let sweeper = aws::SdkSweeper::from_sdk_config(config, &sdk, true);
    lambda_runtime::run(service_fn(|event| lambda::handle(&sweeper, event))).await
}

//! The Lambda function: configuration is read once at start; each invocation is one sweep.

use lambda_runtime::{Error, service_fn};
use rootsweep::{Config, app, aws, lambda, logging};

#[tokio::main]
async fn main() -> Result<(), Error> {
    logging::init_lambda();
    let config =
        Config::from_env().inspect_err(|err| tracing::error!(error = %err, "bad configuration"))?;
    let sdk = aws::load_sdk_config(None, None).await;
    let engine = app::sdk_engine(config, &sdk, true);
    lambda_runtime::run(service_fn(|event| lambda::handle(&engine, event))).await
}

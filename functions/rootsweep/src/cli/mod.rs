//! The operator CLI on the same engine, configuration rules and grace rule as the Lambda.

mod args;
mod audit;
mod checks;
mod evidence;
mod html;
mod output;
mod progress;
mod protections;
mod run;
mod sweep;

use std::process::ExitCode;

pub use args::{AwsArgs, Cli, Command, OutputFormat, RunArgs};

use crate::logging;

/// Runs one CLI command. Results go to stdout, everything else to stderr.
pub async fn main(cli: Cli) -> ExitCode {
    logging::init_cli(cli.verbose);
    let code = match cli.command {
        Command::Preflight(aws) => audit::preflight(&aws).await,
        Command::Audit(args) => audit::run(&args).await,
        Command::Sweep { run, yes } => sweep::run(&run, yes).await,
        Command::Evidence(args) => evidence::run(&args).await,
    };
    ExitCode::from(code)
}

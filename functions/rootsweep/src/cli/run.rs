//! What every run of the CLI shares: its protections and SDK configuration before it, its
//! request, and its results and exit code after it.

use aws_config::SdkConfig;
use chrono::Utc;

use super::args::{OutputFormat, RunArgs};
use super::output;
use super::protections::{self, Origin, Protections, ProtectionsError};
use crate::aws::deployment::SdkDeployment;
use crate::aws::load_sdk_config;
use crate::config::Mode;
use crate::engine::RunOptions;
use crate::event::{RunRequest, Scope};
use crate::outcome::{Outcome, Stage};
use crate::ports::{AwsError, DeployedFunction, Deployment};
use crate::report::Report;

/// The documented exit codes (`rootsweep --help`).
pub mod exit {
    pub const OK: u8 = 0;
    pub const USAGE: u8 = 2;
    pub const CANNOT_RUN: u8 = 3;
    pub const PAST_GRACE: u8 = 4;
    pub const UNCHECKED: u8 = 5;
    pub const NOT_CONFIRMED: u8 = 6;
}

/// The SDK configuration and the protections of a run in `mode`, or the exit code it ends
/// with. The flags are checked before any AWS call; a deployment is read when the run acts for
/// one, and its region is the run's unless `--region` says otherwise.
pub async fn prepare(args: &RunArgs, mode: Mode) -> Result<(SdkConfig, Protections), u8> {
    let refuse = |err: ProtectionsError| {
        let code = if err.is_usage() {
            exit::USAGE
        } else {
            exit::CANNOT_RUN
        };
        fail(code, &err)
    };
    let function = args.deployment.wanted(mode).map_err(refuse)?;
    protections::check(&args.protections, mode).map_err(refuse)?;
    let region = args.aws.region.as_deref().or(args.deployment.region());
    let sdk = load_sdk_config(args.aws.profile.as_deref(), region).await;
    let deployed = match function {
        None => None,
        Some(function) => {
            let read = deployment(&sdk, function).await;
            let read = read.map_err(|source| ProtectionsError::Unreadable {
                function: function.to_owned(),
                source,
            });
            Some(read.map_err(refuse)?)
        }
    };
    let protections = protections::settle(&args.protections, mode, deployed).map_err(refuse)?;
    Ok((sdk, protections))
}

/// The deployed function's configuration, from Lambda.
pub async fn deployment(sdk: &SdkConfig, function: &str) -> Result<DeployedFunction, AwsError> {
    let lambda = SdkDeployment::new(aws_sdk_lambda::Client::new(sdk));
    lambda.configuration(function).await
}

pub fn request(args: &RunArgs, mode: Mode) -> RunRequest {
    let scope = if args.accounts.is_empty() {
        Scope::Organization
    } else {
        Scope::Accounts(args.accounts.iter().cloned().collect())
    };
    RunRequest {
        mode,
        scope,
        follow_up: None,
    }
}

/// The function the run acts for is the one its follow-ups invoke.
pub fn run_options(protections: &Protections) -> RunOptions {
    RunOptions {
        run_id: format!("cli-{}", Utc::now().format("%Y%m%dT%H%M%SZ")),
        deadline: None,
        function_arn: match &protections.origin {
            Origin::Deployed { arn } => Some(arn.clone()),
            Origin::Shell => None,
        },
    }
}

pub fn fail(code: u8, err: &dyn std::fmt::Display) -> u8 {
    eprintln!("rootsweep: {err}");
    code
}

/// Prints the report and turns it into the exit code.
pub fn finish(report: &Report, format: OutputFormat) -> u8 {
    let mut stdout = std::io::stdout().lock();
    let written = match format {
        OutputFormat::Table => {
            output::table(&report.accounts.iter().collect::<Vec<_>>(), &mut stdout)
                .and_then(|()| output::summary(&report.summary, &mut stdout))
        }
        OutputFormat::Json => output::json(report, &mut stdout),
        OutputFormat::Csv => output::csv(&report.accounts, &mut stdout),
    };
    if let Err(err) = written {
        eprintln!("rootsweep: could not write the results: {err}");
        return 1;
    }
    if let Some(err) = &report.summary.metrics_error {
        eprintln!("rootsweep: warning: {err}");
    }
    exit_code(report)
}

/// 4 when any account is known to hold credentials past their grace period, else 5 when any
/// could not be checked, else 0.
fn exit_code(report: &Report) -> u8 {
    let past_grace = report.accounts.iter().any(|a| match &a.outcome {
        Outcome::Due { .. } | Outcome::RetryLater { .. } => true,
        // These failed after the account was found due: its credentials may well remain.
        Outcome::Failed(failure) => matches!(failure.stage, Stage::Remove | Stage::Verify),
        _ => false,
    });
    let unchecked =
        !report.summary.complete || report.accounts.iter().any(|a| a.outcome.is_unknown());
    if past_grace {
        exit::PAST_GRACE
    } else if unchecked {
        exit::UNCHECKED
    } else {
        exit::OK
    }
}

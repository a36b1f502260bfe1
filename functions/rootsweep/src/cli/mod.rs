//! The operator CLI on the same engine, configuration rules and grace rule as the Lambda.

mod evidence;
mod html;
mod output;
mod protections;

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use chrono::Utc;
use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use crate::account::AccountId;
use crate::app::{SdkEngine, sdk_engine};
use crate::aws::load_sdk_config;
use aws_config::SdkConfig;

use crate::aws::deployment::SdkDeployment;
use crate::config::{Config, Mode};
use crate::decide::Decision;
use crate::engine::RunOptions;
use crate::event::{RunRequest, Scope};
use crate::logging;
use crate::outcome::{AccountReport, Outcome, Stage};
use crate::plan::Plan;
use crate::ports::{AwsError, DeployedFunction, Deployment};
use crate::preflight;
use crate::reasons::HoldReason;
use crate::report::{Report, ReportSink, RunSummary};
use protections::{DeploymentArgs, Origin, ProtectionFlags, Protections, ProtectionsError};

const EXIT_CODES: &str = "\
Exit codes:
  0  every account was checked and none holds root credentials past its grace period
  2  bad usage: an unknown flag or a value that is not allowed
  3  the run could not start: credentials or organization prerequisites (see `rootsweep preflight`)
  4  some accounts hold root credentials past their grace period (found by audit, or left by a sweep)
  5  some accounts could not be checked (failed, not reached, or the account listing broke off)
  6  the sweep was not confirmed: nothing was deleted

Protections: a sweep applies those of the deployed function it acts for (--function NAME, or
ROOTSWEEP_FUNCTION), read from Lambda; flags only add to them. --without-deployment takes them
from this shell's ROOTSWEEP_* variables instead, on purpose. An audit may use either.
AWS access: the standard credential chain, AWS_PROFILE/--profile, AWS_REGION/--region and
AWS_ENDPOINT_URL work as with the AWS CLI.";

#[derive(Debug, Parser)]
#[command(
    name = "rootsweep",
    version,
    about = "Find and delete AWS Organizations member-account root user credentials",
    after_help = EXIT_CODES
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Also log rootsweep's debug lines, the AWS SDK's own account of a failed call among them
    /// (what the credential chain tried, for one), to stderr.
    #[arg(long, short, global = true)]
    pub verbose: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the organization prerequisites and the caller, each with its remedy.
    Preflight(AwsArgs),
    /// Report the root credentials of every member account. Deletes nothing.
    Audit(RunArgs),
    /// Delete root credentials past their grace period: shows what it will delete, then asks.
    Sweep {
        #[command(flatten)]
        run: RunArgs,
        /// Delete without asking (required when stdin is not a terminal).
        #[arg(long)]
        yes: bool,
    },
    /// Read the run archive back for a period: per account, the longest time any root
    /// credential outlived its grace period.
    Evidence(evidence::EvidenceArgs),
}

#[derive(Debug, Args)]
pub struct AwsArgs {
    /// AWS profile to use (default: the standard credential chain).
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// AWS region (default: AWS_REGION or the profile's region).
    #[arg(long, global = true)]
    pub region: Option<String>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub deployment: DeploymentArgs,
    /// Only these accounts (comma-separated 12-digit ids).
    #[arg(long, value_delimiter = ',', value_name = "IDS")]
    pub accounts: Vec<AccountId>,
    #[command(flatten)]
    pub protections: ProtectionFlags,
    /// Also publish the run metrics to CloudWatch [namespace: ROOTSWEEP_METRICS_NAMESPACE].
    #[arg(long)]
    pub publish_metrics: bool,
    /// How to print the results on stdout.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// A readable table and a summary.
    Table,
    /// The report as JSON: `{"summary": ..., "accounts": [...]}`.
    Json,
    /// One row per account.
    Csv,
}

mod exit {
    pub const OK: u8 = 0;
    pub const USAGE: u8 = 2;
    pub const CANNOT_RUN: u8 = 3;
    pub const PAST_GRACE: u8 = 4;
    pub const UNCHECKED: u8 = 5;
    pub const NOT_CONFIRMED: u8 = 6;
}

/// Runs one CLI command. Results go to stdout, everything else to stderr.
pub async fn main(cli: Cli) -> ExitCode {
    logging::init_cli(cli.verbose);
    let code = match cli.command {
        Command::Preflight(aws) => run_preflight(&aws).await,
        Command::Audit(args) => run_audit(&args).await,
        Command::Sweep { run, yes } => run_sweep(&run, yes).await,
        Command::Evidence(args) => evidence::run(&args).await,
    };
    ExitCode::from(code)
}

/// The SDK configuration and the protections of a run in `mode`, or the exit code it ends
/// with. The flags are checked before any AWS call; a deployment is read when the run acts for
/// one, and its region is the run's unless `--region` says otherwise.
async fn prepare(args: &RunArgs, mode: Mode) -> Result<(SdkConfig, Protections), u8> {
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
async fn deployment(sdk: &SdkConfig, function: &str) -> Result<DeployedFunction, AwsError> {
    let lambda = SdkDeployment::new(aws_sdk_lambda::Client::new(sdk));
    lambda.configuration(function).await
}

async fn run_preflight(aws: &AwsArgs) -> u8 {
    // The features the environment configures are checked too.
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => return fail(exit::USAGE, &err),
    };
    let sdk = load_sdk_config(aws.profile.as_deref(), aws.region.as_deref()).await;
    let engine = sdk_engine(config, &sdk, false);
    let mut checks = preflight::checks(engine.organization()).await;
    let caller = crate::ports::Organization::caller(engine.organization())
        .await
        .ok();
    let features = preflight::feature_checks(engine.config(), engine.features(), caller.as_ref());
    checks.extend(features.await);
    let mut out = std::io::stdout().lock();
    let mut failed = 0;
    for check in &checks {
        let line = match &check.result {
            Ok(found) => format!("PASS  {}: {found}", check.name),
            Err(remedy) => {
                failed += 1;
                format!("FAIL  {}\n      {remedy}", check.name)
            }
        };
        let _ = writeln!(out, "{line}");
    }
    if failed == 0 {
        let _ = writeln!(
            out,
            "\nAll {} checks passed: rootsweep can run here.",
            checks.len()
        );
        exit::OK
    } else {
        let _ = writeln!(out, "\n{failed} of {} checks failed.", checks.len());
        exit::CANNOT_RUN
    }
}

fn request(args: &RunArgs, mode: Mode) -> RunRequest {
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
fn run_options(protections: &Protections) -> RunOptions {
    RunOptions {
        run_id: format!("cli-{}", Utc::now().format("%Y%m%dT%H%M%SZ")),
        deadline: None,
        function_arn: match &protections.origin {
            Origin::Deployed { arn } => Some(arn.clone()),
            Origin::Shell => None,
        },
    }
}

async fn run_audit(args: &RunArgs) -> u8 {
    let (sdk, protections) = match prepare(args, Mode::Audit).await {
        Ok(prepared) => prepared,
        Err(code) => return code,
    };
    if matches!(protections.origin, Origin::Deployed { .. }) {
        protections::show(&protections, None, &mut std::io::stderr().lock());
    }
    let options = run_options(&protections);
    let engine = sdk_engine(protections.config, &sdk, args.publish_metrics);
    let progress = Progress::new(Mode::Audit);
    let report = engine
        .run(&request(args, Mode::Audit), options, &progress)
        .await;
    progress.finish();
    let report = match report {
        Ok(report) => report,
        Err(err) => return fail(exit::CANNOT_RUN, &err),
    };
    let code = finish(&report, args.output);
    pending_follow_ups(&engine, args.output).await;
    code
}

/// The follow-ups waiting to fire, when follow-ups are configured: after the audit's results.
async fn pending_follow_ups(engine: &SdkEngine, format: OutputFormat) {
    let Some(scheduler) = &engine.features().scheduler else {
        return;
    };
    match scheduler.list().await {
        Ok(pending) if format == OutputFormat::Table => {
            let _ = output::follow_ups(&pending, &mut std::io::stdout().lock());
        }
        Ok(pending) => eprintln!("rootsweep: {} follow-up(s) pending", pending.len()),
        Err(err) => eprintln!("rootsweep: warning: could not list the pending follow-ups: {err}"),
    }
}

/// One engine run: the plan (every account audited), shown with the protections in force and
/// what will be deleted; then, once confirmed, that same plan acted on (each due account still
/// re-checked in its delete session), with one report and one set of metrics.
async fn run_sweep(args: &RunArgs, yes: bool) -> u8 {
    let (sdk, protections) = match prepare(args, Mode::Enforce).await {
        Ok(prepared) => prepared,
        Err(code) => return code,
    };
    let options = run_options(&protections);
    let engine = sdk_engine(protections.config.clone(), &sdk, args.publish_metrics);
    let progress = Progress::new(Mode::Enforce);
    let plan = engine
        .plan(&request(args, Mode::Enforce), options, &progress)
        .await;
    progress.finish();
    let plan = match plan {
        Ok(plan) => plan,
        Err(err) => return fail(exit::CANNOT_RUN, &err),
    };
    let spent = plan.ledger().map(|ledger| ledger.spent(Utc::now()));
    protections::show(&protections, spent, &mut std::io::stderr().lock());
    let mut decision = engine.decide(&plan);
    let mut not_confirmed = None;
    if !plan.due.is_empty() {
        show_plan(&plan, &decision);
        if decision == Decision::Remediate
            && let Err(reason) = confirm(plan.due.len(), yes)
        {
            decision = Decision::Hold(HoldReason::NotConfirmed);
            not_confirmed = Some(reason);
        }
    } else {
        eprintln!("No account holds root credentials past their grace period: nothing to delete.");
    }
    let report = engine.conclude(plan, decision, &progress).await;
    let code = finish(&report, args.output);
    match not_confirmed {
        Some(reason) => {
            eprintln!("{reason}");
            exit::NOT_CONFIRMED
        }
        None => code,
    }
}

/// What the sweep will delete, on stderr.
fn show_plan(plan: &Plan, decision: &Decision) {
    let mut err = std::io::stderr().lock();
    let due: Vec<&AccountReport> = plan.due.iter().map(|d| &d.report).collect();
    let _ = writeln!(err, "These root credentials are past their grace period:\n");
    let _ = output::table(&due, &mut err);
    if let Decision::Hold(reason) = decision {
        let _ = writeln!(err, "\nNothing will be deleted: {reason}");
    }
}

fn confirm(accounts: usize, yes: bool) -> Result<(), String> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err("Not confirmed, nothing deleted: stdin is not a terminal, so pass --yes to confirm the deletion.".into());
    }
    eprint!(
        "\nDelete these root credentials from {accounts} account(s)? Type `delete` to confirm: "
    );
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    if answer.trim() == "delete" {
        Ok(())
    } else {
        Err("Not confirmed, nothing deleted.".into())
    }
}

fn fail(code: u8, err: &dyn std::fmt::Display) -> u8 {
    eprintln!("rootsweep: {err}");
    code
}

/// Prints the report and turns it into the exit code.
fn finish(report: &Report, format: OutputFormat) -> u8 {
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

/// A progress line on stderr while accounts are processed, only when stderr is a terminal.
struct Progress(Option<ProgressBar>);

impl Progress {
    fn new(mode: Mode) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {prefix}: {pos} accounts done {msg}")
                    .expect("valid template"),
            );
            bar.set_prefix(mode.to_string());
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        });
        Self(bar)
    }

    fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

impl ReportSink for Progress {
    fn account(&self, _run_id: &str, report: &AccountReport) {
        if let Some(bar) = &self.0 {
            bar.inc(1);
            bar.set_message(format!(
                "(last: {} {})",
                report.account_id,
                report.outcome.kind()
            ));
        }
    }

    fn summary(&self, _summary: &RunSummary) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_account_ids_are_refused_by_the_parser() {
        let err = Cli::try_parse_from(["rootsweep", "audit", "--accounts", "111111111111,12"])
            .unwrap_err();
        assert!(
            err.to_string().contains("\"12\" is not an AWS account id"),
            "{err}"
        );
        assert_eq!(err.exit_code(), 2);
    }
}

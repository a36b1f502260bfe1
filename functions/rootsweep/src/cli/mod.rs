//! The operator CLI on the same engine, configuration rules and grace rule as the Lambda.

mod output;

use std::collections::BTreeSet;
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use chrono::Utc;
use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use tokio::time::Instant;

use crate::aws::{SdkSweeper, load_sdk_config};
use crate::config::{AccountId, Concurrency, Config, ConfigError, GracePeriod, Mode};
use crate::event::{RunRequest, Scope};
use crate::logging;
use crate::preflight::{self, PreflightError};
use crate::report::{AccountReport, Outcome, ReportSink, RunFacts, RunSummary, Stage};
use crate::sweep::{Report, RunOptions};

const EXIT_CODES: &str = "\
Exit codes:
  0  every account was checked and none holds root credentials past its grace period
  2  bad usage: an unknown flag or a value that is not allowed
  3  the run could not start: credentials or organization prerequisites (see `rootsweep preflight`)
  4  some accounts hold root credentials past their grace period (found by audit, or left by a sweep)
  5  some accounts could not be checked (failed, not reached, or the account listing broke off)
  6  the sweep was not confirmed: nothing was deleted

Configuration: flags override the ROOTSWEEP_* environment variables the Lambda function reads.
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
    /// Only these accounts (comma-separated 12-digit ids).
    #[arg(long, value_delimiter = ',', value_name = "IDS")]
    pub accounts: Vec<AccountId>,
    /// Grace period, such as 72h or 7d [env: ROOTSWEEP_GRACE_PERIOD, default 72h].
    #[arg(long, value_name = "DURATION")]
    pub grace: Option<String>,
    /// Accounts processed at once, 1 to 64 [env: ROOTSWEEP_CONCURRENCY, default 8].
    #[arg(long, value_name = "N")]
    pub concurrency: Option<String>,
    /// Account ids never audited or touched (comma-separated) [env: ROOTSWEEP_EXEMPT_ACCOUNTS].
    #[arg(long, value_name = "IDS")]
    pub exempt: Option<String>,
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
    logging::init_cli();
    let code = match cli.command {
        Command::Preflight(aws) => run_preflight(&aws).await,
        Command::Audit(args) => run_audit(&args).await,
        Command::Sweep { run, yes } => run_sweep(&run, yes).await,
    };
    ExitCode::from(code)
}

/// The same configuration rules as the Lambda's: flags stand in for the environment variables.
fn config(args: &RunArgs, mode: Mode) -> Result<Config, ConfigError> {
    let flags = [
        (GracePeriod::VARIABLE, "--grace", &args.grace),
        (Concurrency::VARIABLE, "--concurrency", &args.concurrency),
        (Config::EXEMPT_VARIABLE, "--exempt", &args.exempt),
    ];
    Config::from_lookup(|name| {
        if name == Config::MODE_VARIABLE {
            return Some(mode.to_string());
        }
        match flags.iter().find(|(variable, _, _)| *variable == name) {
            Some((_, _, Some(value))) => Some(value.clone()),
            _ => std::env::var(name).ok(),
        }
    })
    .map_err(|mut err| {
        if let Some((_, flag, Some(_))) = flags.iter().find(|(v, _, _)| *v == err.variable) {
            err.variable = flag;
        }
        err
    })
}

async fn sweeper(aws: &AwsArgs, config: Config, publish_metrics: bool) -> SdkSweeper {
    let sdk = load_sdk_config(aws.profile.as_deref(), aws.region.as_deref()).await;
    SdkSweeper::from_sdk_config(config, &sdk, publish_metrics)
}

async fn run_preflight(aws: &AwsArgs) -> u8 {
    // Preflight reads no ROOTSWEEP_* setting: the defaults are only needed to build the clients.
    let config = Config::from_lookup(|_| None).expect("the defaults are valid");
    let sweeper = sweeper(aws, config, false).await;
    let checks = preflight::checks(sweeper.organization()).await;
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
    RunRequest { mode, scope }
}

/// Runs the engine once, with a progress line on stderr when it is a terminal.
async fn run_once(sweeper: &SdkSweeper, request: &RunRequest) -> Result<Report, PreflightError> {
    let options = RunOptions {
        run_id: format!("cli-{}", Utc::now().format("%Y%m%dT%H%M%SZ")),
        deadline: None,
    };
    let progress = Progress::new(request.mode);
    let report = sweeper.run(request, options, &progress).await;
    progress.finish();
    report
}

async fn run_audit(args: &RunArgs) -> u8 {
    let config = match config(args, Mode::Audit) {
        Ok(config) => config,
        Err(err) => return fail(exit::USAGE, &err),
    };
    let sweeper = sweeper(&args.aws, config, args.publish_metrics).await;
    match run_once(&sweeper, &request(args, Mode::Audit)).await {
        Ok(report) => finish(&report, args.output),
        Err(err) => fail(exit::CANNOT_RUN, &err),
    }
}

async fn run_sweep(args: &RunArgs, yes: bool) -> u8 {
    let config = match config(args, Mode::Enforce) {
        Ok(config) => config,
        Err(err) => return fail(exit::USAGE, &err),
    };
    let started_at = Utc::now();
    let clock = Instant::now();
    let sweeper = sweeper(&args.aws, config, args.publish_metrics).await;
    // First an audit, to show what will be deleted and ask before anything is.
    let plan = match run_once(&sweeper, &request(args, Mode::Audit)).await {
        Ok(plan) => plan,
        Err(err) => return fail(exit::CANNOT_RUN, &err),
    };
    let due: BTreeSet<AccountId> = plan
        .accounts
        .iter()
        .filter(|a| matches!(a.outcome, Outcome::Due { .. }))
        .map(|a| a.account_id.clone())
        .collect();
    if due.is_empty() {
        eprintln!("No account holds root credentials past their grace period: nothing to delete.");
        return finish(&plan, args.output);
    }
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(
        stderr,
        "These root credentials are past their grace period and will be deleted:\n"
    );
    let due_reports: Vec<&AccountReport> = plan
        .accounts
        .iter()
        .filter(|a| due.contains(&a.account_id))
        .collect();
    let _ = output::table(&due_reports, &mut stderr);
    drop(stderr);
    if let Err(reason) = confirm(due.len(), yes) {
        eprintln!("{reason}");
        return exit::NOT_CONFIRMED;
    }
    // The enforcing run covers exactly the accounts shown, and re-checks each in its delete
    // session before deleting anything.
    let enforce = RunRequest {
        mode: Mode::Enforce,
        scope: Scope::Accounts(due),
    };
    let result = match run_once(&sweeper, &enforce).await {
        Ok(result) => result,
        Err(err) => return fail(exit::CANNOT_RUN, &err),
    };
    finish(
        &merge(plan, result, started_at, clock, args.accounts.is_empty()),
        args.output,
    )
}

/// The audit's accounts with the swept ones replaced by their enforcing outcome.
fn merge(
    plan: Report,
    swept: Report,
    started_at: chrono::DateTime<Utc>,
    clock: Instant,
    whole_organization: bool,
) -> Report {
    let mut accounts = plan.accounts;
    for account in swept.accounts {
        if let Some(slot) = accounts
            .iter_mut()
            .find(|a| a.account_id == account.account_id)
        {
            *slot = account;
        }
    }
    let mut summary = RunSummary::new(
        RunFacts {
            run_id: swept.summary.run_id,
            mode: Mode::Enforce,
            grace_period: swept.summary.grace_period,
            started_at,
            duration_seconds: clock.elapsed().as_secs_f64(),
            whole_organization,
            over_remediation_cap: false,
            listing_error: plan.summary.listing_error,
        },
        &accounts,
    );
    summary.metrics_error = swept.summary.metrics_error.or(plan.summary.metrics_error);
    Report { summary, accounts }
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
        Outcome::Failed { stage, .. } => matches!(stage, Stage::Remove | Stage::Verify),
        _ => false,
    });
    let unchecked = !report.summary.complete
        || report.accounts.iter().any(|a| {
            matches!(
                a.outcome,
                Outcome::Failed { .. } | Outcome::NotReached { .. }
            )
        });
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
                report.outcome.name()
            ));
        }
    }

    fn summary(&self, _summary: &RunSummary) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(extra: &[&str]) -> RunArgs {
        let cli = Cli::try_parse_from([&["rootsweep", "audit"], extra].concat()).unwrap();
        match cli.command {
            Command::Audit(args) => args,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn flags_go_through_the_same_rules_as_the_environment_and_are_named_in_errors() {
        let config = config(
            &args(&[
                "--grace",
                "7d",
                "--concurrency",
                "3",
                "--exempt",
                "111111111111",
            ]),
            Mode::Audit,
        )
        .unwrap();
        assert_eq!(config.grace.to_string(), "7days");
        assert_eq!(config.concurrency.get(), 3);
        assert_eq!(config.exempt_accounts.len(), 1);
        let err = config_error(&["--grace", "soon"]);
        assert!(
            err.starts_with("--grace=\"soon\" is not valid: use a duration"),
            "{err}"
        );
        let err = config_error(&["--concurrency", "100"]);
        assert!(
            err.starts_with("--concurrency=\"100\" is not valid: use a whole number from 1 to 64"),
            "{err}"
        );
    }

    fn config_error(extra: &[&str]) -> String {
        config(&args(extra), Mode::Audit).unwrap_err().to_string()
    }

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

//! The operator CLI on the same engine, configuration rules and grace rule as the Lambda.

mod evidence;
mod html;
mod output;

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use chrono::Utc;
use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use crate::account::AccountId;
use crate::app::{SdkEngine, sdk_engine};
use crate::aws::load_sdk_config;
use crate::config::{
    ArchiveLocation, Concurrency, Config, ConfigError, GracePeriod, MaxRemediations, Mode, OuId,
    TagRule,
};
use crate::decide::Decision;
use crate::engine::RunOptions;
use crate::event::{RunRequest, Scope};
use crate::logging;
use crate::outcome::{AccountReport, Outcome, Stage};
use crate::plan::Plan;
use crate::preflight;
use crate::reasons::HoldReason;
use crate::report::{Report, ReportSink, RunSummary};

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
    /// Only these accounts (comma-separated 12-digit ids).
    #[arg(long, value_delimiter = ',', value_name = "IDS")]
    pub accounts: Vec<AccountId>,
    /// Grace period, such as 72h or 7d [env: ROOTSWEEP_GRACE_PERIOD, default 72h].
    #[arg(long, value_name = "DURATION")]
    pub grace: Option<String>,
    /// Accounts processed at once, 1 to 64 [env: ROOTSWEEP_CONCURRENCY, default 8].
    #[arg(long, value_name = "N")]
    pub concurrency: Option<String>,
    /// More account ids never audited or touched, added to ROOTSWEEP_EXEMPT_ACCOUNTS.
    #[arg(long, value_name = "IDS")]
    pub exempt: Option<String>,
    /// More organizational units (or the root) whose accounts are exempt, nested units
    /// included, added to ROOTSWEEP_EXEMPT_OUS.
    #[arg(long, value_name = "OU_IDS")]
    pub exempt_ous: Option<String>,
    /// Accounts carrying this tag are exempt (any value when no `=VALUE`) [env:
    /// ROOTSWEEP_EXEMPT_TAG_KEY, ROOTSWEEP_EXEMPT_TAG_VALUE].
    #[arg(long, value_name = "KEY[=VALUE]")]
    pub exempt_tag: Option<String>,
    /// The most accounts one sweep may remediate; above it nothing is deleted [env:
    /// ROOTSWEEP_MAX_REMEDIATIONS, default 25].
    #[arg(long, value_name = "N")]
    pub max_remediations: Option<String>,
    /// Also archive the run's report, as the function does [env: ROOTSWEEP_ARCHIVE].
    #[arg(long, value_name = "s3://BUCKET/PREFIX")]
    pub archive: Option<String>,
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

/// How a flag combines with its environment variable.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Combine {
    /// The flag's value instead of the variable's.
    Replace,
    /// Both: a list flag adds to the list the variable holds, so that the flags can only
    /// protect more accounts than the environment does, never fewer.
    Append,
}

/// The same configuration rules as the Lambda's: each flag stands in for (or adds to) the
/// environment variable it names, and an error names the flag.
fn config(args: &RunArgs, mode: Mode) -> Result<Config, ConfigError> {
    refuse_tag_swap(args.exempt_tag.as_deref())?;
    let (tag_key, tag_value) = match args
        .exempt_tag
        .as_deref()
        .map(|t| t.split_once('=').unwrap_or((t, "")))
    {
        Some((key, value)) => (Some(key.to_owned()), Some(value.to_owned())),
        None => (None, None),
    };
    let flags: [(&str, &'static str, Option<String>, Combine); 8] = [
        (
            ArchiveLocation::VARIABLE,
            "--archive",
            args.archive.clone(),
            Combine::Replace,
        ),
        (
            GracePeriod::VARIABLE,
            "--grace",
            args.grace.clone(),
            Combine::Replace,
        ),
        (
            Concurrency::VARIABLE,
            "--concurrency",
            args.concurrency.clone(),
            Combine::Replace,
        ),
        (
            Config::EXEMPT_VARIABLE,
            "--exempt",
            args.exempt.clone(),
            Combine::Append,
        ),
        (
            OuId::VARIABLE,
            "--exempt-ous",
            args.exempt_ous.clone(),
            Combine::Append,
        ),
        (
            TagRule::KEY_VARIABLE,
            "--exempt-tag",
            tag_key,
            Combine::Replace,
        ),
        (
            TagRule::VALUE_VARIABLE,
            "--exempt-tag",
            tag_value,
            Combine::Replace,
        ),
        (
            MaxRemediations::VARIABLE,
            "--max-remediations",
            args.max_remediations.clone(),
            Combine::Replace,
        ),
    ];
    Config::from_lookup(|name| {
        if name == Config::MODE_VARIABLE {
            return Some(mode.to_string());
        }
        let env = std::env::var(name).ok();
        match flags.iter().find(|(variable, ..)| *variable == name) {
            Some((_, _, Some(flag), Combine::Replace)) => Some(flag.clone()),
            Some((_, _, Some(flag), Combine::Append)) => {
                Some(env.map_or_else(|| flag.clone(), |env| format!("{env},{flag}")))
            }
            _ => env,
        }
    })
    .map_err(|mut err| {
        if let Some((_, flag, Some(_), _)) = flags.iter().find(|(v, ..)| *v == err.variable) {
            err.variable = flag;
        }
        err
    })
}

/// Only one exempt tag rule exists: a flag may restate the environment's, never replace it,
/// or the CLI would be a way around the deployed protection.
fn refuse_tag_swap(flag: Option<&str>) -> Result<(), ConfigError> {
    let (Some(flag), Ok(key)) = (flag, std::env::var(TagRule::KEY_VARIABLE)) else {
        return Ok(());
    };
    let env = match std::env::var(TagRule::VALUE_VARIABLE) {
        Ok(value) if !value.is_empty() => format!("{key}={value}"),
        _ => key,
    };
    if flag == env {
        return Ok(());
    }
    Err(ConfigError {
        variable: "--exempt-tag",
        value: flag.to_owned(),
        allowed: format!(
            "the environment already exempts accounts tagged {env} ({}), and only one tag rule applies: pass that same tag, or none",
            TagRule::KEY_VARIABLE
        ),
    })
}

async fn engine(aws: &AwsArgs, config: Config, publish_metrics: bool) -> SdkEngine {
    let sdk = load_sdk_config(aws.profile.as_deref(), aws.region.as_deref()).await;
    sdk_engine(config, &sdk, publish_metrics)
}

async fn run_preflight(aws: &AwsArgs) -> u8 {
    // The features the environment configures are checked too.
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => return fail(exit::USAGE, &err),
    };
    let engine = engine(aws, config, false).await;
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

fn run_options() -> RunOptions {
    RunOptions {
        run_id: format!("cli-{}", Utc::now().format("%Y%m%dT%H%M%SZ")),
        deadline: None,
        function_arn: None,
    }
}

async fn run_audit(args: &RunArgs) -> u8 {
    let config = match config(args, Mode::Audit) {
        Ok(config) => config,
        Err(err) => return fail(exit::USAGE, &err),
    };
    let engine = engine(&args.aws, config, args.publish_metrics).await;
    let progress = Progress::new(Mode::Audit);
    let report = engine
        .run(&request(args, Mode::Audit), run_options(), &progress)
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
    let config = match config(args, Mode::Enforce) {
        Ok(config) => config,
        Err(err) => return fail(exit::USAGE, &err),
    };
    let engine = engine(&args.aws, config, args.publish_metrics).await;
    let progress = Progress::new(Mode::Enforce);
    let plan = engine
        .plan(&request(args, Mode::Enforce), run_options(), &progress)
        .await;
    progress.finish();
    let plan = match plan {
        Ok(plan) => plan,
        Err(err) => return fail(exit::CANNOT_RUN, &err),
    };
    let mut decision = engine.decide(&plan);
    let mut not_confirmed = None;
    if !plan.due.is_empty() {
        show_plan(&plan, engine.config(), &decision);
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

/// What the sweep will delete, under which protections, on stderr.
fn show_plan(plan: &Plan, config: &Config, decision: &Decision) {
    let mut err = std::io::stderr().lock();
    let exempt_accounts: Vec<&str> = config
        .exempt_accounts
        .iter()
        .map(AccountId::as_str)
        .collect();
    let exempt_ous: Vec<&str> = config.exempt_ous.iter().map(OuId::as_str).collect();
    let none = |list: &[&str]| {
        if list.is_empty() {
            "none".to_owned()
        } else {
            list.join(", ")
        }
    };
    let cap = match (plan.ledger(), &config.state) {
        (Some(ledger), Some(at)) => format!(
            "{} accounts in any 24 hours ({} remediated in the last 24 hours, by the run ledger at {at})",
            config.max_remediations.get(),
            ledger.spent(chrono::Utc::now())
        ),
        _ => format!(
            "{} accounts in this run ({})",
            config.max_remediations.get(),
            crate::ledger::STATELESS
        ),
    };
    let _ = writeln!(
        err,
        "Protections in force:\n  exempt accounts: {}\n  exempt organizational units: {}\n  exempt tag: {}\n  remediation cap: {cap}\n",
        none(&exempt_accounts),
        none(&exempt_ous),
        config
            .exempt_tag
            .as_ref()
            .map_or("none".to_owned(), ToString::to_string),
    );
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
                "--exempt-ous",
                "ou-ab12-cd34ef56",
                "--exempt-tag",
                "break-glass=true",
                "--max-remediations",
                "40",
            ]),
            Mode::Audit,
        )
        .unwrap();
        assert_eq!(config.grace.to_string(), "7d");
        assert_eq!(config.concurrency.get(), 3);
        assert_eq!(config.exempt_accounts.len(), 1);
        assert_eq!(config.exempt_ous.len(), 1);
        assert_eq!(config.exempt_tag.unwrap().to_string(), "break-glass=true");
        assert_eq!(config.max_remediations.get(), 40);
        let cases = [
            (
                &["--grace", "soon"][..],
                "--grace=\"soon\" is not valid: use a duration",
            ),
            (
                &["--concurrency", "100"],
                "--concurrency=\"100\" is not valid: use a whole number from 1 to 64",
            ),
            (
                &["--max-remediations", "0"],
                "--max-remediations=\"0\" is not valid",
            ),
            (
                &["--exempt-ous", "ou-1"],
                "--exempt-ous=\"ou-1\" is not valid",
            ),
            (
                &["--exempt-tag", "=true"],
                "--exempt-tag=\"true\" is not valid",
            ),
        ];
        for (flags, expected) in cases {
            let err = config_error(flags);
            assert!(err.starts_with(expected), "{err}");
        }
    }

    #[test]
    fn a_tag_flag_without_a_value_exempts_any_value() {
        let config = config(&args(&["--exempt-tag", "break-glass"]), Mode::Audit).unwrap();
        assert_eq!(
            config.exempt_tag.unwrap().to_string(),
            "break-glass (any value)"
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

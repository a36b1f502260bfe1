//! The command line: commands, flags and what `--help` says.

use clap::{Args, Parser, Subcommand, ValueEnum};

use super::protections::{DeploymentArgs, ProtectionFlags};
use crate::account::AccountId;
use crate::config::ArchiveLocation;

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
    Evidence(EvidenceArgs),
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

#[derive(Debug, Args)]
pub struct EvidenceArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
    /// The deployed rootsweep function whose archive to read (its ROOTSWEEP_ARCHIVE).
    #[arg(long, env = "ROOTSWEEP_FUNCTION", value_name = "NAME")]
    pub function: Option<String>,
    /// Where the runs are archived, when not the deployment's.
    #[arg(long, value_name = "s3://BUCKET/PREFIX", env = ArchiveLocation::VARIABLE)]
    pub archive: Option<String>,
    /// The first day to read (UTC), as a date such as 2026-01-01 or as a duration back from
    /// today such as 90d or 12w: the runs archived from 00:00 UTC that day on.
    #[arg(long, value_name = "DATE|DURATION", default_value = "90d")]
    pub since: String,
    /// How to print the evidence on stdout.
    #[arg(long, value_enum, default_value_t = EvidenceFormat::Table)]
    pub output: EvidenceFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EvidenceFormat {
    /// A readable table.
    Table,
    /// The evidence as one JSON document.
    Json,
    /// One row per account.
    Csv,
    /// One self-contained HTML page (no script, nothing fetched when opened).
    Html,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

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

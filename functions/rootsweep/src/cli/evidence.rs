//! `rootsweep evidence`: the run archive read back for a period.

use std::time::Duration;

use chrono::Utc;
use clap::Args;

use super::{AwsArgs, OutputFormat, exit, fail, output};
use crate::app::archive;
use crate::aws::load_sdk_config;
use crate::config::{ArchiveLocation, ConfigError};
use crate::evidence;

#[derive(Debug, Args)]
pub struct EvidenceArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Where the runs are archived, as the deployment's ROOTSWEEP_ARCHIVE says.
    #[arg(long, value_name = "s3://BUCKET/PREFIX", env = ArchiveLocation::VARIABLE)]
    pub archive: String,
    /// How far back to read, such as 90d or 12w.
    #[arg(long, value_name = "DURATION", default_value = "90d")]
    pub since: String,
    /// How to print the evidence on stdout.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

fn since(value: &str) -> Result<Duration, ConfigError> {
    humantime::parse_duration(value.trim()).map_err(|_| ConfigError {
        variable: "--since",
        value: value.to_owned(),
        allowed: "use a duration such as 90d, 12w or 48h".into(),
    })
}

/// Exit codes as for an audit: 4 when an account was seen past its grace period, 5 when a run
/// of the period was incomplete, else 0.
pub async fn run(args: &EvidenceArgs) -> u8 {
    let (location, period) = match ArchiveLocation::parse("--archive", &args.archive)
        .and_then(|location| Ok((location, since(&args.since)?)))
    {
        Ok(parsed) => parsed,
        Err(err) => return fail(exit::USAGE, &err),
    };
    let from = (Utc::now() - chrono::TimeDelta::from_std(period).unwrap_or_default()).date_naive();
    let sdk = load_sdk_config(args.aws.profile.as_deref(), args.aws.region.as_deref()).await;
    let store = archive(&sdk, &location.bucket);
    let evidence = match evidence::read(store.as_ref(), &location, from).await {
        Ok(evidence) => evidence,
        Err(err) => return fail(exit::CANNOT_RUN, &err),
    };
    let mut stdout = std::io::stdout().lock();
    let written = match args.output {
        OutputFormat::Table => output::evidence_table(&evidence, &mut stdout),
        OutputFormat::Json => output::json(&evidence, &mut stdout),
        OutputFormat::Csv => output::evidence_csv(&evidence, &mut stdout),
    };
    if let Err(err) = written {
        return fail(1, &format!("could not write the evidence: {err}"));
    }
    if evidence
        .accounts
        .iter()
        .any(|a| a.longest_past_grace_seconds > 0)
    {
        exit::PAST_GRACE
    } else if !evidence.incomplete_runs.is_empty() {
        exit::UNCHECKED
    } else {
        exit::OK
    }
}

//! `rootsweep evidence`: the run archive read back for a period.

use chrono::{NaiveDate, Utc};

use aws_config::SdkConfig;

use super::args::{EvidenceArgs, EvidenceFormat};
use super::run::{deployment, exit, fail};
use super::{html, output};
use crate::app::archive;
use crate::aws::load_sdk_config;
use crate::config::{ArchiveLocation, ConfigError};
use crate::evidence;

/// The first day to read.
fn since(value: &str) -> Result<NaiveDate, ConfigError> {
    let value = value.trim();
    if let Ok(day) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        return Ok(day);
    }
    humantime::parse_duration(value)
        .ok()
        .and_then(|period| chrono::TimeDelta::from_std(period).ok())
        .and_then(|period| Utc::now().checked_sub_signed(period))
        .map(|from| from.date_naive())
        .ok_or_else(|| ConfigError {
            variable: "--since",
            value: value.to_owned(),
            allowed: "use a date such as 2026-01-01, or a duration such as 90d, 12w or 48h".into(),
        })
}

/// The archive to read: `--archive`'s, else the deployed function's.
async fn location(args: &EvidenceArgs, sdk: &SdkConfig) -> Result<ArchiveLocation, (u8, String)> {
    let usage = |err: ConfigError| (exit::USAGE, err.to_string());
    if let Some(archive) = &args.archive {
        return ArchiveLocation::parse("--archive", archive).map_err(usage);
    }
    let Some(function) = &args.function else {
        return Err((
            exit::USAGE,
            "name the deployed function whose runs to read (--function NAME, or ROOTSWEEP_FUNCTION), or the archive itself (--archive s3://BUCKET/PREFIX)".into(),
        ));
    };
    let deployed = deployment(sdk, function).await.map_err(|err| {
        let message = format!(
            "could not read the deployed function {function} ({err}): check the name, the region and that you may call lambda:GetFunctionConfiguration on it, or pass --archive"
        );
        (exit::CANNOT_RUN, message)
    })?;
    match deployed.variables.get(ArchiveLocation::VARIABLE) {
        Some(archive) if !archive.is_empty() => {
            ArchiveLocation::parse(ArchiveLocation::VARIABLE, archive)
                .map_err(|err| (exit::CANNOT_RUN, format!("{}: {err}", deployed.arn)))
        }
        _ => Err((
            exit::CANNOT_RUN,
            format!(
                "the deployed function {} archives no runs (ROOTSWEEP_ARCHIVE is not set): deploy it with an archive bucket, or pass --archive",
                deployed.arn
            ),
        )),
    }
}

/// Exit codes as for an audit: 4 when an account was seen past its grace period, 5 when a run
/// of the period was incomplete, else 0.
pub async fn run(args: &EvidenceArgs) -> u8 {
    let from = match since(&args.since) {
        Ok(from) => from,
        Err(err) => return fail(exit::USAGE, &err),
    };
    let sdk = load_sdk_config(args.aws.profile.as_deref(), args.aws.region.as_deref()).await;
    let location = match location(args, &sdk).await {
        Ok(location) => location,
        Err((code, err)) => return fail(code, &err),
    };
    let store = archive(&sdk, &location.bucket);
    let evidence = match evidence::read(store.as_ref(), &location, from).await {
        Ok(evidence) => evidence,
        Err(err) => return fail(exit::CANNOT_RUN, &err),
    };
    let mut stdout = std::io::stdout().lock();
    let written = match args.output {
        EvidenceFormat::Table => output::evidence_table(&evidence, &mut stdout),
        EvidenceFormat::Json => output::json(&evidence, &mut stdout),
        EvidenceFormat::Csv => output::evidence_csv(&evidence, &mut stdout),
        EvidenceFormat::Html => html::write(&evidence, &mut stdout),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_is_a_day_or_a_duration_back_from_today() {
        assert_eq!(
            since("2026-01-01").unwrap(),
            NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
        );
        let today = Utc::now().date_naive();
        assert_eq!(since("0d").unwrap(), today);
        assert_eq!(since("2d").unwrap(), today - chrono::TimeDelta::days(2));
        assert!(since("last week").is_err());
    }
}

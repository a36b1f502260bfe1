//! The run archive's writer: each run's whole report (its account lines and its summary, as
//! logged) as one gzipped JSON-lines object, partitioned by date. `evidence.rs` reads it back.

use std::io;

use chrono::{DateTime, Utc};
use flate2::Compression;
use flate2::write::GzEncoder;

use crate::config::ArchiveLocation;
use crate::outcome::AccountReport;
use crate::ports::Archive;
use crate::report::{JsonLines, ReportSink, RunSummary};

/// `<prefix>/runs/date=YYYY-MM-DD/HHMMSS.mmmZ-<run-id>.jsonl.gz`: the date partitions Athena
/// projects, and in a day the runs in the order they started (a run id is a Lambda request
/// id), so that the evidence reads them in order.
pub fn key(location: &ArchiveLocation, started_at: DateTime<Utc>, run_id: &str) -> String {
    location.key(&format!(
        "runs/date={}/{}Z-{run_id}.jsonl.gz",
        started_at.format("%Y-%m-%d"),
        started_at.format("%H%M%S%.3f")
    ))
}

/// The report lines, exactly as logged, gzipped.
pub fn body(accounts: &[AccountReport], summary: &RunSummary) -> io::Result<Vec<u8>> {
    let lines = JsonLines::new(GzEncoder::new(Vec::new(), Compression::default()));
    for account in accounts {
        lines.account(&summary.run_id, account);
    }
    lines.summary(summary);
    lines.into_inner().finish()
}

/// Writes a run to the archive at `key`. A failure is returned to be reported in the summary;
/// it never stops anything.
pub async fn write(
    archive: &dyn Archive,
    location: &ArchiveLocation,
    key: &str,
    accounts: &[AccountReport],
    summary: &RunSummary,
) -> Result<(), String> {
    let bytes = body(accounts, summary)
        .map_err(|err| format!("the archive object could not be made: {err}"))?;
    archive.put(key, bytes).await.map_err(|err| {
        format!(
            "{err}. Check that the role may s3:PutObject to s3://{}/{key}",
            location.bucket
        )
    })
}

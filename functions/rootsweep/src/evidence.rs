//! The run archive, the evidence auditors query: each run's whole report (its account lines and
//! its summary, as logged) as one gzipped JSON-lines object, partitioned by date, and read back
//! for a period to say, per account, how long any root credential outlived its grace period.

use std::collections::BTreeMap;
use std::io::{self, Read};

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde::Serialize;
use serde_json::Value;

use crate::config::ArchiveLocation;
use crate::error::AwsError;
use crate::outcome::AccountReport;
use crate::ports::Archive;
use crate::report::{JsonLines, ReportSink, RunSummary};

/// `<prefix>/runs/date=YYYY-MM-DD/<run-id>.jsonl.gz`: the date partitions Athena projects.
pub fn key(location: &ArchiveLocation, started_at: DateTime<Utc>, run_id: &str) -> String {
    location.key(&format!(
        "runs/date={}/{run_id}.jsonl.gz",
        started_at.format("%Y-%m-%d")
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

/// What archiving a run did, in its summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Archived {
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Writes a run to the archive. A failure is returned to be reported; it never stops anything.
pub async fn write(
    archive: &dyn Archive,
    location: &ArchiveLocation,
    accounts: &[AccountReport],
    summary: &RunSummary,
) -> Archived {
    let key = key(location, summary.started_at, &summary.run_id);
    let error = match body(accounts, summary) {
        Err(err) => Some(format!("the archive object could not be made: {err}")),
        Ok(bytes) => archive.put(&key, bytes).await.err().map(|err| {
            format!(
                "{err}. Check that the role may s3:PutObject to s3://{}/{key}",
                location.bucket
            )
        }),
    };
    Archived { key, error }
}

#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error("{0}")]
    Aws(#[from] AwsError),
    #[error("archive object {key} is not a gzipped JSON-lines report: {reason}")]
    Unreadable { key: String, reason: String },
}

/// Per member account, over the period read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountEvidence {
    pub account_id: String,
    pub account_name: String,
    /// Runs that reported the account.
    pub runs: usize,
    /// The longest any of its root credentials was seen past its grace period: until it was
    /// deleted (remediated), or still present when a run reported it (due, retry later).
    pub longest_past_grace_seconds: i64,
    /// The run that saw that.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worst_run: Option<String>,
    pub last_outcome: String,
    pub last_reported: String,
}

/// The period's evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub since: NaiveDate,
    pub runs: usize,
    /// Runs whose summary says they did not list every account.
    pub incomplete_runs: Vec<String>,
    pub accounts: Vec<AccountEvidence>,
}

/// Reads every run archived from `since` on.
pub async fn read(
    archive: &dyn Archive,
    location: &ArchiveLocation,
    since: NaiveDate,
) -> Result<Evidence, EvidenceError> {
    let prefix = location.key("runs/");
    // Keys sort by their date partition: start just before the first day wanted.
    let start_after = location.key(&format!("runs/date={}", since - TimeDelta::days(1)));
    let keys = archive.list(&prefix, Some(&start_after)).await?;
    let mut lines = Vec::new();
    for key in keys.iter().filter(|k| k.ends_with(".jsonl.gz")) {
        let bytes = archive.get(key).await?;
        lines.extend(parse(key, &bytes)?);
    }
    Ok(summarize(since, &lines))
}

fn parse(key: &str, gzipped: &[u8]) -> Result<Vec<Value>, EvidenceError> {
    let unreadable = |reason: String| EvidenceError::Unreadable {
        key: key.to_owned(),
        reason,
    };
    let mut text = String::new();
    GzDecoder::new(gzipped)
        .read_to_string(&mut text)
        .map_err(|e| unreadable(e.to_string()))?;
    text.lines()
        .map(|line| serde_json::from_str(line).map_err(|e| unreadable(e.to_string())))
        .collect()
}

/// How long past its due time a line saw an account's credentials, if it did.
fn past_grace(line: &Value) -> Option<TimeDelta> {
    let outcome = line["outcome"].as_str()?;
    if !matches!(outcome, "due" | "retry_later" | "remediated") {
        return None;
    }
    let due: DateTime<Utc> = line["due_at"].as_str()?.parse().ok()?;
    let seen: DateTime<Utc> = line["finished_at"].as_str()?.parse().ok()?;
    Some((seen - due).max(TimeDelta::zero()))
}

/// The evidence of a period's report lines.
pub fn summarize(since: NaiveDate, lines: &[Value]) -> Evidence {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let mut accounts: BTreeMap<String, AccountEvidence> = BTreeMap::new();
    let (mut runs, mut incomplete_runs) = (0, Vec::new());
    for line in lines {
        match line["kind"].as_str() {
            Some("run_summary") => {
                runs += 1;
                if line["complete"] == Value::Bool(false) {
                    incomplete_runs.push(text(&line["run_id"]));
                }
            }
            Some("account_report") => {
                let id = text(&line["account_id"]);
                let entry = accounts
                    .entry(id.clone())
                    .or_insert_with(|| AccountEvidence {
                        account_id: id,
                        account_name: text(&line["account_name"]),
                        runs: 0,
                        longest_past_grace_seconds: 0,
                        worst_run: None,
                        last_outcome: String::new(),
                        last_reported: String::new(),
                    });
                entry.runs += 1;
                if let Some(past) = past_grace(line).filter(|p| {
                    entry.worst_run.is_none() || p.num_seconds() > entry.longest_past_grace_seconds
                }) {
                    entry.longest_past_grace_seconds = past.num_seconds();
                    entry.worst_run = Some(text(&line["run_id"]));
                }
                let reported = text(&line["finished_at"]);
                if reported >= entry.last_reported {
                    entry.last_reported = reported;
                    entry.last_outcome = text(&line["outcome"]);
                }
            }
            _ => {}
        }
    }
    let mut accounts: Vec<AccountEvidence> = accounts.into_values().collect();
    accounts.sort_by(|a, b| {
        b.longest_past_grace_seconds
            .cmp(&a.longest_past_grace_seconds)
            .then_with(|| a.account_id.cmp(&b.account_id))
    });
    Evidence {
        since,
        runs,
        incomplete_runs,
        accounts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn line(run: &str, id: &str, outcome: &str, due: &str, finished: &str) -> Value {
        json!({"kind": "account_report", "run_id": run, "account_id": id, "account_name": "n",
               "outcome": outcome, "due_at": due, "finished_at": finished})
    }

    #[test]
    fn the_longest_time_past_grace_per_account_over_the_period() {
        let lines = [
            line(
                "r1",
                "1",
                "due",
                "2026-11-01T00:00:00Z",
                "2026-11-01T03:00:00Z",
            ),
            line(
                "r2",
                "1",
                "remediated",
                "2026-11-01T00:00:00Z",
                "2026-11-02T03:00:00Z",
            ),
            line(
                "r1",
                "2",
                "in_grace",
                "2026-11-05T00:00:00Z",
                "2026-11-01T03:00:00Z",
            ),
            line("r2", "2", "clean", "", "2026-11-02T03:00:00Z"),
            json!({"kind": "run_summary", "run_id": "r1", "complete": true}),
            json!({"kind": "run_summary", "run_id": "r2", "complete": false}),
        ];
        let evidence = summarize(NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(), &lines);
        assert_eq!(evidence.runs, 2);
        assert_eq!(evidence.incomplete_runs, ["r2"]);
        let first = &evidence.accounts[0];
        assert_eq!(first.account_id, "1");
        assert_eq!(first.longest_past_grace_seconds, 27 * 3600);
        assert_eq!(first.worst_run.as_deref(), Some("r2"));
        assert_eq!(first.last_outcome, "remediated");
        let second = &evidence.accounts[1];
        assert_eq!(
            (second.longest_past_grace_seconds, second.worst_run.clone()),
            (0, None)
        );
        assert_eq!(second.last_outcome, "clean");
    }

    #[test]
    fn keys_are_partitioned_by_date() {
        let at = ArchiveLocation::parse("X", "s3://bucket/evidence").unwrap();
        let started: DateTime<Utc> = "2026-12-02T03:00:00Z".parse().unwrap();
        assert_eq!(
            key(&at, started, "abc"),
            "evidence/runs/date=2026-12-02/abc.jsonl.gz"
        );
    }
}

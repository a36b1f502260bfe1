//! The evidence auditors query: the run archive (see `archive.rs`) read back for a period to
//! say, per account, how long any root credential outlived its grace period. The read streams:
//! one object at a time, one line at a time, keeping one tally per account.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use flate2::read::GzDecoder;
use serde::{Deserialize, Serialize};

use crate::config::ArchiveLocation;
use crate::error::AwsError;
use crate::ports::Archive;
use crate::report::Exemption;

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
    /// Runs in which its root credentials were past their grace period: seen there, or last
    /// seen there by an earlier run when this one could not check (unknown is not gone).
    pub runs_past_grace: usize,
    /// The longest any of its root credentials was past its grace period: until they were
    /// deleted or found gone, else until the last run that reported the account.
    pub longest_past_grace_seconds: i64,
    /// The run that saw that.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worst_run: Option<String>,
    /// Whether the last run still had its credentials past their grace period (or could not
    /// tell after an earlier run had).
    pub past_grace_at_end: bool,
    pub last_outcome: String,
    pub last_reported: String,
}

/// One run of the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunEvidence {
    pub run_id: String,
    /// `None` for an object without its summary line (cut short).
    pub started_at: Option<DateTime<Utc>>,
    pub whole_organization: bool,
    pub complete: bool,
    /// When the run took its accounts from the last complete listing instead of listing them:
    /// when that listing was made (accounts that joined since were not in the run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listing_reused_from: Option<DateTime<Utc>>,
    pub accounts_reported: usize,
    /// Accounts whose root credentials this run saw past their grace period (or could not
    /// check while they were last known so).
    pub accounts_past_grace: usize,
}

/// The period's evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub since: NaiveDate,
    pub runs: usize,
    /// Runs whose summary says they did not list every account, or without a summary (cut
    /// short).
    pub incomplete_runs: Vec<String>,
    /// Accounts whose root credentials at least one run of the period read.
    pub accounts_audited: usize,
    /// Every run, in the order they started.
    pub run_list: Vec<RunEvidence>,
    /// The exemptions in force: those of the period's last run over the whole organization.
    pub exemptions: Vec<Exemption>,
    /// Longest time past grace first.
    pub accounts: Vec<AccountEvidence>,
}

/// Reads every run archived from `since` on (from 00:00 UTC that day), object by object.
pub async fn read(
    archive: &dyn Archive,
    location: &ArchiveLocation,
    since: NaiveDate,
) -> Result<Evidence, EvidenceError> {
    let prefix = location.key("runs/");
    // Every key of day D and after sorts after `runs/date=D` (its own keys go on with `/`).
    let start_after = location.key(&format!("runs/date={since}"));
    let keys = archive.list(&prefix, Some(&start_after)).await?;
    let mut reader = Reader::default();
    for key in keys.iter().filter(|k| k.ends_with(".jsonl.gz")) {
        let bytes = archive.get(key).await?;
        reader.object(key, &bytes)?;
    }
    Ok(reader.finish(since))
}

/// The fields of a report line the evidence reads (the rest is skipped unparsed).
#[derive(Deserialize)]
struct Line<'a> {
    #[serde(borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    run_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    account_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    account_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    outcome: Option<Cow<'a, str>>,
    due_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    started_at: Option<DateTime<Utc>>,
    whole_organization: Option<bool>,
    complete: Option<bool>,
    listing_reused_from: Option<DateTime<Utc>>,
    exemptions: Option<Vec<Exemption>>,
}

/// One account's tally as the runs go by.
#[derive(Default)]
struct Tally {
    name: String,
    runs: usize,
    runs_past_grace: usize,
    longest: Option<(TimeDelta, usize)>,
    /// The due time of credentials past grace not yet known gone.
    open: Option<DateTime<Utc>>,
    audited: bool,
    last: Option<(DateTime<Utc>, String)>,
}

impl Tally {
    /// Takes one line of run `run`; whether the account was past grace in it.
    fn take(&mut self, run: usize, line: &Line) -> bool {
        let outcome = line.outcome.as_deref().unwrap_or_default();
        let finished = line.finished_at.unwrap_or_default();
        self.runs += 1;
        self.audited |= line.due_at.is_some()
            || matches!(
                outcome,
                "clean" | "in_grace" | "due" | "remediated" | "retry_later"
            );
        let past = match (outcome, line.due_at) {
            ("in_grace", _) => None,
            (_, Some(due_at)) => {
                self.open = Some(due_at);
                Some(finished - due_at)
            }
            // Unknown is not gone: credentials last seen past grace still count.
            ("failed" | "not_reached", None) => self.open.map(|due_at| finished - due_at),
            _ => None,
        };
        // Gone (deleted, found gone), back in grace (used since), or out of scope (exempt,
        // skipped): the exposure ends with this line.
        if !matches!(outcome, "due" | "retry_later" | "failed" | "not_reached") {
            self.open = None;
        }
        if let Some(past) = past.map(|p| p.max(TimeDelta::zero())) {
            self.runs_past_grace += 1;
            if self.longest.is_none_or(|(longest, _)| past > longest) {
                self.longest = Some((past, run));
            }
        }
        if self.last.as_ref().is_none_or(|(at, _)| finished >= *at) {
            self.last = Some((finished, outcome.to_owned()));
        }
        past.is_some()
    }
}

/// The evidence as it is read: one tally per account, one entry per run.
#[derive(Default)]
pub struct Reader {
    accounts: HashMap<String, Tally>,
    runs: Vec<RunEvidence>,
    exemptions: Option<(DateTime<Utc>, Vec<Exemption>)>,
}

impl Reader {
    /// Reads one archive object (one run), a line at a time.
    pub fn object(&mut self, key: &str, gzipped: &[u8]) -> Result<(), EvidenceError> {
        let unreadable = |reason: String| EvidenceError::Unreadable {
            key: key.to_owned(),
            reason,
        };
        let mut lines = BufReader::new(GzDecoder::new(gzipped));
        let mut text = String::new();
        let index = self.runs.len();
        self.runs.push(RunEvidence {
            run_id: String::new(),
            started_at: None,
            whole_organization: false,
            complete: false,
            listing_reused_from: None,
            accounts_reported: 0,
            accounts_past_grace: 0,
        });
        loop {
            text.clear();
            if lines
                .read_line(&mut text)
                .map_err(|e| unreadable(e.to_string()))?
                == 0
            {
                return Ok(());
            }
            let line: Line = serde_json::from_str(&text).map_err(|e| unreadable(e.to_string()))?;
            self.line(index, line);
        }
    }

    fn line(&mut self, index: usize, line: Line) {
        let run = &mut self.runs[index];
        if run.run_id.is_empty() {
            run.run_id = line.run_id.as_deref().unwrap_or_default().to_owned();
        }
        match line.kind.as_deref() {
            Some("account_report") => {
                let id = line.account_id.as_deref().unwrap_or_default();
                let tally = match self.accounts.get_mut(id) {
                    Some(tally) => tally,
                    None => self.accounts.entry(id.to_owned()).or_insert_with(|| Tally {
                        name: line.account_name.as_deref().unwrap_or_default().to_owned(),
                        ..Tally::default()
                    }),
                };
                run.accounts_reported += 1;
                run.accounts_past_grace += usize::from(tally.take(index, &line));
            }
            Some("run_summary") => {
                run.started_at = line.started_at;
                run.whole_organization = line.whole_organization == Some(true);
                run.complete = line.complete != Some(false);
                run.listing_reused_from = line.listing_reused_from;
                let started = line.started_at.unwrap_or_default();
                if run.whole_organization
                    && self
                        .exemptions
                        .as_ref()
                        .is_none_or(|(at, _)| started >= *at)
                {
                    self.exemptions = Some((started, line.exemptions.unwrap_or_default()));
                }
            }
            _ => {}
        }
    }

    /// The evidence of everything read, accounts with the longest time past grace first.
    pub fn finish(self, since: NaiveDate) -> Evidence {
        let runs = &self.runs;
        let mut accounts: Vec<AccountEvidence> = self
            .accounts
            .iter()
            .map(|(id, tally)| AccountEvidence {
                account_id: id.clone(),
                account_name: tally.name.clone(),
                runs: tally.runs,
                runs_past_grace: tally.runs_past_grace,
                longest_past_grace_seconds: tally.longest.map_or(0, |(p, _)| p.num_seconds()),
                worst_run: tally.longest.map(|(_, run)| runs[run].run_id.clone()),
                past_grace_at_end: tally.open.is_some(),
                last_outcome: tally.last.as_ref().map(|l| l.1.clone()).unwrap_or_default(),
                last_reported: tally
                    .last
                    .as_ref()
                    .map(|(at, _)| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                    .unwrap_or_default(),
            })
            .collect();
        accounts.sort_by(|a, b| {
            b.longest_past_grace_seconds
                .cmp(&a.longest_past_grace_seconds)
                .then_with(|| b.runs_past_grace.cmp(&a.runs_past_grace))
                .then_with(|| a.account_id.cmp(&b.account_id))
        });
        Evidence {
            since,
            runs: runs.len(),
            incomplete_runs: runs
                .iter()
                .filter(|r| !r.complete)
                .map(|r| r.run_id.clone())
                .collect(),
            accounts_audited: self.accounts.values().filter(|t| t.audited).count(),
            exemptions: self.exemptions.map(|(_, e)| e).unwrap_or_default(),
            run_list: self.runs,
            accounts,
        }
    }
}

#[cfg(test)]
mod tests;

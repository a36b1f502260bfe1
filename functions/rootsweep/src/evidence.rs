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
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use futures::FutureExt;

    use super::*;
    use crate::account::AccountState;
    use crate::archive::{body, key};
    use crate::config::Mode;
    use crate::outcome::AccountReport;
    use crate::outcome::{Failure, Outcome, Stage};
    use crate::ports::{AwsErrorKind, Call};
    use crate::reasons::{Cause, ExemptRule};
    use crate::report::RunFacts;
    use crate::report::RunSummary;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn account(n: u64, outcome: Outcome, finished: &str) -> AccountReport {
        let mut report = AccountReport::new(
            format!("{n:012}").parse().unwrap(),
            format!("acct-{n}"),
            Some(AccountState::Active),
            outcome,
        );
        report.finished_at = at(finished);
        report
    }

    /// A run's archive object, made by the archive's own writer.
    fn run(id: &str, started: &str, whole: bool, accounts: &[AccountReport]) -> Vec<u8> {
        let facts = RunFacts {
            run_id: id.into(),
            mode: Mode::Enforce,
            grace: crate::config::GracePeriod::parse("72h").unwrap(),
            started_at: at(started),
            duration_seconds: 1.0,
            whole_organization: whole,
            listing_error: None,
            listing_reused_from: None,
            held: None,
            audit_order_seed: 1,
        };
        body(accounts, &RunSummary::new(facts, accounts)).unwrap()
    }

    fn denied(stage: Stage) -> Failure {
        let error = AwsError::new("iam:DeleteLoginProfile", AwsErrorKind::AccessDenied, "SCP");
        Failure::new(stage, Cause::Aws(error))
    }

    #[test]
    fn an_account_denied_deletion_three_nights_is_counted_past_grace_each_night() {
        let due_at = at("2026-11-01T02:00:00Z");
        let nights = [
            // Found due, its deletion denied; then denied again at verify; then the audit
            // itself denied: its credentials were last seen past grace, so it still counts.
            Outcome::Failed(denied(Stage::Remove).after_due(Some(due_at))),
            Outcome::Failed(denied(Stage::Verify).after_due(Some(due_at))),
            Outcome::Failed(denied(Stage::AssumeRootAudit)),
        ];
        let mut reader = Reader::default();
        for (night, outcome) in nights.into_iter().enumerate() {
            let day = 1 + night;
            let finished = format!("2026-11-{day:02}T03:00:00Z");
            let exempt = Outcome::Exempt(ExemptRule::ListedAccount);
            let accounts = [
                account(1, outcome, &finished),
                account(2, Outcome::Clean, &finished),
                account(3, exempt, &finished),
            ];
            let started = format!("2026-11-{day:02}T02:59:00Z");
            let object = run(&format!("night-{day}"), &started, true, &accounts);
            reader.object("k", &object).unwrap();
        }
        let evidence = reader.finish(NaiveDate::from_ymd_opt(2026, 11, 1).unwrap());
        let first = &evidence.accounts[0];
        assert_eq!(first.account_id, "000000000001");
        assert_eq!(first.runs_past_grace, 3);
        assert_eq!(first.longest_past_grace_seconds, 2 * 86_400 + 3600);
        assert_eq!(first.worst_run.as_deref(), Some("night-3"));
        assert!(first.past_grace_at_end);
        assert_eq!(first.last_outcome, "failed");
        let counts: Vec<usize> = evidence
            .run_list
            .iter()
            .map(|r| r.accounts_past_grace)
            .collect();
        assert_eq!(counts, [1, 1, 1]);
        assert_eq!((evidence.runs, evidence.accounts_audited), (3, 2));
        assert_eq!(evidence.exemptions.len(), 1);
        assert_eq!(evidence.exemptions[0].account_id, "000000000003");
        let others: Vec<(usize, i64)> = evidence.accounts[1..]
            .iter()
            .map(|a| (a.runs_past_grace, a.longest_past_grace_seconds))
            .collect();
        assert_eq!(others, [(0, 0), (0, 0)]);
    }

    #[test]
    fn exposure_ends_when_the_credentials_are_gone_or_back_in_grace() {
        let due_at = at("2026-11-01T00:00:00Z");
        let lines = [
            (
                "r1",
                Outcome::Due { due_at, held: None },
                "2026-11-01T06:00:00Z",
            ),
            ("r2", Outcome::Remediated { due_at }, "2026-11-02T00:00:00Z"),
            // Not checked after it was remediated: nothing is carried over.
            (
                "r3",
                Outcome::Failed(denied(Stage::AssumeRootAudit)),
                "2026-11-03T00:00:00Z",
            ),
        ];
        let mut reader = Reader::default();
        for (id, outcome, finished) in lines {
            let object = run(id, finished, false, &[account(7, outcome, finished)]);
            reader.object(id, &object).unwrap();
        }
        let evidence = reader.finish(NaiveDate::from_ymd_opt(2026, 11, 1).unwrap());
        let a = &evidence.accounts[0];
        assert_eq!((a.runs, a.runs_past_grace), (3, 2));
        assert_eq!(a.longest_past_grace_seconds, 86_400);
        assert_eq!(a.worst_run.as_deref(), Some("r2"));
        assert!(!a.past_grace_at_end);
        assert!(evidence.exemptions.is_empty(), "no whole-organization run");
    }

    #[test]
    fn a_cut_short_object_is_an_incomplete_run_and_garbage_is_refused() {
        let mut reader = Reader::default();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, b"{\"kind\":\"account_report\",\"run_id\":\"cut\",\"account_id\":\"1\",\"outcome\":\"clean\"}\n").unwrap();
        reader.object("cut", &gz.finish().unwrap()).unwrap();
        assert!(matches!(
            reader.object("bad", b"not gzip"),
            Err(EvidenceError::Unreadable { .. })
        ));
        let evidence = reader.finish(NaiveDate::from_ymd_opt(2026, 11, 1).unwrap());
        assert_eq!(evidence.incomplete_runs[0], "cut");
    }

    /// Objects in memory, listed in key order as S3 lists them.
    #[derive(Default)]
    struct Objects(Mutex<BTreeMap<String, Vec<u8>>>);

    impl Archive for Objects {
        fn put<'a>(&'a self, key: &'a str, body: Vec<u8>) -> Call<'a, ()> {
            self.0.lock().unwrap().insert(key.to_owned(), body);
            async { Ok(()) }.boxed()
        }
        fn list<'a>(&'a self, prefix: &'a str, after: Option<&'a str>) -> Call<'a, Vec<String>> {
            let objects = self.0.lock().unwrap();
            let keys = objects
                .keys()
                .filter(|k| k.starts_with(prefix) && after.is_none_or(|a| k.as_str() > a))
                .cloned()
                .collect();
            async { Ok(keys) }.boxed()
        }
        fn get<'a>(&'a self, key: &'a str) -> Call<'a, Vec<u8>> {
            let body = self.0.lock().unwrap()[key].clone();
            async { Ok(body) }.boxed()
        }
    }

    #[tokio::test]
    async fn since_reads_exactly_from_that_day_in_the_order_the_runs_started() {
        let location = ArchiveLocation::parse("X", "s3://bucket/evidence").unwrap();
        let store = Objects::default();
        let runs = [
            ("before", "2026-10-31T23:59:59Z"),
            ("late", "2026-11-01T23:00:00Z"),
            ("early", "2026-11-01T00:00:00Z"),
            ("next-day", "2026-11-02T01:00:00Z"),
        ];
        for (id, started) in runs {
            let object = run(id, started, true, &[account(1, Outcome::Clean, started)]);
            store
                .put(&key(&location, at(started), id), object)
                .await
                .unwrap();
        }
        let since = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        let evidence = read(&store, &location, since).await.unwrap();
        let ids: Vec<&str> = evidence
            .run_list
            .iter()
            .map(|r| r.run_id.as_str())
            .collect();
        assert_eq!(ids, ["early", "late", "next-day"]);
    }

    #[test]
    fn keys_are_partitioned_by_date_and_sort_by_start_time() {
        let at_ = ArchiveLocation::parse("X", "s3://bucket/evidence").unwrap();
        assert_eq!(
            key(&at_, at("2026-12-02T03:00:00.5Z"), "abc"),
            "evidence/runs/date=2026-12-02/030000.500Z-abc.jsonl.gz"
        );
    }
}

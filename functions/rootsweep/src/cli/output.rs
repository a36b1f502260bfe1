//! The CLI's three renderings of a report: a table for people, JSON and CSV for programs.

use std::io::{self, Write};

use chrono::{DateTime, TimeDelta, Utc};

use crate::credentials::{Credential, CredentialKind};
use crate::evidence::Evidence;
use crate::outcome::{AccountReport, Outcome};
use crate::ports::Schedule;
use crate::report::RunSummary;

const HEADERS: [&str; 6] = [
    "ACCOUNT",
    "NAME",
    "STATE",
    "OUTCOME",
    "CREDENTIALS",
    "DUE / DETAIL",
];
const NAME_WIDTH: usize = 24;

/// A fixed-width table, one row per account.
pub fn table(accounts: &[&AccountReport], out: &mut impl Write) -> io::Result<()> {
    let now = Utc::now();
    let rows: Vec<[String; 6]> = accounts
        .iter()
        .map(|a| {
            [
                a.account_id.to_string(),
                truncate(&a.account_name, NAME_WIDTH),
                a.account_state
                    .as_ref()
                    .map_or("-", |s| s.as_str())
                    .to_owned(),
                a.outcome.kind().to_string(),
                credentials(&a.credentials, now),
                detail(a, now),
            ]
        })
        .collect();
    let mut widths = HEADERS.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            }
        }
        text.trim_end().to_owned()
    };
    writeln!(out, "{}", line(&HEADERS.map(str::to_owned)))?;
    for row in &rows {
        writeln!(out, "{}", line(row))?;
    }
    Ok(())
}

/// The summary under the table.
pub fn summary(summary: &RunSummary, out: &mut impl Write) -> io::Result<()> {
    let kinds = |counts: &std::collections::BTreeMap<CredentialKind, usize>| {
        counts
            .iter()
            .map(|(kind, n)| format!("{n} {kind}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    writeln!(out)?;
    writeln!(
        out,
        "{} run, grace period {}: {} accounts scanned in {:.1}s",
        summary.mode, summary.grace_period, summary.accounts_scanned, summary.duration_seconds
    )?;
    let outcomes: Vec<String> = summary
        .accounts
        .iter()
        .map(|(kind, n)| format!("{kind} {n}"))
        .collect();
    writeln!(out, "{}", outcomes.join(" | "))?;
    writeln!(
        out,
        "root credentials found: {}",
        kinds(&summary.credentials_found)
    )?;
    writeln!(
        out,
        "root credentials deleted: {}",
        kinds(&summary.credentials_deleted)
    )?;
    if summary.accounts_held_by_odd_dates > 0 {
        writeln!(
            out,
            "ODD DATES: {} account(s) in grace only because of an odd date (see the table)",
            summary.accounts_held_by_odd_dates
        )?;
    }
    if let Some(held) = &summary.remediation_held {
        writeln!(out, "HELD: {held}")?;
    }
    if let Some(err) = &summary.listing_error {
        writeln!(out, "INCOMPLETE: {err}")?;
    }
    Ok(())
}

/// A report (or the evidence) as one JSON document.
pub fn json(value: &impl serde::Serialize, out: &mut impl Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)
}

/// The follow-ups waiting to fire.
pub fn follow_ups(pending: &[Schedule], out: &mut impl Write) -> io::Result<()> {
    writeln!(out)?;
    if pending.is_empty() {
        return writeln!(out, "No follow-up pending.");
    }
    writeln!(out, "Pending follow-ups ({}):", pending.len())?;
    let now = Utc::now();
    for schedule in pending {
        writeln!(
            out,
            "  {}  at {} (in {})",
            schedule.name,
            when(schedule.at),
            age(schedule.at - now)
        )?;
    }
    Ok(())
}

/// Per account, the longest time past grace over the period.
pub fn evidence_table(evidence: &Evidence, out: &mut impl Write) -> io::Result<()> {
    writeln!(
        out,
        "{} run(s) archived since {}; {} incomplete",
        evidence.runs,
        evidence.since,
        evidence.incomplete_runs.len()
    )?;
    writeln!(
        out,
        "{} account(s) audited; exemptions in force: {}",
        evidence.accounts_audited,
        evidence.exemptions.len()
    )?;
    let header = [
        "ACCOUNT",
        "NAME",
        "RUNS",
        "PAST GRACE",
        "LONGEST PAST GRACE",
        "LAST OUTCOME",
    ];
    writeln!(
        out,
        "{:<14}{:<26}{:>6}{:>12}  {:<22}{}",
        header[0], header[1], header[2], header[3], header[4], header[5]
    )?;
    for a in &evidence.accounts {
        let past = match a.longest_past_grace_seconds {
            0 => "-".to_owned(),
            s => age(TimeDelta::seconds(s)),
        };
        let last = match a.past_grace_at_end {
            true => format!("{} (still past grace)", a.last_outcome),
            false => a.last_outcome.clone(),
        };
        writeln!(
            out,
            "{:<14}{:<26}{:>6}{:>12}  {:<22}{}",
            a.account_id,
            truncate(&a.account_name, NAME_WIDTH),
            a.runs,
            a.runs_past_grace,
            past,
            last
        )?;
    }
    Ok(())
}

pub fn evidence_csv(evidence: &Evidence, out: &mut impl Write) -> io::Result<()> {
    let mut writer = ::csv::Writer::from_writer(out);
    writer.write_record([
        "account_id",
        "account_name",
        "runs",
        "runs_past_grace",
        "longest_past_grace_seconds",
        "worst_run",
        "past_grace_at_end",
        "last_outcome",
        "last_reported",
    ])?;
    for a in &evidence.accounts {
        writer.write_record([
            a.account_id.as_str(),
            &a.account_name,
            &a.runs.to_string(),
            &a.runs_past_grace.to_string(),
            &a.longest_past_grace_seconds.to_string(),
            a.worst_run.as_deref().unwrap_or(""),
            &a.past_grace_at_end.to_string(),
            &a.last_outcome,
            &a.last_reported,
        ])?;
    }
    writer.flush()
}

/// One row per account; credentials and actions as `kind:id:date` lists.
pub fn csv(accounts: &[AccountReport], out: &mut impl Write) -> io::Result<()> {
    let mut writer = ::csv::Writer::from_writer(out);
    writer.write_record([
        "account_id",
        "account_name",
        "account_state",
        "outcome",
        "due_at",
        "credentials",
        "actions",
        "detail",
    ])?;
    let now = Utc::now();
    for a in accounts {
        let due_at = a
            .outcome
            .due_at()
            .map(|d| d.to_rfc3339())
            .unwrap_or_default();
        let credentials: Vec<String> = a
            .credentials
            .iter()
            .map(|c| {
                format!(
                    "{}:{}:{}",
                    c.kind,
                    c.id,
                    c.created.map(|d| d.to_rfc3339()).unwrap_or_default()
                )
            })
            .collect();
        let actions: Vec<String> = a
            .actions
            .iter()
            .map(|x| format!("{}:{}:{}", x.action, x.kind, x.id))
            .collect();
        writer.write_record([
            a.account_id.as_str(),
            &a.account_name,
            a.account_state.as_ref().map_or("", |s| s.as_str()),
            a.outcome.kind().as_str(),
            &due_at,
            &credentials.join(";"),
            &actions.join(";"),
            &detail(a, now),
        ])?;
    }
    writer.flush()
}

/// `password 40d, key AKIA... 30d, mfa root-account-mfa-device 35d`.
fn credentials(credentials: &[Credential], now: DateTime<Utc>) -> String {
    if credentials.is_empty() {
        return "-".into();
    }
    credentials
        .iter()
        .map(|c| {
            let age = c.created.map_or("undated".into(), |d| age(now - d));
            match c.kind {
                CredentialKind::Password => format!("password {age}"),
                // An MFA serial is an ARN: its name is what people recognise.
                CredentialKind::MfaDevice => {
                    format!("mfa {} {age}", c.id.rsplit('/').next().unwrap_or(&c.id))
                }
                kind => format!("{kind} {} {age}", c.id),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a person needs to know about the account beyond its outcome.
fn detail(a: &AccountReport, now: DateTime<Utc>) -> String {
    let main = match &a.outcome {
        Outcome::Clean => "-".to_owned(),
        Outcome::InGrace { due_at } => format!("due {} (in {})", when(*due_at), age(*due_at - now)),
        Outcome::Due { due_at, .. } => format!(
            "past grace since {} ({} ago): {}",
            when(*due_at),
            age(now - *due_at),
            a.outcome.detail().unwrap_or_default()
        ),
        Outcome::Remediated { .. } => {
            let done: Vec<String> = a
                .actions
                .iter()
                .map(|x| format!("{} {}", x.action, x.kind))
                .collect();
            done.join(", ")
        }
        Outcome::Failed(failure) => format!(
            "FAILED at {}: {}",
            failure.stage,
            a.outcome.detail().unwrap_or_default()
        ),
        other => other.detail().unwrap_or_default(),
    };
    let notes: Vec<String> = a
        .date_anomalies
        .iter()
        .map(ToString::to_string)
        .chain(a.notes.iter().map(ToString::to_string))
        .collect();
    if notes.is_empty() {
        main
    } else {
        format!("{main} [{}]", notes.join("; "))
    }
}

fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// `3d`, `5h`, `12m`: coarse on purpose, the exact time is next to it.
fn age(span: TimeDelta) -> String {
    let span = span.max(TimeDelta::zero());
    if span.num_days() >= 2 {
        format!("{}d", span.num_days())
    } else if span.num_hours() >= 1 {
        format!("{}h", span.num_hours())
    } else {
        format!("{}m", span.num_minutes())
    }
}

fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_owned()
    } else {
        let kept: String = text.chars().take(width - 1).collect();
        format!("{kept}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::AccountState;

    fn in_grace() -> AccountReport {
        let mut a = AccountReport::new(
            "111111111111".parse().unwrap(),
            "a, \"quoted\" name".into(),
            Some(AccountState::Active),
            Outcome::InGrace {
                due_at: Utc::now() + TimeDelta::hours(50),
            },
        );
        a.credentials = vec![Credential::password(Some(
            Utc::now() - TimeDelta::hours(22),
        ))];
        a
    }

    #[test]
    fn the_table_shows_ages_and_the_due_time() {
        let mut out = Vec::new();
        table(&[&in_grace()], &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("ACCOUNT       NAME"), "{text}");
        assert!(lines[1].contains("in_grace"), "{text}");
        assert!(
            lines[1].contains("password 21h") || lines[1].contains("password 22h"),
            "{text}"
        );
        assert!(
            lines[1].contains("(in 2d)") || lines[1].contains("(in 49h)"),
            "{text}"
        );
    }

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let mut out = Vec::new();
        csv(&[in_grace()], &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let mut reader = ::csv::Reader::from_reader(text.as_bytes());
        let row = reader.records().next().unwrap().unwrap();
        assert_eq!(&row[1], "a, \"quoted\" name");
        assert_eq!(&row[3], "in_grace");
        assert!(
            row[5].starts_with("password:login-profile:"),
            "{:?}",
            &row[5]
        );
    }

    #[test]
    fn ages_are_coarse() {
        assert_eq!(age(TimeDelta::days(3) + TimeDelta::hours(5)), "3d");
        assert_eq!(age(TimeDelta::hours(30)), "30h");
        assert_eq!(age(TimeDelta::minutes(59)), "59m");
        assert_eq!(age(TimeDelta::hours(-5)), "0m");
    }
}

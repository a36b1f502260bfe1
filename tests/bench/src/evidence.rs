//! The evidence read-back at scale: `runs` archived runs of `accounts` accounts each, written to
//! the emulator's S3 by the function's own archive writer (in a process of their own, so that
//! making them weighs nothing here), then read back by `rootsweep::evidence::read` through the
//! S3 adapter, as `rootsweep evidence` reads them: wall time, CPU and peak memory of the read.

use std::process::{Command, Stdio};
use std::time::Instant;

use chrono::{DateTime, TimeDelta, Utc};
use rootsweep::account::AccountState;
use rootsweep::config::{ArchiveLocation, Mode};
use rootsweep::credentials::Credential;
use rootsweep::outcome::{AccountReport, Outcome};
use rootsweep::report::{RunFacts, RunSummary};
use rootsweep::{app, archive, aws, evidence};
use serde_json::json;

use crate::case::{Case, EmulatorProcess, usage};

pub(crate) const BUCKET: &str = "rootsweep-bench-evidence";
const ARCHIVE: &str = "s3://rootsweep-bench-evidence/rootsweep";

/// The first night of the period: `runs` nights before today, at 03:00 UTC.
fn first_night(runs: usize) -> DateTime<Utc> {
    let today = Utc::now().date_naive();
    (today - TimeDelta::days(runs as i64))
        .and_hms_opt(3, 0, 0)
        .expect("03:00")
        .and_utc()
}

/// Night `night`'s report of `accounts` accounts: mostly clean, some in grace, some past grace
/// and remediated or refused, some exempt, as an organization's nights look.
fn night(
    accounts: usize,
    night: usize,
    started: DateTime<Utc>,
) -> (Vec<AccountReport>, RunSummary) {
    let finished = started + TimeDelta::minutes(20);
    let due_at = started - TimeDelta::days(2);
    let reports = (0..accounts)
        .map(|n| {
            let outcome = match (n + night) % 50 {
                0..=3 => Outcome::InGrace {
                    due_at: started + TimeDelta::days(1),
                },
                4 => Outcome::Remediated { due_at },
                5 => Outcome::Due { due_at, held: None },
                6 => Outcome::Exempt(rootsweep::reasons::ExemptRule::ListedAccount),
                _ => Outcome::Clean,
            };
            let id = format!("{:012}", 100_000_000_000u64 + n as u64);
            let mut report = AccountReport::new(
                id.parse().expect("an account id"),
                format!("account-{n:05}"),
                Some(AccountState::Active),
                outcome,
            );
            if report.outcome.due_at().is_some() {
                report.credentials = vec![Credential::password(Some(due_at - TimeDelta::days(3)))];
            }
            report.finished_at = finished;
            report
        })
        .collect::<Vec<_>>();
    let facts = RunFacts {
        run_id: format!("night-{night:03}"),
        mode: Mode::Enforce,
        grace: rootsweep::config::GracePeriod::parse("72h").expect("a valid grace period"),
        started_at: started,
        duration_seconds: 1200.0,
        whole_organization: true,
        listing_error: None,
        listing_reused_from: None,
        held: None,
        audit_order_seed: night as u64,
    };
    let summary = RunSummary::new(facts, &reports);
    (reports, summary)
}

/// `--generate`: writes the archive of `case` to the emulator at `url` (this process only).
pub fn generate(url: &str, accounts: usize, runs: usize) {
    for (name, value) in rootsweep_emulator::client_environment(url) {
        // SAFETY: no other thread runs yet: the runtime is built below.
        unsafe { std::env::set_var(name, value) };
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        let sdk = aws::load_sdk_config(None, None).await;
        let store = app::archive(&sdk, BUCKET);
        let location = ArchiveLocation::parse("bench", ARCHIVE).expect("a location");
        let start = first_night(runs);
        for n in 0..runs {
            let (reports, summary) = night(accounts, n, start + TimeDelta::days(n as i64));
            let key = archive::key(&location, summary.started_at, &summary.run_id);
            let written = archive::write(store.as_ref(), &location, &key, &reports, &summary);
            assert_eq!(written.await, Ok(()), "the archive object is written");
        }
    });
}

/// Runs the read-back case here and returns its JSON line.
pub fn run_here(case: &Case, runs: usize) -> String {
    let emulator = EmulatorProcess::start(case);
    let exe = std::env::current_exe().expect("this binary");
    let generated = Command::new(exe)
        .args([
            "--generate",
            &emulator.url,
            &case.accounts.to_string(),
            &runs.to_string(),
        ])
        .stdout(Stdio::null())
        .status()
        .expect("the generator runs");
    assert!(generated.success(), "the archive was generated");
    for (name, value) in rootsweep_emulator::client_environment(&emulator.url) {
        // SAFETY: no other thread runs yet: the runtime is built below.
        unsafe { std::env::set_var(name, value) };
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let (cpu_before, rss_before_mb) = usage();
    let started = Instant::now();
    let evidence = runtime.block_on(async {
        let sdk = aws::load_sdk_config(None, None).await;
        let store = app::archive(&sdk, BUCKET);
        let location = ArchiveLocation::parse("bench", ARCHIVE).expect("a location");
        let since = first_night(runs).date_naive();
        evidence::read(store.as_ref(), &location, since)
            .await
            .expect("the archive reads back")
    });
    let wall = started.elapsed().as_secs_f64();
    let (cpu_after, peak_rss_mb) = usage();
    let lines = evidence.accounts.iter().map(|a| a.runs).sum::<usize>() + evidence.runs;
    let round = |x: f64, places: i32| (x * 10f64.powi(places)).round() / 10f64.powi(places);
    json!({
        "case": case.name,
        "accounts": case.accounts,
        "runs": evidence.runs,
        "lines_read": lines,
        "accounts_in_evidence": evidence.accounts.len(),
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu_after - cpu_before, 2),
        "lines_per_s": (lines as f64 / wall).round(),
        "peak_rss_mb": round(peak_rss_mb, 1),
        "peak_rss_before_read_mb": round(rss_before_mb, 1),
    })
    .to_string()
}

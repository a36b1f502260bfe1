//! One test kit for every rootsweep test.
//!
//! - [`fake`]: in-memory fakes of the engine's ports (Organizations, root sessions, metrics, the
//!   optional features' ports), for fast engine tests that read like the promise they check; no
//!   SDK types.
//! - [`emulator`]: the emulator started one way, the SDK pointed at it with the production
//!   retry and timeout policy (taken from the library), the engine wired as in production.
//! - [`oracle`]: what must become of each account, worked out from the emulator's data alone,
//!   and the checks every run must pass whatever went wrong.
//! - [`capture`]: report lines and logs captured in memory; a Lambda event.
//! - [`lambda_api`]: the Lambda Runtime API, to run the function binary itself.

pub mod browser;
pub mod capture;
pub mod emulator;
pub mod fake;
pub mod lambda_api;
pub mod oracle;

use chrono::{DateTime, TimeDelta, Utc};

pub fn days_ago(days: i64) -> DateTime<Utc> {
    Utc::now() - TimeDelta::days(days)
}

pub fn hours_ago(hours: i64) -> DateTime<Utc> {
    Utc::now() - TimeDelta::hours(hours)
}

/// A 12-digit account id from a short number: `id(7)` is `000000000007`.
pub fn id(n: u64) -> rootsweep::account::AccountId {
    format!("{n:012}").parse().expect("12 digits")
}

use rootsweep::Config;
use rootsweep::account::AccountId;
use rootsweep::outcome::{AccountReport, Outcome, OutcomeKind};
use rootsweep::report::Report;

/// A configuration from `ROOTSWEEP_*` pairs, the rest at their defaults (a 72 h grace).
pub fn config(pairs: &[(&str, &str)]) -> Config {
    Config::from_pairs(pairs.iter().copied()).expect("a valid test configuration")
}

/// Enforcing, everything else at its default.
pub fn enforcing() -> Config {
    enforcing_with(&[])
}

/// Enforcing, with `extra` settings.
pub fn enforcing_with(extra: &[(&str, &str)]) -> Config {
    let mut pairs = vec![("ROOTSWEEP_MODE", "enforce")];
    pairs.extend_from_slice(extra);
    config(&pairs)
}

/// Looking up accounts in a report.
pub trait ReportExt {
    fn account(&self, id: &AccountId) -> &AccountReport;

    fn outcome_of(&self, id: &AccountId) -> &Outcome {
        &self.account(id).outcome
    }

    fn kind_of(&self, id: &AccountId) -> OutcomeKind {
        self.outcome_of(id).kind()
    }
}

impl ReportExt for Report {
    fn account(&self, id: &AccountId) -> &AccountReport {
        let mut found = self.accounts.iter().filter(|a| &a.account_id == id);
        let account = found
            .next()
            .unwrap_or_else(|| panic!("account {id} is not in the report"));
        assert!(found.next().is_none(), "account {id} is reported twice");
        account
    }
}

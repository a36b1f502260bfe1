//! The independent oracle: what must become of each account, worked out from the emulator's
//! data alone by the README's rules (never by rootsweep's code), and the checks every run must
//! pass whatever went wrong.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, TimeDelta, Utc};
use rootsweep::config::Mode;
use rootsweep::credentials::{CredentialKind, LOGIN_PROFILE_ID};
use rootsweep::outcome::{ActionKind, OutcomeKind};
use rootsweep::report::Report;
use rootsweep_emulator::{Account, AccountState, Org, RootUser};
use serde_json::Value;

use crate::capture::Run;
use crate::emulator::{Exemption, GRACE_HOURS};

/// What the documented rules say should become of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// The management account, or an account that is not ACTIVE.
    Skipped,
    Exempt,
    Clean,
    InGrace,
    Due,
}

impl Expected {
    /// The outcome a run in `mode` with nothing going wrong reports.
    pub fn outcome(self, mode: Mode) -> &'static str {
        match (self, mode) {
            (Expected::Skipped, _) => "skipped",
            (Expected::Exempt, _) => "exempt",
            (Expected::Clean, _) => "clean",
            (Expected::InGrace, _) => "in_grace",
            (Expected::Due, Mode::Audit) => "due",
            (Expected::Due, Mode::Enforce) => "remediated",
        }
    }
}

/// Each account's fate by the README's rules, from the emulator's data alone: the management
/// account and non-ACTIVE accounts are skipped, exempt ones exempt; otherwise the root user's
/// clock is the latest of `PasswordLastUsed` and its credentials' creation dates (a missing
/// date, or one before the root user existed, counts as now; a future one as it is), and the
/// credentials are due 72 h after it.
pub fn expected(org: &Org, exemption: Exemption) -> BTreeMap<String, Expected> {
    let now = Utc::now();
    org.accounts
        .iter()
        .map(|account| {
            let fate = if account.id == org.management_account_id
                || account.state != AccountState::Active
            {
                Expected::Skipped
            } else if exemption.covers(org, account) {
                Expected::Exempt
            } else {
                grace_verdict(&account.root_user, now)
            };
            (account.id.clone(), fate)
        })
        .collect()
}

/// Every date the rule reads, `None` where IAM gives none: the credentials' creation dates and
/// `PasswordLastUsed` (when there is one).
fn dates(root: &RootUser) -> impl Iterator<Item = Option<DateTime<Utc>>> + '_ {
    root.login_profile
        .iter()
        .map(|profile| Some(profile.created))
        .chain(root.access_keys.iter().map(|key| key.created))
        .chain(root.signing_certificates.iter().map(|cert| cert.uploaded))
        .chain(root.mfa_devices.iter().map(|device| Some(device.enabled)))
        .chain(root.password_last_used.map(Some))
}

/// Missing, before the root user was created, or in the future.
fn is_odd(date: Option<DateTime<Utc>>, root: &RootUser, now: DateTime<Utc>) -> bool {
    date.is_none_or(|date| date < root.created || date > now)
}

fn grace_verdict(root: &RootUser, now: DateTime<Utc>) -> Expected {
    let credible = |date: Option<DateTime<Utc>>| match date {
        Some(date) if date >= root.created => date,
        _ => now,
    };
    let Some(clock) = dates(root)
        .map(credible)
        .max()
        .filter(|_| !credentials_of(root).is_empty())
    else {
        return Expected::Clean;
    };
    if now >= clock + TimeDelta::hours(GRACE_HOURS) {
        Expected::Due
    } else {
        Expected::InGrace
    }
}

/// The accounts in grace that hold an odd date: the README's "held in grace by an odd date",
/// each noted, counted and alarmed on.
pub fn held_by_odd_dates(org: &Org, exemption: Exemption) -> BTreeSet<String> {
    let now = Utc::now();
    expected(org, exemption)
        .into_iter()
        .filter(|(_, fate)| *fate == Expected::InGrace)
        .filter(|(id, _)| {
            let root = &org.account(id).expect("in the org").root_user;
            dates(root).any(|date| is_odd(date, root, now))
        })
        .map(|(id, _)| id)
        .collect()
}

/// The Security Hub finding of a member account after runs that went as the rules say, by the
/// README: one per member account with root credentials, HIGH past its grace period, LOW in it,
/// `FAILED` and `ACTIVE`; `PASSED` and `ARCHIVED` once remediated (at a severity the README does
/// not say). `enforced`: whether a run in enforce mode has been made. Skipped, exempt and clean
/// accounts have none.
pub fn expected_finding(fate: Expected, enforced: bool) -> Option<Finding> {
    match (fate, enforced) {
        (Expected::Due, false) => Some((Some("HIGH"), "FAILED", "ACTIVE")),
        (Expected::Due, true) => Some((None, "PASSED", "ARCHIVED")),
        (Expected::InGrace, _) => Some((Some("LOW"), "FAILED", "ACTIVE")),
        (Expected::Skipped | Expected::Exempt | Expected::Clean, _) => None,
    }
}

/// A finding as Security Hub holds it: severity label (`None`: any), compliance status,
/// record state.
pub type Finding = (Option<&'static str>, &'static str, &'static str);

/// The accounts whose credentials a run may delete.
pub fn due(org: &Org, exemption: Exemption) -> BTreeSet<String> {
    expected(org, exemption)
        .into_iter()
        .filter(|(_, fate)| *fate == Expected::Due)
        .map(|(id, _)| id)
        .collect()
}

/// One root credential as rootsweep names it: its kind and id (`login-profile` for the
/// password, the key id, the certificate id, the MFA serial).
pub type CredentialRef = (CredentialKind, String);

/// The root user's credentials, as the report names them.
pub fn credentials_of(root: &RootUser) -> BTreeSet<CredentialRef> {
    let mut credentials = BTreeSet::new();
    if root.login_profile.is_some() {
        credentials.insert((CredentialKind::Password, LOGIN_PROFILE_ID.to_owned()));
    }
    for key in &root.access_keys {
        credentials.insert((CredentialKind::AccessKey, key.id.clone()));
    }
    for cert in &root.signing_certificates {
        credentials.insert((CredentialKind::SigningCertificate, cert.id.clone()));
    }
    for device in &root.mfa_devices {
        credentials.insert((CredentialKind::MfaDevice, device.serial.clone()));
    }
    credentials
}

/// The generated account whose name starts with `scenario` (`due`, `mfa-virtual`, ...), in org
/// order: the README's names for the generated mix.
pub fn named<'a>(org: &'a Org, scenario: &str) -> Vec<&'a Account> {
    // `due-0004`, not `due-73h-0005`: the scenario, then the index alone.
    let prefix = format!("{scenario}-");
    org.accounts
        .iter()
        .filter(|account| {
            account.name == scenario
                || account
                    .name
                    .strip_prefix(&prefix)
                    .is_some_and(|index| index.bytes().all(|b| b.is_ascii_digit()))
        })
        .collect()
}

/// Checks what every run that passed its preflight must show, whatever went wrong:
///
/// - each account appears once in the report and once in the report lines, with the same
///   outcome, and the last line is the summary, equal to the returned one;
/// - the line of an account found past its grace period carries its `due_at`, whatever
///   happened next (failed while deleting, not reached, held);
/// - when `listed` is given (the accounts the run must cover), exactly those accounts appear;
/// - the summary's counts are the outcomes' counts, its deletion counts are the reported
///   actions, and it says `complete` exactly when the listing did not break off.
pub fn check_report(run: &Run, listed: Option<&BTreeSet<String>>) {
    let report = run.report();
    let ids: Vec<String> = report
        .accounts
        .iter()
        .map(|a| a.account_id.to_string())
        .collect();
    let unique: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(
        unique.len(),
        ids.len(),
        "an account is reported twice: {ids:?}"
    );
    if let Some(listed) = listed {
        assert_eq!(
            &unique, listed,
            "the report covers exactly the accounts listed"
        );
    }
    let reported = check_lines(run);
    check_counts(report, &reported);
}

/// The report lines: one per account with the same outcome as in the report (returned, by
/// account), then the summary, field for field.
fn check_lines(run: &Run) -> BTreeMap<String, String> {
    let report = run.report();
    let (summary_line, account_lines) = run
        .lines
        .split_last()
        .expect("a run writes at least its summary line");
    // Through text and back, as the line was, so that floats parse the same way. The line may
    // carry more than the summary (its kind, a log level): every field of the summary is there.
    let text = serde_json::to_string(&report.summary).expect("the summary serializes");
    let summary: Value = serde_json::from_str(&text).expect("and parses back");
    assert_eq!(
        summary_line["kind"], "run_summary",
        "the last line is the summary"
    );
    // The line is written once everything is delivered: it is the returned summary, field for
    // field, whether the metrics were published included.
    for (field, value) in summary.as_object().expect("the summary is an object") {
        assert_eq!(&summary_line[field], value, "the summary line's {field}");
    }
    let mut lined: BTreeMap<String, String> = BTreeMap::new();
    for line in account_lines {
        assert_eq!(line["kind"], "account_report", "{line}");
        let id = line["account_id"]
            .as_str()
            .expect("an account id")
            .to_owned();
        let outcome = line["outcome"].as_str().expect("an outcome").to_owned();
        // An account found past its grace period says since when, whatever happened next.
        let found_due = match outcome.as_str() {
            "due" | "remediated" | "retry_later" => true,
            "failed" => matches!(
                line["stage"].as_str(),
                Some("assume_root_delete" | "recheck" | "remove" | "verify")
            ),
            "not_reached" => line["reason"]
                .as_str()
                .is_some_and(|r| r.starts_with("audited and due")),
            _ => false,
        };
        assert!(
            !found_due || line["due_at"].is_string(),
            "account {id} was found due but its line has no due_at: {line}"
        );
        assert!(
            lined.insert(id.clone(), outcome).is_none(),
            "account {id} has two report lines"
        );
    }
    let reported: BTreeMap<String, String> = report
        .accounts
        .iter()
        .map(|a| (a.account_id.to_string(), a.outcome.kind().to_string()))
        .collect();
    assert_eq!(
        lined, reported,
        "one report line per account, as in the report"
    );
    reported
}

/// The summary's counts: every outcome of the table, the credentials found and deleted, and the
/// accounts needing attention, each matching the report.
fn check_counts(report: &Report, reported: &BTreeMap<String, String>) {
    let s = &report.summary;
    for kind in OutcomeKind::ALL {
        let reported_as = reported.values().filter(|o| *o == kind.as_str()).count();
        assert_eq!(s.count(*kind), reported_as, "the summary counts {kind}");
    }
    let scanned = report
        .accounts
        .iter()
        .filter(|a| a.outcome.was_scanned())
        .count();
    assert_eq!(s.accounts_scanned, scanned);
    for &kind in CredentialKind::ALL {
        let deleted = report
            .accounts
            .iter()
            .flat_map(|a| &a.actions)
            .filter(|x| x.kind == kind)
            .filter(|x| matches!(x.action, ActionKind::Deleted | ActionKind::Deactivated))
            .count();
        assert_eq!(s.credentials_deleted[&kind], deleted, "{kind:?} deleted");
        let found = report
            .accounts
            .iter()
            .flat_map(|a| &a.found)
            .filter(|k| **k == kind)
            .count();
        assert_eq!(s.credentials_found[&kind], found, "{kind:?} found");
    }
    let attention: BTreeSet<String> = s
        .attention
        .iter()
        .map(|a| a.account_id.to_string())
        .collect();
    let needs_attention: BTreeSet<String> = report
        .accounts
        .iter()
        .filter(|a| {
            matches!(
                a.outcome.kind(),
                OutcomeKind::Failed
                    | OutcomeKind::NotReached
                    | OutcomeKind::RetryLater
                    | OutcomeKind::Due
            ) || a.held_by_odd_dates()
        })
        .map(|a| a.account_id.to_string())
        .collect();
    assert_eq!(
        attention, needs_attention,
        "the summary names each account needing attention"
    );
    assert_eq!(s.complete, s.listing_error.is_none());
}

/// The credentials that are gone from each account between `before` and `after` (accounts with
/// none gone are left out). Panics if any account changed in another way.
pub fn deletions(before: &Org, after: &Org) -> BTreeMap<String, BTreeSet<CredentialRef>> {
    assert_eq!(
        before.accounts.len(),
        after.accounts.len(),
        "no account appears or disappears"
    );
    let mut gone = BTreeMap::new();
    for (was, now) in before.accounts.iter().zip(&after.accounts) {
        assert_eq!(was.id, now.id);
        if was == now {
            continue;
        }
        let (had, has) = (
            credentials_of(&was.root_user),
            credentials_of(&now.root_user),
        );
        assert!(
            has.is_subset(&had),
            "account {} gained credentials: {:?}",
            was.id,
            has.difference(&had).collect::<Vec<_>>()
        );
        // Apart from its credentials (and the virtual MFA devices a deactivation leaves behind,
        // or their deletion), the account is as it was.
        let strip = |account: &Account| {
            let mut account = account.clone();
            let root = &mut account.root_user;
            root.login_profile = None;
            root.access_keys.clear();
            root.signing_certificates.clear();
            root.mfa_devices.clear();
            root.unassigned_virtual_mfa_devices.clear();
            account
        };
        assert_eq!(
            strip(was),
            strip(now),
            "account {} changed beyond its credentials",
            was.id
        );
        let removed: BTreeSet<CredentialRef> = had.difference(&has).cloned().collect();
        if !removed.is_empty() {
            gone.insert(was.id.clone(), removed);
        }
    }
    gone
}

/// Holds deletions to the safety promises, from the emulator's state and the report:
///
/// - credentials are gone only from accounts in `allowed` (the due, non-exempt accounts of an
///   enforcing run);
/// - every deletion or deactivation the report lists really happened;
/// - an account whose credentials are gone says so: remediated (and then the emulator holds
///   none at all), or failed or retry-later with its actions listed;
/// - a credential gone without being listed is only possible for a call that timed out (the
///   emulator's `slow` fault does the work, then answers too late), and only in a failed
///   account: pass `calls_may_time_out` for runs with such faults.
pub fn check_deletions(
    report: &Report,
    before: &Org,
    after: &Org,
    allowed: &BTreeSet<String>,
    calls_may_time_out: bool,
) {
    let gone = deletions(before, after);
    let touched: BTreeSet<&String> = gone.keys().collect();
    let outside: Vec<&&String> = touched
        .iter()
        .filter(|id| !allowed.contains(**id))
        .collect();
    assert!(
        outside.is_empty(),
        "credentials deleted outside the allowed accounts: {outside:?}"
    );

    for account in &report.accounts {
        let id = account.account_id.to_string();
        let removed = gone.get(&id).cloned().unwrap_or_default();
        let listed: BTreeSet<CredentialRef> = account
            .actions
            .iter()
            .filter(|x| matches!(x.action, ActionKind::Deleted | ActionKind::Deactivated))
            .map(|x| (x.kind, x.id.clone()))
            .collect();
        assert!(
            listed.is_subset(&removed),
            "account {id} reports actions that did not happen: {:?}",
            listed.difference(&removed).collect::<Vec<_>>()
        );
        if removed.is_empty() {
            continue;
        }
        let name = account.outcome.kind().as_str();
        assert!(
            matches!(name, "remediated" | "failed" | "retry_later"),
            "account {id} lost credentials but is reported {name}"
        );
        if removed != listed {
            assert!(
                calls_may_time_out && name == "failed",
                "account {id} lost {:?} without reporting it (outcome {name})",
                removed.difference(&listed).collect::<Vec<_>>()
            );
        }
        if name == "remediated" {
            // Whatever the report lists, the emulator must hold nothing at all.
            let left = credentials_of(&after.account(&id).expect("still there").root_user);
            assert!(
                left.is_empty(),
                "account {id} is reported remediated but still holds {left:?}"
            );
        }
    }
    for id in gone.keys() {
        assert!(
            report.accounts.iter().any(|a| a.account_id.as_str() == id),
            "account {id} lost credentials but is not in the report"
        );
    }
}

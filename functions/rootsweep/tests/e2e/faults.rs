//! The fault matrix: for every AWS call rootsweep makes, each way the call can fail (throttling
//! beyond the SDK's retries, a 5xx, a timeout, AccessDenied, and NoSuchEntity where IAM can
//! answer it), injected on some accounts of an org holding every credential state, in an
//! enforcing run.
//!
//! Every cell is one run, and every run must end with a complete report (or, for the preflight
//! and listing calls, the documented run-level error or incomplete summary): each listed account
//! exactly once, counts that match, and no credential gone except from due, non-exempt accounts,
//! each such account saying what was done. The faulted accounts must end as the table in
//! [`Cell::expect`] says; every other account as the documented rules say. Each test prints its
//! rows of the matrix (`cargo test -p rootsweep --test main e2e::faults -- --nocapture`).
//!
//! A failed account must also say how it failed: its error is classified as the fault was
//! (throttled, unavailable, timed out, denied, not found) and explained with the hint for it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use futures::{StreamExt, stream};

use rootsweep::config::Mode;
use rootsweep::event::RunRequest;
use rootsweep::outcome::{AccountReport, Outcome, OutcomeKind, Stage};
use rootsweep::ports::AwsErrorKind;
use rootsweep::preflight::PreflightError;
use rootsweep::reasons::Cause;
use rootsweep_emulator::{Account, Fault, FaultKind, MfaKind, Org};
use rootsweep_testkit::capture::Run;
use rootsweep_testkit::emulator::{
    EVERY_SCENARIO, Exemption, Harness, SLOWER_THAN_ANY_TIMEOUT_MS, Timeouts, assume_root_targets,
    config, one_of_each, recovered,
};
use rootsweep_testkit::oracle::{
    Expected, check_deletions, check_report, credentials_of, due, expected, named,
};

/// The ways a call fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Throttling on every attempt: the SDK's retries run out.
    Throttle,
    /// `ServiceUnavailable` (Organizations: `ServiceException`) on every attempt.
    ServerError,
    /// The call is carried out but answers after every timeout.
    Timeout,
    AccessDenied,
    /// IAM's `NoSuchEntity`: only for the IAM calls a root session makes.
    NoSuchEntity,
}

const KINDS: [Kind; 5] = [
    Kind::Throttle,
    Kind::ServerError,
    Kind::Timeout,
    Kind::AccessDenied,
    Kind::NoSuchEntity,
];

impl Kind {
    fn fault(self) -> FaultKind {
        match self {
            Kind::Throttle => FaultKind::Throttle,
            Kind::ServerError => FaultKind::ServerError { status: 503 },
            Kind::Timeout => FaultKind::Slow {
                ms: SLOWER_THAN_ANY_TIMEOUT_MS,
            },
            Kind::AccessDenied => FaultKind::AccessDenied,
            Kind::NoSuchEntity => FaultKind::NoSuchEntity,
        }
    }

    /// How rootsweep must classify the error, and what its explanation must mention.
    fn classified(self) -> (AwsErrorKind, &'static str) {
        match self {
            Kind::Throttle => (AwsErrorKind::Throttled, "Lower ROOTSWEEP_"),
            Kind::ServerError => (AwsErrorKind::ServiceUnavailable, "AWS service error"),
            Kind::Timeout => (AwsErrorKind::Timeout, "timed out"),
            Kind::AccessDenied => (AwsErrorKind::AccessDenied, "aws:AssumedRoot"),
            Kind::NoSuchEntity => (AwsErrorKind::NotFound, "NoSuchEntity"),
        }
    }

    fn label(self) -> &'static str {
        match self {
            Kind::Throttle => "throttle",
            Kind::ServerError => "5xx",
            Kind::Timeout => "timeout",
            Kind::AccessDenied => "access denied",
            Kind::NoSuchEntity => "NoSuchEntity",
        }
    }
}

/// From which of a faulted account's calls of the operation on the fault applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// From its first call: the audit session's (or the run's only one).
    Audit,
    /// From the delete session on: its re-read of the credentials, or AssumeRoot's second call.
    DeleteSession,
    /// From the read that verifies the deletions.
    Verify,
    /// The removals (deletions only happen in the delete session).
    Remove,
    /// The run-level calls: preflight, listing, metrics.
    Run,
    /// ListAccounts from its second page on.
    SecondPage,
}

impl Phase {
    fn label(self) -> &'static str {
        match self {
            Phase::Audit => "audit",
            Phase::DeleteSession => "delete session",
            Phase::Verify => "verify",
            Phase::Remove => "remove",
            Phase::Run => "run",
            Phase::SecondPage => "2nd page",
        }
    }
}

/// What a cell must end in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// The faulted accounts end with this outcome (and stage, for `failed`).
    Accounts(&'static str, Option<Stage>),
    /// The run stops at its preflight with the failed call named, before any root session.
    Preflight,
    /// The listing breaks off: the first page's accounts are reported, the summary is incomplete.
    Incomplete,
    /// The report is complete; the summary says the metrics were not published.
    MetricsError,
}

#[derive(Debug, Clone, Copy)]
struct Cell {
    operation: &'static str,
    phase: Phase,
    kind: Kind,
}

/// The root-session reads, in the order of the README.
const READS: [&str; 7] = [
    "GetAccountSummary",
    "GetUser",
    "GetLoginProfile",
    "ListAccessKeys",
    "GetAccessKeyLastUsed",
    "ListSigningCertificates",
    "ListMFADevices",
];

impl Cell {
    fn is_read(&self) -> bool {
        READS.contains(&self.operation)
    }

    /// The outcome the faulted accounts must end with.
    fn expect(&self) -> Expect {
        use Kind::NoSuchEntity;
        let failed = |stage| Expect::Accounts("failed", Some(stage));
        match (self.operation, self.phase, self.kind) {
            ("ListOrganizationsFeatures" | "DescribeOrganization" | "GetCallerIdentity", ..) => {
                Expect::Preflight
            }
            ("ListAccounts", ..) => Expect::Incomplete,
            ("PutMetricData", ..) => Expect::MetricsError,
            // An account whose tags cannot be read may be a break-glass account: left alone.
            ("ListTagsForResource", ..) => failed(Stage::ExemptionCheck),
            ("AssumeRoot", Phase::Audit, _) => failed(Stage::AssumeRootAudit),
            ("AssumeRoot", _, _) => failed(Stage::AssumeRootDelete),
            // NoSuchEntity on GetLoginProfile is how IAM says there is no password. The faulted
            // accounts hold only a password: AWS says it is gone, so there is nothing to delete,
            // until the verification, where it is indeed gone.
            ("GetLoginProfile", Phase::Verify, NoSuchEntity) => {
                Expect::Accounts("remediated", None)
            }
            ("GetLoginProfile", _, NoSuchEntity) => Expect::Accounts("clean", None),
            (_, Phase::Audit, _) if self.is_read() => failed(Stage::Audit),
            (_, Phase::DeleteSession, _) if self.is_read() => failed(Stage::Recheck),
            (_, Phase::Verify, _) if self.is_read() => failed(Stage::Verify),
            // Deleting the virtual MFA device left behind by the deactivation is a courtesy: a
            // failure is a note, the root user is remediated.
            ("DeleteVirtualMFADevice", ..) => Expect::Accounts("remediated", None),
            // NoSuchEntity on a removal means someone removed it first: the verification then
            // finds it still there.
            (_, Phase::Remove, NoSuchEntity) => failed(Stage::Verify),
            (_, Phase::Remove, _) => failed(Stage::Remove),
            other => unreachable!("no expectation for {other:?}"),
        }
    }

    /// The due accounts the fault targets: up to two that make the call in this phase. Empty for
    /// the run-level calls, which target no account.
    fn targets(&self, org: &Org) -> Vec<String> {
        let due = due(org, Exemption::Tag);
        let root = |account: &Account| account.root_user.clone();
        let holds = |account: &Account| -> bool {
            let root = root(account);
            match self.operation {
                // Password-only accounts, so that a password hidden by NoSuchEntity leaves
                // nothing else to delete.
                "GetLoginProfile" => {
                    root.login_profile.is_some() && credentials_of(&root).len() == 1
                }
                // The audit lists only the kinds GetAccountSummary says exist.
                "ListAccessKeys" | "GetAccessKeyLastUsed" | "DeleteAccessKey" => {
                    !root.access_keys.is_empty()
                }
                "ListSigningCertificates" => !root.signing_certificates.is_empty(),
                "ListMFADevices" => !root.mfa_devices.is_empty(),
                "DeleteLoginProfile" => root.login_profile.is_some(),
                "DeleteSigningCertificate" => !root.signing_certificates.is_empty(),
                "DeactivateMFADevice" => !root.mfa_devices.is_empty(),
                "DeleteVirtualMFADevice" => {
                    root.mfa_devices.iter().any(|d| d.kind == MfaKind::Virtual)
                }
                _ => true,
            }
        };
        match self.phase {
            Phase::Run | Phase::SecondPage => Vec::new(),
            // A tag read is made for every account, the exempt one too.
            _ if self.operation == "ListTagsForResource" => named(org, "exempt")
                .into_iter()
                .map(|a| a.id.clone())
                .chain(due.iter().take(1).cloned())
                .collect(),
            _ => org
                .accounts
                .iter()
                .filter(|a| due.contains(&a.id) && holds(a))
                .take(2)
                .map(|a| a.id.clone())
                .collect(),
        }
    }

    /// How many of `account`'s calls of the operation succeed before the fault applies.
    fn calls_before(&self, account: &Account) -> u32 {
        let per_read = match self.operation {
            "GetAccessKeyLastUsed" => account.root_user.access_keys.len() as u32,
            _ => 1,
        };
        match self.phase {
            Phase::DeleteSession => per_read,
            Phase::Verify => 2 * per_read,
            _ => 0,
        }
    }

    /// The faults to arm: on the targets from their first faulted call on, or run-wide.
    fn faults(&self, org: &Org, targets: &[String]) -> Vec<Fault> {
        let fault = Fault::new(self.operation, self.kind.fault());
        // Calls before the faulted phase pass through a no-op fault that counts them.
        let pass = Fault::new(self.operation, FaultKind::Latency { ms: 0 });
        if targets.is_empty() {
            return match self.phase {
                Phase::SecondPage => vec![pass.times(1), fault],
                _ => vec![fault],
            };
        }
        let mut faults = Vec::new();
        for id in targets {
            let skip = self.calls_before(org.account(id).expect("a target is in the org"));
            if skip > 0 {
                faults.push(pass.clone().for_account(id).times(skip));
            }
            faults.push(fault.clone().for_account(id));
        }
        faults
    }

    /// A generated org in which this cell has accounts to fault, from a seed of its own so that
    /// no two cells share account ids (the SDK keeps a retry partition per member account).
    fn org(&self) -> (Org, Vec<String>) {
        let name = format!(
            "{}/{}/{}",
            self.operation,
            self.phase.label(),
            self.kind.label()
        );
        let base = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3)
        });
        let wanted_accounts = !matches!(self.phase, Phase::Run | Phase::SecondPage);
        (base..base + 50)
            .map(|seed| match self.phase {
                // Two pages of accounts.
                Phase::SecondPage => Org::generate(EVERY_SCENARIO, seed),
                _ => one_of_each(seed),
            })
            .map(|mut org| {
                // So that DeleteVirtualMFADevice is really called and answers, faults aside.
                org.delete_virtual_mfa_allowed = true;
                let targets = self.targets(&org);
                (org, targets)
            })
            .find(|(_, targets)| !wanted_accounts || !targets.is_empty())
            .unwrap_or_else(|| panic!("{name}: no generated org has an account to fault"))
    }
}

/// Runs one cell and checks it; returns what the matrix shows for it.
async fn run_cell(cell: Cell) -> String {
    let (org, targets) = cell.org();
    let label = format!(
        "{} ({}) {}",
        cell.operation,
        cell.phase.label(),
        cell.kind.label()
    );
    let faults = cell.faults(&org, &targets);
    // A held call is given up on as soon as the emulator holds it (and no other call can time
    // out); throttled calls may be paced as long as in production.
    let timeouts = match cell.kind {
        Kind::Timeout => Timeouts::GiveUpOnHeldCalls,
        _ => Timeouts::Patient,
    };
    let harness =
        Harness::start_with(org.clone(), timeouts, |emulator| emulator.faults(faults)).await;
    // So that DeleteVirtualMFADevice is called, as the emulator's policy allows.
    let run = harness
        .sweep(
            Mode::Enforce,
            &[("ROOTSWEEP_DELETE_VIRTUAL_MFA_DEVICES", "true")],
        )
        .await;
    let after = harness.state();
    let calls = harness.calls();
    let faulted = calls
        .iter()
        .filter(|c| c.fault.as_deref().is_some_and(|f| f != "latency"));
    assert!(faulted.count() > 0, "{label}: the fault never applied");

    let expect = cell.expect();
    let shown = match (&run.result, expect) {
        (Err(err), Expect::Preflight) => {
            assert!(
                matches!(
                    err,
                    PreflightError::CallFailed(e) | PreflightError::Credentials(e)
                        if e.operation.ends_with(cell.operation)
                ),
                "{label}: {err}"
            );
            assert!(
                assume_root_targets(&calls).is_empty(),
                "{label}: no root session after a failed preflight"
            );
            assert_eq!(after, org, "{label}: nothing changed");
            "preflight error".to_owned()
        }
        (Err(err), _) => panic!("{label}: the run stopped at its preflight: {err}"),
        (Ok(_), Expect::Preflight) => panic!("{label}: the run went on after its preflight"),
        (Ok(_), _) => {
            let cell_run = CellRun {
                label: &label,
                cell,
                org: &org,
                targets: &targets,
                fates: expected(&org, Exemption::Tag),
            };
            cell_run.check(&run, &after)
        }
    };
    harness.shutdown().await;
    shown
}

/// A cell whose run went past its preflight, with what it is checked against.
struct CellRun<'a> {
    label: &'a str,
    cell: Cell,
    org: &'a Org,
    targets: &'a [String],
    /// What each account not faulted ends as, by the documented rules.
    fates: BTreeMap<String, Expected>,
}

impl CellRun<'_> {
    /// Checks the report, the deletions and the summary; returns what the matrix shows.
    fn check(&self, run: &Run, after: &Org) -> String {
        let (label, expect, org) = (self.label, self.cell.expect(), self.org);
        let report = run.report();
        let all: BTreeSet<String> = org.accounts.iter().map(|a| a.id.clone()).collect();
        // Organizations lists 20 accounts a page: a listing that breaks off on its first
        // page lists none, on its second the first 20 (in the org's order). The due
        // accounts it did list are held: unseen accounts could be due as well.
        let listed: BTreeSet<String> = match (expect, self.cell.phase) {
            (Expect::Incomplete, Phase::Run) => BTreeSet::new(),
            (Expect::Incomplete, _) => org.accounts.iter().take(20).map(|a| a.id.clone()).collect(),
            _ => all.clone(),
        };
        check_report(run, Some(&listed));
        let allowed = due(org, Exemption::Tag);
        check_deletions(
            report,
            org,
            after,
            &allowed,
            self.cell.kind == Kind::Timeout,
        );

        let summary = &report.summary;
        assert_eq!(summary.complete, expect != Expect::Incomplete, "{label}");
        if expect == Expect::Incomplete {
            let error = summary.listing_error.as_deref().unwrap_or_default();
            assert!(error.contains("ListAccounts"), "{label}: {error}");
        }
        assert_eq!(
            summary.metrics_error.is_some(),
            expect == Expect::MetricsError,
            "{label}: {:?}",
            summary.metrics_error
        );

        let shown: BTreeSet<String> = report
            .accounts
            .iter()
            .filter_map(|account| self.check_account(account))
            .collect();
        match expect {
            Expect::Accounts(..) => {
                assert_eq!(shown.len(), 1, "{label}: every target was reported");
                shown.into_iter().collect()
            }
            Expect::Incomplete => format!("incomplete {}/{}", listed.len(), all.len()),
            _ => "metrics error".to_owned(),
        }
    }

    /// An account not faulted ends as the documented rules say; a faulted one as the cell
    /// expects, which is returned for the matrix.
    fn check_account(&self, account: &AccountReport) -> Option<String> {
        let (label, cell) = (self.label, self.cell);
        let id = account.account_id.to_string();
        let outcome = account.outcome.kind().as_str();
        if !self.targets.contains(&id) {
            let mode = match cell.expect() {
                Expect::Incomplete => Mode::Audit,
                _ => Mode::Enforce,
            };
            assert_eq!(
                outcome,
                self.fates[&id].outcome(mode),
                "{label}: account {id} was not faulted: {:?}",
                account.outcome
            );
            return None;
        }
        let Expect::Accounts(wanted, stage) = cell.expect() else {
            unreachable!("run-level faults target no account")
        };
        let got_stage = match &account.outcome {
            Outcome::Failed(failure) => Some(failure.stage),
            _ => None,
        };
        assert_eq!(
            (outcome, got_stage),
            (wanted, stage),
            "{label}: faulted account {id}: {:?}",
            account.outcome
        );
        if let Outcome::Failed(failure) = &account.outcome {
            check_failure(label, cell, &failure.cause);
        }
        // NoSuchEntity says the device is gone already: nothing to note.
        if cell.operation == "DeleteVirtualMFADevice" && cell.kind != Kind::NoSuchEntity {
            assert!(
                account
                    .notes
                    .iter()
                    .any(|n| n.to_string().contains("virtual MFA device")),
                "{label}: the device left behind is noted: {:?}",
                account.notes
            );
        }
        Some(match stage {
            Some(stage) => format!("{outcome}@{stage}"),
            None => outcome.to_owned(),
        })
    }
}

/// A failed account says which call failed, how (classified as the fault was) and what to do.
fn check_failure(label: &str, cell: Cell, cause: &Cause) {
    let text = cause.to_string();
    let error = match cause {
        // NoSuchEntity on a removal: someone removed it first, yet it is still listed.
        Cause::StillPresent { .. } => {
            assert_eq!(
                (cell.phase, cell.kind),
                (Phase::Remove, Kind::NoSuchEntity),
                "{label}"
            );
            return;
        }
        Cause::Aws(error) | Cause::TagsUnreadable(error) => error,
        other => panic!("{label}: {other:?}"),
    };
    assert!(
        error.operation.ends_with(&format!(":{}", cell.operation)),
        "{label}: {text}"
    );
    let (kind, explained) = cell.kind.classified();
    assert_eq!(error.kind, kind, "{label}: {text}");
    let explained = match (cell.kind, cell.operation) {
        // An unreadable tag is explained by what it means for the account.
        (_, "ListTagsForResource") => "left alone",
        (Kind::AccessDenied, "AssumeRoot") => "Likely causes",
        _ => explained,
    };
    assert!(
        text.contains(explained),
        "{label}: says {explained:?}: {text}"
    );
}

/// How many cells of one test run at once.
const CELLS_AT_ONCE: usize = 10;

/// One row of the matrix: a call, from when on it fails, and the ways it fails.
struct Row {
    operation: &'static str,
    phase: Phase,
    kinds: &'static [Kind],
}

fn row(operation: &'static str, phase: Phase, kinds: &'static [Kind]) -> Row {
    Row {
        operation,
        phase,
        kinds,
    }
}

/// Runs every cell of `rows` and prints those rows of the matrix.
async fn matrix(rows: &[Row]) {
    // The cells run side by side: much of a cell's time is spent waiting (timeouts, pacing).
    let cells = rows.iter().flat_map(|row| {
        KINDS.into_iter().map(move |kind| {
            let cell = Cell {
                operation: row.operation,
                phase: row.phase,
                kind,
            };
            (cell, row.kinds.contains(&kind))
        })
    });
    let shown: Vec<String> = stream::iter(cells)
        .map(|(cell, wanted)| async move {
            match wanted {
                true => run_cell(cell).await,
                false => "-".to_owned(),
            }
        })
        .buffered(CELLS_AT_ONCE)
        .collect()
        .await;
    let mut table = format!("{:<44}", "fault matrix: call (from)");
    for kind in KINDS {
        let _ = write!(table, " | {:<26}", kind.label());
    }
    for (row, texts) in rows.iter().zip(shown.chunks(KINDS.len())) {
        table = table.trim_end().to_owned();
        let _ = write!(
            table,
            "\n{:<44}",
            format!("{} ({})", row.operation, row.phase.label())
        );
        for text in texts {
            let _ = write!(table, " | {text:<26}");
        }
    }
    eprintln!("{}\n", table.trim_end());
}

const ERRORS: [Kind; 4] = [
    Kind::Throttle,
    Kind::ServerError,
    Kind::Timeout,
    Kind::AccessDenied,
];

#[tokio::test]
async fn a_failed_preflight_call_stops_the_run_before_any_root_session() {
    matrix(&[
        row("ListOrganizationsFeatures", Phase::Run, &ERRORS),
        row("DescribeOrganization", Phase::Run, &ERRORS),
        row("GetCallerIdentity", Phase::Run, &ERRORS),
    ])
    .await;
}

#[tokio::test]
async fn a_listing_that_breaks_off_reports_the_accounts_listed_and_says_the_run_is_incomplete() {
    matrix(&[
        row("ListAccounts", Phase::Run, &ERRORS),
        row("ListAccounts", Phase::SecondPage, &ERRORS),
    ])
    .await;
}

#[tokio::test]
async fn an_account_whose_tags_cannot_be_read_is_left_alone_even_when_due() {
    matrix(&[row("ListTagsForResource", Phase::Audit, &ERRORS)]).await;
}

#[tokio::test]
async fn a_failed_assume_root_fails_only_that_account_at_its_session() {
    matrix(&[
        row("AssumeRoot", Phase::Audit, &ERRORS),
        row("AssumeRoot", Phase::DeleteSession, &ERRORS),
    ])
    .await;
}

#[tokio::test]
async fn a_failed_get_user_fails_the_account_at_the_read_it_broke() {
    // Verification lists what is left and needs no GetUser.
    matrix(&[
        row("GetUser", Phase::Audit, &KINDS),
        row("GetUser", Phase::DeleteSession, &KINDS),
    ])
    .await;
}

#[tokio::test]
async fn a_failed_get_login_profile_fails_the_account_and_no_such_entity_means_no_password() {
    // What NoSuchEntity means for the password depends on when IAM says it.
    matrix(&[
        row("GetLoginProfile", Phase::Audit, &KINDS),
        row(
            "GetLoginProfile",
            Phase::DeleteSession,
            &[Kind::NoSuchEntity],
        ),
        row("GetLoginProfile", Phase::Verify, &[Kind::NoSuchEntity]),
    ])
    .await;
}

#[tokio::test]
async fn a_failed_credential_listing_fails_only_that_account() {
    matrix(&[
        row("GetAccountSummary", Phase::Audit, &KINDS),
        row("ListAccessKeys", Phase::Audit, &KINDS),
        row("GetAccessKeyLastUsed", Phase::Audit, &KINDS),
        row("ListSigningCertificates", Phase::Audit, &KINDS),
        row("ListMFADevices", Phase::Audit, &KINDS),
    ])
    .await;
}

#[tokio::test]
async fn a_failed_removal_stops_that_account_with_what_was_done_listed() {
    matrix(&[
        row("DeleteLoginProfile", Phase::Remove, &KINDS),
        row("DeleteAccessKey", Phase::Remove, &KINDS),
        row("DeleteSigningCertificate", Phase::Remove, &KINDS),
        row("DeactivateMFADevice", Phase::Remove, &KINDS),
    ])
    .await;
}

#[tokio::test]
async fn a_virtual_mfa_device_that_cannot_be_deleted_after_deactivation_is_only_a_note() {
    matrix(&[row("DeleteVirtualMFADevice", Phase::Remove, &KINDS)]).await;
}

#[tokio::test]
async fn metrics_that_cannot_be_published_are_reported_in_the_summary() {
    matrix(&[row("PutMetricData", Phase::Run, &ERRORS)]).await;
}

#[tokio::test]
async fn mfa_refused_right_after_a_password_recovery_is_retried_later_and_finished_by_the_next_run()
{
    let mut org = one_of_each(31);
    let due = due(&org, Exemption::Tag);
    let targets: Vec<String> = org
        .accounts
        .iter()
        .filter(|a| due.contains(&a.id) && !a.root_user.mfa_devices.is_empty())
        .map(|a| a.id.clone())
        .collect();
    assert!(!targets.is_empty(), "the org has due accounts with MFA");
    // Their root passwords were recovered 73 h ago: due for an hour, in the 72 h grace.
    for id in &targets {
        recovered(org.account_mut(id).expect("a target"), 73);
    }
    assert_eq!(due, rootsweep_testkit::oracle::due(&org, Exemption::Tag));
    // AWS refuses the first deactivation in each of them, as it does for 10-15 minutes after a
    // root password recovery.
    let faults = targets
        .iter()
        .map(|id| {
            Fault::new("DeactivateMFADevice", FaultKind::InvalidMfaDevice)
                .for_account(id)
                .times(1)
        })
        .collect();
    let harness = Harness::start_with(org.clone(), Timeouts::Patient, |emulator| {
        emulator.faults(faults)
    })
    .await;
    let all: BTreeSet<String> = org.accounts.iter().map(|a| a.id.clone()).collect();
    let enforce = || config(Mode::Enforce, Exemption::Tag, &org, &[]);

    let first = harness
        .run(enforce(), &RunRequest::scheduled(Mode::Enforce))
        .await;
    check_report(&first, Some(&all));
    let after_first = harness.state();
    check_deletions(first.report(), &org, &after_first, &due, false);
    for id in &targets {
        let account = first
            .report()
            .accounts
            .iter()
            .find(|a| a.account_id.as_str() == id)
            .expect("reported");
        assert!(
            matches!(&account.outcome, Outcome::RetryLater { error, .. } if error.message.contains("Invalid MFA device")),
            "{id}: {:?}",
            account.outcome
        );
        let root = &after_first.account(id).unwrap().root_user;
        assert_eq!(
            root.mfa_devices,
            org.account(id).unwrap().root_user.mfa_devices
        );
    }
    assert_eq!(
        first.report().summary.count(OutcomeKind::RetryLater),
        targets.len()
    );
    assert_eq!(first.report().summary.count(OutcomeKind::Failed), 0);

    let second = harness
        .run(enforce(), &RunRequest::scheduled(Mode::Enforce))
        .await;
    check_report(&second, Some(&all));
    let after_second = harness.state();
    check_deletions(second.report(), &after_first, &after_second, &due, false);
    for id in &targets {
        let account = second
            .report()
            .accounts
            .iter()
            .find(|a| a.account_id.as_str() == id)
            .expect("reported");
        assert_eq!(account.outcome.kind(), OutcomeKind::Remediated, "{id}");
        assert!(
            after_second.account(id).unwrap().root_user.is_clean(),
            "{id}"
        );
    }
    assert_eq!(second.report().summary.count(OutcomeKind::RetryLater), 0);
    harness.shutdown().await;
}

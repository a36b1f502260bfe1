//! Shared setup for the end-to-end tests: the real rootsweep library, wired to the AWS SDK the
//! way production wires it, against the emulator started in-process on a free loopback port.
//!
//! - [`Harness`] starts the emulator and builds the SDK configuration and the [`SdkSweeper`].
//! - [`expected`] re-derives each account's fate from the emulator's own data (the documented
//!   scope and grace rules), independently of rootsweep's code, so a test can compare the
//!   emulator's state after a run with what should have happened.
//! - [`check_report`] and [`check_deletions`] hold every run to the promises it must keep
//!   whatever went wrong: one outcome per account, counts that match, and no deletion that is
//!   not allowed or not reported.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use chrono::{DateTime, TimeDelta, Utc};
use rootsweep::aws::SdkSweeper;
use rootsweep::config::Mode;
use rootsweep::credentials::{CredentialKind, LOGIN_PROFILE_ID};
use rootsweep::event::RunRequest;
use rootsweep::preflight::PreflightError;
use rootsweep::report::{ActionKind, JsonLines, Outcome};
use rootsweep::{Config, Report, RunOptions};
use rootsweep_emulator::{
    Account, AccountState, CallRecord, EXEMPT_TAG, Emulator, EmulatorHandle, Org, RootUser,
    TaskPolicy,
};
use serde_json::Value;

/// Small enough to keep a run quick, large enough for every scenario of the generated mix
/// (management, caller, and the 20 member scenarios).
pub const EVERY_SCENARIO: usize = 22;
/// Every scenario twice.
pub const EVERY_SCENARIO_TWICE: usize = 42;

/// A generated org reduced to one account of each kind: the management account, the caller,
/// and the first account of each of the 20 member scenarios (15 accounts in all, 11 of them
/// audited). Every credential state at the lowest cost per run.
pub fn one_of_each(seed: u64) -> Org {
    let mut org = Org::generate(EVERY_SCENARIO, seed);
    let mut seen = BTreeSet::new();
    org.accounts.retain(|account| {
        let scenario = account
            .name
            .trim_end_matches(|c: char| c.is_ascii_digit() || c == '-');
        seen.insert(scenario.to_owned())
    });
    org.validate()
        .expect("dropping accounts keeps the org valid");
    org
}

/// The grace period of every test run, in the units the configuration takes and in hours.
pub const GRACE: &str = "72h";
const GRACE_HOURS: i64 = 72;

/// The caller's own static keys: not a root session, so the emulator treats them as the org's
/// caller (the delegated administrator of the generated org). The emulator checks signatures:
/// these are the caller credentials it knows by default.
pub const CALLER_ACCESS_KEY_ID: &str = rootsweep_emulator::DEFAULT_CALLER_ACCESS_KEY_ID;
pub const CALLER_SECRET_ACCESS_KEY: &str = rootsweep_emulator::DEFAULT_CALLER_SECRET_ACCESS_KEY;

/// The timeouts of a test SDK configuration. Production allows 10 s per attempt (retried) and
/// 45 s per call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timeouts {
    /// 60 s per attempt, 120 s per call: no loopback call comes near either, however loaded the
    /// machine. The call timeout stays long because the SDK's adaptive rate limiter, once
    /// throttled, paces every call of its retry partition down to one every two seconds (its own
    /// constants, which no configuration scales): that pacing must slow a run down, not time its
    /// calls out, as with production's 45 s. And a run on a paused clock that is moved by the
    /// 51 s to a deadline must not see its calls time out on the way.
    Patient,
    /// 1 s per attempt, 2.5 s per call: a call that never answers is tried twice and given up
    /// after 2.5 s. For runs that test timeouts and have no throttling to be paced by.
    Impatient,
}

impl Timeouts {
    fn config(self) -> TimeoutConfig {
        let (attempt, operation) = match self {
            Timeouts::Patient => (Duration::from_secs(60), Duration::from_secs(120)),
            Timeouts::Impatient => (Duration::from_secs(1), Duration::from_millis(2500)),
        };
        TimeoutConfig::builder()
            .operation_attempt_timeout(attempt)
            .operation_timeout(operation)
            .build()
    }
}

/// A `slow` fault holds its answer this long: beyond any attempt timeout, so the client gives up.
pub const SLOWER_THAN_ANY_TIMEOUT_MS: u64 = 10_000;

/// The same retry policy as `rootsweep::aws::load_sdk_config` (adaptive, 6 attempts), with a
/// backoff in milliseconds instead of seconds so that exhausting the retries stays quick.
const MAX_ATTEMPTS: u32 = 6;

/// The IAM calls that remove something, as the emulator logs them.
pub const DELETE_OPERATIONS: [&str; 5] = [
    "DeleteLoginProfile",
    "DeleteAccessKey",
    "DeleteSigningCertificate",
    "DeactivateMFADevice",
    "DeleteVirtualMFADevice",
];

/// An SDK configuration for the emulator at `endpoint`, as production builds it from the
/// environment (`AWS_ENDPOINT_URL`, region, static credentials), with rootsweep's retry mode and
/// attempts and the test `timeouts`.
///
/// The SDK keeps retry quotas and adaptive rate limiters per retry partition, process-wide, and
/// names the default partitions after the service and the region. Each configuration gets a
/// region of its own, so that throttling injected in one test never slows or starves the retries
/// of another test running in parallel. (Root sessions use a partition per member account: the
/// tests use different seeds, hence different account ids, where that matters.)
pub async fn sdk_config(endpoint: &str, timeouts: Timeouts) -> SdkConfig {
    static NEXT_REGION: AtomicUsize = AtomicUsize::new(0);
    // Shaped like a region of the aws partition (us-...-N), which the emulator requires.
    let region = format!("us-e2e-{}", NEXT_REGION.fetch_add(1, Ordering::Relaxed));
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(region))
        .credentials_provider(Credentials::new(
            CALLER_ACCESS_KEY_ID,
            CALLER_SECRET_ACCESS_KEY,
            None,
            None,
            "e2e-static",
        ))
        .retry_config(
            RetryConfig::adaptive()
                .with_max_attempts(MAX_ATTEMPTS)
                .with_initial_backoff(Duration::from_millis(1))
                .with_max_backoff(Duration::from_millis(20)),
        )
        .timeout_config(timeouts.config())
        .load()
        .await
}

/// How a run exempts the generated org's `exempt-*` account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exemption {
    /// `ROOTSWEEP_EXEMPT_TAG_KEY=rootsweep:exempt`, `ROOTSWEEP_EXEMPT_TAG_VALUE=true`.
    Tag,
    /// `ROOTSWEEP_EXEMPT_OUS` = the `Sandbox` unit: every account in it or in `Sandbox/Legacy`.
    Unit,
}

impl Exemption {
    /// The configuration variables that set this exemption up for `org`.
    fn variables(self, org: &Org) -> Vec<(&'static str, String)> {
        match self {
            Exemption::Tag => vec![
                ("ROOTSWEEP_EXEMPT_TAG_KEY", EXEMPT_TAG.0.to_owned()),
                ("ROOTSWEEP_EXEMPT_TAG_VALUE", EXEMPT_TAG.1.to_owned()),
            ],
            Exemption::Unit => vec![("ROOTSWEEP_EXEMPT_OUS", sandbox_unit(org).to_owned())],
        }
    }

    /// Whether this exemption covers `account`, from the emulator's data.
    pub fn covers(self, org: &Org, account: &Account) -> bool {
        match self {
            Exemption::Tag => {
                account.tags.get(EXEMPT_TAG.0).map(String::as_str) == Some(EXEMPT_TAG.1)
            }
            Exemption::Unit => {
                let sandbox = sandbox_unit(org);
                let mut unit = account.parent.as_deref();
                while let Some(id) = unit {
                    if id == sandbox {
                        return true;
                    }
                    unit = org
                        .organizational_unit(id)
                        .and_then(|ou| ou.parent.as_deref());
                }
                false
            }
        }
    }
}

fn sandbox_unit(org: &Org) -> &str {
    let sandbox = org
        .organizational_units
        .iter()
        .find(|ou| ou.name == "Sandbox");
    &sandbox.expect("the generated org has a Sandbox unit").id
}

/// A rootsweep configuration as the Lambda would read it from its environment: `mode`, a 72 h
/// grace period, the exemption, and any `extra` `ROOTSWEEP_*` variables.
pub fn config(mode: Mode, exemption: Exemption, org: &Org, extra: &[(&str, &str)]) -> Config {
    let mut variables: BTreeMap<String, String> = BTreeMap::from([
        ("ROOTSWEEP_MODE".to_owned(), mode.to_string()),
        ("ROOTSWEEP_GRACE_PERIOD".to_owned(), GRACE.to_owned()),
    ]);
    for (name, value) in exemption.variables(org) {
        variables.insert(name.to_owned(), value);
    }
    for (name, value) in extra {
        variables.insert((*name).to_owned(), (*value).to_owned());
    }
    Config::from_lookup(|name| variables.get(name).cloned()).expect("a valid test configuration")
}

/// A running emulator, the org it started with, and an SDK configuration pointed at it.
pub struct Harness {
    pub emulator: EmulatorHandle,
    /// The org as it was when the emulator started.
    pub initial: Org,
    sdk: SdkConfig,
}

/// What one run produced: its result, and every line its `JsonLines` sink wrote.
pub struct Run {
    pub result: Result<Report, PreflightError>,
    pub lines: Vec<Value>,
}

impl Run {
    /// The report, for a run that passed its preflight.
    pub fn report(&self) -> &Report {
        match &self.result {
            Ok(report) => report,
            Err(err) => panic!("the run stopped at its preflight: {err}"),
        }
    }
}

impl Harness {
    /// Starts the emulator on `org` with no latency and no faults.
    pub async fn start(org: Org) -> Self {
        Self::start_with(org, Timeouts::Patient, |emulator| emulator).await
    }

    /// Starts the emulator on `org`, configured further by `setup` (latency, faults), and an
    /// SDK configuration with `timeouts` for it.
    pub async fn start_with(
        org: Org,
        timeouts: Timeouts,
        setup: impl FnOnce(Emulator) -> Emulator,
    ) -> Self {
        let emulator = setup(Emulator::new(org.clone()))
            .spawn()
            .await
            .expect("the emulator starts");
        let sdk = sdk_config(&emulator.url(), timeouts).await;
        Self {
            emulator,
            initial: org,
            sdk,
        }
    }

    /// The sweeper as the Lambda builds it, from this harness's SDK configuration.
    pub fn sweeper(&self, config: Config) -> SdkSweeper {
        SdkSweeper::from_sdk_config(config, &self.sdk, true)
    }

    /// One run without a deadline, its report lines captured.
    pub async fn run(&self, config: Config, request: &RunRequest) -> Run {
        let options = RunOptions {
            run_id: "e2e-run".into(),
            deadline: None,
        };
        self.run_with(&self.sweeper(config), request, options).await
    }

    /// One run of `sweeper` with `options`, its report lines captured.
    pub async fn run_with(
        &self,
        sweeper: &SdkSweeper,
        request: &RunRequest,
        options: RunOptions,
    ) -> Run {
        let sink = JsonLines::new(Vec::new());
        let result = sweeper.run(request, options, &sink).await;
        let text = String::from_utf8(sink.into_inner()).expect("report lines are UTF-8");
        let lines = text
            .lines()
            .map(|line| serde_json::from_str(line).expect("each report line is JSON"))
            .collect();
        Run { result, lines }
    }

    /// The emulator's org now, through its admin state.
    pub fn state(&self) -> Org {
        self.emulator.state()
    }

    pub fn calls(&self) -> Vec<CallRecord> {
        self.emulator.calls()
    }

    /// The accounts a delete session (`IAMDeleteRootUserCredentials`) was issued for.
    pub fn delete_sessions(&self) -> Vec<String> {
        self.emulator
            .issued_credentials()
            .into_iter()
            .filter(|session| session.task_policy == TaskPolicy::IAMDeleteRootUserCredentials)
            .map(|session| session.account_id)
            .collect()
    }

    pub async fn shutdown(self) {
        self.emulator.shutdown().await.expect("the emulator stops");
    }
}

/// The calls that removed or deactivated something (whatever their answer).
pub fn delete_calls(calls: &[CallRecord]) -> Vec<&CallRecord> {
    calls
        .iter()
        .filter(|call| DELETE_OPERATIONS.contains(&call.operation.as_str()))
        .collect()
}

/// The accounts AssumeRoot was asked to target.
pub fn assume_root_targets(calls: &[CallRecord]) -> BTreeSet<String> {
    calls
        .iter()
        .filter(|call| call.operation == "AssumeRoot")
        .filter_map(|call| call.target_account_id.clone())
        .collect()
}

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
/// clock is the latest of `PasswordLastUsed` and its credentials' creation dates (a date before
/// the root user existed counts as now), and the credentials are due 72 h after it.
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

fn grace_verdict(root: &RootUser, now: DateTime<Utc>) -> Expected {
    let created = root
        .login_profile
        .iter()
        .map(|profile| profile.created)
        .chain(root.access_keys.iter().map(|key| key.created))
        .chain(root.signing_certificates.iter().map(|cert| cert.uploaded))
        .chain(root.mfa_devices.iter().map(|device| device.enabled));
    let credible = |date: DateTime<Utc>| if date < root.created { now } else { date };
    let Some(clock) = created
        .chain(root.password_last_used)
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
    let prefix = format!("{scenario}-");
    org.accounts
        .iter()
        .filter(|account| account.name.starts_with(&prefix) || account.name == scenario)
        .collect()
}

/// Checks what every run that passed its preflight must show, whatever went wrong:
///
/// - each account appears once in the report and once in the report lines, with the same
///   outcome, and the last line is the summary, equal to the returned one;
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

    // The report lines: one per account with the same outcome, then the summary.
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
        assert!(
            lined.insert(id.clone(), outcome).is_none(),
            "account {id} has two report lines"
        );
    }
    let reported: BTreeMap<String, String> = report
        .accounts
        .iter()
        .map(|a| (a.account_id.to_string(), a.outcome.name().to_owned()))
        .collect();
    assert_eq!(
        lined, reported,
        "one report line per account, as in the report"
    );

    // The counts.
    let s = &report.summary;
    let count = |name: &str| reported.values().filter(|o| *o == name).count();
    assert_eq!(
        [
            s.accounts_clean,
            s.accounts_in_grace,
            s.accounts_due,
            s.accounts_remediated,
            s.accounts_retry_later,
            s.accounts_skipped,
            s.accounts_exempt,
            s.accounts_failed,
            s.accounts_not_reached,
        ],
        [
            count("clean"),
            count("in_grace"),
            count("due"),
            count("remediated"),
            count("retry_later"),
            count("skipped"),
            count("exempt"),
            count("failed"),
            count("not_reached"),
        ],
        "the summary counts the outcomes"
    );
    let scanned = report
        .accounts
        .iter()
        .filter(|a| a.outcome.was_scanned())
        .count();
    assert_eq!(s.accounts_scanned, scanned);
    for kind in CredentialKind::ALL {
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
                a.outcome,
                Outcome::Failed { .. }
                    | Outcome::NotReached { .. }
                    | Outcome::RetryLater { .. }
                    | Outcome::Due { .. }
            )
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
/// - an account whose credentials are gone says so: remediated (and then none of the
///   credentials it reports is left), or failed or retry-later with its actions listed;
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
        let name = account.outcome.name();
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
            let left = credentials_of(&after.account(&id).expect("still there").root_user);
            let reported: BTreeSet<CredentialRef> = account
                .credentials
                .iter()
                .map(|c| (c.kind, c.id.clone()))
                .collect();
            assert!(
                left.is_disjoint(&reported),
                "account {id} is reported remediated but still holds {:?}",
                left.intersection(&reported).collect::<Vec<_>>()
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

/// A `LambdaEvent` as the Lambda runtime hands it over, `seconds_left` before the deadline.
pub fn lambda_event(payload: Value, seconds_left: u64) -> lambda_runtime::LambdaEvent<Value> {
    let mut context = lambda_runtime::Context::default();
    context.request_id = "e2e-lambda-request".into();
    let deadline = std::time::SystemTime::now() + Duration::from_secs(seconds_left);
    context.deadline = deadline
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as u64;
    lambda_runtime::LambdaEvent::new(payload, context)
}

//! The emulator, started one way, and the SDK pointed at it with the production retry and
//! timeout policy (from the library), the engine wired as production wires it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use aws_config::SdkConfig;
use rootsweep::Config;
use rootsweep::app::{SdkEngine, sdk_engine};
use rootsweep::config::Mode;
use rootsweep::engine::RunOptions;
use rootsweep::event::RunRequest;
use rootsweep_emulator::{
    Account, CallRecord, EXEMPT_TAG, Emulator, EmulatorHandle, MetricDatum, Org, TaskPolicy,
    TemplatePolicy,
};

use crate::capture::{self, Run};

mod sdk;

pub use sdk::{
    CALLER_ACCESS_KEY_ID, CALLER_SECRET_ACCESS_KEY, SLOWER_THAN_ANY_TIMEOUT_MS, Timeouts,
};
use sdk::{next_region, sdk_config};

/// Small enough to keep a run quick, large enough for every scenario of the generated mix
/// (management, caller, and the 23 member scenarios).
pub const EVERY_SCENARIO: usize = 25;
/// Every scenario twice.
pub const EVERY_SCENARIO_TWICE: usize = 48;

/// A generated org reduced to one account of each kind: the management account, the caller,
/// and the first account of each of the member scenarios. Every credential state at the
/// lowest cost per run.
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
pub const GRACE_HOURS: i64 = 72;

/// The IAM calls that remove something, as the emulator logs them.
pub const DELETE_OPERATIONS: [&str; 5] = [
    "DeleteLoginProfile",
    "DeleteAccessKey",
    "DeleteSigningCertificate",
    "DeactivateMFADevice",
    "DeleteVirtualMFADevice",
];

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
    Config::from_pairs(variables.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .expect("a valid test configuration")
}

/// The deployment template's text, `infra/template.yaml`.
pub fn template() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../infra/template.yaml");
    std::fs::read_to_string(path).expect("infra/template.yaml")
}

/// The bucket the deployed stack's `StateBucket` (the run ledger) is, in the end-to-end tests:
/// CloudFormation would name it; the tests name it this, and make the emulator's bucket so.
pub const STATE_BUCKET: &str = "rootsweep-state";

/// The follow-up schedule group the template creates for the emulated stack (named after the
/// stack id's UUID).
pub fn follow_up_group() -> String {
    format!("rootsweep-follow-ups-{}", rootsweep_emulator::STACK_UUID)
}

/// The function role's policy as the template `text` deploys it: the tag exemption the
/// generated orgs use, the state bucket named [`STATE_BUCKET`], and `parameters` (`Mode`
/// first) over the template's defaults.
pub fn deployed_policy(text: &str, parameters: &[(&str, &str)]) -> TemplatePolicy {
    let policy = TemplatePolicy::parse(text)
        .expect("the template parses")
        .parameter("ExemptTagKey", EXEMPT_TAG.0)
        .parameter("ExemptTagValue", EXEMPT_TAG.1)
        .physical_id("StateBucket", STATE_BUCKET);
    parameters.iter().fold(policy, |policy, (name, value)| {
        policy.parameter(*name, *value)
    })
}

/// A running emulator, the org it started with, and an SDK configuration pointed at it.
pub struct Harness {
    pub emulator: EmulatorHandle,
    /// The org as it was when the emulator started.
    pub initial: Org,
    sdk: SdkConfig,
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
        Self::start_in(next_region(), org, timeouts, setup).await
    }

    /// Starts the emulator with the function role's `policy` enforced, as the stack deploys it
    /// in this harness's region (the ARNs of regional resources, schedules, name it).
    pub async fn start_deployed(
        org: Org,
        timeouts: Timeouts,
        policy: TemplatePolicy,
        setup: impl FnOnce(Emulator) -> Emulator,
    ) -> Self {
        let region = next_region();
        let policy = policy.parameter("AWS::Region", region.clone());
        Self::start_in(region, org, timeouts, |e| setup(e.caller_policy(policy))).await
    }

    async fn start_in(
        region: String,
        org: Org,
        timeouts: Timeouts,
        setup: impl FnOnce(Emulator) -> Emulator,
    ) -> Self {
        let emulator = setup(Emulator::new(org.clone()))
            .spawn()
            .await
            .expect("the emulator starts");
        let sdk = sdk_config(&emulator.url(), timeouts, region, emulator.held_calls()).await;
        Self {
            emulator,
            initial: org,
            sdk,
        }
    }

    /// The engine as the Lambda builds it, from this harness's SDK configuration.
    pub fn engine(&self, config: Config) -> SdkEngine {
        sdk_engine(config, &self.sdk, true)
    }

    /// The metric data CloudWatch received from the `since`-th on (0: all).
    pub fn metrics_since(&self, since: usize) -> Received {
        Received::of(&self.emulator.metrics()[since..])
    }

    pub fn sdk(&self) -> &SdkConfig {
        &self.sdk
    }

    /// A whole-organization run in `mode` over the org the emulator started with, exempting by
    /// tag, with `extra` settings: what most end-to-end tests run.
    pub async fn sweep(&self, mode: Mode, extra: &[(&str, &str)]) -> Run {
        let config = config(mode, Exemption::Tag, &self.initial, extra);
        self.run(config, &RunRequest::scheduled(mode)).await
    }

    /// One run without a deadline, its report lines captured.
    pub async fn run(&self, config: Config, request: &RunRequest) -> Run {
        self.run_with(&self.engine(config), request, capture::options())
            .await
    }

    /// One run of `engine` with `options`, its report lines captured.
    pub async fn run_with(
        &self,
        engine: &SdkEngine,
        request: &RunRequest,
        options: RunOptions,
    ) -> Run {
        capture::run(engine, request, options).await
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

/// The metric data CloudWatch received, each value under its name and its dimensions
/// (`Name=Value`, sorted), in the order received: a data point sent twice shows twice.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Received(BTreeMap<(String, Vec<String>), Vec<f64>>);

impl Received {
    pub fn of(data: &[MetricDatum]) -> Self {
        let mut received = BTreeMap::<_, Vec<f64>>::new();
        for datum in data {
            let mut dimensions: Vec<String> = datum
                .dimensions
                .iter()
                .map(|d| format!("{}={}", d.name, d.value))
                .collect();
            dimensions.sort();
            let key = (datum.metric_name.clone(), dimensions);
            received
                .entry(key)
                .or_default()
                .push(datum.value.expect("a value"));
        }
        Self(received)
    }

    /// Every value received for `name` with exactly `dimensions` (`["CredentialType=AccessKey"]`).
    pub fn values(&self, name: &str, dimensions: &[&str]) -> Vec<f64> {
        let key = (
            name.to_owned(),
            dimensions.iter().map(|d| (*d).to_owned()).collect(),
        );
        self.0.get(&key).cloned().unwrap_or_default()
    }

    /// The names (and dimensions) that were received more than once: none, for one run.
    pub fn repeated(&self) -> Vec<&(String, Vec<String>)> {
        self.0
            .iter()
            .filter(|(_, values)| values.len() > 1)
            .map(|(key, _)| key)
            .collect()
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

/// The root user of `account` as it is after a password recovery `hours` ago: every credential
/// it holds dated then, and signed in with then. With a 72 h grace and `hours` a little above
/// 72, the account has just become due.
pub fn recovered(account: &mut Account, hours: i64) {
    let at = chrono::Utc::now() - chrono::TimeDelta::hours(hours);
    let root = &mut account.root_user;
    root.password_last_used = Some(at);
    if let Some(profile) = &mut root.login_profile {
        profile.created = at;
    }
    for key in &mut root.access_keys {
        key.created = Some(at);
    }
    for cert in &mut root.signing_certificates {
        cert.uploaded = Some(at);
    }
    for device in &mut root.mfa_devices {
        device.enabled = at;
    }
}

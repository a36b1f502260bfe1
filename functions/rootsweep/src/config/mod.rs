//! Configuration: environment variables parsed once, at start, into types that cannot hold a bad value.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use crate::account::AccountId;
pub use features::{ArchiveLocation, FollowUpSettings, StateLocation};

mod features;

/// A configuration value that was rejected, with what would have been accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}={value:?} is not valid: {allowed}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub value: String,
    pub allowed: String,
}

/// Whether a run may delete anything. `Audit` is the lower mode: it only reads and reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Audit,
    Enforce,
}

impl Mode {
    pub const ALLOWED: &'static str = "use `audit` (read and report only) or `enforce` (delete credentials past their grace period)";

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Audit => "audit",
            Mode::Enforce => "enforce",
        }
    }
}

impl FromStr for Mode {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "audit" => Ok(Mode::Audit),
            "enforce" => Ok(Mode::Enforce),
            _ => Err(()),
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A duration accepted in human form (`72h`, `7d`, `1h 30m`) within inclusive bounds.
fn parse_bounded_duration(
    variable: &'static str,
    value: &str,
    (min, max): (Duration, Duration),
    bounds: &str,
) -> Result<Duration, ConfigError> {
    let allowed = format!("use a duration such as `72h`, `7d` or `90m`, {bounds}");
    let reject = || ConfigError {
        variable,
        value: value.to_owned(),
        allowed: allowed.clone(),
    };
    let duration = humantime::parse_duration(value.trim()).map_err(|_| reject())?;
    if duration < min || duration > max {
        return Err(reject());
    }
    Ok(duration)
}

/// How long root credentials may live after their last sign-in or creation, and how it was
/// written (`72h` is reported as `72h`, not as `3days`). Periods compare by their length.
#[derive(Debug, Clone)]
pub struct GracePeriod {
    length: Duration,
    written: String,
}

impl PartialEq for GracePeriod {
    fn eq(&self, other: &Self) -> bool {
        self.length == other.length
    }
}

impl Eq for GracePeriod {}

impl PartialOrd for GracePeriod {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for GracePeriod {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.length.cmp(&other.length)
    }
}

impl GracePeriod {
    pub const VARIABLE: &'static str = "ROOTSWEEP_GRACE_PERIOD";
    pub const DEFAULT: &'static str = "72h";
    // Below an hour is almost certainly a typo (`48m` for `48h`); a year is far beyond any
    // sane policy.
    const BOUNDS: (Duration, Duration) =
        (Duration::from_secs(3600), Duration::from_secs(365 * 86400));

    pub fn parse(value: &str) -> Result<Self, ConfigError> {
        let length =
            parse_bounded_duration(Self::VARIABLE, value, Self::BOUNDS, "from 1h to 365d")?;
        Ok(Self {
            length,
            written: value.trim().to_owned(),
        })
    }

    pub fn as_chrono(&self) -> chrono::TimeDelta {
        // Bounded by MAX above, so the conversion cannot overflow.
        chrono::TimeDelta::from_std(self.length).expect("grace period is bounded")
    }

    pub fn as_std(&self) -> Duration {
        self.length
    }

    /// Its length in whole seconds, for programs (`grace_period_seconds`).
    pub fn seconds(&self) -> u64 {
        self.length.as_secs()
    }
}

/// As it was written (trimmed), as the operator configured it.
impl fmt::Display for GracePeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.written)
    }
}

/// How long each `sts:AssumeRoot` session lasts. AWS allows at most 900 seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RootSessionDuration(Duration);

impl RootSessionDuration {
    pub const VARIABLE: &'static str = "ROOTSWEEP_ROOT_SESSION_DURATION";
    pub const DEFAULT: &'static str = "900s";
    // One call, paced by throttling, may take the whole operation timeout: a session must
    // outlast at least two such calls, or an account's work could outlive its session.
    const BOUNDS: (Duration, Duration) = (
        Duration::from_secs(2 * CallPolicy::OPERATION_TIMEOUT.as_secs()),
        Duration::from_secs(900),
    );

    pub fn parse(value: &str) -> Result<Self, ConfigError> {
        let bounds = format!(
            "from {}s (two calls at their {}s timeout) to 900s",
            Self::BOUNDS.0.as_secs(),
            CallPolicy::OPERATION_TIMEOUT.as_secs()
        );
        parse_bounded_duration(Self::VARIABLE, value, Self::BOUNDS, &bounds).map(Self)
    }

    pub fn as_std(self) -> Duration {
        self.0
    }

    pub fn seconds(self) -> i32 {
        // At most 900 by construction.
        self.0.as_secs() as i32
    }
}

/// How every AWS call is retried and bounded: the SDK's adaptive retry, with timeouts so that
/// a stuck connection cannot eat the Lambda's whole budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallPolicy;

impl CallPolicy {
    /// Attempts per call, the first included. Adaptive mode also slows the client down when AWS
    /// throttles, so a large organization degrades to a slower sweep rather than a failed one.
    pub const MAX_ATTEMPTS: u32 = 6;
    /// One attempt.
    pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
    /// One call with all its retries. Waiting for the adaptive rate limiter counts against
    /// this: when AWS throttles a caller-wide limit, every account's call is paced.
    pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(45);
}

/// An on/off setting: `true` or `false`.
fn parse_switch(variable: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.trim() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(ConfigError {
            variable,
            value: value.to_owned(),
            allowed: "use `true` or `false`".into(),
        }),
    }
}

/// A whole number from 1 to `max`.
fn parse_count(variable: &'static str, value: &str, max: usize) -> Result<usize, ConfigError> {
    match value.trim().parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(ConfigError {
            variable,
            value: value.to_owned(),
            allowed: format!("use a whole number from 1 to {max}"),
        }),
    }
}

/// How many accounts are processed at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Concurrency(usize);

impl Concurrency {
    pub const VARIABLE: &'static str = "ROOTSWEEP_CONCURRENCY";
    pub const DEFAULT: &'static str = "8";
    // AssumeRoot calls all count against the caller's account STS quota: more parallelism
    // than this only buys throttling.
    const MAX: usize = 64;

    pub fn parse(value: &str) -> Result<Self, ConfigError> {
        parse_count(Self::VARIABLE, value, Self::MAX).map(Self)
    }

    pub fn get(self) -> usize {
        self.0
    }
}

/// `sts:AssumeRoot` calls per second, at most. All of them count against the caller account's
/// STS quota (600 requests per second per account and region, shared with everything else that
/// calls STS there: "How to monitor and query IAM resources at scale, part 2", AWS Security Blog):
/// the default stays well under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssumeRootRate(usize);

impl AssumeRootRate {
    pub const VARIABLE: &'static str = "ROOTSWEEP_ASSUME_ROOT_RATE";
    pub const DEFAULT: &'static str = "50";
    const MAX: usize = 600;

    pub fn parse(value: &str) -> Result<Self, ConfigError> {
        parse_count(Self::VARIABLE, value, Self::MAX).map(Self)
    }

    pub fn get(self) -> usize {
        self.0
    }
}

/// At most this many accounts are remediated by one whole-organization run: if more are due,
/// something is off (a wrong grace period, a mass recovery) and a person should look first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxRemediations(usize);

impl MaxRemediations {
    pub const VARIABLE: &'static str = "ROOTSWEEP_MAX_REMEDIATIONS";
    pub const DEFAULT: &'static str = "25";
    const MAX: usize = 100_000;

    pub fn parse(value: &str) -> Result<Self, ConfigError> {
        parse_count(Self::VARIABLE, value, Self::MAX).map(Self)
    }

    pub fn get(self) -> usize {
        self.0
    }
}

/// Account ids that are never audited or touched (break-glass accounts, for example).
pub fn parse_account_list(
    variable: &'static str,
    value: &str,
) -> Result<BTreeSet<AccountId>, ConfigError> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse().map_err(|_| ConfigError {
                variable,
                value: value.to_owned(),
                allowed: format!(
                    "use comma-separated 12-digit account ids, for example 111111111111,222222222222 ({s:?} is not one)"
                ),
            })
        })
        .collect()
}

/// An organizational unit id (`ou-xxxx-yyyyyyyy`) or the organization root id (`r-xxxx`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OuId(String);

impl OuId {
    pub const VARIABLE: &'static str = "ROOTSWEEP_EXEMPT_OUS";

    fn is_valid(s: &str) -> bool {
        let lower_alnum = |part: &str, min: usize| {
            part.len() >= min
                && part.len() <= 32
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        };
        match s.split('-').collect::<Vec<_>>().as_slice() {
            ["ou", root, unit] => lower_alnum(root, 4) && lower_alnum(unit, 8),
            ["r", root] => lower_alnum(root, 4),
            _ => false,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A comma-separated list, as in `ROOTSWEEP_EXEMPT_OUS`.
    pub fn parse_list(value: &str) -> Result<BTreeSet<OuId>, ConfigError> {
        value
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                if Self::is_valid(s) {
                    Ok(OuId(s.to_owned()))
                } else {
                    Err(ConfigError {
                        variable: Self::VARIABLE,
                        value: value.to_owned(),
                        allowed: format!(
                            "use comma-separated organizational unit ids such as ou-ab12-cd34ef56, or a root id such as r-ab12 ({s:?} is not one)"
                        ),
                    })
                }
            })
            .collect()
    }
}

impl fmt::Display for OuId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Accounts carrying this tag are exempt; with no value, any value of the key exempts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagRule {
    pub key: String,
    pub value: Option<String>,
}

impl TagRule {
    pub const KEY_VARIABLE: &'static str = "ROOTSWEEP_EXEMPT_TAG_KEY";
    pub const VALUE_VARIABLE: &'static str = "ROOTSWEEP_EXEMPT_TAG_VALUE";

    pub fn parse(key: Option<String>, value: Option<String>) -> Result<Option<Self>, ConfigError> {
        // Every other setting is trimmed; a tag is compared exactly as written, so `true ` would
        // never match and the accounts it is meant to protect would be swept: refused instead.
        for (variable, text) in [(Self::KEY_VARIABLE, &key), (Self::VALUE_VARIABLE, &value)] {
            if let Some(text) = text.as_ref().filter(|t| t.trim() != t.as_str()) {
                return Err(ConfigError {
                    variable,
                    value: text.clone(),
                    allowed: "remove the spaces around it: a tag is matched exactly as written, and one with spaces around it would match no account".into(),
                });
            }
        }
        let key = key.filter(|k| !k.is_empty());
        let value = value.filter(|v| !v.is_empty());
        match (key, value) {
            (None, None) => Ok(None),
            (None, Some(value)) => Err(ConfigError {
                variable: Self::VALUE_VARIABLE,
                value,
                allowed: format!("set {} too: a tag value needs its key", Self::KEY_VARIABLE),
            }),
            // Organizations: keys of 1 to 128 characters, values of up to 256.
            (Some(key), _) if key.chars().count() > 128 => Err(ConfigError {
                variable: Self::KEY_VARIABLE,
                value: key,
                allowed: "use a tag key of 1 to 128 characters".into(),
            }),
            (Some(_), Some(value)) if value.chars().count() > 256 => Err(ConfigError {
                variable: Self::VALUE_VARIABLE,
                value,
                allowed: "use a tag value of at most 256 characters".into(),
            }),
            (Some(key), value) => Ok(Some(Self { key, value })),
        }
    }

    pub fn matches(&self, tags: &[(String, String)]) -> bool {
        tags.iter()
            .any(|(k, v)| *k == self.key && self.value.as_ref().is_none_or(|want| want == v))
    }
}

impl fmt::Display for TagRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(value) => write!(f, "{}={}", self.key, value),
            None => write!(f, "{} (any value)", self.key),
        }
    }
}

/// The CloudWatch namespace the run metrics go to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsNamespace(String);

impl MetricsNamespace {
    pub const VARIABLE: &'static str = "ROOTSWEEP_METRICS_NAMESPACE";
    pub const DEFAULT: &'static str = "Rootsweep";

    pub fn parse(value: &str) -> Result<Self, ConfigError> {
        // CloudWatch: 1-255 characters, no leading colon, and the AWS/ prefix is reserved.
        let valid_chars = value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-_/#: ".contains(c));
        if !value.is_empty()
            && value.len() <= 255
            && valid_chars
            && !value.starts_with(':')
            && !value.starts_with("AWS/")
        {
            Ok(Self(value.to_owned()))
        } else {
            Err(ConfigError {
                variable: Self::VARIABLE,
                value: value.to_owned(),
                allowed:
                    "use 1 to 255 letters, digits or . - _ / # : (not starting with `AWS/` or `:`)"
                        .into(),
            })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Everything a run needs to know, parsed once.
#[derive(Debug, Clone)]
pub struct Config {
    pub grace: GracePeriod,
    pub mode: Mode,
    pub concurrency: Concurrency,
    pub exempt_accounts: BTreeSet<AccountId>,
    /// Every account under these, nested units included, is exempt.
    pub exempt_ous: BTreeSet<OuId>,
    pub exempt_tag: Option<TagRule>,
    pub metrics_namespace: MetricsNamespace,
    pub root_session_duration: RootSessionDuration,
    pub max_remediations: MaxRemediations,
    pub assume_root_rate: AssumeRootRate,
    /// Whether the delete task policy in use allows `iam:DeleteVirtualMFADevice`. AWS's own
    /// copies of the policy disagree (later ones do not allow it), and a refused call is logged
    /// as an AccessDenied by root in the member account, which trips the usual alarms.
    pub delete_virtual_mfa_devices: bool,
    /// Follow-ups after password recoveries, retry-later and (optionally) in-grace accounts.
    pub follow_ups: Option<FollowUpSettings>,
    /// Where each run's report is archived.
    pub archive: Option<ArchiveLocation>,
    /// Whether findings go to Security Hub.
    pub security_hub: bool,
    /// Where the run ledger lives; without it each run decides from what it sees alone.
    pub state: Option<StateLocation>,
}

impl Config {
    pub const MODE_VARIABLE: &'static str = "ROOTSWEEP_MODE";
    pub const EXEMPT_VARIABLE: &'static str = "ROOTSWEEP_EXEMPT_ACCOUNTS";
    pub const DELETE_VIRTUAL_MFA_VARIABLE: &'static str = "ROOTSWEEP_DELETE_VIRTUAL_MFA_DEVICES";
    pub const SECURITY_HUB_VARIABLE: &'static str = "ROOTSWEEP_SECURITY_HUB";

    /// Configuration from `(variable, value)` pairs, the rest at their defaults.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, ConfigError> {
        let pairs: Vec<(&str, &str)> = pairs.into_iter().collect();
        Self::from_lookup(|name| {
            pairs
                .iter()
                .rev()
                .find(|(variable, _)| *variable == name)
                .map(|(_, value)| (*value).to_owned())
        })
    }

    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup` (the environment, or a map in tests and the CLI).
    /// Unset variables take their documented defaults.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str, default: &str| lookup(name).unwrap_or_else(|| default.to_owned());
        let mode_value = get(Self::MODE_VARIABLE, "audit");
        let mode = mode_value.trim().parse().map_err(|()| ConfigError {
            variable: Self::MODE_VARIABLE,
            value: mode_value.clone(),
            allowed: Mode::ALLOWED.into(),
        })?;
        Ok(Self {
            grace: GracePeriod::parse(&get(GracePeriod::VARIABLE, GracePeriod::DEFAULT))?,
            mode,
            concurrency: Concurrency::parse(&get(Concurrency::VARIABLE, Concurrency::DEFAULT))?,
            exempt_accounts: parse_account_list(
                Self::EXEMPT_VARIABLE,
                &get(Self::EXEMPT_VARIABLE, ""),
            )?,
            exempt_ous: OuId::parse_list(&get(OuId::VARIABLE, ""))?,
            exempt_tag: TagRule::parse(
                lookup(TagRule::KEY_VARIABLE),
                lookup(TagRule::VALUE_VARIABLE),
            )?,
            metrics_namespace: MetricsNamespace::parse(&get(
                MetricsNamespace::VARIABLE,
                MetricsNamespace::DEFAULT,
            ))?,
            root_session_duration: RootSessionDuration::parse(&get(
                RootSessionDuration::VARIABLE,
                RootSessionDuration::DEFAULT,
            ))?,
            max_remediations: MaxRemediations::parse(&get(
                MaxRemediations::VARIABLE,
                MaxRemediations::DEFAULT,
            ))?,
            assume_root_rate: AssumeRootRate::parse(&get(
                AssumeRootRate::VARIABLE,
                AssumeRootRate::DEFAULT,
            ))?,
            delete_virtual_mfa_devices: parse_switch(
                Self::DELETE_VIRTUAL_MFA_VARIABLE,
                &get(Self::DELETE_VIRTUAL_MFA_VARIABLE, "false"),
            )?,
            follow_ups: FollowUpSettings::parse(
                lookup(FollowUpSettings::GROUP_VARIABLE),
                lookup(FollowUpSettings::ROLE_VARIABLE),
                lookup(FollowUpSettings::IN_GRACE_VARIABLE),
                lookup(FollowUpSettings::DEAD_LETTER_VARIABLE),
            )?,
            state: lookup(StateLocation::VARIABLE)
                .filter(|value| !value.is_empty())
                .map(|value| StateLocation::parse(&value))
                .transpose()?,
            archive: lookup(ArchiveLocation::VARIABLE)
                .filter(|value| !value.is_empty())
                .map(|value| ArchiveLocation::parse(ArchiveLocation::VARIABLE, &value))
                .transpose()?,
            security_hub: parse_switch(
                Self::SECURITY_HUB_VARIABLE,
                &get(Self::SECURITY_HUB_VARIABLE, "false"),
            )?,
        })
    }
}

/// Every setting at its documented default: a safe audit.
impl Default for Config {
    fn default() -> Self {
        Self::from_lookup(|_| None).expect("the documented defaults are valid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_pairs(vars.iter().copied())
    }

    #[test]
    fn defaults_are_a_safe_audit_with_a_three_day_grace() {
        let c = Config::default();
        assert_eq!(c.mode, Mode::Audit);
        assert_eq!(c.grace.as_std(), Duration::from_secs(72 * 3600));
        assert_eq!(c.concurrency.get(), 8);
        assert!(c.exempt_accounts.is_empty());
        assert_eq!(c.metrics_namespace.as_str(), "Rootsweep");
        assert_eq!(c.root_session_duration.seconds(), 900);
        assert_eq!(c.max_remediations.get(), 25);
        assert!(!c.delete_virtual_mfa_devices);
        assert_eq!(c.assume_root_rate.get(), 50);
    }

    #[test]
    fn the_grace_period_is_reported_as_written_and_in_seconds() {
        for (written, shown, seconds) in [
            ("72h", "72h", 259_200),
            (" 7d ", "7d", 604_800),
            ("1h 30m", "1h 30m", 5_400),
            ("3days", "3days", 259_200),
        ] {
            let grace = config(&[("ROOTSWEEP_GRACE_PERIOD", written)])
                .unwrap()
                .grace;
            assert_eq!(
                (grace.to_string(), grace.seconds()),
                (shown.to_owned(), seconds)
            );
        }
        let default = Config::default().grace;
        assert_eq!(
            (default.to_string(), default.seconds()),
            ("72h".to_owned(), 259_200)
        );
    }

    #[test]
    fn human_durations_are_accepted() {
        let c = config(&[
            ("ROOTSWEEP_GRACE_PERIOD", "7d"),
            ("ROOTSWEEP_ROOT_SESSION_DURATION", "5m"),
        ])
        .unwrap();
        assert_eq!(c.grace.as_std(), Duration::from_secs(7 * 24 * 3600));
        assert_eq!(c.root_session_duration.seconds(), 300);
        assert_eq!(
            config(&[("ROOTSWEEP_GRACE_PERIOD", "1h 30m")])
                .unwrap()
                .grace
                .as_std(),
            Duration::from_secs(5400)
        );
    }

    #[test]
    fn exempt_accounts_are_a_trimmed_comma_separated_list() {
        let c = config(&[("ROOTSWEEP_EXEMPT_ACCOUNTS", " 111111111111, 222222222222 ,")]).unwrap();
        let ids: Vec<&str> = c.exempt_accounts.iter().map(AccountId::as_str).collect();
        assert_eq!(ids, ["111111111111", "222222222222"]);
    }

    #[test]
    fn each_bad_value_names_the_variable_the_value_and_what_is_allowed() {
        let cases = [
            ("ROOTSWEEP_MODE", "enforced", "`audit`"),
            ("ROOTSWEEP_MODE", "", "`enforce`"),
            ("ROOTSWEEP_GRACE_PERIOD", "72", "`72h`"),
            ("ROOTSWEEP_GRACE_PERIOD", "0h", "from 1h"),
            // Minutes where hours were meant: below the minimum.
            ("ROOTSWEEP_GRACE_PERIOD", "48m", "from 1h"),
            ("ROOTSWEEP_GRACE_PERIOD", "-3d", "duration"),
            ("ROOTSWEEP_GRACE_PERIOD", "400d", "to 365d"),
            ("ROOTSWEEP_CONCURRENCY", "0", "1 to 64"),
            ("ROOTSWEEP_CONCURRENCY", "65", "1 to 64"),
            ("ROOTSWEEP_CONCURRENCY", "eight", "1 to 64"),
            ("ROOTSWEEP_EXEMPT_ACCOUNTS", "12345", "12-digit"),
            ("ROOTSWEEP_METRICS_NAMESPACE", "AWS/Lambda", "AWS/"),
            ("ROOTSWEEP_METRICS_NAMESPACE", "", "1 to 255"),
            ("ROOTSWEEP_ROOT_SESSION_DURATION", "901s", "to 900s"),
            ("ROOTSWEEP_ROOT_SESSION_DURATION", "1h", "to 900s"),
            // Shorter than two paced calls.
            ("ROOTSWEEP_ROOT_SESSION_DURATION", "60s", "from 90s"),
            ("ROOTSWEEP_MAX_REMEDIATIONS", "0", "1 to 100000"),
            ("ROOTSWEEP_EXEMPT_OUS", "ou-1", "ou-ab12-cd34ef56"),
            (
                "ROOTSWEEP_EXEMPT_OUS",
                "r-ab12,OU-AB12-CD34EF56",
                "\"OU-AB12-CD34EF56\" is not one",
            ),
            (
                "ROOTSWEEP_EXEMPT_TAG_VALUE",
                "true",
                "ROOTSWEEP_EXEMPT_TAG_KEY too",
            ),
            ("ROOTSWEEP_MAX_REMEDIATIONS", "all", "1 to 100000"),
            (
                "ROOTSWEEP_DELETE_VIRTUAL_MFA_DEVICES",
                "yes",
                "`true` or `false`",
            ),
        ];
        for (variable, value, hint) in cases {
            let err = config(&[(variable, value)]).unwrap_err();
            assert_eq!(err.variable, variable);
            assert_eq!(err.value, value);
            let message = err.to_string();
            assert!(
                message.starts_with(&format!("{variable}={value:?} is not valid")),
                "{message}"
            );
            assert!(
                message.contains(hint),
                "{message:?} should mention {hint:?}"
            );
        }
    }

    #[test]
    fn exemptions_by_unit_and_by_tag() {
        let c = config(&[
            ("ROOTSWEEP_EXEMPT_OUS", "ou-ab12-cd34ef56, r-ab12"),
            ("ROOTSWEEP_EXEMPT_TAG_KEY", "rootsweep:exempt"),
            ("ROOTSWEEP_EXEMPT_TAG_VALUE", "true"),
        ])
        .unwrap();
        assert_eq!(c.exempt_ous.len(), 2);
        let rule = c.exempt_tag.unwrap();
        let tag = |k: &str, v: &str| vec![(k.to_owned(), v.to_owned())];
        assert!(rule.matches(&tag("rootsweep:exempt", "true")));
        assert!(!rule.matches(&tag("rootsweep:exempt", "false")));
        assert!(!rule.matches(&tag("team", "true")));
        let any_value = TagRule::parse(Some("break-glass".into()), None)
            .unwrap()
            .unwrap();
        assert!(any_value.matches(&tag("break-glass", "")));
        assert!(Config::default().exempt_tag.is_none());
    }

    #[test]
    fn an_exempt_tag_with_spaces_around_it_is_refused_saying_so() {
        for (variable, key, value) in [
            (TagRule::VALUE_VARIABLE, "rootsweep:exempt", "true "),
            (TagRule::VALUE_VARIABLE, "rootsweep:exempt", " true"),
            (TagRule::KEY_VARIABLE, "rootsweep:exempt ", "true"),
            (TagRule::KEY_VARIABLE, " ", "true"),
        ] {
            let err = config(&[
                (TagRule::KEY_VARIABLE, key),
                (TagRule::VALUE_VARIABLE, value),
            ])
            .unwrap_err();
            assert_eq!(err.variable, variable);
            let message = err.to_string();
            assert!(message.contains("remove the spaces around it"), "{message}");
        }
        // Spaces inside a tag are the tag's own.
        let rule = config(&[
            (TagRule::KEY_VARIABLE, "break glass"),
            (TagRule::VALUE_VARIABLE, "on call"),
        ])
        .unwrap()
        .exempt_tag
        .unwrap();
        assert!(rule.matches(&[("break glass".into(), "on call".into())]));
    }

    #[test]
    fn audit_is_the_lower_mode() {
        assert!(Mode::Audit < Mode::Enforce);
    }

    use proptest::prelude::*;

    const VARIABLES: [&str; 19] = [
        "ROOTSWEEP_STATE",
        "ROOTSWEEP_FOLLOW_UP_GROUP",
        "ROOTSWEEP_FOLLOW_UP_ROLE_ARN",
        "ROOTSWEEP_FOLLOW_UP_IN_GRACE",
        "ROOTSWEEP_FOLLOW_UP_DEAD_LETTER_ARN",
        "ROOTSWEEP_ARCHIVE",
        "ROOTSWEEP_SECURITY_HUB",
        "ROOTSWEEP_ASSUME_ROOT_RATE",
        "ROOTSWEEP_MODE",
        "ROOTSWEEP_GRACE_PERIOD",
        "ROOTSWEEP_CONCURRENCY",
        "ROOTSWEEP_EXEMPT_ACCOUNTS",
        "ROOTSWEEP_EXEMPT_OUS",
        "ROOTSWEEP_EXEMPT_TAG_KEY",
        "ROOTSWEEP_EXEMPT_TAG_VALUE",
        "ROOTSWEEP_METRICS_NAMESPACE",
        "ROOTSWEEP_ROOT_SESSION_DURATION",
        "ROOTSWEEP_MAX_REMEDIATIONS",
        "ROOTSWEEP_DELETE_VIRTUAL_MFA_DEVICES",
    ];

    proptest! {
        #[test]
        fn any_value_is_accepted_or_rejected_with_its_variable_and_what_is_allowed(
            which in 0..VARIABLES.len(),
            value in prop_oneof!["\\PC{0,40}", "[0-9]{1,6}[smhd]?", "[0-9]{12}(,[0-9]{10,13}){0,2}"],
        ) {
            let variable = VARIABLES[which];
            if let Err(err) = config(&[(variable, value.as_str())]) {
                prop_assert!(err.variable == variable, "{err}");
                prop_assert!(!err.allowed.is_empty());
                prop_assert!(err.to_string().starts_with(&format!("{variable}=")), "{err}");
            }
        }

        /// The accepting side: a grace period is accepted exactly within its bounds, and what
        /// is accepted is the duration that was written. Half the cases are drawn around the
        /// bounds (1 h and 365 d, in each unit that can write them).
        #[test]
        fn a_grace_period_is_accepted_exactly_from_one_hour_to_a_year(
            (amount, unit) in prop_oneof![
                (0u64..20_000, prop::sample::select(vec![("s", 1u64), ("m", 60), ("h", 3600), ("d", 86400)])),
                prop::sample::select(vec![
                    (3_599, ("s", 1)), (3_600, ("s", 1)), (59, ("m", 60)), (60, ("m", 60)), (1, ("h", 3600)),
                    (8_760, ("h", 3600)), (8_761, ("h", 3600)), (365, ("d", 86400)), (366, ("d", 86400)),
                    (31_535_999, ("s", 1)), (31_536_000, ("s", 1)), (31_536_001, ("s", 1)), (0, ("h", 3600)),
                ]),
            ]
        ) {
            let seconds = amount * unit.1;
            let parsed = config(&[("ROOTSWEEP_GRACE_PERIOD", &format!("{amount}{}", unit.0))]);
            let within = (3600..=365 * 86400).contains(&seconds);
            prop_assert_eq!(parsed.is_ok(), within, "{}{} = {}s", amount, unit.0, seconds);
            if let Ok(c) = parsed {
                prop_assert_eq!(c.grace.as_std(), Duration::from_secs(seconds));
            }
        }

        /// The README's ranges, as literals; half the cases a step from one of their ends.
        #[test]
        fn concurrency_rate_and_cap_accept_exactly_their_ranges(
            n in prop_oneof![
                0usize..200_000,
                prop::sample::select(vec![1usize, 64, 600, 100_000]).prop_flat_map(|end| end - 1..=end + 1),
            ]
        ) {
            let concurrency = config(&[("ROOTSWEEP_CONCURRENCY", &n.to_string())]);
            prop_assert_eq!(concurrency.map(|c| c.concurrency.get()).ok(), (1..=64).contains(&n).then_some(n));
            let rate = config(&[("ROOTSWEEP_ASSUME_ROOT_RATE", &n.to_string())]);
            prop_assert_eq!(rate.map(|c| c.assume_root_rate.get()).ok(), (1..=600).contains(&n).then_some(n));
            let cap = config(&[("ROOTSWEEP_MAX_REMEDIATIONS", &n.to_string())]);
            prop_assert_eq!(cap.map(|c| c.max_remediations.get()).ok(), (1..=100_000).contains(&n).then_some(n));
        }
    }
}

//! The settings that are single values: the mode, durations, counts, switches, the metrics
//! namespace. Each type holds only what its variable accepts.

use std::fmt;
use std::time::Duration;

use super::ConfigError;
use crate::names::named_enum;

named_enum! {
    /// Whether a run may delete anything. `Audit` is the lower mode: it only reads and reports.
    pub enum Mode {
        Audit => "audit",
        Enforce => "enforce",
    }
}

impl Mode {
    pub const ALLOWED: &'static str = "use `audit` (read and report only) or `enforce` (delete credentials past their grace period)";
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

/// An on/off setting: `true` or `false`.
pub(super) fn parse_switch(variable: &'static str, value: &str) -> Result<bool, ConfigError> {
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

/// A setting that is a whole number from 1 to `max`, read from `variable`.
macro_rules! bounded_count {
    ($(#[$doc:meta])* $name:ident: $variable:literal, default $default:literal, max $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name(usize);

        impl $name {
            pub const VARIABLE: &'static str = $variable;
            pub const DEFAULT: &'static str = $default;
            const MAX: usize = $max;

            pub fn parse(value: &str) -> Result<Self, ConfigError> {
                parse_count(Self::VARIABLE, value, Self::MAX).map(Self)
            }

            pub fn get(self) -> usize {
                self.0
            }
        }
    };
}

bounded_count! {
    /// How many accounts are processed at once. AssumeRoot calls all count against the caller
    /// account's STS quota: more parallelism than 64 only buys throttling.
    Concurrency: "ROOTSWEEP_CONCURRENCY", default "8", max 64
}

bounded_count! {
    /// `sts:AssumeRoot` calls per second, at most. All of them count against the caller
    /// account's STS quota (600 requests per second per account and region, shared with
    /// everything else that calls STS there: "How to monitor and query IAM resources at scale,
    /// part 2", AWS Security Blog): the default stays well under it.
    AssumeRootRate: "ROOTSWEEP_ASSUME_ROOT_RATE", default "50", max 600
}

bounded_count! {
    /// At most this many accounts are remediated in any 24 hours (by one run, without a run
    /// ledger): if more are due, something is off (a wrong grace period, a mass recovery) and a
    /// person should look first.
    MaxRemediations: "ROOTSWEEP_MAX_REMEDIATIONS", default "25", max 100_000
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

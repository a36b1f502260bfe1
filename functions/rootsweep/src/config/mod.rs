//! Configuration: environment variables parsed once, at start, into types that cannot hold a bad value.

use std::collections::BTreeSet;

pub use crate::account::AccountId;
pub use exemptions::{OuId, TagRule, parse_account_list};
pub use features::{ArchiveLocation, FollowUpSettings, StateLocation};
use values::parse_switch;
pub use values::{
    AssumeRootRate, CallPolicy, Concurrency, GracePeriod, MaxRemediations, MetricsNamespace, Mode,
    RootSessionDuration,
};

mod exemptions;
mod features;
mod values;

/// A configuration value that was rejected, with what would have been accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}={value:?} is not valid: {allowed}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub value: String,
    pub allowed: String,
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
        let mode = mode_value.trim().parse().map_err(|_| ConfigError {
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
mod tests;

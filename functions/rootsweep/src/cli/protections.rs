//! Which protections an operator's run applies: the deployed function's, read from Lambda
//! (`--function`), or, on purpose, this shell's (`--without-deployment`). Flags only add to
//! them: more exempt accounts or units, a longer grace period; a sweep for a deployment that
//! runs in audit mode, or with a shorter grace period, is refused. The one setting a flag may
//! loosen is the cap, on purpose and printed, as the cap's hold message asks.

use std::io::Write;

use clap::Args;

use crate::config::{
    AccountId, ArchiveLocation, Concurrency, Config, ConfigError, GracePeriod, MaxRemediations,
    Mode, OuId, TagRule,
};
use crate::ports::{AwsError, DeployedFunction};

/// Where the protections come from.
#[derive(Debug, Args)]
pub struct DeploymentArgs {
    /// The deployed rootsweep function this run acts for (a name or an ARN): its exemptions,
    /// grace period, cap, mode and run ledger apply, whatever this shell's ROOTSWEEP_*
    /// variables say. Required by `sweep` unless --without-deployment.
    #[arg(long, env = "ROOTSWEEP_FUNCTION", value_name = "NAME")]
    pub function: Option<String>,
    /// Take the protections from this shell's ROOTSWEEP_* variables instead, on purpose: for an
    /// organization without a deployment, or a function that cannot be read.
    #[arg(long)]
    pub without_deployment: bool,
}

/// The flags that add to (or, for the cap and concurrency, set) the protections.
#[derive(Debug, Default, Args)]
pub struct ProtectionFlags {
    /// Grace period, such as 72h or 7d [env: ROOTSWEEP_GRACE_PERIOD, default 72h]; a sweep for
    /// a deployment may wait longer than it does, never less.
    #[arg(long, value_name = "DURATION")]
    pub grace: Option<String>,
    /// Accounts processed at once, 1 to 64 [env: ROOTSWEEP_CONCURRENCY, default 8].
    #[arg(long, value_name = "N")]
    pub concurrency: Option<String>,
    /// More account ids never audited or touched, added to ROOTSWEEP_EXEMPT_ACCOUNTS.
    #[arg(long, value_name = "IDS")]
    pub exempt: Option<String>,
    /// More organizational units (or the root) whose accounts are exempt, nested units
    /// included, added to ROOTSWEEP_EXEMPT_OUS.
    #[arg(long, value_name = "OU_IDS")]
    pub exempt_ous: Option<String>,
    /// Accounts carrying this tag are exempt (any value when no `=VALUE`) [env:
    /// ROOTSWEEP_EXEMPT_TAG_KEY, ROOTSWEEP_EXEMPT_TAG_VALUE]; only one tag rule applies.
    #[arg(long, value_name = "KEY[=VALUE]")]
    pub exempt_tag: Option<String>,
    /// The most accounts remediated in any 24 hours (in one run without a run ledger); above
    /// it nothing is deleted [env: ROOTSWEEP_MAX_REMEDIATIONS, default 25].
    #[arg(long, value_name = "N")]
    pub max_remediations: Option<String>,
    /// Also archive the run's report, as the function does [env: ROOTSWEEP_ARCHIVE].
    #[arg(long, value_name = "s3://BUCKET/PREFIX")]
    pub archive: Option<String>,
}

/// Where a run's settings came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The environment of this deployed function.
    Deployed { arn: String },
    /// This shell's `ROOTSWEEP_*` variables.
    Shell,
}

/// The settings a run applies, and what the operator should know about them.
#[derive(Debug)]
pub struct Protections {
    pub config: Config,
    pub origin: Origin,
    /// The deployed cap, when `--max-remediations` raised it.
    pub raised_cap_from: Option<usize>,
    /// `ROOTSWEEP_*` variables of this shell that a deployment's settings replaced.
    pub ignored: Vec<String>,
}

/// Why a run's protections could not be settled. Nothing has been deleted.
#[derive(Debug, thiserror::Error)]
pub enum ProtectionsError {
    #[error(transparent)]
    Flag(#[from] ConfigError),
    #[error(
        "a sweep applies the protections of the deployment it acts for: pass --function NAME (or set ROOTSWEEP_FUNCTION) to apply the deployed function's exemptions, grace period and cap, or --without-deployment to sweep with this shell's ROOTSWEEP_* settings on purpose. Nothing was deleted."
    )]
    NoDeployment,
    #[error(
        "could not read the deployed function {function} ({source}). Nothing was deleted: check the name, the region and that you may call lambda:GetFunctionConfiguration on it, or pass --without-deployment to proceed with this shell's ROOTSWEEP_* settings on purpose."
    )]
    Unreadable { function: String, source: AwsError },
    #[error(
        "the deployed function {arn} has a setting rootsweep does not accept ({source}): fix its deployment. Nothing was deleted."
    )]
    DeployedInvalid { arn: String, source: ConfigError },
    #[error(
        "the deployed function {arn} runs in audit mode (ROOTSWEEP_MODE): it deletes nothing, and neither does a sweep for it. Run `rootsweep audit`, or deploy it with Mode=enforce. Nothing was deleted."
    )]
    AuditOnly { arn: String },
}

impl ProtectionsError {
    /// Whether the operator's command line is at fault (exit 2) rather than the deployment.
    pub fn is_usage(&self) -> bool {
        matches!(self, Self::Flag(_) | Self::NoDeployment)
    }
}

impl DeploymentArgs {
    /// The function to read, if any; a sweep must name one unless told not to. Settled before
    /// any AWS call.
    pub fn wanted(&self, mode: Mode) -> Result<Option<&str>, ProtectionsError> {
        match (&self.function, self.without_deployment, mode) {
            (_, true, _) => Ok(None),
            (Some(function), false, _) => Ok(Some(function)),
            (None, false, Mode::Audit) => Ok(None),
            (None, false, Mode::Enforce) => Err(ProtectionsError::NoDeployment),
        }
    }

    /// The region of a function given by its ARN (`arn:PARTITION:lambda:REGION:...`).
    pub fn region(&self) -> Option<&str> {
        let arn = self.function.as_deref()?.strip_prefix("arn:")?;
        arn.split(':').nth(2).filter(|region| !region.is_empty())
    }
}

/// The protections of a run in `mode`: the deployed function's settings (or, without one, this
/// shell's), with the flags on top.
pub fn settle(
    flags: &ProtectionFlags,
    mode: Mode,
    deployed: Option<DeployedFunction>,
) -> Result<Protections, ProtectionsError> {
    let Some(deployed) = deployed else {
        let config = merge(flags, mode, &|name| std::env::var(name).ok())?;
        return Ok(Protections {
            config,
            origin: Origin::Shell,
            raised_cap_from: None,
            ignored: Vec::new(),
        });
    };
    let arn = deployed.arn;
    let base = |name: &str| deployed.variables.get(name).cloned();
    let own = Config::from_lookup(base).map_err(|source| ProtectionsError::DeployedInvalid {
        arn: arn.clone(),
        source,
    })?;
    if mode == Mode::Enforce && own.mode == Mode::Audit {
        return Err(ProtectionsError::AuditOnly { arn });
    }
    let config = merge(flags, mode, &base)?;
    if mode == Mode::Enforce && config.grace < own.grace {
        return Err(refused(
            "--grace",
            &config.grace.to_string(),
            format!(
                "the deployed function waits {} before deleting: a sweep for it may wait longer, never less",
                own.grace
            ),
        ));
    }
    if let (Some(archive), Some(deployed_archive)) = (&flags.archive, &own.archive)
        && config.archive.as_ref() != Some(deployed_archive)
    {
        return Err(refused(
            "--archive",
            archive,
            format!(
                "the deployed function archives its runs to {deployed_archive}: runs for it are archived there (pass that, or nothing)"
            ),
        ));
    }
    let raised = config.max_remediations.get() > own.max_remediations.get();
    Ok(Protections {
        raised_cap_from: raised.then(|| own.max_remediations.get()),
        ignored: shell_variables(),
        config,
        origin: Origin::Deployed { arn },
    })
}

/// The flags' own values, checked before any AWS call (against no base: whether they restate
/// or break a deployed rule is only known once it is read).
pub fn check(flags: &ProtectionFlags, mode: Mode) -> Result<(), ProtectionsError> {
    merge(flags, mode, &|_| None)?;
    Ok(())
}

fn refused(flag: &'static str, value: &str, allowed: String) -> ProtectionsError {
    ProtectionsError::Flag(ConfigError {
        variable: flag,
        value: value.to_owned(),
        allowed,
    })
}

/// This shell's `ROOTSWEEP_*` settings, which a deployment's replace (`ROOTSWEEP_FUNCTION`
/// names the deployment: it is not one of them).
fn shell_variables() -> Vec<String> {
    let mut names: Vec<String> = std::env::vars_os()
        .filter_map(|(name, _)| name.into_string().ok())
        .filter(|name| name.starts_with("ROOTSWEEP_") && name != "ROOTSWEEP_FUNCTION")
        .collect();
    names.sort();
    names
}

/// How a flag combines with its variable.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Combine {
    /// The flag's value instead of the variable's.
    Replace,
    /// Both: a list flag adds to the list the variable holds, so that the flags can only
    /// protect more accounts than the base does, never fewer.
    Append,
}

/// The same configuration rules as the Lambda's, over `base` (the deployed or this shell's
/// variables): each flag stands in for (or adds to) the variable it names, and an error names
/// the flag.
fn merge(
    flags: &ProtectionFlags,
    mode: Mode,
    base: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    refuse_tag_swap(flags.exempt_tag.as_deref(), base)?;
    let (tag_key, tag_value) = match flags
        .exempt_tag
        .as_deref()
        .map(|t| t.split_once('=').unwrap_or((t, "")))
    {
        Some((key, value)) => (Some(key.to_owned()), Some(value.to_owned())),
        None => (None, None),
    };
    use Combine::{Append, Replace};
    let flags: [(&str, &'static str, Option<String>, Combine); 8] = [
        (
            ArchiveLocation::VARIABLE,
            "--archive",
            flags.archive.clone(),
            Replace,
        ),
        (
            GracePeriod::VARIABLE,
            "--grace",
            flags.grace.clone(),
            Replace,
        ),
        (
            Concurrency::VARIABLE,
            "--concurrency",
            flags.concurrency.clone(),
            Replace,
        ),
        (
            Config::EXEMPT_VARIABLE,
            "--exempt",
            flags.exempt.clone(),
            Append,
        ),
        (
            OuId::VARIABLE,
            "--exempt-ous",
            flags.exempt_ous.clone(),
            Append,
        ),
        (TagRule::KEY_VARIABLE, "--exempt-tag", tag_key, Replace),
        (TagRule::VALUE_VARIABLE, "--exempt-tag", tag_value, Replace),
        (
            MaxRemediations::VARIABLE,
            "--max-remediations",
            flags.max_remediations.clone(),
            Replace,
        ),
    ];
    Config::from_lookup(|name| {
        if name == Config::MODE_VARIABLE {
            return Some(mode.to_string());
        }
        let base = base(name);
        match flags.iter().find(|(variable, ..)| *variable == name) {
            Some((_, _, Some(flag), Replace)) => Some(flag.clone()),
            Some((_, _, Some(flag), Append)) => {
                Some(base.map_or_else(|| flag.clone(), |base| format!("{base},{flag}")))
            }
            _ => base,
        }
    })
    .map_err(|mut err| {
        if let Some((_, flag, Some(_), _)) = flags.iter().find(|(v, ..)| *v == err.variable) {
            err.variable = flag;
        }
        err
    })
}

/// Only one exempt tag rule exists: a flag may restate the base's, never replace it, or the
/// CLI would be a way around the deployed protection.
fn refuse_tag_swap(
    flag: Option<&str>,
    base: &dyn Fn(&str) -> Option<String>,
) -> Result<(), ConfigError> {
    let (Some(flag), Some(key)) = (flag, base(TagRule::KEY_VARIABLE)) else {
        return Ok(());
    };
    let rule = match base(TagRule::VALUE_VARIABLE) {
        Some(value) if !value.is_empty() => format!("{key}={value}"),
        _ => key,
    };
    if flag == rule {
        return Ok(());
    }
    Err(ConfigError {
        variable: "--exempt-tag",
        value: flag.to_owned(),
        allowed: format!(
            "accounts tagged {rule} are already exempt ({}), and only one tag rule applies: pass that same tag, or none",
            TagRule::KEY_VARIABLE
        ),
    })
}

/// The protections in force, on stderr; `spent`, the remediations the run ledger counts in
/// the last 24 hours, once the plan has read it.
pub fn show(protections: &Protections, spent: Option<usize>, out: &mut impl Write) {
    let config = &protections.config;
    let list = |items: Vec<&str>| {
        if items.is_empty() {
            "none".to_owned()
        } else {
            items.join(", ")
        }
    };
    let from = match &protections.origin {
        Origin::Deployed { arn } => format!("from {arn}"),
        Origin::Shell => "from this shell's ROOTSWEEP_* variables and the flags".to_owned(),
    };
    let limit = config.max_remediations.get();
    let mut cap = match (&config.state, spent) {
        (Some(at), Some(spent)) => format!(
            "{limit} accounts in any 24 hours ({spent} remediated in the last 24 hours, by the run ledger at {at})"
        ),
        (Some(at), None) => format!("{limit} accounts in any 24 hours (by the run ledger at {at})"),
        (None, _) => format!(
            "{limit} accounts in this run ({})",
            crate::ledger::STATELESS
        ),
    };
    if let Some(deployed) = protections.raised_cap_from {
        cap.push_str(&format!(
            "; raised by --max-remediations from the deployed {deployed}, for this run only"
        ));
    }
    let _ = writeln!(
        out,
        "Protections in force ({from}):\n  grace period: {}\n  exempt accounts: {}\n  exempt organizational units: {}\n  exempt tag: {}\n  remediation cap: {cap}",
        config.grace,
        list(
            config
                .exempt_accounts
                .iter()
                .map(AccountId::as_str)
                .collect()
        ),
        list(config.exempt_ous.iter().map(OuId::as_str).collect()),
        config
            .exempt_tag
            .as_ref()
            .map_or("none".to_owned(), ToString::to_string),
    );
    if !protections.ignored.is_empty() {
        let _ = writeln!(
            out,
            "  (this shell's {} are not used: the deployment's settings apply, and flags add to them)",
            protections.ignored.join(", ")
        );
    }
    let _ = writeln!(out);
}

#[cfg(test)]
mod tests;

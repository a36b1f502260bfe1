//! Which accounts are never audited or touched: listed ids, organizational units (nested
//! units included), and one tag rule.

use std::collections::BTreeSet;
use std::fmt;

use super::ConfigError;
use crate::account::AccountId;

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

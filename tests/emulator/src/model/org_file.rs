//! Org files: an [`Org`] (Organizations' state, with each account's root user from IAM's) read
//! from JSON and checked. Times are relative to now (see [`super::time`]); `/_emulator/state`
//! writes the same format with absolute times, which load back unchanged. [`Org::generate`]
//! builds one instead (`super::generate`).
//!
//! # Org files
//!
//! JSON, unknown fields refused, errors name the line and the field. **Times are relative to the
//! moment of loading**: `-<N><unit>` with units `s`, `m`, `h`, `d`, `w` (`"-3d"`, `"-90m"`, `"-0s"`
//! is now), so a file means the same (in grace, due, ...) whenever it runs. RFC 3339 dates
//! (`"2025-03-15T10:23:45Z"`) are accepted too, which is what `/_emulator/state` writes, so a state
//! dump loads back. Times are whole seconds. See `tests/emulator/orgs/example.json`.
//!
//! ```jsonc
//! {
//!   "organization_id": "o-example123",           // o- then 10-32 lowercase letters/digits; root id is r-<4 chars>
//!   "management_account_id": "111111111111",     // must be one of accounts
//!   "caller_account_id": "222222222222",         // optional, default the management account
//!   "enabled_features": ["RootCredentialsManagement", "RootSessions"],   // the default
//!   "preflight_failure": "ServiceAccessNotEnabledException",             // optional, one of the four
//!   "delete_virtual_mfa_allowed": false,         // default false
//!   "organizational_units": [{"id": "ou-exam-legacy01", "name": "Legacy", "parent": "ou-exam-workload"}],
//!   "schedule_groups": ["follow-ups"],           // Scheduler groups besides "default", in every region
//!   "security_hub_enabled": true,                // the default; false: InvalidAccessException
//!   "buckets": ["rootsweep-archive"],            // S3 buckets of the caller's (S3's naming rules)
//!   "accounts": [{
//!     "id": "444444444444", "name": "n", "email": "e@example.com",
//!     "state": "ACTIVE",                         // PENDING_ACTIVATION|ACTIVE|SUSPENDED|PENDING_CLOSURE|CLOSED
//!     "parent": "ou-exam-workload",              // optional, default the root
//!     "tags": {"rootsweep:exempt": "true"},
//!     "joined": "-400d", "joined_method": "CREATED",   // defaults: a year ago, CREATED
//!     "root_user": {                             // optional, default: no credentials
//!       "created": "-400d",                      // default a year ago
//!       "password_last_used": "-60d",            // optional
//!       "login_profile": {"created": "-200d"},   // optional: the root password
//!       "access_keys": [{"id": "AKIA...", "status": "Active", "created": "-500d",   // created/uploaded optional:
//!                        "last_used": {"date": "-2d", "service": "s3", "region": "us-east-1"}}],
//!       "signing_certificates": [{"id": "CERT...", "status": "Active", "uploaded": "-300d"}],  // IAM omits them then
//!       "mfa_devices": [{"serial": "arn:aws:iam::444444444444:mfa/root-account-mfa-device",
//!                        "kind": "virtual", "enabled": "-90d"},          // or "hardware", serial like GAHT12345678
//!       ],
//!       "unassigned_virtual_mfa_devices": []     // deactivated virtual devices still in the account
//!     }
//!   }]
//! }
//! ```

use std::collections::HashSet;
use std::path::Path;

use crate::services::organizations::Org;

/// Why an org file or value was refused.
#[derive(Debug, thiserror::Error)]
pub enum OrgError {
    #[error("cannot read org file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{origin}: {source}")]
    Json {
        origin: String,
        source: serde_json::Error,
    },
    #[error("invalid org: {0}")]
    Invalid(String),
}

impl Org {
    /// Parses and validates an org from JSON text.
    pub fn from_json(text: &str) -> Result<Org, OrgError> {
        Self::parse(text, "org JSON")
    }

    /// Reads, parses and validates an org file.
    pub fn load(path: &Path) -> Result<Org, OrgError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| OrgError::Read {
            path: shown.clone(),
            source,
        })?;
        Self::parse(&text, &shown)
    }

    fn parse(text: &str, origin: &str) -> Result<Org, OrgError> {
        let org: Org = serde_json::from_str(text).map_err(|source| OrgError::Json {
            origin: origin.to_owned(),
            source,
        })?;
        org.validate()?;
        Ok(org)
    }

    /// Checks what serde cannot: ids' shapes, uniqueness, and that every reference resolves.
    pub fn validate(&self) -> Result<(), OrgError> {
        let invalid = |message: String| Err(OrgError::Invalid(message));
        let id = &self.organization_id;
        let id_ok = id.strip_prefix("o-").is_some_and(|rest| {
            (10..=32).contains(&rest.len())
                && rest
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        });
        if !id_ok {
            return invalid(format!(
                "organization_id {id:?} must be \"o-\" then 10 to 32 lowercase letters or digits"
            ));
        }
        let mut account_ids = HashSet::new();
        for account in &self.accounts {
            if account.id.len() != 12 || !account.id.chars().all(|c| c.is_ascii_digit()) {
                return invalid(format!("account id {:?} must be 12 digits", account.id));
            }
            if !account_ids.insert(account.id.as_str()) {
                return invalid(format!("account {} is listed twice", account.id));
            }
        }
        for (role, id) in [
            ("management_account_id", self.management_account_id.as_str()),
            ("caller_account_id", self.caller_account_id()),
        ] {
            if !account_ids.contains(id) {
                return invalid(format!("{role} {id} is not one of the accounts"));
            }
        }
        let mut ou_ids = HashSet::new();
        for ou in &self.organizational_units {
            if !ou.id.starts_with("ou-") {
                return invalid(format!("OU id {:?} must start with \"ou-\"", ou.id));
            }
            if !ou_ids.insert(ou.id.as_str()) {
                return invalid(format!("OU {} is listed twice", ou.id));
            }
        }
        // Parents must resolve; walking up at most once per OU also rules out cycles.
        for ou in &self.organizational_units {
            let mut parent = ou.parent.as_deref();
            for _ in 0..=self.organizational_units.len() {
                let Some(id) = parent else { break };
                let Some(up) = self.organizational_unit(id) else {
                    return invalid(format!("OU {} has unknown parent {id}", ou.id));
                };
                parent = up.parent.as_deref();
            }
            if parent.is_some() {
                return invalid(format!("OU {} is part of a parent cycle", ou.id));
            }
        }
        for account in &self.accounts {
            if let Some(parent) = &account.parent
                && !ou_ids.contains(parent.as_str())
            {
                return invalid(format!(
                    "account {} has unknown parent {parent}",
                    account.id
                ));
            }
        }
        self.validate_services()
    }

    /// The other services' resources the org declares: unique, and named as AWS allows.
    fn validate_services(&self) -> Result<(), OrgError> {
        let invalid = |message: String| Err(OrgError::Invalid(message));
        let mut groups = HashSet::new();
        for group in &self.schedule_groups {
            if !is_schedule_group_name(group) || group == "default" {
                return invalid(format!(
                    "schedule group {group:?} must be 1 to 64 letters, digits, '-', '_' or '.', and not \"default\" (it always exists)"
                ));
            }
            if !groups.insert(group.as_str()) {
                return invalid(format!("schedule group {group} is listed twice"));
            }
        }
        let mut buckets = HashSet::new();
        for bucket in &self.buckets {
            if !is_bucket_name(bucket) {
                return invalid(format!(
                    "bucket {bucket:?} must be 3 to 63 lowercase letters, digits, '.' or '-', starting and ending with a letter or digit, without '..', not an IP address"
                ));
            }
            if !buckets.insert(bucket.as_str()) {
                return invalid(format!("bucket {bucket} is listed twice"));
            }
        }
        Ok(())
    }
}

/// A schedule group's name as Scheduler's model allows it: `^[0-9a-zA-Z-_.]+$`, 1 to 64 long.
pub fn is_schedule_group_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// A general purpose bucket's name ("General purpose bucket naming rules", S3 User Guide), the
/// rules path-style requests depend on.
fn is_bucket_name(name: &str) -> bool {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    (3..=63).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
        && edge(name.chars().next())
        && edge(name.chars().last())
        && !name.contains("..")
        && name.parse::<std::net::Ipv4Addr>().is_err()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::AccountState;

    const MINIMAL: &str = r#"{
        "organization_id": "o-abcdef1234",
        "management_account_id": "111111111111",
        "accounts": [
            {"id": "111111111111", "name": "management", "email": "m@example.com"},
            {"id": "222222222222", "name": "dev", "email": "d@example.com", "parent": "ou-ab12-dev00001",
             "root_user": {"login_profile": {"created": "-2h"}, "password_last_used": "-1h"}}
        ],
        "organizational_units": [{"id": "ou-ab12-dev00001", "name": "Dev"}]
    }"#;

    #[test]
    fn minimal_org_loads_with_defaults() {
        let org = Org::from_json(MINIMAL).unwrap();
        assert_eq!(org.caller_account_id(), "111111111111");
        assert_eq!(org.root_id(), "r-abcd");
        assert_eq!(
            org.enabled_features,
            ["RootCredentialsManagement", "RootSessions"]
        );
        let dev = org.account("222222222222").unwrap();
        assert_eq!(dev.state, AccountState::Active);
        assert!(!dev.root_user.is_clean());
        assert!(org.account("111111111111").unwrap().root_user.is_clean());
    }

    #[test]
    fn the_readme_example_loads() {
        let org = Org::from_json(include_str!("../../orgs/example.json")).unwrap();
        assert_eq!(org.caller_account_id(), "222222222222");
        assert_eq!(org.accounts.len(), 6);
    }

    #[test]
    fn state_output_loads_back() {
        let org = Org::from_json(MINIMAL).unwrap();
        let again = Org::from_json(&serde_json::to_string(&org).unwrap()).unwrap();
        assert_eq!(org, again);
    }

    #[test]
    fn errors_name_the_problem() {
        let typo = MINIMAL.replace("\"email\": \"m@", "\"e_mail\": \"m@");
        let message = Org::from_json(&typo).unwrap_err().to_string();
        assert!(message.contains("unknown field `e_mail`"), "{message}");
        assert!(message.contains("line 5"), "{message}");

        let bad_parent =
            MINIMAL.replace("\"parent\": \"ou-ab12-dev00001\"", "\"parent\": \"ou-x\"");
        let message = Org::from_json(&bad_parent).unwrap_err().to_string();
        assert_eq!(
            message,
            "invalid org: account 222222222222 has unknown parent ou-x"
        );

        let bad_time = MINIMAL.replace("-2h", "2 hours ago");
        let message = Org::from_json(&bad_time).unwrap_err().to_string();
        assert!(
            message.contains("invalid time \"2 hours ago\""),
            "{message}"
        );
    }
}

//! The settings of the optional features: follow-ups after a root password recovery, the run
//! archive, and Security Hub findings. Each is off unless configured.

use std::fmt;

use super::{ConfigError, parse_switch};

/// Follow-ups: one-time EventBridge Scheduler schedules that invoke the function for one
/// account at its due time. On when `ROOTSWEEP_FOLLOW_UP_GROUP` is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUpSettings {
    /// The schedule group the follow-ups live in (and the role may manage).
    pub group: String,
    /// The role EventBridge Scheduler assumes to invoke the function.
    pub role_arn: String,
    /// Whether accounts in grace also get a follow-up at their due time.
    pub in_grace: bool,
}

impl FollowUpSettings {
    pub const GROUP_VARIABLE: &'static str = "ROOTSWEEP_FOLLOW_UP_GROUP";
    pub const ROLE_VARIABLE: &'static str = "ROOTSWEEP_FOLLOW_UP_ROLE_ARN";
    pub const IN_GRACE_VARIABLE: &'static str = "ROOTSWEEP_FOLLOW_UP_IN_GRACE";

    pub fn parse(
        group: Option<String>,
        role_arn: Option<String>,
        in_grace: Option<String>,
    ) -> Result<Option<Self>, ConfigError> {
        let in_grace = parse_switch(
            Self::IN_GRACE_VARIABLE,
            in_grace.as_deref().unwrap_or("false"),
        )?;
        let Some(group) = group.filter(|g| !g.is_empty()) else {
            return Ok(None);
        };
        // EventBridge Scheduler: group names of 1-64 letters, digits, `.`, `-` and `_`.
        let valid = group.len() <= 64
            && group
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        if !valid {
            return Err(ConfigError {
                variable: Self::GROUP_VARIABLE,
                value: group,
                allowed: "use a schedule group name of 1 to 64 letters, digits, `.`, `-` or `_`"
                    .into(),
            });
        }
        let Some(role_arn) = role_arn.filter(|r| !r.is_empty()) else {
            return Err(ConfigError {
                variable: Self::GROUP_VARIABLE,
                value: group,
                allowed: format!(
                    "set {} too: follow-ups need the role EventBridge Scheduler assumes to invoke the function",
                    Self::ROLE_VARIABLE
                ),
            });
        };
        if !(role_arn.starts_with("arn:")
            && role_arn.contains(":iam::")
            && role_arn.contains(":role/"))
        {
            return Err(ConfigError {
                variable: Self::ROLE_VARIABLE,
                value: role_arn,
                allowed: "use a role ARN such as arn:aws:iam::123456789012:role/NAME".into(),
            });
        }
        Ok(Some(Self {
            group,
            role_arn,
            in_grace,
        }))
    }
}

/// Where runs are archived: `s3://BUCKET/PREFIX`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveLocation {
    pub bucket: String,
    /// Without leading or trailing `/`; may be empty.
    pub prefix: String,
}

impl ArchiveLocation {
    pub const VARIABLE: &'static str = "ROOTSWEEP_ARCHIVE";

    /// `s3://bucket` or `s3://bucket/some/prefix`; `variable` names where it came from.
    pub fn parse(variable: &'static str, value: &str) -> Result<Self, ConfigError> {
        let reject = || {
            ConfigError {
            variable,
            value: value.to_owned(),
            allowed: "use s3://BUCKET or s3://BUCKET/PREFIX (a bucket name of 3 to 63 lowercase letters, digits, `.` or `-`)".into(),
        }
        };
        let rest = value.trim().strip_prefix("s3://").ok_or_else(reject)?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let bucket_ok = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-.".contains(&b));
        if !bucket_ok || prefix.starts_with('/') || prefix.contains("//") {
            return Err(reject());
        }
        Ok(Self {
            bucket: bucket.to_owned(),
            prefix: prefix.trim_matches('/').to_owned(),
        })
    }

    /// The key of an object under the prefix.
    pub fn key(&self, path: &str) -> String {
        if self.prefix.is_empty() {
            path.to_owned()
        } else {
            format!("{}/{path}", self.prefix)
        }
    }
}

impl fmt::Display for ArchiveLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

/// Where the run ledger lives: `s3://BUCKET/PREFIX`, the object `PREFIX/ledger.json.gz`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateLocation {
    pub bucket: String,
    pub key: String,
}

impl StateLocation {
    pub const VARIABLE: &'static str = "ROOTSWEEP_STATE";
    const OBJECT: &'static str = "ledger.json.gz";

    pub fn parse(value: &str) -> Result<Self, ConfigError> {
        let at = ArchiveLocation::parse(Self::VARIABLE, value)?;
        Ok(Self {
            key: at.key(Self::OBJECT),
            bucket: at.bucket,
        })
    }
}

impl fmt::Display for StateLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_archive_is_a_bucket_and_an_optional_prefix() {
        let at = ArchiveLocation::parse("X", "s3://evidence-bucket/rootsweep/prod/").unwrap();
        assert_eq!(
            (at.bucket.as_str(), at.prefix.as_str()),
            ("evidence-bucket", "rootsweep/prod")
        );
        assert_eq!(at.key("runs/x"), "rootsweep/prod/runs/x");
        assert_eq!(
            ArchiveLocation::parse("X", "s3://b12")
                .unwrap()
                .key("runs/x"),
            "runs/x"
        );
        for bad in [
            "evidence-bucket",
            "s3://",
            "s3://Upper/x",
            "s3://ab",
            "s3://b12//x",
        ] {
            assert!(ArchiveLocation::parse("X", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_ledger_is_one_object_under_the_state_prefix() {
        let at = StateLocation::parse("s3://rootsweep-state/rootsweep").unwrap();
        assert_eq!(
            (at.bucket.as_str(), at.key.as_str()),
            ("rootsweep-state", "rootsweep/ledger.json.gz")
        );
        assert_eq!(
            StateLocation::parse("s3://rootsweep-state").unwrap().key,
            "ledger.json.gz"
        );
        let err = StateLocation::parse("rootsweep-state").unwrap_err();
        assert_eq!(err.variable, "ROOTSWEEP_STATE");
    }

    #[test]
    fn follow_ups_are_on_with_a_group_and_need_the_invoke_role() {
        let role = "arn:aws:iam::111111111111:role/invoke".to_owned();
        assert_eq!(FollowUpSettings::parse(None, None, None), Ok(None));
        let on = FollowUpSettings::parse(
            Some("rs-follow-ups".into()),
            Some(role),
            Some("true".into()),
        )
        .unwrap()
        .unwrap();
        assert!(on.in_grace);
        let err = FollowUpSettings::parse(Some("rs".into()), None, None).unwrap_err();
        assert_eq!(err.variable, FollowUpSettings::GROUP_VARIABLE);
        assert!(err.to_string().contains(FollowUpSettings::ROLE_VARIABLE));
        let err =
            FollowUpSettings::parse(Some("rs".into()), Some("role".into()), None).unwrap_err();
        assert_eq!(err.variable, FollowUpSettings::ROLE_VARIABLE);
        let err = FollowUpSettings::parse(Some("bad name".into()), None, None).unwrap_err();
        assert_eq!(err.variable, FollowUpSettings::GROUP_VARIABLE);
    }
}

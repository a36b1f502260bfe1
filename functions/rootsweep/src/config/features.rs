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
    /// The SQS queue a schedule's event goes to when Scheduler cannot invoke the function
    /// (its `Target.DeadLetterConfig`); none: such an event is dropped after Scheduler's retries.
    pub dead_letter_arn: Option<String>,
}

impl FollowUpSettings {
    pub const GROUP_VARIABLE: &'static str = "ROOTSWEEP_FOLLOW_UP_GROUP";
    pub const ROLE_VARIABLE: &'static str = "ROOTSWEEP_FOLLOW_UP_ROLE_ARN";
    pub const IN_GRACE_VARIABLE: &'static str = "ROOTSWEEP_FOLLOW_UP_IN_GRACE";
    pub const DEAD_LETTER_VARIABLE: &'static str = "ROOTSWEEP_FOLLOW_UP_DEAD_LETTER_ARN";

    pub fn parse(
        group: Option<String>,
        role_arn: Option<String>,
        in_grace: Option<String>,
        dead_letter_arn: Option<String>,
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
        let dead_letter_arn = dead_letter_arn.filter(|arn| !arn.is_empty());
        if let Some(arn) = dead_letter_arn.as_deref().filter(|arn| !is_queue_arn(arn)) {
            return Err(ConfigError {
                variable: Self::DEAD_LETTER_VARIABLE,
                value: arn.to_owned(),
                allowed: "use an SQS queue ARN such as arn:aws:sqs:us-east-1:123456789012:NAME"
                    .into(),
            });
        }
        Ok(Some(Self {
            group,
            role_arn,
            in_grace,
            dead_letter_arn,
        }))
    }
}

/// What EventBridge Scheduler accepts as a dead-letter queue: a standard SQS queue's ARN,
/// `arn:aws[a-z-]*:sqs:[a-z0-9\-]+:\d{12}:[a-zA-Z0-9\-_]+`, at most 1600 characters
/// (CloudFormation template reference, AWS::Scheduler::Schedule DeadLetterConfig; the API
/// Reference's older `aws(-[a-z]+)?` would refuse `aws-us-gov`).
fn is_queue_arn(arn: &str) -> bool {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("sqs"), Some(region), Some(account), Some(name)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    let partition_ok = partition
        .strip_prefix("aws")
        .is_some_and(|rest| rest.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'));
    partition_ok
        && !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && !name.is_empty()
        && arn.len() <= 1600
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
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
        assert_eq!(FollowUpSettings::parse(None, None, None, None), Ok(None));
        let on = FollowUpSettings::parse(
            Some("rs-follow-ups".into()),
            Some(role),
            Some("true".into()),
            None,
        )
        .unwrap()
        .unwrap();
        assert!(on.in_grace);
        assert_eq!(on.dead_letter_arn, None);
        let err = FollowUpSettings::parse(Some("rs".into()), None, None, None).unwrap_err();
        assert_eq!(err.variable, FollowUpSettings::GROUP_VARIABLE);
        assert!(err.to_string().contains(FollowUpSettings::ROLE_VARIABLE));
        let err = FollowUpSettings::parse(Some("rs".into()), Some("role".into()), None, None)
            .unwrap_err();
        assert_eq!(err.variable, FollowUpSettings::ROLE_VARIABLE);
        let err = FollowUpSettings::parse(Some("bad name".into()), None, None, None).unwrap_err();
        assert_eq!(err.variable, FollowUpSettings::GROUP_VARIABLE);
    }

    #[test]
    fn follow_ups_dead_letter_to_an_sqs_queue_named_by_its_arn() {
        let parse = |arn: &str| {
            FollowUpSettings::parse(
                Some("rs".into()),
                Some("arn:aws:iam::111111111111:role/invoke".into()),
                None,
                Some(arn.into()),
            )
        };
        let queue = "arn:aws:sqs:eu-west-1:111111111111:rootsweep-FollowUpDeadLetterQueue-AbC_1";
        let on = parse(queue).unwrap().unwrap();
        assert_eq!(on.dead_letter_arn.as_deref(), Some(queue));
        // Empty, as the template sets it when follow-ups are off: no dead-letter queue.
        assert_eq!(parse("").unwrap().unwrap().dead_letter_arn, None);
        assert!(parse("arn:aws-us-gov:sqs:us-gov-west-1:111111111111:q").is_ok());
        for bad in [
            "https://sqs.eu-west-1.amazonaws.com/111111111111/q",
            "arn:aws:sns:eu-west-1:111111111111:q",
            "arn:aws:sqs:eu-west-1:11111111111:q",
            "arn:aws:sqs:eu-west-1:111111111111:",
            "arn:aws:sqs:eu-west-1:111111111111:q.fifo",
            "arn:aws:sqs::111111111111:q",
            "arn:AWS:sqs:eu-west-1:111111111111:q",
        ] {
            let err = parse(bad).unwrap_err();
            assert_eq!(
                err.variable,
                FollowUpSettings::DEAD_LETTER_VARIABLE,
                "{bad}"
            );
            assert!(err.to_string().contains("SQS queue ARN"), "{err}");
        }
    }
}

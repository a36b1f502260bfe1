//! CreateSchedule's and ListSchedules' input, checked as the model constrains it: the one-time
//! expression and its time zone, the flexible time window, the target, names and enum members.
//!
//! Time zone and window are served as rootsweep sends them (`functions/rootsweep/src/aws/
//! scheduler.rs`: `ScheduleExpressionTimezone` `UTC`, `FlexibleTimeWindow` `{Mode: OFF}`), which
//! rootsweep's follow-up tests (`functions/rootsweep/tests/e2e/features.rs`,
//! `a_recovery_is_followed_to_its_exact_due_time_and_the_password_removed_then_not_before`) and
//! boto3's `test_scheduler_one_time_schedules_and_their_firing` (`py/test_boto3.py`) need. Other
//! zones (UTC's aliases, `Etc/GMT±N`, ...) and `FLEXIBLE` windows, which no client here sends, are
//! refused as not emulated.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;

use super::errors::{constraint, not_null, validation};
use crate::error::ApiError;
use crate::model::is_schedule_group_name;

/// The UTC time of `at(yyyy-mm-ddThh:mm:ss)` ("Schedule types on EventBridge Scheduler",
/// Scheduler User Guide), in `UTC`, the only time zone served. Recurring `rate()` and `cron()`
/// schedules are not emulated: they are refused rather than kept without ever firing.
pub(super) fn one_time(expression: &str, timezone: &str) -> Result<DateTime<Utc>, ApiError> {
    let invalid = || validation(format!("Invalid Schedule Expression {expression}."));
    if expression.starts_with("rate(") || expression.starts_with("cron(") {
        return Err(validation(format!(
            "Invalid Schedule Expression {expression}: the emulator serves one-time schedules only, at(yyyy-mm-ddThh:mm:ss); rate() and cron() are not emulated."
        )));
    }
    let inner = expression
        .strip_prefix("at(")
        .and_then(|rest| rest.strip_suffix(')'))
        .filter(|inner| inner.len() == 19)
        .ok_or_else(invalid)?;
    let local = NaiveDateTime::parse_from_str(inner, "%Y-%m-%dT%H:%M:%S").map_err(|_| invalid())?;
    if timezone != "UTC" {
        return Err(validation(format!(
            "Invalid ScheduleExpressionTimezone {timezone}: the emulator knows UTC only."
        )));
    }
    Ok(local.and_utc())
}

/// `FlexibleTimeWindow`: `Mode` `OFF`, without `MaximumWindowInMinutes`. `FLEXIBLE` windows are
/// refused as not emulated.
pub(super) fn check_window(window: &Value) -> Result<(), ApiError> {
    let mode = window["Mode"]
        .as_str()
        .ok_or_else(|| not_null("flexibleTimeWindow.mode"))?;
    match (mode, window["MaximumWindowInMinutes"].as_u64()) {
        ("OFF", None) => Ok(()),
        ("OFF", Some(_)) => Err(validation(
            "MaximumWindowInMinutes must not be set when the FlexibleTimeWindow mode is OFF.",
        )),
        _ => Err(validation(format!(
            "FlexibleTimeWindow mode {mode}: the emulator serves mode OFF only; FLEXIBLE windows are not emulated."
        ))),
    }
}

/// `Target`: `Arn`, and `RoleArn` an IAM role ARN (the model's pattern); `Input` not empty;
/// `DeadLetterConfig.Arn`, when given, an SQS queue ARN.
pub(super) fn check_target(target: &Value) -> Result<(), ApiError> {
    let arn = target["Arn"]
        .as_str()
        .ok_or_else(|| not_null("target.arn"))?;
    if arn.is_empty() {
        return Err(constraint(
            "target.arn",
            "Member must have length greater than or equal to 1",
        ));
    }
    let role = target["RoleArn"]
        .as_str()
        .ok_or_else(|| not_null("target.roleArn"))?;
    let role_ok = role
        .strip_prefix("arn:aws:iam::")
        .and_then(|rest| rest.split_once(":role/"))
        .is_some_and(|(account, path)| {
            account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) && !path.is_empty()
        });
    if !role_ok {
        return Err(constraint(
            "target.roleArn",
            "Member must satisfy regular expression pattern: ^arn:aws(-[a-z]+)?:iam::\\d{12}:role\\/[\\w+=,.@\\/-]+$",
        ));
    }
    if target["Input"].as_str() == Some("") {
        return Err(constraint(
            "target.input",
            "Member must have length greater than or equal to 1",
        ));
    }
    match target["DeadLetterConfig"]["Arn"].as_str() {
        Some(queue) if !is_queue_arn(queue) => Err(constraint(
            "target.deadLetterConfig.arn",
            "Member must satisfy regular expression pattern: ^arn:aws[a-z-]*:sqs:[a-z0-9\\-]+:\\d{12}:[a-zA-Z0-9\\-_]+$",
        )),
        _ => Ok(()),
    }
}

/// The pattern of `DeadLetterConfig.Arn`, 1 to 1600 characters, as the CloudFormation template
/// reference gives it (AWS::Scheduler::Schedule DeadLetterConfig; the API Reference's older
/// `aws(-[a-z]+)?` leaves out `aws-us-gov`): `arn:aws[a-z-]*:sqs:[a-z0-9\-]+:\d{12}:[a-zA-Z0-9\-_]+`.
fn is_queue_arn(arn: &str) -> bool {
    let fields: Vec<&str> = arn.split(':').collect();
    let [prefix, partition, service, region, account, queue] = fields[..] else {
        return false;
    };
    let lower = |s: &str, extra: &[u8]| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || extra.contains(&b))
    };
    let partition_ok = partition
        .strip_prefix("aws")
        .is_some_and(|rest| rest.is_empty() || lower(rest, b"-"));
    arn.len() <= 1600
        && (prefix, service) == ("arn", "sqs")
        && partition_ok
        && lower(region, b"0123456789-")
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && !queue.is_empty()
        && queue
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
}

pub(super) fn schedule_name<'a>(name: Option<&'a str>, member: &str) -> Result<&'a str, ApiError> {
    let name = name.ok_or_else(|| not_null(member))?;
    match is_schedule_group_name(name) {
        true => Ok(name),
        false => Err(constraint(
            member,
            "Member must satisfy regular expression pattern: ^[0-9a-zA-Z-_.]+$",
        )),
    }
}

/// Group names follow the same pattern as schedule names.
pub(super) fn group_name(name: Option<&str>) -> Result<&str, ApiError> {
    schedule_name(name, "groupName")
}

/// An optional enum member: absent, or one of `allowed`.
pub(super) fn one_of<'a>(
    value: Option<&'a str>,
    member: &str,
    allowed: &[&str],
) -> Result<Option<&'a str>, ApiError> {
    match value {
        Some(value) if !allowed.contains(&value) => Err(constraint(
            member,
            &format!(
                "Member must satisfy enum value set: [{}]",
                allowed.join(", ")
            ),
        )),
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn one_time_expressions_in_utc() {
        let utc = one_time("at(2026-12-02T18:00:00)", "UTC").unwrap();
        assert_eq!(utc.to_rfc3339(), "2026-12-02T18:00:00+00:00");
        for bad in [
            "at(2026-12-02 18:00:00)",
            "at(2026-12-2T18:00:00)",
            "at(2026-13-02T18:00:00)",
            "tomorrow",
        ] {
            let error = one_time(bad, "UTC").unwrap_err();
            assert_eq!(error.message, format!("Invalid Schedule Expression {bad}."));
        }
        assert!(
            one_time("rate(1 day)", "UTC")
                .unwrap_err()
                .message
                .contains("not emulated")
        );
        for zone in ["Europe/Berlin", "Etc/GMT+5", "Etc/UTC"] {
            let error = one_time("at(2026-12-02T18:00:00)", zone).unwrap_err();
            assert!(
                error.message.contains("UTC only"),
                "{zone}: {}",
                error.message
            );
        }
    }

    #[test]
    fn windows_and_targets() {
        assert!(check_window(&json!({"Mode": "OFF"})).is_ok());
        assert!(check_window(&json!({"Mode": "OFF", "MaximumWindowInMinutes": 15})).is_err());
        let flexible = json!({"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15});
        assert!(
            check_window(&flexible)
                .unwrap_err()
                .message
                .contains("not emulated")
        );
        assert!(check_window(&json!({})).is_err());
        let target = |role: &str| json!({"Arn": "arn:aws:lambda:us-east-1:111111111111:function:f", "RoleArn": role});
        assert!(check_target(&target("arn:aws:iam::111111111111:role/invoke")).is_ok());
        assert!(check_target(&target("FollowUpInvokeRole.Arn")).is_err());
        assert!(check_target(&json!({"Arn": "x"})).is_err());
        let dead_letters = |queue: &str| {
            let mut target = target("arn:aws:iam::111111111111:role/invoke");
            target["DeadLetterConfig"] = json!({"Arn": queue});
            check_target(&target)
        };
        assert!(dead_letters("arn:aws:sqs:us-east-1:111111111111:rootsweep-dlq_1").is_ok());
        assert!(dead_letters("arn:aws-us-gov:sqs:us-gov-west-1:111111111111:q").is_ok());
        for bad in [
            "FollowUpDeadLetterQueue.Arn",
            "https://sqs.us-east-1.amazonaws.com/111111111111/q",
            "arn:aws:sns:us-east-1:111111111111:q",
            "arn:aws:sqs:us-east-1:111111111111:q.fifo",
            "arn:aws:sqs:us-east-1:1111:q",
            "arn:aws:sqs:us-east-1:111111111111:q:extra",
        ] {
            let error = dead_letters(bad).unwrap_err();
            assert!(
                error.message.contains("target.deadLetterConfig.arn"),
                "{bad}: {}",
                error.message
            );
        }
    }
}

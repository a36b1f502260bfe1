//! CreateSchedule's and ListSchedules' input, checked as the model constrains it: the one-time
//! expression and its time zone, the flexible time window, the target, names and enum members.

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};
use serde_json::Value;

use super::errors::{constraint, not_null, validation};
use crate::error::ApiError;
use crate::model::is_schedule_group_name;

/// The UTC time of `at(yyyy-mm-ddThh:mm:ss)` in `timezone` ("Schedule types on EventBridge
/// Scheduler", Scheduler User Guide). Recurring `rate()` and `cron()` schedules are not
/// emulated: they are refused rather than kept without ever firing.
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
    let zone = zone_offset(timezone).ok_or_else(|| {
        validation(format!(
            "Invalid ScheduleExpressionTimezone {timezone}: the emulator knows UTC and the fixed Etc/GMT+N and Etc/GMT-N zones only."
        ))
    })?;
    let at = zone
        .from_local_datetime(&local)
        .single()
        .ok_or_else(invalid)?;
    Ok(at.with_timezone(&Utc))
}

/// The offset of a time zone without daylight saving time: UTC and its aliases, and the IANA
/// `Etc/GMT±N` zones, whose sign is POSIX's (`Etc/GMT+5` is five hours behind UTC). Other IANA
/// zones would need the time zone database, which the emulator does not carry.
fn zone_offset(timezone: &str) -> Option<FixedOffset> {
    const UTC: [&str; 10] = [
        "UTC",
        "Etc/UTC",
        "GMT",
        "Etc/GMT",
        "UCT",
        "Etc/UCT",
        "Universal",
        "Etc/Universal",
        "Zulu",
        "Etc/Zulu",
    ];
    if UTC.contains(&timezone) {
        return FixedOffset::east_opt(0);
    }
    let hours: i32 = timezone
        .strip_prefix("Etc/GMT")?
        .parse()
        .ok()
        .filter(|h| (-14..=12).contains(h))?;
    FixedOffset::west_opt(hours * 3600)
}

/// `FlexibleTimeWindow`: `Mode` `OFF`, or `FLEXIBLE` with `MaximumWindowInMinutes` 1..=1440.
pub(super) fn check_window(window: &Value) -> Result<(), ApiError> {
    let mode = one_of(
        window["Mode"].as_str(),
        "flexibleTimeWindow.mode",
        &["OFF", "FLEXIBLE"],
    )?
    .ok_or_else(|| not_null("flexibleTimeWindow.mode"))?;
    let minutes = window["MaximumWindowInMinutes"].as_u64();
    match (mode, minutes) {
        ("FLEXIBLE", Some(1..=1440)) | ("OFF", None) => Ok(()),
        ("FLEXIBLE", Some(_)) => Err(constraint(
            "flexibleTimeWindow.maximumWindowInMinutes",
            "Member must have value between 1 and 1440",
        )),
        ("FLEXIBLE", None) => Err(validation(
            "MaximumWindowInMinutes is required when the FlexibleTimeWindow mode is FLEXIBLE.",
        )),
        _ => Err(validation(
            "MaximumWindowInMinutes must not be set when the FlexibleTimeWindow mode is OFF.",
        )),
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
    fn one_time_expressions_in_fixed_zones() {
        let utc = one_time("at(2026-12-02T18:00:00)", "UTC").unwrap();
        assert_eq!(utc.to_rfc3339(), "2026-12-02T18:00:00+00:00");
        let behind = one_time("at(2026-12-02T18:00:00)", "Etc/GMT+5").unwrap();
        assert_eq!(behind.to_rfc3339(), "2026-12-02T23:00:00+00:00");
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
        assert!(one_time("at(2026-12-02T18:00:00)", "Europe/Berlin").is_err());
    }

    #[test]
    fn windows_and_targets() {
        assert!(check_window(&json!({"Mode": "OFF"})).is_ok());
        assert!(check_window(&json!({"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15})).is_ok());
        assert!(check_window(&json!({"Mode": "FLEXIBLE"})).is_err());
        assert!(check_window(&json!({"Mode": "SOMETIMES"})).is_err());
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

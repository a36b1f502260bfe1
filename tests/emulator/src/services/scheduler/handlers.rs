//! Scheduler's operations: each reads its input, acts on the stored schedules and groups, and
//! answers restJson1's output.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::Place;
use super::checks::{check_target, check_window, group_name, one_of, one_time, schedule_name};
use super::errors::{conflict, constraint, no_group, no_schedule, not_null, validation};
use super::state::{DEFAULT_GROUP, Schedule};
use crate::error::ApiError;
use crate::paging;
use crate::protocol::{Input, timestamp};
use crate::world::World;

/// ListSchedules' `MaxResults` bounds (1..=100); without it, a full page of 100 (our assumption:
/// the reference gives no default).
const MAX_RESULTS: u64 = 100;

pub(super) fn create_schedule(
    world: &mut World,
    at: &Place,
    input: &Input,
    now: DateTime<Utc>,
) -> Result<Value, ApiError> {
    let schedule = parse_schedule(input, at, now)?;
    require_group(world, &schedule.group)?;
    let key = (
        at.region.to_owned(),
        schedule.group.clone(),
        schedule.name.clone(),
    );
    if let Some(existing) = world.schedules.schedules.get(&key) {
        let retry =
            existing.client_token.is_some() && existing.client_token == schedule.client_token;
        if retry {
            return Ok(json!({"ScheduleArn": existing.arn}));
        }
        return Err(conflict(format!(
            "Schedule {} already exists.",
            schedule.name
        )));
    }
    let arn = schedule.arn.clone();
    world.schedules.schedules.insert(key, schedule);
    Ok(json!({"ScheduleArn": arn}))
}

/// A new schedule from CreateSchedule's input, checked as the model constrains it.
fn parse_schedule(input: &Input, at: &Place, now: DateTime<Utc>) -> Result<Schedule, ApiError> {
    let name = schedule_name(input.str("Name"), "name")?;
    let group = group_name(Some(input.str("GroupName").unwrap_or(DEFAULT_GROUP)))?;
    let expression = input
        .str("ScheduleExpression")
        .ok_or_else(|| not_null("scheduleExpression"))?;
    let timezone = input.str("ScheduleExpressionTimezone").unwrap_or("UTC");
    let when = one_time(expression, timezone)?;
    let window = input
        .get("FlexibleTimeWindow")
        .ok_or_else(|| not_null("flexibleTimeWindow"))?;
    check_window(window)?;
    let target = input.get("Target").ok_or_else(|| not_null("target"))?;
    check_target(target)?;
    let state = one_of(input.str("State"), "state", &["ENABLED", "DISABLED"])?;
    let after = one_of(
        input.str("ActionAfterCompletion"),
        "actionAfterCompletion",
        &["NONE", "DELETE"],
    )?;
    let description = input.str("Description");
    if description.is_some_and(|d| d.chars().count() > 512) {
        return Err(constraint(
            "description",
            "Member must have length less than or equal to 512",
        ));
    }
    let date = |member: &str| input.get(member).and_then(timestamp);
    Ok(Schedule {
        arn: at.schedule_arn(group, name),
        name: name.to_owned(),
        group: group.to_owned(),
        region: at.region.to_owned(),
        expression: expression.to_owned(),
        timezone: timezone.to_owned(),
        at: when,
        state: state.unwrap_or("ENABLED").to_owned(),
        action_after_completion: after.unwrap_or("NONE").to_owned(),
        flexible_time_window: window.clone(),
        target: target.clone(),
        description: description.map(str::to_owned),
        start_date: date("StartDate"),
        end_date: date("EndDate"),
        kms_key_arn: input.str("KmsKeyArn").map(str::to_owned),
        creation_date: now,
        last_modification_date: now,
        fired_at: None,
        client_token: input.str("ClientToken").map(str::to_owned),
    })
}

pub(super) fn get_schedule(world: &World, at: &Place, input: &Input) -> Result<Value, ApiError> {
    let (group, name) = existing(world, input)?;
    let key = (at.region.to_owned(), group.to_owned(), name.to_owned());
    let schedule = world.schedules.schedules.get(&key);
    Ok(schedule_json(schedule.ok_or_else(|| no_schedule(name))?))
}

pub(super) fn delete_schedule(
    world: &mut World,
    at: &Place,
    input: &Input,
) -> Result<Value, ApiError> {
    let (group, name) = existing(world, input)?;
    let key = (at.region.to_owned(), group.to_owned(), name.to_owned());
    let token = input.str("ClientToken").map(str::to_owned);
    let done = |token: &String| (key.0.clone(), key.1.clone(), key.2.clone(), token.clone());
    if world.schedules.schedules.remove(&key).is_some() {
        if let Some(token) = &token {
            world.schedules.deletions.insert(done(token));
        }
        return Ok(json!({}));
    }
    // The same ClientToken again: a retry of a deletion that succeeded.
    match token.is_some_and(|token| world.schedules.deletions.contains(&done(&token))) {
        true => Ok(json!({})),
        false => Err(no_schedule(name)),
    }
}

pub(super) fn list_schedules(world: &World, at: &Place, input: &Input) -> Result<Value, ApiError> {
    let group = input.str("GroupName");
    if let Some(group) = group {
        group_name(Some(group))?;
        require_group(world, group)?;
    }
    let max = input
        .u64("MaxResults")
        .map_err(|value| constraint("maxResults", &format!("{value} is not a number")))?
        .unwrap_or(MAX_RESULTS);
    if !(1..=MAX_RESULTS).contains(&max) {
        return Err(constraint(
            "maxResults",
            "Member must have value between 1 and 100",
        ));
    }
    let matching: Vec<&Schedule> = world
        .schedules
        .schedules
        .values()
        .filter(|s| s.region == at.region)
        .filter(|s| group.is_none_or(|g| s.group == g))
        .collect();
    let binding = ["ListSchedules", at.region, group.unwrap_or_default()];
    let (page, next) = paging::page(&matching, &binding, max as usize, input.str("NextToken"))
        .ok_or_else(|| validation("Invalid NextToken."))?;
    let schedules: Vec<Value> = page
        .iter()
        .map(|s| {
            // Summaries carry no expression, as Scheduler's ScheduleSummary.
            json!({
                "Arn": s.arn,
                "Name": s.name,
                "GroupName": s.group,
                "State": s.state,
                "CreationDate": epoch(s.creation_date),
                "LastModificationDate": epoch(s.last_modification_date),
                "Target": {"Arn": s.target_arn()},
            })
        })
        .collect();
    let mut reply = json!({"Schedules": schedules});
    if let Some(next) = next {
        reply["NextToken"] = Value::String(next);
    }
    Ok(reply)
}

/// A group must exist: `default`, or one the org declares (in every region).
fn require_group(world: &World, name: &str) -> Result<(), ApiError> {
    let declared = name == DEFAULT_GROUP || world.org.schedule_groups.iter().any(|g| g == name);
    match declared {
        true => Ok(()),
        false => Err(no_group(name)),
    }
}

/// The group (`default` unless named) and name of a schedule to read or delete; the group must
/// exist.
fn existing<'a>(world: &World, input: &'a Input) -> Result<(&'a str, &'a str), ApiError> {
    let name = schedule_name(input.str("Name"), "name")?;
    let group = group_name(Some(input.str("GroupName").unwrap_or(DEFAULT_GROUP)))?;
    require_group(world, group)?;
    Ok((group, name))
}

/// GetSchedule's output.
fn schedule_json(schedule: &Schedule) -> Value {
    let mut reply = json!({
        "Arn": schedule.arn,
        "Name": schedule.name,
        "GroupName": schedule.group,
        "ScheduleExpression": schedule.expression,
        "ScheduleExpressionTimezone": schedule.timezone,
        "State": schedule.state,
        "ActionAfterCompletion": schedule.action_after_completion,
        "FlexibleTimeWindow": schedule.flexible_time_window,
        "Target": schedule.target,
        "CreationDate": epoch(schedule.creation_date),
        "LastModificationDate": epoch(schedule.last_modification_date),
    });
    let optional = [
        ("Description", schedule.description.clone().map(Value::from)),
        ("KmsKeyArn", schedule.kms_key_arn.clone().map(Value::from)),
        ("StartDate", schedule.start_date.map(epoch)),
        ("EndDate", schedule.end_date.map(epoch)),
    ];
    for (member, value) in optional {
        if let Some(value) = value {
            reply[member] = value;
        }
    }
    reply
}

/// restJson1 writes timestamps in bodies as epoch seconds.
fn epoch(time: DateTime<Utc>) -> Value {
    json!(time.timestamp() as f64)
}

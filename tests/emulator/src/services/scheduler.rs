//! EventBridge Scheduler (restJson1, API version 2021-06-30; botocore's `scheduler` model):
//! one-time schedules (`at(yyyy-mm-ddThh:mm:ss)`) in schedule groups of the caller's account, per
//! region. The emulator invokes no target: tests fire the due schedules
//! ([`crate::EmulatorHandle::fire_due_schedules`]) and act on what fired.
//!
//! # Behaviour
//!
//! restJson1 (botocore's `scheduler` model, API version 2021-06-30), signed for `scheduler`; the
//! caller principal's schedules, per region (the region the request is signed for). Root sessions
//! get `AccessDeniedException` (403).
//!
//! - **Groups**: `default` always exists; the org's `schedule_groups` (`Emulator::schedule_group`,
//!   `--schedule-group`) exist in every region from the start; `CreateScheduleGroup` (`POST
//!   /schedule-groups/NAME`) adds one in its region (`ConflictException` 409 "Schedule group X
//!   already exists." for an existing one; tags accepted, not kept). `GetScheduleGroup` answers
//!   `Arn` (`arn:aws:scheduler:REGION:ACCOUNT:schedule-group/NAME`), `Name`, `State` `ACTIVE`,
//!   dates. A missing group is `ResourceNotFoundException` (404) "Schedule group X does not exist."
//!   for every schedule operation naming it.
//! - **CreateSchedule** (`POST /schedules/NAME`, JSON body): `ScheduleExpression` must be a one-time
//!   `at(yyyy-mm-ddThh:mm:ss)` ("Schedule types", Scheduler User Guide), taken in
//!   `ScheduleExpressionTimezone` (default `UTC`); a time in the past is accepted (our assumption),
//!   and is due at once. Anything else is `ValidationException` (400): "Invalid Schedule Expression
//!   X.", and for `rate()` / `cron()` a message saying they are not emulated. Time zones: `UTC` and
//!   its aliases (`Etc/UTC`, `GMT`, ...) and the fixed `Etc/GMT+N` / `Etc/GMT-N` (POSIX signs);
//!   other IANA zones are `ValidationException` (the emulator carries no time zone database).
//!   Required, as the model says: `FlexibleTimeWindow` (`Mode` `OFF`, or `FLEXIBLE` with
//!   `MaximumWindowInMinutes` 1..=1440), `Target` (`Arn`; `RoleArn` an IAM role ARN; `Input` not
//!   empty when given; its other members kept as given). `State` `ENABLED` (default) or `DISABLED`,
//!   `ActionAfterCompletion` `NONE` (default) or `DELETE`, `Description` (at most 512),
//!   `StartDate`, `EndDate`, `KmsKeyArn` are kept and read back. Answers `{ScheduleArn}`
//!   (`arn:aws:scheduler:REGION:ACCOUNT:schedule/GROUP/NAME`). The name taken in the group is
//!   `ConflictException` (409) "Schedule X already exists.", except for a retry with the same
//!   `ClientToken` (the SDKs fill it in and keep it across retries), which answers the same ARN.
//! - **GetSchedule** (`GET /schedules/NAME?groupName=G`, group `default` unless given): every member
//!   as created, dates in epoch seconds; missing: `ResourceNotFoundException` (404) "Schedule X does
//!   not exist.".
//! - **DeleteSchedule** (`DELETE /schedules/NAME?groupName=G&clientToken=T`): answers `{}`; missing:
//!   `ResourceNotFoundException`, except a retry with the `clientToken` of a deletion that succeeded.
//! - **ListSchedules** (`GET /schedules?ScheduleGroup=G&NamePrefix=P&State=S&MaxResults=N&NextToken=T`):
//!   the region's schedules (of one group when named; the group must exist), by group then name,
//!   as summaries without the expression (`Arn`, `Name`, `GroupName`, `State`, dates,
//!   `Target.Arn`), as Scheduler's `ScheduleSummary`. `MaxResults` 1..=100 (default 100, our
//!   assumption); tokens are bound to the listing (another's: `ValidationException`).
//! - Errors: status, header `x-amzn-ErrorType: <code>`, body `{"message": ".."}`.
//! - **Firing** (the emulator invokes nothing; tests do, with what fired): a schedule is due when it
//!   is `ENABLED`, has not fired, and its `at` is not later than the time given.
//!   `EmulatorHandle::due_schedules(now: DateTime<Utc>) -> Vec<Schedule>` lists them, earliest
//!   first; `EmulatorHandle::fire_due_schedules(now: DateTime<Utc>) -> Vec<FiredSchedule>` fires
//!   them: each is recorded, then deleted when its `ActionAfterCompletion` is `DELETE`, else kept
//!   with `fired_at` set (a completed one-time schedule does not fire again), as Scheduler does.
//!   `FiredSchedule { name, group, region, arn, target_arn, role_arn, input: Option<String>, at,
//!   fired_at, deleted }`: invoke rootsweep with `input`. `EmulatorHandle::fired_schedules()` is
//!   every one fired so far; `EmulatorHandle::schedules() -> Vec<Schedule>` every schedule
//!   (`Schedule { name, group, region, arn, expression, timezone, at, state,
//!   action_after_completion, flexible_time_window, target, description, start_date, end_date,
//!   kms_key_arn, creation_date, last_modification_date, fired_at }`, with `target_arn()`,
//!   `role_arn()`, `input()`). A flexible window does not delay firing: a schedule is due at its
//!   `at`. Over HTTP: `/_emulator/schedules...` (Admin API).
//!
//! # Not emulated
//!
//! Recurring `rate()` / `cron()` schedules, IANA time zones other than UTC and `Etc/GMT±N`,
//! `UpdateSchedule`, `ListScheduleGroups`, `DeleteScheduleGroup`, tags, and invoking targets (tests
//! fire schedules).

use std::collections::{BTreeMap, HashSet};

use axum::http::StatusCode;
use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::model::is_schedule_group_name;
use crate::paging;
use crate::policy::Request;
use crate::protocol::rest::Route;
use crate::protocol::{Input, Reply, timestamp};
use crate::world::World;

/// The operations served, bound as the model binds them.
pub const ROUTES: &[Route] = &[
    route("CreateSchedule", "POST", "/schedules/{Name}", &[]),
    route(
        "GetSchedule",
        "GET",
        "/schedules/{Name}",
        &[("groupName", "GroupName")],
    ),
    route(
        "DeleteSchedule",
        "DELETE",
        "/schedules/{Name}",
        &[("groupName", "GroupName"), ("clientToken", "ClientToken")],
    ),
    route(
        "ListSchedules",
        "GET",
        "/schedules",
        &[
            ("ScheduleGroup", "GroupName"),
            ("NamePrefix", "NamePrefix"),
            ("State", "State"),
            ("MaxResults", "MaxResults"),
            ("NextToken", "NextToken"),
        ],
    ),
    route(
        "CreateScheduleGroup",
        "POST",
        "/schedule-groups/{Name}",
        &[],
    ),
    route("GetScheduleGroup", "GET", "/schedule-groups/{Name}", &[]),
];

const fn route(
    operation: &'static str,
    method: &'static str,
    uri: &'static str,
    query: &'static [(&'static str, &'static str)],
) -> Route {
    Route {
        operation,
        method,
        uri,
        query,
        headers: &[],
    }
}

/// The group every account has ("Managing a schedule group", Scheduler User Guide).
const DEFAULT_GROUP: &str = "default";
/// ListSchedules' `MaxResults` bounds (1..=100); without it, a full page of 100 (our assumption:
/// the reference gives no default).
const MAX_RESULTS: u64 = 100;

/// Where a call's resources live: the caller's account, in the region the request was signed for.
pub struct Place<'a> {
    pub account: &'a str,
    pub region: &'a str,
}

impl Place<'_> {
    fn schedule_arn(&self, group: &str, name: &str) -> String {
        format!(
            "arn:aws:scheduler:{}:{}:schedule/{group}/{name}",
            self.region, self.account
        )
    }

    fn group_arn(&self, group: &str) -> String {
        format!(
            "arn:aws:scheduler:{}:{}:schedule-group/{group}",
            self.region, self.account
        )
    }
}

/// A schedule, as [`crate::EmulatorHandle::schedules`] and `/_emulator/schedules` show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    pub name: String,
    pub group: String,
    pub region: String,
    pub arn: String,
    /// As given: `at(2026-12-02T18:00:00)`.
    pub expression: String,
    /// `ScheduleExpressionTimezone`, `UTC` unless given.
    pub timezone: String,
    /// When the one-time schedule is due, in UTC.
    pub at: DateTime<Utc>,
    /// `ENABLED` or `DISABLED` (a disabled schedule does not fire).
    pub state: String,
    /// `NONE` or `DELETE` (the schedule is deleted once it fired).
    pub action_after_completion: String,
    /// `{Mode, MaximumWindowInMinutes}` as given.
    pub flexible_time_window: Value,
    /// `{Arn, RoleArn, Input, RetryPolicy, DeadLetterConfig, ...}` as given.
    pub target: Value,
    pub description: Option<String>,
    pub start_date: Option<DateTime<Utc>>,
    pub end_date: Option<DateTime<Utc>>,
    pub kms_key_arn: Option<String>,
    pub creation_date: DateTime<Utc>,
    pub last_modification_date: DateTime<Utc>,
    /// When it fired, if it was kept after completion (`NONE`): it does not fire again.
    pub fired_at: Option<DateTime<Utc>>,
    /// The `ClientToken` of the CreateSchedule that made it: a retry with the same token (the
    /// SDKs reuse it) answers the same ARN, not a conflict.
    #[serde(skip)]
    client_token: Option<String>,
}

impl Schedule {
    pub fn target_arn(&self) -> &str {
        self.target["Arn"].as_str().unwrap_or_default()
    }

    pub fn role_arn(&self) -> &str {
        self.target["RoleArn"].as_str().unwrap_or_default()
    }

    /// The target's `Input`: for a Lambda function, the event it is invoked with.
    pub fn input(&self) -> Option<&str> {
        self.target["Input"].as_str()
    }

    /// The queue the target's undeliverable events go to (`Target.DeadLetterConfig.Arn`).
    pub fn dead_letter_arn(&self) -> Option<&str> {
        self.target["DeadLetterConfig"]["Arn"].as_str()
    }
}

/// A schedule that fired ([`crate::EmulatorHandle::fire_due_schedules`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FiredSchedule {
    pub name: String,
    pub group: String,
    pub region: String,
    pub arn: String,
    pub target_arn: String,
    pub role_arn: String,
    /// What the target receives: for a Lambda function, the event to invoke it with.
    pub input: Option<String>,
    /// When it was due.
    pub at: DateTime<Utc>,
    /// The time it was fired at (the `now` it was fired with).
    pub fired_at: DateTime<Utc>,
    /// Deleted after completion (`ActionAfterCompletion: DELETE`).
    pub deleted: bool,
}

/// Every schedule and created group, by region, and what fired.
#[derive(Debug)]
pub(crate) struct Schedules {
    /// When the emulator started: the creation date of `default` and the org's groups.
    started: DateTime<Utc>,
    /// By (region, group, name).
    schedules: BTreeMap<(String, String, String), Schedule>,
    /// Groups made by CreateScheduleGroup, by (region, name): their creation dates.
    created_groups: BTreeMap<(String, String), DateTime<Utc>>,
    /// (region, group, name, client token) of completed deletions: a retry answers success.
    deletions: HashSet<(String, String, String, String)>,
    fired: Vec<FiredSchedule>,
}

impl Schedules {
    pub fn new(started: DateTime<Utc>) -> Self {
        Self {
            started,
            schedules: BTreeMap::new(),
            created_groups: BTreeMap::new(),
            deletions: HashSet::new(),
            fired: Vec::new(),
        }
    }

    /// Every schedule, by region, group and name.
    pub fn all(&self) -> Vec<Schedule> {
        self.schedules.values().cloned().collect()
    }

    /// Enabled schedules due at `now` that have not fired, earliest first.
    pub fn due(&self, now: DateTime<Utc>) -> Vec<Schedule> {
        let mut due: Vec<Schedule> = self
            .schedules
            .values()
            .filter(|s| s.state == "ENABLED" && s.fired_at.is_none() && s.at <= now)
            .cloned()
            .collect();
        due.sort_by(|a, b| (a.at, &a.arn).cmp(&(b.at, &b.arn)));
        due
    }

    /// Fires every due schedule: records it, and deletes it when its `ActionAfterCompletion` is
    /// `DELETE`, else marks it completed, as Scheduler does with a one-time schedule.
    pub fn fire(&mut self, now: DateTime<Utc>) -> Vec<FiredSchedule> {
        let fired: Vec<FiredSchedule> = self
            .due(now)
            .into_iter()
            .map(|schedule| {
                let key = (
                    schedule.region.clone(),
                    schedule.group.clone(),
                    schedule.name.clone(),
                );
                let deleted = schedule.action_after_completion == "DELETE";
                if deleted {
                    self.schedules.remove(&key);
                } else if let Some(kept) = self.schedules.get_mut(&key) {
                    kept.fired_at = Some(now);
                }
                FiredSchedule {
                    target_arn: schedule.target_arn().to_owned(),
                    role_arn: schedule.role_arn().to_owned(),
                    input: schedule.input().map(str::to_owned),
                    name: schedule.name,
                    group: schedule.group,
                    region: schedule.region,
                    arn: schedule.arn,
                    at: schedule.at,
                    fired_at: now,
                    deleted,
                }
            })
            .collect();
        self.fired.extend(fired.iter().cloned());
        fired
    }

    /// Every schedule fired so far, in order.
    pub fn fired(&self) -> &[FiredSchedule] {
        &self.fired
    }
}

pub fn call(
    world: &mut World,
    at: &Place,
    operation: &str,
    input: &Input,
    now: DateTime<Utc>,
) -> Result<Reply, ApiError> {
    let reply = match operation {
        "CreateSchedule" => create_schedule(world, at, input, now)?,
        "GetSchedule" => {
            let (group, name) = existing(world, at, input)?;
            let key = (at.region.to_owned(), group.to_owned(), name.to_owned());
            let schedule = world.schedules.schedules.get(&key);
            schedule_json(schedule.ok_or_else(|| no_schedule(name))?)
        }
        "DeleteSchedule" => delete_schedule(world, at, input)?,
        "ListSchedules" => list_schedules(world, at, input)?,
        "CreateScheduleGroup" => create_group(world, at, input, now)?,
        "GetScheduleGroup" => {
            let name = group_name(input.str("Name"))?;
            let created = group_created(world, at.region, name).ok_or_else(|| no_group(name))?;
            json!({
                "Arn": at.group_arn(name),
                "Name": name,
                "State": "ACTIVE",
                "CreationDate": epoch(created),
                "LastModificationDate": epoch(created),
            })
        }
        _ => return Err(super::Service::Scheduler.unknown_operation(operation)),
    };
    Ok(Reply::Json(reply))
}

fn create_schedule(
    world: &mut World,
    at: &Place,
    input: &Input,
    now: DateTime<Utc>,
) -> Result<Value, ApiError> {
    let schedule = parse_schedule(input, at, now)?;
    if group_created(world, at.region, &schedule.group).is_none() {
        return Err(no_group(&schedule.group));
    }
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

/// The UTC time of `at(yyyy-mm-ddThh:mm:ss)` in `timezone` ("Schedule types on EventBridge
/// Scheduler", Scheduler User Guide). Recurring `rate()` and `cron()` schedules are not
/// emulated: they are refused rather than kept without ever firing.
fn one_time(expression: &str, timezone: &str) -> Result<DateTime<Utc>, ApiError> {
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
fn check_window(window: &Value) -> Result<(), ApiError> {
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
fn check_target(target: &Value) -> Result<(), ApiError> {
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

fn delete_schedule(world: &mut World, at: &Place, input: &Input) -> Result<Value, ApiError> {
    let (group, name) = existing(world, at, input)?;
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

fn list_schedules(world: &World, at: &Place, input: &Input) -> Result<Value, ApiError> {
    let group = input.str("GroupName");
    if let Some(group) = group {
        group_name(Some(group))?;
        group_created(world, at.region, group).ok_or_else(|| no_group(group))?;
    }
    let prefix = input.str("NamePrefix");
    let state = one_of(input.str("State"), "state", &["ENABLED", "DISABLED"])?;
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
        .filter(|s| prefix.is_none_or(|p| s.name.starts_with(p)))
        .filter(|s| state.is_none_or(|wanted| s.state == wanted))
        .collect();
    let binding = [
        "ListSchedules",
        at.region,
        group.unwrap_or_default(),
        prefix.unwrap_or_default(),
        state.unwrap_or_default(),
    ];
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

fn create_group(
    world: &mut World,
    at: &Place,
    input: &Input,
    now: DateTime<Utc>,
) -> Result<Value, ApiError> {
    let name = group_name(input.str("Name"))?;
    if group_created(world, at.region, name).is_some() {
        return Err(conflict(format!("Schedule group {name} already exists.")));
    }
    // Tags are accepted and not kept: no emulated operation reads them.
    world
        .schedules
        .created_groups
        .insert((at.region.to_owned(), name.to_owned()), now);
    Ok(json!({"ScheduleGroupArn": at.group_arn(name)}))
}

/// The creation date of a group in `region`: `default` and the org's groups exist in every
/// region from the start; others once created there.
fn group_created(world: &World, region: &str, name: &str) -> Option<DateTime<Utc>> {
    let declared = name == DEFAULT_GROUP || world.org.schedule_groups.iter().any(|g| g == name);
    match declared {
        true => Some(world.schedules.started),
        false => world
            .schedules
            .created_groups
            .get(&(region.to_owned(), name.to_owned()))
            .copied(),
    }
}

/// The group (`default` unless named) and name of a schedule to read or delete; the group must
/// exist.
fn existing<'a>(
    world: &World,
    at: &Place,
    input: &'a Input,
) -> Result<(&'a str, &'a str), ApiError> {
    let name = schedule_name(input.str("Name"), "name")?;
    let group = group_name(Some(input.str("GroupName").unwrap_or(DEFAULT_GROUP)))?;
    group_created(world, at.region, group).ok_or_else(|| no_group(group))?;
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

/// What the caller's policy must allow (Service Authorization Reference, Amazon EventBridge
/// Scheduler): the schedule resource for Create/Get/DeleteSchedule, the schedule-group resource
/// for the group operations, `*` for ListSchedules (no resource type).
pub fn authorization(
    operation: &str,
    input: &Input,
    account: &str,
    region: &str,
) -> Option<Vec<Request>> {
    let at = Place { account, region };
    let name = input.str("Name").unwrap_or_default();
    let group = input.str("GroupName").unwrap_or(DEFAULT_GROUP);
    let resource = match operation {
        "CreateSchedule" | "GetSchedule" | "DeleteSchedule" => at.schedule_arn(group, name),
        "CreateScheduleGroup" | "GetScheduleGroup" => at.group_arn(name),
        "ListSchedules" => "*".to_owned(),
        _ => return None,
    };
    Some(vec![Request {
        action: format!("scheduler:{operation}"),
        resource,
        context: Vec::new(),
    }])
}

fn schedule_name<'a>(name: Option<&'a str>, member: &str) -> Result<&'a str, ApiError> {
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
fn group_name(name: Option<&str>) -> Result<&str, ApiError> {
    schedule_name(name, "groupName")
}

/// An optional enum member: absent, or one of `allowed`.
fn one_of<'a>(
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

fn validation(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "ValidationException", message)
}

/// Smithy's validation message, as AWS's services word it.
fn constraint(member: &str, rule: &str) -> ApiError {
    validation(format!(
        "1 validation error detected: Value at '{member}' failed to satisfy constraint: {rule}"
    ))
}

fn not_null(member: &str) -> ApiError {
    validation(format!(
        "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
    ))
}

fn conflict(message: String) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, "ConflictException", message)
}

fn no_schedule(name: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "ResourceNotFoundException",
        format!("Schedule {name} does not exist."),
    )
}

fn no_group(name: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "ResourceNotFoundException",
        format!("Schedule group {name} does not exist."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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

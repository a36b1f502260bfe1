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
//!   `--schedule-group`: rootsweep's follow-up group) exist in every region. A missing group is
//!   `ResourceNotFoundException` (404) "Schedule group X does not exist." for every schedule
//!   operation naming it.
//! - **CreateSchedule** (`POST /schedules/NAME`, JSON body): `ScheduleExpression` must be a one-time
//!   `at(yyyy-mm-ddThh:mm:ss)` ("Schedule types", Scheduler User Guide), taken in
//!   `ScheduleExpressionTimezone` (default `UTC`); a time in the past is accepted (our assumption),
//!   and is due at once. Anything else is `ValidationException` (400): "Invalid Schedule Expression
//!   X.", and for `rate()` / `cron()` a message saying they are not emulated. The time zone must
//!   be `UTC` (any other is `ValidationException`, not emulated). Required, as the model says:
//!   `FlexibleTimeWindow` (`Mode` `OFF`; `FLEXIBLE` is `ValidationException`, not emulated),
//!   `Target` (`Arn`; `RoleArn` an IAM role ARN; `Input` not empty when given; its other members
//!   kept as given). `State` `ENABLED` (default) or `DISABLED`, `ActionAfterCompletion` `NONE`
//!   (default) or `DELETE`, `Description` (at most 512), `StartDate`, `EndDate`, `KmsKeyArn` are
//!   kept and read back. Answers `{ScheduleArn}`
//!   (`arn:aws:scheduler:REGION:ACCOUNT:schedule/GROUP/NAME`). The name taken in the group is
//!   `ConflictException` (409) "Schedule X already exists.", except for a retry with the same
//!   `ClientToken` (the SDKs fill it in and keep it across retries), which answers the same ARN.
//! - **GetSchedule** (`GET /schedules/NAME?groupName=G`, group `default` unless given): every member
//!   as created, dates in epoch seconds; missing: `ResourceNotFoundException` (404) "Schedule X does
//!   not exist.".
//! - **DeleteSchedule** (`DELETE /schedules/NAME?groupName=G&clientToken=T`): answers `{}`; missing:
//!   `ResourceNotFoundException`, except a retry with the `clientToken` of a deletion that succeeded.
//! - **ListSchedules** (`GET /schedules?ScheduleGroup=G&MaxResults=N&NextToken=T`):
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
//!   `role_arn()`, `input()`). Over HTTP: `/_emulator/schedules...` (Admin API).
//!
//! # Not emulated
//!
//! What no client here sends: recurring `rate()` / `cron()` schedules, time zones other than `UTC`
//! and flexible time windows (`checks`); the schedule group operations (`CreateScheduleGroup`,
//! `GetScheduleGroup`, `ListScheduleGroups`, `DeleteScheduleGroup`) and ListSchedules' `NamePrefix`
//! and `State` filters (rootsweep lists its group, `functions/rootsweep/src/aws/scheduler.rs`: a
//! request with them is an unknown operation); `UpdateSchedule`, tags. Nor does it invoke targets:
//! tests fire schedules.

mod checks;
mod errors;
mod handlers;
mod state;

use chrono::{DateTime, Utc};

use crate::error::ApiError;
use crate::policy::Request;
use crate::protocol::rest::Route;
use crate::protocol::{Input, Reply};
use crate::world::World;

use state::DEFAULT_GROUP;
pub(crate) use state::Schedules;
pub use state::{FiredSchedule, Schedule};

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
            ("MaxResults", "MaxResults"),
            ("NextToken", "NextToken"),
        ],
    ),
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
}

/// Routes an operation to its handler.
pub fn call(
    world: &mut World,
    at: &Place,
    operation: &str,
    input: &Input,
    now: DateTime<Utc>,
) -> Result<Reply, ApiError> {
    let reply = match operation {
        "CreateSchedule" => handlers::create_schedule(world, at, input, now)?,
        "GetSchedule" => handlers::get_schedule(world, at, input)?,
        "DeleteSchedule" => handlers::delete_schedule(world, at, input)?,
        "ListSchedules" => handlers::list_schedules(world, at, input)?,
        _ => return Err(super::Service::Scheduler.unknown_operation(operation)),
    };
    Ok(Reply::Json(reply))
}

/// What the caller's policy must allow (Service Authorization Reference, Amazon EventBridge
/// Scheduler): the schedule resource for Create/Get/DeleteSchedule, `*` for ListSchedules (no
/// resource type).
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
        "ListSchedules" => "*".to_owned(),
        _ => return None,
    };
    Some(vec![Request {
        action: format!("scheduler:{operation}"),
        resource,
        context: Vec::new(),
    }])
}

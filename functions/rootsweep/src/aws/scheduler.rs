//! EventBridge Scheduler through the SDK: the follow-up schedules of one group.

use aws_sdk_scheduler::types::{
    ActionAfterCompletion, DeadLetterConfig, FlexibleTimeWindow, FlexibleTimeWindowMode, Target,
};
use chrono::{DateTime, NaiveDateTime, Utc};
use futures::FutureExt;

use super::aws_error;
use crate::ports::{AwsError, AwsErrorKind, Call, NewSchedule, Schedule, Scheduler};

#[derive(Clone)]
pub struct SdkScheduler {
    client: aws_sdk_scheduler::Client,
    group: String,
    /// Every schedule's dead-letter queue, if configured.
    dead_letter_arn: Option<String>,
}

impl SdkScheduler {
    pub fn new(
        client: aws_sdk_scheduler::Client,
        group: String,
        dead_letter_arn: Option<String>,
    ) -> Self {
        Self {
            client,
            group,
            dead_letter_arn,
        }
    }
}

/// `at(2026-12-02T18:00:00)`, in the schedule's time zone (UTC here).
const AT_FORMAT: &str = "%Y-%m-%dT%H:%M:%S";

fn at_expression(at: DateTime<Utc>) -> String {
    format!("at({})", at.format(AT_FORMAT))
}

fn parse_at(expression: &str) -> Option<DateTime<Utc>> {
    let inner = expression.strip_prefix("at(")?.strip_suffix(')')?;
    NaiveDateTime::parse_from_str(inner, AT_FORMAT)
        .ok()
        .map(|naive| naive.and_utc())
}

fn unexpected(operation: &'static str, what: String) -> AwsError {
    AwsError::new(operation, AwsErrorKind::Other, what)
}

impl SdkScheduler {
    async fn get_schedule(&self, name: &str) -> Result<Option<Schedule>, AwsError> {
        let output = match self
            .client
            .get_schedule()
            .name(name)
            .group_name(&self.group)
            .send()
            .await
        {
            Ok(output) => output,
            Err(err) => {
                let err = aws_error("scheduler:GetSchedule", err);
                return if err.has_code("ResourceNotFoundException") {
                    Ok(None)
                } else {
                    Err(err)
                };
            }
        };
        let expression = output.schedule_expression().unwrap_or_default();
        let at = parse_at(expression).ok_or_else(|| {
            unexpected(
                "scheduler:GetSchedule",
                format!("schedule {name} is not a one-time schedule: {expression}"),
            )
        })?;
        Ok(Some(Schedule {
            name: name.to_owned(),
            at,
        }))
    }

    async fn create_schedule(&self, schedule: &NewSchedule) -> Result<(), AwsError> {
        let operation = "scheduler:CreateSchedule";
        let invalid =
            |e: aws_sdk_scheduler::error::BuildError| unexpected(operation, e.to_string());
        // A schedule that cannot invoke the function (a broken invoke role) sends its event here
        // once Scheduler's retries are spent, instead of dropping it.
        let dead_letter = self
            .dead_letter_arn
            .as_ref()
            .map(|arn| DeadLetterConfig::builder().arn(arn).build());
        let target = Target::builder()
            .arn(&schedule.target_arn)
            .role_arn(&schedule.role_arn)
            .input(&schedule.input)
            .set_dead_letter_config(dead_letter)
            .build()
            .map_err(invalid)?;
        let window = FlexibleTimeWindow::builder()
            .mode(FlexibleTimeWindowMode::Off)
            .build()
            .map_err(invalid)?;
        self.client
            .create_schedule()
            .name(&schedule.name)
            .group_name(&self.group)
            .schedule_expression(at_expression(schedule.at))
            .schedule_expression_timezone("UTC")
            .flexible_time_window(window)
            .target(target)
            .action_after_completion(ActionAfterCompletion::Delete)
            .description(
                "rootsweep follow-up: one targeted run when the account's credentials become due",
            )
            .send()
            .await
            .map(|_| ())
            .map_err(|err| aws_error(operation, err))
    }

    async fn delete_schedule(&self, name: &str) -> Result<(), AwsError> {
        match self
            .client
            .delete_schedule()
            .name(name)
            .group_name(&self.group)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(err) => match aws_error("scheduler:DeleteSchedule", err) {
                // Gone already (it fired and was deleted after completion): what we wanted.
                e if e.has_code("ResourceNotFoundException") => Ok(()),
                e => Err(e),
            },
        }
    }

    async fn list_schedules(&self) -> Result<Vec<Schedule>, AwsError> {
        let summaries: Vec<_> = self
            .client
            .list_schedules()
            .group_name(&self.group)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|err| aws_error("scheduler:ListSchedules", err))?;
        // The summaries carry no expression: each schedule is read for its time.
        let mut schedules = Vec::with_capacity(summaries.len());
        for summary in summaries {
            if let Some(schedule) = self
                .get_schedule(summary.name().unwrap_or_default())
                .await?
            {
                schedules.push(schedule);
            }
        }
        schedules.sort_by_key(|s| s.at);
        Ok(schedules)
    }
}

impl Scheduler for SdkScheduler {
    fn get<'a>(&'a self, name: &'a str) -> Call<'a, Option<Schedule>> {
        self.get_schedule(name).boxed()
    }

    fn create<'a>(&'a self, schedule: &'a NewSchedule) -> Call<'a, ()> {
        self.create_schedule(schedule).boxed()
    }

    fn delete<'a>(&'a self, name: &'a str) -> Call<'a, ()> {
        self.delete_schedule(name).boxed()
    }

    fn list(&self) -> Call<'_, Vec<Schedule>> {
        self.list_schedules().boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_time_expressions_round_trip_in_utc() {
        let at: DateTime<Utc> = "2026-12-02T18:05:00Z".parse().unwrap();
        assert_eq!(at_expression(at), "at(2026-12-02T18:05:00)");
        assert_eq!(parse_at(&at_expression(at)), Some(at));
        assert_eq!(parse_at("rate(1 day)"), None);
    }
}

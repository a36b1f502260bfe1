//! What Scheduler stores: the schedules, by region, and what fired; firing the due ones.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The group every account has ("Managing a schedule group", Scheduler User Guide).
pub(super) const DEFAULT_GROUP: &str = "default";

/// A schedule, as [`crate::EmulatorHandle::schedules`] and `/_emulator/schedules` show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    pub name: String,
    pub group: String,
    pub region: String,
    pub arn: String,
    /// As given: `at(2026-12-02T18:00:00)`.
    pub expression: String,
    /// `ScheduleExpressionTimezone`: `UTC`, the only zone served.
    pub timezone: String,
    /// When the one-time schedule is due, in UTC.
    pub at: DateTime<Utc>,
    /// `ENABLED` or `DISABLED` (a disabled schedule does not fire).
    pub state: String,
    /// `NONE` or `DELETE` (the schedule is deleted once it fired).
    pub action_after_completion: String,
    /// `{Mode: OFF}`, the only window served.
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
    pub(super) client_token: Option<String>,
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

/// Every schedule, by region, and what fired.
#[derive(Debug, Default)]
pub(crate) struct Schedules {
    /// By (region, group, name).
    pub(super) schedules: BTreeMap<(String, String, String), Schedule>,
    /// (region, group, name, client token) of completed deletions: a retry answers success.
    pub(super) deletions: HashSet<(String, String, String, String)>,
    fired: Vec<FiredSchedule>,
}

impl Schedules {
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

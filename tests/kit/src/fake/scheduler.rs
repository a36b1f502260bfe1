//! EventBridge Scheduler ([`Scheduler`]): the follow-up schedules by name, as created; a
//! second schedule of one name is a conflict.

use rootsweep::ports::{AwsErrorKind, Call as PortCall, NewSchedule, Schedule, Scheduler};

use super::FakeAws;
use super::faults::coded;

/// A created schedule as Get/ListSchedules answer it.
fn listed(schedule: &NewSchedule) -> Schedule {
    Schedule {
        name: schedule.name.clone(),
        at: schedule.at,
    }
}

impl Scheduler for FakeAws {
    fn get<'a>(&'a self, name: &'a str) -> PortCall<'a, Option<Schedule>> {
        self.port_call("scheduler:GetSchedule", move |w| {
            Ok(w.schedules.get(name).map(listed))
        })
    }

    fn create<'a>(&'a self, schedule: &'a NewSchedule) -> PortCall<'a, ()> {
        self.port_call("scheduler:CreateSchedule", move |w| {
            if w.schedules.contains_key(&schedule.name) {
                let (operation, kind) = ("scheduler:CreateSchedule", AwsErrorKind::Other);
                return Err(coded(operation, kind, "ConflictException", "exists"));
            }
            w.schedules.insert(schedule.name.clone(), schedule.clone());
            Ok(())
        })
    }

    fn delete<'a>(&'a self, name: &'a str) -> PortCall<'a, ()> {
        self.port_call("scheduler:DeleteSchedule", move |w| {
            w.schedules.remove(name);
            Ok(())
        })
    }

    fn list(&self) -> PortCall<'_, Vec<Schedule>> {
        self.port_call("scheduler:ListSchedules", |w| {
            Ok(w.schedules.values().map(listed).collect())
        })
    }
}

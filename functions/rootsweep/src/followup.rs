//! Follow-ups: one-time schedules that invoke the function for one account at the moment its
//! credentials become due, so that a recovered root password is removed when its grace period
//! ends rather than at the next nightly sweep.
//!
//! - A recovery event (AssumeRoot with `IAMCreateRootUserPassword`) is followed up at its time
//!   plus the grace period plus a small margin.
//! - A run that leaves an account `retry_later` follows it up some minutes later.
//! - A follow-up run that finds its account still in grace (a later sign-in moved the due time)
//!   follows it up again at the new due time, up to a bound; so do all in-grace accounts when
//!   the setting asks for it.
//!
//! Each account has at most one pending follow-up, named after it: a repeated event finds it and
//! creates no second one. The earliest wanted time wins, since the run at that time decides anew.

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use crate::account::AccountId;
use crate::budget::Budget;
use crate::config::{FollowUpSettings, GracePeriod};
use crate::names::named_enum;
use crate::outcome::{AccountReport, Outcome};
use crate::ports::{NewSchedule, Schedule, Scheduler};

/// Past the due time, so that the follow-up finds the account due, not a second short.
pub const MARGIN: TimeDelta = TimeDelta::minutes(5);
/// After AWS refused MFA deactivation: it does so for 10-15 minutes after a recovery (seed 001).
pub const RETRY_AFTER: TimeDelta = TimeDelta::minutes(15);
/// A follow-up due already (a late event, a long grace run out) fires this soon instead of in
/// the past.
pub const SOONEST: TimeDelta = TimeDelta::minutes(1);
/// Follow-ups one recovery may chain (each later sign-in moves the due time); then the nightly
/// sweep covers the account.
pub const MAX_CHAIN: u32 = 5;

named_enum! {
    /// Why an account is followed up.
    pub enum FollowUpReason {
        Recovery => "recovery",
        RetryLater => "retry_later",
        InGrace => "in_grace",
    }
}

named_enum! {
    /// What became of a wanted follow-up.
    pub enum FollowUpAction {
        /// A schedule was created.
        Created => "created",
        /// A later (or already fired) schedule was replaced by this one.
        Replaced => "replaced",
        /// An earlier schedule is pending: it will decide anew when it fires.
        Kept => "kept",
        /// Not scheduled: the chain of follow-ups reached its bound.
        Skipped => "skipped",
        Failed => "failed",
    }
}

/// One follow-up wanted by a run or a recovery event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    pub account: AccountId,
    pub at: DateTime<Utc>,
    pub reason: FollowUpReason,
    /// Its place in the chain: the run it starts is follow-up number `generation`.
    pub generation: u32,
}

/// What became of one follow-up, in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FollowUp {
    pub account_id: AccountId,
    pub at: DateTime<Utc>,
    pub reason: FollowUpReason,
    pub action: FollowUpAction,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The follow-up a recovery at `at` needs: when its password becomes due.
pub fn for_recovery(account: &AccountId, at: DateTime<Utc>, grace: &GracePeriod) -> Wanted {
    Wanted {
        account: account.clone(),
        at: at + grace.as_chrono() + MARGIN,
        reason: FollowUpReason::Recovery,
        generation: 1,
    }
}

/// The follow-ups a run's outcomes need. `chain` is the run's own place in a chain of
/// follow-ups (`None` for a sweep or a hand invocation).
pub fn for_run(
    accounts: &[AccountReport],
    settings: &FollowUpSettings,
    chain: Option<u32>,
    now: DateTime<Utc>,
) -> Vec<Wanted> {
    let generation = chain.unwrap_or(0) + 1;
    accounts
        .iter()
        .filter_map(|account| {
            let (at, reason) = match account.outcome {
                Outcome::RetryLater { .. } => (now + RETRY_AFTER, FollowUpReason::RetryLater),
                Outcome::InGrace { due_at } if settings.in_grace || chain.is_some() => {
                    (due_at + MARGIN, FollowUpReason::InGrace)
                }
                _ => return None,
            };
            Some(Wanted {
                account: account.account_id.clone(),
                at,
                reason,
                generation,
            })
        })
        .collect()
}

/// The one schedule name an account's follow-up has.
pub fn schedule_name(account: &AccountId) -> String {
    format!("rootsweep-follow-up-{account}")
}

/// The invocation a follow-up makes: an ordinary run over its account.
pub fn input(wanted: &Wanted) -> String {
    serde_json::json!({"accounts": [wanted.account], "follow_up": wanted.generation}).to_string()
}

/// What to do about a wanted follow-up, given the pending schedule of that name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Create,
    /// Delete the pending one first.
    Replace,
    Keep,
}

/// The earliest wanted time wins; a schedule whose time has passed has fired (it is deleted
/// after completion, possibly not yet) and is replaced.
pub fn step(pending: Option<&Schedule>, at: DateTime<Utc>, now: DateTime<Utc>) -> Step {
    match pending {
        None => Step::Create,
        Some(pending) if pending.at <= now || pending.at > at => Step::Replace,
        Some(_) => Step::Keep,
    }
}

/// Where follow-ups go: the schedules, and the function and role they invoke it as.
pub struct Scheduling<'a> {
    pub scheduler: &'a dyn Scheduler,
    pub target_arn: &'a str,
    pub role_arn: &'a str,
}

impl Scheduling<'_> {
    /// Schedules each wanted follow-up, within the run's time; reports each.
    pub async fn apply(&self, wanted: Vec<Wanted>, budget: Budget) -> Vec<FollowUp> {
        let mut done = Vec::with_capacity(wanted.len());
        for mut wanted in wanted {
            wanted.at = wanted.at.max(Utc::now() + SOONEST);
            let (action, detail) = if wanted.generation > MAX_CHAIN {
                let bound = format!(
                    "{MAX_CHAIN} follow-ups in a row found it in grace: the nightly sweep covers it"
                );
                (FollowUpAction::Skipped, Some(bound))
            } else {
                match budget.publish(self.schedule(&wanted)).await {
                    Some(Ok(action)) => (action, None),
                    Some(Err(error)) => (FollowUpAction::Failed, Some(error)),
                    None => (
                        FollowUpAction::Failed,
                        Some("the run's deadline came first".into()),
                    ),
                }
            };
            done.push(FollowUp {
                account_id: wanted.account,
                at: wanted.at,
                reason: wanted.reason,
                action,
                detail,
            });
        }
        done
    }

    async fn schedule(&self, wanted: &Wanted) -> Result<FollowUpAction, String> {
        let name = schedule_name(&wanted.account);
        let pending = self.scheduler.get(&name).await.map_err(|e| e.to_string())?;
        let action = match step(pending.as_ref(), wanted.at, Utc::now()) {
            Step::Keep => return Ok(FollowUpAction::Kept),
            Step::Create => FollowUpAction::Created,
            Step::Replace => {
                self.scheduler
                    .delete(&name)
                    .await
                    .map_err(|e| e.to_string())?;
                FollowUpAction::Replaced
            }
        };
        let schedule = NewSchedule {
            name,
            at: wanted.at,
            target_arn: self.target_arn.to_owned(),
            role_arn: self.role_arn.to_owned(),
            input: input(wanted),
        };
        match self.scheduler.create(&schedule).await {
            Ok(()) => Ok(action),
            // Another invocation created it meanwhile: one follow-up is pending, as wanted.
            Err(err) if err.has_code("ConflictException") => Ok(FollowUpAction::Kept),
            Err(err) => Err(err.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::AccountState;

    fn now() -> DateTime<Utc> {
        "2026-12-02T12:00:00Z".parse().unwrap()
    }

    fn id(n: u64) -> AccountId {
        format!("{n:012}").parse().unwrap()
    }

    fn account(n: u64, outcome: Outcome) -> AccountReport {
        AccountReport::new(id(n), String::new(), Some(AccountState::Active), outcome)
    }

    fn settings(in_grace: bool) -> FollowUpSettings {
        FollowUpSettings {
            group: "g".into(),
            role_arn: "arn:aws:iam::111111111111:role/r".into(),
            in_grace,
            dead_letter_arn: None,
        }
    }

    #[test]
    fn a_recovery_is_followed_up_when_its_password_becomes_due() {
        let grace = GracePeriod::parse("4h").unwrap();
        let wanted = for_recovery(&id(7), now(), &grace);
        // The README's margin: five minutes past the due time.
        assert_eq!(
            wanted.at,
            now() + TimeDelta::hours(4) + TimeDelta::minutes(5)
        );
        assert_eq!(
            input(&wanted),
            r#"{"accounts":["000000000007"],"follow_up":1}"#
        );
    }

    #[test]
    fn retry_later_accounts_are_followed_up_minutes_later_and_in_grace_ones_only_when_asked() {
        let due_at = now() + TimeDelta::hours(3);
        let accounts = [
            account(1, Outcome::Clean),
            account(2, Outcome::InGrace { due_at }),
            account(
                3,
                Outcome::RetryLater {
                    due_at: now(),
                    error: crate::error::AwsError::new(
                        "iam:DeactivateMFADevice",
                        crate::error::AwsErrorKind::Other,
                        "x",
                    ),
                },
            ),
        ];
        let off = for_run(&accounts, &settings(false), None, now());
        assert_eq!(off.len(), 1);
        assert_eq!(
            (off[0].account.clone(), off[0].at),
            (id(3), now() + TimeDelta::minutes(15))
        );
        let on = for_run(&accounts, &settings(true), None, now());
        assert_eq!(on.len(), 2);
        // A follow-up run always follows its account again if it is still in grace.
        let chained = for_run(&accounts, &settings(false), Some(2), now());
        let again: Vec<(AccountId, u32)> = chained
            .iter()
            .map(|w| (w.account.clone(), w.generation))
            .collect();
        assert_eq!(again, [(id(2), 3), (id(3), 3)]);
        assert_eq!(chained[0].at, due_at + TimeDelta::minutes(5));
    }

    #[test]
    fn the_earliest_wanted_time_wins_and_a_fired_schedule_is_replaced() {
        let pending = |at| Schedule {
            name: "n".into(),
            at,
        };
        let later = now() + TimeDelta::hours(5);
        let sooner = now() + TimeDelta::hours(1);
        assert_eq!(step(None, later, now()), Step::Create);
        assert_eq!(step(Some(&pending(sooner)), later, now()), Step::Keep);
        assert_eq!(step(Some(&pending(later)), later, now()), Step::Keep);
        assert_eq!(step(Some(&pending(later)), sooner, now()), Step::Replace);
        assert_eq!(step(Some(&pending(now())), later, now()), Step::Replace);
    }
}

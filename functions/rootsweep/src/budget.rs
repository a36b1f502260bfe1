//! The run's time budget: when it stops starting accounts, and when it stops working on them,
//! so that the report and the metrics always get out before the Lambda deadline.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::error::AwsError;
use crate::outcome::{Failure, Stage};
use crate::reasons::Cause;

#[derive(Debug, Clone, Copy)]
pub struct Budget {
    deadline: Option<Instant>,
    /// When the plan phase stops starting work (listing pages, tag reads, audits), so that
    /// what it found due can still be acted on in the same run.
    planning_ends: Option<Instant>,
}

impl Budget {
    /// No new account is started this long before the deadline: enough for one account's calls.
    pub const STOP_STARTING_BEFORE_DEADLINE: Duration = Duration::from_secs(60);
    /// Calls still running this long before the deadline are stopped, so that the report and
    /// the metrics always get out.
    pub const STOP_WORKING_BEFORE_DEADLINE: Duration = Duration::from_secs(10);
    /// Metrics are given what is left but this.
    const PUBLISH_BEFORE_DEADLINE: Duration = Duration::from_secs(1);

    /// Of the time a run has to start work in, the plan phase gets this share, in quarters;
    /// acting on what it found gets the rest.
    pub const PLANNING_QUARTERS: u32 = 3;

    /// `None`: no deadline (the operator CLI).
    pub fn new(deadline: Option<Instant>) -> Self {
        let now = Instant::now();
        let planning_ends = deadline.map(|deadline| {
            let start_by = deadline.checked_sub(Self::STOP_STARTING_BEFORE_DEADLINE);
            match start_by {
                Some(start_by) if start_by > now => {
                    now + (start_by - now) * Self::PLANNING_QUARTERS / 4
                }
                _ => now,
            }
        });
        Self {
            deadline,
            planning_ends,
        }
    }

    pub fn unlimited() -> Self {
        Self::new(None)
    }

    fn before_deadline(&self, margin: Duration) -> Option<Instant> {
        self.deadline
            .map(|d| d.checked_sub(margin).unwrap_or_else(Instant::now))
    }

    pub fn too_late_to_start(&self) -> bool {
        self.before_deadline(Self::STOP_STARTING_BEFORE_DEADLINE)
            .is_some_and(|at| Instant::now() >= at)
    }

    /// Whether the plan phase must stop starting work.
    pub fn too_late_to_plan(&self) -> bool {
        self.planning_ends.is_some_and(|at| Instant::now() >= at)
    }

    /// `work`, unless the plan phase's time ends first (`None`).
    pub fn planning<T>(&self, work: impl Future<Output = T>) -> impl Future<Output = Option<T>> {
        until(self.planning_ends, work)
    }

    /// `work`, unless the time to start work in ends first (`None`).
    pub fn starting<T>(&self, work: impl Future<Output = T>) -> impl Future<Output = Option<T>> {
        until(
            self.before_deadline(Self::STOP_STARTING_BEFORE_DEADLINE),
            work,
        )
    }

    /// Whether the run has a deadline (the Lambda) or an operator waiting for it (the CLI).
    pub fn has_deadline(&self) -> bool {
        self.deadline.is_some()
    }

    /// Whether a run that begins now can start anything at all.
    pub fn leaves_room_to_start(&self) -> bool {
        !self.too_late_to_start()
    }

    /// One AWS call of an account's work at `stage`: its error, or the deadline, is a failure
    /// at that stage.
    pub async fn call<T>(
        &self,
        stage: Stage,
        call: impl Future<Output = Result<T, AwsError>>,
    ) -> Result<T, Failure> {
        self.within(stage, call)
            .await?
            .map_err(|err| Failure::aws(stage, err))
    }

    /// Any step of an account's work, stopped at the deadline.
    pub async fn within<T>(
        &self,
        stage: Stage,
        work: impl Future<Output = T>,
    ) -> Result<T, Failure> {
        match self.before_deadline(Self::STOP_WORKING_BEFORE_DEADLINE) {
            None => Ok(work.await),
            Some(at) => tokio::time::timeout_at(at, work)
                .await
                .map_err(|_| Failure::new(stage, Cause::Deadline)),
        }
    }

    /// Publishing gets what is left; `None` when the time is up.
    pub fn publish<T>(&self, work: impl Future<Output = T>) -> impl Future<Output = Option<T>> {
        until(self.before_deadline(Self::PUBLISH_BEFORE_DEADLINE), work)
    }
}

/// `work`, unless `at` comes first (`None`); without `at`, `work`. The one async layer of the
/// three above, which return it as it is: each layer deepens the Lambda's future.
async fn until<T>(at: Option<Instant>, work: impl Future<Output = T>) -> Option<T> {
    match at {
        None => Some(work.await),
        Some(at) => tokio::time::timeout_at(at, work).await.ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::AwsErrorKind;

    #[tokio::test(start_paused = true)]
    async fn starting_stops_a_minute_before_the_deadline_and_work_ten_seconds_before() {
        // The README's figures, as literals: no account is started in the last 60 s...
        let start = Instant::now();
        let deadline = start + Duration::from_secs(120);
        let budget = Budget::new(Some(deadline));
        assert!(!budget.too_late_to_start());
        tokio::time::advance(Duration::from_millis(59_999)).await;
        assert!(!budget.too_late_to_start(), "60.001 s before the deadline");
        tokio::time::advance(Duration::from_millis(1)).await;
        assert!(budget.too_late_to_start(), "60 s before the deadline");
        // ...and a call still running 10 s before it is stopped then, no sooner, no later.
        let slow = async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok::<(), AwsError>(())
        };
        let failure = budget.call(Stage::Remove, slow).await.unwrap_err();
        assert_eq!(failure, Failure::new(Stage::Remove, Cause::Deadline));
        assert_eq!(Instant::now(), deadline - Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn planning_gets_three_quarters_of_the_time_to_start_work_in() {
        // 100 s to the deadline: 40 s to start work in, 30 s of it for planning.
        let budget = Budget::new(Some(Instant::now() + Duration::from_secs(100)));
        tokio::time::advance(Duration::from_millis(29_999)).await;
        assert!(!budget.too_late_to_plan());
        let late = budget.planning(tokio::time::sleep(Duration::from_secs(1)));
        assert_eq!(late.await, None, "cut off at 30 s");
        assert!(budget.too_late_to_plan());
        assert!(!budget.too_late_to_start(), "acting may start until 40 s");
        let unlimited = Budget::unlimited();
        assert!(!unlimited.too_late_to_plan());
        assert_eq!(unlimited.planning(async { 7 }).await, Some(7));
    }

    #[tokio::test(start_paused = true)]
    async fn work_started_after_planning_is_cut_off_a_minute_before_the_deadline() {
        // 100 s to the deadline: tag reads for the next runs may go on from 30 s to 40 s.
        let start = Instant::now();
        let budget = Budget::new(Some(start + Duration::from_secs(100)));
        tokio::time::advance(Duration::from_secs(30)).await;
        assert!(budget.too_late_to_plan());
        let read = budget.starting(async { "a tag read" }).await;
        assert_eq!(
            read,
            Some("a tag read"),
            "started at 30 s, within the time to start"
        );
        let late = budget.starting(tokio::time::sleep(Duration::from_secs(3600)));
        assert_eq!(late.await, None);
        assert_eq!(
            Instant::now() - start,
            Duration::from_secs(40),
            "cut off at 40 s"
        );
        assert_eq!(Budget::unlimited().starting(async { 7 }).await, Some(7));
        assert!(!Budget::unlimited().has_deadline() && budget.has_deadline());
    }

    #[tokio::test]
    async fn an_aws_error_is_a_failure_at_its_stage() {
        let denied = AwsError::new("iam:GetUser", AwsErrorKind::AccessDenied, "no");
        let failure = Budget::unlimited()
            .call(Stage::Audit, async { Err::<(), _>(denied.clone()) })
            .await
            .unwrap_err();
        assert_eq!(failure, Failure::aws(Stage::Audit, denied));
    }
}

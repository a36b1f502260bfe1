//! How the fake answers a call, whatever the service: the call is logged, the hooks waiting
//! for it run, then a fault answers it or the world serves it. And what the log tells a test.

use futures::FutureExt;
use rootsweep::account::AccountId;
use rootsweep::credentials::TaskPolicy;
use rootsweep::ports::{AwsError, Call as PortCall};

use super::faults::{self, Answer};
use super::{FakeAws, World};

/// One logged call: `service:Operation`, the account it targeted, the session's task policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub operation: &'static str,
    pub account: Option<AccountId>,
    pub task: Option<TaskPolicy>,
    /// The task policy ARN an AssumeRoot asked for.
    pub task_policy_arn: Option<String>,
    /// When it was made, on tokio's clock (paused in tests that measure pauses).
    pub at: tokio::time::Instant,
}

impl Call {
    /// A call to `operation`, made now, in no member account.
    pub(super) fn plain(operation: &'static str) -> Self {
        Self {
            operation,
            account: None,
            task: None,
            task_policy_arn: None,
            at: tokio::time::Instant::now(),
        }
    }

    /// A call to `operation` about, or in, `account`.
    pub(super) fn in_account(operation: &'static str, account: &AccountId) -> Self {
        Self {
            account: Some(account.clone()),
            ..Self::plain(operation)
        }
    }
}

/// A change to the world, run just before the first call its matcher accepts is answered.
pub(super) type Hook = Box<dyn FnOnce(&mut World) + Send>;
pub(super) type Matcher = Box<dyn Fn(&Call) -> bool + Send>;

impl World {
    /// Logs the call, runs its hooks, and returns the fault that answers it, if any.
    fn call(&mut self, call: Call) -> Option<Answer> {
        let (operation, account) = (call.operation, call.account.clone());
        let (fire, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut self.hooks)
            .into_iter()
            .partition(|(matches, _)| matches(&call));
        self.hooks = keep;
        self.calls.push(call);
        let due: Vec<Hook> = fire.into_iter().map(|(_, hook)| hook).collect();
        for hook in due {
            hook(self);
        }
        faults::answer_for(&mut self.faults, operation, account.as_ref())
    }
}

impl FakeAws {
    /// Answers `call`: the fault's error, a hang, or `serve` on the world.
    pub(super) async fn answer<T>(
        &self,
        call: Call,
        serve: impl FnOnce(&mut World) -> Result<T, AwsError>,
    ) -> Result<T, AwsError> {
        let operation = call.operation;
        let fault = self.world().call(call);
        match fault {
            Some(Answer::Hang) => std::future::pending().await,
            Some(Answer::Error(mut err)) => {
                err.operation = operation;
                Err(err)
            }
            None => serve(&mut self.world()),
        }
    }

    /// Answers a call of the optional features' boxed ports: `operation`, in no member account.
    pub(super) fn port_call<'a, T: Send + 'a>(
        &'a self,
        operation: &'static str,
        serve: impl FnOnce(&mut World) -> Result<T, AwsError> + Send + 'a,
    ) -> PortCall<'a, T> {
        self.answer(Call::plain(operation), serve).boxed()
    }

    pub fn calls(&self) -> Vec<Call> {
        self.world().calls.clone()
    }

    /// The operations called for `account`, in order.
    pub fn calls_for(&self, account: &AccountId) -> Vec<&'static str> {
        self.calls()
            .into_iter()
            .filter(|c| c.account.as_ref() == Some(account))
            .map(|c| c.operation)
            .collect()
    }

    pub fn count(&self, operation: &str) -> usize {
        self.calls()
            .iter()
            .filter(|c| c.operation == operation)
            .count()
    }

    /// The accounts a root session was opened in with `task`.
    pub fn sessions(&self, task: TaskPolicy) -> Vec<AccountId> {
        self.calls()
            .into_iter()
            .filter(|c| c.operation == "sts:AssumeRoot" && c.task == Some(task))
            .filter_map(|c| c.account)
            .collect()
    }
}

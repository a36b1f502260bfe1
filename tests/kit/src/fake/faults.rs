//! Faults: a call answered by an error or by no answer at all, instead of by the world.

use rootsweep::account::AccountId;
use rootsweep::ports::{AwsError, AwsErrorKind};

/// How a faulted call answers.
#[derive(Debug, Clone)]
pub enum Answer {
    Error(AwsError),
    /// Never answers: for deadlines and timeouts.
    Hang,
}

#[derive(Debug, Clone)]
pub(super) struct Fault {
    operation: &'static str,
    account: Option<AccountId>,
    answer: Answer,
    /// Matching calls let through before the fault applies.
    skip: u32,
    /// Matching calls the fault applies to, after `skip`; every one when `None`.
    times: Option<u32>,
    seen: u32,
}

/// A fault for `operation` (`iam:ListAccessKeys`, `sts:AssumeRoot`, ...).
pub struct FaultBuilder(pub(super) Fault);

impl FaultBuilder {
    pub fn on(operation: &'static str, answer: Answer) -> Self {
        Self(Fault {
            operation,
            account: None,
            answer,
            skip: 0,
            times: None,
            seen: 0,
        })
    }

    /// `operation` fails with `kind` (and an AWS-like code for it; none when no credentials
    /// could be found, as then nothing reached AWS).
    pub fn error(operation: &'static str, kind: AwsErrorKind) -> Self {
        let code = match kind {
            AwsErrorKind::AccessDenied => "AccessDenied",
            AwsErrorKind::Throttled => "Throttling",
            AwsErrorKind::NotFound => "NoSuchEntity",
            AwsErrorKind::ServiceUnavailable => "ServiceUnavailable",
            AwsErrorKind::Timeout | AwsErrorKind::Other => "InternalFailure",
            AwsErrorKind::NoCredentials => {
                let err = AwsError::new(operation, kind, "no credentials found in chain");
                return Self::on(operation, Answer::Error(err));
            }
        };
        Self::coded(operation, kind, code, "injected fault")
    }

    pub fn coded(operation: &'static str, kind: AwsErrorKind, code: &str, message: &str) -> Self {
        Self::on(
            operation,
            Answer::Error(coded(operation, kind, code, message)),
        )
    }

    pub fn for_account(mut self, account: &AccountId) -> Self {
        self.0.account = Some(account.clone());
        self
    }

    pub fn after(mut self, calls: u32) -> Self {
        self.0.skip = calls;
        self
    }

    pub fn times(mut self, calls: u32) -> Self {
        self.0.times = Some(calls);
        self
    }
}

/// An AWS error as the service answers it, with its error code: every error the fake makes,
/// whether a fault or the world's own answer.
pub(super) fn coded(
    operation: &'static str,
    kind: AwsErrorKind,
    code: &str,
    message: &str,
) -> AwsError {
    AwsError::new(operation, kind, message).with_code(code)
}

/// The answer of the first fault that matches a call to `operation` in `account`, if it
/// applies to this call: a matching call counts towards its `skip` and `times`.
pub(super) fn answer_for(
    faults: &mut [Fault],
    operation: &str,
    account: Option<&AccountId>,
) -> Option<Answer> {
    let fault = faults.iter_mut().find(|f| {
        f.operation == operation
            && f.account.as_ref().is_none_or(|a| Some(a) == account)
            && f.times.is_none_or(|t| f.seen < f.skip + t)
    })?;
    fault.seen += 1;
    (fault.seen > fault.skip).then(|| fault.answer.clone())
}

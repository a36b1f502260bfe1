//! Act: one due account's delete session. Its exemption tag is read again first, unless this
//! run read it already. It re-reads the credentials in that session and
//! re-applies the grace rule (someone may have signed in since the audit), removes them in
//! order, and reads back until nothing is left, allowing for IAM's eventual consistency.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::account::AccountId;
use crate::budget::Budget;
use crate::config::{GracePeriod, TagRule};
use crate::credentials::{Credential, CredentialKind, RootCredentials};
use crate::grace::{self, Verdict};
use crate::ledger::TagRead;
use crate::outcome::{AccountReport, Action, ActionKind, Failure, Outcome, Stage};
use crate::ports::{AwsError, Organization, Removal, RootAccess, RootSession};
use crate::reasons::{Cause, ExemptRule, LeftBecause, Note};
use crate::session::{self, Opener};

/// IAM is eventually consistent: right after a delete, a read can still list the credential
/// for a few seconds ("Changes that I make are not always immediately visible", IAM User Guide,
/// troubleshooting). Verification reads back after these pauses before calling it a failure.
pub const VERIFY_PAUSES: [Duration; 3] = [
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(4),
];

/// MFA refused this long after the account became due is no longer the short refusal after a
/// password recovery (seed 001: 10-15 minutes): by then a nightly schedule has tried twice.
pub const RETRY_LATER_LIMIT: TimeDelta = TimeDelta::hours(24);

/// What the act phase needs to know, the same for every account of a run.
pub struct Act<O, R> {
    pub opener: Opener<R>,
    pub grace: GracePeriod,
    pub delete_virtual_mfa_devices: bool,
    pub budget: Budget,
    pub tags: Option<TagCheck<O>>,
}

/// The exemption tag, read again before the delete session of an account whose tags this run
/// did not read itself (they came from the ledger): an exemption added since stops the deletion.
pub struct TagCheck<O> {
    pub org: Arc<O>,
    pub rule: TagRule,
    /// The reads made, for the ledger.
    pub reads: Mutex<BTreeMap<AccountId, TagRead>>,
}

impl<O: Organization> TagCheck<O> {
    /// `Some` outcome when the account must be left alone: tagged exempt, or its tags unreadable.
    async fn leave_alone(&self, report: &mut AccountReport, budget: Budget) -> Option<Outcome> {
        let read = budget
            .within(Stage::ExemptionCheck, self.org.tags(&report.account_id))
            .await;
        let tags = match read {
            Ok(Ok(tags)) => tags,
            Ok(Err(err)) => {
                let failure = Failure::new(Stage::ExemptionCheck, Cause::TagsUnreadable(err));
                return Some(Outcome::Failed(failure));
            }
            Err(failure) => return Some(Outcome::Failed(failure)),
        };
        let exempt = self.rule.matches(&tags);
        self.reads
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(
                report.account_id.clone(),
                TagRead {
                    at: Utc::now(),
                    exempt,
                },
            );
        exempt.then(|| {
            report.note(Note::ExemptBeforeDeletion);
            Outcome::Exempt(ExemptRule::Tag(self.rule.clone()))
        })
    }
}

impl<O: Organization, R: RootAccess> Act<O, R> {
    /// Remediates one due account; its report records the session, what was done and why.
    /// `tags_read_now`: whether this run read its tags (else they are read again first).
    pub async fn remediate(&self, report: &mut AccountReport, tags_read_now: bool) -> Outcome {
        if let (false, Some(check)) = (tags_read_now, &self.tags)
            && let Some(outcome) = check.leave_alone(report, self.budget).await
        {
            return outcome;
        }
        // A failure keeps the due time the plan found (its outcome is still `Due` here).
        let found_due = report.outcome.due_at();
        self.delete_session(report)
            .await
            .unwrap_or_else(|failure| Outcome::Failed(failure.after_due(found_due)))
    }

    async fn delete_session(&self, report: &mut AccountReport) -> Result<Outcome, Failure> {
        let budget = self.budget;
        let session = session::open(&self.opener, report, budget, Stage::AssumeRootDelete).await?;
        let current = budget
            .call(Stage::Recheck, session::everything(&session))
            .await?;
        let assessment = grace::assess(&current, &self.grace, Utc::now());
        let due_at = match report.record(&current, assessment) {
            Verdict::Due { due_at } => due_at,
            Verdict::Clean => {
                report.note(Note::GoneBeforeDeletion);
                return Ok(Outcome::Clean);
            }
            Verdict::InGrace { due_at } => {
                report.note(Note::NewerActivity);
                return Ok(Outcome::InGrace { due_at });
            }
        };
        if let Some(refused) = self.remove_all(&session, &current, report).await? {
            return mfa_refused(refused, due_at);
        }
        self.virtual_mfa_devices(&session, &current, report).await?;
        verify(&session, budget).await?;
        report.note(Note::Verified);
        Ok(Outcome::Remediated { due_at })
    }

    /// Removes every credential in order. Stops at an MFA device AWS will not deactivate yet,
    /// and returns that refusal.
    async fn remove_all<S: RootSession>(
        &self,
        session: &S,
        current: &RootCredentials,
        report: &mut AccountReport,
    ) -> Result<Option<AwsError>, Failure> {
        for credential in current.in_removal_order() {
            let removal = match self
                .budget
                .within(Stage::Remove, session.remove(credential))
                .await?
            {
                Ok(removal) => removal,
                Err(err) if is_mfa_settling(credential, &err) => return Ok(Some(err)),
                Err(err) => return Err(Failure::aws(Stage::Remove, err)),
            };
            report.actions.push(Action {
                action: match (removal, credential.kind) {
                    (Removal::AlreadyGone, _) => ActionKind::AlreadyGone,
                    (Removal::Removed, CredentialKind::MfaDevice) => ActionKind::Deactivated,
                    (Removal::Removed, _) => ActionKind::Deleted,
                },
                kind: credential.kind,
                id: credential.id.clone(),
            });
        }
        Ok(None)
    }

    /// A deactivated virtual MFA device stays in the account as an unassigned resource. It is
    /// deleted only where the configuration says the task policy allows it: a refused call
    /// would be logged as an AccessDenied by root in the member account.
    async fn virtual_mfa_devices<S: RootSession>(
        &self,
        session: &S,
        current: &RootCredentials,
        report: &mut AccountReport,
    ) -> Result<(), Failure> {
        for device in current.credentials.iter().filter(|c| c.is_virtual_mfa()) {
            let why = if !self.delete_virtual_mfa_devices {
                LeftBecause::NotConfigured
            } else {
                let deleted = session.delete_virtual_mfa_device(&device.id);
                match self.budget.within(Stage::Remove, deleted).await? {
                    Ok(Removal::Removed) => {
                        report.actions.push(Action {
                            action: ActionKind::DeletedVirtualMfaDevice,
                            kind: CredentialKind::MfaDevice,
                            id: device.id.clone(),
                        });
                        continue;
                    }
                    Ok(Removal::AlreadyGone) => continue,
                    Err(err) => LeftBecause::Refused(err),
                }
            };
            report.note(Note::VirtualMfaDeviceLeft {
                serial: device.id.clone(),
                why,
            });
        }
        Ok(())
    }
}

/// The transient refusal to deactivate MFA after a root password recovery, matched narrowly:
/// `DeactivateMFADevice` answering IAM's `EntityTemporarilyUnmodifiable` (409). AWS does not
/// document the code it uses for the "invalid MFA device" refusal of seed 001; every other
/// error, whatever its message says, fails the account.
fn is_mfa_settling(credential: &Credential, err: &AwsError) -> bool {
    credential.kind == CredentialKind::MfaDevice && err.has_code("EntityTemporarilyUnmodifiable")
}

fn mfa_refused(error: AwsError, due_at: DateTime<Utc>) -> Result<Outcome, Failure> {
    if Utc::now() - due_at < RETRY_LATER_LIMIT {
        Ok(Outcome::RetryLater { due_at, error })
    } else {
        Err(Failure::new(
            Stage::Remove,
            Cause::MfaStillRefused { error, due_at },
        ))
    }
}

/// Reads back until nothing is left, pausing between reads for IAM's eventual consistency.
async fn verify<S: RootSession>(session: &S, budget: Budget) -> Result<(), Failure> {
    let mut reads = 0;
    loop {
        let left = budget
            .call(Stage::Verify, session::remaining(session))
            .await?;
        reads += 1;
        if left.is_empty() {
            return Ok(());
        }
        let Some(pause) = VERIFY_PAUSES.get(reads as usize - 1) else {
            let left = left.into_iter().map(|c| (c.kind, c.id)).collect();
            return Err(Failure::new(
                Stage::Verify,
                Cause::StillPresent { left, reads },
            ));
        };
        budget
            .within(Stage::Verify, tokio::time::sleep(*pause))
            .await?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::AwsErrorKind;

    fn refusal() -> AwsError {
        AwsError::new(
            "iam:DeactivateMFADevice",
            AwsErrorKind::Other,
            "EntityTemporarilyUnmodifiable".to_owned(),
        )
    }

    /// README: MFA that IAM will not deactivate yet is retried for 24 hours after the account
    /// became due, then the account fails.
    #[test]
    fn mfa_refused_is_retried_for_24_hours_after_the_due_time_then_fails() {
        let just_inside = Utc::now() - TimeDelta::hours(23) - TimeDelta::minutes(59);
        assert!(matches!(
            mfa_refused(refusal(), just_inside),
            Ok(Outcome::RetryLater { .. })
        ));
        let just_past = Utc::now() - TimeDelta::hours(24) - TimeDelta::minutes(1);
        let failure = mfa_refused(refusal(), just_past).unwrap_err();
        assert_eq!(failure.stage, Stage::Remove);
        assert!(matches!(failure.cause, Cause::MfaStillRefused { .. }));
    }
}

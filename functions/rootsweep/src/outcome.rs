//! How each account ends: one [`Outcome`] per account, with what was found and done.

use std::fmt::Display;

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

use crate::account::{AccountId, AccountState};
use crate::credentials::{Credential, CredentialKind, RootCredentials, TaskPolicy};
use crate::error::AwsError;
use crate::grace::{Assessment, Verdict};
use crate::names::named_enum;
use crate::reasons::{
    Cause, DateAnomaly, ExemptRule, HoldReason, NotReachedReason, Note, SkipReason,
};

named_enum! {
    /// Where an account's processing failed.
    pub enum Stage {
        ExemptionCheck => "exemption_check",
        AssumeRootAudit => "assume_root_audit",
        Audit => "audit",
        AssumeRootDelete => "assume_root_delete",
        Recheck => "recheck",
        Remove => "remove",
        Verify => "verify",
    }
}

/// A failure, as a value: the stage it happened at and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub stage: Stage,
    pub cause: Cause,
    /// When the credentials became due, for a failure after the audit found them past their
    /// grace period: the report line keeps saying so, and the evidence keeps counting.
    pub due_at: Option<DateTime<Utc>>,
}

impl Failure {
    pub fn new(stage: Stage, cause: Cause) -> Self {
        Self {
            stage,
            cause,
            due_at: None,
        }
    }

    /// The failure of an account already found past its grace period (due since `due_at`).
    pub fn after_due(self, due_at: Option<DateTime<Utc>>) -> Self {
        Self { due_at, ..self }
    }

    pub fn aws(stage: Stage, error: AwsError) -> Self {
        Self::new(stage, Cause::Aws(error))
    }
}

named_enum! {
    /// The outcome names, as the report, the summary, the metrics and the CLI show them.
    pub enum OutcomeKind {
        Clean => "clean",
        InGrace => "in_grace",
        Due => "due",
        Remediated => "remediated",
        RetryLater => "retry_later",
        Skipped => "skipped",
        Exempt => "exempt",
        Failed => "failed",
        NotReached => "not_reached",
    }
}

/// How one account ended. Every account in a run ends in exactly one of these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// No root credentials.
    Clean,
    /// Root credentials that may be deleted from `due_at` on.
    InGrace {
        due_at: DateTime<Utc>,
    },
    /// Past their grace period and not deleted: `held` says why, once the run has decided
    /// (`None` in a plan still waiting for its decision).
    Due {
        due_at: DateTime<Utc>,
        held: Option<HoldReason>,
    },
    /// Past their grace period, deleted, and checked gone.
    Remediated {
        due_at: DateTime<Utc>,
    },
    /// Past their grace period; AWS refused to deactivate MFA for now, as it does for a while
    /// after a root password recovery (seed 001). The next run finishes it.
    RetryLater {
        due_at: DateTime<Utc>,
        error: AwsError,
    },
    Skipped(SkipReason),
    Exempt(ExemptRule),
    Failed(Failure),
    /// Not finished because the run reached its deadline (or its listing broke off).
    NotReached(NotReachedReason),
}

impl Outcome {
    pub fn kind(&self) -> OutcomeKind {
        match self {
            Outcome::Clean => OutcomeKind::Clean,
            Outcome::InGrace { .. } => OutcomeKind::InGrace,
            Outcome::Due { .. } => OutcomeKind::Due,
            Outcome::Remediated { .. } => OutcomeKind::Remediated,
            Outcome::RetryLater { .. } => OutcomeKind::RetryLater,
            Outcome::Skipped(_) => OutcomeKind::Skipped,
            Outcome::Exempt(_) => OutcomeKind::Exempt,
            Outcome::Failed(_) => OutcomeKind::Failed,
            Outcome::NotReached(_) => OutcomeKind::NotReached,
        }
    }

    /// When the credentials are (or were) due: also after a failure or a deadline that came
    /// once the account was found past its grace period.
    pub fn due_at(&self) -> Option<DateTime<Utc>> {
        match self {
            Outcome::InGrace { due_at }
            | Outcome::Due { due_at, .. }
            | Outcome::Remediated { due_at }
            | Outcome::RetryLater { due_at, .. }
            | Outcome::NotReached(NotReachedReason::NotRemediated { due_at, .. }) => Some(*due_at),
            Outcome::Failed(failure) => failure.due_at,
            _ => None,
        }
    }

    /// Whether the account was audited (or an audit was attempted).
    pub fn was_scanned(&self) -> bool {
        !matches!(
            self,
            Outcome::Skipped(_) | Outcome::Exempt(_) | Outcome::NotReached(_)
        )
    }

    /// Whether the account's state is unknown after this run: it could hold due credentials.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Outcome::Failed(_) | Outcome::NotReached(_))
    }

    /// The outcome's explanation, as the report's `reason`/`rule`/`error` field says it.
    pub fn detail(&self) -> Option<String> {
        match self {
            Outcome::Clean | Outcome::InGrace { .. } | Outcome::Remediated { .. } => None,
            Outcome::Due { held, .. } => held.as_ref().map(ToString::to_string),
            Outcome::RetryLater { error, .. } => Some(format!(
                "{error}. AWS refuses to deactivate MFA for a while after a root password recovery: the next run will finish this account"
            )),
            Outcome::Skipped(reason) => Some(reason.to_string()),
            Outcome::Exempt(rule) => Some(rule.to_string()),
            Outcome::Failed(failure) => Some(failure.cause.to_string()),
            Outcome::NotReached(reason) => Some(reason.to_string()),
        }
    }
}

/// The outcome's fields in a report line: `outcome`, then `due_at`, `stage`, and the detail
/// under the name that fits it.
impl Serialize for Outcome {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Fields {
            outcome: OutcomeKind,
            #[serde(skip_serializing_if = "Option::is_none")]
            due_at: Option<DateTime<Utc>>,
            #[serde(skip_serializing_if = "Option::is_none")]
            stage: Option<Stage>,
            #[serde(skip_serializing_if = "Option::is_none")]
            reason: Option<String>,
            #[serde(skip_serializing_if = "Option::is_none")]
            rule: Option<String>,
            #[serde(skip_serializing_if = "Option::is_none")]
            error: Option<String>,
        }
        let detail = self.detail();
        let (mut reason, mut rule, mut error) = (None, None, None);
        match self {
            Outcome::Exempt(_) => rule = detail,
            Outcome::Failed(_) | Outcome::RetryLater { .. } => error = detail,
            _ => reason = detail,
        }
        Fields {
            outcome: self.kind(),
            due_at: self.due_at(),
            stage: match self {
                Outcome::Failed(failure) => Some(failure.stage),
                _ => None,
            },
            reason,
            rule,
            error,
        }
        .serialize(s)
    }
}

named_enum! {
    /// One thing done to a credential.
    pub enum ActionKind {
        Deleted => "deleted",
        Deactivated => "deactivated",
        /// It was gone already when we tried (`NoSuchEntity`).
        AlreadyGone => "already_gone",
        /// A deactivated virtual MFA device, deleted as well.
        DeletedVirtualMfaDevice => "deleted_virtual_mfa_device",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Action {
    pub action: ActionKind,
    pub kind: CredentialKind,
    pub id: String,
}

/// One root session opened for an account, so that an operator can match the root activity
/// CloudTrail records in the member account to this run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionRecord {
    pub task_policy: TaskPolicy,
    pub request_id: Option<String>,
}

/// Everything the report says about one account. Never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountReport {
    pub account_id: AccountId,
    pub account_name: String,
    /// `None` when a named account was not found in the organization.
    pub account_state: Option<AccountState>,
    #[serde(flatten)]
    pub outcome: Outcome,
    /// The credentials as last read (after a deletion: what was deleted).
    pub credentials: Vec<Credential>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_last_used: Option<DateTime<Utc>>,
    /// The kinds found by the audit, for the counts.
    #[serde(skip)]
    pub found: Vec<CredentialKind>,
    pub actions: Vec<Action>,
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "as_text")]
    pub notes: Vec<Note>,
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "as_text")]
    pub date_anomalies: Vec<DateAnomaly>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub root_sessions: Vec<SessionRecord>,
    /// When the account reached its outcome.
    pub finished_at: DateTime<Utc>,
}

fn as_text<S: Serializer, T: Display>(items: &[T], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(items.iter().map(ToString::to_string))
}

impl AccountReport {
    pub fn new(
        account_id: AccountId,
        account_name: String,
        account_state: Option<AccountState>,
        outcome: Outcome,
    ) -> Self {
        Self {
            account_id,
            account_name,
            account_state,
            outcome,
            credentials: Vec::new(),
            password_last_used: None,
            found: Vec::new(),
            actions: Vec::new(),
            notes: Vec::new(),
            date_anomalies: Vec::new(),
            root_sessions: Vec::new(),
            finished_at: Utc::now(),
        }
    }

    /// Stamps the moment the account reached its outcome.
    pub fn finish(mut self) -> Self {
        self.finished_at = Utc::now();
        self
    }

    /// The credentials this run removed (not those someone else removed first).
    pub fn deleted(&self) -> impl Iterator<Item = CredentialKind> + '_ {
        self.actions
            .iter()
            .filter(|a| matches!(a.action, ActionKind::Deleted | ActionKind::Deactivated))
            .map(|a| a.kind)
    }

    pub fn held_by_odd_dates(&self) -> bool {
        self.notes.contains(&Note::HeldByOddDates)
    }

    /// Adds a note once.
    pub fn note(&mut self, note: Note) {
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }
}

impl AccountReport {
    /// Records what a session read and what the grace rule made of it; returns the verdict.
    pub fn record(&mut self, snapshot: &RootCredentials, assessment: Assessment) -> Verdict {
        self.credentials = snapshot.credentials.clone();
        self.password_last_used = snapshot.password_last_used;
        for anomaly in &assessment.anomalies {
            if !self.date_anomalies.contains(anomaly) {
                self.date_anomalies.push(anomaly.clone());
            }
        }
        if assessment.held_by_odd_dates() {
            self.note(Note::HeldByOddDates);
        }
        assessment.verdict
    }
}

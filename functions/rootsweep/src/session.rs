//! Root sessions as the engine uses them: opened (and recorded in the report, so that CloudTrail's
//! root activity in the member account can be matched to the run), then read with as few calls
//! as the task policy allows.

use crate::budget::Budget;
use crate::credentials::{Credential, CredentialKind, RootCredentials, TaskPolicyArn};
use crate::outcome::{AccountReport, Failure, SessionRecord, Stage};
use crate::pace::Pace;
use crate::ports::{AwsError, RootAccess, RootSession, RootUser};

/// What opening a root session takes: the caller-wide pace for AssumeRoot, and the task.
pub struct Opener<R> {
    pub root: std::sync::Arc<R>,
    pub pace: std::sync::Arc<Pace>,
    pub task: TaskPolicyArn,
}

/// `sts:AssumeRoot` into the report's account, in its turn; a failure is at `stage`.
pub async fn open<R: RootAccess>(
    opener: &Opener<R>,
    report: &mut AccountReport,
    budget: Budget,
    stage: Stage,
) -> Result<R::Session, Failure> {
    let account = &report.account_id;
    let paced = async {
        opener.pace.wait().await;
        opener.root.assume_root(account, &opener.task).await
    };
    let session = budget.call(stage, paced).await?;
    report.root_sessions.push(SessionRecord {
        task_policy: opener.task.task,
        request_id: session.request_id().map(str::to_owned),
    });
    Ok(session)
}

// A session makes one call at a time: an account holds at most one connection, so the
// connections a run opens stay near its concurrency bound.

/// Audit session: `GetAccountSummary` and `GetLoginProfile` say what exists; every other kind
/// is listed unless the summary says there is none of it (a summary that does not say is no
/// proof of "none"), and `GetUser` (the root user's dates) is read only when something may
/// exist. A clean account costs these two calls.
pub async fn audit<S: RootSession>(session: &S) -> Result<RootCredentials, AwsError> {
    let summary = session.summary().await?;
    let password = session.list(CredentialKind::Password).await?;
    let present: Vec<CredentialKind> = CredentialKind::ALL
        .iter()
        .copied()
        .filter(|kind| *kind != CredentialKind::Password && summary.shows(*kind) != Some(false))
        .collect();
    if password.is_empty() && present.is_empty() {
        return Ok(RootCredentials::default());
    }
    let user = session.root_user().await?;
    let others = kinds(session, &present).await?;
    let found = password.into_iter().chain(others).collect();
    Ok(snapshot(user, with_last_use(session, found).await?))
}

/// Delete session (no `GetAccountSummary` there): everything, so that a credential added since
/// the audit is seen.
pub async fn everything<S: RootSession>(session: &S) -> Result<RootCredentials, AwsError> {
    let user = session.root_user().await?;
    let found = kinds(session, CredentialKind::ALL).await?;
    Ok(snapshot(user, with_last_use(session, found).await?))
}

/// The credentials of every kind, without the root user's dates or the keys' last use: what is
/// left after deleting. Presence is all a verification needs, and while IAM propagates a
/// deletion, `ListAccessKeys` may still list the deleted key when `GetAccessKeyLastUsed` of it
/// already answers AccessDenied: asking would fail an account that is clean.
pub async fn remaining<S: RootSession>(session: &S) -> Result<Vec<Credential>, AwsError> {
    kinds(session, CredentialKind::ALL).await
}

/// Each access key's last use, for the report.
async fn with_last_use<S: RootSession>(
    session: &S,
    mut credentials: Vec<Credential>,
) -> Result<Vec<Credential>, AwsError> {
    for key in credentials
        .iter_mut()
        .filter(|c| c.kind == CredentialKind::AccessKey)
    {
        key.last_used = session.last_used(&key.id).await?;
    }
    Ok(credentials)
}

async fn kinds<S: RootSession>(
    session: &S,
    kinds: &[CredentialKind],
) -> Result<Vec<Credential>, AwsError> {
    let mut credentials = Vec::new();
    for kind in kinds {
        credentials.extend(session.list(*kind).await?);
    }
    Ok(credentials)
}

fn snapshot(user: RootUser, credentials: Vec<Credential>) -> RootCredentials {
    RootCredentials {
        user_created: user.created,
        password_last_used: user.password_last_used,
        credentials,
    }
}

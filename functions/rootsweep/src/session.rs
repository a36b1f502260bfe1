//! Root sessions as the engine uses them: opened (and recorded in the report, so that CloudTrail's
//! root activity in the member account can be matched to the run), then read with as few calls
//! as the task policy allows.

use futures::future::try_join_all;

use crate::budget::Budget;
use crate::credentials::{Credential, CredentialKind, RootCredentials, TaskPolicyArn};
use crate::outcome::{AccountReport, Failure, SessionRecord, Stage};
use crate::ports::{AwsError, RootAccess, RootSession, RootUser};

/// `sts:AssumeRoot` into the report's account with `task`; a failure is at `stage`.
pub async fn open<R: RootAccess>(
    root: &R,
    task: &TaskPolicyArn,
    report: &mut AccountReport,
    budget: Budget,
    stage: Stage,
) -> Result<R::Session, Failure> {
    let session = budget
        .call(stage, root.assume_root(&report.account_id, task))
        .await?;
    report.root_sessions.push(SessionRecord {
        task_policy: task.task,
        request_id: session.request_id().map(str::to_owned),
    });
    Ok(session)
}

/// Audit session: `GetAccountSummary` and `GetLoginProfile` say what exists; only those kinds
/// are listed, and `GetUser` (the root user's dates) is read only when something exists. A
/// clean account costs these two calls.
pub async fn audit<S: RootSession>(session: &S) -> Result<RootCredentials, AwsError> {
    let (summary, password) =
        tokio::try_join!(session.summary(), session.list(CredentialKind::Password))?;
    let present: Vec<CredentialKind> = CredentialKind::ALL
        .iter()
        .copied()
        .filter(|kind| summary.shows(*kind) == Some(true))
        .collect();
    if password.is_empty() && present.is_empty() {
        return Ok(RootCredentials::default());
    }
    let (user, others) = tokio::try_join!(session.root_user(), kinds(session, &present))?;
    Ok(snapshot(user, password.into_iter().chain(others).collect()))
}

/// Delete session (no `GetAccountSummary` there): everything, so that a credential added since
/// the audit is seen.
pub async fn everything<S: RootSession>(session: &S) -> Result<RootCredentials, AwsError> {
    let (user, credentials) =
        tokio::try_join!(session.root_user(), kinds(session, CredentialKind::ALL))?;
    Ok(snapshot(user, credentials))
}

/// The credentials of every kind, without the root user's dates: what is left after deleting.
pub async fn remaining<S: RootSession>(session: &S) -> Result<Vec<Credential>, AwsError> {
    kinds(session, CredentialKind::ALL).await
}

async fn kinds<S: RootSession>(
    session: &S,
    kinds: &[CredentialKind],
) -> Result<Vec<Credential>, AwsError> {
    let lists = try_join_all(kinds.iter().map(|kind| session.list(*kind))).await?;
    Ok(lists.into_iter().flatten().collect())
}

fn snapshot(user: RootUser, credentials: Vec<Credential>) -> RootCredentials {
    RootCredentials {
        user_created: user.created,
        password_last_used: user.password_last_used,
        credentials,
    }
}

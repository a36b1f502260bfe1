//! Root sessions ([`RootAccess`], [`RootSession`]): `sts:AssumeRoot` in a member account, and
//! the IAM calls on its root user, each allowed only by the session's task policy. A deleted
//! credential is gone, or, when the world asks for it, still listed for a few reads;
//! `NoSuchEntity` for what is not there.

use chrono::{DateTime, Utc};
use rootsweep::account::AccountId;
use rootsweep::credentials::{Credential, CredentialKind, TaskPolicy, TaskPolicyArn};
use rootsweep::ports::{
    AccountSummary, AwsError, AwsErrorKind, Removal, RootAccess, RootSession, RootUser,
};

use super::calls::Call;
use super::faults::coded;
use super::{FakeAws, World};

fn denied(operation: &'static str, why: &str) -> AwsError {
    coded(operation, AwsErrorKind::AccessDenied, "AccessDenied", why)
}

impl RootAccess for FakeAws {
    type Session = FakeSession;

    async fn assume_root(
        &self,
        account: &AccountId,
        task: &TaskPolicyArn,
    ) -> Result<FakeSession, AwsError> {
        let call = Call {
            task: Some(task.task),
            task_policy_arn: Some(task.as_str().to_owned()),
            ..Call::in_account("sts:AssumeRoot", account)
        };
        let expected = TaskPolicyArn::new(task.task, &self.world().caller.partition);
        let request_id = self
            .answer(call, |w| {
                if *task != expected {
                    return Err(denied(
                        "sts:AssumeRoot",
                        "not a task policy of this partition",
                    ));
                }
                if *account == w.management {
                    return Err(denied(
                        "sts:AssumeRoot",
                        "no root session in the management account",
                    ));
                }
                w.sessions += 1;
                Ok(format!("fake-request-{}", w.sessions))
            })
            .await?;
        Ok(FakeSession {
            aws: self.clone(),
            account: account.clone(),
            task: task.task,
            request_id,
        })
    }
}

/// A root session in one member account, limited by its task policy.
pub struct FakeSession {
    aws: FakeAws,
    account: AccountId,
    task: TaskPolicy,
    request_id: String,
}

/// What each task policy allows (AWS-ROOT-ACCESS.md).
fn allows(task: TaskPolicy, operation: &str, world: &World) -> bool {
    const READS: [&str; 6] = [
        "iam:GetUser",
        "iam:GetLoginProfile",
        "iam:ListAccessKeys",
        "iam:GetAccessKeyLastUsed",
        "iam:ListSigningCertificates",
        "iam:ListMFADevices",
    ];
    const DELETES: [&str; 4] = [
        "iam:DeleteLoginProfile",
        "iam:DeleteAccessKey",
        "iam:DeleteSigningCertificate",
        "iam:DeactivateMFADevice",
    ];
    READS.contains(&operation)
        || match task {
            TaskPolicy::Audit => operation == "iam:GetAccountSummary",
            TaskPolicy::Delete => {
                DELETES.contains(&operation)
                    || (operation == "iam:DeleteVirtualMFADevice"
                        && world.delete_policy_allows_virtual_mfa)
            }
        }
}

impl FakeSession {
    async fn iam<T>(
        &self,
        operation: &'static str,
        serve: impl FnOnce(&mut World, &AccountId) -> Result<T, AwsError>,
    ) -> Result<T, AwsError> {
        let call = Call {
            task: Some(self.task),
            ..Call::in_account(operation, &self.account)
        };
        let (task, account) = (self.task, self.account.clone());
        self.aws
            .answer(call, move |w| {
                if !allows(task, operation, w) {
                    return Err(denied(
                        operation,
                        "not allowed by the session's task policy",
                    ));
                }
                serve(w, &account)
            })
            .await
    }

    fn list_operation(kind: CredentialKind) -> &'static str {
        match kind {
            CredentialKind::Password => "iam:GetLoginProfile",
            CredentialKind::AccessKey => "iam:ListAccessKeys",
            CredentialKind::SigningCertificate => "iam:ListSigningCertificates",
            CredentialKind::MfaDevice => "iam:ListMFADevices",
        }
    }

    fn remove_operation(kind: CredentialKind) -> &'static str {
        match kind {
            CredentialKind::Password => "iam:DeleteLoginProfile",
            CredentialKind::AccessKey => "iam:DeleteAccessKey",
            CredentialKind::SigningCertificate => "iam:DeleteSigningCertificate",
            CredentialKind::MfaDevice => "iam:DeactivateMFADevice",
        }
    }
}

impl RootSession for FakeSession {
    fn request_id(&self) -> Option<&str> {
        Some(&self.request_id)
    }

    async fn summary(&self) -> Result<AccountSummary, AwsError> {
        self.iam("iam:GetAccountSummary", |w, account| {
            let has = |kind| Some(!w.credentials(account, kind).is_empty());
            Ok(AccountSummary {
                access_keys: has(CredentialKind::AccessKey),
                signing_certificates: has(CredentialKind::SigningCertificate),
                mfa_devices: has(CredentialKind::MfaDevice),
            })
        })
        .await
    }

    async fn root_user(&self) -> Result<RootUser, AwsError> {
        self.iam("iam:GetUser", |w, account| {
            let root = w.root(account);
            Ok(RootUser {
                created: root.created,
                password_last_used: root.password_last_used,
            })
        })
        .await
    }

    async fn list(&self, kind: CredentialKind) -> Result<Vec<Credential>, AwsError> {
        self.iam(Self::list_operation(kind), |w, account| {
            let listed = w.credentials(account, kind);
            w.read(account);
            Ok(listed)
        })
        .await
    }

    /// A key IAM still lists after its deletion (a ghost) answers AccessDenied, as IAM does
    /// while the deletion propagates, and as it does for any key that is not the root user's.
    async fn last_used(&self, access_key_id: &str) -> Result<Option<DateTime<Utc>>, AwsError> {
        let id = access_key_id.to_owned();
        self.iam("iam:GetAccessKeyLastUsed", move |w, account| {
            w.root(account)
                .credentials
                .iter()
                .find(|c| c.kind == CredentialKind::AccessKey && c.id == id)
                .map(|key| key.last_used)
                .ok_or_else(|| {
                    denied(
                        "iam:GetAccessKeyLastUsed",
                        &format!("not authorized on resource: access key {id}"),
                    )
                })
        })
        .await
    }

    async fn remove(&self, credential: &Credential) -> Result<Removal, AwsError> {
        let target = credential.clone();
        self.iam(
            Self::remove_operation(credential.kind),
            move |w, account| {
                let stale = w.stale_reads_after_delete;
                let root = w.root(account);
                let Some(at) = root
                    .credentials
                    .iter()
                    .position(|c| c.kind == target.kind && c.id == target.id)
                else {
                    return Ok(Removal::AlreadyGone);
                };
                let removed = root.credentials.remove(at);
                if removed.is_virtual_mfa() {
                    root.unassigned_virtual_mfa.push(removed.id.clone());
                }
                if stale > 0 {
                    w.ghosts.push((account.clone(), removed, stale));
                }
                Ok(Removal::Removed)
            },
        )
        .await
    }

    async fn delete_virtual_mfa_device(&self, serial: &str) -> Result<Removal, AwsError> {
        let serial = serial.to_owned();
        self.iam("iam:DeleteVirtualMFADevice", move |w, account| {
            let root = w.root(account);
            let before = root.unassigned_virtual_mfa.len();
            root.unassigned_virtual_mfa.retain(|s| *s != serial);
            Ok(if root.unassigned_virtual_mfa.len() < before {
                Removal::Removed
            } else {
                Removal::AlreadyGone
            })
        })
        .await
    }
}

/// IAM's eventual consistency: a deleted credential (a ghost) is still listed for
/// [`World::stale_reads_after_delete`] reads in its account.
impl World {
    /// The root user's credentials of `kind` as IAM lists them: the live ones and the ghosts.
    fn credentials(&self, account: &AccountId, kind: CredentialKind) -> Vec<Credential> {
        let live = self
            .members
            .iter()
            .find(|m| &m.account.id == account)
            .map(|m| m.root.credentials.clone())
            .unwrap_or_default();
        let ghosts = self
            .ghosts
            .iter()
            .filter(|(a, _, _)| a == account)
            .map(|(_, c, _)| c.clone());
        live.into_iter()
            .chain(ghosts)
            .filter(|c| c.kind == kind)
            .collect()
    }

    /// A read in `account`: ghosts fade.
    fn read(&mut self, account: &AccountId) {
        for ghost in self.ghosts.iter_mut().filter(|(a, _, _)| a == account) {
            ghost.2 = ghost.2.saturating_sub(1);
        }
        self.ghosts.retain(|(_, _, reads)| *reads > 0);
    }
}

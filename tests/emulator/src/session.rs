//! Root sessions (what AssumeRoot hands out), the task policies that scope them, and the caller
//! of a request.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The AWS managed policies under `arn:aws:iam::aws:policy/root-task/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaskPolicy {
    IAMAuditRootUserCredentials,
    IAMDeleteRootUserCredentials,
    /// Accepted by AssumeRoot; none of its actions are emulated, so its sessions can do nothing.
    IAMCreateRootUserPassword,
    /// As above.
    S3UnlockBucketPolicy,
    /// As above.
    SQSUnlockQueuePolicy,
}

const ARN_PREFIX: &str = "arn:aws:iam::aws:policy/root-task/";

/// The read calls both IAM credential policies allow.
const READS: [&str; 6] = [
    "GetUser",
    "GetLoginProfile",
    "ListAccessKeys",
    "GetAccessKeyLastUsed",
    "ListSigningCertificates",
    "ListMFADevices",
];

impl TaskPolicy {
    const ALL: [TaskPolicy; 5] = [
        Self::IAMAuditRootUserCredentials,
        Self::IAMDeleteRootUserCredentials,
        Self::IAMCreateRootUserPassword,
        Self::S3UnlockBucketPolicy,
        Self::SQSUnlockQueuePolicy,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::IAMAuditRootUserCredentials => "IAMAuditRootUserCredentials",
            Self::IAMDeleteRootUserCredentials => "IAMDeleteRootUserCredentials",
            Self::IAMCreateRootUserPassword => "IAMCreateRootUserPassword",
            Self::S3UnlockBucketPolicy => "S3UnlockBucketPolicy",
            Self::SQSUnlockQueuePolicy => "SQSUnlockQueuePolicy",
        }
    }

    pub fn arn(self) -> String {
        format!("{ARN_PREFIX}{}", self.name())
    }

    pub fn from_arn(arn: &str) -> Option<TaskPolicy> {
        let name = arn.strip_prefix(ARN_PREFIX)?;
        Self::ALL.into_iter().find(|policy| policy.name() == name)
    }

    /// Whether a session scoped by this policy may call the IAM operation (AWS-ROOT-ACCESS.md,
    /// "Task policies"). `DeleteVirtualMFADevice` left the delete policy in January 2025; the org
    /// decides which version we emulate.
    pub fn allows(self, iam_operation: &str, delete_virtual_mfa_allowed: bool) -> bool {
        match self {
            Self::IAMAuditRootUserCredentials => {
                READS.contains(&iam_operation) || iam_operation == "GetAccountSummary"
            }
            Self::IAMDeleteRootUserCredentials => {
                READS.contains(&iam_operation)
                    || matches!(
                        iam_operation,
                        "DeleteLoginProfile"
                            | "DeleteAccessKey"
                            | "DeleteSigningCertificate"
                            | "DeactivateMFADevice"
                    )
                    || (iam_operation == "DeleteVirtualMFADevice" && delete_virtual_mfa_allowed)
            }
            Self::IAMCreateRootUserPassword
            | Self::S3UnlockBucketPolicy
            | Self::SQSUnlockQueuePolicy => false,
        }
    }
}

/// The credentials of one root session, as AssumeRoot returned them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootSession {
    /// Starts with `ASIAEMU`.
    pub access_key_id: String,
    /// Contains `EMUSECRET`.
    pub secret_access_key: String,
    /// Starts with `EMUTOKEN`.
    pub session_token: String,
    /// The member account whose root user the session acts as.
    pub account_id: String,
    pub task_policy: TaskPolicy,
    pub expiration: DateTime<Utc>,
}

/// The caller's long-term credentials when a run sets none: AWS's own example pair (the SigV4
/// documentation's `AKIDEXAMPLE`).
pub const DEFAULT_CALLER_ACCESS_KEY_ID: &str = "AKIDEXAMPLE";
pub const DEFAULT_CALLER_SECRET_ACCESS_KEY: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

/// The environment an AWS tool (the SDK's standard configuration, boto3, the AWS CLI) needs to
/// call the emulator at `url` as its caller, with the default credentials, in `us-east-1`.
pub fn client_environment(url: &str) -> [(&'static str, String); 4] {
    [
        ("AWS_ENDPOINT_URL", url.to_owned()),
        ("AWS_ACCESS_KEY_ID", DEFAULT_CALLER_ACCESS_KEY_ID.to_owned()),
        (
            "AWS_SECRET_ACCESS_KEY",
            DEFAULT_CALLER_SECRET_ACCESS_KEY.to_owned(),
        ),
        ("AWS_REGION", "us-east-1".to_owned()),
    ]
}

/// The credentials the caller principal (the function's role in production) signs with. The
/// emulator knows the secret, as AWS does, to check every signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl CallerCredentials {
    pub fn new(access_key_id: impl Into<String>, secret_access_key: impl Into<String>) -> Self {
        Self {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
        }
    }
}

impl Default for CallerCredentials {
    fn default() -> Self {
        Self::new(
            DEFAULT_CALLER_ACCESS_KEY_ID,
            DEFAULT_CALLER_SECRET_ACCESS_KEY,
        )
    }
}

/// Access key ids of root sessions start with this, so the emulator (and a log scan) can tell
/// them from the caller's own keys.
pub const SESSION_KEY_PREFIX: &str = "ASIAEMU";

/// Who sent a request.
#[derive(Debug, Clone)]
pub enum Caller {
    /// The caller's own (non-session) credentials, acting for the org's caller account.
    Principal { account_id: String },
    /// A root session.
    Root(RootSession),
}

impl Caller {
    pub fn account_id(&self) -> &str {
        match self {
            Caller::Principal { account_id } => account_id,
            Caller::Root(session) => &session.account_id,
        }
    }

    /// The ARN error messages and GetCallerIdentity show.
    pub fn arn(&self) -> String {
        match self {
            Caller::Principal { account_id } => {
                format!("arn:aws:sts::{account_id}:assumed-role/RootSweep/emulator")
            }
            Caller::Root(session) => format!("arn:aws:iam::{}:root", session.account_id),
        }
    }

    /// The role behind the caller's session (`aws:PrincipalArn`); a root session's root ARN.
    pub fn role_arn(&self) -> String {
        match self {
            Caller::Principal { account_id } => format!("arn:aws:iam::{account_id}:role/RootSweep"),
            Caller::Root(_) => self.arn(),
        }
    }

    pub fn user_id(&self) -> String {
        match self {
            Caller::Principal { .. } => "AROAEMULATORCALLER:emulator".to_owned(),
            Caller::Root(session) => session.account_id.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_policies_scope_sessions() {
        use TaskPolicy::*;
        assert_eq!(
            TaskPolicy::from_arn("arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"),
            Some(IAMAuditRootUserCredentials)
        );
        assert_eq!(
            TaskPolicy::from_arn("arn:aws:iam::aws:policy/root-task/Nope"),
            None
        );
        assert!(IAMAuditRootUserCredentials.allows("GetAccountSummary", false));
        assert!(!IAMAuditRootUserCredentials.allows("DeleteLoginProfile", false));
        assert!(!IAMDeleteRootUserCredentials.allows("GetAccountSummary", false));
        assert!(IAMDeleteRootUserCredentials.allows("DeactivateMFADevice", false));
        assert!(!IAMDeleteRootUserCredentials.allows("DeleteVirtualMFADevice", false));
        assert!(IAMDeleteRootUserCredentials.allows("DeleteVirtualMFADevice", true));
        assert!(!S3UnlockBucketPolicy.allows("GetUser", true));
    }
}

//! STS: `AssumeRoot` and `GetCallerIdentity`.
//!
//! # Behaviour
//!
//! **AssumeRoot**: `TargetPrincipal` is an account id or `arn:aws:iam::ID:root`;
//! `TaskPolicyArn.arn` must be `arn:aws:iam::aws:policy/root-task/<Name>` with a known name
//! (else `ValidationError`); `DurationSeconds` 0..=900, default 900 (else `ValidationError`; 0 gives
//! an already expired session, handy to test expiry). `AccessDenied` (403) for the management
//! account, an account not in the org, a non-ACTIVE account, a root-session caller, a configured
//! `preflight_failure`, or when `enabled_features` lacks `RootSessions`. Credentials are recognisable:
//! key ids `ASIAEMU...`, secrets contain `EMUSECRET`, tokens start `EMUTOKEN`.
//!
//! # Not emulated
//!
//! The `IAMCreateRootUserPassword`, `S3UnlockBucketPolicy` and `SQSUnlockQueuePolicy` actions
//! (sessions with them can do nothing); any other STS operation.

use chrono::{DateTime, Utc};

use super::AccountState;
use super::Service;
use crate::error::ApiError;
use crate::protocol::query::required;
use crate::protocol::{Input, Reply, Xml};
use crate::session::{Caller, TaskPolicy};
use crate::world::World;

/// AssumeRoot's maximum and default session length.
const MAX_DURATION_SECONDS: u64 = 900;

pub fn call(
    world: &mut World,
    caller: &Caller,
    operation: &str,
    input: &Input,
    now: DateTime<Utc>,
) -> Result<Reply, ApiError> {
    match operation {
        // Needs no permission, so root sessions may call it too (seed 001 does).
        "GetCallerIdentity" => Ok(Reply::Xml(
            Xml::new()
                .text("UserId", caller.user_id())
                .text("Account", caller.account_id())
                .text("Arn", caller.arn()),
        )),
        "AssumeRoot" => assume_root(world, caller, input, now),
        _ => Err(Service::Sts.unknown_operation(operation)),
    }
}

/// `TargetPrincipal` is an account id or the account's root ARN (`arn:aws:iam::ID:root`).
pub fn account_of_principal(principal: &str) -> &str {
    principal
        .strip_prefix("arn:aws:iam::")
        .and_then(|rest| rest.strip_suffix(":root"))
        .unwrap_or(principal)
}

fn assume_root(
    world: &mut World,
    caller: &Caller,
    input: &Input,
    now: DateTime<Utc>,
) -> Result<Reply, ApiError> {
    let target = account_of_principal(required(input, "TargetPrincipal")?);
    if target.len() != 12 || !target.chars().all(|c| c.is_ascii_digit()) {
        return Err(ApiError::validation(format!(
            "TargetPrincipal {target} is not an account id or an account root ARN"
        )));
    }
    let arn = input
        .get("TaskPolicyArn")
        .and_then(|policy| policy.get("arn"))
        .and_then(|arn| arn.as_str())
        .ok_or_else(|| ApiError::validation("TaskPolicyArn.arn is required"))?;
    let task_policy = TaskPolicy::from_arn(arn).ok_or_else(|| {
        ApiError::validation(format!(
            "The TaskPolicyArn {arn} is not a valid root task policy"
        ))
    })?;
    let duration = input
        .u64("DurationSeconds")
        .map_err(|value| {
            ApiError::validation(format!("DurationSeconds {value} is not a whole number"))
        })?
        .unwrap_or(MAX_DURATION_SECONDS);
    if duration > MAX_DURATION_SECONDS {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{duration}' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to {MAX_DURATION_SECONDS}"
        )));
    }

    let org = &world.org;
    let denied = |reason: &str| {
        Err(Service::Sts.access_denied(format!(
            "User: {} is not authorized to perform: sts:AssumeRoot on resource: arn:aws:iam::{target}:root ({reason})",
            caller.arn()
        )))
    };
    if matches!(caller, Caller::Root(_)) {
        return denied("root sessions cannot start root sessions");
    }
    if let Some(failure) = org.preflight_failure {
        return denied(failure.message());
    }
    if !org.enabled_features.iter().any(|f| f == "RootSessions") {
        return denied("the RootSessions feature is not enabled in the organization");
    }
    if target == org.management_account_id {
        return denied("the management account cannot be the target of a root task");
    }
    match org.account(target) {
        None => return denied("the account is not a member of the organization"),
        Some(account) if account.state != AccountState::Active => {
            return denied(&format!("the account is {}", account.state.as_str()));
        }
        Some(_) => {}
    }

    let session = world.issue_session(target, task_policy, duration, now);
    Ok(Reply::Xml(
        Xml::new().child(
            "Credentials",
            Xml::new()
                .text("AccessKeyId", &session.access_key_id)
                .text("SecretAccessKey", &session.secret_access_key)
                .text("SessionToken", &session.session_token)
                .date("Expiration", session.expiration),
        ),
    ))
}

//! IAM: `ListOrganizationsFeatures` for the caller, and the root user's credentials for root
//! sessions. A root session sends no `UserName`: every call acts on its account's root user.
//!
//! # Behaviour
//!
//! - **Task policies**: `IAMAuditRootUserCredentials` allows the reads and `GetAccountSummary`;
//!   `IAMDeleteRootUserCredentials` the reads (not `GetAccountSummary`), the four deletions and,
//!   only if the org sets `delete_virtual_mfa_allowed`, `DeleteVirtualMFADevice` (AWS removed it in
//!   January 2025). The other task policies are accepted but allow nothing emulated. Anything else is
//!   `AccessDenied` (403), as is a root session sending `UserName`, or calling Organizations
//!   (`AccessDeniedException`) or CloudWatch. The caller's own (role) credentials calling a root-user
//!   operation get `ValidationError` "Must specify userName when calling with non-User credentials"
//!   (400) without `UserName`, and `NoSuchEntity` "The user with name X cannot be found." with one
//!   (the caller's account has no IAM users here).
//! - **Root user**: `GetUser` answers `UserName` root, `UserId` the account id, `Arn`
//!   `arn:aws:iam::ID:root`, `CreateDate`, `PasswordLastUsed` when set (it stays after the login
//!   profile is deleted). `GetLoginProfile` without a password is `NoSuchEntity` (404), as is deleting
//!   anything that is not there. `GetAccessKeyLastUsed` of a never-used key has no date and `N/A`
//!   service and region; of a key that is not the root user's (unknown, another account's) it is
//!   `AccessDenied` (403) "User: arn:aws:iam::ID:root is not authorized to perform:
//!   iam:GetAccessKeyLastUsed on resource: access key KEY", not `NoSuchEntity` (the API reference and
//!   botocore's model list no `NoSuchEntity` for it; IAM-compatible services answer so). A deactivated MFA device leaves `ListMFADevices`; a virtual one stays in the
//!   account, unassigned, until `DeleteVirtualMFADevice` (which answers `DeleteConflict` 409 while it
//!   is still assigned).
//! - **ListOrganizationsFeatures** answers `OrganizationId` and `EnabledFeatures`, or the configured
//!   `preflight_failure` (status 400, the exception's full name as the code).
//!   `OrganizationNotFoundException` also makes every Organizations call fail with
//!   `AWSOrganizationsNotInUseException`; `OrganizationNotInAllFeaturesModeException` makes
//!   `DescribeOrganization` report `FeatureSet: CONSOLIDATED_BILLING`.
//! - **IAM lists** (`ListAccessKeys`, `ListSigningCertificates`, `ListMFADevices`) page by `MaxItems`
//!   (1..=1000, default 100; else `ValidationError`) and `Marker` (`IsTruncated`, and `Marker` when
//!   truncated). A marker opens only the list call it came from: another is `ValidationError`
//!   "Invalid Marker.".

mod handlers;
mod state;

use std::time::Instant;

use super::Service;
use crate::error::ApiError;
use crate::protocol::{Input, Protocol, Reply};
use crate::session::{Caller, TaskPolicy};
use crate::sigv4::AuthError;
use crate::world::World;

pub use state::{
    AccessKey, AccessKeyLastUsed, CredentialStatus, LoginProfile, MfaDevice, MfaKind, RootUser,
    SigningCertificate,
};

/// Routes a call: the caller's own ones, then a root session's, as its task policy allows, to
/// the reads (which may see the root user as it was, see [`crate::propagation`]) or the writes.
pub fn call(
    world: &mut World,
    caller: &Caller,
    operation: &str,
    input: &Input,
) -> Result<Reply, ApiError> {
    let denied = |why: &str| {
        Err(Service::Iam.access_denied(format!(
            "User: {} is not authorized to perform: iam:{operation} ({why})",
            caller.arn()
        )))
    };
    let session = match caller {
        Caller::Principal { .. } if operation == "ListOrganizationsFeatures" => {
            return handlers::list_organizations_features(world);
        }
        Caller::Principal { .. } => return caller_user_operation(operation, input),
        Caller::Root(session) => session,
    };
    if !session
        .task_policy
        .allows(operation, world.org.delete_virtual_mfa_allowed)
    {
        return denied(&format!(
            "not allowed by the task policy {}",
            session.task_policy.name()
        ));
    }
    // The task policies' resource is the root user; naming any user is outside the session.
    if input.str("UserName").is_some() {
        return denied("a root session acts on the root user: omit UserName");
    }
    let account_id = session.account_id.clone();
    let now = Instant::now();
    // A test may have removed the account (`edit_org`) since the session was issued.
    let root = &mut world
        .org
        .account_mut(&account_id)
        .ok_or_else(|| AuthError::UnknownKey.api_error(Protocol::Query))?
        .root_user;
    if WRITES.contains(&operation) {
        let before = world.propagation.is_on().then(|| root.clone());
        let reply = handlers::write(operation, root, input)?;
        if let Some(before) = before {
            world.propagation.record(&account_id, before, now);
        }
        Ok(reply)
    } else if operation == "GetAccessKeyLastUsed" {
        // Each IAM endpoint sees a change at its own time (see `crate::propagation`): while a
        // deleted key is still listed, asking for its last use already answers AccessDenied,
        // as for any key that is not the root user's (AWS does so while a deletion propagates).
        handlers::read(operation, &account_id, root, input)
    } else {
        handlers::read(
            operation,
            &account_id,
            world.propagation.visible(&account_id, root, now),
            input,
        )
    }
}

/// The calls that change the root user: they act on its current state at once, while reads may
/// see the state from before them for a while (see [`crate::propagation`]).
const WRITES: [&str; 5] = [
    "DeleteLoginProfile",
    "DeleteAccessKey",
    "DeleteSigningCertificate",
    "DeactivateMFADevice",
    "DeleteVirtualMFADevice",
];

/// A root-user operation sent with the caller's (role) credentials. Without `UserName` IAM
/// cannot tell whose credentials are meant and answers `ValidationError` "Must specify userName
/// when calling with non-User credentials" (400), as it does for any role session; with one, it
/// looks for that IAM user in the caller's account, which holds none in the emulator.
fn caller_user_operation(operation: &str, input: &Input) -> Result<Reply, ApiError> {
    if !root_user_operation(operation) {
        return Err(Service::Iam.unknown_operation(operation));
    }
    match input.str("UserName") {
        None => Err(ApiError::validation(
            "Must specify userName when calling with non-User credentials",
        )),
        Some(user) => Err(ApiError::no_such_entity(format!(
            "The user with name {user} cannot be found."
        ))),
    }
}

/// Operations that act on the caller's own user when sent without `UserName`.
pub fn root_user_operation(operation: &str) -> bool {
    TaskPolicy::IAMAuditRootUserCredentials.allows(operation, true)
        || TaskPolicy::IAMDeleteRootUserCredentials.allows(operation, true)
}

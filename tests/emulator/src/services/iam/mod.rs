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

mod state;

use std::time::Instant;

use axum::http::StatusCode;

use super::Service;

use crate::error::ApiError;
use crate::paging;
use crate::protocol::query::{iso8601, required};
use crate::protocol::{Input, Protocol, Reply, Xml};
use crate::session::{Caller, TaskPolicy};
use crate::sigv4::AuthError;
use crate::world::World;

pub use state::{
    AccessKey, AccessKeyLastUsed, CredentialStatus, LoginProfile, MfaDevice, MfaKind, RootUser,
    SigningCertificate,
};

/// The root user, as IAM names it in `UserName` fields (seed 001).
const ROOT: &str = "root";

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
            return list_organizations_features(world);
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
        let reply = write(operation, root, input)?;
        if let Some(before) = before {
            world.propagation.record(&account_id, before, now);
        }
        Ok(reply)
    } else if operation == "GetAccessKeyLastUsed" {
        // Each IAM endpoint sees a change at its own time (see `crate::propagation`): while a
        // deleted key is still listed, asking for its last use already answers AccessDenied,
        // as for any key that is not the root user's (AWS does so while a deletion propagates).
        read(operation, &account_id, root, input)
    } else {
        read(
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

fn read(
    operation: &str,
    account_id: &str,
    root: &RootUser,
    input: &Input,
) -> Result<Reply, ApiError> {
    match operation {
        "GetUser" => Ok(get_user(account_id, root)),
        "GetLoginProfile" => {
            let profile = root.login_profile.as_ref().ok_or_else(no_login_profile)?;
            Ok(Reply::Xml(
                Xml::new().child(
                    "LoginProfile",
                    Xml::new()
                        .text("UserName", ROOT)
                        .date("CreateDate", profile.created)
                        .text("PasswordResetRequired", false),
                ),
            ))
        }
        "ListAccessKeys" => listing(
            operation,
            input,
            "AccessKeyMetadata",
            &root.access_keys,
            |key| {
                Xml::new()
                    .text("UserName", ROOT)
                    .text("AccessKeyId", &key.id)
                    .text("Status", key.status.as_str())
                    .optional("CreateDate", key.created.map(iso8601))
            },
        ),
        "GetAccessKeyLastUsed" => {
            access_key_last_used(account_id, root, required(input, "AccessKeyId")?)
        }
        "ListSigningCertificates" => listing(
            operation,
            input,
            "Certificates",
            &root.signing_certificates,
            |cert| {
                Xml::new()
                    .text("UserName", ROOT)
                    .text("CertificateId", &cert.id)
                    .text("CertificateBody", cert.body())
                    .text("Status", cert.status.as_str())
                    .optional("UploadDate", cert.uploaded.map(iso8601))
            },
        ),
        "ListMFADevices" => listing(
            operation,
            input,
            "MFADevices",
            &root.mfa_devices,
            |device| {
                Xml::new()
                    .text("UserName", ROOT)
                    .text("SerialNumber", &device.serial)
                    .date("EnableDate", device.enabled)
            },
        ),
        "GetAccountSummary" => Ok(account_summary(root)),
        _ => Err(Service::Iam.unknown_operation(operation)),
    }
}

/// IAM's `MaxItems` when the caller gives none (IAM API reference, e.g. `ListAccessKeys`:
/// "If you do not include this parameter, the number of items defaults to 100"), and its
/// largest (`maxItemsType`, 1..=1000).
const DEFAULT_MAX_ITEMS: u64 = 100;
const MAX_ITEMS: u64 = 1000;

/// One page of a list call: `MaxItems` items from `Marker` on, `IsTruncated` and, when there is
/// more, the `Marker` of the next page.
fn listing<T>(
    operation: &str,
    input: &Input,
    name: &str,
    items: &[T],
    member: impl Fn(&T) -> Xml,
) -> Result<Reply, ApiError> {
    let max = input
        .u64("MaxItems")
        .map_err(|value| ApiError::validation(format!("MaxItems {value} is not a whole number")))?
        .unwrap_or(DEFAULT_MAX_ITEMS);
    if !(1..=MAX_ITEMS).contains(&max) {
        let bound = match max {
            0 => "greater than or equal to 1",
            _ => "less than or equal to 1000",
        };
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{max}' at 'maxItems' failed to satisfy constraint: Member must have value {bound}"
        )));
    }
    let start = match input.str("Marker") {
        None => 0,
        // Another call's marker, or one made up, is refused as IAM does (seen with a
        // ListUsers marker given to ListAccessKeys: "Invalid Marker").
        Some(marker) => paging::cursor(marker, &[operation])
            .ok_or_else(|| ApiError::validation("Invalid Marker."))?
            .offset
            .min(items.len()),
    };
    let end = (start + max as usize).min(items.len());
    let next = (end < items.len()).then(|| {
        paging::token(
            &[operation],
            paging::Cursor {
                offset: end,
                page: 0,
            },
        )
    });
    Ok(Reply::Xml(
        Xml::new()
            .list(name, items[start..end].iter().map(member))
            .text("IsTruncated", next.is_some())
            .optional("Marker", next),
    ))
}

/// An access key that is not the root user's (unknown, or another account's) is `AccessDenied`
/// on "resource: access key ID", not `NoSuchEntity`: the IAM API reference lists no
/// `NoSuchEntity` for this operation (nor does botocore's model any error), and IAM-compatible
/// services answer so, telling nothing about keys outside the caller's account.
fn access_key_last_used(account_id: &str, root: &RootUser, id: &str) -> Result<Reply, ApiError> {
    let key = root.access_keys.iter().find(|key| key.id == id).ok_or_else(|| {
        Service::Iam.access_denied(format!(
            "User: arn:aws:iam::{account_id}:root is not authorized to perform: iam:GetAccessKeyLastUsed on resource: access key {id}"
        ))
    })?;
    let used = key.last_used.as_ref();
    // AWS answers "N/A" for the service and region of a key never used.
    let last_used = Xml::new()
        .optional("LastUsedDate", used.map(|u| iso8601(u.date)))
        .text("ServiceName", used.map_or("N/A", |u| &u.service))
        .text("Region", used.map_or("N/A", |u| &u.region));
    Ok(Reply::Xml(
        Xml::new()
            .text("UserName", ROOT)
            .child("AccessKeyLastUsed", last_used),
    ))
}

fn write(operation: &str, root: &mut RootUser, input: &Input) -> Result<Reply, ApiError> {
    match operation {
        "DeleteLoginProfile" => {
            // PasswordLastUsed stays on the user, as on AWS.
            root.login_profile.take().ok_or_else(no_login_profile)?;
        }
        "DeleteAccessKey" => {
            let id = required(input, "AccessKeyId")?;
            remove(&mut root.access_keys, |key| key.id == id).ok_or_else(|| no_access_key(id))?;
        }
        "DeleteSigningCertificate" => {
            let id = required(input, "CertificateId")?;
            remove(&mut root.signing_certificates, |cert| cert.id == id).ok_or_else(|| {
                ApiError::no_such_entity(format!("The Certificate with id {id} cannot be found."))
            })?;
        }
        "DeactivateMFADevice" => {
            let serial = required(input, "SerialNumber")?;
            let device = remove(&mut root.mfa_devices, |device| device.serial == serial)
                .ok_or_else(|| {
                    ApiError::no_such_entity(format!(
                        "MFA Device with serial number {serial} does not exist."
                    ))
                })?;
            // A deactivated virtual device still exists in the account, unassigned.
            if device.kind == MfaKind::Virtual {
                root.unassigned_virtual_mfa_devices.push(device.serial);
            }
        }
        "DeleteVirtualMFADevice" => {
            delete_virtual_mfa_device(root, required(input, "SerialNumber")?)?
        }
        _ => return Err(Service::Iam.unknown_operation(operation)),
    }
    Ok(Reply::Empty)
}

fn delete_virtual_mfa_device(root: &mut RootUser, serial: &str) -> Result<(), ApiError> {
    if root
        .mfa_devices
        .iter()
        .any(|device| device.serial == serial)
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "DeleteConflict",
            "MFA device is still in use. Deactivate it first.",
        ));
    }
    remove(&mut root.unassigned_virtual_mfa_devices, |s| s == serial).ok_or_else(|| {
        ApiError::no_such_entity(format!(
            "VirtualMFADevice with serial number {serial} doesn't exist."
        ))
    })?;
    Ok(())
}

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

fn list_organizations_features(world: &World) -> Result<Reply, ApiError> {
    let org = &world.org;
    if let Some(failure) = org.preflight_failure {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            failure.code(),
            failure.message(),
        ));
    }
    Ok(Reply::Xml(
        Xml::new()
            .text("OrganizationId", &org.organization_id)
            .list(
                "EnabledFeatures",
                org.enabled_features
                    .iter()
                    .map(|feature| Xml::new().content(feature)),
            ),
    ))
}

/// The seed's shape: `UserName` root, `UserId` the account id, no `Path`.
fn get_user(account_id: &str, root: &RootUser) -> Reply {
    Reply::Xml(
        Xml::new().child(
            "User",
            Xml::new()
                .text("UserName", ROOT)
                .text("UserId", account_id)
                .text("Arn", format!("arn:aws:iam::{account_id}:root"))
                .date("CreateDate", root.created)
                .optional("PasswordLastUsed", root.password_last_used.map(iso8601)),
        ),
    )
}

fn account_summary(root: &RootUser) -> Reply {
    let present = |yes: bool| u32::from(yes);
    let assigned_virtual = root
        .mfa_devices
        .iter()
        .filter(|d| d.kind == MfaKind::Virtual)
        .count();
    let virtual_devices = assigned_virtual + root.unassigned_virtual_mfa_devices.len();
    let entries = [
        (
            "AccountAccessKeysPresent",
            present(!root.access_keys.is_empty()),
        ),
        ("AccountMFAEnabled", present(!root.mfa_devices.is_empty())),
        (
            "AccountPasswordPresent",
            present(root.login_profile.is_some()),
        ),
        (
            "AccountSigningCertificatesPresent",
            present(!root.signing_certificates.is_empty()),
        ),
        ("AccessKeysPerUserQuota", 2),
        ("Groups", 0),
        ("MFADevices", virtual_devices as u32),
        ("MFADevicesInUse", root.mfa_devices.len() as u32),
        ("Policies", 0),
        ("Roles", 0),
        ("SigningCertificatesPerUserQuota", 2),
        ("Users", 0),
        ("UsersQuota", 5000),
    ];
    Reply::Xml(Xml::new().map("SummaryMap", entries))
}

fn no_login_profile() -> ApiError {
    ApiError::no_such_entity(format!("Login Profile for User {ROOT} cannot be found."))
}

fn no_access_key(id: &str) -> ApiError {
    ApiError::no_such_entity(format!("The Access Key with id {id} cannot be found."))
}

/// Removes and returns the first item matching `is_it`.
fn remove<T>(items: &mut Vec<T>, is_it: impl Fn(&T) -> bool) -> Option<T> {
    let index = items.iter().position(is_it)?;
    Some(items.remove(index))
}

//! IAM's operations: the root user's reads (its user, login profile, credential lists with
//! their paging, last use of a key, the account summary), its deletions, and
//! `ListOrganizationsFeatures`.

use axum::http::StatusCode;

use super::Service;
use super::state::{MfaKind, RootUser};
use crate::error::ApiError;
use crate::paging;
use crate::protocol::query::{iso8601, required};
use crate::protocol::{Input, Reply, Xml};
use crate::world::World;

/// The root user, as IAM names it in `UserName` fields (seed 001).
const ROOT: &str = "root";

pub(super) fn read(
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

pub(super) fn write(
    operation: &str,
    root: &mut RootUser,
    input: &Input,
) -> Result<Reply, ApiError> {
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

pub(super) fn list_organizations_features(world: &World) -> Result<Reply, ApiError> {
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

//! The member accounts of a generated org (`Org::generate`, in `generate.rs`): after the
//! management and security accounts, every further account follows a repeating pattern of 23,
//! named `<scenario>-<index>` (e.g. `due-0004`):
//! 6 `clean`; 2 `in-grace` (password created 6-40 h ago, used since); 2 `due` (password created
//! 30-400 days ago, used 5-90 days ago); and one each of `due-never-used` (password created 4-60
//! days ago, never used), `password-removed` (clean, `PasswordLastUsed` 200 days ago),
//! `access-keys` (one used yesterday, sometimes a second never used), `signing-certificate`,
//! `mfa-virtual`, `mfa-hardware`, `everything` (due password + access key + virtual MFA),
//! `suspended` (SUSPENDED, due password), `pending-closure` (PENDING_CLOSURE, access key),
//! `exempt` (tag `rootsweep:exempt=true`, in the nested OU `Sandbox/Legacy`, due password), and
//! either side of a 72 h grace period: `grace-71h` and `due-73h` (a password created that many
//! hours ago, never used) and `recent-sign-in` (a password created 200 days ago, used 2 hours ago).

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use rand::rngs::StdRng;

use super::random_string;
use crate::services::iam::{
    AccessKey, AccessKeyLastUsed, CredentialStatus, LoginProfile, MfaDevice, MfaKind, RootUser,
    SigningCertificate,
};
use crate::services::organizations::{Account, AccountState};

/// What a generated member account holds; its name starts with [`Scenario::name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scenario {
    /// No root credentials at all.
    Clean,
    /// No credentials, but `PasswordLastUsed` 200 days ago: a password removed long ago.
    PasswordRemoved,
    /// Password created 6 to 40 hours ago and used since: inside a 72 h grace period.
    InGrace,
    /// Password created 30 to 400 days ago, last used 5 to 90 days ago.
    Due,
    /// Password created 4 to 60 days ago, never used.
    DueNeverUsed,
    /// One access key used yesterday, sometimes a second one never used.
    AccessKeys,
    SigningCertificate,
    VirtualMfa,
    HardwareMfa,
    /// A due password, an access key and a virtual MFA device.
    Everything,
    /// SUSPENDED, with a due password: not targetable.
    Suspended,
    /// PENDING_CLOSURE, with an access key: not targetable.
    PendingClosure,
    /// Tagged `rootsweep:exempt=true`, in the nested Sandbox/Legacy OU, with a due password.
    Exempt,
    /// Password created 71 hours ago, never used: in a 72 h grace period for one more hour.
    Grace71h,
    /// Password created 73 hours ago, never used: an hour past a 72 h grace period.
    Due73h,
    /// Password created 200 days ago and used 2 hours ago: the sign-in keeps it in grace.
    RecentSignIn,
}

/// The repeating pattern of member accounts (after the management and security accounts):
/// 6 clean, 2 in grace, 2 due, and one each of the rest. The accounts either side of a 72 h
/// grace period come early, so that even a small org tells 72 h from 70 h or 74 h.
pub(super) const MIX: [Scenario; 23] = {
    use Scenario::*;
    [
        Clean,
        InGrace,
        Due,
        Due73h,
        Clean,
        AccessKeys,
        Grace71h,
        SigningCertificate,
        Clean,
        VirtualMfa,
        RecentSignIn,
        HardwareMfa,
        DueNeverUsed,
        Clean,
        Everything,
        Suspended,
        PasswordRemoved,
        Clean,
        PendingClosure,
        Exempt,
        InGrace,
        Due,
        Clean,
    ]
};

impl Scenario {
    pub(super) fn name(self) -> &'static str {
        match self {
            Self::Clean => "clean",
            Self::PasswordRemoved => "password-removed",
            Self::InGrace => "in-grace",
            Self::Due => "due",
            Self::DueNeverUsed => "due-never-used",
            Self::AccessKeys => "access-keys",
            Self::SigningCertificate => "signing-certificate",
            Self::VirtualMfa => "mfa-virtual",
            Self::HardwareMfa => "mfa-hardware",
            Self::Everything => "everything",
            Self::Suspended => "suspended",
            Self::PendingClosure => "pending-closure",
            Self::Exempt => "exempt",
            Self::Grace71h => "grace-71h",
            Self::Due73h => "due-73h",
            Self::RecentSignIn => "recent-sign-in",
        }
    }
}

/// The tag (key, value) that marks the generated exempt accounts.
pub const EXEMPT_TAG: (&str, &str) = ("rootsweep:exempt", "true");

/// Gives `account` the credentials and state of `scenario`.
pub(super) fn apply(
    scenario: Scenario,
    account: &mut Account,
    rng: &mut StdRng,
    now: DateTime<Utc>,
) {
    let root = &mut account.root_user;
    let due_password = |root: &mut RootUser, rng: &mut StdRng| {
        root.login_profile = Some(LoginProfile {
            created: now - days(rng.random_range(30..400)),
        });
        root.password_last_used = Some(now - days(rng.random_range(5..90)));
    };
    match scenario {
        Scenario::Clean => {}
        Scenario::PasswordRemoved => root.password_last_used = Some(now - days(200)),
        Scenario::InGrace => {
            let created_hours = rng.random_range(6..40);
            root.login_profile = Some(LoginProfile {
                created: now - Duration::hours(created_hours),
            });
            root.password_last_used =
                Some(now - Duration::hours(rng.random_range(1..created_hours)));
        }
        Scenario::Due => due_password(root, rng),
        Scenario::DueNeverUsed => {
            root.login_profile = Some(LoginProfile {
                created: now - days(rng.random_range(4..60)),
            });
        }
        Scenario::AccessKeys => {
            root.access_keys.push(access_key(
                rng,
                now,
                Some(AccessKeyLastUsed {
                    date: now - days(1),
                    service: "s3".to_owned(),
                    region: "us-east-1".to_owned(),
                }),
            ));
            if rng.random_bool(0.5) {
                root.access_keys.push(access_key(rng, now, None));
            }
        }
        Scenario::SigningCertificate => root.signing_certificates.push(SigningCertificate {
            id: random_string(rng, UPPER_ALNUM, 32),
            status: CredentialStatus::Active,
            uploaded: Some(now - days(rng.random_range(30..700))),
        }),
        Scenario::VirtualMfa => root.mfa_devices.push(virtual_mfa(&account.id, now)),
        Scenario::HardwareMfa => {
            let enabled = now - days(rng.random_range(30..700));
            root.mfa_devices.push(hardware_mfa(rng, enabled));
        }
        Scenario::Everything => {
            due_password(root, rng);
            root.access_keys.push(access_key(rng, now, None));
            root.mfa_devices.push(virtual_mfa(&account.id, now));
        }
        Scenario::Suspended => {
            account.state = AccountState::Suspended;
            due_password(root, rng);
        }
        Scenario::PendingClosure => {
            account.state = AccountState::PendingClosure;
            root.access_keys.push(access_key(rng, now, None));
        }
        Scenario::Exempt => {
            let (key, value) = EXEMPT_TAG;
            account.tags.insert(key.to_owned(), value.to_owned());
            due_password(root, rng);
        }
        Scenario::Grace71h | Scenario::Due73h => {
            let hours = if scenario == Scenario::Grace71h {
                71
            } else {
                73
            };
            root.login_profile = Some(LoginProfile {
                created: now - Duration::hours(hours),
            });
        }
        Scenario::RecentSignIn => {
            root.login_profile = Some(LoginProfile {
                created: now - days(200),
            });
            root.password_last_used = Some(now - Duration::hours(2));
        }
    }
}

pub(super) fn days(n: i64) -> Duration {
    Duration::days(n)
}

fn access_key(
    rng: &mut StdRng,
    now: DateTime<Utc>,
    last_used: Option<AccessKeyLastUsed>,
) -> AccessKey {
    AccessKey {
        id: format!("AKIA{}", random_string(rng, BASE32, 16)),
        status: CredentialStatus::Active,
        created: Some(now - days(rng.random_range(100..900))),
        last_used,
    }
}

fn virtual_mfa(account_id: &str, now: DateTime<Utc>) -> MfaDevice {
    MfaDevice {
        serial: format!("arn:aws:iam::{account_id}:mfa/root-account-mfa-device"),
        kind: MfaKind::Virtual,
        enabled: now - days(120),
    }
}

pub(super) fn hardware_mfa(rng: &mut StdRng, enabled: DateTime<Utc>) -> MfaDevice {
    MfaDevice {
        serial: format!("GAHT{:08}", rng.random_range(0..100_000_000u32)),
        kind: MfaKind::Hardware,
        enabled,
    }
}

const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

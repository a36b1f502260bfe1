//! The organization being emulated: its types, loading from JSON, and the generated org.

mod generate;
mod org;
pub(crate) mod time;

pub use generate::EXEMPT_TAG;
pub(crate) use generate::random_string;
pub(crate) use org::is_schedule_group_name;
pub use org::{
    AccessKey, AccessKeyLastUsed, Account, AccountState, CredentialStatus, JoinedMethod,
    LoginProfile, MfaDevice, MfaKind, Org, OrgError, OrganizationalUnit, PreflightFailure,
    RootUser, SigningCertificate,
};

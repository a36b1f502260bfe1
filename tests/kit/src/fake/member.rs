//! A member account of the fake organization and its root user, built for a test:
//! `member(7).password(days_ago(10)).signed_in(days_ago(9))`.

use chrono::{DateTime, Utc};
use rootsweep::account::{Account, AccountId, AccountState};
use rootsweep::credentials::{Credential, CredentialKind};

use crate::days_ago;

/// A member account: listing data, tags, unit, and its root user.
#[derive(Debug, Clone)]
pub struct Member {
    pub account: Account,
    pub tags: Vec<(String, String)>,
    pub unit: Option<String>,
    pub root: Root,
}

/// A root user: its dates and credentials.
#[derive(Debug, Clone)]
pub struct Root {
    pub created: Option<DateTime<Utc>>,
    pub password_last_used: Option<DateTime<Utc>>,
    pub credentials: Vec<Credential>,
    /// Virtual MFA devices left unassigned by a deactivation.
    pub unassigned_virtual_mfa: Vec<String>,
}

/// Builds a member account: `member(7).password(days_ago(10)).signed_in(days_ago(9))`.
pub fn member(n: u64) -> Member {
    let id = crate::id(n);
    Member {
        account: Account {
            name: format!("member-{n}"),
            id,
            state: AccountState::Active,
        },
        tags: Vec::new(),
        unit: None,
        root: Root {
            created: Some(days_ago(1000)),
            password_last_used: None,
            credentials: Vec::new(),
            unassigned_virtual_mfa: Vec::new(),
        },
    }
}

impl Member {
    pub fn id(&self) -> &AccountId {
        &self.account.id
    }

    pub fn state(mut self, state: AccountState) -> Self {
        self.account.state = state;
        self
    }

    pub fn tag(mut self, key: &str, value: &str) -> Self {
        self.tags.push((key.into(), value.into()));
        self
    }

    pub fn in_unit(mut self, unit: &str) -> Self {
        self.unit = Some(unit.into());
        self
    }

    /// When the root user (the account) was created; `None` when AWS does not say.
    pub fn created(mut self, at: Option<DateTime<Utc>>) -> Self {
        self.root.created = at;
        self
    }

    pub fn password(self, created: Option<DateTime<Utc>>) -> Self {
        self.credential(Credential::password(created))
    }

    pub fn signed_in(mut self, at: DateTime<Utc>) -> Self {
        self.root.password_last_used = Some(at);
        self
    }

    pub fn key(self, id: &str, created: Option<DateTime<Utc>>) -> Self {
        self.credential(Credential::new(CredentialKind::AccessKey, id, created))
    }

    pub fn certificate(self, id: &str, created: Option<DateTime<Utc>>) -> Self {
        self.credential(Credential::new(
            CredentialKind::SigningCertificate,
            id,
            created,
        ))
    }

    /// A virtual MFA device (its serial is an ARN) enabled at `enabled`.
    pub fn virtual_mfa(self, name: &str, enabled: Option<DateTime<Utc>>) -> Self {
        let serial = format!("arn:aws:iam::{}:mfa/{name}", self.account.id);
        self.credential(Credential::new(CredentialKind::MfaDevice, serial, enabled))
    }

    pub fn hardware_mfa(self, serial: &str, enabled: Option<DateTime<Utc>>) -> Self {
        self.credential(Credential::new(CredentialKind::MfaDevice, serial, enabled))
    }

    pub fn credential(mut self, credential: Credential) -> Self {
        self.root.credentials.push(credential);
        self
    }

    /// An old password, access key, signing certificate and virtual MFA device: due.
    pub fn with_everything_old(self) -> Self {
        let old = Some(days_ago(30));
        self.password(old)
            .key("AKIAOLD", old)
            .certificate("CERTOLD", old)
            .virtual_mfa("root", old)
    }
}

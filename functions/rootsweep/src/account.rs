//! Accounts of the organization and the caller, as the domain sees them (no SDK types).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A 12-digit AWS account id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccountId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an AWS account id: use exactly 12 digits, for example 123456789012")]
pub struct InvalidAccountId(pub String);

impl AccountId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for AccountId {
    type Err = InvalidAccountId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidAccountId(s.to_owned()))
        }
    }
}

impl TryFrom<String> for AccountId {
    type Error = InvalidAccountId;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<AccountId> for String {
    fn from(id: AccountId) -> Self {
        id.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Organizations' account states; only `Active` accounts can be targeted by a root session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", from = "String")]
pub enum AccountState {
    Active,
    Suspended,
    PendingActivation,
    PendingClosure,
    Closed,
    /// A state added by AWS after this code was written: treated as not active.
    Other(String),
}

impl AccountState {
    pub fn as_str(&self) -> &str {
        match self {
            AccountState::Active => "ACTIVE",
            AccountState::Suspended => "SUSPENDED",
            AccountState::PendingActivation => "PENDING_ACTIVATION",
            AccountState::PendingClosure => "PENDING_CLOSURE",
            AccountState::Closed => "CLOSED",
            AccountState::Other(s) => s,
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "ACTIVE" => AccountState::Active,
            "SUSPENDED" => AccountState::Suspended,
            "PENDING_ACTIVATION" => AccountState::PendingActivation,
            "PENDING_CLOSURE" => AccountState::PendingClosure,
            "CLOSED" => AccountState::Closed,
            other => AccountState::Other(other.to_owned()),
        }
    }
}

impl From<String> for AccountState {
    fn from(s: String) -> Self {
        Self::parse(&s)
    }
}

impl From<AccountState> for String {
    fn from(state: AccountState) -> Self {
        state.as_str().to_owned()
    }
}

impl fmt::Display for AccountState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A member account as listed by Organizations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub name: String,
    pub state: AccountState,
}

/// The AWS partition (`aws`, `aws-cn`, `aws-us-gov`, ...) every ARN of a run is built in.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Partition(String);

impl Partition {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The partition named by an ARN (`arn:PARTITION:service:...`).
    pub fn of_arn(arn: &str) -> Option<Self> {
        let mut parts = arn.split(':');
        match (parts.next(), parts.next()) {
            (Some("arn"), Some(partition))
                if !partition.is_empty()
                    && partition
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') =>
            {
                Some(Self(partition.to_owned()))
            }
            _ => None,
        }
    }
}

impl Default for Partition {
    fn default() -> Self {
        Self("aws".into())
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who is calling, as STS sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub account: AccountId,
    pub arn: String,
    pub partition: Partition,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids_are_exactly_twelve_digits() {
        assert!("123456789012".parse::<AccountId>().is_ok());
        for bad in [
            "12345678901",
            "1234567890123",
            "12345678901a",
            "",
            " 123456789012",
        ] {
            assert!(bad.parse::<AccountId>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_partition_comes_from_the_callers_arn() {
        let of = |arn: &str| Partition::of_arn(arn).map(|p| p.to_string());
        assert_eq!(
            of("arn:aws:sts::111111111111:assumed-role/r/s").as_deref(),
            Some("aws")
        );
        assert_eq!(
            of("arn:aws-cn:iam::111111111111:root").as_deref(),
            Some("aws-cn")
        );
        assert_eq!(
            of("arn:aws-us-gov:iam::111111111111:user/x").as_deref(),
            Some("aws-us-gov")
        );
        assert_eq!(of("not-an-arn"), None);
        assert_eq!(of("arn::iam::1:root"), None);
    }
}

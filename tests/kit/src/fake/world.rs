//! The fake's whole state: the organization, each service's data, the call log, and what
//! the test set up to interfere (faults, hooks).

use std::collections::BTreeMap;

use rootsweep::account::{AccountId, Caller};
use rootsweep::credentials::Credential;
use rootsweep::ports::{Finding, MetricPoint, NewSchedule, Stored};

use super::calls::{Call, Hook, Matcher};
use super::faults::Fault;
use super::member::{Member, Root};

/// The fake's whole state.
pub struct World {
    pub caller: Caller,
    pub management: AccountId,
    pub features: Vec<String>,
    /// In listing order; an id may be listed twice.
    pub members: Vec<Member>,
    /// Organizational units and their parents (`None`: under the root).
    pub units: BTreeMap<String, Option<String>>,
    /// Accounts per `ListAccounts` page (AWS: at most 20).
    pub page_size: usize,
    /// Whether the delete task policy allows `iam:DeleteVirtualMFADevice`.
    pub delete_policy_allows_virtual_mfa: bool,
    /// Reads that still list a credential after its deletion (IAM's eventual consistency).
    pub stale_reads_after_delete: u32,
    pub calls: Vec<Call>,
    pub published: Vec<Vec<MetricPoint>>,
    /// Follow-up schedules by name, as created.
    pub schedules: BTreeMap<String, NewSchedule>,
    /// Archive objects by key.
    pub objects: BTreeMap<String, Vec<u8>>,
    /// Security Hub findings by id, as last imported.
    pub findings: BTreeMap<String, Finding>,
    /// The run ledger's object and its version, as S3 keeps them.
    pub state: Option<Stored>,
    /// Versions written so far: each write makes a new one.
    pub state_writes: u64,
    pub(super) faults: Vec<Fault>,
    pub(super) hooks: Vec<(Matcher, Hook)>,
    /// Deleted credentials still listed, with the reads they have left.
    pub(super) ghosts: Vec<(AccountId, Credential, u32)>,
    /// Root sessions opened so far: each gets its own request id.
    pub(super) sessions: u64,
}

impl World {
    pub fn member(&mut self, id: &AccountId) -> Option<&mut Member> {
        self.members.iter_mut().find(|m| &m.account.id == id)
    }

    /// The root user of `account`, which the test made a member.
    pub(super) fn root(&mut self, account: &AccountId) -> &mut Root {
        &mut self.member(account).expect("a member").root
    }
}

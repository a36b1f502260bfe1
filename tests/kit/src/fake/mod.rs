//! In-memory fakes of the engine's ports: an organization whose member accounts each have a
//! root user, behind [`Organization`], [`RootAccess`] and [`Metrics`], and the optional
//! features' ports ([`Scheduler`], [`Archive`], [`Findings`], [`StateStore`]). The fake keeps
//! AWS's rules that matter to the engine (each service's file says which). Every call is
//! logged; faults make any call fail or hang.
//!
//! [`FakeAws`] and its builder live here; [`World`] is its state; each port is faked in the
//! file named after its service.
//!
//! [`Organization`]: rootsweep::ports::Organization
//! [`RootAccess`]: rootsweep::ports::RootAccess
//! [`Metrics`]: rootsweep::ports::Metrics

mod archive;
mod calls;
mod faults;
mod findings;
mod member;
mod metrics;
mod organizations;
mod root_sessions;
mod scheduler;
mod state;
mod world;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rootsweep::account::{AccountId, Caller, Partition};
use rootsweep::credentials::{Credential, TaskPolicy};
use rootsweep::deliver::Features;
use rootsweep::ports::{Archive, Findings, Scheduler, StateStore};
use rootsweep::{Config, Engine};

pub use calls::Call;
pub use faults::{Answer, FaultBuilder};
pub use member::{Member, Root, member};
pub use root_sessions::FakeSession;
pub use world::World;

/// The management account of every fake organization.
pub const MANAGEMENT: &str = "000000000000";
/// The delegated administrator the fake's caller is.
pub const CALLER: &str = "999999999999";

/// The fake AWS: cheap to clone, one world behind all clones.
#[derive(Clone)]
pub struct FakeAws(Arc<Mutex<World>>);

impl Default for FakeAws {
    fn default() -> Self {
        Self::new()
    }
}

impl FakeAws {
    /// An organization with root access fully enabled, called from its delegated
    /// administrator, and no member accounts yet.
    pub fn new() -> Self {
        Self(Arc::new(Mutex::new(World {
            caller: Caller {
                account: CALLER.parse().expect("an id"),
                arn: format!("arn:aws:sts::{CALLER}:assumed-role/rootsweep/run"),
                partition: Partition::default(),
            },
            management: MANAGEMENT.parse().expect("an id"),
            features: vec!["RootCredentialsManagement".into(), "RootSessions".into()],
            members: Vec::new(),
            units: BTreeMap::new(),
            page_size: 20,
            delete_policy_allows_virtual_mfa: false,
            stale_reads_after_delete: 0,
            calls: Vec::new(),
            published: Vec::new(),
            schedules: BTreeMap::new(),
            objects: BTreeMap::new(),
            findings: BTreeMap::new(),
            state: None,
            state_writes: 0,
            faults: Vec::new(),
            hooks: Vec::new(),
            ghosts: Vec::new(),
            sessions: 0,
        })))
    }

    pub fn world(&self) -> MutexGuard<'_, World> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn with(self, member: Member) -> Self {
        self.world().members.push(member);
        self
    }

    pub fn with_all(self, members: impl IntoIterator<Item = Member>) -> Self {
        self.world().members.extend(members);
        self
    }

    pub fn fault(self, fault: FaultBuilder) -> Self {
        self.world().faults.push(fault.0);
        self
    }

    /// Runs `hook` on the world just before the first call that `matches` is answered.
    pub fn before(
        self,
        matches: impl Fn(&Call) -> bool + Send + 'static,
        hook: impl FnOnce(&mut World) + Send + 'static,
    ) -> Self {
        self.world().hooks.push((Box::new(matches), Box::new(hook)));
        self
    }

    /// Runs `hook` on the root user of `account` just before its delete session opens: a person
    /// signing in, or adding a key, between the audit and the deletion.
    pub fn before_delete_session(
        self,
        account: &AccountId,
        hook: impl FnOnce(&mut Root) + Send + 'static,
    ) -> Self {
        let target = account.clone();
        let edited = account.clone();
        self.before(
            move |c| {
                c.operation == "sts:AssumeRoot"
                    && c.task == Some(TaskPolicy::Delete)
                    && c.account.as_ref() == Some(&target)
            },
            move |w| hook(w.root(&edited)),
        )
    }

    pub fn edit(self, edit: impl FnOnce(&mut World)) -> Self {
        edit(&mut self.world());
        self
    }

    /// The engine on this fake, as production wires it on the SDK: the optional features'
    /// ports too, for the features `config` turns on.
    pub fn engine(&self, config: Config) -> Engine<FakeAws, FakeAws, FakeAws> {
        let port = || Arc::new(self.clone());
        let features = Features {
            scheduler: config
                .follow_ups
                .is_some()
                .then(|| port() as Arc<dyn Scheduler>),
            archive: config.archive.is_some().then(|| port() as Arc<dyn Archive>),
            findings: config.security_hub.then(|| port() as Arc<dyn Findings>),
        };
        let state = config
            .state
            .is_some()
            .then(|| port() as Arc<dyn StateStore>);
        Engine::new(config, self.clone(), self.clone(), self.clone())
            .with_features(features)
            .with_state(state)
    }

    /// The root user's credentials in `account` now (none for an account that is not a member).
    pub fn credentials_of(&self, account: &AccountId) -> Vec<Credential> {
        self.world()
            .member(account)
            .map(|m| m.root.credentials.clone())
            .unwrap_or_default()
    }
}

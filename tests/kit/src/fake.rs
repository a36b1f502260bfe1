//! In-memory fakes of the engine's ports: an organization whose member accounts each have a
//! root user, behind [`Organization`], [`RootAccess`] and [`Metrics`]. The fake keeps AWS's
//! rules that matter to the engine: a root session can do only what its task policy allows, a
//! deleted credential is gone (or, when asked, still listed for a few reads), `NoSuchEntity`
//! for what is not there. Every call is logged; faults make any call fail or hang.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use futures::FutureExt;
use futures::stream::{self, BoxStream, StreamExt};
use rootsweep::account::{Account, AccountId, AccountState, Caller, Partition};
use rootsweep::config::OuId;
use rootsweep::credentials::{Credential, CredentialKind, TaskPolicy, TaskPolicyArn};
use rootsweep::deliver::Features;
use rootsweep::ports::{
    AccountSummary, Archive, AwsError, AwsErrorKind, Call as PortCall, FailedFinding, Finding,
    Findings, MetricPoint, Metrics, NewSchedule, Organization, PriorFinding, Removal, RootAccess,
    RootSession, RootUser, Schedule, Scheduler, StateStore, Stored,
};
use rootsweep::{Config, Engine};

use crate::days_ago;

/// The management account of every fake organization.
pub const MANAGEMENT: &str = "000000000000";
/// The delegated administrator the fake's caller is.
pub const CALLER: &str = "999999999999";

/// One logged call: `service:Operation`, the account it targeted, the session's task policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub operation: &'static str,
    pub account: Option<AccountId>,
    pub task: Option<TaskPolicy>,
    /// The task policy ARN an AssumeRoot asked for.
    pub task_policy_arn: Option<String>,
    /// When it was made, on tokio's clock (paused in tests that measure pauses).
    pub at: tokio::time::Instant,
}

/// How a faulted call answers.
#[derive(Debug, Clone)]
pub enum Answer {
    Error(AwsError),
    /// Never answers: for deadlines and timeouts.
    Hang,
}

#[derive(Debug, Clone)]
struct Fault {
    operation: &'static str,
    account: Option<AccountId>,
    answer: Answer,
    /// Matching calls let through before the fault applies.
    skip: u32,
    /// Matching calls the fault applies to, after `skip`; every one when `None`.
    times: Option<u32>,
    seen: u32,
}

/// A fault for `operation` (`iam:ListAccessKeys`, `sts:AssumeRoot`, ...).
pub struct FaultBuilder(Fault);

impl FaultBuilder {
    pub fn on(operation: &'static str, answer: Answer) -> Self {
        Self(Fault {
            operation,
            account: None,
            answer,
            skip: 0,
            times: None,
            seen: 0,
        })
    }

    /// `operation` fails with `kind` (and an AWS-like code for it; none when no credentials
    /// could be found, as then nothing reached AWS).
    pub fn error(operation: &'static str, kind: AwsErrorKind) -> Self {
        let code = match kind {
            AwsErrorKind::AccessDenied => "AccessDenied",
            AwsErrorKind::Throttled => "Throttling",
            AwsErrorKind::NotFound => "NoSuchEntity",
            AwsErrorKind::ServiceUnavailable => "ServiceUnavailable",
            AwsErrorKind::Timeout | AwsErrorKind::Other => "InternalFailure",
            AwsErrorKind::NoCredentials => {
                let err = AwsError::new(operation, kind, "no credentials found in chain");
                return Self::on(operation, Answer::Error(err));
            }
        };
        Self::coded(operation, kind, code, "injected fault")
    }

    pub fn coded(operation: &'static str, kind: AwsErrorKind, code: &str, message: &str) -> Self {
        Self::on(
            operation,
            Answer::Error(AwsError::new(operation, kind, message).with_code(code)),
        )
    }

    pub fn for_account(mut self, account: &AccountId) -> Self {
        self.0.account = Some(account.clone());
        self
    }

    pub fn after(mut self, calls: u32) -> Self {
        self.0.skip = calls;
        self
    }

    pub fn times(mut self, calls: u32) -> Self {
        self.0.times = Some(calls);
        self
    }
}

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

type Hook = Box<dyn FnOnce(&mut World) + Send>;
type Matcher = Box<dyn Fn(&Call) -> bool + Send>;

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
    faults: Vec<Fault>,
    hooks: Vec<(Matcher, Hook)>,
    /// Deleted credentials still listed, with the reads they have left.
    ghosts: Vec<(AccountId, Credential, u32)>,
    sessions: u64,
}

impl World {
    pub fn member(&mut self, id: &AccountId) -> Option<&mut Member> {
        self.members.iter_mut().find(|m| &m.account.id == id)
    }

    /// Logs the call, runs its hooks, and returns the fault that answers it, if any.
    fn call(&mut self, call: Call) -> Option<Answer> {
        let (operation, account) = (call.operation, call.account.clone());
        let (fire, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut self.hooks)
            .into_iter()
            .partition(|(matches, _)| matches(&call));
        self.hooks = keep;
        self.calls.push(call);
        let due: Vec<Hook> = fire.into_iter().map(|(_, hook)| hook).collect();
        for hook in due {
            hook(self);
        }
        let fault = self.faults.iter_mut().find(|f| {
            f.operation == operation
                && f.account
                    .as_ref()
                    .is_none_or(|a| Some(a) == account.as_ref())
                && f.times.is_none_or(|t| f.seen < f.skip + t)
        })?;
        fault.seen += 1;
        (fault.seen > fault.skip).then(|| fault.answer.clone())
    }

    fn credentials(&self, account: &AccountId, kind: CredentialKind) -> Vec<Credential> {
        let live = self
            .members
            .iter()
            .find(|m| &m.account.id == account)
            .map(|m| m.root.credentials.clone())
            .unwrap_or_default();
        let ghosts = self
            .ghosts
            .iter()
            .filter(|(a, _, _)| a == account)
            .map(|(_, c, _)| c.clone());
        live.into_iter()
            .chain(ghosts)
            .filter(|c| c.kind == kind)
            .collect()
    }

    /// A read in `account`: ghosts fade.
    fn read(&mut self, account: &AccountId) {
        for ghost in self.ghosts.iter_mut().filter(|(a, _, _)| a == account) {
            ghost.2 = ghost.2.saturating_sub(1);
        }
        self.ghosts.retain(|(_, _, reads)| *reads > 0);
    }
}

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
            move |w| hook(&mut w.member(&edited).expect("a member").root),
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

    pub fn calls(&self) -> Vec<Call> {
        self.world().calls.clone()
    }

    /// The operations called for `account`, in order.
    pub fn calls_for(&self, account: &AccountId) -> Vec<&'static str> {
        self.calls()
            .into_iter()
            .filter(|c| c.account.as_ref() == Some(account))
            .map(|c| c.operation)
            .collect()
    }

    pub fn count(&self, operation: &str) -> usize {
        self.calls()
            .iter()
            .filter(|c| c.operation == operation)
            .count()
    }

    /// The accounts a root session was opened in with `task`.
    pub fn sessions(&self, task: TaskPolicy) -> Vec<AccountId> {
        self.calls()
            .into_iter()
            .filter(|c| c.operation == "sts:AssumeRoot" && c.task == Some(task))
            .filter_map(|c| c.account)
            .collect()
    }

    /// The value of the metric `name` (without dimensions) in the first run's published set.
    pub fn metric(&self, name: &str) -> Option<f64> {
        self.world()
            .published
            .first()?
            .iter()
            .find(|p| p.name == name && p.dimensions.is_empty())
            .map(|p| p.value)
    }

    /// The value of metric `name` without dimensions, run by run.
    pub fn metric_by_run(&self, name: &str) -> Vec<f64> {
        self.world()
            .published
            .iter()
            .filter_map(|run| {
                run.iter()
                    .find(|p| p.name == name && p.dimensions.is_empty())
                    .map(|p| p.value)
            })
            .collect()
    }

    pub fn credentials_of(&self, account: &AccountId) -> Vec<Credential> {
        self.world()
            .member(account)
            .map(|m| m.root.credentials.clone())
            .unwrap_or_default()
    }

    /// Answers `call`: the fault's error, a hang, or `serve` on the world.
    async fn answer<T>(
        &self,
        call: Call,
        serve: impl FnOnce(&mut World) -> Result<T, AwsError>,
    ) -> Result<T, AwsError> {
        let operation = call.operation;
        let fault = self.world().call(call);
        match fault {
            Some(Answer::Hang) => std::future::pending().await,
            Some(Answer::Error(mut err)) => {
                err.operation = operation;
                Err(err)
            }
            None => serve(&mut self.world()),
        }
    }

    fn plain(operation: &'static str) -> Call {
        Call {
            operation,
            account: None,
            task: None,
            task_policy_arn: None,
            at: tokio::time::Instant::now(),
        }
    }
}

fn denied(operation: &'static str, why: &str) -> AwsError {
    AwsError::new(operation, AwsErrorKind::AccessDenied, why).with_code("AccessDenied")
}

impl Organization for FakeAws {
    async fn caller(&self) -> Result<Caller, AwsError> {
        self.answer(Self::plain("sts:GetCallerIdentity"), |w| {
            Ok(w.caller.clone())
        })
        .await
    }

    async fn root_access_features(&self) -> Result<Vec<String>, AwsError> {
        self.answer(Self::plain("iam:ListOrganizationsFeatures"), |w| {
            Ok(w.features.clone())
        })
        .await
    }

    async fn management_account(&self) -> Result<AccountId, AwsError> {
        self.answer(Self::plain("organizations:DescribeOrganization"), |w| {
            Ok(w.management.clone())
        })
        .await
    }

    fn accounts(&self) -> BoxStream<'static, Result<Account, AwsError>> {
        let fake = self.clone();
        stream::unfold(Some(0usize), move |page| {
            let fake = fake.clone();
            async move {
                let start = page?;
                let call = Self::plain("organizations:ListAccounts");
                let result = fake
                    .answer(call, |w| {
                        let end = (start + w.page_size).min(w.members.len());
                        let accounts = w.members[start..end]
                            .iter()
                            .map(|m| m.account.clone())
                            .collect::<Vec<_>>();
                        Ok((accounts, (end < w.members.len()).then_some(end)))
                    })
                    .await;
                Some(match result {
                    Ok((accounts, next)) => (accounts.into_iter().map(Ok).collect(), next),
                    Err(err) => (vec![Err(err)], None),
                })
            }
        })
        .flat_map(stream::iter)
        .boxed()
    }

    async fn accounts_under(&self, parent: &OuId) -> Result<Vec<(AccountId, String)>, AwsError> {
        let root = parent.as_str().to_owned();
        self.answer(Self::plain("organizations:ListAccountsForParent"), |w| {
            let under = |unit: &str| {
                let mut at = Some(unit.to_owned());
                while let Some(u) = at {
                    if u == root {
                        return true;
                    }
                    at = w.units.get(&u).cloned().flatten();
                }
                root.starts_with("r-")
            };
            Ok(w.members
                .iter()
                .filter_map(|m| {
                    let unit = m.unit.clone().unwrap_or_else(|| "r-root".into());
                    under(&unit).then(|| (m.account.id.clone(), unit))
                })
                .collect())
        })
        .await
    }

    async fn tags(&self, account: &AccountId) -> Result<Vec<(String, String)>, AwsError> {
        let call = Call {
            account: Some(account.clone()),
            ..Self::plain("organizations:ListTagsForResource")
        };
        self.answer(call, |w| {
            Ok(w.member(account)
                .map(|m| m.tags.clone())
                .unwrap_or_default())
        })
        .await
    }
}

impl RootAccess for FakeAws {
    type Session = FakeSession;

    async fn assume_root(
        &self,
        account: &AccountId,
        task: &TaskPolicyArn,
    ) -> Result<FakeSession, AwsError> {
        let call = Call {
            account: Some(account.clone()),
            task: Some(task.task),
            task_policy_arn: Some(task.as_str().to_owned()),
            ..Self::plain("sts:AssumeRoot")
        };
        let expected = TaskPolicyArn::new(task.task, &self.world().caller.partition);
        let request_id = self
            .answer(call, |w| {
                if *task != expected {
                    return Err(denied(
                        "sts:AssumeRoot",
                        "not a task policy of this partition",
                    ));
                }
                if *account == w.management {
                    return Err(denied(
                        "sts:AssumeRoot",
                        "no root session in the management account",
                    ));
                }
                w.sessions += 1;
                Ok(format!("fake-request-{}", w.sessions))
            })
            .await?;
        Ok(FakeSession {
            aws: self.clone(),
            account: account.clone(),
            task: task.task,
            request_id,
        })
    }
}

/// A root session in one member account, limited by its task policy.
pub struct FakeSession {
    aws: FakeAws,
    account: AccountId,
    task: TaskPolicy,
    request_id: String,
}

/// What each task policy allows (AWS-ROOT-ACCESS.md).
fn allows(task: TaskPolicy, operation: &str, world: &World) -> bool {
    const READS: [&str; 6] = [
        "iam:GetUser",
        "iam:GetLoginProfile",
        "iam:ListAccessKeys",
        "iam:GetAccessKeyLastUsed",
        "iam:ListSigningCertificates",
        "iam:ListMFADevices",
    ];
    const DELETES: [&str; 4] = [
        "iam:DeleteLoginProfile",
        "iam:DeleteAccessKey",
        "iam:DeleteSigningCertificate",
        "iam:DeactivateMFADevice",
    ];
    READS.contains(&operation)
        || match task {
            TaskPolicy::Audit => operation == "iam:GetAccountSummary",
            TaskPolicy::Delete => {
                DELETES.contains(&operation)
                    || (operation == "iam:DeleteVirtualMFADevice"
                        && world.delete_policy_allows_virtual_mfa)
            }
        }
}

impl FakeSession {
    async fn iam<T>(
        &self,
        operation: &'static str,
        serve: impl FnOnce(&mut World, &AccountId) -> Result<T, AwsError>,
    ) -> Result<T, AwsError> {
        let call = Call {
            account: Some(self.account.clone()),
            task: Some(self.task),
            ..FakeAws::plain(operation)
        };
        let (task, account) = (self.task, self.account.clone());
        self.aws
            .answer(call, move |w| {
                if !allows(task, operation, w) {
                    return Err(denied(
                        operation,
                        "not allowed by the session's task policy",
                    ));
                }
                serve(w, &account)
            })
            .await
    }

    fn list_operation(kind: CredentialKind) -> &'static str {
        match kind {
            CredentialKind::Password => "iam:GetLoginProfile",
            CredentialKind::AccessKey => "iam:ListAccessKeys",
            CredentialKind::SigningCertificate => "iam:ListSigningCertificates",
            CredentialKind::MfaDevice => "iam:ListMFADevices",
        }
    }

    fn remove_operation(kind: CredentialKind) -> &'static str {
        match kind {
            CredentialKind::Password => "iam:DeleteLoginProfile",
            CredentialKind::AccessKey => "iam:DeleteAccessKey",
            CredentialKind::SigningCertificate => "iam:DeleteSigningCertificate",
            CredentialKind::MfaDevice => "iam:DeactivateMFADevice",
        }
    }
}

impl RootSession for FakeSession {
    fn request_id(&self) -> Option<&str> {
        Some(&self.request_id)
    }

    async fn summary(&self) -> Result<AccountSummary, AwsError> {
        self.iam("iam:GetAccountSummary", |w, account| {
            let has = |kind| Some(!w.credentials(account, kind).is_empty());
            Ok(AccountSummary {
                access_keys: has(CredentialKind::AccessKey),
                signing_certificates: has(CredentialKind::SigningCertificate),
                mfa_devices: has(CredentialKind::MfaDevice),
            })
        })
        .await
    }

    async fn root_user(&self) -> Result<RootUser, AwsError> {
        self.iam("iam:GetUser", |w, account| {
            let root = &w.member(account).expect("a member").root;
            Ok(RootUser {
                created: root.created,
                password_last_used: root.password_last_used,
            })
        })
        .await
    }

    async fn list(&self, kind: CredentialKind) -> Result<Vec<Credential>, AwsError> {
        self.iam(Self::list_operation(kind), |w, account| {
            let listed = w.credentials(account, kind);
            w.read(account);
            Ok(listed)
        })
        .await
    }

    /// A key IAM still lists after its deletion (a ghost) answers AccessDenied, as IAM does
    /// while the deletion propagates, and as it does for any key that is not the root user's.
    async fn last_used(&self, access_key_id: &str) -> Result<Option<DateTime<Utc>>, AwsError> {
        let id = access_key_id.to_owned();
        self.iam("iam:GetAccessKeyLastUsed", move |w, account| {
            let root = &w.member(account).expect("a member").root;
            root.credentials
                .iter()
                .find(|c| c.kind == CredentialKind::AccessKey && c.id == id)
                .map(|key| key.last_used)
                .ok_or_else(|| {
                    denied(
                        "iam:GetAccessKeyLastUsed",
                        &format!("not authorized on resource: access key {id}"),
                    )
                })
        })
        .await
    }

    async fn remove(&self, credential: &Credential) -> Result<Removal, AwsError> {
        let target = credential.clone();
        self.iam(
            Self::remove_operation(credential.kind),
            move |w, account| {
                let stale = w.stale_reads_after_delete;
                let root = &mut w.member(account).expect("a member").root;
                let Some(at) = root
                    .credentials
                    .iter()
                    .position(|c| c.kind == target.kind && c.id == target.id)
                else {
                    return Ok(Removal::AlreadyGone);
                };
                let removed = root.credentials.remove(at);
                if removed.is_virtual_mfa() {
                    root.unassigned_virtual_mfa.push(removed.id.clone());
                }
                if stale > 0 {
                    w.ghosts.push((account.clone(), removed, stale));
                }
                Ok(Removal::Removed)
            },
        )
        .await
    }

    async fn delete_virtual_mfa_device(&self, serial: &str) -> Result<Removal, AwsError> {
        let serial = serial.to_owned();
        self.iam("iam:DeleteVirtualMFADevice", move |w, account| {
            let root = &mut w.member(account).expect("a member").root;
            let before = root.unassigned_virtual_mfa.len();
            root.unassigned_virtual_mfa.retain(|s| *s != serial);
            Ok(if root.unassigned_virtual_mfa.len() < before {
                Removal::Removed
            } else {
                Removal::AlreadyGone
            })
        })
        .await
    }
}

impl Metrics for FakeAws {
    async fn publish(&self, _namespace: &str, points: &[MetricPoint]) -> Result<(), AwsError> {
        let points = points.to_vec();
        self.answer(Self::plain("cloudwatch:PutMetricData"), move |w| {
            w.published.push(points);
            Ok(())
        })
        .await
    }
}

fn not_found(operation: &'static str, code: &str, what: &str) -> AwsError {
    AwsError::new(operation, AwsErrorKind::NotFound, what).with_code(code)
}

impl Scheduler for FakeAws {
    fn get<'a>(&'a self, name: &'a str) -> PortCall<'a, Option<Schedule>> {
        self.answer(Self::plain("scheduler:GetSchedule"), move |w| {
            Ok(w.schedules.get(name).map(|s| Schedule {
                name: s.name.clone(),
                at: s.at,
            }))
        })
        .boxed()
    }

    fn create<'a>(&'a self, schedule: &'a NewSchedule) -> PortCall<'a, ()> {
        self.answer(Self::plain("scheduler:CreateSchedule"), move |w| {
            if w.schedules.contains_key(&schedule.name) {
                let exists =
                    AwsError::new("scheduler:CreateSchedule", AwsErrorKind::Other, "exists");
                return Err(exists.with_code("ConflictException"));
            }
            w.schedules.insert(schedule.name.clone(), schedule.clone());
            Ok(())
        })
        .boxed()
    }

    fn delete<'a>(&'a self, name: &'a str) -> PortCall<'a, ()> {
        self.answer(Self::plain("scheduler:DeleteSchedule"), move |w| {
            w.schedules.remove(name);
            Ok(())
        })
        .boxed()
    }

    fn list(&self) -> PortCall<'_, Vec<Schedule>> {
        self.answer(Self::plain("scheduler:ListSchedules"), |w| {
            Ok(w.schedules
                .values()
                .map(|s| Schedule {
                    name: s.name.clone(),
                    at: s.at,
                })
                .collect())
        })
        .boxed()
    }
}

impl Archive for FakeAws {
    fn put<'a>(&'a self, key: &'a str, body: Vec<u8>) -> PortCall<'a, ()> {
        self.answer(Self::plain("s3:PutObject"), move |w| {
            w.objects.insert(key.to_owned(), body);
            Ok(())
        })
        .boxed()
    }

    fn list<'a>(
        &'a self,
        prefix: &'a str,
        start_after: Option<&'a str>,
    ) -> PortCall<'a, Vec<String>> {
        self.answer(Self::plain("s3:ListBucket"), move |w| {
            Ok(w.objects
                .keys()
                .filter(|k| k.starts_with(prefix) && start_after.is_none_or(|s| k.as_str() > s))
                .cloned()
                .collect())
        })
        .boxed()
    }

    fn get<'a>(&'a self, key: &'a str) -> PortCall<'a, Vec<u8>> {
        self.answer(Self::plain("s3:GetObject"), move |w| {
            w.objects
                .get(key)
                .cloned()
                .ok_or_else(|| not_found("s3:GetObject", "NoSuchKey", key))
        })
        .boxed()
    }
}

/// The run ledger's object, with S3's conditional writes: a write over another version than
/// the one named, or a create where one exists, is refused (`Ok(None)`).
impl StateStore for FakeAws {
    fn load(&self) -> PortCall<'_, Option<Stored>> {
        self.answer(Self::plain("s3:GetObject"), |w| Ok(w.state.clone()))
            .boxed()
    }

    fn store<'a>(
        &'a self,
        body: Vec<u8>,
        version: Option<&'a str>,
    ) -> PortCall<'a, Option<String>> {
        self.answer(Self::plain("s3:PutObject"), move |w| {
            if w.state.as_ref().map(|s| s.version.as_str()) != version {
                return Ok(None);
            }
            Ok(Some(w.write_state(body)))
        })
        .boxed()
    }
}

impl World {
    /// Writes the ledger's object as another run would: a new version.
    pub fn write_state(&mut self, body: Vec<u8>) -> String {
        self.state_writes += 1;
        let version = format!("\"v{}\"", self.state_writes);
        self.state = Some(Stored {
            body,
            version: version.clone(),
        });
        version
    }
}

impl Findings for FakeAws {
    fn import<'a>(
        &'a self,
        caller: &'a Caller,
        findings: &'a [Finding],
    ) -> PortCall<'a, Vec<FailedFinding>> {
        self.answer(Self::plain("securityhub:BatchImportFindings"), move |w| {
            assert_eq!(caller, &w.caller, "findings are filed as the caller");
            assert!(findings.len() <= 100, "at most 100 findings a call");
            for finding in findings {
                w.findings.insert(finding.id.clone(), finding.clone());
            }
            Ok(Vec::new())
        })
        .boxed()
    }

    fn prior<'a>(
        &'a self,
        caller: &'a Caller,
        _generator: &'a str,
    ) -> PortCall<'a, Vec<PriorFinding>> {
        self.answer(Self::plain("securityhub:GetFindings"), move |w| {
            assert_eq!(caller, &w.caller, "findings are read as the caller");
            Ok(w.findings
                .values()
                .map(|f| PriorFinding {
                    id: f.id.clone(),
                    account: Some(f.account.clone()),
                    created: f.created,
                    first_observed: f.first_observed,
                    last_observed: f.last_observed,
                    severity: Some(f.severity),
                    active: f.record_state == "ACTIVE",
                })
                .collect())
        })
        .boxed()
    }
}

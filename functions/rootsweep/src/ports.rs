//! The engine's seams: what it needs from AWS, as traits over domain types. `aws/` implements
//! them with the SDK; tests implement them in memory or point the SDK at the emulator.

use std::collections::BTreeMap;
use std::future::Future;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use futures::stream::BoxStream;

use crate::account::{Account, AccountId, Caller};
use crate::config::OuId;
use crate::credentials::{Credential, CredentialKind, TaskPolicyArn};
use crate::names::named_enum;

pub use crate::error::{AwsError, AwsErrorKind};

/// What a removal call found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    Removed,
    /// `NoSuchEntity`: someone else removed it first, which is what we wanted anyway.
    AlreadyGone,
}

/// `iam:GetAccountSummary` in a root session: which root credentials exist, without listing
/// them. `None` where the answer does not say (no `SummaryMap`, or not that key): unknown,
/// never "none".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccountSummary {
    pub access_keys: Option<bool>,
    pub signing_certificates: Option<bool>,
    pub mfa_devices: Option<bool>,
}

impl AccountSummary {
    /// Whether the summary says credentials of `kind` exist; `None` when it does not say. It
    /// says nothing of the password.
    pub fn shows(self, kind: CredentialKind) -> Option<bool> {
        match kind {
            CredentialKind::Password => None,
            CredentialKind::AccessKey => self.access_keys,
            CredentialKind::SigningCertificate => self.signing_certificates,
            CredentialKind::MfaDevice => self.mfa_devices,
        }
    }
}

/// `iam:GetUser` in a root session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RootUser {
    /// When the root user (so the account) was created: no credential can be older.
    pub created: Option<DateTime<Utc>>,
    /// Stays on the user after the password is deleted.
    pub password_last_used: Option<DateTime<Utc>>,
}

/// Organizations, and who is calling. Organizations' limits are caller-wide and low: adapters
/// make these calls from one place with a small bound.
pub trait Organization: Send + Sync + 'static {
    /// `sts:GetCallerIdentity`.
    fn caller(&self) -> impl Future<Output = Result<Caller, AwsError>> + Send;
    /// `iam:ListOrganizationsFeatures`: the enabled root-access features, by AWS name. Its
    /// failures carry AWS's exception name as their code.
    fn root_access_features(&self) -> impl Future<Output = Result<Vec<String>, AwsError>> + Send;
    /// `organizations:DescribeOrganization`: the management account id.
    fn management_account(&self) -> impl Future<Output = Result<AccountId, AwsError>> + Send;
    /// `organizations:ListAccounts`, page by page as the run consumes it.
    fn accounts(&self) -> BoxStream<'static, Result<Account, AwsError>>;
    /// Every account under `parent`, nested units included, each with the unit that holds it
    /// directly: one walk of that subtree, never a call per account.
    fn accounts_under(
        &self,
        parent: &OuId,
    ) -> impl Future<Output = Result<Vec<(AccountId, String)>, AwsError>> + Send;
    /// `organizations:ListTagsForResource` for one account.
    fn tags(
        &self,
        account: &AccountId,
    ) -> impl Future<Output = Result<Vec<(String, String)>, AwsError>> + Send;
}

/// `sts:AssumeRoot`.
pub trait RootAccess: Send + Sync + 'static {
    type Session: RootSession;
    fn assume_root(
        &self,
        account: &AccountId,
        task: &TaskPolicyArn,
    ) -> impl Future<Output = Result<Self::Session, AwsError>> + Send;
}

/// IAM calls on a member account's root user. The session's credentials never leave it.
pub trait RootSession: Send + Sync + 'static {
    /// The AssumeRoot request id: how an operator finds this session in CloudTrail.
    fn request_id(&self) -> Option<&str>;
    /// `iam:GetAccountSummary` (allowed by the audit task policy only).
    fn summary(&self) -> impl Future<Output = Result<AccountSummary, AwsError>> + Send;
    /// `iam:GetUser`.
    fn root_user(&self) -> impl Future<Output = Result<RootUser, AwsError>> + Send;
    /// The root user's credentials of one kind, as IAM lists them: the login profile (none
    /// when `NoSuchEntity`), the access keys, the signing certificates, or the MFA devices.
    fn list(
        &self,
        kind: CredentialKind,
    ) -> impl Future<Output = Result<Vec<Credential>, AwsError>> + Send;
    /// `iam:GetAccessKeyLastUsed`: when the root user's access key was last used (`None`:
    /// never).
    fn last_used(
        &self,
        access_key_id: &str,
    ) -> impl Future<Output = Result<Option<DateTime<Utc>>, AwsError>> + Send;
    /// Deletes a password, access key or signing certificate, or deactivates an MFA device.
    fn remove(
        &self,
        credential: &Credential,
    ) -> impl Future<Output = Result<Removal, AwsError>> + Send;
    /// Deletes a virtual MFA device left behind by its deactivation.
    fn delete_virtual_mfa_device(
        &self,
        serial: &str,
    ) -> impl Future<Output = Result<Removal, AwsError>> + Send;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricUnit {
    Count,
    Seconds,
}

/// One CloudWatch data point and its dimensions.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricPoint {
    pub name: String,
    pub value: f64,
    pub unit: MetricUnit,
    pub dimensions: Vec<(&'static str, String)>,
}

/// CloudWatch metrics.
pub trait Metrics: Send + Sync + 'static {
    fn publish(
        &self,
        namespace: &str,
        points: &[MetricPoint],
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
}

/// No metrics at all: `None` publishes nothing (the operator CLI, unless asked to).
impl<M: Metrics> Metrics for Option<M> {
    async fn publish(&self, namespace: &str, points: &[MetricPoint]) -> Result<(), AwsError> {
        match self {
            Some(metrics) => metrics.publish(namespace, points).await,
            None => Ok(()),
        }
    }
}

/// A one-time EventBridge Scheduler schedule of the follow-up group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub name: String,
    /// When it fires (`at(...)` in UTC).
    pub at: DateTime<Utc>,
}

/// A follow-up to create: at `at`, invoke `target_arn` as `role_arn` with `input`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSchedule {
    pub name: String,
    pub at: DateTime<Utc>,
    pub target_arn: String,
    pub role_arn: String,
    pub input: String,
}

/// The optional features' ports are used a few times per run: boxed futures keep them object
/// safe, so that each is simply present or absent (`Option<Arc<dyn ...>>`).
pub type Call<'a, T> = BoxFuture<'a, Result<T, AwsError>>;

/// EventBridge Scheduler, in the follow-up schedule group.
pub trait Scheduler: Send + Sync {
    /// `scheduler:GetSchedule`; `None` when there is none of that name.
    fn get<'a>(&'a self, name: &'a str) -> Call<'a, Option<Schedule>>;
    /// `scheduler:CreateSchedule`: one-time, deleted after it fires.
    fn create<'a>(&'a self, schedule: &'a NewSchedule) -> Call<'a, ()>;
    /// `scheduler:DeleteSchedule`; one already gone is not an error.
    fn delete<'a>(&'a self, name: &'a str) -> Call<'a, ()>;
    /// `scheduler:ListSchedules` in the group: the pending follow-ups.
    fn list(&self) -> Call<'_, Vec<Schedule>>;
}

/// S3 objects under the archive's bucket.
pub trait Archive: Send + Sync {
    fn put<'a>(&'a self, key: &'a str, body: Vec<u8>) -> Call<'a, ()>;
    /// The keys under `prefix`, after `start_after` if given, in key order.
    fn list<'a>(&'a self, prefix: &'a str, start_after: Option<&'a str>) -> Call<'a, Vec<String>>;
    fn get<'a>(&'a self, key: &'a str) -> Call<'a, Vec<u8>>;
}

/// The one object the run ledger lives in, written only over the version read (S3 conditional
/// writes: "Add preconditions to S3 operations with conditional requests", S3 User Guide).
pub trait StateStore: Send + Sync {
    /// The object and its version (ETag); `None` when there is none yet.
    fn load(&self) -> Call<'_, Option<Stored>>;
    /// Writes `body` only over `version` (`None`: only where there is none yet). `Ok(None)`:
    /// the precondition failed, another run wrote first.
    fn store<'a>(&'a self, body: Vec<u8>, version: Option<&'a str>) -> Call<'a, Option<String>>;
}

/// An object as read, and its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub body: Vec<u8>,
    pub version: String,
}

/// A finding about one member account, as the domain sees it; the adapter adds the ASFF
/// envelope (schema, product, caller account, region) and puts the severity and types in
/// `FindingProviderFields`, where a provider's values survive a customer's triage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Stable per member account.
    pub id: String,
    pub account: AccountId,
    pub severity: Severity,
    /// `FAILED`, `PASSED` or `NOT_AVAILABLE` (the account could not be checked).
    pub compliance: &'static str,
    /// `ACTIVE` or `ARCHIVED`.
    pub record_state: &'static str,
    pub title: String,
    pub description: String,
    /// When the finding was first imported: kept on every update.
    pub created: DateTime<Utc>,
    /// The oldest root credential's date, as read.
    pub first_observed: Option<DateTime<Utc>>,
    /// When a run last saw root credentials in the account.
    pub last_observed: Option<DateTime<Utc>>,
    pub updated: DateTime<Utc>,
}

named_enum! {
    /// ASFF severity labels, lowest first.
    pub enum Severity {
        Informational => "INFORMATIONAL",
        Low => "LOW",
        Medium => "MEDIUM",
        High => "HIGH",
        Critical => "CRITICAL",
    }
}

/// A finding of rootsweep's already in Security Hub, as GetFindings answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorFinding {
    pub id: String,
    /// The member account it is about (its `AwsAccount` resource).
    pub account: Option<AccountId>,
    pub created: DateTime<Utc>,
    pub first_observed: Option<DateTime<Utc>>,
    pub last_observed: Option<DateTime<Utc>>,
    /// `FindingProviderFields.Severity`: what rootsweep last said, whatever a triage set.
    pub severity: Option<Severity>,
    pub active: bool,
}

/// A finding Security Hub did not take, with its reason.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FailedFinding {
    pub id: String,
    pub error: String,
}

/// Security Hub.
pub trait Findings: Send + Sync {
    /// `securityhub:BatchImportFindings` (at most 100 findings and 6 MB a call) as `caller`,
    /// whose account and default product they are filed under; the findings it refused.
    fn import<'a>(
        &'a self,
        caller: &'a Caller,
        findings: &'a [Finding],
    ) -> Call<'a, Vec<FailedFinding>>;
    /// `securityhub:GetFindings`: every finding of this generator in `caller`'s default
    /// product, active or archived.
    fn prior<'a>(&'a self, caller: &'a Caller, generator: &'a str) -> Call<'a, Vec<PriorFinding>>;
}

/// A deployed function's configuration: what it runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployedFunction {
    /// `arn:aws:lambda:REGION:ACCOUNT:function:NAME`, as Lambda answered it.
    pub arn: String,
    /// Its environment variables; none when the function has no environment.
    pub variables: BTreeMap<String, String>,
}

/// Lambda, for the deployment an operator's run acts for.
pub trait Deployment: Send + Sync {
    /// `lambda:GetFunctionConfiguration` of `function` (a name, an ARN or a partial ARN) at
    /// `$LATEST`. A missing function is a `NotFound` error; one whose variables Lambda could not
    /// read (`Environment.Error`, such as a KMS key it may no longer use) is an error too, as
    /// its settings are unknown.
    fn configuration<'a>(&'a self, function: &'a str) -> Call<'a, DeployedFunction>;
}

//! Every reason a report gives (why an account was skipped, exempt, not reached, held or failed,
//! what was odd, what was noticed), as enums, and the one place they are rendered to text.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::account::AccountState;
use crate::config::{OuId, TagRule};
use crate::credentials::CredentialKind;
use crate::error::{AwsError, AwsErrorKind};

/// Why a listed account is left alone without being looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    ManagementAccount,
    NotActive(AccountState),
    /// A named account that the organization's listing does not have.
    NotInOrganization,
}

/// The configured rule that exempts an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExemptRule {
    ListedAccount,
    /// Directly in `holder`, which is `unit` or a unit nested below it.
    Unit {
        unit: OuId,
        holder: String,
    },
    Tag(TagRule),
}

/// Why an account was not finished by this run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotReachedReason {
    /// The run stopped starting accounts before its deadline (`margin` before it).
    NotAudited { margin: Duration },
    /// Audited and due since `due_at`, but the run stopped starting remediations before its
    /// deadline.
    NotRemediated {
        margin: Duration,
        due_at: DateTime<Utc>,
    },
    /// A named account the listing had not reached when it broke off.
    ListingBrokeOff,
    /// Its tags, which the exemption tag rule needs before an audit, were not read in time.
    TagsNotRead,
}

/// Why the listing of the organization's accounts ended before its last page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListingStop {
    Failed(AwsError),
    /// The run's time for planning ran out first.
    OutOfTime,
}

/// Why due accounts were not remediated by this run. Nothing is deleted for any of these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HoldReason {
    /// The run only audits.
    AuditMode,
    /// The listing broke off: unseen accounts could be due, so the cap cannot be checked.
    IncompleteView,
    /// Remediating the due accounts could go over the cap: accounts remediated in the last 24
    /// hours, plus the due ones, plus those whose state is unknown (here or, from the ledger,
    /// elsewhere in the organization), are more than it allows.
    OverCap {
        due: usize,
        unknown: usize,
        elsewhere: usize,
        spent: usize,
        cap: usize,
    },
    /// The run ledger could not be read: the cap's spending cannot be known.
    LedgerUnreadable(String),
    /// The run ledger could not be written: this run cannot record what it would spend.
    LedgerUnwritable(String),
    /// The operator did not confirm the sweep.
    NotConfirmed,
}

/// Why one account failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    Aws(AwsError),
    /// The tags an exemption depends on could not be read: the account is left alone.
    TagsUnreadable(AwsError),
    /// Credentials were still listed after deleting them and re-reading `reads` times.
    StillPresent {
        left: Vec<(CredentialKind, String)>,
        reads: u32,
    },
    /// Stopped at the run's deadline while being worked on.
    Deadline,
    /// AWS kept refusing to deactivate MFA long after the account became due.
    MfaStillRefused {
        error: AwsError,
        due_at: DateTime<Utc>,
    },
}

/// Something worth telling about an account that is not its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// The delete session found no credentials left.
    GoneBeforeDeletion,
    /// The delete session found newer activity than the audit: nothing deleted.
    NewerActivity,
    /// Read back after deletion: nothing left.
    Verified,
    /// A deactivated virtual MFA device was not deleted.
    VirtualMfaDeviceLeft { serial: String, why: LeftBecause },
    /// The grace period of this account is set by an odd date.
    HeldByOddDates,
    /// Its tags, read again before its delete session, carry the exemption tag.
    ExemptBeforeDeletion,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeftBecause {
    /// `ROOTSWEEP_DELETE_VIRTUAL_MFA_DEVICES` is off (the default).
    NotConfigured,
    Refused(AwsError),
}

/// A date the grace rule could not take at face value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateAnomaly {
    pub item: DatedItem,
    pub issue: DateIssue,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatedItem {
    Credential { kind: CredentialKind, id: String },
    PasswordLastUsed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateIssue {
    Missing,
    BeforeRootUser(DateTime<Utc>),
    InFuture(DateTime<Utc>),
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::ManagementAccount => {
                f.write_str("management account: no root session can target it")
            }
            SkipReason::NotActive(state) => write!(
                f,
                "account state is {state}: only ACTIVE accounts can be targeted"
            ),
            SkipReason::NotInOrganization => {
                f.write_str("not found among the organization's accounts")
            }
        }
    }
}

impl fmt::Display for ExemptRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExemptRule::ListedAccount => {
                f.write_str("account id listed in ROOTSWEEP_EXEMPT_ACCOUNTS")
            }
            ExemptRule::Unit { unit, holder } if holder == unit.as_str() => {
                write!(
                    f,
                    "in exempt organizational unit {unit} (ROOTSWEEP_EXEMPT_OUS)"
                )
            }
            ExemptRule::Unit { unit, holder } => write!(
                f,
                "in organizational unit {holder}, under exempt {unit} (ROOTSWEEP_EXEMPT_OUS)"
            ),
            ExemptRule::Tag(rule) => write!(
                f,
                "tagged {rule} (ROOTSWEEP_EXEMPT_TAG_KEY/ROOTSWEEP_EXEMPT_TAG_VALUE)"
            ),
        }
    }
}

impl fmt::Display for NotReachedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotReachedReason::NotAudited { margin } => write!(
                f,
                "not audited: the run stops auditing once three quarters of its time to start work (until {}s before its deadline) is spent, to leave time to act; the next run audits it first",
                margin.as_secs()
            ),
            NotReachedReason::NotRemediated { margin, .. } => write!(
                f,
                "audited and due, but not remediated: the run stops starting accounts {}s before its deadline; the next run will cover it",
                margin.as_secs()
            ),
            NotReachedReason::ListingBrokeOff => {
                f.write_str("the account listing failed before reaching it")
            }
            NotReachedReason::TagsNotRead => f.write_str(
                "not audited: its tags, which the exemption tag rule needs first, were not read before the run's time for planning ran out; the next run reads them first",
            ),
        }
    }
}

impl fmt::Display for ListingStop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListingStop::Failed(error) => write!(f, "{error}"),
            ListingStop::OutOfTime => f.write_str(
                "the run's time for planning ran out before every account was listed (set a longer function Timeout if this repeats)",
            ),
        }
    }
}

impl fmt::Display for HoldReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HoldReason::AuditMode => f.write_str("audit mode: nothing is deleted"),
            HoldReason::IncompleteView => f.write_str(
                "not deleted: the account listing broke off, so accounts this run did not see may be due as well and the remediation cap cannot be checked; the next complete run will remediate",
            ),
            HoldReason::OverCap {
                due,
                unknown,
                elsewhere,
                spent,
                cap,
            } => {
                write!(
                    f,
                    "not deleted: {due} accounts are due and {unknown} more could not be checked"
                )?;
                if *elsewhere > 0 {
                    write!(
                        f,
                        ", and earlier runs found {elsewhere} other accounts due or could not check them"
                    )?;
                }
                if *spent > 0 {
                    write!(f, ", with {spent} remediated in the last 24 hours")?;
                }
                write!(
                    f,
                    ": more than the cap of {cap} remediations in any 24 hours (ROOTSWEEP_MAX_REMEDIATIONS, --max-remediations). Review them (the run summary lists them), then raise the cap for one run or fix the cause"
                )
            }
            HoldReason::LedgerUnreadable(why) => write!(
                f,
                "not deleted: {why}. Without it the remediations of the last 24 hours are unknown"
            ),
            HoldReason::LedgerUnwritable(why) => write!(
                f,
                "not deleted: {why}. A run deletes only what it has first recorded against the cap"
            ),
            HoldReason::NotConfirmed => f.write_str("not deleted: the sweep was not confirmed"),
        }
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cause::Aws(error) => write!(f, "{error}{}", hint(error)),
            Cause::TagsUnreadable(error) => write!(
                f,
                "{error}. Its tags could not be read, so it was left alone: check that the role allows organizations:ListTagsForResource"
            ),
            Cause::StillPresent { left, reads } => {
                let left: Vec<String> = left.iter().map(|(k, id)| format!("{k} {id}")).collect();
                write!(
                    f,
                    "still present after deletion ({} read(s) back, allowing for IAM's eventual consistency): {}",
                    reads,
                    left.join(", ")
                )
            }
            Cause::Deadline => f.write_str(
                "stopped at the run's deadline before this account was finished: the actions listed were done, a call in flight may or may not have been, and the next run will check this account again",
            ),
            Cause::MfaStillRefused { error, due_at } => write!(
                f,
                "{error}. AWS has refused to deactivate this MFA device although the account has been due since {due_at}: this is no longer the short refusal after a password recovery; deactivate it by hand (IAM console, Root access management) and find out why"
            ),
        }
    }
}

/// The likely causes of an AWS error, for the operator.
fn hint(error: &AwsError) -> &'static str {
    match (error.kind, error.operation) {
        (AwsErrorKind::AccessDenied, "sts:AssumeRoot") => {
            ". Likely causes: the caller's role lacks sts:AssumeRoot on arn:*:iam::*:root for this task policy; root sessions are not enabled (`aws iam enable-organizations-root-sessions`); or a service control policy on the account denies it without exempting root sessions (a Null condition on aws:AssumedRoot)"
        }
        (AwsErrorKind::AccessDenied, _) => {
            ". A service control policy on the account may deny root-session actions: exempt them with a Null condition on aws:AssumedRoot"
        }
        (AwsErrorKind::Throttled, "sts:AssumeRoot") => {
            ". Lower ROOTSWEEP_ASSUME_ROOT_RATE or ROOTSWEEP_CONCURRENCY, or let the next run retry"
        }
        (AwsErrorKind::Throttled, _) => ". Lower ROOTSWEEP_CONCURRENCY, or let the next run retry",
        (AwsErrorKind::NotFound, "iam:GetAccessKeyLastUsed") => {
            ". The key disappeared while it was being read: the next run reads it again"
        }
        _ => "",
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::GoneBeforeDeletion => f.write_str(
                "by the delete session the credentials were already gone: nothing deleted",
            ),
            Note::NewerActivity => f.write_str(
                "the delete session found newer activity than the audit (a fresh sign-in or a new credential): nothing deleted",
            ),
            Note::Verified => f.write_str("verified: no root credentials left"),
            Note::VirtualMfaDeviceLeft { serial, why } => match why {
                LeftBecause::NotConfigured => write!(
                    f,
                    "virtual MFA device {serial} deactivated and left in the account as an unassigned device (set ROOTSWEEP_DELETE_VIRTUAL_MFA_DEVICES=true where the delete task policy allows iam:DeleteVirtualMFADevice)"
                ),
                LeftBecause::Refused(error) => write!(
                    f,
                    "virtual MFA device {serial} deactivated but left in the account: {error}"
                ),
            },
            Note::ExemptBeforeDeletion => f.write_str(
                "found due by its audit, but its tags, read again before its delete session, now exempt it: nothing deleted",
            ),
            Note::HeldByOddDates => f.write_str(
                "in grace only because of an odd date (see date_anomalies): check the credential by hand; the RootsweepOddDates alarm watches such accounts",
            ),
        }
    }
}

impl fmt::Display for DateAnomaly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match &self.item {
            DatedItem::Credential { kind, id } => format!("{kind} {id}"),
            DatedItem::PasswordLastUsed => "PasswordLastUsed".to_owned(),
        };
        match self.issue {
            DateIssue::Missing => write!(f, "{what} has no date: counted as now"),
            DateIssue::BeforeRootUser(date) => write!(
                f,
                "{what} is dated {date}, before the root user was created: counted as now"
            ),
            DateIssue::InFuture(date) => write!(f, "{what} is dated in the future ({date})"),
        }
    }
}

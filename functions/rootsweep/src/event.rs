//! Invocation events -> what one invocation is asked to do.
//!
//! Three shapes are accepted:
//! - the EventBridge scheduled event (or the `{}` that EventBridge Scheduler sends): a full sweep in
//!   the configured mode;
//! - a direct invocation `{"accounts": ["123456789012"], "mode": "audit"}`, both fields optional,
//!   that narrows the run to some accounts and may lower the mode to `audit`, never raise it; a
//!   follow-up schedule adds `"follow_up": N`, its place in a chain of follow-ups;
//! - the CloudTrail record of a successful `AssumeRoot` with the `IAMCreateRootUserPassword`
//!   task policy, as an EventBridge rule delivers it: a root password recovery to follow up.
//!
//! Anything else is rejected before any AWS call is made.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use crate::account::AccountId;
use crate::config::Mode;

/// Which accounts a run covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every member account of the organization.
    Organization,
    /// Only these accounts (each still subject to the skip and exemption rules).
    Accounts(BTreeSet<AccountId>),
}

impl Scope {
    pub fn includes(&self, id: &AccountId) -> bool {
        match self {
            Scope::Organization => true,
            Scope::Accounts(ids) => ids.contains(id),
        }
    }
}

/// What one run does, after the event has been checked against the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRequest {
    pub mode: Mode,
    pub scope: Scope,
    /// For a run a follow-up schedule started: its place in the chain (1 for the first).
    pub follow_up: Option<u32>,
}

/// What one invocation is asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invocation {
    Run(RunRequest),
    /// A root password recovery was allowed: follow it up at its due time.
    Recovery(Recovery),
}

/// A root password recovery allowed for `account` (the management account or delegated
/// administrator called AssumeRoot with `IAMCreateRootUserPassword`) at `at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovery {
    pub account: AccountId,
    pub at: DateTime<Utc>,
    /// CloudTrail's id of the AssumeRoot record.
    pub event_id: String,
}

impl RunRequest {
    /// A whole-organization run in the configured mode.
    pub fn scheduled(mode: Mode) -> Self {
        Self {
            mode,
            scope: Scope::Organization,
            follow_up: None,
        }
    }

    /// A run narrowed to `accounts` and/or lowered to `requested_mode`. Raising the mode above
    /// the configured one is refused: enforcing must be a deliberate configuration change.
    pub fn targeted(
        configured: Mode,
        accounts: Option<BTreeSet<AccountId>>,
        requested_mode: Option<Mode>,
    ) -> Result<Self, EventError> {
        let mode = match requested_mode {
            Some(Mode::Enforce) if configured == Mode::Audit => {
                return Err(EventError::ModeAboveConfigured);
            }
            Some(mode) => mode,
            None => configured,
        };
        let scope = match accounts {
            None => Scope::Organization,
            Some(ids) if ids.is_empty() => return Err(EventError::NoAccounts),
            Some(ids) => Scope::Accounts(ids),
        };
        Ok(Self {
            mode,
            scope,
            follow_up: None,
        })
    }
}

/// The task policy whose use says a root password will soon exist.
const RECOVERY_TASK_POLICY: &str = "/IAMCreateRootUserPassword";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error(
        "the event is not a JSON object: send the EventBridge scheduled event, `{{}}`, or {{\"accounts\": [\"123456789012\"], \"mode\": \"audit\"}}"
    )]
    NotAnObject,
    #[error(
        "the event has detail-type {0:?}: only EventBridge \"Scheduled Event\" events start a sweep, and \"AWS API Call via CloudTrail\" records of AssumeRoot with IAMCreateRootUserPassword a follow-up"
    )]
    NotAScheduledEvent(String),
    #[error(
        "the CloudTrail record is not a root password recovery to follow up: {0}. Only a successful sts:AssumeRoot with the IAMCreateRootUserPassword task policy is"
    )]
    NotARecovery(String),
    #[error(
        "the event is not valid: {0}. Allowed fields: `accounts` (a list of 12-digit account ids), `mode` (`audit` or `enforce`) and `follow_up` (a whole number from 1, with `accounts`)"
    )]
    Invalid(String),
    #[error(
        "the EventBridge event has a field `{0}` that EventBridge does not send (its envelope holds {fields}): send either EventBridge's event as it is, or a direct invocation such as {{\"accounts\": [\"123456789012\"], \"mode\": \"audit\"}}, never both in one",
        fields = ENVELOPE_FIELDS.join(", ")
    )]
    NotAnEnvelopeField(String),
    #[error(
        "`accounts` is empty: list at least one 12-digit account id, or leave `accounts` out to sweep the whole organization"
    )]
    NoAccounts,
    #[error(
        "`{0}` is null: leave `{0}` out, or give it a value (`accounts`: a list of 12-digit account ids; `mode`: `audit` or `enforce`)"
    )]
    Null(&'static str),
    #[error(
        "the event asks for `enforce` but the function is configured for `audit`: an event may lower the mode, never raise it. Set ROOTSWEEP_MODE=enforce to allow deletions"
    )]
    ModeAboveConfigured,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DirectInvocation {
    accounts: Option<BTreeSet<AccountId>>,
    mode: Option<Mode>,
    follow_up: Option<u32>,
}

/// The fields of an EventBridge event's envelope ("Amazon EventBridge events", EventBridge User
/// Guide: version, id, detail-type, source, account, time, region, resources, detail). A field
/// beyond them was not written by EventBridge: a direct invocation's `mode` or `accounts` pasted
/// into a scheduled event would otherwise be ignored, and the run made in the configured mode.
/// (EventBridge Scheduler sends no envelope: its target input, `{}` for the nightly sweep.)
const ENVELOPE_FIELDS: [&str; 9] = [
    "version",
    "id",
    "detail-type",
    "source",
    "account",
    "time",
    "region",
    "resources",
    "detail",
];

/// The part of an EventBridge event we rely on; the envelope's other fields are EventBridge's.
#[derive(Deserialize)]
struct EventBridgeEvent {
    #[serde(rename = "detail-type")]
    detail_type: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    detail: Value,
}

/// The fields of a CloudTrail record a recovery is read from.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CloudTrailRecord {
    event_name: String,
    event_time: DateTime<Utc>,
    #[serde(default, rename = "eventID")]
    event_id: String,
    error_code: Option<String>,
    request_parameters: Option<AssumeRootParameters>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AssumeRootParameters {
    target_principal: String,
    task_policy_arn: PolicyArn,
}

#[derive(Deserialize)]
struct PolicyArn {
    arn: String,
}

/// Turns an invocation event into what to do, or says plainly why it cannot.
pub fn parse_event(event: Value, configured: Mode) -> Result<Invocation, EventError> {
    let Value::Object(fields) = &event else {
        return Err(EventError::NotAnObject);
    };
    if fields.contains_key("detail-type") {
        if let Some(field) = fields
            .keys()
            .find(|field| !ENVELOPE_FIELDS.contains(&field.as_str()))
        {
            return Err(EventError::NotAnEnvelopeField(field.clone()));
        }
        let envelope: EventBridgeEvent =
            serde_json::from_value(event).map_err(|e| EventError::Invalid(e.to_string()))?;
        return match envelope.detail_type.as_str() {
            "Scheduled Event" => Ok(Invocation::Run(RunRequest::scheduled(configured))),
            "AWS API Call via CloudTrail" if envelope.source == "aws.sts" => {
                recovery(envelope.detail).map(Invocation::Recovery)
            }
            _ => Err(EventError::NotAScheduledEvent(envelope.detail_type)),
        };
    }
    // `null` would otherwise read as "absent", and a null `accounts` as the whole organization.
    for field in ["accounts", "mode", "follow_up"] {
        if fields.get(field) == Some(&Value::Null) {
            return Err(EventError::Null(field));
        }
    }
    let direct: DirectInvocation =
        serde_json::from_value(event).map_err(|e| EventError::Invalid(e.to_string()))?;
    let follow_up = match (direct.follow_up, &direct.accounts) {
        (Some(0), _) => return Err(EventError::Invalid("`follow_up` starts at 1".into())),
        (Some(_), None) => {
            return Err(EventError::Invalid(
                "`follow_up` goes with the `accounts` it follows up".into(),
            ));
        }
        (follow_up, _) => follow_up,
    };
    let request = RunRequest::targeted(configured, direct.accounts, direct.mode)?;
    Ok(Invocation::Run(RunRequest {
        follow_up,
        ..request
    }))
}

/// A recovery from the CloudTrail record of AssumeRoot (IAM User Guide, "Logging IAM and AWS
/// STS API calls with AWS CloudTrail": `requestParameters.targetPrincipal`, the member account
/// id or its root user's ARN, and `requestParameters.taskPolicyArn.arn`).
fn recovery(detail: Value) -> Result<Recovery, EventError> {
    let record: CloudTrailRecord = serde_json::from_value(detail).map_err(|e| {
        EventError::NotARecovery(format!("its detail is not a CloudTrail record ({e})"))
    })?;
    if record.event_name != "AssumeRoot" {
        return Err(EventError::NotARecovery(format!(
            "it records {}",
            record.event_name
        )));
    }
    if let Some(code) = record.error_code {
        return Err(EventError::NotARecovery(format!(
            "the call failed ({code})"
        )));
    }
    let parameters = record
        .request_parameters
        .ok_or_else(|| EventError::NotARecovery("it has no requestParameters".into()))?;
    if !parameters
        .task_policy_arn
        .arn
        .ends_with(RECOVERY_TASK_POLICY)
    {
        return Err(EventError::NotARecovery(format!(
            "its task policy is {}",
            parameters.task_policy_arn.arn
        )));
    }
    // `arn:aws:iam::123456789012:root` or `123456789012`.
    let target = &parameters.target_principal;
    let id = target
        .strip_suffix(":root")
        .and_then(|arn| arn.rsplit(':').next())
        .unwrap_or(target);
    let account = id.parse().map_err(|e: crate::account::InvalidAccountId| {
        EventError::NotARecovery(format!("its targetPrincipal is not an account: {e}"))
    })?;
    Ok(Recovery {
        account,
        at: record.event_time,
        event_id: record.event_id,
    })
}

#[cfg(test)]
mod tests;

//! Injected faults: per operation (or `*`), optionally per target account, optionally only for
//! the first N matching calls. The first matching fault in the list applies to a call.
//!
//! JSON, one object per fault (see "Faults" below):
//! `{"operation": "ListAccessKeys", "account": "123456789012", "count": 2, "kind": "throttle"}`,
//! with `ms` for `latency` and `slow`, and an optional `status` (500..=599, default 503) for
//! `server_error`.
//!
//! # Faults
//!
//! A list; the **first** matching fault applies to a call. JSON (`--faults FILE`,
//! `POST /_emulator/faults`) or `Fault::new(op, kind).for_account(id).times(n)` in Rust:
//!
//! ```json
//! [
//!   {"operation": "ListAccessKeys", "account": "444444444444", "count": 2, "kind": "throttle"},
//!   {"operation": "*", "kind": "latency", "ms": 250},
//!   {"operation": "ListAccounts", "kind": "server_error", "status": 503},
//!   {"operation": "DeleteAccessKey", "kind": "slow", "ms": 30000},
//!   {"operation": "AssumeRoot", "account": "333333333333", "kind": "access_denied"},
//!   {"operation": "GetLoginProfile", "kind": "no_such_entity", "count": 1},
//!   {"operation": "DeactivateMFADevice", "kind": "invalid_mfa_device", "count": 3}
//! ]
//! ```
//!
//! - `operation`: an operation name, or `*`. `account` (optional): only calls whose target account is
//!   this one: the root session's account for IAM, `TargetPrincipal` for AssumeRoot, `AccountId` /
//!   `ChildId` / `ResourceId` for Organizations (Scheduler, Security Hub and S3 calls have none). `count` (optional): only the first N matching calls.
//! - Kinds: `latency` (`ms`, then a normal answer); `throttle` (`Throttling` 400, Organizations
//!   `TooManyRequestsException` 400, Scheduler `ThrottlingException` 429, Security Hub
//!   `LimitExceededException` 429, S3 `SlowDown` 503: the SDKs retry them); `server_error`
//!   (`status` 500-599, default 503: `ServiceUnavailable` 503 / `InternalFailure`; Organizations
//!   `ServiceException` 500; Scheduler `InternalServerException`, Security Hub `InternalException`,
//!   with that status; S3 `ServiceUnavailable` 503 / `InternalError`);
//!   `slow` (`ms`: the call **is carried out**, then the answer is held, so a client that times out
//!   still finds the effect done, as with a slow AWS; `EmulatorHandle::held_calls()` tells a test
//!   client which attempts are held, by their `amz-sdk-invocation-id` and `amz-sdk-request`
//!   headers, so that it gives up on those and no other); `access_denied` (`AccessDenied` 403,
//!   Organizations `AccessDeniedException` 400, Scheduler and Security Hub `AccessDeniedException`
//!   403, S3 `AccessDenied` 403); `no_such_entity` (IAM `NoSuchEntity` 404; Scheduler and Security
//!   Hub `ResourceNotFoundException` 404; S3 `NoSuchKey` 404);
//!   `invalid_mfa_device` (only ever matches `DeactivateMFADevice`: IAM
//!   `EntityTemporarilyUnmodifiable` 409 with a message starting "Invalid MFA device". AWS's exact
//!   code for this transient error after a root password recovery is undocumented: this is our
//!   assumption).
//! - Every call's record names the fault that applied (`fault`). Shutdown cuts pending delays short.

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::services::Service;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "FaultSpec", into = "FaultSpec")]
pub struct Fault {
    /// An operation name such as `ListAccessKeys`, or `*` for every operation.
    pub operation: String,
    /// Only calls whose target account is this one: the root session's account for IAM, the
    /// `TargetPrincipal` of AssumeRoot, the account named by an Organizations call.
    pub account: Option<String>,
    /// Only the first `count` matching calls; every matching call when `None`.
    pub count: Option<u32>,
    pub kind: FaultKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// Wait `ms`, then answer normally.
    Latency { ms: u64 },
    /// The service's throttling error (`Throttling`, or Organizations' `TooManyRequestsException`).
    Throttle,
    /// A 5xx: `ServiceUnavailable` (503) or `InternalFailure` (other statuses); Organizations
    /// answers `ServiceException` (500).
    ServerError { status: u16 },
    /// Carry out the call, then hold the answer for `ms`: a client timing out sooner gives up
    /// although the effect (a deletion, say) happened, as with a slow AWS.
    Slow { ms: u64 },
    /// The service's access-denied error.
    AccessDenied,
    /// IAM's `NoSuchEntity` (404), whatever the call; a REST service's own "not found"
    /// (Scheduler's `ResourceNotFoundException`).
    NoSuchEntity,
    /// The "invalid MFA device" error seen right after a root password recovery (seed 001).
    /// Only ever matches `DeactivateMFADevice`.
    InvalidMfaDevice,
}

impl Fault {
    pub fn new(operation: impl Into<String>, kind: FaultKind) -> Self {
        Self {
            operation: operation.into(),
            account: None,
            count: None,
            kind,
        }
    }

    /// Limits the fault to calls targeting `account_id`.
    pub fn for_account(mut self, account_id: impl Into<String>) -> Self {
        self.account = Some(account_id.into());
        self
    }

    /// Limits the fault to the first `count` matching calls.
    pub fn times(mut self, count: u32) -> Self {
        self.count = Some(count);
        self
    }

    fn matches(&self, operation: &str, account: Option<&str>) -> bool {
        let named = self.operation == "*" || self.operation == operation;
        // The invalid-MFA error only makes sense for DeactivateMFADevice, even under `*`.
        let applicable =
            self.kind != FaultKind::InvalidMfaDevice || operation == "DeactivateMFADevice";
        named
            && applicable
            && self
                .account
                .as_deref()
                .is_none_or(|wanted| account == Some(wanted))
    }
}

impl FaultKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Latency { .. } => "latency",
            Self::Throttle => "throttle",
            Self::ServerError { .. } => "server_error",
            Self::Slow { .. } => "slow",
            Self::AccessDenied => "access_denied",
            Self::NoSuchEntity => "no_such_entity",
            Self::InvalidMfaDevice => "invalid_mfa_device",
        }
    }

    /// The error this fault answers with, if it is an error fault.
    pub(crate) fn error(self, service: Service, operation: &str) -> Option<ApiError> {
        match self {
            Self::Latency { .. } | Self::Slow { .. } => None,
            Self::Throttle => Some(service.throttling()),
            Self::ServerError { status } => Some(service.server_error(
                StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
            )),
            Self::AccessDenied => Some(service.access_denied(format!(
                "User is not authorized to perform: {}:{operation} (injected fault)",
                service.signing_name()
            ))),
            Self::NoSuchEntity => Some(service.not_found(operation)),
            // Our assumption: AWS's code and status for this transient error are not documented;
            // we model it as IAM's EntityTemporarilyUnmodifiable (409) with a message that starts
            // "Invalid MFA device", which is how seed 001 reports it.
            Self::InvalidMfaDevice => Some(ApiError::new(
                StatusCode::CONFLICT,
                "EntityTemporarilyUnmodifiable",
                "Invalid MFA device: the device cannot be deactivated right now, try again later.",
            )),
        }
    }
}

/// The armed faults and how often each fired.
#[derive(Debug, Default)]
pub(crate) struct FaultSet(Vec<(Fault, u32)>);

impl FaultSet {
    pub fn replace(&mut self, faults: Vec<Fault>) {
        self.0 = faults.into_iter().map(|fault| (fault, 0)).collect();
    }

    /// The fault that applies to this call, counting it as used.
    pub fn take(&mut self, operation: &str, account: Option<&str>) -> Option<FaultKind> {
        let (fault, used) = self.0.iter_mut().find(|(fault, used)| {
            fault.matches(operation, account) && fault.count.is_none_or(|count| *used < count)
        })?;
        *used += 1;
        Some(fault.kind)
    }
}

/// The JSON form of a fault: flat, with the kind's parameters beside it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultSpec {
    operation: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    count: Option<u32>,
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
}

impl TryFrom<FaultSpec> for Fault {
    type Error = String;

    fn try_from(spec: FaultSpec) -> Result<Self, String> {
        let ms = || {
            spec.ms
                .ok_or_else(|| format!("fault kind {:?} needs \"ms\"", spec.kind))
        };
        let kind = match spec.kind.as_str() {
            "latency" => FaultKind::Latency { ms: ms()? },
            "slow" => FaultKind::Slow { ms: ms()? },
            "throttle" => FaultKind::Throttle,
            "server_error" => {
                let status = spec.status.unwrap_or(503);
                if !(500..=599).contains(&status) {
                    return Err(format!("server_error status {status} is not a 5xx"));
                }
                FaultKind::ServerError { status }
            }
            "access_denied" => FaultKind::AccessDenied,
            "no_such_entity" => FaultKind::NoSuchEntity,
            "invalid_mfa_device" => FaultKind::InvalidMfaDevice,
            other => {
                return Err(format!(
                    "unknown fault kind {other:?}: expected latency, slow, throttle, server_error, \
                     access_denied, no_such_entity or invalid_mfa_device"
                ));
            }
        };
        let has_ms = matches!(kind, FaultKind::Latency { .. } | FaultKind::Slow { .. });
        if spec.ms.is_some() && !has_ms {
            return Err(format!(
                "\"ms\" does not apply to fault kind {:?}",
                spec.kind
            ));
        }
        if spec.status.is_some() && !matches!(kind, FaultKind::ServerError { .. }) {
            return Err(format!(
                "\"status\" does not apply to fault kind {:?}",
                spec.kind
            ));
        }
        Ok(Fault {
            operation: spec.operation,
            account: spec.account,
            count: spec.count,
            kind,
        })
    }
}

impl From<Fault> for FaultSpec {
    fn from(fault: Fault) -> Self {
        let (ms, status) = match fault.kind {
            FaultKind::Latency { ms } | FaultKind::Slow { ms } => (Some(ms), None),
            FaultKind::ServerError { status } => (None, Some(status)),
            _ => (None, None),
        };
        FaultSpec {
            operation: fault.operation,
            account: fault.account,
            count: fault.count,
            kind: fault.kind.name().to_owned(),
            ms,
            status,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_and_errors() {
        let faults: Vec<Fault> = serde_json::from_str(
            r#"[{"operation": "ListAccessKeys", "account": "123456789012", "count": 2, "kind": "throttle"},
                {"operation": "*", "kind": "latency", "ms": 50},
                {"operation": "ListAccounts", "kind": "server_error"}]"#,
        )
        .unwrap();
        assert_eq!(
            faults,
            [
                Fault::new("ListAccessKeys", FaultKind::Throttle)
                    .for_account("123456789012")
                    .times(2),
                Fault::new("*", FaultKind::Latency { ms: 50 }),
                Fault::new("ListAccounts", FaultKind::ServerError { status: 503 }),
            ]
        );
        let again: Vec<Fault> =
            serde_json::from_str(&serde_json::to_string(&faults).unwrap()).unwrap();
        assert_eq!(again, faults);

        for (bad, says) in [
            (r#"{"operation": "X", "kind": "latency"}"#, "needs \"ms\""),
            (
                r#"{"operation": "X", "kind": "throttle", "ms": 5}"#,
                "does not apply",
            ),
            (
                r#"{"operation": "X", "kind": "boom"}"#,
                "unknown fault kind",
            ),
            (
                r#"{"operation": "X", "kind": "throttle", "acount": "1"}"#,
                "unknown field",
            ),
            (
                r#"{"operation": "X", "kind": "server_error", "status": 404}"#,
                "not a 5xx",
            ),
        ] {
            let error = serde_json::from_str::<Fault>(bad).unwrap_err().to_string();
            assert!(error.contains(says), "{bad}: {error}");
        }
    }

    #[test]
    fn counts_accounts_and_first_match() {
        let mut set = FaultSet::default();
        set.replace(vec![
            Fault::new("GetUser", FaultKind::Throttle)
                .for_account("1")
                .times(1),
            Fault::new("*", FaultKind::AccessDenied).times(2),
            Fault::new("*", FaultKind::InvalidMfaDevice),
        ]);
        assert_eq!(
            set.take("GetUser", Some("2")),
            Some(FaultKind::AccessDenied)
        );
        assert_eq!(set.take("GetUser", Some("1")), Some(FaultKind::Throttle));
        assert_eq!(
            set.take("GetUser", Some("1")),
            Some(FaultKind::AccessDenied)
        );
        assert_eq!(set.take("GetUser", Some("1")), None);
        assert_eq!(
            set.take("DeactivateMFADevice", None),
            Some(FaultKind::InvalidMfaDevice)
        );
    }
}

//! Everything the emulator remembers while it runs: the org (mutated by deletions), the root
//! sessions it issued, every call it received, the metric data, schedules, findings and objects
//! it stored, and the armed faults.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::faults::FaultSet;
use crate::model::{random_string, time};
use crate::policy::CallerPolicy;
use crate::propagation::Propagation;
use crate::protocol::Protocol;
use crate::services::lambda::Functions;
use crate::services::s3::Objects;
use crate::services::scheduler::Schedules;
use crate::services::securityhub::Findings;
use crate::services::{MetricDatum, Org};
use crate::session::{Caller, CallerCredentials, RootSession, SESSION_KEY_PREFIX, TaskPolicy};
use crate::sigv4::AuthError;
use crate::throttle::{Throttle, ThrottleLimit};

pub(crate) struct World {
    pub org: Org,
    /// Every session issued, in order; `session_index` finds one by access key id.
    sessions: Vec<RootSession>,
    session_index: HashMap<String, usize>,
    pub calls: Vec<CallRecord>,
    pub metrics: Vec<MetricDatum>,
    pub schedules: Schedules,
    pub findings: Findings,
    pub objects: Objects,
    pub functions: Functions,
    pub faults: FaultSet,
    pub throttle: Throttle,
    pub propagation: Propagation,
    /// Organizations lists return short and empty pages, from this seed (see `organizations`).
    pub organizations_short_pages: Option<u64>,
    pub caller_credentials: CallerCredentials,
    /// The caller principal's IAM policy, when a run evaluates one.
    pub caller_policy: Option<CallerPolicy>,
}

impl World {
    pub fn new(org: Org) -> Self {
        Self {
            org,
            sessions: Vec::new(),
            session_index: HashMap::new(),
            calls: Vec::new(),
            metrics: Vec::new(),
            schedules: Schedules::default(),
            findings: Findings::default(),
            objects: Objects::new(),
            functions: Functions::new(time::now()),
            faults: FaultSet::default(),
            throttle: Throttle::default(),
            propagation: Propagation::default(),
            organizations_short_pages: None,
            caller_credentials: CallerCredentials::default(),
            caller_policy: None,
        }
    }

    /// Tells who signed the request, and the secret to check its signature with: the configured
    /// caller credentials (with no session token) or a live root session (with its token).
    pub fn authenticate(
        &self,
        access_key_id: &str,
        session_token: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(Caller, String), AuthError> {
        let caller = &self.caller_credentials;
        if access_key_id == caller.access_key_id && session_token.is_none() {
            let account_id = self.org.caller_account_id().to_owned();
            return Ok((
                Caller::Principal { account_id },
                caller.secret_access_key.clone(),
            ));
        }
        let session = self
            .session_index
            .get(access_key_id)
            .map(|&index| &self.sessions[index])
            .filter(|session| session_token == Some(session.session_token.as_str()))
            .ok_or(AuthError::UnknownKey)?;
        if now >= session.expiration {
            return Err(AuthError::ExpiredToken);
        }
        Ok((
            Caller::Root(session.clone()),
            session.secret_access_key.clone(),
        ))
    }

    /// Issues recognisable credentials for a root session on `account_id`.
    pub fn issue_session(
        &mut self,
        account_id: &str,
        task_policy: TaskPolicy,
        duration_seconds: u64,
        now: DateTime<Utc>,
    ) -> RootSession {
        const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut rng = rand::rng();
        let session = RootSession {
            access_key_id: format!(
                "{SESSION_KEY_PREFIX}{}",
                random_string(&mut rng, BASE32, 13)
            ),
            secret_access_key: format!("EMUSECRET{}", random_string(&mut rng, BASE64, 31)),
            session_token: format!("EMUTOKEN{}", random_string(&mut rng, BASE64, 120)),
            account_id: account_id.to_owned(),
            task_policy,
            expiration: now + Duration::seconds(duration_seconds as i64),
        };
        self.session_index
            .insert(session.access_key_id.clone(), self.sessions.len());
        self.sessions.push(session.clone());
        session
    }

    pub fn sessions(&self) -> &[RootSession] {
        &self.sessions
    }
}

/// A fresh id for `x-amzn-RequestId`, shaped like AWS's (a UUID).
pub(crate) fn request_id() -> String {
    let bits: u128 = rand::rng().random();
    let hex = format!("{bits:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// One request the emulator received, as `/_emulator/calls` lists it. Credentials never appear.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallRecord {
    pub request_id: String,
    pub time: DateTime<Utc>,
    /// The SigV4 signing name (`sts`, `iam`, `organizations`, `monitoring`, `scheduler`,
    /// `securityhub`, `s3`, `lambda`), when signed.
    pub service: Option<String>,
    /// Empty when the request could not be decoded.
    pub operation: String,
    pub protocol: Protocol,
    /// The body arrived gzip-compressed (`Content-Encoding: gzip`; not counted for REST
    /// services, where it describes the payload, such as an S3 object stored gzipped).
    pub gzip: bool,
    pub caller: CallerKind,
    /// The root session's account and task policy, for calls made with one.
    pub session_account_id: Option<String>,
    pub task_policy: Option<TaskPolicy>,
    /// The account the call is about (see [`crate::Fault::account`]).
    pub target_account_id: Option<String>,
    pub status: u16,
    pub error_code: Option<String>,
    /// The kind of injected fault that applied, if any (`throttle`, `latency`, ...).
    pub fault: Option<String>,
    /// The throttling limit that refused the call, if one did (see [`crate::Throttling`]).
    pub throttled: Option<ThrottleLimit>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallerKind {
    /// The caller's own credentials (management or delegated administrator account).
    Principal,
    RootSession,
    /// Unsigned, or signed with unknown or expired session credentials.
    Unauthenticated,
}

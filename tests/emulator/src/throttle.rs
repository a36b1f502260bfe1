//! Throttling as AWS applies it, off unless an emulator run sets limits:
//!
//! - STS `AssumeRoot`: a token bucket per caller account. AWS: "IAM and AWS STS quotas"
//!   (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html>, "Request
//!   rates") limits STS requests per account and Region; a throttled call answers
//!   `Throttling` / "Rate exceeded" (HTTP 400).
//! - IAM: a token bucket per account the call counts against. Calls made with a root session count
//!   against the member account (the session's principal is that account's root user), so they
//!   spread over accounts; the caller's own calls count against the caller account.
//! - Organizations: at most N calls in flight for the organization, and a token bucket. AWS
//!   answers both with `TooManyRequestsException` (HTTP 400, Organizations API reference,
//!   <https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListAccounts.html>, Errors):
//!   large organizations see "another request is already in progress" when calls overlap.
//!
//! - Security Hub, always on as AWS always applies them, per caller account:
//!   `BatchImportFindings` 10 calls a second with bursts of 30 ("BatchImportFindings for finding
//!   providers", Security Hub User Guide), `GetFindings` 3 a second with bursts of 6 (Security
//!   Hub API reference, throttling limits); throttled calls answer `TooManyRequestsException`
//!   (HTTP 429, as Security Hub answered GetFindings in prowler-cloud/prowler#5004).
//!
//! Buckets start full (`burst` tokens) and refill at `rate_per_second` (0: never), so a test can
//! count on exactly `burst` calls passing and the next one being throttled.
//!
//! # Configuration
//!
//! Off by default. Limits per run: `Emulator::throttling(Throttling)`, `--throttling FILE`,
//! `POST /_emulator/throttling` or `EmulatorHandle::set_throttling` (each replaces all limits and
//! refills the buckets). JSON, every part optional, unknown fields refused:
//!
//! ```json
//! {
//!   "assume_root": {"rate_per_second": 0, "burst": 8},
//!   "iam": {"rate_per_second": 10, "burst": 20},
//!   "organizations": {"max_concurrent": 1, "rate": {"rate_per_second": 5, "burst": 5}}
//! }
//! ```
//!
//! - `assume_root`: a token bucket per **caller account** for `sts:AssumeRoot` (every AssumeRoot a
//!   sweep makes counts against the one account). Throttled: `Throttling` "Rate exceeded", 400.
//! - `iam`: a token bucket per account a call counts against: a root session's calls count against
//!   its **member account**, the caller's own calls against the caller account. `Throttling`, 400.
//! - `organizations`: `max_concurrent` calls in flight for the organization (a call holds its slot
//!   until its answer leaves, latency faults included), else `TooManyRequestsException` "AWS
//!   Organizations can't complete your request because another request is already in progress. Try
//!   again later." (400); `rate`: a token bucket for the caller account, else
//!   `TooManyRequestsException` "You have sent too many requests in too short a period of time..." (400).
//! - Buckets start full and refill at `rate_per_second` (`0` never refills: exactly `burst` calls
//!   pass, then every call is throttled, which tests can count on). Throttled calls take no token.
//! - Throttling is checked after authentication and before faults and the service: a throttled call
//!   does nothing. Its record carries `throttled` (`assume_root_rate`, `iam_rate`,
//!   `organizations_concurrency`, `organizations_rate`), and `/_emulator/throttling` counts it.
//!
//! # Not emulated
//!
//! Throttling of services other than STS AssumeRoot, IAM, Organizations and Security Hub.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::services::Service;

/// The limits of one emulator run (JSON: `--throttling FILE`, `POST /_emulator/throttling`).
/// Every limit left out is off.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Throttling {
    /// `sts:AssumeRoot` calls, per caller account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assume_root: Option<TokenBucket>,
    /// IAM calls, per account they count against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iam: Option<TokenBucket>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organizations: Option<OrganizationsLimits>,
}

/// Security Hub's documented limits (module documentation).
const SECURITY_HUB_IMPORTS: TokenBucket = TokenBucket {
    rate_per_second: 10.0,
    burst: 30,
};
const SECURITY_HUB_GETS: TokenBucket = TokenBucket {
    rate_per_second: 3.0,
    burst: 6,
};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenBucket {
    /// Tokens added per second; 0 never refills (deterministic tests).
    pub rate_per_second: f64,
    /// Tokens at the start and at most: the calls that may come at once.
    pub burst: u32,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganizationsLimits {
    /// Organizations calls in flight at once, for the whole organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrent: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<TokenBucket>,
}

impl TokenBucket {
    pub fn new(rate_per_second: f64, burst: u32) -> Self {
        Self {
            rate_per_second,
            burst,
        }
    }
}

impl Throttling {
    /// Refuses negative or non-finite rates, which no bucket can honour.
    pub fn validate(&self) -> Result<(), String> {
        let buckets = [
            ("assume_root", self.assume_root),
            ("iam", self.iam),
            (
                "organizations.rate",
                self.organizations.and_then(|o| o.rate),
            ),
        ];
        for (name, bucket) in buckets {
            if let Some(bucket) = bucket
                && !(bucket.rate_per_second.is_finite() && bucket.rate_per_second >= 0.0)
            {
                return Err(format!(
                    "{name}.rate_per_second must be a number >= 0, not {}",
                    bucket.rate_per_second
                ));
            }
        }
        Ok(())
    }
}

/// Which limit refused a call: the marker in the call record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThrottleLimit {
    AssumeRootRate,
    IamRate,
    OrganizationsConcurrency,
    OrganizationsRate,
    SecurityHubRate,
}

impl ThrottleLimit {
    /// The error AWS sends for this limit.
    pub(crate) fn error(self) -> ApiError {
        match self {
            Self::AssumeRootRate | Self::IamRate => {
                ApiError::new(StatusCode::BAD_REQUEST, "Throttling", "Rate exceeded")
            }
            // Reported by large organizations for concurrent calls (AWS-ROOT-ACCESS.md).
            Self::OrganizationsConcurrency => ApiError::new(
                StatusCode::BAD_REQUEST,
                "TooManyRequestsException",
                "AWS Organizations can't complete your request because another request is already in progress. Try again later.",
            ),
            Self::SecurityHubRate => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequestsException",
                "Too Many Requests",
            ),
            // The exception's documentation in the Organizations API reference.
            Self::OrganizationsRate => ApiError::new(
                StatusCode::BAD_REQUEST,
                "TooManyRequestsException",
                "You have sent too many requests in too short a period of time. The quota helps protect against denial-of-service attacks. Try again later.",
            ),
        }
    }
}

/// What `/_emulator/throttling` reports.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ThrottlingStats {
    pub config: Throttling,
    /// Throttled calls per operation.
    pub throttled: BTreeMap<String, u64>,
    /// Organizations calls being served right now.
    pub organizations_in_flight: u32,
}

/// A bucket's level at a moment.
#[derive(Debug, Clone, Copy)]
struct Level {
    tokens: f64,
    at: Instant,
}

/// Holds one of the organization's concurrent-call slots until dropped (after the answer is sent).
#[derive(Debug)]
pub(crate) struct OrganizationsSlot(Arc<AtomicU32>);

impl Drop for OrganizationsSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The limits in force and what they have counted so far.
#[derive(Debug, Default)]
pub(crate) struct Throttle {
    config: Throttling,
    levels: HashMap<(ThrottleLimit, String), Level>,
    throttled: BTreeMap<String, u64>,
    organizations_in_flight: Arc<AtomicU32>,
}

impl Throttle {
    /// New limits, with full buckets; the counts of throttled calls are kept.
    pub fn configure(&mut self, config: Throttling) {
        self.config = config;
        self.levels.clear();
    }

    pub fn stats(&self) -> ThrottlingStats {
        ThrottlingStats {
            config: self.config.clone(),
            throttled: self.throttled.clone(),
            organizations_in_flight: self.organizations_in_flight.load(Ordering::SeqCst),
        }
    }

    /// Lets a call through (Organizations calls get a slot to hold while they are served) or
    /// names the limit that refuses it. `account` is the account the call counts against.
    pub fn admit(
        &mut self,
        service: Service,
        operation: &str,
        account: &str,
        now: Instant,
    ) -> Result<Option<OrganizationsSlot>, ThrottleLimit> {
        let result = match service {
            Service::Sts if operation == "AssumeRoot" => self
                .take(
                    ThrottleLimit::AssumeRootRate,
                    self.config.assume_root,
                    account,
                    now,
                )
                .map(|()| None),
            Service::Iam => self
                .take(ThrottleLimit::IamRate, self.config.iam, account, now)
                .map(|()| None),
            Service::Organizations => self.admit_organizations(account, now).map(Some),
            Service::SecurityHub => {
                let bucket = match operation {
                    "BatchImportFindings" => Some(SECURITY_HUB_IMPORTS),
                    "GetFindings" => Some(SECURITY_HUB_GETS),
                    _ => None,
                };
                // One bucket per operation: the limits are per operation.
                let key = format!("{account}/{operation}");
                self.take(ThrottleLimit::SecurityHubRate, bucket, &key, now)
                    .map(|()| None)
            }
            _ => Ok(None),
        };
        if result.is_err() {
            *self.throttled.entry(operation.to_owned()).or_default() += 1;
        }
        result
    }

    fn admit_organizations(
        &mut self,
        account: &str,
        now: Instant,
    ) -> Result<OrganizationsSlot, ThrottleLimit> {
        let limits = self.config.organizations.unwrap_or_default();
        let in_flight = self.organizations_in_flight.load(Ordering::SeqCst);
        if limits.max_concurrent.is_some_and(|max| in_flight >= max) {
            return Err(ThrottleLimit::OrganizationsConcurrency);
        }
        self.take(ThrottleLimit::OrganizationsRate, limits.rate, account, now)?;
        // Callers hold the world's lock here, so the check above and this count cannot interleave.
        self.organizations_in_flight.fetch_add(1, Ordering::SeqCst);
        Ok(OrganizationsSlot(self.organizations_in_flight.clone()))
    }

    /// Takes a token from `account`'s bucket for `limit`, if that limit is on.
    fn take(
        &mut self,
        limit: ThrottleLimit,
        bucket: Option<TokenBucket>,
        account: &str,
        now: Instant,
    ) -> Result<(), ThrottleLimit> {
        let Some(bucket) = bucket else {
            return Ok(());
        };
        let burst = f64::from(bucket.burst);
        let level = self
            .levels
            .entry((limit, account.to_owned()))
            .or_insert(Level {
                tokens: burst,
                at: now,
            });
        let elapsed = now.saturating_duration_since(level.at).as_secs_f64();
        level.tokens = (level.tokens + elapsed * bucket.rate_per_second).min(burst);
        level.at = now;
        if level.tokens < 1.0 {
            return Err(limit);
        }
        level.tokens -= 1.0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn buckets_allow_the_burst_then_refill_at_the_rate() {
        let mut throttle = Throttle::default();
        throttle.configure(Throttling {
            iam: Some(TokenBucket::new(2.0, 3)),
            ..Throttling::default()
        });
        let start = Instant::now();
        for _ in 0..3 {
            assert!(throttle.admit(Service::Iam, "GetUser", "1", start).is_ok());
        }
        assert_eq!(
            throttle
                .admit(Service::Iam, "GetUser", "1", start)
                .unwrap_err(),
            ThrottleLimit::IamRate
        );
        // Another account has its own bucket.
        assert!(throttle.admit(Service::Iam, "GetUser", "2", start).is_ok());
        // Half a second later, one token (2 per second) is back.
        let later = start + Duration::from_millis(500);
        assert!(throttle.admit(Service::Iam, "GetUser", "1", later).is_ok());
        assert!(throttle.admit(Service::Iam, "GetUser", "1", later).is_err());
        assert_eq!(throttle.stats().throttled["GetUser"], 2);
        // Services without a limit pass.
        assert!(
            throttle
                .admit(Service::Sts, "AssumeRoot", "1", later)
                .is_ok()
        );
    }

    #[test]
    fn security_hub_limits_are_on_without_configuration() {
        let mut throttle = Throttle::default();
        let start = Instant::now();
        let admitted = |throttle: &mut Throttle, operation: &str, at: Instant| {
            (0..40)
                .filter(|_| {
                    throttle
                        .admit(Service::SecurityHub, operation, "1", at)
                        .is_ok()
                })
                .count()
        };
        assert_eq!(admitted(&mut throttle, "BatchImportFindings", start), 30);
        assert_eq!(admitted(&mut throttle, "GetFindings", start), 6);
        let later = start + Duration::from_secs(1);
        assert_eq!(admitted(&mut throttle, "BatchImportFindings", later), 10);
        assert_eq!(admitted(&mut throttle, "GetFindings", later), 3);
        assert_eq!(
            ThrottleLimit::SecurityHubRate.error().status,
            StatusCode::TOO_MANY_REQUESTS
        );
    }

    #[test]
    fn organizations_slots_are_released_on_drop() {
        let mut throttle = Throttle::default();
        throttle.configure(Throttling {
            organizations: Some(OrganizationsLimits {
                max_concurrent: Some(1),
                rate: None,
            }),
            ..Throttling::default()
        });
        let now = Instant::now();
        let slot = throttle
            .admit(Service::Organizations, "ListRoots", "1", now)
            .unwrap();
        assert_eq!(throttle.stats().organizations_in_flight, 1);
        assert_eq!(
            throttle
                .admit(Service::Organizations, "ListParents", "1", now)
                .unwrap_err(),
            ThrottleLimit::OrganizationsConcurrency
        );
        drop(slot);
        assert!(
            throttle
                .admit(Service::Organizations, "ListParents", "1", now)
                .is_ok()
        );
    }

    #[test]
    fn json_form() {
        let config: Throttling = serde_json::from_str(
            r#"{"assume_root": {"rate_per_second": 0, "burst": 2},
                "organizations": {"max_concurrent": 1, "rate": {"rate_per_second": 5, "burst": 5}}}"#,
        )
        .unwrap();
        assert_eq!(config.assume_root, Some(TokenBucket::new(0.0, 2)));
        assert_eq!(config.organizations.unwrap().max_concurrent, Some(1));
        assert!(serde_json::from_str::<Throttling>(r#"{"sts": {}}"#).is_err());
        let negative = Throttling {
            iam: Some(TokenBucket::new(-1.0, 1)),
            ..Throttling::default()
        };
        assert!(
            negative
                .validate()
                .unwrap_err()
                .contains("iam.rate_per_second")
        );
    }
}

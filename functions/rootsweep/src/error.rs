//! A failed AWS call as the domain sees it: which call, what kind of failure, AWS's own words.

use std::fmt;

use crate::names::named_enum;

named_enum! {
    /// What kind of failure an AWS call had, as far as the operator is concerned.
    pub enum AwsErrorKind {
        AccessDenied => "access_denied",
        Throttled => "throttled",
        Timeout => "timeout",
        NotFound => "not_found",
        ServiceUnavailable => "service_unavailable",
        /// No AWS credentials could be loaded: no call was sent.
        NoCredentials => "no_credentials",
        Other => "other",
    }
}

/// A failed AWS call: which one, how it failed, and AWS's own words (never a request dump).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct AwsError {
    /// `service:Operation`, as in IAM policies.
    pub operation: &'static str,
    pub kind: AwsErrorKind,
    /// AWS's error code, when the answer carried one.
    pub code: Option<String>,
    pub message: String,
}

impl AwsError {
    pub fn new(operation: &'static str, kind: AwsErrorKind, message: impl Into<String>) -> Self {
        Self {
            operation,
            kind,
            code: None,
            message: message.into(),
        }
    }

    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    pub fn has_code(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let how = match self.kind {
            AwsErrorKind::Throttled => "throttled even after the SDK's retries",
            AwsErrorKind::Timeout => "timed out",
            AwsErrorKind::ServiceUnavailable => "AWS service error after retries",
            AwsErrorKind::NoCredentials => "no AWS credentials",
            _ => self.code.as_deref().unwrap_or("error"),
        };
        write!(f, "{} failed ({how}): {}", self.operation, self.message)
    }
}

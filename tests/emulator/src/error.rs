//! An AWS error as a service answers it. Services build them; each protocol renders them its own
//! way (XML `ErrorResponse`, JSON `__type`, CBOR `__type`, `x-amzn-ErrorType`, S3's `<Error>`).

use axum::http::StatusCode;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code} ({status}): {message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    /// The `Reason` member some JSON errors carry (Organizations' `InvalidInputException`).
    pub reason: Option<&'static str>,
    /// Members of S3's `<Error>` beside `Code` and `Message` (`Key`, `BucketName`).
    pub details: Vec<(&'static str, String)>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_owned(),
            message: message.into(),
            reason: None,
            details: Vec::new(),
        }
    }

    pub fn with_reason(mut self, reason: &'static str) -> Self {
        self.reason = Some(reason);
        self
    }

    pub fn with_detail(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.details.push((name, value.into()));
        self
    }

    /// The query protocol's `<Type>` and the query-compatible header's second half.
    pub fn fault_type(&self) -> &'static str {
        if self.status.is_server_error() {
            "Receiver"
        } else {
            "Sender"
        }
    }

    /// STS's and IAM's answer to a malformed or missing parameter.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "ValidationError", message)
    }

    pub fn no_such_entity(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NoSuchEntity", message)
    }
}

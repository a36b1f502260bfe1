//! Scheduler's error answers: status, `x-amzn-ErrorType: <code>`, body `{"message": ".."}`, with
//! Smithy's validation wording.

use axum::http::StatusCode;

use crate::error::ApiError;

pub(super) fn validation(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "ValidationException", message)
}

/// Smithy's validation message, as AWS's services word it.
pub(super) fn constraint(member: &str, rule: &str) -> ApiError {
    validation(format!(
        "1 validation error detected: Value at '{member}' failed to satisfy constraint: {rule}"
    ))
}

pub(super) fn not_null(member: &str) -> ApiError {
    validation(format!(
        "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
    ))
}

pub(super) fn conflict(message: String) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, "ConflictException", message)
}

pub(super) fn no_schedule(name: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "ResourceNotFoundException",
        format!("Schedule {name} does not exist."),
    )
}

pub(super) fn no_group(name: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "ResourceNotFoundException",
        format!("Schedule group {name} does not exist."),
    )
}

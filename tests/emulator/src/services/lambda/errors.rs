//! Lambda's error answers: status, `x-amzn-ErrorType: <code>`, body `{"Type": "User", "Message": ..}`.

use axum::http::StatusCode;

use crate::error::ApiError;

/// Lambda's answer to a request outside the model's constraints.
pub(super) fn validation(value: &str, member: &str, rule: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "ValidationException",
        format!(
            "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {rule}"
        ),
    )
}

pub(super) fn pattern_rule(pattern: &str) -> String {
    format!("Member must satisfy regular expression pattern: {pattern}")
}

pub(super) fn too_long(value: &str, member: &str, max: usize) -> ApiError {
    let rule = format!("Member must have length less than or equal to {max}");
    validation(value, member, &rule)
}

pub(super) fn not_found(message: String) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "ResourceNotFoundException", message)
}

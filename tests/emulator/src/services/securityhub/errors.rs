//! Security Hub's error answers: status, `x-amzn-ErrorType: <code>`, body `{"Code": .., "Message": ..}`.

use axum::http::StatusCode;

use crate::error::ApiError;

pub(super) fn invalid_input(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "InvalidInputException", message)
}

/// The answer to any call in an account and region where Security Hub is not enabled.
pub(super) fn not_subscribed(account: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "InvalidAccessException",
        format!("Account {account} is not subscribed to AWS Security Hub"),
    )
}

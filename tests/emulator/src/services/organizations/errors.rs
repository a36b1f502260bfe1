//! Organizations' error answers: status 400 with the exception's code and its message.

use axum::http::StatusCode;

use crate::error::ApiError;

pub(super) fn error(code: &str, message: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, message)
}

pub(super) fn invalid_input(message: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "InvalidInputException", message)
}

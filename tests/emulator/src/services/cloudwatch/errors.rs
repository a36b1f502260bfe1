//! CloudWatch's error answers, named the query way in every protocol (see the module doc).

use axum::http::StatusCode;
use serde_json::Value;

use crate::error::ApiError;

pub(super) fn missing(parameter: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "MissingParameter",
        format!("The parameter {parameter} is required."),
    )
}

pub(super) fn invalid(parameter: &str, value: &Value) -> ApiError {
    let shown = match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "InvalidParameterValue",
        format!("The value {shown} for parameter {parameter} is invalid."),
    )
}

//! The `awsJson1_0` / `awsJson1_1` protocols: `X-Amz-Target` names the operation, the body is the
//! input as JSON, errors are `{"__type": code, "Message": message}`.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{Protocol, Reply};
use crate::error::ApiError;

pub fn content_type(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::AwsJson10 => "application/x-amz-json-1.0",
        _ => "application/x-amz-json-1.1",
    }
}

/// The input document; an empty body counts as `{}`.
pub fn decode(body: &[u8]) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "SerializationException",
            format!("malformed JSON body: {e}"),
        )
    })
}

pub fn encode_reply(reply: Reply) -> Vec<u8> {
    match reply {
        Reply::Json(value) => value.to_string().into_bytes(),
        Reply::Empty | Reply::Xml(_) | Reply::Http(_) => b"{}".to_vec(),
    }
}

/// `{"__type": type_name, "Message": .., "Reason": ..}`; `type_name` is the error's shape id or
/// its code.
pub fn encode_error(error: &ApiError, type_name: &str) -> Vec<u8> {
    let mut body = json!({"__type": type_name, "Message": error.message});
    if let Some(reason) = error.reason {
        body["Reason"] = json!(reason);
    }
    body.to_string().into_bytes()
}

//! The `restJson1` protocol (EventBridge Scheduler, Security Hub, Lambda): the route names the
//! operation, the JSON body holds the members the path, query and headers do not, and errors name
//! their code in the `x-amzn-ErrorType` header over a JSON body (Smithy's "AWS restJson1
//! protocol": clients read the code from that header).

use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{HeaderValue, Response, StatusCode};
use serde_json::Value;

use super::{Reply, Request, json, rest};
use crate::error::ApiError;
use crate::services::Service;

const CONTENT_TYPE: &str = "application/json";

/// The route's operation, with the body's members beside the bound ones (an empty body is `{}`).
pub fn decode(service: Service, parts: &Parts, body: &[u8]) -> Result<Request, ApiError> {
    let (route, mut input) = rest::route(service, service.routes(), parts)?;
    let Value::Object(members) = json::decode(body)? else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "SerializationException",
            "the body must be a JSON object",
        ));
    };
    for (name, value) in members {
        if input.get(&name).is_none() {
            input.set(&name, value);
        }
    }
    Ok(Request {
        operation: route.operation.to_owned(),
        input,
    })
}

pub fn render(service: Option<Service>, result: Result<Reply, ApiError>) -> Response<Body> {
    match result {
        Ok(reply) => super::response(StatusCode::OK, CONTENT_TYPE, json::encode_reply(reply)),
        Err(error) => {
            let body = match service {
                Some(service) => service.rest_json_error(&error),
                None => serde_json::json!({"message": error.message}),
            };
            let mut response =
                super::response(error.status, CONTENT_TYPE, body.to_string().into_bytes());
            if let Ok(code) = HeaderValue::from_str(&error.code) {
                response.headers_mut().insert("x-amzn-errortype", code);
            }
            response
        }
    }
}

//! The wire: which protocol a request speaks, its operation and input, and how replies and errors
//! are written back. Services never see bytes: they get an [`Input`] (every protocol's input as
//! one JSON-like tree, plus S3's blob payload) and answer a [`Reply`] or an [`ApiError`].

pub mod cbor;
pub mod json;
pub mod query;
pub mod rest;
pub mod rest_json;
pub mod rest_xml;

use std::io::Read;

use axum::body::{Body, Bytes};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use chrono::{DateTime, Utc};
use flate2::read::GzDecoder;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ApiError;
use crate::services::Service;

pub use query::Xml;

/// The protocols the SDKs use for our services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Protocol {
    /// `awsQuery`: form-encoded `Action=...`, XML replies (STS, IAM).
    Query,
    /// `awsJson1_0`: botocore's CloudWatch.
    #[serde(rename = "awsJson1_0")]
    AwsJson10,
    /// `awsJson1_1`: Organizations.
    #[serde(rename = "awsJson1_1")]
    AwsJson11,
    /// `rpcv2Cbor`: the Rust SDK's CloudWatch.
    RpcV2Cbor,
    /// `restJson1`: EventBridge Scheduler, Security Hub.
    RestJson1,
    /// `restXml`: S3.
    RestXml,
}

impl Protocol {
    /// Tells the protocol before the body is read: a REST service speaks only its own; the
    /// others are told apart by path and headers.
    pub(crate) fn detect(service: Option<Service>, headers: &HeaderMap, path: &str) -> Protocol {
        if let Some(rest) = service.and_then(Service::rest_protocol) {
            return rest;
        }
        let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
        if path.starts_with("/service/") && header("smithy-protocol") == Some("rpc-v2-cbor") {
            Protocol::RpcV2Cbor
        } else if header("x-amz-target").is_some() {
            match header("content-type") {
                Some(t) if t.starts_with("application/x-amz-json-1.0") => Protocol::AwsJson10,
                _ => Protocol::AwsJson11,
            }
        } else {
            Protocol::Query
        }
    }

    /// REST services route by method and path, the others by an action or target name.
    fn is_rest(self) -> bool {
        matches!(self, Self::RestJson1 | Self::RestXml)
    }
}

/// A decoded request: the operation and its input.
#[derive(Debug)]
pub struct Request {
    pub operation: String,
    pub input: Input,
}

/// Decodes a request into an operation and input: REST requests by their route, the others
/// from the body (gunzipped when `Content-Encoding: gzip`).
pub fn decode(
    protocol: Protocol,
    service: Service,
    parts: &Parts,
    body: Bytes,
) -> Result<Request, ApiError> {
    if !service.accepts(protocol) {
        return Err(service.unknown_operation(parts.uri.path()));
    }
    match protocol {
        Protocol::RestJson1 => return rest_json::decode(service, parts, &body),
        Protocol::RestXml => return rest_xml::decode(service, parts, body),
        _ => {}
    }
    let path = parts.uri.path();
    let body = if is_gzipped(protocol, &parts.headers) {
        gunzip(&body)?
    } else {
        body.to_vec()
    };
    let (operation, input) = match protocol {
        Protocol::AwsJson10 | Protocol::AwsJson11 => {
            let target = parts
                .headers
                .get("x-amz-target")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            let operation = operation_of(service, target.split_once('.'))?;
            (operation, json::decode(&body)?)
        }
        Protocol::RpcV2Cbor => {
            // /service/<ServiceName>/operation/<Operation>
            let mut segments = path.trim_start_matches('/').split('/').skip(1);
            let operation = match (segments.next(), segments.next(), segments.next()) {
                (Some(name), Some("operation"), Some(op)) => {
                    operation_of(service, Some((name, op)))?
                }
                _ => return Err(service.unknown_operation(path)),
            };
            (operation, cbor::decode(&body)?)
        }
        _ => query::decode(&body)?,
    };
    Ok(Request {
        operation,
        input: Input::new(input),
    })
}

/// The operation named by `(service name, operation)`, when the service name is ours.
fn operation_of(service: Service, parts: Option<(&str, &str)>) -> Result<String, ApiError> {
    match parts {
        Some((name, operation)) if Some(name) == service.json_service_name() => {
            Ok(operation.to_owned())
        }
        Some((name, operation)) => Err(service.unknown_operation(&format!("{name}.{operation}"))),
        None => Err(service.unknown_operation("(none named)")),
    }
}

/// SDKs gzip large PutMetricData bodies (from about 10 KiB). A REST body's `Content-Encoding`
/// belongs to the payload (an S3 object stored gzipped), not to the request.
pub fn is_gzipped(protocol: Protocol, headers: &HeaderMap) -> bool {
    !protocol.is_rest()
        && headers
            .get(header::CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("gzip"))
}

fn gunzip(body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let mut out = Vec::new();
    GzDecoder::new(body).read_to_end(&mut out).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "SerializationException",
            format!("bad gzip body: {e}"),
        )
    })?;
    Ok(out)
}

/// An operation's input, whatever the protocol: its members as one tree, and the blob payload of
/// operations that have one (S3's object body). Query parameters arrive as strings, JSON and
/// CBOR ones typed, so the accessors accept both.
#[derive(Debug, Default)]
pub struct Input {
    tree: Value,
    payload: Bytes,
}

impl Input {
    pub fn new(tree: Value) -> Self {
        Self {
            tree,
            payload: Bytes::new(),
        }
    }

    pub fn with_payload(mut self, payload: Bytes) -> Self {
        self.payload = payload;
        self
    }

    pub fn payload(&self) -> &Bytes {
        &self.payload
    }

    /// Sets a top-level member.
    pub fn set(&mut self, name: &str, value: impl Into<Value>) {
        if !self.tree.is_object() {
            self.tree = Value::Object(serde_json::Map::new());
        }
        self.tree[name] = value.into();
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.tree.get(name).filter(|v| !v.is_null())
    }

    pub fn str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Value::as_str)
    }

    /// The top-level members given (null ones left out).
    pub fn members(&self) -> Vec<&str> {
        self.tree
            .as_object()
            .map(|o| {
                o.iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, _)| k.as_str())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A whole number parameter; `Err` carries the offending value for the service's message.
    pub fn u64(&self, name: &str) -> Result<Option<u64>, String> {
        self.get(name)
            .map(|v| {
                number(v)
                    .filter(|n| n.fract() == 0.0 && *n >= 0.0)
                    .map(|n| n as u64)
                    .ok_or_else(|| v.to_string())
            })
            .transpose()
    }
}

/// A number from a JSON/CBOR number or a query string.
pub fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// A timestamp from epoch seconds (JSON, CBOR) or an ISO 8601 string (query).
pub fn timestamp(value: &Value) -> Option<DateTime<Utc>> {
    match value {
        Value::String(s) => DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| t.with_timezone(&Utc)),
        other => {
            let seconds = number(other)?;
            DateTime::from_timestamp_micros((seconds * 1e6).round() as i64)
        }
    }
}

/// A list member; absent lists are empty.
pub fn list(value: Option<&Value>) -> &[Value] {
    value
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// What a service answers on success.
#[derive(Debug)]
pub enum Reply {
    /// The children of `<OperationResult>` (query protocol only).
    Xml(Xml),
    /// A JSON document (JSON protocols; CBOR encodes the same tree).
    Json(Value),
    /// No output members: an empty result in every protocol.
    Empty,
    /// A REST reply whose headers and body the service sets (S3's objects and documents).
    Http(HttpReply),
}

/// Status 200, these headers (`Content-Type` among them when there is a body), this body.
#[derive(Debug, Default)]
pub struct HttpReply {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Writes a reply or error in the request's protocol. `x-amzn-RequestId` is on every response.
pub fn render(
    protocol: Protocol,
    service: Option<Service>,
    operation: &str,
    request_id: &str,
    result: Result<Reply, ApiError>,
) -> Response<Body> {
    let mut response = match protocol {
        Protocol::RestJson1 => rest_json::render(service, result),
        Protocol::RestXml => rest_xml::render(request_id, result),
        _ => render_rpc(protocol, service, operation, request_id, result),
    };
    if let Ok(id) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert("x-amzn-requestid", id);
    }
    response
}

/// A response with this status, content type and body.
pub fn response(status: StatusCode, content_type: &str, body: Vec<u8>) -> Response<Body> {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    if let Ok(value) = HeaderValue::from_str(content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}

/// The protocols that name the operation in the body or headers: query, JSON 1.0/1.1, CBOR.
fn render_rpc(
    protocol: Protocol,
    service: Option<Service>,
    operation: &str,
    request_id: &str,
    result: Result<Reply, ApiError>,
) -> Response<Body> {
    let namespace = service.map(Service::xml_namespace).unwrap_or_default();
    let (status, content_type, body, error) = match result {
        Ok(reply) => {
            let (content_type, body) = match (protocol, reply) {
                (Protocol::Query, reply) => {
                    let result = match reply {
                        Reply::Xml(xml) => Some(xml),
                        _ => None,
                    };
                    (
                        query::CONTENT_TYPE,
                        query::response(operation, namespace, result, request_id).into_bytes(),
                    )
                }
                (Protocol::RpcV2Cbor, reply) => (cbor::CONTENT_TYPE, cbor::encode_reply(reply)),
                (json_protocol, reply) => {
                    (json::content_type(json_protocol), json::encode_reply(reply))
                }
            };
            (StatusCode::OK, content_type, body, None)
        }
        Err(error) => {
            let (content_type, body) = match protocol {
                Protocol::Query => (
                    query::CONTENT_TYPE,
                    query::error(&error, namespace, request_id).into_bytes(),
                ),
                Protocol::RpcV2Cbor => (
                    cbor::CONTENT_TYPE,
                    cbor::encode_error(&error, &error_type(service, &error)),
                ),
                json_protocol => (
                    json::content_type(json_protocol),
                    json::encode_error(&error, &error_type(service, &error)),
                ),
            };
            (error.status, content_type, body, Some(error))
        }
    };
    let mut response = response(status, content_type, body);
    let headers = response.headers_mut();
    if protocol == Protocol::RpcV2Cbor {
        headers.insert("smithy-protocol", HeaderValue::from_static("rpc-v2-cbor"));
    }
    // awsQueryCompatible services (CloudWatch) carry the query error code in a header, which is
    // where both the Rust SDK and botocore take it from.
    if let Some(error) = error
        && protocol != Protocol::Query
        && service.is_some_and(Service::query_compatible)
        && let Ok(value) = HeaderValue::from_str(&format!("{};{}", error.code, error.fault_type()))
    {
        headers.insert("x-amzn-query-error", value);
    }
    response
}

/// The `__type` of a JSON or CBOR error: the modeled error's shape id for a query-compatible
/// service (Smithy's `awsQueryCompatible`: the body names the shape, the `x-amzn-query-error`
/// header the query code), else the code.
fn error_type(service: Option<Service>, error: &ApiError) -> String {
    service
        .and_then(|service| service.error_shape(&error.code))
        .unwrap_or_else(|| error.code.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_from_every_protocol() {
        let expected = "2025-03-15T10:23:45.500Z";
        let iso = timestamp(&Value::from(expected)).unwrap();
        let epoch = timestamp(&Value::from(1_742_034_225.5)).unwrap();
        assert_eq!(iso, epoch);
        assert_eq!(number(&Value::from("1.25")), Some(1.25));
    }
}

//! The `restXml` protocol as S3 speaks it: the route names the operation, a blob payload is the
//! body (plain: `aws-chunked` bodies are not emulated, `sigv4` refuses their `STREAMING-...`
//! payload hashes), replies are headers and a body, and errors are
//! `<Error><Code/><Message/>...<RequestId/><HostId/></Error>` ("Error responses", Amazon S3 API
//! reference) with S3's own `x-amz-request-id` and `x-amz-id-2` headers.

use axum::body::{Body, Bytes};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::{Reply, Request, Xml, rest};
use crate::error::ApiError;
use crate::services::Service;

/// The route's operation, its input bound from the path, query and headers, and the payload.
pub fn decode(service: Service, parts: &Parts, body: Bytes) -> Result<Request, ApiError> {
    let (route, input) = rest::route(service, service.routes(), parts)?;
    Ok(Request {
        operation: route.operation.to_owned(),
        input: input.with_payload(body),
    })
}

pub fn render(request_id: &str, result: Result<Reply, ApiError>) -> Response<Body> {
    let mut response = match result {
        Ok(Reply::Http(reply)) => {
            let mut response = Response::new(Body::from(reply.body));
            for (name, value) in reply.headers {
                if let (Ok(name), Ok(value)) = (
                    HeaderName::try_from(name),
                    HeaderValue::try_from(value.as_str()),
                ) {
                    response.headers_mut().insert(name, value);
                }
            }
            response
        }
        Ok(_) => Response::new(Body::empty()),
        Err(error) => super::response(
            error.status,
            "application/xml",
            error_document(&error, request_id).into_bytes(),
        ),
    };
    let headers = response.headers_mut();
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("x-amz-request-id", id);
    }
    if let Ok(host_id) = HeaderValue::from_str(&host_id(request_id)) {
        headers.insert("x-amz-id-2", host_id);
    }
    response
}

/// `<Error>` with the code, the message, the error's own members (`Key`, `BucketName`), the
/// request id and the host id.
fn error_document(error: &ApiError, request_id: &str) -> String {
    let xml = error
        .details
        .iter()
        .fold(
            Xml::new()
                .text("Code", &error.code)
                .text("Message", &error.message),
            |xml, (name, value)| xml.text(name, value),
        )
        .text("RequestId", request_id)
        .text("HostId", host_id(request_id));
    xml.document("Error", None)
}

/// S3's extended request id (`x-amz-id-2`, `<HostId>`): opaque base64; here derived from the
/// request id so one request's two ids go together.
fn host_id(request_id: &str) -> String {
    STANDARD.encode(request_id)
}

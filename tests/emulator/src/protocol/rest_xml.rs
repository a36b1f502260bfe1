//! The `restXml` protocol as S3 speaks it: the route names the operation, a blob payload is the
//! body (plain, or `aws-chunked` with trailing checksums when `x-amz-content-sha256` is one of
//! the `STREAMING-...` values), replies are headers and a body, and errors are
//! `<Error><Code/><Message/>...<RequestId/><HostId/></Error>` ("Error responses", Amazon S3 API
//! reference) with S3's own `x-amz-request-id` and `x-amz-id-2` headers.

use axum::body::{Body, Bytes};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, Response, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::{Input, Reply, Request, Xml, aws_chunked, rest};
use crate::error::ApiError;
use crate::services::Service;

/// The route's operation, its input bound from the path, query and headers, and the payload.
pub fn decode(service: Service, parts: &Parts, body: Bytes) -> Result<Request, ApiError> {
    let (route, input) = rest::route(service, service.routes(), parts)?;
    let streaming = parts
        .headers
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("STREAMING-"));
    let input = match streaming {
        true => dechunk(input, route, &parts.headers, &body)?,
        false => input.with_payload(body),
    };
    Ok(Request {
        operation: route.operation.to_owned(),
        input,
    })
}

/// An `aws-chunked` body's chunks joined into the payload, and its trailers bound as the headers
/// of the same names would be. `x-amz-decoded-content-length` must be the payload's length, and
/// every trailer `x-amz-trailer` announces must be there.
fn dechunk(
    mut input: Input,
    route: &rest::Route,
    headers: &axum::http::HeaderMap,
    body: &[u8],
) -> Result<Input, ApiError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let chunked = aws_chunked::parse(body).map_err(incomplete_body)?;
    let payload = chunked.payload();
    let declared = header("x-amz-decoded-content-length").ok_or_else(|| {
        ApiError::new(
            StatusCode::LENGTH_REQUIRED,
            "MissingContentLength",
            "You must provide the Content-Length HTTP header.",
        )
    })?;
    if declared.parse::<usize>().ok() != Some(payload.len()) {
        return Err(incomplete_body(format!(
            "x-amz-decoded-content-length is {declared} but the chunks hold {} bytes",
            payload.len()
        )));
    }
    for announced in header("x-amz-trailer")
        .into_iter()
        .flat_map(|t| t.split(','))
    {
        let announced = announced.trim().to_ascii_lowercase();
        if !chunked.trailers.iter().any(|(name, _)| *name == announced) {
            return Err(incomplete_body(format!(
                "the trailer {announced} announced in x-amz-trailer is missing"
            )));
        }
    }
    for (name, value) in &chunked.trailers {
        if let Some((_, member)) = route.headers.iter().find(|(bound, _)| bound == name) {
            input.set(member, value.clone());
        }
    }
    Ok(input.with_payload(payload.into()))
}

fn incomplete_body(why: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "IncompleteBody",
        format!("The request body terminated unexpectedly ({why})."),
    )
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

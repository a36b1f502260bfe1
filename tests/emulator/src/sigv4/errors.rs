//! Why a request's authentication failed, and how each protocol's services name it.

use axum::http::StatusCode;

use crate::error::ApiError;
use crate::protocol::Protocol;

/// Why a request's authentication failed. Each protocol names these its own way
/// ([`AuthError::api_error`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("Request is missing Authentication Token")]
    Missing,
    /// The `Authorization` header lacks a part.
    #[error("{0}")]
    Incomplete(String),
    #[error("The security token included in the request is invalid.")]
    UnknownKey,
    #[error("The security token included in the request is expired")]
    ExpiredToken,
    /// The credential scope's date or region.
    #[error("{0}")]
    Scope(String),
    /// The request time is more than 5 minutes from ours.
    #[error("{0}")]
    Skewed(String),
    /// `x-amz-content-sha256` is not the body's hash, nor a value the service takes.
    #[error("{0}")]
    PayloadHash(String),
    /// The signature over the canonical request.
    #[error(
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
    )]
    Signature,
    /// S3 wants the payload hash in `x-amz-content-sha256` on every signed request.
    #[error("Missing required header for this request: x-amz-content-sha256")]
    MissingContentSha256,
}

impl AuthError {
    /// The error as the protocol's services send it. The query protocol's codes and statuses
    /// are in "Common Errors" of the STS and IAM API references; JSON services (Organizations)
    /// answer 400 with the `...Exception` names botocore and the SDKs know (for example
    /// `InvalidSignatureException: Signature expired`). CloudWatch's JSON and CBOR protocols
    /// follow the JSON services; its exact choice is undocumented. S3 has its own codes
    /// ("Error responses", Amazon S3 API reference).
    pub fn api_error(&self, protocol: Protocol) -> ApiError {
        let (status, code) = match protocol {
            Protocol::Query => self.query_code(),
            Protocol::RestXml => self.s3_code(),
            // Our assumption: restJson1 services (Scheduler, Security Hub) answer these with the
            // JSON services' codes but 403, as their API Gateway-style front ends do (Security
            // Hub's and Scheduler's references list only the codes).
            Protocol::RestJson1 => (StatusCode::FORBIDDEN, self.json_code().1),
            _ => self.json_code(),
        };
        ApiError::new(status, code, self.to_string())
    }

    fn query_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::Missing => (StatusCode::FORBIDDEN, "MissingAuthenticationToken"),
            Self::Incomplete(_) => (StatusCode::BAD_REQUEST, "IncompleteSignature"),
            Self::UnknownKey => (StatusCode::FORBIDDEN, "InvalidClientTokenId"),
            Self::ExpiredToken => (StatusCode::FORBIDDEN, "ExpiredToken"),
            _ => (StatusCode::FORBIDDEN, "SignatureDoesNotMatch"),
        }
    }

    fn json_code(&self) -> (StatusCode, &'static str) {
        let code = match self {
            Self::Missing => "MissingAuthenticationTokenException",
            Self::Incomplete(_) => "IncompleteSignatureException",
            Self::UnknownKey => "UnrecognizedClientException",
            Self::ExpiredToken => "ExpiredTokenException",
            _ => "InvalidSignatureException",
        };
        (StatusCode::BAD_REQUEST, code)
    }

    fn s3_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::Missing => (StatusCode::FORBIDDEN, "AccessDenied"),
            Self::Incomplete(_) | Self::Scope(_) => {
                (StatusCode::BAD_REQUEST, "AuthorizationHeaderMalformed")
            }
            Self::UnknownKey => (StatusCode::FORBIDDEN, "InvalidAccessKeyId"),
            Self::ExpiredToken => (StatusCode::BAD_REQUEST, "ExpiredToken"),
            Self::Skewed(_) => (StatusCode::FORBIDDEN, "RequestTimeTooSkewed"),
            Self::PayloadHash(_) => (StatusCode::BAD_REQUEST, "XAmzContentSHA256Mismatch"),
            Self::Signature => (StatusCode::FORBIDDEN, "SignatureDoesNotMatch"),
            Self::MissingContentSha256 => (StatusCode::BAD_REQUEST, "InvalidRequest"),
        }
    }
}

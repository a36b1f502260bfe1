//! S3's error answers: `<Error><Code/><Message/>[Key|BucketName|...]<RequestId/><HostId/></Error>`,
//! and HeadObject's 404 without a body.

use axum::http::StatusCode;

use crate::error::ApiError;

pub(super) fn no_such_bucket(bucket: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "NoSuchBucket",
        "The specified bucket does not exist",
    )
    .with_detail("BucketName", bucket)
}

pub(super) fn no_such_key(key: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "NoSuchKey",
        "The specified key does not exist.",
    )
    .with_detail("Key", key)
}

pub(super) fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "NotFound", "Not Found")
}

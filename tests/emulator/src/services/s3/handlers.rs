//! S3's object operations: PutObject (its checks, conditional writes, what is stored) and
//! GetObject / HeadObject (the stored object's headers, and its bytes).

use std::collections::BTreeMap;

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::Service;
use super::errors::{no_such_key, not_found};
use super::integrity;
use super::state::S3Object;
use crate::error::ApiError;
use crate::protocol::{HttpReply, Input};
use crate::world::World;

/// "The name for a key is a sequence of Unicode characters whose UTF-8 encoding is at most 1,024
/// bytes long" ("Naming Amazon S3 objects", S3 User Guide).
const MAX_KEY_BYTES: usize = 1024;

pub(super) fn put_object(
    world: &mut World,
    input: &Input,
    now: DateTime<Utc>,
) -> Result<HttpReply, ApiError> {
    if input.str("CopySource").is_some() {
        return Err(Service::S3.unknown_operation("CopyObject"));
    }
    let (bucket, key) = object_key(input)?;
    let payload = input.payload();
    let checksum = integrity::check(input, payload)?;
    let place = (bucket.to_owned(), key.to_owned());
    precondition(world.objects.get(&place), input, key)?;
    let metadata = match input.get("Metadata") {
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
            .collect(),
        _ => BTreeMap::new(),
    };
    let object = S3Object {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        body: payload.to_vec(),
        size: payload.len(),
        etag: integrity::etag(payload),
        content_type: input
            .str("ContentType")
            .unwrap_or("binary/octet-stream")
            .to_owned(),
        content_encoding: input
            .str("ContentEncoding")
            .filter(|e| !e.trim().is_empty())
            .map(str::to_owned),
        metadata,
        checksum_algorithm: checksum.as_ref().map(|(a, _)| a.name().to_owned()),
        checksum: checksum.as_ref().map(|(_, value)| value.clone()),
        last_modified: now,
    };
    let mut headers = vec![("ETag".to_owned(), object.etag.clone())];
    headers.extend(common_headers(&object, true));
    world.objects.insert(place, object);
    Ok(HttpReply {
        headers,
        body: Vec::new(),
    })
}

/// Conditional writes ("How to prevent object overwrites with conditional writes", S3 User
/// Guide; PutObject, S3 API Reference): `If-None-Match: *` puts only a new key, `If-Match` only
/// over the object whose ETag it names; either fails with 412 `PreconditionFailed`. `If-Match` on
/// a key that does not exist answers 404 `NoSuchKey`.
fn precondition(current: Option<&S3Object>, input: &Input, key: &str) -> Result<(), ApiError> {
    let failed = |condition: &str| {
        ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            "PreconditionFailed",
            "At least one of the pre-conditions you specified did not hold",
        )
        .with_detail("Condition", condition)
    };
    if input.str("IfNoneMatch") == Some("*") && current.is_some() {
        return Err(failed("If-None-Match"));
    }
    match (input.str("IfMatch"), current) {
        (None, _) => Ok(()),
        (Some(_), None) => Err(no_such_key(key)),
        // ETags are quoted; a client may send one with or without its quotes.
        (Some(etag), Some(object)) if etag.trim_matches('"') == object.etag.trim_matches('"') => {
            Ok(())
        }
        (Some(_), Some(_)) => Err(failed("If-Match")),
    }
}

/// GetObject (`body`) or HeadObject: the object's headers, and its bytes for GetObject. A key
/// that does not exist is 404 only to a caller who may list the bucket, 403 to any other ("If
/// you don't have the s3:ListBucket permission, Amazon S3 returns an HTTP status code 403 Access
/// Denied error", GetObject, S3 API Reference).
pub(super) fn get_object(
    world: &World,
    input: &Input,
    body: bool,
    may_list_bucket: bool,
) -> Result<HttpReply, ApiError> {
    let (bucket, key) = object_key(input)?;
    if input.str("Range").is_some() {
        return Err(Service::S3.unknown_operation("a ranged GetObject"));
    }
    let object = world
        .objects
        .get(&(bucket.to_owned(), key.to_owned()))
        .ok_or_else(|| match (may_list_bucket, body) {
            (false, _) => Service::S3.access_denied("Access Denied"),
            (true, true) => no_such_key(key),
            (true, false) => not_found(),
        })?;
    let mut headers = vec![
        ("ETag".to_owned(), object.etag.clone()),
        ("Content-Type".to_owned(), object.content_type.clone()),
        (
            "Last-Modified".to_owned(),
            object
                .last_modified
                .format("%a, %d %b %Y %H:%M:%S GMT")
                .to_string(),
        ),
        ("Accept-Ranges".to_owned(), "bytes".to_owned()),
    ];
    if let Some(encoding) = &object.content_encoding {
        headers.push(("Content-Encoding".to_owned(), encoding.clone()));
    }
    headers.extend(
        object
            .metadata
            .iter()
            .map(|(name, value)| (format!("x-amz-meta-{name}"), value.clone())),
    );
    // Checksums come back only when asked for ("Checking object integrity").
    headers.extend(common_headers(
        object,
        input.str("ChecksumMode") == Some("ENABLED"),
    ));
    if !body {
        // No body follows, so the length is told.
        headers.push(("Content-Length".to_owned(), object.size.to_string()));
    }
    Ok(HttpReply {
        headers,
        body: if body {
            object.body.clone()
        } else {
            Vec::new()
        },
    })
}

/// Server-side encryption (S3 encrypts every new object with SSE-S3 by default since January
/// 2023) and, when `checksum`, the object's checksum.
fn common_headers(object: &S3Object, checksum: bool) -> Vec<(String, String)> {
    let mut headers = vec![(
        "x-amz-server-side-encryption".to_owned(),
        "AES256".to_owned(),
    )];
    if let (true, Some(algorithm), Some(value)) =
        (checksum, &object.checksum_algorithm, &object.checksum)
    {
        headers.push((
            format!("x-amz-checksum-{}", algorithm.to_lowercase()),
            value.clone(),
        ));
        headers.push(("x-amz-checksum-type".to_owned(), "FULL_OBJECT".to_owned()));
    }
    headers
}

/// The bucket and key of an object operation; keys are at most 1,024 bytes.
fn object_key(input: &Input) -> Result<(&str, &str), ApiError> {
    let bucket = input.str("Bucket").unwrap_or_default();
    let key = input.str("Key").unwrap_or_default();
    if key.len() > MAX_KEY_BYTES {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "KeyTooLongError",
            "Your key is too long",
        ));
    }
    Ok((bucket, key))
}

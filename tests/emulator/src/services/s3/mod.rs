//! S3 (restXml, path-style addressing, API version 2006-03-01; botocore's `s3` model): objects in
//! the buckets the org declares, owned by the caller's account. `PutObject` (conditional writes
//! with `If-None-Match: *` and `If-Match`), `GetObject`, `HeadObject`, `ListObjectsV2`.
//!
//! # Behaviour
//!
//! restXml (botocore's `s3` model, API version 2006-03-01), signed for `s3`, **path-style** against
//! the emulator's IP endpoint, as the SDKs address an IP endpoint (`PUT /BUCKET/KEY`; keys
//! percent-encoded in the path, `date%3D2026-12-02`, and signed as sent: S3 neither normalizes nor
//! encodes the path again). The buckets are the org's `buckets` (`Emulator::bucket`, `--bucket`),
//! owned by the caller account, in no particular region; another is `NoSuchBucket` (404, with
//! `BucketName`). Root sessions get `AccessDenied` (403).
//!
//! - **PutObject** (`PUT /BUCKET/KEY`, the Rust SDK adds `?x-id=PutObject`): stores the bytes, the
//!   content type (`binary/octet-stream` unless given), `Content-Encoding` (without `aws-chunked`:
//!   an object put gzipped stays gzipped), `x-amz-meta-*` metadata. Answers `ETag` (the hex MD5 in
//!   quotes), `x-amz-server-side-encryption: AES256` (S3 encrypts every new object since January
//!   2023), and the checksum header with `x-amz-checksum-type: FULL_OBJECT` when the request
//!   carried a checksum. A body arrives plain or `aws-chunked`, as `x-amz-content-sha256` says
//!   (below): chunks are joined, their trailers (`x-amz-checksum-crc32`) read like the headers of
//!   those names; `x-amz-decoded-content-length` must be the payload's length (else
//!   `IncompleteBody` 400; absent: `MissingContentLength` 411), a trailer `x-amz-trailer` announces
//!   must be there, a malformed body is `IncompleteBody`. Integrity ("Checking object integrity",
//!   S3 User Guide): `Content-MD5` (`InvalidDigest` if not 16 bytes of base64, `BadDigest` if
//!   wrong); one `x-amz-checksum-*` value in a header or trailer, CRC32 (the SDKs' default) or
//!   SHA256, verified (`InvalidRequest` "Value for x-amz-checksum-crc32 header is invalid." when
//!   not 4 bytes of base64; `BadDigest` "The CRC32 you specified did not match the calculated
//!   checksum." when wrong); `x-amz-sdk-checksum-algorithm` without a value, or two values:
//!   `InvalidRequest`; CRC32C, CRC64NVME, SHA1: `NotImplemented` (501: not emulated). Keys over
//!   1,024 bytes: `KeyTooLongError`. `If-None-Match: *` on an existing key: `PreconditionFailed`
//!   (412). `x-amz-copy-source` (CopyObject) is `NotImplemented`.
//! - **GetObject** (`GET /BUCKET/KEY`): the bytes, with `Content-Type`, `Content-Length`, `ETag`,
//!   `Last-Modified`, `Content-Encoding`, `x-amz-meta-*`, and the checksum when the request sends
//!   `x-amz-checksum-mode: ENABLED` (the SDKs then verify it). A missing key is `NoSuchKey` (404)
//!   `<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>KEY</Key><RequestId/><HostId/></Error>`.
//!   A `Range` is `NotImplemented`. **HeadObject** (`HEAD /BUCKET/KEY`): the same headers, no body;
//!   missing (key or bucket): 404 without a body (clients read `NotFound`).
//! - **ListObjectsV2** (`GET /BUCKET?list-type=2&prefix=P&delimiter=D&start-after=S&continuation-token=T&max-keys=N&encoding-type=url&fetch-owner=true`):
//!   keys in UTF-8 binary order under the prefix, after `start-after` (or where the continuation
//!   token says, which wins), grouped into `CommonPrefixes` by the delimiter; at most `max-keys`
//!   entries (keys and prefixes; default 1,000, more is taken as 1,000; `0` answers an empty,
//!   untruncated page; not a whole number: `InvalidArgument`), `IsTruncated`, `KeyCount`,
//!   `NextContinuationToken` (opaque, bound to the bucket; another: `InvalidArgument` "The
//!   continuation token provided is incorrect"). `encoding-type=url` (botocore sends it and
//!   decodes) percent-encodes `Key`, `Prefix`, `Delimiter`, `StartAfter`. `Contents`: `Key`,
//!   `LastModified`, `ETag`, `ChecksumAlgorithm`, `Size`, `StorageClass` `STANDARD`, `Owner` with
//!   `fetch-owner`. A GET of a bucket without `list-type=2` (ListObjects v1) is `NotImplemented`.
//! - Errors: `<?xml ...?><Error><Code/><Message/>[Key|BucketName|ArgumentName...]<RequestId/><HostId/></Error>`
//!   (`application/xml`); every S3 response carries `x-amz-request-id` and `x-amz-id-2` besides
//!   `x-amzn-RequestId`. A query parameter no served operation takes (`?acl`, `?tagging`,
//!   `?uploadId=..`, `response-content-type`, ...) makes the request another operation:
//!   `NotImplemented` (501).
//! - **Objects for tests**: `EmulatorHandle::objects() -> Vec<S3Object>` (by bucket and key) and
//!   `EmulatorHandle::object(bucket, key) -> Option<S3Object>`: `S3Object { bucket, key, body:
//!   Vec<u8>, size, etag, content_type, content_encoding, metadata, checksum_algorithm, checksum,
//!   last_modified }`. `GET /_emulator/objects` lists them without the bytes;
//!   `GET /_emulator/objects/BUCKET/KEY` answers the bytes as stored.
//!
//! # Not emulated
//!
//! Anything beyond the four object operations (multipart uploads, CopyObject, ranges, versioning,
//! Object Lock, bucket policies and the 403 a missing key gives a caller without `s3:ListBucket`),
//! virtual-hosted addressing, bucket regions, checksums other than CRC32 and SHA256.

mod integrity;
mod listing;

use std::collections::BTreeMap;

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Permissions, Service};
use crate::error::ApiError;
use crate::policy::Request;
use crate::protocol::rest::Route;
use crate::protocol::{HttpReply, Input, Reply};
use crate::world::World;

/// PutObject's headers the emulator reads (the model's `PutObjectRequest` locations).
const PUT_HEADERS: &[(&str, &str)] = &[
    ("content-type", "ContentType"),
    ("content-encoding", "ContentEncoding"),
    ("content-md5", "ContentMD5"),
    ("x-amz-sdk-checksum-algorithm", "ChecksumAlgorithm"),
    ("x-amz-checksum-crc32", "ChecksumCRC32"),
    ("x-amz-checksum-crc32c", "ChecksumCRC32C"),
    ("x-amz-checksum-crc64nvme", "ChecksumCRC64NVME"),
    ("x-amz-checksum-sha1", "ChecksumSHA1"),
    ("x-amz-checksum-sha256", "ChecksumSHA256"),
    ("x-amz-meta-", "Metadata"),
    ("if-none-match", "IfNoneMatch"),
    ("if-match", "IfMatch"),
    // CopyObject is a PUT with this header: not emulated.
    ("x-amz-copy-source", "CopySource"),
    ("x-amz-expected-bucket-owner", "ExpectedBucketOwner"),
];

/// GetObject's and HeadObject's.
const GET_HEADERS: &[(&str, &str)] = &[
    ("x-amz-checksum-mode", "ChecksumMode"),
    ("range", "Range"),
    ("x-amz-expected-bucket-owner", "ExpectedBucketOwner"),
];

pub const ROUTES: &[Route] = &[
    Route {
        operation: "ListObjectsV2",
        method: "GET",
        uri: "/{Bucket}?list-type=2",
        query: &[
            ("prefix", "Prefix"),
            ("delimiter", "Delimiter"),
            ("encoding-type", "EncodingType"),
            ("max-keys", "MaxKeys"),
            ("continuation-token", "ContinuationToken"),
            ("start-after", "StartAfter"),
            ("fetch-owner", "FetchOwner"),
        ],
        headers: &[("x-amz-expected-bucket-owner", "ExpectedBucketOwner")],
    },
    Route {
        operation: "PutObject",
        method: "PUT",
        uri: "/{Bucket}/{Key+}",
        query: &[],
        headers: PUT_HEADERS,
    },
    Route {
        operation: "GetObject",
        method: "GET",
        uri: "/{Bucket}/{Key+}",
        query: &[],
        headers: GET_HEADERS,
    },
    Route {
        operation: "HeadObject",
        method: "HEAD",
        uri: "/{Bucket}/{Key+}",
        query: &[],
        headers: GET_HEADERS,
    },
];

/// "The name for a key is a sequence of Unicode characters whose UTF-8 encoding is at most 1,024
/// bytes long" ("Naming Amazon S3 objects", S3 User Guide).
const MAX_KEY_BYTES: usize = 1024;

/// A stored object, as [`crate::EmulatorHandle::objects`] gives it; `/_emulator/objects` lists
/// the same without the bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct S3Object {
    pub bucket: String,
    pub key: String,
    /// The bytes as stored: an object put gzipped stays gzipped.
    #[serde(skip)]
    pub body: Vec<u8>,
    pub size: usize,
    /// `"<hex MD5>"`, quotes included, as S3 sends it.
    pub etag: String,
    /// `binary/octet-stream` unless given, as S3 stores it.
    pub content_type: String,
    /// As given, without `aws-chunked` (which only framed the upload).
    pub content_encoding: Option<String>,
    /// The `x-amz-meta-*` headers, by name without the prefix.
    pub metadata: BTreeMap<String, String>,
    /// `CRC32` or `SHA256`, when the upload carried that checksum.
    pub checksum_algorithm: Option<String>,
    /// Its base64 value.
    pub checksum: Option<String>,
    pub last_modified: DateTime<Utc>,
}

/// Every object, by bucket and key: keys in UTF-8 binary order, as S3 lists them.
pub(crate) type Objects = BTreeMap<(String, String), S3Object>;

pub fn call(
    world: &mut World,
    account: &str,
    operation: &str,
    input: &Input,
    permissions: Permissions,
    now: DateTime<Utc>,
) -> Result<Reply, ApiError> {
    let bucket = input.str("Bucket").unwrap_or_default();
    let exists = world.org.buckets.iter().any(|b| b == bucket);
    // A HEAD answer has no body: its 404 says nothing more (clients see "NotFound").
    if !exists && operation == "HeadObject" {
        return Err(not_found());
    }
    if !exists {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "NoSuchBucket",
            "The specified bucket does not exist",
        )
        .with_detail("BucketName", bucket));
    }
    // "If the account ID that you provide does not match the actual owner of the bucket, the
    // request fails with the HTTP status code 403 Forbidden (access denied)."
    if input
        .str("ExpectedBucketOwner")
        .is_some_and(|owner| owner != account)
    {
        return Err(Service::S3.access_denied("Access Denied"));
    }
    let reply = match operation {
        "PutObject" => put_object(world, input, now)?,
        "GetObject" | "HeadObject" => {
            let body = operation == "GetObject";
            get_object(world, input, body, permissions.may_list_bucket)?
        }
        "ListObjectsV2" => listing::list(&world.objects, bucket, input)?,
        _ => return Err(Service::S3.unknown_operation(operation)),
    };
    Ok(Reply::Http(reply))
}

fn put_object(world: &mut World, input: &Input, now: DateTime<Utc>) -> Result<HttpReply, ApiError> {
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
    let encoding: Vec<&str> = input
        .str("ContentEncoding")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty() && !e.eq_ignore_ascii_case("aws-chunked"))
        .collect();
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
        content_encoding: (!encoding.is_empty()).then(|| encoding.join(",")),
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

fn no_such_key(key: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "NoSuchKey",
        "The specified key does not exist.",
    )
    .with_detail("Key", key)
}

/// GetObject (`body`) or HeadObject: the object's headers, and its bytes for GetObject. A key
/// that does not exist is 404 only to a caller who may list the bucket, 403 to any other ("If
/// you don't have the s3:ListBucket permission, Amazon S3 returns an HTTP status code 403 Access
/// Denied error", GetObject, S3 API Reference).
fn get_object(
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

fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "NotFound", "Not Found")
}

/// `s3:ListBucket` on the request's bucket, as a permission check asks for it.
pub fn list_bucket_request(input: &Input) -> Request {
    Request {
        action: "s3:ListBucket".to_owned(),
        resource: format!("arn:aws:s3:::{}", input.str("Bucket").unwrap_or_default()),
        context: Vec::new(),
    }
}

/// What the caller's policy must allow (Service Authorization Reference, Amazon S3): PutObject
/// `s3:PutObject` and GetObject/HeadObject `s3:GetObject` on the object
/// (`arn:aws:s3:::BUCKET/KEY`), ListObjectsV2 `s3:ListBucket` on the bucket (`arn:aws:s3:::BUCKET`)
/// with its condition keys `s3:prefix`, `s3:delimiter` and `s3:max-keys` when given.
pub fn authorization(operation: &str, input: &Input) -> Option<Vec<Request>> {
    let bucket = input.str("Bucket").unwrap_or_default();
    let object = || {
        format!(
            "arn:aws:s3:::{bucket}/{}",
            input.str("Key").unwrap_or_default()
        )
    };
    let (action, resource, context) = match operation {
        "PutObject" => ("s3:PutObject", object(), Vec::new()),
        "GetObject" | "HeadObject" => ("s3:GetObject", object(), Vec::new()),
        "ListObjectsV2" => {
            let keys = [
                ("s3:prefix", "Prefix"),
                ("s3:delimiter", "Delimiter"),
                ("s3:max-keys", "MaxKeys"),
            ];
            let context = keys
                .iter()
                .filter_map(|(key, member)| {
                    Some(((*key).to_owned(), input.str(member)?.to_owned()))
                })
                .collect();
            ("s3:ListBucket", format!("arn:aws:s3:::{bucket}"), context)
        }
        _ => return None,
    };
    Some(vec![Request {
        action: action.to_owned(),
        resource,
        context,
    }])
}

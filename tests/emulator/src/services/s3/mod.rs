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
//!   content type (`binary/octet-stream` unless given), `Content-Encoding` (an object put gzipped
//!   stays gzipped), `x-amz-meta-*` metadata. Answers `ETag` (the hex MD5 in quotes),
//!   `x-amz-server-side-encryption: AES256` (S3 encrypts every new object since January 2023), and
//!   the checksum header with `x-amz-checksum-type: FULL_OBJECT` when the request carried a
//!   checksum. A body arrives plain, its hash signed (or `UNSIGNED-PAYLOAD`): so rootsweep
//!   (`ByteStream::from(Vec)`, with a CRC32 header) and boto3 send it over HTTP, as rootsweep's
//!   `e2e::features::a_sweep_archives_exactly_its_report_and_findings_go_from_failed_to_archived`
//!   and boto3's `test_s3_objects_path_style` need; `aws-chunked` bodies, which no client here
//!   sends, are not emulated (`sigv4`). Integrity ("Checking object integrity", S3 User Guide):
//!   `Content-MD5` (`InvalidDigest` if not 16 bytes of base64, `BadDigest` if wrong); one
//!   `x-amz-checksum-*` header, CRC32 (the SDKs' default) or SHA256, verified (`InvalidRequest`
//!   "Value for x-amz-checksum-crc32 header is invalid." when not 4 bytes of base64; `BadDigest`
//!   "The CRC32 you specified did not match the calculated checksum." when wrong);
//!   `x-amz-sdk-checksum-algorithm` without a value, or two values: `InvalidRequest`; CRC32C,
//!   CRC64NVME, SHA1: `NotImplemented` (501: not emulated). Keys over 1,024 bytes:
//!   `KeyTooLongError`. `If-None-Match: *` on an existing key: `PreconditionFailed` (412).
//!   `x-amz-copy-source` (CopyObject) is `NotImplemented`.
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
//! virtual-hosted addressing, bucket regions, checksums other than CRC32 and SHA256, and
//! `aws-chunked` bodies with their trailing checksums (no client here sends them: `sigv4`).

mod errors;
mod handlers;
mod integrity;
mod listing;
mod state;

use chrono::{DateTime, Utc};

use super::{Permissions, Service};
use crate::error::ApiError;
use crate::policy::Request;
use crate::protocol::rest::Route;
use crate::protocol::{Input, Reply};
use crate::world::World;

pub(crate) use state::Objects;
pub use state::S3Object;

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

/// Routes an operation to its handler, once the bucket is one of the caller's.
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
        return Err(errors::not_found());
    }
    if !exists {
        return Err(errors::no_such_bucket(bucket));
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
        "PutObject" => handlers::put_object(world, input, now)?,
        "GetObject" | "HeadObject" => {
            let body = operation == "GetObject";
            handlers::get_object(world, input, body, permissions.may_list_bucket)?
        }
        "ListObjectsV2" => listing::list(&world.objects, bucket, input)?,
        _ => return Err(Service::S3.unknown_operation(operation)),
    };
    Ok(Reply::Http(reply))
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

//! What S3 stores: the objects, by bucket and key.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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
    /// As given: an object put gzipped stays gzipped.
    pub content_encoding: Option<String>,
    /// The `x-amz-meta-*` headers, by name without the prefix.
    pub metadata: BTreeMap<String, String>,
    /// `CRC32` or `SHA256`, when the upload carried that checksum.
    pub checksum_algorithm: Option<String>,
    /// Its base64 value.
    pub checksum: Option<String>,
    pub last_modified: DateTime<Utc>,
}

impl S3Object {
    /// Its bytes replaced by `body`, as an unconditional PutObject of the same object would:
    /// a new ETag, no checksum, modified `now` (for `PUT /_emulator/objects/BUCKET/KEY`).
    pub(crate) fn rewrite(&mut self, body: Vec<u8>, now: DateTime<Utc>) {
        self.size = body.len();
        self.etag = super::integrity::etag(&body);
        self.body = body;
        self.checksum_algorithm = None;
        self.checksum = None;
        self.last_modified = now;
    }
}

/// Every object, by bucket and key: keys in UTF-8 binary order, as S3 lists them.
pub(crate) type Objects = BTreeMap<(String, String), S3Object>;

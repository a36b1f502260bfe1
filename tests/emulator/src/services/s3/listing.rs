//! ListObjectsV2 ("ListObjectsV2", Amazon S3 API reference): a bucket's keys in UTF-8 binary
//! order, under a prefix, after `start-after` or where a continuation token says, grouped into
//! common prefixes by a delimiter, at most `max-keys` (default and most 1,000) entries a page.

use axum::http::StatusCode;
use sha2::{Digest, Sha256};

use super::state::{Objects, S3Object};
use crate::error::ApiError;
use crate::protocol::{HttpReply, Input, Xml};
use crate::sigv4::uri_encode;

const NAMESPACE: &str = "http://s3.amazonaws.com/doc/2006-03-01/";
const MAX_KEYS: usize = 1000;

/// One entry of a page: an object, or a common prefix standing for every key under it.
enum Entry<'a> {
    Object(&'a S3Object),
    Prefix(String),
}

impl Entry<'_> {
    /// What a continuation token after this entry holds: a prefix skips every key under it.
    fn cursor(&self) -> Cursor {
        match self {
            Entry::Object(object) => Cursor {
                last: object.key.clone(),
                prefix: false,
            },
            Entry::Prefix(prefix) => Cursor {
                last: prefix.clone(),
                prefix: true,
            },
        }
    }
}

/// Where a page starts: after the key `last`, or after every key under the prefix `last`.
#[derive(Debug, PartialEq, Eq)]
struct Cursor {
    last: String,
    prefix: bool,
}

impl Cursor {
    fn passed(&self, key: &str) -> bool {
        key <= self.last.as_str() || (self.prefix && key.starts_with(&self.last))
    }

    /// An opaque token, bound to the bucket.
    fn token(&self, bucket: &str) -> String {
        let kind = if self.prefix { "p" } else { "k" };
        hex::encode(format!("{bucket}\n{kind}\n{}", self.last))
    }

    fn from_token(token: &str, bucket: &str) -> Option<Cursor> {
        let text = String::from_utf8(hex::decode(token).ok()?).ok()?;
        let mut parts = text.splitn(3, '\n');
        let (owner, kind, last) = (parts.next()?, parts.next()?, parts.next()?);
        (owner == bucket && matches!(kind, "k" | "p")).then(|| Cursor {
            last: last.to_owned(),
            prefix: kind == "p",
        })
    }
}

pub fn list(objects: &Objects, bucket: &str, input: &Input) -> Result<HttpReply, ApiError> {
    let prefix = input.str("Prefix").unwrap_or_default();
    let delimiter = input.str("Delimiter").filter(|d| !d.is_empty());
    let url = match input.str("EncodingType") {
        None => false,
        Some("url") => true,
        Some(other) => {
            return Err(invalid_argument(
                "Invalid Encoding Method specified in Request",
                "encoding-type",
                other,
            ));
        }
    };
    let max = max_keys(input.str("MaxKeys"))?;
    let start = match input.str("ContinuationToken") {
        Some(token) => Some(Cursor::from_token(token, bucket).ok_or_else(|| {
            invalid_argument(
                "The continuation token provided is incorrect",
                "continuation-token",
                token,
            )
        })?),
        None => input.str("StartAfter").map(|after| Cursor {
            last: after.to_owned(),
            prefix: false,
        }),
    };
    let (entries, more) = page(objects, bucket, prefix, delimiter, start.as_ref(), max);
    let next = more
        .then(|| entries.last().map(|e| e.cursor().token(bucket)))
        .flatten();
    let encode = |text: &str| match url {
        true => uri_encode(text),
        false => text.to_owned(),
    };
    let mut xml = Xml::new()
        .text("Name", bucket)
        .text("Prefix", encode(prefix))
        .optional("Delimiter", delimiter.map(encode))
        .text("MaxKeys", max)
        .optional("EncodingType", url.then_some("url"))
        .text("KeyCount", entries.len())
        .text("IsTruncated", next.is_some())
        .optional("ContinuationToken", input.str("ContinuationToken"))
        .optional("NextContinuationToken", next)
        .optional("StartAfter", input.str("StartAfter").map(encode));
    let owner = input.str("FetchOwner") == Some("true");
    for entry in &entries {
        xml = match entry {
            Entry::Object(object) => xml.child("Contents", contents(object, owner, &encode)),
            Entry::Prefix(prefix) => {
                xml.child("CommonPrefixes", Xml::new().text("Prefix", encode(prefix)))
            }
        };
    }
    Ok(HttpReply {
        headers: vec![("Content-Type".to_owned(), "application/xml".to_owned())],
        body: xml
            .document("ListBucketResult", Some(NAMESPACE))
            .into_bytes(),
    })
}

/// Up to `max` entries after `start`, and whether more follow.
fn page<'a>(
    objects: &'a Objects,
    bucket: &str,
    prefix: &str,
    delimiter: Option<&str>,
    start: Option<&Cursor>,
    max: usize,
) -> (Vec<Entry<'a>>, bool) {
    let keys = objects
        .range((bucket.to_owned(), String::new())..)
        .take_while(|((b, _), _)| b == bucket)
        .map(|(_, object)| object)
        .filter(|o| o.key.starts_with(prefix) && start.is_none_or(|s| !s.passed(&o.key)));
    let mut entries: Vec<Entry> = Vec::new();
    for object in keys {
        let grouped = delimiter.and_then(|d| {
            let rest = &object.key[prefix.len()..];
            rest.find(d)
                .map(|at| format!("{prefix}{}", &rest[..at + d.len()]))
        });
        let entry = match grouped {
            // Keys under a prefix already listed are in it.
            Some(common) if matches!(entries.last(), Some(Entry::Prefix(p)) if *p == common) => {
                continue;
            }
            Some(common) => Entry::Prefix(common),
            None => Entry::Object(object),
        };
        if entries.len() == max {
            return (entries, true);
        }
        entries.push(entry);
    }
    (entries, false)
}

/// `max-keys`: a whole number, at most 1,000 taken (more is not an error, S3 answers 1,000).
fn max_keys(given: Option<&str>) -> Result<usize, ApiError> {
    let Some(text) = given else {
        return Ok(MAX_KEYS);
    };
    text.parse::<u32>()
        .map(|n| (n as usize).min(MAX_KEYS))
        .map_err(|_| {
            invalid_argument(
                "Provided max-keys not an integer or within integer range",
                "max-keys",
                text,
            )
        })
}

/// A `<Contents>` entry: S3's millisecond dates, the ETag in quotes, the checksum algorithm when
/// the object has one, the owner when asked (`fetch-owner`).
fn contents(object: &S3Object, owner: bool, encode: &dyn Fn(&str) -> String) -> Xml {
    let mut xml = Xml::new()
        .text("Key", encode(&object.key))
        .text(
            "LastModified",
            object.last_modified.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
        )
        .text("ETag", &object.etag)
        .optional("ChecksumAlgorithm", object.checksum_algorithm.as_ref())
        .optional(
            "ChecksumType",
            object.checksum_algorithm.as_ref().map(|_| "FULL_OBJECT"),
        )
        .text("Size", object.size);
    if owner {
        // A canonical user id is 64 hex digits; the emulator derives one from the bucket's
        // owner, the caller account.
        let id = hex::encode(Sha256::digest(object.bucket.as_bytes()));
        xml = xml.child("Owner", Xml::new().text("ID", id));
    }
    xml.text("StorageClass", "STANDARD")
}

fn invalid_argument(message: &str, name: &str, value: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "InvalidArgument", message)
        .with_detail("ArgumentName", name)
        .with_detail("ArgumentValue", value)
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn store(keys: &[&str]) -> Objects {
        keys.iter()
            .map(|key| {
                let object = S3Object {
                    bucket: "b".to_owned(),
                    key: (*key).to_owned(),
                    body: Vec::new(),
                    size: 0,
                    etag: String::new(),
                    content_type: String::new(),
                    content_encoding: None,
                    metadata: Default::default(),
                    checksum_algorithm: None,
                    checksum: None,
                    last_modified: Utc::now(),
                };
                (("b".to_owned(), (*key).to_owned()), object)
            })
            .collect()
    }

    fn names(entries: &[Entry]) -> Vec<String> {
        entries
            .iter()
            .map(|e| match e {
                Entry::Object(o) => o.key.clone(),
                Entry::Prefix(p) => format!("{p}*"),
            })
            .collect()
    }

    #[test]
    fn prefixes_delimiters_and_cursors() {
        let objects = store(&[
            "a",
            "runs/date=1/x",
            "runs/date=1/y",
            "runs/date=2/x",
            "runs/z",
            "é",
        ]);
        let (all, more) = page(&objects, "b", "", None, None, 10);
        assert_eq!(
            names(&all),
            [
                "a",
                "runs/date=1/x",
                "runs/date=1/y",
                "runs/date=2/x",
                "runs/z",
                "é"
            ]
        );
        assert!(!more);
        let (grouped, more) = page(&objects, "b", "runs/", Some("/"), None, 2);
        assert_eq!(names(&grouped), ["runs/date=1/*", "runs/date=2/*"]);
        assert!(more);
        let after = grouped.last().unwrap().cursor();
        let (rest, more) = page(&objects, "b", "runs/", Some("/"), Some(&after), 2);
        assert_eq!((names(&rest), more), (vec!["runs/z".to_owned()], false));
        let token = after.token("b");
        assert_eq!(Cursor::from_token(&token, "b"), Some(after));
        assert_eq!(Cursor::from_token(&token, "other"), None);
        assert_eq!(max_keys(Some("5000")).unwrap(), 1000);
        assert_eq!(max_keys(Some("-1")).unwrap_err().code, "InvalidArgument");
    }
}

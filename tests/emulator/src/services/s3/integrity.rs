//! The integrity checks of PutObject: `Content-MD5`, and the one `x-amz-checksum-*` header a
//! request may carry ("Checking object integrity in Amazon S3", S3 User Guide). The emulator computes CRC32 (the SDKs' default) and
//! SHA256; the other algorithms are refused as not emulated rather than stored unchecked.

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use md5::Md5;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::protocol::Input;

/// A checksum the emulator verifies: its name in `x-amz-checksum-<name>`, and its member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Crc32,
    Sha256,
}

impl Algorithm {
    /// As S3 names it (`x-amz-sdk-checksum-algorithm`, `ChecksumAlgorithm` in listings).
    pub fn name(self) -> &'static str {
        match self {
            Self::Crc32 => "CRC32",
            Self::Sha256 => "SHA256",
        }
    }

    pub fn header(self) -> &'static str {
        match self {
            Self::Crc32 => "x-amz-checksum-crc32",
            Self::Sha256 => "x-amz-checksum-sha256",
        }
    }

    fn digest(self, payload: &[u8]) -> Vec<u8> {
        match self {
            Self::Crc32 => crc32fast::hash(payload).to_be_bytes().to_vec(),
            Self::Sha256 => Sha256::digest(payload).to_vec(),
        }
    }
}

/// Every checksum member PutObject has, with the algorithm the emulator computes for it.
const CHECKSUMS: [(&str, &str, Option<Algorithm>); 5] = [
    ("ChecksumCRC32", "CRC32", Some(Algorithm::Crc32)),
    ("ChecksumSHA256", "SHA256", Some(Algorithm::Sha256)),
    ("ChecksumCRC32C", "CRC32C", None),
    ("ChecksumCRC64NVME", "CRC64NVME", None),
    ("ChecksumSHA1", "SHA1", None),
];

/// The object's checksum when the request carried one (it must match the payload), after
/// `Content-MD5` when given.
pub fn check(input: &Input, payload: &[u8]) -> Result<Option<(Algorithm, String)>, ApiError> {
    if let Some(md5) = input.str("ContentMD5") {
        let given = STANDARD
            .decode(md5)
            .ok()
            .filter(|d| d.len() == 16)
            .ok_or_else(|| {
                error(
                    "InvalidDigest",
                    "The Content-MD5 you specified was invalid.",
                )
            })?;
        if given != Md5::digest(payload).as_slice() {
            return Err(error(
                "BadDigest",
                "The Content-MD5 you specified did not match what we received.",
            ));
        }
    }
    let given: Vec<_> = CHECKSUMS
        .iter()
        .filter_map(|(member, name, algorithm)| Some((input.str(member)?, *name, *algorithm)))
        .collect();
    let (value, name, algorithm) = match given[..] {
        [] if input.str("ChecksumAlgorithm").is_some() => {
            return Err(invalid(
                "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.",
            ));
        }
        [] => return Ok(None),
        [one] => one,
        _ => {
            return Err(invalid(
                "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
            ));
        }
    };
    let algorithm = algorithm.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            "NotImplemented",
            format!("The {name} checksum is not emulated (CRC32 and SHA256 are)."),
        )
    })?;
    let expected = algorithm.digest(payload);
    let decoded = STANDARD.decode(value).ok();
    if decoded.as_ref().is_none_or(|d| d.len() != expected.len()) {
        let header = algorithm.header();
        return Err(invalid(&format!("Value for {header} header is invalid.")));
    }
    if decoded.as_deref() != Some(expected.as_slice()) {
        return Err(error(
            "BadDigest",
            &format!("The {name} you specified did not match the calculated checksum."),
        ));
    }
    Ok(Some((algorithm, value.to_owned())))
}

/// The ETag of an object put in one part: the hex MD5 of its bytes, in quotes.
pub fn etag(payload: &[u8]) -> String {
    format!("\"{}\"", hex::encode(Md5::digest(payload)))
}

fn error(code: &str, message: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, message)
}

fn invalid(message: &str) -> ApiError {
    error("InvalidRequest", message)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn input(members: serde_json::Value) -> Input {
        Input::new(members)
    }

    #[test]
    fn checksums_are_verified() {
        let crc = input(json!({"ChecksumCRC32": "DUoRhQ=="}));
        let checked = check(&crc, b"hello world").unwrap();
        assert_eq!(checked, Some((Algorithm::Crc32, "DUoRhQ==".to_owned())));
        let bad = check(&crc, b"hello there").unwrap_err();
        assert_eq!(
            (bad.code.as_str(), bad.message.as_str()),
            (
                "BadDigest",
                "The CRC32 you specified did not match the calculated checksum."
            )
        );
        let garbled = check(&input(json!({"ChecksumCRC32": "x"})), b"").unwrap_err();
        assert_eq!(
            garbled.message,
            "Value for x-amz-checksum-crc32 header is invalid."
        );
        let announced = check(&input(json!({"ChecksumAlgorithm": "CRC32"})), b"").unwrap_err();
        assert_eq!(announced.code, "InvalidRequest");
        let crc32c = check(&input(json!({"ChecksumCRC32C": "AAAAAA=="})), b"").unwrap_err();
        assert_eq!(crc32c.code, "NotImplemented");
        let md5 = input(json!({"ContentMD5": "XrY7u+Ae7tCTyyK7j1rNww=="}));
        assert!(check(&md5, b"hello world").is_ok());
        assert_eq!(check(&md5, b"hello").unwrap_err().code, "BadDigest");
        assert_eq!(etag(b"hello world"), "\"5eb63bbbe01eeed093cb22bb8f5acdc3\"");
    }
}

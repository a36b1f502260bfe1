//! Signature Version 4, checked on every AWS request as AWS checks it ("Create a signed AWS API
//! request", <https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html>, and
//! "Elements of an AWS API request signature",
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/signing-elements.html>):
//! the `Authorization` header's parts, the credential scope (its date is the request's date, its
//! region a region, its service one we serve), the request time within 5 minutes of ours, and
//! the signature over the canonical request. The emulator knows every secret it accepts: the
//! configured caller credentials and the root sessions it issued.
//!
//! # Behaviour
//!
//! Always on, as on AWS ("Create a signed AWS API request", IAM User Guide). The emulator knows two
//! kinds of credentials:
//! - **The caller's**, long-term, no session token: by default `AKIDEXAMPLE` /
//!   `wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY` (AWS's SigV4 example pair; `DEFAULT_CALLER_ACCESS_KEY_ID`
//!   and `DEFAULT_CALLER_SECRET_ACCESS_KEY` in Rust). Per run: `Emulator::caller_credentials(
//!   CallerCredentials::new(id, secret))` or `--caller-access-key-id ID --caller-secret-access-key
//!   SECRET`; `EmulatorHandle::caller_credentials()` tells them.
//! - **Root sessions** it issued (access key id, secret, session token), until they expire.
//!
//! Checked in this order; the answers differ by protocol (query: STS, IAM, CloudWatch's query
//! clients; JSON: Organizations, and CloudWatch's JSON 1.0 and CBOR clients, whose choice AWS does not
//! document; restJson1 (Scheduler, Security Hub): the JSON codes with status 403, our assumption, as API
//! Gateway-style front ends answer; S3: its own codes, "Error responses", S3 API reference):
//!
//! | Check | query | JSON / CBOR | S3 |
//! | --- | --- | --- | --- |
//! | no `Authorization` header | `MissingAuthenticationToken` 403 | `MissingAuthenticationTokenException` 400 | (no service to tell: answered as query) |
//! | a part missing (`Credential`, `SignedHeaders`, `Signature`, an `X-Amz-Date` or `Date` header; `host` not signed) | `IncompleteSignature` 400 | `IncompleteSignatureException` 400 | `AuthorizationHeaderMalformed` 400 |
//! | unknown access key id, wrong session token, or a token with the caller's key | `InvalidClientTokenId` 403 "The security token included in the request is invalid." | `UnrecognizedClientException` 400 | `InvalidAccessKeyId` 403 |
//! | expired root session | `ExpiredToken` 403 | `ExpiredTokenException` 400 | `ExpiredToken` 400 |
//! | credential scope: date not the request's date; region not of the `aws` partition's shape (`us|eu|ap|sa|ca|me|af|il|mx`-word-digits, the SDKs' own pattern: the emulator cannot tell real regions from names of that shape) | `SignatureDoesNotMatch` 403 "Date in Credential scope does not match ..." / "Credential should be scoped to a valid region, not 'X'. " | `InvalidSignatureException` 400 | `AuthorizationHeaderMalformed` 400 |
//! | request time more than 5 minutes before or after the emulator's | `SignatureDoesNotMatch` 403 "Signature expired: T is now earlier than ... (... - 5 min.)" / "Signature not yet current: ..." | `InvalidSignatureException` 400 | `RequestTimeTooSkewed` 403 |
//! | `x-amz-content-sha256` (S3: required, else `InvalidRequest` 400 "Missing required header for this request: x-amz-content-sha256") neither `UNSIGNED-PAYLOAD`, nor the body's hash (S3's `STREAMING-...` values too: `aws-chunked` is not emulated) | `SignatureDoesNotMatch` 403 | `InvalidSignatureException` 400 | `XAmzContentSHA256Mismatch` 400 |
//! | the signature over the canonical request (method, path normalized and encoded again, except S3's, signed as sent; query parameters encoded and sorted, the signed headers, the payload hash) | `SignatureDoesNotMatch` 403 | `InvalidSignatureException` 400 | `SignatureDoesNotMatch` 403 |
//!
//! The payload hash is that of the body as it arrived: gzip-compressed CloudWatch bodies are signed
//! compressed. Over HTTP, the Rust SDK (aws-sdk-s3 1.157) signs an in-memory PutObject body's hash
//! and sends its CRC32 in a header (what rootsweep sends), and boto3 does the same with a file
//! body. A service name the emulator does not serve stays `UnknownService` (400).
//!
//! # Not emulated
//!
//! Presigned URLs (signature in the query string), SigV4a, and S3's `aws-chunked` bodies, signed
//! (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`, which the Rust SDK sends for a file body over
//! HTTP) or not (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`): no client here sends them.

use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::protocol::Protocol;

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The payload hash of a request whose body is not signed.
const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// How far a request's time may be from AWS's, either way ("Signature expired" beyond it).
const MAX_SKEW: TimeDelta = TimeDelta::minutes(5);
/// The `X-Amz-Date` format, ISO 8601 basic.
const AMZ_DATE: &str = "%Y%m%dT%H%M%SZ";

/// Who signed a request and for which service, read from the credential scope
/// (`Credential=AKID/DATE/REGION/SERVICE/aws4_request`): enough to route it before the body is
/// read. [`verify`] checks the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer {
    pub access_key_id: String,
    /// The credential scope's region (checked by [`verify`]).
    pub region: String,
    /// The credential scope's service: `sts`, `iam`, `organizations`, `monitoring`, ...
    pub service: String,
}

impl Signer {
    pub fn from_headers(headers: &HeaderMap) -> Option<Signer> {
        let scope = Scope::parse(authorization_part(headers, "Credential")?)?;
        Some(Signer {
            access_key_id: scope.access_key_id.to_owned(),
            region: scope.region.to_owned(),
            service: scope.service.to_owned(),
        })
    }
}

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

/// `AKID/DATE/REGION/SERVICE/aws4_request`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Scope<'a> {
    access_key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
}

impl<'a> Scope<'a> {
    fn parse(credential: &'a str) -> Option<Scope<'a>> {
        let parts: Vec<&str> = credential.split('/').collect();
        match parts[..] {
            [access_key_id, date, region, service, "aws4_request"] if !access_key_id.is_empty() => {
                Some(Scope {
                    access_key_id,
                    date,
                    region,
                    service,
                })
            }
            _ => None,
        }
    }

    /// `DATE/REGION/SERVICE/aws4_request`, as in the string to sign.
    fn text(&self) -> String {
        format!(
            "{}/{}/{}/aws4_request",
            self.date, self.region, self.service
        )
    }
}

/// A part of `Authorization: AWS4-HMAC-SHA256 Credential=.., SignedHeaders=.., Signature=..`.
fn authorization_part<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let parts = value.strip_prefix(ALGORITHM)?;
    parts
        .split(',')
        .find_map(|part| part.trim().strip_prefix(name)?.strip_prefix('='))
}

/// Checks a request's signature with `secret`, the secret of the access key it names.
pub fn verify(
    parts: &Parts,
    body: &[u8],
    secret: &str,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    let headers = &parts.headers;
    let incomplete = |what: &str| {
        let shown = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        AuthError::Incomplete(format!(
            "Authorization header requires {what}. Authorization={shown}"
        ))
    };
    let credential = authorization_part(headers, "Credential")
        .ok_or_else(|| incomplete("'Credential' parameter"))?;
    let signed_headers = authorization_part(headers, "SignedHeaders")
        .ok_or_else(|| incomplete("'SignedHeaders' parameter"))?;
    let signature = authorization_part(headers, "Signature")
        .ok_or_else(|| incomplete("'Signature' parameter"))?;
    let (time, amz_date) = request_time(headers)
        .ok_or_else(|| incomplete("existence of either a 'X-Amz-Date' or a 'Date' header"))?;
    let scope = Scope::parse(credential).ok_or_else(|| incomplete("a valid 'Credential'"))?;
    check_scope(&scope, &amz_date, is_global_sts(headers))?;
    check_skew(time, now)?;
    let signed_headers: Vec<&str> = signed_headers.split(';').collect();
    if !signed_headers.contains(&"host") {
        return Err(AuthError::Incomplete(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.".to_owned(),
        ));
    }
    let s3 = scope.service == "s3";
    let payload_hash = payload_hash(headers, body, s3)?;
    let canonical = canonical_request(parts, &signed_headers, &payload_hash, s3);
    let key = signing_key(secret, &scope);
    let string_to_sign = format!(
        "{ALGORITHM}\n{amz_date}\n{}\n{}",
        scope.text(),
        sha256_hex(canonical.as_bytes())
    );
    match hex::encode(hmac(&key, string_to_sign.as_bytes())) == signature {
        true => Ok(()),
        false => Err(AuthError::Signature),
    }
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// The request's time from `X-Amz-Date`, or from `Date` when there is none, and its text as the
/// string to sign holds it.
fn request_time(headers: &HeaderMap) -> Option<(DateTime<Utc>, String)> {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let time = match header("x-amz-date") {
        Some(text) => NaiveDateTime::parse_from_str(text, AMZ_DATE)
            .ok()?
            .and_utc(),
        None => DateTime::parse_from_rfc2822(header("date")?)
            .ok()?
            .with_timezone(&Utc),
    };
    Some((time, time.format(AMZ_DATE).to_string()))
}

/// Whether the request went to STS's global endpoint, `sts.amazonaws.com`. With one loopback
/// endpoint for everything, only the `Host` header can say so: a client that wants to play the
/// global endpoint sends that host.
pub fn is_global_sts(headers: &HeaderMap) -> bool {
    headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .map(|host| host.split(':').next().unwrap_or_default())
        .is_some_and(|host| host.eq_ignore_ascii_case("sts.amazonaws.com"))
}

/// The scope's date must be the request's, its region a region of the `aws` partition, and
/// us-east-1 on STS's global endpoint (the only region it serves).
fn check_scope(scope: &Scope, amz_date: &str, global_sts: bool) -> Result<(), AuthError> {
    let date = &amz_date[..8];
    if scope.date != date {
        return Err(AuthError::Scope(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{date}', from '{amz_date}'.",
            scope.date
        )));
    }
    if !is_region(scope.region) || (global_sts && scope.region != "us-east-1") {
        return Err(AuthError::Scope(format!(
            "Credential should be scoped to a valid region, not '{}'. ",
            scope.region
        )));
    }
    Ok(())
}

/// A name the `aws` partition's region pattern admits (`^(us|eu|ap|sa|ca|me|af|il|mx)\-\w+\-\d+$`,
/// botocore's `partitions.json`): what the SDKs' endpoint rules take for a region of that
/// partition. With one endpoint for every region, the emulator cannot tell the real ones from
/// names of that shape.
pub(crate) fn is_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    let word = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    match parts[..] {
        [area, name, number] => {
            ["us", "eu", "ap", "sa", "ca", "me", "af", "il", "mx"].contains(&area)
                && word(name)
                && !number.is_empty()
                && number.chars().all(|c| c.is_ascii_digit())
        }
        _ => false,
    }
}

/// AWS refuses requests signed more than 5 minutes before or after its own time.
fn check_skew(time: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), AuthError> {
    let shown = |t: DateTime<Utc>| t.format(AMZ_DATE).to_string();
    if time < now - MAX_SKEW {
        return Err(AuthError::Skewed(format!(
            "Signature expired: {} is now earlier than {} ({} - 5 min.)",
            shown(time),
            shown(now - MAX_SKEW),
            shown(now)
        )));
    }
    if time > now + MAX_SKEW {
        return Err(AuthError::Skewed(format!(
            "Signature not yet current: {} is still later than {} ({} + 5 min.)",
            shown(time),
            shown(now + MAX_SKEW),
            shown(now)
        )));
    }
    Ok(())
}

/// `x-amz-content-sha256` when sent (`UNSIGNED-PAYLOAD`, or the body's hash, which it must
/// be), else the hash of the body as it arrived: compressed bodies are signed compressed. S3
/// requires the header ("Authenticating Requests (AWS Signature Version 4)", Amazon S3 API
/// reference); its `aws-chunked` values (`STREAMING-...`) and SigV4a's are not emulated.
fn payload_hash(headers: &HeaderMap, body: &[u8], s3: bool) -> Result<String, AuthError> {
    let claimed = headers
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok());
    match claimed {
        None if s3 => Err(AuthError::MissingContentSha256),
        None => Ok(sha256_hex(body)),
        Some(UNSIGNED_PAYLOAD) => Ok(UNSIGNED_PAYLOAD.to_owned()),
        // S3's wording: other services document nothing for a wrong payload hash.
        Some(claimed) if claimed != sha256_hex(body) => Err(AuthError::PayloadHash(
            "The provided 'x-amz-content-sha256' header does not match what was computed."
                .to_owned(),
        )),
        Some(claimed) => Ok(claimed.to_owned()),
    }
}

/// The canonical request: method, URI, query, the signed headers and the payload hash.
fn canonical_request(
    parts: &Parts,
    signed_headers: &[&str],
    payload_hash: &str,
    s3: bool,
) -> String {
    let headers: String = signed_headers
        .iter()
        .map(|name| format!("{name}:{}\n", header_values(&parts.headers, name)))
        .collect();
    // S3 signs the path as sent (encoded once, not normalized); every other service signs it
    // normalized and encoded once more ("Create a canonical request", IAM User Guide).
    let uri = match (s3, parts.uri.path()) {
        (true, "") => "/".to_owned(),
        (true, path) => path.to_owned(),
        (false, path) => canonical_uri(path),
    };
    format!(
        "{}\n{uri}\n{}\n{headers}\n{}\n{payload_hash}",
        parts.method,
        canonical_query(parts.uri.query().unwrap_or_default()),
        signed_headers.join(";"),
    )
}

/// The path with dot segments and empty segments removed, then URI-encoded again.
fn canonical_uri(path: &str) -> String {
    let segments: Vec<&str> = path.split('/').fold(Vec::new(), |mut kept, segment| {
        match segment {
            "" | "." => {}
            ".." => {
                kept.pop();
            }
            segment => kept.push(segment),
        }
        kept
    });
    let trailing = path.len() > 1 && path.ends_with('/');
    let mut uri = format!("/{}", segments.join("/"));
    if trailing && !segments.is_empty() {
        uri.push('/');
    }
    uri.split('/').map(uri_encode).collect::<Vec<_>>().join("/")
}

/// Parameters decoded, then each name and value URI-encoded, sorted by name and then value.
fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> =
        serde_urlencoded::from_str::<Vec<(String, String)>>(query)
            .unwrap_or_default()
            .iter()
            .map(|(name, value)| (uri_encode(name), uri_encode(value)))
            .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Every value of the header, trimmed, inner runs of spaces made one, joined by commas.
fn header_values(headers: &HeaderMap, name: &str) -> String {
    headers
        .get_all(name)
        .iter()
        .map(|value| {
            String::from_utf8_lossy(value.as_bytes())
                .split(' ')
                .filter(|word| !word.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Percent-encodes every byte but the unreserved characters (`A-Z a-z 0-9 - _ . ~`).
pub(crate) fn uri_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            b => format!("%{b:02X}"),
        })
        .collect()
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
fn signing_key(secret: &str, scope: &Scope) -> Vec<u8> {
    [scope.date, scope.region, scope.service, "aws4_request"]
        .iter()
        .fold(format!("AWS4{secret}").into_bytes(), |key, part| {
            hmac(&key, part.as_bytes())
        })
}

#[cfg(test)]
mod tests {
    use axum::http::Request;

    use super::*;

    /// AWS's own example ("Signature Version 4 test suite", `get-vanilla`): a GET of `/` to
    /// `example.amazonaws.com`, service `service`, signed at 20150830T123600Z.
    fn vanilla(authorization: &str) -> Parts {
        let (parts, ()) = Request::get("/")
            .header("host", "example.amazonaws.com")
            .header("x-amz-date", "20150830T123600Z")
            .header("authorization", authorization)
            .body(())
            .unwrap()
            .into_parts();
        parts
    }

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const VANILLA: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";

    fn at(text: &str) -> DateTime<Utc> {
        NaiveDateTime::parse_from_str(text, AMZ_DATE)
            .unwrap()
            .and_utc()
    }

    #[test]
    fn the_test_suite_example_verifies() {
        let parts = vanilla(VANILLA);
        assert_eq!(
            Signer::from_headers(&parts.headers),
            Some(Signer {
                access_key_id: "AKIDEXAMPLE".into(),
                region: "us-east-1".into(),
                service: "service".into()
            })
        );
        assert_eq!(verify(&parts, b"", SECRET, at("20150830T123600Z")), Ok(()));
        assert_eq!(
            verify(&parts, b"", "another secret", at("20150830T123600Z")),
            Err(AuthError::Signature)
        );
        assert_eq!(
            verify(&parts, b"a body", SECRET, at("20150830T123600Z")),
            Err(AuthError::Signature)
        );
    }

    #[test]
    fn clock_skew_of_five_minutes_either_way() {
        let parts = vanilla(VANILLA);
        assert!(verify(&parts, b"", SECRET, at("20150830T124100Z")).is_ok());
        let late = verify(&parts, b"", SECRET, at("20150830T124101Z")).unwrap_err();
        assert_eq!(
            late.to_string(),
            "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z (20150830T124101Z - 5 min.)"
        );
        let early = verify(&parts, b"", SECRET, at("20150830T123059Z")).unwrap_err();
        assert!(early.to_string().starts_with("Signature not yet current"));
    }

    #[test]
    fn scope_and_parts_are_checked() {
        let now = at("20150830T123600Z");
        let wrong_date = VANILLA.replace("/20150830/", "/20150829/");
        let error = verify(&vanilla(&wrong_date), b"", SECRET, now).unwrap_err();
        assert!(
            error.to_string().contains("'20150829' != '20150830'"),
            "{error}"
        );
        let wrong_region = VANILLA.replace("us-east-1", "moon-1");
        let error = verify(&vanilla(&wrong_region), b"", SECRET, now).unwrap_err();
        assert_eq!(
            error.to_string(),
            "Credential should be scoped to a valid region, not 'moon-1'. "
        );
        let unsigned = VANILLA.replace(", Signature=", ", Sig=");
        let error = verify(&vanilla(&unsigned), b"", SECRET, now).unwrap_err();
        assert!(matches!(error, AuthError::Incomplete(_)), "{error:?}");
        assert_eq!(
            error.api_error(Protocol::AwsJson11).code,
            "IncompleteSignatureException"
        );
        let no_host = VANILLA.replace("host;x-amz-date", "x-amz-date");
        assert!(matches!(
            verify(&vanilla(&no_host), b"", SECRET, now),
            Err(AuthError::Incomplete(_))
        ));
    }

    #[test]
    fn canonical_pieces() {
        assert_eq!(canonical_uri("/a/./b/../c//d%20e/"), "/a/c/d%2520e/");
        assert_eq!(canonical_uri(""), "/");
        assert_eq!(canonical_query("b=2&a=x%20y&a=1"), "a=1&a=x%20y&b=2");
        let mut headers = HeaderMap::new();
        headers.append("x-a", "  one   two ".parse().unwrap());
        headers.append("x-a", "three".parse().unwrap());
        assert_eq!(header_values(&headers, "x-a"), "one two,three");
        assert!(is_region("us-east-1") && is_region("ap-southeast-7") && is_region("us-e2e-12"));
        assert!(!is_region("e2e-1") && !is_region("aws-global") && !is_region("us-gov-west-1"));
    }

    #[test]
    fn s3_signs_the_path_as_sent_and_needs_the_payload_hash() {
        let (mut parts, ()) = Request::get("/b/runs/date%3D2026-12-02/a%20b.json?x-id=GetObject")
            .header("host", "localhost")
            .body(())
            .unwrap()
            .into_parts();
        let canonical = canonical_request(&parts, &["host"], UNSIGNED_PAYLOAD, true);
        assert!(
            canonical.starts_with("GET\n/b/runs/date%3D2026-12-02/a%20b.json\nx-id=GetObject\n"),
            "{canonical}"
        );
        assert_eq!(
            payload_hash(&parts.headers, b"", true),
            Err(AuthError::MissingContentSha256)
        );
        // aws-chunked bodies are not emulated: their payload hashes are wrong ones, for S3 too.
        for streaming in [
            "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        ] {
            parts
                .headers
                .insert("x-amz-content-sha256", streaming.parse().unwrap());
            let code = |s3, protocol| {
                payload_hash(&parts.headers, b"", s3)
                    .unwrap_err()
                    .api_error(protocol)
                    .code
            };
            assert_eq!(
                code(false, Protocol::AwsJson11),
                "InvalidSignatureException"
            );
            assert_eq!(code(true, Protocol::RestXml), "XAmzContentSHA256Mismatch");
        }
        assert_eq!(
            AuthError::Signature.api_error(Protocol::RestXml).code,
            "SignatureDoesNotMatch"
        );
    }
}

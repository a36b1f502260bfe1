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
//! Checked in this order; the answers differ by protocol (query: STS, IAM; JSON: Organizations, and
//! CloudWatch's JSON 1.0 and CBOR clients, whose choice AWS does not document; restJson1
//! (Scheduler, Security Hub): the JSON codes with status 403, our assumption, as API Gateway-style
//! front ends answer; S3: its own codes, "Error responses", S3 API reference):
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

mod canonical;
mod errors;

use axum::http::HeaderMap;
use axum::http::request::Parts;
use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};

pub(crate) use canonical::uri_encode;
use canonical::{canonical_request, hmac, sha256_hex, signing_key};
pub use errors::AuthError;

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

#[cfg(test)]
mod tests {
    use axum::http::Request;

    use super::*;
    use crate::protocol::Protocol;

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

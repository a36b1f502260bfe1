//! The canonical request and the signature's building blocks ("Create a canonical request" and
//! "Calculate the signature", IAM User Guide): the URI, query and headers as signed, SigV4's
//! percent-encoding, the signing key, HMAC and SHA-256.

use axum::http::HeaderMap;
use axum::http::request::Parts;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use super::Scope;

/// The canonical request: method, URI, query, the signed headers and the payload hash.
pub(super) fn canonical_request(
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

pub(super) fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
pub(super) fn signing_key(secret: &str, scope: &Scope) -> Vec<u8> {
    [scope.date, scope.region, scope.service, "aws4_request"]
        .iter()
        .fold(format!("AWS4{secret}").into_bytes(), |key, part| {
            hmac(&key, part.as_bytes())
        })
}

pub(super) fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_pieces() {
        assert_eq!(canonical_uri("/a/./b/../c//d%20e/"), "/a/c/d%2520e/");
        assert_eq!(canonical_uri(""), "/");
        assert_eq!(canonical_query("b=2&a=x%20y&a=1"), "a=1&a=x%20y&b=2");
        let mut headers = HeaderMap::new();
        headers.append("x-a", "  one   two ".parse().unwrap());
        headers.append("x-a", "three".parse().unwrap());
        assert_eq!(header_values(&headers, "x-a"), "one two,three");
    }
}

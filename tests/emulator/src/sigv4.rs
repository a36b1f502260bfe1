//! Who is calling which service, read from the SigV4 `Authorization` header. Signatures are not
//! checked: the emulator trusts loopback callers, it only needs to tell them apart.

use axum::http::HeaderMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer {
    pub access_key_id: String,
    /// The credential scope's service: `sts`, `iam`, `organizations`, `monitoring`, ...
    pub service: String,
}

impl Signer {
    /// From `AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, SignedHeaders=..`.
    pub fn from_headers(headers: &HeaderMap) -> Option<Signer> {
        let value = headers.get("authorization")?.to_str().ok()?;
        let credential = value
            .split([' ', ','])
            .find_map(|part| part.trim().strip_prefix("Credential="))?;
        let mut scope = credential.split('/');
        let access_key_id = scope.next()?.to_owned();
        let service = scope.nth(2)?.to_owned();
        (!access_key_id.is_empty() && scope.next() == Some("aws4_request")).then_some(Signer {
            access_key_id,
            service,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_credential_scope() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250315/us-east-1/iam/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature=abc"
                .parse()
                .unwrap(),
        );
        assert_eq!(
            Signer::from_headers(&headers),
            Some(Signer {
                access_key_id: "AKIDEXAMPLE".into(),
                service: "iam".into()
            })
        );
        headers.insert("authorization", "Bearer x".parse().unwrap());
        assert_eq!(Signer::from_headers(&headers), None);
    }
}

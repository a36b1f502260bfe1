//! S3's `aws-chunked` bodies: `hex-size[;chunk-signature=SIG]\r\n DATA \r\n` chunks, a final
//! chunk of size 0, then trailing headers (`x-amz-checksum-crc32:VALUE\r\n`, and
//! `x-amz-trailer-signature:SIG\r\n` when the trailer is signed) and an empty line. See
//! "Signature calculations for the Authorization header: Transferring payload in multiple chunks
//! (chunked upload)" and "Using trailing checksums" in the Amazon S3 API reference.

/// One chunk; the final, empty chunk included (it is signed too).
#[derive(Debug, PartialEq, Eq)]
pub struct Chunk<'a> {
    pub data: &'a [u8],
    pub signature: Option<&'a str>,
}

/// A parsed `aws-chunked` body.
#[derive(Debug, PartialEq, Eq)]
pub struct Chunked<'a> {
    pub chunks: Vec<Chunk<'a>>,
    /// Trailing headers, names lowercased, in order, without the trailer signature.
    pub trailers: Vec<(String, String)>,
    pub trailer_signature: Option<&'a str>,
}

impl Chunked<'_> {
    /// The payload: every chunk's data, joined.
    pub fn payload(&self) -> Vec<u8> {
        self.chunks.iter().flat_map(|c| c.data).copied().collect()
    }

    /// The trailing headers as the trailer signature covers them: `name:value\n` each.
    pub fn canonical_trailers(&self) -> String {
        self.trailers
            .iter()
            .map(|(name, value)| format!("{name}:{value}\n"))
            .collect()
    }
}

/// Parses `body`; `Err` says what is malformed.
pub fn parse(body: &[u8]) -> Result<Chunked<'_>, String> {
    let mut rest = body;
    let mut chunks = Vec::new();
    loop {
        let (line, after) = line(rest).ok_or("a chunk header is not terminated by CRLF")?;
        let (size, signature) = match line.split_once(';') {
            Some((size, extension)) => (
                size,
                Some(
                    extension
                        .strip_prefix("chunk-signature=")
                        .ok_or_else(|| format!("unknown chunk extension {extension:?}"))?,
                ),
            ),
            None => (line, None),
        };
        let size = usize::from_str_radix(size.trim(), 16)
            .map_err(|_| format!("chunk size {size:?} is not hexadecimal"))?;
        if size == 0 {
            chunks.push(Chunk {
                data: &[],
                signature,
            });
            rest = after;
            break;
        }
        let data = after
            .get(..size)
            .ok_or("a chunk is shorter than its size")?;
        rest = after[size..]
            .strip_prefix(b"\r\n")
            .ok_or("a chunk's data is not followed by CRLF")?;
        chunks.push(Chunk { data, signature });
    }
    let (trailers, trailer_signature) = trailers(rest)?;
    Ok(Chunked {
        chunks,
        trailers,
        trailer_signature,
    })
}

/// The trailing headers after the final chunk, up to the empty line that ends the body.
type Trailers<'a> = (Vec<(String, String)>, Option<&'a str>);

fn trailers(mut rest: &[u8]) -> Result<Trailers<'_>, String> {
    let mut trailers = Vec::new();
    let mut signature = None;
    // SDKs end the body with the empty line; a body that stops right after the trailers is
    // accepted too.
    while !rest.is_empty() {
        let (line, after) = line(rest).ok_or("a trailer is not terminated by CRLF")?;
        rest = after;
        if line.is_empty() {
            break;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("trailer {line:?} is not name:value"))?;
        let name = name.trim().to_ascii_lowercase();
        match name.as_str() {
            "x-amz-trailer-signature" => signature = Some(value.trim()),
            _ => trailers.push((name, value.trim().to_owned())),
        }
    }
    if !rest.is_empty() {
        return Err("bytes follow the end of the chunked body".to_owned());
    }
    Ok((trailers, signature))
}

/// The text before the next CRLF, and what follows it.
fn line(bytes: &[u8]) -> Option<(&str, &[u8])> {
    let end = bytes.windows(2).position(|w| w == b"\r\n")?;
    Some((std::str::from_utf8(&bytes[..end]).ok()?, &bytes[end + 2..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsigned_body_with_a_trailing_checksum() {
        let body = b"5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
        let parsed = parse(body).unwrap();
        assert_eq!(parsed.payload(), b"hello world");
        assert_eq!(parsed.chunks.len(), 3);
        assert_eq!(
            parsed.trailers,
            [("x-amz-checksum-crc32".to_owned(), "DUoRhQ==".to_owned())]
        );
        assert_eq!(
            parsed.canonical_trailers(),
            "x-amz-checksum-crc32:DUoRhQ==\n"
        );
        assert_eq!(parsed.trailer_signature, None);
    }

    #[test]
    fn signed_chunks_and_malformed_bodies() {
        let body = b"3;chunk-signature=aa\r\nabc\r\n0;chunk-signature=bb\r\n\r\n";
        let parsed = parse(body).unwrap();
        assert_eq!(parsed.chunks[0].signature, Some("aa"));
        assert_eq!(
            parsed.chunks[1],
            Chunk {
                data: b"",
                signature: Some("bb")
            }
        );
        for bad in [
            &b"5\r\nhell"[..],
            b"zz\r\nhello\r\n0\r\n\r\n",
            b"5\r\nhello0\r\n\r\n",
            b"0\r\n\r\nextra",
            b"3;foo=1\r\nabc\r\n0\r\n\r\n",
        ] {
            assert!(parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}

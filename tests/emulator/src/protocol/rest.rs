//! What the REST protocols (`restJson1`: Scheduler, Security Hub; `restXml`: S3) share: each
//! operation is a method and a URI template, and its input members come from the path's labels,
//! the query string, headers and the body, as the service's model binds them (botocore's
//! `service-2.json`: `"http": {"method", "requestUri"}` and each member's `location` /
//! `locationName`).

use axum::http::request::Parts;

use super::Input;
use crate::error::ApiError;
use crate::services::Service;

/// One operation's HTTP binding.
#[derive(Debug)]
pub struct Route {
    pub operation: &'static str,
    pub method: &'static str,
    /// `/schedules/{Name}`, `/{Bucket}/{Key+}` (`+`: the label takes the rest of the path);
    /// `?name=value` after the path: a query literal the request must carry
    /// (`/{Bucket}?list-type=2`).
    pub uri: &'static str,
    /// Query parameters and the members they fill: `(query name, member)`.
    pub query: &'static [(&'static str, &'static str)],
    /// Headers and the members they fill; a name ending in `-` (`x-amz-meta-`) fills a map
    /// member with every header of that prefix, as botocore's `"location": "headers"`.
    pub headers: &'static [(&'static str, &'static str)],
}

/// Query parameters a client may add to any route without its meaning changing: the Rust SDK
/// names the operation in `x-id` (`?x-id=PutObject`).
const IGNORED_QUERY: [&str; 1] = ["x-id"];

/// The first route a request fits and its input from the path, query and headers (the body is
/// the protocol's). A query parameter no route binds makes the request another operation (S3's
/// `?uploadId=..&partNumber=..` is UploadPart, not PutObject): no route then.
pub fn route(
    service: Service,
    routes: &'static [Route],
    parts: &Parts,
) -> Result<(&'static Route, Input), ApiError> {
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(parts.uri.query().unwrap_or_default()).unwrap_or_default();
    let path = parts.uri.path();
    let unknown = || service.unknown_operation(&format!("{} {path}", parts.method));
    for route in routes.iter().filter(|r| r.method == parts.method.as_str()) {
        let (template, literal) = match route.uri.split_once('?') {
            Some((template, literal)) => (template, literal.split_once('=')),
            None => (route.uri, None),
        };
        let Some(labels) = match_path(template, path) else {
            continue;
        };
        let literal_present =
            literal.is_none_or(|(name, value)| query.iter().any(|(n, v)| n == name && v == value));
        let all_known = query.iter().all(|(name, _)| {
            IGNORED_QUERY.contains(&name.as_str())
                || literal.is_some_and(|(literal, _)| literal == name)
                || route.query.iter().any(|(bound, _)| bound == name)
        });
        if !literal_present || !all_known {
            continue;
        }
        let mut input = Input::default();
        for (member, value) in labels {
            input.set(member, percent_decode(&value).ok_or_else(unknown)?);
        }
        bind_query(&mut input, route, &query);
        bind_headers(&mut input, route, &parts.headers);
        return Ok((route, input));
    }
    Err(unknown())
}

/// The labels of `path` if it fits `template`; a trailing `/` is the same path. Labels keep
/// their percent-encoding here.
fn match_path(template: &'static str, path: &str) -> Option<Vec<(&'static str, String)>> {
    let path = match path.strip_suffix('/') {
        Some(trimmed) if !trimmed.is_empty() && !template.ends_with("+}") => trimmed,
        _ => path,
    };
    let wanted: Vec<&'static str> = template.trim_start_matches('/').split('/').collect();
    // The last piece keeps any further `/`: a greedy label takes it, a plain one refuses it.
    let given: Vec<&str> = path
        .trim_start_matches('/')
        .splitn(wanted.len(), '/')
        .collect();
    if given.len() != wanted.len() {
        return None;
    }
    let mut labels = Vec::new();
    for (want, got) in wanted.into_iter().zip(given) {
        match want.strip_prefix('{').and_then(|l| l.strip_suffix('}')) {
            Some(greedy) if greedy.ends_with('+') && !got.is_empty() => {
                labels.push((greedy.trim_end_matches('+'), got.to_owned()));
            }
            Some(label) if !label.ends_with('+') && !got.is_empty() && !got.contains('/') => {
                labels.push((label, got.to_owned()));
            }
            None if want == got => {}
            _ => return None,
        }
    }
    Some(labels)
}

fn bind_query(input: &mut Input, route: &Route, query: &[(String, String)]) {
    for (name, member) in route.query {
        if let Some((_, value)) = query.iter().find(|(n, _)| n == name) {
            input.set(member, value.clone());
        }
    }
}

fn bind_headers(input: &mut Input, route: &Route, headers: &axum::http::HeaderMap) {
    for (name, member) in route.headers {
        if name.ends_with('-') {
            let map: serde_json::Map<String, serde_json::Value> = headers
                .iter()
                .filter_map(|(header, value)| {
                    let key = header.as_str().strip_prefix(name)?;
                    Some((key.to_owned(), value.to_str().ok()?.into()))
                })
                .collect();
            if !map.is_empty() {
                input.set(member, map);
            }
        } else if let Some(value) = headers.get(*name).and_then(|v| v.to_str().ok()) {
            input.set(member, value.to_owned());
        }
    }
}

/// `%XX` escapes decoded; `None` when they do not make UTF-8.
pub fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use axum::http::Request;

    use super::*;

    const ROUTES: &[Route] = &[
        Route {
            operation: "ListSchedules",
            method: "GET",
            uri: "/schedules/list/all",
            query: &[],
            headers: &[],
        },
        Route {
            operation: "ListObjectsV2",
            method: "GET",
            uri: "/{Bucket}?list-type=2",
            query: &[("prefix", "Prefix")],
            headers: &[],
        },
        Route {
            operation: "GetObject",
            method: "GET",
            uri: "/{Bucket}/{Key+}",
            query: &[],
            headers: &[("x-amz-meta-", "Metadata"), ("range", "Range")],
        },
    ];

    fn routed(uri: &str) -> Result<(&'static str, Input), ApiError> {
        let (parts, ()) = Request::get(uri)
            .header("x-amz-meta-owner", "me")
            .body(())
            .unwrap()
            .into_parts();
        route(Service::Scheduler, ROUTES, &parts).map(|(r, input)| (r.operation, input))
    }

    #[test]
    fn labels_literals_query_and_headers() {
        let (op, input) = routed("/b/runs/date%3D2026-12-02/x%20y.json?x-id=GetObject").unwrap();
        assert_eq!(op, "GetObject");
        assert_eq!(input.str("Bucket"), Some("b"));
        assert_eq!(input.str("Key"), Some("runs/date=2026-12-02/x y.json"));
        let metadata = input.get("Metadata").unwrap();
        assert_eq!(metadata, &serde_json::json!({"owner": "me"}));
        let (op, input) = routed("/b/?list-type=2&prefix=runs%2F").unwrap();
        assert_eq!((op, input.str("Prefix")), ("ListObjectsV2", Some("runs/")));
        assert!(routed("/b?list-type=1").is_err());
        assert!(routed("/b/k?uploadId=1&partNumber=2").is_err());
        assert!(routed("/b/").is_err());
        assert_eq!(routed("/schedules/list/all").unwrap().0, "ListSchedules");
        assert_eq!(routed("/schedules/list").unwrap().0, "GetObject");
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%3Db%2Fc").as_deref(), Some("a=b/c"));
        assert_eq!(percent_decode("%E2%82%AC").as_deref(), Some("€"));
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%FF"), None);
    }
}

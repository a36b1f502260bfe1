//! The `awsQuery` protocol (STS, IAM): form-encoded requests, XML replies. The one XML builder and the one response/error envelope STS and IAM share.

use std::fmt::{Display, Write};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::Input;
use crate::error::ApiError;

pub const CONTENT_TYPE: &str = "text/xml";

/// Turns `Action=X&A.b=1` into `("X", {"A": {"b": "1"}})`: the same tree shape the JSON protocols
/// send, so services read every protocol alike. Lists (`L.member.1`) are not read: no query
/// request a client here sends has one (CloudWatch's, which had, is not served over query).
pub fn decode(body: &[u8]) -> Result<(String, Value), ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|e| ApiError::validation(format!("malformed form body: {e}")))?;
    let mut action = None;
    let mut tree = Value::Object(Map::new());
    for (key, value) in pairs {
        match key.as_str() {
            "Action" => action = Some(value),
            "Version" => {}
            _ => {
                let path: Vec<&str> = key.split('.').collect();
                insert(&mut tree, &path, value);
            }
        }
    }
    let action = action.ok_or_else(|| ApiError::validation("Request is missing Action"))?;
    Ok((action, tree))
}

fn insert(node: &mut Value, path: &[&str], value: String) {
    let [name, rest @ ..] = path else {
        *node = Value::String(value);
        return;
    };
    if !node.is_object() {
        *node = Value::Object(Map::new());
    }
    if let Some(object) = node.as_object_mut() {
        insert(object.entry(*name).or_insert(Value::Null), rest, value);
    }
}

/// A required string parameter, or the ValidationError STS and IAM answer without it.
pub fn required<'a>(input: &'a Input, name: &str) -> Result<&'a str, ApiError> {
    input.str(name).ok_or_else(|| {
        let mut member = name.to_owned();
        member[..1].make_ascii_lowercase();
        ApiError::validation(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ))
    })
}

/// An XML fragment under construction. Text is escaped; element names are ours and trusted.
#[derive(Debug, Default)]
pub struct Xml(String);

impl Xml {
    pub fn new() -> Self {
        Self::default()
    }

    /// `<name>text</name>`
    pub fn text(mut self, name: &str, text: impl Display) -> Self {
        let _ = write!(self.0, "<{name}>{}</{name}>", escape(&text.to_string()));
        self
    }

    /// Bare text, for lists of strings (`<member>text</member>`).
    pub fn content(mut self, text: impl Display) -> Self {
        self.0.push_str(&escape(&text.to_string()));
        self
    }

    /// `<name>text</name>` when there is a value, nothing otherwise.
    pub fn optional(self, name: &str, text: Option<impl Display>) -> Self {
        match text {
            Some(text) => self.text(name, text),
            None => self,
        }
    }

    /// An ISO 8601 UTC date, as AWS writes them (`2025-03-15T10:23:45Z`).
    pub fn date(self, name: &str, date: DateTime<Utc>) -> Self {
        self.text(name, iso8601(date))
    }

    pub fn child(mut self, name: &str, child: Xml) -> Self {
        let _ = write!(self.0, "<{name}>{}</{name}>", child.0);
        self
    }

    /// A list: `<name><member>...</member>...</name>`.
    pub fn list(self, name: &str, members: impl IntoIterator<Item = Xml>) -> Self {
        let inner = members
            .into_iter()
            .fold(Xml::new(), |list, member| list.child("member", member));
        self.child(name, inner)
    }

    /// A whole document: the XML declaration and `<root>` (with `xmlns` when given) around this.
    pub fn document(self, root: &str, namespace: Option<&str>) -> String {
        let xmlns = namespace
            .map(|ns| format!(" xmlns=\"{ns}\""))
            .unwrap_or_default();
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{root}{xmlns}>{}</{root}>",
            self.0
        )
    }

    /// A map: `<name><entry><key/><value/></entry>...</name>`.
    pub fn map<V: Display>(
        self,
        name: &str,
        entries: impl IntoIterator<Item = (&'static str, V)>,
    ) -> Self {
        let inner = entries.into_iter().fold(Xml::new(), |map, (key, value)| {
            map.child("entry", Xml::new().text("key", key).text("value", value))
        });
        self.child(name, inner)
    }
}

pub fn iso8601(date: DateTime<Utc>) -> String {
    date.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `<OpResponse xmlns=..><OpResult>..</OpResult><ResponseMetadata>..</ResponseMetadata></OpResponse>`;
/// operations without output members have no `OpResult`.
pub fn response(operation: &str, namespace: &str, result: Option<Xml>, request_id: &str) -> String {
    let result = result
        .map(|xml| format!("<{operation}Result>{}</{operation}Result>", xml.0))
        .unwrap_or_default();
    format!(
        "<{operation}Response xmlns=\"{namespace}\">{result}<ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></{operation}Response>",
        escape(request_id)
    )
}

/// `<ErrorResponse xmlns=..><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`,
/// in the service's namespace as IAM and STS send it (for example the IAM API reference's
/// "Common Errors" samples); without a namespace when the service is unknown.
pub fn error(error: &ApiError, namespace: &str, request_id: &str) -> String {
    let inner = Xml::new()
        .text("Type", error.fault_type())
        .text("Code", &error.code)
        .text("Message", &error.message);
    let xmlns = match namespace {
        "" => String::new(),
        namespace => format!(" xmlns=\"{namespace}\""),
    };
    format!(
        "<ErrorResponse{xmlns}><Error>{}</Error><RequestId>{}</RequestId></ErrorResponse>",
        inner.0,
        escape(request_id)
    )
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Keep line breaks in certificate bodies; other control characters are not valid XML 1.0.
            '\n' | '\r' | '\t' => out.push(c),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "&#x{:X};", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn form_becomes_a_tree() {
        let body = b"Action=AssumeRoot&Version=2011-06-15&TargetPrincipal=111111111111\
            &TaskPolicyArn.arn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2Froot-task%2FIAMAuditRootUserCredentials";
        let (action, tree) = decode(body).unwrap();
        assert_eq!(action, "AssumeRoot");
        assert_eq!(
            tree,
            json!({
                "TargetPrincipal": "111111111111",
                "TaskPolicyArn": {"arn": "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"},
            })
        );
        assert!(decode(b"Version=1").is_err());
    }

    #[test]
    fn xml_is_escaped_and_enveloped() {
        let xml = Xml::new()
            .text("Message", "a<b & \"c\"")
            .list("L", [Xml::new().text("K", 1)]);
        assert_eq!(
            response("Op", "ns", Some(xml), "id"),
            "<OpResponse xmlns=\"ns\"><OpResult><Message>a&lt;b &amp; &quot;c&quot;</Message>\
             <L><member><K>1</K></member></L></OpResult><ResponseMetadata><RequestId>id</RequestId>\
             </ResponseMetadata></OpResponse>"
        );
        let err = ApiError::no_such_entity("x <y>");
        assert_eq!(
            error(&err, "ns", "id"),
            "<ErrorResponse xmlns=\"ns\"><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>x &lt;y&gt;</Message></Error><RequestId>id</RequestId></ErrorResponse>"
        );
    }

    #[test]
    fn required_names_the_member() {
        let message = required(&Input::default(), "AccessKeyId")
            .unwrap_err()
            .message;
        assert!(message.contains("'accessKeyId'"), "{message}");
    }
}

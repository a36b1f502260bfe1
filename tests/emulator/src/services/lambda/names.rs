//! What a request's `FunctionName` and `Qualifier` name, read and checked as the model's
//! patterns and limits have them.

use axum::http::StatusCode;

use super::errors::{pattern_rule, too_long, validation};
use crate::error::ApiError;
use crate::protocol::Input;
use crate::sigv4::is_region;

/// The model's `NamespacedFunctionName` pattern and length limit, as validation errors quote them.
const NAME_PATTERN: &str = r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?";
const NAME_MAX: usize = 256;
/// The model's `NumericLatestPublishedOrAliasQualifier` pattern and length limit.
const QUALIFIER_PATTERN: &str = r"\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+";
const QUALIFIER_MAX: usize = 128;
/// `$LATEST`, `$LATEST.PUBLISHED`, or letters, digits and `others`: a qualifier in the name
/// (`-_`) or in `Qualifier` (`-_$`), as the model's two patterns have it.
fn is_qualifier(qualifier: &str, others: &str) -> bool {
    ["$LATEST", "$LATEST.PUBLISHED"].contains(&qualifier)
        || (!qualifier.is_empty()
            && qualifier
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || others.contains(c)))
}

/// What a `FunctionName` names, read in the order of the model's pattern: an ARN prefix, a
/// region, an account, `function:`, the name, a qualifier (`my-function`, `my-function:v1`,
/// `123456789012:function:my-function`, `arn:aws:lambda:us-west-2:123456789012:function:my-function`).
#[derive(Debug, PartialEq, Eq)]
pub(super) struct FunctionRef<'a> {
    pub(super) region: Option<&'a str>,
    pub(super) account: Option<&'a str>,
    pub(super) name: &'a str,
    pub(super) qualifier: Option<&'a str>,
}

impl<'a> FunctionRef<'a> {
    fn parse(text: &'a str) -> Option<Self> {
        let segments: Vec<&str> = text.split(':').collect();
        let mut rest = &segments[..];
        if let ["arn", partition, "lambda", tail @ ..] = rest
            && (partition.is_empty() || partition.starts_with("aws"))
        {
            rest = tail;
        }
        // An optional segment is taken when more follow it, as the pattern's `(...:)?` does.
        let mut optional = |wanted: &dyn Fn(&str) -> bool| match rest {
            [segment, tail @ ..] if !tail.is_empty() && wanted(segment) => {
                rest = tail;
                Some(*segment)
            }
            _ => None,
        };
        let region = optional(&is_region);
        let account = optional(&|s: &str| s.len() == 12 && s.chars().all(|c| c.is_ascii_digit()));
        optional(&|s: &str| s == "function");
        let (name, qualifier) = match rest {
            [name] => (*name, None),
            [name, qualifier] => (*name, Some(*qualifier)),
            _ => return None,
        };
        let name_ok = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        let qualifier_ok = qualifier.is_none_or(|q| is_qualifier(q, "-_"));
        (name_ok && qualifier_ok).then_some(Self {
            region,
            account,
            name,
            qualifier,
        })
    }
}

/// The function's ARN, with its qualifier when the request named a version.
pub(super) fn function_arn(
    region: &str,
    account: &str,
    name: &str,
    qualifier: Option<&str>,
) -> String {
    let arn = format!("arn:aws:lambda:{region}:{account}:function:{name}");
    match qualifier {
        Some(qualifier) => format!("{arn}:{qualifier}"),
        None => arn,
    }
}

/// The function a request names and the qualifier it asks for, once both are valid: the
/// qualifier may come in the name or in `Qualifier`, not differently in both.
pub(super) fn requested(input: &Input) -> Result<(FunctionRef<'_>, Option<&str>), ApiError> {
    let text = input.str("FunctionName").unwrap_or_default();
    if text.len() > NAME_MAX {
        return Err(too_long(text, "functionName", NAME_MAX));
    }
    let function = FunctionRef::parse(text)
        .ok_or_else(|| validation(text, "functionName", &pattern_rule(NAME_PATTERN)))?;
    let qualifier = match input.str("Qualifier") {
        None => function.qualifier,
        Some(given) => {
            if given.len() > QUALIFIER_MAX {
                return Err(too_long(given, "qualifier", QUALIFIER_MAX));
            }
            if !is_qualifier(given, "-_$") {
                let rule = pattern_rule(QUALIFIER_PATTERN);
                return Err(validation(given, "qualifier", &rule));
            }
            if function.qualifier.is_some_and(|derived| derived != given) {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "InvalidParameterValueException",
                    "The derived qualifier from the function name does not match the specified qualifier.",
                ));
            }
            Some(given)
        }
    };
    Ok((function, qualifier))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named<'a>(
        region: Option<&'a str>,
        account: Option<&'a str>,
        name: &'a str,
        qualifier: Option<&'a str>,
    ) -> Option<FunctionRef<'a>> {
        Some(FunctionRef {
            region,
            account,
            name,
            qualifier,
        })
    }

    #[test]
    fn every_name_format_of_the_model() {
        let parse = FunctionRef::parse;
        let account = Some("111111111111");
        assert_eq!(parse("rootsweep"), named(None, None, "rootsweep", None));
        assert_eq!(
            parse("rootsweep:v1"),
            named(None, None, "rootsweep", Some("v1"))
        );
        assert_eq!(
            parse("111111111111:function:rootsweep"),
            named(None, account, "rootsweep", None)
        );
        assert_eq!(
            parse("arn:aws:lambda:eu-west-1:111111111111:function:rootsweep:$LATEST"),
            named(Some("eu-west-1"), account, "rootsweep", Some("$LATEST"))
        );
        // The older partial form `account-id:Thumbnail`, and a region alone before the name.
        assert_eq!(
            parse("111111111111:rootsweep"),
            named(None, account, "rootsweep", None)
        );
        assert_eq!(
            parse("us-east-1:rootsweep"),
            named(Some("us-east-1"), None, "rootsweep", None)
        );
        for invalid in [
            "",
            "a b",
            "x:y:z",
            "rootsweep:",
            "arn:aws:lambda:us-east-1:1:function:f:v:w",
        ] {
            assert_eq!(parse(invalid), None, "{invalid}");
        }
    }
}

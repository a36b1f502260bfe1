//! IAM policy statements and their evaluation for one identity ("Policy evaluation logic", IAM
//! User Guide, <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html>):
//! an explicit `Deny` wins, else an `Allow` must match the action, the resource and every
//! condition, else the request is implicitly denied.

use serde_json::Value;

use super::PolicyError;

#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    allow: bool,
    /// `Action`, or `NotAction` when `negated_actions`.
    actions: Vec<String>,
    negated_actions: bool,
    resources: Vec<String>,
    negated_resources: bool,
    conditions: Vec<Condition>,
}

/// One key under one operator of a `Condition` block.
#[derive(Debug, Clone, PartialEq)]
struct Condition {
    operator: Operator,
    if_exists: bool,
    key: String,
    values: Vec<String>,
}

/// The condition operators the emulator evaluates ("IAM JSON policy elements: Condition
/// operators", IAM User Guide).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    ArnLike,
    ArnNotLike,
    Bool,
    Null,
}

impl Operator {
    fn parse(name: &str) -> Option<Operator> {
        Some(match name {
            "StringEquals" => Self::StringEquals,
            "StringNotEquals" => Self::StringNotEquals,
            "StringEqualsIgnoreCase" => Self::StringEqualsIgnoreCase,
            "StringNotEqualsIgnoreCase" => Self::StringNotEqualsIgnoreCase,
            "StringLike" => Self::StringLike,
            "StringNotLike" => Self::StringNotLike,
            // "ArnEquals and ArnLike behave identically", as do their negations.
            "ArnLike" | "ArnEquals" => Self::ArnLike,
            "ArnNotLike" | "ArnNotEquals" => Self::ArnNotLike,
            "Bool" => Self::Bool,
            "Null" => Self::Null,
            _ => return None,
        })
    }

    fn negated(self) -> bool {
        matches!(
            self,
            Self::StringNotEquals
                | Self::StringNotEqualsIgnoreCase
                | Self::StringNotLike
                | Self::ArnNotLike
        )
    }

    /// Whether the request's value matches the policy's `wanted` (a positive operator's test).
    fn matches(self, wanted: &str, actual: &str) -> bool {
        match self {
            Self::StringEquals | Self::StringNotEquals | Self::Bool => wanted == actual,
            Self::StringEqualsIgnoreCase | Self::StringNotEqualsIgnoreCase => {
                wanted.eq_ignore_ascii_case(actual)
            }
            Self::StringLike | Self::StringNotLike => glob(wanted, actual, false),
            Self::ArnLike | Self::ArnNotLike => arn_like(wanted, actual),
            Self::Null => unreachable!("Null tests presence, not values"),
        }
    }
}

/// What a request asks for, as policies see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `service:Operation`.
    pub action: String,
    /// An ARN, or `*` for actions without resource-level permissions.
    pub resource: String,
    /// Condition keys and their values (keys compare without regard to case).
    pub context: Vec<(String, String)>,
}

impl Request {
    fn value(&self, key: &str) -> Option<&str> {
        self.context
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(key))
            .map(|(_, value)| value.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    ImplicitDeny,
    ExplicitDeny,
}

/// Evaluates `request` against one identity's statements.
pub fn decide(statements: &[Statement], request: &Request) -> Decision {
    let applies = |statement: &&Statement| statement.applies(request);
    let matching: Vec<&Statement> = statements.iter().filter(applies).collect();
    if matching.iter().any(|s| !s.allow) {
        Decision::ExplicitDeny
    } else if matching.iter().any(|s| s.allow) {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    }
}

impl Statement {
    /// A statement of an identity-based policy document, after intrinsic functions.
    pub fn parse(value: &Value) -> Result<Statement, PolicyError> {
        let invalid = |why: &str| PolicyError::Statement(format!("{why}: {value}"));
        let allow = match value.get("Effect").and_then(Value::as_str) {
            Some("Allow") => true,
            Some("Deny") => false,
            _ => return Err(invalid("Effect must be Allow or Deny")),
        };
        if value.get("Principal").is_some() || value.get("NotPrincipal").is_some() {
            return Err(invalid("an identity-based policy names no Principal"));
        }
        let (actions, negated_actions) = either(value, "Action", "NotAction")
            .ok_or_else(|| invalid("Action or NotAction is required"))?;
        let (resources, negated_resources) = either(value, "Resource", "NotResource")
            .ok_or_else(|| invalid("Resource or NotResource is required"))?;
        let conditions = match value.get("Condition") {
            None => Vec::new(),
            Some(block) => parse_conditions(block).map_err(|why| invalid(&why))?,
        };
        Ok(Statement {
            allow,
            actions,
            negated_actions,
            resources,
            negated_resources,
            conditions,
        })
    }

    fn applies(&self, request: &Request) -> bool {
        let action = self
            .actions
            .iter()
            .any(|pattern| glob(pattern, &request.action, true));
        let resource = self
            .resources
            .iter()
            .any(|pattern| pattern == "*" || arn_like(pattern, &request.resource));
        action != self.negated_actions
            && resource != self.negated_resources
            && self.conditions.iter().all(|c| c.holds(request))
    }
}

impl Condition {
    /// A missing key fails a positive operator and passes a negated one (and any `...IfExists`).
    fn holds(&self, request: &Request) -> bool {
        let actual = request.value(&self.key);
        if self.operator == Operator::Null {
            let absent = actual.is_none();
            return self.values.iter().any(|v| (v == "true") == absent);
        }
        let Some(actual) = actual else {
            return self.if_exists || self.operator.negated();
        };
        let any = self
            .values
            .iter()
            .any(|wanted| self.operator.matches(wanted, actual));
        any != self.operator.negated()
    }
}

/// `Condition: {Operator: {key: value or [values]}}`.
fn parse_conditions(block: &Value) -> Result<Vec<Condition>, String> {
    let operators = block.as_object().ok_or("Condition must be a map")?;
    let mut conditions = Vec::new();
    for (name, keys) in operators {
        let (base, if_exists) = match name.strip_suffix("IfExists") {
            Some(base) => (base, true),
            None => (name.as_str(), false),
        };
        let operator = Operator::parse(base)
            .ok_or_else(|| format!("the condition operator {name} is not supported"))?;
        for (key, values) in keys.as_object().ok_or("a condition operator needs a map")? {
            conditions.push(Condition {
                operator,
                if_exists,
                key: key.clone(),
                values: strings(values).ok_or("condition values must be strings")?,
            });
        }
    }
    Ok(conditions)
}

/// The strings of `Name` or of `NotName` (and whether it was the latter).
fn either(value: &Value, name: &str, not_name: &str) -> Option<(Vec<String>, bool)> {
    match (value.get(name), value.get(not_name)) {
        (Some(items), None) => Some((strings(items)?, false)),
        (None, Some(items)) => Some((strings(items)?, true)),
        _ => None,
    }
}

/// A string or a list of strings; booleans and numbers read as their text, as IAM does.
fn strings(value: &Value) -> Option<Vec<String>> {
    let one = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    match value {
        Value::Array(items) => items.iter().map(one).collect(),
        other => one(other).map(|s| vec![s]),
    }
}

/// `*` matches any run of characters, `?` any one.
fn glob(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let fold = |s: &str| -> Vec<char> {
        match ignore_case {
            true => s.to_lowercase().chars().collect(),
            false => s.chars().collect(),
        }
    };
    let (pattern, text) = (fold(pattern), fold(text));
    let (mut p, mut t) = (0, 0);
    let mut retry: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            retry = Some((p, t));
            p += 1;
        } else if let Some((star, from)) = retry {
            p = star + 1;
            t = from + 1;
            retry = Some((star, from + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// ARN matching: each of the six colon-separated parts is matched on its own, with wildcards.
fn arn_like(pattern: &str, arn: &str) -> bool {
    let pattern: Vec<&str> = pattern.splitn(6, ':').collect();
    let arn: Vec<&str> = arn.splitn(6, ':').collect();
    pattern.len() == 6 && arn.len() == 6 && pattern.iter().zip(&arn).all(|(p, a)| glob(p, a, false))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn request(action: &str, resource: &str, context: &[(&str, &str)]) -> Request {
        Request {
            action: action.to_owned(),
            resource: resource.to_owned(),
            context: context
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn wildcards() {
        assert!(glob("sts:Assume*", "sts:assumeroot", true));
        assert!(!glob("sts:Assume*", "sts:assumeroot", false));
        assert!(glob("a?c*", "abcdef", false) && !glob("a?c", "ac", false));
        assert!(arn_like(
            "arn:aws:iam::*:root",
            "arn:aws:iam::111122223333:root"
        ));
        assert!(!arn_like(
            "arn:aws:iam::*:root",
            "arn:aws:iam::111122223333:user/root"
        ));
        assert!(arn_like(
            "arn:aws:organizations::*:account/o-*/*",
            "arn:aws:organizations::111111111111:account/o-abc/222222222222"
        ));
    }

    #[test]
    fn deny_wins_conditions_and_missing_keys() {
        let statements: Vec<Statement> = [
            json!({"Effect": "Allow", "Action": "sts:AssumeRoot", "Resource": "arn:aws:iam::*:root",
                   "Condition": {"StringEquals": {"sts:TaskPolicyArn": ["a", "b"]}}}),
            json!({"Effect": "Deny", "Action": "sts:*", "Resource": "*",
                   "Condition": {"StringEquals": {"sts:TaskPolicyArn": "b"}}}),
            json!({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*",
                   "Condition": {"StringNotEquals": {"aws:Missing": "x"}, "Null": {"cloudwatch:namespace": "false"}}}),
        ]
        .iter()
        .map(|s| Statement::parse(s).unwrap())
        .collect();
        let assume = |arn| {
            request(
                "sts:AssumeRoot",
                "arn:aws:iam::1:root",
                &[("sts:taskpolicyarn", arn)],
            )
        };
        assert_eq!(decide(&statements, &assume("a")), Decision::Allow);
        assert_eq!(decide(&statements, &assume("b")), Decision::ExplicitDeny);
        assert_eq!(decide(&statements, &assume("c")), Decision::ImplicitDeny);
        let put = |context: &[(&str, &str)]| request("cloudwatch:PutMetricData", "*", context);
        assert_eq!(
            decide(&statements, &put(&[("cloudwatch:namespace", "N")])),
            Decision::Allow
        );
        assert_eq!(decide(&statements, &put(&[])), Decision::ImplicitDeny);
        assert_eq!(
            decide(
                &statements,
                &request("iam:GetUser", "*", &[("cloudwatch:namespace", "N")])
            ),
            Decision::ImplicitDeny
        );
        for bad in [
            json!({"Effect": "Maybe", "Action": "x", "Resource": "*"}),
            json!({"Effect": "Allow", "Resource": "*"}),
            json!({"Effect": "Allow", "Action": "x", "Resource": "*", "Condition": {"DateLessThan": {"k": "v"}}}),
        ] {
            assert!(Statement::parse(&bad).is_err(), "{bad}");
        }
    }
}

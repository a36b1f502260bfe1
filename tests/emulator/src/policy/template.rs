//! The Lambda function role's policy statements, read from a SAM/CloudFormation template: the
//! intrinsic functions its policies use are evaluated with the template's parameters (defaults,
//! then overrides), its conditions, and the pseudo parameters of the caller's account
//! ("Intrinsic function reference" and "Pseudo parameters reference", AWS CloudFormation User
//! Guide, <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html>).

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use serde_yaml_ng::Value as Yaml;

use super::PolicyError;

/// Conditions nest; a template whose conditions go deeper than this has a cycle.
const MAX_CONDITION_DEPTH: usize = 32;

/// Turns YAML into JSON with every short-form tag in its long form (`!Ref X` is
/// `{"Ref": "X"}`, `!Sub s` is `{"Fn::Sub": s}`, `!Condition C` is `{"Condition": "C"}`), so the
/// evaluator reads one form.
pub fn normalize(yaml: Yaml) -> Result<Value, PolicyError> {
    Ok(match yaml {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(b),
        Yaml::Number(n) => serde_json::to_value(n).map_err(|e| invalid(e.to_string()))?,
        Yaml::String(s) => Value::String(s),
        Yaml::Sequence(items) => {
            Value::Array(items.into_iter().map(normalize).collect::<Result<_, _>>()?)
        }
        Yaml::Mapping(entries) => {
            let mut map = Map::new();
            for (key, value) in entries {
                let key = match key {
                    Yaml::String(s) => s,
                    Yaml::Number(n) => n.to_string(),
                    Yaml::Bool(b) => b.to_string(),
                    other => return Err(invalid(format!("mapping key {other:?} is not a string"))),
                };
                map.insert(key, normalize(value)?);
            }
            Value::Object(map)
        }
        Yaml::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!');
            let long = match name {
                "Ref" | "Condition" => name.to_owned(),
                _ => format!("Fn::{name}"),
            };
            let mut map = Map::new();
            map.insert(long, normalize(tagged.value)?);
            Value::Object(map)
        }
    })
}

fn invalid(message: String) -> PolicyError {
    PolicyError::Template(message)
}

/// Evaluates intrinsic functions against one template's parameters and conditions.
pub struct Resolver<'a> {
    /// Parameter and pseudo parameter values, by name.
    values: BTreeMap<String, Value>,
    conditions: Option<&'a Map<String, Value>>,
    resources: Option<&'a Map<String, Value>>,
}

impl<'a> Resolver<'a> {
    pub fn new(template: &'a Value, values: BTreeMap<String, Value>) -> Self {
        let conditions = template.get("Conditions").and_then(Value::as_object);
        let resources = template.get("Resources").and_then(Value::as_object);
        Self {
            values,
            conditions,
            resources,
        }
    }

    /// `value` with every intrinsic function evaluated; `None` for `AWS::NoValue`, which
    /// removes the property or list item that holds it.
    pub fn resolve(&self, value: &Value) -> Result<Option<Value>, PolicyError> {
        match value {
            Value::Array(items) => {
                let mut kept = Vec::new();
                for item in items {
                    kept.extend(self.resolve(item)?);
                }
                Ok(Some(Value::Array(kept)))
            }
            Value::Object(map) => match intrinsic(map) {
                Some((name, argument)) => self.function(name, argument),
                None => {
                    let mut kept = Map::new();
                    for (key, item) in map {
                        if let Some(item) = self.resolve(item)? {
                            kept.insert(key.clone(), item);
                        }
                    }
                    Ok(Some(Value::Object(kept)))
                }
            },
            scalar => Ok(Some(scalar.clone())),
        }
    }

    fn function(&self, name: &str, argument: &Value) -> Result<Option<Value>, PolicyError> {
        match name {
            "Ref" => self.reference(text(argument, "Ref")?),
            "Fn::If" => {
                let [condition, then, otherwise] = arguments::<3>(argument, name)?;
                let branch = match self.condition(text(condition, name)?, 0)? {
                    true => then,
                    false => otherwise,
                };
                self.resolve(branch)
            }
            "Fn::Sub" => self.substitute(argument).map(Some),
            "Fn::GetAtt" => {
                let (resource, attribute) = get_att(argument)?;
                Ok(Some(Value::String(format!("{resource}.{attribute}"))))
            }
            "Fn::Join" => {
                let [delimiter, items] = arguments::<2>(argument, name)?;
                let items = self.resolve(items)?.unwrap_or(Value::Array(Vec::new()));
                let parts = items
                    .as_array()
                    .ok_or_else(|| invalid("Fn::Join needs a list".to_owned()))?
                    .iter()
                    .map(|item| text(item, name).map(str::to_owned))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Some(Value::String(parts.join(text(delimiter, name)?))))
            }
            "Fn::Split" => {
                let [delimiter, source] = arguments::<2>(argument, name)?;
                let source = self.resolve(source)?.unwrap_or(Value::Null);
                let parts = text(&source, name)?.split(text(delimiter, name)?);
                Ok(Some(Value::Array(
                    parts.map(|p| Value::String(p.to_owned())).collect(),
                )))
            }
            "Fn::Select" => {
                let [index, items] = arguments::<2>(argument, name)?;
                let index = self.resolve(index)?.unwrap_or(Value::Null);
                let index: usize = text_of_index(&index)
                    .ok_or_else(|| invalid(format!("Fn::Select needs an index, not {index}")))?;
                let items = self.resolve(items)?.unwrap_or(Value::Null);
                let item = items.as_array().and_then(|items| items.get(index));
                item.cloned()
                    .map(Some)
                    .ok_or_else(|| invalid(format!("Fn::Select index {index} is outside {items}")))
            }
            other => Err(invalid(format!(
                "the intrinsic function {other} is not supported where the role's policies use it"
            ))),
        }
    }

    /// A parameter's value, a pseudo parameter's, a resource's physical name where the test gave
    /// one, or else, for a resource, its logical id (a resource the emulator does not model has
    /// no physical id). A schedule group is the exception: its `Ref` is its `Name`
    /// (AWS::Scheduler::ScheduleGroup, "Return values", CloudFormation template reference), which
    /// the emulator's group of that name then matches.
    fn reference(&self, name: &str) -> Result<Option<Value>, PolicyError> {
        if name == "AWS::NoValue" {
            return Ok(None);
        }
        if let Some(value) = self.values.get(name) {
            return Ok(Some(value.clone()));
        }
        let resource = self.resources.and_then(|resources| resources.get(name));
        if let Some(resource) = resource
            && resource["Type"] == "AWS::Scheduler::ScheduleGroup"
            && let Some(group) = resource.pointer("/Properties/Name")
        {
            return self.resolve(group);
        }
        Ok(Some(Value::String(name.to_owned())))
    }

    /// `Fn::Sub`: `${Name}` from the parameters (or `[string, {Name: value}]`), `${Res.Attr}`
    /// as `Fn::GetAtt`, `${!Literal}` as `${Literal}`.
    fn substitute(&self, argument: &Value) -> Result<Value, PolicyError> {
        let (template, locals) = match argument {
            Value::Array(parts) if parts.len() == 2 => (
                text(&parts[0], "Fn::Sub")?,
                parts[1].as_object().cloned().unwrap_or_default(),
            ),
            other => (text(other, "Fn::Sub")?, Map::new()),
        };
        let mut out = String::new();
        let mut rest = template;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let end = rest[start..]
                .find('}')
                .ok_or_else(|| invalid(format!("unclosed ${{ in Fn::Sub {template:?}")))?;
            let name = &rest[start + 2..start + end];
            match name.strip_prefix('!') {
                Some(literal) => out.push_str(&format!("${{{literal}}}")),
                None => out.push_str(&self.variable(name, &locals)?),
            }
            rest = &rest[start + end + 1..];
        }
        out.push_str(rest);
        Ok(Value::String(out))
    }

    fn variable(&self, name: &str, locals: &Map<String, Value>) -> Result<String, PolicyError> {
        let value = match locals.get(name) {
            Some(local) => self.resolve(local)?,
            None if name.contains('.') && !name.starts_with("AWS::") => {
                Some(Value::String(name.to_owned()))
            }
            None => self.reference(name)?,
        };
        value
            .as_ref()
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| invalid(format!("Fn::Sub variable {name} is not a string")))
    }

    /// The named condition's value, from the `Conditions` section.
    pub fn condition(&self, name: &str, depth: usize) -> Result<bool, PolicyError> {
        let definition = self
            .conditions
            .and_then(|conditions| conditions.get(name))
            .ok_or_else(|| invalid(format!("unknown condition {name}")))?;
        self.truth(definition, depth + 1)
    }

    /// A condition function: `Fn::Equals`, `Fn::Not`, `Fn::And`, `Fn::Or`, `Condition`.
    fn truth(&self, value: &Value, depth: usize) -> Result<bool, PolicyError> {
        if depth > MAX_CONDITION_DEPTH {
            return Err(invalid(
                "conditions refer to each other in a cycle".to_owned(),
            ));
        }
        let map = value.as_object().ok_or_else(|| {
            invalid(format!(
                "a condition must be a condition function, not {value}"
            ))
        })?;
        let (name, argument) = match map.iter().next() {
            Some((name, argument)) if map.len() == 1 => (name.as_str(), argument),
            _ => return Err(invalid(format!("not a condition function: {value}"))),
        };
        let all = |argument: &Value| -> Result<Vec<bool>, PolicyError> {
            argument
                .as_array()
                .ok_or_else(|| invalid(format!("{name} needs a list")))?
                .iter()
                .map(|item| self.truth(item, depth + 1))
                .collect()
        };
        match name {
            "Condition" => self.condition(text(argument, name)?, depth),
            "Fn::Equals" => {
                let [left, right] = arguments::<2>(argument, name)?;
                Ok(self.resolve(left)? == self.resolve(right)?)
            }
            "Fn::Not" => Ok(!all(argument)?.first().copied().unwrap_or(false)),
            "Fn::And" => Ok(all(argument)?.iter().all(|b| *b)),
            "Fn::Or" => Ok(all(argument)?.iter().any(|b| *b)),
            other => Err(invalid(format!("{other} is not a condition function"))),
        }
    }
}

/// `{"Ref": ..}` or `{"Fn::...": ..}`: the single key of an intrinsic function.
fn intrinsic(map: &Map<String, Value>) -> Option<(&str, &Value)> {
    let (name, argument) = map.iter().next()?;
    (map.len() == 1 && (name == "Ref" || name.starts_with("Fn::")))
        .then_some((name.as_str(), argument))
}

/// `Fn::Select`'s index: a number, or a string of digits (as a parameter's value is).
fn text_of_index(value: &Value) -> Option<usize> {
    match value {
        Value::Number(n) => n.as_u64().and_then(|n| usize::try_from(n).ok()),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn text<'v>(value: &'v Value, function: &str) -> Result<&'v str, PolicyError> {
    value
        .as_str()
        .ok_or_else(|| invalid(format!("{function} needs a string, not {value}")))
}

fn arguments<'v, const N: usize>(
    value: &'v Value,
    function: &str,
) -> Result<[&'v Value; N], PolicyError> {
    let items: Vec<&Value> = value
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    items
        .try_into()
        .map_err(|_| invalid(format!("{function} needs a list of {N}, not {value}")))
}

/// `Fn::GetAtt`'s `Resource.Attribute` or `[Resource, Attribute]`.
pub fn get_att(argument: &Value) -> Result<(String, String), PolicyError> {
    let pair = match argument {
        Value::String(s) => s.split_once('.').map(|(r, a)| (r.to_owned(), a.to_owned())),
        Value::Array(parts) => match &parts[..] {
            [Value::String(r), Value::String(a)] => Some((r.clone(), a.clone())),
            _ => None,
        },
        _ => None,
    };
    pair.ok_or_else(|| {
        invalid(format!(
            "Fn::GetAtt needs Resource.Attribute, not {argument}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn template(yaml: &str) -> Value {
        normalize(serde_yaml_ng::from_str(yaml).unwrap()).unwrap()
    }

    #[test]
    fn short_and_long_forms_evaluate_alike() {
        let template = template(
            "Conditions:\n  IsOn: !Equals [!Ref Mode, 'on']\n  IsOff: !Not [!Condition IsOn]\n  Both: {'Fn::And': [{Condition: IsOn}, !Not [{Condition: IsOff}]]}\nValue:\n  - !Sub 'arn:${AWS::Partition}:x:${Mode}:${Res.Arn}:${!Literal}'\n  - !If [IsOn, yes, !Ref AWS::NoValue]\n  - {'Fn::If': [IsOff, 1, {Ref: Mode}]}\n  - !Join ['-', [a, !Ref Mode]]\n  - !Sub ['${A}/${B}', {A: !Ref Mode, B: b}]\n",
        );
        let values = BTreeMap::from([
            ("Mode".to_owned(), json!("on")),
            ("AWS::Partition".to_owned(), json!("aws")),
        ]);
        let resolver = Resolver::new(&template, values);
        assert_eq!(
            resolver.resolve(&template["Value"]).unwrap(),
            Some(json!([
                "arn:aws:x:on:Res.Arn:${Literal}",
                "yes",
                "on",
                "a-on",
                "on/b"
            ]))
        );
        assert!(resolver.condition("Both", 0).unwrap());
        let groups = self::template(
            "Resources:\n  Group: {Type: AWS::Scheduler::ScheduleGroup, Properties: {Name: !Sub ['g-${Id}', {Id: !Select [2, !Split ['/', !Ref AWS::StackId]]}]}}\n  Queue: {Type: AWS::SQS::Queue}\n  Bucket: {Type: AWS::S3::Bucket}\nV: !Sub '${Group}/${Queue}/${Bucket}'\nW: !Select ['1', [a, b]]\nX: !Select [3, [a]]\n",
        );
        let stack = "arn:aws:cloudformation:us-east-1:1:stack/rootsweep/5f7e-3d20";
        let named = Resolver::new(
            &groups,
            BTreeMap::from([
                ("AWS::StackId".to_owned(), json!(stack)),
                ("Bucket".to_owned(), json!("state-bucket")),
            ]),
        );
        // The group's Ref is its Name; a bucket given a physical name is that name; a resource
        // without one is its logical id.
        assert_eq!(
            named.resolve(&groups["V"]).unwrap(),
            Some(json!("g-5f7e-3d20/Queue/state-bucket"))
        );
        assert_eq!(named.resolve(&groups["W"]).unwrap(), Some(json!("b")));
        let outside = named.resolve(&groups["X"]).unwrap_err();
        assert!(outside.to_string().contains("index 3"), "{outside}");
        let off = Resolver::new(
            &template,
            BTreeMap::from([("Mode".to_owned(), json!("off"))]),
        );
        assert_eq!(off.resolve(&template["Value"][1]).unwrap(), None);
        let unsupported = self::template("V: !FindInMap [M, a, b]");
        let error = Resolver::new(&unsupported, BTreeMap::new())
            .resolve(&unsupported["V"])
            .unwrap_err();
        assert!(error.to_string().contains("Fn::FindInMap"), "{error}");
    }
}

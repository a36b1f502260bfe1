//! Which policy documents the template's Lambda function role holds: the role the function runs
//! as, its inline policies, and the template's policy resources attached to it.

use serde_json::Value;

use super::PolicyError;
use super::template::{Resolver, get_att};

/// The logical id of the role the template's Lambda function runs as.
pub(super) fn function_role(
    resources: &serde_json::Map<String, Value>,
) -> Result<&str, PolicyError> {
    let invalid = |message: &str| PolicyError::Template(message.to_owned());
    let mut roles = Vec::new();
    for resource in resources.values() {
        let kind = resource.get("Type").and_then(Value::as_str);
        if !matches!(
            kind,
            Some("AWS::Serverless::Function" | "AWS::Lambda::Function")
        ) {
            continue;
        }
        let role = resource
            .pointer("/Properties/Role/Fn::GetAtt")
            .ok_or_else(|| {
                invalid("the function's Role must be !GetAtt <a role in the template>.Arn")
            })?;
        roles.push(get_att(role)?.0);
    }
    roles.dedup();
    let role = match &roles[..] {
        [role] => role,
        [] => return Err(invalid("the template has no Lambda function")),
        _ => return Err(invalid("the template's functions run as different roles")),
    };
    let (name, resource) = resources
        .get_key_value(role.as_str())
        .ok_or_else(|| invalid("the function's role is not in the template"))?;
    match resource.get("Type").and_then(Value::as_str) {
        Some("AWS::IAM::Role") => Ok(name.as_str()),
        _ => Err(invalid("the function's Role is not an AWS::IAM::Role")),
    }
}

/// The role's inline policy documents. A permissions boundary would limit them in ways the
/// emulator does not evaluate, so a template deployed with one is refused; managed policies
/// from outside the template are left out (denying more than AWS would, never less).
pub(super) fn role_documents(resolver: &Resolver, role: &Value) -> Result<Vec<Value>, PolicyError> {
    let properties = resolver
        .resolve(&role["Properties"])?
        .unwrap_or(Value::Null);
    if properties.get("PermissionsBoundary").is_some() {
        return Err(PolicyError::Template(
            "the role has a permissions boundary, which the emulator does not evaluate".to_owned(),
        ));
    }
    if let Some(managed) = properties.get("ManagedPolicyArns") {
        tracing::warn!(%managed, "managed policies are not evaluated: their grants are left out");
    }
    let policies = properties.get("Policies").and_then(Value::as_array);
    Ok(policies
        .into_iter()
        .flatten()
        .filter_map(|policy| policy.get("PolicyDocument").cloned())
        .collect())
}

/// Documents of `AWS::IAM::Policy`, `AWS::IAM::ManagedPolicy` and `AWS::IAM::RolePolicy`
/// resources attached to the role (`Roles: [!Ref Role]` or `RoleName: !Ref Role`) whose
/// `Condition`, if any, holds.
pub(super) fn attached_documents(
    resolver: &Resolver,
    resources: &serde_json::Map<String, Value>,
    role: &str,
) -> Result<Vec<Value>, PolicyError> {
    let mut documents = Vec::new();
    for resource in resources.values() {
        let kind = resource
            .get("Type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !matches!(
            kind,
            "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy" | "AWS::IAM::RolePolicy"
        ) {
            continue;
        }
        if let Some(condition) = resource.get("Condition").and_then(Value::as_str)
            && !resolver.condition(condition, 0)?
        {
            continue;
        }
        let properties = resolver
            .resolve(&resource["Properties"])?
            .unwrap_or(Value::Null);
        let roles = properties.get("Roles").and_then(Value::as_array);
        let named = roles.into_iter().flatten().any(|r| r == role)
            || properties.get("RoleName").and_then(Value::as_str) == Some(role);
        if named && let Some(document) = properties.get("PolicyDocument") {
            documents.push(document.clone());
        }
    }
    Ok(documents)
}

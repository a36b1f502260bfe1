//! The caller's IAM policy, off unless a run loads one: the statements of the Lambda function
//! role's policies in a SAM/CloudFormation template (`infra/template.yaml`), evaluated for every
//! request the caller principal makes. Root sessions are not evaluated here: their task policy
//! scopes them already.
//!
//! # Behaviour
//!
//! Off by default (the caller may call anything). `Emulator::caller_policy(TemplatePolicy::load(path)?
//! .parameter("Mode", "enforce"))`, or `--caller-policy-template infra/template.yaml
//! --template-parameter Mode=enforce` (repeatable): every request of the **caller principal** is
//! evaluated against the policies of the template's Lambda function role, as IAM evaluates an
//! identity-based policy; root sessions are not (their task policy scopes them).
//!
//! - **Which policies**: the one `AWS::Serverless::Function`/`AWS::Lambda::Function`'s `Role`
//!   (`!GetAtt X.Arn` of an `AWS::IAM::Role` in the template): its inline `Policies`, and the
//!   `AWS::IAM::Policy`/`ManagedPolicy`/`RolePolicy` resources of the template attached to it (their
//!   `Condition` honoured). Managed policies from outside the template are left out (a warning is
//!   logged: the emulator then denies more than AWS would, never less); a role deployed with a
//!   permissions boundary is refused at start, as the emulator does not evaluate boundaries.
//! - **Intrinsics**: `Ref` (of a parameter, a pseudo parameter, or a resource: its logical id, except
//!   an `AWS::Scheduler::ScheduleGroup`'s, which is its `Name`, as CloudFormation answers), `Fn::If`, `Fn::Sub` (both forms, `${!Literal}`), `Fn::GetAtt`, `Fn::Join`,
//!   and in `Conditions:` `Fn::Equals`, `Fn::Not`, `Fn::And`, `Fn::Or`, `Condition`; short (`!If`) and
//!   long (`Fn::If`) forms. Parameters take their `Default`, then the overrides (checked against
//!   `AllowedValues`; an unknown name is an error). Pseudo parameters: `AWS::Partition` `aws`,
//!   `AWS::AccountId` the org's caller account, `AWS::Region` `us-east-1` (overridable like a
//!   parameter), `AWS::StackName` `rootsweep`, `AWS::URLSuffix`, `AWS::NoValue` (removes the item).
//!   A `Ref` to a resource gives its logical id, a `GetAtt` `Logical.Attribute`: neither matches an
//!   emulated ARN. Any other intrinsic in the role's policies is an error at start.
//! - **Evaluation** ("Policy evaluation logic", IAM User Guide): an explicit `Deny` wins, else an
//!   `Allow` must match the action (wildcards, case-insensitive), the resource (ARN wildcards per ARN
//!   part; `Action`/`NotAction`, `Resource`/`NotResource`) and every condition. Operators:
//!   `StringEquals`, `StringNotEquals`, `StringEqualsIgnoreCase`, `StringNotEqualsIgnoreCase`,
//!   `StringLike`, `StringNotLike`, `ArnLike`/`ArnEquals`, `ArnNotLike`/`ArnNotEquals`, `Bool`, `Null`,
//!   each with `...IfExists`; a missing key fails positive operators and passes negated ones. Others
//!   (and `ForAnyValue:`/`ForAllValues:`) are refused at start.
//! - **Requests**: `sts:AssumeRoot` on `arn:aws:iam::<target>:root` with `sts:TaskPolicyArn`;
//!   `iam:ListOrganizationsFeatures` on `*`; `organizations:<Operation>` on `*`, except
//!   `DescribeAccount`, `ListParents` and `ListTagsForResource` on the account, OU or root ARN
//!   (`arn:aws:organizations::<management>:account/<org id>/<account>`); `cloudwatch:PutMetricData`
//!   on `*` with `cloudwatch:namespace`; `scheduler:CreateSchedule`, `GetSchedule`, `DeleteSchedule`
//!   on `arn:aws:scheduler:<region>:<caller>:schedule/<group>/<name>`, `scheduler:ListSchedules` on `*`
//!   (Service Authorization Reference; `iam:PassRole` on the target's role is not evaluated: the
//!   template names its role by `!GetAtt`, which matches no emulated ARN);
//!   `securityhub:BatchImportFindings` on each finding's `ProductArn` with `securityhub:TargetAccount`
//!   its `AwsAccountId` (one request per product and account in the batch, each must be allowed: our
//!   reading of a batch), `securityhub:GetFindings` on `arn:aws:securityhub:<region>:<caller>:hub/default`;
//!   `s3:PutObject` (PutObject) and `s3:GetObject` (GetObject, HeadObject) on
//!   `arn:aws:s3:::<bucket>/<key>`, `s3:ListBucket` (ListObjectsV2) on `arn:aws:s3:::<bucket>` with
//!   `s3:prefix`, `s3:delimiter`, `s3:max-keys` when given. Every request also carries `aws:PrincipalAccount`,
//!   `aws:PrincipalArn` (`arn:aws:iam::<caller>:role/RootSweep`), `aws:PrincipalType`,
//!   `aws:RequestedRegion` and `aws:SecureTransport` (`true`). `sts:GetCallerIdentity` needs no
//!   permission. Evaluated after throttling, before faults.
//! - **Denied**: `AccessDenied` 403 (STS, IAM, CloudWatch), `AccessDeniedException` 400
//!   (Organizations), with AWS's message: "User: arn:aws:sts::<caller>:assumed-role/RootSweep/emulator
//!   is not authorized to perform: sts:AssumeRoot on resource: arn:aws:iam::<target>:root because no
//!   identity-based policy allows the sts:AssumeRoot action" (no "on resource" for `*`; "with an
//!   explicit deny in an identity-based policy" for a `Deny`).
//!
//! **STS's global endpoint** (`sts.amazonaws.com`) does not serve AssumeRoot ("The STS global
//! endpoint is not supported for AssumeRoot", STS API reference): a request whose `Host` is
//! `sts.amazonaws.com` (any port) answers AssumeRoot with `InvalidAction` "Unknown Operation" (400),
//! as the global endpoint answered boto3 (boto/boto3#4461); other STS calls work there, signed for
//! `us-east-1` only (else `SignatureDoesNotMatch` "Credential should be scoped to a valid region").
//! Requests to the emulator's own address are regional.
//!
//! # Not emulated
//!
//! SCPs, permissions boundaries, managed policies from outside the template, and the caller's IAM
//! policy unless a template is loaded; delegated-administrator registration (the caller is trusted
//! as configured).

mod role;
mod statement;
mod template;

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use role::{attached_documents, function_role, role_documents};
pub(crate) use statement::Request;
use statement::{Decision, Statement, decide};
use template::Resolver;

/// Why a template could not give the role's policies.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read template {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("template is not YAML: {0}")]
    Yaml(#[from] serde_yaml_ng::Error),
    #[error("template: {0}")]
    Template(String),
    #[error("policy statement: {0}")]
    Statement(String),
}

/// The UUID in the emulated stack's `AWS::StackId`
/// (`arn:aws:cloudformation:REGION:ACCOUNT:stack/rootsweep/UUID`), which names what the template
/// names after the stack id, such as its follow-up schedule group.
pub const STACK_UUID: &str = "5f7e3d20-4a1b-11f0-9c2d-0a1b2c3d4e5f";

/// A template and the parameter values to deploy it with; the role's statements are resolved
/// when the emulator starts, with `AWS::AccountId` the org's caller account.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplatePolicy {
    template: Value,
    overrides: BTreeMap<String, String>,
    /// Physical names of resources the template creates without naming them, by logical id.
    physical_ids: BTreeMap<String, String>,
}

impl TemplatePolicy {
    /// Parses a template (YAML with CloudFormation's short-form tags, or JSON).
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        let yaml: serde_yaml_ng::Value = serde_yaml_ng::from_str(text)?;
        Ok(Self {
            template: template::normalize(yaml)?,
            overrides: BTreeMap::new(),
            physical_ids: BTreeMap::new(),
        })
    }

    pub fn load(path: &Path) -> Result<Self, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text)
    }

    /// Deploys with `name` set to `value` instead of its default (`Mode=enforce`). Pseudo
    /// parameters can be set too (`AWS::Region`).
    pub fn parameter(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.overrides.insert(name.into(), value.into());
        self
    }

    /// Deploys with the resource `logical_id` named `physical_id`, as CloudFormation would name a
    /// resource the template leaves unnamed (a bucket): `!Ref` and `${..}` then give that name,
    /// which the emulator's resource of that name (a bucket made with it) matches.
    pub fn physical_id(
        mut self,
        logical_id: impl Into<String>,
        physical_id: impl Into<String>,
    ) -> Self {
        self.physical_ids
            .insert(logical_id.into(), physical_id.into());
        self
    }

    /// The role's statements for a stack in `account_id`.
    pub(crate) fn resolve(&self, account_id: &str) -> Result<CallerPolicy, PolicyError> {
        let resolver = Resolver::new(&self.template, self.values(account_id)?);
        let resources = self
            .template
            .get("Resources")
            .and_then(Value::as_object)
            .ok_or_else(|| PolicyError::Template("no Resources".to_owned()))?;
        let role = function_role(resources)?;
        let mut documents = role_documents(&resolver, &resources[role])?;
        documents.extend(attached_documents(&resolver, resources, role)?);
        let mut statements = Vec::new();
        for document in documents {
            let listed = match document.get("Statement") {
                Some(Value::Array(items)) => items.clone(),
                Some(one) => vec![one.clone()],
                None => Vec::new(),
            };
            for item in &listed {
                statements.push(Statement::parse(item)?);
            }
        }
        Ok(CallerPolicy { statements })
    }

    /// Parameter values (defaults, then overrides, each checked against `AllowedValues`) and
    /// pseudo parameters.
    fn values(&self, account_id: &str) -> Result<BTreeMap<String, Value>, PolicyError> {
        let invalid = |message: String| Err(PolicyError::Template(message));
        let declared = self.template.get("Parameters").and_then(Value::as_object);
        let mut values: BTreeMap<String, Value> = [
            ("AWS::Partition", "aws"),
            ("AWS::AccountId", account_id),
            ("AWS::Region", "us-east-1"),
            ("AWS::URLSuffix", "amazonaws.com"),
            ("AWS::StackName", "rootsweep"),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), Value::String(value.to_owned())))
        .collect();
        for (name, declaration) in declared.into_iter().flatten() {
            if let Some(default) = declaration.get("Default") {
                values.insert(
                    name.clone(),
                    parameter_value(declaration, &text_of(default)),
                );
            }
        }
        for (name, value) in &self.overrides {
            let Some(declaration) = declared.and_then(|d| d.get(name)) else {
                if name.starts_with("AWS::") {
                    values.insert(name.clone(), Value::String(value.clone()));
                    continue;
                }
                return invalid(format!("the template has no parameter {name}"));
            };
            let allowed = declaration.get("AllowedValues").and_then(Value::as_array);
            if allowed.is_some_and(|allowed| !allowed.iter().any(|a| text_of(a) == *value)) {
                return invalid(format!("{value:?} is not an allowed value of {name}"));
            }
            values.insert(name.clone(), parameter_value(declaration, value));
        }
        let stack_id = format!(
            "arn:aws:cloudformation:{}:{account_id}:stack/{}/{STACK_UUID}",
            text_of(&values["AWS::Region"]),
            text_of(&values["AWS::StackName"]),
        );
        values
            .entry("AWS::StackId".to_owned())
            .or_insert(Value::String(stack_id));
        let resources = self.template.get("Resources").and_then(Value::as_object);
        for (logical_id, physical_id) in &self.physical_ids {
            if !resources.is_some_and(|r| r.contains_key(logical_id)) {
                return invalid(format!("the template has no resource {logical_id}"));
            }
            values.insert(logical_id.clone(), Value::String(physical_id.clone()));
        }
        Ok(values)
    }
}

/// A parameter's value as `Ref` gives it: a list for list types, else a string.
fn parameter_value(declaration: &Value, text: &str) -> Value {
    let kind = declaration
        .get("Type")
        .and_then(Value::as_str)
        .unwrap_or("String");
    match kind.starts_with("List<") || kind == "CommaDelimitedList" {
        true => Value::Array(
            text.split(',')
                .map(|s| Value::String(s.to_owned()))
                .collect(),
        ),
        false => Value::String(text.to_owned()),
    }
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The caller principal's statements, in force for a run.
#[derive(Debug, Clone)]
pub(crate) struct CallerPolicy {
    statements: Vec<Statement>,
}

impl CallerPolicy {
    /// Nothing, or the message of the `AccessDenied` AWS answers ("Access denied error message
    /// examples", IAM User Guide: "User: ARN is not authorized to perform: ACTION on resource:
    /// RESOURCE because no identity-based policy allows the ACTION action").
    pub fn check(&self, caller_arn: &str, request: &Request) -> Result<(), String> {
        let on = match request.resource.as_str() {
            "*" => String::new(),
            resource => format!(" on resource: {resource}"),
        };
        let action = &request.action;
        match decide(&self.statements, request) {
            Decision::Allow => Ok(()),
            Decision::ImplicitDeny => Err(format!(
                "User: {caller_arn} is not authorized to perform: {action}{on} because no identity-based policy allows the {action} action"
            )),
            Decision::ExplicitDeny => Err(format!(
                "User: {caller_arn} is not authorized to perform: {action}{on} with an explicit deny in an identity-based policy"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = include_str!("../../../../infra/template.yaml");

    fn check(
        policy: &CallerPolicy,
        action: &str,
        resource: &str,
        context: &[(&str, &str)],
    ) -> Result<(), String> {
        let request = Request {
            action: action.to_owned(),
            resource: resource.to_owned(),
            context: context
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        policy.check("arn:aws:sts::1:assumed-role/R/s", &request)
    }

    #[test]
    fn the_real_template_in_both_modes() {
        let delete = "arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials";
        let audit = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials";
        let root = "arn:aws:iam::222222222222:root";
        let template = TemplatePolicy::parse(TEMPLATE).unwrap();
        let audit_mode = template.resolve("111111111111").unwrap();
        assert!(
            check(
                &audit_mode,
                "sts:AssumeRoot",
                root,
                &[("sts:TaskPolicyArn", audit)]
            )
            .is_ok()
        );
        let denied = check(
            &audit_mode,
            "sts:AssumeRoot",
            root,
            &[("sts:TaskPolicyArn", delete)],
        );
        assert_eq!(
            denied.unwrap_err(),
            "User: arn:aws:sts::1:assumed-role/R/s is not authorized to perform: sts:AssumeRoot on resource: arn:aws:iam::222222222222:root because no identity-based policy allows the sts:AssumeRoot action"
        );
        let enforce = template
            .clone()
            .parameter("Mode", "enforce")
            .resolve("1")
            .unwrap();
        assert!(
            check(
                &enforce,
                "sts:AssumeRoot",
                root,
                &[("sts:TaskPolicyArn", delete)]
            )
            .is_ok()
        );
        assert!(check(&enforce, "organizations:ListTagsForResource", "*", &[]).is_err());
        let tags = template
            .clone()
            .parameter("ExemptTagKey", "rootsweep:exempt")
            .resolve("1")
            .unwrap();
        let account = "arn:aws:organizations::1:account/o-abcdefghij/222222222222";
        assert!(check(&tags, "organizations:ListTagsForResource", account, &[]).is_ok());
        let ou = "arn:aws:organizations::1:ou/o-abcdefghij/ou-ab12-cd34ef56";
        assert!(check(&tags, "organizations:ListTagsForResource", ou, &[]).is_err());
        let namespace = |n| {
            check(
                &enforce,
                "cloudwatch:PutMetricData",
                "*",
                &[("cloudwatch:namespace", n)],
            )
        };
        assert!(namespace("Rootsweep").is_ok() && namespace("Other").is_err());
        // The run ledger: its one object and its bucket's listing, in the bucket the test names.
        let state = template
            .clone()
            .physical_id("StateBucket", "rootsweep-state")
            .resolve("1")
            .unwrap();
        let ledger = "arn:aws:s3:::rootsweep-state/rootsweep/ledger.json.gz";
        assert!(check(&state, "s3:GetObject", ledger, &[]).is_ok());
        assert!(check(&state, "s3:PutObject", ledger, &[]).is_ok());
        assert!(check(&state, "s3:ListBucket", "arn:aws:s3:::rootsweep-state", &[]).is_ok());
        let elsewhere = "arn:aws:s3:::rootsweep-state/rootsweep/other.json";
        assert!(check(&state, "s3:PutObject", elsewhere, &[]).is_err());
        assert!(check(&state, "s3:DeleteObject", ledger, &[]).is_err());
    }

    #[test]
    fn bad_overrides_and_boundaries_are_refused() {
        let template = TemplatePolicy::parse(TEMPLATE).unwrap();
        for (name, value, says) in [
            ("Mood", "x", "no parameter Mood"),
            ("Mode", "delete", "not an allowed value of Mode"),
            (
                "PermissionsBoundaryArn",
                "arn:aws:iam::1:policy/b",
                "permissions boundary",
            ),
        ] {
            let error = template
                .clone()
                .parameter(name, value)
                .resolve("1")
                .unwrap_err();
            assert!(error.to_string().contains(says), "{error}");
        }
        let unknown = template
            .clone()
            .physical_id("LedgerBucket", "b")
            .resolve("1")
            .unwrap_err();
        assert!(
            unknown.to_string().contains("no resource LedgerBucket"),
            "{unknown}"
        );
        assert!(
            TemplatePolicy::parse("Resources: {}")
                .unwrap()
                .resolve("1")
                .is_err()
        );
    }
}

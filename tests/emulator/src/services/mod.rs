//! The emulated services. Each module is `call(world, caller, operation, input, now)`; this one
//! knows what differs between services on the wire (protocols, namespaces, error codes).

mod cloudwatch;
pub(crate) mod iam;
pub(crate) mod lambda;
pub(crate) mod organizations;
pub(crate) mod s3;
pub(crate) mod scheduler;
pub(crate) mod securityhub;
mod sts;

use axum::http::StatusCode;
use chrono::{DateTime, Utc};

use crate::error::ApiError;
use crate::policy::Request;
use crate::protocol::rest::Route;
use crate::protocol::{Input, Protocol, Reply};
use crate::session::Caller;
use crate::world::World;

pub use cloudwatch::{Dimension, MetricDatum, StatisticSet};
pub use iam::{
    AccessKey, AccessKeyLastUsed, CredentialStatus, LoginProfile, MfaDevice, MfaKind, RootUser,
    SigningCertificate,
};
pub use organizations::{
    Account, AccountState, JoinedMethod, Org, OrganizationalUnit, PreflightFailure,
};
pub use s3::S3Object;
pub use scheduler::{FiredSchedule, Schedule};

/// What the caller's policy allows beyond the call itself, for answers that depend on it.
#[derive(Debug, Clone, Copy)]
pub struct Permissions {
    /// `s3:ListBucket` on the request's bucket: S3 tells a missing key (404) from a denied one
    /// only to callers who may list the bucket.
    pub may_list_bucket: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Sts,
    Iam,
    Organizations,
    CloudWatch,
    Scheduler,
    SecurityHub,
    S3,
    Lambda,
}

impl Service {
    /// From the SigV4 credential scope's service.
    pub fn from_signing_name(name: &str) -> Option<Service> {
        match name {
            "sts" => Some(Self::Sts),
            "iam" => Some(Self::Iam),
            "organizations" => Some(Self::Organizations),
            "monitoring" => Some(Self::CloudWatch),
            "scheduler" => Some(Self::Scheduler),
            "securityhub" => Some(Self::SecurityHub),
            "s3" => Some(Self::S3),
            "lambda" => Some(Self::Lambda),
            _ => None,
        }
    }

    pub fn signing_name(self) -> &'static str {
        match self {
            Self::Sts => "sts",
            Self::Iam => "iam",
            Self::Organizations => "organizations",
            Self::CloudWatch => "monitoring",
            Self::Scheduler => "scheduler",
            Self::SecurityHub => "securityhub",
            Self::S3 => "s3",
            Self::Lambda => "lambda",
        }
    }

    pub fn accepts(self, protocol: Protocol) -> bool {
        match self {
            Self::Sts | Self::Iam => protocol == Protocol::Query,
            Self::Organizations => protocol == Protocol::AwsJson11,
            // Not the query protocol CloudWatch also speaks: no client here sends it.
            Self::CloudWatch => matches!(protocol, Protocol::AwsJson10 | Protocol::RpcV2Cbor),
            Self::Scheduler | Self::SecurityHub | Self::Lambda => protocol == Protocol::RestJson1,
            Self::S3 => protocol == Protocol::RestXml,
        }
    }

    /// The REST protocol of a REST service: it speaks no other.
    pub fn rest_protocol(self) -> Option<Protocol> {
        match self {
            Self::Scheduler | Self::SecurityHub | Self::Lambda => Some(Protocol::RestJson1),
            Self::S3 => Some(Protocol::RestXml),
            _ => None,
        }
    }

    /// A REST service's operations and their HTTP bindings.
    pub fn routes(self) -> &'static [Route] {
        match self {
            Self::Scheduler => scheduler::ROUTES,
            Self::SecurityHub => securityhub::ROUTES,
            Self::S3 => s3::ROUTES,
            Self::Lambda => lambda::ROUTES,
            _ => &[],
        }
    }

    /// The JSON body of a restJson1 error. Scheduler's is `{"message": ..}` (botocore and the
    /// Rust SDK read `message` or `Message`); Security Hub's errors model `Code` and `Message`;
    /// Lambda's `Type` and `Message`, `Type` being `User` (a 404 as Lambda answers it:
    /// localstack/localstack#702) or, for its own faults, `Service` (our assumption).
    pub fn rest_json_error(self, error: &ApiError) -> serde_json::Value {
        match self {
            Self::SecurityHub => serde_json::json!({"Code": error.code, "Message": error.message}),
            Self::Lambda => {
                let kind = match error.status.is_server_error() {
                    true => "Service",
                    false => "User",
                };
                let mut body = serde_json::json!({"Type": kind, "Message": error.message});
                if let Some(reason) = error.reason {
                    body["Reason"] = reason.into();
                }
                body
            }
            _ => serde_json::json!({"message": error.message}),
        }
    }

    /// The service name in `X-Amz-Target` and in rpc-v2-cbor paths.
    pub fn json_service_name(self) -> Option<&'static str> {
        match self {
            Self::Organizations => Some("AWSOrganizationsV20161128"),
            Self::CloudWatch => Some("GraniteServiceVersion20100801"),
            Self::Sts
            | Self::Iam
            | Self::Scheduler
            | Self::SecurityHub
            | Self::S3
            | Self::Lambda => None,
        }
    }

    pub fn xml_namespace(self) -> &'static str {
        match self {
            Self::Sts => "https://sts.amazonaws.com/doc/2011-06-15/",
            Self::Iam => "https://iam.amazonaws.com/doc/2010-05-08/",
            Self::Organizations
            | Self::CloudWatch
            | Self::Scheduler
            | Self::SecurityHub
            | Self::S3
            | Self::Lambda => "",
        }
    }

    /// CloudWatch moved from the query protocol to JSON and CBOR but kept its query error codes
    /// (Smithy's `awsQueryCompatible`), sent in the `x-amzn-query-error` header.
    pub fn query_compatible(self) -> bool {
        self == Self::CloudWatch
    }

    /// The shape id of a modeled error of a query-compatible service, by its query code
    /// (botocore's `monitoring` model: `InvalidParameterValueException` has the code
    /// `InvalidParameterValue`, and so on).
    pub fn error_shape(self, code: &str) -> Option<String> {
        let shape = match (self, code) {
            (Self::CloudWatch, "InvalidParameterValue") => "InvalidParameterValueException",
            (Self::CloudWatch, "MissingParameter") => "MissingRequiredParameterException",
            (Self::CloudWatch, "InvalidParameterCombination") => {
                "InvalidParameterCombinationException"
            }
            (Self::CloudWatch, "InternalServiceError") => "InternalServiceFault",
            _ => return None,
        };
        Some(format!("com.amazonaws.cloudwatch#{shape}"))
    }

    pub fn throttling(self) -> ApiError {
        match self {
            // Scheduler's modeled ThrottlingException (429).
            Self::Scheduler => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "ThrottlingException",
                "Rate exceeded",
            ),
            // Security Hub's modeled LimitExceededException (429), which covers "throttling
            // limits" (its API reference); the SDKs retry it.
            Self::SecurityHub => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "LimitExceededException",
                "Rate exceeded",
            ),
            // Lambda's modeled TooManyRequestsException (429) and one of its `ThrottleReason`s.
            Self::Lambda => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequestsException",
                "Rate exceeded",
            )
            .with_reason("CallerRateLimitExceeded"),
            // S3's throttling answer ("Error responses", S3 API reference).
            Self::S3 => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "SlowDown",
                "Please reduce your request rate.",
            ),
            Self::Organizations => ApiError::new(
                StatusCode::BAD_REQUEST,
                "TooManyRequestsException",
                "AWS Organizations can't complete your request because another request is already in progress. Try again later.",
            ),
            _ => ApiError::new(StatusCode::BAD_REQUEST, "Throttling", "Rate exceeded"),
        }
    }

    pub fn access_denied(self, message: impl Into<String>) -> ApiError {
        match self {
            Self::Organizations => {
                ApiError::new(StatusCode::BAD_REQUEST, "AccessDeniedException", message)
            }
            // "Common Errors" of the Scheduler API reference; Security Hub's modeled error; 403
            // as Lambda answers it (alexcasalboni/aws-lambda-power-tuning#59 shows the answer).
            Self::Scheduler | Self::SecurityHub | Self::Lambda => {
                ApiError::new(StatusCode::FORBIDDEN, "AccessDeniedException", message)
            }
            _ => ApiError::new(StatusCode::FORBIDDEN, "AccessDenied", message),
        }
    }

    pub fn server_error(self, status: StatusCode) -> ApiError {
        match (self, status) {
            (Self::Scheduler, _) => ApiError::new(
                status,
                "InternalServerException",
                "Unexpected error encountered while processing the request.",
            ),
            (Self::SecurityHub, _) => {
                ApiError::new(status, "InternalException", "Internal service failure.")
            }
            // Lambda's modeled ServiceException, with the fault's status.
            (Self::Lambda, _) => ApiError::new(
                status,
                "ServiceException",
                "The Lambda service encountered an internal error.",
            ),
            (Self::S3, StatusCode::SERVICE_UNAVAILABLE) => {
                ApiError::new(status, "ServiceUnavailable", "Reduce your request rate.")
            }
            (Self::S3, _) => ApiError::new(
                status,
                "InternalError",
                "We encountered an internal error. Please try again.",
            ),
            (Self::Organizations, _) => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "ServiceException",
                "AWS Organizations can't complete your request because of an internal service error. Try again later.",
            ),
            (_, StatusCode::SERVICE_UNAVAILABLE) => ApiError::new(
                status,
                "ServiceUnavailable",
                "Service is unavailable. Try again later.",
            ),
            _ => ApiError::new(
                status,
                "InternalFailure",
                "The request processing has failed because of an unknown error.",
            ),
        }
    }

    pub fn unknown_operation(self, operation: &str) -> ApiError {
        match self {
            Self::Sts | Self::Iam => ApiError::new(
                StatusCode::BAD_REQUEST,
                "InvalidAction",
                format!("Could not find operation {operation} (not emulated)"),
            ),
            Self::Organizations | Self::CloudWatch => ApiError::new(
                StatusCode::BAD_REQUEST,
                "UnknownOperationException",
                format!("Unknown operation {operation} (not emulated)"),
            ),
            // Our assumption: a REST path no operation has is a 404 there.
            Self::Scheduler | Self::SecurityHub | Self::Lambda => ApiError::new(
                StatusCode::NOT_FOUND,
                "UnknownOperationException",
                format!("Unknown operation {operation} (not emulated)"),
            ),
            // S3's answer to functionality it does not implement.
            Self::S3 => ApiError::new(
                StatusCode::NOT_IMPLEMENTED,
                "NotImplemented",
                format!(
                    "A header you provided implies functionality that is not implemented ({operation} is not emulated)."
                ),
            ),
        }
    }

    /// The service's "not found" error, for the `no_such_entity` fault: IAM's `NoSuchEntity`, or
    /// the REST service's own.
    pub fn not_found(self, operation: &str) -> ApiError {
        match self {
            Self::Scheduler | Self::SecurityHub | Self::Lambda => ApiError::new(
                StatusCode::NOT_FOUND,
                "ResourceNotFoundException",
                format!("The resource of {operation} does not exist (injected fault)."),
            ),
            Self::S3 => ApiError::new(
                StatusCode::NOT_FOUND,
                "NoSuchKey",
                format!("The specified key does not exist (injected fault in {operation})."),
            ),
            _ => ApiError::no_such_entity(format!(
                "The entity for {operation} cannot be found (injected fault)."
            )),
        }
    }

    /// The account of the caller principal; root sessions may not call the service (their task
    /// policies allow IAM calls only).
    fn principal_account<'a>(
        self,
        caller: &'a Caller,
        operation: &str,
    ) -> Result<&'a str, ApiError> {
        match caller {
            Caller::Principal { account_id } => Ok(account_id),
            Caller::Root(_) => Err(self.access_denied(format!(
                "User: {} is not authorized to perform: {}:{operation}",
                caller.arn(),
                self.action_prefix()
            ))),
        }
    }

    /// The account a call is about, which faults can be limited to.
    pub fn target_account(self, operation: &str, input: &Input, caller: &Caller) -> Option<String> {
        match (self, caller) {
            (Self::Iam, Caller::Root(session)) => Some(session.account_id.clone()),
            (Self::Sts, _) if operation == "AssumeRoot" => input
                .str("TargetPrincipal")
                .map(sts::account_of_principal)
                .map(str::to_owned),
            (Self::Organizations, _) => ["AccountId", "ChildId", "ResourceId"]
                .into_iter()
                .find_map(|name| input.str(name))
                .map(str::to_owned),
            _ => None,
        }
    }

    /// What the caller principal's policy must allow for this call: the action, the resource
    /// (per the Service Authorization Reference: `*` where an action has no resource-level
    /// permissions) and the service's condition keys; one request per resource when a call acts
    /// on several. `None` when no permission is needed:
    /// `sts:GetCallerIdentity` ("No permissions are required", STS API reference), operations
    /// the emulator does not serve, and IAM root-user calls without `UserName` (they fail
    /// validation first; our assumption).
    pub fn authorization(
        self,
        operation: &str,
        input: &Input,
        org: &Org,
        region: &str,
    ) -> Option<Vec<Request>> {
        let account = org.caller_account_id();
        match self {
            Self::Scheduler => scheduler::authorization(operation, input, account, region),
            Self::SecurityHub => securityhub::authorization(operation, input, account, region),
            Self::S3 => s3::authorization(operation, input),
            Self::Lambda => lambda::authorization(operation, input, account, region),
            _ => self
                .rpc_authorization(operation, input, org)
                .map(|r| vec![r]),
        }
    }

    /// [`Self::authorization`] of the services that predate the REST ones: one request each.
    fn rpc_authorization(self, operation: &str, input: &Input, org: &Org) -> Option<Request> {
        let (resource, context) = match (self, operation) {
            (Self::Sts, "AssumeRoot") => {
                let target = sts::account_of_principal(input.str("TargetPrincipal")?);
                let arn = input.get("TaskPolicyArn").and_then(|p| p.get("arn"));
                let context = arn
                    .and_then(|arn| arn.as_str())
                    .map(|arn| ("sts:TaskPolicyArn".to_owned(), arn.to_owned()));
                (
                    format!("arn:aws:iam::{target}:root"),
                    Vec::from_iter(context),
                )
            }
            (Self::Iam, "ListOrganizationsFeatures") => ("*".to_owned(), Vec::new()),
            (Self::Iam, _) if iam::root_user_operation(operation) => {
                let user = input.str("UserName")?;
                let account = org.caller_account_id();
                (format!("arn:aws:iam::{account}:user/{user}"), Vec::new())
            }
            (Self::Organizations, _) => {
                (organizations::resource(operation, input, org)?, Vec::new())
            }
            (Self::CloudWatch, "PutMetricData") => {
                let namespace = input
                    .str("Namespace")
                    .map(|n| ("cloudwatch:namespace".to_owned(), n.to_owned()));
                ("*".to_owned(), Vec::from_iter(namespace))
            }
            _ => return None,
        };
        Some(Request {
            action: format!("{}:{operation}", self.action_prefix()),
            resource,
            context,
        })
    }

    /// The service prefix of IAM actions (CloudWatch's is not its signing name).
    fn action_prefix(self) -> &'static str {
        match self {
            Self::CloudWatch => "cloudwatch",
            other => other.signing_name(),
        }
    }

    /// Serves the call; `region` is the one the request was signed for.
    #[allow(clippy::too_many_arguments)]
    pub fn call(
        self,
        world: &mut World,
        caller: &Caller,
        region: &str,
        operation: &str,
        input: &Input,
        permissions: Permissions,
        now: DateTime<Utc>,
    ) -> Result<Reply, ApiError> {
        match self {
            Self::Scheduler => {
                let account = self.principal_account(caller, operation)?;
                let at = scheduler::Place { account, region };
                scheduler::call(world, &at, operation, input, now)
            }
            Self::SecurityHub => {
                let account = self.principal_account(caller, operation)?;
                let at = securityhub::Place { account, region };
                securityhub::call(world, &at, operation, input, now)
            }
            Self::S3 => {
                let account = self.principal_account(caller, operation)?;
                s3::call(world, account, operation, input, permissions, now)
            }
            Self::Lambda => {
                let caller_arn = caller.arn();
                let account = self.principal_account(caller, operation)?;
                let at = lambda::Place {
                    caller_arn: &caller_arn,
                    account,
                    region,
                };
                lambda::call(world, &at, operation, input)
            }
            Self::Sts => sts::call(world, caller, operation, input, now),
            Self::Iam => iam::call(world, caller, operation, input),
            Self::Organizations => organizations::call(world, caller, operation, input),
            Self::CloudWatch => cloudwatch::call(world, caller, operation, input),
        }
    }
}

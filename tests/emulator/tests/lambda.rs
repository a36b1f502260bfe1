//! Lambda through the AWS SDK for Rust: GetFunctionConfiguration of the run's functions, by
//! name and by ARN, errors as Lambda answers them (and as the SDK maps them), and the caller's
//! policy.

use crate::common::*;
use aws_sdk_lambda::Client;
use aws_sdk_lambda::error::SdkError;
use aws_sdk_lambda::operation::get_function_configuration::{
    GetFunctionConfigurationError, GetFunctionConfigurationOutput,
};
use aws_sdk_lambda::types::{Architecture, State};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use rootsweep_emulator::{Emulator, EmulatorHandle, Fault, FaultKind, Protocol, TemplatePolicy};

const ARN: &str = "arn:aws:lambda:us-east-1:111111111111:function:rootsweep";

fn with_functions(emulator: Emulator) -> Emulator {
    emulator
        .function(
            "rootsweep",
            [
                ("ROOTSWEEP_MODE", "enforce"),
                ("ROOTSWEEP_EXEMPT_ACCOUNTS", "333333333333"),
            ],
        )
        .function("bare", Vec::<(String, String)>::new())
}

async fn emulator() -> EmulatorHandle {
    with_functions(Emulator::new(test_org()))
        .spawn()
        .await
        .unwrap()
}

async fn client(emulator: &EmulatorHandle) -> Client {
    Client::new(&without_retries(&caller_config(emulator).await))
}

type Answer = Result<GetFunctionConfigurationOutput, SdkError<GetFunctionConfigurationError>>;

async fn get(client: &Client, name: &str, qualifier: Option<&str>) -> Answer {
    client
        .get_function_configuration()
        .function_name(name)
        .set_qualifier(qualifier.map(str::to_owned))
        .send()
        .await
}

/// The error's status, code and message.
fn refusal(answer: Answer) -> (u16, String, String) {
    let error = answer.unwrap_err();
    let status = error.raw_response().map(|r| r.status().as_u16());
    let code = error.code().unwrap_or_default().to_owned();
    let message = error.message().unwrap_or_default().to_owned();
    (status.unwrap_or_default(), code, message)
}

#[tokio::test]
async fn the_configuration_by_name_by_arn_and_by_partial_arn() {
    let emulator = emulator().await;
    let client = client(&emulator).await;
    let qualified = format!("{ARN}:$LATEST");
    for (name, qualifier, arn) in [
        ("rootsweep", None, ARN),
        (ARN, None, ARN),
        ("111111111111:function:rootsweep", None, ARN),
        ("rootsweep", Some("$LATEST"), &qualified),
        ("rootsweep:$LATEST", None, &qualified),
    ] {
        let got = get(&client, name, qualifier).await.unwrap();
        assert_eq!(got.function_arn(), Some(arn), "{name} {qualifier:?}");
        assert_eq!(got.function_name(), Some("rootsweep"));
        let variables = got.environment().and_then(|e| e.variables()).unwrap();
        assert_eq!(variables.len(), 2);
        assert_eq!(variables["ROOTSWEEP_MODE"], "enforce");
        assert_eq!(variables["ROOTSWEEP_EXEMPT_ACCOUNTS"], "333333333333");
    }
    let got = get(&client, "rootsweep", None).await.unwrap();
    assert_eq!(got.runtime().map(|r| r.as_str()), Some("provided.al2023"));
    assert_eq!(
        got.role(),
        Some("arn:aws:iam::111111111111:role/rootsweep-role")
    );
    assert_eq!(
        (got.handler(), got.timeout(), got.memory_size()),
        (Some("bootstrap"), Some(900), Some(256))
    );
    assert_eq!(got.version(), Some("$LATEST"));
    assert_eq!(got.state(), Some(&State::Active));
    assert_eq!(got.architectures(), [Architecture::X8664]);
    let modified = got.last_modified().unwrap();
    assert!(
        chrono::DateTime::parse_from_str(modified, "%Y-%m-%dT%H:%M:%S%.3f%z").is_ok(),
        "Lambda's format: {modified}"
    );
    // A function without variables answers no Environment at all.
    let bare = get(&client, "bare", None).await.unwrap();
    assert_eq!(bare.environment(), None);

    let call = emulator.calls().pop().unwrap();
    assert_eq!(call.operation, "GetFunctionConfiguration");
    assert_eq!(
        (call.service.as_deref(), call.protocol),
        (Some("lambda"), Protocol::RestJson1)
    );
}

#[tokio::test]
async fn missing_functions_versions_and_regions_are_not_found() {
    let emulator = emulator().await;
    let client = client(&emulator).await;
    let missing = get(&client, "nope", None).await;
    assert!(matches!(
        missing.as_ref().unwrap_err().as_service_error(),
        Some(GetFunctionConfigurationError::ResourceNotFoundException(_))
    ));
    assert_eq!(
        refusal(missing),
        (
            404,
            "ResourceNotFoundException".to_owned(),
            "Function not found: arn:aws:lambda:us-east-1:111111111111:function:nope".to_owned()
        )
    );
    let version = refusal(get(&client, "rootsweep", Some("1")).await);
    assert_eq!(version.2, format!("Function not found: {ARN}:1"));
    let elsewhere = "arn:aws:lambda:eu-west-1:111111111111:function:rootsweep";
    assert_eq!(
        refusal(get(&client, elsewhere, None).await),
        (
            404,
            "ResourceNotFoundException".to_owned(),
            "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')".to_owned()
        )
    );
}

#[tokio::test]
async fn invalid_names_and_qualifiers_are_refused() {
    let emulator = emulator().await;
    let client = client(&emulator).await;
    let (status, code, message) = refusal(get(&client, "root sweep", None).await);
    assert_eq!((status, code.as_str()), (400, "ValidationException"));
    assert!(
        message.starts_with(
            "1 validation error detected: Value 'root sweep' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:"
        ),
        "{message}"
    );
    let conflicting = get(&client, "rootsweep:1", Some("2")).await;
    assert!(matches!(
        conflicting.as_ref().unwrap_err().as_service_error(),
        Some(GetFunctionConfigurationError::InvalidParameterValueException(_))
    ));
    assert_eq!(
        refusal(conflicting).2,
        "The derived qualifier from the function name does not match the specified qualifier."
    );
    // Lambda refuses such functions when they are created; the emulator when it starts.
    for (name, key) in [("root sweep", "ROOTSWEEP_MODE"), ("rootsweep", "1MODE")] {
        let refused = Emulator::new(test_org())
            .function(name, [(key, "audit")])
            .spawn()
            .await;
        assert_eq!(
            refused.err().map(|e| e.kind()),
            Some(std::io::ErrorKind::InvalidInput)
        );
    }
    let too_big = Emulator::new(test_org())
        .function(
            "rootsweep",
            [("ROOTSWEEP_EXEMPT_ACCOUNTS", "1".repeat(4096))],
        )
        .spawn()
        .await;
    assert!(too_big.is_err());
}

#[tokio::test]
async fn errors_on_the_wire_and_throttling() {
    let emulator = emulator().await;
    let signing = Signing::caller("lambda");
    let path = "/2015-03-31/functions/nope/configuration";
    let missing = signed(&emulator, &signing, "GET", path, &[], "").await;
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.header("x-amzn-errortype"),
        Some("ResourceNotFoundException")
    );
    let body: serde_json::Value = serde_json::from_str(&missing.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({
            "Type": "User",
            "Message": "Function not found: arn:aws:lambda:us-east-1:111111111111:function:nope"
        })
    );

    // TooManyRequestsException (429) is retried by the SDK.
    emulator.set_faults(vec![
        Fault::new("GetFunctionConfiguration", FaultKind::Throttle).times(1),
    ]);
    let retrying = Client::new(&caller_config(&emulator).await);
    get(&retrying, "rootsweep", None).await.unwrap();
    let codes: Vec<Option<String>> = emulator
        .calls()
        .into_iter()
        .skip(1)
        .map(|c| c.error_code)
        .collect();
    assert_eq!(codes, [Some("TooManyRequestsException".to_owned()), None]);
}

#[tokio::test]
async fn the_callers_policy_and_other_principals_are_checked() {
    // A role that may read one function's configuration: an operator's, for the CLI.
    let template = r#"
Resources:
  Function:
    Type: AWS::Serverless::Function
    Properties:
      Role: !GetAtt OperatorRole.Arn
  OperatorRole:
    Type: AWS::IAM::Role
    Properties:
      Policies:
        - PolicyName: read-the-deployment
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: lambda:GetFunctionConfiguration
                Resource: arn:aws:lambda:us-east-1:111111111111:function:rootsweep
"#;
    let restricted = with_functions(Emulator::new(test_org()))
        .caller_policy(TemplatePolicy::parse(template).unwrap())
        .spawn()
        .await
        .unwrap();
    let operator = client(&restricted).await;
    get(&operator, "rootsweep", None).await.unwrap();
    get(&operator, ARN, None).await.unwrap();
    let denied = |resource: &str| {
        (
            403,
            "AccessDeniedException".to_owned(),
            format!(
                "User: arn:aws:sts::111111111111:assumed-role/RootSweep/emulator is not authorized to perform: lambda:GetFunctionConfiguration on resource: {resource} because no identity-based policy allows the lambda:GetFunctionConfiguration action"
            ),
        )
    };
    assert_eq!(
        refusal(get(&operator, "bare", None).await),
        denied("arn:aws:lambda:us-east-1:111111111111:function:bare")
    );
    // A version is another resource: the policy names the unqualified function only.
    assert_eq!(
        refusal(get(&operator, "rootsweep", Some("$LATEST")).await),
        denied(&format!("{ARN}:$LATEST"))
    );

    // Without a policy: another account's function needs a resource-based policy (none here),
    // and root sessions may call IAM only.
    let open = emulator().await;
    let other = "arn:aws:lambda:us-east-1:222222222222:function:rootsweep";
    let (status, code, message) = refusal(get(&client(&open).await, other, None).await);
    assert_eq!((status, code.as_str()), (403, "AccessDeniedException"));
    assert!(
        message.ends_with(
            "because no resource-based policy allows the lambda:GetFunctionConfiguration action"
        ),
        "{message}"
    );
    let root = Client::new(&without_retries(&root_session(&open, FULL, AUDIT).await));
    assert_eq!(
        refusal(get(&root, "rootsweep", None).await).1,
        "AccessDeniedException"
    );
}

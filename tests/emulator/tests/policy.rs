//! The caller's IAM policy from infra/template.yaml (`caller_policy`), through the real AWS SDK
//! for Rust: the template as deployed allows every call a sweep makes, in both modes; each
//! mutation of it denies the call it should, with AWS's message. Also STS's global endpoint,
//! which refuses AssumeRoot.

use crate::common::*;
use aws_sdk_cloudwatch::types::MetricDatum;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use rootsweep_emulator::{Emulator, EmulatorHandle, TemplatePolicy};

const TEMPLATE: &str = include_str!("../../../infra/template.yaml");
const CALLER: &str = "arn:aws:sts::111111111111:assumed-role/RootSweep/emulator";

async fn deployed(template: &str, parameters: &[(&str, &str)]) -> EmulatorHandle {
    let policy = parameters.iter().fold(
        TemplatePolicy::parse(template).unwrap(),
        |policy, (name, value)| policy.parameter(*name, *value),
    );
    Emulator::new(test_org())
        .caller_policy(policy)
        .spawn()
        .await
        .unwrap()
}

/// The error code and message of a failed call, `None` for a success.
type Outcome = Option<(String, String)>;

fn outcome<T, E: ProvideErrorMetadata>(result: Result<T, E>) -> Outcome {
    result.err().map(|e| {
        (
            e.code().unwrap().to_owned(),
            e.message().unwrap().to_owned(),
        )
    })
}

/// Every call a sweep makes with the caller's credentials, by name, and how it went.
async fn sweep(emulator: &EmulatorHandle) -> Vec<(&'static str, Outcome)> {
    let config = without_retries(&caller_config(emulator).await);
    let iam = aws_sdk_iam::Client::new(&config);
    let organizations = aws_sdk_organizations::Client::new(&config);
    let sts = aws_sdk_sts::Client::new(&config);
    let datum = MetricDatum::builder()
        .metric_name("SweepCompleted")
        .value(1.0)
        .build();
    let put = |namespace: &'static str| {
        aws_sdk_cloudwatch::Client::new(&config)
            .put_metric_data()
            .namespace(namespace)
            .metric_data(datum.clone())
            .send()
    };
    vec![
        (
            "GetCallerIdentity",
            outcome(sts.get_caller_identity().send().await),
        ),
        (
            "ListOrganizationsFeatures",
            outcome(iam.list_organizations_features().send().await),
        ),
        (
            "DescribeOrganization",
            outcome(organizations.describe_organization().send().await),
        ),
        (
            "ListAccounts",
            outcome(organizations.list_accounts().send().await),
        ),
        (
            "AssumeRoot audit",
            outcome(assume_root(&config, FULL, AUDIT, 900).await),
        ),
        (
            "AssumeRoot delete",
            outcome(assume_root(&config, FULL, DELETE, 900).await),
        ),
        (
            "ListTagsForResource",
            outcome(
                organizations
                    .list_tags_for_resource()
                    .resource_id(FULL)
                    .send()
                    .await,
            ),
        ),
        (
            "ListOrganizationalUnitsForParent",
            outcome(
                organizations
                    .list_organizational_units_for_parent()
                    .parent_id("ou-test-workload")
                    .send()
                    .await,
            ),
        ),
        (
            "ListAccountsForParent",
            outcome(
                organizations
                    .list_accounts_for_parent()
                    .parent_id("ou-test-workload")
                    .send()
                    .await,
            ),
        ),
        ("PutMetricData Rootsweep", outcome(put("Rootsweep").await)),
        ("PutMetricData Other", outcome(put("Other").await)),
    ]
}

/// The names of the calls that were refused, with their error codes.
fn refused(outcomes: &[(&'static str, Outcome)]) -> Vec<(&'static str, String)> {
    outcomes
        .iter()
        .filter_map(|(name, outcome)| outcome.as_ref().map(|(code, _)| (*name, code.clone())))
        .collect()
}

#[tokio::test]
async fn the_template_allows_exactly_what_each_deployment_needs() {
    let audit = deployed(TEMPLATE, &[]).await;
    let outcomes = sweep(&audit).await;
    assert_eq!(
        refused(&outcomes),
        [
            ("AssumeRoot delete", "AccessDenied".into()),
            ("ListTagsForResource", "AccessDeniedException".into()),
            (
                "ListOrganizationalUnitsForParent",
                "AccessDeniedException".into()
            ),
            ("ListAccountsForParent", "AccessDeniedException".into()),
            ("PutMetricData Other", "AccessDenied".into()),
        ]
    );
    let (_, message) = outcomes[5].1.clone().unwrap();
    assert_eq!(
        message,
        format!(
            "User: {CALLER} is not authorized to perform: sts:AssumeRoot on resource: arn:aws:iam::222222222222:root because no identity-based policy allows the sts:AssumeRoot action"
        )
    );
    let (_, message) = outcomes[10].1.clone().unwrap();
    assert_eq!(
        message,
        format!(
            "User: {CALLER} is not authorized to perform: cloudwatch:PutMetricData because no identity-based policy allows the cloudwatch:PutMetricData action"
        )
    );
    audit.shutdown().await.unwrap();

    let enforce = deployed(
        TEMPLATE,
        &[
            ("Mode", "enforce"),
            ("ExemptTagKey", "rootsweep:exempt"),
            ("ExemptOrganizationalUnits", "ou-test-workload"),
        ],
    )
    .await;
    let outcomes = sweep(&enforce).await;
    assert_eq!(
        refused(&outcomes),
        [("PutMetricData Other", "AccessDenied".into())]
    );
    // Tags only of accounts, not of units; and no call the template does not name.
    let organizations =
        aws_sdk_organizations::Client::new(&without_retries(&caller_config(&enforce).await));
    let unit = organizations
        .list_tags_for_resource()
        .resource_id("ou-test-workload")
        .send()
        .await;
    let (code, message) = outcome(unit).unwrap();
    assert_eq!(code, "AccessDeniedException");
    assert!(message.contains(
        "on resource: arn:aws:organizations::111111111111:ou/o-testorg123/ou-test-workload"
    ));
    assert!(organizations.list_roots().send().await.is_err());
    // Root sessions are scoped by their task policy, not by the caller's role.
    let iam = iam_for(&enforce, FULL, DELETE).await;
    iam.get_user().send().await.unwrap();
    iam.delete_login_profile().send().await.unwrap();
    enforce.shutdown().await.unwrap();
}

#[tokio::test]
async fn mutations_of_the_template_deny_the_call_they_break() {
    // Every call allowed before the mutation but the metrics of another namespace.
    let enforce = [
        ("Mode", "enforce"),
        ("ExemptTagKey", "rootsweep:exempt"),
        ("ExemptOrganizationalUnits", "ou-test-workload"),
    ];
    let cases: [(&str, String, &[&str]); 4] = [
        (
            "ListAccounts left out",
            TEMPLATE.replace("- organizations:ListAccounts\n", "\n"),
            &["ListAccounts"],
        ),
        (
            "a wrong TaskPolicyArn in the condition",
            TEMPLATE.replace(
                "root-task/IAMDeleteRootUserCredentials",
                "root-task/IAMCreateRootUserPassword",
            ),
            &["AssumeRoot delete"],
        ),
        (
            "a wrong resource ARN",
            TEMPLATE.replace("iam::*:root", "iam::*:user/root"),
            &["AssumeRoot audit", "AssumeRoot delete"],
        ),
        (
            "the condition's namespace parameter",
            TEMPLATE.replace(
                "cloudwatch:namespace: !Ref MetricsNamespace",
                "cloudwatch:namespace: Rootsweep2",
            ),
            &["PutMetricData Rootsweep"],
        ),
    ];
    for (what, template, broken) in cases {
        assert_ne!(template, TEMPLATE, "{what}: the mutation applies");
        let emulator = deployed(&template, &enforce).await;
        let refused: Vec<&str> = refused(&sweep(&emulator).await)
            .into_iter()
            .map(|(name, _)| name)
            .filter(|name| *name != "PutMetricData Other")
            .collect();
        assert_eq!(refused, broken, "{what}");
        emulator.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn an_explicit_deny_wins() {
    let deny = "              - Sid: NoMetrics\n                Effect: Deny\n                Action: cloudwatch:Put*\n                Resource: \"*\"\n";
    let template = TEMPLATE.replacen(
        "              - Sid: PublishRunMetrics\n",
        &format!("{deny}              - Sid: PublishRunMetrics\n"),
        1,
    );
    let emulator = deployed(&template, &[]).await;
    let outcomes = sweep(&emulator).await;
    let (code, message) = outcomes[9].1.clone().unwrap();
    assert_eq!(code, "AccessDenied");
    assert_eq!(
        message,
        format!(
            "User: {CALLER} is not authorized to perform: cloudwatch:PutMetricData with an explicit deny in an identity-based policy"
        )
    );
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_template_the_emulator_cannot_evaluate_is_refused_at_start() {
    let policy = TemplatePolicy::parse(TEMPLATE)
        .unwrap()
        .parameter("Mode", "destroy");
    let error = Emulator::new(test_org())
        .caller_policy(policy)
        .spawn()
        .await
        .err()
        .unwrap();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    assert!(
        error.to_string().contains("not an allowed value of Mode"),
        "{error}"
    );
}

const ASSUME_ROOT: &str = "Action=AssumeRoot&Version=2011-06-15&TargetPrincipal=222222222222\
    &TaskPolicyArn.arn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2Froot-task%2FIAMAuditRootUserCredentials";
const FORM: &str = "Content-Type: application/x-www-form-urlencoded";

/// An STS call to the global endpoint's host, signed for `region`.
async fn global(emulator: &EmulatorHandle, region: &str, body: &str) -> (u16, String) {
    let signing = Signing {
        region: region.to_owned(),
        ..Signing::caller("sts")
    };
    let headers = signing.sign("sts.amazonaws.com", "/", &[FORM], body);
    post(emulator, &headers, body).await
}

#[tokio::test]
async fn the_global_sts_endpoint_refuses_assume_root() {
    let emulator = Emulator::start(test_org()).await.unwrap();
    let (status, body) = global(&emulator, "us-east-1", ASSUME_ROOT).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("<Code>InvalidAction</Code><Message>Unknown Operation</Message>"),
        "{body}"
    );
    assert!(emulator.issued_credentials().is_empty());
    let (status, body) = global(
        &emulator,
        "us-east-1",
        "Action=GetCallerIdentity&Version=2011-06-15",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // The global endpoint is in us-east-1: a scope for another region does not verify.
    let (status, body) = global(&emulator, "eu-west-1", ASSUME_ROOT).await;
    assert_eq!(status, 403);
    assert!(
        body.contains("Credential should be scoped to a valid region, not &apos;eu-west-1&apos;."),
        "{body}"
    );
    // The same request to the emulator's own (regional) address works.
    let headers = Signing::caller("sts").sign("localhost", "/", &[FORM], ASSUME_ROOT);
    assert_eq!(post(&emulator, &headers, ASSUME_ROOT).await.0, 200);
    emulator.shutdown().await.unwrap();
}

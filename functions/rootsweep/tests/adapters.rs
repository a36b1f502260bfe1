//! The SDK adapters on their own, with `aws-smithy-mocks` behind the clients: how AWS's answers
//! and errors become domain values (codes, kinds, "already gone", "no password"), and paging.

use std::collections::BTreeMap;

use aws_sdk_iam::operation::deactivate_mfa_device::DeactivateMFADeviceError;
use aws_sdk_iam::operation::delete_access_key::DeleteAccessKeyError;
use aws_sdk_iam::operation::get_access_key_last_used::GetAccessKeyLastUsedOutput;
use aws_sdk_iam::operation::get_account_summary::GetAccountSummaryOutput;
use aws_sdk_iam::operation::get_login_profile::GetLoginProfileError;
use aws_sdk_iam::operation::get_user::GetUserOutput;
use aws_sdk_iam::operation::list_access_keys::ListAccessKeysOutput;
use aws_sdk_iam::operation::list_mfa_devices::ListMfaDevicesOutput;
use aws_sdk_iam::operation::list_organizations_features::ListOrganizationsFeaturesError;
use aws_sdk_iam::operation::list_signing_certificates::ListSigningCertificatesOutput;
use aws_sdk_iam::types::error::{
    AccountNotManagementOrDelegatedAdministratorException, EntityTemporarilyUnmodifiableException,
    NoSuchEntityException, ServiceAccessNotEnabledException,
};
use aws_sdk_iam::types::{AccessKeyMetadata, SummaryKeyType, User};
use aws_sdk_lambda::operation::get_function_configuration::{
    GetFunctionConfigurationError, GetFunctionConfigurationOutput,
};
use aws_sdk_lambda::types::error::ResourceNotFoundException;
use aws_sdk_lambda::types::{EnvironmentError, EnvironmentResponse};
use aws_sdk_organizations::operation::list_accounts::ListAccountsOutput;
use aws_sdk_organizations::types::{
    Account as SdkAccount, AccountState as SdkState, AccountStatus,
};
use aws_sdk_sts::operation::assume_root::AssumeRootOutput;
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::error::ErrorMetadata;
use futures::StreamExt;
use rootsweep::account::{AccountState, Partition};
use rootsweep::aws::deployment::SdkDeployment;
use rootsweep::aws::organization::SdkOrganization;
use rootsweep::aws::root_session::{SdkRootAccess, SdkRootSession};
use rootsweep::config::Config;
use rootsweep::credentials::{Credential, CredentialKind, TaskPolicy, TaskPolicyArn};
use rootsweep::ports::{
    AwsErrorKind, DeployedFunction, Deployment, Organization, Removal, RootAccess, RootSession,
};
use rootsweep::preflight::{PreflightError, preflight};
use rootsweep_testkit::id;

fn meta(code: &str) -> ErrorMetadata {
    ErrorMetadata::builder()
        .code(code)
        .message("from AWS")
        .build()
}

fn organization(
    iam: aws_sdk_iam::Client,
    organizations: aws_sdk_organizations::Client,
) -> SdkOrganization {
    let sts = mock_client!(aws_sdk_sts, RuleMode::MatchAny, Vec::<&Rule>::new());
    SdkOrganization::new(sts, iam, organizations)
}

#[tokio::test]
async fn each_list_organizations_features_exception_is_a_distinct_preflight_error() {
    let not_admin = mock!(aws_sdk_iam::Client::list_organizations_features).then_error(|| {
        ListOrganizationsFeaturesError::AccountNotManagementOrDelegatedAdministratorException(
            AccountNotManagementOrDelegatedAdministratorException::builder()
                .meta(meta(
                    "AccountNotManagementOrDelegatedAdministratorException",
                ))
                .build(),
        )
    });
    let no_access = mock!(aws_sdk_iam::Client::list_organizations_features).then_error(|| {
        ListOrganizationsFeaturesError::ServiceAccessNotEnabledException(
            ServiceAccessNotEnabledException::builder()
                .meta(meta("ServiceAccessNotEnabledException"))
                .build(),
        )
    });
    let organizations = mock_client!(
        aws_sdk_organizations,
        RuleMode::MatchAny,
        Vec::<&Rule>::new()
    );
    for (rule, expected) in [
        (
            not_admin,
            PreflightError::NotManagementOrDelegatedAdministrator,
        ),
        (no_access, PreflightError::TrustedAccessDisabled),
    ] {
        let iam = mock_client!(aws_sdk_iam, RuleMode::MatchAny, [&rule]);
        let err = preflight(&organization(iam, organizations.clone()))
            .await
            .unwrap_err();
        assert_eq!(err, expected);
    }
}

#[tokio::test]
async fn the_account_listing_follows_every_page_and_reads_the_old_status_field_too() {
    let page = |ids: &[u64], token: Option<&str>| {
        let accounts = ids.iter().map(|n| {
            SdkAccount::builder()
                .id(id(*n).to_string())
                .name(format!("a{n}"))
                .state(SdkState::Active)
                .build()
        });
        ListAccountsOutput::builder()
            .set_accounts(Some(accounts.collect()))
            .set_next_token(token.map(str::to_owned))
            .build()
    };
    let first = mock!(aws_sdk_organizations::Client::list_accounts)
        .match_requests(|r| r.next_token().is_none())
        .then_output(move || page(&[1, 2], Some("t1")));
    let empty = mock!(aws_sdk_organizations::Client::list_accounts)
        .match_requests(|r| r.next_token() == Some("t1"))
        .then_output(move || page(&[], Some("t2")));
    let last = mock!(aws_sdk_organizations::Client::list_accounts)
        .match_requests(|r| r.next_token() == Some("t2"))
        .then_output(|| {
            let old = SdkAccount::builder()
                .id("000000000003")
                .name("old")
                .status(AccountStatus::Suspended)
                .build();
            ListAccountsOutput::builder().accounts(old).build()
        });
    let organizations = mock_client!(
        aws_sdk_organizations,
        RuleMode::MatchAny,
        [&first, &empty, &last]
    );
    let iam = mock_client!(aws_sdk_iam, RuleMode::MatchAny, Vec::<&Rule>::new());
    let listed: Vec<_> = organization(iam, organizations)
        .accounts()
        .map(|a| a.unwrap())
        .collect()
        .await;
    let states: Vec<(String, AccountState)> = listed
        .into_iter()
        .map(|a| (a.id.to_string(), a.state))
        .collect();
    assert_eq!(
        states,
        [
            ("000000000001".into(), AccountState::Active),
            ("000000000002".into(), AccountState::Active),
            ("000000000003".into(), AccountState::Suspended),
        ]
    );
}

/// A `NextToken` given twice would loop or start over: the listing breaks off with an error
/// that says so, after the accounts it did list (the SDK's paginators stop there silently).
#[tokio::test]
async fn a_next_token_given_again_breaks_the_listing_off() {
    let page = |n: u64, token: &str| {
        let account = SdkAccount::builder()
            .id(id(n).to_string())
            .name(format!("a{n}"))
            .state(SdkState::Active)
            .build();
        ListAccountsOutput::builder()
            .accounts(account)
            .next_token(token)
            .build()
    };
    let first = mock!(aws_sdk_organizations::Client::list_accounts)
        .match_requests(|r| r.next_token().is_none())
        .then_output(move || page(1, "t1"));
    let again = mock!(aws_sdk_organizations::Client::list_accounts)
        .match_requests(|r| r.next_token() == Some("t1"))
        .then_output(move || page(2, "t1"));
    let organizations = mock_client!(aws_sdk_organizations, RuleMode::MatchAny, [&first, &again]);
    let iam = mock_client!(aws_sdk_iam, RuleMode::MatchAny, Vec::<&Rule>::new());
    let listed: Vec<_> = organization(iam, organizations).accounts().collect().await;
    assert_eq!(listed.len(), 3, "two accounts, then the error: {listed:?}");
    assert_eq!(listed[1].as_ref().unwrap().id, id(2));
    let err = listed[2].as_ref().unwrap_err();
    assert!(
        err.message.contains("NextToken it had returned before"),
        "{err}"
    );
    assert_eq!(err.operation, "organizations:ListAccounts");
}

/// A root session whose IAM calls the `rules` answer.
async fn session(iam: aws_sdk_iam::Client) -> SdkRootSession {
    let assume = mock!(aws_sdk_sts::Client::assume_root).then_output(|| {
        let credentials = aws_sdk_sts::types::Credentials::builder()
            .access_key_id("ASIAMOCK")
            .secret_access_key("mock-secret")
            .session_token("mock-token")
            .expiration(aws_smithy_types::DateTime::from_secs(4_000_000_000))
            .build()
            .unwrap();
        AssumeRootOutput::builder().credentials(credentials).build()
    });
    let sts = mock_client!(aws_sdk_sts, RuleMode::MatchAny, [&assume]);
    let root = SdkRootAccess::new(
        sts,
        iam.config().clone(),
        Config::default().root_session_duration,
    );
    let task = TaskPolicyArn::new(TaskPolicy::Audit, &Partition::default());
    root.assume_root(&id(1), &task).await.unwrap()
}

#[tokio::test]
async fn the_account_summary_says_which_credential_kinds_exist() {
    let summary = mock!(aws_sdk_iam::Client::get_account_summary).then_output(|| {
        GetAccountSummaryOutput::builder()
            .summary_map(SummaryKeyType::AccountAccessKeysPresent, 1)
            .summary_map(SummaryKeyType::AccountMfaEnabled, 0)
            .summary_map(SummaryKeyType::AccountSigningCertificatesPresent, 1)
            .summary_map(SummaryKeyType::Users, 7)
            .build()
    });
    let iam = mock_client!(aws_sdk_iam, RuleMode::MatchAny, [&summary]);
    let found = session(iam).await.summary().await.unwrap();
    assert_eq!(
        (
            found.access_keys,
            found.signing_certificates,
            found.mfa_devices
        ),
        (Some(true), Some(true), Some(false))
    );
}

/// An answer without a `SummaryMap`, or without a key, is no proof that there is none: the audit
/// lists what the summary does not rule out. An account holding a root access key and no
/// password was reported clean.
#[tokio::test]
async fn a_summary_that_does_not_say_is_unknown_and_the_audit_lists_that_kind() {
    let without_the_key = GetAccountSummaryOutput::builder()
        .summary_map(SummaryKeyType::AccountMfaEnabled, 0)
        .summary_map(SummaryKeyType::AccountSigningCertificatesPresent, 0)
        .build();
    for answer in [GetAccountSummaryOutput::builder().build(), without_the_key] {
        let summary =
            mock!(aws_sdk_iam::Client::get_account_summary).then_output(move || answer.clone());
        let no_password = mock!(aws_sdk_iam::Client::get_login_profile).then_error(|| {
            GetLoginProfileError::NoSuchEntityException(
                NoSuchEntityException::builder()
                    .meta(meta("NoSuchEntity"))
                    .build(),
            )
        });
        let user = mock!(aws_sdk_iam::Client::get_user).then_output(|| {
            let root = User::builder()
                .path("/")
                .user_name("root")
                .user_id("000000000001")
                .arn("arn:aws:iam::000000000001:root")
                .create_date(aws_smithy_types::DateTime::from_secs(1_600_000_000))
                .build()
                .unwrap();
            GetUserOutput::builder().user(root).build()
        });
        let keys = mock!(aws_sdk_iam::Client::list_access_keys).then_output(|| {
            let key = AccessKeyMetadata::builder()
                .access_key_id("AKIAROOTKEY")
                .create_date(aws_smithy_types::DateTime::from_secs(1_600_000_000))
                .build();
            ListAccessKeysOutput::builder()
                .access_key_metadata(key)
                .build()
                .unwrap()
        });
        let last_used = mock!(aws_sdk_iam::Client::get_access_key_last_used)
            .then_output(|| GetAccessKeyLastUsedOutput::builder().build());
        let certificates =
            mock!(aws_sdk_iam::Client::list_signing_certificates).then_output(|| {
                ListSigningCertificatesOutput::builder()
                    .set_certificates(Some(Vec::new()))
                    .build()
                    .unwrap()
            });
        let devices = mock!(aws_sdk_iam::Client::list_mfa_devices).then_output(|| {
            ListMfaDevicesOutput::builder()
                .set_mfa_devices(Some(Vec::new()))
                .build()
                .unwrap()
        });
        let iam = mock_client!(
            aws_sdk_iam,
            RuleMode::MatchAny,
            [
                &summary,
                &no_password,
                &user,
                &keys,
                &last_used,
                &certificates,
                &devices
            ]
        );
        let found = rootsweep::session::audit(&session(iam).await)
            .await
            .unwrap();
        let ids: Vec<(CredentialKind, &str)> = found
            .credentials
            .iter()
            .map(|c| (c.kind, c.id.as_str()))
            .collect();
        assert_eq!(ids, [(CredentialKind::AccessKey, "AKIAROOTKEY")]);
    }
}

#[tokio::test]
async fn no_login_profile_means_no_password_and_a_removal_of_what_is_gone_is_already_gone() {
    let no_profile = mock!(aws_sdk_iam::Client::get_login_profile).then_error(|| {
        GetLoginProfileError::NoSuchEntityException(
            NoSuchEntityException::builder()
                .meta(meta("NoSuchEntity"))
                .build(),
        )
    });
    let gone = mock!(aws_sdk_iam::Client::delete_access_key).then_error(|| {
        DeleteAccessKeyError::NoSuchEntityException(
            NoSuchEntityException::builder()
                .meta(meta("NoSuchEntity"))
                .build(),
        )
    });
    let iam = mock_client!(aws_sdk_iam, RuleMode::MatchAny, [&no_profile, &gone]);
    let session = session(iam).await;
    assert!(
        session
            .list(CredentialKind::Password)
            .await
            .unwrap()
            .is_empty()
    );
    let key = Credential::new(CredentialKind::AccessKey, "AKIAGONE", None);
    assert_eq!(session.remove(&key).await.unwrap(), Removal::AlreadyGone);
}

#[tokio::test]
async fn errors_keep_aws_s_code_and_are_classified_for_the_operator() {
    let settling = mock!(aws_sdk_iam::Client::deactivate_mfa_device).then_error(|| {
        DeactivateMFADeviceError::EntityTemporarilyUnmodifiableException(
            EntityTemporarilyUnmodifiableException::builder()
                .meta(meta("EntityTemporarilyUnmodifiable"))
                .build(),
        )
    });
    let throttled = mock!(aws_sdk_iam::Client::delete_access_key)
        .then_error(|| DeleteAccessKeyError::generic(meta("Throttling")));
    let unavailable =
        mock!(aws_sdk_iam::Client::delete_signing_certificate).then_http_response(|| {
            aws_smithy_runtime_api::http::Response::new(
                StatusCode::try_from(503).unwrap(),
                SdkBody::from(
                    "<ErrorResponse><Error><Code>ServiceUnavailable</Code></Error></ErrorResponse>",
                ),
            )
        });
    let denied = mock!(aws_sdk_iam::Client::get_user).then_error(|| {
        aws_sdk_iam::operation::get_user::GetUserError::generic(meta("AccessDenied"))
    });
    let iam = mock_client!(
        aws_sdk_iam,
        RuleMode::MatchAny,
        [&settling, &throttled, &unavailable, &denied]
    );
    let session = session(iam).await;
    let mfa = Credential::new(CredentialKind::MfaDevice, "GAHT1", None);
    let err = session.remove(&mfa).await.unwrap_err();
    assert!(err.has_code("EntityTemporarilyUnmodifiable"));
    assert_eq!(err.operation, "iam:DeactivateMFADevice");
    let key = Credential::new(CredentialKind::AccessKey, "AKIA1", None);
    assert_eq!(
        session.remove(&key).await.unwrap_err().kind,
        AwsErrorKind::Throttled
    );
    let cert = Credential::new(CredentialKind::SigningCertificate, "CERT1", None);
    assert_eq!(
        session.remove(&cert).await.unwrap_err().kind,
        AwsErrorKind::ServiceUnavailable
    );
    assert_eq!(
        session.root_user().await.unwrap_err().kind,
        AwsErrorKind::AccessDenied
    );
}

const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:111111111111:function:rootsweep";

#[tokio::test]
async fn a_deployment_runs_with_its_configurations_variables_and_none_without_an_environment() {
    let configured = mock!(aws_sdk_lambda::Client::get_function_configuration)
        .match_requests(|r| r.function_name() == Some("rootsweep") && r.qualifier().is_none())
        .then_output(|| {
            GetFunctionConfigurationOutput::builder()
                .function_arn(FUNCTION_ARN)
                .environment(
                    EnvironmentResponse::builder()
                        .variables("ROOTSWEEP_MODE", "enforce")
                        .variables("ROOTSWEEP_MAX_REMEDIATIONS", "10")
                        .build(),
                )
                .build()
        });
    let bare = mock!(aws_sdk_lambda::Client::get_function_configuration)
        .match_requests(|r| r.function_name() == Some("bare"))
        .then_output(|| {
            GetFunctionConfigurationOutput::builder()
                .function_arn("arn:aws:lambda:us-east-1:111111111111:function:bare")
                .build()
        });
    let lambda = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, [&configured, &bare]);
    let deployment = SdkDeployment::new(lambda);

    assert_eq!(
        deployment.configuration("rootsweep").await.unwrap(),
        DeployedFunction {
            arn: FUNCTION_ARN.to_owned(),
            variables: BTreeMap::from([
                ("ROOTSWEEP_MAX_REMEDIATIONS".to_owned(), "10".to_owned()),
                ("ROOTSWEEP_MODE".to_owned(), "enforce".to_owned()),
            ]),
        }
    );
    let bare = deployment.configuration("bare").await.unwrap();
    assert_eq!(bare.variables, BTreeMap::new());
}

#[tokio::test]
async fn a_deployment_that_cannot_be_read_is_an_error_never_an_empty_configuration() {
    let missing = mock!(aws_sdk_lambda::Client::get_function_configuration)
        .match_requests(|r| r.function_name() == Some("nope"))
        .then_error(|| {
            GetFunctionConfigurationError::ResourceNotFoundException(
                ResourceNotFoundException::builder()
                    .meta(meta("ResourceNotFoundException"))
                    .build(),
            )
        });
    let denied = mock!(aws_sdk_lambda::Client::get_function_configuration)
        .match_requests(|r| r.function_name() == Some("guarded"))
        .then_error(|| GetFunctionConfigurationError::generic(meta("AccessDeniedException")));
    let undecryptable = mock!(aws_sdk_lambda::Client::get_function_configuration)
        .match_requests(|r| r.function_name() == Some("sealed"))
        .then_output(|| {
            let error = EnvironmentError::builder()
                .error_code("KMSAccessDeniedException")
                .message("the key's policy text")
                .build();
            GetFunctionConfigurationOutput::builder()
                .function_arn(FUNCTION_ARN)
                .environment(EnvironmentResponse::builder().error(error).build())
                .build()
        });
    let anonymous = mock!(aws_sdk_lambda::Client::get_function_configuration)
        .match_requests(|r| r.function_name() == Some("odd"))
        .then_output(|| GetFunctionConfigurationOutput::builder().build());
    let lambda = mock_client!(
        aws_sdk_lambda,
        RuleMode::MatchAny,
        [&missing, &denied, &undecryptable, &anonymous]
    );
    let deployment = SdkDeployment::new(lambda);

    let missing = deployment.configuration("nope").await.unwrap_err();
    assert_eq!(
        (missing.operation, missing.kind),
        ("lambda:GetFunctionConfiguration", AwsErrorKind::NotFound)
    );
    assert!(missing.has_code("ResourceNotFoundException"));
    let denied = deployment.configuration("guarded").await.unwrap_err();
    assert_eq!(denied.kind, AwsErrorKind::AccessDenied);
    let sealed = deployment.configuration("sealed").await.unwrap_err();
    assert!(sealed.has_code("KMSAccessDeniedException"));
    assert!(sealed.message.contains(FUNCTION_ARN), "{sealed}");
    assert!(!sealed.message.contains("policy text"), "{sealed}");
    let odd = deployment.configuration("odd").await.unwrap_err();
    assert_eq!(odd.kind, AwsErrorKind::Other);
    assert!(odd.message.contains("without a FunctionArn"), "{odd}");
}

//! The sweep engine through its real SDK adapters, with `aws-smithy-mocks` behind the clients.
//!
//! The IAM mocks answer from a small in-memory root user (`RootUser`) that the delete calls
//! change, so each test states the credentials an account starts with and checks the exact
//! calls made and what is left.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use aws_sdk_iam::operation::deactivate_mfa_device::DeactivateMfaDeviceOutput;
use aws_sdk_iam::operation::delete_access_key::DeleteAccessKeyOutput;
use aws_sdk_iam::operation::delete_login_profile::DeleteLoginProfileOutput;
use aws_sdk_iam::operation::delete_signing_certificate::DeleteSigningCertificateOutput;
use aws_sdk_iam::operation::delete_virtual_mfa_device::DeleteVirtualMFADeviceError;
use aws_sdk_iam::operation::get_access_key_last_used::GetAccessKeyLastUsedOutput;
use aws_sdk_iam::operation::get_login_profile::{GetLoginProfileError, GetLoginProfileOutput};
use aws_sdk_iam::operation::get_user::GetUserOutput;
use aws_sdk_iam::operation::list_access_keys::ListAccessKeysOutput;
use aws_sdk_iam::operation::list_mfa_devices::ListMfaDevicesOutput;
use aws_sdk_iam::operation::list_organizations_features::{
    ListOrganizationsFeaturesError, ListOrganizationsFeaturesOutput,
};
use aws_sdk_iam::operation::list_signing_certificates::ListSigningCertificatesOutput;
use aws_sdk_iam::types::error::NoSuchEntityException;
use aws_sdk_iam::types::{
    AccessKeyLastUsed, AccessKeyMetadata, FeatureType, LoginProfile, MfaDevice, SigningCertificate,
    StatusType, User,
};
use aws_sdk_organizations::operation::describe_organization::DescribeOrganizationOutput;
use aws_sdk_organizations::operation::list_accounts::ListAccountsOutput;
use aws_sdk_organizations::types::{
    Account as OrgAccount, AccountState as OrgAccountState, Organization as OrgInfo,
};
use aws_sdk_sts::operation::assume_root::{AssumeRootError, AssumeRootOutput};
use aws_smithy_mocks::{MockResponse, Rule, RuleMode, mock, mock_client};
use aws_smithy_types::error::ErrorMetadata;
use chrono::{DateTime, TimeDelta, Utc};
use rootsweep::aws::metrics::CloudWatchMetrics;
use rootsweep::aws::organization::SdkOrganization;
use rootsweep::aws::root_session::SdkRootAccess;
use rootsweep::config::{AccountId, Mode};
use rootsweep::event::{RunRequest, Scope};
use rootsweep::preflight::PreflightError;
use rootsweep::report::{AccountReport, JsonLines, Outcome, Stage};
use rootsweep::{Config, Report, RunOptions, Sweeper};

const MANAGEMENT: &str = "000000000000";
const MEMBER: &str = "111111111111";

fn days_ago(days: i64) -> DateTime<Utc> {
    Utc::now() - TimeDelta::days(days)
}

fn smithy(date: DateTime<Utc>) -> aws_smithy_types::DateTime {
    aws_smithy_types::DateTime::from_secs(date.timestamp())
}

fn no_such_entity(what: &str) -> NoSuchEntityException {
    NoSuchEntityException::builder()
        .message(format!("The {what} cannot be found."))
        .meta(ErrorMetadata::builder().code("NoSuchEntity").build())
        .build()
}

fn access_denied(message: &str) -> ErrorMetadata {
    ErrorMetadata::builder()
        .code("AccessDenied")
        .message(message)
        .build()
}

/// The root user of the member account, as the IAM mocks see it.
#[derive(Debug, Clone, Default)]
struct RootUser {
    password_last_used: Option<DateTime<Utc>>,
    login_profile: Option<DateTime<Utc>>,
    access_keys: Vec<(String, DateTime<Utc>)>,
    certificates: Vec<(String, DateTime<Utc>)>,
    mfa_devices: Vec<(String, DateTime<Utc>)>,
}

impl RootUser {
    fn is_clean(&self) -> bool {
        self.login_profile.is_none()
            && self.access_keys.is_empty()
            && self.certificates.is_empty()
            && self.mfa_devices.is_empty()
    }
}

/// A mocked organization: one management account, some members, and one root user model
/// that every root session reads and changes.
struct World {
    accounts: Vec<(String, OrgAccountState)>,
    features: Result<Vec<FeatureType>, fn() -> ListOrganizationsFeaturesError>,
    /// AssumeRoot is denied for these target accounts.
    deny_assume_root: BTreeSet<String>,
    /// Applied to the root user when the first delete session opens (someone signs in meanwhile).
    on_delete_session: Option<fn(&mut RootUser)>,
    /// Each listed credential vanishes just before our delete call reaches it.
    removed_by_someone_else: bool,
    /// MFA deactivation is refused as it is right after a root password recovery.
    mfa_settling: bool,
    /// Organizational units as (unit, parent), and the unit holding each account (else the root).
    units: Vec<(String, String)>,
    holder: BTreeMap<String, String>,
    /// Tags by account; `None` makes ListTagsForResource fail.
    tags: Option<BTreeMap<String, Vec<(String, String)>>>,
    /// Every Organizations call made for exemptions, as `Operation argument`.
    exemption_calls: Arc<Mutex<Vec<String>>>,
    user: Arc<Mutex<RootUser>>,
    /// Every AssumeRoot and IAM write, in order, as `Operation target`.
    calls: Arc<Mutex<Vec<String>>>,
}

impl World {
    fn new(user: RootUser) -> Self {
        Self {
            accounts: vec![
                (MANAGEMENT.into(), OrgAccountState::Active),
                (MEMBER.into(), OrgAccountState::Active),
            ],
            features: Ok(vec![
                FeatureType::RootCredentialsManagement,
                FeatureType::RootSessions,
            ]),
            deny_assume_root: BTreeSet::new(),
            on_delete_session: None,
            removed_by_someone_else: false,
            mfa_settling: false,
            units: Vec::new(),
            holder: BTreeMap::new(),
            tags: Some(BTreeMap::new()),
            exemption_calls: Arc::default(),
            user: Arc::new(Mutex::new(user)),
            calls: Arc::default(),
        }
    }

    fn user(&self) -> RootUser {
        self.user.lock().unwrap().clone()
    }

    fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }

    fn writes(&self) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter(|c| !c.starts_with("AssumeRoot"))
            .collect()
    }

    fn sweeper(
        &self,
        config: Config,
    ) -> Sweeper<SdkOrganization, SdkRootAccess, CloudWatchMetrics> {
        let features = self.features.clone();
        let features_rule = mock!(aws_sdk_iam::Client::list_organizations_features)
            .then_compute_response(move |_| match &features {
                Ok(list) => MockResponse::Output(
                    ListOrganizationsFeaturesOutput::builder()
                        .organization_id("o-example")
                        .set_enabled_features(Some(list.clone()))
                        .build(),
                ),
                Err(error) => MockResponse::Error(error()),
            });
        let describe =
            mock!(aws_sdk_organizations::Client::describe_organization).then_output(|| {
                DescribeOrganizationOutput::builder()
                    .organization(
                        OrgInfo::builder()
                            .id("o-example")
                            .master_account_id(MANAGEMENT)
                            .build(),
                    )
                    .build()
            });
        let accounts: Vec<OrgAccount> = self
            .accounts
            .iter()
            .map(|(id, state)| {
                OrgAccount::builder()
                    .id(id)
                    .name(format!("account-{id}"))
                    .state(state.clone())
                    .build()
            })
            .collect();
        let list = mock!(aws_sdk_organizations::Client::list_accounts).then_output(move || {
            ListAccountsOutput::builder()
                .set_accounts(Some(accounts.clone()))
                .build()
        });

        let (calls, deny, user, hook) = (
            self.calls.clone(),
            self.deny_assume_root.clone(),
            self.user.clone(),
            self.on_delete_session,
        );
        let fired = Arc::new(Mutex::new(false));
        let assume = mock!(aws_sdk_sts::Client::assume_root).then_compute_response(move |req| {
            let target = req.target_principal().unwrap_or_default().to_owned();
            let policy = req
                .task_policy_arn()
                .and_then(|p| p.arn())
                .unwrap_or_default();
            let policy = policy.rsplit('/').next().unwrap_or_default().to_owned();
            calls
                .lock()
                .unwrap()
                .push(format!("AssumeRoot {target} {policy}"));
            if deny.contains(&target) {
                return MockResponse::Error(AssumeRootError::generic(access_denied(
                    "User is not authorized to perform: sts:AssumeRoot",
                )));
            }
            if let (true, Some(hook)) = (policy == "IAMDeleteRootUserCredentials", hook) {
                let mut fired = fired.lock().unwrap();
                if !*fired {
                    *fired = true;
                    hook(&mut user.lock().unwrap());
                }
            }
            let credentials = aws_sdk_sts::types::Credentials::builder()
                .access_key_id("ASIAMOCKSESSION")
                .secret_access_key("mock-secret")
                .session_token("mock-token")
                .expiration(smithy(Utc::now() + TimeDelta::minutes(15)))
                .build()
                .unwrap();
            MockResponse::Output(AssumeRootOutput::builder().credentials(credentials).build())
        });

        let iam_caller = mock_client!(aws_sdk_iam, RuleMode::MatchAny, [&features_rule]);
        let exemption_rules = self.exemption_rules();
        let organizations = mock_client!(
            aws_sdk_organizations,
            RuleMode::MatchAny,
            [&describe, &list].into_iter().chain(exemption_rules.iter())
        );
        let sts = mock_client!(aws_sdk_sts, RuleMode::MatchAny, [&assume]);
        let iam_root = mock_client!(
            aws_sdk_iam,
            RuleMode::MatchAny,
            self.root_user_rules().iter()
        );
        let put_metrics = mock!(aws_sdk_cloudwatch::Client::put_metric_data).then_output(|| {
            aws_sdk_cloudwatch::operation::put_metric_data::PutMetricDataOutput::builder().build()
        });
        let cloudwatch = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&put_metrics]);
        let duration = config.root_session_duration;
        Sweeper::new(
            config,
            SdkOrganization::new(sts.clone(), iam_caller, organizations),
            SdkRootAccess::new(sts, iam_root.config().clone(), duration),
            CloudWatchMetrics::new(cloudwatch),
        )
    }

    /// The Organizations calls that only exemptions need, answered from the unit tree and tags.
    fn exemption_rules(&self) -> Vec<Rule> {
        use aws_sdk_organizations::operation::list_accounts_for_parent::ListAccountsForParentOutput;
        use aws_sdk_organizations::operation::list_organizational_units_for_parent::ListOrganizationalUnitsForParentOutput;
        use aws_sdk_organizations::operation::list_tags_for_resource::{
            ListTagsForResourceError, ListTagsForResourceOutput,
        };
        use aws_sdk_organizations::types::{OrganizationalUnit, Tag};
        let (log, holder) = (self.exemption_calls.clone(), self.holder.clone());
        let accounts = self.accounts.clone();
        let accounts_for_parent = mock!(aws_sdk_organizations::Client::list_accounts_for_parent)
            .then_compute_output(move |req| {
                let parent = req.parent_id().unwrap_or_default().to_owned();
                log.lock()
                    .unwrap()
                    .push(format!("ListAccountsForParent {parent}"));
                let held = accounts
                    .iter()
                    .filter(|(id, _)| holder.get(id).map_or("r-ab12", String::as_str) == parent)
                    .map(|(id, state)| {
                        OrgAccount::builder()
                            .id(id)
                            .name(format!("account-{id}"))
                            .state(state.clone())
                            .build()
                    })
                    .collect();
                ListAccountsForParentOutput::builder()
                    .set_accounts(Some(held))
                    .build()
            });
        let (log, units) = (self.exemption_calls.clone(), self.units.clone());
        let units_for_parent =
            mock!(aws_sdk_organizations::Client::list_organizational_units_for_parent)
                .then_compute_output(move |req| {
                    let parent = req.parent_id().unwrap_or_default().to_owned();
                    log.lock()
                        .unwrap()
                        .push(format!("ListOrganizationalUnitsForParent {parent}"));
                    let children = units
                        .iter()
                        .filter(|(_, p)| *p == parent)
                        .map(|(unit, _)| OrganizationalUnit::builder().id(unit).build())
                        .collect();
                    ListOrganizationalUnitsForParentOutput::builder()
                        .set_organizational_units(Some(children))
                        .build()
                });
        let (log, tags) = (self.exemption_calls.clone(), self.tags.clone());
        let list_tags = mock!(aws_sdk_organizations::Client::list_tags_for_resource)
            .then_compute_response(move |req| {
                let id = req.resource_id().unwrap_or_default().to_owned();
                log.lock()
                    .unwrap()
                    .push(format!("ListTagsForResource {id}"));
                match &tags {
                    Some(tags) => MockResponse::Output(
                        ListTagsForResourceOutput::builder()
                            .set_tags(Some(
                                tags.get(&id)
                                    .into_iter()
                                    .flatten()
                                    .map(|(k, v)| Tag::builder().key(k).value(v).build().unwrap())
                                    .collect(),
                            ))
                            .build(),
                    ),
                    None => MockResponse::Error(ListTagsForResourceError::generic(
                        ErrorMetadata::builder()
                            .code("AccessDeniedException")
                            .message("not authorized")
                            .build(),
                    )),
                }
            });
        vec![accounts_for_parent, units_for_parent, list_tags]
    }

    /// IAM as a root session sees it, answered from `self.user`.
    fn root_user_rules(&self) -> Vec<Rule> {
        let u = &self.user;
        let log = &self.calls;
        let race = self.removed_by_someone_else;
        let get_user = {
            let u = u.clone();
            mock!(aws_sdk_iam::Client::get_user).then_compute_output(move |_| {
                let user = User::builder()
                    .path("/")
                    .user_name("root")
                    .user_id(MEMBER)
                    .arn(format!("arn:aws:iam::{MEMBER}:root"))
                    .create_date(smithy(days_ago(900)))
                    .set_password_last_used(u.lock().unwrap().password_last_used.map(smithy))
                    .build()
                    .unwrap();
                GetUserOutput::builder().user(user).build()
            })
        };
        let get_login_profile = {
            let u = u.clone();
            mock!(aws_sdk_iam::Client::get_login_profile).then_compute_response(move |_| {
                match u.lock().unwrap().login_profile {
                    Some(created) => MockResponse::Output(
                        GetLoginProfileOutput::builder()
                            .login_profile(
                                LoginProfile::builder()
                                    .user_name("root")
                                    .create_date(smithy(created))
                                    .build()
                                    .unwrap(),
                            )
                            .build(),
                    ),
                    None => MockResponse::Error(GetLoginProfileError::NoSuchEntityException(
                        no_such_entity("Login Profile for User root"),
                    )),
                }
            })
        };
        let list_keys = {
            let u = u.clone();
            mock!(aws_sdk_iam::Client::list_access_keys).then_compute_output(move |_| {
                let keys = u
                    .lock()
                    .unwrap()
                    .access_keys
                    .iter()
                    .map(|(id, created)| {
                        AccessKeyMetadata::builder()
                            .access_key_id(id)
                            .status(StatusType::Active)
                            .create_date(smithy(*created))
                            .build()
                    })
                    .collect();
                ListAccessKeysOutput::builder()
                    .set_access_key_metadata(Some(keys))
                    .build()
                    .unwrap()
            })
        };
        let key_last_used = mock!(aws_sdk_iam::Client::get_access_key_last_used)
            .then_compute_output(|_| {
                GetAccessKeyLastUsedOutput::builder()
                    .access_key_last_used(
                        AccessKeyLastUsed::builder()
                            .service_name("s3")
                            .region("eu-west-1")
                            .last_used_date(smithy(days_ago(30)))
                            .build()
                            .unwrap(),
                    )
                    .build()
            });
        let list_certificates = {
            let u = u.clone();
            mock!(aws_sdk_iam::Client::list_signing_certificates).then_compute_output(move |_| {
                let certificates = u
                    .lock()
                    .unwrap()
                    .certificates
                    .iter()
                    .map(|(id, uploaded)| {
                        SigningCertificate::builder()
                            .user_name("root")
                            .certificate_id(id)
                            .certificate_body("-----BEGIN CERTIFICATE-----")
                            .status(StatusType::Active)
                            .upload_date(smithy(*uploaded))
                            .build()
                            .unwrap()
                    })
                    .collect();
                ListSigningCertificatesOutput::builder()
                    .set_certificates(Some(certificates))
                    .build()
                    .unwrap()
            })
        };
        let list_mfa = {
            let u = u.clone();
            mock!(aws_sdk_iam::Client::list_mfa_devices).then_compute_output(move |_| {
                let devices = u
                    .lock()
                    .unwrap()
                    .mfa_devices
                    .iter()
                    .map(|(serial, enabled)| {
                        MfaDevice::builder()
                            .user_name("root")
                            .serial_number(serial)
                            .enable_date(smithy(*enabled))
                            .build()
                            .unwrap()
                    })
                    .collect();
                ListMfaDevicesOutput::builder()
                    .set_mfa_devices(Some(devices))
                    .build()
                    .unwrap()
            })
        };
        // Removals log their call, then change the root user. With `race`, the credential is
        // removed by someone else first, so the call finds nothing (NoSuchEntity).
        macro_rules! removal {
            ($op:path, $error:path, $output:expr, |$req:ident, $user:ident| $remove:expr) => {{
                let (u, log) = (u.clone(), log.clone());
                mock!($op).then_compute_response(move |$req| {
                    let name = stringify!($op).rsplit("::").next().unwrap().to_owned();
                    let mut $user = u.lock().unwrap();
                    let removed: bool = $remove;
                    log.lock()
                        .unwrap()
                        .push(format!("{name} {}", call_target($req)));
                    if removed && !race {
                        MockResponse::Output($output)
                    } else {
                        MockResponse::Error($error(no_such_entity("entity")))
                    }
                })
            }};
        }
        use aws_sdk_iam::operation::deactivate_mfa_device::DeactivateMFADeviceError as DeactivateError;
        use aws_sdk_iam::operation::delete_access_key::DeleteAccessKeyError;
        use aws_sdk_iam::operation::delete_login_profile::DeleteLoginProfileError;
        use aws_sdk_iam::operation::delete_signing_certificate::DeleteSigningCertificateError;
        let delete_login_profile = removal!(
            aws_sdk_iam::Client::delete_login_profile,
            DeleteLoginProfileError::NoSuchEntityException,
            DeleteLoginProfileOutput::builder().build(),
            |req, user| user.login_profile.take().is_some()
        );
        let delete_key = removal!(
            aws_sdk_iam::Client::delete_access_key,
            DeleteAccessKeyError::NoSuchEntityException,
            DeleteAccessKeyOutput::builder().build(),
            |req, user| remove_id(&mut user.access_keys, req.access_key_id())
        );
        let delete_certificate = removal!(
            aws_sdk_iam::Client::delete_signing_certificate,
            DeleteSigningCertificateError::NoSuchEntityException,
            DeleteSigningCertificateOutput::builder().build(),
            |req, user| remove_id(&mut user.certificates, req.certificate_id())
        );
        let deactivate_mfa = removal!(
            aws_sdk_iam::Client::deactivate_mfa_device,
            DeactivateError::NoSuchEntityException,
            DeactivateMfaDeviceOutput::builder().build(),
            |req, user| remove_id(&mut user.mfa_devices, req.serial_number())
        );
        // Like AWS since January 2025: the delete task policy does not allow this call.
        let delete_virtual_mfa = {
            let log = log.clone();
            mock!(aws_sdk_iam::Client::delete_virtual_mfa_device).then_compute_response(
                move |req| {
                    log.lock()
                        .unwrap()
                        .push(format!("delete_virtual_mfa_device {}", call_target(req)));
                    MockResponse::Error(DeleteVirtualMFADeviceError::generic(access_denied(
                        "not authorized to perform: iam:DeleteVirtualMFADevice",
                    )))
                },
            )
        };
        // Listed first: in MatchAny mode the first matching rule answers.
        let settling = self.mfa_settling.then(|| {
            mock!(aws_sdk_iam::Client::deactivate_mfa_device).then_error(|| {
                DeactivateError::EntityTemporarilyUnmodifiableException(
                    aws_sdk_iam::types::error::EntityTemporarilyUnmodifiableException::builder()
                        .message("Invalid MFA device: it cannot be deactivated right now")
                        .meta(
                            ErrorMetadata::builder()
                                .code("EntityTemporarilyUnmodifiable")
                                .build(),
                        )
                        .build(),
                )
            })
        });
        settling
            .into_iter()
            .chain([
                get_user,
                get_login_profile,
                list_keys,
                key_last_used,
                list_certificates,
                list_mfa,
                delete_login_profile,
                delete_key,
                delete_certificate,
                deactivate_mfa,
                delete_virtual_mfa,
            ])
            .collect()
    }
}

fn remove_id(list: &mut Vec<(String, DateTime<Utc>)>, id: Option<&str>) -> bool {
    let before = list.len();
    list.retain(|(existing, _)| Some(existing.as_str()) != id);
    list.len() < before
}

/// The id an IAM write names, from its Debug form (the inputs have no common trait).
fn call_target(req: &impl std::fmt::Debug) -> String {
    let text = format!("{req:?}");
    [
        "access_key_id: Some(\"",
        "certificate_id: Some(\"",
        "serial_number: Some(\"",
    ]
    .iter()
    .find_map(|field| {
        text.split(field)
            .nth(1)
            .and_then(|rest| rest.split('"').next())
    })
    .unwrap_or("")
    .to_owned()
}

fn config(mode: Mode) -> Config {
    let mode = mode.to_string();
    Config::from_lookup(|name| match name {
        "ROOTSWEEP_MODE" => Some(mode.clone()),
        "ROOTSWEEP_GRACE_PERIOD" => Some("72h".into()),
        _ => None,
    })
    .unwrap()
}

async fn run(world: &World, mode: Mode) -> Report {
    run_request(world, config(mode), RunRequest::scheduled(mode))
        .await
        .unwrap()
}

async fn run_request(
    world: &World,
    config: Config,
    request: RunRequest,
) -> Result<Report, PreflightError> {
    let sink = JsonLines::new(Vec::new());
    world
        .sweeper(config)
        .run(
            &request,
            RunOptions {
                run_id: "test-run".into(),
                deadline: None,
            },
            &sink,
        )
        .await
}

fn member(report: &Report) -> &AccountReport {
    report
        .accounts
        .iter()
        .find(|a| a.account_id.as_str() == MEMBER)
        .expect("member account reported")
}

fn old_password_key_cert_and_mfa() -> RootUser {
    RootUser {
        password_last_used: Some(days_ago(20)),
        login_profile: Some(days_ago(40)),
        access_keys: vec![("AKIAOLDKEY1".into(), days_ago(30))],
        certificates: vec![("CERTOLD1".into(), days_ago(30))],
        mfa_devices: vec![(
            format!("arn:aws:iam::{MEMBER}:mfa/root-account-mfa-device"),
            days_ago(35),
        )],
    }
}

#[tokio::test]
async fn an_account_without_root_credentials_is_clean_and_untouched() {
    let world = World::new(RootUser {
        password_last_used: Some(days_ago(400)),
        ..RootUser::default()
    });
    let report = run(&world, Mode::Enforce).await;
    assert_eq!(member(&report).outcome, Outcome::Clean);
    assert_eq!(
        world.calls(),
        [format!("AssumeRoot {MEMBER} IAMAuditRootUserCredentials")]
    );
    assert_eq!(report.summary.accounts_clean, 1);
}

#[tokio::test]
async fn a_password_used_yesterday_is_in_grace_with_its_due_time() {
    let used = days_ago(1);
    let world = World::new(RootUser {
        password_last_used: Some(used),
        login_profile: Some(days_ago(90)),
        ..RootUser::default()
    });
    let report = run(&world, Mode::Enforce).await;
    let due_at = DateTime::from_timestamp(used.timestamp(), 0).unwrap() + TimeDelta::hours(72);
    assert_eq!(member(&report).outcome, Outcome::InGrace { due_at });
    assert!(world.writes().is_empty());
    assert!(world.user().login_profile.is_some());
}

#[tokio::test]
async fn due_credentials_are_deleted_in_order_and_checked_gone() {
    let world = World::new(old_password_key_cert_and_mfa());
    let report = run(&world, Mode::Enforce).await;
    let serial = format!("arn:aws:iam::{MEMBER}:mfa/root-account-mfa-device");
    assert_eq!(
        world.calls(),
        [
            format!("AssumeRoot {MEMBER} IAMAuditRootUserCredentials"),
            format!("AssumeRoot {MEMBER} IAMDeleteRootUserCredentials"),
            "delete_login_profile ".into(),
            "delete_access_key AKIAOLDKEY1".into(),
            "delete_signing_certificate CERTOLD1".into(),
            format!("deactivate_mfa_device {serial}"),
            format!("delete_virtual_mfa_device {serial}"),
        ]
    );
    let account = member(&report);
    assert!(
        matches!(account.outcome, Outcome::Remediated { .. }),
        "{:?}",
        account.outcome
    );
    assert!(world.user().is_clean());
    assert_eq!(account.actions.len(), 4);
    // The virtual device the task policy may not delete is reported, not failed.
    assert!(
        account
            .notes
            .iter()
            .any(|n| n.contains("deactivated but left in the account")),
        "{:?}",
        account.notes
    );
    assert_eq!(report.summary.accounts_remediated, 1);
    assert_eq!(
        report.summary.credentials_deleted.values().sum::<usize>(),
        4
    );
}

#[tokio::test]
async fn audit_mode_reports_due_credentials_and_deletes_nothing() {
    let world = World::new(old_password_key_cert_and_mfa());
    let report = run(&world, Mode::Audit).await;
    assert!(matches!(member(&report).outcome, Outcome::Due { .. }));
    assert_eq!(
        world.calls(),
        [format!("AssumeRoot {MEMBER} IAMAuditRootUserCredentials")]
    );
    assert_eq!(report.summary.accounts_due, 1);
    assert_eq!(report.summary.attention[0].outcome, "due");
    assert_eq!(report.summary.credentials_found.values().sum::<usize>(), 4);
}

#[tokio::test]
async fn a_sign_in_between_audit_and_delete_session_stops_the_deletion() {
    let mut world = World::new(old_password_key_cert_and_mfa());
    world.on_delete_session = Some(|user| user.password_last_used = Some(Utc::now()));
    let report = run(&world, Mode::Enforce).await;
    let account = member(&report);
    assert!(
        matches!(account.outcome, Outcome::InGrace { .. }),
        "{:?}",
        account.outcome
    );
    assert!(world.writes().is_empty(), "{:?}", world.writes());
    assert!(account.notes.iter().any(|n| n.contains("newer activity")));
    assert!(world.user().login_profile.is_some());
}

#[tokio::test]
async fn credentials_someone_else_removed_first_count_as_gone() {
    let mut world = World::new(RootUser {
        login_profile: Some(days_ago(40)),
        access_keys: vec![("AKIAOLDKEY1".into(), days_ago(30))],
        ..RootUser::default()
    });
    world.removed_by_someone_else = true;
    let report = run(&world, Mode::Enforce).await;
    let account = member(&report);
    assert!(
        matches!(account.outcome, Outcome::Remediated { .. }),
        "{:?}",
        account.outcome
    );
    let actions: Vec<String> = account
        .actions
        .iter()
        .map(|a| format!("{:?}", a.action))
        .collect();
    assert_eq!(actions, ["AlreadyGone", "AlreadyGone"]);
    assert_eq!(
        report.summary.credentials_deleted.values().sum::<usize>(),
        0
    );
}

#[tokio::test]
async fn access_denied_on_one_account_does_not_stop_the_others() {
    let mut world = World::new(RootUser::default());
    world.accounts.extend([
        ("222222222222".into(), OrgAccountState::Active),
        ("333333333333".into(), OrgAccountState::Active),
    ]);
    world.deny_assume_root.insert("222222222222".into());
    let report = run(&world, Mode::Enforce).await;
    assert_eq!(report.summary.accounts_clean, 2);
    assert_eq!(report.summary.accounts_failed, 1);
    let failed = report
        .accounts
        .iter()
        .find(|a| a.account_id.as_str() == "222222222222")
        .unwrap();
    let Outcome::Failed { stage, error } = &failed.outcome else {
        panic!("{:?}", failed.outcome)
    };
    assert_eq!(*stage, Stage::AssumeRootAudit);
    assert!(
        error.contains("sts:AssumeRoot failed (AccessDenied)"),
        "{error}"
    );
    assert!(
        error.contains("aws:AssumedRoot"),
        "the SCP exemption is named: {error}"
    );
    assert!(
        error.contains("arn:aws:iam::*:root"),
        "the missing permission is named: {error}"
    );
}

#[tokio::test]
async fn management_suspended_and_exempt_accounts_are_reported_and_never_assumed() {
    let mut world = World::new(old_password_key_cert_and_mfa());
    world.accounts.extend([
        ("222222222222".into(), OrgAccountState::Suspended),
        ("333333333333".into(), OrgAccountState::PendingClosure),
        ("444444444444".into(), OrgAccountState::Active),
    ]);
    let config = Config::from_lookup(|name| match name {
        "ROOTSWEEP_MODE" => Some("enforce".into()),
        "ROOTSWEEP_EXEMPT_ACCOUNTS" => Some("444444444444".into()),
        _ => None,
    })
    .unwrap();
    let report = run_request(&world, config, RunRequest::scheduled(Mode::Enforce))
        .await
        .unwrap();
    let outcome = |id: &str| {
        report
            .accounts
            .iter()
            .find(|a| a.account_id.as_str() == id)
            .unwrap()
            .outcome
            .clone()
    };
    assert!(
        matches!(outcome(MANAGEMENT), Outcome::Skipped { reason } if reason.contains("management account"))
    );
    assert!(
        matches!(outcome("222222222222"), Outcome::Skipped { reason } if reason.contains("SUSPENDED"))
    );
    assert!(
        matches!(outcome("333333333333"), Outcome::Skipped { reason } if reason.contains("PENDING_CLOSURE"))
    );
    assert!(matches!(outcome("444444444444"), Outcome::Exempt { .. }));
    let assumed: BTreeSet<String> = world
        .calls()
        .iter()
        .filter(|c| c.starts_with("AssumeRoot"))
        .map(|c| c.split(' ').nth(1).unwrap().to_owned())
        .collect();
    assert_eq!(assumed, BTreeSet::from([MEMBER.to_owned()]));
    assert_eq!(
        (
            report.summary.accounts_skipped,
            report.summary.accounts_exempt
        ),
        (3, 1)
    );
}

#[tokio::test]
async fn a_targeted_run_covers_only_the_named_accounts_and_names_unknown_ones() {
    let mut world = World::new(RootUser::default());
    world
        .accounts
        .push(("222222222222".into(), OrgAccountState::Active));
    let targets: BTreeSet<AccountId> = [MEMBER, "999999999999"]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
    let request = RunRequest {
        mode: Mode::Audit,
        scope: Scope::Accounts(targets),
    };
    let report = run_request(&world, config(Mode::Audit), request)
        .await
        .unwrap();
    let ids: Vec<&str> = report
        .accounts
        .iter()
        .map(|a| a.account_id.as_str())
        .collect();
    assert_eq!(ids, [MEMBER, "999999999999"]);
    assert!(
        matches!(&report.accounts[1].outcome, Outcome::Skipped { reason } if reason.contains("not found"))
    );
}

#[tokio::test]
async fn each_preflight_failure_stops_the_run_with_what_to_do() {
    type MakeError = fn() -> ListOrganizationsFeaturesError;
    let cases: [(MakeError, &str); 4] = [
        (
            || {
                ListOrganizationsFeaturesError::AccountNotManagementOrDelegatedAdministratorException(
                aws_sdk_iam::types::error::AccountNotManagementOrDelegatedAdministratorException::builder().build(),
            )
            },
            "register-delegated-administrator",
        ),
        (
            || {
                ListOrganizationsFeaturesError::OrganizationNotFoundException(
                    aws_sdk_iam::types::error::OrganizationNotFoundException::builder().build(),
                )
            },
            "not in an AWS Organization",
        ),
        (
            || {
                ListOrganizationsFeaturesError::OrganizationNotInAllFeaturesModeException(
                    aws_sdk_iam::types::error::OrganizationNotInAllFeaturesModeException::builder()
                        .build(),
                )
            },
            "enable-all-features",
        ),
        (
            || {
                ListOrganizationsFeaturesError::ServiceAccessNotEnabledException(
                    aws_sdk_iam::types::error::ServiceAccessNotEnabledException::builder().build(),
                )
            },
            "enable-aws-service-access --service-principal iam.amazonaws.com",
        ),
    ];
    for (error, remedy) in cases {
        let mut world = World::new(old_password_key_cert_and_mfa());
        world.features = Err(error);
        let err = run_request(
            &world,
            config(Mode::Enforce),
            RunRequest::scheduled(Mode::Enforce),
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains(remedy), "{err}");
        assert!(
            world.calls().is_empty(),
            "no account is touched after a failed preflight"
        );
    }

    let mut world = World::new(old_password_key_cert_and_mfa());
    world.features = Ok(vec![FeatureType::RootCredentialsManagement]);
    let err = run_request(
        &world,
        config(Mode::Enforce),
        RunRequest::scheduled(Mode::Enforce),
    )
    .await
    .unwrap_err();
    assert_eq!(err, PreflightError::FeaturesDisabled(vec!["RootSessions"]));
    assert!(world.calls().is_empty());
}

fn lambda_event(
    payload: serde_json::Value,
    seconds_left: u64,
) -> lambda_runtime::LambdaEvent<serde_json::Value> {
    let mut context = lambda_runtime::Context::default();
    context.request_id = "lambda-request-1".into();
    let deadline = std::time::SystemTime::now() + std::time::Duration::from_secs(seconds_left);
    context.deadline = deadline
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    lambda_runtime::LambdaEvent::new(payload, context)
}

#[tokio::test]
async fn the_lambda_rejects_a_bad_event_before_calling_aws() {
    let world = World::new(old_password_key_cert_and_mfa());
    let sweeper = world.sweeper(config(Mode::Audit));
    for payload in [
        serde_json::json!({"accounts": ["111111111111"], "mode": "enforce"}),
        serde_json::json!({"account": "111111111111"}),
        serde_json::json!(42),
    ] {
        let err = rootsweep::lambda::handle(&sweeper, lambda_event(payload.clone(), 900))
            .await
            .unwrap_err();
        assert!(
            matches!(err, rootsweep::lambda::HandlerError::Event(_)),
            "{payload}: {err}"
        );
        assert!(
            err.to_string()
                .starts_with("rejected event, nothing done: "),
            "{err}"
        );
    }
    assert!(world.calls().is_empty());
}

#[tokio::test]
async fn the_lambda_sweeps_and_returns_the_summary() {
    let world = World::new(old_password_key_cert_and_mfa());
    let sweeper = world.sweeper(config(Mode::Enforce));
    let event =
        serde_json::json!({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}});
    let summary = rootsweep::lambda::handle(&sweeper, lambda_event(event, 900))
        .await
        .unwrap();
    assert_eq!(summary.run_id, "lambda-request-1");
    assert_eq!(
        (summary.accounts_remediated, summary.accounts_skipped),
        (1, 1)
    );
    assert!(summary.complete);
}

#[tokio::test]
async fn near_the_deadline_no_account_is_started_and_each_is_reported_not_reached() {
    let world = World::new(old_password_key_cert_and_mfa());
    let sweeper = world.sweeper(config(Mode::Enforce));
    // 30 s left is inside the 60 s the run keeps free before its deadline.
    let summary = rootsweep::lambda::handle(&sweeper, lambda_event(serde_json::json!({}), 30))
        .await
        .unwrap();
    assert_eq!(summary.accounts_not_reached, 1);
    assert_eq!(summary.attention[0].outcome, "not_reached");
    assert_eq!(
        summary.accounts_skipped, 1,
        "the management account is still reported"
    );
    assert!(world.calls().is_empty());
    assert!(world.user().login_profile.is_some());
}

#[tokio::test]
async fn mfa_that_aws_will_not_deactivate_yet_is_retried_later_not_failed() {
    let mut world = World::new(old_password_key_cert_and_mfa());
    world.mfa_settling = true;
    let report = run(&world, Mode::Enforce).await;
    let account = member(&report);
    assert!(
        matches!(&account.outcome, Outcome::RetryLater { error, .. } if error.contains("next run")),
        "{:?}",
        account.outcome
    );
    let user = world.user();
    assert!(
        user.login_profile.is_none() && user.access_keys.is_empty() && user.certificates.is_empty()
    );
    assert_eq!(user.mfa_devices.len(), 1);
    assert_eq!(
        (
            report.summary.accounts_retry_later,
            report.summary.accounts_failed
        ),
        (1, 0)
    );

    // Once AWS lets go, the next run finishes the account.
    world.mfa_settling = false;
    let next = run(&world, Mode::Enforce).await;
    assert!(
        matches!(member(&next).outcome, Outcome::Remediated { .. }),
        "{:?}",
        member(&next).outcome
    );
    assert!(world.user().is_clean());
}

#[tokio::test]
async fn more_due_accounts_than_the_cap_deletes_nothing_and_says_how_to_proceed() {
    let mut world = World::new(old_password_key_cert_and_mfa());
    world.accounts.extend([
        ("222222222222".into(), OrgAccountState::Active),
        ("333333333333".into(), OrgAccountState::Active),
    ]);
    let capped = |cap: &'static str| {
        Config::from_lookup(move |name| match name {
            "ROOTSWEEP_MODE" => Some("enforce".into()),
            "ROOTSWEEP_MAX_REMEDIATIONS" => Some(cap.into()),
            _ => None,
        })
        .unwrap()
    };
    let report = run_request(&world, capped("2"), RunRequest::scheduled(Mode::Enforce))
        .await
        .unwrap();
    assert!(world.writes().is_empty(), "{:?}", world.writes());
    assert!(
        world
            .calls()
            .iter()
            .all(|c| c.ends_with("IAMAuditRootUserCredentials"))
    );
    assert_eq!(report.summary.accounts_due, 3);
    assert!(report.summary.over_remediation_cap);
    let points = rootsweep::report::metric_points(&report.summary);
    assert!(
        points
            .iter()
            .any(|p| p.name == "RemediationCapExceeded" && p.value == 1.0)
    );
    let note = &member(&report).notes[0];
    assert!(
        note.contains("ROOTSWEEP_MAX_REMEDIATIONS") && note.contains("\"accounts\""),
        "{note}"
    );

    // Naming the accounts is the deliberate way past the cap.
    let named: BTreeSet<AccountId> = [MEMBER, "222222222222", "333333333333"]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
    let request = RunRequest {
        mode: Mode::Enforce,
        scope: Scope::Accounts(named),
    };
    let report = run_request(&world, capped("2"), request).await.unwrap();
    assert!(!report.summary.over_remediation_cap);
    assert!(world.user().is_clean());
}

fn with_exemptions(extra: &[(&'static str, &'static str)]) -> Config {
    let extra = extra.to_vec();
    Config::from_lookup(move |name| match name {
        "ROOTSWEEP_MODE" => Some("enforce".into()),
        _ => extra
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string()),
    })
    .unwrap()
}

fn assumed_accounts(world: &World) -> BTreeSet<String> {
    world
        .calls()
        .iter()
        .filter_map(|c| c.strip_prefix("AssumeRoot "))
        .map(|c| c[..12].to_owned())
        .collect()
}

#[tokio::test]
async fn accounts_in_an_exempt_unit_or_nested_below_it_and_tagged_accounts_are_exempt() {
    let mut world = World::new(RootUser::default());
    for id in ["222222222222", "333333333333", "444444444444"] {
        world.accounts.push((id.into(), OrgAccountState::Active));
    }
    world.units = vec![
        ("ou-ab12-breakgls".into(), "r-ab12".into()),
        ("ou-ab12-nested01".into(), "ou-ab12-breakgls".into()),
        ("ou-ab12-workload".into(), "r-ab12".into()),
    ];
    world.holder = BTreeMap::from([
        ("222222222222".into(), "ou-ab12-nested01".into()),
        (MEMBER.into(), "ou-ab12-workload".into()),
    ]);
    world.tags = Some(BTreeMap::from([(
        "333333333333".into(),
        vec![("rootsweep:exempt".into(), "true".into())],
    )]));
    let config = with_exemptions(&[
        ("ROOTSWEEP_EXEMPT_OUS", "ou-ab12-breakgls"),
        ("ROOTSWEEP_EXEMPT_TAG_KEY", "rootsweep:exempt"),
        ("ROOTSWEEP_EXEMPT_TAG_VALUE", "true"),
    ]);
    let report = run_request(&world, config, RunRequest::scheduled(Mode::Enforce))
        .await
        .unwrap();
    let outcome = |id: &str| {
        report
            .accounts
            .iter()
            .find(|a| a.account_id.as_str() == id)
            .unwrap()
            .outcome
            .clone()
    };
    assert_eq!(
        outcome("222222222222"),
        Outcome::Exempt { rule: "in organizational unit ou-ab12-nested01, under exempt ou-ab12-breakgls (ROOTSWEEP_EXEMPT_OUS)".into() }
    );
    assert!(
        matches!(outcome("333333333333"), Outcome::Exempt { rule } if rule.starts_with("tagged rootsweep:exempt=true"))
    );
    assert_eq!(outcome("444444444444"), Outcome::Clean);
    assert_eq!(
        assumed_accounts(&world),
        BTreeSet::from([MEMBER.to_owned(), "444444444444".to_owned()])
    );
    assert_eq!(report.summary.accounts_exempt, 2);
    // One walk of the exempt subtree, not of the whole organization.
    let walked: Vec<String> = world
        .exemption_calls
        .lock()
        .unwrap()
        .iter()
        .filter(|c| !c.starts_with("ListTags"))
        .cloned()
        .collect();
    assert_eq!(walked.len(), 4, "{walked:?}");
    assert!(
        walked
            .iter()
            .all(|c| c.ends_with("breakgls") || c.ends_with("nested01")),
        "{walked:?}"
    );
}

#[tokio::test]
async fn exemption_lookups_are_made_only_when_an_exemption_needs_them() {
    let mut world = World::new(RootUser::default());
    world
        .accounts
        .push(("222222222222".into(), OrgAccountState::Active));
    run(&world, Mode::Enforce).await;
    assert!(world.exemption_calls.lock().unwrap().is_empty());
    assert_eq!(assumed_accounts(&world).len(), 2);
}

#[tokio::test]
async fn an_account_whose_tags_cannot_be_read_is_left_alone_and_reported() {
    let mut world = World::new(old_password_key_cert_and_mfa());
    world.tags = None;
    let config = with_exemptions(&[("ROOTSWEEP_EXEMPT_TAG_KEY", "break-glass")]);
    let report = run_request(&world, config, RunRequest::scheduled(Mode::Enforce))
        .await
        .unwrap();
    assert!(
        matches!(&member(&report).outcome, Outcome::Failed { stage: Stage::ExemptionCheck, error } if error.contains("left alone"))
    );
    assert!(world.calls().is_empty());
    assert_eq!(report.summary.accounts_failed, 1);
}

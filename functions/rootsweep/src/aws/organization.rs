//! The organization: root-access features, the management account and the member accounts.

use std::future::Future;

use aws_sdk_iam::operation::list_organizations_features::ListOrganizationsFeaturesError as FeaturesError;
use aws_sdk_organizations::operation::describe_organization::DescribeOrganizationError;
use futures::stream::{self, BoxStream, StreamExt};
use serde::Serialize;

use super::AwsError;
use crate::config::{AccountId, OuId};
use crate::preflight::PreflightError;

/// Organizations' account states; only `Active` accounts can be targeted by a root session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub enum AccountState {
    Active,
    Suspended,
    PendingActivation,
    PendingClosure,
    Closed,
    /// A state added by AWS after this code was written: treated as not active.
    Other(String),
}

impl AccountState {
    pub fn as_str(&self) -> &str {
        match self {
            AccountState::Active => "ACTIVE",
            AccountState::Suspended => "SUSPENDED",
            AccountState::PendingActivation => "PENDING_ACTIVATION",
            AccountState::PendingClosure => "PENDING_CLOSURE",
            AccountState::Closed => "CLOSED",
            AccountState::Other(s) => s,
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "ACTIVE" => AccountState::Active,
            "SUSPENDED" => AccountState::Suspended,
            "PENDING_ACTIVATION" => AccountState::PendingActivation,
            "PENDING_CLOSURE" => AccountState::PendingClosure,
            "CLOSED" => AccountState::Closed,
            other => AccountState::Other(other.to_owned()),
        }
    }
}

impl From<AccountState> for String {
    fn from(state: AccountState) -> Self {
        state.as_str().to_owned()
    }
}

/// A member account as listed by Organizations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub name: String,
    pub state: AccountState,
}

/// Who is calling, as STS sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub account: AccountId,
    pub arn: String,
}

pub trait Organization: Send + Sync {
    /// `sts:GetCallerIdentity`: the account and principal the credentials belong to.
    fn caller(&self) -> impl Future<Output = Result<Caller, PreflightError>> + Send;
    /// `iam:ListOrganizationsFeatures`: the enabled root-access features, by AWS name.
    fn root_access_features(
        &self,
    ) -> impl Future<Output = Result<Vec<String>, PreflightError>> + Send;
    /// `organizations:DescribeOrganization`: the management account id.
    fn management_account(&self) -> impl Future<Output = Result<AccountId, PreflightError>> + Send;
    /// `organizations:ListAccounts`, page by page as the sweep consumes it.
    fn accounts(&self) -> BoxStream<'_, Result<Account, AwsError>>;
    /// Every account under `parent`, nested organizational units included, each with the unit
    /// that holds it directly: one walk of that subtree, never a call per account.
    fn accounts_under(
        &self,
        parent: &OuId,
    ) -> impl Future<Output = Result<Vec<(AccountId, String)>, AwsError>> + Send;
    /// `organizations:ListTagsForResource` for one account.
    fn tags(
        &self,
        account: &AccountId,
    ) -> impl Future<Output = Result<Vec<(String, String)>, AwsError>> + Send;
}

/// The SDK implementation; clients are cheap to clone and share one connection pool.
#[derive(Clone)]
pub struct SdkOrganization {
    sts: aws_sdk_sts::Client,
    iam: aws_sdk_iam::Client,
    organizations: aws_sdk_organizations::Client,
}

impl SdkOrganization {
    pub fn new(
        sts: aws_sdk_sts::Client,
        iam: aws_sdk_iam::Client,
        organizations: aws_sdk_organizations::Client,
    ) -> Self {
        Self {
            sts,
            iam,
            organizations,
        }
    }
}

const GET_CALLER_IDENTITY: &str = "sts:GetCallerIdentity";
const LIST_FEATURES: &str = "iam:ListOrganizationsFeatures";
const DESCRIBE_ORGANIZATION: &str = "organizations:DescribeOrganization";
const LIST_ACCOUNTS: &str = "organizations:ListAccounts";
const LIST_ACCOUNTS_FOR_PARENT: &str = "organizations:ListAccountsForParent";
const LIST_UNITS_FOR_PARENT: &str = "organizations:ListOrganizationalUnitsForParent";
const LIST_TAGS: &str = "organizations:ListTagsForResource";

impl Organization for SdkOrganization {
    async fn caller(&self) -> Result<Caller, PreflightError> {
        let output = self.sts.get_caller_identity().send().await.map_err(|err| {
            PreflightError::Credentials(AwsError::from_sdk(GET_CALLER_IDENTITY, err))
        })?;
        let account = output.account().unwrap_or_default();
        Ok(Caller {
            account: account.parse().map_err(|_| {
                PreflightError::UnexpectedAnswer(format!(
                    "{GET_CALLER_IDENTITY} returned account {account:?}"
                ))
            })?,
            arn: output.arn().unwrap_or_default().to_owned(),
        })
    }

    async fn root_access_features(&self) -> Result<Vec<String>, PreflightError> {
        let output = self
            .iam
            .list_organizations_features()
            .send()
            .await
            .map_err(|err| match err.as_service_error() {
                Some(FeaturesError::AccountNotManagementOrDelegatedAdministratorException(_)) => {
                    PreflightError::NotManagementOrDelegatedAdministrator
                }
                Some(FeaturesError::OrganizationNotFoundException(_)) => {
                    PreflightError::NoOrganization
                }
                Some(FeaturesError::OrganizationNotInAllFeaturesModeException(_)) => {
                    PreflightError::NotAllFeatures
                }
                Some(FeaturesError::ServiceAccessNotEnabledException(_)) => {
                    PreflightError::TrustedAccessDisabled
                }
                _ => PreflightError::CallFailed(AwsError::from_sdk(LIST_FEATURES, err)),
            })?;
        Ok(output
            .enabled_features()
            .iter()
            .map(|f| f.as_str().to_owned())
            .collect())
    }

    async fn management_account(&self) -> Result<AccountId, PreflightError> {
        let output = self
            .organizations
            .describe_organization()
            .send()
            .await
            .map_err(|err| match err.as_service_error() {
                Some(DescribeOrganizationError::AwsOrganizationsNotInUseException(_)) => {
                    PreflightError::NoOrganization
                }
                _ => PreflightError::CallFailed(AwsError::from_sdk(DESCRIBE_ORGANIZATION, err)),
            })?;
        let id = output
            .organization()
            .and_then(|org| org.master_account_id())
            .unwrap_or_default();
        id.parse().map_err(|_| {
            PreflightError::UnexpectedAnswer(format!(
                "{DESCRIBE_ORGANIZATION} returned management account id {id:?}"
            ))
        })
    }

    fn accounts(&self) -> BoxStream<'_, Result<Account, AwsError>> {
        let pages = self.organizations.list_accounts().into_paginator().send();
        stream::unfold(pages, |mut pages| async move {
            pages.next().await.map(|page| (page, pages))
        })
        .flat_map(|page| {
            let accounts: Vec<Result<Account, AwsError>> = match page {
                Ok(page) => page.accounts().iter().map(to_account).collect(),
                Err(err) => vec![Err(AwsError::from_sdk(LIST_ACCOUNTS, err))],
            };
            stream::iter(accounts)
        })
        .boxed()
    }

    async fn accounts_under(&self, parent: &OuId) -> Result<Vec<(AccountId, String)>, AwsError> {
        let mut found = Vec::new();
        let mut units = vec![parent.as_str().to_owned()];
        while let Some(unit) = units.pop() {
            let pages: Vec<_> = self
                .organizations
                .list_accounts_for_parent()
                .parent_id(&unit)
                .into_paginator()
                .send()
                .try_collect()
                .await
                .map_err(|err| AwsError::from_sdk(LIST_ACCOUNTS_FOR_PARENT, err))?;
            for account in pages.iter().flat_map(|page| page.accounts()) {
                found.push((to_account(account)?.id, unit.clone()));
            }
            let pages: Vec<_> = self
                .organizations
                .list_organizational_units_for_parent()
                .parent_id(&unit)
                .into_paginator()
                .send()
                .try_collect()
                .await
                .map_err(|err| AwsError::from_sdk(LIST_UNITS_FOR_PARENT, err))?;
            units.extend(
                pages
                    .iter()
                    .flat_map(|page| page.organizational_units())
                    .filter_map(|ou| ou.id().map(str::to_owned)),
            );
        }
        Ok(found)
    }

    async fn tags(&self, account: &AccountId) -> Result<Vec<(String, String)>, AwsError> {
        let pages: Vec<_> = self
            .organizations
            .list_tags_for_resource()
            .resource_id(account.as_str())
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|err| AwsError::from_sdk(LIST_TAGS, err))?;
        Ok(pages
            .iter()
            .flat_map(|page| page.tags())
            .map(|tag| (tag.key().to_owned(), tag.value().to_owned()))
            .collect())
    }
}

fn to_account(account: &aws_sdk_organizations::types::Account) -> Result<Account, AwsError> {
    let id = account.id().unwrap_or_default();
    let id = id.parse().map_err(|_| AwsError {
        operation: LIST_ACCOUNTS,
        kind: super::AwsErrorKind::Other,
        code: None,
        message: format!("listed an account with id {id:?}"),
    })?;
    // `State` replaced `Status` in 2025; fall back for answers that only carry the old one.
    let state = match (account.state(), account.status()) {
        (Some(state), _) => AccountState::parse(state.as_str()),
        (None, Some(status)) => AccountState::parse(status.as_str()),
        (None, None) => AccountState::Other("UNKNOWN".into()),
    };
    Ok(Account {
        id,
        name: account.name().unwrap_or_default().to_owned(),
        state,
    })
}

//! Organizations and STS caller identity through the SDK.

use futures::stream::{self, BoxStream, StreamExt};

use super::aws_error;
use crate::account::{Account, AccountId, AccountState, Caller, Partition};
use crate::config::OuId;
use crate::ports::{AwsError, AwsErrorKind, Organization};

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

fn unexpected(operation: &'static str, what: String) -> AwsError {
    AwsError::new(operation, AwsErrorKind::Other, what)
}

impl Organization for SdkOrganization {
    async fn caller(&self) -> Result<Caller, AwsError> {
        let output = self
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|err| aws_error(GET_CALLER_IDENTITY, err))?;
        let account = output.account().unwrap_or_default();
        let arn = output.arn().unwrap_or_default();
        Ok(Caller {
            account: account.parse().map_err(|_| {
                unexpected(GET_CALLER_IDENTITY, format!("returned account {account:?}"))
            })?,
            partition: Partition::of_arn(arn)
                .ok_or_else(|| unexpected(GET_CALLER_IDENTITY, format!("returned ARN {arn:?}")))?,
            arn: arn.to_owned(),
        })
    }

    async fn root_access_features(&self) -> Result<Vec<String>, AwsError> {
        let output = self
            .iam
            .list_organizations_features()
            .send()
            .await
            .map_err(|err| aws_error(LIST_FEATURES, err))?;
        Ok(output
            .enabled_features()
            .iter()
            .map(|f| f.as_str().to_owned())
            .collect())
    }

    async fn management_account(&self) -> Result<AccountId, AwsError> {
        let output = self
            .organizations
            .describe_organization()
            .send()
            .await
            .map_err(|err| aws_error(DESCRIBE_ORGANIZATION, err))?;
        let id = output
            .organization()
            .and_then(|org| org.master_account_id())
            .unwrap_or_default();
        id.parse().map_err(|_| {
            unexpected(
                DESCRIBE_ORGANIZATION,
                format!("returned management account id {id:?}"),
            )
        })
    }

    fn accounts(&self) -> BoxStream<'static, Result<Account, AwsError>> {
        let pages = self.organizations.list_accounts().into_paginator().send();
        stream::unfold(pages, |mut pages| async move {
            pages.next().await.map(|page| (page, pages))
        })
        .flat_map(|page| {
            let accounts: Vec<Result<Account, AwsError>> = match page {
                Ok(page) => page.accounts().iter().map(to_account).collect(),
                Err(err) => vec![Err(aws_error(LIST_ACCOUNTS, err))],
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
                .map_err(|err| aws_error(LIST_ACCOUNTS_FOR_PARENT, err))?;
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
                .map_err(|err| aws_error(LIST_UNITS_FOR_PARENT, err))?;
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
        let tags: Vec<_> = self
            .organizations
            .list_tags_for_resource()
            .resource_id(account.as_str())
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|err| aws_error(LIST_TAGS, err))?;
        Ok(tags
            .iter()
            .map(|tag| (tag.key().to_owned(), tag.value().to_owned()))
            .collect())
    }
}

fn to_account(account: &aws_sdk_organizations::types::Account) -> Result<Account, AwsError> {
    let id = account.id().unwrap_or_default();
    let id = id
        .parse()
        .map_err(|_| unexpected(LIST_ACCOUNTS, format!("listed an account with id {id:?}")))?;
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

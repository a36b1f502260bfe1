//! Organizations and STS caller identity through the SDK. Organizations' calls go one at a time
//! through the [`Gate`], page by page.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;

use aws_config::SdkConfig;
use aws_config::retry::RetryConfig;
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};

use super::aws_error;
use super::gate::Gate;
use crate::account::{Account, AccountId, AccountState, Caller, Partition};
use crate::config::OuId;
use crate::ports::{AwsError, AwsErrorKind, Organization};

/// The SDK implementation; clients are cheap to clone and share one connection pool. Every
/// Organizations call goes through the gate; the Organizations client itself never retries.
#[derive(Clone)]
pub struct SdkOrganization {
    sts: aws_sdk_sts::Client,
    iam: aws_sdk_iam::Client,
    organizations: aws_sdk_organizations::Client,
    gate: Arc<Gate>,
}

impl SdkOrganization {
    /// The clients built from `sdk`; the Organizations one without retries of its own.
    pub fn from_config(sdk: &SdkConfig) -> Self {
        let organizations = aws_sdk_organizations::config::Builder::from(sdk)
            .retry_config(RetryConfig::disabled())
            .build();
        Self::new(
            aws_sdk_sts::Client::new(sdk),
            aws_sdk_iam::Client::new(sdk),
            aws_sdk_organizations::Client::from_conf(organizations),
        )
    }

    pub fn new(
        sts: aws_sdk_sts::Client,
        iam: aws_sdk_iam::Client,
        organizations: aws_sdk_organizations::Client,
    ) -> Self {
        Self {
            sts,
            iam,
            organizations,
            gate: Arc::new(Gate::default()),
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
        let describe = || async {
            self.organizations
                .describe_organization()
                .send()
                .await
                .map_err(|err| aws_error(DESCRIBE_ORGANIZATION, err))
        };
        let output = self.gate.call(describe).await?;
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
        let client = self.organizations.clone();
        let page = move |token: Option<String>| {
            let request = client.list_accounts().set_next_token(token);
            async move {
                let page = request
                    .send()
                    .await
                    .map_err(|err| aws_error(LIST_ACCOUNTS, err))?;
                let accounts: Vec<_> = page.accounts().iter().map(to_account).collect();
                Ok((accounts, page.next_token().map(str::to_owned)))
            }
        };
        paged(self.gate.clone(), LIST_ACCOUNTS, page)
            .flat_map(|page| match page {
                Ok(accounts) => stream::iter(accounts),
                Err(err) => stream::iter(vec![Err(err)]),
            })
            .boxed()
    }

    async fn accounts_under(&self, parent: &OuId) -> Result<Vec<(AccountId, String)>, AwsError> {
        let mut found = Vec::new();
        let mut units = vec![parent.as_str().to_owned()];
        while let Some(unit) = units.pop() {
            let (client, parent) = (self.organizations.clone(), unit.clone());
            let accounts: Vec<Vec<_>> =
                paged(self.gate.clone(), LIST_ACCOUNTS_FOR_PARENT, move |token| {
                    let request = client
                        .list_accounts_for_parent()
                        .parent_id(&parent)
                        .set_next_token(token);
                    async move {
                        let page = request
                            .send()
                            .await
                            .map_err(|err| aws_error(LIST_ACCOUNTS_FOR_PARENT, err))?;
                        let ids = page.accounts().iter().map(|a| to_account(a).map(|a| a.id));
                        let ids: Result<Vec<_>, _> = ids.collect();
                        Ok((ids?, page.next_token().map(str::to_owned)))
                    }
                })
                .try_collect()
                .await?;
            found.extend(accounts.into_iter().flatten().map(|id| (id, unit.clone())));
            let (client, parent) = (self.organizations.clone(), unit.clone());
            let nested: Vec<Vec<String>> =
                paged(self.gate.clone(), LIST_UNITS_FOR_PARENT, move |token| {
                    let request = client
                        .list_organizational_units_for_parent()
                        .parent_id(&parent)
                        .set_next_token(token);
                    async move {
                        let page = request
                            .send()
                            .await
                            .map_err(|err| aws_error(LIST_UNITS_FOR_PARENT, err))?;
                        let ids = page.organizational_units().iter();
                        let ids = ids.filter_map(|ou| ou.id().map(str::to_owned)).collect();
                        Ok((ids, page.next_token().map(str::to_owned)))
                    }
                })
                .try_collect()
                .await?;
            units.extend(nested.into_iter().flatten());
        }
        Ok(found)
    }

    async fn tags(&self, account: &AccountId) -> Result<Vec<(String, String)>, AwsError> {
        let (client, account) = (self.organizations.clone(), account.clone());
        let pages: Vec<Vec<(String, String)>> = paged(self.gate.clone(), LIST_TAGS, move |token| {
            let request = client
                .list_tags_for_resource()
                .resource_id(account.as_str())
                .set_next_token(token);
            async move {
                let page = request
                    .send()
                    .await
                    .map_err(|err| aws_error(LIST_TAGS, err))?;
                let tags = page.tags().iter();
                let tags = tags
                    .map(|t| (t.key().to_owned(), t.value().to_owned()))
                    .collect();
                Ok((tags, page.next_token().map(str::to_owned)))
            }
        })
        .try_collect()
        .await?;
        Ok(pages.into_iter().flatten().collect())
    }
}

/// The pages of an Organizations listing, fetched through the gate one at a time as they are
/// consumed, each after the `NextToken` of the one before. A token Organizations gave before
/// would start the listing over or loop: it breaks the listing off, as an error (the SDK's
/// paginators end there silently, as if the listing were complete).
fn paged<P, F, Fut>(
    gate: Arc<Gate>,
    operation: &'static str,
    page: F,
) -> BoxStream<'static, Result<P, AwsError>>
where
    P: Send + 'static,
    F: Fn(Option<String>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(P, Option<String>), AwsError>> + Send,
{
    enum Next {
        Page(Option<String>),
        Repeated,
        End,
    }
    let page = Arc::new(page);
    stream::unfold(
        (Next::Page(None), HashSet::new()),
        move |(next, mut seen)| {
            let (gate, page) = (gate.clone(), page.clone());
            async move {
                let token = match next {
                    Next::End => return None,
                    Next::Repeated => {
                        return Some((Err(repeated_token(operation)), (Next::End, seen)));
                    }
                    Next::Page(token) => token,
                };
                match gate.call(|| page(token.clone())).await {
                    Err(err) => Some((Err(err), (Next::End, seen))),
                    Ok((items, None)) => Some((Ok(items), (Next::End, seen))),
                    Ok((items, Some(token))) => {
                        let next = match seen.insert(token.clone()) {
                            true => Next::Page(Some(token)),
                            false => Next::Repeated,
                        };
                        Some((Ok(items), (next, seen)))
                    }
                }
            }
        },
    )
    .boxed()
}

fn repeated_token(operation: &'static str) -> AwsError {
    unexpected(
        operation,
        "returned a NextToken it had returned before: the pages after it cannot be reached, so the listing is incomplete; the next run lists again".into(),
    )
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

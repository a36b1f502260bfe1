//! Organizations and who is calling ([`Organization`]): the caller, the root-access features,
//! the management account, the member accounts page by page, a unit's subtree, an account's
//! tags.

use futures::stream::{self, BoxStream, StreamExt};
use rootsweep::account::{Account, AccountId, Caller};
use rootsweep::config::OuId;
use rootsweep::ports::{AwsError, Organization};

use super::FakeAws;
use super::calls::Call;

impl Organization for FakeAws {
    async fn caller(&self) -> Result<Caller, AwsError> {
        self.answer(Call::plain("sts:GetCallerIdentity"), |w| {
            Ok(w.caller.clone())
        })
        .await
    }

    async fn root_access_features(&self) -> Result<Vec<String>, AwsError> {
        self.answer(Call::plain("iam:ListOrganizationsFeatures"), |w| {
            Ok(w.features.clone())
        })
        .await
    }

    async fn management_account(&self) -> Result<AccountId, AwsError> {
        self.answer(Call::plain("organizations:DescribeOrganization"), |w| {
            Ok(w.management.clone())
        })
        .await
    }

    fn accounts(&self) -> BoxStream<'static, Result<Account, AwsError>> {
        let fake = self.clone();
        stream::unfold(Some(0usize), move |page| {
            let fake = fake.clone();
            async move {
                let start = page?;
                let call = Call::plain("organizations:ListAccounts");
                let result = fake
                    .answer(call, |w| {
                        let end = (start + w.page_size).min(w.members.len());
                        let accounts = w.members[start..end]
                            .iter()
                            .map(|m| m.account.clone())
                            .collect::<Vec<_>>();
                        Ok((accounts, (end < w.members.len()).then_some(end)))
                    })
                    .await;
                Some(match result {
                    Ok((accounts, next)) => (accounts.into_iter().map(Ok).collect(), next),
                    Err(err) => (vec![Err(err)], None),
                })
            }
        })
        .flat_map(stream::iter)
        .boxed()
    }

    async fn accounts_under(&self, parent: &OuId) -> Result<Vec<(AccountId, String)>, AwsError> {
        let root = parent.as_str().to_owned();
        self.answer(Call::plain("organizations:ListAccountsForParent"), |w| {
            let under = |unit: &str| {
                let mut at = Some(unit.to_owned());
                while let Some(u) = at {
                    if u == root {
                        return true;
                    }
                    at = w.units.get(&u).cloned().flatten();
                }
                root.starts_with("r-")
            };
            Ok(w.members
                .iter()
                .filter_map(|m| {
                    let unit = m.unit.clone().unwrap_or_else(|| "r-root".into());
                    under(&unit).then(|| (m.account.id.clone(), unit))
                })
                .collect())
        })
        .await
    }

    async fn tags(&self, account: &AccountId) -> Result<Vec<(String, String)>, AwsError> {
        let call = Call::in_account("organizations:ListTagsForResource", account);
        self.answer(call, |w| {
            Ok(w.member(account)
                .map(|m| m.tags.clone())
                .unwrap_or_default())
        })
        .await
    }
}

//! Organizations through the real AWS SDK for Rust: paging, the OU walk, errors.

use std::collections::BTreeSet;

use crate::common::*;
use aws_sdk_organizations::Client;
use aws_sdk_organizations::operation::describe_account::DescribeAccountError;
use aws_sdk_organizations::operation::describe_organization::DescribeOrganizationError;
use aws_sdk_organizations::operation::list_accounts::ListAccountsError;
use aws_sdk_organizations::types::{AccountState, AccountStatus, ParentType};
use rootsweep_emulator::{EXEMPT_TAG, Emulator, Org, PreflightFailure};

#[tokio::test]
async fn list_accounts_pages_twenty_at_a_time() {
    let org = Org::generate(45, 7);
    let expected: Vec<String> = org.accounts.iter().map(|a| a.id.clone()).collect();
    let emulator = Emulator::start(org).await.unwrap();
    let client = Client::new(&caller_config(&emulator).await);

    // Organizations' paginators yield pages (the model names no item list).
    let pages = client
        .list_accounts()
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(
        pages.iter().map(|p| p.accounts().len()).collect::<Vec<_>>(),
        [20, 20, 5]
    );
    let ids: Vec<String> = pages
        .iter()
        .flat_map(|page| page.accounts())
        .map(|a| a.id().unwrap().to_owned())
        .collect();
    assert_eq!(ids, expected);
    let pages = emulator
        .calls()
        .iter()
        .filter(|c| c.operation == "ListAccounts")
        .count();
    assert_eq!(pages, 3, "45 accounts are 3 pages of at most 20");

    let small = client.list_accounts().max_results(7).send().await.unwrap();
    assert_eq!(small.accounts().len(), 7);
    let rest = client
        .list_accounts()
        .max_results(20)
        .next_token(small.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.accounts()[0].id(), Some(expected[7].as_str()));

    let error = client
        .list_accounts()
        .max_results(21)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(
        error.into_service_error(),
        ListAccountsError::InvalidInputException(_)
    ));
    let error = client
        .list_accounts()
        .next_token("forged")
        .send()
        .await
        .unwrap_err();
    assert!(error.into_service_error().is_invalid_input_exception());
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn describe_organization_and_accounts() {
    let emulator = Emulator::start(test_org()).await.unwrap();
    let client = Client::new(&caller_config(&emulator).await);
    let organization = client
        .describe_organization()
        .send()
        .await
        .unwrap()
        .organization
        .unwrap();
    assert_eq!(organization.id(), Some("o-testorg123"));
    assert_eq!(organization.master_account_id(), Some(MANAGEMENT));
    assert_eq!(
        organization.master_account_email(),
        Some("mgmt@example.com")
    );
    assert_eq!(
        organization.master_account_arn(),
        Some("arn:aws:organizations::111111111111:account/o-testorg123/111111111111")
    );
    assert_eq!(organization.feature_set().map(|f| f.as_str()), Some("ALL"));

    let suspended = client
        .describe_account()
        .account_id(SUSPENDED)
        .send()
        .await
        .unwrap()
        .account
        .unwrap();
    assert_eq!(suspended.state(), Some(&AccountState::Suspended));
    assert_eq!(suspended.status(), Some(&AccountStatus::Suspended));
    assert_eq!(suspended.name(), Some("suspended"));
    let joined = emulator.state().account(SUSPENDED).unwrap().joined;
    assert_eq!(
        suspended.joined_timestamp().map(|t| t.secs()),
        Some(joined.timestamp())
    );

    let error = client
        .describe_account()
        .account_id("999999999999")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(
        error.into_service_error(),
        DescribeAccountError::AccountNotFoundException(_)
    ));

    emulator.edit_org(|org| {
        org.preflight_failure = Some(PreflightFailure::OrganizationNotFoundException)
    });
    let error = client.describe_organization().send().await.unwrap_err();
    assert_eq!(error.raw_response().map(|r| r.status().as_u16()), Some(400));
    assert!(matches!(
        error.into_service_error(),
        DescribeOrganizationError::AwsOrganizationsNotInUseException(_)
    ));
    emulator.shutdown().await.unwrap();
}

/// Every account, found by one walk of the OU tree from the root, following every `NextToken`.
async fn walk(client: &Client) -> BTreeSet<String> {
    let roots = client.list_roots().into_paginator().send();
    let roots = roots.collect::<Result<Vec<_>, _>>().await.unwrap();
    let mut parents: Vec<String> = roots
        .iter()
        .flat_map(|page| page.roots())
        .map(|root| root.id().unwrap().to_owned())
        .collect();
    let mut found = BTreeSet::new();
    while let Some(parent) = parents.pop() {
        let pages = client
            .list_organizational_units_for_parent()
            .parent_id(&parent)
            .into_paginator()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .unwrap();
        let units = pages.iter().flat_map(|page| page.organizational_units());
        parents.extend(units.map(|ou| ou.id().unwrap().to_owned()));
        let pages = client
            .list_accounts_for_parent()
            .parent_id(&parent)
            .into_paginator()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .unwrap();
        let accounts = pages.iter().flat_map(|page| page.accounts());
        found.extend(accounts.map(|a| a.id().unwrap().to_owned()));
    }
    found
}

#[tokio::test]
async fn one_walk_of_the_ou_tree_finds_every_account_even_with_short_pages() {
    let org = Org::generate(60, 3);
    let expected: BTreeSet<String> = org.accounts.iter().map(|a| a.id.clone()).collect();
    for seed in 0..3 {
        let emulator = Emulator::new(org.clone())
            .organizations_short_pages(seed)
            .spawn()
            .await
            .unwrap();
        let client = Client::new(&caller_config(&emulator).await);
        assert_eq!(
            walk(&client).await,
            expected,
            "short pages from seed {seed}"
        );
        emulator.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn one_walk_of_the_ou_tree_finds_every_account() {
    let org = Org::generate(60, 3);
    let expected: BTreeSet<String> = org.accounts.iter().map(|a| a.id.clone()).collect();
    let exempt = org
        .accounts
        .iter()
        .find(|a| a.name.starts_with("exempt-"))
        .unwrap()
        .clone();
    let emulator = Emulator::start(org).await.unwrap();
    let client = Client::new(&caller_config(&emulator).await);
    assert_eq!(walk(&client).await, expected);

    // The exempt account sits two levels down and carries the exemption tag.
    let parent = client
        .list_parents()
        .child_id(&exempt.id)
        .send()
        .await
        .unwrap();
    let parent = &parent.parents()[0];
    assert_eq!(parent.r#type(), Some(&ParentType::OrganizationalUnit));
    let grandparent = client
        .list_parents()
        .child_id(parent.id().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        grandparent.parents()[0].r#type(),
        Some(&ParentType::OrganizationalUnit)
    );
    let tags = client
        .list_tags_for_resource()
        .resource_id(&exempt.id)
        .send()
        .await
        .unwrap();
    let tags: Vec<_> = tags.tags().iter().map(|t| (t.key(), t.value())).collect();
    assert_eq!(tags, [EXEMPT_TAG]);
    let error = client
        .list_parents()
        .child_id("999999999999")
        .send()
        .await
        .unwrap_err();
    assert!(error.into_service_error().is_child_not_found_exception());
    emulator.shutdown().await.unwrap();
}

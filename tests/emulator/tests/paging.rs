//! Paging through the real AWS SDK for Rust: IAM's `MaxItems`/`Marker`, Organizations' short and
//! empty pages (`organizations_short_pages`) and tokens bound to their listing.

use crate::common::*;
use aws_sdk_organizations::operation::list_accounts_for_parent::ListAccountsForParentError;
use aws_sdk_organizations::types::InvalidInputExceptionReason;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use rootsweep_emulator::{AccessKey, Emulator, Org};

#[tokio::test]
async fn iam_lists_page_by_max_items_and_marker() {
    let emulator = Emulator::start(test_org()).await.unwrap();
    let iam = aws_sdk_iam::Client::new(&without_retries(
        &root_session(&emulator, FULL, AUDIT).await,
    ));
    let first = iam.list_mfa_devices().max_items(1).send().await.unwrap();
    assert_eq!(first.mfa_devices()[0].serial_number(), VIRTUAL_MFA);
    assert!(first.is_truncated());
    let marker = first.marker().unwrap().to_owned();
    let second = iam
        .list_mfa_devices()
        .max_items(1)
        .marker(&marker)
        .send()
        .await
        .unwrap();
    assert_eq!(second.mfa_devices()[0].serial_number(), HARDWARE_MFA);
    assert!(!second.is_truncated());
    assert_eq!(second.marker(), None);

    // The SDK's paginators follow the markers.
    let keys: Vec<String> = iam
        .list_access_keys()
        .max_items(1)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap()
        .iter()
        .map(|key| key.access_key_id().unwrap().to_owned())
        .collect();
    assert_eq!(keys, [ACTIVE_KEY, UNUSED_KEY]);

    // A marker opens only the listing it came from; MaxItems is 1..=1000.
    let error = iam
        .list_access_keys()
        .marker(&marker)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.raw_response().unwrap().status().as_u16(), 400);
    let error = error.into_service_error();
    assert_eq!(
        (error.code(), error.message()),
        (Some("ValidationError"), Some("Invalid Marker."))
    );
    for bad in [0, 1001] {
        let error = iam
            .list_signing_certificates()
            .max_items(bad)
            .send()
            .await
            .unwrap_err();
        let error = error.into_service_error();
        assert_eq!(error.code(), Some("ValidationError"));
        assert!(error.message().unwrap().contains("'maxItems'"));
    }
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn iam_pages_hold_a_hundred_items_by_default() {
    let emulator = Emulator::start(test_org()).await.unwrap();
    let created = emulator
        .state()
        .account(FULL)
        .unwrap()
        .root_user
        .access_keys[0]
        .created;
    emulator.edit_org(|org| {
        org.account_mut(FULL).unwrap().root_user.access_keys = (0..150)
            .map(|i| AccessKey {
                id: format!("AKIAMANYKEYS{i:08}"),
                status: Default::default(),
                created,
                last_used: None,
            })
            .collect();
    });
    let iam = aws_sdk_iam::Client::new(&root_session(&emulator, FULL, AUDIT).await);
    let first = iam.list_access_keys().send().await.unwrap();
    assert_eq!(first.access_key_metadata().len(), 100);
    assert!(first.is_truncated());
    let rest = iam
        .list_access_keys()
        .marker(first.marker().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.access_key_metadata().len(), 50);
    assert_eq!(
        rest.access_key_metadata()[0].access_key_id(),
        Some("AKIAMANYKEYS00000100")
    );
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn organizations_short_and_empty_pages_still_list_everything() {
    let org = Org::generate(45, 7);
    let expected: Vec<String> = org.accounts.iter().map(|a| a.id.clone()).collect();
    let exempt = org
        .accounts
        .iter()
        .find(|a| a.name.starts_with("exempt-"))
        .unwrap()
        .id
        .clone();
    let emulator = Emulator::new(org)
        .organizations_short_pages(0)
        .spawn()
        .await
        .unwrap();
    let client = aws_sdk_organizations::Client::new(&caller_config(&emulator).await);
    let pages = client
        .list_accounts()
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    let shape: Vec<(usize, bool)> = pages
        .iter()
        .map(|p| (p.accounts().len(), p.next_token().is_some()))
        .collect();
    // The pattern from seed 0: empty, full, one, empty, half, full, ...; then an empty last page.
    assert_eq!(
        shape,
        [
            (0, true),
            (20, true),
            (1, true),
            (0, true),
            (10, true),
            (14, true),
            (0, false)
        ]
    );
    let ids: Vec<String> = pages
        .iter()
        .flat_map(|page| page.accounts())
        .map(|a| a.id().unwrap().to_owned())
        .collect();
    assert_eq!(ids, expected);

    // A client that stops at the first page without accounts misses them all.
    let first = client.list_accounts().send().await.unwrap();
    assert!(first.accounts().is_empty() && first.next_token().is_some());

    // Every list call pages this way, even those with a single item.
    let roots = client.list_roots().send().await.unwrap();
    assert!(roots.roots().is_empty());
    let roots = client
        .list_roots()
        .next_token(roots.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(roots.roots().len(), 1);
    let tags = client
        .list_tags_for_resource()
        .resource_id(&exempt)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(tags.len(), 1);
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn organizations_tokens_are_bound_to_their_listing() {
    let emulator = Emulator::start(Org::generate(45, 7)).await.unwrap();
    let client =
        aws_sdk_organizations::Client::new(&without_retries(&caller_config(&emulator).await));
    let token = client
        .list_accounts()
        .max_results(5)
        .send()
        .await
        .unwrap()
        .next_token
        .unwrap();
    let root = client.list_roots().send().await.unwrap().roots()[0]
        .id()
        .unwrap()
        .to_owned();
    let error = client
        .list_accounts_for_parent()
        .parent_id(&root)
        .next_token(&token)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.raw_response().unwrap().status().as_u16(), 400);
    let body = std::str::from_utf8(error.raw_response().unwrap().body().bytes().unwrap())
        .unwrap()
        .to_owned();
    let ListAccountsForParentError::InvalidInputException(invalid) = error.into_service_error()
    else {
        panic!("{body}");
    };
    assert_eq!(
        invalid.reason(),
        Some(&InvalidInputExceptionReason::InvalidPaginationToken)
    );
    assert_eq!(
        invalid.message(),
        Some("You specified an invalid value for nextToken.")
    );

    // A token for one parent does not page another.
    let units = client
        .list_organizational_units_for_parent()
        .parent_id(&root)
        .send()
        .await
        .unwrap();
    let unit = units.organizational_units()[0].id().unwrap().to_owned();
    let root_page = client
        .list_accounts_for_parent()
        .parent_id(&root)
        .max_results(1)
        .send()
        .await
        .unwrap();
    let error = client
        .list_accounts_for_parent()
        .parent_id(&unit)
        .next_token(root_page.next_token().unwrap())
        .send()
        .await
        .unwrap_err();
    assert!(error.into_service_error().is_invalid_input_exception());
    // The same token goes on with its own parent, whatever MaxResults.
    client
        .list_accounts_for_parent()
        .parent_id(&root)
        .max_results(20)
        .next_token(root_page.next_token().unwrap())
        .send()
        .await
        .unwrap();
    emulator.shutdown().await.unwrap();
}

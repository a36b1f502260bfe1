//! Organizations' read operations: the organization, its accounts, roots, OUs, parents and
//! account tags, each list paged (`pages`).

use serde_json::{Value, json};

use super::errors::{error, invalid_input};
use super::pages::{paginate, with_token};
use super::state::{Account, Org};
use crate::error::ApiError;
use crate::protocol::Input;

pub(super) fn describe_organization(org: &Org) -> Value {
    let management = org.management_account();
    json!({"Organization": {
        "Id": org.organization_id,
        "Arn": org.arn(None),
        "FeatureSet": org.feature_set(),
        "MasterAccountId": management.id,
        "MasterAccountArn": org.arn(Some(("account", &management.id))),
        "MasterAccountEmail": management.email,
        "AvailablePolicyTypes": [],
    }})
}

pub(super) fn list_accounts(
    org: &Org,
    input: &Input,
    short_pages: Option<u64>,
) -> Result<Value, ApiError> {
    let (page, next) = paginate(&org.accounts, input, &["ListAccounts"], short_pages)?;
    Ok(with_token(json!({"Accounts": accounts(org, page)}), next))
}

pub(super) fn describe_account(org: &Org, input: &Input) -> Result<Value, ApiError> {
    let id = required(input, "AccountId")?;
    let account = org.account(id).ok_or_else(|| {
        error(
            "AccountNotFoundException",
            "You specified an account that doesn't exist.",
        )
    })?;
    Ok(json!({"Account": account_json(org, account)}))
}

pub(super) fn list_roots(
    org: &Org,
    input: &Input,
    short_pages: Option<u64>,
) -> Result<Value, ApiError> {
    let roots = [json!({
        "Id": org.root_id(),
        "Arn": org.arn(Some(("root", &org.root_id()))),
        "Name": "Root",
        "PolicyTypes": [],
    })];
    let (page, next) = paginate(&roots, input, &["ListRoots"], short_pages)?;
    Ok(with_token(json!({"Roots": page}), next))
}

pub(super) fn list_organizational_units_for_parent(
    org: &Org,
    input: &Input,
    short_pages: Option<u64>,
) -> Result<Value, ApiError> {
    let (page, next) = children_page(
        org,
        input,
        "ListOrganizationalUnitsForParent",
        &org.organizational_units,
        |ou| ou.parent.as_deref(),
        short_pages,
    )?;
    let units: Vec<Value> = page
        .iter()
        .map(|ou| json!({"Id": ou.id, "Arn": org.arn(Some(("ou", &ou.id))), "Name": ou.name}))
        .collect();
    Ok(with_token(json!({"OrganizationalUnits": units}), next))
}

pub(super) fn list_accounts_for_parent(
    org: &Org,
    input: &Input,
    short_pages: Option<u64>,
) -> Result<Value, ApiError> {
    let (page, next) = children_page(
        org,
        input,
        "ListAccountsForParent",
        &org.accounts,
        |account| account.parent.as_deref(),
        short_pages,
    )?;
    Ok(with_token(json!({"Accounts": accounts(org, page)}), next))
}

/// One page of the `items` whose parent (`parent`: `None` the root) is the input's `ParentId`,
/// paged under `operation` and that parent.
fn children_page<'a, T>(
    org: &Org,
    input: &Input,
    operation: &str,
    items: &'a [T],
    parent: fn(&T) -> Option<&str>,
    short_pages: Option<u64>,
) -> Result<(Vec<&'a T>, Option<String>), ApiError> {
    let parent_id = required(input, "ParentId")?;
    let wanted = parent_filter(org, parent_id)?;
    let children: Vec<&T> = items.iter().filter(|item| parent(item) == wanted).collect();
    let (page, next) = paginate(&children, input, &[operation, parent_id], short_pages)?;
    Ok((page.to_vec(), next))
}

pub(super) fn list_parents(
    org: &Org,
    input: &Input,
    short_pages: Option<u64>,
) -> Result<Value, ApiError> {
    let child = required(input, "ChildId")?;
    let parent = match (org.account(child), org.organizational_unit(child)) {
        (Some(account), _) => account.parent.as_deref(),
        (None, Some(ou)) => ou.parent.as_deref(),
        (None, None) => {
            return Err(error(
                "ChildNotFoundException",
                "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified.",
            ));
        }
    };
    let parent = match parent {
        Some(ou) => json!({"Id": ou, "Type": "ORGANIZATIONAL_UNIT"}),
        None => json!({"Id": org.root_id(), "Type": "ROOT"}),
    };
    let parents = [parent];
    let (page, next) = paginate(&parents, input, &["ListParents", child], short_pages)?;
    Ok(with_token(json!({"Parents": page}), next))
}

pub(super) fn list_tags_for_resource(
    org: &Org,
    input: &Input,
    short_pages: Option<u64>,
) -> Result<Value, ApiError> {
    let id = required(input, "ResourceId")?;
    // OUs and the root exist but carry no tags in our model.
    let tags: Vec<Value> = match org.account(id) {
        Some(account) => account
            .tags
            .iter()
            .map(|(k, v)| json!({"Key": k, "Value": v}))
            .collect(),
        None if id == org.root_id() || org.organizational_unit(id).is_some() => Vec::new(),
        None => {
            return Err(error(
                "TargetNotFoundException",
                "We can't find a resource that matches the ResourceId that you specified.",
            ));
        }
    };
    let (page, next) = paginate(&tags, input, &["ListTagsForResource", id], short_pages)?;
    Ok(with_token(json!({"Tags": page}), next))
}

fn required<'a>(input: &'a Input, name: &str) -> Result<&'a str, ApiError> {
    input
        .str(name)
        .ok_or_else(|| invalid_input(format!("You must specify {name}.")))
}

/// `None` for the root, `Some(ou)` for an OU: what `parent` fields hold.
fn parent_filter<'a>(org: &Org, parent_id: &'a str) -> Result<Option<&'a str>, ApiError> {
    if parent_id == org.root_id() {
        Ok(None)
    } else if org.organizational_unit(parent_id).is_some() {
        Ok(Some(parent_id))
    } else {
        Err(error(
            "ParentNotFoundException",
            "We can't find a root or OU with the ParentId that you specified.",
        ))
    }
}

fn accounts<'a>(org: &Org, page: impl IntoIterator<Item = &'a Account>) -> Vec<Value> {
    page.into_iter()
        .map(|account| account_json(org, account))
        .collect()
}

fn account_json(org: &Org, account: &Account) -> Value {
    json!({
        "Id": account.id,
        "Arn": org.arn(Some(("account", &account.id))),
        "Email": account.email,
        "Name": account.name,
        "Status": account.state.legacy_status(),
        "State": account.state.as_str(),
        "JoinedMethod": account.joined_method.as_str(),
        // Epoch seconds; AWS sends fractions, so a float.
        "JoinedTimestamp": account.joined.timestamp() as f64,
    })
}

//! Organizations (JSON 1.1): the read calls a sweeper needs. Lists page at most 20 items, the
//! most Organizations allows on `ListAccounts`.
//!
//! # Behaviour
//!
//! **Organizations** lists (`ListAccounts`, `ListAccountsForParent`,
//! `ListOrganizationalUnitsForParent`, `ListRoots`, `ListParents`, `ListTagsForResource`) page at
//! most 20 items (`MaxResults` 1..=20, else `InvalidInputException`). Tokens are opaque and bound
//! to their operation and parameters: a `ListAccounts` token given to `ListAccountsForParent`, or a
//! token for another parent, is `InvalidInputException` with `Reason` `INVALID_NEXT_TOKEN`.
//! **Short pages** (off by default; `Emulator::organizations_short_pages(seed)`,
//! `--organizations-short-pages SEED`): pages follow the cycle empty, full, 1 item, empty, half,
//! full, ... (the seed picks where it starts), each with a `NextToken`, and every listing ends with
//! an empty page without one, as Organizations may answer ("These operations can occasionally return
//! an empty set of results even when there are more results available"): clients must page until
//! `NextToken` is absent. Accounts carry `State` and the older `Status`
//! (CLOSED reads SUSPENDED, PENDING_ACTIVATION reads ACTIVE: our assumption), `JoinedTimestamp` in
//! epoch seconds. The management account is listed like any other.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::Service;
use crate::error::ApiError;
use crate::model::{Account, Org, OrganizationalUnit};
use crate::paging;
use crate::protocol::{Input, Reply};
use crate::session::Caller;
use crate::world::World;

const MAX_PAGE: u64 = 20;

pub fn call(
    world: &mut World,
    caller: &Caller,
    operation: &str,
    input: &Input,
) -> Result<Reply, ApiError> {
    if let Caller::Root(_) = caller {
        return Err(Service::Organizations.access_denied(format!(
            "You don't have permissions to access this resource: root sessions cannot call organizations:{operation}."
        )));
    }
    let org = &world.org;
    let short_pages = world.organizations_short_pages;
    if !org.in_use() {
        return Err(error(
            "AWSOrganizationsNotInUseException",
            "Your account is not a member of an organization.",
        ));
    }
    let reply = match operation {
        "DescribeOrganization" => {
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
        "ListAccounts" => {
            let (page, next) = paginate(&org.accounts, input, &[operation], short_pages)?;
            with_token(json!({"Accounts": accounts(org, page)}), next)
        }
        "DescribeAccount" => {
            let id = required(input, "AccountId")?;
            let account = org.account(id).ok_or_else(|| {
                error(
                    "AccountNotFoundException",
                    "You specified an account that doesn't exist.",
                )
            })?;
            json!({"Account": account_json(org, account)})
        }
        "ListRoots" => {
            let roots = [json!({
                "Id": org.root_id(),
                "Arn": org.arn(Some(("root", &org.root_id()))),
                "Name": "Root",
                "PolicyTypes": [],
            })];
            let (page, next) = paginate(&roots, input, &[operation], short_pages)?;
            with_token(json!({"Roots": page}), next)
        }
        "ListOrganizationalUnitsForParent" => {
            let parent_id = required(input, "ParentId")?;
            let parent = parent_filter(org, parent_id)?;
            let children: Vec<&OrganizationalUnit> = org
                .organizational_units
                .iter()
                .filter(|ou| ou.parent.as_deref() == parent)
                .collect();
            let (page, next) = paginate(&children, input, &[operation, parent_id], short_pages)?;
            let units: Vec<Value> = page
                .iter()
                .map(|ou| json!({"Id": ou.id, "Arn": org.arn(Some(("ou", &ou.id))), "Name": ou.name}))
                .collect();
            with_token(json!({"OrganizationalUnits": units}), next)
        }
        "ListAccountsForParent" => {
            let parent_id = required(input, "ParentId")?;
            let parent = parent_filter(org, parent_id)?;
            let children: Vec<&Account> = org
                .accounts
                .iter()
                .filter(|account| account.parent.as_deref() == parent)
                .collect();
            let (page, next) = paginate(&children, input, &[operation, parent_id], short_pages)?;
            with_token(
                json!({"Accounts": accounts(org, page.iter().copied())}),
                next,
            )
        }
        "ListParents" => {
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
            let (page, next) = paginate(&parents, input, &[operation, child], short_pages)?;
            with_token(json!({"Parents": page}), next)
        }
        "ListTagsForResource" => {
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
            let (page, next) = paginate(&tags, input, &[operation, id], short_pages)?;
            with_token(json!({"Tags": page}), next)
        }
        _ => return Err(Service::Organizations.unknown_operation(operation)),
    };
    Ok(Reply::Json(reply))
}

/// The resource an Organizations call acts on, as policies name it: an account, OU or root ARN
/// for the calls with resource-level permissions (`DescribeAccount`, `ListParents`,
/// `ListTagsForResource`), `*` for the others. `None` for calls the emulator does not serve.
pub fn resource(operation: &str, input: &Input, org: &Org) -> Option<String> {
    let arn = |id: &str| {
        let kind = match id {
            _ if id.starts_with("ou-") => "ou",
            _ if id.starts_with("r-") => "root",
            _ => "account",
        };
        org.arn(Some((kind, id)))
    };
    match operation {
        "DescribeAccount" => input.str("AccountId").map(arn),
        "ListParents" => input.str("ChildId").map(arn),
        "ListTagsForResource" => input.str("ResourceId").map(arn),
        "DescribeOrganization"
        | "ListAccounts"
        | "ListRoots"
        | "ListOrganizationalUnitsForParent"
        | "ListAccountsForParent" => Some("*".to_owned()),
        _ => None,
    }
}

fn error(code: &str, message: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, message)
}

fn invalid_input(message: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "InvalidInputException", message)
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

/// One page of `items` per `MaxResults` (1..=20, default 20) and `NextToken`; `binding` names
/// the listing (operation, then parameters) that the token belongs to. With `short_pages` (a
/// seed), pages follow [`SHORT_PAGES`] instead of being full.
fn paginate<'a, T>(
    items: &'a [T],
    input: &Input,
    binding: &[&str],
    short_pages: Option<u64>,
) -> Result<(&'a [T], Option<String>), ApiError> {
    let max = input
        .u64("MaxResults")
        .map_err(|value| invalid_input(format!("MaxResults {value} is not a number.")))?
        .unwrap_or(MAX_PAGE);
    if !(1..=MAX_PAGE).contains(&max) {
        return Err(invalid_input(format!(
            "1 validation error detected: Value '{max}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to {MAX_PAGE}"
        )));
    }
    let at = match input.str("NextToken") {
        None => paging::Cursor::default(),
        Some(token) => paging::cursor(token, binding).ok_or_else(|| {
            invalid_input("You specified an invalid value for nextToken.".to_owned())
                .with_reason("INVALID_NEXT_TOKEN")
        })?,
    };
    let start = at.offset.min(items.len());
    let size = match short_pages {
        None => max as usize,
        Some(seed) => SHORT_PAGES[(seed as usize + at.page as usize) % SHORT_PAGES.len()](max),
    };
    let end = (start + size).min(items.len());
    // Short pages end a listing with an empty page: a page that reached the last item still
    // carries a token, and only the empty page after it has none.
    let more = end < items.len() || (short_pages.is_some() && start < items.len());
    let next = more.then(|| {
        paging::token(
            binding,
            paging::Cursor {
                offset: end,
                page: at.page + 1,
            },
        )
    });
    Ok((&items[start..end], next))
}

/// Page sizes for `MaxResults` `max` when short pages are on, in turn from a seeded start.
/// Organizations' API reference (for example `ListAccounts`): "These operations can occasionally
/// return an empty set of results even when there are more results available. The `NextToken`
/// response parameter value is `null` only when there are no more results to display."
const SHORT_PAGES: [fn(u64) -> usize; 6] = [
    |_| 0,
    |max| max as usize,
    |_| 1,
    |_| 0,
    |max| max.div_ceil(2) as usize,
    |max| max as usize,
];

fn with_token(mut reply: Value, next: Option<String>) -> Value {
    if let Some(token) = next {
        reply["NextToken"] = Value::String(token);
    }
    reply
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

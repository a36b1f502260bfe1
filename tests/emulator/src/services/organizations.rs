//! Organizations (JSON 1.1): the read calls a sweeper needs. Lists page at most 20 items, the
//! most Organizations allows on `ListAccounts`.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::Service;
use crate::error::ApiError;
use crate::model::{Account, Org, OrganizationalUnit};
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
            let (page, next) = paginate(&org.accounts, input)?;
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
        "ListRoots" => json!({"Roots": [{
            "Id": org.root_id(),
            "Arn": org.arn(Some(("root", &org.root_id()))),
            "Name": "Root",
            "PolicyTypes": [],
        }]}),
        "ListOrganizationalUnitsForParent" => {
            let parent = parent_filter(org, required(input, "ParentId")?)?;
            let children: Vec<&OrganizationalUnit> = org
                .organizational_units
                .iter()
                .filter(|ou| ou.parent.as_deref() == parent)
                .collect();
            let (page, next) = paginate(&children, input)?;
            let units: Vec<Value> = page
                .iter()
                .map(|ou| json!({"Id": ou.id, "Arn": org.arn(Some(("ou", &ou.id))), "Name": ou.name}))
                .collect();
            with_token(json!({"OrganizationalUnits": units}), next)
        }
        "ListAccountsForParent" => {
            let parent = parent_filter(org, required(input, "ParentId")?)?;
            let children: Vec<&Account> = org
                .accounts
                .iter()
                .filter(|account| account.parent.as_deref() == parent)
                .collect();
            let (page, next) = paginate(&children, input)?;
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
            json!({"Parents": [parent]})
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
            json!({"Tags": tags})
        }
        _ => return Err(Service::Organizations.unknown_operation(operation)),
    };
    Ok(Reply::Json(reply))
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

/// One page of `items` per `MaxResults` (1..=20, default 20) and `NextToken`.
fn paginate<'a, T>(items: &'a [T], input: &Input) -> Result<(&'a [T], Option<String>), ApiError> {
    let max = input
        .u64("MaxResults")
        .map_err(|value| invalid_input(format!("MaxResults {value} is not a number.")))?
        .unwrap_or(MAX_PAGE);
    if !(1..=MAX_PAGE).contains(&max) {
        return Err(invalid_input(format!(
            "1 validation error detected: Value '{max}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to {MAX_PAGE}"
        )));
    }
    let start = match input.str("NextToken") {
        None => 0,
        Some(token) => token
            .strip_prefix(TOKEN_PREFIX)
            .and_then(|offset| offset.parse::<usize>().ok())
            .filter(|&offset| offset <= items.len())
            .ok_or_else(|| invalid_input("The specified NextToken is not valid.".to_owned()))?,
    };
    let end = (start + max as usize).min(items.len());
    let next = (end < items.len()).then(|| format!("{TOKEN_PREFIX}{end}"));
    Ok((&items[start..end], next))
}

/// Tokens are opaque to clients; ours carry the next offset.
const TOKEN_PREFIX: &str = "emu-page-";

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

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

mod errors;
mod handlers;
mod pages;
mod state;

use super::Service;
use crate::error::ApiError;
use crate::protocol::{Input, Reply};
use crate::session::Caller;
use crate::world::World;

pub use state::{Account, AccountState, JoinedMethod, Org, OrganizationalUnit, PreflightFailure};

/// Routes an operation to its handler, once the caller may call Organizations and its account
/// is in an organization.
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
    let pages = world.organizations_short_pages;
    if !org.in_use() {
        return Err(errors::error(
            "AWSOrganizationsNotInUseException",
            "Your account is not a member of an organization.",
        ));
    }
    let reply = match operation {
        "DescribeOrganization" => handlers::describe_organization(org),
        "ListAccounts" => handlers::list_accounts(org, input, pages)?,
        "DescribeAccount" => handlers::describe_account(org, input)?,
        "ListRoots" => handlers::list_roots(org, input, pages)?,
        "ListOrganizationalUnitsForParent" => {
            handlers::list_organizational_units_for_parent(org, input, pages)?
        }
        "ListAccountsForParent" => handlers::list_accounts_for_parent(org, input, pages)?,
        "ListParents" => handlers::list_parents(org, input, pages)?,
        "ListTagsForResource" => handlers::list_tags_for_resource(org, input, pages)?,
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

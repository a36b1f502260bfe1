//! Organizations' paging: at most 20 items a page, tokens bound to their listing, and the short
//! and empty pages Organizations may answer.

use serde_json::Value;

use super::errors::invalid_input;
use crate::error::ApiError;
use crate::paging;
use crate::protocol::Input;

const MAX_PAGE: u64 = 20;

/// One page of `items` per `MaxResults` (1..=20, default 20) and `NextToken`; `binding` names
/// the listing (operation, then parameters) that the token belongs to. With `short_pages` (a
/// seed), pages follow [`SHORT_PAGES`] instead of being full.
pub(super) fn paginate<'a, T>(
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

pub(super) fn with_token(mut reply: Value, next: Option<String>) -> Value {
    if let Some(token) = next {
        reply["NextToken"] = Value::String(token);
    }
    reply
}

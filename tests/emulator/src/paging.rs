//! Opaque page tokens (IAM's `Marker`, the other services' `NextToken`). Each names the operation
//! and the parameters it was issued for and where the next page starts, so only the listing it
//! came from accepts it: IAM refuses another list call's marker ("Invalid Marker"), Organizations
//! another call's or another parent's token (`InvalidInputException`, `INVALID_NEXT_TOKEN`).

/// Where a listing goes on: the offset of its next item and the number of its next page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Cursor {
    pub offset: usize,
    pub page: u32,
}

/// The token for `cursor` in the listing named by `binding` (operation, then parameters).
pub(crate) fn token(binding: &[&str], cursor: Cursor) -> String {
    hex::encode(format!(
        "{}\n{}\n{}",
        binding.join("\n"),
        cursor.offset,
        cursor.page
    ))
}

/// The cursor in `token`, if it was issued for the listing named by `binding`.
pub(crate) fn cursor(token: &str, binding: &[&str]) -> Option<Cursor> {
    let text = String::from_utf8(hex::decode(token).ok()?).ok()?;
    let mut fields: Vec<&str> = text.split('\n').collect();
    let page = fields.pop()?.parse().ok()?;
    let offset = fields.pop()?.parse().ok()?;
    (fields == binding).then_some(Cursor { offset, page })
}

/// One page of at most `max` items from where `token` says (the start without one), and the
/// token of the next page when more items follow; `None` when `token` was not issued for the
/// listing `binding` names. For the services whose pages are simply full (Scheduler, Security
/// Hub).
pub(crate) fn page<'a, T>(
    items: &'a [T],
    binding: &[&str],
    max: usize,
    token: Option<&str>,
) -> Option<(&'a [T], Option<String>)> {
    let at = match token {
        Some(token) => cursor(token, binding)?,
        None => Cursor::default(),
    };
    let start = at.offset.min(items.len());
    let end = start.saturating_add(max).min(items.len());
    let next = (end < items.len()).then(|| {
        let next = Cursor {
            offset: end,
            page: at.page + 1,
        };
        self::token(binding, next)
    });
    Some((&items[start..end], next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_only_open_their_own_listing() {
        let at = Cursor { offset: 7, page: 2 };
        let token = token(&["ListAccountsForParent", "ou-ab12-cd34ef56"], at);
        assert_eq!(
            cursor(&token, &["ListAccountsForParent", "ou-ab12-cd34ef56"]),
            Some(at)
        );
        assert_eq!(cursor(&token, &["ListAccountsForParent", "r-ab12"]), None);
        assert_eq!(cursor(&token, &["ListAccounts"]), None);
        assert_eq!(cursor("forged", &["ListAccounts"]), None);
    }

    #[test]
    fn pages_until_no_token() {
        let items = [1, 2, 3, 4, 5];
        let (first, next) = page(&items, &["L"], 2, None).unwrap();
        assert_eq!(first, [1, 2]);
        let (second, next) = page(&items, &["L"], 2, next.as_deref()).unwrap();
        assert_eq!(second, [3, 4]);
        let (last, next) = page(&items, &["L"], 2, next.as_deref()).unwrap();
        assert_eq!((last, next), (&[5][..], None));
        assert!(page(&items, &["M"], 2, Some(&token(&["L"], Cursor::default()))).is_none());
    }
}

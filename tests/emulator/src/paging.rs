//! Opaque page tokens (IAM's `Marker`, Organizations' `NextToken`). Each names the operation and
//! the parameters it was issued for and where the next page starts, so only the listing it came
//! from accepts it: IAM refuses another list call's marker ("Invalid Marker"), Organizations
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
}

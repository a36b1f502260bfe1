//! Which listed accounts a run touches, and why the others are left alone.

use std::collections::{BTreeMap, BTreeSet};

use crate::aws::organization::{Account, AccountState};
use crate::config::AccountId;
use crate::event::Scope;

/// What to do with one listed account that the run covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// Cannot or must not be targeted; reported with the reason.
    Skip(String),
    /// Excluded by configuration; reported with the rule.
    Exempt(String),
    /// Audit it, and remediate it if due and the run enforces.
    Sweep,
}

pub struct ScopeRules<'a> {
    pub management_account: &'a AccountId,
    pub exempt_accounts: &'a BTreeSet<AccountId>,
    /// Accounts under an exempt organizational unit, with the rule that exempts each.
    pub exempt_by_unit: &'a BTreeMap<AccountId, String>,
    pub scope: &'a Scope,
}

/// `None` when a targeted run did not ask for this account: it is not reported at all.
pub fn disposition(account: &Account, rules: &ScopeRules<'_>) -> Option<Disposition> {
    if !rules.scope.includes(&account.id) {
        return None;
    }
    Some(if &account.id == rules.management_account {
        Disposition::Skip("management account: no root session can target it".into())
    } else if account.state != AccountState::Active {
        Disposition::Skip(format!(
            "account state is {}: only ACTIVE accounts can be targeted",
            account.state.as_str()
        ))
    } else if rules.exempt_accounts.contains(&account.id) {
        Disposition::Exempt("account id listed in ROOTSWEEP_EXEMPT_ACCOUNTS".into())
    } else if let Some(rule) = rules.exempt_by_unit.get(&account.id) {
        Disposition::Exempt(rule.clone())
    } else {
        Disposition::Sweep
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> AccountId {
        s.parse().unwrap()
    }

    fn account(i: &str, state: AccountState) -> Account {
        Account {
            id: id(i),
            name: format!("acct-{i}"),
            state,
        }
    }

    #[test]
    fn management_inactive_and_exempt_accounts_are_left_alone_with_a_reason() {
        let management = id("000000000000");
        let exempt = BTreeSet::from([id("222222222222")]);
        let by_unit = BTreeMap::from([(
            id("555555555555"),
            "in exempt unit ou-ab12-cd34ef56".to_owned(),
        )]);
        let rules = ScopeRules {
            management_account: &management,
            exempt_accounts: &exempt,
            exempt_by_unit: &by_unit,
            scope: &Scope::Organization,
        };
        assert!(
            matches!(disposition(&account("000000000000", AccountState::Active), &rules), Some(Disposition::Skip(r)) if r.starts_with("management account"))
        );
        for state in [
            AccountState::Suspended,
            AccountState::PendingClosure,
            AccountState::Closed,
            AccountState::PendingActivation,
            AccountState::Other("NEW".into()),
        ] {
            let name = state.as_str().to_owned();
            assert!(
                matches!(disposition(&account("111111111111", state), &rules), Some(Disposition::Skip(r)) if r.contains(&name))
            );
        }
        assert!(
            matches!(disposition(&account("222222222222", AccountState::Active), &rules), Some(Disposition::Exempt(r)) if r.contains("ROOTSWEEP_EXEMPT_ACCOUNTS"))
        );
        assert_eq!(
            disposition(&account("333333333333", AccountState::Active), &rules),
            Some(Disposition::Sweep)
        );
        assert_eq!(
            disposition(&account("555555555555", AccountState::Active), &rules),
            Some(Disposition::Exempt(
                "in exempt unit ou-ab12-cd34ef56".into()
            ))
        );
    }

    #[test]
    fn a_targeted_run_ignores_other_accounts_but_keeps_every_safety_rule() {
        let management = id("000000000000");
        let exempt = BTreeSet::from([id("222222222222")]);
        let by_unit = BTreeMap::from([(
            id("555555555555"),
            "in exempt unit ou-ab12-cd34ef56".to_owned(),
        )]);
        let scope = Scope::Accounts(BTreeSet::from([
            id("000000000000"),
            id("222222222222"),
            id("333333333333"),
        ]));
        let rules = ScopeRules {
            management_account: &management,
            exempt_accounts: &exempt,
            exempt_by_unit: &by_unit,
            scope: &scope,
        };
        assert_eq!(
            disposition(&account("111111111111", AccountState::Active), &rules),
            None
        );
        assert!(matches!(
            disposition(&account("000000000000", AccountState::Active), &rules),
            Some(Disposition::Skip(_))
        ));
        assert!(matches!(
            disposition(&account("222222222222", AccountState::Active), &rules),
            Some(Disposition::Exempt(_))
        ));
        assert_eq!(
            disposition(&account("333333333333", AccountState::Active), &rules),
            Some(Disposition::Sweep)
        );
    }
}

//! Which listed accounts a run touches, and why the others are left alone.

use std::collections::{BTreeMap, BTreeSet};

use crate::account::{Account, AccountId, AccountState};
use crate::event::Scope;
use crate::reasons::{ExemptRule, SkipReason};

/// What to do with one listed account that the run covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// Cannot or must not be targeted; reported with the reason.
    Skip(SkipReason),
    /// Excluded by configuration; reported with the rule.
    Exempt(ExemptRule),
    /// Audit it, and remediate it if due and the run enforces.
    Sweep,
}

#[derive(Debug, Clone)]
pub struct ScopeRules {
    pub management_account: AccountId,
    pub exempt_accounts: BTreeSet<AccountId>,
    /// Accounts under an exempt organizational unit, with the rule that exempts each.
    pub exempt_by_unit: BTreeMap<AccountId, ExemptRule>,
    pub scope: Scope,
}

/// `None` when a targeted run did not ask for this account: it is not reported at all.
pub fn disposition(account: &Account, rules: &ScopeRules) -> Option<Disposition> {
    if !rules.scope.includes(&account.id) {
        return None;
    }
    Some(if account.id == rules.management_account {
        Disposition::Skip(SkipReason::ManagementAccount)
    } else if account.state != AccountState::Active {
        Disposition::Skip(SkipReason::NotActive(account.state.clone()))
    } else if rules.exempt_accounts.contains(&account.id) {
        Disposition::Exempt(ExemptRule::ListedAccount)
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

    fn unit_rule() -> ExemptRule {
        ExemptRule::Unit {
            unit: crate::config::OuId::parse_list("ou-ab12-cd34ef56")
                .unwrap()
                .pop_first()
                .unwrap(),
            holder: "ou-ab12-cd34ef56".into(),
        }
    }

    #[test]
    fn management_inactive_and_exempt_accounts_are_left_alone_with_a_reason() {
        let management = id("000000000000");
        let exempt = BTreeSet::from([id("222222222222")]);
        let by_unit = BTreeMap::from([(id("555555555555"), unit_rule())]);
        let rules = ScopeRules {
            management_account: management,
            exempt_accounts: exempt,
            exempt_by_unit: by_unit,
            scope: Scope::Organization,
        };
        assert_eq!(
            disposition(&account("000000000000", AccountState::Active), &rules),
            Some(Disposition::Skip(SkipReason::ManagementAccount))
        );
        for state in [
            AccountState::Suspended,
            AccountState::PendingClosure,
            AccountState::Closed,
            AccountState::PendingActivation,
            AccountState::Other("NEW".into()),
        ] {
            assert_eq!(
                disposition(&account("111111111111", state.clone()), &rules),
                Some(Disposition::Skip(SkipReason::NotActive(state)))
            );
        }
        assert_eq!(
            disposition(&account("222222222222", AccountState::Active), &rules),
            Some(Disposition::Exempt(ExemptRule::ListedAccount))
        );
        assert_eq!(
            disposition(&account("333333333333", AccountState::Active), &rules),
            Some(Disposition::Sweep)
        );
        assert_eq!(
            disposition(&account("555555555555", AccountState::Active), &rules),
            Some(Disposition::Exempt(unit_rule()))
        );
    }

    #[test]
    fn a_targeted_run_ignores_other_accounts_but_keeps_every_safety_rule() {
        let management = id("000000000000");
        let exempt = BTreeSet::from([id("222222222222")]);
        let by_unit = BTreeMap::from([(id("555555555555"), unit_rule())]);
        let scope = Scope::Accounts(BTreeSet::from([
            id("000000000000"),
            id("222222222222"),
            id("333333333333"),
        ]));
        let rules = ScopeRules {
            management_account: management,
            exempt_accounts: exempt,
            exempt_by_unit: by_unit,
            scope,
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

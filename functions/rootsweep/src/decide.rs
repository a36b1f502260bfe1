//! Decide: a pure function of the plan, what earlier runs remediated, the mode and the cap ->
//! whether the due accounts may be remediated now, and if not, why not.

use crate::config::{MaxRemediations, Mode};
use crate::reasons::HoldReason;

/// What the decision looks at: this run's plan, and what the run ledger adds to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanTally {
    pub mode: Mode,
    /// Accounts audited and past their grace period.
    pub due: usize,
    /// Accounts of this run whose state it could not learn (audit failed; not reached and not
    /// vouched for by the ledger): each could be due as well, so each counts against the cap.
    pub unknown: usize,
    /// Accounts outside a run over named accounts that the ledger cannot vouch for (found due,
    /// failed, or not audited recently): they count as well, so that a mass event is held
    /// whichever run meets it.
    pub elsewhere: usize,
    /// Accounts remediated in the last 24 hours, by any run.
    pub spent: usize,
    /// Whether the plan saw every account it covers (the listing did not break off).
    pub view_complete: bool,
    /// Why the run ledger could not be read, when it could not.
    pub ledger_unreadable: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Remediate every due account (each is re-checked in its own delete session).
    Remediate,
    /// Delete nothing.
    Hold(HoldReason),
}

/// The remediation cap holds on a full view only, and over any 24 hours: a mass event (a grace
/// typo, a mass recovery) must not leak through page by page, failure by failure, or run by run.
pub fn decide(plan: &PlanTally, cap: MaxRemediations) -> Decision {
    if plan.mode == Mode::Audit {
        return Decision::Hold(HoldReason::AuditMode);
    }
    if plan.due == 0 {
        return Decision::Remediate;
    }
    if let Some(why) = &plan.ledger_unreadable {
        return Decision::Hold(HoldReason::LedgerUnreadable(why.clone()));
    }
    if !plan.view_complete {
        return Decision::Hold(HoldReason::IncompleteView);
    }
    if plan.spent + plan.due + plan.unknown + plan.elsewhere > cap.get() {
        return Decision::Hold(HoldReason::OverCap {
            due: plan.due,
            unknown: plan.unknown,
            elsewhere: plan.elsewhere,
            spent: plan.spent,
            cap: cap.get(),
        });
    }
    Decision::Remediate
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cap(n: usize) -> MaxRemediations {
        MaxRemediations::parse(&n.to_string()).unwrap()
    }

    fn enforcing(due: usize, unknown: usize, view_complete: bool) -> PlanTally {
        PlanTally {
            mode: Mode::Enforce,
            due,
            unknown,
            elsewhere: 0,
            spent: 0,
            view_complete,
            ledger_unreadable: None,
        }
    }

    #[test]
    fn within_the_cap_on_a_full_view_the_due_accounts_are_remediated() {
        assert_eq!(decide(&enforcing(3, 0, true), cap(3)), Decision::Remediate);
    }

    #[test]
    fn accounts_of_unknown_state_count_against_the_cap() {
        assert_eq!(
            decide(&enforcing(2, 2, true), cap(3)),
            Decision::Hold(HoldReason::OverCap {
                due: 2,
                unknown: 2,
                elsewhere: 0,
                spent: 0,
                cap: 3
            })
        );
    }

    #[test]
    fn what_was_remediated_in_the_last_24_hours_and_what_is_unknown_elsewhere_count_too() {
        let spent = PlanTally {
            spent: 9,
            ..enforcing(1, 0, true)
        };
        assert_eq!(decide(&spent, cap(10)), Decision::Remediate);
        let one_more = PlanTally {
            spent: 10,
            ..enforcing(1, 0, true)
        };
        assert!(matches!(
            decide(&one_more, cap(10)),
            Decision::Hold(HoldReason::OverCap { spent: 10, .. })
        ));
        let elsewhere = PlanTally {
            elsewhere: 30,
            ..enforcing(1, 0, true)
        };
        assert!(matches!(
            decide(&elsewhere, cap(10)),
            Decision::Hold(HoldReason::OverCap { elsewhere: 30, .. })
        ));
    }

    #[test]
    fn an_unreadable_ledger_deletes_nothing() {
        let unreadable = PlanTally {
            ledger_unreadable: Some("corrupt".into()),
            ..enforcing(1, 0, true)
        };
        assert_eq!(
            decide(&unreadable, cap(25)),
            Decision::Hold(HoldReason::LedgerUnreadable("corrupt".into()))
        );
    }

    #[test]
    fn a_broken_off_listing_deletes_nothing_however_few_are_due() {
        assert_eq!(
            decide(&enforcing(1, 0, false), cap(25)),
            Decision::Hold(HoldReason::IncompleteView)
        );
    }

    #[test]
    fn audit_mode_holds_everything() {
        let audit = PlanTally {
            mode: Mode::Audit,
            ..enforcing(1, 0, true)
        };
        assert_eq!(
            decide(&audit, cap(25)),
            Decision::Hold(HoldReason::AuditMode)
        );
    }

    proptest! {
        #[test]
        fn remediation_only_enforcing_on_a_full_view_within_the_cap_over_24_hours(
            due in 0usize..60, unknown in 0usize..60, elsewhere in 0usize..20, spent in 0usize..40,
            complete in any::<bool>(), readable in any::<bool>(), enforce in any::<bool>(),
            limit in 1usize..50
        ) {
            let mode = if enforce { Mode::Enforce } else { Mode::Audit };
            let tally = PlanTally {
                mode, due, unknown, elsewhere, spent, view_complete: complete,
                ledger_unreadable: (!readable).then(|| "unreadable".to_owned()),
            };
            let remediate = decide(&tally, cap(limit)) == Decision::Remediate;
            let within = spent + due + unknown + elsewhere <= limit;
            let allowed = enforce && (due == 0 || (readable && complete && within));
            prop_assert_eq!(remediate, allowed);
        }
    }
}

//! Decide: a pure function of the plan, the mode and the cap -> whether the due accounts may be
//! remediated now, and if not, why not.

use crate::config::{MaxRemediations, Mode};
use crate::reasons::HoldReason;

/// What the decision looks at in a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanTally {
    pub mode: Mode,
    /// Accounts audited and past their grace period.
    pub due: usize,
    /// Accounts whose state the plan could not learn (audit failed, not reached): each could
    /// be due as well, so each counts against the cap.
    pub unknown: usize,
    /// Whether the plan saw every account it covers (the listing did not break off).
    pub view_complete: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Remediate every due account (each is re-checked in its own delete session).
    Remediate,
    /// Delete nothing.
    Hold(HoldReason),
}

/// The remediation cap holds only on a full view: a mass event (a grace typo, a mass recovery)
/// must not leak through page by page or failure by failure.
pub fn decide(plan: PlanTally, cap: MaxRemediations) -> Decision {
    if plan.mode == Mode::Audit {
        return Decision::Hold(HoldReason::AuditMode);
    }
    if plan.due == 0 {
        return Decision::Remediate;
    }
    if !plan.view_complete {
        return Decision::Hold(HoldReason::IncompleteView);
    }
    if plan.due + plan.unknown > cap.get() {
        return Decision::Hold(HoldReason::OverCap {
            due: plan.due,
            unknown: plan.unknown,
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
            view_complete,
        }
    }

    #[test]
    fn within_the_cap_on_a_full_view_the_due_accounts_are_remediated() {
        assert_eq!(decide(enforcing(3, 0, true), cap(3)), Decision::Remediate);
    }

    #[test]
    fn accounts_of_unknown_state_count_against_the_cap() {
        assert_eq!(
            decide(enforcing(2, 2, true), cap(3)),
            Decision::Hold(HoldReason::OverCap {
                due: 2,
                unknown: 2,
                cap: 3
            })
        );
    }

    #[test]
    fn a_broken_off_listing_deletes_nothing_however_few_are_due() {
        assert_eq!(
            decide(enforcing(1, 0, false), cap(25)),
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
            decide(audit, cap(25)),
            Decision::Hold(HoldReason::AuditMode)
        );
    }

    proptest! {
        #[test]
        fn remediation_only_enforcing_on_a_full_view_within_the_cap(
            due in 0usize..60, unknown in 0usize..60, complete in any::<bool>(),
            enforce in any::<bool>(), limit in 1usize..50
        ) {
            let mode = if enforce { Mode::Enforce } else { Mode::Audit };
            let tally = PlanTally { mode, due, unknown, view_complete: complete };
            let remediate = decide(tally, cap(limit)) == Decision::Remediate;
            let allowed = enforce && (due == 0 || (complete && due + unknown <= limit));
            prop_assert_eq!(remediate, allowed);
        }
    }
}

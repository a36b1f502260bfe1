//! A run's dealings with the run ledger: before its first deletion it records, against the
//! cap, the accounts it is about to remediate (a conditional write: when another run wrote
//! first, it reads the ledger again and decides again); when it is done, it records what it
//! saw and did.

use chrono::Utc;

use crate::account::AccountId;
use crate::config::{MaxRemediations, StateLocation};
use crate::decide::{Decision, decide};
use crate::ledger::store::{Held, Recall};
use crate::ledger::{Coverage, LedgerState, LedgerSummary, RunRecord, STATELESS};
use crate::plan::Plan;
use crate::ports::StateStore;
use crate::reasons::HoldReason;

/// Reserves the cap for the plan's due accounts before any of them is touched, when the run
/// decided to remediate them and keeps a ledger. The decision is made again on the ledger as
/// written: another run may have spent the cap meanwhile.
pub async fn reserve(
    store: Option<&dyn StateStore>,
    plan: &mut Plan,
    decision: Decision,
    cap: MaxRemediations,
) -> Decision {
    if decision != Decision::Remediate || plan.due.is_empty() {
        return decision;
    }
    let (Some(store), Recall::Read(held)) = (store, &plan.memory) else {
        return decision;
    };
    let due: Vec<AccountId> = plan
        .due
        .iter()
        .map(|d| d.report.account_id.clone())
        .collect();
    let reserved = held
        .clone()
        .update(store, |ledger| {
            let now = Utc::now();
            let decision = decide(&plan.tally(Some(ledger), now), cap);
            let write = decision == Decision::Remediate;
            if write {
                ledger.reserve(&plan.run_id, &due, now);
            }
            (decision, write)
        })
        .await;
    match reserved {
        Ok((decision, held)) => {
            plan.memory = Recall::Read(held);
            decision
        }
        Err(err) => {
            tracing::warn!(error = %err, "the cap could not be reserved: nothing deleted");
            Decision::Hold(HoldReason::LedgerUnwritable(err.to_string()))
        }
    }
}

/// Records the finished run in the ledger; what became of it, for the summary.
pub async fn record(
    store: Option<&dyn StateStore>,
    at: Option<&StateLocation>,
    memory: Recall,
    run: &RunRecord<'_>,
    tag_rule: bool,
) -> LedgerSummary {
    let location = at.map(ToString::to_string);
    let (store, held) = match (store, memory) {
        (Some(store), Recall::Read(held)) => (store, held),
        (_, Recall::Unreadable(err)) => {
            let detail = Some(err.to_string());
            return LedgerSummary::new(LedgerState::Unreadable, location, detail);
        }
        _ => {
            let detail = Some(STATELESS.to_owned());
            return LedgerSummary::new(LedgerState::None, location, detail);
        }
    };
    let created = held.version.is_none();
    match write(store, held, run).await {
        Ok(held) => {
            let state = match created {
                true => LedgerState::Created,
                false => LedgerState::Updated,
            };
            LedgerSummary {
                coverage: Some(Coverage::of(&held.ledger, tag_rule, run.tag_pace, run.now)),
                bytes: Some(held.bytes),
                read_seconds: Some(held.read.as_secs_f64()),
                write_seconds: Some(held.written.as_secs_f64()),
                ..LedgerSummary::new(state, location, None)
            }
        }
        Err(detail) => {
            tracing::warn!(error = %detail, "the run ledger was not written");
            LedgerSummary::new(LedgerState::NotWritten, location, Some(detail))
        }
    }
}

async fn write(store: &dyn StateStore, held: Held, run: &RunRecord<'_>) -> Result<Held, String> {
    held.update(store, |ledger| {
        run.write_into(ledger);
        ((), true)
    })
    .await
    .map(|((), held)| held)
    .map_err(|err| err.to_string())
}

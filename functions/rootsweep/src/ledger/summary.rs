//! What became of the run ledger in a run, for its summary.

use serde::Serialize;

use super::Coverage;
use crate::names::named_enum;

named_enum! {
    /// What became of the ledger.
    pub enum LedgerState {
        /// No ledger is configured (`ROOTSWEEP_STATE`).
        None => "none",
        /// There was none yet: this run created it.
        Created => "created",
        Updated => "updated",
        /// It could not be read: nothing was deleted, and it was left as it was.
        Unreadable => "unreadable",
        /// It could not be written: what this run saw is not remembered.
        NotWritten => "not_written",
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LedgerSummary {
    pub state: LedgerState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// How well the ledger covers the organization after this run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coverage: Option<Coverage>,
    /// The object's size as written, and the time its read and its write took.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_seconds: Option<f64>,
}

/// What a run without a ledger cannot promise.
pub const STATELESS: &str = "no run ledger (ROOTSWEEP_STATE is not set): the remediation cap holds for this run only, not over 24 hours across runs, and accounts this run did not reach count as unknown";

impl LedgerSummary {
    /// The summary of a ledger in `state`, with nothing measured.
    pub fn new(state: LedgerState, location: Option<String>, detail: Option<String>) -> Self {
        Self {
            state,
            location,
            detail,
            coverage: None,
            bytes: None,
            read_seconds: None,
            write_seconds: None,
        }
    }

    pub fn failed(&self) -> bool {
        matches!(
            self.state,
            LedgerState::Unreadable | LedgerState::NotWritten
        )
    }
}

//! The order accounts are audited in. Listing order would leave the same accounts at the end of
//! every run that its deadline cuts short. With the run ledger, what a run could not finish
//! comes first in the next: accounts known to be due or in trouble, then the never audited,
//! then the least recently audited ([`Ledger::audit_rank`]). Within that, and without a
//! ledger, each run takes the accounts in an order of its own (a hash of the account id and
//! the run's seed), so that a run that cannot cover everything leaves a different part for the
//! next one.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

use crate::account::AccountId;
use crate::ledger::Ledger;

/// A run's order: `seed` from the run id, so that each run's is its own and can be told again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    pub seed: u64,
}

impl Rotation {
    pub fn for_run(run_id: &str) -> Self {
        Self {
            seed: hash(&run_id),
        }
    }

    fn key(self, id: &AccountId) -> u64 {
        hash(&(self.seed, id))
    }
}

/// A run's audit order: the ledger's rank, then the run's rotation.
pub struct AuditOrder {
    pub rotation: Rotation,
    ledger: Arc<Ledger>,
    now: DateTime<Utc>,
}

impl AuditOrder {
    pub fn new(rotation: Rotation, ledger: Arc<Ledger>, now: DateTime<Utc>) -> Self {
        Self {
            rotation,
            ledger,
            now,
        }
    }

    fn key(&self, id: &AccountId) -> (u8, i64, u64) {
        let (class, at) = self.ledger.audit_rank(id, self.now);
        (class, at, self.rotation.key(id))
    }
}

/// `DefaultHasher::new()` has fixed keys: the same input hashes the same in every process.
fn hash(value: &impl Hash) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

struct Entry<T> {
    key: (u8, i64, u64),
    item: T,
}

impl<T> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl<T> Eq for Entry<T> {}

impl<T> PartialOrd for Entry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The smallest key first (a max-heap, reversed).
impl<T> Ord for Entry<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        other.key.cmp(&self.key)
    }
}

/// Accounts listed and waiting for an audit, taken in the run's order. One consumer; the
/// listing pushes as it pages and closes it at the end.
pub struct Waiting<T> {
    order: AuditOrder,
    state: Mutex<(BinaryHeap<Entry<T>>, bool)>,
    pushed: Notify,
}

impl<T> Waiting<T> {
    pub fn new(order: AuditOrder) -> Self {
        Self {
            order,
            state: Mutex::new((BinaryHeap::new(), false)),
            pushed: Notify::new(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, (BinaryHeap<Entry<T>>, bool)> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn push(&self, id: &AccountId, item: T) {
        let key = self.order.key(id);
        self.state().0.push(Entry { key, item });
        // One consumer: a stored permit wakes it even if it is not waiting yet.
        self.pushed.notify_one();
    }

    /// No more accounts will come.
    pub fn close(&self) {
        self.state().1 = true;
        self.pushed.notify_one();
    }

    /// The next account in the run's order; `None` once closed and empty.
    pub async fn pop(&self) -> Option<T> {
        loop {
            {
                let mut state = self.state();
                if let Some(entry) = state.0.pop() {
                    return Some(entry.item);
                }
                if state.1 {
                    return None;
                }
            }
            self.pushed.notified().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: u64) -> Vec<AccountId> {
        (1..=n)
            .map(|i| format!("{i:012}").parse().unwrap())
            .collect()
    }

    fn rotating(rotation: Rotation) -> AuditOrder {
        AuditOrder::new(rotation, Arc::new(Ledger::empty()), Utc::now())
    }

    async fn drained(rotation: Rotation, ids: &[AccountId]) -> Vec<AccountId> {
        let waiting = Waiting::new(rotating(rotation));
        for id in ids {
            waiting.push(id, id.clone());
        }
        waiting.close();
        let mut order = Vec::new();
        while let Some(id) = waiting.pop().await {
            order.push(id);
        }
        order
    }

    #[tokio::test]
    async fn every_account_comes_out_once_in_an_order_of_the_run() {
        let all = ids(50);
        let first = drained(Rotation::for_run("run-1"), &all).await;
        let again = drained(Rotation::for_run("run-1"), &all).await;
        let other = drained(Rotation::for_run("run-2"), &all).await;
        let mut sorted = first.clone();
        sorted.sort();
        assert_eq!(sorted, all, "each account once");
        assert_eq!(first, again, "the same run id gives the same order");
        assert_ne!(first, other, "another run, another order");
        assert_ne!(first, all, "not the listing order");
    }

    #[tokio::test]
    async fn a_different_part_is_left_at_the_end_by_each_run() {
        // The last fifth of the order, over several runs: no account is always in it.
        let all = ids(100);
        let mut always_last: Vec<AccountId> = all.clone();
        for run in 0..8 {
            let order = drained(Rotation::for_run(&format!("run-{run}")), &all).await;
            let tail = &order[80..];
            always_last.retain(|id| tail.contains(id));
        }
        assert!(always_last.is_empty(), "{always_last:?}");
    }

    #[tokio::test]
    async fn with_a_ledger_what_the_last_runs_could_not_finish_comes_first() {
        use crate::ledger::{Audit, Found, Memory};
        use crate::outcome::OutcomeKind;
        let all = ids(6);
        let now = Utc::now();
        let mut ledger = Ledger::empty();
        // Accounts 1 to 4 audited clean 1 to 4 days ago; account 5 due; account 6 never seen.
        for (n, days) in [(1, 1), (2, 2), (3, 3), (4, 4), (5, 1)] {
            let at = now - chrono::TimeDelta::days(days);
            let found = if n == 5 {
                Found::Due { due_at: at }
            } else {
                Found::Clean
            };
            let memory = Memory {
                listed: None,
                outcome: OutcomeKind::Clean,
                seen_at: at,
                audit: Some(Audit {
                    at,
                    sweep: 1,
                    found,
                }),
                tags: None,
            };
            ledger.accounts.insert(all[n - 1].clone(), memory);
        }
        let order = AuditOrder::new(Rotation::for_run("r"), Arc::new(ledger), now);
        let waiting = Waiting::new(order);
        for id in &all {
            waiting.push(id, id.clone());
        }
        waiting.close();
        let mut taken = Vec::new();
        while let Some(id) = waiting.pop().await {
            taken.push(id);
        }
        let expected: Vec<AccountId> = [5, 6, 4, 3, 2, 1]
            .iter()
            .map(|n| all[n - 1].clone())
            .collect();
        assert_eq!(taken, expected);
    }

    #[tokio::test]
    async fn the_consumer_waits_for_accounts_still_being_listed() {
        let waiting = Arc::new(Waiting::new(rotating(Rotation::for_run("r"))));
        let producer = waiting.clone();
        let listed = tokio::spawn(async move {
            for id in ids(3) {
                tokio::task::yield_now().await;
                producer.push(&id, id.clone());
            }
            producer.close();
        });
        let mut got = 0;
        while waiting.pop().await.is_some() {
            got += 1;
        }
        listed.await.unwrap();
        assert_eq!(got, 3);
    }
}

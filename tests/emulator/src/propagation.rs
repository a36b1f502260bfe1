//! IAM's eventual consistency, off unless a run sets a delay: "IAM [...] uses a distributed
//! computing model called eventual consistency. Any change that you make in IAM [...] takes time
//! to become visible from all possible endpoints" (IAM User Guide, Troubleshooting IAM, "Changes
//! that I make are not always immediately visible",
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency>).
//!
//! For `delay` after a write to a root user (a deletion or deactivation), IAM's reads of that
//! root user still see it as it was before the write, but for `GetAccessKeyLastUsed`: "all
//! possible endpoints" do not see a change at once, and the one answering it already knows a
//! deleted key gone (`AccessDenied`, as for any key that is not the root user's) while
//! `ListAccessKeys` still lists it, as AWS answers during a deletion's propagation. The write
//! itself happens at once: the emulator's state shows it, and a second delete of the same
//! credential is `NoSuchEntity`.
//!
//! # Configuration
//!
//! Off by default. `Emulator::iam_propagation_delay_ms(D)` / `--iam-propagation-delay-ms D`: for D ms
//! after a write to a root user (`DeleteLoginProfile`, `DeleteAccessKey`, `DeleteSigningCertificate`,
//! `DeactivateMFADevice`, `DeleteVirtualMFADevice`), IAM's reads of that root user (`GetUser`,
//! `GetLoginProfile`, `ListAccessKeys`, `ListSigningCertificates`, `ListMFADevices`,
//! `GetAccountSummary`), from any session, still see it as before the write. Not so
//! `GetAccessKeyLastUsed`: the endpoint answering it sees the deletion at once, so a deleted key that
//! `ListAccessKeys` still lists answers `AccessDenied` (as any key that is not the root user's), as
//! AWS does while a deletion propagates. The write itself happened at once: `state()` and
//! `/_emulator/state` show the new state, and deleting the same credential again answers
//! `NoSuchEntity`. Several writes become visible one by one, each D
//! after it was made ("Changes that I make are not always immediately visible", IAM User Guide).

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use crate::services::RootUser;

#[derive(Debug, Default)]
pub(crate) struct Propagation {
    delay: Duration,
    /// Per account, the root user as it was before each write not yet visible, oldest first.
    pending: HashMap<String, VecDeque<(Instant, RootUser)>>,
}

impl Propagation {
    pub fn new(delay: Duration) -> Self {
        Self {
            delay,
            pending: HashMap::new(),
        }
    }

    pub fn is_on(&self) -> bool {
        !self.delay.is_zero()
    }

    /// Notes that `account`'s root user was written at `at`; `before` is how it was until then.
    pub fn record(&mut self, account: &str, before: RootUser, at: Instant) {
        self.pending
            .entry(account.to_owned())
            .or_default()
            .push_back((at, before));
    }

    /// The root user as reads see it at `now`: as it was before the oldest write that is not yet
    /// visible, or `current` when every write is.
    pub fn visible<'a>(
        &'a mut self,
        account: &str,
        current: &'a RootUser,
        now: Instant,
    ) -> &'a RootUser {
        let Some(writes) = self.pending.get_mut(account) else {
            return current;
        };
        while writes
            .front()
            .is_some_and(|(at, _)| now.saturating_duration_since(*at) >= self.delay)
        {
            writes.pop_front();
        }
        writes.front().map_or(current, |(_, before)| before)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_see_each_write_once_it_is_old_enough() {
        let mut propagation = Propagation::new(Duration::from_secs(10));
        let start = Instant::now();
        let states: Vec<RootUser> = (0..3)
            .map(|devices| RootUser {
                unassigned_virtual_mfa_devices: vec!["x".to_owned(); devices],
                ..RootUser::default()
            })
            .collect();
        // Two writes, 4 s apart: state 0 -> 1 at start, 1 -> 2 at start + 4 s.
        propagation.record("1", states[0].clone(), start);
        propagation.record("1", states[1].clone(), start + Duration::from_secs(4));
        let at = |seconds| start + Duration::from_secs(seconds);
        assert_eq!(propagation.visible("1", &states[2], at(5)), &states[0]);
        assert_eq!(propagation.visible("1", &states[2], at(10)), &states[1]);
        assert_eq!(propagation.visible("1", &states[2], at(14)), &states[2]);
        // Other accounts are not affected.
        assert_eq!(propagation.visible("2", &states[1], at(0)), &states[1]);
        assert!(!Propagation::default().is_on());
    }
}

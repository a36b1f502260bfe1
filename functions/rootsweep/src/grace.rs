//! The grace rule: when root credentials become due for deletion.
//!
//! The clock of an account is the latest of:
//! - `PasswordLastUsed` of the root user,
//! - the login profile's `CreateDate`,
//! - the creation dates of its access keys, the upload dates of its signing certificates and
//!   the enable dates of its MFA devices.
//!
//! The account is due at `clock + grace`. Someone who recovers the root password, signs in, or
//! adds a key therefore always gets the full grace period from that moment on.
//!
//! Dates can be odd, and an odd date never makes an account due sooner than any plausible true
//! date would: a credential without a date, or dated before the root user was created, counts
//! as created `now` (the latest it can truly be), and a date in the future pushes the due time
//! further out. Every odd date is returned as a [`DateAnomaly`]: an account held in grace by
//! one is reported, counted in a metric and alarmed on, so that no account stays undue through
//! an odd date without someone being told.
//! An account with no credentials is clean, whatever its `PasswordLastUsed`.

use chrono::{DateTime, Utc};

use crate::config::GracePeriod;
use crate::credentials::RootCredentials;
use crate::reasons::{DateAnomaly, DateIssue, DatedItem};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// No root credentials at all.
    Clean,
    /// Credentials exist; they may be deleted from `due_at` on.
    InGrace { due_at: DateTime<Utc> },
    /// Credentials exist and their grace period ended at `due_at`.
    Due { due_at: DateTime<Utc> },
}

impl Verdict {
    pub fn due_at(&self) -> Option<DateTime<Utc>> {
        match self {
            Verdict::Clean => None,
            Verdict::InGrace { due_at } | Verdict::Due { due_at } => Some(*due_at),
        }
    }
}

/// The verdict plus every odd date it was computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    pub verdict: Verdict,
    pub anomalies: Vec<DateAnomaly>,
}

impl Assessment {
    /// In grace only because of an odd date: an odd date is always the latest date the rule
    /// uses (counted as now, or in the future), so it is what sets the due time.
    pub fn held_by_odd_dates(&self) -> bool {
        matches!(self.verdict, Verdict::InGrace { .. }) && !self.anomalies.is_empty()
    }
}

/// Applies the grace rule to a snapshot of the root user's credentials at time `now`.
pub fn assess(snapshot: &RootCredentials, grace: &GracePeriod, now: DateTime<Utc>) -> Assessment {
    if snapshot.is_empty() {
        return Assessment {
            verdict: Verdict::Clean,
            anomalies: Vec::new(),
        };
    }
    let mut anomalies = Vec::new();
    // Each date as the rule may use it: an odd one never makes the account due sooner.
    let mut credible = |date: Option<DateTime<Utc>>, item: DatedItem| {
        let (used, issue) = match date {
            None => (now, Some(DateIssue::Missing)),
            Some(date) if snapshot.user_created.is_some_and(|created| date < created) => {
                (now, Some(DateIssue::BeforeRootUser(date)))
            }
            Some(date) if date > now => (date, Some(DateIssue::InFuture(date))),
            Some(date) => (date, None),
        };
        if let Some(issue) = issue {
            anomalies.push(DateAnomaly { item, issue });
        }
        used
    };
    let last_sign_in = snapshot
        .password_last_used
        .map(|used| credible(Some(used), DatedItem::PasswordLastUsed));
    let clock = snapshot
        .credentials
        .iter()
        .map(|c| {
            let item = DatedItem::Credential {
                kind: c.kind,
                id: c.id.clone(),
            };
            credible(c.created, item)
        })
        .chain(last_sign_in)
        .max()
        .unwrap_or(now);
    let due_at = clock
        .checked_add_signed(grace.as_chrono())
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    let verdict = if now >= due_at {
        Verdict::Due { due_at }
    } else {
        Verdict::InGrace { due_at }
    };
    Assessment { verdict, anomalies }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::{Credential, CredentialKind};
    use chrono::TimeDelta;
    use proptest::prelude::*;

    fn now() -> DateTime<Utc> {
        "2026-11-23T10:00:00Z".parse().unwrap()
    }

    fn hours_ago(h: i64) -> Option<DateTime<Utc>> {
        Some(now() - TimeDelta::hours(h))
    }

    fn grace_72h() -> GracePeriod {
        GracePeriod::parse("72h").unwrap()
    }

    fn password(
        created: Option<DateTime<Utc>>,
        last_used: Option<DateTime<Utc>>,
    ) -> RootCredentials {
        RootCredentials {
            user_created: None,
            password_last_used: last_used,
            credentials: vec![Credential::password(created)],
        }
    }

    #[test]
    fn no_credentials_is_clean_even_with_an_old_sign_in() {
        let snapshot = RootCredentials {
            password_last_used: hours_ago(1),
            ..RootCredentials::default()
        };
        assert_eq!(
            assess(&snapshot, &grace_72h(), now()).verdict,
            Verdict::Clean
        );
    }

    #[test]
    fn a_recent_sign_in_keeps_an_old_password_in_grace() {
        let a = assess(
            &password(hours_ago(1000), hours_ago(10)),
            &grace_72h(),
            now(),
        );
        assert_eq!(
            a.verdict,
            Verdict::InGrace {
                due_at: now() + TimeDelta::hours(62)
            }
        );
        assert!(a.anomalies.is_empty());
        assert!(!a.held_by_odd_dates());
    }

    #[test]
    fn a_fresh_password_never_used_is_in_grace_from_its_creation() {
        let a = assess(&password(hours_ago(5), None), &grace_72h(), now());
        assert_eq!(
            a.verdict,
            Verdict::InGrace {
                due_at: now() + TimeDelta::hours(67)
            }
        );
    }

    #[test]
    fn due_exactly_when_the_grace_period_ends() {
        let at_the_limit = assess(&password(hours_ago(72), None), &grace_72h(), now());
        assert_eq!(at_the_limit.verdict, Verdict::Due { due_at: now() });
        let a_second_before = password(
            Some(now() - TimeDelta::hours(72) + TimeDelta::seconds(1)),
            None,
        );
        assert!(matches!(
            assess(&a_second_before, &grace_72h(), now()).verdict,
            Verdict::InGrace { .. }
        ));
    }

    #[test]
    fn a_new_access_key_restarts_the_clock_of_an_old_password() {
        let mut snapshot = password(hours_ago(500), hours_ago(400));
        snapshot.credentials.push(Credential::new(
            CredentialKind::AccessKey,
            "AKIAEXAMPLE",
            hours_ago(2),
        ));
        assert_eq!(
            assess(&snapshot, &grace_72h(), now()).verdict,
            Verdict::InGrace {
                due_at: now() + TimeDelta::hours(70)
            }
        );
    }

    #[test]
    fn an_undated_credential_counts_as_created_now_and_holds_the_account_visibly() {
        let mut snapshot = password(hours_ago(500), None);
        snapshot.credentials.push(Credential::new(
            CredentialKind::SigningCertificate,
            "CERT1",
            None,
        ));
        let a = assess(&snapshot, &grace_72h(), now());
        assert_eq!(
            a.verdict,
            Verdict::InGrace {
                due_at: now() + TimeDelta::hours(72)
            }
        );
        assert_eq!(
            a.anomalies,
            [DateAnomaly {
                item: DatedItem::Credential {
                    kind: CredentialKind::SigningCertificate,
                    id: "CERT1".into()
                },
                issue: DateIssue::Missing
            }]
        );
        assert!(a.held_by_odd_dates());
    }

    #[test]
    fn a_date_before_the_account_existed_counts_as_now_and_holds_the_account_visibly() {
        let mut snapshot = password(hours_ago(5000), None);
        snapshot.user_created = hours_ago(1000);
        let a = assess(&snapshot, &grace_72h(), now());
        assert_eq!(
            a.verdict,
            Verdict::InGrace {
                due_at: now() + TimeDelta::hours(72)
            }
        );
        assert!(matches!(
            a.anomalies[..],
            [DateAnomaly {
                issue: DateIssue::BeforeRootUser(_),
                ..
            }]
        ));
        assert!(a.held_by_odd_dates());
    }

    #[test]
    fn a_future_date_delays_and_holds_the_account_visibly() {
        let a = assess(
            &password(Some(now() + TimeDelta::hours(24)), None),
            &grace_72h(),
            now(),
        );
        assert_eq!(
            a.verdict,
            Verdict::InGrace {
                due_at: now() + TimeDelta::hours(96)
            }
        );
        assert!(matches!(
            a.anomalies[..],
            [DateAnomaly {
                issue: DateIssue::InFuture(_),
                ..
            }]
        ));
        assert!(a.held_by_odd_dates());
    }

    /// A date as the rule meets them, for a `grace` period: from ten years ago to a year ahead,
    /// or where the grace period of a credential created then ends now (a second before, at or
    /// after it, or within two hours of it); sometimes missing. Drawn relative to the grace
    /// period, the boundary `now == due_at` comes up in a good share of the cases, whatever
    /// the period's length.
    fn any_date(grace: &GracePeriod) -> impl Strategy<Value = Option<DateTime<Utc>>> + use<> {
        let boundary = now() - grace.as_chrono();
        let seconds = |s: i64| TimeDelta::seconds(s);
        let date = prop_oneof![
            2 => (-87_600i64 * 3600..8_760 * 3600).prop_map(move |s| now() + seconds(s)),
            2 => Just(boundary),
            2 => prop_oneof![Just(-1i64), Just(1)].prop_map(move |s| boundary + seconds(s)),
            1 => (-7_200i64..=7_200).prop_map(move |s| boundary + seconds(s)),
        ];
        prop::option::weighted(0.9, date)
    }

    /// A grace period the configuration accepts: its bounds (1 h and 365 d) as often as any
    /// length between them, to the second.
    fn any_grace() -> impl Strategy<Value = GracePeriod> {
        prop_oneof![Just(3_600u64), Just(365 * 86_400), 3_600u64..=365 * 86_400]
            .prop_map(|s| GracePeriod::parse(&format!("{s}s")).unwrap())
    }

    /// A root user's credentials for `grace`: its creation date and dates drawn around the end of
    /// that grace period (see [`any_date`]).
    fn any_snapshot(grace: &GracePeriod) -> impl Strategy<Value = RootCredentials> + use<> {
        let credential = (0usize..4, any_date(grace)).prop_map(|(k, created)| {
            Credential::new(CredentialKind::ALL[k], format!("id-{k}"), created)
        });
        (
            any_date(grace),
            any_date(grace),
            prop::collection::vec(credential, 0..6),
        )
            .prop_map(
                |(user_created, password_last_used, credentials)| RootCredentials {
                    user_created,
                    password_last_used,
                    credentials,
                },
            )
    }

    /// A grace period and credentials dated around its end.
    fn any_case() -> impl Strategy<Value = (RootCredentials, GracePeriod)> {
        any_grace().prop_flat_map(|grace| (any_snapshot(&grace), Just(grace)))
    }

    /// The snapshot with every odd date replaced by a plausible true one: on or after the root
    /// user's creation, not after now (`fraction` of the way between the two).
    fn with_plausible_dates(s: &RootCredentials, fraction: f64) -> RootCredentials {
        let earliest = s
            .user_created
            .filter(|c| *c <= now())
            .unwrap_or(now() - TimeDelta::days(3650));
        let span = (now() - earliest).num_seconds() as f64;
        let plausible = earliest + TimeDelta::seconds((span * fraction) as i64);
        let fix = |date: Option<DateTime<Utc>>| match date {
            Some(d) if d >= earliest && d <= now() => Some(d),
            _ => Some(plausible),
        };
        RootCredentials {
            // A root user created in the future is itself odd: a plausible world has none.
            user_created: s.user_created.filter(|c| *c <= now()),
            password_last_used: s.password_last_used.map(|d| fix(Some(d)).unwrap()),
            credentials: s
                .credentials
                .iter()
                .map(|c| Credential {
                    created: fix(c.created),
                    ..c.clone()
                })
                .collect(),
        }
    }

    proptest! {
        /// The rule at its boundary: credentials created a grace period ago (to the second) are
        /// due now, a second later they are not.
        #[test]
        fn due_from_the_end_of_the_grace_period_on_and_not_a_second_sooner(
            g in any_grace(), offset in -2i64..=2, kind in 0usize..4
        ) {
            let created = now() - g.as_chrono() + TimeDelta::seconds(offset);
            let snapshot = RootCredentials {
                user_created: Some(created - TimeDelta::days(1)),
                password_last_used: None,
                credentials: vec![Credential::new(CredentialKind::ALL[kind], "id", Some(created))],
            };
            let verdict = assess(&snapshot, &g, now()).verdict;
            prop_assert_eq!(verdict.due_at(), Some(created + g.as_chrono()));
            prop_assert_eq!(matches!(verdict, Verdict::Due { .. }), offset <= 0, "{:?}", verdict);
        }

        #[test]
        fn clean_exactly_when_there_are_no_credentials((s, g) in any_case()) {
            prop_assert_eq!(assess(&s, &g, now()).verdict == Verdict::Clean, s.is_empty());
        }

        #[test]
        fn never_due_while_any_date_is_within_the_grace_period((s, g) in any_case()) {
            if let Verdict::Due { .. } = assess(&s, &g, now()).verdict {
                // An undated credential counts as created now; a password never used has no date.
                let created = s.credentials.iter().map(|c| c.created.unwrap_or(now()));
                for date in created.chain(s.password_last_used) {
                    prop_assert!(date + g.as_chrono() <= now(), "{date} is within {g} of {}", now());
                }
            }
        }

        #[test]
        fn due_exactly_when_now_has_reached_the_due_time((s, g) in any_case()) {
            match assess(&s, &g, now()).verdict {
                Verdict::Clean => prop_assert!(s.is_empty()),
                Verdict::InGrace { due_at } => prop_assert!(now() < due_at),
                Verdict::Due { due_at } => prop_assert!(now() >= due_at),
            }
        }

        #[test]
        fn an_odd_date_never_brings_the_due_time_before_any_plausible_true_date(
            (s, g) in any_case(), fraction in 0.0f64..=1.0
        ) {
            prop_assume!(!s.is_empty());
            let odd = assess(&s, &g, now());
            let plausible = assess(&with_plausible_dates(&s, fraction), &g, now());
            prop_assert!(plausible.anomalies.is_empty(), "{:?}", plausible.anomalies);
            prop_assert!(odd.verdict.due_at() >= plausible.verdict.due_at());
            // And an account held in grace by an odd date is always flagged as such.
            if odd.verdict != plausible.verdict {
                prop_assert!(!odd.anomalies.is_empty());
            }
        }

        #[test]
        fn adding_a_credential_never_brings_the_due_time_forward(
            (s, g, extra) in any_case().prop_flat_map(|(s, g)| {
                let extra = any_date(&g);
                (Just(s), Just(g), extra)
            })
        ) {
            prop_assume!(!s.is_empty());
            let before = assess(&s, &g, now()).verdict.due_at().unwrap();
            let mut more = s.clone();
            more.credentials.push(Credential::new(CredentialKind::AccessKey, "AKIAMORE", extra));
            let after = assess(&more, &g, now()).verdict.due_at().unwrap();
            prop_assert!(after >= before);
        }

        #[test]
        fn a_longer_grace_period_never_makes_an_account_due_sooner(
            ((s, a), b) in (any_case(), any_grace())
        ) {
            let (short, long) = if a <= b { (a, b) } else { (b, a) };
            let due_with_long = matches!(assess(&s, &long, now()).verdict, Verdict::Due { .. });
            let due_with_short = matches!(assess(&s, &short, now()).verdict, Verdict::Due { .. });
            prop_assert!(!due_with_long || due_with_short);
        }
    }
}

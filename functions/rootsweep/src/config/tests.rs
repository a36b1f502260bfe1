//! Configuration parsing: what each variable accepts and refuses.

use std::time::Duration;

use super::*;

fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    Config::from_pairs(vars.iter().copied())
}

#[test]
fn defaults_are_a_safe_audit_with_a_three_day_grace() {
    let c = Config::default();
    assert_eq!(c.mode, Mode::Audit);
    assert_eq!(c.grace.as_std(), Duration::from_secs(72 * 3600));
    assert_eq!(c.concurrency.get(), 8);
    assert!(c.exempt_accounts.is_empty());
    assert_eq!(c.metrics_namespace.as_str(), "Rootsweep");
    assert_eq!(c.root_session_duration.seconds(), 900);
    assert_eq!(c.max_remediations.get(), 25);
    assert!(!c.delete_virtual_mfa_devices);
    assert_eq!(c.assume_root_rate.get(), 50);
}

#[test]
fn the_grace_period_is_reported_as_written_and_in_seconds() {
    for (written, shown, seconds) in [
        ("72h", "72h", 259_200),
        (" 7d ", "7d", 604_800),
        ("1h 30m", "1h 30m", 5_400),
        ("3days", "3days", 259_200),
    ] {
        let grace = config(&[("ROOTSWEEP_GRACE_PERIOD", written)])
            .unwrap()
            .grace;
        assert_eq!(
            (grace.to_string(), grace.seconds()),
            (shown.to_owned(), seconds)
        );
    }
    let default = Config::default().grace;
    assert_eq!(
        (default.to_string(), default.seconds()),
        ("72h".to_owned(), 259_200)
    );
}

#[test]
fn human_durations_are_accepted() {
    let c = config(&[
        ("ROOTSWEEP_GRACE_PERIOD", "7d"),
        ("ROOTSWEEP_ROOT_SESSION_DURATION", "5m"),
    ])
    .unwrap();
    assert_eq!(c.grace.as_std(), Duration::from_secs(7 * 24 * 3600));
    assert_eq!(c.root_session_duration.seconds(), 300);
    assert_eq!(
        config(&[("ROOTSWEEP_GRACE_PERIOD", "1h 30m")])
            .unwrap()
            .grace
            .as_std(),
        Duration::from_secs(5400)
    );
}

#[test]
fn exempt_accounts_are_a_trimmed_comma_separated_list() {
    let c = config(&[("ROOTSWEEP_EXEMPT_ACCOUNTS", " 111111111111, 222222222222 ,")]).unwrap();
    let ids: Vec<&str> = c.exempt_accounts.iter().map(AccountId::as_str).collect();
    assert_eq!(ids, ["111111111111", "222222222222"]);
}

#[test]
fn each_bad_value_names_the_variable_the_value_and_what_is_allowed() {
    let cases = [
        ("ROOTSWEEP_MODE", "enforced", "`audit`"),
        ("ROOTSWEEP_MODE", "", "`enforce`"),
        ("ROOTSWEEP_GRACE_PERIOD", "72", "`72h`"),
        ("ROOTSWEEP_GRACE_PERIOD", "0h", "from 1h"),
        // Minutes where hours were meant: below the minimum.
        ("ROOTSWEEP_GRACE_PERIOD", "48m", "from 1h"),
        ("ROOTSWEEP_GRACE_PERIOD", "-3d", "duration"),
        ("ROOTSWEEP_GRACE_PERIOD", "400d", "to 365d"),
        ("ROOTSWEEP_CONCURRENCY", "0", "1 to 64"),
        ("ROOTSWEEP_CONCURRENCY", "65", "1 to 64"),
        ("ROOTSWEEP_CONCURRENCY", "eight", "1 to 64"),
        ("ROOTSWEEP_EXEMPT_ACCOUNTS", "12345", "12-digit"),
        ("ROOTSWEEP_METRICS_NAMESPACE", "AWS/Lambda", "AWS/"),
        ("ROOTSWEEP_METRICS_NAMESPACE", "", "1 to 255"),
        ("ROOTSWEEP_ROOT_SESSION_DURATION", "901s", "to 900s"),
        ("ROOTSWEEP_ROOT_SESSION_DURATION", "1h", "to 900s"),
        // Shorter than two paced calls.
        ("ROOTSWEEP_ROOT_SESSION_DURATION", "60s", "from 90s"),
        ("ROOTSWEEP_MAX_REMEDIATIONS", "0", "1 to 100000"),
        ("ROOTSWEEP_EXEMPT_OUS", "ou-1", "ou-ab12-cd34ef56"),
        (
            "ROOTSWEEP_EXEMPT_OUS",
            "r-ab12,OU-AB12-CD34EF56",
            "\"OU-AB12-CD34EF56\" is not one",
        ),
        (
            "ROOTSWEEP_EXEMPT_TAG_VALUE",
            "true",
            "ROOTSWEEP_EXEMPT_TAG_KEY too",
        ),
        ("ROOTSWEEP_MAX_REMEDIATIONS", "all", "1 to 100000"),
        (
            "ROOTSWEEP_DELETE_VIRTUAL_MFA_DEVICES",
            "yes",
            "`true` or `false`",
        ),
    ];
    for (variable, value, hint) in cases {
        let err = config(&[(variable, value)]).unwrap_err();
        assert_eq!(err.variable, variable);
        assert_eq!(err.value, value);
        let message = err.to_string();
        assert!(
            message.starts_with(&format!("{variable}={value:?} is not valid")),
            "{message}"
        );
        assert!(
            message.contains(hint),
            "{message:?} should mention {hint:?}"
        );
    }
}

#[test]
fn exemptions_by_unit_and_by_tag() {
    let c = config(&[
        ("ROOTSWEEP_EXEMPT_OUS", "ou-ab12-cd34ef56, r-ab12"),
        ("ROOTSWEEP_EXEMPT_TAG_KEY", "rootsweep:exempt"),
        ("ROOTSWEEP_EXEMPT_TAG_VALUE", "true"),
    ])
    .unwrap();
    assert_eq!(c.exempt_ous.len(), 2);
    let rule = c.exempt_tag.unwrap();
    let tag = |k: &str, v: &str| vec![(k.to_owned(), v.to_owned())];
    assert!(rule.matches(&tag("rootsweep:exempt", "true")));
    assert!(!rule.matches(&tag("rootsweep:exempt", "false")));
    assert!(!rule.matches(&tag("team", "true")));
    let any_value = TagRule::parse(Some("break-glass".into()), None)
        .unwrap()
        .unwrap();
    assert!(any_value.matches(&tag("break-glass", "")));
    assert!(Config::default().exempt_tag.is_none());
}

#[test]
fn an_exempt_tag_with_spaces_around_it_is_refused_saying_so() {
    for (variable, key, value) in [
        (TagRule::VALUE_VARIABLE, "rootsweep:exempt", "true "),
        (TagRule::VALUE_VARIABLE, "rootsweep:exempt", " true"),
        (TagRule::KEY_VARIABLE, "rootsweep:exempt ", "true"),
        (TagRule::KEY_VARIABLE, " ", "true"),
    ] {
        let err = config(&[
            (TagRule::KEY_VARIABLE, key),
            (TagRule::VALUE_VARIABLE, value),
        ])
        .unwrap_err();
        assert_eq!(err.variable, variable);
        let message = err.to_string();
        assert!(message.contains("remove the spaces around it"), "{message}");
    }
    // Spaces inside a tag are the tag's own.
    let rule = config(&[
        (TagRule::KEY_VARIABLE, "break glass"),
        (TagRule::VALUE_VARIABLE, "on call"),
    ])
    .unwrap()
    .exempt_tag
    .unwrap();
    assert!(rule.matches(&[("break glass".into(), "on call".into())]));
}

#[test]
fn audit_is_the_lower_mode() {
    assert!(Mode::Audit < Mode::Enforce);
}

use proptest::prelude::*;

const VARIABLES: [&str; 19] = [
    "ROOTSWEEP_STATE",
    "ROOTSWEEP_FOLLOW_UP_GROUP",
    "ROOTSWEEP_FOLLOW_UP_ROLE_ARN",
    "ROOTSWEEP_FOLLOW_UP_IN_GRACE",
    "ROOTSWEEP_FOLLOW_UP_DEAD_LETTER_ARN",
    "ROOTSWEEP_ARCHIVE",
    "ROOTSWEEP_SECURITY_HUB",
    "ROOTSWEEP_ASSUME_ROOT_RATE",
    "ROOTSWEEP_MODE",
    "ROOTSWEEP_GRACE_PERIOD",
    "ROOTSWEEP_CONCURRENCY",
    "ROOTSWEEP_EXEMPT_ACCOUNTS",
    "ROOTSWEEP_EXEMPT_OUS",
    "ROOTSWEEP_EXEMPT_TAG_KEY",
    "ROOTSWEEP_EXEMPT_TAG_VALUE",
    "ROOTSWEEP_METRICS_NAMESPACE",
    "ROOTSWEEP_ROOT_SESSION_DURATION",
    "ROOTSWEEP_MAX_REMEDIATIONS",
    "ROOTSWEEP_DELETE_VIRTUAL_MFA_DEVICES",
];

proptest! {
    #[test]
    fn any_value_is_accepted_or_rejected_with_its_variable_and_what_is_allowed(
        which in 0..VARIABLES.len(),
        value in prop_oneof!["\\PC{0,40}", "[0-9]{1,6}[smhd]?", "[0-9]{12}(,[0-9]{10,13}){0,2}"],
    ) {
        let variable = VARIABLES[which];
        if let Err(err) = config(&[(variable, value.as_str())]) {
            prop_assert!(err.variable == variable, "{err}");
            prop_assert!(!err.allowed.is_empty());
            prop_assert!(err.to_string().starts_with(&format!("{variable}=")), "{err}");
        }
    }

    /// The accepting side: a grace period is accepted exactly within its bounds, and what
    /// is accepted is the duration that was written. Half the cases are drawn around the
    /// bounds (1 h and 365 d, in each unit that can write them).
    #[test]
    fn a_grace_period_is_accepted_exactly_from_one_hour_to_a_year(
        (amount, unit) in prop_oneof![
            (0u64..20_000, prop::sample::select(vec![("s", 1u64), ("m", 60), ("h", 3600), ("d", 86400)])),
            prop::sample::select(vec![
                (3_599, ("s", 1)), (3_600, ("s", 1)), (59, ("m", 60)), (60, ("m", 60)), (1, ("h", 3600)),
                (8_760, ("h", 3600)), (8_761, ("h", 3600)), (365, ("d", 86400)), (366, ("d", 86400)),
                (31_535_999, ("s", 1)), (31_536_000, ("s", 1)), (31_536_001, ("s", 1)), (0, ("h", 3600)),
            ]),
        ]
    ) {
        let seconds = amount * unit.1;
        let parsed = config(&[("ROOTSWEEP_GRACE_PERIOD", &format!("{amount}{}", unit.0))]);
        let within = (3600..=365 * 86400).contains(&seconds);
        prop_assert_eq!(parsed.is_ok(), within, "{}{} = {}s", amount, unit.0, seconds);
        if let Ok(c) = parsed {
            prop_assert_eq!(c.grace.as_std(), Duration::from_secs(seconds));
        }
    }

    /// The README's ranges, as literals; half the cases a step from one of their ends.
    #[test]
    fn concurrency_rate_and_cap_accept_exactly_their_ranges(
        n in prop_oneof![
            0usize..200_000,
            prop::sample::select(vec![1usize, 64, 600, 100_000]).prop_flat_map(|end| end - 1..=end + 1),
        ]
    ) {
        let concurrency = config(&[("ROOTSWEEP_CONCURRENCY", &n.to_string())]);
        prop_assert_eq!(concurrency.map(|c| c.concurrency.get()).ok(), (1..=64).contains(&n).then_some(n));
        let rate = config(&[("ROOTSWEEP_ASSUME_ROOT_RATE", &n.to_string())]);
        prop_assert_eq!(rate.map(|c| c.assume_root_rate.get()).ok(), (1..=600).contains(&n).then_some(n));
        let cap = config(&[("ROOTSWEEP_MAX_REMEDIATIONS", &n.to_string())]);
        prop_assert_eq!(cap.map(|c| c.max_remediations.get()).ok(), (1..=100_000).contains(&n).then_some(n));
    }
}

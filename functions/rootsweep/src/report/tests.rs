use super::*;
use crate::account::AccountState;
use crate::outcome::{Action, ActionKind, Failure, Stage};
use crate::ports::{AwsError, AwsErrorKind};
use crate::reasons::SkipReason;

fn id(s: &str) -> AccountId {
    s.parse().unwrap()
}

fn facts(listing_error: Option<ListingStop>) -> RunFacts {
    RunFacts {
        run_id: "run-1".into(),
        mode: Mode::Enforce,
        grace: GracePeriod::parse("72h").unwrap(),
        started_at: "2026-11-23T10:00:00Z".parse().unwrap(),
        duration_seconds: 12.5,
        whole_organization: true,
        listing_error,
        listing_reused_from: None,
        held: None,
        audit_order_seed: 7,
    }
}

fn remediated() -> AccountReport {
    let mut r = AccountReport::new(
        id("111111111111"),
        "dev".into(),
        Some(AccountState::Active),
        Outcome::Remediated {
            due_at: "2026-11-20T10:00:00Z".parse().unwrap(),
        },
    );
    r.found = vec![
        CredentialKind::Password,
        CredentialKind::AccessKey,
        CredentialKind::AccessKey,
    ];
    let action = |action, kind, id: &str| Action {
        action,
        kind,
        id: id.into(),
    };
    r.actions = vec![
        action(
            ActionKind::Deleted,
            CredentialKind::Password,
            "login-profile",
        ),
        action(ActionKind::Deleted, CredentialKind::AccessKey, "AKIA1"),
        action(ActionKind::AlreadyGone, CredentialKind::AccessKey, "AKIA2"),
    ];
    r
}

fn failed() -> AccountReport {
    let denied = AwsError::new("sts:AssumeRoot", AwsErrorKind::AccessDenied, "denied");
    AccountReport::new(
        id("222222222222"),
        "prod".into(),
        Some(AccountState::Active),
        Outcome::Failed(Failure::aws(Stage::AssumeRootAudit, denied)),
    )
}

fn skipped() -> AccountReport {
    AccountReport::new(
        id("333333333333"),
        "old".into(),
        Some(AccountState::Suspended),
        Outcome::Skipped(SkipReason::NotActive(AccountState::Suspended)),
    )
}

#[test]
fn the_summary_counts_every_outcome_and_what_was_deleted() {
    let s = RunSummary::new(facts(None), &[remediated(), failed(), skipped()]);
    assert_eq!(s.accounts_scanned, 2);
    assert_eq!(s.count(OutcomeKind::Remediated), 1);
    assert_eq!(s.count(OutcomeKind::Failed), 1);
    assert_eq!(s.count(OutcomeKind::Skipped), 1);
    assert_eq!(s.count(OutcomeKind::Clean), 0);
    assert_eq!(s.accounts.len(), OutcomeKind::ALL.len());
    assert_eq!(s.credentials_found[&CredentialKind::AccessKey], 2);
    // An access key someone else removed first is not counted as deleted by us.
    assert_eq!(s.credentials_deleted[&CredentialKind::AccessKey], 1);
    assert_eq!(s.credentials_deleted[&CredentialKind::Password], 1);
    assert_eq!(s.attention.len(), 1);
    assert_eq!(s.attention[0].account_id, id("222222222222"));
    assert_eq!(s.attention[0].outcome, OutcomeKind::Failed);
    assert!(s.attention[0].detail.contains("sts:AssumeRoot failed"));
    assert!(s.complete);
}

#[test]
fn metrics_carry_one_count_per_outcome_totals_and_per_type_counts_and_mark_complete_runs_only() {
    let s = RunSummary::new(facts(None), &[remediated(), failed()]);
    let points = metric_points(&s);
    let find = |name: &str, dim: Option<&str>| {
        points
            .iter()
            .find(|p| p.name == name && p.dimensions.first().map(|d| d.1.as_str()) == dim)
            .map(|p| p.value)
    };
    for kind in OutcomeKind::ALL {
        let name = format!("Accounts{}", camel_case(kind.as_str()));
        assert!(find(&name, None).is_some(), "{name}");
    }
    assert_eq!(find("AccountsFailed", None), Some(1.0));
    assert_eq!(find("AccountsNotReached", None), Some(0.0));
    assert_eq!(find("CredentialsDeleted", None), Some(2.0));
    assert_eq!(find("CredentialsDeleted", Some("AccessKey")), Some(1.0));
    assert_eq!(find("CredentialsFound", Some("AccessKey")), Some(2.0));
    assert_eq!(find("CredentialsFound", Some("MfaDevice")), Some(0.0));
    assert_eq!(find("RunDuration", None), Some(12.5));
    assert_eq!(find("SweepCompleted", None), Some(1.0));
    let broken = AwsError::new(
        "organizations:ListAccounts",
        AwsErrorKind::Throttled,
        "slow",
    );
    let incomplete = RunSummary::new(facts(Some(ListingStop::Failed(broken))), &[]);
    assert!(!incomplete.complete);
    let completed = |s: &RunSummary| {
        metric_points(s)
            .iter()
            .filter(|p| p.name == "SweepCompleted")
            .count()
    };
    assert_eq!(completed(&incomplete), 0);
    // A run over named accounts proves nothing about the others.
    let targeted = RunSummary::new(
        RunFacts {
            whole_organization: false,
            ..facts(None)
        },
        &[],
    );
    assert_eq!(completed(&targeted), 0);
    let scope = ("RunScope", NAMED_ACCOUNTS.to_owned());
    for point in metric_points(&targeted) {
        let scoped = point.dimensions.contains(&scope);
        // Its figures are scoped; its deletions, follow-ups and holds by the cap count as
        // any run's.
        let any_run = point.name == "CredentialsDeleted"
            || point.name == "RemediationCapExceeded"
            || point.name.starts_with("FollowUps");
        assert_eq!(scoped, !any_run, "{}", point.name);
    }
}

#[test]
fn report_lines_are_flat_json_objects_with_names_from_the_tables() {
    let sink = JsonLines::new(Vec::new());
    sink.account("run-1", &remediated());
    sink.account("run-1", &failed());
    sink.summary(&RunSummary::new(facts(None), &[remediated()]));
    let text = String::from_utf8(sink.into_inner()).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["kind"], "account_report");
    assert_eq!(lines[0]["level"], "INFO");
    assert_eq!(lines[0]["run_id"], "run-1");
    assert_eq!(lines[0]["account_id"], "111111111111");
    assert_eq!(lines[0]["account_state"], "ACTIVE");
    assert_eq!(lines[0]["outcome"], "remediated");
    assert_eq!(lines[0]["due_at"], "2026-11-20T10:00:00Z");
    assert_eq!(lines[0]["actions"][0]["action"], "deleted");
    assert_eq!(lines[0]["actions"][0]["kind"], "password");
    assert_eq!(lines[1]["outcome"], "failed");
    assert_eq!(lines[1]["stage"], "assume_root_audit");
    assert!(
        lines[1]["error"]
            .as_str()
            .unwrap()
            .contains("Likely causes")
    );
    assert_eq!(lines[2]["kind"], "run_summary");
    assert_eq!(lines[2]["grace_period"], "72h");
    assert_eq!(lines[2]["grace_period_seconds"], 259_200);
    assert_eq!(lines[2]["accounts"]["remediated"], 1);
    assert_eq!(lines[2]["credentials_deleted"]["password"], 1);
}

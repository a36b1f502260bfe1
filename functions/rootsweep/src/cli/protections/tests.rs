//! The rules by which an operator's run takes its protections: pure, no AWS.

use std::collections::BTreeMap;

use clap::Parser;

use super::*;

const ARN: &str = "arn:aws:lambda:eu-west-1:111111111111:function:rootsweep";

/// A function deployed with these variables (and nothing else).
fn deployed(variables: &[(&str, &str)]) -> DeployedFunction {
    DeployedFunction {
        arn: ARN.to_owned(),
        variables: variables
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

/// The deployment the template makes, enforcing.
fn enforcing() -> DeployedFunction {
    deployed(&[
        ("ROOTSWEEP_MODE", "enforce"),
        ("ROOTSWEEP_GRACE_PERIOD", "72h"),
        ("ROOTSWEEP_EXEMPT_ACCOUNTS", "222222222222"),
        ("ROOTSWEEP_EXEMPT_OUS", "ou-ab12-cd34ef56"),
        ("ROOTSWEEP_EXEMPT_TAG_KEY", "break-glass"),
        ("ROOTSWEEP_EXEMPT_TAG_VALUE", "true"),
        ("ROOTSWEEP_MAX_REMEDIATIONS", "10"),
        ("ROOTSWEEP_STATE", "s3://state-bucket/rootsweep"),
    ])
}

#[derive(Parser)]
struct Flags {
    #[command(flatten)]
    flags: ProtectionFlags,
    #[command(flatten)]
    deployment: DeploymentArgs,
}

fn flags(args: &[&str]) -> ProtectionFlags {
    Flags::try_parse_from([&["rootsweep"], args].concat())
        .unwrap()
        .flags
}

fn sweep(args: &[&str], deployment: DeployedFunction) -> Result<Protections, ProtectionsError> {
    settle(&flags(args), Mode::Enforce, Some(deployment))
}

fn error(result: Result<Protections, ProtectionsError>) -> String {
    result.unwrap_err().to_string()
}

#[test]
fn a_sweep_for_a_deployment_applies_exactly_its_settings() {
    let protections = sweep(&[], enforcing()).unwrap();
    let config = &protections.config;
    assert_eq!(
        protections.origin,
        Origin::Deployed {
            arn: ARN.to_owned()
        }
    );
    assert_eq!(config.mode, Mode::Enforce);
    assert_eq!(config.grace.to_string(), "72h");
    let exempt: Vec<&str> = config
        .exempt_accounts
        .iter()
        .map(AccountId::as_str)
        .collect();
    assert_eq!(exempt, ["222222222222"]);
    let units: Vec<&str> = config.exempt_ous.iter().map(OuId::as_str).collect();
    assert_eq!(units, ["ou-ab12-cd34ef56"]);
    assert_eq!(
        config.exempt_tag.as_ref().unwrap().to_string(),
        "break-glass=true"
    );
    assert_eq!(config.max_remediations.get(), 10);
    assert_eq!(
        config.state.as_ref().unwrap().to_string(),
        "s3://state-bucket/rootsweep/ledger.json.gz"
    );
    assert_eq!(protections.raised_cap_from, None);
}

#[test]
fn list_flags_add_to_the_deployed_lists() {
    let protections = sweep(
        &[
            "--exempt",
            "333333333333",
            "--exempt-ous",
            "ou-ab12-99999999",
        ],
        enforcing(),
    )
    .unwrap();
    let exempt: Vec<&str> = protections
        .config
        .exempt_accounts
        .iter()
        .map(AccountId::as_str)
        .collect();
    assert_eq!(exempt, ["222222222222", "333333333333"]);
    assert_eq!(protections.config.exempt_ous.len(), 2);
}

#[test]
fn a_sweep_for_a_deployment_in_audit_mode_is_refused_and_an_audit_is_not() {
    let audit_only = || deployed(&[("ROOTSWEEP_MODE", "audit")]);
    let err = error(sweep(&[], audit_only()));
    assert!(err.contains("runs in audit mode"), "{err}");
    assert!(err.contains("Nothing was deleted"), "{err}");
    // No ROOTSWEEP_MODE at all is audit, the documented default.
    assert!(error(sweep(&[], deployed(&[]))).contains("runs in audit mode"));
    let audit = settle(&flags(&[]), Mode::Audit, Some(audit_only())).unwrap();
    assert_eq!(audit.config.mode, Mode::Audit);
}

#[test]
fn a_sweep_may_wait_longer_than_the_deployment_never_less_and_an_audit_may_ask_either() {
    let err = error(sweep(&["--grace", "48h"], enforcing()));
    assert!(
        err.starts_with("--grace=\"48h\" is not valid: the deployed function waits 72h"),
        "{err}"
    );
    assert!(sweep(&["--grace", "72h"], enforcing()).is_ok());
    assert_eq!(
        sweep(&["--grace", "4d"], enforcing())
            .unwrap()
            .config
            .grace
            .to_string(),
        "4d"
    );
    let audit = settle(&flags(&["--grace", "1h"]), Mode::Audit, Some(enforcing())).unwrap();
    assert_eq!(audit.config.grace.to_string(), "1h");
}

#[test]
fn the_tag_flag_may_restate_the_deployed_rule_never_replace_it() {
    assert!(sweep(&["--exempt-tag", "break-glass=true"], enforcing()).is_ok());
    let err = error(sweep(&["--exempt-tag", "team=platform"], enforcing()));
    assert!(
        err.contains("accounts tagged break-glass=true are already exempt"),
        "{err}"
    );
}

#[test]
fn runs_for_a_deployment_archive_where_it_does() {
    let archiving = || {
        let mut function = enforcing();
        let archive = "s3://evidence-bucket/rootsweep".to_owned();
        function
            .variables
            .insert("ROOTSWEEP_ARCHIVE".into(), archive);
        function
    };
    let err = error(sweep(&["--archive", "s3://elsewhere/x"], archiving()));
    assert!(
        err.contains("archives its runs to s3://evidence-bucket/rootsweep"),
        "{err}"
    );
    assert!(
        sweep(
            &["--archive", "s3://evidence-bucket/rootsweep"],
            archiving()
        )
        .is_ok()
    );
    // A deployment that archives nowhere leaves the flag free.
    let archived = sweep(&["--archive", "s3://elsewhere/x"], enforcing()).unwrap();
    assert_eq!(archived.config.archive.unwrap().bucket, "elsewhere");
}

#[test]
fn a_raised_cap_is_recorded_with_the_deployed_one_and_a_lower_one_is_not() {
    let raised = sweep(&["--max-remediations", "40"], enforcing()).unwrap();
    assert_eq!(raised.config.max_remediations.get(), 40);
    assert_eq!(raised.raised_cap_from, Some(10));
    let lowered = sweep(&["--max-remediations", "3"], enforcing()).unwrap();
    assert_eq!(lowered.config.max_remediations.get(), 3);
    assert_eq!(lowered.raised_cap_from, None);
    let mut out = Vec::new();
    show(&raised, Some(4), &mut out);
    let shown = String::from_utf8(out).unwrap();
    assert!(
        shown.contains("remediation cap: 40 accounts in any 24 hours (4 remediated in the last 24 hours, by the run ledger at s3://state-bucket/rootsweep/ledger.json.gz); raised by --max-remediations from the deployed 10, for this run only"),
        "{shown}"
    );
    assert!(
        shown.starts_with(&format!("Protections in force (from {ARN}):")),
        "{shown}"
    );
}

#[test]
fn a_deployment_with_a_bad_setting_is_reported_as_the_deployments_fault() {
    let err = error(sweep(
        &[],
        deployed(&[
            ("ROOTSWEEP_MODE", "enforce"),
            ("ROOTSWEEP_GRACE_PERIOD", "soon"),
        ]),
    ));
    assert!(
        err.starts_with(&format!("the deployed function {ARN} has a setting")),
        "{err}"
    );
    assert!(err.contains("ROOTSWEEP_GRACE_PERIOD=\"soon\""), "{err}");
}

#[test]
fn a_sweep_needs_a_deployment_or_the_flag_saying_it_has_none_and_an_audit_does_not() {
    let parse = |args: &[&str]| {
        Flags::try_parse_from([&["rootsweep"], args].concat())
            .unwrap()
            .deployment
    };
    // ROOTSWEEP_FUNCTION may be set in the environment running the tests: name one or opt out.
    let none = DeploymentArgs {
        function: None,
        without_deployment: false,
    };
    let err = none.wanted(Mode::Enforce).unwrap_err();
    assert!(err.is_usage());
    let message = err.to_string();
    for flag in [
        "--function NAME",
        "ROOTSWEEP_FUNCTION",
        "--without-deployment",
    ] {
        assert!(message.contains(flag), "{message}");
    }
    assert_eq!(none.wanted(Mode::Audit).unwrap(), None);
    let opted_out = parse(&["--without-deployment"]);
    assert_eq!(opted_out.wanted(Mode::Enforce).unwrap(), None);
    let named = parse(&["--function", "rootsweep"]);
    assert_eq!(named.wanted(Mode::Enforce).unwrap(), Some("rootsweep"));
    assert_eq!(named.region(), None);
    let by_arn = parse(&["--function", ARN]);
    assert_eq!(by_arn.region(), Some("eu-west-1"));
}

#[test]
fn flags_go_through_the_same_rules_as_the_variables_and_are_named_in_errors() {
    let empty = BTreeMap::<String, String>::new();
    let base = |name: &str| empty.get(name).cloned();
    let config = merge(
        &flags(&[
            "--grace",
            "7d",
            "--concurrency",
            "3",
            "--exempt",
            "111111111111",
            "--exempt-ous",
            "ou-ab12-cd34ef56",
            "--exempt-tag",
            "break-glass=true",
            "--max-remediations",
            "40",
        ]),
        Mode::Audit,
        &base,
    )
    .unwrap();
    assert_eq!(config.grace.to_string(), "7d");
    assert_eq!(config.concurrency.get(), 3);
    assert_eq!(config.exempt_accounts.len(), 1);
    assert_eq!(config.exempt_ous.len(), 1);
    assert_eq!(config.exempt_tag.unwrap().to_string(), "break-glass=true");
    assert_eq!(config.max_remediations.get(), 40);
    let any_value = merge(&flags(&["--exempt-tag", "break-glass"]), Mode::Audit, &base).unwrap();
    assert_eq!(
        any_value.exempt_tag.unwrap().to_string(),
        "break-glass (any value)"
    );
    let cases = [
        (
            &["--grace", "soon"][..],
            "--grace=\"soon\" is not valid: use a duration",
        ),
        (
            &["--concurrency", "100"],
            "--concurrency=\"100\" is not valid: use a whole number from 1 to 64",
        ),
        (
            &["--max-remediations", "0"],
            "--max-remediations=\"0\" is not valid",
        ),
        (
            &["--exempt-ous", "ou-1"],
            "--exempt-ous=\"ou-1\" is not valid",
        ),
        (
            &["--exempt-tag", "=true"],
            "--exempt-tag=\"true\" is not valid",
        ),
    ];
    for (args, expected) in cases {
        let err = merge(&flags(args), Mode::Audit, &base)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with(expected), "{err}");
    }
}

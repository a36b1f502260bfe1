//! The `rootsweep` operator CLI, run as a user would run it: the built binary, configured only
//! through its flags and the standard AWS environment variables, against the emulator started
//! in-process. Outputs are parsed and checked against the emulator's state; exit codes are the
//! documented ones.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Output, Stdio};

use rootsweep::config::Mode;
use rootsweep::credentials::CredentialKind;
use rootsweep::event::{RunRequest, Scope};
use rootsweep::outcome::ActionKind;
use rootsweep::outcome::OutcomeKind;
use rootsweep_emulator::{
    EXEMPT_TAG, Emulator, EmulatorHandle, Fault, FaultKind, Org, PreflightFailure,
};
use rootsweep_testkit::emulator::{DELETE_OPERATIONS, Exemption, Harness, Timeouts, config};
use rootsweep_testkit::oracle::{CredentialRef, credentials_of, due, expected};
use serde_json::Value;

/// A generated org with every kind of account once or more (its scenarios: the emulator's
/// model/scenarios.rs).
fn org(seed: u64) -> Org {
    Org::generate(rootsweep_testkit::emulator::EVERY_SCENARIO, seed)
}

/// Runs `rootsweep ARGS` against `emulator` with this shell's exempt tag rule (and `extra` on
/// top), stdin not a terminal: for the runs that take their protections from the shell (audits,
/// and sweeps with `--without-deployment`).
async fn rootsweep(emulator: &EmulatorHandle, args: &[&str], extra: &[(&str, &str)]) -> Output {
    let tag = [
        ("ROOTSWEEP_EXEMPT_TAG_KEY", EXEMPT_TAG.0),
        ("ROOTSWEEP_EXEMPT_TAG_VALUE", EXEMPT_TAG.1),
    ];
    operator(emulator, args, &[&tag[..], extra].concat()).await
}

/// Runs `rootsweep ARGS` against `emulator` with only the standard AWS variables and `extra`,
/// stdin not a terminal. Nothing else of the test's environment is passed on.
async fn operator(emulator: &EmulatorHandle, args: &[&str], extra: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rootsweep"));
    command
        .args(args)
        .env_clear()
        .envs(rootsweep_emulator::client_environment(&emulator.url()))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .envs(extra.iter().copied())
        .stdin(Stdio::null());
    // The emulator runs on this runtime: wait for the child on another thread.
    tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("the waiting thread")
        .expect("the rootsweep binary runs")
}

/// The deployed function `rootsweep`'s environment: enforcing, a 72 h grace period, the
/// generated org's exempt tag, and `extra`.
fn deployed(extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let base = [
        ("ROOTSWEEP_MODE", "enforce"),
        ("ROOTSWEEP_GRACE_PERIOD", "72h"),
        ("ROOTSWEEP_EXEMPT_TAG_KEY", EXEMPT_TAG.0),
        ("ROOTSWEEP_EXEMPT_TAG_VALUE", EXEMPT_TAG.1),
    ];
    base.iter()
        .chain(extra)
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("UTF-8 on stdout")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("UTF-8 on stderr")
}

/// Asserts the exit code, showing the output when it is not the one expected.
fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        stdout(output),
        stderr(output)
    );
}

/// One account as a JSON or CSV report shows it, its names read through rootsweep's tables.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    id: String,
    outcome: String,
    credentials: BTreeSet<CredentialRef>,
    actions: BTreeSet<(ActionKind, CredentialRef)>,
}

fn kind(name: &str) -> CredentialKind {
    name.parse().unwrap_or_else(|e| panic!("{e}"))
}

fn action(name: &str) -> ActionKind {
    name.parse().unwrap_or_else(|e| panic!("{e}"))
}

fn json_rows(output: &Output) -> Vec<Row> {
    let report: Value = serde_json::from_slice(&output.stdout).expect("stdout is one JSON report");
    assert!(report["summary"].is_object(), "{report}");
    let text = |v: &Value| v.as_str().expect("a string").to_owned();
    report["accounts"]
        .as_array()
        .expect("an accounts list")
        .iter()
        .map(|a| Row {
            id: text(&a["account_id"]),
            outcome: text(&a["outcome"]),
            credentials: a["credentials"]
                .as_array()
                .expect("a credentials list")
                .iter()
                .map(|c| (kind(&text(&c["kind"])), text(&c["id"])))
                .collect(),
            actions: a["actions"]
                .as_array()
                .expect("an actions list")
                .iter()
                .map(|x| {
                    (
                        action(&text(&x["action"])),
                        (kind(&text(&x["kind"])), text(&x["id"])),
                    )
                })
                .collect(),
        })
        .collect()
}

/// CSV cells list credentials as `kind:id:created` and actions as `action:kind:id`, joined
/// by `;`. Ids may hold colons (an MFA serial is an ARN), and so does an RFC 3339 date: the
/// kind is read up to the first colon, an action's id is the rest, and a credential's id ends
/// at the last colon after which an RFC 3339 date (or nothing, for an undated one) follows.
fn csv_rows(output: &Output) -> Vec<Row> {
    let mut reader = csv::Reader::from_reader(output.stdout.as_slice());
    let headers = reader.headers().expect("a header row").clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no {name} column in {headers:?}"))
    };
    let (id, outcome, credentials, actions) = (
        column("account_id"),
        column("outcome"),
        column("credentials"),
        column("actions"),
    );
    let entries = |cell: &str| -> Vec<String> {
        cell.split(';')
            .filter(|e| !e.is_empty())
            .map(str::to_owned)
            .collect()
    };
    reader
        .records()
        .map(|record| {
            let record = record.expect("a CSV row");
            Row {
                id: record[id].to_owned(),
                outcome: record[outcome].to_owned(),
                credentials: entries(&record[credentials])
                    .iter()
                    .map(|entry| {
                        let (name, rest) = entry.split_once(':').expect("kind:id:created");
                        let end = rest
                            .rmatch_indices(':')
                            .map(|(at, _)| at)
                            .find(|&at| {
                                let date = &rest[at + 1..];
                                date.is_empty()
                                    || chrono::DateTime::parse_from_rfc3339(date).is_ok()
                            })
                            .unwrap_or_else(|| panic!("no creation date in {entry:?}"));
                        (kind(name), rest[..end].to_owned())
                    })
                    .collect(),
                actions: entries(&record[actions])
                    .iter()
                    .map(|entry| {
                        let mut parts = entry.splitn(3, ':');
                        let mut next = || parts.next().expect("action:kind:id").to_owned();
                        let (a, k, i) = (next(), next(), next());
                        (action(&a), (kind(&k), i))
                    })
                    .collect(),
            }
        })
        .collect()
}

/// Checks an audit's rows against the independent oracle: every account once, each with the
/// outcome the README's rules give from the emulator's data, and every audited account with
/// exactly the credentials the emulator holds.
fn check_audit(rows: &[Row], org: &Org) {
    let fates = expected(org, Exemption::Tag);
    let ids: BTreeSet<String> = rows.iter().map(|r| r.id.clone()).collect();
    assert_eq!(ids.len(), rows.len(), "one row per account");
    assert_eq!(
        ids,
        fates.keys().cloned().collect(),
        "every account of the org"
    );
    for row in rows {
        let account = org.account(&row.id).expect("an account of the org");
        let context = format!("{} ({})", account.id, account.name);
        assert!(row.actions.is_empty(), "{context}: an audit does nothing");
        assert_eq!(
            row.outcome,
            fates[&row.id].outcome(Mode::Audit),
            "{context}"
        );
        if !matches!(row.outcome.as_str(), "skipped" | "exempt") {
            assert_eq!(
                row.credentials,
                credentials_of(&account.root_user),
                "{context}"
            );
        }
    }
}

fn deleted_nothing(emulator: &EmulatorHandle, org: &Org) {
    assert_eq!(&emulator.state(), org, "the org is unchanged");
    let calls = emulator.calls();
    let deletes: Vec<_> = calls
        .iter()
        .filter(|c| DELETE_OPERATIONS.contains(&c.operation.as_str()))
        .collect();
    assert!(deletes.is_empty(), "{deletes:?}");
}

/// The names of the metrics the emulator received, each with how many data points.
fn metrics_received(emulator: &EmulatorHandle) -> BTreeMap<String, usize> {
    let mut received = BTreeMap::new();
    for datum in emulator.metrics() {
        *received.entry(datum.metric_name).or_default() += 1;
    }
    received
}

#[tokio::test]
async fn preflight_passes_every_check_on_a_ready_organization_and_exits_0() {
    let emulator = Emulator::start(org(61)).await.unwrap();
    let output = rootsweep(&emulator, &["preflight"], &[]).await;
    assert_exit(&output, 0);
    let text = stdout(&output);
    let checks: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    assert!(checks.len() >= 5, "{text}");
    assert!(
        checks[..checks.len() - 1]
            .iter()
            .all(|l| l.starts_with("PASS  ")),
        "{text}"
    );
    assert!(text.contains("delegated administrator"), "{text}");
    assert!(
        text.contains("checks passed: rootsweep can run here"),
        "{text}"
    );
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_missing_prerequisite_is_named_with_its_remedy_and_exits_3() {
    let mut org = org(62);
    org.preflight_failure = Some(PreflightFailure::ServiceAccessNotEnabledException);
    let emulator = Emulator::start(org.clone()).await.unwrap();

    let preflight = rootsweep(&emulator, &["preflight"], &[]).await;
    assert_exit(&preflight, 3);
    let text = stdout(&preflight);
    assert!(text.contains("FAIL  Centralized root access"), "{text}");
    assert!(
        text.contains(
            "aws organizations enable-aws-service-access --service-principal iam.amazonaws.com"
        ),
        "{text}"
    );

    for args in [
        &["audit"][..],
        &["sweep", "--yes", "--without-deployment"][..],
    ] {
        let output = rootsweep(&emulator, args, &[]).await;
        assert_exit(&output, 3);
        let message = stderr(&output);
        assert!(
            message.contains("rootsweep: trusted access for IAM is not enabled"),
            "{args:?}: {message}"
        );
        assert!(output.stdout.is_empty(), "{args:?}: no results");
    }
    assert!(
        emulator.calls().iter().all(|c| c.operation != "AssumeRoot"),
        "no root session"
    );
    deleted_nothing(&emulator, &org);
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn audit_as_json_matches_the_organization_and_exits_4_while_credentials_are_past_grace() {
    let org = org(63);
    let emulator = Emulator::start(org.clone()).await.unwrap();
    let output = rootsweep(&emulator, &["audit", "--output", "json"], &[]).await;
    assert_exit(&output, 4);
    let rows = json_rows(&output);
    check_audit(&rows, &org);
    let due = due(&org, Exemption::Tag);
    assert!(!due.is_empty());
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let summary = &report["summary"];
    assert_eq!(summary["mode"], "audit");
    // As configured (the default, 72h), and in seconds for programs.
    assert_eq!(summary["grace_period"], "72h");
    assert_eq!(summary["grace_period_seconds"], 259_200);
    assert_eq!(summary["accounts"]["due"], due.len());
    assert_eq!(summary["complete"], true);
    deleted_nothing(&emulator, &org);
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn audit_as_csv_has_one_row_per_account_matching_the_organization() {
    let org = org(64);
    let emulator = Emulator::start(org.clone()).await.unwrap();
    let output = rootsweep(&emulator, &["audit", "--output", "csv"], &[]).await;
    assert_exit(&output, 4);
    check_audit(&csv_rows(&output), &org);
    deleted_nothing(&emulator, &org);
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn audit_as_a_table_shows_every_account_with_its_outcome_and_a_summary() {
    let org = org(65);
    let emulator = Emulator::start(org.clone()).await.unwrap();
    let json = json_rows(&rootsweep(&emulator, &["audit", "--output", "json"], &[]).await);
    check_audit(&json, &org);
    let output = rootsweep(&emulator, &["audit"], &[]).await;
    assert_exit(&output, 4);
    let text = stdout(&output);
    let mut lines = text.lines();
    let header = lines.next().expect("a header");
    assert!(
        header.starts_with("ACCOUNT") && header.contains("OUTCOME"),
        "{text}"
    );
    for row in &json {
        let line = text
            .lines()
            .find(|l| l.starts_with(&row.id))
            .unwrap_or_else(|| panic!("no line for {}:\n{text}", row.id));
        let columns: Vec<&str> = line.split_whitespace().collect();
        assert!(
            columns.contains(&row.outcome.as_str()),
            "{}: {line}",
            row.outcome
        );
    }
    let scanned = json
        .iter()
        .filter(|r| !matches!(r.outcome.as_str(), "skipped" | "exempt"))
        .count();
    assert!(
        text.contains(&format!(
            "audit run, grace period 72h: {scanned} accounts scanned"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("due {}", due(&org, Exemption::Tag).len())),
        "{text}"
    );
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn sweep_without_yes_when_stdin_is_not_a_terminal_deletes_nothing_and_exits_6() {
    let org = org(66);
    let emulator = Emulator::start(org.clone()).await.unwrap();
    let output = rootsweep(&emulator, &["sweep", "--without-deployment"], &[]).await;
    assert_exit(&output, 6);
    let message = stderr(&output);
    assert!(
        message.contains("past their grace period"),
        "it shows what it would delete: {message}"
    );
    assert!(message.contains("pass --yes"), "{message}");
    deleted_nothing(&emulator, &org);
    assert!(
        emulator
            .issued_credentials()
            .iter()
            .all(|s| s.task_policy != rootsweep_emulator::TaskPolicy::IAMDeleteRootUserCredentials),
        "no delete session was opened"
    );
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn sweep_with_yes_deletes_exactly_the_due_credentials_and_exits_0() {
    let org = org(67);
    let due = due(&org, Exemption::Tag);
    assert!(!due.is_empty(), "the generated org has due accounts");
    let emulator = Emulator::start(org.clone()).await.unwrap();

    let output = rootsweep(
        &emulator,
        &["sweep", "--yes", "--without-deployment", "--output", "csv"],
        &[],
    )
    .await;
    assert_exit(&output, 0);
    let rows = csv_rows(&output);
    let after = emulator.state();
    assert_eq!(rows.len(), org.accounts.len());
    for row in &rows {
        let before = &org.account(&row.id).unwrap().root_user;
        let now = &after.account(&row.id).unwrap().root_user;
        if !due.contains(&row.id) {
            assert_eq!(now, before, "{}: not due, untouched", row.id);
            assert!(row.actions.is_empty(), "{}", row.id);
            continue;
        }
        assert_eq!(row.outcome, "remediated", "{}", row.id);
        assert!(credentials_of(now).is_empty(), "{}: nothing left", row.id);
        // Each credential the emulator lost is listed as deleted (or, for MFA, deactivated).
        let listed: BTreeSet<CredentialRef> = row
            .actions
            .iter()
            .filter(|(action, _)| matches!(action, ActionKind::Deleted | ActionKind::Deactivated))
            .map(|(_, credential)| credential.clone())
            .collect();
        assert_eq!(
            listed,
            credentials_of(before),
            "{}: {:?}",
            row.id,
            row.actions
        );
    }

    let again = rootsweep(&emulator, &["audit"], &[]).await;
    assert_exit(&again, 0);
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn sweep_shows_the_protections_in_force_and_runs_the_engine_once() {
    let org = org(71);
    let emulator = Emulator::start(org.clone()).await.unwrap();
    let extra_exempt = org
        .accounts
        .iter()
        .find(|a| a.name.starts_with("due-"))
        .unwrap()
        .id
        .clone();
    let output = rootsweep(
        &emulator,
        &[
            "sweep",
            "--yes",
            "--without-deployment",
            "--publish-metrics",
            "--exempt",
            &extra_exempt,
            "--output",
            "json",
        ],
        &[("ROOTSWEEP_EXEMPT_ACCOUNTS", "000000000099")],
    )
    .await;
    assert_exit(&output, 0);
    let message = stderr(&output);
    assert!(message.contains("Protections in force"), "{message}");
    assert!(
        message.contains(&format!("exempt accounts: 000000000099, {extra_exempt}")),
        "the flag adds to the environment: {message}"
    );
    assert!(
        message.contains("exempt tag: rootsweep:exempt=true"),
        "{message}"
    );
    assert!(
        message.contains(
            "Protections in force (from this shell's ROOTSWEEP_* variables and the flags)"
        ),
        "{message}"
    );
    assert!(
        message.contains("remediation cap: 25 accounts in this run (no run ledger"),
        "{message}"
    );
    let rows = json_rows(&output);
    let exempted = rows.iter().find(|r| r.id == extra_exempt).unwrap();
    assert_eq!(exempted.outcome, "exempt");
    // One run: every account audited once, one set of metrics.
    let audits = emulator
        .issued_credentials()
        .iter()
        .filter(|s| s.task_policy == rootsweep_emulator::TaskPolicy::IAMAuditRootUserCredentials)
        .count();
    let audited = rows
        .iter()
        .filter(|r| !matches!(r.outcome.as_str(), "skipped" | "exempt"))
        .count();
    assert_eq!(audits, audited, "each account audited once");
    let received = metrics_received(&emulator);
    assert_eq!(received.get("SweepCompleted"), Some(&1), "{received:?}");
    assert_eq!(received.get("AccountsScanned"), Some(&1), "{received:?}");
    emulator.shutdown().await.unwrap();
}

/// issue 22: an operator's sweep for a deployment, from a shell without any `ROOTSWEEP_*`
/// setting, protects exactly what the deployed function protects.
#[tokio::test]
async fn a_sweep_for_a_deployment_applies_its_protections_from_a_shell_without_any_settings() {
    let org = org(75);
    let due = due(&org, Exemption::Tag);
    assert!(due.len() >= 2, "{due:?}");
    let kept = due.first().unwrap().clone();
    let emulator = Emulator::new(org.clone())
        .function(
            "rootsweep",
            deployed(&[("ROOTSWEEP_EXEMPT_ACCOUNTS", &kept)]),
        )
        .spawn()
        .await
        .unwrap();
    let output = operator(
        &emulator,
        &[
            "sweep",
            "--yes",
            "--function",
            "rootsweep",
            "--output",
            "json",
        ],
        &[],
    )
    .await;
    assert_exit(&output, 0);
    let message = stderr(&output);
    let arn = format!(
        "arn:aws:lambda:us-east-1:{}:function:rootsweep",
        org.caller_account_id()
    );
    assert!(
        message.contains(&format!("Protections in force (from {arn}):")),
        "{message}"
    );
    assert!(
        message.contains(&format!("exempt accounts: {kept}\n")),
        "{message}"
    );
    assert!(
        message.contains("exempt tag: rootsweep:exempt=true"),
        "{message}"
    );
    let rows = json_rows(&output);
    let remediated: BTreeSet<String> = rows
        .iter()
        .filter(|r| r.outcome == "remediated")
        .map(|r| r.id.clone())
        .collect();
    let mut expected = due.clone();
    expected.remove(&kept);
    assert_eq!(remediated, expected);
    assert_eq!(
        rows.iter().find(|r| r.id == kept).unwrap().outcome,
        "exempt"
    );
    assert_eq!(
        emulator.state().account(&kept).unwrap().root_user,
        org.account(&kept).unwrap().root_user,
        "the deployed exemption held"
    );
    emulator.shutdown().await.unwrap();
}

/// issue 22: without a readable deployment, a sweep deletes nothing and names the flag that
/// proceeds with the shell's settings; a deployment in audit mode sweeps nothing either.
#[tokio::test]
async fn a_sweep_without_a_readable_deployment_deletes_nothing_and_names_the_flag_to_proceed() {
    let org = org(76);
    let emulator = Emulator::new(org.clone())
        .function("watcher", deployed(&[("ROOTSWEEP_MODE", "audit")]))
        .spawn()
        .await
        .unwrap();
    let named = operator(&emulator, &["sweep", "--yes"], &[]).await;
    assert_exit(&named, 2);
    assert!(emulator.calls().is_empty(), "refused before any AWS call");
    let missing = operator(
        &emulator,
        &["sweep", "--yes"],
        &[("ROOTSWEEP_FUNCTION", "gone")],
    )
    .await;
    assert_exit(&missing, 3);
    let audit_only = operator(&emulator, &["sweep", "--yes", "--function", "watcher"], &[]).await;
    assert_exit(&audit_only, 3);
    for (output, says) in [
        (&named, "pass --function NAME (or set ROOTSWEEP_FUNCTION)"),
        (&missing, "could not read the deployed function gone"),
        (&audit_only, "runs in audit mode"),
    ] {
        let message = stderr(output);
        assert!(message.contains(says), "{message}");
        assert!(message.contains("Nothing was deleted"), "{message}");
        assert!(output.stdout.is_empty(), "{message}");
    }
    for output in [&named, &missing] {
        assert!(stderr(output).contains("--without-deployment"));
    }
    assert!(
        emulator
            .calls()
            .iter()
            .all(|c| c.operation == "GetFunctionConfiguration"),
        "nothing but the deployment was read"
    );
    // Audits stay free: one for the audit-mode deployment shows its protections.
    let audit = operator(&emulator, &["audit", "--function", "watcher"], &[]).await;
    assert_exit(&audit, 4);
    assert!(stderr(&audit).contains("Protections in force (from arn:aws:lambda:"));
    deleted_nothing(&emulator, &org);
    emulator.shutdown().await.unwrap();
}

/// `rootsweep sweep --yes --function rootsweep --output json EXTRA`, from a shell without settings.
async fn sweep_for_rootsweep(emulator: &EmulatorHandle, extra: &[&str]) -> Output {
    let args = [
        &[
            "sweep",
            "--yes",
            "--function",
            "rootsweep",
            "--output",
            "json",
        ],
        extra,
    ]
    .concat();
    operator(emulator, &args, &[]).await
}

#[tokio::test]
async fn a_sweep_over_the_deployed_cap_deletes_nothing_until_the_operator_raises_it() {
    let org = org(72);
    let due = due(&org, Exemption::Tag);
    assert!(due.len() >= 2, "{due:?}");
    let emulator = Emulator::new(org.clone())
        .function(
            "rootsweep",
            deployed(&[("ROOTSWEEP_MAX_REMEDIATIONS", "1")]),
        )
        .spawn()
        .await
        .unwrap();
    // Flags only add protections: a shorter grace period or another tag rule is refused.
    for (flags, named) in [
        (
            &["--grace", "1h"][..],
            "--grace=\"1h\" is not valid: the deployed function waits 72h",
        ),
        (
            &["--exempt-tag", "team=platform"][..],
            "--exempt-tag=\"team=platform\" is not valid",
        ),
    ] {
        let refused = sweep_for_rootsweep(&emulator, flags).await;
        assert_exit(&refused, 2);
        assert!(stderr(&refused).contains(named), "{}", stderr(&refused));
    }
    let held = sweep_for_rootsweep(&emulator, &[]).await;
    assert_exit(&held, 4);
    let message = stderr(&held);
    assert!(message.contains("Nothing will be deleted"), "{message}");
    assert!(message.contains("--max-remediations"), "{message}");
    deleted_nothing(&emulator, &org);
    let raised = format!("{}", due.len());
    let swept = sweep_for_rootsweep(&emulator, &["--max-remediations", &raised]).await;
    assert_exit(&swept, 0);
    let message = stderr(&swept);
    assert!(
        message.contains("raised by --max-remediations from the deployed 1, for this run only"),
        "{message}"
    );
    let remediated: BTreeSet<String> = json_rows(&swept)
        .into_iter()
        .filter(|r| r.outcome == "remediated")
        .map(|r| r.id)
        .collect();
    assert_eq!(remediated, due);
    emulator.shutdown().await.unwrap();
}

/// A follow-up, an operator's sweep and the nightly sweep on one day share one cap, through the
/// run ledger, which the CLI reads and writes as the function does.
#[tokio::test]
async fn a_follow_up_a_cli_sweep_and_the_nightly_sweep_share_one_cap_for_the_day() {
    let org = org(74);
    let due: Vec<String> = due(&org, Exemption::Tag).into_iter().collect();
    assert!(due.len() >= 4, "{due:?}");
    let state = ("ROOTSWEEP_STATE", "s3://rootsweep-state/rootsweep");
    let cap = ("ROOTSWEEP_MAX_REMEDIATIONS", "3");
    let harness = Harness::start_with(org.clone(), Timeouts::Patient, |e| {
        e.bucket("rootsweep-state")
            .function("rootsweep", deployed(&[state, cap]))
    })
    .await;
    let config = || config(Mode::Enforce, Exemption::Tag, &org, &[state, cap]);
    // A follow-up remediates one due account: one of the day's three.
    let follow_up = RunRequest {
        scope: Scope::Accounts([due[0].parse().unwrap()].into()),
        follow_up: Some(1),
        ..RunRequest::scheduled(Mode::Enforce)
    };
    let first = harness.run(config(), &follow_up).await;
    assert_eq!(first.report().summary.count(OutcomeKind::Remediated), 1);
    // The operator's sweep finds the others due: with the follow-up's, over the three.
    let held = operator(
        &harness.emulator,
        &["sweep", "--yes", "--function", "rootsweep"],
        &[],
    )
    .await;
    assert_exit(&held, 4);
    let message = stderr(&held);
    assert!(
        message.contains("1 remediated in the last 24 hours"),
        "{message}"
    );
    // So does the nightly sweep.
    let nightly = harness
        .run(config(), &RunRequest::scheduled(Mode::Enforce))
        .await;
    let summary = &nightly.report().summary;
    assert!(summary.over_remediation_cap);
    assert_eq!(summary.count(OutcomeKind::Remediated), 0);
    assert_eq!(harness.delete_sessions(), [due[0].clone()]);
    // Raised on purpose, for one sweep.
    let raised = format!("{}", due.len());
    let swept = sweep_for_rootsweep(&harness.emulator, &["--max-remediations", &raised]).await;
    assert_exit(&swept, 0);
    let sessions: BTreeSet<String> = harness.delete_sessions().into_iter().collect();
    assert_eq!(sessions, due.iter().cloned().collect());
    harness.shutdown().await;
}

#[tokio::test]
async fn an_exempt_unit_flag_protects_every_account_below_it() {
    let org = org(73);
    let emulator = Emulator::start(org.clone()).await.unwrap();
    let unit = |name: &str| {
        org.organizational_units
            .iter()
            .find(|ou| ou.name == name)
            .unwrap()
            .id
            .clone()
    };
    let (sandbox, prod) = (unit("Sandbox"), unit("Prod"));
    // The environment exempts Prod; the flag adds Sandbox (and Legacy below it).
    let output = rootsweep(
        &emulator,
        &["audit", "--exempt-ous", &sandbox, "--output", "json"],
        &[("ROOTSWEEP_EXEMPT_OUS", &prod)],
    )
    .await;
    let rows = json_rows(&output);
    let under = |account: &rootsweep_emulator::Account, top: &str| {
        let mut at = account.parent.as_deref();
        while let Some(id) = at {
            if id == top {
                return true;
            }
            at = org
                .organizational_unit(id)
                .and_then(|ou| ou.parent.as_deref());
        }
        false
    };
    let mut exempt_by = BTreeMap::from([(&prod, 0), (&sandbox, 0)]);
    for row in &rows {
        let account = org.account(&row.id).unwrap();
        let active = account.id != org.management_account_id
            && account.state == rootsweep_emulator::AccountState::Active;
        // The flag and the environment add to the environment's tag exemption, which holds.
        let units: Vec<&String> = [&prod, &sandbox]
            .into_iter()
            .filter(|unit| under(account, unit))
            .collect();
        if active && (Exemption::Tag.covers(&org, account) || !units.is_empty()) {
            assert_eq!(row.outcome, "exempt", "{} ({})", account.id, account.name);
            for unit in units {
                *exempt_by.get_mut(unit).unwrap() += 1;
            }
        } else {
            assert_ne!(row.outcome, "exempt", "{} ({})", account.id, account.name);
        }
    }
    assert!(exempt_by.values().all(|n| *n > 0), "{exempt_by:?}");
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_account_that_cannot_be_checked_exits_5_and_is_reported_with_its_stage() {
    let org = org(68);
    let clean = org
        .accounts
        .iter()
        .find(|a| a.name.starts_with("clean-"))
        .unwrap()
        .id
        .clone();
    let in_grace = org
        .accounts
        .iter()
        .find(|a| a.name.starts_with("in-grace-"))
        .unwrap()
        .id
        .clone();
    let emulator = Emulator::new(org)
        .faults(vec![
            Fault::new("AssumeRoot", FaultKind::AccessDenied).for_account(&clean),
        ])
        .spawn()
        .await
        .unwrap();
    let accounts = format!("{clean},{in_grace}");
    let output = rootsweep(
        &emulator,
        &["audit", "--accounts", &accounts, "--output", "json"],
        &[],
    )
    .await;
    assert_exit(&output, 5);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let outcomes: BTreeMap<&str, &Value> = report["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["account_id"].as_str().unwrap(), a))
        .collect();
    assert_eq!(outcomes.len(), 2, "only the named accounts");
    let failed = outcomes[clean.as_str()];
    assert_eq!(failed["outcome"], "failed");
    assert_eq!(failed["stage"], "assume_root_audit");
    let error = failed["error"].as_str().unwrap();
    assert!(
        error.contains("sts:AssumeRoot") && error.contains("aws:AssumedRoot"),
        "{error}"
    );
    assert_eq!(outcomes[in_grace.as_str()]["outcome"], "in_grace");
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn bad_usage_exits_2_naming_the_flag_before_any_aws_call() {
    let emulator = Emulator::start(org(69)).await.unwrap();
    for (args, names) in [
        (&["audit", "--grace", "soon"][..], "--grace"),
        (&["audit", "--grace", "400d"][..], "--grace"),
        (
            &["sweep", "--without-deployment", "--concurrency", "0"][..],
            "--concurrency",
        ),
        // A sweep acts for a deployment, or says on purpose that it does not.
        (&["sweep", "--yes"][..], "--without-deployment"),
        (&["audit", "--output", "xml"][..], "--output"),
        (&["audit", "--accounts", "12345"][..], "--accounts"),
        (&["audit", "--exempt", "nope"][..], "--exempt"),
        (
            &["audit", "--max-remediations", "0"][..],
            "--max-remediations",
        ),
        // The environment sets rootsweep:exempt=true: a flag may not swap the rule out.
        (
            &[
                "sweep",
                "--without-deployment",
                "--exempt-tag",
                "team=platform",
            ][..],
            "--exempt-tag",
        ),
        (&["audit", "--bogus"][..], "--bogus"),
        (&["purge"][..], "purge"),
    ] {
        let output = rootsweep(&emulator, args, &[]).await;
        assert_exit(&output, 2);
        let message = stderr(&output);
        assert!(message.contains(names), "{args:?}: {message}");
        assert!(output.stdout.is_empty(), "{args:?}");
    }
    assert!(emulator.calls().is_empty(), "no AWS call was made");
    emulator.shutdown().await.unwrap();
}

/// `rootsweep ARGS` on a machine without AWS credentials: no keys, no profile (no home
/// directory), no instance metadata; only a region and the emulator as the endpoint.
async fn without_credentials(emulator: &EmulatorHandle, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rootsweep"));
    command
        .args(args)
        .env_clear()
        .env("AWS_ENDPOINT_URL", emulator.url())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(Stdio::null());
    tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("the waiting thread")
        .expect("the rootsweep binary runs")
}

#[tokio::test]
async fn without_credentials_it_says_so_in_one_line_and_how_to_provide_them() {
    let emulator = Emulator::start(org(74)).await.unwrap();
    for args in [
        &["audit"][..],
        &["sweep", "--yes", "--without-deployment"],
        &["preflight"],
    ] {
        let output = without_credentials(&emulator, args).await;
        assert_exit(&output, 3);
        let text = format!("{}{}", stdout(&output), stderr(&output));
        let said: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("no AWS credentials were found"))
            .collect();
        assert!(!said.is_empty(), "{args:?}: {text}");
        for line in said {
            for how in ["--profile", "aws sso login", "AWS_ACCESS_KEY_ID"] {
                assert!(line.contains(how), "{args:?}: {how} in {line}");
            }
        }
        // Not the SDK's account of its credential chain, nor a role to blame.
        for raw in ["Ec2InstanceMetadata", "DispatchFailure", "role allows"] {
            assert!(!text.contains(raw), "{args:?}: {raw} in\n{text}");
        }
        if args[0] == "audit" {
            assert_eq!(text.lines().count(), 1, "{text}");
        }
    }
    // --verbose also shows what the SDK tried.
    let verbose = without_credentials(&emulator, &["audit", "--verbose"]).await;
    assert_exit(&verbose, 3);
    let text = stderr(&verbose);
    assert!(text.contains("no AWS credentials were found"), "{text}");
    assert!(text.contains("Ec2InstanceMetadata"), "{text}");
    assert!(emulator.calls().is_empty(), "nothing reached AWS");
    emulator.shutdown().await.unwrap();
}

/// README (safety model) and AWS-ROOT-ACCESS.md: session credentials are never logged, the
/// access key id included. An operator who turns logging all the way up must still not see one.
#[tokio::test]
async fn verbose_logs_never_show_a_session_credential() {
    let org = org(70);
    let emulator = Emulator::start(org.clone()).await.unwrap();
    let output = rootsweep(
        &emulator,
        &["sweep", "--yes", "--without-deployment", "--output", "json"],
        &[("RUST_LOG", "trace")],
    )
    .await;
    assert_exit(&output, 0);
    let everything = format!("{}\n{}", stdout(&output), stderr(&output));
    // The search below means something only if the logs were written at all.
    let logs = stderr(&output);
    assert!(logs.contains("sweep starting"), "the logs:\n{logs}");
    let sessions = emulator.issued_credentials();
    assert!(!sessions.is_empty());
    // The emulator marks every session credential, so a partial copy shows too.
    for marker in ["ASIAEMU", "EMUSECRET", "EMUTOKEN"] {
        assert!(!everything.contains(marker), "the output shows {marker}");
    }
    for session in &sessions {
        for (what, value) in [
            ("access key id", &session.access_key_id),
            ("secret access key", &session.secret_access_key),
            ("session token", &session.session_token),
        ] {
            if let Some(at) = everything.find(value.as_str()) {
                let line_start = everything[..at].rfind('\n').map_or(0, |n| n + 1);
                let line_end = everything[at..]
                    .find('\n')
                    .map_or(everything.len(), |n| at + n);
                panic!(
                    "the output shows the {what} of a session for account {}, in:\n{}",
                    session.account_id,
                    &everything[line_start..line_end]
                );
            }
        }
    }
    emulator.shutdown().await.unwrap();
}

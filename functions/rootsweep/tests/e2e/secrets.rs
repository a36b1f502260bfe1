//! No credential of a root session may leave the per-session IAM client: not in the report
//! lines, not in the returned report, not in any log line, even at TRACE and when calls fail.
//! The logs are captured through the function's own logging setup (`rootsweep::logging`, as
//! both binaries install it), asked for TRACE, in each of its two formats. The emulator issues
//! recognisable session credentials and remembers each; a full enforcing run with faults is
//! captured whole and searched for them in every form.
//!
//! Left to itself the AWS SDK does log one: at DEBUG its orchestrator logs the identity each
//! request is signed with, access key id included (found by this test, fixed in
//! `rootsweep::logging`, which keeps the SDK at INFO at most). So does the Lambda runtime crate:
//! at TRACE it logs each raw event, and the CloudTrail record of a password recovery carries
//! that recovery session's key id and token (`responseElements.credentials`): the function
//! binary itself is run at TRACE on such a record, then on a sweep.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use rootsweep::config::Mode;
use rootsweep::logging::{self, Format};
use rootsweep::outcome::OutcomeKind;
use rootsweep_emulator::{CallerKind, Fault, FaultKind, RootSession, client_environment};
use rootsweep_testkit::capture::Captured;
use rootsweep_testkit::emulator::{Exemption, Harness, Timeouts, one_of_each, recovered};
use rootsweep_testkit::lambda_api::{Answer, RuntimeApi};
use rootsweep_testkit::oracle::{due, named};
use serde_json::json;
use tracing_subscriber::filter::LevelFilter;

/// Which credential of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    AccessKeyId,
    SecretAccessKey,
    SessionToken,
}

/// The length of the runs searched for: long enough that no other text matches one by chance
/// (60 random bits at least), short enough to catch a truncated or partial copy.
const RUN: usize = 10;

/// The traces a session's credentials could leave, to search large texts for them quickly:
/// every 10-character run of every form of each credential (as is, percent-encoded as in a
/// query string or form body, base64, JSON-escaped), compared case-insensitively, plus the
/// emulator's markers on their own.
struct Traces {
    runs: HashMap<[u8; RUN], (Which, String)>,
}

impl Traces {
    fn new(sessions: &[RootSession]) -> Self {
        let mut runs = HashMap::new();
        for session in sessions {
            for (which, value) in [
                (Which::AccessKeyId, &session.access_key_id),
                (Which::SecretAccessKey, &session.secret_access_key),
                (Which::SessionToken, &session.session_token),
            ] {
                let percent = value
                    .replace('%', "%25")
                    .replace('+', "%2B")
                    .replace('/', "%2F")
                    .replace('=', "%3D");
                let json = serde_json::to_string(value).expect("a string serializes");
                let base64 = aws_smithy_types::base64::encode(value);
                for form in [value.as_str(), &percent, &base64, json.trim_matches('"')] {
                    for run in form.as_bytes().windows(RUN) {
                        let run: [u8; RUN] = run.try_into().expect("a run");
                        runs.insert(
                            run.map(|b| b.to_ascii_lowercase()),
                            (which, session.account_id.clone()),
                        );
                    }
                }
            }
        }
        Self { runs }
    }

    /// The first trace of a credential in `text`: which credential, whose, and what was found.
    fn find(&self, text: &str) -> Option<(Which, String, String)> {
        let lower = text.to_ascii_lowercase();
        for (marker, which) in [
            ("asiaemu", Which::AccessKeyId),
            ("emusecret", Which::SecretAccessKey),
            ("emutoken", Which::SessionToken),
        ] {
            if lower.contains(marker) {
                return Some((which, "?".into(), marker.into()));
            }
        }
        lower.as_bytes().windows(RUN).find_map(|run| {
            let run: [u8; RUN] = run.try_into().expect("a run");
            self.runs.get(&run).map(|(which, account)| {
                (
                    *which,
                    account.clone(),
                    String::from_utf8_lossy(&run).into_owned(),
                )
            })
        })
    }
}

#[tokio::test]
async fn no_session_credential_appears_in_the_report_or_the_trace_logs_of_a_run_with_faults() {
    for format in [Format::Text, Format::Json] {
        let mut org = one_of_each(51);
        let first =
            |org: &rootsweep_emulator::Org, scenario: &str| named(org, scenario)[0].id.clone();
        // Its password recovered 73 h ago: MFA refused now is retried later.
        let mfa = first(&org, "mfa-virtual");
        recovered(org.account_mut(&mfa).expect("in the org"), 73);
        let first = |scenario: &str| first(&org, scenario);
        // Failures on every path that could put an SDK error, a request or a response into a
        // message or a log line: retried 5xx, a refused AssumeRoot, a refused read, a removal
        // that times out, one already gone, MFA refused after a recovery, metrics refused.
        let faults = vec![
            Fault::new("GetUser", FaultKind::ServerError { status: 500 })
                .for_account(first("due"))
                .times(2),
            Fault::new("AssumeRoot", FaultKind::AccessDenied).for_account(first("in-grace")),
            Fault::new("ListMFADevices", FaultKind::AccessDenied).for_account(first("clean")),
            Fault::new("DeleteSigningCertificate", FaultKind::Slow { ms: 10_000 }),
            Fault::new("DeleteAccessKey", FaultKind::NoSuchEntity),
            Fault::new("DeactivateMFADevice", FaultKind::InvalidMfaDevice)
                .for_account(first("mfa-virtual")),
            Fault::new("PutMetricData", FaultKind::AccessDenied),
        ];
        let harness = Harness::start_with(org.clone(), Timeouts::GiveUpOnHeldCalls, |e| {
            e.faults(faults)
        })
        .await;

        // Every log line of the run, as the function logs when asked for TRACE. The emulator's
        // own logs are AWS's side: left out.
        let logs = Captured::default();
        let subscriber = logging::subscriber(
            logs.clone(),
            Some("trace,rootsweep_emulator=off"),
            LevelFilter::INFO,
            format,
        );
        let run = {
            // A current-thread runtime: every task of the run logs on this thread. tracing-core
            // caches each callsite's interest for the whole process, and while exactly one
            // dispatcher is registered it asks the registering thread's own default: a test
            // thread without a subscriber that reaches "sweep starting" first caches `never`
            // for every thread, and the line is lost here (tokio-rs/tracing#2874, #3611; seen
            // under load). A second dispatcher registered for the capture's life makes tracing
            // ask every registered one; the cache is rebuilt once the capture is installed.
            let _second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
            let _guard = tracing::subscriber::set_default(subscriber);
            tracing::callsite::rebuild_interest_cache();
            harness.sweep(Mode::Enforce, &[]).await
        };
        let report = run.report();
        let lines = run
            .lines
            .iter()
            .map(|line| line.to_string())
            .collect::<Vec<_>>()
            .join("\n");
        let outputs = [
            ("logs", logs.text()),
            ("report lines", lines),
            ("report", serde_json::to_string(report).expect("serializes")),
            ("report (Debug)", format!("{report:?}")),
        ];

        // The run did what it is here for: sessions issued and used, failures met, logs written.
        let sessions = harness.emulator.issued_credentials();
        assert!(sessions.len() > 10, "{} sessions issued", sessions.len());
        let calls = harness.calls();
        assert!(calls.iter().any(|c| c.caller == CallerKind::RootSession));
        assert!(calls.iter().filter(|c| c.fault.is_some()).count() >= 6);
        let summary = &report.summary;
        assert!(summary.count(OutcomeKind::Failed) > 0);
        assert!(summary.count(OutcomeKind::Remediated) > 0);
        assert!(summary.count(OutcomeKind::RetryLater) > 0);
        assert!(!due(&org, Exemption::Tag).is_empty());
        for logged in ["sweep starting", "run metrics were not published"] {
            assert!(
                outputs[0].1.contains(logged),
                "{format:?}: the logs hold {logged:?}"
            );
        }

        let traces = Traces::new(&sessions);
        // The search finds what it looks for: whole, encoded, or in part.
        let session = &sessions[0];
        for text in [
            format!("{session:?}"),
            aws_smithy_types::base64::encode(&session.session_token),
            session.secret_access_key[20..32].to_owned(),
        ] {
            assert!(traces.find(&text).is_some(), "the search misses {text:?}");
        }
        for (name, text) in &outputs {
            for line in text.lines() {
                if let Some((which, account, found)) = traces.find(line) {
                    panic!(
                        "{format:?}: the {name} show the {which:?} of the session for account \
                         {account} ({found:?}) in:\n{line}"
                    );
                }
            }
        }
        eprintln!(
            "secrets ({format:?}): {} sessions, {} bytes of logs and {} report lines searched",
            sessions.len(),
            outputs[0].1.len(),
            run.lines.len()
        );
        harness.shutdown().await;
    }
}

/// The CloudTrail record of a password recovery, as EventBridge delivers it: CloudTrail logs the
/// recovery session's key id and token in `responseElements.credentials` (these carry the
/// emulator's markers, so that the search below finds any copy of them).
fn recovery_record(account: &str) -> serde_json::Value {
    json!({
        "version": "0", "id": "6f87d04b-9f74-4f04-a780-7acf4b0a9b38",
        "detail-type": "AWS API Call via CloudTrail", "source": "aws.sts",
        "account": "999999999999", "time": "2026-12-02T09:00:05Z", "region": "us-east-1",
        "resources": [],
        "detail": {
            "eventVersion": "1.09", "eventTime": "2026-12-02T09:00:00Z",
            "eventSource": "sts.amazonaws.com", "eventName": "AssumeRoot",
            "requestParameters": {
                "targetPrincipal": account,
                "taskPolicyArn": {"arn": "arn:aws:iam::aws:policy/root-task/IAMCreateRootUserPassword"},
                "durationSeconds": 900
            },
            "responseElements": {"credentials": {
                "accessKeyId": "ASIAEMURECOVERY00001",
                "sessionToken": "EMUTOKENRECOVERYSESSION0000000000000000000000000000000001",
                "expiration": "Dec 2, 2026, 9:15:00 AM"
            }},
            "eventID": "0f6c1d2e-3b4a-5c6d-7e8f-9a0b1c2d3e4f"
        }
    })
}

#[tokio::test]
async fn the_function_binary_at_trace_logs_no_credential_of_an_event_or_a_session() {
    for format in ["Text", "JSON"] {
        let org = one_of_each(52);
        let harness = Harness::start(org.clone()).await;
        let api = RuntimeApi::start().await;
        let environment = client_environment(&harness.emulator.url())
            .into_iter()
            .chain([
                ("AWS_LAMBDA_LOG_LEVEL", "TRACE".to_owned()),
                ("AWS_LAMBDA_LOG_FORMAT", format.to_owned()),
                ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
                ("ROOTSWEEP_MODE", "enforce".to_owned()),
            ]);
        let binary = Path::new(env!("CARGO_BIN_EXE_rootsweep-lambda"));
        let mut function = api.start_function(binary, environment);
        let mut stdout = function.stdout.take().expect("piped");
        let logs = tokio::task::spawn_blocking(move || {
            let mut text = String::new();
            stdout.read_to_string(&mut text).map(|_| text)
        });

        let target = named(&org, "clean")[0].id.clone();
        let recovery = api.invoke(recovery_record(&target)).await;
        assert!(matches!(recovery, Answer::Response(_)), "{recovery:?}");
        let sweep = api.invoke(json!({})).await;
        let Answer::Response(summary) = sweep else {
            panic!("{sweep:?}");
        };
        assert!(
            summary["accounts"]["remediated"].as_u64() > Some(0),
            "{summary}"
        );
        function.kill().expect("the function stops");
        function.wait().expect("and is gone");
        let logs = logs.await.expect("the reading thread").expect("UTF-8 logs");

        assert!(
            logs.contains("sweep starting"),
            "{format}: the logs:\n{logs}"
        );
        let sessions = harness.emulator.issued_credentials();
        assert!(sessions.len() > 10, "{} sessions issued", sessions.len());
        let traces = Traces::new(&sessions);
        for line in logs.lines() {
            if let Some((which, account, found)) = traces.find(line) {
                panic!(
                    "{format}: the function logs the {which:?} of {account} ({found:?}) in:\n{line}"
                );
            }
        }
        harness.shutdown().await;
    }
}

//! No credential of a root session may leave the per-session IAM client: not in the report
//! lines, not in the returned report, not in rootsweep's logs, even at TRACE and when calls
//! fail. The emulator issues recognisable session credentials and remembers each; a full
//! enforcing run with faults is captured whole and searched for them in every form.
//!
//! One thing rootsweep does not control is found here too: at DEBUG and TRACE the AWS SDK's
//! orchestrator (`aws_smithy_runtime`) logs the resolved identity, and the `Credentials` it
//! prints show the access key id (the secret and token are redacted). The test pins that down to
//! exactly those SDK events; whether such lines reach the function's logs is up to its log
//! filter, which the CLI test `debug_logs_never_show_a_session_credential` checks on the binary.

use std::collections::{BTreeSet, HashMap};
use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use rootsweep::config::Mode;
use rootsweep::event::RunRequest;
use rootsweep_e2e::{Exemption, Harness, Timeouts, config, due, named, one_of_each};
use rootsweep_emulator::{CallerKind, Fault, FaultKind, RootSession};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

/// Everything written to it, shared with the test.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

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
async fn no_session_credential_appears_in_the_report_and_only_the_sdk_logs_a_key_id_at_trace() {
    let org = one_of_each(51);
    let first = |scenario: &str| named(&org, scenario)[0].id.clone();
    // Failures on every path that could put an SDK error, a request or a response into a
    // message: retried 5xx, a refused AssumeRoot, a refused read, a removal that times out, one
    // already gone, MFA refused after a recovery.
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
    ];
    let harness = Harness::start_with(org.clone(), Timeouts::Impatient, |e| e.faults(faults)).await;

    // Every log line of the run at TRACE for rootsweep and the AWS SDK crates, as text and as
    // JSON (the Lambda's two log formats). The emulator's own logs are AWS's side: left out.
    let (text_logs, json_logs) = (Captured::default(), Captured::default());
    let filter = EnvFilter::new("rootsweep=trace,rootsweep_emulator=off,aws=trace");
    let subscriber = tracing_subscriber::registry()
        .with(filter)
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(text_logs.clone())
                .with_ansi(false),
        )
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_writer(json_logs.clone()),
        );
    let run = {
        // A current-thread runtime: every task of the run logs on this thread.
        let _guard = tracing::subscriber::set_default(subscriber);
        harness
            .run(
                config(Mode::Enforce, Exemption::Tag, &org, &[]),
                &RunRequest::scheduled(Mode::Enforce),
            )
            .await
    };
    let report = run.report();
    let lines = run
        .lines
        .iter()
        .map(|line| line.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    let reports = [
        ("report lines", lines),
        ("report", serde_json::to_string(report).expect("serializes")),
        ("report (Debug)", format!("{report:?}")),
    ];
    let logs = [
        ("text logs", text_logs.text()),
        ("JSON logs", json_logs.text()),
    ];

    // The run did what it is here for: sessions issued and used, failures met, logs written.
    let sessions = harness.emulator.issued_credentials();
    assert!(sessions.len() > 10, "{} sessions issued", sessions.len());
    let calls = harness.calls();
    assert!(calls.iter().any(|c| c.caller == CallerKind::RootSession));
    assert!(calls.iter().filter(|c| c.fault.is_some()).count() >= 6);
    assert!(report.summary.accounts_failed > 0 && report.summary.accounts_remediated > 0);
    assert!(report.summary.accounts_retry_later > 0);
    assert!(!due(&org, Exemption::Tag).is_empty());
    for expected in [
        "rootsweep::sweep",
        "aws_smithy_runtime",
        "TRACE",
        "AssumeRoot",
    ] {
        assert!(logs[0].1.contains(expected), "the logs hold {expected:?}");
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
    // Nothing in the report.
    for (name, text) in &reports {
        if let Some((which, account, found)) = traces.find(text) {
            panic!("{name} show the {which:?} of the session for account {account}: {found:?}");
        }
    }
    // In the logs, secrets and tokens nowhere; an access key id only in events of the SDK's
    // own crates at DEBUG or TRACE (see the module comment), never in rootsweep's.
    let mut sdk_targets = BTreeSet::new();
    for line in logs[0].1.lines() {
        if let Some((which, account, found)) = traces.find(line) {
            assert_eq!(
                which,
                Which::AccessKeyId,
                "text logs show the {which:?} of {account} ({found:?}): {line}"
            );
        }
    }
    for line in logs[1].1.lines() {
        let Some((which, account, found)) = traces.find(line) else {
            continue;
        };
        let event: serde_json::Value = serde_json::from_str(line).expect("a JSON log line");
        let target = event["target"].as_str().unwrap_or_default();
        let level = event["level"].as_str().unwrap_or_default();
        assert!(
            which == Which::AccessKeyId
                && target.starts_with("aws_")
                && matches!(level, "DEBUG" | "TRACE"),
            "a {level} event of {target} shows the {which:?} of {account} ({found:?}): {line}"
        );
        sdk_targets.insert(format!("{level} {target}"));
    }
    eprintln!(
        "secrets: {} sessions, {} + {} bytes of logs and {} report lines searched; \
         session access key ids shown only by the SDK's {sdk_targets:?}",
        sessions.len(),
        logs[0].1.len(),
        logs[1].1.len(),
        run.lines.len()
    );
    harness.shutdown().await;
}

//! Night after night: the real Lambda binary (`rootsweep-lambda`, under the demo's local Lambda
//! Runtime API) invoked once a "night" with the scheduled event and a short timeout, against an
//! organization too large for one run: an exemption tag rule whose reads Organizations serves one
//! call at a time at 20 a second. Figures: the nights until every due account is remediated, the
//! run ledger's size and read/write time each night, and whether a tag-exempt account ever got a
//! root session (which must never happen: the case fails if it does).
//!
//! A day passes between nights: the run ledger's times (when each account was seen, audited,
//! tag-read, listed, and the remediations) move a day into the past, as they would by the next
//! night, so that tag reads expire after 30 nights, audits stop vouching after 7, and a listing
//! is reused for at most 3. The organization's own dates do not move.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::TimeDelta;
use rootsweep::ledger::Ledger;
use rootsweep::ledger::store::{decode, encode};
use rootsweep_emulator::{EXEMPT_TAG, Org};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::case::sibling;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Nights {
    pub name: String,
    pub accounts: usize,
    /// Member accounts holding a password past its grace period, and in it.
    pub due: usize,
    pub in_grace: usize,
    /// The function's timeout: each night's deadline.
    pub timeout_seconds: u64,
    /// Organizations' rate (calls a second, one at a time).
    pub organizations_rate: f64,
    /// Nights tried before the case gives up.
    pub most_nights: usize,
}

fn nights(name: &str, accounts: usize, timeout_seconds: u64, most_nights: usize) -> Nights {
    Nights {
        name: name.into(),
        accounts,
        due: 5,
        in_grace: 5,
        timeout_seconds,
        organizations_rate: 20.0,
        most_nights,
    }
}

/// `make bench`: issue 26's organizations, at a 100 s timeout and, for 10,000 accounts, also at
/// Lambda's longest. At 100 s a run stops starting work 60 s before its deadline and plans for
/// 3/4 of the 40 s left; listing 10,000 accounts (500 pages, one Organizations call at a time at
/// 20/s) takes 25 s of them, so such an organization is covered at the pace of the tag reads
/// that fit in the rest, night after night (tests/bench/README.md has the figures).
pub fn full() -> Vec<Nights> {
    vec![
        nights("2k-nights-tag-rule-org20-timeout100", 2_000, 100, 10),
        nights("10k-nights-tag-rule-org20-timeout900", 10_000, 900, 10),
        nights("10k-nights-tag-rule-org20-timeout100", 10_000, 100, 60),
    ]
}

/// `make test`: a small one, so that the case cannot rot.
pub fn quick() -> Vec<Nights> {
    vec![Nights {
        due: 2,
        in_grace: 2,
        ..nights("quick-nights", 120, 64, 8)
    }]
}

const BUCKET: &str = "rootsweep-state";
const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:111111111111:function:rootsweep";

/// Runs `case` night after night; its JSON line.
pub fn run(case: &Nights) -> Result<String, String> {
    let work = std::env::temp_dir().join(format!("rootsweep-nights-{}", std::process::id()));
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let org = Org::steady_state(case.accounts, 42, case.due, case.in_grace);
    let exempt: BTreeSet<String> = org
        .accounts
        .iter()
        .filter(|a| a.tags.get(EXEMPT_TAG.0).map(String::as_str) == Some(EXEMPT_TAG.1))
        .map(|a| a.id.clone())
        .collect();
    let due = due_accounts(&org);
    let emulator = Process::emulator(&work, &org, case)?;
    let runtime = Process::runtime(&work, case.timeout_seconds)?;
    let lambda = Process::lambda(&work, &emulator.address, &runtime.address)?;
    let mut per_night = Vec::new();
    let mut converged = None;
    for night in 1..=case.most_nights {
        let started = Instant::now();
        let summary = invoke(&runtime.address, &work.join("lambda.log"))?;
        let wall = started.elapsed().as_secs_f64();
        let stats = get(&emulator.address, "/_emulator/stats")?;
        let opened: BTreeSet<&String> = stats["root_sessions"]
            .as_object()
            .map(|m| m.keys().collect())
            .unwrap_or_default();
        if let Some(id) = opened.iter().find(|id| exempt.contains(**id)) {
            return Err(format!(
                "night {night}: a root session in tag-exempt account {id}"
            ));
        }
        let state: Org = serde_json::from_value(get(&emulator.address, "/_emulator/state")?)
            .map_err(|e| e.to_string())?;
        let left = due_accounts(&state).intersection(&due).count();
        per_night.push(night_figures(night, wall, left, &summary));
        if left == 0 {
            converged = Some(night);
            break;
        }
        let_a_day_pass(&emulator.address)?;
    }
    drop(lambda);
    let _ = std::fs::remove_dir_all(&work);
    Ok(json!({
        "case": case.name,
        "accounts": case.accounts,
        "due": due.len(),
        "tag_exempt": exempt.len(),
        "timeout_seconds": case.timeout_seconds,
        "organizations_rate": case.organizations_rate,
        "nights_to_converge": converged,
        "root_sessions_in_exempt_accounts": 0,
        "nights": per_night,
    })
    .to_string())
}

const LEDGER: &str = "rootsweep/ledger.json.gz";

/// Moves every time the run ledger holds a day into the past (the remediations' too, so that
/// the cap's 24 hours are over); what the organization says of its credentials stays put.
fn let_a_day_pass(emulator: &str) -> Result<(), String> {
    let path = format!("/_emulator/objects/{BUCKET}/{LEDGER}");
    let bytes = http_bytes(emulator, "GET", &path, &[])?;
    let mut ledger: Ledger = decode(&bytes).map_err(|e| format!("the ledger: {e}"))?;
    let day = TimeDelta::days(1);
    ledger.listed_at = ledger.listed_at.map(|at| at - day);
    for memory in ledger.accounts.values_mut() {
        memory.seen_at -= day;
        if let Some(audit) = &mut memory.audit {
            audit.at -= day;
        }
        if let Some(read) = &mut memory.tags {
            read.at -= day;
        }
    }
    for spend in &mut ledger.spent {
        spend.at -= day;
    }
    http_bytes(emulator, "PUT", &path, &encode(&ledger)).map(|_| ())
}

/// What one night's summary says: time, accounts audited, remediated, the ledger's figures.
fn night_figures(night: usize, wall: f64, due_left: usize, summary: &Value) -> Value {
    let ledger = &summary["ledger"];
    json!({
        "night": night,
        "wall_seconds": (wall * 10.0).round() / 10.0,
        "complete": summary["complete"],
        "listing_reused_from": summary["listing_reused_from"],
        "audited": summary["accounts_scanned"],
        "remediated": summary["accounts"]["remediated"],
        "not_reached": summary["accounts"]["not_reached"],
        "due_left": due_left,
        "never_audited": ledger["coverage"]["never_audited"],
        "tags_never_read": ledger["coverage"]["tags_never_read"],
        "runs_to_read_all_tags": ledger["coverage"]["runs_to_read_all_tags"],
        "ledger_bytes": ledger["bytes"],
        "ledger_read_seconds": ledger["read_seconds"],
        "ledger_write_seconds": ledger["write_seconds"],
    })
}

/// The member accounts holding root credentials that no rule leaves alone: not the management
/// account, ACTIVE, not tag-exempt.
fn due_accounts(org: &Org) -> BTreeSet<String> {
    let management = &org.management_account().id;
    org.accounts
        .iter()
        .filter(|a| &a.id != management && a.state.as_str() == "ACTIVE")
        .filter(|a| a.tags.get(EXEMPT_TAG.0).map(String::as_str) != Some(EXEMPT_TAG.1))
        .filter(|a| !a.root_user.is_clean() && !a.name.starts_with("in-grace"))
        .map(|a| a.id.clone())
        .collect()
}

/// A child process, killed when dropped, and the address it listens on.
struct Process {
    child: Child,
    address: String,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Process {
    fn emulator(work: &Path, org: &Org, case: &Nights) -> Result<Self, String> {
        let org_file = work.join("org.json");
        let limits = json!({"organizations": {
            "max_concurrent": 1,
            "rate": {"rate_per_second": case.organizations_rate, "burst": 1}
        }});
        let throttling_file = work.join("throttling.json");
        write(
            &org_file,
            &serde_json::to_string(org).map_err(|e| e.to_string())?,
        )?;
        write(&throttling_file, &limits.to_string())?;
        let mut child = Command::new(sibling("rootsweep-emulator"))
            .args(["--listen", "127.0.0.1:0", "--bucket", BUCKET, "--org"])
            .arg(&org_file)
            .arg("--throttling")
            .arg(&throttling_file)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("rootsweep-emulator starts (make bench builds it): {e}"))?;
        let mut url = String::new();
        BufReader::new(child.stdout.take().ok_or("its stdout")?)
            .read_line(&mut url)
            .map_err(|e| e.to_string())?;
        let address = url.trim().trim_start_matches("http://").to_owned();
        Ok(Self { child, address })
    }

    /// The demo's Lambda Runtime API, each invocation `timeout_seconds` from its deadline.
    fn runtime(work: &Path, timeout_seconds: u64) -> Result<Self, String> {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../demo/lambda_runtime.py");
        let port_file = work.join("runtime.port");
        let child = Command::new("python3")
            .arg(script)
            .arg(&port_file)
            .arg(FUNCTION_ARN)
            .arg(timeout_seconds.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("python3 runs the Lambda Runtime API: {e}"))?;
        let started = Instant::now();
        let port = loop {
            match std::fs::read_to_string(&port_file) {
                Ok(port) if !port.is_empty() => break port,
                _ if started.elapsed() > Duration::from_secs(10) => {
                    return Err("the Lambda Runtime API did not start".into());
                }
                _ => std::thread::sleep(Duration::from_millis(20)),
            }
        };
        Ok(Self {
            child,
            address: format!("127.0.0.1:{}", port.trim()),
        })
    }

    /// The function, enforcing, with a tag rule and the run ledger in the emulator's S3; its
    /// report lines go to a file.
    fn lambda(work: &Path, aws: &str, runtime: &str) -> Result<Self, String> {
        let log = std::fs::File::create(work.join("lambda.log")).map_err(|e| e.to_string())?;
        let child = Command::new(sibling("rootsweep-lambda"))
            .env_clear()
            .envs(rootsweep_emulator::client_environment(&format!(
                "http://{aws}"
            )))
            .env("AWS_LAMBDA_RUNTIME_API", runtime)
            .env("AWS_LAMBDA_FUNCTION_NAME", "rootsweep")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "bench")
            .env("ROOTSWEEP_MODE", "enforce")
            .env("ROOTSWEEP_EXEMPT_TAG_KEY", EXEMPT_TAG.0)
            .env("ROOTSWEEP_EXEMPT_TAG_VALUE", EXEMPT_TAG.1)
            .env("ROOTSWEEP_STATE", format!("s3://{BUCKET}/rootsweep"))
            .stdout(log)
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("rootsweep-lambda starts (make bench builds it): {e}"))?;
        Ok(Self {
            child,
            address: String::new(),
        })
    }
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// One invocation with the EventBridge scheduled event, as the nightly schedule sends it; the
/// run summary: the function's response, or, for a sweep it reports incomplete (an error, so
/// that Lambda's Errors metric shows it), the last summary line of its log (`log`).
fn invoke(runtime: &str, log: &Path) -> Result<Value, String> {
    let event = json!({
        "version": "0", "id": "89c4d6a3-0000-0000-0000-000000000000",
        "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "111111111111", "time": "2026-12-04T01:00:00Z", "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:111111111111:rule/rootsweep-nightly"],
        "detail": {}
    });
    let (status, body) = http(runtime, "POST", "/invoke", &event.to_string())?;
    let answer: Value = serde_json::from_str(&body).map_err(|e| format!("{e}: {body}"))?;
    match status {
        200 => Ok(answer),
        _ if answer["errorType"] == "RootsweepIncompleteSweep" => last_summary(log),
        _ => Err(format!("the function failed: {answer}")),
    }
}

fn last_summary(log: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(log).map_err(|e| format!("{}: {e}", log.display()))?;
    text.lines()
        .rev()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|line| line["kind"] == "run_summary")
        .ok_or_else(|| format!("no run summary in {}", log.display()))
}

fn get(address: &str, path: &str) -> Result<Value, String> {
    let (_, body) = http(address, "GET", path, "")?;
    serde_json::from_str(&body).map_err(|e| e.to_string())
}

/// A plain HTTP/1.1 request; its status and body as text.
fn http(address: &str, method: &str, path: &str, body: &str) -> Result<(u16, String), String> {
    let (status, body) = exchange(address, method, path, body.as_bytes())?;
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// A request whose answer must be a success; its body's bytes.
fn http_bytes(address: &str, method: &str, path: &str, body: &[u8]) -> Result<Vec<u8>, String> {
    match exchange(address, method, path, body)? {
        (200..=299, body) => Ok(body),
        (status, _) => Err(format!("{method} {path}: HTTP {status}")),
    }
}

/// A plain HTTP/1.1 exchange; the status and the body's bytes.
fn exchange(
    address: &str,
    method: &str,
    path: &str,
    body: &[u8],
) -> Result<(u16, Vec<u8>), String> {
    let mut stream = TcpStream::connect(address).map_err(|e| e.to_string())?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream
        .write_all(&[head.as_bytes(), body].concat())
        .map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .map_err(|e| e.to_string())?;
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(response.len());
    let head = String::from_utf8_lossy(&response[..split]).to_ascii_lowercase();
    let body = response.get(split + 4..).unwrap_or_default();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = match head.contains("transfer-encoding: chunked") {
        true => dechunk(body),
        false => body.to_vec(),
    };
    Ok((status, body))
}

/// A chunked body's payload (hyper answers large bodies chunked).
fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = body.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&body[..end])
            .ok()
            .and_then(|size| usize::from_str_radix(size.trim(), 16).ok())
            .unwrap_or(0);
        let rest = &body[end + 2..];
        if size == 0 || rest.len() < size {
            break;
        }
        out.extend_from_slice(&rest[..size]);
        body = rest[size..].strip_prefix(b"\r\n").unwrap_or(&rest[size..]);
    }
    out
}

//! One benchmark case: the emulator as a separate process, one sweep in this process, and the
//! figures of both.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rootsweep::config::Mode;
use rootsweep::event::RunRequest;
use rootsweep::outcome::OutcomeKind;
use rootsweep::report::JsonLines;
use rootsweep::{Config, RunOptions, app, aws};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Case {
    pub name: String,
    pub accounts: usize,
    pub latency_ms: u64,
    pub concurrency: usize,
    pub assume_root_rate: usize,
    pub mode: Mode,
    /// The emulator's throttling limits (its `--throttling` JSON), if any.
    pub throttling: Option<Value>,
    /// A read-back of this many archived runs of `accounts` accounts, instead of a sweep.
    #[serde(default)]
    pub evidence_runs: Option<usize>,
}

fn case(
    name: &str,
    accounts: usize,
    latency_ms: u64,
    concurrency: usize,
    rate: usize,
    mode: Mode,
) -> Case {
    Case {
        name: name.into(),
        accounts,
        latency_ms,
        concurrency,
        assume_root_rate: rate,
        mode,
        throttling: None,
        evidence_runs: None,
    }
}

/// The evidence read-back of `runs` runs of `accounts` accounts.
fn evidence(name: &str, accounts: usize, runs: usize) -> Case {
    Case {
        evidence_runs: Some(runs),
        ..case(name, accounts, 0, 1, 1, Mode::Audit)
    }
}

/// AWS-like caller-wide limits: AssumeRoot 20 a second (a second's worth at once) in the caller
/// account, Organizations one call at a time.
fn aws_like_throttling() -> Value {
    json!({
        "assume_root": {"rate_per_second": 20.0, "burst": 20},
        "organizations": {"max_concurrent": 1}
    })
}

/// `make bench`: the targets.
pub fn full() -> Vec<Case> {
    vec![
        case("10k-audit-L50-C64", 10_000, 50, 64, 600, Mode::Audit),
        case("10k-audit-L100-defaults", 10_000, 100, 8, 50, Mode::Audit),
        case("2k-enforce-L20-C32", 2_000, 20, 32, 600, Mode::Enforce),
        Case {
            throttling: Some(aws_like_throttling()),
            ..case(
                "1k-enforce-throttled-rate20",
                1_000,
                20,
                32,
                20,
                Mode::Enforce,
            )
        },
        evidence("evidence-10k-accounts-90-runs", 10_000, 90),
    ]
}

/// `make test`: small and quick, every path of the benchmark exercised.
pub fn quick() -> Vec<Case> {
    vec![
        case("quick-audit", 200, 5, 16, 600, Mode::Audit),
        Case {
            throttling: Some(aws_like_throttling()),
            ..case("quick-enforce-throttled", 60, 5, 8, 20, Mode::Enforce)
        },
        evidence("quick-evidence", 200, 5),
    ]
}

/// Runs `case` in a child process of this binary and returns its JSON line.
pub fn run_in_child(case: &Case) -> Result<String, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let spec = serde_json::to_string(case).map_err(|e| e.to_string())?;
    let output = Command::new(exe)
        .args(["--case", &spec])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(format!("exit {}", output.status));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// A binary built next to this one (`rootsweep-emulator`, `rootsweep-lambda`).
pub fn sibling(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("this binary");
    exe.with_file_name(name)
}

pub(crate) struct EmulatorProcess {
    child: Child,
    pub(crate) url: String,
    throttling_file: Option<PathBuf>,
}

impl EmulatorProcess {
    pub(crate) fn start(case: &Case) -> Self {
        let mut command = Command::new(sibling("rootsweep-emulator"));
        command.args(["--listen", "127.0.0.1:0", "--seed", "42"]);
        match case.evidence_runs {
            // The archive is all a read-back needs of AWS.
            Some(_) => command.args(["--accounts", "3", "--bucket", crate::evidence::BUCKET]),
            None => command.args(["--accounts", &case.accounts.to_string()]),
        };
        command.args(["--latency-ms", &case.latency_ms.to_string()]);
        let throttling_file = case.throttling.as_ref().map(|limits| {
            let path =
                std::env::temp_dir().join(format!("rootsweep-bench-{}.json", std::process::id()));
            std::fs::write(&path, limits.to_string()).expect("the throttling file");
            command.arg("--throttling").arg(&path);
            path
        });
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("rootsweep-emulator starts (make bench builds it)");
        let mut url = String::new();
        BufReader::new(child.stdout.take().expect("its stdout"))
            .read_line(&mut url)
            .expect("the emulator prints its URL");
        Self {
            child,
            url: url.trim().to_owned(),
            throttling_file,
        }
    }

    /// `GET /_emulator/stats` over plain HTTP/1.1.
    fn stats(&self) -> Value {
        let addr = self.url.trim_start_matches("http://");
        let mut stream = TcpStream::connect(addr).expect("the emulator");
        let request =
            format!("GET /_emulator/stats HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).expect("a request");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("a response");
        let body = response.split_once("\r\n\r\n").map_or("", |(_, body)| body);
        serde_json::from_str(body).expect("stats JSON")
    }

    /// user + system seconds, from /proc (Linux).
    fn cpu_seconds(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // Fields after the command name (which may hold spaces): utime and stime are 14 and 15.
        let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        // SAFETY: sysconf has no preconditions.
        let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
        (ticks(11) + ticks(12)) / per_second
    }
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(path) = &self.throttling_file {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// This process's CPU seconds (user + system) and peak resident memory in MB.
pub(crate) fn usage() -> (f64, f64) {
    // SAFETY: getrusage writes into the struct it is given.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (
        seconds(usage.ru_utime) + seconds(usage.ru_stime),
        usage.ru_maxrss as f64 / 1024.0,
    )
}

/// Runs `case` here and returns its JSON line.
pub fn run_here(case: &Case) -> String {
    if let Some(runs) = case.evidence_runs {
        return crate::evidence::run_here(case, runs);
    }
    let emulator = EmulatorProcess::start(case);
    for (name, value) in rootsweep_emulator::client_environment(&emulator.url) {
        // SAFETY: no other thread runs yet: the runtime is built below.
        unsafe { std::env::set_var(name, value) };
    }
    // The Lambda's runtime: one thread (`functions/rootsweep/src/main.rs`).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let (cpu_before, _) = usage();
    let emulator_cpu_before = emulator.cpu_seconds();
    let started = Instant::now();
    let summary = runtime.block_on(sweep(case));
    let wall = started.elapsed();
    let (cpu_after, peak_rss_mb) = usage();
    let emulator_cpu = emulator.cpu_seconds() - emulator_cpu_before;
    figures(
        case,
        &emulator.stats(),
        &summary,
        wall,
        cpu_after - cpu_before,
        peak_rss_mb,
        emulator_cpu,
    )
}

async fn sweep(case: &Case) -> rootsweep::report::RunSummary {
    let config = Config::from_pairs([
        ("ROOTSWEEP_MODE", case.mode.as_str()),
        ("ROOTSWEEP_CONCURRENCY", &case.concurrency.to_string()),
        (
            "ROOTSWEEP_ASSUME_ROOT_RATE",
            &case.assume_root_rate.to_string(),
        ),
        // Throughput, not the blast-radius guard, is measured here.
        ("ROOTSWEEP_MAX_REMEDIATIONS", "100000"),
    ])
    .expect("a valid configuration");
    let sdk = aws::load_sdk_config(None, None).await;
    let engine = app::sdk_engine(config, &sdk, true);
    let options = RunOptions {
        run_id: format!("bench-{}", case.name),
        deadline: None,
        function_arn: None,
    };
    let request = RunRequest::scheduled(case.mode);
    engine
        .run(&request, options, &JsonLines::new(std::io::sink()))
        .await
        .expect("the preflight passes on a generated organization")
        .summary
}

fn figures(
    case: &Case,
    stats: &Value,
    summary: &rootsweep::report::RunSummary,
    wall: Duration,
    cpu_seconds: f64,
    peak_rss_mb: f64,
    emulator_cpu_seconds: f64,
) -> String {
    let calls: BTreeMap<String, u64> =
        serde_json::from_value(stats["calls"].clone()).unwrap_or_default();
    let count = |op: &str| calls.get(op).copied().unwrap_or(0) as f64;
    let total: f64 = calls.values().map(|n| *n as f64).sum();
    let latency = case.latency_ms as f64 / 1000.0;
    // The run-level calls (preflight, metrics) aside, every call belongs to one account's chain.
    let run_level = [
        "GetCallerIdentity",
        "ListOrganizationsFeatures",
        "DescribeOrganization",
        "ListAccounts",
        "PutMetricData",
    ];
    let account_calls = total - run_level.iter().map(|op| count(op)).sum::<f64>();
    let rate = case
        .throttling
        .as_ref()
        .and_then(|t| t["assume_root"]["rate_per_second"].as_f64())
        .map_or(case.assume_root_rate as f64, |aws| {
            aws.min(case.assume_root_rate as f64)
        });
    let bounds = [
        count("ListAccounts") * latency,
        account_calls * latency / case.concurrency as f64,
        count("AssumeRoot") / rate,
    ];
    let bound = bounds.iter().copied().fold(0.0, f64::max);
    let wall_s = wall.as_secs_f64();
    let round = |x: f64, places: i32| (x * 10f64.powi(places)).round() / 10f64.powi(places);
    json!({
        "case": case.name,
        "accounts": case.accounts,
        "mode": case.mode,
        "latency_ms": case.latency_ms,
        "concurrency": case.concurrency,
        "assume_root_rate": case.assume_root_rate,
        "throttling": case.throttling.is_some(),
        "calls_total": total,
        "calls": calls,
        "connections": stats["connections"],
        "wall_s": round(wall_s, 2),
        "io_bound_s": round(bound, 2),
        "io_bound_parts_s": {"listing": round(bounds[0], 2), "accounts": round(bounds[1], 2), "assume_root_rate": round(bounds[2], 2)},
        "efficiency": round(bound / wall_s, 3),
        "cpu_s": round(cpu_seconds, 2),
        "cpu_ms_per_call": round(cpu_seconds * 1000.0 / total.max(1.0), 3),
        "peak_rss_mb": round(peak_rss_mb, 1),
        "emulator_cpu_s": round(emulator_cpu_seconds, 2),
        "throttled": stats["throttled"],
        "accounts_by_outcome": summary.accounts,
        "failed": summary.count(OutcomeKind::Failed),
    })
    .to_string()
}

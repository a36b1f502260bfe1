//! `make bench`: how fast a sweep goes as organizations grow and the concurrency bound changes.
//!
//! Each case starts the emulator in-process with a generated organization and a fixed latency
//! on every AWS response (a stand-in for the network and AWS), points the standard AWS
//! configuration at it with `AWS_ENDPOINT_URL` exactly as an operator would, runs one enforcing
//! sweep through the same library the Lambda uses, and prints what it measured. Figures, not
//! pass/fail: compare them across changes.

use std::time::Instant;

use clap::Parser;
use rootsweep::event::RunRequest;
use rootsweep::outcome::OutcomeKind;
use rootsweep::report::JsonLines;
use rootsweep::{Config, RunOptions, app, aws};
use rootsweep_emulator::{Emulator, Org};

#[derive(Parser)]
struct Args {
    /// Cases as ACCOUNTS:CONCURRENCY, comma-separated.
    #[arg(
        long,
        default_value = "100:1,100:8,500:8,500:32,2000:32,2000:64",
        value_delimiter = ','
    )]
    cases: Vec<String>,
    /// Latency the emulator adds to every AWS response, in milliseconds.
    #[arg(long, default_value_t = 20)]
    latency_ms: u64,
}

fn main() {
    let args = Args::parse();
    // Set before any thread starts: the SDK reads these like any AWS tool would.
    for (name, value) in [
        (
            "AWS_ACCESS_KEY_ID",
            rootsweep_emulator::DEFAULT_CALLER_ACCESS_KEY_ID,
        ),
        (
            "AWS_SECRET_ACCESS_KEY",
            rootsweep_emulator::DEFAULT_CALLER_SECRET_ACCESS_KEY,
        ),
        ("AWS_REGION", "us-east-1"),
    ] {
        // SAFETY: single-threaded at this point; no other code reads the environment yet.
        unsafe { std::env::set_var(name, value) };
    }
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    println!(
        "rootsweep scale benchmark: one enforcing sweep per case, {} ms emulated latency per AWS call",
        args.latency_ms
    );
    println!(
        "{:>8} {:>11} {:>10} {:>12} {:>11} {:>10} {:>13} {:>15}",
        "accounts",
        "concurrency",
        "seconds",
        "accounts/s",
        "aws calls",
        "calls/acct",
        "remediated",
        "accts in 14 min"
    );
    for case in &args.cases {
        let Some((accounts, concurrency)) = case.split_once(':') else {
            eprintln!("skipping {case:?}: write cases as ACCOUNTS:CONCURRENCY");
            continue;
        };
        let (Ok(accounts), Ok(_)) = (accounts.parse::<usize>(), concurrency.parse::<usize>())
        else {
            eprintln!("skipping {case:?}: ACCOUNTS and CONCURRENCY are whole numbers");
            continue;
        };
        runtime.block_on(run_case(accounts, concurrency, args.latency_ms));
    }
}

async fn run_case(accounts: usize, concurrency: &str, latency_ms: u64) {
    let emulator = Emulator::new(Org::generate(accounts, 42))
        .latency_ms(latency_ms)
        .spawn()
        .await
        .expect("the emulator starts");
    // SAFETY: the value is read by `load_sdk_config` below, on this thread, before any request.
    unsafe { std::env::set_var("AWS_ENDPOINT_URL", emulator.url()) };
    let config = Config::from_pairs([
        ("ROOTSWEEP_MODE", "enforce"),
        ("ROOTSWEEP_CONCURRENCY", concurrency),
        // The benchmark measures throughput, not the blast-radius guard.
        ("ROOTSWEEP_MAX_REMEDIATIONS", "100000"),
    ])
    .expect("valid benchmark configuration");
    let sdk = aws::load_sdk_config(None, None).await;
    let engine = app::sdk_engine(config, &sdk, true);
    let started = Instant::now();
    let report = engine
        .run(
            &RunRequest::scheduled(rootsweep::config::Mode::Enforce),
            RunOptions {
                run_id: "bench".into(),
                deadline: None,
                function_arn: None,
            },
            &JsonLines::new(std::io::sink()),
        )
        .await
        .expect("the preflight passes on a generated organization");
    let seconds = started.elapsed().as_secs_f64();
    let calls = emulator.calls().len();
    let summary = &report.summary;
    let rate = accounts as f64 / seconds;
    println!(
        "{:>8} {:>11} {:>10.2} {:>12.1} {:>11} {:>10.1} {:>13} {:>15.0}",
        accounts,
        concurrency,
        seconds,
        rate,
        calls,
        calls as f64 / accounts as f64,
        summary.count(OutcomeKind::Remediated),
        rate * 14.0 * 60.0
    );
    let failed = summary.count(OutcomeKind::Failed);
    if failed > 0 {
        println!("         ({failed} accounts failed: the figures above include their errors)");
    }
    emulator.shutdown().await.expect("the emulator stops");
}

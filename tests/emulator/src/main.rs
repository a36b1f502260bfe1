//! `rootsweep-emulator`: the emulator as a process, for scripts, `make demo` and boto3 tests.
//! Prints the URL it listens on as its first stdout line, then serves until SIGINT or SIGTERM.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use rootsweep_emulator::{CallerCredentials, Emulator, Fault, Org, TemplatePolicy, Throttling};
use tokio::signal::unix::{SignalKind, signal};
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(
    version,
    about = "An AWS emulator (STS AssumeRoot, IAM root user, Organizations, CloudWatch, EventBridge Scheduler, Security Hub, S3, Lambda) for rootsweep tests"
)]
struct Args {
    /// Loopback address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:4577")]
    listen: SocketAddr,
    /// An org JSON file (its format: tests/emulator/src/model/org_file.rs). Without it, a generated org.
    #[arg(long, conflicts_with_all = ["accounts", "seed"])]
    org: Option<PathBuf>,
    /// Number of accounts in the generated org (management and security included).
    #[arg(long, default_value_t = 25)]
    accounts: usize,
    /// Seed of the generated org: the same seed gives the same org.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Latency added to every AWS response, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// A JSON file with a list of faults to arm from the start.
    #[arg(long)]
    faults: Option<PathBuf>,
    /// IAM's eventual consistency: for this long after a deletion, IAM reads still see the
    /// deleted credential (milliseconds; 0 makes every change visible at once).
    #[arg(long, default_value_t = 0)]
    iam_propagation_delay_ms: u64,
    /// Organizations lists answer short and empty pages, in a pattern set by this seed.
    #[arg(long, value_name = "SEED")]
    organizations_short_pages: Option<u64>,
    /// The access key id the caller principal signs with (default AKIDEXAMPLE).
    #[arg(long, requires = "caller_secret_access_key")]
    caller_access_key_id: Option<String>,
    /// Its secret (default wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, AWS's example secret).
    #[arg(long, requires = "caller_access_key_id")]
    caller_secret_access_key: Option<String>,
    /// A SAM/CloudFormation template whose Lambda function role's policies every caller request
    /// is evaluated against (infra/template.yaml); without it, no caller policy.
    #[arg(long, value_name = "FILE")]
    caller_policy_template: Option<PathBuf>,
    /// A template parameter for --caller-policy-template, NAME=VALUE (repeatable), e.g. Mode=enforce.
    #[arg(long, value_name = "NAME=VALUE", requires = "caller_policy_template", value_parser = parameter)]
    template_parameter: Vec<(String, String)>,
    /// A JSON file with throttling limits (its format: tests/emulator/src/throttle.rs); without it, no throttling.
    #[arg(long)]
    throttling: Option<PathBuf>,
    /// An EventBridge Scheduler group besides `default` (repeatable), added to the org's.
    #[arg(long, value_name = "NAME")]
    schedule_group: Vec<String>,
    /// Security Hub is not enabled for the caller: its calls answer InvalidAccessException.
    #[arg(long)]
    security_hub_disabled: bool,
    /// An S3 bucket of the caller's (repeatable), added to the org's.
    #[arg(long, value_name = "NAME")]
    bucket: Vec<String>,
    /// A Lambda function of the caller's, in every region (repeatable): NAME=FILE, FILE a JSON
    /// object of its environment variables (`{"ROOTSWEEP_MODE": "enforce"}`).
    #[arg(long, value_name = "NAME=FILE", value_parser = parameter)]
    function: Vec<(String, String)>,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // Scripts capture stderr to files: colour only for a terminal.
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("rootsweep-emulator: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let org = match &args.org {
        Some(path) => Org::load(path)?,
        None => Org::generate(args.accounts, args.seed),
    };
    let faults: Vec<Fault> = match &args.faults {
        Some(path) => load_json(path, "faults")?,
        None => Vec::new(),
    };
    let throttling: Throttling = match &args.throttling {
        Some(path) => load_json(path, "throttling")?,
        None => Throttling::default(),
    };
    let accounts = org.accounts.len();
    let mut emulator = args
        .schedule_group
        .iter()
        .fold(Emulator::new(org), |emulator, group| {
            emulator.schedule_group(group)
        });
    if args.security_hub_disabled {
        emulator = emulator.security_hub_enabled(false);
    }
    emulator = args
        .bucket
        .iter()
        .fold(emulator, |emulator, bucket| emulator.bucket(bucket));
    for (name, file) in &args.function {
        let variables: BTreeMap<String, String> =
            load_json(Path::new(file), "function environment")?;
        emulator = emulator.function(name, variables);
    }
    if let Some(seed) = args.organizations_short_pages {
        emulator = emulator.organizations_short_pages(seed);
    }
    if let Some(path) = &args.caller_policy_template {
        let template = args
            .template_parameter
            .iter()
            .fold(TemplatePolicy::load(path)?, |template, (name, value)| {
                template.parameter(name, value)
            });
        emulator = emulator.caller_policy(template);
    }
    if let (Some(id), Some(secret)) = (args.caller_access_key_id, args.caller_secret_access_key) {
        emulator = emulator.caller_credentials(CallerCredentials::new(id, secret));
    }
    let emulator = emulator
        .latency_ms(args.latency_ms)
        .faults(faults)
        .throttling(throttling)
        .iam_propagation_delay_ms(args.iam_propagation_delay_ms)
        .listen(args.listen)
        .await?;
    // The first stdout line is the URL: scripts read it to find a port-0 emulator.
    let mut stdout = std::io::stdout();
    writeln!(stdout, "{}", emulator.url())?;
    stdout.flush()?;
    tracing::info!(url = %emulator.url(), accounts, "emulator listening");

    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    tokio::select! {
        _ = terminate.recv() => {}
        _ = interrupt.recv() => {}
    }
    tracing::info!("shutting down");
    emulator.shutdown().await?;
    Ok(())
}

/// `NAME=VALUE`.
fn parameter(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .ok_or_else(|| format!("{text:?} is not NAME=VALUE"))
}

fn load_json<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> Result<T, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {what} file {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{what} file {}: {e}", path.display()))
}

//! `make bench`: how close a sweep comes to its I/O bound, and what it costs.
//!
//! Each case runs in a process of its own (this binary, `--case`), so that its CPU time and peak
//! memory are its own; the emulator runs as a separate process too (`rootsweep-emulator`), with
//! a generated organization, a fixed latency on every AWS answer and, for some cases, AWS-like
//! throttling. The case points the standard AWS configuration at it with `AWS_ENDPOINT_URL` as
//! an operator would, and runs one sweep through the library the Lambda uses. Each case prints
//! one JSON line: calls by operation, connections opened, wall time, the I/O bound
//! (`max(list pages x L, per-account calls x L / concurrency, AssumeRoot calls / rate)`), the
//! efficiency (bound / wall), CPU per AWS call, peak memory, throttled calls. Then the Lambda
//! binary night after night against an organization too large for one run ([`nights`]), and its
//! init time (process start to its first poll for an event).
//!
//! Figures, never pass/fail.

mod case;
mod evidence;
mod init;
mod nights;

use clap::Parser;

use case::Case;

#[derive(Parser)]
struct Args {
    /// The small, quick set `make test` runs so that the benchmark cannot rot.
    #[arg(long)]
    quick: bool,
    /// Only the cases whose name contains this.
    #[arg(long)]
    only: Option<String>,
    /// Run one case in this process and print its JSON line (how the cases are run).
    #[arg(long, hide = true)]
    case: Option<String>,
    /// Write an evidence case's archive: URL ACCOUNTS RUNS (how that case is prepared).
    #[arg(long, hide = true, num_args = 3)]
    generate: Option<Vec<String>>,
}

fn main() {
    let args = Args::parse();
    if let Some([url, accounts, runs]) = args.generate.as_deref() {
        let count = |n: &str| n.parse().expect("a count");
        evidence::generate(url, count(accounts), count(runs));
        return;
    }
    if let Some(spec) = args.case {
        let case: Case = serde_json::from_str(&spec).expect("a case");
        println!("{}", case::run_here(&case));
        return;
    }
    let cases = if args.quick {
        case::quick()
    } else {
        case::full()
    };
    let wanted = |name: &str| args.only.as_deref().is_none_or(|only| name.contains(only));
    for case in cases.iter().filter(|c| wanted(&c.name)) {
        match case::run_in_child(case) {
            Ok(line) => println!("{line}"),
            Err(err) => eprintln!("rootsweep-bench: case {} failed: {err}", case.name),
        }
    }
    let nights = if args.quick {
        nights::quick()
    } else {
        nights::full()
    };
    for case in nights.iter().filter(|c| wanted(&c.name)) {
        match nights::run(case) {
            Ok(line) => println!("{line}"),
            Err(err) => {
                eprintln!("rootsweep-bench: case {} failed: {err}", case.name);
                std::process::exit(1);
            }
        }
    }
    let spawns = if args.quick { 2 } else { 7 };
    match init::measure(spawns) {
        Ok(line) => println!("{line}"),
        Err(err) => eprintln!("rootsweep-bench: Lambda init not measured: {err}"),
    }
}

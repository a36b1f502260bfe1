//! The operator CLI: `rootsweep preflight | audit | sweep`. See `rootsweep --help`.

use clap::Parser;

// One thread, as the Lambda runs (see its `main`): the same engine, the same CPU figures.
#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    rootsweep::cli::main(rootsweep::cli::Cli::parse()).await
}

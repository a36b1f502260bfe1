//! The operator CLI: `rootsweep preflight | audit | sweep`. See `rootsweep --help`.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    rootsweep::cli::main(rootsweep::cli::Cli::parse()).await
}

//! rootsweep: finds AWS Organizations member-account root user credentials and deletes those
//! whose grace period has passed, through `sts:AssumeRoot` task sessions.
//!
//! The flow, top to bottom: [`config`] and [`event`] say what to do; the [`engine`] runs the
//! phases: [`plan`] (preflight, list, [`scope`], audit, the [`grace`] rule), [`decide`] (pure:
//! may anything be deleted?), [`act`] (one delete session per due account), and [`report`]
//! (summary, lines, metrics). The domain talks to AWS only through the traits in [`ports`];
//! [`aws`] implements them with the SDK, and [`app`] wires them together for both binaries.

pub mod account;
pub mod act;
pub mod app;
pub mod archive;
pub mod aws;
pub mod budget;
pub mod cli;
pub mod config;
pub mod credentials;
pub mod decide;
pub mod deliver;
pub mod engine;
pub mod error;
pub mod event;
pub mod evidence;
pub mod findings;
pub mod followup;
pub mod grace;
pub mod lambda;
pub mod ledger;
pub mod listing;
pub mod logging;
pub mod memory;
mod names;
pub mod order;
pub mod outcome;
pub mod pace;
pub mod plan;
pub mod ports;
pub mod preflight;
pub mod reasons;
pub mod report;
pub mod scope;
pub mod session;

pub use config::Config;
pub use engine::{Engine, RunOptions};
pub use names::UnknownName;
pub use report::Report;

/// The allocator of every binary built on this library (the Lambda, the CLI, the benchmark).
/// With glibc's, a fifth of a sweep's CPU went to `free` and to consolidating its fast bins
/// (each SDK call allocates and frees many buffers over 1 KiB). It costs less CPU per AWS call
/// and more peak memory: the figures are in tests/bench/README.md ("Where the CPU went").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

//! rootsweep: finds AWS Organizations member-account root user credentials and deletes those
//! whose grace period has passed, through `sts:AssumeRoot` task sessions.
//!
//! The flow, top to bottom: [`config`] and [`event`] say what to do; [`preflight`] checks the
//! organization; [`sweep`] lists accounts, applies [`scope`], audits each one, applies the
//! [`grace`] rule and remediates; [`report`] turns outcomes into report lines, a summary and
//! metrics. [`aws`] holds the only code that talks to AWS.

pub mod aws;
pub mod cli;
pub mod config;
pub mod credentials;
pub mod event;
pub mod grace;
pub mod lambda;
pub mod logging;
pub mod preflight;
pub mod report;
pub mod scope;
pub mod sweep;

pub use config::Config;
pub use sweep::{Report, RunOptions, Sweeper};

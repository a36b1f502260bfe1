//! rootsweep's integration tests, one binary: the engine on in-memory fakes, the SDK adapters on
//! `aws-smithy-mocks`, the Lambda handler, the CLI binary and end-to-end runs against the
//! emulator.

mod adapters;
mod cli;
mod e2e;
mod engine;
mod features;
mod lambda;
mod logging;

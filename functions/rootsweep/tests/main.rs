//! rootsweep's integration tests, one binary: the engine on in-memory fakes, the SDK adapters on
//! `aws-smithy-mocks`, the Lambda handler, the CLI binary and end-to-end runs against the
//! emulator.

mod adapters;
mod cli;
mod e2e;
mod engine;
mod features;
mod lambda;
mod ledger;
mod logging;

/// The JSON lines of a gzipped run archive, as the archive tests read them back.
fn gunzip_lines(bytes: &[u8]) -> Vec<serde_json::Value> {
    use std::io::Read;
    let mut text = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut text)
        .expect("a gzipped archive");
    text.lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

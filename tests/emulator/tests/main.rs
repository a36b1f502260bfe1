//! The emulator's integration tests, one binary so that the SDK is linked once: each module
//! drives the emulator through the AWS SDK for Rust (or plain HTTP for the admin API).

mod admin;
mod cloudwatch;
mod common;
mod consistency;
mod faults;
mod lambda;
mod organizations;
mod paging;
mod policy;
mod s3;
mod scheduler;
mod securityhub;
mod sigv4;
mod sts_iam;
mod throttling;

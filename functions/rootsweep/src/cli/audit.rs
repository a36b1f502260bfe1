//! `rootsweep preflight` and `rootsweep audit`: the runs that delete nothing.

use std::io::Write;

use super::args::{AwsArgs, OutputFormat, RunArgs};
use super::checks;
use super::output;
use super::progress::Progress;
use super::protections::{self, Origin};
use super::run::{exit, fail, finish, prepare, request, run_options};
use crate::app::{SdkEngine, sdk_engine};
use crate::aws::load_sdk_config;
use crate::config::{Config, Mode};

pub async fn preflight(aws: &AwsArgs) -> u8 {
    // The features the environment configures are checked too.
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => return fail(exit::USAGE, &err),
    };
    let sdk = load_sdk_config(aws.profile.as_deref(), aws.region.as_deref()).await;
    let engine = sdk_engine(config, &sdk, false);
    let mut checks = checks::checks(engine.organization()).await;
    let caller = crate::ports::Organization::caller(engine.organization())
        .await
        .ok();
    let features = checks::feature_checks(engine.config(), engine.features(), caller.as_ref());
    checks.extend(features.await);
    let mut out = std::io::stdout().lock();
    let mut failed = 0;
    for check in &checks {
        let line = match &check.result {
            Ok(found) => format!("PASS  {}: {found}", check.name),
            Err(remedy) => {
                failed += 1;
                format!("FAIL  {}\n      {remedy}", check.name)
            }
        };
        let _ = writeln!(out, "{line}");
    }
    if failed == 0 {
        let _ = writeln!(
            out,
            "\nAll {} checks passed: rootsweep can run here.",
            checks.len()
        );
        exit::OK
    } else {
        let _ = writeln!(out, "\n{failed} of {} checks failed.", checks.len());
        exit::CANNOT_RUN
    }
}

pub async fn run(args: &RunArgs) -> u8 {
    let (sdk, protections) = match prepare(args, Mode::Audit).await {
        Ok(prepared) => prepared,
        Err(code) => return code,
    };
    if matches!(protections.origin, Origin::Deployed { .. }) {
        protections::show(&protections, None, &mut std::io::stderr().lock());
    }
    let options = run_options(&protections);
    let engine = sdk_engine(protections.config, &sdk, args.publish_metrics);
    let progress = Progress::new(Mode::Audit);
    let report = engine
        .run(&request(args, Mode::Audit), options, &progress)
        .await;
    progress.finish();
    let report = match report {
        Ok(report) => report,
        Err(err) => return fail(exit::CANNOT_RUN, &err),
    };
    let code = finish(&report, args.output);
    pending_follow_ups(&engine, args.output).await;
    code
}

/// The follow-ups waiting to fire, when follow-ups are configured: after the audit's results.
async fn pending_follow_ups(engine: &SdkEngine, format: OutputFormat) {
    let Some(scheduler) = &engine.features().scheduler else {
        return;
    };
    match scheduler.list().await {
        Ok(pending) if format == OutputFormat::Table => {
            let _ = output::follow_ups(&pending, &mut std::io::stdout().lock());
        }
        Ok(pending) => eprintln!("rootsweep: {} follow-up(s) pending", pending.len()),
        Err(err) => eprintln!("rootsweep: warning: could not list the pending follow-ups: {err}"),
    }
}

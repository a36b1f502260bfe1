//! `rootsweep sweep`: the plan under the protections in force, the confirmation, the deletion.

use std::io::{BufRead, IsTerminal, Write};

use chrono::Utc;

use super::args::RunArgs;
use super::output;
use super::progress::Progress;
use super::protections;
use super::run::{exit, fail, finish, prepare, request, run_options};
use crate::app::sdk_engine;
use crate::config::Mode;
use crate::decide::Decision;
use crate::outcome::AccountReport;
use crate::plan::Plan;
use crate::reasons::HoldReason;

/// One engine run: the plan (every account audited), shown with the protections in force and
/// what will be deleted; then, once confirmed, that same plan acted on (each due account still
/// re-checked in its delete session), with one report and one set of metrics.
pub async fn run(args: &RunArgs, yes: bool) -> u8 {
    let (sdk, protections) = match prepare(args, Mode::Enforce).await {
        Ok(prepared) => prepared,
        Err(code) => return code,
    };
    let options = run_options(&protections);
    let engine = sdk_engine(protections.config.clone(), &sdk, args.publish_metrics);
    let progress = Progress::new(Mode::Enforce);
    let plan = engine
        .plan(&request(args, Mode::Enforce), options, &progress)
        .await;
    progress.finish();
    let plan = match plan {
        Ok(plan) => plan,
        Err(err) => return fail(exit::CANNOT_RUN, &err),
    };
    let spent = plan.ledger().map(|ledger| ledger.spent(Utc::now()));
    protections::show(&protections, spent, &mut std::io::stderr().lock());
    let mut decision = engine.decide(&plan);
    let mut not_confirmed = None;
    if !plan.due.is_empty() {
        show_plan(&plan, &decision);
        if decision == Decision::Remediate
            && let Err(reason) = confirm(plan.due.len(), yes)
        {
            decision = Decision::Hold(HoldReason::NotConfirmed);
            not_confirmed = Some(reason);
        }
    } else {
        eprintln!("No account holds root credentials past their grace period: nothing to delete.");
    }
    let report = engine.conclude(plan, decision, &progress).await;
    let code = finish(&report, args.output);
    match not_confirmed {
        Some(reason) => {
            eprintln!("{reason}");
            exit::NOT_CONFIRMED
        }
        None => code,
    }
}

/// What the sweep will delete, on stderr.
fn show_plan(plan: &Plan, decision: &Decision) {
    let mut err = std::io::stderr().lock();
    let due: Vec<&AccountReport> = plan.due.iter().map(|d| &d.report).collect();
    let _ = writeln!(err, "These root credentials are past their grace period:\n");
    let _ = output::table(&due, &mut err);
    if let Decision::Hold(reason) = decision {
        let _ = writeln!(err, "\nNothing will be deleted: {reason}");
    }
}

fn confirm(accounts: usize, yes: bool) -> Result<(), String> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err("Not confirmed, nothing deleted: stdin is not a terminal, so pass --yes to confirm the deletion.".into());
    }
    eprint!(
        "\nDelete these root credentials from {accounts} account(s)? Type `delete` to confirm: "
    );
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    if answer.trim() == "delete" {
        Ok(())
    } else {
        Err("Not confirmed, nothing deleted.".into())
    }
}

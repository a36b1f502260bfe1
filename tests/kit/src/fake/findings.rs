//! Security Hub ([`Findings`]): findings by id, as last imported, filed and read as the caller.

use rootsweep::account::Caller;
use rootsweep::ports::{Call as PortCall, FailedFinding, Finding, Findings, PriorFinding};

use super::FakeAws;

impl Findings for FakeAws {
    fn import<'a>(
        &'a self,
        caller: &'a Caller,
        findings: &'a [Finding],
    ) -> PortCall<'a, Vec<FailedFinding>> {
        self.port_call("securityhub:BatchImportFindings", move |w| {
            assert_eq!(caller, &w.caller, "findings are filed as the caller");
            assert!(findings.len() <= 100, "at most 100 findings a call");
            for finding in findings {
                w.findings.insert(finding.id.clone(), finding.clone());
            }
            Ok(Vec::new())
        })
    }

    fn prior<'a>(
        &'a self,
        caller: &'a Caller,
        _generator: &'a str,
    ) -> PortCall<'a, Vec<PriorFinding>> {
        self.port_call("securityhub:GetFindings", move |w| {
            assert_eq!(caller, &w.caller, "findings are read as the caller");
            Ok(w.findings
                .values()
                .map(|f| PriorFinding {
                    id: f.id.clone(),
                    account: Some(f.account.clone()),
                    created: f.created,
                    first_observed: f.first_observed,
                    last_observed: f.last_observed,
                    severity: Some(f.severity),
                    active: f.record_state == "ACTIVE",
                })
                .collect())
        })
    }
}

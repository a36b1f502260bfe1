-- Runs that did not complete (the account listing broke off: some accounts were not seen).
SELECT run_date, started_at, run_id, mode, whole_organization, listing_error, remediation_held
FROM rootsweep_evidence.run_reports
WHERE kind = 'run_summary'
  AND NOT complete
  AND run_date BETWEEN '2026-01-01' AND '2026-03-31'
ORDER BY started_at;

-- Which accounts were past their grace period, run by run, and why (reason, error).
SELECT run_date, account_id, account_name, outcome, stage, due_at, reason, error, run_id
FROM rootsweep_evidence.run_reports
WHERE kind = 'account_report'
  AND due_at IS NOT NULL
  AND outcome IN ('due', 'retry_later', 'failed', 'not_reached')
  AND run_date BETWEEN '2026-01-01' AND '2026-03-31'
ORDER BY run_date, account_id;

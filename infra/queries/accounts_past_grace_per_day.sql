-- Accounts past their grace period, per day: credentials found due and still there after a run
-- (not deleted: audit mode, the cap, a deletion that failed, a run that ended first). Every line
-- of an account found past its grace period carries its due_at. Counted once per day however
-- many runs saw it. Replace rootsweep by your AthenaDatabaseName and the dates by the period.
SELECT run_date,
       count(DISTINCT account_id) AS accounts_past_grace
FROM rootsweep_evidence.run_reports
WHERE kind = 'account_report'
  AND due_at IS NOT NULL
  AND outcome IN ('due', 'retry_later', 'failed', 'not_reached')
  AND run_date BETWEEN '2026-01-01' AND '2026-03-31'
GROUP BY run_date
ORDER BY run_date;

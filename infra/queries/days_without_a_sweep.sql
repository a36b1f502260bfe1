-- Days without a whole-organization run (the function did not run, crashed or timed out:
-- the missed-sweep alarm's days). With a schedule interval over a day, some are expected.
WITH days AS (
  SELECT d
  FROM UNNEST(sequence(DATE '2026-01-01', DATE '2026-03-31', INTERVAL '1' DAY)) AS t (d)
),
swept AS (
  SELECT DISTINCT CAST(run_date AS date) AS d
  FROM rootsweep_evidence.run_reports
  WHERE kind = 'run_summary'
    AND whole_organization
    AND run_date BETWEEN '2026-01-01' AND '2026-03-31'
)
SELECT days.d AS day_without_sweep
FROM days
LEFT JOIN swept ON swept.d = days.d
WHERE swept.d IS NULL
ORDER BY days.d;

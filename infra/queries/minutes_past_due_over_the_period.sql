-- Time from due to remediated over the period: median, 95th percentile, longest.
SELECT count(*) AS remediations,
       approx_percentile(minutes_past_due, 0.5) AS median_minutes_past_due,
       approx_percentile(minutes_past_due, 0.95) AS p95_minutes_past_due,
       max(minutes_past_due) AS max_minutes_past_due
FROM (
  SELECT date_diff('minute', from_iso8601_timestamp(due_at), from_iso8601_timestamp(finished_at))
           AS minutes_past_due
  FROM rootsweep_evidence.run_reports
  WHERE kind = 'account_report'
    AND outcome = 'remediated'
    AND run_date BETWEEN '2026-01-01' AND '2026-03-31'
) AS remediated;

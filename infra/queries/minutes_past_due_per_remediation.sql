-- Time from due to remediated, per deletion (finished_at - due_at of remediated lines).
SELECT account_id, account_name, due_at, finished_at,
       date_diff('minute', from_iso8601_timestamp(due_at), from_iso8601_timestamp(finished_at))
         AS minutes_past_due,
       run_id
FROM rootsweep_evidence.run_reports
WHERE kind = 'account_report'
  AND outcome = 'remediated'
  AND run_date BETWEEN '2026-01-01' AND '2026-03-31'
ORDER BY minutes_past_due DESC;

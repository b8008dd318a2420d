-- staging.schedule_intervals with no rows, because no configured source feeds it (e.g. a CRM without a
-- helpdesk). The columns are the canonical ones every source's schedule_intervals.sql returns.
SELECT
    CAST(NULL AS text) AS source,
    CAST(NULL AS text) AS schedule_id,
    CAST(NULL AS bigint) AS start_minute,
    CAST(NULL AS bigint) AS end_minute
WHERE false

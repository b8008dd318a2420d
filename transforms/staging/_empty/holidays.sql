-- staging.holidays with no rows, because no configured source feeds it (e.g. a CRM without a
-- helpdesk). The columns are the canonical ones every source's holidays.sql returns.
SELECT
    CAST(NULL AS text) AS source,
    CAST(NULL AS text) AS holiday_id,
    CAST(NULL AS text) AS schedule_id,
    CAST(NULL AS text) AS name,
    CAST(NULL AS date) AS start_date,
    CAST(NULL AS date) AS end_date
WHERE false

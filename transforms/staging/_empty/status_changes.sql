-- staging.status_changes with no rows, because no configured source feeds it (e.g. a CRM without a
-- helpdesk). The columns are the canonical ones every source's status_changes.sql returns.
SELECT
    CAST(NULL AS text) AS source,
    CAST(NULL AS text) AS status_change_id,
    CAST(NULL AS text) AS ticket_id,
    CAST(NULL AS timestamptz) AS changed_at,
    CAST(NULL AS text) AS from_status,
    CAST(NULL AS text) AS to_status,
    CAST(NULL AS text) AS changed_by
WHERE false

-- staging.groups with no rows, because no configured source feeds it (e.g. a CRM without a
-- helpdesk). The columns are the canonical ones every source's groups.sql returns.
SELECT
    CAST(NULL AS text) AS source,
    CAST(NULL AS text) AS group_id,
    CAST(NULL AS text) AS name,
    CAST(NULL AS boolean) AS is_deleted,
    CAST(NULL AS text) AS schedule_id,
    CAST(NULL AS timestamptz) AS created_at,
    CAST(NULL AS timestamptz) AS updated_at
WHERE false

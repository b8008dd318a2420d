-- staging.users with no rows, because no configured source feeds it (e.g. a CRM without a
-- helpdesk). The columns are the canonical ones every source's users.sql returns.
SELECT
    CAST(NULL AS text) AS source,
    CAST(NULL AS text) AS user_id,
    CAST(NULL AS text) AS role,
    CAST(NULL AS text) AS source_role,
    CAST(NULL AS text) AS organization_id,
    CAST(NULL AS boolean) AS is_active,
    CAST(NULL AS timestamptz) AS created_at,
    CAST(NULL AS timestamptz) AS updated_at
WHERE false

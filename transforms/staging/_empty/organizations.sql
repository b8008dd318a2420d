-- staging.organizations with no rows, because no configured source feeds it (e.g. a CRM without a
-- helpdesk). The columns are the canonical ones every source's organizations.sql returns.
SELECT
    CAST(NULL AS text) AS source,
    CAST(NULL AS text) AS organization_id,
    CAST(NULL AS text) AS name,
    CAST(NULL AS text) AS external_id,
    CAST(NULL AS text) AS domain_names,
    CAST(NULL AS timestamptz) AS created_at,
    CAST(NULL AS timestamptz) AS updated_at,
    CAST(NULL AS timestamptz) AS deleted_at
WHERE false

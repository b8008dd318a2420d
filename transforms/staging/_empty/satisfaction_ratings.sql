-- staging.satisfaction_ratings with no rows, because no configured source feeds it (e.g. a CRM without a
-- helpdesk). The columns are the canonical ones every source's satisfaction_ratings.sql returns.
SELECT
    CAST(NULL AS text) AS source,
    CAST(NULL AS text) AS rating_id,
    CAST(NULL AS text) AS ticket_id,
    CAST(NULL AS timestamptz) AS created_at,
    CAST(NULL AS timestamptz) AS updated_at,
    CAST(NULL AS text) AS score_label,
    CAST(NULL AS double precision) AS score_fraction,
    CAST(NULL AS text) AS agent_id
WHERE false

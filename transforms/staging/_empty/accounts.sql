-- CRM accounts (companies): none, because no CRM source is configured. The columns are the
-- canonical ones every CRM's accounts.sql returns. Grain: (source, account_id).
SELECT
    CAST(NULL AS text) AS source,
    CAST(NULL AS text) AS account_id,
    CAST(NULL AS text) AS name,
    CAST(NULL AS text) AS domain,
    CAST(NULL AS text) AS segment,
    CAST(NULL AS timestamptz) AS created_at,
    CAST(NULL AS boolean) AS is_deleted
WHERE false

-- staging.messages with no rows, because no configured source feeds it (e.g. a CRM without a
-- helpdesk). The columns are the canonical ones every source's messages.sql returns.
SELECT
    CAST(NULL AS text) AS source,
    CAST(NULL AS text) AS message_id,
    CAST(NULL AS text) AS ticket_id,
    CAST(NULL AS timestamptz) AS created_at,
    CAST(NULL AS text) AS author_id,
    CAST(NULL AS text) AS author_role,
    CAST(NULL AS boolean) AS is_public,
    CAST(NULL AS boolean) AS is_first_message,
    CAST(NULL AS text) AS source_channel
WHERE false

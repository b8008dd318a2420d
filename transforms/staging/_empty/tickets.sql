-- staging.tickets with no rows, because no configured source feeds it (e.g. a CRM without a
-- helpdesk). The columns are the canonical ones every source's tickets.sql returns.
SELECT
    CAST(NULL AS text) AS source,
    CAST(NULL AS text) AS ticket_id,
    CAST(NULL AS timestamptz) AS created_at,
    CAST(NULL AS timestamptz) AS updated_at,
    CAST(NULL AS text) AS channel,
    CAST(NULL AS text) AS source_channel,
    CAST(NULL AS text) AS priority,
    CAST(NULL AS text) AS status,
    CAST(NULL AS text) AS ticket_type,
    CAST(NULL AS text) AS group_id,
    CAST(NULL AS text) AS assignee_id,
    CAST(NULL AS text) AS requester_id,
    CAST(NULL AS text) AS submitter_id,
    CAST(NULL AS text) AS organization_id
WHERE false

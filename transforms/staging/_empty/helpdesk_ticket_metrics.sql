-- staging.helpdesk_ticket_metrics with no rows, because no configured source feeds it (e.g. a CRM without a
-- helpdesk). The columns are the canonical ones every source's helpdesk_ticket_metrics.sql returns.
SELECT
    CAST(NULL AS text) AS source,
    CAST(NULL AS text) AS ticket_id,
    CAST(NULL AS text) AS metric_set_id,
    CAST(NULL AS bigint) AS first_response_minutes,
    CAST(NULL AS bigint) AS first_response_business_minutes,
    CAST(NULL AS bigint) AS first_resolution_minutes,
    CAST(NULL AS bigint) AS first_resolution_business_minutes,
    CAST(NULL AS bigint) AS full_resolution_minutes,
    CAST(NULL AS bigint) AS full_resolution_business_minutes,
    CAST(NULL AS bigint) AS agent_wait_minutes,
    CAST(NULL AS bigint) AS agent_wait_business_minutes,
    CAST(NULL AS bigint) AS requester_wait_minutes,
    CAST(NULL AS bigint) AS requester_wait_business_minutes,
    CAST(NULL AS bigint) AS on_hold_minutes,
    CAST(NULL AS bigint) AS on_hold_business_minutes,
    CAST(NULL AS bigint) AS agent_replies,
    CAST(NULL AS bigint) AS reopens,
    CAST(NULL AS bigint) AS group_stations,
    CAST(NULL AS bigint) AS assignee_stations,
    CAST(NULL AS timestamptz) AS solved_at,
    CAST(NULL AS timestamptz) AS first_assigned_at,
    CAST(NULL AS timestamptz) AS last_assigned_at,
    CAST(NULL AS timestamptz) AS last_comment_at,
    CAST(NULL AS timestamptz) AS status_updated_at,
    CAST(NULL AS timestamptz) AS metrics_updated_at
WHERE false

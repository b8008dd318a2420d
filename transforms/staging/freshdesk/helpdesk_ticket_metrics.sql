-- Freshdesk's own per-ticket figures (the ticket's `stats`), in the words of
-- marts.ticket_metrics, for marts.metric_reconciliation. Calendar minutes are whole minutes
-- from the ticket's creation to Freshdesk's timestamps: its first agent response
-- (`first_responded_at`), and its resolution (`resolved_at`, the latest) while the ticket is
-- resolved or closed, as ours is only while solved. Freshdesk reports no first resolution
-- of a reopened ticket, no count of replies or reopens, no waits and no business minutes:
-- those columns are NULL (no reconciliation row for them). Grain: (source, ticket_id).
SELECT
    'freshdesk' AS source,
    CAST(id AS text) AS ticket_id,
    CAST(id AS text) AS metric_set_id,
    CAST(floor((extract(epoch FROM stats_first_responded_at) - extract(epoch FROM created_at))
               / 60) AS bigint) AS first_response_minutes,
    CAST(NULL AS bigint) AS first_response_business_minutes,
    CAST(NULL AS bigint) AS first_resolution_minutes,
    CAST(NULL AS bigint) AS first_resolution_business_minutes,
    CASE WHEN status IN (4, 5) THEN
        CAST(floor((extract(epoch FROM stats_resolved_at) - extract(epoch FROM created_at))
                   / 60) AS bigint)
    END AS full_resolution_minutes,
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
    CASE WHEN status IN (4, 5) THEN stats_resolved_at END AS solved_at,
    CAST(NULL AS timestamptz) AS first_assigned_at,
    CAST(NULL AS timestamptz) AS last_assigned_at,
    CASE
        WHEN stats_agent_responded_at IS NULL THEN stats_requester_responded_at
        WHEN stats_requester_responded_at IS NULL THEN stats_agent_responded_at
        ELSE greatest(stats_agent_responded_at, stats_requester_responded_at)
    END AS last_comment_at,
    stats_status_updated_at AS status_updated_at,
    updated_at AS metrics_updated_at
FROM raw_freshdesk.tickets
WHERE NOT (coalesce(deleted, false) OR coalesce(spam, false))
  AND {{ raw_ticket_scope('freshdesk', 'id', 'bigint') }}

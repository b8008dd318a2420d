-- The helpdesk's own per-ticket metrics, as Zendesk computes them (Ticket Metrics), renamed
-- to the words of marts.ticket_metrics so the two line up column by column; compared in
-- marts.metric_reconciliation. Zendesk counts whole minutes, waits over completed status
-- periods only, business minutes on the schedule in force (docs/reconciliation.md).
-- NULL: the metric has not happened yet. Grain: (source, ticket_id).
SELECT
    'zendesk' AS source,
    CAST(ticket_id AS text) AS ticket_id,
    CAST(id AS text) AS metric_set_id,
    reply_time_calendar_minutes AS first_response_minutes,
    reply_time_business_minutes AS first_response_business_minutes,
    first_resolution_time_calendar_minutes AS first_resolution_minutes,
    first_resolution_time_business_minutes AS first_resolution_business_minutes,
    full_resolution_time_calendar_minutes AS full_resolution_minutes,
    full_resolution_time_business_minutes AS full_resolution_business_minutes,
    agent_wait_time_calendar_minutes AS agent_wait_minutes,
    agent_wait_time_business_minutes AS agent_wait_business_minutes,
    requester_wait_time_calendar_minutes AS requester_wait_minutes,
    requester_wait_time_business_minutes AS requester_wait_business_minutes,
    on_hold_time_calendar_minutes AS on_hold_minutes,
    on_hold_time_business_minutes AS on_hold_business_minutes,
    replies AS agent_replies,
    reopens,
    group_stations,
    assignee_stations,
    solved_at,
    initially_assigned_at AS first_assigned_at,
    assigned_at AS last_assigned_at,
    latest_comment_added_at AS last_comment_at,
    status_updated_at,
    updated_at AS metrics_updated_at
FROM raw_zendesk.ticket_metric_sets
WHERE {{ raw_ticket_scope('zendesk', 'ticket_id', 'bigint') }}

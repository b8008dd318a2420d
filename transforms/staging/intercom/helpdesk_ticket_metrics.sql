-- Intercom's own per-conversation figures (its `statistics` object), in the words of
-- marts.ticket_metrics, for marts.metric_reconciliation. Calendar minutes are whole minutes
-- from the conversation's creation to Intercom's timestamps: its first human admin reply
-- (`first_admin_reply_at`), first close and last close (the last only while the conversation
-- is closed, as ours is only while solved). Intercom's durations (`time_to_admin_reply`, ...)
-- run from the customer's first message and leave out the workspace's office hours, which
-- the API does not give: they stay in raw_intercom.conversations (`stat_time_to_*`), and the
-- business-minute columns are NULL. Intercom reports reopens, not a count of replies or
-- waits: those columns are NULL (no reconciliation row for them). Grain: (source, ticket_id).
SELECT
    'intercom' AS source,
    CAST(id AS text) AS ticket_id,
    CAST(id AS text) AS metric_set_id,
    CAST(floor((extract(epoch FROM stat_first_admin_reply_at) - extract(epoch FROM created_at))
               / 60) AS bigint) AS first_response_minutes,
    CAST(NULL AS bigint) AS first_response_business_minutes,
    CAST(floor((extract(epoch FROM stat_first_close_at) - extract(epoch FROM created_at))
               / 60) AS bigint) AS first_resolution_minutes,
    CAST(NULL AS bigint) AS first_resolution_business_minutes,
    CASE WHEN state = 'closed' THEN
        CAST(floor((extract(epoch FROM stat_last_close_at) - extract(epoch FROM created_at))
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
    CAST(stat_count_reopens AS bigint) AS reopens,
    CAST(NULL AS bigint) AS group_stations,
    CAST(stat_count_assignments AS bigint) AS assignee_stations,
    CASE WHEN state = 'closed' THEN stat_last_close_at END AS solved_at,
    stat_first_assignment_at AS first_assigned_at,
    stat_last_assignment_at AS last_assigned_at,
    CASE
        WHEN stat_last_admin_reply_at IS NULL THEN stat_last_contact_reply_at
        WHEN stat_last_contact_reply_at IS NULL THEN stat_last_admin_reply_at
        ELSE greatest(stat_last_admin_reply_at, stat_last_contact_reply_at)
    END AS last_comment_at,
    CAST(NULL AS timestamptz) AS status_updated_at,
    updated_at AS metrics_updated_at
FROM raw_intercom.conversations
WHERE {{ raw_ticket_scope('intercom', 'id', 'text') }}

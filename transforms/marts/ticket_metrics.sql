-- Per-ticket customer-experience metrics (METRICS.md, marts.ticket_metrics).
-- Grain: one row per ticket (source, ticket_id), deleted tickets included with status
-- `deleted`. Calendar durations are minutes; business-minute columns stay NULL until
-- business hours are computed. A metric that cannot be computed is NULL, never 0.
WITH first_replies AS (
    SELECT
        source,
        ticket_id,
        min(created_at) AS first_response_at,
        count(*) AS agent_replies
    FROM staging.ticket_agent_replies
    GROUP BY source, ticket_id
),

-- A ticket is resolved when it enters solved, or closed without passing through solved;
-- solved -> closed is not a second resolution.
resolutions AS (
    SELECT source, ticket_id, changed_at
    FROM staging.status_changes
    WHERE (to_status = 'solved' AND coalesce(from_status, '') <> 'solved')
       OR (to_status = 'closed' AND coalesce(from_status, '') NOT IN ('solved', 'closed'))
),

resolution_times AS (
    SELECT
        source,
        ticket_id,
        min(changed_at) AS first_resolved_at,
        max(changed_at) AS last_resolved_at
    FROM resolutions
    GROUP BY source, ticket_id
),

reopen_counts AS (
    SELECT source, ticket_id, count(*) AS reopens
    FROM staging.status_changes
    WHERE from_status = 'solved' AND to_status IN ('new', 'open', 'pending', 'hold')
    GROUP BY source, ticket_id
),

time_in_status AS (
    SELECT
        source,
        ticket_id,
        coalesce(sum(minutes) FILTER (WHERE status IN ('new', 'open', 'hold')), 0)
            AS requester_wait_minutes,
        coalesce(sum(minutes) FILTER (WHERE status = 'pending'), 0) AS agent_wait_minutes,
        coalesce(sum(minutes) FILTER (WHERE status = 'hold'), 0) AS on_hold_minutes
    FROM staging.ticket_status_intervals
    GROUP BY source, ticket_id
),

handle_time AS (
    SELECT source, ticket_id, sum(handle_seconds) AS handle_seconds
    FROM staging.handle_time_records
    WHERE ticket_id IS NOT NULL
    GROUP BY source, ticket_id
),

answered_ratings AS (
    SELECT
        source,
        ticket_id,
        score_fraction,
        row_number() OVER (
            PARTITION BY source, ticket_id ORDER BY updated_at DESC, rating_id DESC
        ) AS recency
    FROM staging.satisfaction_ratings
    WHERE score_fraction IS NOT NULL
),

resolved_tickets AS (
    SELECT
        t.source,
        t.ticket_id,
        rt.first_resolved_at,
        CASE WHEN t.status IN ('solved', 'closed') THEN rt.last_resolved_at END
            AS final_resolved_at
    FROM staging.tickets AS t
    LEFT JOIN resolution_times AS rt
        ON rt.source = t.source AND rt.ticket_id = t.ticket_id
),

replies_before_resolution AS (
    SELECT r.source, r.ticket_id, count(*) AS replies
    FROM staging.ticket_agent_replies AS r
    INNER JOIN resolved_tickets AS rt
        ON rt.source = r.source AND rt.ticket_id = r.ticket_id
    WHERE r.created_at <= rt.final_resolved_at
    GROUP BY r.source, r.ticket_id
)

SELECT
    t.source,
    t.ticket_id,
    t.created_at,
    t.channel,
    t.priority,
    t.status,
    t.group_id,
    t.assignee_id,
    t.requester_id,
    t.organization_id,
    CAST(NULL AS text) AS account_id,
    fr.first_response_at,
    CAST(extract(epoch FROM (fr.first_response_at - t.created_at)) AS double precision) / 60
        AS first_response_minutes,
    CAST(NULL AS double precision) AS first_response_business_minutes,
    rt.first_resolved_at,
    rt.final_resolved_at,
    CAST(extract(epoch FROM (rt.first_resolved_at - t.created_at)) AS double precision) / 60
        AS first_resolution_minutes,
    CAST(extract(epoch FROM (rt.final_resolved_at - t.created_at)) AS double precision) / 60
        AS full_resolution_minutes,
    CAST(NULL AS double precision) AS first_resolution_business_minutes,
    CAST(NULL AS double precision) AS full_resolution_business_minutes,
    coalesce(fr.agent_replies, 0) AS agent_replies,
    CASE
        WHEN rt.final_resolved_at IS NOT NULL THEN coalesce(rbr.replies, 0)
    END AS replies_to_resolution,
    coalesce(ro.reopens, 0) AS reopens,
    CASE
        WHEN rt.final_resolved_at IS NOT NULL THEN coalesce(fr.agent_replies, 0) = 1
    END AS is_one_touch,
    coalesce(tis.requester_wait_minutes, 0) AS requester_wait_minutes,
    coalesce(tis.agent_wait_minutes, 0) AS agent_wait_minutes,
    coalesce(tis.on_hold_minutes, 0) AS on_hold_minutes,
    ht.handle_seconds,
    ar.score_fraction AS csat_score
FROM staging.tickets AS t
LEFT JOIN first_replies AS fr
    ON fr.source = t.source AND fr.ticket_id = t.ticket_id
LEFT JOIN resolved_tickets AS rt
    ON rt.source = t.source AND rt.ticket_id = t.ticket_id
LEFT JOIN replies_before_resolution AS rbr
    ON rbr.source = t.source AND rbr.ticket_id = t.ticket_id
LEFT JOIN reopen_counts AS ro
    ON ro.source = t.source AND ro.ticket_id = t.ticket_id
LEFT JOIN time_in_status AS tis
    ON tis.source = t.source AND tis.ticket_id = t.ticket_id
LEFT JOIN handle_time AS ht
    ON ht.source = t.source AND ht.ticket_id = t.ticket_id
LEFT JOIN answered_ratings AS ar
    ON ar.source = t.source AND ar.ticket_id = t.ticket_id AND ar.recency = 1

-- The moments that define a ticket's response and resolution metrics, one row per ticket
-- (source, ticket_id): first agent reply, first and final resolution, reply and reopen counts
-- (one pass over the status transitions for both).
-- Resolutions are the `is_resolution` transitions; final_resolved_at is NULL unless the
-- ticket is currently solved or closed (METRICS.md).
WITH first_replies AS (
    SELECT
        source,
        ticket_id,
        min(created_at) AS first_response_at,
        count(*) AS agent_replies
    FROM staging.ticket_agent_replies
    WHERE {{ ticket_scope('source', 'ticket_id') }}
    GROUP BY source, ticket_id
),

-- Resolutions and reopens read apart, each first narrowed by one plain column test the scan
-- applies itself (a resolution enters solved or closed, a reopen leaves solved), so the
-- view's flags are computed for those rows only, not for every status change.
resolution_times AS (
    SELECT
        source,
        ticket_id,
        min(changed_at) FILTER (WHERE is_resolution) AS first_resolved_at,
        max(changed_at) FILTER (WHERE is_resolution) AS last_resolved_at,
        count(*) FILTER (WHERE NOT is_resolution) AS reopens
    FROM (
        SELECT source, ticket_id, changed_at, true AS is_resolution
        FROM staging.ticket_status_transitions
        WHERE to_status IN ('solved', 'closed') AND is_resolution
          AND {{ ticket_scope('source', 'ticket_id') }}
        UNION ALL
        SELECT source, ticket_id, changed_at, false
        FROM staging.ticket_status_transitions
        WHERE from_status = 'solved' AND is_reopen AND {{ ticket_scope('source', 'ticket_id') }}
    ) AS transitions
    GROUP BY source, ticket_id
),

milestones AS (
    SELECT
        t.source,
        t.ticket_id,
        t.created_at,
        fr.first_response_at,
        coalesce(fr.agent_replies, 0) AS agent_replies,
        rt.first_resolved_at,
        coalesce(rt.reopens, 0) AS reopens,
        CASE WHEN t.status IN ('solved', 'closed') THEN rt.last_resolved_at END
            AS final_resolved_at
    FROM staging.tickets AS t
    LEFT JOIN first_replies AS fr
        ON fr.source = t.source AND fr.ticket_id = t.ticket_id
    LEFT JOIN resolution_times AS rt
        ON rt.source = t.source AND rt.ticket_id = t.ticket_id
    WHERE {{ ticket_scope('t.source', 't.ticket_id') }}
),

-- A reply sent with the solve counts (at or before final_resolved_at).
replies_to_resolution AS (
    SELECT r.source, r.ticket_id, count(*) AS replies
    FROM staging.ticket_agent_replies AS r
    INNER JOIN milestones AS m
        ON m.source = r.source AND m.ticket_id = r.ticket_id
    WHERE r.created_at <= m.final_resolved_at AND {{ ticket_scope('r.source', 'r.ticket_id') }}
    GROUP BY r.source, r.ticket_id
)

SELECT
    m.source,
    m.ticket_id,
    m.created_at,
    m.first_response_at,
    m.first_resolved_at,
    m.final_resolved_at,
    m.agent_replies,
    CASE WHEN m.final_resolved_at IS NOT NULL THEN coalesce(rr.replies, 0) END
        AS replies_to_resolution,
    m.reopens
FROM milestones AS m
LEFT JOIN replies_to_resolution AS rr
    ON rr.source = m.source AND rr.ticket_id = m.ticket_id

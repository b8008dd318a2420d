-- Per-ticket customer-experience metrics (METRICS.md, marts.ticket_metrics).
-- Grain: one row per ticket (source, ticket_id), deleted tickets included with status
-- `deleted`. Durations are minutes: calendar minutes, and business minutes inside the
-- ticket's schedule (staging.ticket_business_minutes; NULL without a schedule). A metric that
-- cannot be computed is NULL, never 0.
-- The current status period runs to the as-of time (METRICS.md); a change dated after it
-- counts 0.
WITH status_periods AS (
    SELECT
        source,
        ticket_id,
        status,
        coalesce(minutes, CAST(greatest(
            extract(epoch FROM CAST(:as_of AS timestamptz)) - extract(epoch FROM started_at), 0
        ) AS double precision) / 60) AS minutes
    FROM staging.ticket_status_intervals
    WHERE {{ ticket_scope('source', 'ticket_id') }}
),

-- Sums of fractional minutes are rounded to 6 decimals: the engines may add the periods in
-- any order, and the last bits of a float sum must not change between identical runs.
time_in_status AS (
    SELECT
        source,
        ticket_id,
        CAST(CAST(
            coalesce(sum(minutes) FILTER (WHERE status IN ('new', 'open', 'hold')), 0)
        AS numeric(24, 6)) AS double precision) AS requester_wait_minutes,
        CAST(CAST(coalesce(sum(minutes) FILTER (WHERE status = 'pending'), 0)
            AS numeric(24, 6)) AS double precision) AS agent_wait_minutes,
        CAST(CAST(coalesce(sum(minutes) FILTER (WHERE status = 'hold'), 0)
            AS numeric(24, 6)) AS double precision) AS on_hold_minutes
    FROM status_periods
    GROUP BY source, ticket_id
),

handle_time AS (
    SELECT source, ticket_id, sum(handle_seconds) AS handle_seconds
    FROM staging.handle_time_records
    WHERE ticket_id IS NOT NULL AND {{ ticket_scope('source', 'ticket_id') }}
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
    WHERE score_fraction IS NOT NULL AND {{ ticket_scope('source', 'ticket_id') }}
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
    oa.account_id,
    ms.first_response_at,
    CAST(
        extract(epoch FROM ms.first_response_at) - extract(epoch FROM t.created_at)
    AS double precision) / 60
        AS first_response_minutes,
    bm.first_response_business_minutes,
    ms.first_resolved_at,
    ms.final_resolved_at,
    CAST(
        extract(epoch FROM ms.first_resolved_at) - extract(epoch FROM t.created_at)
    AS double precision) / 60
        AS first_resolution_minutes,
    CAST(
        extract(epoch FROM ms.final_resolved_at) - extract(epoch FROM t.created_at)
    AS double precision) / 60
        AS full_resolution_minutes,
    bm.first_resolution_business_minutes,
    bm.full_resolution_business_minutes,
    ms.agent_replies,
    ms.replies_to_resolution,
    ms.reopens,
    CASE WHEN ms.final_resolved_at IS NOT NULL THEN ms.agent_replies = 1 END AS is_one_touch,
    coalesce(tis.requester_wait_minutes, 0) AS requester_wait_minutes,
    coalesce(tis.agent_wait_minutes, 0) AS agent_wait_minutes,
    coalesce(tis.on_hold_minutes, 0) AS on_hold_minutes,
    ht.handle_seconds,
    ar.score_fraction AS csat_score
FROM staging.tickets AS t
INNER JOIN staging.ticket_milestones AS ms
    ON ms.source = t.source AND ms.ticket_id = t.ticket_id
LEFT JOIN staging.organization_accounts AS oa
    ON oa.helpdesk_source = t.source AND oa.organization_id = t.organization_id
LEFT JOIN staging.ticket_business_minutes AS bm
    ON bm.source = t.source AND bm.ticket_id = t.ticket_id
LEFT JOIN time_in_status AS tis
    ON tis.source = t.source AND tis.ticket_id = t.ticket_id
LEFT JOIN handle_time AS ht
    ON ht.source = t.source AND ht.ticket_id = t.ticket_id
LEFT JOIN answered_ratings AS ar
    ON ar.source = t.source AND ar.ticket_id = t.ticket_id AND ar.recency = 1
WHERE {{ ticket_scope('t.source', 't.ticket_id') }}

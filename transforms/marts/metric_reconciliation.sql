-- How far our per-ticket metrics (marts.ticket_metrics) agree with the helpdesk's own
-- (staging.helpdesk_ticket_metrics: Zendesk's Ticket Metrics), metric by metric, over the
-- tickets both know that are not deleted. Grain: one row per (source, metric); a source
-- with no ticket in both has no rows.
-- metric: our column (paired with the helpdesk's column of the same name); unit:
-- calendar_minutes, business_minutes or count; definitions_coincide: false where our
-- definition deliberately differs (docs/reconciliation.md explains each residue).
-- A ticket agrees when durations are within 1 minute (the helpdesk counts whole minutes),
-- counts are equal, or both sides are NULL; one NULL side differs.
-- tickets_compared = tickets_agree + tickets_differ; agreement_rate = tickets_agree /
-- tickets_compared. worst_ticket_ids: up to 5 differing tickets, comma-separated, one-sided
-- NULLs first, then by absolute difference. max_abs_difference: over tickets where both
-- sides have a value (minutes, or the count).
-- Each matched ticket is paired with every metric (a join with the metric list, the values
-- picked by CASE; o_: ours, h_: the helpdesk's): one pass over the tickets, no correlated
-- (LATERAL) subquery.
WITH matched AS (
    SELECT
        ours.source,
        ours.ticket_id,
        CAST(ours.first_response_minutes AS double precision) AS o_first_response_minutes,
        CAST(helpdesk.first_response_minutes AS double precision) AS h_first_response_minutes,
        CAST(ours.first_resolution_minutes AS double precision) AS o_first_resolution_minutes,
        CAST(helpdesk.first_resolution_minutes AS double precision) AS h_first_resolution_minutes,
        CAST(ours.full_resolution_minutes AS double precision) AS o_full_resolution_minutes,
        CAST(helpdesk.full_resolution_minutes AS double precision) AS h_full_resolution_minutes,
        CAST(ours.agent_wait_minutes AS double precision) AS o_agent_wait_minutes,
        CAST(helpdesk.agent_wait_minutes AS double precision) AS h_agent_wait_minutes,
        CAST(ours.requester_wait_minutes AS double precision) AS o_requester_wait_minutes,
        CAST(helpdesk.requester_wait_minutes AS double precision) AS h_requester_wait_minutes,
        CAST(ours.on_hold_minutes AS double precision) AS o_on_hold_minutes,
        CAST(helpdesk.on_hold_minutes AS double precision) AS h_on_hold_minutes,
        CAST(ours.first_response_business_minutes AS double precision)
            AS o_first_response_business_minutes,
        CAST(helpdesk.first_response_business_minutes AS double precision)
            AS h_first_response_business_minutes,
        CAST(ours.first_resolution_business_minutes AS double precision)
            AS o_first_resolution_business_minutes,
        CAST(helpdesk.first_resolution_business_minutes AS double precision)
            AS h_first_resolution_business_minutes,
        CAST(ours.full_resolution_business_minutes AS double precision)
            AS o_full_resolution_business_minutes,
        CAST(helpdesk.full_resolution_business_minutes AS double precision)
            AS h_full_resolution_business_minutes,
        CAST(ours.agent_replies AS double precision) AS o_agent_replies,
        CAST(helpdesk.agent_replies AS double precision) AS h_agent_replies,
        CAST(ours.reopens AS double precision) AS o_reopens,
        CAST(helpdesk.reopens AS double precision) AS h_reopens
    FROM marts.ticket_metrics AS ours
    INNER JOIN staging.helpdesk_ticket_metrics AS helpdesk
        ON helpdesk.source = ours.source AND helpdesk.ticket_id = ours.ticket_id
    WHERE ours.status <> 'deleted'
),

metrics (metric, unit, definitions_coincide) AS (
    VALUES
        ('first_response_minutes', 'calendar_minutes', true),
        ('first_resolution_minutes', 'calendar_minutes', true),
        ('full_resolution_minutes', 'calendar_minutes', true),
        -- Ours run to the as-of time; the helpdesk counts completed periods only.
        ('agent_wait_minutes', 'calendar_minutes', false),
        ('requester_wait_minutes', 'calendar_minutes', false),
        ('on_hold_minutes', 'calendar_minutes', false),
        ('first_response_business_minutes', 'business_minutes', true),
        ('first_resolution_business_minutes', 'business_minutes', true),
        ('full_resolution_business_minutes', 'business_minutes', true),
        ('agent_replies', 'count', true),
        ('reopens', 'count', true)
),

metric_pairs AS NOT MATERIALIZED (
    SELECT
        x.source,
        x.ticket_id,
        m.metric,
        m.unit,
        m.definitions_coincide,
        CASE m.metric
            WHEN 'first_response_minutes' THEN x.o_first_response_minutes
            WHEN 'first_resolution_minutes' THEN x.o_first_resolution_minutes
            WHEN 'full_resolution_minutes' THEN x.o_full_resolution_minutes
            WHEN 'agent_wait_minutes' THEN x.o_agent_wait_minutes
            WHEN 'requester_wait_minutes' THEN x.o_requester_wait_minutes
            WHEN 'on_hold_minutes' THEN x.o_on_hold_minutes
            WHEN 'first_response_business_minutes' THEN x.o_first_response_business_minutes
            WHEN 'first_resolution_business_minutes' THEN x.o_first_resolution_business_minutes
            WHEN 'full_resolution_business_minutes' THEN x.o_full_resolution_business_minutes
            WHEN 'agent_replies' THEN x.o_agent_replies
            WHEN 'reopens' THEN x.o_reopens
        END AS our_value,
        CASE m.metric
            WHEN 'first_response_minutes' THEN x.h_first_response_minutes
            WHEN 'first_resolution_minutes' THEN x.h_first_resolution_minutes
            WHEN 'full_resolution_minutes' THEN x.h_full_resolution_minutes
            WHEN 'agent_wait_minutes' THEN x.h_agent_wait_minutes
            WHEN 'requester_wait_minutes' THEN x.h_requester_wait_minutes
            WHEN 'on_hold_minutes' THEN x.h_on_hold_minutes
            WHEN 'first_response_business_minutes' THEN x.h_first_response_business_minutes
            WHEN 'first_resolution_business_minutes' THEN x.h_first_resolution_business_minutes
            WHEN 'full_resolution_business_minutes' THEN x.h_full_resolution_business_minutes
            WHEN 'agent_replies' THEN x.h_agent_replies
            WHEN 'reopens' THEN x.h_reopens
        END AS helpdesk_value
    FROM matched AS x
    CROSS JOIN metrics AS m
),

compared_values AS NOT MATERIALIZED (
    SELECT
        source,
        ticket_id,
        metric,
        unit,
        definitions_coincide,
        abs(our_value - helpdesk_value) AS abs_difference,
        CASE
            WHEN our_value IS NULL AND helpdesk_value IS NULL THEN true
            WHEN our_value IS NULL OR helpdesk_value IS NULL THEN false
            WHEN unit = 'count' THEN our_value = helpdesk_value
            ELSE abs(our_value - helpdesk_value) <= 1
        END AS agrees
    FROM metric_pairs
),

-- The 5 worst per metric without sorting every differing ticket by (difference, id), which
-- is slow on millions of rows: the 5 one-sided NULLs with the lowest ids, and the tickets
-- whose difference reaches the 5th largest difference (ties included), each found with a
-- single sort key; then the final order among those few candidates only.
differing AS (
    SELECT source, metric, ticket_id, abs_difference
    FROM compared_values
    WHERE NOT agrees
),

null_worst AS (
    SELECT source, metric, ticket_id, abs_difference
    FROM (
        SELECT
            *,
            row_number() OVER (PARTITION BY source, metric ORDER BY ticket_id) AS position
        FROM differing
        WHERE abs_difference IS NULL
    ) AS ranked
    WHERE position <= 5
),

-- The 5th largest difference (or the smallest, when fewer than 5 tickets differ).
fifth_largest AS (
    SELECT source, metric, min(abs_difference) AS threshold
    FROM (
        SELECT
            source,
            metric,
            abs_difference,
            row_number() OVER (PARTITION BY source, metric ORDER BY abs_difference DESC)
                AS position
        FROM differing
        WHERE abs_difference IS NOT NULL
    ) AS ranked
    WHERE position <= 5
    GROUP BY source, metric
),

value_worst AS (
    SELECT d.source, d.metric, d.ticket_id, d.abs_difference
    FROM differing AS d
    INNER JOIN fifth_largest AS f
        ON f.source = d.source AND f.metric = d.metric
    WHERE d.abs_difference >= f.threshold
),

ranked_differences AS (
    SELECT
        source,
        metric,
        ticket_id,
        row_number() OVER (
            PARTITION BY source, metric ORDER BY abs_difference DESC NULLS FIRST, ticket_id
        ) AS difference_rank
    FROM (
        SELECT * FROM null_worst
        UNION ALL
        SELECT * FROM value_worst
    ) AS candidates
),

worst_tickets AS (
    SELECT
        source,
        metric,
        string_agg(ticket_id, ', ' ORDER BY difference_rank) AS worst_ticket_ids
    FROM ranked_differences
    WHERE difference_rank <= 5
    GROUP BY source, metric
),

agreement AS (
    SELECT
        source,
        metric,
        unit,
        definitions_coincide,
        count(*) AS tickets_compared,
        count(*) FILTER (WHERE agrees) AS tickets_agree,
        count(*) FILTER (WHERE NOT agrees) AS tickets_differ,
        max(abs_difference) AS max_abs_difference
    FROM compared_values
    GROUP BY source, metric, unit, definitions_coincide
)

SELECT
    a.source,
    a.metric,
    a.unit,
    a.definitions_coincide,
    a.tickets_compared,
    a.tickets_agree,
    a.tickets_differ,
    CAST(a.tickets_agree AS double precision) / a.tickets_compared AS agreement_rate,
    w.worst_ticket_ids,
    a.max_abs_difference
FROM agreement AS a
LEFT JOIN worst_tickets AS w
    ON w.source = a.source AND w.metric = a.metric

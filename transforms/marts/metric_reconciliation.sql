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
WITH metric_pairs AS (
    SELECT
        ours.source,
        ours.ticket_id,
        pair.metric,
        pair.unit,
        pair.definitions_coincide,
        pair.our_value,
        pair.helpdesk_value
    FROM marts.ticket_metrics AS ours
    INNER JOIN staging.helpdesk_ticket_metrics AS helpdesk
        ON helpdesk.source = ours.source AND helpdesk.ticket_id = ours.ticket_id
    CROSS JOIN LATERAL (
        VALUES
            ('first_response_minutes', 'calendar_minutes', true,
             CAST(ours.first_response_minutes AS double precision),
             CAST(helpdesk.first_response_minutes AS double precision)),
            ('first_resolution_minutes', 'calendar_minutes', true,
             CAST(ours.first_resolution_minutes AS double precision),
             CAST(helpdesk.first_resolution_minutes AS double precision)),
            ('full_resolution_minutes', 'calendar_minutes', true,
             CAST(ours.full_resolution_minutes AS double precision),
             CAST(helpdesk.full_resolution_minutes AS double precision)),
            -- Ours run to the as-of time; the helpdesk counts completed periods only.
            ('agent_wait_minutes', 'calendar_minutes', false,
             CAST(ours.agent_wait_minutes AS double precision),
             CAST(helpdesk.agent_wait_minutes AS double precision)),
            ('requester_wait_minutes', 'calendar_minutes', false,
             CAST(ours.requester_wait_minutes AS double precision),
             CAST(helpdesk.requester_wait_minutes AS double precision)),
            ('on_hold_minutes', 'calendar_minutes', false,
             CAST(ours.on_hold_minutes AS double precision),
             CAST(helpdesk.on_hold_minutes AS double precision)),
            ('first_response_business_minutes', 'business_minutes', true,
             CAST(ours.first_response_business_minutes AS double precision),
             CAST(helpdesk.first_response_business_minutes AS double precision)),
            ('first_resolution_business_minutes', 'business_minutes', true,
             CAST(ours.first_resolution_business_minutes AS double precision),
             CAST(helpdesk.first_resolution_business_minutes AS double precision)),
            ('full_resolution_business_minutes', 'business_minutes', true,
             CAST(ours.full_resolution_business_minutes AS double precision),
             CAST(helpdesk.full_resolution_business_minutes AS double precision)),
            ('agent_replies', 'count', true,
             CAST(ours.agent_replies AS double precision),
             CAST(helpdesk.agent_replies AS double precision)),
            ('reopens', 'count', true,
             CAST(ours.reopens AS double precision),
             CAST(helpdesk.reopens AS double precision))
    ) AS pair (metric, unit, definitions_coincide, our_value, helpdesk_value)
    WHERE ours.status <> 'deleted'
),

compared_values AS (
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

ranked_differences AS (
    SELECT
        source,
        metric,
        ticket_id,
        row_number() OVER (
            PARTITION BY source, metric ORDER BY abs_difference DESC NULLS FIRST, ticket_id
        ) AS difference_rank
    FROM compared_values
    WHERE NOT agrees
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

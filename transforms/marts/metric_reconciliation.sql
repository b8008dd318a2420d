-- How far our per-ticket metrics (marts.ticket_metrics) agree with the helpdesk's own
-- (staging.helpdesk_ticket_metrics: Zendesk's Ticket Metrics; paired per ticket in
-- staging.ticket_metric_pairs), metric by metric, over the
-- tickets both know that are not deleted. Grain: one row per (source, metric); a source
-- with no ticket in both has no rows, and a helpdesk has no row for a metric it does not
-- report (`not_reported`: Intercom gives no reply count, waits or business minutes;
-- Freshdesk reports first response and resolution only).
-- metric: our column (paired with the helpdesk's column of the same name); unit:
-- calendar_minutes, business_minutes or count; definitions_coincide: false where our
-- definition deliberately differs (docs/reconciliation.md explains each residue).
-- A ticket agrees when durations are within 1 minute (the helpdesk counts whole minutes),
-- counts are equal, or both sides are NULL; one NULL side differs.
-- tickets_compared = tickets_agree + tickets_differ; agreement_rate = tickets_agree /
-- tickets_compared. worst_ticket_ids: up to 5 differing tickets, comma-separated, one-sided
-- NULLs first, then by absolute difference. max_abs_difference: over tickets where both
-- sides have a value (minutes, or the count).
-- The metric list is a template variable: the counts come from one pass over the matched
-- tickets (a column per metric, o_: ours, h_: the helpdesk's), the differing tickets from one
-- filter per metric; no ticket x metric rows are built for the tickets that agree.
{%- set metrics = [
    ("first_response_minutes", "calendar_minutes", true),
    ("first_resolution_minutes", "calendar_minutes", true),
    ("full_resolution_minutes", "calendar_minutes", true),
    ("agent_wait_minutes", "calendar_minutes", false),
    ("requester_wait_minutes", "calendar_minutes", false),
    ("on_hold_minutes", "calendar_minutes", false),
    ("first_response_business_minutes", "business_minutes", true),
    ("first_resolution_business_minutes", "business_minutes", true),
    ("full_resolution_business_minutes", "business_minutes", true),
    ("agent_replies", "count", true),
    ("reopens", "count", true),
] -%}
{%- set not_reported = {
    "intercom": ["agent_wait_minutes", "requester_wait_minutes", "on_hold_minutes",
                 "first_response_business_minutes", "first_resolution_business_minutes",
                 "full_resolution_business_minutes", "agent_replies"],
    "freshdesk": ["first_resolution_minutes", "agent_wait_minutes", "requester_wait_minutes",
                  "on_hold_minutes", "first_response_business_minutes",
                  "first_resolution_business_minutes", "full_resolution_business_minutes",
                  "agent_replies", "reopens"],
} -%}
{#- Wait times (false above): ours run to the as-of time; the helpdesk counts completed
    periods only. -#}
{%- macro agrees(name, unit) -%}
((o_{{ name }} IS NULL AND h_{{ name }} IS NULL) OR (o_{{ name }} IS NOT NULL
    AND h_{{ name }} IS NOT NULL AND
    {%- if unit == "count" %} o_{{ name }} = h_{{ name }}
    {%- else %} abs(o_{{ name }} - h_{{ name }}) <= 1{% endif %}))
{%- endmacro %}
-- Not materialized: a plain scan of the table for each reader costs less than a copy.
WITH matched AS NOT MATERIALIZED (
    SELECT * FROM staging.ticket_metric_pairs
),

metrics (metric, unit, definitions_coincide) AS (
    VALUES
{%- for name, unit, coincide in metrics %}
        ('{{ name }}', '{{ unit }}', {{ "true" if coincide else "false" }})
        {{- "," if not loop.last }}
{%- endfor %}
),

-- One pass: per source, how many tickets agree on each metric, and the largest difference.
counts AS (
    SELECT
        source,
        count(*) AS tickets_compared,
{%- for name, unit, coincide in metrics %}
        count(*) FILTER (WHERE {{ agrees(name, unit) }}) AS agree_{{ name }},
        max(abs(o_{{ name }} - h_{{ name }})) AS max_{{ name }}
        {{- "," if not loop.last }}
{%- endfor %}
    FROM matched
    GROUP BY source
),

agreement AS (
    SELECT
        c.source,
        m.metric,
        m.unit,
        m.definitions_coincide,
        c.tickets_compared,
        CASE m.metric
{%- for name, unit, coincide in metrics %}
            WHEN '{{ name }}' THEN c.agree_{{ name }}
{%- endfor %}
        END AS tickets_agree,
        CASE m.metric
{%- for name, unit, coincide in metrics %}
            WHEN '{{ name }}' THEN c.max_{{ name }}
{%- endfor %}
        END AS max_abs_difference
    FROM counts AS c
    CROSS JOIN metrics AS m
    WHERE NOT (
{%- for source, names in not_reported.items() %}
        (c.source = '{{ source }}' AND m.metric IN ('{{ names | join("', '") }}'))
        {{- " OR" if not loop.last }}
{%- endfor %}
    )
),

differing AS (
{%- for name, unit, coincide in metrics %}
    SELECT source, '{{ name }}' AS metric, ticket_id, abs(o_{{ name }} - h_{{ name }})
        AS abs_difference
    FROM matched
    WHERE NOT {{ agrees(name, unit) }}
    {%- if not loop.last %}

    UNION ALL
{% endif %}
{%- endfor %}
),

-- The 5 worst per metric without sorting every differing ticket by (difference, id), which
-- is slow on millions of rows: the 5 one-sided NULLs with the lowest ids, and the tickets
-- whose difference reaches the 5th largest difference (ties included), each found with a
-- single sort key; then the final order among those few candidates only.
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
)

SELECT
    a.source,
    a.metric,
    a.unit,
    a.definitions_coincide,
    a.tickets_compared,
    a.tickets_agree,
    a.tickets_compared - a.tickets_agree AS tickets_differ,
    CAST(a.tickets_agree AS double precision) / a.tickets_compared AS agreement_rate,
    w.worst_ticket_ids,
    a.max_abs_difference
FROM agreement AS a
LEFT JOIN worst_tickets AS w
    ON w.source = a.source AND w.metric = a.metric

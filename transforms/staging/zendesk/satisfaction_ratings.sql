-- Satisfaction ratings (CSAT). `score_fraction`: good = 1, bad = 0; NULL when the survey was
-- offered but not answered (unrated). Grain: (source, rating_id).
SELECT
    'zendesk' AS source,
    CAST(id AS text) AS rating_id,
    CAST(ticket_id AS text) AS ticket_id,
    created_at,
    updated_at,
    score AS score_label,
    CASE score
        WHEN 'good' THEN CAST(1 AS double precision)
        WHEN 'bad' THEN CAST(0 AS double precision)
    END AS score_fraction,
    CAST(assignee_id AS text) AS agent_id
FROM raw_zendesk.satisfaction_ratings
WHERE {{ raw_ticket_scope('zendesk', 'ticket_id', 'bigint') }}

-- Freshdesk satisfaction survey results (CSAT): the answer to the survey's default question
-- (`rating`). Freshdesk's answers run from -103 (extremely unhappy) to 103 (extremely
-- happy); a survey accepts 2, 3, 5 or 7 of them (raw_freshdesk.survey_scale, worst first).
-- `score_fraction` = (position - 1) / (points - 1) on the rating's own survey scale
-- (METRICS.md: (score-1)/(max-1) on a numeric scale), so on a five-point survey the two
-- happiest answers are "good" (>= 0.75). A rating whose survey's scale is not listed is
-- placed on the seven-point scale. Grain: (source, rating_id).
SELECT
    'freshdesk' AS source,
    CAST(r.id AS text) AS rating_id,
    CAST(r.ticket_id AS text) AS ticket_id,
    r.created_at,
    r.updated_at,
    CAST(r.rating AS text) AS score_label,
    CASE
        WHEN scale.points > 1
            THEN CAST(scale.position - 1 AS double precision) / (scale.points - 1)
        ELSE CAST(seven.position - 1 AS double precision) / 6
    END AS score_fraction,
    CAST(r.agent_id AS text) AS agent_id
FROM raw_freshdesk.satisfaction_ratings AS r
LEFT JOIN raw_freshdesk.survey_scale AS scale
    ON scale.survey_id = r.survey_id AND scale.rating = r.rating
LEFT JOIN (VALUES (-103, 1), (-102, 2), (-101, 3), (100, 4), (101, 5), (102, 6), (103, 7))
    AS seven (rating, position)
    ON seven.rating = r.rating
WHERE {{ raw_ticket_scope('freshdesk', 'r.ticket_id', 'bigint') }}

-- Intercom conversation ratings (CSAT): one per rated conversation, 1-5 stars;
-- `score_fraction` = (rating - 1) / 4, so 4 and 5 stars are the "good" ones (>= 0.75, as
-- METRICS.md counts CSAT). The rating's id is its conversation's. Grain: (source, rating_id).
SELECT
    'intercom' AS source,
    CAST(id AS text) AS rating_id,
    CAST(id AS text) AS ticket_id,
    rating_created_at AS created_at,
    rating_created_at AS updated_at,
    CAST(rating AS text) AS score_label,
    (CAST(rating AS double precision) - 1) / 4 AS score_fraction,
    CAST(rating_teammate_id AS text) AS agent_id
FROM raw_intercom.conversations
WHERE rating IS NOT NULL AND {{ raw_ticket_scope('intercom', 'id', 'text') }}

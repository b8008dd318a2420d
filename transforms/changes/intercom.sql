-- Intercom conversations with a row landed by a load window recorded after :since: the change
-- log of the incremental builds (transforms/incremental.py). One row per conversation
-- (source, ticket_id) with the newest `loaded_at` of those windows. A window lands every
-- conversation updated since its start, its end or later (pipelines.resources
-- .IntercomResource), with its parts; every new part and a rating move `updated_at`, so the
-- conversations alone say which tickets changed.
WITH windows AS (
    SELECT window_start, loaded_at
    FROM raw_intercom._load_windows
    WHERE loaded_at > :since
)

SELECT 'intercom' AS source, CAST(c.id AS text) AS ticket_id, max(w.loaded_at) AS loaded_at
FROM raw_intercom.conversations AS c
INNER JOIN windows AS w
    ON c.updated_at >= w.window_start
WHERE c.id IS NOT NULL
GROUP BY c.id

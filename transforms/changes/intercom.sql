-- Intercom conversations with a row landed by a load window recorded after :since: the change
-- log of the incremental builds (transforms/incremental.py). One row per conversation
-- (source, ticket_id) with the newest `loaded_at` of those windows. A window lands every
-- conversation updated since its start, its end or later (pipelines.resources
-- .IntercomResource), with its parts; every new part and a rating move `updated_at`, so the
-- conversations alone say which tickets changed. The window also reads the contacts of those
-- conversations as they are now (raw_intercom.contacts): a contact moved to another company
-- changes the organisation of its other conversations too, so they are logged with it.
WITH windows AS (
    SELECT window_start, loaded_at
    FROM raw_intercom._load_windows
    WHERE loaded_at > :since
),

changed AS (
    SELECT c.id, c.contact_id, max(w.loaded_at) AS loaded_at
    FROM raw_intercom.conversations AS c
    INNER JOIN windows AS w
        ON c.updated_at >= w.window_start
    WHERE c.id IS NOT NULL
    GROUP BY c.id, c.contact_id
),

contacts_read AS (
    SELECT contact_id, max(loaded_at) AS loaded_at
    FROM changed
    WHERE contact_id IS NOT NULL
    GROUP BY contact_id
),

touched AS (
    SELECT id, loaded_at
    FROM changed
    UNION ALL
    SELECT c.id, r.loaded_at
    FROM raw_intercom.conversations AS c
    INNER JOIN contacts_read AS r
        ON r.contact_id = c.contact_id
)

SELECT 'intercom' AS source, CAST(id AS text) AS ticket_id, max(loaded_at) AS loaded_at
FROM touched
GROUP BY id

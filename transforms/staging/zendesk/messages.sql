-- Messages (comments) on tickets with their author role and public flag (METRICS.md, "Who is
-- who"): `system` for triggers and automations (author -1 or via channel rule), `agent` when
-- the author is an agent or admin in the user list, else `end_user`. Grain: (source, message_id).
--
-- The ticket's description (`is_first_message`, never a reply) is the comment of the audit
-- that created the ticket: the audit with the ticket's `Create` status event. Not merely the
-- earliest landed comment: a ticket created before HISTORY_START_DATE lands without its
-- creation audit, and its earliest landed comment (an agent's reply, say) is no description.
-- An audit holds at most one comment, so the test needs no ordering of a ticket's comments:
-- one hash join with the creation audits (one per ticket) replaces the window that numbered
-- every ticket's comments, and costs less than it did.
WITH comments AS (
    SELECT
        id,
        audit_id,
        ticket_id,
        created_at,
        author_id,
        is_public,
        via_channel
    FROM raw_zendesk.ticket_child_events
    WHERE event_type = 'Comment' AND {{ raw_ticket_scope('zendesk', 'ticket_id', 'bigint') }}
),

creation_audits AS (
    SELECT audit_id
    FROM raw_zendesk.ticket_child_events
    WHERE event_type = 'Create' AND field_name = 'status'
      AND {{ raw_ticket_scope('zendesk', 'ticket_id', 'bigint') }}
)

SELECT
    'zendesk' AS source,
    CAST(c.id AS text) AS message_id,
    CAST(c.ticket_id AS text) AS ticket_id,
    c.created_at,
    CAST(c.author_id AS text) AS author_id,
    CASE
        WHEN c.author_id = -1 OR lower(c.via_channel) = 'rule' THEN 'system'
        WHEN u.role = 'agent' THEN 'agent'
        ELSE 'end_user'
    END AS author_role,
    coalesce(c.is_public, false) AS is_public,
    ca.audit_id IS NOT NULL AS is_first_message,
    c.via_channel AS source_channel
FROM comments AS c
LEFT JOIN creation_audits AS ca
    ON ca.audit_id = c.audit_id
-- Zendesk's user ids are integers (staging.users holds them as text): the few users are cast
-- back, so the millions of comments join on their integer author id as landed.
LEFT JOIN (
    SELECT CAST(user_id AS bigint) AS user_key, role
    FROM staging.users
    WHERE source = 'zendesk'
) AS u
    ON u.user_key = c.author_id

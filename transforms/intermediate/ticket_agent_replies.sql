-- Agent replies: public messages written by an agent, other than the ticket's first message.
-- Private notes, system messages (triggers, automations, bots) and the description are never
-- replies (METRICS.md, "Who is who in a conversation").
-- Grain: one row per message (source, message_id).
SELECT
    source,
    message_id,
    ticket_id,
    author_id,
    created_at
FROM staging.messages
WHERE author_role = 'agent'
  AND is_public
  AND NOT is_first_message

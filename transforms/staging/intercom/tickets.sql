-- Intercom conversations as tickets (METRICS.md; docs/intercom-landed-tables.md). Channel from
-- the conversation's source type (Messenger `conversation` is chat); status from Intercom's
-- state: `open` is open, `snoozed` (set aside until a time or a customer reply) is pending,
-- `closed` is solved (a customer reply reopens it; Intercom has no separate closed).
-- Priority: `priority` is high, `not_priority` normal. The group is the assigned team, the
-- requester the conversation's first contact, the submitter the opening message's author.
-- Grain: (source, ticket_id).
SELECT
    'intercom' AS source,
    CAST(id AS text) AS ticket_id,
    created_at,
    updated_at,
    CASE
        WHEN source_type = 'email' THEN 'email'
        WHEN source_type = 'conversation' THEN 'chat'
        WHEN source_type IN ('phone_call', 'phone_switch', 'sms') THEN 'phone'
        WHEN source_type IN ('facebook', 'instagram', 'twitter', 'whatsapp') THEN 'messaging'
        ELSE 'other'
    END AS channel,
    source_type AS source_channel,
    CASE priority WHEN 'priority' THEN 'high' WHEN 'not_priority' THEN 'normal' END AS priority,
    CASE state
        WHEN 'open' THEN 'open'
        WHEN 'snoozed' THEN 'pending'
        WHEN 'closed' THEN 'solved'
    END AS status,
    CAST(NULL AS text) AS ticket_type,
    CAST(team_assignee_id AS text) AS group_id,
    CAST(admin_assignee_id AS text) AS assignee_id,
    CAST(contact_id AS text) AS requester_id,
    CAST(source_author_id AS text) AS submitter_id,
    CAST(NULL AS text) AS organization_id
FROM raw_intercom.conversations
WHERE {{ raw_ticket_scope('intercom', 'id', 'text') }}

-- Intercom conversations as tickets (METRICS.md; docs/intercom-landed-tables.md). Channel from
-- the conversation's source type (Messenger `conversation` is chat); status from Intercom's
-- state: `open` is open, `snoozed` (set aside until a time or a customer reply) is pending,
-- `closed` is solved (a customer reply reopens it; Intercom has no separate closed).
-- Priority: `priority` is high, `not_priority` normal. The group is the assigned team, the
-- requester the conversation's first contact, the submitter the opening message's author.
-- The organisation is the requester's company when Intercom lists exactly one for the
-- contact (raw_intercom.contacts, read with its conversations; its ids are Intercom's hex
-- ids, landed as compact JSON); a contact in several companies, in none, or never landed
-- leaves it NULL (Intercom has no primary company).
-- Grain: (source, ticket_id).
SELECT
    'intercom' AS source,
    CAST(c.id AS text) AS ticket_id,
    c.created_at,
    c.updated_at,
    CASE
        WHEN c.source_type = 'email' THEN 'email'
        WHEN c.source_type = 'conversation' THEN 'chat'
        WHEN c.source_type IN ('phone_call', 'phone_switch', 'sms') THEN 'phone'
        WHEN c.source_type IN ('facebook', 'instagram', 'twitter', 'whatsapp') THEN 'messaging'
        ELSE 'other'
    END AS channel,
    c.source_type AS source_channel,
    CASE c.priority WHEN 'priority' THEN 'high' WHEN 'not_priority' THEN 'normal' END AS priority,
    CASE c.state
        WHEN 'open' THEN 'open'
        WHEN 'snoozed' THEN 'pending'
        WHEN 'closed' THEN 'solved'
    END AS status,
    CAST(NULL AS text) AS ticket_type,
    CAST(c.team_assignee_id AS text) AS group_id,
    CAST(c.admin_assignee_id AS text) AS assignee_id,
    CAST(c.contact_id AS text) AS requester_id,
    CAST(c.source_author_id AS text) AS submitter_id,
    CASE
        WHEN p.company_count = 1 THEN nullif(trim(BOTH '[]"' FROM p.company_ids), '')
    END AS organization_id
FROM raw_intercom.conversations AS c
LEFT JOIN raw_intercom.contacts AS p
    ON p.id = c.contact_id
WHERE {{ raw_ticket_scope('intercom', 'c.id', 'text') }}

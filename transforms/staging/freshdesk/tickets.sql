-- Freshdesk tickets (METRICS.md; docs/freshdesk-landed-tables.md). Channel from the ticket's
-- source (1 Email, 2 Portal, 3 Phone, 7 Chat, 9 Feedback Widget, 10 Outbound Email, ...).
-- Status from Freshdesk's status id: 2 Open, 3 Pending, 4 Resolved, 5 Closed; a custom
-- status (6 and up, named in raw_freshdesk.ticket_statuses) is `pending` when the customer
-- sees it as "Awaiting your Reply" (Freshdesk's own "Waiting on Customer"), else `hold`
-- (waiting on someone else, as "Waiting on Third Party"). A deleted ticket, and a ticket
-- marked as spam, is `deleted` (left out of every count, METRICS.md). Priority: 1 Low,
-- 2 Medium, 3 High, 4 Urgent. Grain: (source, ticket_id).
{% from "staging/freshdesk/macros.jinja" import freshdesk_channel, freshdesk_status -%}
SELECT
    'freshdesk' AS source,
    CAST(t.id AS text) AS ticket_id,
    t.created_at,
    t.updated_at,
    {{ freshdesk_channel('t.source') }} AS channel,
    CAST(t.source AS text) AS source_channel,
    CASE t.priority WHEN 1 THEN 'low' WHEN 2 THEN 'normal' WHEN 3 THEN 'high'
        WHEN 4 THEN 'urgent' END AS priority,
    CASE
        WHEN coalesce(t.deleted, false) OR coalesce(t.spam, false) THEN 'deleted'
        ELSE {{ freshdesk_status('t.status', 's.customer_label') }}
    END AS status,
    t.type AS ticket_type,
    CAST(t.group_id AS text) AS group_id,
    CAST(t.responder_id AS text) AS assignee_id,
    CAST(t.requester_id AS text) AS requester_id,
    CAST(t.requester_id AS text) AS submitter_id,
    CAST(t.company_id AS text) AS organization_id
FROM raw_freshdesk.tickets AS t
LEFT JOIN raw_freshdesk.ticket_statuses AS s
    ON s.id = t.status
WHERE {{ raw_ticket_scope('freshdesk', 't.id', 'bigint') }}

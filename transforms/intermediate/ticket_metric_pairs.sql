-- Each ticket's metrics beside the helpdesk's own for the same ticket (Zendesk's Ticket
-- Metrics), for the tickets both know that are not deleted: what marts.metric_reconciliation
-- compares. o_<metric>: ours (marts.ticket_metrics), h_<metric>: the helpdesk's
-- (staging.helpdesk_ticket_metrics), as double precision. Kept as a table so the nightly
-- build matches the changed tickets only, not a million tickets with a million.
-- Grain: one row per ticket (source, ticket_id).
SELECT
    ours.source,
    ours.ticket_id,
    CAST(ours.first_response_minutes AS double precision) AS o_first_response_minutes,
    CAST(helpdesk.first_response_minutes AS double precision) AS h_first_response_minutes,
    CAST(ours.first_resolution_minutes AS double precision) AS o_first_resolution_minutes,
    CAST(helpdesk.first_resolution_minutes AS double precision) AS h_first_resolution_minutes,
    CAST(ours.full_resolution_minutes AS double precision) AS o_full_resolution_minutes,
    CAST(helpdesk.full_resolution_minutes AS double precision) AS h_full_resolution_minutes,
    CAST(ours.agent_wait_minutes AS double precision) AS o_agent_wait_minutes,
    CAST(helpdesk.agent_wait_minutes AS double precision) AS h_agent_wait_minutes,
    CAST(ours.requester_wait_minutes AS double precision) AS o_requester_wait_minutes,
    CAST(helpdesk.requester_wait_minutes AS double precision) AS h_requester_wait_minutes,
    CAST(ours.on_hold_minutes AS double precision) AS o_on_hold_minutes,
    CAST(helpdesk.on_hold_minutes AS double precision) AS h_on_hold_minutes,
    CAST(ours.first_response_business_minutes AS double precision)
        AS o_first_response_business_minutes,
    CAST(helpdesk.first_response_business_minutes AS double precision)
        AS h_first_response_business_minutes,
    CAST(ours.first_resolution_business_minutes AS double precision)
        AS o_first_resolution_business_minutes,
    CAST(helpdesk.first_resolution_business_minutes AS double precision)
        AS h_first_resolution_business_minutes,
    CAST(ours.full_resolution_business_minutes AS double precision)
        AS o_full_resolution_business_minutes,
    CAST(helpdesk.full_resolution_business_minutes AS double precision)
        AS h_full_resolution_business_minutes,
    CAST(ours.agent_replies AS double precision) AS o_agent_replies,
    CAST(helpdesk.agent_replies AS double precision) AS h_agent_replies,
    CAST(ours.reopens AS double precision) AS o_reopens,
    CAST(helpdesk.reopens AS double precision) AS h_reopens
FROM marts.ticket_metrics AS ours
INNER JOIN staging.helpdesk_ticket_metrics AS helpdesk
    ON helpdesk.source = ours.source AND helpdesk.ticket_id = ours.ticket_id
WHERE ours.status <> 'deleted'
  AND {{ ticket_scope('ours.source', 'ours.ticket_id') }}
  AND {{ ticket_scope('helpdesk.source', 'helpdesk.ticket_id') }}

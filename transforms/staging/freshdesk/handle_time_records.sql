-- Freshdesk handle-time records (METRICS.md, AHT: "for email tickets, time-tracking entries
-- when the helpdesk has them"): one per ticket and agent who logged time on it, a handled
-- contact: the seconds of the agent's time entries on the ticket, on the local day of the
-- first of them (`executed_at`: when the work counts), in the ticket's channel. A timer still
-- running counts once stopped (it lands again then); talk, hold and wrap-up are a call's and
-- stay NULL. A time entry whose ticket has not landed waits for it. updated_at: the latest
-- entry's update, which decides the window it lands in (a timer stopped, or an entry logged
-- and dated back, later). Grain: (source, record_id).
{% from "staging/freshdesk/macros.jinja" import freshdesk_channel -%}
SELECT
    'freshdesk' AS source,
    'time-' || CAST(e.ticket_id AS text) || '-' || CAST(e.agent_id AS text) AS record_id,
    CAST(e.ticket_id AS text) AS ticket_id,
    CAST(e.agent_id AS text) AS agent_id,
    {{ freshdesk_channel('t.source') }} AS channel,
    min(e.executed_at) AS started_at,
    CAST(NULL AS bigint) AS talk_seconds,
    CAST(NULL AS bigint) AS hold_seconds,
    CAST(NULL AS bigint) AS wrap_up_seconds,
    sum(e.time_spent_seconds) AS handle_seconds,
    max(e.updated_at) AS updated_at
FROM raw_freshdesk.time_entries AS e
INNER JOIN raw_freshdesk.tickets AS t
    ON t.id = e.ticket_id
WHERE NOT coalesce(e.timer_running, false) AND e.agent_id IS NOT NULL
GROUP BY e.ticket_id, e.agent_id, t.source
HAVING sum(e.time_spent_seconds) > 0

-- Freshdesk handle-time records (METRICS.md, AHT: "for email tickets, time-tracking entries
-- when the helpdesk has them"): one handled contact per ticket, agent and local day of work:
-- the seconds of the time entries the agent logged on the ticket for that day (`executed_at`,
-- in the reporting time zone), in the ticket's channel; started_at is the day's first entry.
-- A day, not the whole ticket: an agent working a ticket on three days handled three
-- contacts, and time logged later never moves an earlier day's figure. A timer still running
-- counts once stopped (it lands again then); talk, hold and wrap-up are a call's and stay
-- NULL. A time entry whose ticket has not landed waits for it. updated_at: the latest
-- entry's update, which decides the window it lands in (a timer stopped, or an entry logged
-- and dated back, later). Grain: (source, record_id).
{% from "staging/freshdesk/macros.jinja" import freshdesk_channel -%}
WITH entries AS (
    SELECT
        ticket_id,
        agent_id,
        executed_at,
        updated_at,
        time_spent_seconds,
        CAST(executed_at AT TIME ZONE :reporting_timezone AS date) AS work_day
    FROM raw_freshdesk.time_entries
    WHERE NOT coalesce(timer_running, false) AND agent_id IS NOT NULL
)

SELECT
    'freshdesk' AS source,
    'time-' || CAST(e.ticket_id AS text) || '-' || CAST(e.agent_id AS text) || '-'
        || CAST(e.work_day AS text) AS record_id,
    CAST(e.ticket_id AS text) AS ticket_id,
    CAST(e.agent_id AS text) AS agent_id,
    {{ freshdesk_channel('t.source') }} AS channel,
    min(e.executed_at) AS started_at,
    CAST(NULL AS bigint) AS talk_seconds,
    CAST(NULL AS bigint) AS hold_seconds,
    CAST(NULL AS bigint) AS wrap_up_seconds,
    sum(e.time_spent_seconds) AS handle_seconds,
    max(e.updated_at) AS updated_at
FROM entries AS e
INNER JOIN raw_freshdesk.tickets AS t
    ON t.id = e.ticket_id
GROUP BY e.ticket_id, e.agent_id, e.work_day, t.source
HAVING sum(e.time_spent_seconds) > 0

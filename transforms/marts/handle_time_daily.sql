-- Agent handle time per day (METRICS.md, marts.handle_time_daily): each handle-time record
-- is one handled contact, on the local day the contact started (contacts on deleted tickets
-- left out); aht_seconds = handle_seconds / handled_contacts (NULL when nothing was handled).
-- Grain: (date, source, channel, agent_id), one row per key even when the count is zero.
-- A partition recomputes its own days (:range_start <= date < :range_end), from an earlier
-- day when its window landed a contact that started then (Model.changed_before_sql). A contact belongs
-- to the day of its local start date (the same boundaries as staging.reporting_days), an
-- equality join rather than a range join over days x contacts.
WITH days AS (
    SELECT date, day_start, day_end
    FROM staging.reporting_days
    WHERE date >= :range_start AND date < :range_end
),

agents AS (
    SELECT DISTINCT source, channel, agent_id
    FROM staging.handle_time_records
),

-- Deleted tickets are left out of every daily figure (METRICS.md), their contacts too; a
-- contact with no ticket stays.
deleted_tickets AS (
    SELECT source, ticket_id
    FROM staging.tickets
    WHERE status = 'deleted'
),

handled AS (
    SELECT
        d.date,
        r.source,
        r.channel,
        r.agent_id,
        count(*) AS handled_contacts,
        sum(r.handle_seconds) AS handle_seconds
    FROM staging.handle_time_records AS r
    INNER JOIN days AS d
        ON d.date = CAST(r.started_at AT TIME ZONE :reporting_timezone AS date)
    WHERE NOT EXISTS (
        SELECT 1
        FROM deleted_tickets AS t
        WHERE t.source = r.source AND t.ticket_id = r.ticket_id
    )
    GROUP BY d.date, r.source, r.channel, r.agent_id
)

SELECT
    d.date,
    a.source,
    a.channel,
    a.agent_id,
    coalesce(h.handled_contacts, 0) AS handled_contacts,
    coalesce(h.handle_seconds, 0) AS handle_seconds,
    CAST(h.handle_seconds AS double precision) / h.handled_contacts AS aht_seconds
FROM days AS d
CROSS JOIN agents AS a
LEFT JOIN handled AS h
    ON h.date = d.date AND h.source = a.source AND h.channel = a.channel
    AND h.agent_id = a.agent_id

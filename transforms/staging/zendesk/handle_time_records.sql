-- Handle-time records: one per handled contact (METRICS.md, AHT). Zendesk Talk calls: talk +
-- hold + wrap-up seconds, on the day the call started; a call no agent talked on (abandoned,
-- voicemail) is not a handled contact. updated_at: the record's last update (a call's comes
-- after its wrap-up), which decides the extract window it lands in. Grain: (source, record_id).
SELECT
    'zendesk' AS source,
    'call-' || CAST(id AS text) AS record_id,
    CAST(ticket_id AS text) AS ticket_id,
    CAST(agent_id AS text) AS agent_id,
    'phone' AS channel,
    created_at AS started_at,
    coalesce(talk_time, 0) AS talk_seconds,
    coalesce(hold_time, 0) AS hold_seconds,
    coalesce(wrap_up_time, 0) AS wrap_up_seconds,
    coalesce(talk_time, 0) + coalesce(hold_time, 0) + coalesce(wrap_up_time, 0) AS handle_seconds,
    updated_at
FROM raw_zendesk.calls
WHERE agent_id IS NOT NULL
  AND coalesce(talk_time, 0) > 0

-- staging.handle_time_records with no rows, because no configured source feeds it (e.g. a CRM without a
-- helpdesk). The columns are the canonical ones every source's handle_time_records.sql returns.
SELECT
    CAST(NULL AS text) AS source,
    CAST(NULL AS text) AS record_id,
    CAST(NULL AS text) AS ticket_id,
    CAST(NULL AS text) AS agent_id,
    CAST(NULL AS text) AS channel,
    CAST(NULL AS timestamptz) AS started_at,
    CAST(NULL AS bigint) AS talk_seconds,
    CAST(NULL AS bigint) AS hold_seconds,
    CAST(NULL AS bigint) AS wrap_up_seconds,
    CAST(NULL AS bigint) AS handle_seconds,
    CAST(NULL AS timestamptz) AS updated_at
WHERE false

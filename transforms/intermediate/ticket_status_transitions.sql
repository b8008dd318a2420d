-- Every status change with what it means for the metrics (METRICS.md, "Ticket status"):
-- `is_resolution` when the ticket enters solved, or closed without passing through solved
-- (solved -> closed is not a second resolution); `is_reopen` when it leaves solved for an
-- unsolved status. Grain: (source, status_change_id).
SELECT
    source,
    status_change_id,
    ticket_id,
    changed_at,
    from_status,
    to_status,
    (to_status = 'solved' AND coalesce(from_status, '') <> 'solved')
        OR (to_status = 'closed' AND coalesce(from_status, '') NOT IN ('solved', 'closed'))
        AS is_resolution,
    coalesce(from_status = 'solved' AND to_status IN ('new', 'open', 'pending', 'hold'), false)
        AS is_reopen
FROM staging.status_changes

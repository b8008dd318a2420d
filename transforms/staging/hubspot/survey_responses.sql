-- Survey responses (NPS, CSAT, CES) from HubSpot feedback submissions, archived ones kept
-- and flagged (is_deleted: they stop counting downstream, and the night that lands an
-- archiving recomputes the response's day). survey_type: nps, csat, ces or custom
-- (HubSpot's hs_survey_type lower-cased; anything else is custom). score: the answer
-- (hs_value) on the survey's scale, from scale_min to scale_max, higher always better (NPS
-- 0-10; CSAT HubSpot's three faces, 0 unhappy, 1 neutral, 2 happy; CES 1 very difficult to
-- 7 very easy; NULL for a custom survey). response_group: HubSpot's own grouping of the
-- answer (promoter, passive, detractor), which decides a CSAT response's satisfaction
-- whatever scale the survey uses. submitted_at: when the contact answered
-- (hs_submission_timestamp, else the record's creation); updated_at: its last change, an
-- archiving included. account_id: the responding contact's primary company (NULL when
-- unknown: no company, or no contacts scope).
-- Grain: (source, response_id).
SELECT
    source,
    response_id,
    survey_id,
    survey_name,
    survey_type,
    channel,
    submitted_at,
    updated_at,
    score,
    CASE survey_type WHEN 'nps' THEN 0 WHEN 'csat' THEN 0 WHEN 'ces' THEN 1 END AS scale_min,
    CASE survey_type WHEN 'nps' THEN 10 WHEN 'csat' THEN 2 WHEN 'ces' THEN 7 END AS scale_max,
    response_group,
    contact_id,
    account_id,
    is_deleted
FROM (
    SELECT
        'hubspot' AS source,
        CAST(id AS text) AS response_id,
        coalesce(nullif(trim(hs_survey_id), ''), 'unknown') AS survey_id,
        hs_survey_name AS survey_name,
        CASE upper(trim(hs_survey_type))
            WHEN 'NPS' THEN 'nps'
            WHEN 'CSAT' THEN 'csat'
            WHEN 'CES' THEN 'ces'
            ELSE 'custom'
        END AS survey_type,
        lower(nullif(trim(hs_survey_channel), '')) AS channel,
        coalesce(hs_submission_timestamp, created_at) AS submitted_at,
        changed_at AS updated_at,
        CAST(hs_value AS double precision) AS score,
        lower(nullif(trim(hs_response_group), '')) AS response_group,
        hs_contact_id AS contact_id,
        CAST(company_id AS text) AS account_id,
        coalesce(archived, false) AS is_deleted
    FROM raw_hubspot.feedback_submissions
) AS submissions

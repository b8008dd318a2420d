-- staging.survey_responses with no rows, because no configured source lands survey
-- responses (only HubSpot does). The columns are the canonical ones.
SELECT
    CAST(NULL AS text) AS source,
    CAST(NULL AS text) AS response_id,
    CAST(NULL AS text) AS survey_id,
    CAST(NULL AS text) AS survey_name,
    CAST(NULL AS text) AS survey_type,
    CAST(NULL AS text) AS channel,
    CAST(NULL AS timestamptz) AS submitted_at,
    CAST(NULL AS timestamptz) AS updated_at,
    CAST(NULL AS double precision) AS score,
    CAST(NULL AS integer) AS scale_min,
    CAST(NULL AS integer) AS scale_max,
    CAST(NULL AS text) AS response_group,
    CAST(NULL AS text) AS contact_id,
    CAST(NULL AS text) AS account_id,
    CAST(NULL AS boolean) AS is_deleted
WHERE false

-- Survey scores per day (METRICS.md "beyond the minimum", marts.survey_scores_daily): per
-- local day, source and survey, the responses received that day and the survey's score.
-- Sources: the CRM's survey responses (staging.survey_responses: HubSpot's NPS, CSAT and CES
-- surveys, on the day submitted, archived ones left out) and the helpdesk's satisfaction
-- ratings (staging.satisfaction_ratings: one CSAT survey per helpdesk, survey_id
-- 'satisfaction_ratings', on the day answered and without deleted tickets' ratings, as
-- marts.support_daily counts them).
-- answered_responses: the responses with an answer the score can use (a number on NPS and
-- CES surveys, a group on CSAT ones). nps = 100 x (promoters - detractors) /
-- answered_responses on NPS surveys (promoters 9-10, passives 7-8, detractors 0-6;
-- -100..100). csat_rate = satisfied_responses / answered_responses on CSAT surveys: a HubSpot
-- response its survey groups as promoter (happy), a helpdesk rating good (or 4-5 of 5).
-- ces_avg = the mean answer on CES surveys, on the survey's scale (scale_min..scale_max;
-- higher_is_better: 7 = very easy on HubSpot's 1-7). promoters / passives / detractors count
-- the responses of each group (HubSpot's own grouping on CSAT and CES surveys; helpdesk
-- ratings have none). Each score is NULL on a day without answers and on surveys of another
-- type. survey_name, survey_type and the scale are the survey's as of the day: those of its
-- latest response submitted by the day's end (before its first response, the first's), so
-- a day's row never changes once the day is loaded, a renamed survey included.
-- Grain: (date, source, survey_id), one row per key even when the count is zero.
-- A partition recomputes its own days (:range_start <= date < :range_end), from an earlier
-- day when its window landed a response submitted then, edited or archived later
-- (Model.changed_before_sql).
WITH days AS (
    SELECT date, day_start, day_end
    FROM staging.reporting_days
    WHERE date >= :range_start AND date < :range_end
),

range_bounds AS (
    SELECT min(day_start) AS starts_at, max(day_end) AS ends_at
    FROM days
),

live_responses AS (
    SELECT *
    FROM staging.survey_responses
    WHERE NOT is_deleted
),

-- The helpdesk's ratings of the range's instants only, their tickets live.
range_ratings AS (
    SELECT
        r.source,
        'satisfaction_ratings' AS survey_id,
        r.updated_at AS received_at,
        r.score_fraction AS score,
        CAST(NULL AS text) AS response_group,
        r.score_fraction >= 0.75 AS satisfied
    FROM staging.satisfaction_ratings AS r
    CROSS JOIN range_bounds AS b
    INNER JOIN staging.tickets AS t
        ON t.source = r.source AND t.ticket_id = r.ticket_id
    WHERE r.score_fraction IS NOT NULL AND t.status <> 'deleted'
      AND r.updated_at >= b.starts_at AND r.updated_at < b.ends_at
),

range_responses AS (
    SELECT
        r.source,
        r.survey_id,
        r.submitted_at AS received_at,
        r.score,
        r.response_group,
        r.response_group = 'promoter' AS satisfied
    FROM live_responses AS r
    CROSS JOIN range_bounds AS b
    WHERE r.submitted_at >= b.starts_at AND r.submitted_at < b.ends_at
    UNION ALL
    SELECT source, survey_id, received_at, score, response_group, satisfied
    FROM range_ratings
),

-- Each CRM survey's name, type and scale from one response to the next (`valid_from` NULL:
-- the first, which also holds before it); and one CSAT survey per helpdesk that has answered
-- ratings, the same on every day.
survey_versions AS (
    SELECT
        source, survey_id, survey_name, survey_type, scale_min, scale_max,
        CASE WHEN version > 1 THEN submitted_at END AS valid_from,
        lead(submitted_at) OVER (
            PARTITION BY source, survey_id ORDER BY submitted_at, response_id
        ) AS valid_until
    FROM (
        SELECT
            *,
            row_number() OVER (
                PARTITION BY source, survey_id ORDER BY submitted_at, response_id
            ) AS version
        FROM live_responses
    ) AS responses
    UNION ALL
    SELECT DISTINCT
        source,
        'satisfaction_ratings' AS survey_id,
        'Satisfaction ratings' AS survey_name,
        'csat' AS survey_type,
        0 AS scale_min,
        1 AS scale_max,
        CAST(NULL AS timestamptz) AS valid_from,
        CAST(NULL AS timestamptz) AS valid_until
    FROM staging.satisfaction_ratings
    WHERE score_fraction IS NOT NULL
),

day_surveys AS (
    SELECT d.date, s.source, s.survey_id, s.survey_name, s.survey_type, s.scale_min,
           s.scale_max
    FROM days AS d
    INNER JOIN survey_versions AS s
        ON (s.valid_from IS NULL OR s.valid_from < d.day_end)
        AND (s.valid_until IS NULL OR s.valid_until >= d.day_end)
),

day_responses AS (
    SELECT
        s.date,
        s.source,
        s.survey_id,
        r.score,
        CASE
            WHEN s.survey_type <> 'nps' THEN r.response_group
            WHEN r.score >= 9 THEN 'promoter'
            WHEN r.score >= 7 THEN 'passive'
            WHEN r.score >= 0 THEN 'detractor'
        END AS response_group,
        CASE WHEN s.survey_type = 'csat' THEN r.satisfied END AS satisfied,
        CASE WHEN s.survey_type = 'csat' THEN r.satisfied IS NOT NULL ELSE r.score IS NOT NULL
        END AS answered
    FROM range_responses AS r
    INNER JOIN day_surveys AS s
        ON s.date = CAST(r.received_at AT TIME ZONE :reporting_timezone AS date)
        AND s.source = r.source AND s.survey_id = r.survey_id
),

scores AS (
    SELECT
        date,
        source,
        survey_id,
        count(*) AS responses,
        count(*) FILTER (WHERE answered) AS answered_responses,
        count(*) FILTER (WHERE response_group = 'promoter') AS promoters,
        count(*) FILTER (WHERE response_group = 'passive') AS passives,
        count(*) FILTER (WHERE response_group = 'detractor') AS detractors,
        count(*) FILTER (WHERE satisfied) AS satisfied_responses,
        avg(score) AS score_avg
    FROM day_responses
    GROUP BY date, source, survey_id
)

SELECT
    s.date,
    s.source,
    s.survey_id,
    s.survey_name,
    s.survey_type,
    coalesce(x.responses, 0) AS responses,
    coalesce(x.answered_responses, 0) AS answered_responses,
    coalesce(x.promoters, 0) AS promoters,
    coalesce(x.passives, 0) AS passives,
    coalesce(x.detractors, 0) AS detractors,
    CASE WHEN s.survey_type = 'nps' THEN
        CAST(100 * (x.promoters - x.detractors) AS double precision)
            / nullif(x.answered_responses, 0)
    END AS nps,
    coalesce(x.satisfied_responses, 0) AS satisfied_responses,
    CASE WHEN s.survey_type = 'csat' THEN
        CAST(x.satisfied_responses AS double precision) / nullif(x.answered_responses, 0)
    END AS csat_rate,
    CASE WHEN s.survey_type = 'ces' THEN CAST(x.score_avg AS double precision) END AS ces_avg,
    s.scale_min,
    s.scale_max,
    CASE WHEN s.scale_min IS NOT NULL THEN true END AS higher_is_better
FROM day_surveys AS s
LEFT JOIN scores AS x
    ON x.date = s.date AND x.source = s.source AND x.survey_id = s.survey_id

-- Account health: per CRM account, its support load and experience over the last 90 days
-- beside its MRR trend, combined into a 0-100 score and a risk band (METRICS.md, "Beyond the
-- minimum", marts.account_health; docs/metrics.md gives the rules with an example).
-- Grain: (source, account_id), every live CRM account, as of the last loaded day.
-- The window is the 90 reporting days ending with the last loaded day. An account's tickets
-- are those of the helpdesk organisations mapped to it (staging.organization_accounts),
-- deleted ones left out. Five components, each 0-100 and NULL without data:
--   csat:           100 x share of the window's answered ratings that are good (>= 0.75);
--   nps:            (NPS + 100) / 2, NPS over the window's answers to the CRM's NPS surveys
--                   by the account's contacts (staging.survey_responses.account_id);
--   responsiveness: 100 at a median first response (tickets created in the window) of
--                   60 minutes or less, 0 at 1,440 (a day) or more, linear between;
--   reopens:        100 x (1 - share of the window's tickets resolved at least once that
--                   were reopened: one reopened and open again counts);
--   revenue:        100 x MRR now / the highest month-end MRR of the months from three
--                   months earlier to now, within 0-100 (contraction and churn in the
--                   window lower it, growth keeps 100); NULL if the account paid in none of
--                   those months.
-- health_score = the weighted mean of the components present (csat 0.3, nps 0.2,
-- responsiveness 0.2, reopens 0.2, revenue 0.3: the weights of the components present are
-- rescaled to sum to 1), rounded to 0.1; risk_band 'churned' (paid in those months,
-- nothing now), else 'healthy' (>= 70), 'watch' (>= 40), 'at_risk' (< 40), 'unknown' (no
-- component).
WITH window_days AS (
    SELECT
        CAST(CAST(day AS timestamp) - INTERVAL '89 days' AS date) AS first_day,
        day AS last_day,
        CAST(date_trunc('month', CAST(day AS timestamp)) AS date) AS this_month,
        CAST(date_trunc('month', CAST(day AS timestamp)) - INTERVAL '3 months' AS date)
            AS earlier_month
    FROM (
        SELECT CAST(
            (CAST(:as_of AS timestamptz) - INTERVAL '1 microsecond') AT TIME ZONE :reporting_timezone
            AS date
        ) AS day
    ) AS last_loaded
),

live_accounts AS (
    SELECT source, account_id, name, segment
    FROM staging.accounts
    WHERE NOT coalesce(is_deleted, false)
),

account_tickets AS (
    SELECT
        oa.crm_source,
        oa.account_id,
        t.source,
        t.ticket_id,
        t.created_at,
        t.first_response_minutes,
        t.first_resolved_at,
        t.reopens
    FROM marts.ticket_metrics AS t
    INNER JOIN staging.organization_accounts AS oa
        ON oa.helpdesk_source = t.source AND oa.organization_id = t.organization_id
    WHERE t.status <> 'deleted'
),

ticket_window AS (
    SELECT
        a.crm_source,
        a.account_id,
        count(*) AS tickets,
        count(a.first_resolved_at) AS resolved_tickets,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY a.first_response_minutes)
            AS frt_median_minutes,
        avg(CASE WHEN a.reopens > 0 THEN 1.0 ELSE 0.0 END)
            FILTER (WHERE a.first_resolved_at IS NOT NULL) AS reopen_rate
    FROM account_tickets AS a
    CROSS JOIN window_days AS w
    WHERE CAST(a.created_at AT TIME ZONE :reporting_timezone AS date)
        BETWEEN w.first_day AND w.last_day
    GROUP BY a.crm_source, a.account_id
),

rating_window AS (
    SELECT
        a.crm_source,
        a.account_id,
        count(*) AS csat_responses,
        avg(CASE WHEN r.score_fraction >= 0.75 THEN 1.0 ELSE 0.0 END) AS csat_rate
    FROM staging.satisfaction_ratings AS r
    INNER JOIN account_tickets AS a
        ON a.source = r.source AND a.ticket_id = r.ticket_id
    CROSS JOIN window_days AS w
    WHERE r.score_fraction IS NOT NULL
      AND CAST(r.updated_at AT TIME ZONE :reporting_timezone AS date)
        BETWEEN w.first_day AND w.last_day
    GROUP BY a.crm_source, a.account_id
),

nps_window AS (
    SELECT
        r.source,
        r.account_id,
        count(*) AS nps_responses,
        CAST(100 * (count(*) FILTER (WHERE r.score >= 9) - count(*) FILTER (WHERE r.score <= 6))
            AS double precision) / count(*) AS nps
    FROM staging.survey_responses AS r
    CROSS JOIN window_days AS w
    WHERE r.survey_type = 'nps' AND NOT r.is_deleted AND r.score IS NOT NULL
      AND r.account_id IS NOT NULL
      AND CAST(r.submitted_at AT TIME ZONE :reporting_timezone AS date)
        BETWEEN w.first_day AND w.last_day
    GROUP BY r.source, r.account_id
),

revenue AS (
    SELECT
        m.source,
        m.account_id,
        sum(CASE WHEN m.month = w.this_month THEN m.mrr ELSE 0 END) AS current_mrr,
        sum(CASE WHEN m.month = w.earlier_month THEN m.mrr ELSE 0 END) AS mrr_three_months_ago,
        max(m.mrr) AS recent_peak_mrr
    FROM marts.account_mrr_monthly AS m
    CROSS JOIN window_days AS w
    WHERE m.month BETWEEN w.earlier_month AND w.this_month
    GROUP BY m.source, m.account_id
),

measured AS (
    SELECT
        a.source,
        a.account_id,
        a.name,
        a.segment,
        w.first_day AS window_start,
        w.last_day AS window_end,
        coalesce(tw.tickets, 0) AS tickets,
        coalesce(tw.resolved_tickets, 0) AS resolved_tickets,
        CAST(tw.frt_median_minutes AS double precision) AS frt_median_minutes,
        CAST(tw.reopen_rate AS double precision) AS reopen_rate,
        coalesce(rw.csat_responses, 0) AS csat_responses,
        CAST(rw.csat_rate AS double precision) AS csat_rate,
        coalesce(nw.nps_responses, 0) AS nps_responses,
        nw.nps,
        CAST(coalesce(rv.current_mrr, 0) AS double precision) AS current_mrr,
        CAST(coalesce(rv.mrr_three_months_ago, 0) AS double precision) AS mrr_three_months_ago,
        CAST(coalesce(rv.recent_peak_mrr, 0) AS double precision) AS recent_peak_mrr
    FROM live_accounts AS a
    CROSS JOIN window_days AS w
    LEFT JOIN ticket_window AS tw
        ON tw.crm_source = a.source AND tw.account_id = a.account_id
    LEFT JOIN rating_window AS rw
        ON rw.crm_source = a.source AND rw.account_id = a.account_id
    LEFT JOIN nps_window AS nw
        ON nw.source = a.source AND nw.account_id = a.account_id
    LEFT JOIN revenue AS rv
        ON rv.source = a.source AND rv.account_id = a.account_id
),

scored AS (
    SELECT
        *,
        100 * csat_rate AS csat_component,
        (nps + 100) / 2 AS nps_component,
        -- (greatest and least skip NULLs: no median, no component)
        CASE WHEN frt_median_minutes IS NOT NULL
            THEN 100 * least(greatest((1440 - frt_median_minutes) / (1440 - 60), 0), 1)
        END AS responsiveness_component,
        100 * (1 - reopen_rate) AS reopens_component,
        -- (a negative contract value must not push the score below 0)
        CASE WHEN recent_peak_mrr > 0
            THEN 100 * least(greatest(current_mrr / recent_peak_mrr, 0), 1)
        END AS revenue_component
    FROM measured
),

weighted AS (
    SELECT
        *,
        coalesce(0.3 * csat_component, 0) + coalesce(0.2 * nps_component, 0)
            + coalesce(0.2 * responsiveness_component, 0)
            + coalesce(0.2 * reopens_component, 0) + coalesce(0.3 * revenue_component, 0)
            AS weighted_sum,
        CASE WHEN csat_component IS NULL THEN 0 ELSE 0.3 END
            + CASE WHEN nps_component IS NULL THEN 0 ELSE 0.2 END
            + CASE WHEN responsiveness_component IS NULL THEN 0 ELSE 0.2 END
            + CASE WHEN reopens_component IS NULL THEN 0 ELSE 0.2 END
            + CASE WHEN revenue_component IS NULL THEN 0 ELSE 0.3 END AS weight
    FROM scored
),

final AS (
    SELECT
        *,
        -- numeric(24, 6): DuckDB's bare numeric keeps 3 decimals, PostgreSQL's all of them
        CASE WHEN weight > 0
            THEN CAST(round(CAST(weighted_sum / weight AS numeric(24, 6)), 1) AS double precision)
        END AS health_score
    FROM weighted
)

SELECT
    source,
    account_id,
    name,
    segment,
    window_start,
    window_end,
    tickets,
    resolved_tickets,
    frt_median_minutes,
    reopen_rate,
    csat_responses,
    csat_rate,
    nps_responses,
    nps,
    current_mrr,
    mrr_three_months_ago,
    recent_peak_mrr,
    CASE WHEN mrr_three_months_ago > 0
        THEN (current_mrr - mrr_three_months_ago) / mrr_three_months_ago
    END AS mrr_change_rate,
    CAST(csat_component AS double precision) AS csat_component,
    CAST(nps_component AS double precision) AS nps_component,
    CAST(responsiveness_component AS double precision) AS responsiveness_component,
    CAST(reopens_component AS double precision) AS reopens_component,
    CAST(revenue_component AS double precision) AS revenue_component,
    health_score,
    CASE
        WHEN recent_peak_mrr > 0 AND current_mrr <= 0 THEN 'churned'
        WHEN health_score >= 70 THEN 'healthy'
        WHEN health_score >= 40 THEN 'watch'
        WHEN health_score IS NOT NULL THEN 'at_risk'
        ELSE 'unknown'
    END AS risk_band
FROM final

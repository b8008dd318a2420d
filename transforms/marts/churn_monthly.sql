-- Logo and revenue churn, retention, GRR and NRR per month and segment (METRICS.md,
-- marts.churn_monthly), from the movements of marts.account_mrr_monthly. Segment `all`
-- adds up every segment. Movement amounts are positive numbers. A rate is NULL when its
-- denominator is 0 (a month nobody started as a paying customer).
-- Grain: (month, segment), every month of the loaded range for every segment.
-- A partition recomputes its months (:range_start <= month < :range_end).
WITH movements AS (
    SELECT month, segment, mrr, previous_mrr, movement
    FROM marts.account_mrr_monthly
    WHERE month >= :range_start AND month < :range_end
    UNION ALL
    SELECT month, 'all' AS segment, mrr, previous_mrr, movement
    FROM marts.account_mrr_monthly
    WHERE month >= :range_start AND month < :range_end
),

spine AS (
    SELECT m.month, s.segment
    FROM (SELECT DISTINCT month FROM movements) AS m
    CROSS JOIN (SELECT DISTINCT segment FROM movements) AS s
),

totals AS (
    SELECT
        month,
        segment,
        count(*) FILTER (WHERE previous_mrr > 0) AS accounts_start,
        count(*) FILTER (WHERE movement = 'new') AS accounts_new,
        count(*) FILTER (WHERE movement = 'reactivation') AS accounts_reactivated,
        count(*) FILTER (WHERE movement = 'churned') AS accounts_churned,
        count(*) FILTER (WHERE mrr > 0) AS accounts_end,
        coalesce(sum(previous_mrr), 0) AS mrr_start,
        coalesce(sum(mrr) FILTER (WHERE movement = 'new'), 0) AS mrr_new,
        coalesce(sum(mrr - previous_mrr) FILTER (WHERE movement = 'expansion'), 0)
            AS mrr_expansion,
        coalesce(sum(previous_mrr - mrr) FILTER (WHERE movement = 'contraction'), 0)
            AS mrr_contraction,
        coalesce(sum(previous_mrr) FILTER (WHERE movement = 'churned'), 0) AS mrr_churned,
        coalesce(sum(mrr) FILTER (WHERE movement = 'reactivation'), 0) AS mrr_reactivation,
        coalesce(sum(mrr), 0) AS mrr_end
    FROM movements
    GROUP BY month, segment
),

filled AS (
    SELECT
        s.month,
        s.segment,
        coalesce(t.accounts_start, 0) AS accounts_start,
        coalesce(t.accounts_new, 0) AS accounts_new,
        coalesce(t.accounts_reactivated, 0) AS accounts_reactivated,
        coalesce(t.accounts_churned, 0) AS accounts_churned,
        coalesce(t.accounts_end, 0) AS accounts_end,
        CAST(CAST(coalesce(t.mrr_start, 0) AS numeric(24, 6)) AS double precision) AS mrr_start,
        CAST(CAST(coalesce(t.mrr_new, 0) AS numeric(24, 6)) AS double precision) AS mrr_new,
        CAST(CAST(coalesce(t.mrr_expansion, 0) AS numeric(24, 6)) AS double precision)
            AS mrr_expansion,
        CAST(CAST(coalesce(t.mrr_contraction, 0) AS numeric(24, 6)) AS double precision)
            AS mrr_contraction,
        CAST(CAST(coalesce(t.mrr_churned, 0) AS numeric(24, 6)) AS double precision)
            AS mrr_churned,
        CAST(CAST(coalesce(t.mrr_reactivation, 0) AS numeric(24, 6)) AS double precision)
            AS mrr_reactivation,
        CAST(CAST(coalesce(t.mrr_end, 0) AS numeric(24, 6)) AS double precision) AS mrr_end
    FROM spine AS s
    LEFT JOIN totals AS t
        ON t.month = s.month AND t.segment = s.segment
)

SELECT
    month,
    segment,
    accounts_start,
    accounts_new,
    accounts_reactivated,
    accounts_churned,
    accounts_end,
    CAST(accounts_churned AS double precision) / nullif(accounts_start, 0) AS logo_churn_rate,
    CAST(accounts_end - accounts_new - accounts_reactivated AS double precision)
        / nullif(accounts_start, 0) AS customer_retention_rate,
    mrr_start,
    mrr_new,
    mrr_expansion,
    mrr_contraction,
    mrr_churned,
    mrr_reactivation,
    mrr_end,
    (mrr_churned + mrr_contraction) / nullif(mrr_start, 0) AS gross_revenue_churn_rate,
    (mrr_start - mrr_contraction - mrr_churned) / nullif(mrr_start, 0) AS grr,
    (mrr_start + mrr_expansion - mrr_contraction - mrr_churned) / nullif(mrr_start, 0) AS nrr
FROM filled

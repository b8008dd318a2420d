-- Monthly recurring revenue per CRM account and its movement (METRICS.md,
-- marts.account_mrr_monthly). An account's MRR for a month is the sum of the monthly values
-- of its contracts active at the end of the month (start date inclusive, start + term
-- exclusive); for the month still in progress, "the end" is the last loaded day.
-- Movement, classified in this order: new (first paid month), churned (previous > 0, now 0),
-- reactivation (now > 0, previous 0, paid in an earlier month), expansion, contraction,
-- retained (equal and > 0), inactive (both 0).
-- Grain: (month, source, account_id), every month from the account's first paid month to the
-- last loaded month. A partition recomputes its months (:range_start <= month < :range_end).
WITH last_loaded_day AS (
    SELECT CAST(
        (CAST(:as_of AS timestamptz) - INTERVAL '1 microsecond') AT TIME ZONE :reporting_timezone
        AS date
    ) AS day
),

contract_bounds AS (
    SELECT min(start_date) AS first_day FROM staging.contracts
),

months AS (
    SELECT CAST(series.month AS date) AS month
    FROM contract_bounds
    CROSS JOIN last_loaded_day
    CROSS JOIN generate_series(
        CAST(date_trunc('month', CAST(contract_bounds.first_day AS timestamp)) AS timestamp),
        CAST(date_trunc('month', CAST(last_loaded_day.day AS timestamp)) AS timestamp),
        INTERVAL '1 month'
    ) AS series (month)
),

month_ends AS (
    SELECT
        m.month,
        least(
            CAST(CAST(m.month AS timestamp) + INTERVAL '1 month' - INTERVAL '1 day' AS date),
            l.day
        ) AS measured_on
    FROM months AS m
    CROSS JOIN last_loaded_day AS l
),

live_accounts AS (
    SELECT source, account_id, segment
    FROM staging.accounts
    WHERE NOT coalesce(is_deleted, false)
),

monthly_revenue AS (
    SELECT e.month, c.source, c.account_id, sum(c.monthly_value) AS mrr
    FROM staging.contracts AS c
    INNER JOIN month_ends AS e
        ON c.start_date <= e.measured_on AND c.end_date > e.measured_on
    GROUP BY e.month, c.source, c.account_id
),

first_paid AS (
    SELECT source, account_id, min(month) AS first_paid_month
    FROM monthly_revenue
    WHERE mrr > 0
    GROUP BY source, account_id
),

account_months AS (
    SELECT m.month, f.source, f.account_id, f.first_paid_month
    FROM first_paid AS f
    INNER JOIN months AS m
        ON m.month >= f.first_paid_month
),

series AS (
    SELECT
        am.month,
        am.source,
        am.account_id,
        am.first_paid_month,
        CAST(CAST(coalesce(r.mrr, 0) AS numeric(24, 6)) AS double precision) AS mrr
    FROM account_months AS am
    LEFT JOIN monthly_revenue AS r
        ON r.month = am.month AND r.source = am.source AND r.account_id = am.account_id
),

with_previous AS (
    SELECT
        s.*,
        coalesce(lag(s.mrr) OVER (
            PARTITION BY s.source, s.account_id ORDER BY s.month
        ), 0) AS previous_mrr
    FROM series AS s
)

SELECT
    w.month,
    w.source,
    w.account_id,
    coalesce(a.segment, 'unknown') AS segment,
    w.mrr,
    w.previous_mrr,
    CASE
        WHEN w.month = w.first_paid_month THEN 'new'
        WHEN w.previous_mrr > 0 AND w.mrr = 0 THEN 'churned'
        WHEN w.mrr > 0 AND w.previous_mrr = 0 THEN 'reactivation'
        WHEN w.mrr > w.previous_mrr THEN 'expansion'
        WHEN w.mrr > 0 AND w.mrr < w.previous_mrr THEN 'contraction'
        WHEN w.mrr = w.previous_mrr AND w.mrr > 0 THEN 'retained'
        ELSE 'inactive'
    END AS movement
FROM with_previous AS w
INNER JOIN live_accounts AS a
    ON a.source = w.source AND a.account_id = w.account_id
WHERE w.month >= :range_start AND w.month < :range_end

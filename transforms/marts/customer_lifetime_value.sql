-- Customer lifetime value per CRM account, as of the last loaded month (METRICS.md,
-- marts.customer_lifetime_value). segment_monthly_churn_rate is the mean logo churn rate of
-- the account's segment over the 6 months ending with the last loaded month (months with a
-- rate), floored at CLV_MIN_CHURN_RATE so zero churn never gives infinite value;
-- expected_lifetime_months = 1 / that monthly rate (monthly and annual rates never mix).
-- predicted_clv = revenue_to_date + (active ? current_mrr x gross_margin x expected lifetime
-- : 0). Grain: (source, account_id).
WITH last_month AS (
    SELECT max(month) AS month FROM marts.account_mrr_monthly
),

history AS (
    SELECT a.*
    FROM marts.account_mrr_monthly AS a
    CROSS JOIN last_month AS l
    WHERE a.month <= l.month
),

accounts AS (
    SELECT
        source,
        account_id,
        min(month) AS first_paid_month,
        count(*) FILTER (WHERE mrr > 0) AS tenure_months,
        sum(mrr) AS revenue_to_date
    FROM history
    GROUP BY source, account_id
),

current_state AS (
    SELECT h.source, h.account_id, h.segment, h.mrr AS current_mrr
    FROM history AS h
    CROSS JOIN last_month AS l
    WHERE h.month = l.month
),

segment_arpa AS (
    SELECT segment, avg(current_mrr) AS segment_arpa
    FROM current_state
    WHERE current_mrr > 0
    GROUP BY segment
),

segment_churn AS (
    SELECT c.segment, avg(c.logo_churn_rate) AS mean_churn_rate
    FROM marts.churn_monthly AS c
    CROSS JOIN last_month AS l
    WHERE c.month > CAST(CAST(l.month AS timestamp) - INTERVAL '6 months' AS date)
      AND c.month <= l.month
    GROUP BY c.segment
),

valued AS (
    SELECT
        a.source,
        a.account_id,
        s.segment,
        a.first_paid_month,
        a.tenure_months,
        s.current_mrr > 0 AS is_active,
        s.current_mrr,
        CAST(CAST(a.revenue_to_date AS numeric(24, 6)) AS double precision) AS revenue_to_date,
        sa.segment_arpa,
        greatest(coalesce(sc.mean_churn_rate, 0), CAST(:clv_min_churn_rate AS double precision))
            AS segment_monthly_churn_rate,
        CAST(:gross_margin AS double precision) AS gross_margin
    FROM accounts AS a
    INNER JOIN current_state AS s
        ON s.source = a.source AND s.account_id = a.account_id
    LEFT JOIN segment_arpa AS sa
        ON sa.segment = s.segment
    LEFT JOIN segment_churn AS sc
        ON sc.segment = s.segment
)

SELECT
    source,
    account_id,
    segment,
    first_paid_month,
    tenure_months,
    is_active,
    current_mrr,
    revenue_to_date,
    segment_arpa,
    segment_monthly_churn_rate,
    gross_margin,
    1 / segment_monthly_churn_rate AS expected_lifetime_months,
    revenue_to_date + CASE
        WHEN is_active THEN current_mrr * gross_margin / segment_monthly_churn_rate
        ELSE 0
    END AS predicted_clv
FROM valued

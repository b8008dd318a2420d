-- Contracts from HubSpot deals (DESIGN.md "Contracts from the CRM"): won deals (`is_won`: the
-- deal's stage is one of HUBSPOT_WON_STAGES, default `closedwon`), not archived, with an
-- associated company and a close date. Grain: (source, contract_id). Active from start_date (the close date, a UTC day)
-- inclusive to end_date = start_date + term_months months exclusive; term_months is
-- `contract_term_months`, 12 when empty or <= 0. monthly_value is `hs_mrr` when set, else
-- amount / term_months (NULL when both are empty). Whether the company itself is archived is
-- staging.accounts.is_deleted.
WITH won AS (
    SELECT
        CAST(id AS text) AS contract_id,
        CAST(company_id AS text) AS account_id,
        CAST(closedate AT TIME ZONE 'UTC' AS date) AS start_date,
        CAST(CASE WHEN contract_term_months > 0 THEN contract_term_months ELSE 12 END
            AS integer) AS term_months,
        CAST(hs_mrr AS double precision) AS hs_mrr,
        CAST(amount AS double precision) AS amount
    FROM raw_hubspot.deals
    WHERE NOT coalesce(archived, false)
        AND coalesce(is_won, false)
        AND company_id IS NOT NULL
        AND closedate IS NOT NULL
)

SELECT
    'hubspot' AS source,
    contract_id,
    account_id,
    start_date,
    term_months,
    CAST(start_date + term_months * INTERVAL '1 month' AS date) AS end_date,
    coalesce(hs_mrr, amount / term_months) AS monthly_value,
    amount
FROM won

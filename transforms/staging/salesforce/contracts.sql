-- Contracts from Salesforce Opportunities (DESIGN.md "Contracts from the CRM"): won
-- (`IsWon`), not deleted, with an Account and a close date. Grain: (source, contract_id).
-- Active from start_date (`CloseDate`) inclusive to end_date = start_date + term_months
-- months exclusive; term_months is `Contract_Term_Months__c`, 12 when empty or <= 0.
-- monthly_value is Amount / term_months (NULL when Amount is empty). Whether the Account
-- itself is deleted is staging.accounts.is_deleted.
WITH won AS (
    SELECT
        CAST(id AS text) AS contract_id,
        CAST(account_id AS text) AS account_id,
        CAST(close_date AS date) AS start_date,
        CAST(CASE WHEN contract_term_months_c > 0 THEN contract_term_months_c ELSE 12 END
            AS integer) AS term_months,
        CAST(amount AS double precision) AS amount
    FROM raw_salesforce.opportunities
    WHERE NOT coalesce(is_deleted, false)
        AND coalesce(is_won, false)
        AND account_id IS NOT NULL
        AND close_date IS NOT NULL
)

SELECT
    'salesforce' AS source,
    contract_id,
    account_id,
    start_date,
    term_months,
    CAST(start_date + term_months * INTERVAL '1 month' AS date) AS end_date,
    amount / term_months AS monthly_value,
    amount
FROM won

-- Contracts (won deals): none, because no CRM source is configured. The columns are the
-- canonical ones every CRM's contracts.sql returns. Grain: (source, contract_id).
SELECT
    CAST(NULL AS text) AS source,
    CAST(NULL AS text) AS contract_id,
    CAST(NULL AS text) AS account_id,
    CAST(NULL AS date) AS start_date,
    CAST(NULL AS integer) AS term_months,
    CAST(NULL AS date) AS end_date,
    CAST(NULL AS double precision) AS monthly_value,
    CAST(NULL AS double precision) AS amount
WHERE false

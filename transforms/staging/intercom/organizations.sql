-- Intercom companies as customer organisations, with what maps them to CRM accounts
-- (staging.organization_accounts): the customer's own id for the company (`company_id`,
-- often the CRM's account id) as external id, and the host of its website (lower-cased,
-- without scheme, user, `www.`, port or path) as its one e-mail domain (JSON text; `[]`
-- without a website, or when what is left is not a plain host name). Grain: (source,
-- organization_id).
WITH companies AS (
    SELECT
        id,
        name,
        company_id,
        created_at,
        updated_at,
        regexp_replace(
            regexp_replace(lower(website),
                           '^[[:space:]]*(([a-z][a-z0-9+.-]*:)?//)?([^@/]*@)?(www\.)?', ''),
            '(?s)[/:?#[:space:]].*$', '') AS host
    FROM raw_intercom.companies
)

SELECT
    'intercom' AS source,
    CAST(id AS text) AS organization_id,
    name,
    CAST(company_id AS text) AS external_id,
    CASE
        WHEN host <> '' AND translate(host, 'abcdefghijklmnopqrstuvwxyz0123456789.-', '') = ''
            THEN '["' || host || '"]'
        ELSE '[]'
    END AS domain_names,
    created_at,
    updated_at,
    CAST(NULL AS timestamptz) AS deleted_at
FROM companies

-- Which CRM account each helpdesk organisation belongs to. Grain: (helpdesk_source,
-- organization_id); an organisation that matches no account has no row.
-- Rule, against non-deleted accounts only (staging.accounts, every configured CRM):
-- 1. matched_by 'external_id': the organisation's external_id (trimmed) equals an account_id;
-- 2. otherwise matched_by 'domain': one of the organisation's domain_names (JSON text array,
--    lower-cased) equals an account's domain, compared as the exact quoted JSON string
--    (`"acme.com"`), so `acme.com` never matches `notacme.com` or `acme.com.au`.
-- If several accounts match at the same step, the lowest account_id wins (then crm_source).
WITH live_accounts AS (
    SELECT source AS crm_source, account_id, domain
    FROM staging.accounts
    WHERE NOT is_deleted
),

candidates AS (
    SELECT
        o.source AS helpdesk_source,
        o.organization_id,
        a.crm_source,
        a.account_id,
        'external_id' AS matched_by,
        1 AS preference
    FROM staging.organizations AS o
    INNER JOIN live_accounts AS a ON a.account_id = trim(o.external_id)

    UNION ALL

    SELECT
        o.source AS helpdesk_source,
        o.organization_id,
        a.crm_source,
        a.account_id,
        'domain' AS matched_by,
        2 AS preference
    FROM staging.organizations AS o
    INNER JOIN live_accounts AS a
        ON a.domain IS NOT NULL
        AND strpos(lower(o.domain_names), '"' || a.domain || '"') > 0
),

ranked AS (
    SELECT
        *,
        row_number() OVER (
            PARTITION BY helpdesk_source, organization_id
            ORDER BY preference, account_id, crm_source
        ) AS choice
    FROM candidates
)

SELECT
    helpdesk_source,
    organization_id,
    crm_source,
    account_id,
    matched_by
FROM ranked
WHERE choice = 1

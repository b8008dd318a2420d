-- CRM accounts from Salesforce Accounts (DESIGN.md "Contracts from the CRM").
-- Grain: (source, account_id), deleted Accounts (recycle bin) included with is_deleted = true
-- (they stop counting downstream). domain: `Website` as typed by users, lower-cased, without
-- scheme, leading `www.`, path or port (`https://www.Acme.com/about` -> `acme.com`; NULL if
-- none). segment: `Industry`, 'unknown' when empty.
SELECT
    'salesforce' AS source,
    CAST(id AS text) AS account_id,
    name,
    nullif(
        regexp_replace(
            regexp_replace(
                regexp_replace(lower(trim(website)), '^[a-z][a-z0-9+.-]*://', ''),
                '^www\.', ''
            ),
            '[/:?#].*$', ''
        ),
        ''
    ) AS domain,
    coalesce(nullif(trim(industry), ''), 'unknown') AS segment,
    created_date AS created_at,
    coalesce(is_deleted, false) AS is_deleted
FROM raw_salesforce.accounts

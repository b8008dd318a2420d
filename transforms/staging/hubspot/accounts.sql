-- CRM accounts from HubSpot companies (DESIGN.md "Contracts from the CRM").
-- Grain: (source, account_id), archived companies included with is_deleted = true (they stop
-- counting downstream). domain: the company's web domain lower-cased, without scheme, leading
-- `www.`, path or port (NULL if none). segment: `industry`, 'unknown' when empty.
SELECT
    'hubspot' AS source,
    CAST(id AS text) AS account_id,
    name,
    nullif(
        regexp_replace(
            regexp_replace(
                regexp_replace(lower(trim(domain)), '^[a-z][a-z0-9+.-]*://', ''),
                '^www\.', ''
            ),
            '[/:?#].*$', ''
        ),
        ''
    ) AS domain,
    coalesce(nullif(trim(industry), ''), 'unknown') AS segment,
    created_at,
    coalesce(archived, false) AS is_deleted
FROM raw_hubspot.companies

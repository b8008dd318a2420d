-- Freshdesk companies as customer organisations, with what maps them to CRM accounts: their
-- e-mail domains (JSON text). Freshdesk companies carry no external id (a custom field may,
-- but custom fields are not landed): they map by domain only
-- (staging.organization_accounts). Grain: (source, organization_id).
SELECT
    'freshdesk' AS source,
    CAST(id AS text) AS organization_id,
    name,
    CAST(NULL AS text) AS external_id,
    CAST(domains AS text) AS domain_names,
    created_at,
    updated_at,
    CAST(NULL AS timestamptz) AS deleted_at
FROM raw_freshdesk.companies

-- Customer organisations of the helpdesk, with what maps them to CRM accounts (name,
-- external id, email domains as JSON text). Grain: (source, organization_id).
SELECT
    'zendesk' AS source,
    CAST(id AS text) AS organization_id,
    name,
    external_id,
    CAST(domain_names AS text) AS domain_names,
    created_at,
    updated_at,
    deleted_at
FROM raw_zendesk.organizations

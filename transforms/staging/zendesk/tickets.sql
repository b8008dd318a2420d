-- Tickets with their current values, channel and status normalised (METRICS.md): channel is
-- one of email, web, chat, phone, messaging, api, other; Zendesk's statuses are already the
-- canonical new/open/pending/hold/solved/closed/deleted. Grain: (source, ticket_id).
SELECT
    'zendesk' AS source,
    CAST(id AS text) AS ticket_id,
    created_at,
    updated_at,
    CASE
        WHEN via_channel = 'email' THEN 'email'
        WHEN via_channel IN ('web', 'web_widget', 'web_service', 'help_center', 'mobile_sdk')
            THEN 'web'
        WHEN via_channel IN ('chat', 'chat_transcript') THEN 'chat'
        WHEN via_channel IN ('voice', 'phone_call_inbound', 'phone_call_outbound', 'voicemail',
                             'sms')
            THEN 'phone'
        WHEN via_channel IN ('native_messaging', 'messaging', 'whatsapp', 'facebook',
                             'twitter', 'instagram_dm', 'line', 'wechat', 'any_channel',
                             'sunshine_conversations_api', 'sunshine_conversations_facebook_messenger',
                             'sunshine_conversations_twitter_dm')
            THEN 'messaging'
        WHEN via_channel = 'api' THEN 'api'
        ELSE 'other'
    END AS channel,
    via_channel AS source_channel,
    priority,
    status,
    type AS ticket_type,
    CAST(group_id AS text) AS group_id,
    CAST(assignee_id AS text) AS assignee_id,
    CAST(requester_id AS text) AS requester_id,
    CAST(submitter_id AS text) AS submitter_id,
    CAST(organization_id AS text) AS organization_id
FROM raw_zendesk.tickets
WHERE {{ raw_ticket_scope('zendesk', 'id', 'bigint') }}

"""JSON shapes of Zendesk objects, built from the world and its derived state.

Field names follow Zendesk's API reference (Tickets, Users, Organizations,
Groups, Schedules, Satisfaction Ratings, Talk incremental calls, and the
incremental ticket-events export). ``base_url`` is the request's own origin so
every ``url`` works against whichever port the sandbox listens on.
"""

from __future__ import annotations

import html
from typing import Any

from sandbox.business_time import iana_zone
from sandbox.metrics import iso
from sandbox.timeline import Audit, TicketState, epoch
from sandbox.world import (
    Call,
    Group,
    Holiday,
    Organization,
    SatisfactionRating,
    Schedule,
    User,
)

#: Human-readable via labels used by the ticket-events export (``via`` is a string there).
VIA_LABELS = {
    "web": "Web form",
    "email": "Mail",
    "api": "Web service",
    "rule": "Rule",
    "voice": "Voice",
    "chat": "Chat",
    "native_messaging": "Native messaging",
    "mobile_sdk": "Mobile SDK",
    "sms": "Text",
}


def via_label(channel: str) -> str:
    """The ticket-events ``via`` string for a ``via.channel`` value."""
    return VIA_LABELS.get(channel, channel.replace("_", " ").capitalize())


def via_object(channel: str, subdomain: str, rule: dict[str, Any] | None = None,
               sender: User | None = None) -> dict[str, Any]:
    """A ``via`` object (``channel`` + ``source``) as tickets and comments carry it."""
    source: dict[str, Any] = {"from": {}, "to": {}, "rel": None}
    if channel == "rule" and rule is not None:
        source = {"to": {}, "from": {"id": rule["id"], "title": rule["title"], "deleted": False},
                  "rel": rule["rel"]}
    elif channel == "email":
        source = {"from": {"address": sender.email if sender else None,
                           "name": sender.name if sender else None},
                  "to": {"address": f"support@{subdomain}.zendesk.com", "name": "Support"},
                  "rel": None}
    elif channel == "voice":
        source = {"from": {"phone": sender.phone if sender else None,
                           "name": sender.name if sender else None},
                  "to": {"phone": "+15555550000", "name": "Support line"}, "rel": "inbound"}
    return {"channel": channel, "source": source}


def ticket_json(state: TicketState, rating: SatisfactionRating | None, generated_ts: int,
                updated_ts: int, requester: User | None, base_url: str,
                subdomain: str) -> dict[str, Any]:
    """A Ticket object as the incremental ticket export returns it."""
    t = state.ticket
    custom = [{"id": k, "value": v} for k, v in sorted(t.custom_fields.items())]
    return {
        "url": f"{base_url}/api/v2/tickets/{t.id}.json",
        "id": t.id,
        "external_id": t.external_id,
        "via": via_object(t.channel, subdomain, sender=requester),
        "created_at": iso(state.created_ts),
        "updated_at": iso(updated_ts),
        "generated_timestamp": generated_ts,
        "type": t.type,
        "subject": t.subject,
        "raw_subject": t.subject,
        "description": state.description,
        "priority": state.priority,
        "status": state.status,
        "recipient": f"support@{subdomain}.zendesk.com" if t.channel == "email" else None,
        "requester_id": t.requester_id,
        "submitter_id": t.submitter_id if t.submitter_id is not None else t.requester_id,
        "assignee_id": state.assignee_id,
        "organization_id": t.organization_id,
        "group_id": state.group_id,
        "collaborator_ids": [],
        "follower_ids": [],
        "email_cc_ids": [],
        "forum_topic_id": None,
        "problem_id": None,
        "has_incidents": False,
        "is_public": state.is_public,
        "due_at": None,
        "tags": list(t.tags),
        "custom_fields": custom,
        "fields": custom,
        "satisfaction_rating": (
            {"id": rating.id, "score": rating.score, "comment": rating.comment}
            if rating is not None else {"score": "unoffered"}),
        "sharing_agreement_ids": [],
        "custom_status_id": None,
        "followup_ids": [],
        "ticket_form_id": t.ticket_form_id,
        "brand_id": t.brand_id,
        "allow_channelback": False,
        "allow_attachments": True,
        "from_messaging_channel": t.channel == "native_messaging",
    }


def audit_json(audit: Audit, include_comments: bool, author: User | None,
               subdomain: str) -> dict[str, Any]:
    """One item of the incremental ticket-events export (an audit with its child events)."""
    label = via_label(audit.via)
    ref = audit.rule["id"] if audit.rule else None
    has_comment = audit.comment is not None
    public = bool(audit.comment and audit.comment.public)
    children: list[dict[str, Any]] = []
    if has_comment and audit.comment is not None:
        if include_comments:
            body = audit.comment.body
            children.append({
                "id": audit.comment_event_id,
                "via": via_object(audit.via, subdomain, rule=audit.rule, sender=author),
                "via_reference_id": ref,
                "type": "Comment",
                "author_id": audit.author_id,
                "body": body,
                "html_body": ('<div class="zd-comment" dir="auto"><p dir="auto">'
                              f"{html.escape(body)}</p></div>"),
                "plain_body": body,
                "public": audit.comment.public,
                "attachments": [],
                "audit_id": audit.id,
                "created_at": iso(audit.timestamp),
                "event_type": "Comment",
            })
        else:
            children.append({"id": audit.comment_event_id, "via": label, "via_reference_id": ref,
                             "comment_present": True, "comment_public": public,
                             "event_type": "Comment"})
    for event in audit.events:
        child: dict[str, Any] = {"id": event.id, "via": label, "via_reference_id": ref,
                                 event.field or "value": event.value}
        if event.field == "tags":
            child["added_tags"] = list(event.value)
            child["removed_tags"] = []
        if event.event_type == "Change":
            child["previous_value"] = event.previous_value
        if not include_comments:
            child["comment_present"] = has_comment
            child["comment_public"] = public
        child["event_type"] = event.event_type
        children.append(child)
    children.sort(key=lambda c: c["id"])
    return {
        "id": audit.id,
        "ticket_id": audit.ticket_id,
        "timestamp": audit.timestamp,
        "created_at": iso(audit.timestamp),
        "updater_id": audit.author_id,
        "via": label,
        "system": {},
        "metadata": {"system": {}, "custom": {}},
        "event_type": "Audit",
        "child_events": children,
    }


def user_json(user: User, base_url: str) -> dict[str, Any]:
    """A User object."""
    try:
        iana = iana_zone(user.time_zone)
    except KeyError:
        iana = None
    created = epoch(user.created_at)
    updated = epoch(user.updated_at) if user.updated_at else created
    return {
        "id": user.id,
        "url": f"{base_url}/api/v2/users/{user.id}.json",
        "name": user.name,
        "email": user.email,
        "created_at": iso(created),
        "updated_at": iso(updated),
        "time_zone": user.time_zone,
        "iana_time_zone": iana,
        "phone": user.phone,
        "shared_phone_number": None,
        "photo": None,
        "locale_id": 1,
        "locale": "en-US",
        "organization_id": user.organization_id,
        "role": user.role,
        "verified": True,
        "external_id": None,
        "tags": [],
        "alias": None,
        "active": user.active,
        "shared": False,
        "shared_agent": False,
        "last_login_at": iso(updated) if user.role != "end-user" else None,
        "two_factor_auth_enabled": None,
        "signature": None,
        "details": "",
        "notes": "",
        "role_type": None if user.role == "end-user" else 0,
        "custom_role_id": None,
        "moderator": user.role != "end-user",
        "ticket_restriction": "requested" if user.role == "end-user" else None,
        "only_private_comments": False,
        "restricted_agent": False,
        "suspended": False,
        "default_group_id": user.default_group_id,
        "report_csv": user.role == "admin",
        "user_fields": {},
    }


def organization_json(org: Organization, base_url: str) -> dict[str, Any]:
    """An Organization object."""
    created = epoch(org.created_at)
    return {
        "url": f"{base_url}/api/v2/organizations/{org.id}.json",
        "id": org.id,
        "name": org.name,
        "shared_tickets": False,
        "shared_comments": False,
        "external_id": org.external_id,
        "created_at": iso(created),
        "updated_at": iso(epoch(org.updated_at) if org.updated_at else created),
        "domain_names": list(org.domain_names),
        "details": "",
        "notes": "",
        "group_id": None,
        "tags": [],
        "organization_fields": {},
    }


def group_json(group: Group, base_url: str) -> dict[str, Any]:
    """A Group object."""
    created = epoch(group.created_at)
    return {
        "url": f"{base_url}/api/v2/groups/{group.id}.json",
        "id": group.id,
        "is_public": True,
        "name": group.name,
        "description": group.description,
        "default": False,
        "deleted": False,
        "created_at": iso(created),
        "updated_at": iso(epoch(group.updated_at) if group.updated_at else created),
    }


def schedule_json(schedule: Schedule) -> dict[str, Any]:
    """A Schedule object (intervals in minutes from Sunday 00:00 local time)."""
    created = epoch(schedule.created_at)
    return {
        "id": schedule.id,
        "name": schedule.name,
        "time_zone": schedule.time_zone,
        "intervals": [{"start_time": s, "end_time": e} for s, e in schedule.intervals],
        "created_at": iso(created),
        "updated_at": iso(epoch(schedule.updated_at) if schedule.updated_at else created),
    }


def holiday_json(holiday: Holiday) -> dict[str, Any]:
    """A Holiday object (whole local days, ``YYYY-MM-DD``)."""
    return {"id": holiday.id, "name": holiday.name,
            "start_date": holiday.start_date.isoformat(),
            "end_date": holiday.end_date.isoformat()}


def call_updated_ts(call: Call) -> int:
    """When a call record was last updated: after the call and its wrap-up."""
    return (epoch(call.created_at) + call.wait_time + call.talk_time + call.hold_time
            + call.consultation_time + call.wrap_up_time)


def call_json(call: Call) -> dict[str, Any]:
    """A Talk call as the incremental calls export returns it (durations in seconds)."""
    created = epoch(call.created_at)
    duration = call.wait_time + call.talk_time + call.hold_time + call.consultation_time
    answered = call.agent_id is not None and call.completion_status == "completed"
    return {
        "id": call.id,
        "agent_id": call.agent_id,
        "call_charge": f"{0.0035 * max(1, -(-duration // 60)):.4f}",
        "call_group_id": None,
        "call_recording_consent": "always",
        "call_recording_consent_action": None,
        "call_recording_consent_keypress": None,
        "callback": False,
        "callback_source": None,
        "completion_status": call.completion_status,
        "consultation_time": call.consultation_time,
        "created_at": iso(created),
        "customer_id": call.customer_id,
        "customer_requested_voicemail": False,
        "default_group": True,
        "direction": call.direction,
        "duration": duration,
        "exceeded_queue_wait_time": False,
        "hold_time": call.hold_time,
        "ivr_action": None,
        "ivr_destination_group_name": None,
        "ivr_hops": None,
        "ivr_routed_to": None,
        "ivr_time_spent": None,
        "minutes_billed": -(-duration // 60),
        "not_recording_time": 0,
        "outside_business_hours": False,
        "overflowed": False,
        "overflowed_to": None,
        "phone_number": call.phone_number,
        "phone_number_id": 1,
        "quality_issues": [],
        "recording_control_interactions": 0,
        "recording_time": call.talk_time if answered else 0,
        "talk_time": call.talk_time,
        "ticket_id": call.ticket_id,
        "time_to_answer": call.wait_time if answered else None,
        "updated_at": iso(call_updated_ts(call)),
        "voicemail": False,
        "wait_time": call.wait_time,
        "wrap_up_time": call.wrap_up_time,
    }


def rating_json(rating: SatisfactionRating, base_url: str) -> dict[str, Any]:
    """A Satisfaction Rating object."""
    return {
        "url": f"{base_url}/api/v2/satisfaction_ratings/{rating.id}.json",
        "id": rating.id,
        "assignee_id": rating.assignee_id,
        "group_id": rating.group_id,
        "requester_id": rating.requester_id,
        "ticket_id": rating.ticket_id,
        "score": rating.score,
        "comment": rating.comment,
        "reason": None,
        "reason_code": None,
        "reason_id": None,
        "created_at": iso(epoch(rating.created_at)),
        "updated_at": iso(epoch(rating.updated_at)),
    }

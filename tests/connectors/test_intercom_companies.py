"""Intercom's `companies` (the scroll) and `contacts` (of the window's conversations), against
the sandbox over real HTTP, into a temporary DuckDB."""

from __future__ import annotations

import copy
import json
import logging
import time
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
import requests

from connectors.intercom import settings
from sandbox import Sandbox, World
from tests.connectors import test_intercom
from tests.connectors.landing import api_error_in, columns, counts, new_pipeline, quarantined, query
from tests.connectors.test_intercom import (
    DATASET,
    FIRST_DAY,
    QUICK_RETRY,
    source_for,
    updated_in,
)

#: Requests a retried answer takes before the client gives up.
QUICK_ATTEMPTS = QUICK_RETRY.max_attempts


# The workspace of tests/connectors/test_intercom.py (40 conversations over six days, 20
# contacts, most in several conversations, 5 companies) and its sandbox: the same fixtures.
world, sandbox = test_intercom.world, test_intercom.sandbox


def scroll_pages_of(sb: Sandbox) -> Any:
    """The connector's companies scroll against `sb` (quick retries)."""
    from connectors.intercom.helpers import build_client, scroll_pages

    return scroll_pages(build_client(sb.credentials["intercom_access_token"], sb.url,
                                     QUICK_RETRY))


def scroll_requests(sb: Sandbox) -> list[Any]:
    """The sandbox's recorded `GET /companies/scroll` requests, in order."""
    return [r for r in sb.requests if r.path == settings.COMPANIES_SCROLL_PATH]


def contact_requests(sb: Sandbox) -> Counter[str]:
    """How often each contact was requested."""
    return Counter(r.path.rsplit("/", 1)[1] for r in sb.requests
                   if r.method == "GET" and r.path.startswith("/contacts/"))


def contacts_of(world: World, conversation_ids: set[str] | None = None) -> dict[str, Any]:
    """The contacts of the world's conversations (those of `conversation_ids` if given)."""
    return {c.contact.id: c.contact for c in world.intercom_conversations
            if conversation_ids is None or str(c.id) in conversation_ids}


def contact_of(sb: Sandbox, contact_id: str) -> dict[str, Any]:
    """A contact as `GET /contacts/{id}` answers it (for faults built on it)."""
    answer = requests.get(
        f"{sb.url}/contacts/{contact_id}", timeout=10,
        headers={"Authorization": f"Bearer {sb.credentials['intercom_access_token']}"})
    answer.raise_for_status()
    return answer.json()


def many_companies(world: World, extra: int = 120) -> World:
    """`world` with `extra` more companies (several scroll pages), typed values included."""
    grown = copy.deepcopy(world)
    template = grown.intercom_companies[0]
    grown.intercom_companies += [
        replace(template, id=f"6652{k:020x}", company_id=f"extra-{k}", name=f"Extra {k}",
                monthly_spend=float(k), size=k % 7 or None, industry="Retail",
                plan="Pro" if k % 2 else None)
        for k in range(extra)
    ]
    return grown


# --- companies ------------------------------------------------------------------------------


def test_companies_land_whole_with_their_columns(world, tmp_path):
    grown = many_companies(world)
    with Sandbox(grown, port=0) as sb:
        pipeline = new_pipeline(tmp_path, DATASET)
        start = FIRST_DAY + timedelta(days=1)
        pipeline.run(source_for(sb, start=start, end=start + timedelta(hours=1)))
        scrolls = scroll_requests(sb)

    assert list(columns(pipeline, "companies")) == list(settings.COMPANY_COLUMNS)
    kinds = columns(pipeline, "companies")
    assert kinds["monthly_spend"] == "DOUBLE" and kinds["size"] == "BIGINT"
    assert kinds["created_at"] == "TIMESTAMP WITH TIME ZONE" and kinds["id"] == "VARCHAR"
    rows = {r[0]: r[1:] for r in query(
        pipeline, "SELECT id, company_id, name, website, industry, size, monthly_spend, "
        "plan_name, epoch(created_at)::bigint, epoch(remote_created_at)::bigint FROM companies")}
    assert rows == {
        c.id: (c.company_id, c.name, c.website, c.industry, c.size, float(int(c.monthly_spend)),
               c.plan, int(c.created_at.timestamp()), int(c.created_at.timestamp()))
        for c in grown.intercom_companies
    }
    # user_count: the sandbox counts the contacts (of conversations) in each company.
    users = dict(query(pipeline, "SELECT id, user_count FROM companies"))
    members = Counter(cid for contact in contacts_of(grown).values()
                      for cid in dict.fromkeys(contact.company_ids))
    assert users == {c.id: members.get(c.id, 0) for c in grown.intercom_companies}
    # First page without a parameter, then the answer's scroll_param up to the empty page.
    assert "scroll_param" not in scrolls[0].query
    assert all(r.query.get("scroll_param") for r in scrolls[1:])
    assert len(scrolls) == -(-len(grown.intercom_companies) // 50) + 1
    assert quarantined(pipeline) == []


def test_an_expired_scroll_is_restarted_from_the_beginning(world, tmp_path, caplog):
    grown = many_companies(world)
    with Sandbox(grown, port=0) as sb:
        # The scroll's clock jumps a minute after the first page: its parameter expires
        # (404 "scroll parameter not found"), as if the run had paused for a minute.
        calls = []

        def clock() -> float:
            calls.append(None)
            return time.monotonic() + (61.0 if len(calls) > 1 else 0.0)

        sb.intercom.clock = clock
        pipeline = new_pipeline(tmp_path, DATASET)
        with caplog.at_level(logging.WARNING, logger="connectors.intercom"):
            pipeline.run(source_for(sb).with_resources("companies"))
        scrolls = scroll_requests(sb)

    assert counts(pipeline)["companies"] == len(grown.intercom_companies)
    assert query(pipeline, "SELECT count(DISTINCT id) FROM companies") == [
        (len(grown.intercom_companies),)]
    firsts = [i for i, r in enumerate(scrolls) if "scroll_param" not in r.query]
    assert firsts == [0, 2]  # the second request failed; the scroll began again
    warnings = [r.getMessage() for r in caplog.records if "restarting the scroll" in
                r.getMessage()]
    assert len(warnings) == 1 and "404" in warnings[0]
    assert quarantined(pipeline) == []


def test_a_scroll_that_cannot_restart_fails_clearly(world, tmp_path):
    grown = many_companies(world)
    with Sandbox(grown, port=0) as sb:
        # Every scroll request after the first finds its parameter expired: the restart's
        # own second page expires too.
        calls = []

        def clock() -> float:
            calls.append(None)
            return time.monotonic() + 61.0 * len(calls)

        sb.intercom.clock = clock
        with pytest.raises(Exception) as failure:
            new_pipeline(tmp_path, DATASET).run(source_for(sb).with_resources("companies"))
    error = api_error_in(failure.value)
    message = str(error)
    assert "intercom" in message and settings.COMPANIES_SCROLL_PATH in message
    assert "restarted 1 time(s)" in message and "giving up" in message


def test_another_open_scroll_is_not_restarted(world, tmp_path):
    with Sandbox(world, port=0) as sb:
        token = sb.credentials["intercom_access_token"]
        # Another client of the app holds the scroll open: the first page is refused.
        requests.get(f"{sb.url}/companies/scroll", timeout=10,
                     headers={"Authorization": f"Bearer {token}"}).raise_for_status()
        with pytest.raises(Exception) as failure:
            new_pipeline(tmp_path, DATASET).run(source_for(sb).with_resources("companies"))
        scrolls = scroll_requests(sb)
    error = api_error_in(failure.value)
    assert error.status == 400 and "scroll_exists" in str(error)
    assert len(scrolls) == 2  # the other client's and ours, not retried


def test_a_scroll_broken_by_server_errors_restarts_once_the_broken_one_expired(
        world, tmp_path, monkeypatch, caplog):
    """Intercom's answer to a network error mid-scroll is a 500 "Please restart the scroll
    operation"; the broken scroll stays open (one per app) until a minute after its last
    use, so the restart waits for that instead of being refused with `scroll_exists`."""
    import sandbox.intercom_api as intercom_api

    monkeypatch.setattr(intercom_api, "SCROLL_EXPIRY_SECONDS", 1.0)
    monkeypatch.setattr(settings, "SCROLL_EXPIRY_SECONDS", 1.5)
    grown = many_companies(world)
    restart = ('{"type": "error.list", "errors": [{"code": "server_error", "message": '
               '"Request failed due to an internal network error. Please restart the scroll '
               'operation."}]}')
    with Sandbox(grown, port=0) as sb:
        pages = iter(scroll_pages_of(sb))
        first = next(pages)
        sb.inject_fault(settings.COMPANIES_SCROLL_PATH, 500, times=QUICK_ATTEMPTS, body=restart)
        with caplog.at_level(logging.WARNING, logger="connectors.intercom"):
            rest = [record for page in pages for record in page]
        scrolls = scroll_requests(sb)
    assert sorted(r["id"] for r in first + rest) == sorted(c.id for c in grown.intercom_companies)
    assert sum("scroll_param" not in r.query for r in scrolls) == 2  # opened, then reopened
    [warning] = [r.getMessage() for r in caplog.records if "restarting" in r.getMessage()]
    assert "once the broken one has expired" in warning


def test_a_scroll_that_does_not_advance_stops_the_run(world, tmp_path, monkeypatch):
    """A server answering the same page again and again would keep a run scrolling forever:
    more pages in a row with nothing new than pages with new records (plus one) stop it."""
    import sandbox.intercom_api as intercom_api

    grown = many_companies(world)
    serve = intercom_api.IntercomApi.scroll_companies

    def stuck(self, request):
        answer = serve(self, request)
        if self._scroll is not None:
            self._scroll.position = min(self._scroll.position, 2 * intercom_api.SCROLL_PAGE_SIZE)
        return answer

    monkeypatch.setattr(intercom_api.IntercomApi, "scroll_companies", stuck)
    with Sandbox(grown, port=0) as sb:
        with pytest.raises(Exception) as failure:
            new_pipeline(tmp_path, DATASET).run(source_for(sb).with_resources("companies"))
        scrolls = scroll_requests(sb)
    assert "the scroll is not advancing" in str(api_error_in(failure.value))
    assert len(scrolls) < 10


def test_a_token_without_companies_or_contacts_lands_the_conversations(
        sandbox, world, tmp_path, caplog):
    """A token allowed to read conversations but not contacts or companies (403) lands
    every conversation; the two tables stay empty and a warning says what to grant."""
    sandbox.inject_fault(settings.COMPANIES_SCROLL_PATH, 403, times=100)
    sandbox.inject_fault("/contacts/", 403, times=1000)
    pipeline = new_pipeline(tmp_path, DATASET)
    with caplog.at_level(logging.WARNING, logger="connectors.intercom"):
        pipeline.run(source_for(sandbox))
    found = counts(pipeline)
    assert found["conversations"] == len(world.intercom_conversations)
    assert found["contacts"] == 0 and found["companies"] == 0
    warnings = sorted(r.getMessage() for r in caplog.records if "was refused" in r.getMessage())
    assert len(warnings) == 2
    assert "read access to companies" in warnings[0] and "403" in warnings[0]
    assert "read access to contacts" in warnings[1]
    token = sandbox.credentials["intercom_access_token"]
    assert all(token not in w for w in warnings)


def test_a_malformed_company_is_quarantined_and_the_rest_lands(world, tmp_path):
    grown = many_companies(world, extra=60)
    wrong = grown.intercom_companies[3]
    wrong.size = "twelve"  # type: ignore[assignment] - served as it is
    nameless = grown.intercom_companies[60]
    nameless.id = ""
    with Sandbox(grown, port=0) as sb:
        pipeline = new_pipeline(tmp_path, DATASET)
        pipeline.run(source_for(sb).with_resources("companies"))

    rows = {r["column_name"]: r for r in quarantined(pipeline)}
    assert set(rows) == {"size", "id"}
    assert rows["size"]["endpoint"] == settings.COMPANIES_SCROLL_PATH
    assert rows["size"]["table_name"] == "companies" and rows["size"]["record_id"] == wrong.id
    assert "size = 'twelve' is not a valid bigint" in rows["size"]["reason"]
    assert "id is missing" in rows["id"]["reason"]
    assert wrong.name not in rows["size"]["record"]  # names stay out of the quarantine
    landed = {r[0] for r in query(pipeline, "SELECT id FROM companies")}
    assert landed == {c.id for c in grown.intercom_companies} - {wrong.id, ""}


# --- contacts -------------------------------------------------------------------------------


def test_contacts_of_the_window_land_once_with_their_companies(sandbox, world, tmp_path):
    start, end = FIRST_DAY + timedelta(days=1), FIRST_DAY + timedelta(days=4)
    in_window = updated_in(world, start, end)
    expected = contacts_of(world, in_window)
    per_contact = Counter(c.contact.id for c in world.intercom_conversations
                          if str(c.id) in in_window)
    assert max(per_contact.values()) > 1  # a contact in several conversations of the window
    pipeline = new_pipeline(tmp_path, DATASET)
    pipeline.run(source_for(sandbox, start=start, end=end))

    assert list(columns(pipeline, "contacts")) == list(settings.CONTACT_COLUMNS)
    assert columns(pipeline, "contacts")["has_more_companies"] == "BOOLEAN"
    rows = {r[0]: r[1:] for r in query(
        pipeline, "SELECT id, role, external_id, epoch(created_at)::bigint, email, name, "
        "company_ids, company_count, has_more_companies FROM contacts")}
    assert rows == {
        contact.id: (contact.role, contact.external_id, int(contact.created_at.timestamp()),
                     None, None,
                     json.dumps(contact.company_ids, separators=(",", ":")),
                     len(contact.company_ids), False)
        for contact in expected.values()
    }
    # Each contact was read once, however many conversations it is in.
    fetched = contact_requests(sandbox)
    assert set(fetched) == set(expected) and set(fetched.values()) == {1}
    # A conversation maps to its organisation through the landed tables.
    assert query(pipeline, "SELECT count(*) FROM conversations v JOIN contacts c "
                 "ON c.id = v.contact_id JOIN companies o "
                 "ON o.id = c.company_ids::json->>0") == [
        (sum(1 for c in world.intercom_conversations
             if str(c.id) in in_window and c.contact.company_ids),)]
    assert quarantined(pipeline) == []


def test_contact_free_text_lands_only_when_asked(sandbox, world, tmp_path):
    pipeline = new_pipeline(tmp_path, DATASET)
    pipeline.run(source_for(sandbox, land_free_text=True))
    rows = {r[0]: r[1:] for r in query(pipeline, "SELECT id, email, name FROM contacts")}
    assert rows == {c.id: (c.email, c.name) for c in contacts_of(world).values()}


def test_a_deleted_contact_lands_nothing_and_the_run_succeeds(sandbox, world, tmp_path, caplog):
    gone = world.intercom_conversations[5].contact.id
    sandbox.inject_fault(path_prefix=f"/contacts/{gone}", status=404)
    pipeline = new_pipeline(tmp_path, DATASET)
    with caplog.at_level(logging.INFO, logger="connectors.intercom"):
        pipeline.run(source_for(sandbox))

    landed = {r[0] for r in query(pipeline, "SELECT id FROM contacts")}
    assert landed == set(contacts_of(world)) - {gone}
    assert counts(pipeline)["conversations"] == len(world.intercom_conversations)
    lines = [r for r in caplog.records if "contact(s)" in r.getMessage()]
    assert len(lines) == 1 and lines[0].levelno == logging.INFO
    assert lines[0].getMessage().startswith("intercom: 1 contact(s)")
    assert quarantined(pipeline) == []


def test_a_malformed_contact_is_quarantined_and_the_rest_lands(sandbox, world, tmp_path):
    bad = world.intercom_conversations[2].contact
    body = contact_of(sandbox, bad.id)
    body["companies"]["total_count"] = "several"
    sandbox.inject_fault(path_prefix=f"/contacts/{bad.id}", status=200, body=json.dumps(body))
    pipeline = new_pipeline(tmp_path, DATASET)
    pipeline.run(source_for(sandbox))

    [row] = quarantined(pipeline)
    assert row["endpoint"] == settings.CONTACT_PATH and row["table_name"] == "contacts"
    assert row["record_id"] == bad.id and row["column_name"] == "company_count"
    assert "companies.total_count = 'several'" in row["reason"]
    assert "@" not in row["record"]  # e-mail addresses stay out
    landed = {r[0] for r in query(pipeline, "SELECT id FROM contacts")}
    assert landed == set(contacts_of(world)) - {bad.id}


def test_contacts_and_companies_exist_after_a_window_without_conversations(sandbox, tmp_path):
    pipeline = new_pipeline(tmp_path, DATASET)
    start = FIRST_DAY.replace(year=2010)
    pipeline.run(source_for(sandbox, start=start, end=start + timedelta(days=1)))
    found = counts(pipeline)
    assert found["contacts"] == 0 and found["companies"] > 0
    assert list(columns(pipeline, "contacts")) == list(settings.CONTACT_COLUMNS)
    assert contact_requests(sandbox) == Counter()


def test_a_company_list_beyond_ten_is_marked(world, tmp_path):
    grown = many_companies(world, extra=12)
    contact = grown.intercom_conversations[0].contact
    extra_ids = [c.id for c in grown.intercom_companies[-12:]]
    for conversation in grown.intercom_conversations:
        if conversation.contact.id == contact.id:
            conversation.contact.company_ids = extra_ids
    with Sandbox(grown, port=0) as sb:
        pipeline = new_pipeline(tmp_path, DATASET)
        pipeline.run(source_for(sb))
    [(ids, count, more)] = query(pipeline, "SELECT company_ids, company_count, "
                                 "has_more_companies FROM contacts WHERE id = %s", contact.id)
    assert json.loads(ids) == extra_ids[:10] and count == 12 and more is True


def test_the_new_tables_belong_to_their_assets():
    from connectors.intercom import intercom_source
    from pipelines.raw import raw_asset_key

    # contacts lands through the conversations resource (its asset), companies is its own.
    assert raw_asset_key("raw_intercom", "contacts").path == ["raw_intercom", "conversations"]
    assert raw_asset_key("raw_intercom", "companies").path == ["raw_intercom", "companies"]
    source = intercom_source("tok-123456", "http://127.0.0.1:9", start=FIRST_DAY)
    assert set(source.resources) == {"conversations", "admins", "teams", "companies"}

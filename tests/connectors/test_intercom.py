"""The Intercom dlt source against the sandbox, over real HTTP, into a temporary DuckDB."""

from __future__ import annotations

import copy
import json
import logging
import time
import traceback
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import requests

from connectors.http import ApiAuthError, RetryPolicy, parse_reset_time
from connectors.intercom import intercom_source, settings
from connectors.intercom.helpers import build_client, epoch_time, id_text, search_body
from sandbox import Sandbox, World, generate_world
from sandbox.intercom_api import derive_conversation
from sandbox.world import IntercomConversation, IntercomPart
from tests.connectors.landing import api_error_in, columns, counts, new_pipeline, quarantined, query

DATASET = "raw_intercom"
BEGINNING = datetime(2000, 1, 1, tzinfo=UTC)
#: The test world's days: FIRST_DAY up to and including LAST_DAY (fixed, so runs repeat).
FIRST_DAY = datetime(2024, 3, 5, tzinfo=UTC)
LAST_DAY = date(2024, 3, 10)
#: Short waits, so retry tests stay fast (a rate-limit reset header still wins).
QUICK_RETRY = RetryPolicy(max_attempts=4, backoff_seconds=0.01, max_backoff_seconds=0.05)
TABLES = ("conversations", "conversation_parts", "contacts", "admins", "teams", "companies")


@pytest.fixture(scope="module")
def world() -> World:
    """A small workspace: 40 conversations over six days, several search pages at page
    size 7."""
    return generate_world(seed=7, tickets=60, days=6, end_date=LAST_DAY,
                          intercom_conversations=40)


@pytest.fixture
def sandbox(world: World):
    """The sandbox serving `world` (Intercom's rate limit as configured by default)."""
    with Sandbox(world, port=0) as sb:
        yield sb


def source_for(sb: Sandbox, **overrides: Any) -> Any:
    """An Intercom source pointed at `sb` (whole history, quick retries)."""
    arguments: dict[str, Any] = {
        "access_token": sb.credentials["intercom_access_token"],
        "base_url": sb.url,
        "start": BEGINNING,
        "retry": QUICK_RETRY,
    }
    arguments.update(overrides)
    return intercom_source(**arguments)


def updated_epoch(conversation: IntercomConversation) -> int:
    """A conversation's `updated_at` (Unix seconds) as the sandbox serves it."""
    return derive_conversation(conversation).updated_at


def updated_in(world: World, start: datetime, end: datetime) -> set[str]:
    """Ids of the conversations whose `updated_at` falls in [start, end)."""
    low, high = start.timestamp(), end.timestamp()
    return {str(c.id) for c in world.intercom_conversations
            if low <= updated_epoch(c) < high}



def detail_of(sb: Sandbox, conversation_id: int | str) -> dict[str, Any]:
    """A conversation as `GET /conversations/{id}` answers it (for faults built on it)."""
    answer = requests.get(
        f"{sb.url}/conversations/{conversation_id}", timeout=10,
        headers={"Authorization": f"Bearer {sb.credentials['intercom_access_token']}"})
    answer.raise_for_status()
    return answer.json()


def detail_requests(sb: Sandbox) -> Counter[str]:
    """How often each conversation's detail was requested."""
    return Counter(r.path.rsplit("/", 1)[1] for r in sb.requests
                   if r.method == "GET" and r.path.startswith("/conversations/"))


# --- windows and paging ---------------------------------------------------------------------


def test_a_window_lands_exactly_the_conversations_updated_inside_it(sandbox, world, tmp_path):
    start, end = FIRST_DAY + timedelta(days=2), FIRST_DAY + timedelta(days=4)
    expected = updated_in(world, start, end)
    assert 3 <= len(expected) < len(world.intercom_conversations)
    pipeline = new_pipeline(tmp_path, DATASET)
    pipeline.run(source_for(sandbox, start=start, end=end))

    landed = dict(query(pipeline, "SELECT id, epoch(updated_at)::bigint FROM conversations"))
    assert set(landed) == expected
    assert all(start.timestamp() <= t < end.timestamp() for t in landed.values())
    by_id = {str(c.id): c for c in world.intercom_conversations}
    for conversation_id in expected:
        conversation = by_id[conversation_id]
        rows = query(pipeline, "SELECT id, position, part_type, epoch(created_at)::bigint, "
                     "author_type, epoch(conversation_updated_at)::bigint "
                     "FROM conversation_parts WHERE conversation_id = %s ORDER BY position",
                     conversation_id)
        parts = conversation.parts[-settings.MAX_PARTS_RETURNED:]
        assert [r[1] for r in rows] == list(range(len(parts) + 1))
        source = rows[0]
        assert source[0] == f"source-{conversation_id}" and source[2] == "source"
        assert source[3] == int(conversation.created_at.timestamp())
        assert source[4] == ("admin" if conversation.delivered_as == "admin_initiated"
                             else conversation.contact.role)
        assert [r[2] for r in rows[1:]] == [p.part_type for p in parts]
        assert {r[5] for r in rows} == {landed[conversation_id]}
    # Only the window was asked for, with Intercom's version header on every request.
    searches = [r for r in sandbox.requests if r.path == settings.SEARCH_CONVERSATIONS_PATH]
    assert searches and all(r.method == "POST" for r in searches)
    assert set(sandbox.intercom.versions) == {settings.API_VERSION}
    assert set(detail_requests(sandbox)) == expected


def test_landed_values_and_types_match_the_sandbox(sandbox, world, tmp_path):
    pipeline = new_pipeline(tmp_path, DATASET)
    pipeline.run(source_for(sandbox))

    conversation_columns = columns(pipeline, "conversations")
    assert list(conversation_columns) == list(settings.CONVERSATION_COLUMNS)
    assert conversation_columns["id"] == "VARCHAR"
    assert conversation_columns["updated_at"] == "TIMESTAMP WITH TIME ZONE"
    assert conversation_columns["open"] == "BOOLEAN"
    assert conversation_columns["stat_time_to_admin_reply"] == "BIGINT"
    assert conversation_columns["rating"] == "BIGINT"
    assert list(columns(pipeline, "conversation_parts")) == list(settings.PART_COLUMNS)
    assert columns(pipeline, "conversation_parts")["redacted"] == "BOOLEAN"
    for table in TABLES:
        assert not [c for c in columns(pipeline, table) if "__v_" in c], f"variant in {table}"

    rows = query(pipeline, "SELECT id, state, open, admin_assignee_id, team_assignee_id, "
                 "contact_id, contact_ids, tags, source_type, source_delivered_as, rating, "
                 "rating_teammate_id, stat_count_assignments, stat_time_to_admin_reply, "
                 "epoch(stat_first_admin_reply_at)::bigint, parts_total_count, parts_landed "
                 "FROM conversations")
    assert len(rows) == len(world.intercom_conversations)
    by_id = {str(c.id): c for c in world.intercom_conversations}
    for row in rows:
        conversation = by_id[row[0]]
        state = derive_conversation(conversation)
        stats = state.statistics
        assert row[1:5] == (state.state, state.open, id_text(state.admin_assignee_id),
                            id_text(state.team_assignee_id))
        assert row[5] == conversation.contact.id
        assert json.loads(row[6]) == [conversation.contact.id]
        assert json.loads(row[7]) == conversation.tags
        assert row[8:10] == (conversation.source_type, conversation.delivered_as)
        rating = conversation.rating
        assert row[10:12] == ((rating.rating, str(rating.admin_id)) if rating else (None, None))
        assert row[12:15] == (stats.get("count_assignments"), stats.get("time_to_admin_reply"),
                              stats.get("first_admin_reply_at"))
        assert row[15:] == (len(conversation.parts), len(conversation.parts))
    assert counts(pipeline)["conversation_parts"] == sum(
        len(c.parts) + 1 for c in world.intercom_conversations)
    assert quarantined(pipeline) == []


def test_search_pages_are_followed_and_each_conversation_fetched_once(sandbox, world, tmp_path):
    pipeline = new_pipeline(tmp_path, DATASET)
    # The second search page repeats the first one's conversations (a conversation updated
    # while the search is paged moves to a later page): each is still fetched once.
    sandbox.inject_fault(path_prefix=settings.SEARCH_CONVERSATIONS_PATH, kind="repeat_page",
                         times=1)
    pipeline.run(source_for(sandbox, page_size=7))

    total = len(world.intercom_conversations)
    assert counts(pipeline)["conversations"] == total
    searches = [r for r in sandbox.requests if r.path == settings.SEARCH_CONVERSATIONS_PATH]
    assert len(searches) == -(-total // 7)
    fetched = detail_requests(sandbox)
    assert len(fetched) == total and set(fetched.values()) == {1}
    assert query(pipeline, "SELECT count(*), count(DISTINCT id) FROM conversation_parts") == [
        (sum(len(c.parts) + 1 for c in world.intercom_conversations),) * 2
    ]


def test_rerunning_a_window_lands_the_same_rows(sandbox, world, tmp_path):
    start, end = FIRST_DAY + timedelta(days=1), FIRST_DAY + timedelta(days=3)
    pipeline = new_pipeline(tmp_path, DATASET)
    snapshots = []
    for _ in range(2):
        pipeline.run(source_for(sandbox, start=start, end=end, page_size=5))
        snapshots.append({
            table: sorted(query(pipeline, f"SELECT * FROM {table}"), key=repr)
            for table in TABLES
        })
    assert snapshots[0] == snapshots[1]
    assert len(snapshots[0]["conversations"]) == len(updated_in(world, start, end))
    for table in TABLES:
        assert query(pipeline, f"SELECT count(*) = count(DISTINCT id) FROM {table}") == [(True,)]


def test_consecutive_windows_land_every_conversation_once(sandbox, world, tmp_path):
    pipeline = new_pipeline(tmp_path, DATASET)
    day = FIRST_DAY - timedelta(days=1)
    while day.date() <= LAST_DAY + timedelta(days=2):
        pipeline.run(source_for(sandbox, start=day, end=day + timedelta(days=2)))
        day += timedelta(days=2)
    assert counts(pipeline)["conversations"] == len(world.intercom_conversations)
    assert counts(pipeline)["conversation_parts"] == sum(
        len(c.parts) + 1 for c in world.intercom_conversations)


def test_every_table_exists_after_a_window_without_conversations(sandbox, tmp_path):
    pipeline = new_pipeline(tmp_path, DATASET)
    start = datetime(2010, 1, 1, tzinfo=UTC)
    pipeline.run(source_for(sandbox, start=start, end=start + timedelta(days=1)))
    found = counts(pipeline)
    assert found["conversations"] == found["conversation_parts"] == 0
    assert found["admins"] > 0 and found["teams"] > 0


# --- free text ------------------------------------------------------------------------------


def test_free_text_lands_only_when_asked(sandbox, world, tmp_path):
    private = new_pipeline(tmp_path / "private", DATASET)
    private.run(source_for(sandbox))
    assert query(private, "SELECT count(*) FROM conversations WHERE title IS NOT NULL "
                 "OR rating_remark IS NOT NULL") == [(0,)]
    assert query(private, "SELECT count(*) FROM conversation_parts WHERE body IS NOT NULL") \
        == [(0,)]
    assert query(private, "SELECT count(*) FROM admins WHERE email IS NOT NULL "
                 "OR job_title IS NOT NULL") == [(0,)]
    # has_body still tells messages from events
    assert query(private, "SELECT count(*) FROM conversation_parts WHERE has_body") != [(0,)]

    free = new_pipeline(tmp_path / "free", DATASET)
    free.run(source_for(sandbox, land_free_text=True))
    by_id = {str(c.id): c for c in world.intercom_conversations}
    for conversation_id, body in query(
            free, "SELECT conversation_id, body FROM conversation_parts WHERE position = 0"):
        assert body == by_id[conversation_id].body
    remarks = dict(query(free, "SELECT id, rating_remark FROM conversations "
                         "WHERE rating IS NOT NULL"))
    assert remarks == {str(c.id): c.rating.remark or "" for c in world.intercom_conversations
                       if c.rating is not None}
    emails = dict(query(free, "SELECT id, email FROM admins"))
    assert all(emails[str(a.id)] == a.email for a in world.intercom_admins if not a.is_bot)
    assert query(free, "SELECT count(*) FROM conversation_parts WHERE has_body "
                 "AND body IS NULL") == [(0,)]


# --- limits and faults ----------------------------------------------------------------------


def long_world(world: World, extra_parts: int = 520) -> tuple[World, IntercomConversation]:
    """`world` with one conversation grown past Intercom's 500 returned parts."""
    grown = copy.deepcopy(world)
    conversation = grown.intercom_conversations[0]
    teammate = next(a for a in grown.intercom_admins if not a.is_bot)
    last = max([conversation.created_at, *(p.at for p in conversation.parts)])
    conversation.parts += [
        IntercomPart(at=last + timedelta(seconds=k + 1), part_type="comment",
                     author="contact" if k % 2 else "admin",
                     admin_id=None if k % 2 else teammate.id, body=f"<p>message {k}</p>")
        for k in range(extra_parts)
    ]
    if conversation.rating is not None:
        conversation.rating = None
    return grown, conversation


def test_a_conversation_beyond_500_parts_lands_what_came_with_one_warning(
        world, tmp_path, caplog):
    grown, conversation = long_world(world)
    total = len(conversation.parts)
    with Sandbox(grown, port=0) as sb:
        pipeline = new_pipeline(tmp_path, DATASET)
        with caplog.at_level(logging.WARNING, logger="connectors.intercom"):
            pipeline.run(source_for(sb))

    assert query(pipeline, "SELECT parts_total_count, parts_landed FROM conversations "
                 "WHERE id = %s", str(conversation.id)) == [(total, settings.MAX_PARTS_RETURNED)]
    assert query(pipeline, "SELECT count(*), min(position), max(position) "
                 "FROM conversation_parts WHERE conversation_id = %s", str(conversation.id)) \
        == [(settings.MAX_PARTS_RETURNED + 1, 0, settings.MAX_PARTS_RETURNED)]
    warnings = [r.getMessage() for r in caplog.records if "500 parts" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].startswith("intercom: 1 conversation(s)")
    others = query(pipeline, "SELECT count(*) FROM conversations "
                   "WHERE parts_total_count <> parts_landed")
    assert others == [(1,)]


def test_the_rate_limit_window_is_waited_out_not_exhausted(world, tmp_path, caplog):
    start, end = FIRST_DAY + timedelta(days=2), FIRST_DAY + timedelta(days=3)
    requests_needed = len(updated_in(world, start, end)) + 3  # search, admins, teams
    limit = max(2, requests_needed - 2)  # the last requests wait for one window's reset
    with Sandbox(world, port=0, intercom_rate_limit_per_10s=limit) as sb:
        pipeline = new_pipeline(tmp_path, DATASET)
        began = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="connectors.http"):
            # Quick backoffs alone (4 attempts, < 0.2 s) could never outlast a 10-second
            # window: only waiting for X-RateLimit-Reset gets the run through.
            pipeline.run(source_for(sb, start=start, end=end))
        took = time.monotonic() - began
    assert counts(pipeline)["conversations"] == len(updated_in(world, start, end))
    assert took > 5  # a window's reset was waited for
    # The client paces itself on X-RateLimit-Remaining: few requests, if any, are refused,
    # and a refused one waits for the reset, not a quick backoff.
    waits = [r.getMessage() for r in caplog.records if "HTTP 429" in r.getMessage()]
    assert len(waits) <= settings.DETAIL_WORKERS
    assert all(float(m.split("retrying in ")[1].split(" s")[0]) > 0.5 for m in waits), waits


def test_a_429_without_retry_after_is_retried_at_the_reset(world, caplog):
    # Another client of the same app has used the window: this one's first request is
    # refused, with the reset time and no Retry-After, as Intercom answers.
    with Sandbox(world, port=0, intercom_rate_limit_per_10s=1) as sb:
        token = sb.credentials["intercom_access_token"]
        other = build_client(token, sb.url, None)
        began = time.monotonic()
        other.get_json("/teams")
        client = build_client(token, sb.url, None)
        with caplog.at_level(logging.WARNING, logger="connectors.http"):
            teams = client.get_json("/teams")
        took = time.monotonic() - began
    assert teams["type"] == "team.list"
    waits = [r.getMessage() for r in caplog.records if "HTTP 429" in r.getMessage()]
    assert len(waits) == 1 and float(waits[0].split("retrying in ")[1].split(" s")[0]) > 5
    assert took > 5


def test_401_names_intercom_and_the_endpoint_but_never_the_token(sandbox, tmp_path):
    token = "wrong-intercom-token-5b1d9e77c2"  # noqa: S105 - a fake credential
    pipeline = new_pipeline(tmp_path, DATASET)
    with pytest.raises(Exception) as failure:
        pipeline.run(source_for(sandbox, access_token=token).with_resources("admins"))

    error = api_error_in(failure.value)
    assert isinstance(error, ApiAuthError) and error.status == 401
    message = str(error)
    assert "intercom" in message and "/admins" in message
    assert "INTERCOM_ACCESS_TOKEN" in message
    everything = "".join(traceback.format_exception(failure.value))
    assert token not in everything
    assert "Authorization" not in everything


def test_secrets_echoed_by_the_api_are_redacted(sandbox, tmp_path):
    token = sandbox.credentials["intercom_access_token"]
    sandbox.inject_fault(path_prefix="/teams", status=403, body=json.dumps(
        {"type": "error.list", "errors": [{"code": "forbidden",
                                           "message": f"token {token} lacks scope"}]}))
    with pytest.raises(Exception) as failure:
        new_pipeline(tmp_path, DATASET).run(source_for(sandbox).with_resources("teams"))
    error = api_error_in(failure.value)
    assert isinstance(error, ApiAuthError) and error.status == 403
    assert "***" in str(error)
    assert token not in "".join(traceback.format_exception(failure.value))


def test_a_conversation_deleted_before_its_detail_request_is_skipped(
        sandbox, world, tmp_path, caplog):
    gone = world.intercom_conversations[3].id
    sandbox.inject_fault(path_prefix=f"/conversations/{gone}", status=404)
    pipeline = new_pipeline(tmp_path, DATASET)
    with caplog.at_level(logging.WARNING, logger="connectors.intercom"):
        pipeline.run(source_for(sandbox))

    landed = {r[0] for r in query(pipeline, "SELECT id FROM conversations")}
    assert landed == {str(c.id) for c in world.intercom_conversations} - {str(gone)}
    assert query(pipeline, "SELECT count(*) FROM conversation_parts WHERE conversation_id = %s",
                 str(gone)) == [(0,)]
    warnings = [r.getMessage() for r in caplog.records if "404" in r.getMessage()]
    assert len(warnings) == 1 and "intercom: 1 conversation(s)" in warnings[0]
    assert quarantined(pipeline) == []


def test_5xx_and_truncated_answers_are_retried(sandbox, world, tmp_path):
    sandbox.inject_fault(path_prefix=settings.SEARCH_CONVERSATIONS_PATH, status=503)
    sandbox.inject_fault(path_prefix="/conversations/", status=500, times=2)
    sandbox.inject_fault(path_prefix="/admins", status=200, body='{"type": "admin.list", "adm')
    pipeline = new_pipeline(tmp_path, DATASET)
    pipeline.run(source_for(sandbox))
    assert counts(pipeline)["conversations"] == len(world.intercom_conversations)
    assert counts(pipeline)["admins"] == len(world.intercom_admins)


# --- records that cannot land ---------------------------------------------------------------


def test_a_bad_search_result_is_quarantined_and_the_rest_lands(sandbox, world, tmp_path):
    sandbox.inject_fault(path_prefix=settings.SEARCH_CONVERSATIONS_PATH, kind="bad_record",
                         mode="bad_timestamp", record_index=2)
    pipeline = new_pipeline(tmp_path, DATASET)
    pipeline.run(source_for(sandbox, page_size=10))

    [row] = quarantined(pipeline)
    assert row["endpoint"] == settings.SEARCH_CONVERSATIONS_PATH
    assert row["table_name"] == "conversations" and row["column_name"] == "updated_at"
    assert "not-a-timestamp" in row["reason"]
    assert counts(pipeline)["conversations"] == len(world.intercom_conversations) - 1
    assert row["record_id"] not in {r[0] for r in query(pipeline, "SELECT id FROM conversations")}


def test_a_malformed_conversation_or_part_is_quarantined_and_the_rest_lands(
        sandbox, world, tmp_path):
    rated = next(c for c in world.intercom_conversations if c.rating is not None)
    bad_rating = detail_of(sandbox, rated.id)
    bad_rating["conversation_rating"]["rating"] = 9
    bad_rating["title"] = "a secret title"
    sandbox.inject_fault(path_prefix=f"/conversations/{rated.id}", status=200,
                         body=json.dumps(bad_rating))
    other = next(c for c in world.intercom_conversations
                 if c is not rated and len(c.parts) >= 3)
    bad_part = detail_of(sandbox, other.id)
    bad_part["conversation_parts"]["conversation_parts"][1]["created_at"] = "yesterday"
    sandbox.inject_fault(path_prefix=f"/conversations/{other.id}", status=200,
                         body=json.dumps(bad_part))
    pipeline = new_pipeline(tmp_path, DATASET)
    pipeline.run(source_for(sandbox))

    rows = {r["table_name"]: r for r in quarantined(pipeline)}
    assert set(rows) == {"conversations", "conversation_parts"}
    conversation = rows["conversations"]
    assert conversation["endpoint"] == settings.CONVERSATION_PATH
    assert conversation["record_id"] == str(rated.id) and conversation["column_name"] == "rating"
    assert "outside the scale 1-5" in conversation["reason"]
    assert "a secret title" not in conversation["record"]
    assert "<p>" not in conversation["record"]  # bodies are free text too
    part = rows["conversation_parts"]
    assert part["column_name"] == "created_at" and "yesterday" in part["reason"]
    assert f"conversation {other.id}" in part["reason"]

    landed = {r[0] for r in query(pipeline, "SELECT id FROM conversations")}
    assert landed == {str(c.id) for c in world.intercom_conversations} - {str(rated.id)}
    assert query(pipeline, "SELECT count(*) FROM conversation_parts WHERE conversation_id = %s",
                 str(rated.id)) == [(0,)]
    assert query(pipeline, "SELECT parts_total_count, parts_landed FROM conversations "
                 "WHERE id = %s", str(other.id)) == [(len(other.parts), len(other.parts) - 1)]
    positions = [r[0] for r in query(pipeline, "SELECT position FROM conversation_parts "
                                     "WHERE conversation_id = %s ORDER BY position",
                                     str(other.id))]
    assert positions == [0, 1, *range(3, len(other.parts) + 1)]


def test_a_new_top_level_field_lands_as_a_new_column(sandbox, world, tmp_path):
    first = world.intercom_conversations[0]
    detail = detail_of(sandbox, first.id)
    detail["x_new_field"] = 42
    sandbox.inject_fault(path_prefix=f"/conversations/{first.id}", status=200,
                         body=json.dumps(detail))
    sandbox.inject_fault(path_prefix="/teams", kind="bad_record", mode="new_field")
    pipeline = new_pipeline(tmp_path, DATASET)
    pipeline.run(source_for(sandbox))
    assert query(pipeline, "SELECT id FROM conversations WHERE x_new_field = 42") == [
        (str(first.id),)]
    assert query(pipeline, "SELECT count(*) FROM teams WHERE x_new_field = 42") == [(1,)]
    assert quarantined(pipeline) == []


def test_an_admin_of_the_wrong_shape_is_quarantined(sandbox, world, tmp_path):
    sandbox.inject_fault(path_prefix="/admins", kind="bad_record", mode="wrong_type",
                         field="team_ids")
    pipeline = new_pipeline(tmp_path, DATASET)
    pipeline.run(source_for(sandbox).with_resources("admins"))
    [row] = quarantined(pipeline)
    assert row["endpoint"] == "/admins" and row["column_name"] == "team_ids"
    assert counts(pipeline)["admins"] == len(world.intercom_admins) - 1
    assert "@" not in row["record"]  # e-mail addresses stay out


# --- reference tables -----------------------------------------------------------------------


def test_admins_and_teams_land_whole(sandbox, world, tmp_path):
    pipeline = new_pipeline(tmp_path, DATASET)
    start = FIRST_DAY + timedelta(days=1)
    pipeline.run(source_for(sandbox, start=start, end=start + timedelta(hours=1)))

    admins = {r[0]: r[1:] for r in query(
        pipeline, "SELECT id, type, name, away_mode_enabled, away_mode_reassign, "
        "has_inbox_seat, team_ids FROM admins")}
    assert admins == {
        str(a.id): ("admin", a.name, a.away_mode_enabled, a.away_mode_reassign,
                    a.has_inbox_seat, json.dumps([str(t) for t in a.team_ids],
                                                 separators=(",", ":")))
        for a in world.intercom_admins
    }
    teams = dict(query(pipeline, "SELECT id, name FROM teams"))
    assert teams == {str(t.id): t.name for t in world.intercom_teams}
    team_admins = dict(query(pipeline, "SELECT id, admin_ids FROM teams"))
    assert {k: json.loads(v) for k, v in team_admins.items()} == {
        str(t.id): [str(a) for a in t.admin_ids] for t in world.intercom_teams}
    # Assignees join the reference tables as text.
    assert query(pipeline, "SELECT count(*) FROM conversations c LEFT JOIN admins a "
                 "ON a.id = c.admin_assignee_id WHERE c.admin_assignee_id IS NOT NULL "
                 "AND a.id IS NULL") == [(0,)]


# --- configuration and helpers --------------------------------------------------------------


@pytest.mark.parametrize("url", ["https://api.eu.intercom.io", "https://api.au.intercom.io/",
                                 "http://127.0.0.1:8080", "http://localhost:9000"])
def test_https_or_loopback_base_urls_are_accepted(url):
    source = intercom_source("tok-123456", url, start=BEGINNING)
    assert set(source.resources) == set(TABLES) - {"conversation_parts", "contacts"}


@pytest.mark.parametrize("url", ["http://api.intercom.io", "ftp://api.intercom.io",
                                 "https://user:pw@api.intercom.io"])
def test_other_base_urls_are_refused_naming_the_setting(url):
    with pytest.raises(ValueError, match="INTERCOM_BASE_URL"):
        intercom_source("tok-123456", url, start=BEGINNING)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="INTERCOM_ACCESS_TOKEN"):
        intercom_source("", start=BEGINNING)
    with pytest.raises(ValueError, match="timezone-aware"):
        intercom_source("tok-123456", start=datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="after"):
        intercom_source("tok-123456", start=BEGINNING, end=BEGINNING)
    for page_size in (0, 151):
        with pytest.raises(ValueError, match="page_size"):
            intercom_source("tok-123456", start=BEGINNING, page_size=page_size)


def test_constructing_the_source_makes_no_request():
    source = intercom_source("tok-123456", "http://127.0.0.1:9", start=BEGINNING)
    assert source.name == "intercom"


def test_the_search_query_widens_the_window_to_whole_seconds():
    start = datetime(2024, 3, 5, 12, 0, 0, 500000, tzinfo=UTC)
    end = datetime(2024, 3, 6, tzinfo=UTC)
    body = search_body(start, end, 150, "cursor-1")
    assert body == {
        "query": {"operator": "AND", "value": [
            {"field": "updated_at", "operator": ">", "value": int(start.timestamp()) - 1},
            {"field": "updated_at", "operator": "<", "value": int(end.timestamp())},
        ]},
        "pagination": {"per_page": 150, "starting_after": "cursor-1"},
    }
    assert search_body(start, None, 20)["query"]["value"] == [
        {"field": "updated_at", "operator": ">", "value": int(start.timestamp()) - 1}]


def test_reset_times_and_unix_seconds_parse():
    assert parse_reset_time("1700000010", now=1700000000.0) == 10.0
    assert parse_reset_time("1699999990", now=1700000000.0) == 0.0
    assert parse_reset_time("soon") is None and parse_reset_time(None) is None
    assert parse_reset_time("nan") is None
    assert epoch_time(1709251200) == datetime(2024, 3, 1, tzinfo=UTC)
    assert epoch_time("1709251200") == datetime(2024, 3, 1, tzinfo=UTC)
    assert epoch_time(None) is None
    for bad in (True, "yesterday", {"at": 1}, float("inf")):
        with pytest.raises((TypeError, ValueError)):
            epoch_time(bad)
    assert id_text(991267715) == "991267715" and id_text("abc") == "abc"
    with pytest.raises(ValueError):
        id_text({"id": 1})

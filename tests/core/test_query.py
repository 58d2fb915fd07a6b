"""The query language: a table of what people type, properties on any text, button values."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.filters import MAX_URL
from bot.core.query import (
    Help,
    ListSubscriptions,
    Stats,
    Subscribe,
    TaskQuery,
    Unmute,
    Unsubscribe,
    Write,
    decode_query,
    encode_query,
    parse_query,
)
from bot.core.submission import Action
from bot.core.tasks import ObjectType, Status
from bot.errors import InvalidQuery
from tests.strategies import NOW, valid_queries

SHANGHAI = timezone(timedelta(hours=8))
F, D, P = ObjectType.FILE, ObjectType.DIRECTORY, ObjectType.PRELOAD


def at(**delta: float) -> datetime:
    return NOW - timedelta(**delta)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


LONG_URL = "https://img.example.com/" + "a" * (MAX_URL - len("https://img.example.com/"))

# (typed text, the query's non-default fields) — every key, alias, bare token kind and time form.
VALID = [
    ("tasks", {}),
    ("list", {}),
    ("id:704225667", {"task_ids": ("704225667",)}),
    ("task:704225667", {"task_ids": ("704225667",)}),
    ("taskid=1,2,3", {"task_ids": ("1", "2", "3")}),
    ("task 704225667 704222904", {"task_ids": ("704225667", "704222904")}),
    ("704225667", {"task_ids": ("704225667",)}),
    ("1,2 2 3", {"task_ids": ("1", "2", "3")}),
    ("url:http://aaa.com/1.txt", {"object_path": "http://aaa.com/1.txt"}),
    ("path=https://aaa.com/1.txt", {"object_path": "https://aaa.com/1.txt"}),
    ("http://aaa.com/1.txt", {"object_path": "http://aaa.com/1.txt"}),
    ("HTTPS://aaa.com/A.txt", {"object_path": "HTTPS://aaa.com/A.txt"}),
    ('url:"http://aaa.com/a b.txt"', {"object_path": "http://aaa.com/a b.txt"}),
    ("url:\u201chttp://aaa.com/a b.txt\u201d", {"object_path": "http://aaa.com/a b.txt"}),
    ("<http://aaa.com/x?a=1&amp;b=2>", {"object_path": "http://aaa.com/x?a=1&b=2"}),
    ("url:<https://aaa.com/y>", {"object_path": "https://aaa.com/y"}),
    ("http://aaa.com/it's.png", {"object_path": "http://aaa.com/it's.png"}),
    (f"url:{LONG_URL}", {"object_path": LONG_URL}),
    ("domain:www.example.com", {"domain": "www.example.com"}),
    ("host=IMG.Example.COM.", {"domain": "img.example.com"}),
    ("www.example.com", {"domain": "www.example.com"}),
    ("<http://www.example.com|www.example.com>", {"domain": "www.example.com"}),
    ("domain:https://www.example.com/a", {"domain": "www.example.com"}),
    ("domain:bücher.example", {"domain": "bücher.example"}),
    ("type:file", {"object_type": F}),
    ("type:DIR", {"object_type": D}),
    ("objecttype=directory", {"object_type": D}),
    ("type:prefetch", {"object_type": P}),
    ("preload", {"object_type": P}),
    ("regex", {"object_type": ObjectType.REGEX}),
    ("type:IgnoreParams", {"object_type": ObjectType.IGNORE_PARAMS}),
    ("block", {"object_type": ObjectType.BLOCK}),
    ("type:unblock", {"object_type": ObjectType.UNBLOCK}),
    ("status:complete", {"status": Status.COMPLETE}),
    ("Status:DONE", {"status": Status.COMPLETE}),
    ("running", {"status": Status.REFRESHING}),
    ("status=refreshing", {"status": Status.REFRESHING}),
    ("failed", {"status": Status.FAILED}),
    ("pending", {"status": Status.PENDING}),
    ("since:30m", {"since": at(minutes=30)}),
    ("from:2h", {"since": at(hours=2)}),
    ("since:90s", {"since": at(seconds=90)}),
    ("since:1d", {"since": at(days=1)}),
    ("since:1h30m", {"since": at(hours=1, minutes=30)}),
    ("since:2hours", {"since": at(hours=2)}),
    ("since:3d", {"since": at(days=3)}),
    ("since:2h until:1h", {"since": at(hours=2), "until": at(hours=1)}),
    ("from=2h to=now", {"since": at(hours=2), "until": NOW}),
    ("since:today", {"since": utc(2026, 11, 28)}),
    ("today", {"since": utc(2026, 11, 28)}),
    ("yesterday", {"since": utc(2026, 11, 27), "until": utc(2026, 11, 28)}),
    ("until:yesterday", {"until": utc(2026, 11, 28)}),
    ("until:today", {"until": NOW}),
    ("since:2026-11-27", {"since": utc(2026, 11, 27)}),
    ("until:2026-11-27", {"until": utc(2026, 11, 28)}),
    ("since:2026-11-27T10:00Z", {"since": utc(2026, 11, 27, 10)}),
    ("since:2026-11-27T10:00:05", {"since": utc(2026, 11, 27, 10, 0, 5)}),
    ("since:2026-11-27T18:00+08:00", {"since": utc(2026, 11, 27, 10)}),
    ('since:"2026-11-27 10:00"', {"since": utc(2026, 11, 27, 10)}),
    ("since:09:30", {"since": utc(2026, 11, 28, 9, 30)}),
    ("since:2026\u201311\u201327", {"since": utc(2026, 11, 27)}),
    ("until:2026-11-28T12:01:00Z", {"until": NOW}),
    ("page:2", {"page": 2}),
    ("page=100000", {"page": 100000}),
    ("size:100", {"size": 100}),
    ("limit=1", {"size": 1}),
    ("rg:rg-acfmyuji4b6r4", {"resource_group": "rg-acfmyuji4b6r4"}),
    (
        "www.example.com failed file since:2h page:3 size:50",
        {
            "domain": "www.example.com",
            "status": Status.FAILED,
            "object_type": F,
            "since": at(hours=2),
            "page": 3,
            "size": 50,
        },
    ),
    ("status:failed\u00a0 type:file", {"status": Status.FAILED, "object_type": F}),
]


@pytest.mark.parametrize(("text", "expected"), VALID, ids=[text[:40] for text, _ in VALID])
def test_valid_queries(text, expected):
    assert parse_query(text, now=NOW) == TaskQuery(**expected)


INVALID = [
    ("statsu:failed", "statsu", "did you mean `status`"),
    ("status:faild", "status", "did you mean `failed`"),
    ("type:fiel", "type", "did you mean `file`"),
    ("status:", "status", "status:failed"),
    ("fialed", "filter", "did you mean `failed`"),
    ("subscrib", "filter", "did you mean `subscribe`"),
    ("id:12a", "id", "number"),
    ("id:1,,x", "id", "number"),
    ("url:aaa.com/1.txt", "url", "https://"),
    # Slack links "aaa.com/y" typed without a scheme: which scheme was meant is unknown.
    ("url:<http://aaa.com/y|aaa.com/y>", "url", "https://"),
    (f"url:{LONG_URL}x", "url", f"{MAX_URL}"),
    ("domain:a.com,b.com", "domain", "one domain"),
    ("domain:a.com domain:b.com", "domain", "twice"),
    ("domain:localhost", "domain", "not a domain"),
    ("domain:bad_host.com", "domain", "not a domain"),
    ("failed status:done", "status", "twice"),
    ("file dir", "type", "twice"),
    ("since:5d", "since", "`since:3d`"),
    ("since:2026-11-20", "since", "2026-11-25 12:00 UTC"),
    ("since:tomorrow", "since", "2h"),
    ("since:1h until:2h", "until", "after the start"),
    ("since:2h until:2h", "until", "after the start"),
    ("since:-1h", "since", "2h"),
    ("until:2026-11-29T00:00Z", "until", "future"),
    ("since:2026-12-01T00:00Z", "since", "future"),
    ("until:4d", "until", "3 days"),
    ("since:25:00", "since", "2h"),
    ("page:0", "page", "1 to 100,000"),
    ("page:100001", "page", "1 to 100,000"),
    ("page:two", "page", "whole number"),
    ("size:101", "size", "1 to 100"),
    ("size:-5", "size", "1 to 100"),
    ("rg:rg/../x", "rg", "resource group"),
    ("id:1 rg:rg-1", "rg", "resource group"),
    ('url:"http://a.com/x', "text", "never closed"),
    ("<!channel>", "filter", "key:value"),
    ("<@U123>", "filter", "key:value"),
    ("2026-11-27T10:00", "filter", "key:value"),
    ("task", "id", "task IDs"),
    ("task status:failed", "id", "task IDs"),
    ("id:" + ",".join(str(n) for n in range(101)), "id", "100"),
    ("subscribe status:failed", "status", "domain:"),
    ("x" * 4001, "text", "4000"),
    ("since", "since", "since:2h"),
]

# Natural phrasings: (typed text, the field blamed, the whole corrected command offered).
CORRECTED = [
    ("www.example.com/app.js", "url", "`/cdn url:https://www.example.com/app.js`"),
    ("failed img.example.com/a/b.png", "url", "`/cdn failed url:https://img.example.com/a/b.png`"),
    ("since 2h", "filter", "`/cdn since:2h`"),
    ("failed since 2h", "filter", "`/cdn failed since:2h`"),
    ("last 2h", "filter", "`/cdn since:2h`"),
    ("tasks past 30m failed", "filter", "`/cdn tasks since:30m failed`"),
    ("status: failed", "filter", "`/cdn status:failed`"),
    ("status:failed,refreshing", "status", "`/cdn status:failed`, then the same with "),
    ("type:file,dir since:1h", "type", "`/cdn type:file since:1h`"),
    ("www.example.com, img.example.com", "domain", "`/cdn www.example.com`, then the same for"),
    ("failed www.example.com,img.example.com", "domain", "`/cdn failed www.example.com`"),
    ("domain:a.com,b.com", "domain", "`/cdn domain:a.com`"),
    ("subscribe a.example.com , b.example.com", "domain", "`/cdn subscribe a.example.com`"),
    ("since:2h until:5h", "until", "`since:5h until:2h`"),
    ("since:13:00", "since", "yesterday, `since:2026-11-27T13:00`"),
    ("until:13:30", "until", "yesterday, `until:2026-11-27T13:30`"),
]


@pytest.mark.parametrize(("text", "field", "fix"), CORRECTED, ids=[t for t, _, _ in CORRECTED])
def test_natural_phrasings_get_the_whole_corrected_command(text, field, fix):
    with pytest.raises(InvalidQuery) as failure:
        parse_query(text, now=NOW)
    assert failure.value.field == field
    assert fix in failure.value.hint


@pytest.mark.parametrize(
    "text", ["x" * 3000, "status:" + "y" * 3000, "since " + "9" * 3000, "a.com/" + "z" * 3000]
)
def test_a_long_token_is_echoed_shortened(text):
    with pytest.raises(InvalidQuery) as failure:
        parse_query(f"failed {text}", now=NOW)
    error = failure.value
    assert len(error.value) <= 60 and "…" in error.value
    assert len(error.hint) < 400 and error.hint.count("`") % 2 == 0


@pytest.mark.parametrize(("text", "field", "hint"), INVALID, ids=[t[:40] for t, _, _ in INVALID])
def test_invalid_queries_say_what_to_change(text, field, hint):
    with pytest.raises(InvalidQuery) as failure:
        parse_query(text, now=NOW)
    assert failure.value.field == field
    assert hint in failure.value.hint


def test_table_is_big_enough():
    assert len(VALID) + len(INVALID) >= 60


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("", Help()),
        ("   ", Help()),
        ("help", Help()),
        ("HELP filters", Help(topic="filters")),
        ("?", Help()),
        ("banana", Help(unknown="banana")),
        ("subscriptions", ListSubscriptions()),
        ("subscribe", Subscribe()),
        ("subscribe domain:*.example.com type:file", Subscribe("*.example.com", F)),
        ("sub www.example.com", Subscribe("www.example.com")),
        ("unsubscribe all", Unsubscribe(everything=True)),
        ("unsub domain:img.example.com", Unsubscribe("img.example.com")),
        ("unsubscribe", Unsubscribe()),
        ("unmute all", Unmute(everything=True)),
        ("unmute www.example.com", Unmute("www.example.com")),
        ("UNMUTE domain:*.example.com", Unmute("*.example.com")),
    ],
)
def test_subcommands(text, command):
    assert parse_query(text, now=NOW) == command


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("unmute", "/cdn unmute all"),
        ("unmute www.example.com type:file", "a mute covers every type"),
        ("unmute status:failed", "subscriptions filter only by"),
    ],
)
def test_unmute_needs_a_domain_or_all(text, hint):
    with pytest.raises(InvalidQuery) as refused:
        parse_query(text, now=NOW)
    assert hint in str(refused.value.hint)


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("refresh", Write(Action.REFRESH)),
        ("  Refresh  ", Write(Action.REFRESH)),
        ("refresh https://a.example.com/x.js", Write(Action.REFRESH, "https://a.example.com/x.js")),
        # What follows is kept verbatim: its own parser splits lines, commas and Slack links.
        (
            "REFRESH <https://a.example.com/d/>\ntype:dir",
            Write(Action.REFRESH, "<https://a.example.com/d/>\ntype:dir"),
        ),
        (
            "prefetch https://a.example.com/x.js area:overseas",
            Write(Action.PREFETCH, "https://a.example.com/x.js area:overseas"),
        ),
        (
            "prefetch\u00a0https://a.example.com/it's.js",
            Write(Action.PREFETCH, "https://a.example.com/it's.js"),
        ),
    ],
)
def test_refresh_and_prefetch_are_writes(text, command):
    assert parse_query(text, now=NOW) == command


def test_a_write_word_inside_a_query_is_no_write():
    assert not isinstance(parse_query("refreshing", now=NOW), Write)
    assert not isinstance(parse_query("status:refreshing", now=NOW), Write)


def test_day_words_follow_the_readers_timezone():
    query = parse_query("today", now=NOW, tz=SHANGHAI)
    assert query.since == utc(2026, 11, 27, 16)  # midnight in UTC+8
    naive = parse_query("since:2026-11-28T08:00", now=NOW, tz=SHANGHAI)
    assert naive.since == utc(2026, 11, 28, 0)


def test_hints_show_times_in_the_readers_timezone():
    with pytest.raises(InvalidQuery) as failure:
        parse_query("since:4d", now=NOW, tz=SHANGHAI)
    assert "2026-11-25 20:00" in failure.value.hint


def test_query_is_hashable_and_frozen():
    query = parse_query("failed www.example.com", now=NOW)
    assert hash(query) == hash(parse_query("domain:www.example.com status:failed", now=NOW))
    with pytest.raises(ValueError):
        query.page = 2  # type: ignore[misc]


# -- properties ------------------------------------------------------------------------------

odd_text = st.lists(
    st.one_of(
        st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8),
        st.sampled_from(list(":=\",'<>|&;*.-/ \t\n\u201c\u201d\u2014\u00a0")),
        st.sampled_from(["status", "failed", "since", "2h", "http://", "id", "domain", "a.com"]),
        st.sampled_from(["<http://a.com|a.com>", "&amp;", "<!here>", "task", "subscribe", "1,2"]),
    ),
    max_size=40,
).map("".join)


@settings(max_examples=500, deadline=None)
@given(text=odd_text)
def test_any_text_is_a_command_or_invalid_query(text):
    try:
        command = parse_query(text, now=NOW)
    except InvalidQuery as error:
        assert error.field and error.hint
    else:
        assert isinstance(command, TaskQuery | Help | Subscribe | Unsubscribe | ListSubscriptions)


@settings(max_examples=50, deadline=None)
@given(text=st.text(max_size=5000))
def test_long_text_is_handled(text):
    with contextlib.suppress(InvalidQuery):
        parse_query(text, now=NOW)


@settings(max_examples=300, deadline=None)
@given(query=valid_queries)
def test_button_values_round_trip_within_slacks_limit(query):
    value = encode_query(query)
    assert len(value) <= 2000
    assert decode_query(value, now=NOW) == query


@pytest.mark.parametrize(
    "value",
    [
        "",
        "q0;s=failed",
        "q1;s=faild",
        "q1;x=1",
        "q1;s=",
        "q1;p=0",
        "q1;p=1;p=2",
        "q1;f=2020-01-01T00:00:00Z",
        "q1;i=1;g=rg-1",
        "q1;o=not-a-url",
        '{"page": 2}',
    ],
)
def test_tampered_button_values_are_invalid_queries(value):
    with pytest.raises(InvalidQuery):
        decode_query(value, now=NOW)


def test_a_wildcard_domain_is_a_query_too():
    # The task source expands it over the account's domains.
    assert parse_query("domain:*.Example.com failed", now=NOW).domain == "*.example.com"


def test_a_subscription_hears_of_stuck_tasks_unless_it_opts_out():
    assert parse_query("subscribe", now=NOW) == Subscribe()
    assert parse_query("subscribe www.example.com stuck:off", now=NOW) == Subscribe(
        domain="www.example.com", stuck=False
    )
    assert parse_query("subscribe stuck:on type:file", now=NOW) == Subscribe(
        object_type=ObjectType.FILE, stuck=True
    )
    with pytest.raises(InvalidQuery, match="once"):
        parse_query("subscribe stuck:off stuck:on", now=NOW)


def test_stats_cover_the_last_day_unless_told_otherwise():
    assert parse_query("stats", now=NOW) == Stats(since=NOW - timedelta(days=1), until=NOW)
    week = parse_query("stats domain:www.example.com type:dir since:7d", now=NOW, kept_days=30)
    assert week == Stats(
        since=NOW - timedelta(days=7),
        until=NOW,
        domain="www.example.com",
        object_type=ObjectType.DIRECTORY,
    )


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("stats status:failed", "status"),
        ("stats 704225667", "id"),
        ("stats domain:*.x.com", "domain"),
    ],
)
def test_stats_refuse_what_they_cannot_filter_by(text, field):
    with pytest.raises(InvalidQuery) as raised:
        parse_query(text, now=NOW)
    assert raised.value.field == field


def test_times_reach_back_as_far_as_the_history_keeps():
    with pytest.raises(InvalidQuery, match="the API keeps only the last 3 days"):
        parse_query("since:10d", now=NOW)
    assert parse_query("since:10d", now=NOW, kept_days=30).since == NOW - timedelta(days=10)
    with pytest.raises(InvalidQuery, match="the bot keeps only the last 30 days"):
        parse_query("since:40d", now=NOW, kept_days=30)

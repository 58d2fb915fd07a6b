"""The /cdn stats message on known data: the numbers, the period before, failures, where the
chart went, within Slack's limits and inert whatever the domains say."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.query import Stats
from bot.core.stats import decode_stats, report
from bot.core.tasks import ObjectType, Status, Task
from bot.slack.render import ActionId
from bot.slack.stats_render import UPLOAD_WORDS, chart_alt, chart_title, stats_page
from bot.slack.uploads import Uploaded
from tests.slack.limits import assert_inert, check_message

NOW = datetime(2026, 11, 27, 10, 30, tzinfo=UTC)
QUERY = Stats(since=NOW - timedelta(days=1), until=NOW)
SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Kept:
    task: Task
    ended_at: datetime | None = None


def task(n: int, ago: timedelta, status: Status, host: str, reason: str | None = None) -> Task:
    return Task(
        str(704_000_000 + n),
        f"https://{host}/{n}.js",
        ObjectType.FILE,
        status,
        100.0,
        NOW - ago,
        reason,
    )


def known_day() -> list[Kept]:
    """120 tasks today (100 complete in 2 to 11 min, 12 failed, 8 running) and 80 the day
    before (76 complete in 3 min, 4 failed)."""
    kept = []
    for n in range(100):
        kept.append(
            Kept(
                task(n, timedelta(minutes=10 + n * 7), Status.COMPLETE, "www.example.com"),
                NOW - timedelta(minutes=10 + n * 7) + timedelta(minutes=2 + n % 10),
            )
        )
    for n in range(12):
        host = "img.example.com" if n < 8 else "video.example.com"
        reason = "Origin Timeout" if n % 3 else "Origin Return StatusCode 5XX"
        kept.append(Kept(task(200 + n, timedelta(hours=n + 1), Status.FAILED, host, reason)))
    for n in range(8):
        kept.append(
            Kept(task(300 + n, timedelta(minutes=n + 1), Status.REFRESHING, "a.example.com"))
        )
    for n in range(80):
        ago = timedelta(days=1, minutes=5 + n * 10)
        status = Status.FAILED if n < 4 else Status.COMPLETE
        ended = NOW - ago + timedelta(minutes=3) if status is Status.COMPLETE else None
        kept.append(Kept(task(400 + n, ago, status, "www.example.com", "Internal Error"), ended))
    return kept


def texts(payload: dict) -> str:
    return json.dumps(payload, ensure_ascii=False)


def test_a_known_day_reads_as_numbers_beside_the_day_before():
    found = report(known_day(), QUERY, tz=SHANGHAI)
    reply = stats_page(found, uploaded=Uploaded("D0ANA1234", permalink="https://x.slack.com/f/F1"))
    payload = reply.payload()
    check_message(payload)
    assert_inert_except_links(payload)
    blocks = payload["blocks"]
    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "📊 CDN tasks · 24 h", "emoji": True},
    }
    fields = [field["text"] for field in blocks[2]["fields"]]
    assert fields == [
        "*Tasks*\n120 (+50% on the 24 h before)",
        "*❌ Failed*\n12 · 11% of finished (+5.7 pts)",
        "*✅ Complete*\n100",
        "*🔄 Still running*\n8 (0 pending, 8 refreshing)",
        "*:stopwatch: Time to complete*\nmedian 6 min 30 s · p90 10 min 6 s"
        " · +3 min 30 s on the median",
        "*The 24 h before*\n80 tasks · 4 failed · median 3 min · p90 3 min",
    ]
    failures = blocks[3]["text"]["text"]
    assert failures.splitlines() == [
        "*Most failures*",
        "1. `img.example.com` — 8",
        "2. `video.example.com` — 4",
        "*Why they failed*",
        "Origin timeout 8 · Origin 5xx 4",
    ]
    note = blocks[4]["elements"][0]["text"]
    link = "<https://x.slack.com/f/F1|in your DM with the bot>"
    assert note == f":bar_chart: Chart of tasks per hour: {link}."
    (button,) = blocks[5]["elements"]
    assert button["action_id"] == ActionId.SHARE_STATS
    assert decode_stats(button["value"], kept_days=3) == QUERY
    assert reply.text == (
        "CDN tasks · 24 h: 120 tasks, 12 failed (11% of finished), "
        "time to complete median 6 min 30 s · p90 10 min 6 s"
    )


def assert_inert_except_links(payload: dict) -> None:
    """assert_inert, with the chart's own permalink allowed."""
    cleaned = texts(payload).replace("<https://x.slack.com/f/F1|in your DM with the bot>", "")
    assert_inert(json.loads(cleaned))


def test_the_shared_copy_names_who_shared_it_and_has_no_button():
    found = report(known_day(), QUERY, tz=SHANGHAI)
    payload = stats_page(found, uploaded=Uploaded("C1"), shared_by="U0ANA1234").payload()
    check_message(payload)
    assert_inert(payload)
    assert not [block for block in payload["blocks"] if block["type"] == "actions"]
    assert "Chart of tasks per hour: above. · shared by <@U0ANA1234>" in texts(payload)


def test_a_chart_that_could_not_be_shared_is_said_in_words():
    found = report(known_day(), QUERY)
    for error, words in UPLOAD_WORDS.items():
        payload = stats_page(found, uploaded=Uploaded("C1", error=error)).payload()
        assert f"The chart could not be shared: {words}" in texts(payload)
        assert "*Tasks*\\n120" in texts(payload)  # the numbers are all there
    odd = stats_page(found, uploaded=Uploaded("C1", error="<!channel>")).payload()
    assert_inert(odd)
    assert "could not be drawn" in texts(stats_page(found, uploaded=None).payload())


def test_a_dm_is_told_the_chart_is_here():
    found = report(known_day(), QUERY)
    payload = stats_page(found, uploaded=Uploaded("D1"), dm=True).payload()
    assert "Chart of tasks per hour: here." in texts(payload)


def test_an_empty_period_says_where_the_history_starts():
    found = report([], QUERY)
    payload = stats_page(found, uploaded=None).payload()
    check_message(payload)
    assert "No tasks in the history for this period or the one before" in texts(payload)
    assert "No chart: no tasks in this period." in texts(payload)
    assert not [block for block in payload["blocks"] if block["type"] == "actions"]


def test_one_domain_skips_the_domain_list_and_a_scope_is_named():
    one = Stats(since=QUERY.since, until=NOW, domain="img.example.com", object_type=ObjectType.FILE)
    payload = stats_page(report(known_day(), one), uploaded=Uploaded("D1")).payload()
    assert payload["blocks"][0]["text"]["text"] == "📊 img.example.com · file · 24 h"
    assert "*Most failures*" not in texts(payload)
    assert "`domain: img.example.com` · `type: file`" in texts(payload)
    scoped = report(known_day(), QUERY, within=("*.example.com",))
    assert "this channel's domains: `*.example.com`" in texts(
        stats_page(scoped, uploaded=Uploaded("D1")).payload()
    )


def test_hostile_domains_stay_text():
    hostile = [Kept(task(1, timedelta(hours=1), Status.FAILED, "<!channel>*x*.example.com"))]
    payload = stats_page(report(hostile, QUERY), uploaded=Uploaded("D1")).payload()
    check_message(payload)
    assert_inert(payload)


def test_a_partly_kept_period_before_is_said():
    found = report(known_day(), QUERY, kept_since=NOW - timedelta(hours=30))
    assert "does not reach back over all of the period before" in texts(
        stats_page(found, uploaded=Uploaded("D1")).payload()
    )


def test_the_chart_has_a_title_and_alt_text():
    found = report(known_day(), QUERY, tz=SHANGHAI)
    assert chart_title(found) == "CDN tasks · 24 h to 27 Nov 18:30"
    alt = chart_alt(found)
    assert alt.startswith("Stacked bar chart of tasks per hour by status: 120 tasks, 12 failed")
    assert len(alt) <= 1000

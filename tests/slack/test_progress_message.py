"""The progress message: what it says while running, at the end and at the cap, within
Slack's limits and inert whatever the paths hold."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.core.progress import follow, tally
from bot.core.query import decode_query
from bot.core.submission import Action, Kind, Submission
from bot.core.tasks import ObjectType, Status, Task
from bot.slack.progress_message import headline, progress
from bot.slack.render import ActionId
from tests.slack.limits import assert_inert, check_message

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def submission(paths, kind=Kind.FILE, action=Action.REFRESH):
    return Submission(action, kind, tuple(paths))


def tracked(paths, ids, **options):
    return follow(
        submission(paths, **options),
        ids,
        id="f" * 32,
        user="U0ANA1234",
        channel="C1",
        refused=0,
        at=NOW,
        private=False,
    )


def failed(n: int, path: str) -> Task:
    return Task(str(n), path, ObjectType.FILE, Status.FAILED, 0, NOW, "Origin Timeout")


def buttons(payload):
    (block,) = [b for b in payload["blocks"] if b["type"] == "actions"]
    return {e["action_id"]: e for e in block["elements"]}


def test_headlines_name_who_what_and_where():
    paths = ["https://www.example.com/a/", "https://www.example.com/b/", "https://x.example.com/"]
    assert headline(tracked(paths, ["1"], kind=Kind.DIRECTORY)) == (
        "<@U0ANA1234> refreshed 3 directories on www.example.com and 1 more domain"
    )
    one = tracked(paths[:1], ["1"], action=Action.PREFETCH)
    assert headline(one) == "<@U0ANA1234> prefetched 1 URL on www.example.com"


def test_running_has_no_buttons_and_says_when_it_was_updated():
    followed = tracked(["https://www.example.com/a.js"], ["1"])
    payload = progress(followed, tally(["1"], []), now=NOW, final=False).payload()
    check_message(payload)
    assert "⏳ 1 pending — 0%" in payload["text"]
    assert not [b for b in payload["blocks"] if b["type"] == "actions"]
    assert "updated <!date^" in json.dumps(payload)


def test_the_end_lists_failures_with_reasons_and_buttons_within_limits():
    paths = [f"https://www.example.com/<!channel>/{n}/" + "x" * 1000 for n in range(300)]
    ids = [str(10**19 + n) for n in range(300)]
    tasks = [failed(10**19 + n, path) for n, path in enumerate(paths)]
    followed = tracked(paths, ids)
    payload = progress(followed, tally(ids, tasks), now=NOW, final=True).payload()
    check_message(payload)
    assert_inert(payload)
    text = json.dumps(payload, ensure_ascii=False)
    assert "*Failed (300):*" in text and "Origin timeout" in text
    assert "…and 290 more: *Show failed* lists them." in text
    found = buttons(payload)
    assert found[ActionId.RETRY_FAILED]["value"] == followed.id
    assert found[ActionId.RETRY_FAILED]["text"]["text"] == "Retry failed (300)"
    show = found[ActionId.SHOW_FAILED]["value"]
    assert len(show) <= 2000
    query = decode_query(show, now=NOW)
    assert query.status is Status.FAILED and 50 < len(query.task_ids) < 100


def test_the_cap_says_it_stopped_and_what_is_unfinished():
    followed = tracked(["https://www.example.com/a.js"], ["1"])
    running = Task("1", "https://www.example.com/a.js", "file", Status.REFRESHING, 40, NOW)
    later = NOW + timedelta(minutes=30)
    payload = progress(followed, tally(["1"], [running]), now=later, final=True).payload()
    assert "stopped following after 30 min with 1 unfinished" in json.dumps(payload)
    assert ":stopwatch:" in json.dumps(payload)

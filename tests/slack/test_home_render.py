"""The App Home's Block Kit, pure: within Slack's limits whatever the data, every untrusted
string inert, and each part shown only when the dashboard holds it."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.home import FAILED_ROWS, RUNNING_ROWS, Dashboard
from bot.core.tasks import RefreshQuota, Status, Task
from bot.core.watch import Subscription
from bot.slack.home_render import home_channel, home_view, problem_view
from bot.slack.render import ActionId
from tests.slack.limits import HOSTILE, check_message

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
QUOTA = RefreshQuota(
    url_quota=10_000, url_remain=9_998, dir_quota=100, dir_remain=100, regex_quota=20,
    regex_remain=20, preload_quota=1_000, preload_remain=990, block_quota=0, block_remain=0,
    ignore_params_quota=10_000, ignore_params_remain=10_000,
)  # fmt: skip


def task(n: int, status: Status, *, path: str | None = None) -> Task:
    path = path or f"https://www.example.com/{'deep/' * 80}{n}.js"
    return Task(str(704225667 - n), path, "file", status, 45, NOW - timedelta(minutes=n))


def full() -> Dashboard:
    hostile = [
        task(n, Status.FAILED, path=f"https://x.example.com/{h}") for n, h in enumerate(HOSTILE)
    ]
    failed = tuple(hostile + [task(n, Status.FAILED) for n in range(FAILED_ROWS - len(hostile))])
    return Dashboard(
        "U0ANA1234",
        NOW,
        scope=("www.example.com", "*.<!here>.example.com"),
        may_submit=True,
        failed=failed,
        failed_total=537,
        running=tuple(task(n, Status.REFRESHING) for n in range(RUNNING_ROWS)),
        running_total=40,
        quota=QUOTA,
        subscriptions=tuple(
            Subscription(f"C{n:08d}", f"<!channel>{n}.example.com", None, "U0BOB0001", NOW,
                         unreachable="<@U1> not_in_channel")
            for n in range(40)
        ),
    )  # fmt: skip


def mrkdwn(view: dict) -> list[str]:
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(view["blocks"])
    return found


def check(view: dict) -> None:
    assert view["type"] == "home" and view["callback_id"] == "cdn_home"
    assert len(view["blocks"]) <= 100 and len(json.dumps(view).encode()) < 250_000
    check_message({"text": "home", "blocks": view["blocks"]})
    for text in mrkdwn(view):
        for inside in re.findall(r"<([^>]*)>", text):
            assert inside.startswith(("!date^", "#C")) or inside.startswith("@U0ANA1234"), text


def test_a_full_dashboard_fits_and_every_string_stays_inert():
    view = home_view(full(), channel="D0ANA1234")
    check(view)
    said = json.dumps(view, ensure_ascii=False)
    assert "&lt;!here&gt;" in said and "&lt;!channel&gt;0" in said
    assert "…and 25 more" in said  # subscriptions past the first 15
    assert "The newest 20 of 537" in said and "…and 32 more" in said
    assert json.loads(view["private_metadata"]) == {"channel": "D0ANA1234"}


def test_an_empty_dashboard_says_there_is_nothing():
    view = home_view(Dashboard("U0ANA1234", NOW, subscriptions=()), channel="D1")
    check(view)
    said = json.dumps(view, ensure_ascii=False)
    assert "No failed tasks in the last 24 hours" in said and "Nothing running" in said
    assert "None of your channels hears about failed tasks" in said
    assert "quota" not in said  # nothing to show, nothing said
    actions = [b for b in view["blocks"] if b["type"] == "actions"]
    assert [e["action_id"] for e in actions[0]["elements"]] == [
        ActionId.HOME_FAILED,
        ActionId.HOME_RELOAD,
    ]


def test_a_refusal_replaces_the_tasks_but_keeps_the_subscriptions():
    sub = Subscription("C00000001", None, None, "U0BOB0001", NOW)
    dashboard = Dashboard("U0ANA1234", NOW, refusal="Sorry, <b> may not.", subscriptions=(sub,))
    view = home_view(dashboard, channel="D1")
    check(view)
    assert not [b for b in view["blocks"] if b["type"] in ("table", "actions")]
    said = json.dumps(view)
    assert "Sorry, &lt;b&gt; may not." in said and "<#C00000001>: every domain" in said


def test_the_problem_view_offers_try_again():
    view = problem_view("The CDN API <is> down.", channel="D1")
    check(view)
    assert "The CDN API &lt;is&gt; down." in json.dumps(view)
    assert view["blocks"][-1]["elements"][0]["action_id"] == ActionId.HOME_RELOAD


@pytest.mark.parametrize(
    ("view", "channel"),
    [
        ({"private_metadata": '{"channel": "D1"}'}, "D1"),
        ({"private_metadata": "not json"}, ""),
        ({"private_metadata": '{"channel": 7}'}, ""),
        ({"private_metadata": "[]"}, ""),
        ({}, ""),
        (None, ""),
    ],
)
def test_the_home_channel_is_read_back_from_a_click(view, channel):
    assert home_channel(view) == channel

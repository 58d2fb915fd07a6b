"""Block Kit for "Check CDN tasks", pure: the tasks table, what was not looked up and why,
"Refresh these", all within Slack's limits and inert whatever the links say."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.core.links import MAX_LINKS, Links, LinkTasks
from bot.core.tasks import Status, Task
from bot.slack.links_render import link_tasks, no_links
from bot.slack.render import ActionId
from tests.slack.limits import HOSTILE, assert_inert, check_message

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


def payload(reply):
    return {"text": reply.text, "blocks": [block.to_dict() for block in reply.blocks]}


def test_hostile_links_stay_text_and_every_list_is_bounded():
    hostile = tuple(f"https://x.example.com/{h}" for h in HOSTILE)
    tasks = tuple(
        Task(str(n), url, "file", Status.FAILED, 0, NOW - timedelta(minutes=n))
        for n, url in enumerate(hostile)
    )
    found = LinkTasks(
        Links(hostile[:MAX_LINKS], left_out=hostile * 3, too_long=hostile),
        tasks,
        without_tasks=hostile,
        outside=hostile[:2],
        scope=("<!here>.example.com",),
        refreshable=hostile[2:4],
    )
    reply = payload(link_tasks(found))
    check_message(reply)
    assert_inert(reply)
    said = json.dumps(reply, ensure_ascii=False)
    assert "…and" in said and "&lt;!here&gt;" in said
    (actions,) = [b for b in reply["blocks"] if b["type"] == "actions"]
    (button,) = actions["elements"]
    assert button["action_id"] == ActionId.REFRESH_LINKS
    assert button["value"].split("\n") == list(hostile[2:4])
    assert "fills the form with the first 2" in said


def test_links_without_tasks_say_so_and_offer_no_button_when_not_refreshable():
    url = "https://www.example.com/a.js"
    reply = payload(link_tasks(LinkTasks(Links((url,)), without_tasks=(url,))))
    check_message(reply)
    assert "No refresh or prefetch tasks of these links" in reply["blocks"][1]["text"]["text"]
    assert not [b for b in reply["blocks"] if b["type"] in ("actions", "table")]
    assert "no http:// or https:// links" in no_links().text

"""The links of a Slack message: `<url|label>` markup, bare URLs, rich-text link elements and
text, in order, each once, at most MAX_LINKS looked up and the rest named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.filters import MAX_URL
from bot.core.links import MAX_LINKS, Links, link_tasks, links_in
from bot.core.tasks import Status, Task

A = "https://www.example.com/a.js"
B = "http://img.example.com/b.png?x=1&y=2"


@pytest.mark.parametrize(
    ("text", "found"),
    [
        (f"<{A}|the app>", [A]),
        (f"<{A}>", [A]),
        (f"see {A}.", [A]),  # a sentence's full stop is not part of it
        (f"({A})", [A]),
        ("https://en.example.org/wiki/Thing_(x)", ["https://en.example.org/wiki/Thing_(x)"]),
        (f"{A}, {A} and <{A}|again>", [A]),  # each once
        ("<http://img.example.com/b.png?x=1&amp;y=2>", [B]),  # Slack's entities undone
        ("http://img.example.com/b.png?x=1&amp;y=2", [B]),
        (f"<{A}#section>", [A]),  # no fragment reaches a CDN
        ("<@U0BOB0001> <#C1|ops> <!here> <mailto:a@b.example>", []),
        ("ftp://files.example.com/x https://localhost/x https://*.example.com/x", []),
        (f"`{A}`", [A]),  # in code, where Slack does not link it
    ],
)
def test_links_in_text(text, found):
    assert list(links_in({"text": text}).checked) == found


def test_rich_text_links_come_first_then_text_and_attachments():
    link = {"type": "link", "url": B, "text": "logo"}
    code = {"type": "rich_text_preformatted", "elements": [{"type": "text", "text": A}]}
    listed = {
        "type": "rich_text_list",
        "elements": [{"type": "rich_text_section", "elements": [link]}],
    }
    message = {
        "text": f"<{A}> and <https://static.example.org/c.css>",
        "blocks": [{"type": "rich_text", "elements": [listed, code]}],
        "attachments": [{"text": "<https://video.example.net/d.mp4|video>"}],
    }
    assert links_in(message).checked == (
        B,
        A,
        "https://static.example.org/c.css",
        "https://video.example.net/d.mp4",
    )


def test_sections_fields_and_table_cells_are_read_but_not_button_urls():
    message = {
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"<{A}|a>"}},
            {"type": "section", "fields": [{"type": "plain_text", "text": B}]},
            {"type": "table", "rows": [[{"type": "raw_text", "text": "https://t.example.com/x"}]]},
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open"},
                        "url": "https://console.example.com/",
                    }
                ],
            },
        ]
    }
    assert links_in(message).checked == (A, B, "https://t.example.com/x")


def test_past_the_limit_links_are_left_out_in_order_and_long_ones_set_aside():
    urls = [f"https://www.example.com/{n}.js" for n in range(MAX_LINKS + 2)]
    long = "https://www.example.com/" + "x" * MAX_URL
    found = links_in({"text": " ".join([long, *urls])})
    assert found.checked == tuple(urls[:MAX_LINKS])
    assert found.left_out == tuple(urls[MAX_LINKS:])
    assert found.too_long == (long,)


def test_nonsense_shapes_are_no_links():
    assert links_in({"text": 7, "blocks": "x", "attachments": [None, 3]}) == Links()
    deep: dict = {"type": "rich_text", "elements": []}
    node = deep
    for _ in range(50):  # deeper than any real message: not walked to the bottom
        child = {"type": "rich_text_section", "elements": []}
        node["elements"].append(child)
        node = child
    node["elements"].append({"type": "link", "url": A})
    assert links_in({"blocks": [deep]}).checked == ()


@given(st.text(max_size=400))
def test_any_text_gives_distinct_http_links_within_the_limits(text):
    found = links_in(
        {
            "text": text,
            "blocks": [
                {
                    "type": "rich_text",
                    "elements": [
                        {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
                    ],
                }
            ],
        }
    )
    every = found.checked + found.left_out + found.too_long
    assert len(set(every)) == len(every)
    assert len(found.checked) <= MAX_LINKS
    assert all(url.lower().startswith(("http://", "https://")) for url in every)
    assert all(len(url) <= MAX_URL for url in found.checked + found.left_out)
    assert all(not any(c.isspace() for c in url) and "#" not in url for url in every)


def test_link_tasks_keep_exact_paths_newest_first_and_name_links_without_tasks():
    now = datetime(2026, 11, 28, 12, tzinfo=UTC)

    def task(task_id, path, minutes_ago):
        return Task(
            task_id, path, "file", Status.COMPLETE, 100, now - timedelta(minutes=minutes_ago)
        )

    links = Links((A, B))
    found = {
        A: [task("1", A, 30), task("2", A + "?v=2", 10), task("3", A, 5)],
        B: [],
    }
    result = link_tasks(links, found, refreshable=(A, B))
    assert [t.task_id for t in result.tasks] == ["3", "1"]
    assert result.without_tasks == (B,)
    assert result.looked_up == (A, B)

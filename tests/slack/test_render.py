"""Rendered messages: typical, empty, failing, huge and hostile pages, within Slack's limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.audit import AuditEntry
from bot.core.display import shorten_path
from bot.core.query import TaskQuery, decode_query, parse_query
from bot.core.tasks import MAX_PAGE_SIZE, ObjectType, Status, Task, TaskPage
from bot.errors import InvalidQuery
from bot.slack.help import TOPICS, help_reply
from bot.slack.render import (
    BUTTON_LABELS,
    MAX_TABLE_TASKS,
    ActionId,
    apology,
    audit_trail,
    escape,
    fit,
    problem,
    task_page,
)
from bot.wording import WORDING
from tests.slack.limits import HOSTILE, assert_inert, check_message

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def make_task(n: int, *, path: str | None = None, status: str = "Complete", kind="file", **extra):
    return Task(
        task_id=str(1000 + n),
        object_path=path or f"https://www.example.com/assets/{n}.png",
        object_type=kind,
        status=status,
        progress=100 if status == "Complete" else 40,
        created=NOW - timedelta(minutes=n),
        description="Origin Timeout" if status == "Failed" else None,
        **extra,
    )


def page_of(tasks, *, page=1, size=20, total=None):
    return TaskPage(tuple(tasks), page, size, len(tasks) if total is None else total, ("r1",))


def buttons(payload):
    actions = [block for block in payload["blocks"] if block["type"] == "actions"]
    return {element["action_id"]: element for element in actions[0]["elements"]} if actions else {}


def table_rows(payload):
    (table,) = [block for block in payload["blocks"] if block["type"] == "table"]
    return table["rows"]


def test_typical_page_snapshot():
    query = parse_query("failed www.example.com page:2 size:2", now=NOW)
    tasks = [make_task(1, status="Failed"), make_task(2, status="Refreshing")]
    reply = task_page(
        page_of(tasks, page=2, size=2, total=7),
        query,
        age=12,
        covered=(ObjectType.FILE, ObjectType.DIRECTORY),
    )
    payload = reply.payload()
    check_message(payload)
    kinds = [block["type"] for block in payload["blocks"]]
    assert kinds == ["header", "section", "section", "table", "context", "actions"]
    assert payload["blocks"][0]["text"]["text"] == "Failed tasks · www.example.com"
    assert "`domain: www.example.com`" in payload["blocks"][1]["text"]["text"]
    assert "types file, directory" in payload["blocks"][1]["text"]["text"]
    assert payload["blocks"][2]["text"]["text"] == "*On this page:* ❌ 1 failed · 🔄 1 refreshing"
    rows = table_rows(payload)
    assert [cell["text"] for cell in rows[0]] == [
        "Task ID", "Status", "Progress", "Type", "Object path", "Created", "Reason",
    ]  # fmt: skip
    first = rows[1]
    assert [first[i]["text"] for i in (0, 1, 2, 3, 6)] == [
        "1001", "❌ Failed", "40%", "file", "Origin timeout",
    ]  # fmt: skip
    assert first[4]["text"] == "https://www.example.com/assets/1.png"
    date = first[5]["elements"][0]["elements"][0]
    assert date["type"] == "date" and date["timestamp"] == int(
        (NOW - timedelta(minutes=1)).timestamp()
    )
    assert payload["blocks"][4]["elements"][0]["text"] == "Page 2 of 4 · 7 tasks · cached 12 s ago"
    found = buttons(payload)
    assert list(found) == [ActionId.PREV, ActionId.NEXT, ActionId.REFRESH, ActionId.SHARE]
    assert decode_query(found[ActionId.PREV]["value"], now=NOW).page == 1
    assert decode_query(found[ActionId.NEXT]["value"], now=NOW).page == 3
    assert decode_query(found[ActionId.REFRESH]["value"], now=NOW) == query
    assert "Failed tasks" in payload["text"] and "7 tasks" in payload["text"]


@pytest.mark.parametrize(
    ("total", "words"), [(1, "Page 1 of 1 · 1 task ·"), (1200, "Page 1 of 60 · 1,200 tasks")]
)
def test_counts_are_singular_or_plural(total, words):
    payload = task_page(page_of([make_task(1)], total=total), TaskQuery(), age=0).payload()
    assert words in json.dumps(payload, ensure_ascii=False)
    assert "1 tasks" not in json.dumps(payload)


def test_paging_buttons_only_where_they_lead():
    one_page = task_page(page_of([make_task(1)]), TaskQuery(), age=0).payload()
    assert list(buttons(one_page)) == [ActionId.REFRESH, ActionId.SHARE]
    last = task_page(
        page_of([make_task(1)], page=3, size=1, total=3), TaskQuery(page=3, size=1), age=0
    )
    assert list(buttons(last.payload())) == [ActionId.PREV, ActionId.REFRESH, ActionId.SHARE]


@pytest.mark.parametrize(
    ("text", "advice", "not_said"),
    [
        ("failed since:1h", ["since:3d", "without `status:failed`"], ["fewer filters"]),
        ("failed www.example.com", ["dropping one of `status:failed`, `domain:"], ["since:3d"]),
        ("type:dir", ["without `type:directory`"], ["dropping", "since:3d"]),
        ("tasks", ["No refresh or prefetch tasks in the last 3 days"], ["Try", "filters"]),
        ("id:1", ["checking the IDs"], ["without"]),
    ],
)
def test_empty_page_advice_fits_the_query(text, advice, not_said):
    payload = task_page(page_of([]), parse_query(text, now=NOW), age=0).payload()
    check_message(payload)
    assert not [block for block in payload["blocks"] if block["type"] == "table"]
    said_text = json.dumps(payload, ensure_ascii=False)
    assert all(words in said_text for words in advice), said_text
    assert not any(words in said_text for words in not_said), said_text
    # Nothing to refresh into view or to share: no buttons at all.
    assert not buttons(payload)
    assert "No tasks" in payload["text"] and "0 tasks" not in said_text


def test_page_past_the_end_says_so():
    payload = task_page(
        page_of([], page=99, size=20, total=410), TaskQuery(page=99), age=0
    ).payload()
    text = json.dumps(payload, ensure_ascii=False)
    assert "past the end" in text and "Page 99 of 21" not in text
    assert "Past the end: 21 pages · 410 tasks" in text
    assert list(buttons(payload)) == [ActionId.PREV]
    assert decode_query(buttons(payload)[ActionId.PREV]["value"], now=NOW).page == 21
    payload = task_page(page_of([], page=9, size=20, total=30), TaskQuery(page=9), age=0).payload()
    assert decode_query(buttons(payload)[ActionId.PREV]["value"], now=NOW).page == 2


def test_shared_copy_has_no_buttons_and_names_the_sharer():
    payload = task_page(page_of([make_task(1)]), TaskQuery(), age=0, shared_by="U0ABC123").payload()
    check_message(payload)
    assert not buttons(payload)
    assert "shared by <@U0ABC123>" in payload["blocks"][-1]["elements"][0]["text"]
    forged = task_page(page_of([make_task(1)]), TaskQuery(), age=0, shared_by="!channel").payload()
    assert_inert(forged)


def test_a_page_says_when_it_was_fetched_and_a_shared_copy_says_as_of():
    fetched = NOW - timedelta(seconds=12)
    token = f"<!date^{int(fetched.timestamp())}^{{time_secs}}|11:59:48 UTC>"
    private = task_page(page_of([make_task(1)]), TaskQuery(), age=12, fetched=fetched).payload()
    context = private["blocks"][-2]["elements"][0]["text"]
    assert f"cached 12 s ago · updated {token}" in context
    live = task_page(page_of([make_task(1)]), TaskQuery(), age=0, fetched=NOW).payload()
    assert "live · updated <!date^" in live["blocks"][-2]["elements"][0]["text"]
    shared = task_page(
        page_of([make_task(1)]), TaskQuery(), age=0, fetched=fetched, shared_by="U0ABC123"
    ).payload()
    check_message(shared)
    assert_inert(shared)
    context = shared["blocks"][-1]["elements"][0]["text"]
    assert f"as of {token}" in context and "live" not in context


def test_a_shared_copy_names_its_rows_not_pages_it_cannot_reach():
    tasks = [make_task(n) for n in range(10)]
    shared = task_page(
        page_of(tasks, page=2, size=10, total=37), TaskQuery(page=2), age=0, shared_by="U0ABC123"
    ).payload()
    text = json.dumps(shared, ensure_ascii=False)
    assert "11 to 20 of 37 tasks" in text and "Page 2 of 4" not in text
    private = task_page(page_of(tasks, page=2, size=10, total=37), TaskQuery(page=2), age=0)
    assert "Page 2 of 4 · 37 tasks" in json.dumps(private.payload(), ensure_ascii=False)


def test_the_audit_view_shows_mentions_labels_and_local_times():
    entries = [
        AuditEntry(NOW, "U0ANA1234", "C0OPS1234", "action", ActionId.REFRESH.value),
        AuditEntry(
            NOW, "U0ANA1234", "C0OPS1234", "command", "url:&lt;https://a.example/x?a=1&amp;b=2&gt;"
        ),
        AuditEntry(NOW, "terminal", "", "command", "failed"),
    ]
    payload = audit_trail(entries).payload()
    check_message(payload)
    refresh, typed, local = table_rows(payload)[1:]
    assert refresh[0]["elements"][0]["elements"][0] == {
        "type": "date",
        "timestamp": int(NOW.timestamp()),
        "format": "{date_short_pretty} {time_secs}",
        "fallback": "2026-11-28 12:00:00 UTC",
    }
    assert refresh[1]["elements"][0]["elements"][0] == {"type": "user", "user_id": "U0ANA1234"}
    assert refresh[2]["elements"][0]["elements"][0] == {
        "type": "channel",
        "channel_id": "C0OPS1234",
    }
    assert refresh[4]["text"] == "Refresh"
    assert typed[4]["text"] == "url:<https://a.example/x?a=1&b=2>"  # escaped once, by Slack
    assert [local[1]["text"], local[2]["text"]] == ["terminal", " "]
    assert "&lt;" not in json.dumps(payload)


def test_every_button_has_a_label_for_the_audit_view():
    fields = {ActionId.WRITE_URLS, ActionId.WRITE_KIND, ActionId.WRITE_FORCE, ActionId.WRITE_AREA}
    fields.add(ActionId.WRITE_CHANNEL)
    assert set(BUTTON_LABELS) == set(ActionId) - fields


@pytest.mark.parametrize("rows", [1, 20, 99])
def test_huge_pages_of_long_urls_fit(rows):
    long_path = "https://img.example.com/" + "d/" * 500
    tasks = [make_task(n, path=long_path[:1024], status="Failed") for n in range(rows)]
    query = TaskQuery(size=100, object_path=long_path[:1024])
    payload = task_page(page_of(tasks, size=100, total=5000), query, age=3).payload()
    check_message(payload)
    assert len(table_rows(payload)) == rows + 1
    assert all(len(buttons(payload)[a]["value"]) <= 2000 for a in buttons(payload))


def test_rows_that_cannot_fit_are_left_out_with_a_note():
    giant = [
        Task(task_id="9" * 200 + str(n), object_path=t.object_path, object_type="x" * 300,
             status=t.status, progress=100, created=t.created)
        for n, t in enumerate(make_task(n) for n in range(99))
    ]  # fmt: skip
    payload = task_page(page_of(giant, size=99), TaskQuery(size=99), age=0).payload()
    check_message(payload)
    shown = len(table_rows(payload)) - 1
    assert 80 <= shown <= 99  # shortened cells: (nearly) every row still fits
    if shown < 99:
        assert f"Only the first {shown} of the 99 tasks" in json.dumps(payload)
    realistic = [make_task(n, status="Failed") for n in range(99)]
    wide = task_page(page_of(realistic, size=99), TaskQuery(size=99), age=0).payload()
    assert len(table_rows(wide)) == 100


def test_pages_are_fitted_to_a_slack_table():
    fitted, note = fit(TaskQuery(size=100))
    assert fitted.size == MAX_TABLE_TASKS == 99 and "99" in note
    assert fit(TaskQuery(size=50)) == (TaskQuery(size=50), None)
    payload = task_page(page_of([make_task(1)], size=99), fitted, age=0, note=note).payload()
    assert note in json.dumps(payload, ensure_ascii=False)


def test_rows_are_dropped_only_when_nothing_else_helps(monkeypatch):
    import bot.slack.render as render

    monkeypatch.setattr(render, "TABLE_TEXT_BUDGET", 1200)
    tasks = [make_task(n, status="Failed") for n in range(30)]
    payload = render.task_page(page_of(tasks, size=30), TaskQuery(size=30), age=0).payload()
    check_message(payload)
    shown = len(table_rows(payload)) - 1
    assert 0 < shown < 30
    assert f"Only the first {shown} of the 30 tasks" in json.dumps(payload)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_paths_and_domains_are_literal_everywhere(hostile):
    path = f"https://x.example.com/{hostile}/a.png"
    tasks = [make_task(1, path=path, status="Failed")]
    query = TaskQuery(object_path=path, resource_group=None)
    payload = task_page(page_of(tasks), query, age=0).payload()
    check_message(payload)
    assert_inert(payload)
    headings, first = [[cell.get("text") for cell in row] for row in table_rows(payload)[:2]]
    assert first[headings.index("Object path")] == path  # raw_text cells are literal already
    assert escape(hostile) in payload["blocks"][1]["text"]["text"]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_words_in_errors_and_help_are_inert(hostile):
    assert_inert(problem(f"`status: {hostile}` — did you mean `failed`?").payload())
    assert_inert(help_reply(unknown=hostile).payload())
    assert_inert(help_reply(topic=hostile).payload())


def test_help_groups_every_topic_and_single_topics():
    full = help_reply().payload()
    check_message(full)
    text = json.dumps(full)
    for title, _ in TOPICS.values():
        assert title in text
    assert "/cdn failed" in text and "/cdn subscribe" in text
    single = help_reply("time").payload()
    assert "since:30m" in json.dumps(single) and "Find tasks" not in json.dumps(single)
    assert "I don't know `banana`" in json.dumps(help_reply(unknown="banana").payload())


def test_apology_carries_the_error_id():
    payload = apology("E-1234").payload()
    check_message(payload)
    assert "E-1234" in payload["text"]


def test_statuses_all_have_emoji():
    for status in Status:
        page = page_of([make_task(1, status=status.value)])
        check_message(task_page(page, TaskQuery(), age=0).payload())


@pytest.mark.parametrize(
    ("word", "offered"),
    [
        ("statsu", ["`/cdn status:failed`"]),
        ("refrsh", ["`/cdn refresh`", "`/cdn refreshing`"]),
        ("banana", ["`/cdn failed`", "`/cdn since:2h`"]),
    ],
)
def test_an_unknown_word_gets_a_few_close_things_not_the_whole_help(word, offered):
    payload = help_reply(unknown=word).payload()
    check_message(payload)
    text = json.dumps(payload)
    assert f"I don't know `{word}`" in text and all(item in text for item in offered)
    assert len(payload["blocks"]) == 1 and "Find tasks" not in text
    said_text = payload["text"]
    assert 2 <= said_text.count("`/cdn ") - said_text.count("`/cdn help`") <= 3


def test_a_long_unknown_word_is_shortened_not_cut_mid_markup():
    payload = help_reply(unknown="x" * 3000).payload()
    check_message(payload)
    assert len(payload["text"]) < 400 and payload["text"].count("`") % 2 == 0


def test_a_long_token_in_an_error_keeps_the_message_whole():
    with pytest.raises(InvalidQuery) as failure:
        parse_query("www.example.com status:" + "y" * 3000, now=NOW)
    payload = problem(WORDING[InvalidQuery](failure.value)).payload()
    check_message(payload)
    text = payload["blocks"][0]["text"]["text"]
    assert len(text) < 500 and text.count("`") % 2 == 0 and text.endswith("`pending`")


def test_page_size_limits_agree_in_help_errors_and_the_table():
    with pytest.raises(InvalidQuery) as failure:
        parse_query("size:101", now=NOW)
    paging = TOPICS["paging"][1]
    for said_text in (paging, failure.value.hint):
        assert f"1 to {MAX_PAGE_SIZE}" in said_text and f"{MAX_TABLE_TASKS}" in said_text
    fitted, note = fit(TaskQuery(size=MAX_PAGE_SIZE))
    assert fitted.size == MAX_TABLE_TASKS == MAX_PAGE_SIZE - 1 and note
    assert f"{MAX_TABLE_TASKS}" in note


def test_failed_only_tables_put_the_reason_before_the_progress():
    failed = [make_task(n, status="Failed") for n in range(3)]
    payload = task_page(page_of(failed), TaskQuery(status=Status.FAILED), age=0).payload()
    check_message(payload)
    headings, first = table_rows(payload)[:2]
    assert [cell["text"] for cell in headings] == [
        "Task ID", "Status", "Reason", "Progress", "Type", "Object path", "Created",
    ]  # fmt: skip
    assert [first[i]["text"] for i in (0, 1, 2, 3)] == [
        "1000",
        "❌ Failed",
        "Origin timeout",
        "40%",
    ]
    (table,) = [block for block in payload["blocks"] if block["type"] == "table"]
    assert table["column_settings"][3] == {"align": "right"}  # the progress keeps its alignment
    mixed = [make_task(1, status="Failed"), make_task(2)]
    mixed_rows = table_rows(task_page(page_of(mixed), TaskQuery(), age=0).payload())
    assert [cell["text"] for cell in mixed_rows[0]][2] == "Progress"


@pytest.mark.parametrize(
    ("path", "width", "shown"),
    [
        ("https://www.example.com/short.png", 80, "https://www.example.com/short.png"),
        ("https://img.example.com/" + "d/" * 60 + "last.png", 48, "https://img.example.com/d/d/d/d/d/d/…/d/last.png"),
        ("no-scheme/" + "x" * 60, 21, "no-scheme/…xxxxxxxxxx"),
        ("https://" + "h" * 60 + "/a/b/c/d/e/f/g.png", 30, "https://hhhhhhh…/c/d/e/f/g.png"),
    ],
)  # fmt: skip
def test_shortened_paths_keep_their_host(path, width, shown):
    assert shorten_path(path, width) == shown
    assert len(shown) <= width


def test_the_table_shortens_a_long_path_after_its_host():
    path = "https://img.example.com/" + "deep/" * 40 + "last.png"
    payload = task_page(page_of([make_task(1, path=path)]), TaskQuery(), age=0).payload()
    cell = table_rows(payload)[1][4]["text"]
    assert cell.startswith("https://img.example.com/deep/") and cell.endswith("/last.png")
    assert "…" in cell and len(cell) < len(path)

"""Pure Block Kit builders: domain values in, `Reply(text, blocks)` out. All escaping is here.

Every message stays inside Slack's limits whatever the data: cell widths shrink to fit the
table's text budget, and rows that still do not fit are left out with a note saying so.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    RawTextObject,
    RichTextBlock,
    RichTextElementParts,
    RichTextSectionElement,
    SectionBlock,
    TableBlock,
    TableBlockColumnSettings,
)

from bot import wording
from bot.core.audit import AuditEntry
from bot.core.display import (
    REASON_LABELS,
    STATUS_EMOJI,
    freshness,
    progress_text,
    shorten_middle,
    shorten_path,
)
from bot.core.query import TaskQuery, encode_query
from bot.core.tasks import HISTORY_DAYS, ObjectType, Status, Task, TaskPage

# Slack allows about 10,000 characters of cell text per message; stay clear of the edge.
TABLE_TEXT_BUDGET = 9_000
# A table holds 100 rows, one of them the headings.
MAX_TABLE_TASKS = 99
PATH_WIDTH = (20, 80)  # narrowest and widest object path cell
ID_WIDTH, TYPE_WIDTH = 24, 14
HEADER_LIMIT, TEXT_LIMIT, SECTION_LIMIT = 150, 3_000, 3_000
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")


class ActionId(StrEnum):
    """The action_id of every button the bot sends."""

    PREV = "cdn_page_prev"
    NEXT = "cdn_page_next"
    REFRESH = "cdn_refresh"
    SHARE = "cdn_share"
    SHARE_STATS = "cdn_share_stats"  # /cdn stats: the numbers and the chart, for the channel
    SHOW_FAILED = "cdn_show_failed"
    SHOW_TASKS = "cdn_show_tasks"  # a stuck notice's Show: its tasks by ID, as they are now
    MUTE = "cdn_mute_domain"
    UNMUTE = "cdn_unmute_domain"
    OPEN_CONSOLE = "cdn_open_console"  # a link button: acknowledged, nothing to do
    # The private confirmation of a refresh or prefetch (bot/slack/writes.py).
    CONFIRM_WRITE = "cdn_write_confirm"
    CANCEL_WRITE = "cdn_write_cancel"
    # Retry what failed: from a progress message (a followed submission's key) and from a
    # failure notification (task IDs).
    RETRY_FAILED = "cdn_retry_failed"
    RETRY_TASKS = "cdn_retry_tasks"
    # The fields of the refresh/prefetch form (bot/slack/modals.py).
    WRITE_URLS = "cdn_write_urls"
    WRITE_KIND = "cdn_write_kind"
    WRITE_FORCE = "cdn_write_force"
    WRITE_AREA = "cdn_write_area"
    WRITE_CHANNEL = "cdn_write_channel"
    # The App Home's buttons (bot/slack/home.py).
    HOME_REFRESH_FORM = "cdn_home_new_refresh"
    HOME_PREFETCH_FORM = "cdn_home_new_prefetch"
    HOME_FAILED = "cdn_home_failed"
    HOME_RELOAD = "cdn_home_reload"
    # "Refresh these" under the tasks of a message's links (bot/slack/shortcuts.py).
    REFRESH_LINKS = "cdn_refresh_links"


@dataclass(frozen=True)
class Reply:
    """A message: the fallback `text` (notifications, screen readers) and its blocks."""

    text: str
    blocks: tuple[Block, ...] = field(default=())

    @cached_property
    def _json(self) -> dict[str, Any]:
        # Turning blocks into JSON is the costly part; a digest sent to many channels does it once.
        return {"text": self.text, "blocks": [block.to_dict() for block in self.blocks]}

    def payload(self) -> dict[str, Any]:
        """The JSON body for respond() or chat.postMessage (a fresh copy each time)."""
        return {"text": self._json["text"], "blocks": list(self._json["blocks"])}

    @cached_property
    def encoded(self) -> bytes:
        """The payload as JSON bytes, encoded once however many channels it goes to."""
        return json.dumps(self._json, separators=(",", ":")).encode()


def escape(text: str) -> str:
    """Make untrusted text inert in mrkdwn: no mentions, links or formatting tokens."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mention(user_id: str) -> str:
    """`<@U123>` for a real-looking user ID, else the escaped text (never a broadcast)."""
    return f"<@{user_id}>" if _USER_ID.fullmatch(user_id) else escape(user_id)


def counted(number: int, noun: str) -> str:
    """`1 task`, `7 tasks`, `1,200 tasks`."""
    return f"{number:,} {noun}" if number == 1 else f"{number:,} {noun}s"


def slack_date(moment: datetime, *, fallback_format: str = "%Y-%m-%d %H:%M UTC") -> str:
    """A mrkdwn date every reader sees in their own timezone."""
    epoch = int(moment.timestamp())
    return f"<!date^{epoch}^{{date_short_pretty}} {{time}}|{moment:{fallback_format}}>"


def slack_time(moment: datetime) -> str:
    """A mrkdwn clock time to the second (`20:16:52`), in each reader's own timezone."""
    return f"<!date^{int(moment.timestamp())}^{{time_secs}}|{moment:%H:%M:%S} UTC>"


def looking_up() -> Reply:
    """The private note that stands in for an answer still on its way."""
    return said(":hourglass_flowing_sand: Looking up …")


# -- the task page ---------------------------------------------------------------------------


def fit(query: TaskQuery) -> tuple[TaskQuery, str | None]:
    """The query with pages no longer than a Slack table holds, and a note if it had to change."""
    if query.size <= MAX_TABLE_TASKS:
        return query, None
    note = f"Slack tables hold {MAX_TABLE_TASKS} tasks, so pages here have {MAX_TABLE_TASKS}."
    return query.model_copy(update={"size": MAX_TABLE_TASKS}), note


def _title(query: TaskQuery) -> str:
    noun = f"{query.status.value} tasks" if query.status else "Refresh & prefetch tasks"
    if query.task_ids:
        noun = "Tasks by ID"
    title = noun[0].upper() + noun[1:]
    if query.domain:
        title += f" · {query.domain}"
    return shorten_middle(title, HEADER_LIMIT)


def _filters(
    query: TaskQuery, covered: tuple[ObjectType, ...], domains: tuple[str, ...] = ()
) -> str:
    parts = []
    if query.task_ids:
        shown_ids = ", ".join(query.task_ids[:10]) + (" …" if len(query.task_ids) > 10 else "")
        parts.append(f"`id: {shown_ids}`")
    for name, value in (
        ("url", query.object_path and shorten_middle(query.object_path, 120)),
        ("domain", query.domain),
        ("type", query.object_type and query.object_type.value),
        ("status", query.status and query.status.value.lower()),
        ("rg", query.resource_group),
    ):
        if value:
            parts.append(f"`{name}: {escape(value)}`")
    if query.since:
        parts.append(f"since {slack_date(query.since)}")
    if query.until:
        parts.append(f"until {slack_date(query.until)}")
    described = " · ".join(parts) if parts else f"all tasks of the last {HISTORY_DAYS} days"
    if covered:
        described += f" _(types {', '.join(kind.value for kind in covered)})_"
    if query.domain and query.domain.startswith("*."):
        # Say which of the account's domains a wildcard covered (or that none matched).
        listed = ", ".join(escape(domain) for domain in domains) or "no domain of the account"
        described += f" _(domains {listed})_"
    return f"*Filters:* {described}"


def _counts(tasks: tuple[Task, ...]) -> str:
    counted = Counter(task.status for task in tasks)
    parts = [
        f"{STATUS_EMOJI[status]} {counted[status]} {status.value.lower()}"
        for status in (Status.FAILED, Status.REFRESHING, Status.PENDING, Status.COMPLETE)
        if counted[status]
    ]
    return "*On this page:* " + " · ".join(parts)


# Marks a row from the bot's history (the API no longer returns it).
ARCHIVED_MARK = "🗄"


def _row_cells(
    task: Task, path_width: int, order: tuple[int, ...], *, archived: bool = False
) -> tuple[list[Any], int]:
    reason = REASON_LABELS[task.reason] if task.reason else ""
    status = f"{STATUS_EMOJI[task.status]} {task.status.value}"
    texts = [
        shorten_middle(task.task_id, ID_WIDTH),
        f"{status} {ARCHIVED_MARK}" if archived else status,
        progress_text(task.progress),
        shorten_middle(str(task.object_type), TYPE_WIDTH),
        shorten_path(task.object_path, path_width),
    ]
    fallback = f"{task.created:%Y-%m-%d %H:%M} UTC"
    created = RichTextBlock(
        elements=[
            RichTextSectionElement(
                elements=[
                    RichTextElementParts.Date(
                        timestamp=int(task.created.timestamp()),
                        format="{date_short_pretty} {time}",
                        fallback=fallback,
                    )
                ]
            )
        ]
    )
    cells: list[Any] = [RawTextObject(text=text or " ") for text in texts]
    cells += [created, RawTextObject(text=reason or " ")]
    return [cells[i] for i in order], sum(map(len, texts)) + len(fallback) + len(reason)


_HEADINGS = ("Task ID", "Status", "Progress", "Type", "Object path", "Created", "Reason")
# Column order, as indexes into _HEADINGS. When every task failed, the reason matters most
# and must stay in view on a narrow screen, so it comes right after the status.
_ORDER = tuple(range(len(_HEADINGS)))
_FAILED_ORDER = (0, 1, 6, 2, 3, 4, 5)
_SETTINGS = (
    TableBlockColumnSettings(is_wrapped=False),
    TableBlockColumnSettings(is_wrapped=False),
    TableBlockColumnSettings(align="right"),
    TableBlockColumnSettings(),
    TableBlockColumnSettings(is_wrapped=True),
    TableBlockColumnSettings(),
    TableBlockColumnSettings(),
)


def task_table(tasks: tuple[Task, ...], archived: Collection[str] = ()) -> tuple[TableBlock, int]:
    """The table of as many tasks as fit the text budget, and how many that is; the tasks
    named in `archived` came from the history and are marked so."""
    budget = TABLE_TEXT_BUDGET - sum(map(len, _HEADINGS))
    tasks = tasks[:MAX_TABLE_TASKS]
    failed_only = bool(tasks) and all(task.status is Status.FAILED for task in tasks)
    order = _FAILED_ORDER if failed_only else _ORDER
    fixed = [_row_cells(task, 0, order, archived=task.task_id in archived)[1] for task in tasks]
    shown = len(tasks)
    while shown and sum(fixed[:shown]) + shown * PATH_WIDTH[0] > budget:
        shown -= 1
    room = (budget - sum(fixed[:shown])) // max(shown, 1)
    width = max(PATH_WIDTH[0], min(PATH_WIDTH[1], room))
    rows: list[list[Any]] = [[RawTextObject(text=_HEADINGS[i]) for i in order]]
    rows += [
        _row_cells(task, width, order, archived=task.task_id in archived)[0]
        for task in tasks[:shown]
    ]
    settings = [_SETTINGS[i] for i in order]
    return TableBlock(rows=rows, column_settings=settings), shown


def _button(
    label: str, action: ActionId, query: TaskQuery, *, primary: bool = False
) -> ButtonElement:
    return ButtonElement(
        text=PlainTextObject(text=label, emoji=True),
        action_id=action.value,
        value=encode_query(query),
        style="primary" if primary else None,
    )


def _buttons(query: TaskQuery, page: TaskPage) -> ActionsBlock | None:
    """Prev/Next where they lead; Refresh and Share only when there are tasks to show."""
    buttons = []
    if query.page > 1:
        buttons.append(
            _button("◀ Prev", ActionId.PREV, query.at_page(min(query.page - 1, page.page_count)))
        )
    if query.page < page.page_count:
        buttons.append(
            _button("Next ▶", ActionId.NEXT, query.at_page(query.page + 1), primary=True)
        )
    if page.tasks:
        buttons.append(_button("Refresh", ActionId.REFRESH, query))
        buttons.append(_button("Share to channel", ActionId.SHARE, query))
    return ActionsBlock(elements=buttons) if buttons else None


def task_page(
    page: TaskPage,
    query: TaskQuery,
    *,
    age: float,
    covered: tuple[ObjectType, ...] = (),
    domains: tuple[str, ...] = (),
    shared_by: str | None = None,
    note: str | None = None,
    fetched: datetime | None = None,
    archived: Mapping[str, datetime] | None = None,
) -> Reply:
    """The answer to a task query: header, filters, counts, table, paging context, buttons.

    `archived` names the rows that came from the bot's history, with when each was last seen.

    `covered` lists the task types a fanned-out query looked at; `shared_by` marks a copy
    posted to the channel (it gets no buttons: a click there would change it for everyone);
    `note` is a remark for the context line (see `fit`); `fetched` is when the page was read.
    """
    title = _title(query)
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=title, emoji=True)),
        SectionBlock(
            text=MarkdownTextObject(text=_filters(query, covered, domains)[:SECTION_LIMIT])
        ),
    ]
    position = _position(page, query, shared=bool(shared_by))
    archived = archived or {}
    if page.tasks:
        table, shown = task_table(page.tasks, archived)
        blocks += [SectionBlock(text=MarkdownTextObject(text=_counts(page.tasks))), table]
        from_history = _from_history(page.tasks[:shown], archived)
        if from_history:
            blocks.append(ContextBlock(elements=[MarkdownTextObject(text=from_history)]))
        if shown < len(page.tasks):
            blocks.append(
                ContextBlock(
                    elements=[
                        MarkdownTextObject(
                            text=f":scissors: Only the first {shown} of the "
                            f"{counted(len(page.tasks), 'task')} on this page fit in one "
                            "Slack message; ask for "
                            f"`size:{shown}` to page through all of them."
                        )
                    ]
                )
            )
    else:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=_nothing_found(query, page))))
    context = [position]
    if shared_by and fetched:
        context.append(f"as of {slack_time(fetched)}")  # a copy that stays, unlike "live"
    else:
        context.append(freshness(age))
        if fetched:
            context.append(f"updated {slack_time(fetched)}")
    if note:
        context.append(escape(note))
    if shared_by:
        context.append(f"shared by {mention(shared_by)}")
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=" · ".join(context))]))
    actions = None if shared_by else _buttons(query, page)
    if actions:
        blocks.append(actions)
    summary = f"{title}: {position}"
    if page.tasks:
        summary += " — " + _counts(page.tasks).removeprefix("*On this page:* ")
    return Reply(text=escape(summary)[:TEXT_LIMIT], blocks=tuple(blocks))


def _from_history(tasks: Sequence[Task], archived: Mapping[str, datetime]) -> str:
    """Which rows the history gave, and when the bot last saw them ('' if none)."""
    seen = [archived[task.task_id] for task in tasks if task.task_id in archived]
    if not seen:
        return ""
    which = (
        "Every row"
        if len(seen) == len(tasks)
        else f"{counted(len(seen), 'row')} marked {ARCHIVED_MARK}"
    )
    when = (
        slack_time(max(seen))
        if min(seen) == max(seen)
        else (f"between {slack_time(min(seen))} and {slack_time(max(seen))}")
    )
    return (
        f"{ARCHIVED_MARK} {which} from history, last seen {when}: the API keeps "
        f"{HISTORY_DAYS} days, the bot keeps what it saw."
    )


def _position(page: TaskPage, query: TaskQuery, *, shared: bool = False) -> str:
    """`Page 2 of 4 · 7 tasks`; a page past the end is not called "Page 99 of 21", and a
    shared copy (no buttons) names its rows, `11 to 20 of 37 tasks`, not pages it cannot reach."""
    total = counted(page.total_count, "task")
    if not page.total_count:
        return "No tasks"
    if query.page > page.page_count:
        return f"Past the end: {counted(page.page_count, 'page')} · {total}"
    if shared and page.page_count > 1:
        first = (page.page_number - 1) * page.page_size + 1
        return f"{first:,} to {first + len(page.tasks) - 1:,} of {total}"
    return f"Page {page.page_number} of {page.page_count} · {total}"


def _nothing_found(query: TaskQuery, page: TaskPage) -> str:
    if page.total_count and query.page > page.page_count:
        return (
            f"Page {query.page} is past the end: there "
            f"{'is 1 page' if page.page_count == 1 else f'are {page.page_count:,} pages'}. "
            "Use ◀ Prev for the last one, or start again without `page:`."
        )
    narrowing = [
        f"`{name}:{escape(value)}`"
        for name, value in (
            ("status", query.status and query.status.value.lower()),
            ("type", query.object_type and query.object_type.value.lower()),
            ("domain", query.domain),
            ("url", query.object_path and shorten_middle(query.object_path, 80)),
            ("rg", query.resource_group),
        )
        if value
    ]
    tips = []
    if query.since or query.until:
        tips.append(f"a longer window (`since:{HISTORY_DAYS}d`)")
    if len(narrowing) == 1:
        tips.append(f"without {narrowing[0]}")
    elif narrowing:
        tips.append("dropping one of " + ", ".join(narrowing))
    if query.task_ids:
        tips.append(f"checking the IDs (tasks older than {HISTORY_DAYS} days are gone)")
    if not tips:
        return (
            f":mag: No refresh or prefetch tasks in the last {HISTORY_DAYS} days."
            " Tasks show up here a moment after `/cdn refresh` or the console submits them."
        )
    return f":mag: No tasks match these filters. Try {' or '.join(tips)}."


# -- errors ----------------------------------------------------------------------------------


def said(mrkdwn: str) -> Reply:
    """A one-section message; `mrkdwn` must already be safe (escaped where untrusted)."""
    return Reply(
        text=mrkdwn[:TEXT_LIMIT],
        blocks=(SectionBlock(text=MarkdownTextObject(text=mrkdwn[:SECTION_LIMIT])),),
    )


def problem(words: str) -> Reply:
    """A user-facing error or refusal; `words` come from bot.wording and may echo input."""
    return said(f":warning: {escape(words)}")


def apology(error_id: str) -> Reply:
    """Something unexpected broke; the error id is in the log too."""
    return said(f":face_with_head_bandage: {escape(wording.apology(f'`{error_id}`'))}")


# What a button is called where people click it, for the audit view.
BUTTON_LABELS = {
    ActionId.PREV: "◀ Prev",
    ActionId.NEXT: "Next ▶",
    ActionId.REFRESH: "Refresh",
    ActionId.SHARE: "Share to channel",
    ActionId.SHARE_STATS: "Share stats to channel",
    ActionId.SHOW_FAILED: "Show failed tasks",
    ActionId.SHOW_TASKS: "Show",
    ActionId.MUTE: "Mute",
    ActionId.UNMUTE: "Unmute",
    ActionId.OPEN_CONSOLE: "Open the CDN console",
    ActionId.CONFIRM_WRITE: "Confirm",
    ActionId.CANCEL_WRITE: "Cancel",
    ActionId.RETRY_FAILED: "Retry failed",
    ActionId.RETRY_TASKS: "Retry",
    ActionId.HOME_REFRESH_FORM: "New refresh",
    ActionId.HOME_PREFETCH_FORM: "New prefetch",
    ActionId.HOME_FAILED: "Failed tasks",
    ActionId.HOME_RELOAD: "Refresh (Home)",
    ActionId.REFRESH_LINKS: "Refresh these",
}
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,20}")


def _rich_cell(part: Any) -> RichTextBlock:
    return RichTextBlock(elements=[RichTextSectionElement(elements=[part])])


def _audit_cells(entry: AuditEntry) -> list[Any]:
    """One row: when (in the reader's zone), who and where as mentions, what was done."""
    when = _rich_cell(
        RichTextElementParts.Date(
            timestamp=int(entry.at.timestamp()),
            format="{date_short_pretty} {time_secs}",
            fallback=f"{entry.at:%Y-%m-%d %H:%M:%S} UTC",
        )
    )
    who: Any = (
        _rich_cell(RichTextElementParts.User(user_id=entry.user))
        if _USER_ID.fullmatch(entry.user)
        else RawTextObject(text=entry.user or " ")
    )
    where: Any = (
        _rich_cell(RichTextElementParts.Channel(channel_id=entry.channel))
        if _CHANNEL_ID.fullmatch(entry.channel)
        else RawTextObject(text=entry.channel or " ")
    )
    # Raw cells are shown literally: the command text as typed, not as Slack escaped it.
    what = entry.detail.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    if entry.kind == "action" and what in BUTTON_LABELS:
        what = BUTTON_LABELS[ActionId(what)]
    texts = (
        entry.kind,
        shorten_middle(what, 60),
        shorten_middle(entry.outcome, 40),
        "" if entry.results is None else str(entry.results),
        f"{entry.latency_ms:.0f}",
    )
    return [when, who, where, *(RawTextObject(text=text or " ") for text in texts)]


def audit_trail(entries: list[AuditEntry]) -> Reply:
    """`/cdn audit`: the newest entries; people, channels and times as Slack shows them."""
    if not entries:
        return said("The audit trail is empty.")
    headings = ("When", "User", "Channel", "Kind", "What", "Outcome", "Results", "ms")
    rows: list[list[Any]] = [[RawTextObject(text=h) for h in headings]]
    rows += [_audit_cells(entry) for entry in entries[:MAX_TABLE_TASKS]]
    title = f"Audit trail: the newest {len(rows) - 1} entries"
    return Reply(
        text=title,
        blocks=(
            HeaderBlock(text=PlainTextObject(text=title)),
            TableBlock(rows=rows),
        ),
    )

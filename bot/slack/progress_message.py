"""Pure Block Kit for a submission's progress message: who did what, where its tasks stand,
and at the end what failed and why, with Retry failed and Show failed."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.core.display import REASON_LABELS, STATUS_EMOJI, shorten_middle
from bot.core.filters import MAX_TASK_IDS
from bot.core.progress import Tally, Tracked, domains_line
from bot.core.query import TaskQuery, encode_query
from bot.core.submission import Action, Kind
from bot.core.tasks import Status
from bot.slack.alerts import MAX_BUTTON_VALUE
from bot.slack.render import SECTION_LIMIT, TEXT_LIMIT, ActionId, Reply, escape, mention, slack_date

FAILED_LISTED = 10  # failed paths named in the message; Show failed lists the rest
_NOUNS = {
    Kind.FILE: ("URL", "URLs"),
    Kind.DIRECTORY: ("directory", "directories"),
    Kind.REGEX: ("regex", "regexes"),
    Kind.IGNORE_PARAMS: ("URL ignoring parameters", "URLs ignoring parameters"),
}
_ORDER = (Status.COMPLETE, Status.REFRESHING, Status.PENDING, Status.FAILED)


def headline(tracked: Tracked) -> str:
    """'@alice refreshed 2 URLs on www.example.com' (mrkdwn, escaped)."""
    submission = tracked.submission
    count = len(submission.paths)
    one, many = _NOUNS[submission.kind]
    verb = "prefetched" if submission.action is Action.PREFETCH else "refreshed"
    where = escape(domains_line(submission.paths))
    return f"{mention(tracked.user)} {verb} {count:,} {one if count == 1 else many} on {where}"


def _status_line(counted: Tally) -> str:
    parts = [
        f"{STATUS_EMOJI[status]} {counted.count(status)} {status.value.lower()}"
        for status in _ORDER
        if counted.count(status)
    ]
    return f"{' · '.join(parts)} — {counted.percent}%"


def _failures(counted: Tally) -> str:
    lines = []
    for task in counted.failed[:FAILED_LISTED]:
        reason = REASON_LABELS[task.reason] if task.reason else "no reason given"
        lines.append(f"• `{escape(shorten_middle(task.object_path, 200))}` — {escape(reason)}")
    more = len(counted.failed) - FAILED_LISTED
    if more > 0:
        lines.append(f"…and {more:,} more: *Show failed* lists them.")
    return f"*Failed ({len(counted.failed):,}):*\n" + "\n".join(lines)


def _show_query(counted: Tally) -> TaskQuery:
    """The failed tasks by ID, as many as a lookup and a button's value hold."""
    ids: tuple[str, ...] = ()
    for task in counted.failed[:MAX_TASK_IDS]:
        wanted = TaskQuery(task_ids=(*ids, task.task_id), status=Status.FAILED)
        if len(encode_query(wanted)) > MAX_BUTTON_VALUE:
            break
        ids = wanted.task_ids
    return TaskQuery(task_ids=ids, status=Status.FAILED)


def _buttons(tracked: Tracked, counted: Tally) -> ActionsBlock:
    failed = len(counted.failed)
    return ActionsBlock(
        elements=[
            ButtonElement(
                text=PlainTextObject(text=f"Retry failed ({failed:,})"),
                action_id=ActionId.RETRY_FAILED.value,
                value=tracked.id,
                style="primary",
            ),
            ButtonElement(
                text=PlainTextObject(text="Show failed"),
                action_id=ActionId.SHOW_FAILED.value,
                value=encode_query(_show_query(counted)),
            ),
        ]
    )


def progress(tracked: Tracked, counted: Tally, *, now: datetime, final: bool) -> Reply:
    """The progress message: running, finished (`final` and every task done), or stopped at
    its cap (`final` with tasks still running)."""
    head = headline(tracked)
    status = _status_line(counted)
    if final and counted.final:
        icon = ":warning:" if counted.failed else ":white_check_mark:"
    else:
        icon = ":hourglass_flowing_sand:" if not final else ":stopwatch:"
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=f"{icon} {head}\n{status}"[:SECTION_LIMIT]))
    ]
    notes = [f"started {slack_date(tracked.started_at)}"]
    if tracked.refused:
        notes.append(f"{tracked.refused:,} more were not submitted")
    if final and counted.final:
        notes.append(f"finished {slack_date(now)}")
    elif final:
        minutes = round((tracked.cap_at - tracked.started_at).total_seconds() / 60)
        unfinished = counted.expected - counted.count(Status.COMPLETE) - len(counted.failed)
        notes.append(
            f"stopped following after {minutes} min with {unfinished:,} unfinished; "
            "failures still reach subscribed channels"
        )
    else:
        notes.append(f"updated {slack_date(now)}")
    if final and counted.failed:
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text=_failures(counted)[:SECTION_LIMIT]))
        )
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=" · ".join(notes))]))
    if final and counted.failed:
        blocks.append(_buttons(tracked, counted))
    text = f"{head}: {status}"
    if final and counted.failed:
        text += f" ({len(counted.failed):,} failed)"
    return Reply(text=text[:TEXT_LIMIT], blocks=tuple(blocks))

"""Pure Block Kit builders for failure notifications and subscription replies."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)

from bot.core.display import REASON_HINTS, REASON_LABELS, shorten_middle
from bot.core.filters import MAX_TASK_IDS
from bot.core.progress import retry_value
from bot.core.query import TaskQuery, encode_query
from bot.core.tasks import Status, Task, newest_first
from bot.core.timeframe import oldest_start
from bot.core.watch import Subscription
from bot.slack.render import (
    TEXT_LIMIT,
    ActionId,
    Reply,
    escape,
    mention,
    said,
    slack_date,
    task_table,
)

MUTE_FOR = timedelta(hours=1)
MAX_MUTE_OPTIONS = 100
MAX_OPTION_VALUE = 150  # Slack's limit for a select option's value
MAX_BUTTON_VALUE = 2000  # Slack's limit for a button's value
_TASK_ID = re.compile(r"[0-9]{1,20}")  # what a button's `id:` accepts back
DIGEST_ROWS = 25
# "Show failed tasks" is checked again when pressed: its `since:` keeps a few minutes clear of
# the API's edge, so a button pressed soon after the post still works.
SHOW_MARGIN = timedelta(minutes=5)


def _scope(subscription: Subscription) -> str:
    domain = f"`{escape(subscription.domain)}`" if subscription.domain else "every domain"
    kind = f" ({subscription.object_type.value} tasks)" if subscription.object_type else ""
    return f"{domain}{kind}"


def _show_query(tasks: Sequence[Task], now: datetime) -> TaskQuery:
    """What "Show failed tasks" asks: one domain's failures since the oldest announced, or,
    across domains, the announced tasks by ID (newest first, as many as a button holds).

    A channel limited to several domains or a wildcard refuses "every domain", but looks tasks
    up by ID within its scope like any query: so the button works wherever the digest went.
    """
    domains = {task.domain for task in tasks}
    oldest = min(task.created for task in tasks).replace(microsecond=0)
    earliest = oldest_start(now, margin=SHOW_MARGIN)
    every = TaskQuery(status=Status.FAILED, since=max(oldest, earliest))
    if len(domains) == 1:
        return every.model_copy(update={"domain": domains.pop()})
    ids: list[str] = []
    for task in sorted(tasks, key=newest_first):
        if not _TASK_ID.fullmatch(task.task_id) or task.task_id in ids:
            continue
        wanted = TaskQuery(task_ids=(*ids, task.task_id), status=Status.FAILED)
        if len(ids) == MAX_TASK_IDS or len(encode_query(wanted)) > MAX_BUTTON_VALUE:
            break
        ids.append(task.task_id)
    return TaskQuery(task_ids=tuple(ids), status=Status.FAILED) if ids else every


def _actions(tasks: Sequence[Task], show: TaskQuery) -> ActionsBlock:
    elements: list[ButtonElement | StaticSelectElement] = [
        ButtonElement(
            text=PlainTextObject(text="Show failed tasks"),
            action_id=ActionId.SHOW_FAILED.value,
            value=encode_query(show),
            style="primary",
        )
    ]
    retry = retry_value(tasks)
    if retry:
        # Resubmits the tasks by ID after the same confirmation and quota check as /cdn refresh.
        label = "Retry" if len(tasks) == 1 else "Retry all failed"
        elements.append(
            ButtonElement(
                text=PlainTextObject(text=label), action_id=ActionId.RETRY_TASKS.value, value=retry
            )
        )
    domains = sorted({t.domain for t in tasks if t.domain and len(t.domain) <= MAX_OPTION_VALUE})
    if len(domains) == 1:
        elements.append(
            ButtonElement(
                text=PlainTextObject(text=shorten_middle(f"Mute {domains[0]} 1 h", 75)),
                action_id=ActionId.MUTE.value,
                value=domains[0],
            )
        )
    elif domains:
        elements.append(
            StaticSelectElement(
                placeholder=PlainTextObject(text="Mute a domain for 1 h"),
                action_id=ActionId.MUTE.value,
                options=[
                    Option(text=PlainTextObject(text=shorten_middle(d, 75)), value=d)
                    for d in domains[:MAX_MUTE_OPTIONS]
                ],
            )
        )
    return ActionsBlock(elements=elements)


def _reason(task: Task) -> str:
    if task.reason is None:
        return "no reason given"
    return f"{REASON_LABELS[task.reason]}: {REASON_HINTS[task.reason]}"


def failure_notice(tasks: Sequence[Task], *, now: datetime) -> Reply:
    """One message for one channel and cycle: a single failure in full, several as a digest."""
    ordered = tuple(tasks)
    show = _show_query(ordered, now)
    if len(ordered) == 1:
        (task,) = ordered
        path = escape(shorten_middle(task.object_path, 500))
        text = f":x: A CDN {task.object_type} task failed: {path}"
        blocks: list[Block] = [
            SectionBlock(text=MarkdownTextObject(text=f":x: *A CDN task failed*\n`{path}`")),
            SectionBlock(
                fields=[
                    MarkdownTextObject(text=f"*Domain*\n{escape(task.domain) or '—'}"),
                    MarkdownTextObject(text=f"*Type*\n{escape(str(task.object_type))}"),
                    MarkdownTextObject(text=f"*Reason*\n{escape(_reason(task))}"),
                    MarkdownTextObject(text=f"*Created*\n{slack_date(task.created)}"),
                ]
            ),
            ContextBlock(elements=[MarkdownTextObject(text=f"Task ID {escape(task.task_id)}")]),
        ]
    else:
        domains = Counter(task.domain for task in ordered)
        reasons = Counter(REASON_LABELS[t.reason] if t.reason else "no reason" for t in ordered)
        where = (
            f"on `{escape(next(iter(domains)))}`"
            if len(domains) == 1
            else f"across {len(domains)} domains"
        )
        summary = " · ".join(f"{count} {escape(label)}" for label, count in reasons.most_common())
        text = f":x: {len(ordered)} CDN tasks failed {where}: {summary}"
        # A channel notice stays glanceable; the button lists everything.
        table, shown = task_table(ordered[:DIGEST_ROWS])
        blocks = [
            SectionBlock(
                text=MarkdownTextObject(
                    text=f":x: *{len(ordered)} CDN tasks failed* {where}\n{summary}"
                )
            ),
            table,
        ]
        listed = len(show.task_ids) or len(ordered)
        more = "them all" if listed >= len(ordered) else f"the newest {listed}"
        if shown < len(ordered):
            blocks.append(
                ContextBlock(
                    elements=[
                        MarkdownTextObject(
                            text=f"Showing the newest {shown}; *Show failed tasks* lists {more}."
                        )
                    ]
                )
            )
    blocks.append(_actions(ordered, show))
    return Reply(text=text[:TEXT_LIMIT], blocks=tuple(blocks))


def _lines(subscriptions: Sequence[Subscription]) -> list[str]:
    lines = []
    for sub in subscriptions:
        line = f"• {_scope(sub)} — added by {mention(sub.added_by)} {slack_date(sub.added_at)}"
        if sub.unreachable:
            line += (
                f"\n   :warning: not delivered (`{escape(sub.unreachable)}`): "
                "`/invite` me here, then `/cdn subscribe` again"
            )
        lines.append(line)
    return lines


def subscriptions_list(subscriptions: Sequence[Subscription]) -> Reply:
    """`/cdn subscriptions`: what this channel gets, who added it and when."""
    if not subscriptions:
        return said(
            "This channel has no failure notifications. `/cdn subscribe` adds them "
            "(`/cdn subscribe domain:www.example.com` for one domain)."
        )
    lines = "\n".join(_lines(subscriptions))
    return said(f"*This channel hears about failed CDN tasks for:*\n{lines}")


def subscribed(subscription: Subscription, *, created: bool) -> Reply:
    """The reply to `/cdn subscribe`."""
    if not created:
        return said(
            f"This channel already gets failures for {_scope(subscription)}; nothing doubled."
        )
    return said(
        f":bell: Subscribed: this channel will hear about tasks failing from now on for "
        f"{_scope(subscription)}. `/cdn status:failed` shows earlier failures; "
        "`/cdn subscriptions` lists what the channel gets."
    )


def channel_announcement(subscription: Subscription) -> Reply:
    """Posted in the channel when someone subscribes it, so everyone knows (and to test access)."""
    return said(
        f":bell: {mention(subscription.added_by)} subscribed this channel to failed "
        f"Alibaba Cloud CDN tasks for {_scope(subscription)}. `/cdn unsubscribe all` stops them."
    )


def cannot_post(reason: str) -> Reply:
    """The bot may not post in this channel (private, or removed)."""
    return said(
        f":lock: I can't post in this channel (`{escape(reason)}`). If it is private, "
        "invite me first with `/invite @cdn-task-bot`, then run `/cdn subscribe` again."
    )


def unsubscribed(removed: int, remaining: Sequence[Subscription]) -> Reply:
    """The reply to `/cdn unsubscribe`."""
    if removed:
        text = f":no_bell: Removed {removed} subscription{'s' if removed != 1 else ''}."
    else:
        text = "No subscription here matched that."
    if remaining:
        text += "\n*Still subscribed:*\n" + "\n".join(_lines(remaining))
    return said(text)


def muted(domain: str, until: datetime) -> Reply:
    """The reply to a Mute button."""
    return said(
        f":zipper_mouth_face: Muted `{escape(domain)}` in this channel until "
        f"{slack_date(until)}. Failures meanwhile are skipped, not saved up."
    )

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
from bot.core.tasks import ObjectType, Status, Task, domain_matches, newest_first
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
from bot.store.database import ActiveMute

MUTE_FOR = timedelta(hours=1)
MAX_MUTE_OPTIONS = 100
MAX_OPTION_VALUE = 150  # Slack's limit for a select option's value
MAX_BUTTON_VALUE = 2000  # Slack's limit for a button's value
_TASK_ID = re.compile(r"[0-9]{1,20}")  # what a button's `id:` accepts back
DIGEST_ROWS = 25
# "Show failed tasks" is checked again when pressed: its `since:` keeps a few minutes clear of
# the API's edge, so a button pressed soon after the post still works.
SHOW_MARGIN = timedelta(minutes=5)
# The console's home: its refresh-history page has no address documented that we could verify,
# so the card says where to go from here (Refresh and Prefetch, then its records).
CONSOLE_URL = "https://cdn.console.aliyun.com/"


def _scope(subscription: Subscription) -> str:
    domain = f"`{escape(subscription.domain)}`" if subscription.domain else "every domain"
    kind = f" ({subscription.object_type.value} tasks)" if subscription.object_type else ""
    return f"{domain}{kind}"


def _unsubscribe_command(subscription: Subscription) -> str:
    """The `/cdn unsubscribe …` that removes exactly this subscription."""
    parts = ["/cdn unsubscribe"]
    if subscription.domain:
        parts.append(f"domain:{escape(subscription.domain)}")
    if subscription.object_type:
        parts.append(f"type:{subscription.object_type.value}")
    if len(parts) == 1:
        return "`/cdn unsubscribe all`"
    return f"`{' '.join(parts)}`"


def _covers(wide: Subscription, narrow: Subscription) -> bool:
    """Whether every failure `narrow` delivers is delivered by `wide` too."""
    if wide.object_type is not None and wide.object_type != narrow.object_type:
        return False
    if wide.domain is None:
        return True
    return narrow.domain is not None and domain_matches(wide.domain, narrow.domain)


def overlaps(wanted: Subscription, existing: Sequence[Subscription]) -> list[Subscription]:
    """The channel's other subscriptions that cover `wanted` or that `wanted` covers."""
    key = (wanted.domain, wanted.object_type)
    return [
        sub
        for sub in existing
        if (sub.domain, sub.object_type) != key and (_covers(sub, wanted) or _covers(wanted, sub))
    ]


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
    return ids_query(tasks, status=Status.FAILED) or every


def ids_query(tasks: Sequence[Task], *, status: Status | None = None) -> TaskQuery | None:
    """The tasks looked up by ID, newest first, as many as a button's value holds (None when
    none has an ID a query accepts)."""
    ids: list[str] = []
    for task in sorted(tasks, key=newest_first):
        if not _TASK_ID.fullmatch(task.task_id) or task.task_id in ids:
            continue
        wanted = TaskQuery(task_ids=(*ids, task.task_id), status=status)
        if len(ids) == MAX_TASK_IDS or len(encode_query(wanted)) > MAX_BUTTON_VALUE:
            break
        ids.append(task.task_id)
    return TaskQuery(task_ids=tuple(ids), status=status) if ids else None


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
    mute = mute_control(tasks)
    if mute is not None:
        elements.append(mute)
    # A link: Slack opens it and still tells the app, which only acknowledges it.
    elements.append(
        ButtonElement(
            text=PlainTextObject(text="Open the CDN console"),
            action_id=ActionId.OPEN_CONSOLE.value,
            url=CONSOLE_URL,
        )
    )
    return ActionsBlock(elements=elements)


def mute_control(tasks: Sequence[Task]) -> ButtonElement | StaticSelectElement | None:
    """ "Mute <domain> 1 h" for the tasks' one domain, a menu of them for several."""
    domains = sorted({t.domain for t in tasks if t.domain and len(t.domain) <= MAX_OPTION_VALUE})
    if len(domains) == 1:
        return ButtonElement(
            text=PlainTextObject(text=shorten_middle(f"Mute {domains[0]} 1 h", 75)),
            action_id=ActionId.MUTE.value,
            value=domains[0],
        )
    if domains:
        return StaticSelectElement(
            placeholder=PlainTextObject(text="Mute a domain for 1 h"),
            action_id=ActionId.MUTE.value,
            options=[
                Option(text=PlainTextObject(text=shorten_middle(d, 75)), value=d)
                for d in domains[:MAX_MUTE_OPTIONS]
            ],
        )
    return None


def reason_of(task: Task) -> str:
    """A failed task's reason as people read it."""
    if task.reason is None:
        return "no reason given"
    return REASON_LABELS[task.reason]


def what_to_do(task: Task) -> str:
    """What to do about a failed task, beyond its reason."""
    if task.reason is None:
        return "open the task in the Alibaba Cloud console for details, then retry"
    return REASON_HINTS[task.reason]


def _failed(kind: ObjectType | str) -> str:
    """'Refresh failed', 'Prefetch failed'...: what the person asked for, not the API's type."""
    if kind == ObjectType.PRELOAD:
        return "Prefetch failed"
    if kind in (ObjectType.BLOCK, ObjectType.UNBLOCK):
        return f"{str(kind).capitalize()} failed"
    return "Refresh failed"


def domains_named(domains: Sequence[str]) -> str:
    """'on `a.com` and `b.com`': up to three domains, most frequent first, then how many more."""
    named = [f"`{escape(d)}`" for d in domains[:3]]
    if len(domains) > 3:
        return f"on {', '.join(named)} and {len(domains) - 3} more domains"
    return "on " + " and ".join([", ".join(named[:-1]), named[-1]] if len(named) > 1 else named)


def _console(*first: str) -> ContextBlock:
    where = (
        "*Open the CDN console*, then *Refresh and Prefetch*, for the account's whole task list."
    )
    return ContextBlock(elements=[MarkdownTextObject(text=t) for t in (*first, where)])


def failure_notice(tasks: Sequence[Task], *, now: datetime) -> Reply:
    """One message for one channel and cycle: a single failure in full, several as a digest."""
    ordered = tuple(tasks)
    show = _show_query(ordered, now)
    if len(ordered) == 1:
        (task,) = ordered
        path = escape(shorten_middle(task.object_path, 500))
        domain = escape(shorten_middle(task.domain, 200)) or "an unknown domain"
        title = f"{_failed(task.object_type)} on {domain}"
        text = f":x: {title}: {path} ({escape(reason_of(task))})"
        blocks: list[Block] = [
            SectionBlock(text=MarkdownTextObject(text=f":x: *{title}*\n`{path}`")),
            SectionBlock(
                fields=[
                    MarkdownTextObject(text=f"*Reason*\n{escape(reason_of(task))}"),
                    MarkdownTextObject(text=f"*Type*\n{escape(str(task.object_type))}"),
                    MarkdownTextObject(text=f"*Created*\n{slack_date(task.created)}"),
                ]
            ),
            SectionBlock(text=MarkdownTextObject(text=f"*What to do:* {escape(what_to_do(task))}")),
            _console(f"Task ID {escape(task.task_id)}"),
        ]
    else:
        domains = Counter(task.domain for task in ordered)
        reasons = Counter(REASON_LABELS[t.reason] if t.reason else "no reason" for t in ordered)
        where = domains_named([domain for domain, _ in domains.most_common()])
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
            _console(),
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
        if not sub.stuck:
            line += " · failures only (`stuck:off`)"
        if sub.unreachable:
            line += (
                f"\n   :warning: not delivered (`{escape(sub.unreachable)}`): "
                "`/invite` me here, then `/cdn subscribe` again"
            )
        lines.append(line)
    return lines


def _mute_lines(mutes: Sequence[ActiveMute]) -> list[str]:
    return [
        f"• `{escape(m.domain)}` until {slack_date(m.until)}"
        + (f" — muted by {mention(m.muted_by)}" if m.muted_by else "")
        for m in mutes
    ]


def subscriptions_list(
    subscriptions: Sequence[Subscription], mutes: Sequence[ActiveMute] = ()
) -> Reply:
    """`/cdn subscriptions`: what this channel gets, who added it and when, and what is muted."""
    if not subscriptions:
        text = (
            "This channel has no failure notifications. `/cdn subscribe` adds them "
            "(`/cdn subscribe domain:www.example.com` for one domain)."
        )
    else:
        lines = "\n".join(_lines(subscriptions))
        text = f"*This channel hears about failed and stuck CDN tasks for:*\n{lines}"
    if mutes:
        text += (
            "\n*Muted (failures skipped, not saved up):*\n"
            + "\n".join(_mute_lines(mutes))
            + f"\n`/cdn unmute {escape(mutes[0].domain)}` (one) or `/cdn unmute all` lifts them."
        )
    return said(text)


def subscribed(
    subscription: Subscription, *, created: bool, overlapping: Sequence[Subscription] = ()
) -> Reply:
    """The reply to `/cdn subscribe`; `overlapping` are the channel's subscriptions that cover
    the new one or are covered by it (one failure is still posted once)."""
    if not created:
        return said(
            f"This channel already gets failures for {_scope(subscription)}"
            f"{'' if subscription.stuck else ' (failures only)'}; nothing doubled."
        )
    text = (
        f":bell: Subscribed: this channel will hear about tasks failing from now on for "
        f"{_scope(subscription)}, {_stuck_words(subscription)}. `/cdn status:failed` shows "
        "earlier failures; `/cdn subscriptions` lists what the channel gets."
    )
    for other in overlapping:
        if _covers(other, subscription):
            text += (
                f"\n:information_source: {_scope(other)} already covers it; "
                f"{_unsubscribe_command(subscription)} undoes this one."
            )
            if other.stuck and not subscription.stuck:
                text += " Stuck tasks are still announced through the wider one."
        else:
            text += (
                f"\n:information_source: This covers {_scope(other)} too; "
                f"{_unsubscribe_command(other)} removes the narrower one."
            )
    return said(text)


def _stuck_words(subscription: Subscription) -> str:
    if subscription.stuck:
        return "and about tasks still unfinished long after they started (`stuck:off` stops those)"
    return "failures only: no notices of tasks that stay unfinished"


def channel_announcement(subscription: Subscription) -> Reply:
    """Posted in the channel when someone subscribes it, so everyone knows (and to test access)."""
    what = "failed and stuck" if subscription.stuck else "failed"
    return said(
        f":bell: {mention(subscription.added_by)} subscribed this channel to {what} "
        f"Alibaba Cloud CDN tasks for {_scope(subscription)}. "
        f"{_unsubscribe_command(subscription)} stops them."
    )


def stuck_switched(subscription: Subscription) -> Reply:
    """The reply to `/cdn subscribe … stuck:on|off` for a subscription the channel has."""
    if subscription.stuck:
        return said(
            f":hourglass_flowing_sand: Stuck-task notices are on again for {_scope(subscription)}: "
            "a task still unfinished long after it started is announced here, and its end "
            "told in the notice's thread."
        )
    return said(
        f":no_bell: Stuck-task notices are off for {_scope(subscription)}; its failures are "
        "still announced here. `/cdn subscribe` with the same filters turns them on again."
    )


def stuck_switch_announcement(subscription: Subscription, *, by: str) -> Reply:
    """Posted in the channel when someone turns its stuck-task notices on or off."""
    state = "on" if subscription.stuck else "off"
    return said(
        f":hourglass_flowing_sand: {mention(by)} turned stuck-task notices {state} for "
        f"{_scope(subscription)} in this channel."
    )


def cannot_post(reason: str) -> Reply:
    """The bot may not post in this channel (private, or removed)."""
    return said(
        f":lock: I can't post in this channel (`{escape(reason)}`). If it is private, "
        "invite me first with `/invite @cdn-task-bot`, then run `/cdn subscribe` again."
    )


def unsubscribed(removed: Sequence[Subscription], remaining: Sequence[Subscription]) -> Reply:
    """The reply to `/cdn unsubscribe`: which subscriptions went, and what is left."""
    if removed:
        count = len(removed)
        which = ", ".join(_scope(sub) for sub in removed)
        text = f":no_bell: Removed {count} subscription{'s' if count != 1 else ''}: {which}."
    else:
        text = "No subscription here matched that. `/cdn subscriptions` lists them."
    if remaining:
        text += "\n*Still subscribed:*\n" + "\n".join(_lines(remaining))
    return said(text)


def unsubscribe_announcement(removed: Sequence[Subscription], by: str) -> Reply:
    """Posted in the channel when someone removes its subscriptions."""
    which = ", ".join(_scope(sub) for sub in removed)
    return said(
        f":no_bell: {mention(by)} unsubscribed this channel from failed CDN tasks for {which}."
    )


def muted(domain: str, until: datetime) -> Reply:
    """The private reply to a Mute button."""
    return said(
        f":zipper_mouth_face: Muted `{escape(domain)}` in this channel until "
        f"{slack_date(until)}. Failures meanwhile are skipped, not saved up."
    )


def mute_announcement(domain: str, until: datetime, *, by: str) -> Reply:
    """Posted in the channel when someone mutes a domain there, with a button to undo it."""
    text = (
        f":zipper_mouth_face: {mention(by)} muted failure notifications for "
        f"`{escape(domain)}` in this channel until {slack_date(until)}. "
        "Failures meanwhile are skipped, not saved up."
    )
    undo = ButtonElement(
        text=PlainTextObject(text="Unmute"),
        action_id=ActionId.UNMUTE.value,
        # A domain too long for a button's value is unmuted with `/cdn unmute all`.
        value=domain if len(domain) <= MAX_BUTTON_VALUE else "all",
    )
    return Reply(
        text=text[:TEXT_LIMIT],
        blocks=(*said(text).blocks, ActionsBlock(elements=[undo])),
    )


def unmuted(domains: Sequence[str], *, asked: str | None) -> Reply:
    """The private reply to `/cdn unmute` or the Unmute button."""
    if not domains:
        if asked:
            return said(f"`{escape(asked)}` is not muted here; nothing changed.")
        return said("Nothing is muted here; nothing changed.")
    return said(f":bell: Unmuted {_named(domains)}: failures there are announced here again.")


def unmute_announcement(domains: Sequence[str], *, by: str) -> Reply:
    """Posted in the channel when someone lifts mutes there."""
    return said(
        f":bell: {mention(by)} unmuted {_named(domains)}: failures are announced here again."
    )


def _named(domains: Sequence[str]) -> str:
    return ", ".join(f"`{escape(d)}`" for d in domains)

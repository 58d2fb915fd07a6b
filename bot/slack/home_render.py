"""Block Kit of the App Home, pure: a Dashboard in, a `home` view out.

Like render.py: every untrusted string escaped, every block within Slack's limits, and the
whole view at most MAX_BLOCKS blocks whatever the data.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.core.display import STATUS_EMOJI, progress_text, shorten_path
from bot.core.home import SUBSCRIPTION_LINES, Dashboard
from bot.core.tasks import RefreshQuota, Task
from bot.core.watch import Subscription
from bot.slack.render import (
    SECTION_LIMIT,
    ActionId,
    counted,
    escape,
    mention,
    slack_date,
    task_table,
)

CALLBACK_ID = "cdn_home"
MAX_BLOCKS = 100  # Slack's limit for a Home view
TITLE = "CDN tasks"
PATH_WIDTH = 90
_CHANNEL_ID = frozenset("CGD")


def home_view(dashboard: Dashboard, *, channel: str) -> dict[str, Any]:
    """The Home `dashboard` shows, answering for `channel` (the person's DM with the bot)."""
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text=TITLE))]
    if dashboard.refusal is not None:
        blocks.append(_section(f":lock: {escape(dashboard.refusal)}"))
    else:
        blocks.append(_section(_intro(dashboard)))
        blocks.append(_buttons(dashboard))
        if dashboard.quota is not None:
            blocks.append(_quota(dashboard.quota))
        blocks += [DividerBlock(), *_failures(dashboard), DividerBlock(), _running(dashboard)]
    blocks += [DividerBlock(), _section(_subscriptions(dashboard.subscriptions))]
    blocks.append(_context(f"Updated {slack_date(dashboard.updated)}"))
    return _view(blocks, channel=channel)


def problem_view(words: str, *, channel: str) -> dict[str, Any]:
    """The Home when it could not be read: what went wrong (plain `words`), and Refresh."""
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=TITLE)),
        _section(f":warning: {escape(words)}"),
        ActionsBlock(elements=[_button("Try again", ActionId.HOME_RELOAD)]),
    ]
    return _view(blocks, channel=channel)


def home_channel(view: object) -> str:
    """The channel a Home view answers for, read back from a click on it ("" if none)."""
    if not isinstance(view, dict):
        return ""
    try:
        found = json.loads(str(view.get("private_metadata") or "{}")).get("channel", "")
    except (ValueError, AttributeError):
        return ""
    return found if isinstance(found, str) else ""


def _view(blocks: list[Block], *, channel: str) -> dict[str, Any]:
    view = View(
        type="home",
        callback_id=CALLBACK_ID,
        blocks=blocks[:MAX_BLOCKS],
        private_metadata=json.dumps({"channel": channel}),
    )
    return view.to_dict()


def _section(mrkdwn: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=mrkdwn[:SECTION_LIMIT]))


def _context(mrkdwn: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=mrkdwn[:SECTION_LIMIT])])


def _button(label: str, action: ActionId, *, primary: bool = False) -> ButtonElement:
    return ButtonElement(
        text=label, action_id=action.value, value="home", style="primary" if primary else None
    )


def _intro(dashboard: Dashboard) -> str:
    shown = "failed tasks of the last 24 hours, tasks still running"
    shown += " and today's quota" if dashboard.quota is not None else ""
    text = f"Hi {mention(dashboard.user)}: {shown}, as `/cdn` in your messages with me sees them."
    if dashboard.scope:
        listed = ", ".join(f"`{escape(pattern)}`" for pattern in dashboard.scope)
        text += f"\n:lock: Limited to {listed}."
    if dashboard.skipped:
        text += (
            f" Shown here: the first {len(dashboard.scope) - len(dashboard.skipped)}; "
            "ask with `domain:` for the others."
        )
    return text


def _buttons(dashboard: Dashboard) -> ActionsBlock:
    buttons = []
    if dashboard.may_submit:
        buttons += [
            _button("New refresh", ActionId.HOME_REFRESH_FORM, primary=True),
            _button("New prefetch", ActionId.HOME_PREFETCH_FORM),
        ]
    buttons += [
        _button("Failed tasks", ActionId.HOME_FAILED),
        _button("Refresh", ActionId.HOME_RELOAD),
    ]
    return ActionsBlock(elements=buttons)


# DescribeRefreshQuota's quotas as the Home names them, in this order.
_QUOTAS = (
    ("URL refresh", "url_remain", "url_quota"),
    ("Directory refresh", "dir_remain", "dir_quota"),
    ("Regex refresh", "regex_remain", "regex_quota"),
    ("Ignoring parameters", "ignore_params_remain", "ignore_params_quota"),
    ("Prefetch", "preload_remain", "preload_quota"),
    ("Edge prefetch", "preload_edge_remain", "preload_edge_quota"),
)


def _quota(quota: RefreshQuota) -> SectionBlock:
    fields = []
    for label, remain, total in _QUOTAS:
        left, of = int(getattr(quota, remain)), int(getattr(quota, total))
        if of or left:
            fields.append(MarkdownTextObject(text=f"*{label}*\n{left:,} of {of:,} left"))
    return SectionBlock(
        text=MarkdownTextObject(text=":bar_chart: *Today's quota*"), fields=fields[:10] or None
    )


def _failures(dashboard: Dashboard) -> list[Block]:
    if not dashboard.failed:
        return [_section(":white_check_mark: *No failed tasks in the last 24 hours.*")]
    blocks: list[Block] = [
        _section(f":x: *Failed in the last 24 hours:* {counted(dashboard.failed_total, 'task')}")
    ]
    table, shown = task_table(dashboard.failed)
    blocks.append(table)
    if shown < dashboard.failed_total:
        blocks.append(
            _context(
                f"The newest {shown} of {dashboard.failed_total:,}. *Failed tasks* sends you "
                "all of them, page by page."
            )
        )
    return blocks


def _running(dashboard: Dashboard) -> SectionBlock:
    if not dashboard.running:
        return _section(":zzz: *Nothing running.*")
    lines = [
        f":arrows_counterclockwise: *Still running:* {counted(dashboard.running_total, 'task')}"
    ]
    lines += [_running_line(task) for task in dashboard.running]
    if dashboard.running_total > len(dashboard.running):
        lines.append(f"…and {dashboard.running_total - len(dashboard.running):,} more")
    return _section("\n".join(lines))


def _running_line(task: Task) -> str:
    path = escape(shorten_path(task.object_path, PATH_WIDTH))
    kind = escape(str(task.object_type))
    return (
        f"• {STATUS_EMOJI[task.status]} {progress_text(task.progress)} `{path}` ({kind}), "
        f"since {slack_date(task.created)}"
    )


def _subscriptions(subscriptions: Sequence[Subscription] | None) -> str:
    if subscriptions is None:
        return (
            ":bell: I cannot see which channels you are in, so your channels' failure "
            "notifications are not listed: the app needs the `channels:read` and "
            "`groups:read` scopes (see `manifest.yml`)."
        )
    if not subscriptions:
        return (
            ":bell: None of your channels hears about failed tasks. `/cdn subscribe` in a "
            "channel adds that."
        )
    lines = [":bell: *Failure notifications in your channels:*"]
    for subscription in subscriptions[:SUBSCRIPTION_LINES]:
        lines.append(_subscription_line(subscription))
    if len(subscriptions) > SUBSCRIPTION_LINES:
        lines.append(f"…and {len(subscriptions) - SUBSCRIPTION_LINES:,} more")
    return "\n".join(lines)


def _subscription_line(subscription: Subscription) -> str:
    where = subscription.channel_id
    channel = f"<#{where}>" if where[:1] in _CHANNEL_ID and where.isalnum() else escape(where)
    domain = f"`{escape(subscription.domain)}`" if subscription.domain else "every domain"
    kind = f" ({subscription.object_type.value} tasks)" if subscription.object_type else ""
    line = f"• {channel}: {domain}{kind}"
    if subscription.unreachable:
        line += f" — :warning: not delivered (`{escape(subscription.unreachable)}`)"
    return line

"""Block Kit for "Check CDN tasks", pure: the tasks of a message's links, what was not looked
up and why, and "Refresh these".

Like render.py: values in, a Reply out, every untrusted string (the links come from anyone's
message) escaped and cut to fit.
"""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.core.display import freshness, shorten_path
from bot.core.filters import MAX_URL
from bot.core.links import MAX_LINKS, LinkTasks
from bot.core.tasks import HISTORY_DAYS
from bot.slack.render import SECTION_LIMIT, ActionId, Reply, counted, escape, task_table

LISTED = 5  # links named in each list; the rest are counted
LINK_WIDTH = 100


def link_tasks(found: LinkTasks) -> Reply:
    """The private answer to the message shortcut."""
    looked_up = found.looked_up
    title = f"CDN tasks for {counted(len(looked_up), 'link')}"
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text=title))]
    if found.tasks:
        table, shown = task_table(found.tasks)
        blocks += [_section(_summary(found)), table]
        if shown < len(found.tasks):
            blocks.append(
                _context(f":scissors: The newest {shown} of {len(found.tasks)} fit here.")
            )
    elif looked_up:
        blocks.append(
            _section(
                ":mag: No refresh or prefetch tasks of these links in the last "
                f"{HISTORY_DAYS} days."
            )
        )
    notes = _notes(found)
    if notes:
        blocks.append(_section("\n".join(notes)))
    blocks.append(_context(f"Each link's newest tasks, by exact URL · {freshness(found.age)}"))
    if found.refreshable:
        blocks.append(
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text=f"Refresh these ({len(found.refreshable)})",
                        action_id=ActionId.REFRESH_LINKS.value,
                        value="\n".join(found.refreshable),
                    )
                ]
            )
        )
    text = f"{title}: {counted(len(found.tasks), 'task')}"
    return Reply(text=escape(text), blocks=tuple(blocks))


def no_links() -> Reply:
    """The answer when the message links to nothing that could be a CDN URL."""
    return _said(
        ":mag: That message has no http:// or https:// links to look up. Try it on a message "
        "that names the URLs, or type `/cdn url:https://…`."
    )


def _summary(found: LinkTasks) -> str:
    with_tasks = len(found.looked_up) - len(found.without_tasks)
    return (
        f"*{counted(len(found.tasks), 'task')}* for {counted(with_tasks, 'link')} of the "
        "message, newest first."
    )


def _notes(found: LinkTasks) -> list[str]:
    notes = []
    if found.tasks and found.without_tasks:
        notes.append(
            _listed(f":mag: No tasks in the last {HISTORY_DAYS} days for", found.without_tasks)
        )
    if found.outside:
        scope = ", ".join(f"`{escape(pattern)}`" for pattern in found.scope)
        notes.append(
            _listed(f":lock: Not looked up: this channel sees only {scope}", found.outside)
        )
    if found.links.left_out:
        notes.append(
            _listed(
                f":scissors: Not looked up: only the first {MAX_LINKS} links are",
                found.links.left_out,
            )
        )
    if found.links.too_long:
        notes.append(
            _listed(
                f":warning: Not looked up: longer than a CDN URL may be ({MAX_URL:,} characters)",
                found.links.too_long,
            )
        )
    if found.refreshable and len(found.refreshable) < len(found.looked_up):
        notes.append(
            f"_Refresh these_ fills the form with the first {len(found.refreshable)}: a button "
            "holds no more."
        )
    return notes


def _listed(lead: str, urls: Sequence[str]) -> str:
    lines = [f"{lead}:"]
    lines += [f"• `{escape(shorten_path(url, LINK_WIDTH))}`" for url in urls[:LISTED]]
    if len(urls) > LISTED:
        lines.append(f"…and {len(urls) - LISTED:,} more")
    return "\n".join(lines)


def _section(mrkdwn: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=mrkdwn[:SECTION_LIMIT]))


def _context(mrkdwn: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=mrkdwn[:SECTION_LIMIT])])


def _said(mrkdwn: str) -> Reply:
    return Reply(text=mrkdwn, blocks=(_section(mrkdwn),))

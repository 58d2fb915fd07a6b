"""Block Kit for refresh and prefetch: the private confirmation, and what became of a submission.

Pure like render.py: values in, a Reply out, every untrusted string escaped and cut to fit.
"""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.core.display import shorten_middle
from bot.core.submission import CONFIRMATION_LIFETIME, Action, Confirmation, Kind, Submission
from bot.slack.render import SECTION_LIMIT, ActionId, Reply, escape, mention, said
from bot.wording import quota_name

PREVIEW = 5  # paths shown of a list
PREVIEW_WIDTH = 160  # characters of each shown path; five fit a section with room to spare
BUTTON_TEXT = 75  # Slack's limit for a button's text
_NOUNS = {
    Kind.FILE: ("URL", "URLs"),
    Kind.IGNORE_PARAMS: ("URL", "URLs"),
    Kind.DIRECTORY: ("directory", "directories"),
    Kind.REGEX: ("regex", "regexes"),
}
_API_ACTIONS = {Action.REFRESH: "RefreshObjectCaches", Action.PREFETCH: "PushObjectCache"}


def counted(submission: Submission, count: int) -> str:
    """`2 URLs`, `1 directory`: `count` paths of the submission's kind."""
    one, many = _NOUNS[submission.kind]
    return f"{count:,} {one if count == 1 else many}"


def button_text(submission: Submission) -> str:
    """The primary button: the action and its size, e.g. `Refresh 2 URLs`."""
    text = f"{submission.action.value.capitalize()} {counted(submission, len(submission.paths))}"
    return text[:BUTTON_TEXT]


def _how(submission: Submission) -> str:
    parts = []
    if submission.kind is Kind.IGNORE_PARAMS:
        parts.append("ignoring query parameters")
    if submission.force:
        parts.append("forced: every cached copy is fetched again")
    if submission.area:
        parts.append(f"area: {submission.area}")
    return f" ({'; '.join(parts)})" if parts else ""


def preview(paths: tuple[str, ...]) -> str:
    """The first few paths, one per line, and how many more there are."""
    shown = [f"• {escape(shorten_middle(path, PREVIEW_WIDTH))}" for path in paths[:PREVIEW]]
    if len(paths) > PREVIEW:
        shown.append(f"…and {len(paths) - PREVIEW:,} more")
    return "\n".join(shown)


def _section(mrkdwn: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=mrkdwn[:SECTION_LIMIT]))


def confirmation(confirmation: Confirmation, *, left: int) -> Reply:
    """The private question before a write: what goes where, the quota it takes, two buttons."""
    wanted = confirmation.submission
    count = len(wanted.paths)
    domains = "\n".join(
        f"• `{escape(domain)}`: {counted(wanted, n)}" for domain, n in wanted.domains.most_common()
    )
    calls = len(wanted.calls())
    api = _API_ACTIONS[wanted.action]
    quota = quota_name(wanted.action.value, wanted.kind.value)
    title = f"{button_text(wanted)}?"
    minutes = int(CONFIRMATION_LIFETIME.total_seconds() // 60)
    blocks: tuple[Block, ...] = (
        _section(f"*{title}*{_how(wanted)}\n{domains}"),
        _section(preview(wanted.paths)),
        _section(
            f"{calls:,} {api} call{'s' if calls != 1 else ''}. Today's {quota} quota: "
            f"*{left:,}* left → *{left - count:,}* after."
        ),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text=button_text(wanted),
                    action_id=ActionId.CONFIRM_WRITE.value,
                    value=confirmation.id,
                    style="primary",
                ),
                ButtonElement(
                    text="Cancel", action_id=ActionId.CANCEL_WRITE.value, value=confirmation.id
                ),
            ]
        ),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"Nothing is submitted until you confirm; this lasts {minutes} minutes."
                )
            ]
        ),
    )
    return Reply(text=f"{title} {left:,} of today's {quota} quota is left.", blocks=blocks)


def submitted(
    submission: Submission,
    *,
    accepted: tuple[str, ...],
    refused: tuple[str, ...],
    tasks: int,
    user: str,
    reason: str | None,
) -> Reply:
    """What became of a confirmed submission; for a partial one, exactly what went in."""
    verb = "refresh" if submission.action is Action.REFRESH else "prefetch"
    who = mention(user)
    if not refused:
        head = (
            f":white_check_mark: {who} submitted a {verb} of {counted(submission, len(accepted))}"
            f"{_how(submission)}: {tasks:,} task{'s' if tasks != 1 else ''} created."
        )
        return Reply(text=head, blocks=(_section(head), _section(preview(accepted))))
    why = f"\n{escape(reason)}" if reason else ""
    if not accepted:
        head = f":x: Nothing was submitted for the {verb} by {who}.{why}"
        lists = f"*Not submitted ({len(refused):,}):*\n{preview(refused)}"
        return Reply(text=head, blocks=(_section(head), _section(lists)))
    head = (
        f":warning: Partly submitted: {counted(submission, len(accepted))} of "
        f"{len(accepted) + len(refused):,} went in ({tasks:,} tasks); "
        f"{counted(submission, len(refused))} did not.{why}"
    )
    return Reply(
        text=head,
        blocks=(
            _section(head),
            _section(f"*Went in ({len(accepted):,}):*\n{preview(accepted)}"),
            _section(f"*Did not go in ({len(refused):,}):*\n{preview(refused)}"),
        ),
    )


def not_submitted(words: str) -> Reply:
    """A confirmation that can no longer go ahead (rights or quota changed since it was made)."""
    return said(f":no_entry_sign: Not submitted. {escape(words)}")


def cancelled() -> Reply:
    """The confirmation after Cancel."""
    return said("Cancelled: nothing was submitted.")

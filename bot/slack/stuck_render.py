"""Pure Block Kit for stuck-task alerts: the notice that tasks stay unfinished, and the reply in
its thread once they complete or fail."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)

from bot.core.display import progress_text, shorten_middle, shorten_path
from bot.core.progress import retry_value
from bot.core.query import encode_query
from bot.core.stuck import Ended
from bot.core.tasks import ObjectType, Status, Task
from bot.slack.alerts import DIGEST_ROWS, domains_named, ids_query, mute_control, reason_of
from bot.slack.alerts import what_to_do as failure_hint
from bot.slack.render import TEXT_LIMIT, ActionId, Reply, escape, slack_date, task_table

STUCK = ":hourglass_flowing_sand:"
COMPLETED = ":white_check_mark:"
FAILED = ":x:"
# Ended tasks named one per line in a thread reply; the rest are counted.
ENDED_LINES = 15
OPT_OUT = "`stuck:off` on this channel's `/cdn subscribe` turns these notices off."


def how_long(delta: timedelta) -> str:
    """A duration as people say it: '42 min', '1 h 5 min', '3 d 4 h' (a minute at least)."""
    minutes = max(1, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    return f"{mins} min"


def _oldest_first(tasks: Sequence[Task]) -> list[Task]:
    return sorted(tasks, key=lambda task: (task.created, task.task_id))


def _actions(tasks: Sequence[Task]) -> ActionsBlock | None:
    elements: list[ButtonElement | StaticSelectElement] = []
    show = ids_query(tasks)
    if show is not None:
        # The tasks by ID, as they are when clicked: for the clicker only.
        elements.append(
            ButtonElement(
                text=PlainTextObject(text="Show"),
                action_id=ActionId.SHOW_TASKS.value,
                value=encode_query(show),
                style="primary",
            )
        )
    mute = mute_control(tasks)
    if mute is not None:
        elements.append(mute)
    return ActionsBlock(elements=elements) if elements else None


def stuck_notice(tasks: Sequence[Task], *, now: datetime) -> Reply:
    """One channel's notice of the tasks that became stuck in one cycle (one in full, several
    as a table), longest unfinished first; their ends are told in its thread."""
    ordered = _oldest_first(tasks)
    if len(ordered) == 1:
        (task,) = ordered
        path = escape(shorten_middle(task.object_path, 500))
        title = f"{task.status.value} for {how_long(now - task.created)}"
        text = f"{STUCK} {title}: {path}"
        blocks: list[Block] = [
            SectionBlock(text=MarkdownTextObject(text=f"{STUCK} *{title}:* `{path}`")),
            SectionBlock(
                fields=[
                    MarkdownTextObject(text=f"*Progress*\n{progress_text(task.progress)}"),
                    MarkdownTextObject(text=f"*Type*\n{escape(str(task.object_type))}"),
                    MarkdownTextObject(text=f"*Created*\n{slack_date(task.created)}"),
                ]
            ),
            ContextBlock(
                elements=[
                    MarkdownTextObject(text=f"Task ID {escape(task.task_id)}"),
                    MarkdownTextObject(
                        text="I'll reply in this thread when it completes or fails."
                    ),
                    MarkdownTextObject(text=OPT_OUT),
                ]
            ),
        ]
    else:
        longest, shortest = how_long(now - ordered[0].created), how_long(now - ordered[-1].created)
        span = longest if longest == shortest else f"{shortest} to {longest}"
        where = domains_named([d for d, _ in Counter(t.domain for t in ordered).most_common()])
        states = Counter(task.status.value for task in ordered)
        counts = " · ".join(f"{count} {status}" for status, count in states.most_common())
        title = f"{len(ordered)} CDN tasks unfinished for {span}"
        text = f"{STUCK} {title} {where}: {counts}"
        table, shown = task_table(tuple(ordered[:DIGEST_ROWS]))
        notes = ["I'll reply in this thread as they complete or fail.", OPT_OUT]
        if shown < len(ordered):
            show = ids_query(ordered)
            listed = len(show.task_ids) if show is not None else 0
            more = "them all" if listed >= len(ordered) else f"the newest {listed}"
            notes.insert(0, f"Showing the oldest {shown}; *Show* lists {more}.")
        blocks = [
            SectionBlock(text=MarkdownTextObject(text=f"{STUCK} *{title}* {where}\n{counts}")),
            table,
            ContextBlock(elements=[MarkdownTextObject(text=note) for note in notes]),
        ]
    actions = _actions(ordered)
    if actions is not None:
        blocks.append(actions)
    return Reply(text=text[:TEXT_LIMIT], blocks=tuple(blocks))


def _took(end: Ended) -> str:
    return how_long(end.at - end.task.created)


def _retry(failed: Sequence[Task]) -> ActionsBlock | None:
    value = retry_value(failed)
    if not value:
        return None
    # Resubmits the tasks by ID after the same confirmation and quota check as /cdn refresh.
    label = "Retry" if len(failed) == 1 else "Retry all failed"
    button = ButtonElement(
        text=PlainTextObject(text=label), action_id=ActionId.RETRY_TASKS.value, value=value
    )
    return ActionsBlock(elements=[button])


def _still(unfinished: int) -> str:
    if not unfinished:
        return ""
    return f"{unfinished} other{'s' if unfinished != 1 else ''} still unfinished."


def _done(kind: ObjectType | str) -> str:
    return "Prefetched" if kind == ObjectType.PRELOAD else "Completed"


def stuck_ended(ended: Sequence[Ended], *, unfinished: int) -> Reply:
    """The reply in a stuck notice's thread: how its tasks that ended since did, and how many
    of the notice's tasks still run."""
    ordered = sorted(ended, key=lambda end: (end.task.created, end.task.task_id))
    failed = [end.task for end in ordered if end.task.status is Status.FAILED]
    blocks: list[Block] = []
    if len(ordered) == 1:
        (end,) = ordered
        task = end.task
        path = escape(shorten_middle(task.object_path, 500))
        if task.status is Status.FAILED:
            title = f"Failed after {_took(end)} ({escape(reason_of(task))})"
            text = f"{FAILED} {title}: {path}"
            blocks.append(
                SectionBlock(text=MarkdownTextObject(text=f"{FAILED} *{title}:* `{path}`"))
            )
            hint = f"*What to do:* {escape(failure_hint(task))}"
            blocks.append(SectionBlock(text=MarkdownTextObject(text=hint)))
        else:
            title = f"{_done(task.object_type)} after {_took(end)}"
            text = f"{COMPLETED} {title}: {path}"
            line = f"{COMPLETED} *{title}:* `{path}`"
            blocks.append(SectionBlock(text=MarkdownTextObject(text=line)))
        notes = [f"Task ID {escape(task.task_id)}"] + ([_still(unfinished)] if unfinished else [])
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=n) for n in notes]))
    else:
        done = len(ordered) - len(failed)
        parts = [f"{COMPLETED} {done} completed"] if done else []
        parts += [f"{FAILED} {len(failed)} failed"] if failed else []
        parts.append(_still(unfinished) if unfinished else "all have ended.")
        text = " · ".join(parts)
        lines = [_line(end) for end in ordered[:ENDED_LINES]]
        if len(ordered) > ENDED_LINES:
            lines.append(
                f"…and {len(ordered) - ENDED_LINES} more; *Show* on the notice lists them."
            )
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"*{text}*\n" + "\n".join(lines))))
        reasons = Counter(reason_of(task) for task in failed)
        if len(reasons) == 1:
            hint = f"*What to do:* {escape(failure_hint(failed[0]))}"
            blocks.append(SectionBlock(text=MarkdownTextObject(text=hint)))
    retry = _retry(failed)
    if retry is not None:
        blocks.append(retry)
    return Reply(text=text[:TEXT_LIMIT], blocks=tuple(blocks))


def _line(end: Ended) -> str:
    task = end.task
    path = escape(shorten_path(task.object_path, 100))
    if task.status is Status.FAILED:
        return f"{FAILED} `{path}` failed after {_took(end)} ({escape(reason_of(task))})"
    return f"{COMPLETED} `{path}` {_done(task.object_type).lower()} after {_took(end)}"

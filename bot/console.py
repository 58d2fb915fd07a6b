"""The terminal surface of `python -m bot query`: parse as /cdn would, then a plain-text table or
JSON of the page."""

from __future__ import annotations

import json
import sys
from datetime import UTC, tzinfo

from bot.cdn.source import Clock, open_task_source
from bot.config import Settings
from bot.core.display import freshness, progress_text, shorten_middle
from bot.core.plan import Answer
from bot.core.query import Help, TaskQuery, parse_query
from bot.core.tasks import Task, format_api_time
from bot.core.timeframe import shown

PATH_WIDTH = 60

USAGE = """\
usage: python -m bot query "<filters>" [--json]

filters (key:value or key=value, any order):
  id:704225667[,…]   url:https://host/path   domain:www.example.com
  type:file|directory|preload|regex|ignoreparams|block|unblock
  status:complete|refreshing|failed|pending
  since:2h / until:30m (also today, yesterday, 2026-11-27, 2026-11-27T10:00Z)
  page:2  size:50  rg:rg-acfmyuji4b6r4
also spelled: task: taskid: ids: for id:, path: objectpath: for url:,
  host: domainname: for domain:, kind: objecttype: for type:, state: for status:,
  from: start: after: for since:, to: end: before: for until:,
  pagesize: limit: for size:, resourcegroup: resourcegroupid: for rg:
bare words work too: a task ID, a URL, a domain, a status or a type word."""


def _row(task: Task, tz: tzinfo) -> list[str]:
    reason = task.reason.value if task.reason else ""
    return [
        task.task_id,
        task.status.value,
        progress_text(task.progress),
        str(task.object_type),
        shown(task.created, tz),
        shorten_middle(task.object_path, PATH_WIDTH),
        reason,
    ]


def table(answer: Answer, tz: tzinfo) -> str:
    """The page as aligned columns with a summary line."""
    page = answer.page
    summary = (
        f"{len(page.tasks)} of {page.total_count} tasks · page {page.page_number} of "
        f"{page.page_count} · {freshness(answer.age)}"
    )
    if not page.tasks:
        return f"No tasks match.\n{summary}"
    header = ["TASK ID", "STATUS", "PROGRESS", "TYPE", "CREATED", "OBJECT PATH", "REASON"]
    rows = [header, *(_row(task, tz) for task in page.tasks)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    return "\n".join([*lines, "", summary])


def as_json(answer: Answer) -> str:
    """The page as JSON, every field the API gave plus the normalised reason."""
    page = answer.page
    return json.dumps(
        {
            "page_number": page.page_number,
            "page_size": page.page_size,
            "total_count": page.total_count,
            "page_count": page.page_count,
            "cached_age_seconds": round(answer.age, 3),
            "request_ids": list(page.request_ids),
            "tasks": [
                {
                    "task_id": task.task_id,
                    "object_path": task.object_path,
                    "object_type": str(task.object_type),
                    "status": task.status.value,
                    "progress": task.progress,
                    "created": format_api_time(task.created),
                    "description": task.description,
                    "reason": task.reason.value if task.reason else None,
                }
                for task in page.tasks
            ],
        },
        ensure_ascii=False,
        indent=2,
    )


async def run_query(settings: Settings, text: str, *, clock: Clock, print_json: bool) -> int:
    """Answer `text` from the terminal as /cdn would and print it; the exit status (2: the
    filters must change)."""
    now = clock()
    tz = now.astimezone().tzinfo or UTC  # the terminal's own timezone
    command = parse_query(text, now=now, tz=tz)
    if isinstance(command, Help):
        if command.unknown:
            print(f"error: `{command.unknown}` is not a filter or command\n", file=sys.stderr)
        print(USAGE, file=sys.stderr if command.unknown else sys.stdout)
        return 2 if command.unknown else 0
    if not isinstance(command, TaskQuery):
        print(
            "error: subscriptions live in Slack channels; use /cdn there. "
            "This command runs task queries.",
            file=sys.stderr,
        )
        return 2
    async with open_task_source(settings, clock=clock) as source:
        answer = await source.find(command)
    print(as_json(answer) if print_json else table(answer, tz))
    return 0

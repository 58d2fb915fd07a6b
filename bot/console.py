"""The terminal surface: `python -m bot query` (parse as /cdn would, then a plain-text table or
JSON of the page) and `python -m bot refresh|prefetch` (show the plan and today's quota, ask,
submit, then follow the tasks to the end)."""

from __future__ import annotations

import asyncio
import getpass
import json
import logging
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta, tzinfo

from bot import wording
from bot.cdn.source import Clock, open_task_source
from bot.cdn.writes import Writer
from bot.config import Settings
from bot.core.audit import AuditEntry, audit_line, note_submitted, submission_summary
from bot.core.display import REASON_LABELS, freshness, progress_text, shorten_middle, shorten_path
from bot.core.filters import FALLBACK_COMMANDS, SUBCOMMANDS, closest_commands
from bot.core.plan import Answer
from bot.core.progress import CAPS
from bot.core.query import Help, Stats, TaskQuery, parse_query
from bot.core.stats import (
    Report,
    Summary,
    count_change,
    duration_text,
    percent_text,
    period_before,
    period_text,
    rate_change,
    report,
)
from bot.core.submission import Action, Kind, Submission, Submitted, parse_submission, quota_left
from bot.core.tasks import FINAL, Status, Task, format_api_time
from bot.core.timeframe import shown
from bot.recall import Recall
from bot.store.database import Store

PATH_WIDTH = 60

USAGE = """\
usage: python -m bot query "<filters>" [--json]
       python -m bot query "stats [domain:…] [type:…] [since:…] [until:…]" [--json]

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


def _row(task: Task, tz: tzinfo, archived: Mapping[str, datetime]) -> list[str]:
    reason = REASON_LABELS[task.reason] if task.reason else ""
    seen = archived.get(task.task_id)
    return [
        task.task_id,
        # From the bot's history: the status as last seen, and when.
        task.status.value if seen is None else f"{task.status.value} (seen {shown(seen, tz)})",
        progress_text(task.progress),
        str(task.object_type),
        shown(task.created, tz),
        shorten_path(task.object_path, PATH_WIDTH),
        reason,
    ]


def table(answer: Answer, tz: tzinfo) -> str:
    """The page as aligned columns with a summary line."""
    page = answer.page
    summary = (
        f"{len(page.tasks)} of {page.total_count} tasks · page {page.page_number} of "
        f"{page.page_count} · {freshness(answer.age)}"
    )
    if answer.plan.query.domain and answer.plan.query.domain.startswith("*."):
        summary += f" · domains: {', '.join(answer.domains) or 'none of the account matches'}"
    if answer.archived:
        summary += f" · {len(answer.archived)} from the bot's history (the API keeps 3 days)"
    if not page.tasks:
        return f"No tasks match.\n{summary}"
    header = ["TASK ID", "STATUS", "PROGRESS", "TYPE", "CREATED", "OBJECT PATH", "REASON"]
    rows = [header, *(_row(task, tz, answer.archived) for task in page.tasks)]
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
                    # Set when the row came from the bot's history: when it was last seen.
                    "archived_last_seen": _archived_time(answer, task),
                }
                for task in page.tasks
            ],
        },
        ensure_ascii=False,
        indent=2,
    )


def _terminal_command(command: str) -> str:
    """A command after `/cdn ` as it is typed in a terminal (or in Slack, for Slack-only ones)."""
    if command == "refresh":
        return "python -m bot refresh URL…"
    if command in SUBCOMMANDS and SUBCOMMANDS[command] not in ("task", "tasks", "stats"):
        return f"/cdn {command} (in Slack)"
    return f'python -m bot query "{command}"'


def unknown_text(word: str) -> str:
    """A word we did not understand: say so and offer the two or three closest things."""
    found = closest_commands(word)
    lead = "closest to that" if found else "some things to try"
    tries = [f"  {_terminal_command(command)}" for command in found or FALLBACK_COMMANDS]
    return "\n".join(
        [
            f"error: `{shorten_middle(word, 60)}` is not a filter or command; {lead}:",
            *tries,
            'python -m bot query "help" lists every filter.',
        ]
    )


async def run_query(settings: Settings, text: str, *, clock: Clock, print_json: bool) -> int:
    """Answer `text` from the terminal as /cdn would and print it; the exit status (2: the
    filters must change)."""
    now = clock()
    tz = now.astimezone().tzinfo or UTC  # the terminal's own timezone
    command = parse_query(text, now=now, tz=tz, kept_days=settings.history_days)
    if isinstance(command, Help):
        if command.unknown:
            print(unknown_text(command.unknown), file=sys.stderr)
            return 2
        print(USAGE)
        return 0
    if isinstance(command, Stats):
        found = await stats_report(settings, command, now=now, tz=tz)
        print(stats_json(found) if print_json else stats_text(found))
        return 0
    if not isinstance(command, TaskQuery):
        print(
            "error: subscriptions live in Slack channels; use /cdn there. "
            "This command runs task queries and stats.",
            file=sys.stderr,
        )
        return 2
    store = await Store.open(settings.database_url)
    try:
        async with open_task_source(settings, clock=clock) as source:
            recall = Recall(source.find, store, clock=clock, kept_days=settings.history_days)
            answer = await recall.find(command)
    finally:
        await store.close()
    print(as_json(answer) if print_json else table(answer, tz))
    return 0


def _archived_time(answer: Answer, task: Task) -> str | None:
    seen = answer.archived.get(task.task_id)
    return format_api_time(seen) if seen is not None else None


# -- stats ---------------------------------------------------------------------------------


async def stats_report(settings: Settings, query: Stats, *, now: datetime, tz: tzinfo) -> Report:
    """`query` answered from the task history in the store (the numbers only: no chart)."""
    store = await Store.open(settings.database_url)
    try:
        start, _ = period_before(query)
        records = await store.archived_between(
            start, query.until, domain=query.domain, object_type=query.object_type
        )
    finally:
        await store.close()
    kept_since = now - timedelta(days=settings.history_days)
    return report(records, query, tz=tz, kept_since=kept_since)


def _times(summary: Summary) -> str:
    found = summary.durations
    if found.median is None or found.p90 is None:
        return "no task completed"
    return f"median {duration_text(found.median)}, p90 {duration_text(found.p90)}"


def stats_text(found: Report) -> str:
    """The numbers as aligned lines, each beside the period before."""
    query, now, before = found.query, found.current, found.before
    span = period_text(query)
    what = " · ".join(
        [query.domain or "CDN tasks", *([str(query.object_type)] if query.object_type else [])]
    )
    tz = found.series.tz
    rate = rate_change(now.failure_rate, before.failure_rate)
    lines = [
        f"{what}: {shown(query.since, tz)} to {shown(query.until, tz)}",
        f"  tasks             {now.total:>7,}   {count_change(now.total, before.total, span)} "
        f"({before.total:,})",
        f"  failed            {now.count(Status.FAILED):>7,}   "
        f"{percent_text(now.failure_rate)} of finished" + (f" ({rate})" if rate else ""),
        f"  complete          {now.count(Status.COMPLETE):>7,}",
        f"  still running     {now.running:>7,}",
        f"  time to complete  {_times(now)} (the {span} before: {_times(before)})",
    ]
    if now.failing_domains and query.domain is None:
        width = max(len(domain) for domain, _ in now.failing_domains)
        lines.append("most failures:")
        lines += [f"  {d.ljust(width)}  {n:>6,}" for d, n in now.failing_domains]
    if now.reasons:
        listed = ", ".join(f"{REASON_LABELS[reason]} {n:,}" for reason, n in now.reasons)
        lines.append(f"why they failed: {listed}")
    if not now.total and not before.total:
        lines.append("No tasks in the history for this period: the bot keeps what it sees.")
    if found.before_partial:
        lines.append(f"The history does not reach back over all of the {span} before.")
    return "\n".join(lines)


def stats_json(found: Report) -> str:
    """The numbers as JSON: this period and the one before."""

    def period(summary: Summary) -> dict[str, object]:
        times = summary.durations
        return {
            "since": format_api_time(summary.since),
            "until": format_api_time(summary.until),
            "total": summary.total,
            "by_status": {status.value: number for status, number in summary.counts},
            "failure_rate": summary.failure_rate,
            "median_seconds": times.median.total_seconds() if times.median else None,
            "p90_seconds": times.p90.total_seconds() if times.p90 else None,
            "failing_domains": dict(summary.failing_domains),
            "reasons": {reason.value: number for reason, number in summary.reasons},
        }

    return json.dumps({"current": period(found.current), "before": period(found.before)}, indent=2)


# -- refresh and prefetch ------------------------------------------------------------------

SHOWN_PATHS = 5
API_ACTION = {Action.REFRESH: "RefreshObjectCaches", Action.PREFETCH: "PushObjectCache"}
QUOTA_NAME = {
    Kind.FILE: "URL refresh",
    Kind.DIRECTORY: "directory refresh",
    Kind.REGEX: "regex refresh",
    Kind.IGNORE_PARAMS: "IgnoreParams refresh",
}
Ask = Callable[[str], str]


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def _paths(kind: Kind, count: int) -> str:
    one, many = {
        Kind.DIRECTORY: ("directory", "directories"),
        Kind.REGEX: ("regex", "regexes"),
    }.get(kind, ("URL", "URLs"))
    return f"{count:,} {one if count == 1 else many}"


def submission_text(
    paths: Iterable[str], *, kind: str | None = None, force: bool = False, area: str | None = None
) -> str:
    """The terminal's arguments as the text `/cdn refresh` or `/cdn prefetch` would take."""
    words = list(paths)
    words += [f"type:{kind}"] if kind else []
    words += ["force"] if force else []
    words += [f"area:{area}"] if area else []
    return " ".join(words)


def plan(submission: Submission, *, left: int) -> str:
    """What will be submitted: count per domain and kind, the first paths, the API calls, and
    today's quota left before and after."""
    count, calls = len(submission.paths), len(submission.calls())
    how = [str(submission.kind)] if submission.action is Action.REFRESH else []
    how += ["force"] if submission.force else []
    how += [f"area {submission.area}"] if submission.area else []
    lines = [
        f"{submission.action.value.capitalize()} {_paths(submission.kind, count)}"
        + (f" ({', '.join(how)})" if how else "")
        + f" in {_plural(calls, 'call')} to {API_ACTION[submission.action]}.",
        "By domain:",
    ]
    domains = submission.domains.most_common()
    width = max(len(domain) for domain, _ in domains)
    lines += [f"  {domain.ljust(width)}  {number:>6,}" for domain, number in domains]
    lines.append("First:" if count > SHOWN_PATHS else "All:")
    lines += [f"  {path}" for path in submission.paths[:SHOWN_PATHS]]
    if count > SHOWN_PATHS:
        lines.append(f"  … and {count - SHOWN_PATHS:,} more")
    name = "prefetch" if submission.action is Action.PREFETCH else QUOTA_NAME[submission.kind]
    if left >= count:
        lines.append(f"Today's {name} quota: {left:,} left → {left - count:,} after.")
    else:
        lines.append(
            f"Not enough {name} quota today: {left:,} left, {count:,} asked. "
            f"Submit at most the first {left:,}, or wait until the quota resets tomorrow."
        )
    return "\n".join(lines)


def submitted_report(submitted: Submitted) -> str:
    """The task IDs, and for a partial failure exactly which paths went in and which did not."""
    ids = list(dict.fromkeys(submitted.task_ids))
    sent = [outcome for outcome in submitted.outcomes if outcome.sent]
    lines = [
        f"Submitted {len(submitted.accepted):,} of "
        f"{len(submitted.accepted) + len(submitted.refused):,} in {_plural(len(sent), 'call')}; "
        f"{_plural(len(ids), 'task')}."
    ]
    request_ids = [outcome.request_id for outcome in sent if outcome.request_id]
    if request_ids:
        lines.append(f"Request IDs: {' '.join(request_ids)}")
    if ids:
        lines.append("Task IDs:")
        lines += ["  " + " ".join(ids[start : start + 10]) for start in range(0, len(ids), 10)]
    if submitted.error is not None:
        lines.append(f"Went in ({len(submitted.accepted):,}):")
        lines += [f"  {path}" for path in submitted.accepted] or ["  none"]
        lines.append(f"Not submitted ({len(submitted.refused):,}):")
        lines += [f"  {path}" for path in submitted.refused]
    return "\n".join(lines)


def progress_line(tasks: Iterable[Task], *, total: int) -> str:
    """Counts by status over `total` paths (those not seen yet count as pending) and progress."""
    seen = list(tasks)
    counts = Counter(task.status for task in seen)
    counts[Status.PENDING] += max(0, total - len(seen))
    # A finished task is done whatever progress it stopped at.
    done = sum(100 if t.status in FINAL else t.progress for t in seen) / total if total else 100.0
    parts = [f"{counts[status]:,} {status.value.lower()}" for status in Status if counts[status]]
    return f"{' · '.join(parts)} — {progress_text(round(done, 1))}"


def failures(tasks: Iterable[Task]) -> str:
    """The failed paths, each with its reason."""
    failed = [task for task in tasks if task.status is Status.FAILED]
    lines = [f"Failed ({len(failed):,}):"]
    for task in failed:
        reason = REASON_LABELS[task.reason] if task.reason else "no reason given"
        lines.append(f"  {task.object_path}  ({reason}; task {task.task_id})")
    return "\n".join(lines)


async def follow(
    writer: Writer,
    task_ids: Sequence[str],
    *,
    total: int,
    clock: Clock,
    interval: float,
    give_up_after: timedelta,
) -> tuple[list[Task], bool]:
    """Poll the tasks until every one is Complete or Failed (or `give_up_after`), printing a
    line whenever the counts change; (the last state of each task, whether all finished)."""
    latest: dict[tuple[str, str], Task] = {}
    waiting = list(dict.fromkeys(task_ids))
    started, shown = clock(), ""
    while True:
        for task in await writer.tasks(waiting):
            latest[task.task_id, task.object_path] = task
        finished = {task.task_id for task in latest.values() if task.status in FINAL} - {
            task.task_id for task in latest.values() if task.status not in FINAL
        }
        waiting = [task_id for task_id in waiting if task_id not in finished]
        line = progress_line(latest.values(), total=total)
        if line != shown:
            print(f"{clock().astimezone():%H:%M:%S}  {line}", flush=True)
            shown = line
        if not waiting or clock() - started >= give_up_after:
            return list(latest.values()), not waiting
        await asyncio.sleep(interval)


def _operator() -> str:
    """Who typed the command: the terminal's user, as the audit trail names them."""
    try:
        return f"terminal:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry (some containers)
        return "terminal"


async def record(settings: Settings, entry: AuditEntry) -> None:
    """A terminal write goes on the same audit trail as Slack's: the JSON line and the store."""
    logging.getLogger("bot.audit").info(audit_line(entry))
    store = await Store.open(settings.database_url)
    try:
        await store.record_audit(
            entry, forget_before=entry.at - timedelta(days=settings.audit_days)
        )
    finally:
        await store.close()


async def run_write(
    settings: Settings,
    action: Action,
    text: str,
    *,
    clock: Clock,
    ask: Ask | None,
    yes: bool,
    interval: float,
) -> int:
    """Submit `text` (as after `/cdn refresh` or `/cdn prefetch`) from the terminal, after
    showing the plan and asking (`ask`: None when there is no one to ask); then follow the
    tasks. The exit status: 0 all complete, 1 something failed or was refused, 2 bad input."""
    submission = parse_submission(action, text)
    async with open_task_source(settings, clock=clock) as source:
        writer = source.writer
        assert writer is not None  # open_task_source always builds one
        left = quota_left(await writer.quota(), submission)
        print(plan(submission, left=left), flush=True)
        if left < len(submission.paths):
            print("Nothing submitted.", file=sys.stderr)
            return 1
        if not yes:
            if ask is None:
                print(
                    "error: there is no terminal to ask for confirmation on; "
                    "pass --yes to submit without asking",
                    file=sys.stderr,
                )
                return 2
            try:
                answer = ask("Submit? [y/N] ")
            except EOFError:
                answer = ""
            if answer.strip().lower() not in ("y", "yes"):
                print("Nothing submitted.")
                return 1
        entry = AuditEntry(
            clock(), _operator(), "terminal", "terminal", submission_summary(submission)
        )
        submitted = await writer.submit(submission)
        note_submitted(entry, submitted)
        await record(settings, entry)
        print(submitted_report(submitted), flush=True)
        if submitted.error is not None:
            print(f"error: {wording.describe(submitted.error)}", file=sys.stderr)
        if not submitted.task_ids:
            return 1
        tasks, finished = await follow(
            writer,
            submitted.task_ids,
            total=len(submitted.accepted),
            clock=clock,
            interval=interval,
            give_up_after=CAPS[action],
        )
    if any(task.status is Status.FAILED for task in tasks):
        print(failures(tasks))
    if not finished:
        minutes = CAPS[action] // timedelta(minutes=1)
        print(
            f"Stopped following after {minutes} min with tasks still running; "
            '`python -m bot query "status:refreshing"` shows them.'
        )
    all_done = finished and all(task.status is Status.COMPLETE for task in tasks)
    return 0 if all_done and submitted.error is None else 1

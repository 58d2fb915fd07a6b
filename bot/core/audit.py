"""One line of the audit trail: who asked what, where, and how it went."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime

from bot.core.submission import Submission, Submitted
from bot.errors import UpstreamError

AUDIT_PATHS = 3  # paths an entry's detail names
AUDIT_TASKS = 10  # task IDs the stored entry names (the JSON line has them all)


@dataclass
class AuditEntry:
    """Filled in while a command or button click is handled, then written once."""

    at: datetime
    user: str
    channel: str
    kind: str  # "command" or "action"
    detail: str  # the command text or the action_id
    query: str = ""  # the parsed query, as a button value encodes it
    results: int | None = None
    request_ids: tuple[str, ...] = ()
    outcome: str = "ok"  # ok, denied, invalid, upstream error, error
    latency_ms: float = 0.0
    extra: dict[str, str] = field(default_factory=dict)


def audit_line(entry: AuditEntry) -> str:
    """The entry as one JSON line, read as typed: log readers break lines at U+0085, U+2028
    and U+2029 and hide other controls and bidi marks, so those go out as JSON \\u escapes."""
    fields = asdict(entry)
    fields["at"] = entry.at.isoformat()
    text = json.dumps(fields, ensure_ascii=False, sort_keys=True)
    return "".join(c if c.isprintable() else json.dumps(c)[1:-1] for c in text)


def submission_summary(submission: Submission) -> str:
    """What a write asks for, in one line: action, kind, count, domains and the first paths."""
    domains = ", ".join(f"{d} {n}" for d, n in submission.domains.most_common())
    options = (" force" if submission.force else "") + (
        f" area:{submission.area}" if submission.area else ""
    )
    first = " ".join(submission.paths[:AUDIT_PATHS])
    return (
        f"{submission.action.value} {submission.kind.value} x{len(submission.paths)}{options} "
        f"({domains}): {first}"
    )


def note_submitted(entry: AuditEntry, submitted: Submitted) -> None:
    """Fill `entry` with what a submission did: tasks, request IDs, and any refusal."""
    tasks = submitted.task_ids
    entry.results = len(tasks)
    entry.request_ids = tuple(o.request_id for o in submitted.outcomes if o.request_id)
    entry.extra.update(
        accepted=str(len(submitted.accepted)),
        refused=str(len(submitted.refused)),
        task_ids=",".join(tasks),
    )
    shown = ",".join(tasks[:AUDIT_TASKS]) + ("…" if len(tasks) > AUDIT_TASKS else "")
    entry.detail = f"{entry.detail[: 480 - len(shown)]} -> tasks {shown}"
    error = submitted.error
    if error is not None:
        how = "partial" if submitted.accepted else "failed"
        code = error.code if isinstance(error, UpstreamError) else ""
        entry.outcome = f"{how}: {code or type(error).__name__}"

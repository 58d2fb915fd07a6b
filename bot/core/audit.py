"""One line of the audit trail: who asked what, where, and how it went."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


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

"""How task values read for people, shared by every surface (Slack, terminal)."""

from __future__ import annotations

from bot.core.tasks import FailureReason, Status

STATUS_EMOJI = {
    Status.COMPLETE: "✅",
    Status.REFRESHING: "🔄",
    Status.PENDING: "⏳",
    Status.FAILED: "❌",
}
# What to do next, beyond what the reason already says.
REASON_HINTS = {
    FailureReason.ORIGIN_TIMEOUT: (
        "make sure the origin is up and answers the CDN within its timeout (firewall, load), "
        "then Retry"
    ),
    FailureReason.ORIGIN_5XX: (
        "look up this path in the origin's error logs and fix what fails there, then Retry"
    ),
    FailureReason.INTERNAL_ERROR: (
        "nothing to fix on your side: Retry in a few minutes; if it fails again, open a ticket "
        "with Alibaba Cloud quoting the task ID"
    ),
    FailureReason.OTHER: "open the task in the Alibaba Cloud console for the details, then Retry",
}


REASON_LABELS = {
    FailureReason.ORIGIN_TIMEOUT: "Origin timeout",
    FailureReason.ORIGIN_5XX: "Origin 5xx",
    FailureReason.INTERNAL_ERROR: "Internal error",
    FailureReason.OTHER: "Other",
}


def shorten_middle(text: str, width: int) -> str:
    """`text` cut to `width` characters by replacing its middle with an ellipsis."""
    if len(text) <= width:
        return text
    if width < 2:
        return text[:width]
    tail = (width - 1) // 2
    head = width - 1 - tail
    return text[:head] + "…" + (text[-tail:] if tail else "")


def shorten_path(path: str, width: int) -> str:
    """`path` cut to `width` like `shorten_middle`, keeping `scheme://host/` whole when it fits."""
    if len(path) <= width:
        return path
    scheme, found, rest = path.partition("://")
    host_end = rest.find("/") if found else -1
    if host_end < 0:
        return shorten_middle(path, width)
    prefix = f"{scheme}://{rest[: host_end + 1]}"
    # Keep a few characters of the rest on each side of the ellipsis, or it says nothing.
    if width - len(prefix) < 8:
        return shorten_middle(path, width)
    return prefix + shorten_middle(path[len(prefix) :], width - len(prefix))


def freshness(age: float) -> str:
    """How old an answer is, `age` seconds: 'live', 'cached just now', 'cached 12 s ago'..."""
    # Age is exactly 0 for an answer fetched for this very reply.
    if age == 0:
        return "live"
    if age < 1:
        return "cached just now"
    return f"cached {age:.0f} s ago" if age < 120 else f"cached {age / 60:.0f} min ago"


def progress_text(progress: float) -> str:
    """45.0 → '45%'; keeps one decimal only when there is one."""
    return f"{progress:.0f}%" if progress == int(progress) else f"{progress:.1f}%"

"""The bot's log lines: one record is one line, whatever people type.

Control characters (newlines, CR, U+2028/U+2029, U+0085, the rest of C0 and C1, bidi
overrides) in a message are escaped, so text from Slack or the CDN API cannot forge a line
of the log or the audit trail. The escapes are JSON's, so a JSON audit line stays JSON.
"""

from __future__ import annotations

import logging

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"

_CONTROLS = [*range(0x20), 0x7F, *range(0x80, 0xA0), 0x2028, 0x2029]
_CONTROLS += [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]  # bidi overrides reorder a line
_ESCAPES = {code: f"\\u{code:04x}" for code in _CONTROLS}
_ESCAPES.update({ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"})
# Inside a traceback the line breaks are its own; everything else is escaped there too.
_TRACEBACK_ESCAPES = {code: text for code, text in _ESCAPES.items() if code != ord("\n")}
TRACEBACK_INDENT = "  "


def escaped(text: str) -> str:
    """`text` on one line: control characters written as JSON-style escapes."""
    return text.translate(_ESCAPES)


class LineFormatter(logging.Formatter):
    """The record's line escaped; a traceback kept readable below it, every one of its lines
    indented, so only a record's own line ever starts at the left margin."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return escaped(super().formatMessage(record))

    def formatException(self, ei: logging._SysExcInfoType) -> str:
        return _indented(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return _indented(super().formatStack(stack_info))


def _indented(text: str) -> str:
    lines = text.translate(_TRACEBACK_ESCAPES).split("\n")
    return "\n".join(TRACEBACK_INDENT + line for line in lines)


def configure(level: int | str = logging.INFO) -> None:
    """Log to stderr through LineFormatter (once per process, before anything logs)."""
    handler = logging.StreamHandler()
    handler.setFormatter(LineFormatter(FORMAT))
    logging.basicConfig(level=level, handlers=[handler])

"""Every log line is one line: nothing people type can forge another record."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest

from bot.logs import FORMAT, TRACEBACK_INDENT, LineFormatter, escaped
from tests.environment import clean_environ

BREAKERS = ["\n", "\r", "\r\n", "\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x1e"]
OTHER_CONTROLS = ["\x00", "\x1b[31m", "\x7f", "\x9b", "\t", "\u202e", "\u2066"]


@pytest.mark.parametrize("char", BREAKERS + OTHER_CONTROLS, ids=repr)
def test_control_characters_are_escaped(char):
    text = escaped(f"before{char}after")
    assert text.isprintable() and text.startswith("before") and text.endswith("after")
    assert len(text.splitlines()) == 1


def test_json_lines_stay_json():
    entry = {"detail": 'a\nb\u2028c\x85d\\e"f', "user": "U1"}
    line = escaped(json.dumps(entry, ensure_ascii=False))
    assert len(line.splitlines()) == 1 and json.loads(line) == entry


def record(message, *args, exc_info=None):
    return logging.LogRecord("bot.audit", logging.INFO, __file__, 1, message, args, exc_info)


def test_a_forged_record_stays_inside_the_real_one():
    forged = 'ok\n2026-11-28 12:00:00,000 INFO bot.audit {"user": "UADMIN"}'
    line = LineFormatter(FORMAT).format(record("command %s", forged))
    assert len(line.splitlines()) == 1 and "ok\\n2026" in line


def test_tracebacks_stay_readable_and_indented():
    try:
        raise ValueError("boom\n2026-11-28 12:00:00,000 INFO bot.audit forged")
    except ValueError:
        info = sys.exc_info()
    text = LineFormatter(FORMAT).format(record("unexpected error %s", "ab12", exc_info=info))
    first, *rest = text.split("\n")
    assert first.endswith("unexpected error ab12")
    assert rest[0] == TRACEBACK_INDENT + "Traceback (most recent call last):"
    assert all(line.startswith(TRACEBACK_INDENT) for line in rest)
    assert any("raise ValueError" in line for line in rest)


def test_main_writes_one_line_per_record(tmp_path):
    script = (
        "import logging\n"
        "from bot.__main__ import main\n"
        "main(['query', 'help'])\n"
        "logging.getLogger('bot.audit').info('detail: %s', 'x\\n0000 INFO bot.audit forged')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=clean_environ({"HOME": str(tmp_path)}),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = [line for line in done.stderr.splitlines() if "forged" in line]
    assert len(lines) == 1 and "INFO bot.audit detail: x\\n0000" in lines[0]

"""`python -m bot query` on filters that must change: a worded error and exit status 2."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.environment import clean_environ


def query(tmp_path, text: str) -> subprocess.CompletedProcess[str]:
    """Run the terminal query in a clean environment (the embedded emulator answers)."""
    return subprocess.run(
        [sys.executable, "-m", "bot", "query", text],
        cwd=tmp_path,
        env=clean_environ({"HOME": str(tmp_path)}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("text", ["until:9999-12-31", "since:999999d"])
def test_times_beyond_the_calendar_exit_2_without_a_traceback(tmp_path, text):
    done = query(tmp_path, text)
    assert done.returncode == 2
    assert "too far off" in done.stderr and "Traceback" not in done.stderr


def test_a_page_too_deep_to_merge_exits_2_with_the_advice(tmp_path):
    done = query(tmp_path, "status:failed page:100000 size:100")
    assert done.returncode == 2
    assert "too deep" in done.stderr and "type:file" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_terminal_says_its_emulator_is_its_own(tmp_path):
    done = query(tmp_path, "failed size:1")
    assert done.returncode == 0, done.stderr
    assert "this command's own" in done.stderr and "not in it" in done.stderr

"""`python -m bot query` on filters no datetime can hold: a worded error and exit status 2."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.environment import clean_environ


@pytest.mark.parametrize("text", ["until:9999-12-31", "since:999999d"])
def test_times_beyond_the_calendar_exit_2_without_a_traceback(tmp_path, text):
    done = subprocess.run(
        [sys.executable, "-m", "bot", "query", text],
        cwd=tmp_path,
        env=clean_environ({"HOME": str(tmp_path)}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "too far off" in done.stderr and "Traceback" not in done.stderr


def test_a_page_too_deep_to_merge_exits_2_with_the_advice(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "bot", "query", "status:failed page:100000 size:100"],
        cwd=tmp_path,
        env=clean_environ({"HOME": str(tmp_path)}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "too deep" in done.stderr and "type:file" in done.stderr
    assert "Traceback" not in done.stderr

"""Settings the operator exported in the shell reach no test and no process a test starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import Settings
from tests.environment import clean_environ, is_setting, settings_in
from tests.slack import world
from tests.slack.test_http_app import command, table_of

ROOT = Path(__file__).resolve().parents[1]
# What an operator's shell may hold: each one, leaked, breaks a test or a bot a test starts.
EXPORTED = {
    "ACCESS_QUERY_USERS": "U0NOBODY1",
    "DATABASE_URL": "sqlite:////nonexistent/x.db",
    "WATCH_INTERVAL": "-1",
    "PLAYGROUND_PUBLIC": "perhaps",
    "AUDIT_DAYS": "0",
    "access_admin_users": "nobody",  # pydantic-settings reads names in any case
    "Cache_TTL": "-5",
}


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_kept_out_in_any_case(name):
    assert is_setting(name.upper()) and is_setting(name) and is_setting(name.title())


def test_other_variables_stay(monkeypatch):
    monkeypatch.setenv("LANG", "C.UTF-8")
    for name, value in EXPORTED.items():
        monkeypatch.setenv(name, value)
    environ = clean_environ({"PORT": "0"})
    assert environ["LANG"] == "C.UTF-8" and environ["PORT"] == "0"
    assert list(settings_in(environ)) == ["PORT"]


async def test_a_bot_the_fixtures_build_sees_none_of_it(tmp_path, clock, emulator, fake_slack):
    assert list(settings_in(os.environ)) == []
    assert Settings() == Settings.model_construct()  # every field at its default
    async with world.running_bot(
        tmp_path / "bot.db", clock=clock, emulator=emulator, slack=fake_slack
    ) as bot:
        assert table_of(await command(bot, "failed size:3"))


def test_exported_settings_change_no_test():
    """The test above and a `python -m bot` answering a command, in a pytest of their own
    started with the settings exported."""
    tests = [
        f"{Path(__file__).relative_to(ROOT)}::test_a_bot_the_fixtures_build_sees_none_of_it",
        "tests/test_main.py::test_http_mode_end_to_end",
    ]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests],
        cwd=ROOT,
        env={**os.environ, **EXPORTED},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "2 passed" in done.stdout

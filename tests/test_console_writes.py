"""`python -m bot refresh|prefetch`: the plan and quota shown, the question asked, the submission
reported (exactly which paths went in), the tasks followed to the end, and the exit status."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import console
from bot.cdn.emulator import Emulator
from bot.config import Settings
from bot.core.submission import Action, CallOutcome, Submitted, parse_submission
from bot.core.tasks import Status, Task
from bot.errors import QuotaExceeded
from bot.store.database import Store
from tests.conftest import KEY_ID, KEY_SECRET, emulator_config
from tests.environment import clean_environ

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def urls(count: int, host: str = "a.example.com", *, folder: str = "") -> list[str]:
    return [f"https://{host}/{folder}{n}.js" for n in range(count)]


def run(tmp_path, *args: str, stdin: str | int | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m bot …` in a clean environment: the embedded emulator answers (paths with
    /broken/ in them fail, tasks take five seconds)."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=clean_environ({"HOME": str(tmp_path)}),
        input=stdin if isinstance(stdin, str) else None,
        stdin=stdin if isinstance(stdin, int) else (None if stdin else subprocess.DEVNULL),
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


# -- the pure formatting -----------------------------------------------------------------------


def test_the_plan_counts_per_domain_shows_the_first_paths_the_calls_and_the_quota():
    submission = parse_submission(Action.REFRESH, " ".join(urls(2000) + urls(500, "b.example.com")))
    text = console.plan(submission, left=9_412)
    assert text.splitlines()[0] == "Refresh 2,500 URLs (File) in 3 calls to RefreshObjectCaches."
    assert "a.example.com   2,000" in text and "b.example.com     500" in text
    assert "https://a.example.com/4.js" in text and "https://a.example.com/5.js" not in text
    assert "… and 2,495 more" in text
    assert "Today's URL refresh quota: 9,412 left → 6,912 after." in text


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("type:dir force https://a.example.com/s/", "Refresh 1 directory (Directory, force) in 1"),
        ("https://a.example.com/1.js area:overseas", "Prefetch 1 URL (area overseas) in 1 call"),
    ],
)
def test_the_plan_names_the_kind_and_options(text, first):
    action = Action.PREFETCH if "area:" in text else Action.REFRESH
    assert console.plan(parse_submission(action, text), left=100).startswith(first)


def test_the_plan_says_when_the_quota_is_short():
    submission = parse_submission(Action.PREFETCH, " ".join(urls(120)))
    text = console.plan(submission, left=100)
    assert "Not enough prefetch quota today: 100 left, 120 asked." in text
    assert "first 100" in text


def test_a_partial_failure_lists_exactly_what_went_in_and_what_did_not():
    refusal = QuotaExceeded("RefreshObjectCaches", code="QuotaExceeded.Refresh")
    submitted = Submitted(
        (
            CallOutcome(("https://a.example.com/1.js",), ("11", "12"), "R1"),
            CallOutcome(("https://a.example.com/2.js",), error=refusal),
            CallOutcome(("https://a.example.com/3.js",), error=refusal, sent=False),
        )
    )
    lines = console.submitted_report(submitted).splitlines()
    assert lines[0] == "Submitted 1 of 3 in 2 calls; 2 tasks."
    assert "  11 12" in lines
    went_in = lines.index("Went in (1):")
    assert lines[went_in + 1] == "  https://a.example.com/1.js"
    assert lines[went_in + 2 :] == [
        "Not submitted (2):",
        "  https://a.example.com/2.js",
        "  https://a.example.com/3.js",
    ]


def task(status: Status, progress: float = 0, *, n: int = 1) -> Task:
    reason = "Origin Timeout" if status is Status.FAILED else None
    path = f"https://a.example.com/{n}.js"
    return Task(str(n), path, "file", status, progress, NOW, reason)


def test_the_progress_line_counts_unseen_paths_as_pending_and_finished_ones_as_done():
    tasks = [task(Status.COMPLETE, 100, n=1), task(Status.FAILED, 40, n=2)]
    tasks.append(task(Status.REFRESHING, 50, n=3))
    assert console.progress_line(tasks, total=4) == (
        "1 pending · 1 refreshing · 1 complete · 1 failed — 62.5%"
    )


def test_failures_name_each_path_and_its_reason():
    text = console.failures([task(Status.COMPLETE, 100, n=1), task(Status.FAILED, n=2)])
    assert text == "Failed (1):\n  https://a.example.com/2.js  (Origin timeout; task 2)"


# -- against an emulator of the test's own -----------------------------------------------------


@pytest.fixture
async def live_emulator():
    """Limits off, tasks finishing in half a second of real time."""
    server = Emulator(emulator_config(lambda: datetime.now(UTC), task_seconds=0.5))
    await server.start()
    yield server
    await server.stop()


def settings_for(emulator: Emulator, folder: Path) -> Settings:
    return Settings(
        alibaba_cloud_access_key_id=KEY_ID,
        alibaba_cloud_access_key_secret=KEY_SECRET,
        cdn_endpoint=emulator.url,
        database_url=f"sqlite:///{folder / 'bot.db'}",
    )


async def write(emulator: Emulator, action: Action, text: str, folder: Path) -> int:
    return await console.run_write(
        settings_for(emulator, folder),
        action,
        text,
        clock=lambda: datetime.now(UTC),
        ask=None,
        yes=True,
        interval=0.05,
    )


async def test_short_quota_is_refused_before_any_write(live_emulator, capsys, tmp_path):
    live_emulator.ledger.quotas["Url"] = 1
    status = await write(live_emulator, Action.REFRESH, " ".join(urls(2)), tmp_path)
    assert status == 1
    assert "1 left, 2 asked" in capsys.readouterr().out
    assert not live_emulator.calls_of("RefreshObjectCaches")


async def test_a_refusal_midway_reports_what_went_in_and_follows_it(
    live_emulator, capsys, monkeypatch, tmp_path
):
    # Someone else spends the directory quota between the quota read and the second call.
    ledger = live_emulator.ledger
    reported = ledger.quota
    monkeypatch.setattr(ledger, "quota", lambda now: {**reported(now), "Dir": (1000, 1000)})
    paths = [f"https://a.example.com/d{n}/" for n in range(150)]
    status = await write(live_emulator, Action.REFRESH, "type:dir " + " ".join(paths), tmp_path)
    out, err = capsys.readouterr()
    assert status == 1
    assert "Submitted 100 of 150 in 2 calls; 100 tasks." in out
    went_in, not_in = out.split("Went in (100):\n")[1].split("Not submitted (50):\n")
    assert went_in.split() == paths[:100]
    assert not_in.split("\n\n")[0].split()[:50] == paths[100:]
    assert "100 complete — 100%" in out
    assert err.startswith("error: ") and "QuotaExceeded.Refresh" in err  # worded by bot.wording
    # On the audit trail like a submission from Slack: who, what, the tasks, the refusal.
    store = await Store.open(settings_for(live_emulator, tmp_path).database_url)
    try:
        (entry,) = await store.recent_audit(5)
    finally:
        await store.close()
    assert entry.channel == "terminal" and entry.user.startswith("terminal")
    assert entry.detail.startswith("refresh Directory x150") and entry.results == 100
    assert entry.outcome == "partial: QuotaExceeded.Refresh" and entry.request_ids


# -- `python -m bot` in a process of its own ---------------------------------------------------


def test_refresh_with_yes_submits_follows_to_the_end_and_exits_0(tmp_path):
    done = run(tmp_path, "refresh", *urls(3), "--yes", "--interval", "0.5")
    assert done.returncode == 0, done.stderr
    assert "Refresh 3 URLs (File) in 1 call to RefreshObjectCaches." in done.stdout
    assert "Today's URL refresh quota: 10,000 left → 9,997 after." in done.stdout
    assert "Task IDs:" in done.stdout
    assert done.stdout.rstrip().endswith("3 complete — 100%")


def test_a_failed_task_is_listed_with_its_reason_and_exits_1(tmp_path):
    paths = [*urls(1), "https://a.example.com/broken/x.js"]
    done = run(tmp_path, "prefetch", *paths, "--area", "domestic", "--yes", "--interval", "0.5")
    assert done.returncode == 1, done.stderr
    assert "1 complete · 1 failed — 100%" in done.stdout
    assert "Failed (1):\n  https://a.example.com/broken/x.js  (" in done.stdout


def test_urls_come_from_stdin_one_a_line(tmp_path):
    paths = urls(30, folder="dir/")
    done = run(tmp_path, "refresh", "-", "--yes", "--interval", "0.5", stdin="\n".join(paths))
    assert done.returncode == 0, done.stderr
    assert "Refresh 30 URLs (File) in 1 call" in done.stdout
    assert "30 complete — 100%" in done.stdout


def test_without_a_terminal_or_yes_it_shows_the_plan_and_submits_nothing(tmp_path):
    done = run(tmp_path, "refresh", *urls(2))
    assert done.returncode == 2
    assert "Refresh 2 URLs" in done.stdout and "Task IDs" not in done.stdout
    assert "pass --yes" in done.stderr


def test_piped_urls_need_yes_too(tmp_path):
    done = run(tmp_path, "prefetch", "-", stdin="https://a.example.com/1.js\n")
    assert done.returncode == 2 and "pass --yes" in done.stderr


def test_no_at_the_question_submits_nothing(tmp_path):
    controller, terminal = pty.openpty()
    try:
        os.write(controller, b"n\n")
        done = run(tmp_path, "refresh", *urls(2), stdin=terminal)
    finally:
        os.close(controller)
        os.close(terminal)
    assert done.returncode == 1, done.stderr
    assert "Submit? [y/N]" in done.stdout and "Nothing submitted." in done.stdout
    assert "Task IDs" not in done.stdout


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["refresh", "www.example.com/a.js", "--yes"], "add the scheme"),
        (["refresh", "https://a.example.com/s", "--type", "dir", "--yes"], "ends with `/`"),
        (["refresh", "https://a.example.com/a.js", "--force", "--yes"], "`force` applies"),
        (["prefetch", "https://a.example.com/a.js", "--area", "moon", "--yes"], "invalid choice"),
    ],
)
def test_bad_input_exits_2_with_the_hint_and_submits_nothing(tmp_path, args, words):
    done = run(tmp_path, *args)
    assert done.returncode == 2
    assert words in done.stderr and "Traceback" not in done.stderr
    assert "Task IDs" not in done.stdout

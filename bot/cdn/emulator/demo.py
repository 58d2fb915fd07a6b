"""A deterministic, realistic three-day history of tasks for demos and first runs."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.cdn.emulator.ledger import FAILURE_DESCRIPTIONS, Ledger, LedgerTask

DOMAINS = (
    "www.example.com",
    "img.example.com",
    "static.example.org",
    "video.example.net",
    "downloads.example.io",
)
_FILES = (
    "index.html",
    "app.js",
    "styles/main.css",
    "images/logo.png",
    "images/hero-banner@2x.jpg",
    "video/intro.mp4",
    "fonts/inter.woff2",
    "releases/v2.4.1/setup.exe",
    "api/v1/config.json",
    "docs/getting-started.html",
)
_DIRECTORIES = ("images/", "static/", "video/", "docs/", "releases/")
_TYPE_WEIGHTS = {"file": 60, "directory": 12, "preload": 22, "regex": 3, "IgnoreParams": 3}
# The history's oldest and newest task IDs: the ones `/cdn help` shows, so its examples find them.
FIRST_ID, LAST_ID = 704_222_904, 704_225_667


def history_ids(count: int) -> list[str]:
    """`count` increasing task IDs from FIRST_ID to LAST_ID, with the gaps other accounts' tasks
    leave in real ones."""
    if count == 1:
        return [str(FIRST_ID)]
    # A history longer than the span numbers on past LAST_ID, one by one.
    step = max(1.0, (LAST_ID - FIRST_ID) / max(count - 1, 1))
    return [str(FIRST_ID + round(number * step)) for number in range(count)]


def seed_history(ledger: Ledger, count: int, *, now: datetime) -> None:
    """Add `count` tasks spread over the last three days; the same count gives the same history."""
    rng = random.Random(count)
    span = timedelta(days=3) - timedelta(minutes=5)
    moments = sorted(now - span * rng.random() ** 1.5 for _ in range(count))
    types = list(_TYPE_WEIGHTS)
    weights = list(_TYPE_WEIGHTS.values())
    for task_id, created in zip(history_ids(count), moments, strict=True):
        object_type = rng.choices(types, weights)[0]
        domain = rng.choice(DOMAINS)
        scheme = rng.choice(("https", "https", "http"))
        if object_type == "directory":
            path = f"{scheme}://{domain}/{rng.choice(_DIRECTORIES)}"
        elif object_type == "regex":
            path = f"{scheme}://{domain}/images/.*\\.png"
        else:
            path = f"{scheme}://{domain}/{rng.choice(_FILES)}"
            if object_type == "IgnoreParams" or rng.random() < 0.1:
                path += f"?v={rng.randint(1, 999)}"
        # Recent tasks are still running; prefetches of big files take longest.
        duration = rng.uniform(20, 240) * (4 if object_type == "preload" else 1)
        failure = rng.choice(FAILURE_DESCRIPTIONS) if rng.random() < 0.12 else None
        ledger.add(LedgerTask(task_id, path, object_type, created, duration, failure))


async def keep_busy(
    ledger: Ledger, *, clock: Callable[[], datetime], every: float, seed: int = 0
) -> None:
    """Add a refresh task every `every` seconds, one in three under /broken/ (so it fails
    where the emulator's fail pattern says so): a demo that shows notifications arriving."""
    rng = random.Random(seed)
    for number in itertools.count(1):
        await asyncio.sleep(every)
        folder = "broken/" if number % 3 == 0 else ""
        path = f"https://{rng.choice(DOMAINS)}/{folder}{rng.choice(_FILES)}"
        ledger.create([path], "file", clock())

"""Stats benchmark: how long `/cdn stats` takes at 10,000 tasks a day.

Prints the chart's render time (the first one in a fresh process, which imports matplotlib;
then fresh charts; then the cache), its size, and the rest of the answer: reading a period and
the one before from the store (SQLite) and computing the numbers.
Run `python benchmarks/stats.py [--per-day 10000] [--rounds 20]`.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.core.query import Stats
from bot.core.stats import period_before, report
from bot.core.tasks import ObjectType, Status, Task
from bot.slack.chart import Chart, Charts, render_png
from bot.slack.stats_render import chart_title
from bot.store.database import Store

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
HOSTS = [f"d{n}.example.com" for n in range(20)]
COLD = """
import time
started = time.perf_counter()
from datetime import UTC, datetime, timedelta
from bot.core.stats import SHOWN_ORDER, Series
from bot.slack.chart import Chart, render_png
series = Series(datetime(2026, 11, 27, tzinfo=UTC), timedelta(hours=1), UTC,
                tuple((s, tuple(range(24))) for s in SHOWN_ORDER))
render_png(Chart(series, "cold"))
print(time.perf_counter() - started)
"""


def tasks(per_day: int, days: int) -> list[tuple[Task, datetime]]:
    """`days` times `per_day` tasks before NOW: 96 % complete in 1 to 15 min, 3 % failed, the rest
    still running; each with the moment it was last seen."""
    rng = random.Random(7)
    made = []
    for n in range(per_day * days):
        created = NOW - timedelta(seconds=rng.uniform(0, days * 86_400))
        status = rng.choices(
            [Status.COMPLETE, Status.FAILED, Status.REFRESHING, Status.PENDING], [96, 3, 0.7, 0.3]
        )[0]
        task = Task(
            str(700_000_000 + n),
            f"https://{rng.choice(HOSTS)}/assets/{n}.js",
            ObjectType.FILE,
            status,
            100.0 if status is Status.COMPLETE else 0.0,
            created,
            "Origin Timeout" if status is Status.FAILED else None,
        )
        made.append((task, created + timedelta(seconds=rng.uniform(60, 900))))
    return made


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f}"


def cold_renders(rounds: int) -> list[float]:
    """The first chart of a fresh process: matplotlib's import, then the drawing."""
    root = Path(__file__).resolve().parents[1]
    found = []
    for _ in range(rounds):
        done = subprocess.run(
            [sys.executable, "-c", COLD], cwd=root, capture_output=True, text=True, check=True
        )
        found.append(float(done.stdout.strip()))
    return found


async def main(per_day: int, rounds: int) -> None:
    print(f"{per_day:,} tasks a day, {rounds} rounds; medians (p95 where shown), in ms\n")
    cold = cold_renders(min(rounds, 5))
    print(f"first chart in a fresh process (imports matplotlib) {ms(statistics.median(cold))}")

    with tempfile.TemporaryDirectory() as folder:
        store = await Store.open(f"sqlite:///{folder}/bench.db")
        kept = tasks(per_day, 14)
        by_seen: dict[datetime, list[Task]] = {}
        for task, seen in kept:
            by_seen.setdefault(seen.replace(second=0, microsecond=0), []).append(task)
        for seen, batch in by_seen.items():
            for start in range(0, len(batch), 500):
                await store.archive(batch[start : start + 500], seen)
        charts = Charts()
        render_png(Chart(report([], Stats(since=NOW - timedelta(hours=1), until=NOW)).series, ""))
        print()
        print("period  tasks   store read  numbers  chart(new)  p95   cached   PNG bytes")
        for days in (1, 7):
            query = Stats(since=NOW - timedelta(days=days), until=NOW)
            reads, numbers, draws, cached = [], [], [], []
            for round_ in range(rounds):
                started = time.perf_counter()
                start, _ = period_before(query)
                records = await store.archived_between(start, query.until)
                read = time.perf_counter()
                found = report(records, query)
                computed = time.perf_counter()
                # A fresh chart each round (its title differs), as a new query would draw.
                chart = Chart(found.series, f"{chart_title(found)} #{round_}")
                drawn_at = time.perf_counter()
                png = render_png(chart)
                drawn = time.perf_counter()
                await charts.png(chart)
                again = time.perf_counter()
                await charts.png(chart)
                reads.append(read - started)
                numbers.append(computed - read)
                draws.append(drawn - drawn_at)
                cached.append(time.perf_counter() - again)
            p95 = statistics.quantiles(draws, n=20)[-1] if len(draws) > 1 else draws[0]
            print(
                f"{days:>2} d  {found.current.total:>7,} {ms(statistics.median(reads))}   "
                f"{ms(statistics.median(numbers))} {ms(statistics.median(draws))}  "
                f"{ms(p95)} {statistics.median(cached) * 1e6:6.0f} µs {len(png):>9,}"
            )
        await store.close()
    print(f"\ncharts drawn by the cache: {charts.drawn} for {2 * rounds * 2} asks")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-day", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=20)
    options = parser.parse_args()
    asyncio.run(main(options.per_day, options.rounds))

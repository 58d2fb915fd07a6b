"""The `/cdn stats` chart: tasks per hour (or day) by status as a PNG, failures in red at the
foot of each bar. Drawn with matplotlib's Agg canvas (no display, no pyplot state), one at a
time in a worker thread, and kept for a few minutes: the same chart is drawn once.
"""

from __future__ import annotations

import asyncio
import io
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cachetools import TTLCache

from bot.core.stats import Series
from bot.core.tasks import Status

# 900 by 360 px: wide enough for 96 hourly bars, small enough to stay a few tens of kB.
WIDTH, HEIGHT, DPI = 9.0, 3.6, 100
COLOURS = {
    Status.FAILED: "#e01e5a",  # the one colour that shouts
    Status.COMPLETE: "#9bd3b9",
    Status.REFRESHING: "#a7d8ef",
    Status.PENDING: "#d9d9d9",
}
LABELS = {
    Status.FAILED: "Failed",
    Status.COMPLETE: "Complete",
    Status.REFRESHING: "Refreshing",
    Status.PENDING: "Pending",
}
BAR_WIDTH = 0.85
TTL = 300.0  # seconds a drawn chart is kept
KEPT = 64  # charts kept at most
TICKS = 12  # labels on the time axis at most

# matplotlib's text and font caches are shared by every figure: one drawing at a time.
_drawing = threading.Lock()


@dataclass(frozen=True)
class Chart:
    """What a chart shows: the series and its title (the cache key)."""

    series: Series
    title: str


def _tick_label(moment: datetime, step: timedelta, *, first: bool, daily: bool) -> str:
    if step >= timedelta(days=1):
        return f"{moment:%a %d %b}"
    if daily:  # a week of hourly bars, labelled once a day
        return f"{moment:%a %d %b}"
    if first or (moment.hour == 0 and moment.minute == 0):
        return f"{moment:%d %b %H:%M}"
    return f"{moment:%H:%M}"


def _ticks(chart: Chart) -> tuple[list[int], list[str]]:
    series = chart.series
    every = max(1, -(-series.buckets // TICKS))
    if series.step < timedelta(days=1):
        # Hourly labels on round hours: every 1, 2, 3, 4, 6 or 12 hours.
        every = next((hours for hours in (1, 2, 3, 4, 6, 12) if hours >= every), 24)
    places, labels = [], []
    for index in range(series.buckets):
        moment = (series.start + index * series.step).astimezone(series.tz)
        if series.step < timedelta(days=1) and moment.hour % every:
            continue
        if series.step >= timedelta(days=1) and index % every:
            continue
        places.append(index)
        labels.append(_tick_label(moment, series.step, first=not places[:-1], daily=every >= 24))
    return places, labels


def render_png(chart: Chart) -> bytes:
    """The chart as PNG bytes (pure: the same chart gives the same picture)."""
    # Imported here: a bot that never draws a chart never pays for matplotlib.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import PolyCollection
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch
    from matplotlib.ticker import MaxNLocator

    series = chart.series
    with _drawing:
        figure = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI)
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        bottom = [0] * series.buckets
        legend = []
        half = BAR_WIDTH / 2
        for status, counts in series.counts:
            # One collection of rectangles per status: a tenth of the cost of bar()'s patches.
            boxes = [
                [(x - half, low), (x - half, low + n), (x + half, low + n), (x + half, low)]
                for x, (low, n) in enumerate(zip(bottom, counts, strict=True))
                if n
            ]
            axes.add_collection(PolyCollection(boxes, facecolors=COLOURS[status], linewidths=0))
            legend.append(Patch(color=COLOURS[status], label=f"{LABELS[status]} ({sum(counts):,})"))
            bottom = [below + count for below, count in zip(bottom, counts, strict=True)]
        ticks, labels = _ticks(chart)
        axes.set_xticks(ticks, labels, fontsize=8)
        axes.set_xlim(-0.6, max(series.buckets, 1) - 0.4)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
        axes.set_ylim(bottom=0, top=max(1, *bottom) * 1.18)
        axes.tick_params(axis="y", labelsize=8)
        axes.set_ylabel(f"tasks per {series.per}", fontsize=9)
        axes.set_xlabel(f"times in {series.tz}", fontsize=8, loc="right", color="#616061")
        axes.set_title(chart.title, loc="left", fontsize=11)
        axes.spines[["top", "right"]].set_visible(False)
        axes.grid(axis="y", color="#eeeeee", linewidth=0.8)
        axes.set_axisbelow(True)
        axes.legend(handles=legend, loc="upper left", ncols=4, frameon=False, fontsize=8)
        figure.subplots_adjust(left=0.07, right=0.96, top=0.89, bottom=0.13)
        out = io.BytesIO()
        # No "Software"/date metadata: the bytes depend on the chart alone.
        metadata: dict[str, Any] = {"Software": None}
        figure.savefig(out, format="png", dpi=DPI, metadata=metadata)
    return out.getvalue()


class Charts:
    """Draws charts off the event loop; a chart asked for again within `ttl` seconds, or
    while it is being drawn, is drawn once."""

    def __init__(
        self,
        *,
        ttl: float = TTL,
        kept: int = KEPT,
        timer: Callable[[], float] = time.monotonic,
        draw: Callable[[Chart], bytes] = render_png,
    ) -> None:
        self._kept: TTLCache[Chart, bytes] = TTLCache(maxsize=kept, ttl=ttl, timer=timer)
        self._drawing: dict[Chart, asyncio.Task[bytes]] = {}
        self._draw = draw
        self.drawn = 0  # how many charts were actually drawn (for tests and the benchmark)

    async def png(self, chart: Chart) -> bytes:
        """The chart's PNG, drawn now in a worker thread or taken from the cache."""
        found = self._kept.get(chart)
        if found is not None:
            return found
        task = self._drawing.get(chart)
        if task is None:
            task = asyncio.create_task(self._drawn(chart))
            self._drawing[chart] = task
            task.add_done_callback(lambda _: self._drawing.pop(chart, None))
        # One caller giving up must not cancel the drawing the others wait for.
        return await asyncio.shield(task)

    async def _drawn(self, chart: Chart) -> bytes:
        png = await asyncio.to_thread(self._draw, chart)
        self.drawn += 1
        self._kept[chart] = png
        return png

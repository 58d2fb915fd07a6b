"""The stats chart: a real PNG of a sensible size, drawn off the event loop, once per chart."""

from __future__ import annotations

import asyncio
import struct
import threading
import zlib
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.stats import SHOWN_ORDER, Series
from bot.core.tasks import Status
from bot.slack.chart import DPI, HEIGHT, WIDTH, Chart, Charts, render_png

START = datetime(2026, 11, 26, 10, tzinfo=UTC)
SIGNATURE = b"\x89PNG\r\n\x1a\n"


def chart(hours: int = 24, *, step: timedelta = timedelta(hours=1), title: str = "t") -> Chart:
    counts = {
        Status.COMPLETE: tuple(80 + (i * 7) % 40 for i in range(hours)),
        Status.FAILED: tuple(i % 5 for i in range(hours)),
        Status.REFRESHING: tuple(3 for _ in range(hours)),
        Status.PENDING: tuple(1 for _ in range(hours)),
    }
    series = Series(
        start=START, step=step, tz=UTC, counts=tuple((s, counts[s]) for s in SHOWN_ORDER)
    )
    return Chart(series, title)


def png_header(data: bytes) -> dict[str, int]:
    """The PNG signature checked, and the IHDR chunk (the first) read and its CRC checked."""
    assert data[:8] == SIGNATURE
    length, kind = struct.unpack(">I4s", data[8:16])
    assert (length, kind) == (13, b"IHDR")
    body = data[16 : 16 + length]
    (crc,) = struct.unpack(">I", data[16 + length : 20 + length])
    assert crc == zlib.crc32(b"IHDR" + body)
    width, height, depth, colour = struct.unpack(">IIBB", body[:10])
    assert data.endswith(b"IEND\xaeB`\x82")
    return {"width": width, "height": height, "depth": depth, "colour": colour}


@pytest.mark.parametrize(
    ("hours", "step"),
    [
        (24, timedelta(hours=1)),
        (169, timedelta(hours=1)),
        (31, timedelta(days=1)),
        (1, timedelta(days=1)),
    ],
)
def test_the_chart_is_a_png_of_sensible_size(hours, step):
    data = render_png(chart(hours, step=step, title="CDN tasks · 24 h to 27 Nov 10:30"))
    header = png_header(data)
    assert (header["width"], header["height"]) == (int(WIDTH * DPI), int(HEIGHT * DPI))
    assert header["depth"] == 8
    assert 5_000 < len(data) < 150_000  # a real picture, and small enough for any upload


def test_an_empty_period_still_draws():
    empty = Series(START, timedelta(hours=1), UTC, tuple((s, (0,) * 24) for s in SHOWN_ORDER))
    png_header(render_png(Chart(empty, "nothing")))


def test_the_same_chart_gives_the_same_bytes():
    assert render_png(chart()) == render_png(chart())
    assert render_png(chart()) != render_png(chart(title="other"))


class Timer:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_a_chart_is_drawn_once_while_kept_and_off_the_event_loop():
    loop_thread = threading.get_ident()
    threads: list[int] = []
    gate = threading.Event()

    def draw(wanted: Chart) -> bytes:
        threads.append(threading.get_ident())
        gate.wait(5)
        return render_png(wanted)

    timer = Timer()
    charts = Charts(ttl=60, timer=timer, draw=draw)
    # Three people ask at once while it is being drawn: one drawing.
    waiting = [asyncio.create_task(charts.png(chart())) for _ in range(3)]
    await asyncio.sleep(0)
    gate.set()
    first, second, third = await asyncio.gather(*waiting)
    assert first == second == third and charts.drawn == 1
    assert threads and loop_thread not in threads
    assert await charts.png(chart()) == first and charts.drawn == 1  # kept
    await charts.png(chart(title="another query"))
    assert charts.drawn == 2
    timer.now = 61  # past the TTL: drawn again
    await charts.png(chart())
    assert charts.drawn == 3


async def test_one_caller_giving_up_does_not_cancel_the_drawing():
    gate = threading.Event()

    def draw(wanted: Chart) -> bytes:
        gate.wait(5)
        return wanted.title.encode()

    charts = Charts(draw=draw)
    impatient = asyncio.create_task(charts.png(chart()))
    patient = asyncio.create_task(charts.png(chart()))
    await asyncio.sleep(0)
    impatient.cancel()
    gate.set()
    assert await patient == b"t"
    assert charts.drawn == 1

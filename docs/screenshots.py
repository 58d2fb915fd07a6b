"""Take the README's screenshots of the App Home and the shortcuts from the local playground.

    .venv/bin/python docs/screenshots.py

It runs `python -m bot` with no Slack tokens and no cloud credentials (the playground and the
built-in CDN emulator) on a free port in a scratch folder, drives Debian's Chromium with
playwright, and writes the PNGs next to this file, in docs/screenshots/.
"""

from __future__ import annotations

import asyncio
import os
import queue
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run"]
FAILING = "https://www.example.com/broken/release.js"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Bot:
    """`python -m bot` in playground mode, its output read line by line."""

    def __init__(self, folder: str) -> None:
        # Only what the bot needs: no Slack tokens, no cloud credentials from this shell.
        env = {key: os.environ[key] for key in ("PATH", "LANG") if key in os.environ}
        env |= {"HOME": folder, "PORT": str(free_port()), "WATCH_INTERVAL": "1"}
        env["PYTHONPATH"] = str(ROOT)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot"],
            cwd=folder,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def wait_for(self, needle: str, *, limit: float = 60) -> str:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if needle in line:
                return line
        raise RuntimeError(f"the bot never said {needle!r}")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def fail_a_task(emulator: str, path: str) -> None:
    """A refresh of `path` straight at the emulator (its /broken/ paths fail)."""
    from bot.cdn.client import CdnClient
    from bot.cdn.credentials import Credentials
    from bot.cdn.limiter import RateLimiter

    async def create() -> None:
        cdn = CdnClient(
            endpoint=emulator,
            credentials=Credentials("emulator-key", "emulator-secret"),
            limiter=RateLimiter(),
        )
        async with cdn:
            await cdn.refresh_object_caches([path])

    # Playwright's sync API runs an event loop in this thread: use another one.
    worker = threading.Thread(target=asyncio.run, args=(create(),))
    worker.start()
    worker.join()


def send(page: Page, text: str) -> None:
    page.fill("#message-box", text)
    page.press("#message-box", "Enter")


def shoot(page: Page, name: str) -> None:
    page.screenshot(path=OUT / name)
    print(f"wrote {(OUT / name).relative_to(ROOT)}")


def take(page: Page, url: str, emulator: str) -> None:
    page.goto(url + "/")
    channel = page.locator(".message.bot.in-channel")
    send(page, "/cdn subscribe")
    expect(channel.filter(has_text="subscribed this channel")).to_be_visible()
    fail_a_task(emulator, FAILING)
    expect(channel.filter(has_text="/broken/release.js")).to_be_visible(timeout=30_000)

    # The Home tab: the dashboard, as tall as it is.
    page.set_viewport_size({"width": 1400, "height": 1200})
    page.locator('[data-app="home"]').click()
    home = page.locator("#home")
    expect(home.locator("table")).to_contain_text(FAILING)
    shoot(page, "app-home.png")

    # "Check CDN tasks" on a message that names two URLs.
    page.set_viewport_size({"width": 1400, "height": 760})
    page.locator('[data-channel="C0GENERAL"]').click()
    send(page, f"Released {FAILING} and https://img.example.com/images/logo.png.")
    said = page.locator(".message.you.in-channel").last
    said.hover()
    said.get_by_role("button", name="More actions").click()
    shoot(page, "message-shortcut-menu.png")
    said.get_by_role("menuitem", name="Check CDN tasks").click()
    answer = page.locator(".message.bot.ephemeral").filter(has_text="CDN tasks for 2 links")
    expect(answer.locator("table")).to_contain_text(FAILING)
    shoot(page, "check-cdn-tasks.png")

    # "New CDN refresh" from the ⚡ menu: the form asks where to answer.
    page.locator('[data-channel="C0CDNOPS1"]').click()
    page.get_by_role("button", name="Shortcuts").click()
    page.get_by_role("menuitem", name="New CDN refresh").click()
    form = page.get_by_role("dialog", name="CDN refresh")
    form.get_by_role("textbox", name="URLs").fill("https://www.example.com/app.js")
    page.set_viewport_size({"width": 1400, "height": 900})
    shoot(page, "new-cdn-refresh.png")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        bot = Bot(folder)
        try:
            emulator = bot.wait_for("built-in CDN emulator at ").split(" at ")[1].split()[0]
            url = bot.wait_for("to try the bot").split()[1].rstrip("/")
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
                take(browser.new_page(viewport={"width": 1400, "height": 900}), url, emulator)
                browser.close()
        finally:
            bot.stop()


if __name__ == "__main__":
    main()

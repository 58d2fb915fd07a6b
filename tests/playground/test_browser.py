"""The playground in real headless Chromium: what a newcomer sees after `make run`.

Each step saves a screenshot under build/screenshots/ (a test artifact).
"""

from __future__ import annotations

import asyncio
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from bot.cdn.client import CdnClient
from bot.cdn.credentials import Credentials
from bot.cdn.limiter import RateLimiter
from bot.core.tasks import ObjectType, Status, Task
from bot.playground.workspace import APP_DM
from bot.store.database import Store
from tests.test_main import Running, free_port

pytestmark = pytest.mark.timeout(120)
SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def playground(tmp_path):
    """`python -m bot` with no Slack and no cloud account: the playground on a free port."""
    bot = Running(env={"HOME": str(tmp_path), "PORT": str(free_port()), "WATCH_INTERVAL": "1"})
    try:
        emulator = bot.wait_for("built-in CDN emulator at ").split(" at ")[1].split()[0]
        url = bot.wait_for("to try the bot").split()[1].rstrip("/")
        yield url, emulator
    finally:
        bot.stop()


@pytest.fixture
def page():
    assert Path(CHROMIUM).exists(), "Chromium is missing: `make test` installs it (Debian package)"
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        yield page
        browser.close()


def send(page: Page, text: str) -> None:
    page.fill("#message-box", text)
    page.press("#message-box", "Enter")


def channel_messages(page: Page):
    return page.locator(".message.bot.in-channel")


def fail_a_task(emulator: str, path: str) -> None:
    async def create() -> None:
        cdn = CdnClient(
            endpoint=emulator,
            credentials=Credentials("emulator-key", "emulator-secret"),
            limiter=RateLimiter(),
        )
        async with cdn:
            await cdn.refresh_object_caches([path])

    # Playwright's sync API runs an event loop in this thread: use another one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, create()).result()


def test_a_newcomer_tries_the_bot(playground, page):
    url, emulator = playground
    page.goto(url + "/")
    expect(page.locator("#local-note")).to_contain_text("Local playground, not Slack")
    expect(page.locator("#channel-title")).to_have_text("# general")

    send(page, "/cdn status:failed")
    answer = page.locator(".message.bot.ephemeral").filter(has=page.locator("table")).last
    expect(answer).to_contain_text("Only visible to you")
    expect(answer.locator("h3")).to_have_text("Failed tasks")
    rows = answer.locator("table tr")
    expect(rows.nth(1)).to_contain_text("❌ Failed")
    assert rows.count() > 2
    dates = answer.locator("table time.date")
    assert re.search(r"\d{1,2}:\d{2}", dates.first.inner_text())  # shown in the browser's zone
    page.screenshot(path=SHOTS / "1-failed-tasks.png", full_page=True)

    first_ids = answer.locator("table tr td:first-child").all_inner_texts()
    answer.get_by_role("button", name="Next ▶").click()
    expect(answer).to_contain_text("Page 2 of")
    assert answer.locator("table tr td:first-child").all_inner_texts() != first_ids
    page.screenshot(path=SHOTS / "2-next-page.png", full_page=True)

    answer.get_by_role("button", name="Share to channel").click()
    shared = page.locator(".message.bot.in-channel").filter(has_text="shared by @you")
    expect(shared).to_contain_text("Visible to everyone in # general")
    expect(shared.locator("table")).to_be_visible()
    expect(answer).to_be_visible()  # the private copy stays
    page.screenshot(path=SHOTS / "3-shared.png", full_page=True)

    send(page, "/cdn subscribe")
    expect(
        page.locator(".message.bot.in-channel").filter(has_text="subscribed this channel")
    ).to_be_visible()
    fail_a_task(emulator, "https://www.example.com/broken/playground.js")
    notice = page.locator(".message.bot.in-channel").filter(has_text="failed on www.example.com")
    expect(notice).to_contain_text("https://www.example.com/broken/playground.js", timeout=30_000)
    expect(notice.get_by_role("button", name="Show failed tasks")).to_be_visible()
    page.screenshot(path=SHOTS / "4-notification.png", full_page=True)


def test_private_channel_needs_an_invite_and_hostile_text_stays_text(playground, page):
    url, _ = playground
    page.goto(url + "/")
    page.locator('[data-channel="G0SECRET1"]').click()
    send(page, "/cdn subscribe")
    expect(page.locator(".message.bot.ephemeral").filter(has_text="invite me")).to_be_visible()
    send(page, "/invite @cdn-task-bot")
    send(page, "/cdn subscribe")
    expect(
        page.locator(".message.bot.in-channel").filter(has_text="subscribed this channel")
    ).to_be_visible()
    send(page, '/cdn url:"https://x.example.com/<img src=x onerror=alert(1)>"')
    reply = page.locator(".message.bot.ephemeral").filter(has_text="No tasks match").last
    expect(reply).to_contain_text("<img src=x onerror=alert(1)>")
    assert page.locator("img").count() == 0
    page.screenshot(path=SHOTS / "5-private-and-hostile.png", full_page=True)


def test_a_newcomer_refreshes_from_the_form_watches_and_retries(playground, page):
    url, _ = playground
    page.goto(url + "/")
    send(page, "/cdn refresh")
    form = page.get_by_role("dialog", name="CDN refresh")
    expect(form).to_be_visible()
    expect(form).to_contain_text("Up to 3,000 characters")
    urls = form.get_by_role("textbox", name="URLs")
    urls.fill("www.example.com/app.js")
    form.get_by_role("button", name="Review refresh").click()
    expect(form.get_by_role("alert").first).to_have_text(
        "add the scheme: https://www.example.com/app.js"
    )
    page.screenshot(path=SHOTS / "6-form-error.png", full_page=True)

    urls.fill("https://www.example.com/app.js\nhttps://www.example.com/broken/app.css")
    form.get_by_role("button", name="Review refresh").click()
    expect(form).to_have_count(0)
    confirmation = page.locator(".message.bot.ephemeral").filter(
        has=page.get_by_role("button", name="Refresh 2 URLs")
    )
    expect(confirmation).to_contain_text("Only visible to you")
    page.screenshot(path=SHOTS / "7-confirmation.png", full_page=True)
    confirmation.get_by_role("button", name="Refresh 2 URLs").click()

    # One message in the channel, changed in place as the tasks move, until they end.
    progress = channel_messages(page).filter(has_text="refreshed 2 URLs")
    expect(progress).to_have_count(1)
    page.screenshot(path=SHOTS / "8-progress.png", full_page=True)
    retry = progress.get_by_role("button", name="Retry failed (1)")
    expect(retry).to_be_visible(timeout=60_000)
    expect(progress).to_contain_text("https://www.example.com/broken/app.css")
    expect(progress).to_have_count(1)
    page.screenshot(path=SHOTS / "9-progress-ended.png", full_page=True)

    # Retry failed: exactly the failed path, after the same confirmation.
    retry.click()
    again = page.locator(".message.bot.ephemeral").filter(
        has=page.get_by_role("button", name="Refresh 1 URL")
    )
    expect(again).to_contain_text("https://www.example.com/broken/app.css")
    expect(again).not_to_contain_text("https://www.example.com/app.js")
    page.screenshot(path=SHOTS / "10-retry-confirmation.png", full_page=True)


def test_a_mute_is_said_in_the_channel_and_undone_from_there(playground, page):
    url, emulator = playground
    page.goto(url + "/")
    send(page, "/cdn subscribe")
    subscribed = channel_messages(page).filter(has_text="subscribed this channel")
    expect(subscribed).to_be_visible()
    fail_a_task(emulator, "https://www.example.com/broken/muted.js")
    notice = channel_messages(page).filter(has_text="failed on www.example.com").first
    expect(notice).to_be_visible(timeout=30_000)
    console = notice.get_by_role("link", name="Open the CDN console")
    expect(console).to_have_attribute("target", "_blank")
    expect(console).to_have_attribute("rel", re.compile(r"\bnoopener\b"))

    notice.get_by_role("button", name=re.compile(r"^Mute www\.example\.com")).click()
    announced = channel_messages(page).filter(has_text="muted failure notifications for")
    expect(announced).to_contain_text("@you muted failure notifications for www.example.com")
    expect(announced).to_contain_text("Visible to everyone")
    assert "🤐" in announced.inner_text()  # :zipper_mouth_face:, not italics
    assert announced.locator("i").count() == 0
    private = page.locator(".message.bot.ephemeral").filter(has_text="Muted www.example.com")
    expect(private).to_contain_text("🤐")
    page.screenshot(path=SHOTS / "11-mute-announced.png", full_page=True)

    announced.get_by_role("button", name="Unmute").click()
    lifted = channel_messages(page).filter(has_text="unmuted")
    expect(lifted).to_contain_text("@you unmuted www.example.com")
    assert "🔔" in lifted.inner_text()
    page.screenshot(path=SHOTS / "12-unmute-announced.png", full_page=True)


def test_emoji_names_render_and_a_narrow_window_keeps_the_reason(playground, page):
    url, _ = playground
    page.set_viewport_size({"width": 700, "height": 900})
    page.goto(url + "/")
    send(page, "/cdn status:failed")
    answer = page.locator(".message.bot.ephemeral").filter(has=page.locator("table")).last
    headings = answer.locator("table tr").first.locator("td")
    expect(headings.nth(2)).to_have_text("Reason")
    reason = answer.locator("table tr").nth(1).locator("td").nth(2)
    box = reason.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 700, box
    assert reason.inner_text().strip()
    # No horizontal scrolling of the page itself: long lines wrap.
    assert page.evaluate("document.documentElement.scrollWidth") <= 700
    page.screenshot(path=SHOTS / "13-narrow-window.png", full_page=True)

    send(page, "/cdn help")
    helped = page.locator(".message.bot.ephemeral").filter(has_text="Pages and sharing").last
    expect(helped).to_contain_text("📄 Pages and sharing")  # :page_facing_up:
    assert ":page_facing_up:" not in helped.inner_text()
    send(page, "/cdn subscribe")
    send(page, "/cdn unsubscribe")
    left = channel_messages(page).filter(has_text="unsubscribed this channel")
    expect(left).to_contain_text("🔕")  # :no_bell:
    for shown in (helped, left):
        assert shown.locator("i").count() == 0


def app_home(page: Page):
    page.locator('[data-app="home"]').click()
    return page.locator("#home")


def test_the_home_tab_shows_a_dashboard_whose_buttons_work(playground, page):
    url, emulator = playground
    page.goto(url + "/")
    # Once the channel heard of the failure, the Home shows it too.
    send(page, "/cdn subscribe")
    expect(channel_messages(page).filter(has_text="subscribed this channel")).to_be_visible()
    fail_a_task(emulator, "https://www.example.com/broken/home.js")
    notice = channel_messages(page).filter(has_text="failed on www.example.com")
    expect(notice).to_contain_text("/broken/home.js", timeout=30_000)
    home = app_home(page)
    expect(page.get_by_role("tab", name="Home")).to_have_attribute("aria-selected", "true")
    expect(home.locator("h3")).to_have_text("CDN tasks")
    expect(home).to_contain_text("Today's quota")
    expect(home).to_contain_text("URL refresh")
    expect(home.locator("table")).to_contain_text("https://www.example.com/broken/home.js")
    expect(home).to_contain_text("#general: every domain")
    for label in ("New refresh", "New prefetch", "Failed tasks", "Refresh"):
        expect(home.get_by_role("button", name=label, exact=True)).to_be_visible()
    page.screenshot(path=SHOTS / "14-app-home.png", full_page=True)

    # New refresh: the form, for the app's DM, where the confirmation then comes.
    home.get_by_role("button", name="New refresh").click()
    form = page.get_by_role("dialog", name="CDN refresh")
    form.get_by_role("textbox", name="URLs").fill("https://www.example.com/from-home.js")
    form.get_by_role("button", name="Review refresh").click()
    expect(form).to_have_count(0)
    home.get_by_role("button", name="Failed tasks").click()
    page.get_by_role("tab", name="Messages").click()
    dm = page.locator("#messages")
    expect(dm.locator(".message.bot").filter(has_text="Refresh 1 URL")).to_be_visible()
    failed = dm.locator(".message.bot.in-channel").filter(has=page.locator("table"))
    expect(failed.locator("h3")).to_have_text("Failed tasks")
    expect(failed).to_contain_text("Visible to everyone in 🤖 cdn-task-bot")
    page.screenshot(path=SHOTS / "15-app-messages.png", full_page=True)


def test_check_cdn_tasks_on_a_message_and_new_cdn_refresh(playground, page):
    url, emulator = playground
    page.goto(url + "/")
    fail_a_task(emulator, "https://www.example.com/broken/release.js")
    send(
        page,
        "Released https://www.example.com/broken/release.js and <b>https://img.example.com/x.png</b>",
    )
    said = page.locator(".message.you.in-channel").last
    said.hover()
    said.get_by_role("button", name="More actions").click()
    expect(said.get_by_role("menuitem", name="Check CDN tasks")).to_be_visible()
    page.screenshot(path=SHOTS / "16-message-shortcut.png", full_page=True)
    said.get_by_role("menuitem", name="Check CDN tasks").click()
    answer = page.locator(".message.bot.ephemeral").filter(has_text="CDN tasks for 2 links")
    expect(answer).to_contain_text("Only visible to you")
    expect(answer.locator("table")).to_contain_text("https://www.example.com/broken/release.js")
    expect(answer).to_contain_text("https://img.example.com/x.png")  # no tasks: named
    page.screenshot(path=SHOTS / "17-checked-links.png", full_page=True)

    answer.get_by_role("button", name=re.compile(r"^Refresh these")).click()
    form = page.get_by_role("dialog", name="CDN refresh")
    expect(form.get_by_role("textbox", name="URLs")).to_have_value(
        "https://www.example.com/broken/release.js\nhttps://img.example.com/x.png"
    )
    form.get_by_role("button", name="Cancel").click()
    expect(form).to_have_count(0)

    page.locator('[data-channel="C0CDNOPS1"]').click()
    page.get_by_role("button", name="Shortcuts").click()
    page.get_by_role("menuitem", name="New CDN refresh").click()
    form = page.get_by_role("dialog", name="CDN refresh")
    channel = form.get_by_role("combobox", name="Channel")
    expect(channel).to_have_value("C0CDNOPS1")  # the conversation in view
    form.get_by_role("textbox", name="URLs").fill("https://www.example.com/anywhere.js")
    page.screenshot(path=SHOTS / "18-global-shortcut.png", full_page=True)
    form.get_by_role("button", name="Review refresh").click()
    confirmation = page.locator(".message.bot.ephemeral").filter(
        has=page.get_by_role("button", name="Refresh 1 URL")
    )
    expect(confirmation).to_contain_text("Only visible to you")
    expect(page.locator("#channel-title")).to_have_text("# cdn-ops")


def keep_a_day_of_tasks(home: Path) -> None:
    """The history a running archiver would have kept: a day of tasks in the bot's database
    (its default file in `home`), some failed, each complete a few minutes after it began."""

    async def keep() -> None:
        store = await Store.open(f"sqlite:///{home / 'cdn-task-bot.db'}")
        now = datetime.now(UTC).replace(microsecond=0)
        try:
            for n in range(60):
                created = now - timedelta(minutes=10 + n * 23)
                failed = n % 9 == 4
                status = Status.FAILED if failed else Status.COMPLETE
                host = "img.example.com" if failed and n % 2 else "www.example.com"
                task = Task(
                    str(900_000_000 + n),
                    f"https://{host}/stats/{n}.js",
                    ObjectType.FILE,
                    status,
                    0.0 if failed else 100.0,
                    created,
                    "Origin Timeout" if failed else None,
                )
                await store.archive([task], created + timedelta(minutes=3 + n % 7))
        finally:
            await store.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, keep()).result()


@pytest.fixture
def playground_with_history(tmp_path):
    """The playground over a database that already holds a day of task history."""
    keep_a_day_of_tasks(tmp_path)
    bot = Running(env={"HOME": str(tmp_path), "PORT": str(free_port()), "WATCH_INTERVAL": "1"})
    try:
        yield bot.wait_for("to try the bot").split()[1].rstrip("/")
    finally:
        bot.stop()


def test_stats_answer_in_numbers_with_the_chart_in_the_dm_and_shared(playground_with_history, page):
    page.goto(playground_with_history + "/")
    send(page, "/cdn stats")
    answer = page.locator(".message.bot.ephemeral").filter(has_text="Time to complete").last
    expect(answer.locator("h3")).to_have_text("📊 CDN tasks · 24 h")
    expect(answer).to_contain_text("Failed")
    expect(answer).to_contain_text("in your DM with the bot", timeout=20_000)
    page.screenshot(path=SHOTS / "18-stats.png", full_page=True)

    page.locator(f'[data-channel="{APP_DM}"]').click()
    page.get_by_role("tab", name="Messages").click()
    chart = page.locator("#messages figure.file img").last
    expect(chart).to_be_visible()
    assert chart.evaluate("image => image.complete && image.naturalWidth") == 900
    expect(page.locator("#messages .message.bot").last).to_contain_text("from /cdn stats")
    page.screenshot(path=SHOTS / "19-stats-chart-in-dm.png", full_page=True)

    page.locator('[data-channel="C0GENERAL"]').click()
    answer.get_by_role("button", name="Share to channel").click()
    shared = channel_messages(page).filter(has_text="Time to complete")
    expect(shared).to_contain_text("shared by @you")
    in_channel = channel_messages(page).locator("figure.file img")
    expect(in_channel).to_have_count(1)
    assert in_channel.evaluate("image => image.complete && image.naturalHeight") == 360
    expect(answer).to_be_visible()  # the private answer stays
    page.screenshot(path=SHOTS / "20-stats-shared.png", full_page=True)

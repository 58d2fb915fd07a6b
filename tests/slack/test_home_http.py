"""The App Home over signed HTTP: app_home_opened publishes a per-person dashboard with
views.publish (debounced, and once per event however often Slack retries it); its buttons
open the write form, send the failed tasks to the DM and read everything again. Nothing
outside what the person may see from their DM with the bot reaches their Home."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from bot.cdn.emulator.faults import ApiFault
from bot.cdn.emulator.ledger import LedgerTask
from bot.core.access import Allow, Policy
from bot.core.submission import Action
from bot.core.watch import Subscription
from bot.slack import home
from bot.slack.modals import write_form
from bot.slack.render import ActionId
from tests.slack import world
from tests.slack.fake_slack import TRIGGER_ID, home_click, home_opened, signed_headers
from tests.slack.limits import check_message

USER, DM = "U0ANA1234", "D0ANA1234"
OTHER, OTHER_DM = "U0BOB0001", "D0BOB0001"


def fail(emulator, clock, path, *, hours_ago=1.0):
    """A task of `path` that failed `hours_ago`."""
    created = clock() - timedelta(hours=hours_ago)
    task = LedgerTask(emulator.ledger.next_id(created), path, "file", created, 1, "Origin Timeout")
    emulator.ledger.add(task)
    return task.task_id


async def published(slack, count=1):
    calls = await slack.wait_for(lambda: len(slack.calls_of("views.publish")) >= count)
    assert calls
    return slack.calls_of("views.publish")


def view_of(call):
    view = call["view"]
    return json.loads(view) if isinstance(view, str) else view


def table_paths(view):
    (table,) = [block for block in view["blocks"] if block["type"] == "table"]
    column = [cell["text"] for cell in table["rows"][0]].index("Object path")
    return [row[column]["text"] for row in table["rows"][1:]]


def buttons(view):
    return {
        element["action_id"]: element
        for block in view["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    }


def text_of(view):
    return json.dumps(view, ensure_ascii=False)


def check_home(view):
    """Slack's limits for a Home view, and the message limits for its blocks."""
    assert view["type"] == "home" and len(view["blocks"]) <= 100
    assert len(json.dumps(view).encode()) < 250_000
    assert len(view.get("private_metadata", "")) <= 3000
    check_message({"text": "home", "blocks": view["blocks"]})


async def test_opening_the_home_tab_publishes_the_dashboard(running_bot):
    bot, slack = running_bot, running_bot.slack
    broken = fail(bot.emulator, bot.clock, "https://www.example.com/broken/home.js")
    answer = await bot.post(home_opened(USER, channel=DM))
    assert answer.status_code == 200
    (call,) = await published(slack)
    assert call["user_id"] == USER
    view = view_of(call)
    check_home(view)
    assert json.loads(view["private_metadata"]) == {"channel": DM}
    assert "https://www.example.com/broken/home.js" in table_paths(view)
    said = text_of(view)
    assert "Failed in the last 24 hours" in said and "Today's quota" in said
    assert "URL refresh*\\n10,000 of 10,000 left" in said
    assert set(buttons(view)) == {
        ActionId.HOME_REFRESH_FORM,
        ActionId.HOME_PREFETCH_FORM,
        ActionId.HOME_FAILED,
        ActionId.HOME_RELOAD,
    }
    # The failures' window starts on a whole minute, 24 hours back.
    failed = [c for c in bot.emulator.calls_of("DescribeRefreshTasks") if c.params.get("Status")]
    starts = {c.params["StartTime"] for c in failed if c.params["Status"] == "Failed"}
    assert len(starts) == 1 and starts.pop().endswith(":00Z")
    (entry,) = await bot.store.recent_audit(5)
    assert (entry.kind, entry.user, entry.channel, entry.detail) == (
        "home",
        USER,
        DM,
        "app_home_opened",
    )
    assert entry.results is not None and entry.results >= 1 and entry.outcome == "ok"
    assert broken  # the ledger made it


async def test_opens_are_debounced_per_person_and_retries_are_done_once(
    emulator, clock, fake_slack, tmp_path
):
    async with world.running_bot(
        tmp_path / "bot.db", clock=clock, emulator=emulator, slack=fake_slack
    ) as bot:
        first = home_opened(USER, channel=DM, event_id="Ev1")
        await bot.post(first)
        await published(fake_slack)
        # Slack's retry of the very same event, and a second open moments later.
        retry = {**signed_headers(first), "X-Slack-Retry-Num": "1"}
        answer = await bot.http.post(f"{bot.url}/slack/events", content=first, headers=retry)
        assert answer.status_code == 200
        await bot.post(home_opened(USER, channel=DM, event_id="Ev2"))
        # Someone else's Home is theirs to open.
        await bot.post(home_opened(OTHER, channel=OTHER_DM, event_id="Ev3"))
        await published(fake_slack, 2)
        clock.advance(seconds=home.DEBOUNCE.total_seconds())
        await bot.post(home_opened(USER, channel=DM, event_id="Ev4"))
        await published(fake_slack, 3)
        # Past the debounce, a late retry of an event already handled is still dropped.
        clock.advance(seconds=home.DEBOUNCE.total_seconds())
        retry = {**signed_headers(first), "X-Slack-Retry-Num": "2"}
        answer = await bot.http.post(f"{bot.url}/slack/events", content=first, headers=retry)
        assert answer.status_code == 200
    users = [call["user_id"] for call in fake_slack.calls_of("views.publish")]
    assert sorted(users) == sorted([OTHER, USER, USER])


async def test_the_messages_tab_publishes_nothing(emulator, clock, fake_slack, tmp_path):
    async with world.running_bot(
        tmp_path / "bot.db", clock=clock, emulator=emulator, slack=fake_slack
    ) as bot:
        body = json.loads(home_opened(USER, channel=DM))
        body["event"]["tab"] = "messages"
        assert (await bot.post(json.dumps(body).encode())).status_code == 200
    assert not fake_slack.calls_of("views.publish")


@pytest.mark.policy(Policy(scopes={DM: ("img.example.com",)}))
async def test_a_scoped_home_shows_only_its_domains(running_bot):
    bot = running_bot
    fail(bot.emulator, bot.clock, "https://www.example.com/broken/secret.js")
    fail(bot.emulator, bot.clock, "https://img.example.com/broken/mine.png")
    await bot.post(home_opened(USER, channel=DM))
    (call,) = await published(bot.slack)
    view = view_of(call)
    check_home(view)
    paths = table_paths(view)
    assert "https://img.example.com/broken/mine.png" in paths
    assert all("://img.example.com/" in path for path in paths)
    assert "www.example.com" not in text_of(view)
    asked = {c.params.get("DomainName") for c in bot.emulator.calls_of("DescribeRefreshTasks")}
    assert asked == {"img.example.com"}
    assert "Limited to `img.example.com`" in text_of(view)


@pytest.mark.policy(Policy(query=Allow(users=frozenset({OTHER})), contact="#cdn-admins"))
async def test_someone_who_may_not_query_gets_no_tasks_and_no_quota(running_bot):
    bot = running_bot
    fail(bot.emulator, bot.clock, "https://www.example.com/broken/hidden.js")
    await bot.post(home_opened(USER, channel=DM))
    (call,) = await published(bot.slack)
    view = view_of(call)
    check_home(view)
    said = text_of(view)
    assert "may not query CDN tasks" in said and "#cdn-admins" in said
    assert "hidden.js" not in said and "quota" not in said
    assert not [b for b in view["blocks"] if b["type"] in ("table", "actions")]
    assert not bot.emulator.calls_of("DescribeRefreshTasks")
    assert not bot.emulator.calls_of("DescribeRefreshQuota")


@pytest.mark.policy(Policy(query=Allow(channels=frozenset({DM, "C1"}))))
async def test_subscriptions_are_those_of_channels_the_person_is_in_and_may_query_in(
    running_bot,
):
    bot, slack = running_bot, running_bot.slack
    for channel, domain in (("C1", "www.example.com"), ("C2", "img.example.com")):
        await bot.store.subscribe(
            Subscription(channel, domain, None, added_by=OTHER, added_at=bot.clock())
        )
    await bot.store.subscribe(Subscription("C3", None, None, added_by=OTHER, added_at=bot.clock()))
    # In C1 and C2; C2 is not on the query list; C3 is someone else's channel.
    slack.memberships = {USER: ["C1", "C2"]}
    await bot.post(home_opened(USER, channel=DM))
    (call,) = await published(slack)
    said = text_of(view_of(call))
    assert "<#C1>: `www.example.com`" in said
    assert "C2" not in said and "img.example.com`" not in said.split("notifications")[-1]
    assert "C3" not in said and "every domain" not in said
    (asked,) = slack.calls_of("users.conversations")
    assert asked["user"] == USER and asked["types"] == "public_channel,private_channel"


async def test_without_the_scopes_to_list_channels_the_home_says_so(running_bot):
    running_bot.slack.memberships = None
    await running_bot.post(home_opened(USER, channel=DM))
    (call,) = await published(running_bot.slack)
    assert "`channels:read` and `groups:read`" in text_of(view_of(call))


@pytest.mark.policy(Policy(manage=Allow(users=frozenset({OTHER}))))
async def test_someone_who_may_not_submit_gets_no_form_buttons_nor_quota(running_bot):
    bot = running_bot
    await bot.post(home_opened(USER, channel=DM))
    (call,) = await published(bot.slack)
    view = view_of(call)
    assert set(buttons(view)) == {ActionId.HOME_FAILED, ActionId.HOME_RELOAD}
    assert "quota" not in text_of(view) and not bot.emulator.calls_of("DescribeRefreshQuota")
    # A forged click is refused all the same, in a modal (a Home has no response_url).
    click = {"action_id": ActionId.HOME_REFRESH_FORM, "type": "button", "value": "home"}
    assert (await bot.post(home_click(click, view))).status_code == 200
    (notice,) = await bot.slack.wait_for(lambda: bot.slack.calls_of("views.open"))
    assert "may not refresh or prefetch" in text_of(notice["view"])
    assert notice["trigger_id"] == TRIGGER_ID


@pytest.mark.parametrize("action", list(Action))
async def test_new_refresh_and_prefetch_open_the_form_for_the_dm(running_bot, action):
    bot, slack = running_bot, running_bot.slack
    await bot.post(home_opened(USER, channel=DM))
    (call,) = await published(slack)
    view = view_of(call)
    button = buttons(view)[
        ActionId.HOME_REFRESH_FORM if action is Action.REFRESH else ActionId.HOME_PREFETCH_FORM
    ]
    await bot.post(home_click({**button, "type": "button"}, view))
    (opened,) = await slack.wait_for(lambda: slack.calls_of("views.open"))
    assert opened["trigger_id"] == TRIGGER_ID
    assert opened["view"] == write_form(action, channel=DM)


async def test_failed_tasks_go_to_the_dm_as_a_page(running_bot):
    bot, slack = running_bot, running_bot.slack
    fail(bot.emulator, bot.clock, "https://www.example.com/broken/dm.js")
    await bot.post(home_opened(USER, channel=DM))
    (call,) = await published(slack)
    view = view_of(call)
    await bot.post(home_click({**buttons(view)[ActionId.HOME_FAILED], "type": "button"}, view))
    posts = await slack.wait_for(lambda: slack.posts_to(DM))
    (post,) = posts
    message = {"text": post["text"], "blocks": post["blocks"]}
    check_message(message)
    assert message["blocks"][0]["text"]["text"] == "Failed tasks"
    assert "https://www.example.com/broken/dm.js" in text_of(message)


async def test_refresh_reads_again_past_the_debounce_and_the_cache(running_bot):
    bot, slack = running_bot, running_bot.slack
    await bot.post(home_opened(USER, channel=DM))
    (call,) = await published(slack)
    view = view_of(call)
    reads = len(bot.emulator.calls_of("DescribeRefreshTasks"))
    quotas = len(bot.emulator.calls_of("DescribeRefreshQuota"))
    fail(bot.emulator, bot.clock, "https://www.example.com/broken/later.js", hours_ago=0.1)
    await bot.post(home_click({**buttons(view)[ActionId.HOME_RELOAD], "type": "button"}, view))
    first, second = await published(slack, 2)
    assert first["user_id"] == second["user_id"] == USER
    assert "https://www.example.com/broken/later.js" in table_paths(view_of(second))
    assert len(bot.emulator.calls_of("DescribeRefreshTasks")) > reads
    assert len(bot.emulator.calls_of("DescribeRefreshQuota")) == quotas + 1


async def test_a_home_slack_will_not_take_is_logged(emulator, clock, fake_slack, tmp_path, caplog):
    fake_slack.views_publish_error = "not_enabled"
    async with world.running_bot(
        tmp_path / "bot.db", clock=clock, emulator=emulator, slack=fake_slack
    ) as bot:
        await bot.post(home_opened(USER, channel=DM))
        await published(fake_slack)
    assert "views.publish refused U0ANA1234's Home: not_enabled" in caplog.text


async def test_a_cdn_api_that_fails_shows_on_the_home_with_try_again(running_bot):
    bot = running_bot
    refusal = ApiFault(400, "InvalidParameter", "The specified parameter is invalid.")
    bot.emulator.script("DescribeRefreshTasks", *[refusal] * 20)
    await bot.post(home_opened(USER, channel=DM))
    (call,) = await published(bot.slack)
    view = view_of(call)
    check_home(view)
    assert set(buttons(view)) == {ActionId.HOME_RELOAD}
    assert ":warning: Alibaba Cloud CDN" in text_of(view)
    (entry,) = await bot.store.recent_audit(1)
    assert entry.outcome == "failed: RequestRejected"


async def test_a_retry_that_reaches_another_replica_is_dropped_there_too(
    emulator, clock, fake_slack, tmp_path
):
    database = tmp_path / "bot.db"
    replicas = {"clock": clock, "emulator": emulator, "slack": fake_slack}
    async with (
        world.running_bot(database, **replicas) as first,
        world.running_bot(database, **replicas) as second,
    ):
        opened = home_opened(USER, channel=DM, event_id="EvShared")
        await first.post(opened)
        await published(fake_slack)
        retry = {**signed_headers(opened), "X-Slack-Retry-Num": "1"}
        answer = await second.http.post(f"{second.url}/slack/events", content=opened, headers=retry)
        assert answer.status_code == 200
        # A new event on the second replica is handled: the retry was dropped, not the replica.
        await second.post(home_opened(OTHER, channel=OTHER_DM, event_id="EvOther"))
        await published(fake_slack, 2)
    users = [call["user_id"] for call in fake_slack.calls_of("views.publish")]
    assert users == [USER, OTHER]

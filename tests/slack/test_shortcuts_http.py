"""Shortcuts over signed HTTP: "Check CDN tasks" on a message answers privately with the tasks
of its links (Slack's `<url|label>`, bare URLs, rich-text links; at most ten, the rest named),
within the channel's scope, with "Refresh these" leading to the refresh form filled in with
them; "New CDN refresh" opens the form that asks where to answer, and its submission leads to
the usual private confirmation."""

from __future__ import annotations

import json

import pytest

from bot.core.access import Allow, Policy
from bot.core.links import MAX_LINKS
from bot.core.submission import Action
from bot.slack.modals import FormBlock, write_form
from bot.slack.render import ActionId
from tests.slack.fake_slack import (
    TRIGGER_ID,
    button_click,
    form_submission,
    global_shortcut,
    message_shortcut,
)
from tests.slack.limits import assert_inert, check_message, check_modal
from tests.slack.test_http_app import buttons_of, paths_of

USER, CHANNEL = "U0ANA1234", "C1"
A = "https://www.example.com/release/app.js"
B = "https://img.example.com/release/logo.png"
C = "https://static.example.org/release/site.css?v=2"


def text_of(reply):
    return json.dumps(reply, ensure_ascii=False)


async def check(bot, message, *, user=USER):
    """Pick the shortcut on `message` and return the one private answer."""
    hook = bot.slack.new_response_url()
    response = await bot.post(message_shortcut(message, response_url=hook, user=user))
    assert response.status_code == 200 and response.text == ""
    (reply,) = await bot.slack.response_to(hook)
    check_message(reply)
    assert_inert(reply)
    assert reply["response_type"] == "ephemeral"
    return reply


def rich_text(url):
    """A message's rich_text block holding one link element, as Slack's clients send it."""
    link = {"type": "link", "url": url, "text": "the logo"}
    section = {"type": "rich_text_section", "elements": [{"type": "text", "text": "see "}, link]}
    return {"type": "rich_text", "block_id": "r1", "elements": [section]}


async def test_the_tasks_of_every_kind_of_link_come_back_privately(running_bot):
    bot = running_bot
    bot.emulator.ledger.create([A, B, C], "file", bot.clock())
    message = {
        "text": f"shipped <{A}|the app> and {C.replace('&', '&amp;')}; logo: <{B}>",
        "blocks": [rich_text(B)],
    }
    reply = await check(bot, message)
    assert reply["blocks"][0]["text"]["text"] == "CDN tasks for 3 links"
    assert sorted(paths_of(reply)) == sorted([A, B, C])
    asked = [call.params["ObjectPath"] for call in bot.emulator.calls_of("DescribeRefreshTasks")]
    assert sorted(asked) == sorted([A, B, C])  # one exact lookup per link
    button = buttons_of(reply)[ActionId.REFRESH_LINKS]
    assert button["value"].split("\n") == [B, A, C]  # in the order the message shows them
    (entry,) = await bot.store.recent_audit(1)
    assert (entry.kind, entry.user, entry.channel) == ("shortcut", USER, CHANNEL)
    assert entry.detail.startswith("cdn_check_links: ") and entry.results == 3


async def test_links_past_the_limit_are_named_not_looked_up(running_bot):
    bot = running_bot
    urls = [f"https://www.example.com/many/{n}.js" for n in range(MAX_LINKS + 3)]
    reply = await check(bot, {"text": " ".join(f"<{url}>" for url in urls)})
    said = text_of(reply)
    assert f"only the first {MAX_LINKS} links are" in said
    assert all(url in said for url in urls[MAX_LINKS:])
    asked = {call.params["ObjectPath"] for call in bot.emulator.calls_of("DescribeRefreshTasks")}
    assert asked == set(urls[:MAX_LINKS])
    assert "No refresh or prefetch tasks of these links" in said


async def test_a_message_without_links_says_so(running_bot):
    reply = await check(
        running_bot, {"text": "ping <@U0BOB0001> in <#C2|ops>, mail <mailto:a@b.c>"}
    )
    assert "no http:// or https:// links" in reply["text"]
    assert not running_bot.emulator.calls_of("DescribeRefreshTasks")


@pytest.mark.policy(Policy(scopes={CHANNEL: ("www.example.com",)}))
async def test_links_outside_the_channels_domains_are_not_looked_up(running_bot):
    bot = running_bot
    bot.emulator.ledger.create([A, B], "file", bot.clock())
    reply = await check(bot, {"text": f"<{A}> <{B}>"})
    assert paths_of(reply) == [A]
    said = text_of(reply)
    assert "this channel sees only `www.example.com`" in said and B in said
    asked = {call.params["ObjectPath"] for call in bot.emulator.calls_of("DescribeRefreshTasks")}
    assert asked == {A}
    assert buttons_of(reply)[ActionId.REFRESH_LINKS]["value"] == A


@pytest.mark.policy(Policy(query=Allow(users=frozenset({"U0OPS0001"})), contact="#cdn-admins"))
async def test_someone_who_may_not_query_is_refused_before_the_message_is_read(running_bot):
    reply = await check(running_bot, {"text": f"<{A}>"})
    assert "may not query CDN tasks" in reply["text"] and "#cdn-admins" in reply["text"]
    assert A not in text_of(reply)
    assert not running_bot.emulator.calls_of("DescribeRefreshTasks")


@pytest.mark.policy(Policy(manage=Allow(users=frozenset({"U0OPS0001"}))))
async def test_no_refresh_button_for_someone_who_may_not_submit(running_bot):
    reply = await check(running_bot, {"text": f"<{A}>"})
    assert ActionId.REFRESH_LINKS not in buttons_of(reply)


async def test_refresh_these_opens_the_form_filled_in(running_bot):
    bot, slack = running_bot, running_bot.slack
    bot.emulator.ledger.create([A, B], "file", bot.clock())
    reply = await check(bot, {"text": f"<{A}> and <{B}>"})
    button = buttons_of(reply)[ActionId.REFRESH_LINKS]
    hook = slack.new_response_url()
    click = {"action_id": button["action_id"], "value": button["value"], "type": "button"}
    assert (await bot.post(button_click(click, response_url=hook))).status_code == 200
    (opened,) = await slack.wait_for(lambda: slack.calls_of("views.open"))
    assert opened["trigger_id"] == TRIGGER_ID
    assert opened["view"] == write_form(Action.REFRESH, channel=CHANNEL, urls=f"{A}\n{B}")
    check_modal(opened["view"])
    assert not bot.emulator.calls_of("RefreshObjectCaches")  # the form, the confirmation, then


@pytest.mark.policy(Policy(manage=Allow(users=frozenset({"U0OPS0001"})), contact="#cdn-admins"))
async def test_refresh_these_checks_rights_before_it_reads_the_button(running_bot):
    bot, slack = running_bot, running_bot.slack
    hook = slack.new_response_url()
    click = {"action_id": ActionId.REFRESH_LINKS, "value": "rm -rf /\n" + A, "type": "button"}
    await bot.post(button_click(click, response_url=hook))
    (reply,) = await slack.response_to(hook)
    assert "#cdn-admins" in reply["text"] and "damaged" not in reply["text"]
    assert not slack.calls_of("views.open")


async def test_a_tampered_refresh_these_is_refused(running_bot):
    bot, slack = running_bot, running_bot.slack
    hook = slack.new_response_url()
    click = {"action_id": ActionId.REFRESH_LINKS, "value": "rm -rf /\n" + A, "type": "button"}
    await bot.post(button_click(click, response_url=hook))
    (reply,) = await slack.response_to(hook)
    assert "damaged" in reply["text"]
    assert not slack.calls_of("views.open")


async def test_new_cdn_refresh_asks_where_then_confirms_there(running_bot):
    bot, slack = running_bot, running_bot.slack
    assert (await bot.post(global_shortcut())).status_code == 200
    (opened,) = await slack.wait_for(lambda: slack.calls_of("views.open"))
    view = opened["view"]
    assert view == write_form(Action.REFRESH, channel=None)
    check_modal(view)
    picker = view["blocks"][0]
    assert picker["block_id"] == FormBlock.CHANNEL
    assert picker["element"]["type"] == "conversations_select"
    assert picker["element"]["default_to_current_conversation"] is True

    # Submitted without a channel: the error is under the picker.
    urls = {FormBlock.URLS: {ActionId.WRITE_URLS: {"type": "plain_text_input", "value": A}}}
    ack = (await bot.post(form_submission(view, urls))).json()
    assert ack["response_action"] == "errors" and list(ack["errors"]) == [FormBlock.CHANNEL]

    picked = {
        FormBlock.CHANNEL: {
            ActionId.WRITE_CHANNEL: {"type": "conversations_select", "selected_conversation": "C7"}
        },
        **urls,
    }
    answer = await bot.post(form_submission(view, picked))
    assert answer.status_code == 200 and answer.text == ""
    (posted,) = await slack.wait_for(lambda: slack.calls_of("chat.postEphemeral"))
    assert (posted["channel"], posted["user"]) == ("C7", USER)
    assert "Refresh 1 URL" in text_of(posted)
    (entry, *_) = await bot.store.recent_audit(5)
    assert (entry.kind, entry.channel) == ("form", "C7")


@pytest.mark.policy(Policy(manage=Allow(channels=frozenset({"C9"})), contact="#cdn-admins"))
async def test_the_picked_channel_is_judged_like_any_other(running_bot):
    bot, slack = running_bot, running_bot.slack
    await bot.post(global_shortcut())  # someone may submit in C9, so the form opens
    (opened,) = await slack.wait_for(lambda: slack.calls_of("views.open"))
    picked = {
        FormBlock.CHANNEL: {
            ActionId.WRITE_CHANNEL: {"type": "conversations_select", "selected_conversation": "C7"}
        },
        FormBlock.URLS: {ActionId.WRITE_URLS: {"type": "plain_text_input", "value": A}},
    }
    await bot.post(form_submission(opened["view"], picked))
    (posted,) = await slack.wait_for(lambda: slack.calls_of("chat.postEphemeral"))
    assert posted["channel"] == "C7" and "may not refresh or prefetch" in posted["text"]


@pytest.mark.policy(Policy(manage=Allow(users=frozenset({"U0OPS0001"})), contact="#cdn-admins"))
async def test_new_cdn_refresh_for_someone_never_allowed_says_so_in_a_modal(running_bot):
    slack = running_bot.slack
    await running_bot.post(global_shortcut())
    (opened,) = await slack.wait_for(lambda: slack.calls_of("views.open"))
    view = opened["view"]
    assert view["type"] == "modal" and "submit" not in view
    assert "may not refresh or prefetch" in text_of(view) and "#cdn-admins" in text_of(view)
    check_modal(view)

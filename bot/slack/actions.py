"""Buttons: ◀ Prev, Next ▶ and Refresh replace the page; Share posts a copy in the channel (of
a page, or of /cdn stats with its chart);
on notifications, "Show failed tasks" answers the clicker and "Mute" silences a domain (said in
the channel, with "Unmute" to lift it); the Retry buttons are in bot.slack.retries."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, Protocol

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.core.access import Mute
from bot.core.audit import AuditEntry
from bot.core.filters import domain_name
from bot.core.query import TaskQuery, Unmute, decode_query
from bot.slack import alerts, retries, stats, subscriptions
from bot.slack.render import ActionId, Reply
from bot.slack.replies import Services, deliver, task_reply


class Work(Protocol):
    """What a button does: the reply to its `action`, with `entry` for the audit trail."""

    def __call__(
        self, services: Services, action: dict[str, Any], *, entry: AuditEntry
    ) -> Awaitable[Reply]: ...


async def query_of(services: Services, action: dict[str, Any], *, entry: AuditEntry) -> TaskQuery:
    """The button's query, once the clicker may run it here, within the channel's scope."""
    user, channel = entry.user, entry.channel
    # Before decoding: a refusal tells nothing of the value.
    await services.allow(TaskQuery, user=user, channel=channel)
    tz = await services.people.timezone(user)
    query = decode_query(str(action.get("value", "")), now=services.clock(), tz=tz)
    return services.policy.scoped(query, channel)


async def page(services: Services, action: dict[str, Any], *, entry: AuditEntry) -> Reply:
    """◀ Prev, Next ▶ and Refresh: the page the button names (Refresh bypasses the cache)."""
    query = await query_of(services, action, entry=entry)
    fresh = action.get("action_id") == ActionId.REFRESH
    return await task_reply(services, query, fresh=fresh, entry=entry)


async def share(services: Services, action: dict[str, Any], *, entry: AuditEntry) -> Reply:
    """Share to channel: the same page, attributed to the person who shared it."""
    query = await query_of(services, action, entry=entry)
    return await task_reply(services, query, shared_by=entry.user, entry=entry)


async def show(services: Services, action: dict[str, Any], *, entry: AuditEntry) -> Reply:
    """A notification's "Show failed tasks" or a stuck notice's "Show": the query it
    carries, for the clicker."""
    return await task_reply(services, await query_of(services, action, entry=entry), entry=entry)


async def mute(services: Services, action: dict[str, Any], *, entry: AuditEntry) -> Reply:
    """The notification's "Mute": silence the chosen domain in this channel for a while."""
    chosen = action.get("selected_option")
    picked = chosen.get("value") if isinstance(chosen, dict) else None
    request = Mute(str(picked or action.get("value") or ""))
    # Before the value is read: a refusal tells nothing.
    await services.allow(request, user=entry.user, channel=entry.channel)
    domain = domain_name(request.domain)
    until = services.clock() + alerts.MUTE_FOR
    await services.store.mute(entry.channel, domain, until, by=entry.user)
    # Said in the channel: a silence everyone can see, and anyone allowed can lift.
    await services.notifier.post(
        entry.channel, alerts.mute_announcement(domain, until, by=entry.user)
    )
    return alerts.muted(domain, until)


async def unmute(services: Services, action: dict[str, Any], *, entry: AuditEntry) -> Reply:
    """The announcement's "Unmute": lift that mute (or every mute, for "all")."""
    await services.allow(Unmute, user=entry.user, channel=entry.channel)
    value = str(action.get("value") or "")
    domain = None if value == "all" else domain_name(value)
    return await subscriptions.unmute(
        services, domain, channel_id=entry.channel, user_id=entry.user
    )


def register(app: AsyncApp, *, services: Services) -> None:
    """Attach the button listeners."""

    def button(work: Work, *action_ids: ActionId, **reply_options: Any) -> None:
        async def listener(
            ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
        ) -> None:
            await ack()
            entry = services.click_entry(body, str(action.get("action_id", "")))
            reply = work(services, action, entry=entry)
            await deliver(respond, reply, services=services, entry=entry, **reply_options)

        for action_id in action_ids:
            app.action(action_id.value)(listener)

    # A slow page is replaced by "Looking up …" first, then by the page.
    button(
        page, ActionId.PREV, ActionId.NEXT, ActionId.REFRESH, feedback=True, replace_original=True
    )
    # The copy is for everyone in the channel; the private page stays as it was.
    button(share, ActionId.SHARE, response_type="in_channel", replace_original=False)
    button(stats.share, ActionId.SHARE_STATS, response_type="in_channel", replace_original=False)
    # Only the person who clicked sees these; the notification stays as it was.
    button(show, ActionId.SHOW_FAILED, ActionId.SHOW_TASKS, replace_original=False)
    button(mute, ActionId.MUTE, replace_original=False)
    button(unmute, ActionId.UNMUTE, replace_original=False)

    @app.action(ActionId.OPEN_CONSOLE.value)
    async def opened(ack: AsyncAck) -> None:
        await ack()  # the browser opened the link; nothing to answer

    retries.register(app, services=services)

"""The `/cdn` slash command: ack at once, check access, parse, answer through response_url."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.audit import AuditEntry
from bot.core.query import (
    Help,
    ListSubscriptions,
    ShowAudit,
    Stats,
    Subscribe,
    TaskQuery,
    Unmute,
    Unsubscribe,
    Write,
    parse_query,
)
from bot.slack import render, stats, subscriptions, writes
from bot.slack.forms import open_form
from bot.slack.help import help_reply
from bot.slack.modals import blank_write
from bot.slack.replies import Services, deliver, task_reply

COMMAND = "/cdn"


async def answer(services: Services, text: str, *, entry: AuditEntry) -> render.Reply:
    """The reply to `/cdn text` typed by `entry.user` in `entry.channel`."""
    user, channel = entry.user, entry.channel
    tz = await services.people.timezone(user)
    parsed = parse_query(text, now=services.clock(), tz=tz, kept_days=services.kept_days)
    await services.allow(parsed, user=user, channel=channel)
    match parsed:
        case Help(topic=topic, unknown=unknown):
            return help_reply(topic, unknown=unknown)
        case ShowAudit(limit=limit):
            return render.audit_trail(await services.store.recent_audit(limit))
        case TaskQuery():
            query = services.policy.scoped(parsed, channel)
            return await task_reply(services, query, entry=entry)
        case Subscribe(domain=domain):
            services.policy.may_watch(channel, domain)
            return await subscriptions.manage(services, parsed, channel_id=channel, user_id=user)
        case Unsubscribe() | Unmute() | ListSubscriptions():
            return await subscriptions.manage(services, parsed, channel_id=channel, user_id=user)
        case Stats():
            return await stats.stats_reply(services, parsed, entry=entry)
        case Write():
            return await writes.command_reply(services, parsed, entry=entry)


def register(app: AsyncApp, *, services: Services) -> None:
    """Attach the /cdn listener."""

    @app.command(COMMAND)
    async def cdn(
        ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await ack()
        text = str(command.get("text", ""))
        entry = services.entry(
            "command",
            user=str(command.get("user_id", "")),
            channel=str(command.get("channel_id", "")),
            detail=text,
        )
        blank = blank_write(text)
        trigger = str(command.get("trigger_id", ""))
        work = (
            answer(services, text, entry=entry)
            if blank is None
            else open_form(services, client, blank, trigger_id=trigger, entry=entry)
        )
        await deliver(respond, work, services=services, entry=entry, feedback=True)

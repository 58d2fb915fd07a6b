"""The `/cdn` slash command: ack at once, check access, parse, answer through response_url."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.access import needs
from bot.core.audit import AuditEntry
from bot.core.query import Help, ShowAudit, Subscribe, TaskQuery, parse_query
from bot.slack import render, subscriptions
from bot.slack.help import help_reply
from bot.slack.replies import Services, deliver, task_reply

COMMAND = "/cdn"


def register(app: AsyncApp, *, services: Services) -> None:
    """Attach the /cdn listener."""

    @app.command(COMMAND)
    async def cdn(
        ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await ack()
        entry = services.entry(
            "command",
            user=str(command.get("user_id", "")),
            channel=str(command.get("channel_id", "")),
            detail=str(command.get("text", "")),
        )
        await deliver(respond, answer(command, client, entry), services=services, entry=entry)

    async def answer(
        command: dict[str, Any], client: AsyncWebClient, entry: AuditEntry
    ) -> render.Reply:
        user, channel = entry.user, entry.channel
        tz = await services.timezones.of(client, user)
        parsed = parse_query(command.get("text", ""), now=services.clock(), tz=tz)
        for act in needs(parsed):
            await services.allow(act, user=user, channel=channel, client=client)
        if isinstance(parsed, Help):
            return help_reply(parsed.topic, unknown=parsed.unknown)
        if isinstance(parsed, ShowAudit):
            return render.audit_trail(await services.store.recent_audit(parsed.limit))
        if isinstance(parsed, Subscribe):
            services.policy.may_watch(channel, parsed.domain)
        if isinstance(parsed, TaskQuery):
            query = services.policy.scoped(parsed, channel)
            return await task_reply(services, query, entry=entry)
        return await subscriptions.manage(services, parsed, channel_id=channel, user_id=user)

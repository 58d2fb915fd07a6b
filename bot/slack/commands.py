"""The `/cdn` slash command: ack at once, parse, answer through response_url."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.query import Help, TaskQuery, parse_query
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
        await deliver(respond, answer(command, client))

    async def answer(command: dict[str, Any], client: AsyncWebClient) -> render.Reply:
        tz = await services.timezones.of(client, command.get("user_id", ""))
        parsed = parse_query(command.get("text", ""), now=services.clock(), tz=tz)
        if isinstance(parsed, Help):
            return help_reply(parsed.topic, unknown=parsed.unknown)
        if isinstance(parsed, TaskQuery):
            return await task_reply(services, parsed)
        return await subscriptions.manage(
            services,
            parsed,
            channel_id=command.get("channel_id", ""),
            user_id=command.get("user_id", ""),
        )

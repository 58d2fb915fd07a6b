"""Buttons on task pages: ◀ Prev, Next ▶ and Refresh replace the message; Share posts a copy."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.access import Act
from bot.core.audit import AuditEntry
from bot.core.filters import domain_name
from bot.core.query import TaskQuery, decode_query
from bot.slack import alerts
from bot.slack.render import ActionId, Reply
from bot.slack.replies import Services, deliver, task_reply


def _id_of(body: dict[str, Any], part: str) -> str:
    """`body[part]["id"]`, or "" when the payload is not shaped as Slack shapes it."""
    found = body.get(part)
    return str(found.get("id", "")) if isinstance(found, dict) else ""


def register(app: AsyncApp, *, services: Services) -> None:
    """Attach the button listeners."""

    async def query_of(
        body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> TaskQuery:
        """The button's query, once the clicker may run it here, within the channel's scope."""
        user, channel = _id_of(body, "user"), _id_of(body, "channel")
        await services.allow(Act.QUERY, user=user, channel=channel, client=client)
        tz = await services.timezones.of(client, user)
        query = decode_query(str(action.get("value", "")), now=services.clock(), tz=tz)
        return services.policy.scoped(query, channel)

    def audit(body: dict[str, Any], action: dict[str, Any]) -> AuditEntry:
        return services.entry(
            "action",
            user=_id_of(body, "user"),
            channel=_id_of(body, "channel"),
            detail=str(action.get("action_id", "")),
        )

    async def page(
        body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient, entry: AuditEntry
    ) -> Reply:
        query = await query_of(body, action, client)
        fresh = action.get("action_id") == ActionId.REFRESH
        return await task_reply(services, query, fresh=fresh, entry=entry)

    async def copy(
        body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient, entry: AuditEntry
    ) -> Reply:
        query = await query_of(body, action, client)
        sharer = _id_of(body, "user")
        return await task_reply(services, query, shared_by=sharer, entry=entry)

    async def show(body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> Reply:
        return await task_reply(services, await query_of(body, action, client))

    async def mute(body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> Reply:
        user = _id_of(body, "user")
        channel = _id_of(body, "channel")
        await services.allow(Act.MANAGE, user=user, channel=channel, client=client)
        chosen = action.get("selected_option")
        picked = chosen.get("value") if isinstance(chosen, dict) else None
        domain = domain_name(str(picked or action.get("value") or ""))
        channel_id = _id_of(body, "channel")
        until = services.clock() + alerts.MUTE_FOR
        await services.store.mute(channel_id, domain, until)
        return alerts.muted(domain, until)

    @app.action(ActionId.SHOW_FAILED.value)
    async def show_failed(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        await ack()
        # Only the person who clicked sees the list; the notification stays as it was.
        entry = audit(body, action)
        work = show(body, action, client)
        await deliver(respond, work, services=services, entry=entry, replace_original=False)

    @app.action(ActionId.MUTE.value)
    async def mute_domain(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        await ack()
        entry = audit(body, action)
        work = mute(body, action, client)
        await deliver(respond, work, services=services, entry=entry, replace_original=False)

    @app.action(ActionId.PREV.value)
    @app.action(ActionId.NEXT.value)
    @app.action(ActionId.REFRESH.value)
    async def turn_page(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        await ack()
        entry = audit(body, action)
        work = page(body, action, client, entry)
        await deliver(respond, work, services=services, entry=entry, replace_original=True)

    @app.action(ActionId.SHARE.value)
    async def share(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        await ack()
        entry = audit(body, action)
        work = copy(body, action, client, entry)
        await deliver(
            respond,
            work,
            services=services,
            entry=entry,
            response_type="in_channel",
            replace_original=False,
        )

"""Shortcuts: "Check CDN tasks" on any message looks up the tasks of the links in it and
answers privately, with "Refresh these" leading to the refresh form filled in with them;
"New CDN refresh" (a global shortcut, from no channel) opens the refresh form, which then asks
where to answer.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.access import Act
from bot.core.audit import AuditEntry
from bot.core.filters import MAX_URL
from bot.core.links import MAX_LINKS, link_tasks, links_in
from bot.core.query import TaskQuery, Write
from bot.core.submission import Action
from bot.errors import InvalidQuery, NotAllowed
from bot.slack import links_render
from bot.slack.alerts import MAX_BUTTON_VALUE
from bot.slack.forms import open_form
from bot.slack.postings import NoticeReply
from bot.slack.render import ActionId, Reply
from bot.slack.replies import Services, deliver, id_of

CHECK_LINKS = "cdn_check_links"
NEW_REFRESH = "cdn_new_refresh"
TASKS_PER_LINK = 5  # the newest tasks of each link


async def check_links(services: Services, message: Any, *, entry: AuditEntry) -> Reply:
    """The tasks of the links in `message` (a message shortcut's), as `entry.user` may see
    them in `entry.channel`."""
    user, channel = entry.user, entry.channel
    await services.allow(TaskQuery, user=user, channel=channel)  # before the message is read
    links = links_in(message if isinstance(message, dict) else {})
    entry.detail = f"{CHECK_LINKS}: {' '.join(links.checked)}"[:500]
    if not links.checked and not links.too_long:
        entry.results = 0
        return links_render.no_links()
    policy = services.policy
    queries: dict[str, TaskQuery] = {}
    outside = []
    for url in links.checked:
        try:
            queries[url] = policy.scoped(TaskQuery(object_path=url, size=TASKS_PER_LINK), channel)
        except NotAllowed:  # its host lies outside the channel's scope: said, not looked up
            outside.append(url)
    answers = await asyncio.gather(
        *(services.find_tasks(query, caller=user) for query in queries.values())
    )
    found = {url: answer.page.tasks for url, answer in zip(queries, answers, strict=True)}
    groups = await services.people.groups_of(user, policy.groups())
    may_submit = services.writer is not None and policy.allows(
        Act.SUBMIT, user=user, channel=channel, user_groups=groups
    )
    result = link_tasks(
        links,
        found,
        outside=tuple(outside),
        scope=policy.scope(channel),
        refreshable=_fitting(tuple(queries)) if may_submit else (),
        age=max((answer.age for answer in answers), default=0.0),
    )
    entry.results = len(result.tasks)
    return links_render.link_tasks(result)


def _fitting(urls: tuple[str, ...]) -> tuple[str, ...]:
    """The first of `urls` that one button's value holds, one per line."""
    kept: list[str] = []
    size = 0
    for url in urls:
        size += len(url) + (1 if kept else 0)
        if size > MAX_BUTTON_VALUE:
            break
        kept.append(url)
    return tuple(kept)


def links_of(value: object) -> str:
    """The URLs a "Refresh these" button carries, checked like anything a payload holds."""
    urls = [line.strip() for line in str(value or "").splitlines() if line.strip()]
    if (
        not urls
        or len(urls) > MAX_LINKS
        or any(
            len(url) > MAX_URL or not re.match(r"https?://\S+$", url, re.IGNORECASE) for url in urls
        )
    ):
        raise InvalidQuery(
            "button", str(value)[:40], "this button's links are damaged; use the shortcut again"
        )
    return "\n".join(urls)


async def refresh_links(
    services: Services,
    client: AsyncWebClient,
    action: dict[str, Any],
    *,
    trigger_id: str,
    entry: AuditEntry,
) -> Reply | None:
    """ "Refresh these": the refresh form, filled in with the links. Rights come first, as for
    every button: a refusal tells nothing of what the value held."""
    await services.allow(Write(Action.REFRESH), user=entry.user, channel=entry.channel)
    urls = links_of(action.get("value"))
    return await open_form(
        services, client, Action.REFRESH, trigger_id=trigger_id, entry=entry, urls=urls
    )


def register(app: AsyncApp, *, services: Services) -> None:
    """Attach both shortcuts and the "Refresh these" button."""

    @app.shortcut({"callback_id": CHECK_LINKS, "type": "message_action"})
    async def checked(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        user, channel = id_of(body, "user"), id_of(body, "channel")
        entry = services.entry("shortcut", user=user, channel=channel, detail=CHECK_LINKS)
        work = check_links(services, body.get("message"), entry=entry)
        await deliver(respond, work, services=services, entry=entry, feedback=True)

    @app.shortcut({"callback_id": NEW_REFRESH, "type": "shortcut"})
    async def new_refresh(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        user, trigger = id_of(body, "user"), str(body.get("trigger_id", ""))
        entry = services.entry("shortcut", user=user, channel="", detail=NEW_REFRESH)
        work = open_form(services, client, Action.REFRESH, trigger_id=trigger, entry=entry)
        reply = NoticeReply(client, trigger_id=trigger, user=user)
        await deliver(reply, work, services=services, entry=entry)

    @app.action(ActionId.REFRESH_LINKS.value)
    async def refresh(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        await ack()
        entry = services.click_entry(body, ActionId.REFRESH_LINKS.value)
        trigger = str(body.get("trigger_id", ""))
        work = refresh_links(services, client, action, trigger_id=trigger, entry=entry)
        await deliver(respond, work, services=services, entry=entry, replace_original=False)

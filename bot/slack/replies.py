"""From a query to a delivered reply: ask the task finder, render, send through response_url."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot import wording
from bot.core.plan import TaskFinder
from bot.core.query import TaskQuery
from bot.errors import BotError, UserInputError
from bot.slack import render
from bot.slack.notify import Notifier
from bot.slack.people import Timezones
from bot.store.database import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Services:
    """What the Slack listeners need from the rest of the bot."""

    find_tasks: TaskFinder
    store: Store
    notifier: Notifier
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    timezones: Timezones = field(default_factory=Timezones)


async def task_reply(
    services: Services, query: TaskQuery, *, fresh: bool = False, shared_by: str | None = None
) -> render.Reply:
    """The rendered answer to `query`."""
    query, note = render.fit(query)
    answer = await services.find_tasks(query, fresh=fresh)
    return render.task_page(
        answer.page,
        query,
        age=answer.age,
        covered=answer.covered,
        shared_by=shared_by,
        note=note,
    )


async def report_error(error: Exception, respond: AsyncRespond | None = None) -> None:
    """The one error handler: words for known errors, an apology with a logged id otherwise."""
    if isinstance(error, BotError):
        level = logging.INFO if isinstance(error, UserInputError) else logging.WARNING
        log.log(level, "answered with an error: %r", error)
        reply = render.problem(wording.describe(error))
    else:
        error_id = uuid.uuid4().hex[:8]
        log.error("unexpected error %s", error_id, exc_info=error)
        reply = render.apology(error_id)
    if respond is not None:
        await send(respond, reply, response_type="ephemeral", replace_original=False)


async def deliver(respond: AsyncRespond, work: Awaitable[render.Reply], **options: Any) -> None:
    """Send what `work` produces after ack(); its failure goes to `report_error`.

    Failures must not reach Bolt from here: when a listener raises within ~10 ms of ack(),
    Bolt's asyncio runner clears the ack again and answers Slack 404 after three seconds.
    """
    try:
        reply = await work
    except Exception as error:
        await report_error(error, respond)
        return
    await send(respond, reply, **options)


async def send(respond: AsyncRespond, reply: render.Reply, **options: Any) -> bool:
    """Deliver `reply` via response_url; a refusal or a dead URL is logged, never raised."""
    options.setdefault("response_type", "ephemeral")
    try:
        answer = await respond(**reply.payload(), unfurl_links=False, unfurl_media=False, **options)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        # ValueError: Bolt's respond() when the payload carried no usable response_url.
        log.warning("could not reply through response_url: %s", exc)
        return False
    if answer.status_code != 200:
        log.warning(
            "response_url refused the reply: HTTP %s %s", answer.status_code, answer.body[:200]
        )
        return False
    return True

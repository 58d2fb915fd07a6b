"""Retry buttons: "Retry failed" on a finished progress message resubmits exactly its failed
paths with their original kind; "Retry" on a failure notification resubmits the tasks it names.
Either way the clicker gets the same private confirmation and quota check as `/cdn refresh`."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.core.audit import AuditEntry, submission_summary
from bot.core.progress import retries_of, retry_ids, retry_of, shown_failed
from bot.core.query import Write
from bot.core.submission import Submission
from bot.errors import InvalidQuery
from bot.slack.render import ActionId, Reply, said
from bot.slack.replies import Services, deliver
from bot.slack.writes import confirmation_reply, writer_of

_TRACKED_ID = re.compile(r"[0-9a-f]{32}")
NOTHING_FAILED = "None of those tasks has failed any more, so there is nothing to retry."


async def retry_failed(services: Services, action: dict[str, Any], *, entry: AuditEntry) -> Reply:
    """A progress message's "Retry failed": the confirmation for exactly what failed."""
    await services.allow(Write, user=entry.user, channel=entry.channel)  # before the value
    key = str(action.get("value", ""))
    tracked = await services.store.tracked(key) if _TRACKED_ID.fullmatch(key) else None
    if tracked is None:
        raise InvalidQuery(
            "retry", key[:40], "that submission is no longer known; use `/cdn refresh` again"
        )
    # The failed ones its final message names, else (not final yet) every task.
    wanted = shown_failed(tracked) or tracked.task_ids
    retry = retry_of(tracked, await writer_of(services).tasks(wanted))
    if retry is None:
        return said(NOTHING_FAILED)
    return await _confirmation(services, retry, entry=entry)


async def retry_tasks(
    services: Services, action: dict[str, Any], *, entry: AuditEntry, rest: list[Submission]
) -> Reply:
    """A notification's "Retry": the confirmation for its failed tasks, looked up by ID.
    Tasks of several kinds make one confirmation each: the first here, the others in `rest`."""
    await services.allow(Write, user=entry.user, channel=entry.channel)  # before the value
    ids = retry_ids(str(action.get("value", "")))
    retries = retries_of(await writer_of(services).tasks(ids))
    if not retries:
        return said(NOTHING_FAILED)
    rest.extend(retries[1:])
    return await _confirmation(services, retries[0], entry=entry)


async def _confirmation(services: Services, retry: Submission, *, entry: AuditEntry) -> Reply:
    entry.query = submission_summary(retry)[:500]
    return await confirmation_reply(services, retry, user=entry.user, channel=entry.channel)


def register(app: AsyncApp, *, services: Services) -> None:
    """Attach the Retry buttons; their confirmations go only to the clicker, as new messages
    (the progress message or notification stays for everyone)."""

    @app.action(ActionId.RETRY_FAILED.value)
    async def failed(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        entry = services.click_entry(body, ActionId.RETRY_FAILED.value)
        work = retry_failed(services, action, entry=entry)
        await deliver(respond, work, services=services, entry=entry, replace_original=False)

    @app.action(ActionId.RETRY_TASKS.value)
    async def tasks(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        entry = services.click_entry(body, ActionId.RETRY_TASKS.value)
        rest: list[Submission] = []
        work = retry_tasks(services, action, entry=entry, rest=rest)
        await deliver(respond, work, services=services, entry=entry, replace_original=False)
        for retry in rest:
            more = services.click_entry(body, ActionId.RETRY_TASKS.value)
            await deliver(
                respond,
                _confirmation(services, retry, entry=more),
                services=services,
                entry=more,
                replace_original=False,
            )

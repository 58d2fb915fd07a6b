"""From a query to a delivered reply: ask the task finder, render, send through response_url."""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot import wording
from bot.core.access import Policy, Request, needs
from bot.core.audit import AuditEntry, audit_line
from bot.core.plan import TaskFinder
from bot.core.query import TaskQuery, encode_query
from bot.core.submission import Writes
from bot.core.tasks import HISTORY_DAYS
from bot.errors import BotError, NotAllowed, UserInputError
from bot.slack import render
from bot.slack.admission import Admission
from bot.slack.chart import Charts
from bot.slack.hooks import ForeignReplyUrl, GuardedRespond
from bot.slack.notify import Notifier
from bot.slack.people import People
from bot.slack.uploads import Files
from bot.store.database import Store

if TYPE_CHECKING:
    from bot.slack.writes import Tracking

log = logging.getLogger(__name__)
audit_log = logging.getLogger("bot.audit")


@dataclass(frozen=True)
class Services:
    """What the Slack listeners need from the rest of the bot."""

    find_tasks: TaskFinder
    store: Store
    notifier: Notifier
    people: People
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    policy: Policy = field(default_factory=Policy)
    admission: Admission = field(default_factory=Admission)
    # Refresh and prefetch: off without a writer; submissions are followed when a tracker is set.
    writer: Writes | None = None
    tracker: Tracking | None = None
    # How many days back times may go: the API's three, or as long as the bot keeps its task
    # history (the HISTORY_DAYS setting, passed in by the composition root).
    kept_days: int = HISTORY_DAYS
    # /cdn stats: its charts, drawn once per chart for a while, and Slack's file uploads.
    charts: Charts = field(default_factory=Charts)
    files: Files | None = None

    async def allow(self, request: Request | type[Request], *, user: str, channel: str) -> None:
        """Raise NotAllowed unless the policy lets `user` make `request` (or any request of
        that kind, when it cannot be read before the answer) in `channel`."""
        acts = needs(request)
        if not acts:
            return
        member_of = await self.people.groups_of(user, self.policy.groups())
        for act in acts:
            self.policy.check(act, user=user, channel=channel, user_groups=member_of)

    async def allow_person(self, request: Request | type[Request], *, user: str) -> None:
        """Raise NotAllowed unless the policy's people and user groups let `user` make
        `request` with no channel to judge it by (a Workflow Builder step given none)."""
        acts = needs(request)
        if not acts:
            return
        member_of = await self.people.groups_of(user, self.policy.groups())
        for act in acts:
            self.policy.check_person(act, user=user, user_groups=member_of)

    async def allow_somewhere(self, request: Request | type[Request], *, user: str) -> None:
        """Raise NotAllowed when no channel could let `user` make `request`: checked before a
        form that asks for its channel, which is judged in full once picked."""
        member_of = await self.people.groups_of(user, self.policy.groups())
        for act in needs(request):
            if not self.policy.may_somewhere(act, user=user, user_groups=member_of):
                raise NotAllowed(act.value, self.policy.contact)

    def entry(self, kind: str, *, user: str, channel: str, detail: str) -> AuditEntry:
        """A fresh audit entry for something that starts now."""
        return AuditEntry(self.clock(), user, channel, kind, detail[:500])

    def click_entry(self, body: dict[str, Any], action_id: str) -> AuditEntry:
        """The audit entry of a button click: who, where, which button."""
        return self.entry(
            "action", user=id_of(body, "user"), channel=id_of(body, "channel"), detail=action_id
        )

    async def record(self, entry: AuditEntry) -> None:
        """Write the entry: one JSON log line, and the store's trail (kept by age)."""
        audit_log.info(audit_line(entry))
        await self.store.record_audit(entry, forget_before=entry.at - self.policy.audit_kept)


def id_of(body: dict[str, Any], part: str) -> str:
    """`body[part]["id"]` (the user or channel of an interaction), or "" when the payload is
    not shaped as Slack shapes it."""
    found = body.get(part)
    return str(found.get("id", "")) if isinstance(found, dict) else ""


async def task_reply(
    services: Services,
    query: TaskQuery,
    *,
    fresh: bool = False,
    shared_by: str | None = None,
    entry: AuditEntry | None = None,
) -> render.Reply:
    """The rendered answer to `query`."""
    query, note = render.fit(query)
    caller = entry.user if entry is not None else ""
    answer = await services.find_tasks(query, fresh=fresh, caller=caller)
    if entry is not None:
        entry.query = encode_query(query)
        entry.results = len(answer.page.tasks)
        entry.request_ids = answer.page.request_ids
    return render.task_page(
        answer.page,
        query,
        age=answer.age,
        covered=answer.covered,
        domains=answer.domains,
        shared_by=shared_by,
        note=note,
        fetched=services.clock() - timedelta(seconds=answer.age),
        archived=answer.archived,
    )


async def report_error(
    error: Exception, respond: AsyncRespond | None = None, *, replace: bool = False
) -> None:
    """The one error handler: words for known errors, an apology with a logged id otherwise."""
    reply = error_reply(error)
    if respond is not None:
        await send(respond, reply, response_type="ephemeral", replace_original=replace)


def error_reply(error: Exception) -> render.Reply:
    """What people are told of `error` (logged here): its words, or an apology with an id."""
    return (
        render.problem(words_for(error))
        if isinstance(error, BotError)
        else render.apology(_logged(error))
    )


def words_for(error: Exception) -> str:
    """The plain words for `error` (logged here), for surfaces that show plain text."""
    if isinstance(error, BotError):
        level = logging.INFO if isinstance(error, UserInputError) else logging.WARNING
        log.log(level, "answered with an error: %r", error)
        return wording.describe(error)
    return wording.apology(_logged(error))


def _logged(error: Exception) -> str:
    error_id = uuid.uuid4().hex[:8]
    log.error("unexpected error %s", error_id, exc_info=error)
    return error_id


class _Placeholder:
    """The "Looking up …" note, sent once when the answer is not ready after a moment
    (response_url takes five messages: one note, then the answer that replaces it)."""

    def __init__(self, respond: AsyncRespond, options: dict[str, Any]) -> None:
        self._respond = respond
        self._options = options
        self._sending = False
        self._task: asyncio.Task[bool] | None = None

    def start(self, delay: float) -> None:
        self._task = asyncio.create_task(self._after(delay))

    async def _after(self, delay: float) -> bool:
        await asyncio.sleep(delay)
        self._sending = True
        return await send(self._respond, render.looking_up(), **self._options)

    async def shown(self) -> bool:
        """Whether the note reached Slack; one still on its way is waited for, one not yet
        due is called off."""
        if self._task is None:
            return False
        if not self._sending:
            self._task.cancel()
            return False
        return await self._task

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()


async def deliver(
    respond: AsyncRespond,
    work: Awaitable[render.Reply | None],
    *,
    services: Services | None = None,
    entry: AuditEntry | None = None,
    bounded: bool = True,
    feedback: bool = False,
    **options: Any,
) -> None:
    """Send what `work` produces after ack(); its failure goes to `report_error`; then the
    audit `entry` (if any) is written with the outcome and latency. With `services`, the work
    runs within the person's share (a few at a time, each with a deadline unless not
    `bounded`). With `feedback`, an answer not ready within `admission.feedback_after` is
    preceded by a private "Looking up …" note, which the answer (or the error) replaces.

    Failures must not reach Bolt from here: when a listener raises within ~10 ms of ack(),
    Bolt's asyncio runner clears the ack again and answers Slack 404 after three seconds.
    """
    started = time.perf_counter()
    reply: render.Reply | None = None
    failure: Exception | None = None
    placeholder = _Placeholder(respond, options)
    if feedback and services is not None and services.admission.feedback_after is not None:
        placeholder.start(services.admission.feedback_after)
    try:
        if services is None:
            reply = await work
        else:
            user = entry.user if entry is not None else ""
            async with services.admission.hold(user, bounded=bounded):
                reply = await work
    except Exception as error:
        failure = error
        if entry is not None:
            entry.outcome = outcome_of(error)
    except BaseException:
        placeholder.cancel()  # cancelled: no note for an answer that will never come
        raise
    finally:
        if inspect.iscoroutine(work):
            work.close()  # refused before it started: nothing ran, nothing to warn about
    shown = await placeholder.shown()
    # Recorded before the reply leaves, so the trail never lags behind what people saw.
    if entry is not None and services is not None:
        entry.latency_ms = round((time.perf_counter() - started) * 1000, 1)
        try:
            await services.record(entry)
        except Exception:  # the trail must never cost the person their answer
            log.exception("could not record the audit entry")
    if shown:
        options["replace_original"] = True
    if failure is not None:
        await report_error(failure, respond, replace=shown)
    elif reply is not None:
        await send(respond, reply, **options)


def outcome_of(error: Exception) -> str:
    """How an audit entry names the way `error` ended the request."""
    if isinstance(error, NotAllowed):
        return "denied"
    if isinstance(error, UserInputError):
        return "invalid"
    if isinstance(error, BotError):
        return f"failed: {type(error).__name__}"
    return "error"


async def send(respond: AsyncRespond, reply: render.Reply, **options: Any) -> bool:
    """Deliver `reply` via response_url, only to Slack's own hosts and never through a
    redirect; a refusal, a foreign or a dead URL is logged, never raised."""
    options.setdefault("response_type", "ephemeral")
    # A respond Bolt built before our middleware ran (an error early in dispatch) may only
    # reach Slack's own hosts.
    respond = GuardedRespond.of(respond)
    try:
        answer = await respond(**reply.payload(), unfurl_links=False, unfurl_media=False, **options)
    except ForeignReplyUrl as exc:
        log.warning("refused to reply: %s", exc)
        return False
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

"""Workflow Builder steps (declared in manifest.workflows.yml): `cdn_refresh_urls` submits a
refresh for the person named in `requested_by`, judged like that person typing `/cdn refresh`
(rights, the channel's domains, today's quota), and outputs the task IDs; `cdn_task_status`
outputs how those tasks stand.

Each run is audited like a command and runs within its person's share. A run Slack delivers
twice (an Events API retry of the same function_execution_id) is done once: a replica drops a
run it has seen, and a refresh is kept as a confirmation that exactly one delivery can spend,
whichever replica it reaches. A run ends with functions.completeSuccess, or functions.completeError
with words a person can act on (Slackbot shows them to whoever ran the workflow).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any, TypeVar

from cachetools import TTLCache
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.context.complete.async_complete import AsyncComplete
from slack_bolt.context.fail.async_fail import AsyncFail
from slack_sdk.errors import SlackApiError

from bot.core.audit import AuditEntry, note_submitted, submission_summary
from bot.core.query import TaskQuery, Write
from bot.core.steps import (
    REFRESH_STEP,
    STATUS_STEP,
    RefreshRequest,
    StatusRequest,
    refresh_request,
    status_request,
    task_counts,
)
from bot.core.submission import CONFIRMATION_LIFETIME, Confirmation, quota_left
from bot.errors import NotAllowed, PartlySubmitted, TasksNotFound
from bot.slack.replies import Services, outcome_of, words_for
from bot.slack.writes import shortfall, writer_of

log = logging.getLogger(__name__)
RUN_MEMORY = 3600.0  # seconds a run is remembered, so that Slack's retry of it is dropped

Outputs = dict[str, Any]
R = TypeVar("R", RefreshRequest, StatusRequest)


async def refresh_urls(
    services: Services, request: RefreshRequest, entry: AuditEntry, execution: str
) -> Outputs | None:
    """`cdn_refresh_urls`: check, submit, output; anything short of every URL going in fails
    the run, naming the tasks that were made. None when another delivery of the same run (in
    this process or another replica) has it."""
    submission = request.submission
    entry.detail = f"{REFRESH_STEP}: {submission_summary(submission)}"[:500]
    user, channel = request.requested_by, request.channel
    if channel is None:
        await services.allow_person(Write, user=user)
        _unscoped_only(services, "refresh or prefetch without a channel")
    else:
        await services.allow(Write, user=user, channel=channel)
        services.policy.may_submit(channel, submission.domains)
    writer = writer_of(services)
    refusal = shortfall(submission, quota_left(await writer.quota(), submission))
    if refusal is not None:
        raise refusal
    if execution and not await _first_run(services, request, execution):
        return None
    submitted = await writer.submit(submission)
    note_submitted(entry, submitted)
    if submitted.error is not None:
        raise PartlySubmitted(
            cause=submitted.error,
            accepted=len(submitted.accepted),
            wanted=len(submission.paths),
            task_ids=submitted.task_ids,
        )
    return {"task_ids": ",".join(submitted.task_ids), "submitted": len(submitted.accepted)}


def _unscoped_only(services: Services, what: str) -> None:
    """A run that names no channel keeps to no channel's domains: refused wherever some
    channels are limited to some domains, so that no run reaches past them."""
    if services.policy.scopes:
        raise NotAllowed(
            what,
            services.policy.contact,
            detail="Some channels see only some domains: set the step's channel input, and the "
            "run keeps to that channel's domains.",
        )


async def _first_run(services: Services, request: RefreshRequest, execution: str) -> bool:
    """Whether this delivery of the run may submit: the run is kept as a confirmation, spent
    by exactly one claim in any number of replicas on the same database (like a button's)."""
    store, now = services.store, services.clock()
    user = request.requested_by
    run = Confirmation(f"{user}.run-{execution}"[:200], request.submission, user, "", now)
    await store.forget_confirmations_before(now - CONFIRMATION_LIFETIME - timedelta(days=1))
    try:
        await store.save_confirmation(run)
    except Exception:  # another delivery saved it first: the claim below decides
        log.info("run %s is kept already", execution)
    claim = await store.claim_confirmation(run.id, user=user, at=now)
    return claim.granted


async def task_status(
    services: Services, request: StatusRequest, entry: AuditEntry, _execution: str
) -> Outputs:
    """`cdn_task_status`: how the tasks stand, read live; IDs not found fail the run."""
    user, channel = request.requested_by, request.channel
    entry.detail = f"{STATUS_STEP}: {','.join(request.task_ids)}"[:500]
    query = TaskQuery(task_ids=request.task_ids, size=len(request.task_ids))
    if user is not None and channel is not None:
        await services.allow(query, user=user, channel=channel)
    elif user is not None:
        await services.allow_person(query, user=user)
    elif not services.policy.query.everyone:
        raise NotAllowed(
            "look tasks up for nobody in particular",
            services.policy.contact,
            detail="Set the step's requested_by to the person who runs the workflow.",
        )
    if channel is None:
        _unscoped_only(services, "look tasks up without a channel")
    else:  # the channel's domains, whoever asks
        query = services.policy.scoped(query, channel)
    answer = await services.find_tasks(query, fresh=True, caller=user or "")
    counts = task_counts(request.task_ids, answer.page.tasks)
    entry.results = len(request.task_ids) - len(counts.missing)
    if counts.missing:
        raise TasksNotFound(task_ids=counts.missing, scoped=bool(query.within))
    return counts.outputs()


class Runs:
    """The steps' runs: each function_execution_id done once, within its person's share,
    audited, and ended with its outputs or words."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._seen: TTLCache[str, bool] = TTLCache(maxsize=10_000, ttl=RUN_MEMORY)

    def first(self, execution_id: str | None) -> bool:
        """Whether this run is new (and now taken); a run without an ID always is."""
        if not execution_id:
            return True
        if execution_id in self._seen:
            return False
        self._seen[execution_id] = True
        return True

    async def run(
        self,
        step: str,
        inputs: Any,
        read: Callable[[Mapping[str, Any]], R],
        work: Callable[[Services, R, AuditEntry, str], Awaitable[Outputs | None]],
        *,
        context: AsyncBoltContext,
        complete: AsyncComplete,
        fail: AsyncFail,
        bounded: bool,
    ) -> None:
        """Read the inputs, do `work` for their person, record it, end the run. A submission
        is not `bounded` by the admission's deadline: once sent, it must be reported."""
        services = self._services
        execution = context.function_execution_id
        if not self.first(execution):
            log.info("dropped a repeated delivery of %s run %s", step, execution)
            return
        given = inputs if isinstance(inputs, Mapping) else {}
        # Whom the run names, as given, so that even a refused run says who asked.
        entry = services.entry(
            "workflow", user=str(given.get("requested_by") or "")[:40], channel="", detail=step
        )
        entry.extra["execution"] = execution or ""
        outputs: Outputs | None = None
        problem = ""
        try:
            request = read(given)
            entry.user = request.requested_by or ""
            entry.channel = request.channel or ""
            async with services.admission.hold(entry.user, bounded=bounded):
                outputs = await work(services, request, entry, execution or "")
            if outputs is None:
                log.info("dropped %s run %s: another delivery of it submits", step, execution)
                return
        except Exception as error:  # every failure ends the run with words, never a hang
            if entry.outcome == "ok":
                entry.outcome = outcome_of(error)
            problem = words_for(error)
        await self._record(entry)
        try:
            if outputs is not None:
                await complete(outputs)
            else:
                await fail(problem)
        except (SlackApiError, ValueError) as exc:
            # ValueError: Bolt's complete/fail when the payload named no function_execution_id.
            log.warning("could not end %s run %s: %s", step, execution, exc)

    async def _record(self, entry: AuditEntry) -> None:
        try:
            await self._services.record(entry)
        except Exception:  # the trail must never leave a workflow hanging
            log.exception("could not record the audit entry")


def register(app: AsyncApp, *, services: Services) -> None:
    """Attach both steps' listeners (Bolt acknowledges function_executed at once)."""
    runs = Runs(services)

    @app.function(REFRESH_STEP)
    async def refresh(
        inputs: dict[str, Any], context: AsyncBoltContext, complete: AsyncComplete, fail: AsyncFail
    ) -> None:
        await runs.run(
            REFRESH_STEP,
            inputs,
            refresh_request,
            refresh_urls,
            context=context,
            complete=complete,
            fail=fail,
            bounded=False,
        )

    @app.function(STATUS_STEP)
    async def status(
        inputs: dict[str, Any], context: AsyncBoltContext, complete: AsyncComplete, fail: AsyncFail
    ) -> None:
        await runs.run(
            STATUS_STEP,
            inputs,
            status_request,
            task_status,
            context=context,
            complete=complete,
            fail=fail,
            bounded=True,
        )

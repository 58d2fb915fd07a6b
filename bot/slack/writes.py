"""Refresh and prefetch from Slack: a private confirmation, then the one click that submits it.

A confirmation is kept in the store (it survives a restart) and spent by exactly one click.
Rights, the channel's scope and today's quota are checked when it is made and again at the
click: the message is static, the world is not.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot import wording
from bot.core.audit import AuditEntry, note_submitted, submission_summary
from bot.core.query import Write
from bot.core.submission import (
    CONFIRMATION_LIFETIME,
    Confirmation,
    Submission,
    Submitted,
    Writes,
    parse_submission,
    quota_left,
)
from bot.errors import (
    AlreadySubmitted,
    BotError,
    ConfigurationError,
    ConfirmationGone,
    NotAllowed,
    NotEnoughQuota,
)
from bot.slack import write_render
from bot.slack.render import ActionId, Reply
from bot.slack.replies import Services, deliver

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Started:
    """A confirmed submission that created tasks, for whatever follows them to the end."""

    submission: Submission
    submitted: Submitted
    user: str
    channel: str
    response_url: str | None
    at: datetime


class Tracking(Protocol):
    """What follows submitted tasks to their end (bot.slack.progress.Tracker)."""

    async def start(self, started: Started) -> None:
        """Begin following `started`'s tasks."""
        ...


def writer_of(services: Services) -> Writes:
    """The CDN writer, or a configuration error when the bot was built without one."""
    if services.writer is None:
        raise ConfigurationError("the CDN writer", "is not set up, so nothing can be submitted")
    return services.writer


def _new_id(user: str) -> str:
    # The owner leads the id, so a click by anyone else is refused before it can spend it.
    return f"{user}.{secrets.token_urlsafe(12)}"


def _owner(confirmation_id: str) -> str:
    return confirmation_id.partition(".")[0]


def shortfall(submission: Submission, left: int) -> NotEnoughQuota | None:
    """The refusal when today's `left` quota cannot take all of `submission`, else None."""
    wanted = len(submission.paths)
    if wanted <= left:
        return None
    return NotEnoughQuota(
        action=submission.action.value, kind=submission.kind.value, wanted=wanted, left=left
    )


async def confirmation_reply(
    services: Services, submission: Submission, *, user: str, channel: str
) -> Reply:
    """The private confirmation of `submission` for `user` in `channel`, once they may make
    it here and today's quota can take it; nothing is submitted."""
    await services.allow(Write, user=user, channel=channel)
    services.policy.may_submit(channel, submission.domains)
    left = quota_left(await writer_of(services).quota(), submission)
    refusal = shortfall(submission, left)
    if refusal is not None:
        raise refusal
    now = services.clock()
    confirmation = Confirmation(_new_id(user), submission, user, channel, now)
    # Unclicked and cancelled ones go a day after they expired (a late click hears "gone").
    await services.store.forget_confirmations_before(
        now - CONFIRMATION_LIFETIME - timedelta(days=1)
    )
    await services.store.save_confirmation(confirmation)
    return write_render.confirmation(confirmation, left=left)


async def command_reply(services: Services, write: Write, *, entry: AuditEntry) -> Reply:
    """`/cdn refresh|prefetch URL…` (rights already checked): the confirmation, or a hint
    when the input is wrong."""
    submission = parse_submission(write.action, write.text)
    entry.query = submission_summary(submission)[:500]
    return await confirmation_reply(services, submission, user=entry.user, channel=entry.channel)


def _not_yours(services: Services) -> NotAllowed:
    return NotAllowed(
        "act on a confirmation made for someone else",
        services.policy.contact,
        detail="Only the person who asked can confirm or cancel it.",
    )


async def confirm(
    services: Services, action: dict[str, Any], *, entry: AuditEntry, response_url: str | None
) -> Reply:
    """The confirm click: spend the confirmation, check again, submit, say what happened."""
    user, channel = entry.user, entry.channel
    await services.allow(Write, user=user, channel=channel)  # before the value is read
    confirmation_id = str(action.get("value", ""))
    if _owner(confirmation_id) != user:
        raise _not_yours(services)
    claim = await services.store.claim_confirmation(confirmation_id, user=user, at=services.clock())
    made = claim.confirmation
    if made is None:
        raise ConfirmationGone(expired=False)
    # Spent after its lifetime, it submitted nothing: every later click hears "expired" too.
    if claim.used_at is not None and made.expired(claim.used_at):
        raise ConfirmationGone(expired=True)
    if not claim.granted:
        tz = await services.people.timezone(user)
        when = (claim.used_at or services.clock()).astimezone(tz)
        raise AlreadySubmitted(used_by=claim.used_by or "someone", used_at=when)
    if made.user != user:
        raise _not_yours(services)
    submission = made.submission
    entry.detail = submission_summary(submission)[:500]
    entry.extra["confirmation"] = made.id
    # From here the confirmation is spent: every answer replaces it, so no button is left.
    # Judged for the channel it was asked in (where the progress goes), whatever the click says.
    asked_in = made.channel
    if asked_in != channel:  # e.g. clicked in the DM a form's confirmation went to
        try:
            await services.allow(Write, user=user, channel=asked_in)
        except BaseException:
            await services.store.release_confirmation(made.id, user=user)
            raise
    refusal: BotError | None = services.policy.submission_refusal(asked_in, submission.domains)
    if refusal is None:
        try:
            left = quota_left(await writer_of(services).quota(), submission)
        except BaseException:
            # Nothing was sent: the button (still on screen under the error) may be pressed again.
            await services.store.release_confirmation(made.id, user=user)
            raise
        refusal = shortfall(submission, left)
    if refusal is not None:
        entry.outcome = f"refused: {type(refusal).__name__}"
        return write_render.not_submitted(wording.describe(refusal))
    submitted = await writer_of(services).submit(submission)
    note_submitted(entry, submitted)
    if submitted.task_ids and services.tracker is not None:
        started = Started(submission, submitted, user, asked_in, response_url, services.clock())
        try:
            await services.tracker.start(started)
        except Exception:  # the tasks exist: the person must still hear that they went in
            log.exception("could not start following the submitted tasks")
    error = submitted.error
    return write_render.submitted(
        submission,
        accepted=submitted.accepted,
        refused=submitted.refused,
        tasks=len(submitted.task_ids),
        user=user,
        reason=wording.describe(error) if error is not None else None,
    )


async def cancel(services: Services, action: dict[str, Any], *, entry: AuditEntry) -> Reply:
    """Cancel: the confirmation goes away; it is left to expire unspent."""
    if _owner(str(action.get("value", ""))) != entry.user:
        raise _not_yours(services)
    return write_render.cancelled()


def register(app: AsyncApp, *, services: Services) -> None:
    """Attach the confirmation's buttons; both replace the confirmation with their answer."""

    @app.action(ActionId.CONFIRM_WRITE.value)
    async def confirmed(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        entry = services.click_entry(body, ActionId.CONFIRM_WRITE.value)
        url = body.get("response_url")
        work = confirm(
            services, action, entry=entry, response_url=url if isinstance(url, str) else None
        )
        # A submission under way must finish and be reported, never cut at the deadline.
        await deliver(
            respond, work, services=services, entry=entry, bounded=False, replace_original=True
        )

    @app.action(ActionId.CANCEL_WRITE.value)
    async def cancelled(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        entry = services.click_entry(body, ActionId.CANCEL_WRITE.value)
        work = cancel(services, action, entry=entry)
        await deliver(respond, work, services=services, entry=entry, replace_original=True)

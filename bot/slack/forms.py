"""The refresh/prefetch form: `/cdn refresh` or `/cdn prefetch` alone opens it; its submission
is checked in the form and, when valid, closes it and leads to the private confirmation.

A modal has no response_url, so the confirmation goes to the channel the form was opened in
(or, opened from a global shortcut, the one picked in it) with chat.postEphemeral; its buttons
then work like any other, since an ephemeral message's click carries a response_url.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.audit import AuditEntry, submission_summary
from bot.core.query import Write
from bot.core.submission import Action
from bot.slack import modals, render
from bot.slack.postings import EphemeralReply
from bot.slack.replies import Services, deliver, id_of
from bot.slack.writes import confirmation_reply

log = logging.getLogger(__name__)


async def open_form(
    services: Services,
    client: AsyncWebClient,
    action: Action,
    *,
    trigger_id: str,
    entry: AuditEntry,
    urls: str = "",
) -> render.Reply | None:
    """Open the form for `action` (its URLs filled in with `urls`), once the person may
    submit in `entry.channel`; a reply only when it could not be opened. Without a channel
    (a global shortcut) the form asks for one, and is opened for anyone some channel lets
    submit. Slack's trigger lasts three seconds: this runs right after ack()."""
    if entry.channel:
        await services.allow(Write(action), user=entry.user, channel=entry.channel)
    else:
        await services.allow_somewhere(Write(action), user=entry.user)
    view = modals.write_form(action, channel=entry.channel or None, urls=urls)
    try:
        await client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as exc:
        error = str(exc.response.get("error", "unknown"))
        log.warning("views.open refused the form: %s", error)
        entry.outcome = f"failed: views.open {error}"
        return render.said(
            f"Slack did not open the form (`{render.escape(error)}`). Type the URLs after "
            f"`/cdn {action}` instead, or try again."
        )
    return None


def register(app: AsyncApp, *, services: Services) -> None:
    """Attach the form's submission listener (and a harmless one for its closing)."""

    @app.view(modals.CALLBACK_ID)
    async def submitted(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        form = modals.read_form(view)
        if form.submission is None:
            await ack(response_action="errors", errors=form.errors)
            return
        await ack()  # closes the form
        user = id_of(body, "user")
        entry = services.entry(
            "form", user=user, channel=form.channel, detail=submission_summary(form.submission)
        )
        work = confirmation_reply(services, form.submission, user=user, channel=form.channel)
        reply = EphemeralReply(client, channel=form.channel, user=user)
        await deliver(reply, work, services=services, entry=entry)

    @app.view_closed(modals.CALLBACK_ID)
    async def closed(ack: AsyncAck) -> None:
        # Nothing was asked for yet: nothing to undo.
        await ack()

"""The refresh/prefetch form: `/cdn refresh` or `/cdn prefetch` alone opens it; its submission
is checked in the form and, when valid, closes it and leads to the private confirmation.

A modal has no response_url, so the confirmation goes to the channel the form was opened in
with chat.postEphemeral; its buttons then work like any other, since an ephemeral message's
click carries a response_url.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook import WebhookResponse

from bot.core.audit import AuditEntry, submission_summary
from bot.core.query import Write
from bot.core.submission import Action
from bot.slack import modals, render
from bot.slack.hooks import GuardedRespond, ReplyHosts
from bot.slack.replies import Services, deliver, id_of
from bot.slack.writes import confirmation_reply

log = logging.getLogger(__name__)
# Where chat.postEphemeral cannot reach the person, the app's DM with them still can.
_TO_THE_DM = {"not_in_channel", "channel_not_found", "user_not_in_channel"}


async def open_form(
    services: Services,
    client: AsyncWebClient,
    action: Action,
    *,
    trigger_id: str,
    entry: AuditEntry,
) -> render.Reply | None:
    """Open the form for `action`, once the person may submit here; a reply only when it
    could not be opened. Slack's trigger lasts three seconds: this runs right after ack()."""
    await services.allow(Write(action), user=entry.user, channel=entry.channel)
    view = modals.write_form(action, channel=entry.channel)
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


class EphemeralReply(GuardedRespond):
    """respond() where there is no response_url: chat.postEphemeral to `user` in `channel`,
    or a message in the app's DM with them when the channel is closed to the bot.

    A GuardedRespond so replies.send() uses it as it is: it posts only through the Web API
    client, never to a URL a payload named."""

    def __init__(self, client: AsyncWebClient, *, channel: str, user: str) -> None:
        super().__init__(response_url=None, hosts=ReplyHosts())
        self._client = client
        self._channel = channel
        self._user = user

    async def __call__(
        self,
        text: str | dict[str, Any] = "",
        blocks: Sequence[dict[str, Any] | Block] | None = None,
        # What response_url takes besides (ephemeral, replace, unfurl…) means nothing here.
        *_args: Any,
        **_options: Any,
    ) -> WebhookResponse:
        """Post the message privately; the answer reads like response_url's (200 when sent)."""
        words = str(text)
        try:
            answer = await self._client.chat_postEphemeral(
                channel=self._channel, user=self._user, text=words, blocks=blocks
            )
        except SlackApiError as exc:
            if exc.response.get("error") not in _TO_THE_DM:
                return _refused(exc)
            try:
                answer = await self._client.chat_postMessage(
                    channel=self._user, text=words, blocks=blocks
                )
            except SlackApiError as again:
                return _refused(again)
        return WebhookResponse(url="", status_code=200, body=json.dumps(answer.data), headers={})


def _refused(exc: SlackApiError) -> WebhookResponse:
    return WebhookResponse(
        url="", status_code=exc.response.status_code, body=str(exc.response.data), headers={}
    )


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

"""respond() where Slack gives no response_url: a modal's submission, a click on the App Home,
a global shortcut. Each stand-in posts through the Web API client only, never to a URL a
payload named, and answers like response_url does (200 when the reply was shown), so
replies.deliver() and replies.send() use them as they are.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from slack_sdk.webhook import WebhookResponse

from bot.slack import modals
from bot.slack.hooks import GuardedRespond, ReplyHosts

log = logging.getLogger(__name__)
# Where chat.postEphemeral cannot reach the person, the app's DM with them still can.
_TO_THE_DM = {"not_in_channel", "channel_not_found", "user_not_in_channel"}
# What a modal can show of a reply; a table or buttons only work in a message.
_MODAL_BLOCKS = {"section", "context", "header", "divider"}


class _StandIn(GuardedRespond):
    def __init__(self, client: AsyncWebClient) -> None:
        super().__init__(response_url=None, hosts=ReplyHosts())
        self._client = client


class EphemeralReply(_StandIn):
    """chat.postEphemeral to `user` in `channel`, or a message in the app's DM with them when
    the channel is closed to the bot."""

    def __init__(self, client: AsyncWebClient, *, channel: str, user: str) -> None:
        super().__init__(client)
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
        """Post the message privately."""
        words = str(text)
        try:
            answer = await self._client.chat_postEphemeral(
                channel=self._channel, user=self._user, text=words, blocks=blocks
            )
        except SlackApiError as exc:
            if exc.response.get("error") not in _TO_THE_DM:
                return _refused(exc)
            return await _post(self._client, self._user, words, blocks)
        return _sent(answer)


class MessageReply(_StandIn):
    """A message in `channel` (the app's DM with someone, for what the App Home sends them)."""

    def __init__(self, client: AsyncWebClient, *, channel: str) -> None:
        super().__init__(client)
        self._channel = channel

    async def __call__(
        self,
        text: str | dict[str, Any] = "",
        blocks: Sequence[dict[str, Any] | Block] | None = None,
        *_args: Any,
        **_options: Any,
    ) -> WebhookResponse:
        """Post the message."""
        return await _post(self._client, self._channel, str(text), blocks)


class NoticeReply(_StandIn):
    """A modal opened with the click's `trigger_id`, for a click with neither response_url nor
    channel (a Home button, a global shortcut); when Slack will not open it (the trigger is
    spent or expired) or the reply holds what only a message can, the app's DM with `user`."""

    def __init__(self, client: AsyncWebClient, *, trigger_id: str, user: str) -> None:
        super().__init__(client)
        self._trigger = trigger_id
        self._user = user

    async def __call__(
        self,
        text: str | dict[str, Any] = "",
        blocks: Sequence[dict[str, Any] | Block] | None = None,
        *_args: Any,
        **_options: Any,
    ) -> WebhookResponse:
        """Show the reply."""
        shown = [block if isinstance(block, dict) else block.to_dict() for block in blocks or ()]
        if shown and all(block.get("type") in _MODAL_BLOCKS for block in shown):
            try:
                opened = await self._client.views_open(
                    trigger_id=self._trigger, view=modals.notice_of(shown)
                )
            except SlackApiError as exc:
                log.info(
                    "views.open refused a notice (%s): sent as a DM", exc.response.get("error")
                )
            else:
                return _sent(opened)
        return await _post(self._client, self._user, str(text), shown or None)


async def _post(
    client: AsyncWebClient,
    channel: str,
    text: str,
    blocks: Sequence[dict[str, Any] | Block] | None,
) -> WebhookResponse:
    try:
        answer = await client.chat_postMessage(
            channel=channel, text=text, blocks=blocks, unfurl_links=False, unfurl_media=False
        )
    except SlackApiError as exc:
        return _refused(exc)
    return _sent(answer)


def _sent(answer: AsyncSlackResponse) -> WebhookResponse:
    return WebhookResponse(url="", status_code=200, body=json.dumps(answer.data), headers={})


def _refused(exc: SlackApiError) -> WebhookResponse:
    return WebhookResponse(
        url="", status_code=exc.response.status_code, body=str(exc.response.data), headers={}
    )

"""Files into Slack with the upload v2 flow (files.getUploadURLExternal, the bytes to the URL it
gives, files.completeUploadExternal), into a channel or a person's DM with the app
(conversations.open). A refusal comes back as Slack's error code, never as an exception."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)
# Well inside a command's deadline: the text answer must not wait on a slow upload.
UPLOAD_WITHIN = 6.0


@dataclass(frozen=True)
class Uploaded:
    """Where a file went, or why it did not: `error` is Slack's code (`not_in_channel`,
    `missing_scope`…), or `timeout` / `unreachable` / `upload_refused` for the transfer."""

    channel: str
    permalink: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the file is in the channel."""
        return self.error is None


class Files:
    """Uploads through the app's Web API client."""

    def __init__(self, client: AsyncWebClient, *, within: float = UPLOAD_WITHIN) -> None:
        self._client = client
        self._within = within

    async def direct_channel(self, user: str) -> str:
        """The ID of `user`'s DM with the app (conversations.open); raises SlackApiError."""
        opened = await self._client.conversations_open(users=user)
        channel = opened.get("channel")
        channel_id = channel.get("id") if isinstance(channel, dict) else None
        if not channel_id:
            raise SlackRequestError("conversations.open named no channel")
        return str(channel_id)

    async def upload(
        self,
        data: bytes,
        *,
        channel: str | None = None,
        user: str | None = None,
        filename: str,
        title: str,
        alt_text: str,
        comment: str,
    ) -> Uploaded:
        """Share `data` in `channel`, or in `user`'s DM with the app, with `comment` above it."""
        if channel is None and user is None:
            raise ValueError("say where the file goes: a channel or a user")
        try:
            async with asyncio.timeout(self._within):
                if channel is None and user is not None:
                    channel = await self.direct_channel(user)
                done = await self._client.files_upload_v2(
                    channel=channel,
                    content=data,
                    filename=filename,
                    title=title,
                    alt_txt=alt_text[:1000],
                    initial_comment=comment,
                )
        except SlackApiError as exc:
            error = str(exc.response.get("error") or "unknown")
        except SlackRequestError as exc:
            log.warning("file upload refused: %s", exc)
            error = "upload_refused"
        except TimeoutError:
            error = "timeout"
        except aiohttp.ClientError as exc:
            log.warning("file upload failed: %s", exc)
            error = "unreachable"
        else:
            file = done.get("file")
            link = file.get("permalink") if isinstance(file, dict) else None
            return Uploaded(channel or "", permalink=str(link) if link else None)
        log.info("could not upload %s to %s: %s", filename, channel or user, error)
        return Uploaded(channel or user or "", error=error)

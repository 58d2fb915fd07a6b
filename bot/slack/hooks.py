"""Where replies may go: only Slack's own response_url hosts (and a local stand-in for Slack
that the settings name), posted to without following redirects.

A response_url arrives inside the request body, so it is only as trustworthy as the body:
checking the signature first is not enough once a bug or a leaked secret lets one through.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from ssl import SSLContext
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncRespond
from slack_sdk.models.attachments import Attachment
from slack_sdk.models.blocks import Block
from slack_sdk.webhook import WebhookResponse
from yarl import URL

log = logging.getLogger(__name__)

# Slack's response_urls live on hooks.slack.com; GovSlack's on hooks.slack-gov.com.
SLACK_HOOK_HOSTS = frozenset({"hooks.slack.com", "hooks.slack-gov.com"})
# The Web API hosts that mean "the real Slack": a SLACK_API_URL elsewhere is a stand-in.
_SLACK_API_HOSTS = frozenset({"slack.com", "slack-gov.com"})
TIMEOUT = 10.0  # seconds; Slack answers a response_url in well under one


class ForeignReplyUrl(ValueError):
    """A response_url outside the allowed hosts; nothing was sent to it."""

    def __init__(self, url: object) -> None:
        super().__init__(f"not a Slack response_url: {str(url)[:200]!r}")


@dataclass(frozen=True)
class ReplyHosts:
    """Slack's response_url hosts over https, plus exact `origins` (scheme://host:port)."""

    origins: frozenset[str] = frozenset()

    def allows(self, url: object) -> bool:
        """Whether a reply may be posted to `url` (any value from a payload)."""
        parsed = _parse(url)
        if parsed is None:
            return False
        if parsed.scheme == "https" and parsed.port == 443 and parsed.host in SLACK_HOOK_HOSTS:
            return True
        return _origin(parsed) in self.origins


def reply_hosts(api_url: str, *, extra: Iterable[str] = ()) -> ReplyHosts:
    """The hosts replies may go to when the Web API is at `api_url`: Slack's own, and the
    origin of `api_url` itself when that is a stand-in (the playground, a test double)."""
    origins = {origin for origin in map(_origin_of, extra) if origin}
    api = _parse(api_url)
    if api is not None and not _is_slack(api.host or ""):
        origins.add(_origin(api))
    return ReplyHosts(frozenset(origins))


def _is_slack(host: str) -> bool:
    return any(host == name or host.endswith("." + name) for name in _SLACK_API_HOSTS)


def _parse(url: object) -> URL | None:
    if not isinstance(url, str) or any(ch.isspace() or ord(ch) < 0x20 for ch in url):
        return None
    try:
        parsed = URL(url)
    except ValueError:
        return None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        return None
    if parsed.user is not None or parsed.password is not None:
        return None
    return parsed


def _origin(url: URL) -> str:
    return f"{url.scheme}://{url.host}:{url.port}"


def _origin_of(url: str) -> str | None:
    parsed = _parse(url)
    return _origin(parsed) if parsed is not None else None


class GuardedRespond(AsyncRespond):
    """Bolt's `respond`, sending only to allowed hosts and never following a redirect."""

    def __init__(
        self,
        *,
        response_url: str | None,
        hosts: ReplyHosts,
        proxy: str | None = None,
        ssl: SSLContext | None = None,
    ) -> None:
        super().__init__(response_url=response_url, proxy=proxy, ssl=ssl)
        self.hosts = hosts

    @classmethod
    def of(cls, respond: AsyncRespond, hosts: ReplyHosts | None = None) -> GuardedRespond:
        """`respond` itself when guarded; else a guarded one (Slack's own hosts by default)."""
        if isinstance(respond, GuardedRespond):
            return respond
        return cls(
            response_url=respond.response_url,
            hosts=hosts or ReplyHosts(),
            proxy=respond.proxy,
            ssl=respond.ssl,
        )

    async def __call__(
        self,
        text: str | dict[str, Any] = "",
        blocks: Sequence[dict[str, Any] | Block] | None = None,
        attachments: Sequence[dict[str, Any] | Attachment] | None = None,
        response_type: str | None = None,
        replace_original: bool | None = None,
        delete_original: bool | None = None,
        unfurl_links: bool | None = None,
        unfurl_media: bool | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> WebhookResponse:
        """Post the message to response_url; ForeignReplyUrl when it is not allowed."""
        url = self.response_url
        if url is None:
            raise ValueError("no response_url to reply to")
        if not self.hosts.allows(url):
            raise ForeignReplyUrl(url)
        if isinstance(text, dict):
            message = dict(text)
        else:
            options = {
                "blocks": [_plain(b) for b in blocks] if blocks else None,
                "attachments": [_plain(a) for a in attachments] if attachments else None,
                "response_type": response_type,
                "replace_original": replace_original,
                "delete_original": delete_original,
                "unfurl_links": unfurl_links,
                "unfurl_media": unfurl_media,
                "thread_ts": thread_ts,
                "metadata": metadata,
            }
            message = {"text": text} | {k: v for k, v in options.items() if v is not None}
        return await self._post(url, message)

    async def _post(self, url: str, message: dict[str, Any]) -> WebhookResponse:
        timeout = aiohttp.ClientTimeout(total=TIMEOUT)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(
                URL(url),
                data=json.dumps(message),
                headers={"Content-Type": "application/json;charset=utf-8"},
                # A redirect would take the reply to a host nobody checked.
                allow_redirects=False,
                proxy=self.proxy,
                ssl=self.ssl if self.ssl is not None else True,
            ) as answer,
        ):
            body = await answer.text(errors="replace")
            return WebhookResponse(
                url=url, status_code=answer.status, body=body, headers=dict(answer.headers)
            )


def _plain(item: dict[str, Any] | Block | Attachment) -> dict[str, Any]:
    return item if isinstance(item, dict) else item.to_dict()

"""CdnClient: one async method per CDN API action, signed, rate-limited and retried.

This is the edge where HTTP and API failures become `bot.errors`; nothing from httpx leaves it.
"""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from bot.cdn import responses, signing
from bot.cdn.credentials import Credentials
from bot.cdn.limiter import Limiter, Priority
from bot.cdn.transport import AiohttpTransport
from bot.core.tasks import IDS_PER_LOOKUP, CreatedTasks, RefreshQuota, TaskListRequest, TaskPage
from bot.errors import (
    CredentialsRejected,
    MalformedResponse,
    PermissionDenied,
    QuotaExceeded,
    RequestRejected,
    Throttled,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
    UpstreamUnreachable,
)

# API codes by their exact spelling, else by their family (the part before the first dot);
# any other code is a server failure from a 5xx answer, else a refusal of our parameters.
_BY_CODE: dict[str, type[UpstreamError]] = {
    "TooManyRequests": Throttled,
    "ServiceUnavailable": UpstreamUnavailable,
    "InternalError": UpstreamUnavailable,
    "InternalError.Unknown": UpstreamUnavailable,
    "SignatureDoesNotMatch": CredentialsRejected,
    "IncompleteSignature": CredentialsRejected,
    "SignatureNonceUsed": CredentialsRejected,
    "MissingSecurityToken": CredentialsRejected,
    "NoPermission": PermissionDenied,
    "OperationDenied": PermissionDenied,
    "SingleRequest.OverLimit": QuotaExceeded,
    "PreloadQueueFull": QuotaExceeded,
    # The refresh queue is full: like PreloadQueueFull, a capacity refusal, never a bad parameter.
    "TooMany.Refresh": QuotaExceeded,
}
_BY_FAMILY: dict[str, type[UpstreamError]] = {
    "Throttling": Throttled,
    "InvalidAccessKeyId": CredentialsRejected,
    "InvalidSecurityToken": CredentialsRejected,
    "InvalidTimeStamp": CredentialsRejected,
    "Forbidden": PermissionDenied,
    "QuotaExceeded": QuotaExceeded,
    "QuotaPerMinuteExceeded": QuotaExceeded,
}
# Retried for every action: the API never acted on these (refused them first, or never got them).
_ALWAYS_RETRIED = {Throttled}
_ALWAYS_RETRIED_CODES = {
    (UpstreamUnavailable, "ServiceUnavailable"),
    (CredentialsRejected, "SignatureNonceUsed"),
    (UpstreamUnreachable, "ConnectError"),
}
# Retried for reads only: a write may have been carried out before its answer was lost.
_RETRIED_READS = {UpstreamUnavailable, UpstreamUnreachable, UpstreamTimeout, MalformedResponse}
_WRITES = {"RefreshObjectCaches", "PushObjectCache"}


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with full-jitter exponential backoff."""

    max_retries: int = 3
    base_delay: float = 0.2
    max_delay: float = 3.0

    def delay(self, attempt: int, *, draw: float) -> float:
        """The pause before retry number `attempt` (0-based), `draw` being uniform in [0, 1)."""
        ceiling: float = self.base_delay * 2.0**attempt
        return min(self.max_delay, ceiling) * draw


@contextmanager
def _transport_errors(action: str) -> Iterator[None]:
    """httpx's failures to get an answer as bot.errors, httpx's exception kept as the cause."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise UpstreamTimeout(action, code=type(exc).__name__) from exc
    except httpx.HTTPError as exc:
        raise UpstreamUnreachable(action, code=type(exc).__name__) from exc


def _json(action: str, response: httpx.Response) -> dict[str, Any]:
    try:
        body = json.loads(response.content)
    except ValueError as exc:
        raise MalformedResponse(action, code="InvalidJson", status=response.status_code) from exc
    if not isinstance(body, dict):
        raise MalformedResponse(action, code="NotAnObject", status=response.status_code)
    return body


def _error_class(code: str, status: int) -> type[UpstreamError]:
    kind = _BY_CODE.get(code) or _BY_FAMILY.get(code.split(".", 1)[0])
    if kind is not None:
        return kind
    return UpstreamUnavailable if status >= 500 else RequestRejected


def _api_error(action: str, response: httpx.Response, body: Mapping[str, Any]) -> UpstreamError:
    code, status = str(body.get("Code", "")), response.status_code
    request_id = str(body.get("RequestId", ""))
    kind = _error_class(code, status)
    if kind is RequestRejected:
        message = str(body.get("Message", ""))
        return RequestRejected(
            action, code=code, message=message, request_id=request_id, status=status
        )
    if kind is Throttled:
        retry_after = _retry_after(response.headers.get("x-acs-retry-after"))
        return Throttled(
            action, code=code, request_id=request_id, status=status, retry_after=retry_after
        )
    return kind(action, code=code, request_id=request_id, status=status)


def _retry_after(milliseconds: str | None) -> float | None:
    try:
        return max(0.0, float(milliseconds) / 1000) if milliseconds is not None else None
    except ValueError:
        return None


def _retryable(error: UpstreamError, action: str) -> bool:
    kind = type(error)
    if kind in _ALWAYS_RETRIED or (kind, error.code) in _ALWAYS_RETRIED_CODES:
        return True
    return action not in _WRITES and kind in _RETRIED_READS


class CdnClient:
    """The Alibaba Cloud CDN API, one method per action, returning domain values."""

    def __init__(
        self,
        *,
        endpoint: str,
        credentials: Credentials,
        limiter: Limiter,
        signature_version: signing.SignatureVersion = "v3",
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        retry: RetryPolicy = RetryPolicy(),
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        # httpx's spelling of the base URL (host lower-cased, default port dropped): V3 signs it.
        self._endpoint = str(httpx.URL(endpoint.rstrip("/") + "/"))
        self._credentials = credentials
        self._limiter = limiter
        self._signature_version = signature_version
        self._retry = retry
        self._sleep = sleep
        self._now = now
        # The transport is used directly: httpx.AsyncClient's cookie jar, redirect and auth
        # machinery does nothing for a signed API and costs a fifth of the CPU of a call.
        self._transport = transport or AiohttpTransport()
        self._timeouts = {
            "connect": connect_timeout,
            "read": read_timeout,
            "write": read_timeout,
            "pool": connect_timeout,
        }

    async def __aenter__(self) -> CdnClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._transport.aclose()

    # -- actions -----------------------------------------------------------------------------

    async def describe_refresh_tasks(
        self,
        request: TaskListRequest,
        *,
        priority: Priority = Priority.INTERACTIVE,
        caller: str = "",
    ) -> TaskPage:
        """DescribeRefreshTasks: one page of tasks matching the request's filters."""
        action = "DescribeRefreshTasks"
        body = await self._call(action, request.api_params(), priority=priority, caller=caller)
        return responses.task_page(action, body, page_size=request.page_size)

    async def describe_refresh_task_by_id(
        self,
        task_ids: Sequence[str],
        *,
        priority: Priority = Priority.INTERACTIVE,
        caller: str = "",
    ) -> TaskPage:
        """DescribeRefreshTaskById: up to ten tasks by their IDs."""
        action = "DescribeRefreshTaskById"
        if not 1 <= len(task_ids) <= IDS_PER_LOOKUP:
            raise ValueError(f"between 1 and {IDS_PER_LOOKUP} task IDs per call")
        params = {"TaskId": ",".join(task_ids)}
        body = await self._call(action, params, priority=priority, caller=caller)
        return responses.task_page(action, body, page_size=len(task_ids))

    async def refresh_object_caches(
        self, paths: Sequence[str], *, object_type: str = "File", force: bool = False
    ) -> CreatedTasks:
        """RefreshObjectCaches: purge the given URLs, directories or one regex."""
        action = "RefreshObjectCaches"
        form = {"ObjectPath": "\n".join(paths), "ObjectType": object_type}
        if force:
            form["Force"] = "true"
        # In a form body, as the official SDK sends it: a thousand URLs do not fit a query.
        body = await self._call(action, {}, form=form, priority=Priority.INTERACTIVE)
        return responses.submission(action, body, id_field="RefreshTaskId")

    async def push_object_cache(
        self, paths: Sequence[str], *, area: str | None = None, l2_preload: bool = False
    ) -> CreatedTasks:
        """PushObjectCache: prefetch the given URLs."""
        action = "PushObjectCache"
        params = {}
        if area:
            params["Area"] = area
        if l2_preload:
            params["L2Preload"] = "true"
        # 100 URLs of up to 1024 characters outgrow a query string; RPC takes form fields too.
        form = {"ObjectPath": "\n".join(paths)}
        body = await self._call(action, params, form=form, priority=Priority.INTERACTIVE)
        return responses.submission(action, body, id_field="PushTaskId")

    async def describe_refresh_quota(
        self, *, priority: Priority = Priority.INTERACTIVE
    ) -> RefreshQuota:
        """DescribeRefreshQuota: today's quotas and what is left of them."""
        action = "DescribeRefreshQuota"
        return responses.refresh_quota(action, await self._call(action, {}, priority=priority))

    async def describe_user_domains(self, suffix: str, *, caller: str = "") -> tuple[str, ...]:
        """DescribeUserDomains: the account's domain names ending in `suffix` (one page of
        500, the most one call lists)."""
        action = "DescribeUserDomains"
        params = {"DomainName": suffix, "DomainSearchType": "suf_match", "PageSize": "500"}
        body = await self._call(action, params, priority=Priority.INTERACTIVE, caller=caller)
        return responses.domain_names(action, body)

    # -- transport ---------------------------------------------------------------------------

    async def _call(
        self,
        action: str,
        params: Mapping[str, str],
        *,
        priority: Priority,
        caller: str = "",
        form: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        attempt = 0
        while True:
            await self._limiter.acquire(action, priority, caller=caller)
            try:
                return await self._attempt(action, params, form=form or {})
            except UpstreamError as error:
                retry_after = 0.0
                if isinstance(error, Throttled):
                    retry_after = error.retry_after or 0.0
                    await self._limiter.throttled(action, retry_after=error.retry_after)
                if attempt >= self._retry.max_retries or not _retryable(error, action):
                    raise
                delay = self._retry.delay(attempt, draw=random.random())
                await self._sleep(max(delay, retry_after))
            attempt += 1

    async def _attempt(
        self, action: str, params: Mapping[str, str], *, form: Mapping[str, str]
    ) -> dict[str, Any]:
        method, url, headers, content = signing.signed_request(
            action,
            params,
            form=form,
            credentials=self._credentials,
            endpoint=self._endpoint,
            version=self._signature_version,
            now=self._now(),
            nonce=uuid.uuid4().hex,
        )
        request = httpx.Request(method, url, headers=headers, content=content)
        request.extensions["timeout"] = self._timeouts
        with _transport_errors(action):
            response = await self._transport.handle_async_request(request)
            try:
                await response.aread()
            finally:
                await response.aclose()
        body = _json(action, response)
        if response.is_success and "Code" not in body:
            return body
        raise _api_error(action, response, body)

"""The connection to the Redis replicas share, and whether it answers.

A command that fails marks the link down: the limiter and the cache then work in-process, and a
probe pings Redis every few seconds until it answers again. Each change is logged once, naming
the server by host, port and database only (never the URL, which may carry a password).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

from redis.asyncio import Redis
from redis.asyncio.connection import SSLConnection
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# Redis answers in well under a millisecond: a second of silence means it is gone, and a command
# waiting longer would hold up a person's reply for nothing.
TIMEOUT = 1.0
RETRY_EVERY = 5.0


class RedisLink:
    """One Redis client and whether it works; `status()` is what /healthz shows."""

    def __init__(
        self,
        client: Redis,
        *,
        now: Callable[[], datetime],
        retry_every: float = RETRY_EVERY,
    ) -> None:
        self.client = client
        self._now = now
        self._retry_every = retry_every
        self._down_since: datetime | None = None
        self._probe: asyncio.Task[None] | None = None

    @classmethod
    def from_url(
        cls, url: str, *, now: Callable[[], datetime], retry_every: float = RETRY_EVERY
    ) -> RedisLink:
        """A link to `url`: redis:// or rediss:// (TLS), with an ACL user and password if given."""
        client = Redis.from_url(
            url,
            decode_responses=True,
            socket_connect_timeout=TIMEOUT,
            socket_timeout=TIMEOUT,
            # One immediate retry replaces a pooled connection the server closed; more would
            # only delay the fallback.
            retry=Retry(NoBackoff(), 1),
        )
        return cls(client, now=now, retry_every=retry_every)

    @property
    def up(self) -> bool:
        """Whether shared state is in use (Redis answered last time it was asked)."""
        return self._down_since is None

    def where(self) -> str:
        """The server as logs name it: host, port and database, no credentials."""
        pool = self.client.connection_pool
        options = pool.connection_kwargs
        scheme = "rediss" if issubclass(pool.connection_class, SSLConnection) else "redis"
        host = options.get("path") or f"{options.get('host')}:{options.get('port')}"
        return f"{scheme}://{host}/{options.get('db', 0)}"

    def status(self) -> dict[str, str]:
        """{"redis": "ok"}, or {"redis": "unreachable", "since": ISO 8601 time}."""
        if self._down_since is None:
            return {"redis": "ok"}
        return {"redis": "unreachable", "since": self._down_since.isoformat()}

    def failed(self, error: Exception) -> None:
        """A command failed: work in-process until a probe gets an answer again."""
        if self._down_since is not None:
            return
        self._down_since = self._now()
        log.warning(
            "Redis at %s is unreachable (%s: %s): this replica keeps its own rate limits "
            "(a share of the account's) and cache until it answers; trying again every %g s",
            self.where(),
            type(error).__name__,
            error,
            self._retry_every,
        )
        self._probe = asyncio.get_running_loop().create_task(self._wait_for_answer())

    async def check(self) -> bool:
        """Ask Redis now (at start-up): whether it answers."""
        try:
            await self.client.ping()
        except RedisError as error:
            self.failed(error)
            return False
        return True

    async def _wait_for_answer(self) -> None:
        while True:
            await asyncio.sleep(self._retry_every)
            try:
                await self.client.ping()
            except RedisError:
                continue
            since, self._down_since = self._down_since, None
            log.warning(
                "Redis at %s answers again (unreachable since %s): rate limits and cache are "
                "shared with the other replicas again",
                self.where(),
                since.isoformat() if since else "?",
            )
            return

    async def aclose(self) -> None:
        """Stop probing and close the connections."""
        if self._probe is not None:
            self._probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe
        await self.client.aclose()

"""Where the bot's tasks come from: the CDN API behind its cache, as one TaskSource.

`find` answers a TaskQuery: plan it, run the calls through the cache concurrently, merge the
pages. A merged query runs in two rounds (the first page of every stream, then the pages their
totals show exist), each checked against the per-command call budget before anything is sent.
`failed` is what the watcher polls. `open_task_source` builds one from the settings: with
REDIS_URL, its rate limits and read cache are shared with every other replica through Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from pydantic import SecretStr

from bot.cdn.cache import Cached, CachedReads, ReadCache, ResponseCache
from bot.cdn.client import CdnClient, RetryPolicy
from bot.cdn.credentials import Credentials, resolve_credentials
from bot.cdn.emulator import Emulator, EmulatorConfig
from bot.cdn.emulator.demo import keep_busy
from bot.cdn.limiter import DOCUMENTED_RATES, Limiter, Priority, RateLimiter
from bot.cdn.shared.cache import SharedCache
from bot.cdn.shared.keys import KeySpace
from bot.cdn.shared.limiter import SharedLimiter
from bot.cdn.shared.link import RedisLink
from bot.cdn.signing import SignatureVersion
from bot.cdn.writes import Writer
from bot.core.plan import (
    CALL_BUDGET,
    DEFAULT_FAN_OUT,
    Answer,
    IdLookup,
    across_domains,
    check_budget,
    follow_up,
    merge_domains,
    merge_pages,
    plan_calls,
)
from bot.core.query import TaskQuery
from bot.core.tasks import MAX_PAGE_SIZE, ObjectType, Status, Task, TaskListRequest, TaskPage
from bot.core.watch import WATCHED_TYPES
from bot.errors import QueryTooCostly

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
DEMO_TASKS = 400
DEMO_EVERY = 20.0  # seconds between the embedded emulator's new demo tasks


@dataclass(frozen=True)
class TaskSource:
    """Task queries and failure scans against the CDN API; `clock` is the bot's one clock,
    whose now every plan is made at."""

    reads: CachedReads
    clock: Clock
    fan_out: Sequence[ObjectType] = DEFAULT_FAN_OUT
    emulated: bool = False
    budget: int = CALL_BUDGET
    writer: Writer | None = None  # refresh and prefetch, through the same client and limits
    shared: RedisLink | None = None  # the Redis that limits and cache are shared through

    def status(self) -> dict[str, str]:
        """For /healthz: {"redis": "off"} without REDIS_URL, else "ok", or "unreachable" with
        "since" (an ISO 8601 time) while this replica limits and caches on its own."""
        return self.shared.status() if self.shared is not None else {"redis": "off"}

    async def find(
        self,
        query: TaskQuery,
        *,
        fresh: bool = False,
        caller: str = "",
        priority: Priority = Priority.INTERACTIVE,
    ) -> Answer:
        """The page `query` asks for (a TaskFinder); `fresh` skips cached answers (the Refresh
        button); `caller` is the person waiting, who takes turns with others for the API's rate."""
        if query.domain is not None and query.domain.startswith("*."):
            return await self._across(query, fresh=fresh, caller=caller, priority=priority)
        plan = plan_calls(query, now=self.clock(), fan_out=self.fan_out)
        check_budget(plan, budget=self.budget)
        reads = self.reads

        async def run(call: TaskListRequest | IdLookup) -> Cached[TaskPage]:
            if isinstance(call, IdLookup):
                return await reads.describe_refresh_task_by_id(
                    call.task_ids, fresh=fresh, priority=priority, caller=caller
                )
            return await reads.describe_refresh_tasks(
                call, fresh=fresh, priority=priority, caller=caller
            )

        first = await _all(run(call) for call in plan.calls)
        grown = follow_up(plan, [answer.value for answer in first])
        check_budget(grown, budget=self.budget)
        answers = first + await _all(run(call) for call in grown.calls[len(plan.calls) :])
        page = merge_pages(grown, [answer.value for answer in answers])
        return Answer(page, grown, max((answer.age for answer in answers), default=0.0))

    async def _across(
        self, query: TaskQuery, *, fresh: bool, caller: str, priority: Priority
    ) -> Answer:
        """`domain:*.x`: the account's domains under x, each queried, the pages merged."""
        assert query.domain is not None
        listed = await self.reads.describe_user_domains(query.domain[2:], caller=caller)
        parts = across_domains(query, listed)
        now = self.clock()
        calls = sum(len(plan_calls(part, now=now, fan_out=self.fan_out).calls) for part in parts)
        if calls > self.budget:
            raise QueryTooCostly(calls=calls, budget=self.budget)
        running = [
            asyncio.ensure_future(self.find(part, fresh=fresh, caller=caller, priority=priority))
            for part in parts
        ]
        try:
            answers = await asyncio.gather(*running)
        except BaseException:  # one domain failed: the others' calls stop too
            for task in running:
                task.cancel()
            raise
        return merge_domains(query, answers)

    async def failed(
        self, start: datetime, end: datetime, *, types: Sequence[ObjectType] = WATCHED_TYPES
    ) -> list[Task]:
        """Every failed task created in [start, end] (the watcher's FetchFailures), one paged
        stream per type, as a background caller: the number of calls depends on the failures,
        never on who is subscribed."""
        reads = self.reads

        async def stream(kind: ObjectType) -> list[Task]:
            found: list[Task] = []
            number = 1
            while True:
                request = TaskListRequest(
                    object_type=kind,
                    status=Status.FAILED,
                    start_time=start,
                    end_time=end,
                    page_number=number,
                    page_size=MAX_PAGE_SIZE,
                )
                cached = await reads.describe_refresh_tasks(
                    request, fresh=True, priority=Priority.BACKGROUND
                )
                found += cached.value.tasks
                if number * MAX_PAGE_SIZE >= cached.value.total_count or not cached.value.tasks:
                    return found
                number += 1

        streams = await asyncio.gather(*(stream(kind) for kind in dict.fromkeys(types)))
        return [task for tasks in streams for task in tasks]


async def _all(calls: Iterable[Awaitable[Cached[TaskPage]]]) -> list[Cached[TaskPage]]:
    """Every call's answer; the first failure cancels the calls still waiting."""
    running = [asyncio.ensure_future(call) for call in calls]
    try:
        return list(await asyncio.gather(*running))
    except BaseException:
        for task in running:
            task.cancel()
        raise


class SourceSettings(Protocol):
    """The settings a TaskSource is built from (bot.config.Settings, which bot.cdn never
    imports)."""

    alibaba_cloud_access_key_id: str | None
    alibaba_cloud_access_key_secret: SecretStr | None
    alibaba_cloud_security_token: SecretStr | None
    alibaba_cloud_profile: str | None
    alibaba_cloud_config_file: Path
    cdn_endpoint: str
    cdn_signature_version: SignatureVersion
    cdn_qps: float
    cdn_connect_timeout: float
    cdn_read_timeout: float
    cdn_max_retries: int
    cdn_fanout_types: tuple[ObjectType, ...]
    cache_ttl: float
    cache_size: int
    redis_url: SecretStr | None
    redis_key_prefix: str
    shared_replicas: int


def _credentials(settings: SourceSettings) -> Credentials | None:
    secret, token = settings.alibaba_cloud_access_key_secret, settings.alibaba_cloud_security_token
    return resolve_credentials(
        settings.alibaba_cloud_access_key_id,
        secret.get_secret_value() if secret else None,
        security_token=token.get_secret_value() if token else None,
        profile=settings.alibaba_cloud_profile,
        config_file=settings.alibaba_cloud_config_file,
    )


def account_limits(listing_qps: float) -> dict[str, float]:
    """The account's rates: CDN_QPS sets the listing's; every other action keeps its documented
    one."""
    return {**DOCUMENTED_RATES, "DescribeRefreshTasks": listing_qps}


def account_limiter(listing_qps: float) -> RateLimiter:
    """The account's limiter in this process alone."""
    return RateLimiter(rates=account_limits(listing_qps))


@contextlib.asynccontextmanager
async def _limits_and_cache(
    settings: SourceSettings, *, access_key_id: str, endpoint: str, clock: Clock
) -> AsyncIterator[tuple[Limiter, ReadCache, RedisLink | None]]:
    """The account's limiter and read cache: shared through Redis by every replica when
    REDIS_URL is set (and the link to it), this process's own otherwise."""
    if settings.redis_url is None:
        cache = ResponseCache(ttl=settings.cache_ttl, maxsize=settings.cache_size)
        yield account_limiter(settings.cdn_qps), cache, None
        return
    link = RedisLink.from_url(settings.redis_url.get_secret_value(), now=clock)
    keys = KeySpace.of(settings.redis_key_prefix, access_key_id, endpoint)
    limits = account_limits(settings.cdn_qps)
    limiter = SharedLimiter(link, keys, limits, replicas=settings.shared_replicas)
    fallback = ResponseCache(ttl=settings.cache_ttl, maxsize=settings.cache_size)
    shared = SharedCache(link, keys, ttl=settings.cache_ttl, fallback=fallback)
    if await link.check():  # else it has said why, and keeps trying
        log.info("Rate limits and read cache shared with other replicas at %s", link.where())
    try:
        yield limiter, shared, link
    finally:
        await limiter.aclose()
        await link.aclose()


@contextlib.asynccontextmanager
async def open_task_source(
    settings: SourceSettings, *, clock: Clock, demo_traffic: bool = False
) -> AsyncIterator[TaskSource]:
    """The configured account's tasks, or an embedded emulator's when there is none (with
    `demo_traffic`, one that keeps getting new tasks, some of them failing)."""
    credentials = _credentials(settings)
    endpoint = settings.cdn_endpoint
    emulator: Emulator | None = None
    if credentials is None:
        # Paths with /broken/ in them fail, so notifications can be tried out locally too.
        # Demo tasks finish in seconds, so a newcomer sees a refresh through within a minute.
        config = EmulatorConfig(seed=DEMO_TASKS, fail_pattern="/broken/", task_seconds=5)
        emulator = Emulator(config)
        endpoint = await emulator.start()
        credentials = Credentials(config.access_key_id, config.access_key_secret)
        log.warning(
            "*** No Alibaba Cloud credentials configured: using the built-in CDN emulator "
            "at %s (AccessKeyId %s) with %d demo tasks. Set ALIBABA_CLOUD_ACCESS_KEY_ID and "
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET to use your account.%s ***",
            endpoint,
            config.access_key_id,
            DEMO_TASKS,
            # The same demo history, but a running bot's emulator has its own later tasks.
            ""
            if demo_traffic
            else " This emulator is this command's own: tasks made in a "
            "running bot's playground are not in it.",
        )
    try:
        async with _limits_and_cache(
            settings, access_key_id=credentials.access_key_id, endpoint=endpoint, clock=clock
        ) as (limiter, cache, link):
            client = CdnClient(
                endpoint=endpoint,
                credentials=credentials,
                limiter=limiter,
                signature_version=settings.cdn_signature_version,
                connect_timeout=settings.cdn_connect_timeout,
                read_timeout=settings.cdn_read_timeout,
                retry=RetryPolicy(max_retries=settings.cdn_max_retries),
                now=clock,
            )
            busy: asyncio.Task[None] | None = None
            if emulator is not None and demo_traffic:
                busy = asyncio.create_task(
                    keep_busy(emulator.ledger, clock=emulator.clock, every=DEMO_EVERY)
                )
                log.info("Demo: a new refresh task every %g s, every third one failing", DEMO_EVERY)
            try:
                yield TaskSource(
                    CachedReads(client, cache),
                    clock=clock,
                    fan_out=settings.cdn_fanout_types,
                    emulated=emulator is not None,
                    writer=Writer(client),
                    shared=link,
                )
            finally:
                if busy is not None:
                    busy.cancel()
                await client.aclose()
    finally:
        if emulator is not None:
            await emulator.stop()

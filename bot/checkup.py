"""How the CDN API looks from here: the start-up check as a diagnosis rather than a gate.

The bot serves whatever the check finds; a person asking meets the worded error, the log and
/healthz say what is wrong, and the check runs again until the API answers, so the same process
recovers on its own. Every real call the bot makes also counts as a check.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, ParamSpec, TypeVar

from bot import wording
from bot.cdn.limiter import Priority
from bot.cdn.source import TaskSource
from bot.core.tasks import TaskListRequest
from bot.errors import (
    BotError,
    CredentialsRejected,
    MalformedResponse,
    PermissionDenied,
    UpstreamError,
    UpstreamUnavailable,
    UpstreamUnreachable,
)

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")

State = Literal["checking", "ok", "unreachable", "unavailable", "rejected", "forbidden"]
# While unhappy, checks come quickly at first and then settle at the slower pace.
FIRST_RETRY = 2.0
MAX_RETRY = 60.0
# While fine, an occasional check keeps /healthz honest when nobody is asking.
HEALTHY_EVERY = 300.0
QUERY_ACTION = "DescribeRefreshTasks"


def state_of(error: BotError) -> State | None:
    """What `error` says about the API itself; None when it says nothing (throttling, a refused
    parameter, a used-up quota: the API answered, so it is up)."""
    if isinstance(error, UpstreamUnreachable):
        return "unreachable"
    if isinstance(error, UpstreamUnavailable | MalformedResponse):
        return "unavailable"
    if isinstance(error, CredentialsRejected):
        return "rejected"
    if isinstance(error, PermissionDenied):
        # Only the listing serves every query; a missing grant for the quota, a lookup by ID or
        # a write is that feature's problem, told to whoever uses it.
        return "forbidden" if error.action == QUERY_ACTION else None
    return None


async def probe(source: TaskSource) -> str:
    """What the CDN API says now, in words for the log; raises what a query would meet.

    Queries need only DescribeRefreshTasks, so that call decides; the quota is a bonus that a
    least-privilege RAM policy may not grant."""
    request = TaskListRequest(page_size=1)
    reads = source.reads
    page = (
        await reads.describe_refresh_tasks(request, fresh=True, priority=Priority.BACKGROUND)
    ).value
    try:
        quota = (await reads.describe_refresh_quota(fresh=True)).value
    except PermissionDenied:
        left = "the refresh quota is not readable (only refresh and prefetch need it)"
    except UpstreamError as error:
        left = f"the refresh quota could not be read ({wording.describe(error)})"
    else:
        left = f"{quota.url_remain} of {quota.url_quota} URL refreshes left today"
    return f"CDN API reachable: {page.total_count} tasks in the last 3 days; {left}"


@dataclass(frozen=True)
class CdnStatus:
    """The last word on the API: its state, when it was learned, and the problem in words."""

    state: State = "checking"
    checked_at: datetime | None = None
    problem: str = ""

    def report(self) -> dict[str, object]:
        """The JSON-ready view /healthz shows (plain wording: never a secret or an API message)."""
        report: dict[str, object] = {
            "state": self.state,
            "checked_at": self.checked_at.isoformat() if self.checked_at else None,
        }
        if self.problem:
            report["problem"] = self.problem
        return report


class Checkup:
    """Runs `probe` now and again, and learns from every call the bot makes anyway."""

    def __init__(
        self,
        probe: Callable[[], Awaitable[str]],
        *,
        clock: Callable[[], datetime],
        first_retry: float = FIRST_RETRY,
        max_retry: float = MAX_RETRY,
        healthy_every: float = HEALTHY_EVERY,
    ) -> None:
        self._probe = probe
        self._clock = clock
        self._first_retry = first_retry
        self._max_retry = max_retry
        self._healthy_every = healthy_every
        self.status = CdnStatus()
        self.answered = False  # the API answered at least once: the bot is ready
        self._probed = False

    def succeeded(self, found: str = "") -> None:
        """A call just got a live answer (`found`: what the probe saw, for the log)."""
        before = self.status.state
        self.answered = True
        self.status = CdnStatus("ok", self._clock())
        if found and not self._probed:
            self._probed = True
            log.info("%s", found)
        elif before not in ("ok", "checking"):
            log.info("Alibaba Cloud CDN API answering again")

    def failed(self, error: BotError) -> None:
        """A call just failed with `error`; only failures that say the API is unusable count."""
        state = state_of(error)
        if state is None:
            return
        problem = wording.describe(error)
        if (state, problem) != (self.status.state, self.status.problem):
            log.warning(
                "CDN API check: %s. %s The bot keeps serving and checks again.", state, problem
            )
        self.status = CdnStatus(state, self._clock(), problem)

    def observing(
        self, call: Callable[P, Awaitable[T]], *, live: Callable[[T], bool] = lambda _: True
    ) -> Callable[P, Coroutine[Any, Any, T]]:
        """`call`, learning from each outcome; `live` tells a fresh answer from a cached one."""

        async def observed(*args: P.args, **kwargs: P.kwargs) -> T:
            try:
                result = await call(*args, **kwargs)
            except BotError as error:
                self.failed(error)
                raise
            if live(result):
                self.succeeded()
            return result

        return observed

    async def check(self) -> None:
        """Run the probe once and learn from it."""
        try:
            found = await self._probe()
        except BotError as error:
            self.failed(error)
        else:
            self.succeeded(found)

    async def run(self, stop: asyncio.Event) -> None:
        """Check now, then again until `stop`: soon and backing off while the API is unhappy,
        rarely while it is fine."""
        retry = self._first_retry
        while not stop.is_set():
            try:
                await self.check()
            except Exception:
                log.exception("the CDN check crashed; will check again")
            if self.status.state == "ok":
                pause, retry = self._healthy_every, self._first_retry
            else:
                pause, retry = retry, min(retry * 2, self._max_retry)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)

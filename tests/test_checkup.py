"""The CDN check as a diagnosis: what each failure says about the API, and recovering alone."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.checkup import Checkup, state_of
from bot.errors import (
    CredentialsRejected,
    MalformedResponse,
    PermissionDenied,
    QuotaExceeded,
    RequestRejected,
    Throttled,
    UpstreamTimeout,
    UpstreamUnavailable,
    UpstreamUnreachable,
)
from tests.conftest import wait_until


@pytest.mark.parametrize(
    ("error", "state"),
    [
        (UpstreamUnreachable("DescribeRefreshTasks"), "unreachable"),
        (UpstreamTimeout("DescribeRefreshTasks"), "unreachable"),
        (UpstreamUnavailable("DescribeRefreshTasks", code="InternalError"), "unavailable"),
        (MalformedResponse("DescribeRefreshTasks"), "unavailable"),
        (CredentialsRejected("DescribeRefreshTasks", code="SignatureDoesNotMatch"), "rejected"),
        (PermissionDenied("DescribeRefreshTasks", code="Forbidden.RAM"), "forbidden"),
        # Other grants belong to their own features: the API still serves queries.
        (PermissionDenied("DescribeRefreshQuota", code="Forbidden.RAM"), None),
        (PermissionDenied("DescribeRefreshTaskById", code="NoPermission"), None),
        (PermissionDenied("RefreshObjectCaches", code="Forbidden.RAM"), None),
        # The API answered: it is up, whatever the person asked.
        (Throttled("DescribeRefreshTasks", code="Throttling.User"), None),
        (RequestRejected("DescribeRefreshTasks", code="InvalidTime", message="x"), None),
        (QuotaExceeded("RefreshObjectCaches", code="QuotaExceeded.Refresh"), None),
    ],
)
def test_what_each_failure_says_about_the_api(error, state):
    assert state_of(error) == state


async def test_calls_teach_the_checkup_without_swallowing_errors(clock):
    outcomes: list[object] = [UpstreamUnreachable("DescribeRefreshTasks"), "cached", "live"]

    async def call(n: int) -> str:
        outcome = outcomes[n]
        if isinstance(outcome, Exception):
            raise outcome
        return str(outcome)

    async def never() -> str:
        raise AssertionError("no probe in this test")

    checkup = Checkup(never, clock=clock)
    observed = checkup.observing(call, live=lambda answer: answer == "live")
    assert checkup.status.report() == {"state": "checking", "checked_at": None}
    with pytest.raises(UpstreamUnreachable):
        await observed(0)
    assert checkup.status.state == "unreachable" and not checkup.answered
    assert "cannot reach" in checkup.status.report()["problem"]
    assert await observed(1) == "cached"  # a cached answer proves nothing about the API now
    assert checkup.status.state == "unreachable"
    assert await observed(2) == "live"
    assert checkup.status.report() == {"state": "ok", "checked_at": clock().isoformat()}
    assert checkup.answered


async def test_the_check_runs_again_until_the_api_answers(clock, caplog):
    failures = [CredentialsRejected("DescribeRefreshTasks", code="SignatureDoesNotMatch")] * 3
    probes = 0

    async def probe() -> str:
        nonlocal probes
        probes += 1
        if failures:
            raise failures.pop()
        return "CDN API reachable: 3 tasks"

    caplog.set_level(logging.INFO, logger="bot.checkup")
    checkup = Checkup(probe, clock=clock, first_retry=0.01, max_retry=0.02, healthy_every=60)
    stop = asyncio.Event()
    running = asyncio.create_task(checkup.run(stop))
    await wait_until(lambda: checkup.status.state == "ok")
    stop.set()
    await asyncio.wait_for(running, timeout=5)
    assert probes == 4 and checkup.answered
    logged = [record.getMessage() for record in caplog.records if record.name == "bot.checkup"]
    # Said once when it went wrong (not at every retry), once when it came right.
    assert len([line for line in logged if "credentials were rejected" in line]) == 1
    assert logged[-1] == "CDN API reachable: 3 tasks"

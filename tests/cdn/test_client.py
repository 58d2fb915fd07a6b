"""CdnClient against the emulator over HTTP, and against byte-level faults it cannot make."""

from __future__ import annotations

import socket
from datetime import timedelta

import httpx
import pytest

from bot.cdn.client import CdnClient, RetryPolicy
from bot.cdn.credentials import Credentials
from bot.cdn.emulator import Emulator
from bot.cdn.emulator.faults import ApiFault
from bot.cdn.limiter import RateLimiter
from bot.core.tasks import ObjectType, Status, TaskListRequest
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
from tests.conftest import KEY_ID, emulator_config, make_client


@pytest.mark.parametrize("version", ["v3", "v1"])
async def test_every_action_round_trips(emulator, clock, version):
    async with make_client(emulator, clock, signature_version=version) as cdn:
        refreshed = await cdn.refresh_object_caches(
            ["https://a.example.com/x y.png", "https://a.example.com/中文.js"]
        )
        directory = await cdn.refresh_object_caches(
            ["https://a.example.com/img/"], object_type="Directory", force=True
        )
        pushed = await cdn.push_object_cache(["https://b.example.com/big.iso"], area="overseas")
        assert len(refreshed.task_ids) == 2 and refreshed.request_id

        clock.advance(seconds=30)
        page = await cdn.describe_refresh_tasks(
            TaskListRequest(domain_name="a.example.com", object_type=ObjectType.FILE)
        )
        assert page.total_count == 2
        # Newest first: created in the same second, the later ID comes first.
        assert [task.object_path for task in page.tasks] == [
            "https://a.example.com/中文.js",
            "https://a.example.com/x y.png",
        ]
        assert all(task.status is Status.REFRESHING for task in page.tasks)
        assert all(0 < task.progress < 100 for task in page.tasks)
        assert page.tasks[0].created.tzinfo is not None

        by_id = await cdn.describe_refresh_task_by_id([*directory.task_ids, *pushed.task_ids])
        assert {task.object_type for task in by_id.tasks} == {
            ObjectType.DIRECTORY,
            ObjectType.PRELOAD,
        }
        quota = await cdn.describe_refresh_quota()
        assert quota.url_quota - quota.url_remain == 2
        assert quota.dir_quota - quota.dir_remain == 1
        assert quota.preload_quota - quota.preload_remain == 1


async def test_finished_tasks_complete_or_fail_with_reason(clock):
    server = Emulator(emulator_config(clock, fail_pattern=r"/broken/"))
    await server.start()
    try:
        async with make_client(server, clock) as cdn:
            await cdn.refresh_object_caches(
                ["https://c.example.com/broken/a", "https://c.example.com/ok"]
            )
            clock.advance(minutes=2)
            page = await cdn.describe_refresh_tasks(TaskListRequest())
    finally:
        await server.stop()
    states = {task.object_path: task for task in page.tasks}
    assert states["https://c.example.com/ok"].status is Status.COMPLETE
    assert states["https://c.example.com/ok"].progress == 100
    failed = states["https://c.example.com/broken/a"]
    assert failed.status is Status.FAILED and failed.reason is not None


async def test_sts_credentials(clock):
    server = Emulator(emulator_config(clock, security_token="tok"))
    await server.start()
    try:
        for version in ("v3", "v1"):
            cdn = CdnClient(
                endpoint=server.url,
                credentials=Credentials(KEY_ID, "test-secret", "tok"),
                limiter=RateLimiter(default_rate=1000, rates={}),
                signature_version=version,
                now=clock,
            )
            async with cdn:
                assert (await cdn.describe_refresh_tasks(TaskListRequest())).total_count == 0
    finally:
        await server.stop()


async def test_rejected_parameters_carry_the_api_code(client):
    with pytest.raises(RequestRejected) as failure:
        await client.describe_refresh_tasks(TaskListRequest(status=Status.FAILED))
    assert failure.value.code == "MissingParameter.ObjectType"
    assert failure.value.request_id


@pytest.mark.parametrize("version", ["v3", "v1"])
async def test_wrong_secret_is_credentials_rejected_without_echo(emulator, clock, version):
    async with make_client(emulator, clock, secret="wrong", signature_version=version) as cdn:
        with pytest.raises(CredentialsRejected) as failure:
            await cdn.describe_refresh_tasks(TaskListRequest())
    assert failure.value.code == "SignatureDoesNotMatch"
    shown = f"{failure.value} {failure.value!r} {vars(failure.value)}"
    assert KEY_ID not in shown and "string to sign" not in shown


async def test_skewed_clock_is_credentials_rejected(emulator, clock):
    async with make_client(emulator, clock) as cdn:
        clock.advance(minutes=20)  # the client's clock runs 20 minutes ahead of the API's
        emulator.gateway._clock = lambda: clock.now - timedelta(minutes=20)
        with pytest.raises(CredentialsRejected) as failure:
            await cdn.describe_refresh_quota()
    assert failure.value.code == "InvalidTimeStamp.Expired"


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("Forbidden.RAM", PermissionDenied),
        ("NoPermission", PermissionDenied),
        ("InvalidAccessKeyId.Inactive", CredentialsRejected),
        ("InvalidTimeStamp.Format", CredentialsRejected),
        ("InvalidSecurityToken.Expired", CredentialsRejected),
    ],
)
async def test_access_problems(emulator, client, code, error):
    emulator.script("DescribeRefreshTasks", ApiFault(403, code, "denied"))
    with pytest.raises(error) as failure:
        await client.describe_refresh_tasks(TaskListRequest())
    assert failure.value.code == code


async def test_quota_exhausted(emulator, client):
    emulator.ledger.quotas["Url"] = 1
    await client.refresh_object_caches(["https://q.example.com/1"])
    with pytest.raises(QuotaExceeded) as failure:
        await client.refresh_object_caches(["https://q.example.com/2"])
    assert failure.value.code == "QuotaExceeded.Refresh"
    with pytest.raises(QuotaExceeded):
        await client.push_object_cache([f"https://q.example.com/{n}" for n in range(101)])


async def test_throttling_retried_with_fresh_nonces(emulator, clock):
    limiter = RateLimiter(default_rate=1000, rates={})
    emulator.script("DescribeRefreshTasks", *[ApiFault(400, "Throttling.User", "slow")] * 2)
    async with make_client(emulator, clock, limiter=limiter) as cdn:
        page = await cdn.describe_refresh_tasks(TaskListRequest())
    assert page.total_count == 0
    calls = emulator.calls_of("DescribeRefreshTasks")
    assert [call.code for call in calls] == ["Throttling.User", "Throttling.User", ""]
    assert len({call.nonce for call in calls}) == 3
    assert limiter.rate("DescribeRefreshTasks") < 1000


async def test_throttling_that_persists_surfaces(emulator, client):
    emulator.script("DescribeRefreshTasks", *[ApiFault(503, "ServiceUnavailable", "x")] * 1)
    emulator.script("DescribeRefreshTasks", *[ApiFault(400, "Throttling.User", "x")] * 3)
    with pytest.raises(Throttled):
        await client.describe_refresh_tasks(TaskListRequest())
    assert len(emulator.calls_of("DescribeRefreshTasks")) == 4


async def test_internal_error_retried_for_reads_not_writes(emulator, client):
    emulator.script("DescribeRefreshQuota", ApiFault(500, "InternalError", "oops"))
    assert (await client.describe_refresh_quota()).url_quota > 0
    emulator.script("RefreshObjectCaches", ApiFault(500, "InternalError", "oops"))
    with pytest.raises(UpstreamUnavailable):
        await client.refresh_object_caches(["https://w.example.com/a"])
    assert len(emulator.calls_of("RefreshObjectCaches")) == 1


async def test_server_errors_exhaust_retries(emulator, client):
    emulator.script("DescribeRefreshTasks", *[ApiFault(500, "InternalError", "oops")] * 4)
    with pytest.raises(UpstreamUnavailable) as failure:
        await client.describe_refresh_tasks(TaskListRequest())
    assert failure.value.code == "InternalError"
    assert len(emulator.calls_of("DescribeRefreshTasks")) == 4


async def test_nobody_listening_is_unreachable():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cdn = CdnClient(
        endpoint=f"http://127.0.0.1:{port}",
        credentials=Credentials("a", "b"),
        limiter=RateLimiter(),
        retry=RetryPolicy(max_retries=2, base_delay=0),
    )
    async with cdn:
        with pytest.raises(UpstreamUnreachable) as failure:
            await cdn.describe_refresh_quota()
    assert not isinstance(failure.value, UpstreamTimeout)
    assert failure.value.code == "ConnectError"


def mock_client(handler, *, sleeps=None, max_retries=2):
    async def record(seconds):
        if sleeps is not None:
            sleeps.append(seconds)

    return CdnClient(
        endpoint="http://cdn.test",
        credentials=Credentials("a", "b"),
        limiter=RateLimiter(default_rate=1000, rates={}),
        retry=RetryPolicy(max_retries=max_retries, base_delay=0.01),
        transport=httpx.MockTransport(handler),
        sleep=record,
    )


async def test_timeout_is_upstream_timeout():
    def handler(request):
        raise httpx.ReadTimeout("slow", request=request)

    async with mock_client(handler) as cdn:
        with pytest.raises(UpstreamTimeout) as failure:
            await cdn.describe_refresh_quota()
    assert failure.value.code == "ReadTimeout"
    assert isinstance(failure.value.__cause__, httpx.ReadTimeout)


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        (400, "Throttling", Throttled),
        (400, "Throttling.User", Throttled),
        (429, "TooManyRequests", Throttled),
        (503, "ServiceUnavailable", UpstreamUnavailable),
        (500, "InternalError.Unknown", UpstreamUnavailable),
        (502, "SomethingNew", UpstreamUnavailable),
        (400, "InternalError.Other", RequestRejected),
        (400, "SignatureDoesNotMatch", CredentialsRejected),
        (400, "InvalidTimeStamp.Expired", CredentialsRejected),
        (403, "Forbidden", PermissionDenied),
        (403, "OperationDenied", PermissionDenied),
        (400, "QuotaPerMinuteExceeded.Refresh", QuotaExceeded),
        (400, "SingleRequest.OverLimit", QuotaExceeded),
        (400, "TooMany.Refresh", QuotaExceeded),
        (400, "PreloadQueueFull", QuotaExceeded),
        (400, "InvalidObjectPath.Malformed", RequestRejected),
        (400, "SingleRequest.Other", RequestRejected),
        (400, "InvalidParameter", RequestRejected),
    ],
)
async def test_api_codes_become_their_error_class(status, code, error):
    def handler(_request):
        return httpx.Response(status, json={"Code": code, "Message": "m", "RequestId": "r"})

    async with mock_client(handler, max_retries=0) as cdn:
        with pytest.raises(error) as failure:
            await cdn.describe_refresh_quota()
    assert type(failure.value) is error
    assert (failure.value.code, failure.value.request_id, failure.value.status) == (
        code,
        "r",
        status,
    )


@pytest.mark.parametrize(
    ("body", "attempts"),
    [
        # Not JSON at all: a garbled or cut answer, worth asking again.
        (b'{"RequestId": "x", "Tasks": {"CDNTask": [{"TaskId": "1"', 3),
        (b"<html>502 Bad Gateway</html>", 3),
        (b"[1, 2, 3]", 3),
        # JSON of the wrong shape: asking again gives the same answer.
        (b'{"RequestId": "x", "Tasks": {"CDNTask": [{"TaskId": "1"}]}}', 1),
        (b'{"RequestId": "x", "TotalCount": "lots", "Tasks": {"CDNTask": []}}', 1),
        (b'{"RequestId": "x", "Tasks": "nope"}', 1),
    ],
    ids=["truncated", "html", "array", "task-missing-fields", "bad-count", "bad-tasks"],
)
async def test_malformed_bodies_are_upstream_errors(body, attempts):
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(200, content=body)

    async with mock_client(handler) as cdn:
        with pytest.raises(MalformedResponse):
            await cdn.describe_refresh_tasks(TaskListRequest())
    assert len(calls) == attempts


async def test_retry_after_header_is_honoured():
    answers = [
        httpx.Response(
            400,
            json={"Code": "Throttling.Api", "RequestId": "r"},
            headers={"x-acs-retry-after": "1500"},
        ),
        httpx.Response(200, json={"RequestId": "r2", "TotalCount": 0, "Tasks": []}),
    ]
    sleeps: list[float] = []
    async with mock_client(lambda _request: answers.pop(0), sleeps=sleeps) as cdn:
        page = await cdn.describe_refresh_task_by_id(["1"])
    assert page.total_count == 0
    assert sleeps == [1.5]


async def test_persistent_throttling_says_how_long_the_api_asked_to_wait():
    def handler(_request):
        headers = {"x-acs-retry-after": "250"}
        return httpx.Response(400, json={"Code": "Throttling.Api"}, headers=headers)

    async with mock_client(handler, max_retries=1) as cdn:
        with pytest.raises(Throttled) as failure:
            await cdn.describe_refresh_quota()
    assert failure.value.retry_after == 0.25


async def test_backoff_is_jittered_and_bounded():
    policy = RetryPolicy(max_retries=5, base_delay=0.2, max_delay=1.0)
    assert policy.delay(0, draw=0.5) == pytest.approx(0.1)
    assert policy.delay(10, draw=0.999) <= 1.0
    assert policy.delay(3, draw=0.0) == 0.0


async def test_lookup_by_id_takes_one_to_ten(client):
    with pytest.raises(ValueError):
        await client.describe_refresh_task_by_id([str(n) for n in range(11)])
    with pytest.raises(ValueError):
        await client.describe_refresh_task_by_id([])


@pytest.mark.parametrize("version", ["v3", "v1"])
async def test_the_largest_submissions_fit(emulator, clock, version):
    async with make_client(emulator, clock, signature_version=version) as cdn:
        refreshed = await cdn.refresh_object_caches(
            [f"https://big.example.com/{n}/ä b.js" for n in range(1000)]
        )
        # The API takes paths of up to 1,024 characters.
        long_paths = [f"https://big.example.com/{n:03d}/".ljust(1024, "x") for n in range(100)]
        pushed = await cdn.push_object_cache(long_paths)
    assert len(refreshed.task_ids) == 1000 and len(pushed.task_ids) == 100
    assert emulator.ledger.visible(clock())[0].object_path == long_paths[-1]

"""The write side against the emulator: quota, split submissions, partial failures, progress."""

from __future__ import annotations

from bot.cdn.writes import Writer
from bot.core.submission import Action, Kind, Submission, parse_submission, quota_left
from bot.errors import QuotaExceeded
from tests.conftest import make_client


def urls(count: int, host: str = "a.example.com") -> str:
    return " ".join(f"https://{host}/{n}.js" for n in range(count))


async def test_a_2500_url_refresh_goes_out_in_three_calls(emulator, clock):
    async with make_client(emulator, clock) as cdn:
        writer = Writer(cdn)
        before = quota_left(await writer.quota(), parse_submission(Action.REFRESH, urls(1)))
        submitted = await writer.submit(parse_submission(Action.REFRESH, urls(2500)))
        after = await writer.quota()
    assert [len(o.paths) for o in submitted.outcomes] == [1000, 1000, 500]
    assert len(submitted.task_ids) == 2500 and not submitted.refused
    assert len(emulator.calls_of("RefreshObjectCaches")) == 3
    assert after.url_remain == before - 2500


async def test_a_refusal_stops_the_rest_and_says_which_paths_went_in(emulator, clock):
    emulator.ledger.quotas["Url"] = 1500
    async with make_client(emulator, clock) as cdn:
        submitted = await Writer(cdn).submit(parse_submission(Action.REFRESH, urls(2500)))
    first, second, third = submitted.outcomes
    assert first.error is None and len(first.task_ids) == 1000
    assert isinstance(second.error, QuotaExceeded) and second.sent
    assert third.error is second.error and not third.sent
    assert len(submitted.accepted) == 1000 and len(submitted.refused) == 1500
    assert len(emulator.calls_of("RefreshObjectCaches")) == 2


async def test_kinds_and_options_reach_the_api(emulator, clock):
    async with make_client(emulator, clock) as cdn:
        writer = Writer(cdn)
        await writer.submit(
            parse_submission(Action.REFRESH, "type:dir force https://a.example.com/s/")
        )
        await writer.submit(
            Submission(Action.PREFETCH, Kind.FILE, ("https://a.example.com/p.js",), area="overseas")
        )
    (refresh,) = emulator.calls_of("RefreshObjectCaches")
    (push,) = emulator.calls_of("PushObjectCache")
    assert refresh.params["ObjectType"] == "Directory" and refresh.params["Force"] == "true"
    assert push.params["Area"] == "overseas"


async def test_progress_reads_ten_ids_a_call(emulator, clock):
    async with make_client(emulator, clock) as cdn:
        writer = Writer(cdn)
        submitted = await writer.submit(parse_submission(Action.REFRESH, urls(25)))
        tasks = await writer.tasks(submitted.task_ids)
    assert sorted(task.task_id for task in tasks) == sorted(submitted.task_ids)
    assert len(emulator.calls_of("DescribeRefreshTaskById")) == 3

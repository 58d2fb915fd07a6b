"""The emulated actions as plain functions: validation codes, lifecycle, paging, quotas."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from bot.cdn.emulator import actions
from bot.cdn.emulator.demo import DOMAINS, seed_history
from bot.cdn.emulator.faults import ApiFault
from bot.cdn.emulator.ledger import Ledger, LedgerTask
from bot.core.tasks import format_api_time

NOW = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)


def ago(**delta: float) -> str:
    return format_api_time(NOW - timedelta(**delta))


def fault_of(call, *args) -> ApiFault:
    with pytest.raises(ApiFault) as failure:
        call(*args)
    return failure.value


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"Status": "Failed"}, "MissingParameter.ObjectType"),
        ({"DomainName": "a.example.com"}, "MissingParameter.ObjectType"),
        ({"ObjectType": "file", "DomainName": "a.com,b.com"}, "DomainNameOverLimit"),
        ({"ObjectType": "File"}, "InvalidObjectType.ValueNotSupported"),
        ({"ObjectType": "folder"}, "InvalidObjectType.ValueNotSupported"),
        ({"ObjectType": "file", "Status": "Done"}, "InvalidStatus.ValueNotSupported"),
        ({"StartTime": ago(hours=1)}, "MissingTimeParameter"),
        ({"EndTime": ago(hours=1)}, "MissingTimeParameter"),
        ({"StartTime": ago(hours=1), "EndTime": ago(hours=2)}, "InvalidEndTime.Mismatch"),
        ({"StartTime": ago(hours=1), "EndTime": ago(hours=1)}, "InvalidEndTime.Mismatch"),
        ({"StartTime": ago(days=3, seconds=1), "EndTime": ago(hours=1)}, "InvalidTime"),
        ({"StartTime": "2026-11-28 10:00", "EndTime": ago(hours=1)}, "InvalidStartTime.Malformed"),
        ({"StartTime": ago(hours=2), "EndTime": "yesterday"}, "InvalidEndTime.Malformed"),
        (
            {"StartTime": ago(hours=-1), "EndTime": ago(hours=-2)},
            "InvalidStartTime.ValueNotSupported",
        ),
        ({"PageNumber": "0"}, "InvalidPageNumber.ValueNotSupported"),
        ({"PageNumber": "100001"}, "InvalidPageNumber.ValueNotSupported"),
        ({"PageNumber": "-1"}, "InvalidPageNumber.ValueNotSupported"),
        ({"PageSize": "101"}, "InvalidPageSize.ValueNotSupported"),
        ({"PageSize": "0"}, "InvalidPageSize.ValueNotSupported"),
        ({"PageSize": "ten"}, "InvalidPageSize.ValueNotSupported"),
        ({"TaskId": "12a"}, "InvalidTaskId.Malformed"),
        ({"ObjectPath": "example.com/a.png"}, "InvalidObjectPath.Malformed"),
    ],
)
def test_list_validation_codes(params, code):
    fault = fault_of(actions.describe_refresh_tasks, Ledger(), params, NOW)
    assert (fault.status, fault.code) == (400, code)


@pytest.mark.parametrize(
    "params",
    [
        {"ObjectType": "regex", "Status": "Pending"},
        {"ObjectType": "IgnoreParams", "DomainName": "a.example.com"},
        {"StartTime": ago(days=3), "EndTime": ago(hours=-5)},
        {"StartTime": ago(hours=1), "EndTime": ago(seconds=0)},
        {"PageNumber": "100000", "PageSize": "100"},
        {"ResourceGroupId": "rg-acfmyuji4b6r4"},
    ],
)
def test_valid_list_parameters_are_accepted(params):
    body = actions.describe_refresh_tasks(Ledger(), params, NOW)
    assert body["TotalCount"] == 0 and body["Tasks"] == {"CDNTask": []}


def test_tasks_move_pending_refreshing_then_complete_or_failed():
    ledger = Ledger(task_seconds=100, fail_pattern=re.compile("bad"))
    good, bad = ledger.create(["http://x.com/good", "http://x.com/bad"], "file", NOW)
    assert good.state(NOW) == ("Pending", 0)
    assert good.state(NOW + timedelta(seconds=55)) == ("Refreshing", 50)
    assert good.state(NOW + timedelta(seconds=99)) == ("Refreshing", 98)
    assert good.state(NOW + timedelta(seconds=100)) == ("Complete", 100)
    assert bad.state(NOW + timedelta(seconds=100)) == ("Failed", 0)
    failed = bad.view(NOW + timedelta(seconds=100))
    assert failed["Description"] in (
        "Origin Timeout",
        "Origin Return StatusCode 5XX",
        "Internal Error",
    )
    assert "Description" not in good.view(NOW + timedelta(seconds=100))


def test_status_filter_follows_time():
    ledger = Ledger(task_seconds=10)
    ledger.create(["http://x.com/1"], "file", NOW)
    params = {"ObjectType": "file", "Status": "Complete"}
    assert actions.describe_refresh_tasks(ledger, params, NOW)["TotalCount"] == 0
    later = NOW + timedelta(seconds=10)
    assert actions.describe_refresh_tasks(ledger, params, later)["TotalCount"] == 1


def test_paging_is_newest_first_with_total():
    ledger = Ledger()
    for minute in range(45):
        ledger.add(
            LedgerTask(
                str(1000 + minute),
                f"http://p.com/{minute}",
                "file",
                NOW - timedelta(minutes=minute),
                1,
            )
        )
    pages = [
        actions.describe_refresh_tasks(ledger, {"PageSize": "20", "PageNumber": str(n)}, NOW)
        for n in (1, 2, 3, 4)
    ]
    assert [page["TotalCount"] for page in pages] == [45] * 4
    ids = [task["TaskId"] for page in pages for task in page["Tasks"]["CDNTask"]]
    assert ids == [str(1000 + minute) for minute in range(45)]
    assert pages[3]["Tasks"]["CDNTask"] == []


def test_filters_match_exactly():
    ledger = Ledger()
    ledger.create(
        ["http://a.com/1.txt", "http://a.com/1.txt?x", "https://B.com/1.txt"], "file", NOW
    )
    ledger.create(["http://a.com/d/"], "directory", NOW)
    listing = actions.describe_refresh_tasks
    assert listing(ledger, {"ObjectPath": "http://a.com/1.txt"}, NOW)["TotalCount"] == 1
    assert listing(ledger, {"ObjectType": "file", "DomainName": "a.com"}, NOW)["TotalCount"] == 2
    assert listing(ledger, {"ObjectType": "file", "DomainName": "b.com"}, NOW)["TotalCount"] == 1
    assert listing(ledger, {"ObjectType": "directory"}, NOW)["TotalCount"] == 1
    first = listing(ledger, {}, NOW)["Tasks"]["CDNTask"][-1]
    assert listing(ledger, {"TaskId": first["TaskId"]}, NOW)["TotalCount"] == 1


def test_tasks_older_than_three_days_disappear():
    ledger = Ledger()
    ledger.create(["http://old.com/1"], "file", NOW - timedelta(days=3, seconds=1))
    ledger.create(["http://new.com/1"], "file", NOW - timedelta(days=2))
    body = actions.describe_refresh_tasks(ledger, {}, NOW)
    assert [task["ObjectPath"] for task in body["Tasks"]["CDNTask"]] == ["http://new.com/1"]


def test_time_window_limits_the_result():
    ledger = Ledger()
    ledger.create(["http://t.com/early"], "file", NOW - timedelta(hours=5))
    ledger.create(["http://t.com/late"], "file", NOW - timedelta(hours=1))
    body = actions.describe_refresh_tasks(
        ledger, {"StartTime": ago(hours=6), "EndTime": ago(hours=4)}, NOW
    )
    assert [task["ObjectPath"] for task in body["Tasks"]["CDNTask"]] == ["http://t.com/early"]


def test_lookup_by_id():
    ledger = Ledger()
    tasks = ledger.create([f"http://i.com/{n}" for n in range(3)], "file", NOW)
    body = actions.describe_refresh_task_by_id(
        ledger, {"TaskId": f"{tasks[0].task_id},{tasks[2].task_id},999"}, NOW
    )
    assert body["TotalCount"] == 2 and isinstance(body["Tasks"], list)
    assert (
        fault_of(
            actions.describe_refresh_task_by_id, ledger, {"TaskId": ",".join("1" * 11)}, NOW
        ).code
        == "InvalidTaskId.Malformed"
    )
    assert (
        fault_of(actions.describe_refresh_task_by_id, ledger, {"TaskId": "x"}, NOW).code
        == "InvalidTaskId.Malformed"
    )
    assert fault_of(actions.describe_refresh_task_by_id, ledger, {}, NOW).code == "MissingParameter"


@pytest.mark.parametrize(
    ("action", "params", "code"),
    [
        (actions.refresh_object_caches, {}, "MissingParameter"),
        (
            actions.refresh_object_caches,
            {"ObjectPath": "http://a.com/1", "ObjectType": "Folder"},
            "InvalidObjectType.Malformed",
        ),
        (
            actions.refresh_object_caches,
            {"ObjectPath": "ftp://a.com/1"},
            "InvalidObjectPath.Malformed",
        ),
        (
            actions.refresh_object_caches,
            {"ObjectPath": "http://a.com/d", "ObjectType": "Directory"},
            "InvalidObjectPath.Malformed",
        ),
        (
            actions.refresh_object_caches,
            {"ObjectPath": "\n".join(f"http://a.com/{n}" for n in range(1001))},
            "SingleRequest.OverLimit",
        ),
        (
            actions.refresh_object_caches,
            {
                "ObjectPath": "\n".join(f"http://a.com/{n}/" for n in range(101)),
                "ObjectType": "Directory",
            },
            "SingleRequest.OverLimit",
        ),
        (
            actions.refresh_object_caches,
            {"ObjectPath": "http://a.com/.*\nhttp://a.com/x.*", "ObjectType": "Regex"},
            "SingleRequest.OverLimit",
        ),
        (
            actions.push_object_cache,
            {"ObjectPath": "\n".join(f"http://a.com/{n}" for n in range(101))},
            "SingleRequest.OverLimit",
        ),
        (
            actions.push_object_cache,
            {"ObjectPath": "http://a.com/1", "Area": "moon"},
            "InvalidArea",
        ),
        (
            actions.push_object_cache,
            {"ObjectPath": "http://a.com/" + "x" * 1020},
            "InvalidObjectPath.ExceedsMaximum",
        ),
        (
            actions.refresh_object_caches,
            {"ObjectPath": "\n".join(f"http://d{n}.com/x" for n in range(11))},
            "SingleRequest.OverLimit",
        ),
        (
            actions.refresh_object_caches,
            {"ObjectPath": "http://a.com/d/", "ObjectType": "Directory", "Force": "yes"},
            "InvalidForce.Malformed",
        ),
        (
            actions.push_object_cache,
            {"ObjectPath": "http://a.com/1", "L2Preload": "maybe"},
            "InvalidL2Preload.Malformed",
        ),
    ],
)
def test_submit_validation(action, params, code):
    assert fault_of(action, Ledger(), params, NOW).code == code


def test_ignore_params_answers_to_its_sdk_spelling_too():
    ledger = Ledger()
    for spelling in ("IgnoreParams", "ExQuery"):
        params = {"ObjectPath": "http://a.com/p?x=1", "ObjectType": spelling, "Force": "true"}
        actions.refresh_object_caches(ledger, params, NOW)
    assert [task.object_type for task in ledger.visible(NOW)] == ["IgnoreParams"] * 2


def test_submissions_split_lines_and_use_quota_reset_daily():
    ledger = Ledger(quotas={"Url": 3, "Dir": 1, "Regex": 1, "Preload": 1, "IgnoreParams": 1})
    body = actions.refresh_object_caches(
        ledger, {"ObjectPath": "http://a.com/1\r\nhttp://a.com/2\n\n"}, NOW
    )
    assert len(body["RefreshTaskId"].split(",")) == 2
    fault = fault_of(
        actions.refresh_object_caches, ledger, {"ObjectPath": "http://a.com/3\nhttp://a.com/4"}, NOW
    )
    assert fault.code == "QuotaExceeded.Refresh"
    quota = actions.describe_refresh_quota(ledger, {}, NOW)
    assert (quota["UrlQuota"], quota["UrlRemain"]) == ("3", "1")
    tomorrow = NOW + timedelta(days=1)
    assert actions.describe_refresh_quota(ledger, {}, tomorrow)["UrlRemain"] == "3"
    pushed = actions.push_object_cache(ledger, {"ObjectPath": "http://a.com/p"}, NOW)
    assert ledger.visible(NOW)[0].object_type == "preload" and pushed["PushTaskId"]
    assert (
        fault_of(actions.push_object_cache, ledger, {"ObjectPath": "http://a.com/q"}, NOW).code
        == "QuotaExceeded.Preload"
    )
    regex = actions.refresh_object_caches(
        ledger, {"ObjectPath": "http://a.com/.*", "ObjectType": "regex"}, NOW
    )
    assert regex["RefreshTaskId"]
    actions.refresh_object_caches(
        ledger, {"ObjectPath": "http://a.com/x?y", "ObjectType": "IgnoreParams"}, NOW
    )
    assert ledger.visible(NOW)[0].object_type == "IgnoreParams"


def test_demo_history_is_deterministic_and_realistic():
    first, second = Ledger(), Ledger()
    seed_history(first, 300, now=NOW)
    seed_history(second, 300, now=NOW)
    views = [task.view(NOW) for task in first.visible(NOW)]
    assert views == [task.view(NOW) for task in second.visible(NOW)]
    assert len(views) == 300
    assert {view["ObjectType"] for view in views} >= {
        "file",
        "directory",
        "preload",
        "regex",
        "IgnoreParams",
    }
    assert {view["Status"] for view in views} == {"Pending", "Refreshing", "Complete", "Failed"}
    assert {view["Description"] for view in views if "Description" in view} == {
        "Origin Timeout",
        "Origin Return StatusCode 5XX",
        "Internal Error",
    }
    hosts = {view["ObjectPath"].split("/")[2] for view in views}
    assert hosts == set(DOMAINS)
    created = sorted(view["CreationTime"] for view in views)
    assert created[0] < ago(days=2) and created[-1] > ago(hours=1)


async def test_demo_traffic_keeps_adding_tasks_some_failing():
    import asyncio

    from bot.cdn.emulator.demo import keep_busy
    from tests.conftest import wait_until

    ledger = Ledger(task_seconds=0, fail_pattern=re.compile("/broken/"))
    busy = asyncio.create_task(keep_busy(ledger, clock=lambda: NOW, every=0.001, seed=1))
    try:
        await wait_until(lambda: len(ledger.visible(NOW)) >= 6)
    finally:
        busy.cancel()
    states = [task.state(NOW)[0] for task in ledger.visible(NOW)]
    assert states.count("Failed") >= 2 and states.count("Complete") >= 3

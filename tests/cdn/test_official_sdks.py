"""The official Alibaba SDKs, unmodified, cannot tell the emulator from the real API."""

from __future__ import annotations

import pytest
from alibabacloud_cdn20180510 import models as cdn_models
from alibabacloud_cdn20180510.client import Client as TeaCdnClient
from alibabacloud_tea_openapi import models as openapi_models
from aliyunsdkcore.acs_exception.exceptions import ServerException as CoreServerException
from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.request import CommonRequest

from tests.conftest import KEY_ID, KEY_SECRET

pytestmark = pytest.mark.timeout(120)


def tea_client(emulator, *, secret=KEY_SECRET, algorithm=None, token=None):
    config = openapi_models.Config(
        access_key_id=KEY_ID,
        access_key_secret=secret,
        security_token=token,
        endpoint=emulator.url.removeprefix("http://"),
        protocol="http",
    )
    if algorithm:
        config.signature_algorithm = algorithm
    return TeaCdnClient(config)


@pytest.mark.parametrize("algorithm", [None, "v2"], ids=["v3-default", "v1-rpc"])
def test_tea_sdk_creates_and_reads_tasks(threaded_emulator, algorithm):
    sdk = tea_client(threaded_emulator, algorithm=algorithm)
    refreshed = sdk.refresh_object_caches(
        cdn_models.RefreshObjectCachesRequest(
            object_path="http://sdk.example.com/a b.txt\nhttp://sdk.example.com/ü/2.txt",
            object_type="File",
        )
    )
    refresh_ids = refreshed.body.refresh_task_id.split(",")
    assert len(refresh_ids) == 2
    pushed = sdk.push_object_cache(
        cdn_models.PushObjectCacheRequest(object_path="http://sdk.example.com/big.bin")
    )
    push_id = pushed.body.push_task_id

    listed = sdk.describe_refresh_tasks(
        cdn_models.DescribeRefreshTasksRequest(
            domain_name="sdk.example.com", object_type="file", page_size=10
        )
    ).body
    assert listed.total_count == 2
    assert {task.object_path for task in listed.tasks.cdntask} == {
        "http://sdk.example.com/a b.txt",
        "http://sdk.example.com/ü/2.txt",
    }
    assert all(task.status == "Pending" for task in listed.tasks.cdntask)

    by_id = sdk.describe_refresh_task_by_id(
        cdn_models.DescribeRefreshTaskByIdRequest(task_id=",".join([*refresh_ids, push_id]))
    ).body
    assert by_id.total_count == 3
    assert {task.object_type for task in by_id.tasks} == {"file", "preload"}

    quota = sdk.describe_refresh_quota(cdn_models.DescribeRefreshQuotaRequest()).body
    assert int(quota.url_quota) - int(quota.url_remain) == 2
    assert int(quota.preload_quota) - int(quota.preload_remain) == 1


def test_tea_sdk_with_sts_token(clock):
    from bot.cdn.emulator import Emulator
    from tests.conftest import emulator_config

    with Emulator(emulator_config(clock, security_token="sts-token")).running() as emulator:
        good = tea_client(emulator, token="sts-token")
        page = good.describe_refresh_tasks(cdn_models.DescribeRefreshTasksRequest()).body
        assert page.total_count == 0
        with pytest.raises(Exception) as missing:
            tea_client(emulator).describe_refresh_tasks(cdn_models.DescribeRefreshTasksRequest())
        assert missing.value.code == "MissingSecurityToken"


@pytest.mark.parametrize("algorithm", [None, "v2"], ids=["v3-default", "v1-rpc"])
def test_tea_sdk_sees_wrong_secret(threaded_emulator, algorithm):
    sdk = tea_client(threaded_emulator, secret="not-the-secret", algorithm=algorithm)
    with pytest.raises(Exception) as failure:
        sdk.describe_refresh_tasks(cdn_models.DescribeRefreshTasksRequest())
    assert failure.value.code == "SignatureDoesNotMatch"
    assert "server string to sign is:" in failure.value.data["Message"]


@pytest.mark.parametrize("algorithm", [None, "v2"], ids=["v3-default", "v1-rpc"])
def test_tea_sdk_sees_stale_timestamp(threaded_emulator, clock, algorithm):
    clock.advance(minutes=16)
    sdk = tea_client(threaded_emulator, algorithm=algorithm)
    with pytest.raises(Exception) as failure:
        sdk.describe_refresh_tasks(cdn_models.DescribeRefreshTasksRequest())
    assert failure.value.code == "InvalidTimeStamp.Expired"


@pytest.mark.parametrize("algorithm", [None, "v2"], ids=["v3-default", "v1-rpc"])
def test_tea_sdk_sees_replayed_nonce(threaded_emulator, monkeypatch, algorithm):
    from alibabacloud_tea_openapi import utils

    monkeypatch.setattr(utils.Utils, "get_nonce", staticmethod(lambda: "same-nonce"))
    sdk = tea_client(threaded_emulator, algorithm=algorithm)
    sdk.describe_refresh_tasks(cdn_models.DescribeRefreshTasksRequest())
    with pytest.raises(Exception) as failure:
        sdk.describe_refresh_tasks(cdn_models.DescribeRefreshTasksRequest())
    assert failure.value.code == "SignatureNonceUsed"


def test_tea_sdk_sees_validation_codes(threaded_emulator):
    sdk = tea_client(threaded_emulator)
    with pytest.raises(Exception) as failure:
        sdk.describe_refresh_tasks(cdn_models.DescribeRefreshTasksRequest(status="Failed"))
    assert failure.value.code == "MissingParameter.ObjectType"
    assert failure.value.status_code == 400


def core_client(emulator, secret=KEY_SECRET):
    port = int(emulator.url.rsplit(":", 1)[1])
    return AcsClient(KEY_ID, secret, "cn-hangzhou", port=port, auto_retry=False)


def core_request(action, **params):
    request = CommonRequest()
    request.set_endpoint("127.0.0.1")
    request.set_protocol_type("http")
    request.set_domain("127.0.0.1")
    request.set_version("2018-05-10")
    request.set_action_name(action)
    request.set_method("POST")
    for name, value in params.items():
        request.add_query_param(name, value)
    return request


def test_core_sdk_creates_and_reads_tasks(threaded_emulator):
    import json

    sdk = core_client(threaded_emulator)
    created = json.loads(
        sdk.do_action_with_exception(
            core_request(
                "RefreshObjectCaches",
                ObjectPath="https://core.example.com/dir/",
                ObjectType="Directory",
            )
        )
    )
    task_id = created["RefreshTaskId"]
    pushed = json.loads(
        sdk.do_action_with_exception(
            core_request("PushObjectCache", ObjectPath="https://core.example.com/x.js")
        )
    )
    listed = json.loads(
        sdk.do_action_with_exception(
            core_request("DescribeRefreshTasks", ObjectType="directory", PageSize="5")
        )
    )
    assert [task["TaskId"] for task in listed["Tasks"]["CDNTask"]] == [task_id]
    by_id = json.loads(
        sdk.do_action_with_exception(
            core_request("DescribeRefreshTaskById", TaskId=pushed["PushTaskId"])
        )
    )
    assert by_id["Tasks"][0]["ObjectType"] == "preload"


def test_core_sdk_errors(threaded_emulator, monkeypatch, clock):
    wrong = core_client(threaded_emulator, secret="wrong")
    with pytest.raises(CoreServerException) as failure:
        wrong.do_action_with_exception(core_request("DescribeRefreshTasks"))
    assert failure.value.get_error_code() == "SignatureDoesNotMatch"

    from aliyunsdkcore.utils import parameter_helper

    with monkeypatch.context() as patched:
        patched.setattr(parameter_helper, "get_uuid", lambda: "fixed-nonce")
        sdk = core_client(threaded_emulator)
        sdk.do_action_with_exception(core_request("DescribeRefreshTasks"))
        with pytest.raises(CoreServerException) as replay:
            sdk.do_action_with_exception(core_request("DescribeRefreshTasks"))
    assert replay.value.get_error_code() == "SignatureNonceUsed"

    clock.advance(minutes=-20)
    with pytest.raises(CoreServerException) as stale:
        core_client(threaded_emulator).do_action_with_exception(
            core_request("DescribeRefreshTasks")
        )
    assert stale.value.get_error_code() == "InvalidTimeStamp.Expired"

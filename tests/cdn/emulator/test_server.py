"""The emulator over HTTP: gateway refusals, body format, rate limits, form bodies."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode
from xml.etree import ElementTree

import httpx
import pytest

from bot.cdn import signing
from bot.cdn.emulator import Emulator
from bot.core.tasks import format_api_time
from tests.conftest import KEY_ID, KEY_SECRET, emulator_config


def v1_params(clock, action="DescribeRefreshTasks", **extra):
    params = {
        "Action": action,
        "Version": "2018-05-10",
        "Format": "JSON",
        "AccessKeyId": KEY_ID,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": uuid.uuid4().hex,
        "Timestamp": format_api_time(clock()),
        **extra,
    }
    params["Signature"] = signing.v1_signature(params, method="POST", secret=KEY_SECRET)
    return params


async def post(emulator, **options):
    async with httpx.AsyncClient(base_url=emulator.url) as http:
        return await http.post("/", **options)


def v3_headers(emulator, clock, *, action="DescribeRefreshQuota", query=None, sign=None):
    host = emulator.url.removeprefix("http://")
    headers = {
        "host": host,
        "x-acs-action": action,
        "x-acs-version": "2018-05-10",
        "x-acs-date": format_api_time(clock()),
        "x-acs-signature-nonce": uuid.uuid4().hex,
        "x-acs-content-sha256": signing.EMPTY_PAYLOAD_SHA256,
    }
    signed = {name: headers[name] for name in (sign or headers)}
    headers["authorization"] = signing.v3_authorization(
        method="POST",
        path="/",
        query=query or {},
        headers=signed,
        payload_sha256=signing.EMPTY_PAYLOAD_SHA256,
        access_key_id=KEY_ID,
        secret=KEY_SECRET,
    )
    return headers


async def test_error_body_has_the_real_fields(emulator, clock):
    response = await post(emulator, params=v1_params(clock, AccessKeyId="nobody"))
    assert response.status_code == 404
    body = response.json()
    assert set(body) == {"RequestId", "HostId", "Code", "Message", "Recommend"}
    assert body["Code"] == "InvalidAccessKeyId.NotFound"
    assert response.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"Signature": None}, "IncompleteSignature"),
        ({"SignatureMethod": "HMAC-SHA256"}, "InvalidSignatureMethod"),
        ({"Timestamp": "yesterday"}, "InvalidTimeStamp.Format"),
        ({"SecurityToken": "stray"}, "InvalidSecurityToken.MismatchWithAccessKey"),
    ],
)
async def test_v1_gateway_refusals(emulator, clock, change, code):
    params = v1_params(clock)
    for name, value in change.items():
        if value is None:
            params.pop(name)
        else:
            params[name] = value
    response = await post(emulator, params=params)
    assert response.json()["Code"] == code


async def test_v1_parameters_may_come_in_a_form_body(emulator, clock):
    params = v1_params(clock, action="DescribeRefreshTaskById", TaskId="123")
    body = urlencode(params).encode()
    response = await post(
        emulator, content=body, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["TotalCount"] == 0


async def test_version_and_action_are_checked(emulator, clock):
    wrong_version = v1_params(clock, Version="2014-11-11")
    assert (await post(emulator, params=wrong_version)).json()["Code"] == "InvalidVersion"
    unknown = await post(emulator, params=v1_params(clock, action="DeleteEverything"))
    assert (unknown.status_code, unknown.json()["Code"]) == (404, "InvalidAction.NotFound")


async def test_v3_needs_host_and_acs_headers_signed(emulator, clock):
    partial = v3_headers(emulator, clock, sign=["x-acs-action", "x-acs-date"])
    response = await post(emulator, headers=partial)
    assert response.json()["Code"] == "IncompleteSignature"


async def test_v3_payload_hash_must_match_the_body(emulator, clock):
    headers = v3_headers(emulator, clock)
    response = await post(emulator, headers=headers, content=b"Extra=1")
    assert response.json()["Code"] == "IncompleteSignature"


async def test_v3_signed_request_succeeds(emulator, clock):
    response = await post(emulator, headers=v3_headers(emulator, clock))
    assert response.status_code == 200
    assert response.json()["UrlQuota"] == "10000"


async def test_rate_limit_answers_throttling(clock):
    server = Emulator(emulator_config(clock, qps=2))
    await server.start()
    try:
        answers = [
            (await post(server, params=v1_params(clock))).json().get("Code", "ok") for _ in range(5)
        ]
    finally:
        await server.stop()
    assert answers[:2] == ["ok", "ok"]
    assert "Throttling.User" in answers[2:]


async def test_zero_qps_turns_limits_off(emulator, clock):
    answers = [(await post(emulator, params=v1_params(clock))).status_code for _ in range(40)]
    assert set(answers) == {200}


async def test_format_xml_answers_in_the_seed_shape(emulator, clock):
    emulator.ledger.create(["http://aaa.com/1.txt", "http://bbb.com/<1>.txt"], "file", clock())
    response = await post(emulator, params=v1_params(clock, Format="XML", PageSize="10"))
    assert response.headers["content-type"].startswith("text/xml")
    root = ElementTree.fromstring(response.text)
    assert root.tag == "DescribeRefreshTasksResponse"
    assert root.findtext("TotalCount") == "2" and root.findtext("PageSize") == "10"
    paths = [task.findtext("ObjectPath") for task in root.find("Tasks").findall("CDNTask")]
    assert paths == ["http://bbb.com/<1>.txt", "http://aaa.com/1.txt"]
    assert root.findtext("RequestId")

    failure = await post(emulator, params=v1_params(clock, Format="XML", Status="Failed"))
    error = ElementTree.fromstring(failure.text)
    assert (error.tag, error.findtext("Code")) == ("Error", "MissingParameter.ObjectType")


async def test_denied_actions_answer_as_a_ram_denial(clock):
    server = Emulator(emulator_config(clock, denied_actions=("DescribeRefreshQuota",)))
    await server.start()
    try:
        denied = await post(server, params=v1_params(clock, action="DescribeRefreshQuota"))
        allowed = await post(server, params=v1_params(clock))
    finally:
        await server.stop()
    assert denied.status_code == 403 and denied.json()["Code"] == "Forbidden.RAM"
    assert allowed.status_code == 200 and "TotalCount" in allowed.json()
    assert [call.code for call in server.calls] == ["Forbidden.RAM", ""]

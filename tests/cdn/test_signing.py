"""The signers against the golden vectors and, on arbitrary input, the official SDKs."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.cdn import signing
from bot.cdn.credentials import Credentials

COMMON = {
    "Format": "JSON",
    "Version": "2018-05-10",
    "AccessKeyId": "testid",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureVersion": "1.0",
    "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
    "Timestamp": "2024-01-02T03:04:05Z",
}
LIST_PARAMS = {
    "Action": "DescribeRefreshTasks",
    "DomainName": "example.com",
    "ObjectType": "file",
    "PageNumber": "1",
    "PageSize": "20",
}


@pytest.mark.parametrize(
    ("params", "method", "secret", "expected"),
    [
        (
            {
                "AccessKeyId": "testid",
                "Action": "DescribeRegions",
                "Format": "XML",
                "SignatureMethod": "HMAC-SHA1",
                "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
                "SignatureVersion": "1.0",
                "TimeStamp": "2016-02-23T12:46:24Z",
                "Version": "2014-05-26",
            },
            "GET",
            "testsecret",
            "CT9X0VtwR86fNWSnsc6v8YGOjuE=",
        ),
        ({**COMMON, **LIST_PARAMS}, "GET", "testsecret", "fMk3IxEPxxtw6BwFzD29jJDZjdo="),
        ({**COMMON, **LIST_PARAMS}, "POST", "testsecret", "Jm7/iFyqpNb8UzBpJpKUH2mfKaM="),
        (
            {
                **COMMON,
                "Action": "RefreshObjectCaches",
                "ObjectType": "File",
                "ObjectPath": "http://example.com/a b~c*d.txt\n"
                "http://example.com/中文/ü.jpg?q=1+2&r=50%",
            },
            "POST",
            "s3cr3t/+=~*",
            "xJBa/XpAd+KAa2NEQtIbdd47pXA=",
        ),
    ],
    ids=["doc-example", "v1-get", "v1-post", "v1-specials"],
)
def test_v1_golden_vectors(params, method, secret, expected):
    assert signing.v1_signature(params, method=method, secret=secret) == expected


def test_v3_golden_vector():
    authorization = signing.v3_authorization(
        method="POST",
        path="/",
        query={
            "DomainName": "example.com",
            "ObjectPath": "http://aaa.com/1.txt?x=a b",
            "ObjectType": "file",
        },
        headers={
            "host": "cdn.aliyuncs.com",
            "x-acs-action": "DescribeRefreshTasks",
            "x-acs-version": "2018-05-10",
            "x-acs-date": "2024-01-02T03:04:05Z",
            "x-acs-signature-nonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
            "x-acs-content-sha256": signing.EMPTY_PAYLOAD_SHA256,
        },
        payload_sha256=signing.EMPTY_PAYLOAD_SHA256,
        access_key_id="testid",
        secret="testsecret",
    )
    assert authorization == (
        "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-action;x-acs-content-sha256;"
        "x-acs-date;x-acs-signature-nonce;x-acs-version,"
        "Signature=dfe2d70c1ef4dcb5f70f6f5a8925172a80541eba4ad36a23023c54ede6af7ebb"
    )


SIGNED_AT = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
NONCE = COMMON["SignatureNonce"]
SPECIAL_PATHS = "http://example.com/a b~c*d.txt\nhttp://example.com/中文/ü.jpg?q=1+2&r=50%"


def test_signed_request_v1_carries_the_golden_signature_in_its_query():
    params = {name: value for name, value in LIST_PARAMS.items() if name != "Action"}
    method, url, headers, body = signing.signed_request(
        "DescribeRefreshTasks",
        params,
        form={},
        credentials=Credentials("testid", "testsecret"),
        endpoint="https://cdn.aliyuncs.com/",
        version="v1",
        now=SIGNED_AT,
        nonce=NONCE,
    )
    assert (method, headers, body) == ("POST", {}, b"")
    assert url.startswith("https://cdn.aliyuncs.com/?")
    assert dict(parse_qsl(urlsplit(url).query)) == {
        **COMMON,
        **LIST_PARAMS,
        "Signature": "Jm7/iFyqpNb8UzBpJpKUH2mfKaM=",
    }


def test_signed_request_v1_signs_the_form_it_sends_in_the_body():
    form = {"ObjectType": "File", "ObjectPath": SPECIAL_PATHS}
    _method, url, headers, body = signing.signed_request(
        "RefreshObjectCaches",
        {},
        form=form,
        credentials=Credentials("testid", "s3cr3t/+=~*"),
        endpoint="https://cdn.aliyuncs.com/",
        version="v1",
        now=SIGNED_AT,
        nonce=NONCE,
    )
    query = dict(parse_qsl(urlsplit(url).query))
    assert query["Signature"] == "xJBa/XpAd+KAa2NEQtIbdd47pXA="
    assert "ObjectPath" not in query and dict(parse_qsl(body.decode())) == form
    assert headers == {"content-type": signing.FORM}


def test_signed_request_v3_carries_the_golden_authorization():
    params = {
        "DomainName": "example.com",
        "ObjectPath": "http://aaa.com/1.txt?x=a b",
        "ObjectType": "file",
    }
    method, url, headers, body = signing.signed_request(
        "DescribeRefreshTasks",
        params,
        form={},
        credentials=Credentials("testid", "testsecret"),
        endpoint="https://cdn.aliyuncs.com/",
        version="v3",
        now=SIGNED_AT,
        nonce=NONCE,
    )
    assert (method, body) == ("POST", b"")
    assert url == (
        "https://cdn.aliyuncs.com/?DomainName=example.com"
        "&ObjectPath=http%3A%2F%2Faaa.com%2F1.txt%3Fx%3Da%20b&ObjectType=file"
    )
    assert headers["authorization"].endswith(
        "Signature=dfe2d70c1ef4dcb5f70f6f5a8925172a80541eba4ad36a23023c54ede6af7ebb"
    )
    assert headers["accept"] == "application/json" and "content-type" not in headers


def test_signed_request_v3_signs_the_body_and_the_sts_token():
    form = {"ObjectPath": SPECIAL_PATHS}
    _method, url, headers, body = signing.signed_request(
        "PushObjectCache",
        {},
        form=form,
        credentials=Credentials("ak", "sk", "sts-token"),
        endpoint="http://127.0.0.1:8080/",
        version="v3",
        now=SIGNED_AT,
        nonce="n-1",
    )
    assert url == "http://127.0.0.1:8080/"  # nothing in the query: no `?`
    assert headers["host"] == "127.0.0.1:8080"
    assert headers["x-acs-content-sha256"] == hashlib.sha256(body).hexdigest()
    assert headers["x-acs-security-token"] == "sts-token"
    credential, signed, _signature = signing.parse_v3_authorization(headers["authorization"])
    assert credential == "ak" and "x-acs-security-token" in signed and "accept" not in signed
    expected = signing.v3_authorization(
        method="POST",
        path="/",
        query={},
        headers={name: headers[name] for name in signed},
        payload_sha256=headers["x-acs-content-sha256"],
        access_key_id="ak",
        secret="sk",
    )
    assert headers["authorization"] == expected


def test_parse_v3_authorization_round_trip():
    header = "ACS3-HMAC-SHA256 Credential=ak,SignedHeaders=host;x-acs-date,Signature=abc"
    assert signing.parse_v3_authorization(header) == ("ak", ["host", "x-acs-date"], "abc")


@pytest.mark.parametrize(
    "header",
    [
        "",
        "HMAC-SHA1 Credential=a,SignedHeaders=h,Signature=s",
        "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=h",
        "ACS3-HMAC-SHA256 Credential=,SignedHeaders=h,Signature=s",
        "ACS3-HMAC-SHA256 garbage",
    ],
)
def test_parse_v3_authorization_rejects_malformed(header):
    assert signing.parse_v3_authorization(header) is None


# Anything a parameter could hold: unicode, spaces, reserved characters, newlines.
texts = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8", exclude_categories=("Cs",)),
        st.sampled_from(list(" ~*+/%&=\n\t?#")),
    ),
    max_size=40,
)
param_maps = st.dictionaries(texts.filter(lambda name: name != "Signature"), texts, max_size=8)


@settings(max_examples=300, deadline=None)
@given(params=param_maps, secret=texts, method=st.sampled_from(["GET", "POST"]))
def test_v1_equals_tea_openapi_sdk(params, secret, method):
    from alibabacloud_tea_openapi.utils import Utils

    assert signing.v1_signature(params, method=method, secret=secret) == Utils.get_rpcsignature(
        params, method, secret
    )


@settings(max_examples=300, deadline=None)
@given(params=param_maps, secret=texts, method=st.sampled_from(["GET", "POST"]))
def test_v1_equals_core_sdk(params, secret, method):
    from aliyunsdkcore.auth.algorithm import sha_hmac1
    from aliyunsdkcore.auth.composer import rpc_signature_composer as composer

    compose = composer.__dict__["__compose_string_to_sign"]
    theirs = sha_hmac1.get_sign_string(compose(method, dict(params)), secret + "&")
    assert signing.v1_signature(params, method=method, secret=secret) == theirs


header_values = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(
    query=param_maps,
    extra_headers=st.dictionaries(
        st.from_regex(r"x-acs-[a-z0-9-]{1,12}", fullmatch=True), header_values, max_size=4
    ),
    secret=texts,
    body=st.binary(max_size=64),
)
def test_v3_equals_tea_openapi_sdk(query, extra_headers, secret, body):
    from alibabacloud_tea_openapi.utils import Utils
    from darabonba.request import DaraRequest

    payload = hashlib.sha256(body).hexdigest()
    headers = {
        "host": "cdn.aliyuncs.com",
        "x-acs-action": "DescribeRefreshTasks",
        "x-acs-version": "2018-05-10",
        "x-acs-date": "2024-01-02T03:04:05Z",
        "x-acs-signature-nonce": "n-1",
        "x-acs-content-sha256": payload,
        **extra_headers,
    }
    request = DaraRequest()
    request.method = "POST"
    request.pathname = "/"
    request.query = dict(query)
    request.headers = dict(headers)
    theirs = Utils.get_authorization(request, "ACS3-HMAC-SHA256", payload, "ak-id", secret)
    ours = signing.v3_authorization(
        method="POST",
        path="/",
        query=query,
        headers=headers,
        payload_sha256=payload,
        access_key_id="ak-id",
        secret=secret,
    )
    assert ours == theirs

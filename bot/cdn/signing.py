"""Request signatures for the Alibaba Cloud RPC API: V1 (HMAC-SHA1) and V3 (ACS3-HMAC-SHA256),
and the signed request they assemble. Pure functions over strings; the client uses them to sign
and the emulator to verify.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Literal
from urllib.parse import quote, urlsplit

from bot.cdn.credentials import Credentials
from bot.core.tasks import format_api_time

API_VERSION = "2018-05-10"
FORM = "application/x-www-form-urlencoded"
V3_ALGORITHM = "ACS3-HMAC-SHA256"
EMPTY_PAYLOAD_SHA256 = hashlib.sha256(b"").hexdigest()


def percent_encode(text: str) -> str:
    """RFC 3986 encoding of UTF-8: only A-Z a-z 0-9 - _ . ~ stay literal, space is %20."""
    return quote(text, safe="~", encoding="utf-8")


def v1_string_to_sign(params: Mapping[str, str], *, method: str) -> str:
    """What V1 signs: the method, the encoded path and the sorted, encoded parameters."""
    canonical = "&".join(
        f"{percent_encode(name)}={percent_encode(params[name])}"
        for name in sorted(params)
        if name != "Signature"
    )
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(canonical)}"


def v1_signature(params: Mapping[str, str], *, method: str, secret: str) -> str:
    """base64(HMAC-SHA1(secret + '&', string to sign)) over every parameter except Signature."""
    key = f"{secret}&".encode()
    digest = hmac.new(key, v1_string_to_sign(params, method=method).encode(), hashlib.sha1)
    return base64.b64encode(digest.digest()).decode()


def v3_canonical_query(query: Mapping[str, str]) -> str:
    """Sorted `name=value` pairs, values percent-encoded.

    Names go in as they are, matching the official SDKs (API parameter names are plain ASCII).
    """
    return "&".join(f"{name}={percent_encode(query[name])}" for name in sorted(query))


def v3_canonical_request(
    *,
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    payload_sha256: str,
) -> tuple[str, str]:
    """The V3 canonical request and its signed-header list, for the headers given (all signed)."""
    lowered = {name.lower(): value.strip() for name, value in headers.items()}
    signed = sorted(lowered)
    canonical_headers = "".join(f"{name}:{lowered[name]}\n" for name in signed)
    signed_headers = ";".join(signed)
    canonical = "\n".join(
        [
            method.upper(),
            path or "/",
            v3_canonical_query(query),
            canonical_headers,
            signed_headers,
            payload_sha256,
        ]
    )
    return canonical, signed_headers


def v3_signature(canonical_request: str, *, secret: str) -> str:
    """hex(HMAC-SHA256(secret, 'ACS3-HMAC-SHA256\\n' + hex(sha256(canonical request))))."""
    hashed = hashlib.sha256(canonical_request.encode()).hexdigest()
    string_to_sign = f"{V3_ALGORITHM}\n{hashed}"
    return hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()


def v3_authorization(
    *,
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    payload_sha256: str,
    access_key_id: str,
    secret: str,
) -> str:
    """The `Authorization` header value that signs every header in `headers`."""
    canonical, signed_headers = v3_canonical_request(
        method=method, path=path, query=query, headers=headers, payload_sha256=payload_sha256
    )
    signature = v3_signature(canonical, secret=secret)
    return (
        f"{V3_ALGORITHM} Credential={access_key_id},"
        f"SignedHeaders={signed_headers},Signature={signature}"
    )


def parse_v3_authorization(value: str) -> tuple[str, list[str], str] | None:
    """(AccessKeyId, signed header names, signature) from an Authorization header, or None."""
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != V3_ALGORITHM:
        return None
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, sep, item = part.strip().partition("=")
        if not sep:
            return None
        fields[name] = item
    try:
        credential, signed, signature = (
            fields["Credential"],
            fields["SignedHeaders"],
            fields["Signature"],
        )
    except KeyError:
        return None
    if not credential or not signature:
        return None
    return credential, [name for name in signed.split(";") if name], signature


SignatureVersion = Literal["v3", "v1"]


def encode_query(params: Mapping[str, str]) -> str:
    """Sorted `name=value` pairs, both percent-encoded: a query string or a form body."""
    return "&".join(
        f"{percent_encode(name)}={percent_encode(value)}" for name, value in sorted(params.items())
    )


def signed_request(
    action: str,
    params: Mapping[str, str],
    *,
    form: Mapping[str, str],
    credentials: Credentials,
    endpoint: str,
    version: SignatureVersion,
    now: datetime,
    nonce: str,
) -> tuple[str, str, dict[str, str], bytes]:
    """(method, URL, headers, body) of one call of `action` to `endpoint` (a base URL ending
    in `/`): `params` in the query string, `form` in the body, signed as `version` at `now`.

    `nonce` must be fresh for every attempt: the API refuses a nonce it has seen.
    """
    timestamp = format_api_time(now)
    body = encode_query(form).encode("ascii")
    headers = {"content-type": FORM} if body else {}
    if version == "v1":
        common = _v1_common(action, credentials, nonce=nonce, timestamp=timestamp)
        # V1 signs every parameter, wherever it travels (query string or form body).
        signature = v1_signature(
            {**params, **common, **form}, method="POST", secret=credentials.access_key_secret
        )
        query = encode_query({**params, **common, "Signature": signature})
    else:
        query = encode_query(params)
        host = urlsplit(endpoint).netloc
        headers |= _v3_headers(
            action,
            params,
            body=body,
            credentials=credentials,
            host=host,
            nonce=nonce,
            timestamp=timestamp,
        )
    return "POST", f"{endpoint}?{query}" if query else endpoint, headers, body


def _v1_common(
    action: str, credentials: Credentials, *, nonce: str, timestamp: str
) -> dict[str, str]:
    common = {
        "Action": action,
        "Version": API_VERSION,
        "Format": "JSON",
        "AccessKeyId": credentials.access_key_id,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": nonce,
        "Timestamp": timestamp,
    }
    if credentials.security_token:
        common["SecurityToken"] = credentials.security_token
    return common


def _v3_headers(
    action: str,
    params: Mapping[str, str],
    *,
    body: bytes,
    credentials: Credentials,
    host: str,
    nonce: str,
    timestamp: str,
) -> dict[str, str]:
    payload_sha256 = hashlib.sha256(body).hexdigest()
    headers = {
        "host": host,
        "x-acs-action": action,
        "x-acs-version": API_VERSION,
        "x-acs-date": timestamp,
        "x-acs-signature-nonce": nonce,
        "x-acs-content-sha256": payload_sha256,
    }
    if credentials.security_token:
        headers["x-acs-accesskey-id"] = credentials.access_key_id
        headers["x-acs-security-token"] = credentials.security_token
    headers["authorization"] = v3_authorization(
        method="POST",
        path="/",
        query=params,
        headers=headers,
        payload_sha256=payload_sha256,
        access_key_id=credentials.access_key_id,
        secret=credentials.access_key_secret,
    )
    headers["accept"] = "application/json"
    return headers

"""Request signatures for the Alibaba Cloud RPC API: V1 (HMAC-SHA1) and V3 (ACS3-HMAC-SHA256).

Pure functions over strings; the client uses them to sign and the emulator to verify.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import quote

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

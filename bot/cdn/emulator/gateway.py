"""The emulator's front door: who is calling, is the request signed, fresh and not replayed.

It checks what Alibaba's API gateway checks, in the same order, with the same error codes.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.cdn import signing
from bot.cdn.emulator.faults import ApiFault

API_VERSION = "2018-05-10"
MAX_SKEW = timedelta(minutes=15)


@dataclass(frozen=True)
class Account:
    """One key the emulator accepts; a key with a security token is an STS key."""

    access_key_id: str
    access_key_secret: str = field(repr=False)
    security_token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Incoming:
    """The parts of an HTTP request the gateway looks at."""

    method: str
    path: str
    query: Mapping[str, str]
    form: Mapping[str, str]
    headers: Mapping[str, str]  # lower-case names
    body: bytes


@dataclass(frozen=True)
class Admitted:
    """A request that passed the gateway: its account, action and parameters."""

    account: Account
    action: str
    params: Mapping[str, str]
    nonce: str
    signature_version: str


def _signature_mismatch(string_to_sign: str) -> ApiFault:
    # The real message echoes the server's string to sign (which contains the AccessKeyId).
    return ApiFault(
        400,
        "SignatureDoesNotMatch",
        "Specified signature is not matched with our calculation. server string to sign is:"
        + string_to_sign,
    )


def _parse_timestamp(text: str) -> datetime:
    for layout in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ"):
        try:
            return datetime.strptime(text, layout).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise ApiFault(
        400, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted."
    )


class Gateway:
    """Authenticates requests against known accounts; remembers nonces for 15 minutes."""

    def __init__(self, accounts: list[Account], *, clock: Callable[[], datetime]) -> None:
        self._accounts = {account.access_key_id: account for account in accounts}
        self._clock = clock
        # Nonces seen, and the same in order of expiry so forgetting old ones is cheap.
        self._nonces: set[str] = set()
        self._expiries: deque[tuple[datetime, str]] = deque()

    def admit(self, request: Incoming) -> Admitted:
        """The authenticated request, or an ApiFault saying why it is refused."""
        authorization = request.headers.get("authorization", "")
        if authorization.startswith(signing.V3_ALGORITHM):
            return self._admit_v3(request, authorization)
        return self._admit_v1(request)

    def _account(self, access_key_id: str, token: str | None) -> Account:
        account = self._accounts.get(access_key_id)
        if account is None:
            raise ApiFault(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        if account.security_token is None:
            if token:
                raise ApiFault(
                    400,
                    "InvalidSecurityToken.MismatchWithAccessKey",
                    "The security token does not match the access key.",
                )
        elif not token:
            raise ApiFault(
                400, "MissingSecurityToken", "The security token is required for this access key."
            )
        elif not hmac.compare_digest(token, account.security_token):
            raise ApiFault(
                400,
                "InvalidSecurityToken.MismatchWithAccessKey",
                "The security token does not match the access key.",
            )
        return account

    def _fresh(self, timestamp: str, nonce: str) -> None:
        now = self._clock()
        if abs(now - _parse_timestamp(timestamp)) > MAX_SKEW:
            raise ApiFault(
                400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."
            )
        if not nonce:
            raise ApiFault(
                400, "MissingSignatureNonce", "SignatureNonce is mandatory for this action."
            )
        while self._expiries and self._expiries[0][0] <= now:
            self._nonces.discard(self._expiries.popleft()[1])
        if nonce in self._nonces:
            raise ApiFault(400, "SignatureNonceUsed", "Specified signature nonce was used already.")

    def _remember(self, nonce: str) -> None:
        # A nonce must stay refused for as long as its timestamp could still be accepted.
        self._nonces.add(nonce)
        self._expiries.append((self._clock() + MAX_SKEW * 2, nonce))

    def _admit_v1(self, request: Incoming) -> Admitted:
        params = {**request.query, **request.form}
        signature = params.get("Signature")
        if not signature or not params.get("AccessKeyId"):
            raise ApiFault(
                400,
                "IncompleteSignature",
                "The request signature does not conform to Aliyun standards.",
            )
        if params.get("SignatureMethod") != "HMAC-SHA1" or params.get("SignatureVersion") != "1.0":
            raise ApiFault(
                400, "InvalidSignatureMethod", "Only HMAC-SHA1 signature method 1.0 is supported."
            )
        account = self._account(params["AccessKeyId"], params.get("SecurityToken"))
        nonce = params.get("SignatureNonce", "")
        self._fresh(params.get("Timestamp", ""), nonce)
        expected = signing.v1_signature(
            params, method=request.method, secret=account.access_key_secret
        )
        if not hmac.compare_digest(expected, signature):
            raise _signature_mismatch(signing.v1_string_to_sign(params, method=request.method))
        self._remember(nonce)
        if params.get("Version") != API_VERSION:
            raise ApiFault(400, "InvalidVersion", "Specified parameter Version is not valid.")
        action = params.get("Action", "")
        business = {name: value for name, value in params.items() if name not in _V1_COMMON}
        return Admitted(account, action, business, nonce, "v1")

    def _admit_v3(self, request: Incoming, authorization: str) -> Admitted:
        parsed = signing.parse_v3_authorization(authorization)
        headers = request.headers
        required = ("x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce")
        if parsed is None or not all(headers.get(name) for name in required):
            raise ApiFault(
                400,
                "IncompleteSignature",
                "The request signature does not conform to Aliyun standards.",
            )
        access_key_id, signed_names, signature = parsed
        if "host" not in signed_names or any(name not in signed_names for name in required):
            raise ApiFault(
                400, "IncompleteSignature", "The host and x-acs-* headers must be signed."
            )
        account = self._account(access_key_id, headers.get("x-acs-security-token"))
        nonce = headers["x-acs-signature-nonce"]
        self._fresh(headers["x-acs-date"], nonce)
        payload_hash = hashlib.sha256(request.body).hexdigest()
        if headers.get("x-acs-content-sha256", payload_hash) != payload_hash:
            raise ApiFault(
                400, "IncompleteSignature", "x-acs-content-sha256 does not match the body."
            )
        canonical, _ = signing.v3_canonical_request(
            method=request.method,
            path=request.path,
            query=request.query,
            headers={name: headers.get(name, "") for name in signed_names},
            payload_sha256=headers.get("x-acs-content-sha256", payload_hash),
        )
        expected = signing.v3_signature(canonical, secret=account.access_key_secret)
        if not hmac.compare_digest(expected, signature):
            digest = hashlib.sha256(canonical.encode()).hexdigest()
            raise _signature_mismatch(f"{signing.V3_ALGORITHM}\n{digest}")
        self._remember(nonce)
        if headers["x-acs-version"] != API_VERSION:
            raise ApiFault(400, "InvalidVersion", "Specified parameter Version is not valid.")
        params = {**request.query, **request.form}
        params.pop("SecurityToken", None)
        return Admitted(account, headers["x-acs-action"], params, nonce, "v3")


_V1_COMMON = {
    "Action",
    "Version",
    "Format",
    "AccessKeyId",
    "Signature",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "SignatureType",
    "Timestamp",
    "SecurityToken",
    "RegionId",
}

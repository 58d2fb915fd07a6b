"""Where one account's shared state lives in Redis.

`{prefix}:rl:{account}:{Action}` holds the action's call schedule, `{prefix}:c:…:{query}` a
cached answer and `{prefix}:f:…:{query}` the token of the replica fetching it. `account` is
the first 12 hex digits of sha256(AccessKeyId), never the ID itself; `query` is the sha256 of
the request's canonical JSON (with the endpoint, so an emulator's answers never pass for the
real API's).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from bot.cdn.cache import Read


def account_tag(access_key_id: str) -> str:
    """The name keys give an account: a short hash of its AccessKeyId."""
    return hashlib.sha256(access_key_id.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class KeySpace:
    """The Redis key names of one account (`prefix` from REDIS_KEY_PREFIX)."""

    prefix: str
    account: str
    endpoint: str = ""

    @classmethod
    def of(cls, prefix: str, access_key_id: str, endpoint: str = "") -> KeySpace:
        """The key space of the account whose AccessKeyId this is."""
        return cls(prefix, account_tag(access_key_id), endpoint)

    def schedule(self, action: str) -> str:
        """The key of `action`'s shared call schedule."""
        return f"{self.prefix}:rl:{self.account}:{action}"

    def answer(self, read: Read[Any]) -> str:
        """The key of `read`'s cached answer."""
        return f"{self.prefix}:c:{self.account}:{read.action}:{self.query(read)}"

    def flight(self, read: Read[Any]) -> str:
        """The key naming the replica that is fetching `read`'s answer."""
        return f"{self.prefix}:f:{self.account}:{read.action}:{self.query(read)}"

    def query(self, read: Read[Any]) -> str:
        """The sha256 of the request's canonical JSON."""
        request = {"endpoint": self.endpoint, "action": read.action, "params": dict(read.params)}
        canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()

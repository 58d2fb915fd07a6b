"""What a person asks to refresh or prefetch → a validated Submission, and the API calls it takes.

`/cdn refresh URL…` (with `type:dir|regex|ignoreparams|file` and `force`) and `/cdn prefetch
URL…` (with `area:domestic|overseas`) become a Submission: every path checked against the
API's rules before anything is called, duplicates collapsed, and the paths split into calls
that respect the per-call limits (paths per call by kind, domains per call).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from bot.core.filters import MAX_URL, did_you_mean
from bot.core.tasks import RefreshQuota, Task, host_of
from bot.core.tokens import normalise
from bot.errors import BotError, InvalidQuery


class Action(StrEnum):
    """The two writes the bot makes."""

    REFRESH = "refresh"
    PREFETCH = "prefetch"


class Kind(StrEnum):
    """What a path names, spelt as RefreshObjectCaches' ObjectType (prefetch: always files)."""

    FILE = "File"
    DIRECTORY = "Directory"
    REGEX = "Regex"
    IGNORE_PARAMS = "IgnoreParams"


KIND_WORDS = {
    "file": Kind.FILE,
    "dir": Kind.DIRECTORY,
    "directory": Kind.DIRECTORY,
    "regex": Kind.REGEX,
    "ignoreparams": Kind.IGNORE_PARAMS,
}
AREAS = ("domestic", "overseas")
# Most paths one call may carry: RefreshObjectCaches by kind, PushObjectCache for prefetch.
PATHS_PER_CALL = {Kind.FILE: 1000, Kind.IGNORE_PARAMS: 1000, Kind.DIRECTORY: 100, Kind.REGEX: 1}
PREFETCH_PER_CALL = 100
DOMAINS_PER_CALL = 10
# One submission stays one decision a person can read: a few domains, a bounded list.
MAX_DOMAINS = 10
MAX_PATHS = 10_000
# Space of any kind separates paths; so does a comma before the next URL or at a path's end
# (a comma inside a query string stays: `?ids=1,2`).
_SEPARATORS = re.compile(
    r"(?:,(?=\s|https?://|$))?[\s\u00a0\u2000-\u200b\u202f\u205f\u3000\ufeff]+|,(?=https?://|$)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Submission:
    """Validated paths to refresh or prefetch, and how."""

    action: Action
    kind: Kind
    paths: tuple[str, ...]
    force: bool = False
    area: str | None = None

    @property
    def domains(self) -> Counter[str]:
        """How many paths each domain has, most first."""
        return Counter(host_of(path) for path in self.paths)

    @property
    def per_call(self) -> int:
        """The most paths one API call of this submission may carry."""
        return PREFETCH_PER_CALL if self.action is Action.PREFETCH else PATHS_PER_CALL[self.kind]

    def calls(self) -> tuple[tuple[str, ...], ...]:
        """The paths of each API call, in order: full calls, never more than ten domains each."""
        batches: list[list[str]] = []
        current: list[str] = []
        hosts: set[str] = set()
        for path in self.paths:
            host = host_of(path)
            full = len(current) >= self.per_call
            if full or (host not in hosts and len(hosts) >= DOMAINS_PER_CALL):
                batches.append(current)
                current, hosts = [], set()
            current.append(path)
            hosts.add(host)
        if current:
            batches.append(current)
        return tuple(tuple(batch) for batch in batches)


def quota_left(quota: RefreshQuota, submission: Submission) -> int:
    """Today's quota left for the kind `submission` uses (each path counts once)."""
    if submission.action is Action.PREFETCH:
        return quota.preload_remain
    return {
        Kind.FILE: quota.url_remain,
        Kind.DIRECTORY: quota.dir_remain,
        Kind.REGEX: quota.regex_remain,
        Kind.IGNORE_PARAMS: quota.ignore_params_remain,
    }[submission.kind]


@dataclass(frozen=True)
class CallOutcome:
    """One API call of a submission: the tasks it created, or why it did not (or was not sent)."""

    paths: tuple[str, ...]
    task_ids: tuple[str, ...] = ()
    request_id: str = ""
    error: BotError | None = None
    sent: bool = True


@dataclass(frozen=True)
class Submitted:
    """What became of every call of a submission, in order."""

    outcomes: tuple[CallOutcome, ...]

    @property
    def task_ids(self) -> tuple[str, ...]:
        """Every task the API created."""
        return tuple(task for outcome in self.outcomes for task in outcome.task_ids)

    @property
    def accepted(self) -> tuple[str, ...]:
        """The paths that went in."""
        return tuple(p for outcome in self.outcomes if outcome.error is None for p in outcome.paths)

    @property
    def refused(self) -> tuple[str, ...]:
        """The paths that did not go in (refused, or never sent after a refusal)."""
        return tuple(
            p for outcome in self.outcomes if outcome.error is not None for p in outcome.paths
        )

    @property
    def error(self) -> BotError | None:
        """The first refusal, if any."""
        return next((o.error for o in self.outcomes if o.error is not None), None)


# How long a confirmation can be clicked: quotas and caches move on, so an old one is stale.
CONFIRMATION_LIFETIME = timedelta(minutes=15)


@dataclass(frozen=True)
class Confirmation:
    """A submission shown to `user` in `channel` at `created_at`, waiting for one click."""

    id: str
    submission: Submission
    user: str
    channel: str
    created_at: datetime

    def expired(self, now: datetime) -> bool:
        """Whether it is too old to act on."""
        return now - self.created_at > CONFIRMATION_LIFETIME


@dataclass(frozen=True)
class Claim:
    """What a click on a confirmation found: `granted` to this click alone, or who used it."""

    confirmation: Confirmation | None
    granted: bool
    used_by: str | None = None
    used_at: datetime | None = None


class Writes(Protocol):
    """The write side of the CDN API as handlers see it (bot.cdn.writes.Writer is one)."""

    async def quota(self) -> RefreshQuota:
        """Today's quotas, read now."""
        ...

    async def submit(self, submission: Submission) -> Submitted:
        """Send every call of `submission`, stopping at the first refusal."""
        ...

    async def tasks(self, task_ids: Sequence[str]) -> list[Task]:
        """The current state of these tasks."""
        ...


def parse_submission(action: Action, text: str) -> Submission:
    """`text` after `/cdn refresh` or `/cdn prefetch` → a Submission, or InvalidQuery with a hint.

    Paths may be separated by spaces, commas or new lines; Slack's link wrapping is undone."""
    kind, force, area = Kind.FILE, False, None
    paths: list[str] = []
    for word in (w for w in _SEPARATORS.split(normalise(text)) if w):
        key, sep, value = word.partition(":")
        lowered = key.lower()
        if lowered == "force" and not sep:
            force = True
        elif sep and lowered == "type" and action is Action.REFRESH:
            kind = _kind(value)
        elif sep and lowered == "area" and action is Action.PREFETCH:
            area = _area(value)
        elif lowered in ("http", "https") and value.startswith("//"):
            paths.append(word)
        else:
            raise InvalidQuery("url", word[:80], _not_a_url(action, word))
    if force and action is Action.PREFETCH:
        raise InvalidQuery("force", "force", "`force` is for `/cdn refresh`; prefetch has none")
    unique = tuple(dict.fromkeys(_checked(path, kind) for path in paths))
    if not unique:
        raise InvalidQuery(
            "url", "", f"name at least one URL, like `/cdn {action} {_example(kind)}`"
        )
    if kind is Kind.FILE and force:
        raise InvalidQuery(
            "force", "force", "`force` applies to `type:dir`, `type:regex` or `type:ignoreparams`"
        )
    submission = Submission(action, kind, unique, force, area)
    _within_limits(submission)
    return submission


def _kind(value: str) -> Kind:
    found = KIND_WORDS.get(value.lower())
    if found is None:
        listing = ", ".join(f"`{word}`" for word in KIND_WORDS)
        raise InvalidQuery("type", value, f"{did_you_mean(value, KIND_WORDS)}use one of {listing}")
    return found


def _area(value: str) -> str:
    if value.lower() not in AREAS:
        raise InvalidQuery("area", value, "use `area:domestic` or `area:overseas`")
    return value.lower()


def _not_a_url(action: Action, word: str) -> str:
    options = "`type:`, `force`" if action is Action.REFRESH else "`area:`"
    if "://" in word:
        return "only http:// and https:// URLs can be refreshed or prefetched"
    if "." in word and ":" not in word:
        return f"add the scheme: `https://{word}`"
    if action is Action.PREFETCH:
        # `prefetch` used to be only a filter word: point a listing to where it lives now.
        return (
            f"that is not a URL; besides URLs this takes {options}. "
            "To list prefetch tasks, type `/cdn type:prefetch` and your filters"
        )
    return f"that is not a URL; besides URLs this takes {options}"


def _example(kind: Kind) -> str:
    if kind is Kind.DIRECTORY:
        return "https://www.example.com/static/"
    if kind is Kind.REGEX:
        return "https://www.example.com/img/.*\\.png"
    return "https://www.example.com/app.js"


def _checked(path: str, kind: Kind) -> str:
    host = host_of(path)
    if not host or host.startswith("*") or "." not in host:
        raise InvalidQuery(
            "url",
            path[:80],
            f"name the accelerated domain itself (no wildcards), like `{_example(kind)}`",
        )
    if len(path) > MAX_URL:
        raise InvalidQuery("url", path[:60] + "…", f"each path may be at most {MAX_URL} characters")
    if kind is Kind.DIRECTORY and not path.endswith("/"):
        raise InvalidQuery("url", path[:80], f"a directory ends with `/`: `{path}/`")
    if kind is not Kind.DIRECTORY and kind is not Kind.REGEX and path.endswith("/"):
        host_root = path.split("://", 1)[1].rstrip("/") == host
        if not host_root:
            raise InvalidQuery(
                "url", path[:80], "that is a directory: add `type:dir` to refresh everything in it"
            )
    return path


def _within_limits(submission: Submission) -> None:
    if len(submission.paths) > MAX_PATHS:
        raise InvalidQuery(
            "url", f"{len(submission.paths)} URLs", f"send at most {MAX_PATHS:,} at a time"
        )
    domains = submission.domains
    if len(domains) > MAX_DOMAINS:
        raise InvalidQuery(
            "domain",
            f"{len(domains)} domains",
            f"one submission may cover at most {MAX_DOMAINS} domains; split it by domain",
        )

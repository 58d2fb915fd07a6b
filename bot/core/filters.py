"""The filter vocabulary of `/cdn`: keys and their aliases, the words for types and statuses,
and the check of each value, each failure an InvalidQuery with what to type instead.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from enum import StrEnum
from typing import TypeVar

from bot.core.tasks import MAX_PAGE_NUMBER, MAX_PAGE_SIZE, ObjectType, Status, host_of
from bot.errors import InvalidQuery

E = TypeVar("E", bound=StrEnum)

MAX_TASK_IDS = 100
MAX_URL = 1024
# A Slack table holds 100 rows, one of them the headings: `size:100` shows 99 tasks there.
SLACK_PAGE_SIZE = MAX_PAGE_SIZE - 1

KEYS = {
    "id": "id", "ids": "id", "task": "id", "taskid": "id",
    "url": "url", "path": "url", "objectpath": "url",
    "domain": "domain", "host": "domain", "domainname": "domain",
    "type": "type", "objecttype": "type", "kind": "type",
    "status": "status", "state": "status",
    "since": "since", "from": "since", "start": "since", "after": "since",
    "until": "until", "to": "until", "end": "until", "before": "until",
    "page": "page", "size": "size", "pagesize": "size", "limit": "size",
    "rg": "rg", "resourcegroup": "rg", "resourcegroupid": "rg",
}  # fmt: skip
TYPE_WORDS = {
    "file": ObjectType.FILE, "files": ObjectType.FILE, "url": ObjectType.FILE,
    "directory": ObjectType.DIRECTORY, "dir": ObjectType.DIRECTORY,
    "folder": ObjectType.DIRECTORY,
    "preload": ObjectType.PRELOAD, "prefetch": ObjectType.PRELOAD, "push": ObjectType.PRELOAD,
    "regex": ObjectType.REGEX, "regexp": ObjectType.REGEX,
    "ignoreparams": ObjectType.IGNORE_PARAMS, "ignore-params": ObjectType.IGNORE_PARAMS,
    "block": ObjectType.BLOCK, "unblock": ObjectType.UNBLOCK,
}  # fmt: skip
STATUS_WORDS = {
    "complete": Status.COMPLETE, "completed": Status.COMPLETE, "done": Status.COMPLETE,
    "refreshing": Status.REFRESHING, "running": Status.REFRESHING,
    "in-progress": Status.REFRESHING, "inprogress": Status.REFRESHING,
    "failed": Status.FAILED, "failure": Status.FAILED, "fail": Status.FAILED,
    "pending": Status.PENDING, "queued": Status.PENDING, "waiting": Status.PENDING,
}  # fmt: skip
SUBCOMMANDS = {
    "task": "task", "tasks": "tasks", "list": "tasks", "ls": "tasks",
    "subscribe": "subscribe", "sub": "subscribe", "watch": "subscribe",
    "unsubscribe": "unsubscribe", "unsub": "unsubscribe", "unwatch": "unsubscribe",
    "subscriptions": "subscriptions", "subs": "subscriptions", "unmute": "unmute",
    "help": "help", "?": "help", "-h": "help", "--help": "help",
    "audit": "audit", "stats": "stats",
}  # fmt: skip
# What bare words may be misspellings of (for "did you mean").
VOCABULARY = sorted({*KEYS, *TYPE_WORDS, *STATUS_WORDS, *SUBCOMMANDS, "today", "yesterday"})

KEY_VALUE = re.compile(r"([A-Za-z][A-Za-z_-]*)\s*[:=](.*)", re.DOTALL)
_TASK_ID = re.compile(r"\d{1,20}")
_HOST_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_RESOURCE_GROUP = re.compile(r"[A-Za-z0-9_-]{1,64}")


def nearest(word: str, choices: Iterable[str], count: int = 3) -> list[str]:
    """Up to `count` choices that look most like `word`, best first."""
    return difflib.get_close_matches(word.lower(), list(choices), n=count, cutoff=0.5)


# What a word nobody understood is compared with, and the command (after `/cdn `) to copy.
_EXAMPLE_VALUES = {
    "id": "704225667", "url": "https://www.example.com/app.js", "domain": "www.example.com",
    "type": "file", "status": "failed", "since": "2h", "until": "30m", "page": "2",
    "size": "50", "rg": "rg-acfmyuji4b6r4",
}  # fmt: skip
_TRIES = {
    word: f"{word}:{_EXAMPLE_VALUES[KEYS[word]]}" if word in KEYS else word
    for word in [*VOCABULARY, "refresh"]
}
FALLBACK_COMMANDS = ("failed", "since:2h", "www.example.com")


def closest_commands(word: str) -> list[str]:
    """The two or three commands (after `/cdn `) closest to a word nobody understood."""
    return list(dict.fromkeys(_TRIES[match] for match in nearest(word, _TRIES, count=5)))[:3]


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice `word` is most likely a misspelling of, if any is close."""
    found = difflib.get_close_matches(word.lower(), list(choices), n=1, cutoff=0.7)
    return found[0] if found else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A "did you mean `x`? " prefix for a hint, or nothing."""
    guess = closest(word, choices)
    return f"did you mean `{guess}`? " if guess else ""


def task_ids(value: str) -> list[str]:
    """Comma-separated task IDs."""
    ids = [part.strip() for part in value.split(",") if part.strip()]
    bad = next((part for part in ids if not _TASK_ID.fullmatch(part)), None)
    if not ids or bad is not None:
        raise InvalidQuery(
            "id",
            bad or value,
            "a task ID is a number like `704225667`; separate several with commas",
        )
    return ids


def url(value: str) -> str:
    """A whole http(s) URL, at most MAX_URL characters."""
    if not re.match(r"https?://", value, re.IGNORECASE) or not host_of(value):
        raise InvalidQuery(
            "url",
            value,
            "give the whole URL with its scheme, like `url:https://www.example.com/a.png`",
        )
    if len(value) > MAX_URL:
        raise InvalidQuery(
            "url", value[:60] + "…", f"URLs longer than {MAX_URL} characters are not supported"
        )
    return value


def domain_name(value: str, *, wildcard: bool = False) -> str:
    """A host name, lower-cased; a pasted URL gives its host; `*.` only where allowed."""
    name = value.strip().lower()
    if "://" in name:
        name = host_of(name)
    if "," in name or " " in name:
        raise InvalidQuery("domain", value, "one domain per query; run one query per domain")
    name = name.rstrip(".")
    star = name.startswith("*.")
    if star and not wildcard:
        raise InvalidQuery(
            "domain",
            value,
            "wildcards work only in `/cdn subscribe`; "
            "give one exact domain, like `domain:img.example.com`",
        )
    bare = name[2:] if star else name
    try:
        ascii_name = bare.encode("idna").decode("ascii")
    except UnicodeError:
        ascii_name = ""
    labels = ascii_name.split(".")
    if (
        len(ascii_name) > 253
        or len(labels) < 2
        or not all(_HOST_LABEL.fullmatch(label) for label in labels)
    ):
        raise InvalidQuery(
            "domain", value, "that is not a domain name; use one like `www.example.com`"
        )
    return f"*.{bare}" if star else bare


def _word(field: str, value: str, words: dict[str, E], listing: str) -> E:
    found = words.get(value.lower())
    if found is None:
        raise InvalidQuery(field, value, f"{did_you_mean(value, words)}use one of {listing}")
    return found


def object_type(value: str) -> ObjectType:
    """A type word or alias."""
    listing = "`file`, `directory`, `preload`, `regex`, `ignoreparams`, `block`, `unblock`"
    return _word("type", value, TYPE_WORDS, listing)


def status(value: str) -> Status:
    """A status word or alias."""
    return _word("status", value, STATUS_WORDS, "`complete`, `refreshing`, `failed`, `pending`")


def _number(field: str, value: str, high: int, note: str = "") -> int:
    if not value.isdigit() or not 1 <= int(value) <= high:
        raise InvalidQuery(field, value, f"use a whole number from 1 to {high:,}{note}")
    return int(value)


def page(value: str) -> int:
    """A page number the API serves."""
    return _number("page", value, MAX_PAGE_NUMBER)


def page_size(value: str) -> int:
    """A page size the API serves."""
    return _number(
        "size", value, MAX_PAGE_SIZE, f" (a page in Slack shows at most {SLACK_PAGE_SIZE})"
    )


def wildcard_domain(value: str) -> str:
    """A domain for a subscription, where `*.example.com` means its subdomains."""
    return domain_name(value, wildcard=True)


def resource_group(value: str) -> str:
    """A resource group ID."""
    if not _RESOURCE_GROUP.fullmatch(value):
        raise InvalidQuery("rg", value, "a resource group ID looks like `rg-acfmyuji4b6r4`")
    return value

"""What people type after `/cdn` → a validated command; TaskQuery ⇄ compact string for buttons.

Every way the text can be wrong is an InvalidQuery naming the field, the value and what to type.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from pydantic import BaseModel, ConfigDict, Field

from bot.core import timeframe
from bot.core.tasks import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_NUMBER,
    MAX_PAGE_SIZE,
    ObjectType,
    Status,
    host_of,
)
from bot.core.tokens import tokenize
from bot.errors import InvalidQuery

MAX_TASK_IDS = 100
MAX_URL = 1024


class TaskQuery(BaseModel):
    """A validated task query; frozen and hashable because it is a cache key."""

    model_config = ConfigDict(frozen=True)

    task_ids: tuple[str, ...] = ()
    object_path: str | None = None
    object_type: ObjectType | None = None
    domain: str | None = None
    status: Status | None = None
    since: datetime | None = None
    until: datetime | None = None
    page: int = Field(default=1, ge=1, le=MAX_PAGE_NUMBER)
    size: int = Field(default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    resource_group: str | None = None

    def at_page(self, page: int) -> TaskQuery:
        """The same query on another page."""
        return self.model_copy(update={"page": page})


@dataclass(frozen=True)
class Help:
    """Show help (for `topic`); `unknown` is a word we did not understand, if that is why."""

    topic: str | None = None
    unknown: str | None = None


@dataclass(frozen=True)
class Subscribe:
    """Subscribe this channel to failures, optionally of one domain (`*.` for subdomains)/type."""

    domain: str | None = None
    object_type: ObjectType | None = None


@dataclass(frozen=True)
class Unsubscribe:
    """Remove this channel's matching subscription, or all of them."""

    domain: str | None = None
    object_type: ObjectType | None = None
    everything: bool = False


@dataclass(frozen=True)
class ListSubscriptions:
    """Show this channel's subscriptions."""


Command = TaskQuery | Help | Subscribe | Unsubscribe | ListSubscriptions

# -- vocabulary ------------------------------------------------------------------------------

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
LIST_WORDS = {"tasks", "list", "ls", "show", "find", "search"}
SUBCOMMANDS = {
    "task": "task", "tasks": "tasks", "list": "tasks", "ls": "tasks",
    "subscribe": "subscribe", "sub": "subscribe", "watch": "subscribe",
    "unsubscribe": "unsubscribe", "unsub": "unsubscribe", "unwatch": "unsubscribe",
    "subscriptions": "subscriptions", "subs": "subscriptions",
    "help": "help", "?": "help", "-h": "help", "--help": "help",
}  # fmt: skip
# What bare words may be misspellings of (for "did you mean").
_VOCABULARY = sorted({*KEYS, *TYPE_WORDS, *STATUS_WORDS, *SUBCOMMANDS, "today", "yesterday"})

_KEY_VALUE = re.compile(r"([A-Za-z][A-Za-z_-]*)\s*[:=](.*)", re.DOTALL)
_TASK_ID = re.compile(r"\d{1,20}")
_HOST_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_RESOURCE_GROUP = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _closest(word: str, choices: Iterable[str]) -> str | None:
    found = difflib.get_close_matches(word.lower(), list(choices), n=1, cutoff=0.7)
    return found[0] if found else None


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    guess = _closest(word, choices)
    return f"did you mean `{guess}`? " if guess else ""


# -- field values ----------------------------------------------------------------------------


def _task_ids(value: str) -> list[str]:
    ids = [part.strip() for part in value.split(",") if part.strip()]
    bad = next((part for part in ids if not _TASK_ID.fullmatch(part)), None)
    if not ids or bad is not None:
        raise InvalidQuery(
            "id",
            bad or value,
            "a task ID is a number like `704225667`; separate several with commas",
        )
    return ids


def _url(value: str) -> str:
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


def _object_type(value: str) -> ObjectType:
    found = TYPE_WORDS.get(value.lower())
    if found is None:
        raise InvalidQuery(
            "type",
            value,
            f"{_did_you_mean(value, TYPE_WORDS)}use one of "
            "`file`, `directory`, `preload`, `regex`, `ignoreparams`, `block`, `unblock`",
        )
    return found


def _status(value: str) -> Status:
    found = STATUS_WORDS.get(value.lower())
    if found is None:
        raise InvalidQuery(
            "status",
            value,
            f"{_did_you_mean(value, STATUS_WORDS)}use one of "
            "`complete`, `refreshing`, `failed`, `pending`",
        )
    return found


def _number(field: str, value: str, high: int) -> int:
    if not value.isdigit() or not 1 <= int(value) <= high:
        raise InvalidQuery(field, value, f"use a whole number from 1 to {high:,}")
    return int(value)


def _resource_group(value: str) -> str:
    if not _RESOURCE_GROUP.fullmatch(value):
        raise InvalidQuery("rg", value, "a resource group ID looks like `rg-acfmyuji4b6r4`")
    return value


# -- text → fields ---------------------------------------------------------------------------


class _Fields:
    """Raw field values collected from tokens, refusing repeats."""

    def __init__(self) -> None:
        self.raw: dict[str, str] = {}
        self.task_ids: list[str] = []

    def put(self, field: str, value: str) -> None:
        if field == "id":
            self.task_ids += [i for i in _task_ids(value) if i not in self.task_ids]
            return
        if field in self.raw:
            raise InvalidQuery(
                field,
                value,
                f"`{field}` is given twice (`{self.raw[field]}` and `{value}`); keep one",
            )
        self.raw[field] = value


def _bare(token: str, fields: _Fields) -> bool:
    """Infer what a token without `key:` means; False when it means nothing we know."""
    word = token.lower()
    if re.fullmatch(r"[\d,]+", token) and any(c.isdigit() for c in token):
        fields.put("id", token)
    elif re.match(r"https?://", token, re.IGNORECASE):
        fields.put("url", token)
    elif word in STATUS_WORDS:
        fields.put("status", token)
    elif word in TYPE_WORDS and word != "url":
        fields.put("type", token)
    elif word == "today":
        fields.put("since", token)
    elif word == "yesterday":
        fields.put("since", token)
        fields.put("until", token)  # as an end, a whole day means its end
    elif "." in token and not token.startswith(".") and re.fullmatch(r"[\w.*-]+", token):
        fields.put("domain", token)
    else:
        return False
    return True


def _collect(tokens: list[str]) -> _Fields:
    fields = _Fields()
    for token in tokens:
        if re.match(r"https?://", token, re.IGNORECASE):
            fields.put("url", token)
            continue
        pair = _KEY_VALUE.fullmatch(token)
        if pair:
            key, value = pair[1].lower(), pair[2].strip()
            field = KEYS.get(key.replace("_", "").replace("-", ""))
            if field is None:
                raise InvalidQuery(
                    key,
                    value,
                    f"{_did_you_mean(key, KEYS)}filters are "
                    "`id: url: domain: type: status: since: until: page: size: rg:`",
                )
            if not value:
                raise InvalidQuery(field, token, f"give a value, e.g. `{_EXAMPLES[field]}`")
            fields.put(field, value)
        elif not _bare(token, fields):
            guess = _closest(token, _VOCABULARY)
            hint = f"did you mean `{guess}`? " if guess else ""
            raise InvalidQuery(
                "filter",
                token,
                f"{hint}write filters as `key:value` (like `status:failed`), "
                "or give a task ID, a URL or a domain; `/cdn help` lists them all",
            )
    return fields


_EXAMPLES = {
    "id": "id:704225667",
    "url": "url:https://www.example.com/a.png",
    "domain": "domain:www.example.com",
    "type": "type:file",
    "status": "status:failed",
    "since": "since:2h",
    "until": "until:30m",
    "page": "page:2",
    "size": "size:50",
    "rg": "rg:rg-acfmyuji4b6r4",
}


def _build(fields: _Fields, *, now: datetime, tz: tzinfo) -> TaskQuery:
    raw = fields.raw
    if len(fields.task_ids) > MAX_TASK_IDS:
        raise InvalidQuery(
            "id", f"{len(fields.task_ids)} IDs", f"look up at most {MAX_TASK_IDS} task IDs at once"
        )
    if fields.task_ids and "rg" in raw:
        raise InvalidQuery(
            "rg", raw["rg"], "lookups by task ID cannot be limited to a resource group"
        )
    since = (
        timeframe.parse_moment("since", raw["since"], now=now, tz=tz, end=False)
        if "since" in raw
        else None
    )
    until = (
        timeframe.parse_moment("until", raw["until"], now=now, tz=tz, end=True)
        if "until" in raw
        else None
    )
    since, until = timeframe.checked_window(since, until, now=now, tz=tz, typed=raw)
    return TaskQuery(
        task_ids=tuple(fields.task_ids),
        object_path=_url(raw["url"]) if "url" in raw else None,
        object_type=_object_type(raw["type"]) if "type" in raw else None,
        domain=domain_name(raw["domain"]) if "domain" in raw else None,
        status=_status(raw["status"]) if "status" in raw else None,
        since=since,
        until=until,
        page=_number("page", raw["page"], MAX_PAGE_NUMBER) if "page" in raw else 1,
        size=_number("size", raw["size"], MAX_PAGE_SIZE) if "size" in raw else DEFAULT_PAGE_SIZE,
        resource_group=_resource_group(raw["rg"]) if "rg" in raw else None,
    )


def _subscription_filters(
    tokens: list[str], *, allow_all: bool
) -> tuple[str | None, ObjectType | None, bool]:
    if allow_all and [t.lower() for t in tokens] == ["all"]:
        return None, None, True
    fields = _collect(tokens)
    extra = sorted(set(fields.raw) - {"domain", "type"}) + (["id"] if fields.task_ids else [])
    if extra:
        raise InvalidQuery(
            extra[0],
            fields.raw.get(extra[0], ",".join(fields.task_ids)),
            "subscriptions filter only by `domain:` and `type:`",
        )
    domain = domain_name(fields.raw["domain"], wildcard=True) if "domain" in fields.raw else None
    kind = _object_type(fields.raw["type"]) if "type" in fields.raw else None
    return domain, kind, False


def parse_query(text: str, *, now: datetime, tz: tzinfo = UTC) -> Command:
    """The command in `text`, or InvalidQuery saying exactly what to change."""
    tokens = tokenize(text)
    if not tokens:
        return Help()
    head = tokens[0].lower()
    rest = tokens[1:]
    command = SUBCOMMANDS.get(head)
    if command == "help":
        return Help(topic=" ".join(rest).lower() or None)
    if command == "subscriptions":
        return ListSubscriptions()
    if command == "subscribe":
        domain, kind, _ = _subscription_filters(rest, allow_all=False)
        return Subscribe(domain=domain, object_type=kind)
    if command == "unsubscribe":
        domain, kind, everything = _subscription_filters(rest, allow_all=True)
        return Unsubscribe(domain=domain, object_type=kind, everything=everything)
    if command == "task":
        query = _build(_collect(rest), now=now, tz=tz)
        if not query.task_ids:
            raise InvalidQuery(
                "id", " ".join(rest), "give one or more task IDs, like `/cdn task 704225667`"
            )
        return query
    if command == "tasks":
        return _build(_collect(rest), now=now, tz=tz)
    if re.fullmatch(r"[a-z]+", head) and not _bare(head, _Fields()) and head not in KEYS:
        guess = _closest(head, SUBCOMMANDS)
        if guess is None:
            return Help(unknown=tokens[0])
    return _build(_collect(tokens), now=now, tz=tz)


# -- button values ---------------------------------------------------------------------------

_PREFIX = "q1"
_SHORT = {
    "i": "id", "t": "type", "d": "domain", "s": "status", "f": "since", "u": "until",
    "p": "page", "n": "size", "g": "rg",
}  # fmt: skip
_LONG = {field: short for short, field in _SHORT.items()}


def encode_query(query: TaskQuery) -> str:
    """A compact, lossless form for button values: `q1;d=a.com;s=failed;o=<url>`.

    The URL goes last and verbatim (it may hold any character), so the whole string stays under
    Slack's 2000-character limit even with a 1024-character URL.
    """
    parts = [_PREFIX]
    values = {
        "id": ",".join(query.task_ids),
        "type": query.object_type.value.lower() if query.object_type else "",
        "domain": query.domain or "",
        "status": query.status.value.lower() if query.status else "",
        "since": f"{query.since:%Y-%m-%dT%H:%M:%SZ}" if query.since else "",
        "until": f"{query.until:%Y-%m-%dT%H:%M:%SZ}" if query.until else "",
        "page": str(query.page) if query.page != 1 else "",
        "size": str(query.size) if query.size != DEFAULT_PAGE_SIZE else "",
        "rg": query.resource_group or "",
    }
    parts += [f"{_LONG[field]}={value}" for field, value in values.items() if value]
    if query.object_path is not None:
        parts.append(f"o={query.object_path}")
    return ";".join(parts)


def decode_query(value: str, *, now: datetime, tz: tzinfo = UTC) -> TaskQuery:
    """The query a button carries, validated exactly like typed input."""
    head, _, url = value.partition(";o=")
    parts = head.split(";")
    if parts[0] != _PREFIX:
        raise InvalidQuery(
            "button", value[:40], "this button is from another version; run the command again"
        )
    fields = _Fields()
    for part in parts[1:]:
        short, sep, item = part.partition("=")
        if not sep or short not in _SHORT or not item:
            raise InvalidQuery(
                "button", value[:40], "this button's query is damaged; run the command again"
            )
        fields.put(_SHORT[short], item)
    if url:
        fields.put("url", url)
    return _build(fields, now=now, tz=tz)

"""What people type after `/cdn` → a validated command; TaskQuery ⇄ compact string for buttons.

Every way the text can be wrong is an InvalidQuery naming the field, the value and what to type.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field

from bot.core import filters, timeframe
from bot.core.display import shorten_middle
from bot.core.submission import Action
from bot.core.tasks import (
    DEFAULT_PAGE_SIZE,
    HISTORY_DAYS,
    MAX_PAGE_NUMBER,
    MAX_PAGE_SIZE,
    ObjectType,
    Status,
    format_api_time,
)
from bot.core.tokens import tokenize
from bot.errors import InvalidQuery

T = TypeVar("T")


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
    # Domain patterns the answer is limited to (a channel's scope). Set by the access policy on
    # every request, never carried in a button: a tampered button cannot widen it.
    within: tuple[str, ...] = ()

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
    """Subscribe this channel to failures, optionally of one domain (`*.` for subdomains)/type;
    `stuck` says whether it also hears of tasks that never finish (`stuck:off` opts out)."""

    domain: str | None = None
    object_type: ObjectType | None = None
    stuck: bool = True


@dataclass(frozen=True)
class Unsubscribe:
    """Remove this channel's matching subscription, or all of them."""

    domain: str | None = None
    object_type: ObjectType | None = None
    everything: bool = False


@dataclass(frozen=True)
class Unmute:
    """Lift this channel's mute of `domain`, or every mute here."""

    domain: str | None = None
    everything: bool = False


@dataclass(frozen=True)
class ListSubscriptions:
    """Show this channel's subscriptions."""


@dataclass(frozen=True)
class ShowAudit:
    """Show the newest entries of the audit trail (admins only)."""

    limit: int = 20


@dataclass(frozen=True)
class Stats:
    """`/cdn stats`: how the tasks of a period went, and the period before, for comparison."""

    since: datetime
    until: datetime
    domain: str | None = None
    object_type: ObjectType | None = None


@dataclass(frozen=True)
class Write:
    """`/cdn refresh …` or `/cdn prefetch …`: `text` is read once the person may submit
    (bot.core.submission.parse_submission); empty, it asks for the URLs in a form."""

    action: Action
    text: str = ""


Command = (
    TaskQuery
    | Help
    | Subscribe
    | Unsubscribe
    | Unmute
    | ListSubscriptions
    | ShowAudit
    | Stats
    | Write
)
# `stuck:off` / `stuck:on` after `/cdn subscribe`.
_STUCK = re.compile(r"stuck\s*[:=]\s*(on|off|yes|no|true|false)", re.IGNORECASE)
# What `/cdn stats` covers when no `since:` is given.
STATS_PERIOD = timedelta(days=1)
# The first word of a write, and what follows it verbatim (its own parser splits URLs).
_WRITE = re.compile(r"\s*(refresh|prefetch)(?:\s+|$)", re.IGNORECASE)
# How much of a typed token an error echoes back.
ECHO_WIDTH = 60
_DOMAINISH = re.compile(r"[\w*-]+(?:\.[\w*-]+)+\.?")

# -- text → fields ---------------------------------------------------------------------------


class _Fields:
    """Raw field values collected from tokens, refusing repeats."""

    def __init__(self) -> None:
        self.raw: dict[str, str] = {}
        self.task_ids: list[str] = []

    def put(self, field: str, value: str) -> None:
        if field == "id":
            self.task_ids += [i for i in filters.task_ids(value) if i not in self.task_ids]
            return
        if field in self.raw:
            raise InvalidQuery(
                field,
                shorten_middle(value, ECHO_WIDTH),
                f"`{field}` is given twice (`{shorten_middle(self.raw[field], ECHO_WIDTH)}` and "
                f"`{shorten_middle(value, ECHO_WIDTH)}`); keep one",
            )
        self.raw[field] = value


def _bare(token: str, fields: _Fields) -> bool:
    """Infer what a token without `key:` means; False when it means nothing we know."""
    word = token.lower()
    if re.fullmatch(r"[\d,]+", token) and any(c.isdigit() for c in token):
        fields.put("id", token)
    elif re.match(r"https?://", token, re.IGNORECASE):
        fields.put("url", token)
    elif word in filters.STATUS_WORDS:
        fields.put("status", token)
    elif word in filters.TYPE_WORDS and word != "url":
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


def _shown(token: str) -> str:
    """A token as echoed back: long ones lose their middle, so a reply never breaks mid-markup."""
    return shorten_middle(token, ECHO_WIDTH)


def _command(lead: list[str], tokens: list[str]) -> str:
    """The whole command to copy, `/cdn …`, each part shortened and quoted if it holds a space."""
    parts = [f'"{t}"' if " " in t else t for t in [*lead, *tokens]]
    return "`/cdn " + " ".join(_shown(part) for part in parts) + "`"


def _domain_list(tokens: list[str], start: int) -> tuple[list[str], int]:
    """The domains of a comma-separated list at `start` (`a.com, b.com`), and where it ends."""
    text, end = "", start
    while end < len(tokens) and (end == start or text.endswith(",") or tokens[end][:1] == ","):
        text += tokens[end]
        end += 1
    names = [part for part in text.split(",") if part]
    if "," not in text or len(names) < 2 or not all(_DOMAINISH.fullmatch(n) for n in names):
        return [], start
    return names, end


def _listed_domains(tokens: list[str], at: int, lead: list[str]) -> None:
    """Refuse `www.example.com, img.example.com` with the command for the first domain."""
    names, end = _domain_list(tokens, at)
    if names:
        fixed = [*tokens[:at], names[0].lower(), *tokens[end:]]
        raise InvalidQuery(
            "domain",
            _shown(" ".join(tokens[at:end])),
            f"one domain at a time: {_command(lead, fixed)}, then the same for "
            + ", ".join(f"`{_shown(n)}`" for n in names[1:]),
        )


def _phrased(tokens: list[str], at: int, lead: list[str]) -> InvalidQuery | None:
    """A correction for natural phrasings: `since 2h`, `last 2h`, `a.com/x`."""
    token, after = tokens[at], tokens[at + 1 : at + 2]
    word = token.lower().rstrip(":=")
    key = "since" if word in ("last", "past") else filters.KEYS.get(word)
    if key and after and not filters.KEY_VALUE.fullmatch(after[0]):
        fixed = [*tokens[:at], f"{key}:{after[0]}", *tokens[at + 2 :]]
        return InvalidQuery(
            "filter",
            _shown(f"{token} {after[0]}"),
            f"did you mean `{key}:{_shown(after[0])}`? Try {_command(lead, fixed)}",
        )
    if key and not after:
        return InvalidQuery(key, _shown(token), f"give a value, e.g. `{_EXAMPLES[key]}`")
    host = token.split("/", 1)[0]
    if "/" in token and _DOMAINISH.fullmatch(host) and "." in host:
        fixed = [*tokens[:at], f"url:https://{token}", *tokens[at + 1 :]]
        return InvalidQuery(
            "url",
            _shown(token),
            f"a URL needs its scheme: did you mean `url:https://{_shown(token)}`? "
            f"Try {_command(lead, fixed)} (or `http://` if the site is served without TLS)",
        )
    return None


def _one_value(field: str, value: str, tokens: list[str], at: int, lead: list[str]) -> None:
    """Refuse `status:failed,refreshing` and the like with the command for the first value."""
    values = [v.strip() for v in value.split(",") if v.strip()]
    if field not in ("status", "type", "domain") or len(values) < 2:
        return
    pair = filters.KEY_VALUE.fullmatch(tokens[at])
    key = pair[1] if pair else field
    fixed = [*tokens[:at], f"{key}:{values[0]}", *tokens[at + 1 :]]
    raise InvalidQuery(
        field,
        _shown(value),
        f"one {field} at a time: {_command(lead, fixed)}, then the same with "
        + ", ".join(f"`{field}:{_shown(v)}`" for v in values[1:]),
    )


def _collect(tokens: list[str], lead: list[str] | None = None) -> _Fields:
    """The fields in `tokens`; `lead` is the subcommand before them, for corrected commands."""
    lead = lead or []
    fields = _Fields()
    for at, token in enumerate(tokens):
        if re.match(r"https?://", token, re.IGNORECASE):
            fields.put("url", token)
            continue
        pair = filters.KEY_VALUE.fullmatch(token)
        if pair and pair[2].strip():
            key, value = pair[1].lower(), pair[2].strip()
            field = filters.KEYS.get(key.replace("_", "").replace("-", ""))
            if field is None:
                raise InvalidQuery(
                    _shown(key),
                    _shown(value),
                    f"{filters.did_you_mean(key, filters.KEYS)}filters are "
                    "`id: url: domain: type: status: since: until: page: size: rg:`",
                )
            _one_value(field, value, tokens, at, lead)
            fields.put(field, value)
            continue
        _listed_domains(tokens, at, lead)
        if _bare(token, fields):
            continue
        phrased = _phrased(tokens, at, lead)
        if phrased is not None:
            raise phrased
        if pair:
            field = filters.KEYS.get(pair[1].lower().replace("_", "").replace("-", ""))
            if field is None:
                raise InvalidQuery(
                    _shown(pair[1].lower()),
                    "",
                    f"{filters.did_you_mean(pair[1], filters.KEYS)}filters are "
                    "`id: url: domain: type: status: since: until: page: size: rg:`",
                )
            raise InvalidQuery(field, _shown(token), f"give a value, e.g. `{_EXAMPLES[field]}`")
        guess = filters.closest(token, filters.VOCABULARY)
        hint = f"did you mean `{guess}`? " if guess else ""
        raise InvalidQuery(
            "filter",
            _shown(token),
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


def _optional(raw: dict[str, str], field: str, convert: Callable[[str], T]) -> T | None:
    return convert(raw[field]) if field in raw else None


def _build(
    fields: _Fields, *, now: datetime, tz: tzinfo, kept_days: int = HISTORY_DAYS
) -> TaskQuery:
    raw = fields.raw
    if len(fields.task_ids) > filters.MAX_TASK_IDS:
        count = f"{len(fields.task_ids)} IDs"
        raise InvalidQuery("id", count, f"look up at most {filters.MAX_TASK_IDS} task IDs at once")
    if fields.task_ids and "rg" in raw:
        raise InvalidQuery("rg", raw["rg"], "lookups by task ID cannot use a resource group")
    moments = {
        name: timeframe.parse_moment(name, raw[name], now=now, tz=tz, end=name == "until")
        for name in ("since", "until")
        if name in raw
    }
    since, until = timeframe.checked_window(
        moments.get("since"), moments.get("until"), now=now, tz=tz, typed=raw, kept_days=kept_days
    )
    return TaskQuery(
        task_ids=tuple(fields.task_ids),
        object_path=_optional(raw, "url", filters.url),
        object_type=_optional(raw, "type", filters.object_type),
        # `*.example.com` too: the task source expands it over the account's domains.
        domain=_optional(raw, "domain", lambda value: filters.domain_name(value, wildcard=True)),
        status=_optional(raw, "status", filters.status),
        since=since,
        until=until,
        page=_optional(raw, "page", filters.page) or 1,
        size=_optional(raw, "size", filters.page_size) or DEFAULT_PAGE_SIZE,
        resource_group=_optional(raw, "rg", filters.resource_group),
    )


def _subscription_filters(
    tokens: list[str], lead: list[str], *, allow_all: bool
) -> tuple[str | None, ObjectType | None, bool]:
    if allow_all and [t.lower() for t in tokens] == ["all"]:
        return None, None, True
    fields = _collect(tokens, lead)
    extra = sorted(set(fields.raw) - {"domain", "type"}) + (["id"] if fields.task_ids else [])
    if extra:
        raise InvalidQuery(
            extra[0],
            fields.raw.get(extra[0], ",".join(fields.task_ids)),
            "subscriptions filter only by `domain:` and `type:`",
        )
    domain = _optional(fields.raw, "domain", filters.wildcard_domain)
    kind = _optional(fields.raw, "type", filters.object_type)
    return domain, kind, False


def _stats(
    tokens: list[str], lead: list[str], *, now: datetime, tz: tzinfo, kept_days: int
) -> Stats:
    fields = _collect(tokens, lead)
    allowed = {"domain", "type", "since", "until"}
    extra = sorted(set(fields.raw) - allowed) + (["id"] if fields.task_ids else [])
    if extra:
        raise InvalidQuery(
            extra[0],
            fields.raw.get(extra[0], ",".join(fields.task_ids)),
            "stats filter by `domain:`, `type:`, `since:` and `until:`: "
            "`/cdn stats domain:www.example.com since:7d`",
        )
    query = _build(fields, now=now, tz=tz, kept_days=kept_days)
    if query.domain is not None and "*" in query.domain:
        raise InvalidQuery("domain", query.domain, "stats cover one domain, or leave it out")
    until = query.until or now.replace(microsecond=0)
    return Stats(
        since=query.since or until - STATS_PERIOD,
        until=until,
        domain=query.domain,
        object_type=query.object_type,
    )


def _unmute(tokens: list[str], lead: list[str]) -> Unmute:
    domain, kind, everything = _subscription_filters(tokens, lead, allow_all=True)
    if kind is not None:
        raise InvalidQuery(
            "type", kind.value, "a mute covers every type: `/cdn unmute www.example.com`"
        )
    if domain is None and not everything:
        raise InvalidQuery(
            "unmute",
            " ".join(tokens),
            "say which domain: `/cdn unmute www.example.com`, or `/cdn unmute all`",
        )
    return Unmute(domain=domain, everything=everything)


def _is_stray_word(word: str) -> bool:
    return (
        re.fullmatch(r"[a-z]+", word) is not None
        and word not in filters.KEYS
        and word not in ("last", "past")
        and not _bare(word, _Fields())
        and filters.closest(word, filters.VOCABULARY) is None
    )


def parse_query(
    text: str, *, now: datetime, tz: tzinfo = UTC, kept_days: int = HISTORY_DAYS
) -> Command:
    """The command in `text`, or InvalidQuery saying exactly what to change. `kept_days` is
    how far back times may go: the API's three days, or the bot's own history."""
    try:
        return _parse(text, now=now, tz=tz, kept_days=kept_days)
    except InvalidQuery as error:
        if len(error.value) <= ECHO_WIDTH:
            raise
        # Echoed whole, a 3,000-character token would push the message past Slack's limits.
        raise InvalidQuery(error.field, _shown(error.value), error.hint) from None


def _parse(text: str, *, now: datetime, tz: tzinfo, kept_days: int) -> Command:
    write = _WRITE.match(text)
    if write:
        return Write(Action(write[1].lower()), text[write.end() :])
    tokens = tokenize(text)
    if not tokens:
        return Help()
    head = tokens[0].lower()
    rest = tokens[1:]
    command = filters.SUBCOMMANDS.get(head)
    if command == "help":
        return Help(topic=" ".join(rest).lower() or None)
    if command == "subscriptions":
        return ListSubscriptions()
    if command == "audit":
        count = rest[0] if rest else "20"
        if len(rest) > 1 or not count.isdigit() or not 1 <= int(count) <= 100:
            raise InvalidQuery(
                "audit", " ".join(rest), "give how many entries, 1 to 100: `/cdn audit 50`"
            )
        return ShowAudit(int(count))
    if command == "subscribe":
        stuck = [_STUCK.fullmatch(token) for token in rest]
        wanted = [match[1].lower() in ("on", "yes", "true") for match in stuck if match]
        if len(wanted) > 1:
            raise InvalidQuery("stuck", "twice", "say `stuck:off` once, or leave it out")
        plain = [token for token, match in zip(rest, stuck, strict=True) if not match]
        domain, kind, _ = _subscription_filters(plain, tokens[:1], allow_all=False)
        return Subscribe(domain=domain, object_type=kind, stuck=wanted[0] if wanted else True)
    if command == "stats":
        return _stats(rest, tokens[:1], now=now, tz=tz, kept_days=kept_days)
    if command == "unsubscribe":
        domain, kind, everything = _subscription_filters(rest, tokens[:1], allow_all=True)
        return Unsubscribe(domain=domain, object_type=kind, everything=everything)
    if command == "unmute":
        return _unmute(rest, tokens[:1])
    if command == "task":
        query = _build(_collect(rest, tokens[:1]), now=now, tz=tz, kept_days=kept_days)
        if not query.task_ids:
            raise InvalidQuery(
                "id", " ".join(rest), "give one or more task IDs, like `/cdn task 704225667`"
            )
        return query
    if command == "tasks":
        return _build(_collect(rest, tokens[:1]), now=now, tz=tz, kept_days=kept_days)
    # A first word we cannot place: help, unless it looks like a typo we can point out.
    if _is_stray_word(head):
        return Help(unknown=tokens[0])
    return _build(_collect(tokens), now=now, tz=tz, kept_days=kept_days)


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
        "since": format_api_time(query.since) if query.since else "",
        "until": format_api_time(query.until) if query.until else "",
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

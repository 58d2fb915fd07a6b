"""The one table that turns `bot.errors` into words people read, in Slack and in the terminal.

The words are plain text: whoever shows them (Slack renderer, terminal) escapes them for its medium.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from bot.errors import (
    AlreadySubmitted,
    BotError,
    ConfigurationError,
    ConfirmationGone,
    CredentialsRejected,
    InvalidQuery,
    MalformedResponse,
    NotAllowed,
    NotEnoughQuota,
    PartlySubmitted,
    PermissionDenied,
    QueryTooCostly,
    QueryTooDeep,
    QuotaExceeded,
    RequestRejected,
    TasksNotFound,
    Throttled,
    TookTooLong,
    TooManyInFlight,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
    UpstreamUnreachable,
    UserInputError,
)

E = TypeVar("E", bound=BotError)
Wording = Callable[[BotError], str]
WORDING: dict[type[BotError], Wording] = {}


def _words(kind: type[E]) -> Callable[[Callable[[E], str]], Callable[[E], str]]:
    def register(function: Callable[[E], str]) -> Callable[[E], str]:
        WORDING[kind] = function  # type: ignore[assignment]
        return function

    return register


def _request(error: UpstreamError) -> str:
    return f" (request ID {error.request_id})" if error.request_id else ""


@_words(BotError)
def _bot_error(error: BotError) -> str:
    del error
    return "Something went wrong on our side."


@_words(UserInputError)
def _user_input(error: UserInputError) -> str:
    del error
    return "That input cannot be used. Try `/cdn help`."


@_words(InvalidQuery)
def _invalid_query(error: InvalidQuery) -> str:
    return f"`{error.field}: {error.value}` — {error.hint}"


@_words(NotAllowed)
def _not_allowed(error: NotAllowed) -> str:
    detail = f" {error.detail}" if error.detail else ""
    return f"Sorry, you may not {error.what} here.{detail} Ask {error.contact} if you need to."


@_words(QueryTooDeep)
def _too_deep(error: QueryTooDeep) -> str:
    deepest = max(1, error.limit // error.size)
    return (
        f"Page {error.page} is too deep for a list merged across task types: without `type:` "
        f"I read the newest {error.limit:,} tasks, which is page {deepest} at `size:{error.size}`. "
        "Add `type:file` (or `type:dir`, `type:preload`) to page as deep as you like, "
        "or narrow the time with `since:`/`until:`."
    )


@_words(QueryTooCostly)
def _too_costly(error: QueryTooCostly) -> str:
    return (
        f"That would take {error.calls} calls to Alibaba Cloud CDN; one command may make "
        f"{error.budget}. Add `type:` or fewer task IDs, or narrow the time with `since:`."
    )


@_words(TooManyInFlight)
def _too_many_in_flight(error: TooManyInFlight) -> str:
    return (
        f"You already have {error.limit} commands waiting for an answer. "
        "Wait for one of them to finish, then try again."
    )


# DescribeRefreshQuota's quotas, by what a submission does: (action, kind) → the quota's name.
_QUOTA_NAMES = {
    ("refresh", "File"): "URL refresh",
    ("refresh", "Directory"): "directory refresh",
    ("refresh", "Regex"): "regex refresh",
    ("refresh", "IgnoreParams"): "refresh-ignoring-parameters",
    ("prefetch", "File"): "prefetch",
}


def quota_name(action: str, kind: str) -> str:
    """The daily quota a refresh or prefetch of `kind` draws on, as people call it."""
    return _QUOTA_NAMES.get((action, kind), f"{action} {kind}")


@_words(NotEnoughQuota)
def _not_enough_quota(error: NotEnoughQuota) -> str:
    name = quota_name(error.action, error.kind)
    return (
        f"Not enough quota: this {error.action} needs {error.wanted:,} of today's {name} quota, "
        f"and {error.left:,} is left. Send at most {error.left:,} now, or the rest after the "
        "quota resets tomorrow. Nothing was submitted."
    )


@_words(ConfirmationGone)
def _confirmation_gone(error: ConfirmationGone) -> str:
    if error.expired:
        return (
            "That confirmation has expired (they last 15 minutes, since quotas move on). "
            "Nothing was submitted: run the command again for a fresh one."
        )
    return "That confirmation is unknown here. Nothing was submitted: run the command again."


@_words(AlreadySubmitted)
def _already_submitted(error: AlreadySubmitted) -> str:
    return (
        f"Already submitted by @{error.used_by} at {error.used_at:%Y-%m-%d %H:%M:%S %Z}. "
        "A confirmation submits once, so nothing more was sent."
    )


@_words(TasksNotFound)
def _tasks_not_found(error: TasksNotFound) -> str:
    shown = ", ".join(error.task_ids[:10])
    more = f" and {len(error.task_ids) - 10:,} more" if len(error.task_ids) > 10 else ""
    where = ", or outside the domains this channel may see" if error.scoped else ""
    return (
        f"No task {shown}{more}: it is older than the CDN keeps tasks, or not this "
        f"account's{where}."
    )


@_words(PartlySubmitted)
def _partly_submitted(error: PartlySubmitted) -> str:
    if not error.accepted:
        return f"{describe(error.cause)} Nothing was submitted."
    return (
        f"{describe(error.cause)} Only {error.accepted:,} of {error.wanted:,} URLs went in "
        f"(tasks {', '.join(error.task_ids)})."
    )


@_words(TookTooLong)
def _took_too_long(error: TookTooLong) -> str:
    return (
        f"No answer from Alibaba Cloud CDN within {error.seconds:g} seconds, so I stopped "
        "asking. It may be busy or rate-limiting the account: try again in a minute, "
        "or narrow the query."
    )


@_words(ConfigurationError)
def _configuration(error: ConfigurationError) -> str:
    return f"The bot is not configured correctly: {error.setting} {error.problem}."


@_words(UpstreamError)
def _upstream(error: UpstreamError) -> str:
    return f"Alibaba Cloud CDN answered with an unexpected error {error.code}{_request(error)}."


@_words(Throttled)
def _throttled(error: Throttled) -> str:
    return (
        "Alibaba Cloud CDN is rate-limiting this account right now. "
        f"Wait a few seconds and try again{_request(error)}."
    )


@_words(UpstreamUnavailable)
def _unavailable(error: UpstreamUnavailable) -> str:
    return (
        "Alibaba Cloud CDN is having trouble answering (it reported "
        f"{error.code or 'a server error'}). Try again in a minute{_request(error)}."
    )


@_words(UpstreamUnreachable)
def _unreachable(error: UpstreamUnreachable) -> str:
    del error
    return "The bot cannot reach the Alibaba Cloud CDN API. Try again in a minute."


@_words(UpstreamTimeout)
def _timeout(error: UpstreamTimeout) -> str:
    del error
    return "Alibaba Cloud CDN took too long to answer. Try again, or narrow the query."


@_words(MalformedResponse)
def _malformed(error: MalformedResponse) -> str:
    return f"Alibaba Cloud CDN sent an answer the bot cannot read{_request(error)}. Try again."


# What the write actions' refusals mean, by API code: what happened and what to do.
_REJECTED_WRITES = {
    "InvalidObjectPath.Malformed": (
        "refused a path as malformed: each must be an http:// or https:// URL on an "
        "accelerated domain, and a directory must end with `/`"
    ),
    "InvalidObjectPath.ExceedsMaximum": "refused a path longer than its 1,024 characters",
    "InvalidArea": (
        "refused the prefetch area: use `area:domestic` or `area:overseas`, within the "
        "domain's acceleration region"
    ),
    "InvalidObjectType.Malformed": (
        "refused the kind: use `type:file`, `type:dir`, `type:regex` or `type:ignoreparams`"
    ),
    "InvalidExtensiveDomain.ValueNotSupported": (
        "does not refresh wildcard domains: name each domain itself"
    ),
}


@_words(RequestRejected)
def _rejected(error: RequestRejected) -> str:
    if error.code in _REJECTED_WRITES:
        said = f" It said: {error.message}" if error.message else ""
        return (
            f"Alibaba Cloud CDN {_REJECTED_WRITES[error.code]} ({error.code}).{said}"
            f"{_request(error)}"
        )
    return f"Alibaba Cloud CDN refused the request: {error.message or error.code}{_request(error)}."


_QUOTA_CODES = {
    "QuotaExceeded.Refresh": (
        "Today's refresh quota of the Alibaba Cloud account is used up. It resets daily; "
        "until then nothing more can be refreshed"
    ),
    "QuotaExceeded.Preload": (
        "Today's prefetch quota of the Alibaba Cloud account is used up. It resets daily; "
        "until then nothing more can be prefetched"
    ),
    "QuotaPerMinuteExceeded.Refresh": (
        "The account reached Alibaba Cloud CDN's per-minute limit for refreshing or "
        "prefetching a domain. Wait a minute, then submit what did not go in"
    ),
    "TooMany.Refresh": (
        "The account's refresh queue at Alibaba Cloud CDN is full. Wait a few minutes for "
        "running tasks to finish, then try again"
    ),
    "PreloadQueueFull": (
        "The account's prefetch queue at Alibaba Cloud CDN is full (it holds 100,000 URLs). "
        "Wait for running prefetches to finish, then try again"
    ),
    "SingleRequest.OverLimit": (
        "Alibaba Cloud CDN refused a call as too large. The bot sends at most 1,000 URLs, "
        "100 directories or 1 regex per refresh call and 100 URLs per prefetch call, of at "
        "most 10 domains, so this account's limits must be lower: send fewer at a time"
    ),
}


@_words(QuotaExceeded)
def _quota(error: QuotaExceeded) -> str:
    known = _QUOTA_CODES.get(error.code)
    if known is not None:
        return f"{known} ({error.code}){_request(error)}."
    return (
        f"The account's refresh or prefetch quota is used up ({error.code}). "
        "Quotas reset daily; `DescribeRefreshQuota` shows what is left."
    )


@_words(CredentialsRejected)
def _credentials(error: CredentialsRejected) -> str:
    # Never the API's message: it can echo the AccessKeyId.
    return (
        f"The bot's Alibaba Cloud credentials were rejected ({error.code}). "
        "Ask the bot's operator to check the AccessKey, STS token and server clock."
    )


@_words(PermissionDenied)
def _permission(error: PermissionDenied) -> str:
    return (
        f"The bot's Alibaba Cloud account may not call {error.action} ({error.code}). "
        f"Ask the operator to grant `cdn:{error.action}` in RAM."
    )


def describe(error: BotError) -> str:
    """The words for `error`, from the most specific entry of the table."""
    for kind in type(error).__mro__:
        if kind in WORDING:
            return WORDING[kind](error)
    return WORDING[BotError](error)


def apology(error_id: str) -> str:
    """Words for a failure nobody foresaw; `error_id` names it in the log."""
    return (
        "Sorry, something went wrong on our side. "
        f"It has been logged as error {error_id}; please try again."
    )

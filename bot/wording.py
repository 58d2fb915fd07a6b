"""The one table that turns `bot.errors` into words people read, in Slack and in the terminal.

The words are plain text: whoever shows them (Slack renderer, terminal) escapes them for its medium.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from bot.errors import (
    BotError,
    ConfigurationError,
    CredentialsRejected,
    InvalidQuery,
    MalformedResponse,
    NotAllowed,
    PermissionDenied,
    QueryTooCostly,
    QueryTooDeep,
    QuotaExceeded,
    RequestRejected,
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


@_words(RequestRejected)
def _rejected(error: RequestRejected) -> str:
    return f"Alibaba Cloud CDN refused the request: {error.message or error.code}{_request(error)}."


@_words(QuotaExceeded)
def _quota(error: QuotaExceeded) -> str:
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

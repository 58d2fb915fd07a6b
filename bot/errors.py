"""Every error the bot raises on purpose, as structured data; `bot.wording` turns them into words.

BotError
├── UserInputError
│   ├── InvalidQuery            a filter the user typed cannot become a valid query
│   ├── NotAllowed              the access policy does not let this person do that here
│   ├── QueryTooDeep            a merged page lies deeper than the bot reads without `type:`
│   ├── QueryTooCostly          answering would take more upstream calls than one command may
│   ├── TooManyInFlight         this person already has as many commands running as allowed
│   ├── NotEnoughQuota          today's quota left is less than a refresh or prefetch needs
│   ├── ConfirmationGone        a confirmation button that is unknown or expired
│   ├── AlreadySubmitted        a confirmation already used: by whom and when
│   └── TasksNotFound           task IDs a lookup did not find (gone, or not this account's)
├── PartlySubmitted             a submission made without a click stopped short (a workflow's)
├── ConfigurationError          the operator's settings are missing or contradictory
├── TookTooLong                 a command ran out of its time before it had an answer
└── UpstreamError               the CDN API did not give us an answer we can use
    ├── Throttled               rate limited, still after retrying
    ├── UpstreamUnavailable     5xx, InternalError, ServiceUnavailable, still after retrying
    ├── UpstreamUnreachable     no HTTP answer at all (connection refused, reset, DNS)
    │   └── UpstreamTimeout     connect or read timed out
    ├── MalformedResponse       an answer that is not the JSON the API documents
    ├── RequestRejected         the API refused our parameters (a bug or an unchecked input)
    ├── QuotaExceeded           the account's refresh/prefetch quota is used up
    ├── CredentialsRejected     signature, key, token or clock rejected: an operator problem
    └── PermissionDenied        the RAM policy does not allow the action
"""

from __future__ import annotations

from datetime import datetime


class BotError(Exception):
    """Root of every error the bot raises deliberately."""


class UserInputError(BotError):
    """Something the user typed must change."""


class InvalidQuery(UserInputError):
    """A filter cannot become a valid query; `hint` says what to type instead."""

    def __init__(self, field: str, value: str, hint: str) -> None:
        super().__init__(f"{field}={value!r}: {hint}")
        self.field = field
        self.value = value
        self.hint = hint


class NotAllowed(UserInputError):
    """The access policy refuses `what` to this person here; `contact` is whom to ask."""

    def __init__(self, what: str, contact: str, *, detail: str = "") -> None:
        super().__init__(f"not allowed: {what}")
        self.what = what
        self.contact = contact
        self.detail = detail


class QueryTooDeep(UserInputError):
    """Page `page` of size `size` of a merged (fanned-out) list lies past its `limit` rows."""

    def __init__(self, *, page: int, size: int, limit: int) -> None:
        super().__init__(f"page {page} of size {size} is past the merged limit of {limit} rows")
        self.page = page
        self.size = size
        self.limit = limit


class QueryTooCostly(UserInputError):
    """Answering would take `calls` upstream calls; one command may make `budget`."""

    def __init__(self, *, calls: int, budget: int) -> None:
        super().__init__(f"{calls} upstream calls needed, {budget} allowed")
        self.calls = calls
        self.budget = budget


class TooManyInFlight(UserInputError):
    """This person already has `limit` commands waiting for answers."""

    def __init__(self, *, limit: int) -> None:
        super().__init__(f"already {limit} commands running")
        self.limit = limit


class NotEnoughQuota(UserInputError):
    """A `action` of `wanted` paths of `kind` needs more than the `left` today's quota holds."""

    def __init__(self, *, action: str, kind: str, wanted: int, left: int) -> None:
        super().__init__(f"{action} of {wanted} {kind} paths, {left} left today")
        self.action = action
        self.kind = kind
        self.wanted = wanted
        self.left = left


class ConfirmationGone(UserInputError):
    """A confirmation button names one the bot no longer has, or one past its lifetime."""

    def __init__(self, *, expired: bool) -> None:
        super().__init__("expired confirmation" if expired else "unknown confirmation")
        self.expired = expired


class AlreadySubmitted(UserInputError):
    """A confirmation was already used, by `used_by` at `used_at`: it submits only once."""

    def __init__(self, *, used_by: str, used_at: datetime) -> None:
        super().__init__(f"already used by {used_by} at {used_at.isoformat()}")
        self.used_by = used_by
        self.used_at = used_at


class TasksNotFound(UserInputError):
    """A lookup by ID did not find `task_ids` (older than the API keeps, another account's, or,
    when `scoped`, outside what the channel may see)."""

    def __init__(self, *, task_ids: tuple[str, ...], scoped: bool = False) -> None:
        super().__init__(f"not found: {','.join(task_ids)}")
        self.task_ids = task_ids
        self.scoped = scoped


class PartlySubmitted(BotError):
    """A submission with no one to confirm it (a Workflow Builder step's) stopped at `cause`:
    `accepted` of `wanted` paths went in, making `task_ids`."""

    def __init__(
        self, *, cause: BotError, accepted: int, wanted: int, task_ids: tuple[str, ...]
    ) -> None:
        super().__init__(f"{accepted} of {wanted} submitted: {cause}")
        self.cause = cause
        self.accepted = accepted
        self.wanted = wanted
        self.task_ids = task_ids


class TookTooLong(BotError):
    """A command had no answer after `seconds` and was given up."""

    def __init__(self, *, seconds: float) -> None:
        super().__init__(f"no answer within {seconds:g} s")
        self.seconds = seconds


class ConfigurationError(BotError):
    """The operator's configuration is missing `setting` or holds a value that cannot work."""

    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(f"{setting}: {problem}")
        self.setting = setting
        self.problem = problem


class UpstreamError(BotError):
    """The CDN API call for `action` failed; `code` and `request_id` come from its answer."""

    def __init__(
        self, action: str, *, code: str = "", request_id: str = "", status: int | None = None
    ) -> None:
        super().__init__(f"{action}: {code or type(self).__name__} (request {request_id or '-'})")
        self.action = action
        self.code = code
        self.request_id = request_id
        self.status = status


class Throttled(UpstreamError):
    """The API kept answering with a throttling code after every retry; `retry_after` is the
    pause in seconds its last answer asked for (`x-acs-retry-after`), None when it named none."""

    def __init__(
        self,
        action: str,
        *,
        code: str = "",
        request_id: str = "",
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(action, code=code, request_id=request_id, status=status)
        self.retry_after = retry_after


class UpstreamUnavailable(UpstreamError):
    """The API answered with a server-side failure after every retry."""


class UpstreamUnreachable(UpstreamError):
    """No HTTP answer came back from the API endpoint."""


class UpstreamTimeout(UpstreamUnreachable):
    """Connecting to or reading from the API took longer than the configured timeout."""


class MalformedResponse(UpstreamError):
    """The API answered with a body that is not the documented JSON."""


class RequestRejected(UpstreamError):
    """The API refused the parameters; `message` is the API's own explanation."""

    def __init__(
        self,
        action: str,
        *,
        code: str,
        message: str,
        request_id: str = "",
        status: int | None = None,
    ) -> None:
        super().__init__(action, code=code, request_id=request_id, status=status)
        self.message = message


class QuotaExceeded(UpstreamError):
    """The account's refresh or prefetch quota (daily, per minute or per request) is exhausted."""


class CredentialsRejected(UpstreamError):
    """The API rejected who we are; its message is dropped because it can echo the AccessKeyId."""


class PermissionDenied(UpstreamError):
    """The credentials are valid but their RAM policy does not allow `action`."""

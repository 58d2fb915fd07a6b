"""Every error the bot can raise has words of its own, and none of them leaks a secret."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot import errors, wording


def all_subclasses(root: type) -> list[type]:
    found = []
    for child in root.__subclasses__():
        found += [child, *all_subclasses(child)]
    return found


ERROR_CLASSES = [errors.BotError, *all_subclasses(errors.BotError)]
KEYWORD_EXAMPLES: dict[type, dict[str, object]] = {
    errors.QueryTooDeep: {"page": 51, "size": 20, "limit": 1000},
    errors.QueryTooCostly: {"calls": 70, "budget": 40},
    errors.TooManyInFlight: {"limit": 3},
    errors.TookTooLong: {"seconds": 10.0},
    errors.NotEnoughQuota: {"action": "refresh", "kind": "File", "wanted": 2500, "left": 1500},
    errors.ConfirmationGone: {"expired": True},
    errors.AlreadySubmitted: {"used_by": "U0ANA1234", "used_at": datetime(2025, 5, 1, tzinfo=UTC)},
    errors.TasksNotFound: {"task_ids": ("704225667",), "scoped": True},
    errors.PartlySubmitted: {
        "cause": errors.QuotaExceeded("RefreshObjectCaches", code="QuotaExceeded.Refresh"),
        "accepted": 1000,
        "wanted": 1500,
        "task_ids": ("1", "2"),
    },
}


def example(kind: type[errors.BotError]) -> errors.BotError:
    if issubclass(kind, errors.InvalidQuery):
        return kind("status", "faild", "did you mean `failed`?")
    if issubclass(kind, errors.NotAllowed):
        return kind("query CDN tasks", "the ops team")
    if issubclass(kind, errors.ConfigurationError):
        return kind("SLACK_BOT_TOKEN", "is missing")
    if issubclass(kind, errors.RequestRejected):
        return kind("DescribeRefreshTasks", code="InvalidTime", message="too old", request_id="R1")
    if issubclass(kind, errors.UpstreamError):
        return kind("DescribeRefreshTasks", code="Some.Code", request_id="R1")
    return kind(**KEYWORD_EXAMPLES.get(kind, {}))


@pytest.mark.parametrize("kind", ERROR_CLASSES, ids=lambda kind: kind.__name__)
def test_every_error_class_has_its_own_wording(kind):
    assert kind in wording.WORDING, f"add {kind.__name__} to bot/wording.py"
    text = wording.describe(example(kind))
    assert text[0].isupper() or text.startswith("`")


def test_credentials_wording_never_shows_the_api_message():
    error = errors.CredentialsRejected("DescribeRefreshTasks", code="SignatureDoesNotMatch")
    text = wording.describe(error)
    assert "SignatureDoesNotMatch" in text and "string to sign" not in text


def test_most_specific_wording_wins():
    timeout = errors.UpstreamTimeout("DescribeRefreshTasks", code="ReadTimeout")
    assert wording.describe(timeout) == wording.WORDING[errors.UpstreamTimeout](timeout)
    assert "took too long" in wording.describe(timeout)


WRITE_CODES = {
    "QuotaExceeded.Refresh": (errors.QuotaExceeded, "refresh quota of the Alibaba Cloud account"),
    "QuotaExceeded.Preload": (errors.QuotaExceeded, "prefetch quota of the Alibaba Cloud account"),
    "QuotaPerMinuteExceeded.Refresh": (errors.QuotaExceeded, "per-minute limit"),
    "TooMany.Refresh": (errors.QuotaExceeded, "refresh queue"),
    "PreloadQueueFull": (errors.QuotaExceeded, "prefetch queue"),
    "SingleRequest.OverLimit": (errors.QuotaExceeded, "refused a call as too large"),
    "InvalidObjectPath.Malformed": (errors.RequestRejected, "refused a path as malformed"),
    "InvalidObjectPath.ExceedsMaximum": (errors.RequestRejected, "1,024 characters"),
    "InvalidArea": (errors.RequestRejected, "`area:domestic` or `area:overseas`"),
    "InvalidObjectType.Malformed": (errors.RequestRejected, "`type:dir`"),
}


@pytest.mark.parametrize("code", list(WRITE_CODES))
def test_every_write_error_code_has_words_of_its_own(code):
    kind, words = WRITE_CODES[code]
    if kind is errors.RequestRejected:
        error = kind("RefreshObjectCaches", code=code, message="bad", request_id="R9")
    else:
        error = kind("RefreshObjectCaches", code=code, request_id="R9")
    text = wording.describe(error)
    assert words in text and code in text and "R9" in text
    generic = (
        kind("RefreshObjectCaches", code="Other.Code", message="m", request_id="R9")
        if (kind is errors.RequestRejected)
        else kind("RefreshObjectCaches", code="Other.Code")
    )
    assert wording.describe(generic) != text


def test_the_quota_a_write_draws_on_is_named():
    error = errors.NotEnoughQuota(action="refresh", kind="Directory", wanted=120, left=100)
    assert "needs 120 of today's directory refresh quota, and 100 is left" in wording.describe(
        error
    )
    assert wording.quota_name("prefetch", "File") == "prefetch"

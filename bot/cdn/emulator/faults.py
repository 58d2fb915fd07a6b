"""The API's error answers: code, HTTP status and message, as the real service words them."""

from __future__ import annotations


class ApiFault(Exception):
    """An error answer the emulator sends instead of a result."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def missing(name: str) -> ApiFault:
    """A required parameter was not sent."""
    return ApiFault(
        400,
        f"MissingParameter.{name}" if name == "ObjectType" else "MissingParameter",
        f"The input parameter {name} that is mandatory for processing this request "
        "is not supplied.",
    )


def throttled() -> ApiFault:
    """The account called this action faster than its per-second limit."""
    return ApiFault(400, "Throttling.User", "Request was denied due to user flow control.")


def denied(action: str) -> ApiFault:
    """The key is valid but its RAM policy does not allow `action`."""
    return ApiFault(
        403,
        "Forbidden.RAM",
        f"The RAM user is not authorized to call {action}: grant cdn:{action} in its policy.",
    )

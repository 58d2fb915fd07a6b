"""Times people type (`2h`, `yesterday`, `2026-11-27T10:00Z`) → aware UTC datetimes, and the
rules a query window must meet. `now` and the reader's timezone are always passed in.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from bot.core.tasks import HISTORY_DAYS
from bot.errors import InvalidQuery

HISTORY = timedelta(days=HISTORY_DAYS)
# The API refuses a start older than its history by its own clock, checked a moment after we
# ask: a start we send keeps this far clear of that edge.
START_MARGIN = timedelta(minutes=1)
# A clock a little ahead of ours is not "the future": `until:` up to this far ahead means now.
CLOCK_TOLERANCE = timedelta(minutes=2)

_UNITS = {
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
    "w": 604800, "wk": 604800, "week": 604800, "weeks": 604800,
}  # fmt: skip
_PART = re.compile(r"(\d+(?:\.\d+)?)([a-z]+)")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
FORMS = (
    "a time ago like `30m`, `2h`, `1d` or `1h30m`; `today`, `yesterday` or `now`; "
    "a date like `2026-11-27`; or a date and time like `2026-11-27T10:00Z`"
)


def _relative(text: str) -> timedelta | None:
    compact = text.replace(" ", "").removesuffix("ago")
    parts = _PART.findall(compact)
    if not parts or "".join(number + unit for number, unit in parts) != compact:
        return None
    seconds = 0.0
    for number, unit in parts:
        if unit not in _UNITS:
            return None
        seconds += float(number) * _UNITS[unit]
    return timedelta(seconds=seconds)


def _midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def parse_moment(field: str, text: str, *, now: datetime, tz: tzinfo, end: bool) -> datetime:
    """One point in time, to the second (the API's precision); for `end`, a whole day
    (`yesterday`, `2026-11-27`) means its end."""
    try:
        return _moment(field, text, now=now, tz=tz, end=end).replace(microsecond=0)
    except OverflowError:
        # Years like 9999 or `999999d` leave the calendar datetime can hold.
        raise InvalidQuery(
            field, text, f"that is too far off: the API keeps only the last {HISTORY_DAYS} days"
        ) from None


def _is_whole_day(text: str) -> bool:
    value = text.strip().lower()
    return value in ("today", "yesterday") or re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) is not None


def _moment(field: str, text: str, *, now: datetime, tz: tzinfo, end: bool) -> datetime:
    value = text.strip().lower()
    today = now.astimezone(tz).date()
    one_day = timedelta(days=1)
    if value == "now":
        return now
    if value in ("today", "yesterday"):
        day = today if value == "today" else today - one_day
        return _midnight(day + one_day if end else day, tz)
    ago = _relative(value)
    if ago is not None:
        return now - ago
    clock = _CLOCK.fullmatch(value)
    if clock and int(clock[1]) < 24 and int(clock[2]) < 60:
        return datetime.combine(today, time(int(clock[1]), int(clock[2])), tzinfo=tz).astimezone(
            UTC
        )
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            day = date.fromisoformat(value)
            return _midnight(day + one_day if end else day, tz)
        moment = datetime.fromisoformat(value.upper())
    except ValueError:
        raise InvalidQuery(field, text, f"use {FORMS}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(UTC)


def oldest_start(now: datetime, *, margin: timedelta = START_MARGIN) -> datetime:
    """The oldest StartTime worth sending at `now`, in whole seconds: the history less `margin`."""
    return now.replace(microsecond=0) - HISTORY + margin


def shown(moment: datetime, tz: tzinfo) -> str:
    """A moment as the reader would write it: `2026-11-25 14:05 UTC`."""
    local = moment.astimezone(tz)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or ''}".rstrip()


def _yesterday_instead(field: str, typed: str, moment: datetime, tz: tzinfo) -> str:
    """For a clock time still ahead today (`since:09:00` at 08:00), the same time yesterday."""
    if not _CLOCK.fullmatch(typed.strip()):
        return ""
    local = (moment - timedelta(days=1)).astimezone(tz)
    return f"; did you mean yesterday, `{field}:{local:%Y-%m-%dT%H:%M}`?"


def checked_window(
    since: datetime | None,
    until: datetime | None,
    *,
    now: datetime,
    tz: tzinfo,
    typed: dict[str, str],
    kept_days: int = HISTORY_DAYS,
) -> tuple[datetime | None, datetime | None]:
    """The window with the API's rules enforced; `typed` holds what the person wrote.
    `kept_days` is how far back tasks are kept: the API's three days, or the bot's history."""
    earliest = now - timedelta(days=kept_days)
    keeper = "the API keeps" if kept_days <= HISTORY_DAYS else "the bot keeps"
    if until is not None:
        # A whole day that has not ended yet ("until:today") simply means up to now.
        if until > now + CLOCK_TOLERANCE and not _is_whole_day(typed["until"]):
            raise InvalidQuery(
                "until",
                typed["until"],
                f"that is in the future; it is now {shown(now, tz)}"
                + _yesterday_instead("until", typed["until"], until, tz),
            )
        until = min(until, now.replace(microsecond=0))
        if until <= earliest:
            raise InvalidQuery(
                "until",
                typed["until"],
                f"{keeper} only the last {kept_days} days; use a time after {shown(earliest, tz)}",
            )
    if since is not None:
        if since > now:
            raise InvalidQuery(
                "since",
                typed["since"],
                f"that is in the future; it is now {shown(now, tz)}"
                + _yesterday_instead("since", typed["since"], since, tz),
            )
        if since < earliest:
            raise InvalidQuery(
                "since",
                typed["since"],
                f"{keeper} only the last {kept_days} days: go back at most "
                f"`since:{kept_days}d`, i.e. to {shown(earliest, tz)}",
            )
    if since is not None and until is not None and until <= since:
        swapped = ""
        if until < since:
            swapped = f"; did you mean `since:{typed['until']} until:{typed['since']}`?"
        raise InvalidQuery(
            "until",
            typed["until"],
            f"the end must be after the start (`since:{typed['since']}` = {shown(since, tz)})"
            + swapped,
        )
    return since, until

"""How much of the bot one person may hold: a few commands at a time, each with a deadline.

Every command and button runs inside `hold`. A person past the limit is told to wait instead of
queueing more work; a command past its deadline is cancelled (with the upstream calls it was
waiting for) and answered with words, so nothing keeps running for a reply nobody will see.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator

from bot.errors import TookTooLong, TooManyInFlight

PER_PERSON = 3
DEADLINE = 10.0  # seconds; Slack's response_url lives for 30 minutes, patience far less
FEEDBACK_AFTER = 0.3  # seconds without an answer before a "Looking up …" note is shown


class Admission:
    """Counts each person's commands in flight and bounds how long each may take."""

    def __init__(
        self,
        *,
        per_person: int = PER_PERSON,
        deadline: float = DEADLINE,
        feedback_after: float | None = FEEDBACK_AFTER,
    ) -> None:
        self.per_person = per_person
        self.deadline = deadline
        # None: never a "Looking up …" note (tests that count replies)
        self.feedback_after = feedback_after
        self._running: Counter[str] = Counter()

    def running(self, user: str) -> int:
        """How many of `user`'s commands are in flight."""
        return self._running[user]

    @contextlib.asynccontextmanager
    async def hold(self, user: str, *, bounded: bool = True) -> AsyncIterator[None]:
        """A slot for one of `user`'s commands: TooManyInFlight when none is free, TookTooLong
        when the work inside outlives the deadline. Unbounded work (a confirmed submission,
        which must never stop halfway) is bounded by the API client's own timeouts instead."""
        if self._running[user] >= self.per_person:
            raise TooManyInFlight(limit=self.per_person)
        self._running[user] += 1
        try:
            async with asyncio.timeout(self.deadline if bounded else None) as deadline:
                yield
        except TimeoutError:
            if deadline.expired():
                raise TookTooLong(seconds=self.deadline) from None
            raise
        finally:
            self._running[user] -= 1
            if not self._running[user]:
                del self._running[user]

"""Which replica does the background work (the failure watcher and its stuck-task step, the
archiver, the progress of submissions): one at a time, under a lease kept in the store.

The lease lives in the database, on the database's clock, and carries an epoch that grows with
every change of holder. The leader renews it every third of its length; a standby tries as
often and takes it once it has expired: a full lease after the dead leader's last renewal,
which came up to a third of a lease before it died, plus up to 0.4 of a lease until the
standby's next try (a third, spread by a fifth either way), so between two thirds and 1.4
lease lengths (10 to 21 s by default).
Every write that says what was announced carries the epoch (a fencing token) and is refused
once another replica holds the lease, so a leader that was paused past its lease cannot record
after losing it.

A leader also stops acting on its own, before the lease runs out: two thirds of a lease after
its last renewal began (10 s by default), it starts no new post. The margin to the lease's end
is what a pause between that check and Slack receiving the post must stay within.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import secrets
import socket
import time
from collections.abc import Callable

from bot.store.database import Store
from bot.store.lease import Fence

log = logging.getLogger(__name__)

LEASE_NAME = "background"
# How long a leader may go without renewing before it stops acting on its own.
ACTING_SHARE = 2 / 3


def replica_name() -> str:
    """This process among the replicas: host, process and a random tail (a restarted process
    with a recycled PID is a new holder)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Leadership:
    """This replica's view of the lease; `run()` keeps it, `fence` says whether to act."""

    def __init__(
        self,
        store: Store,
        *,
        holder: str | None = None,
        lease: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.holder = holder or replica_name()
        self._store = store
        self._lease = lease
        self._clock = clock
        self._fence: Fence | None = None
        self._acting_until = 0.0
        self._elected = asyncio.Event()

    @property
    def fence(self) -> Fence | None:
        """The token to write with while this replica leads; None while another one does, or
        once this one has gone too long without renewing to be sure it still leads."""
        if self._fence is not None and self._clock() < self._acting_until:
            return self._fence
        return None

    @property
    def leading(self) -> bool:
        """Whether this replica may do the background work right now."""
        return self.fence is not None

    async def wait_elected(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for this replica to lead; whether it does."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._elected.wait(), timeout)
        return self.leading

    async def renew(self) -> Fence | None:
        """Take or renew the lease once; the fence while this replica leads."""
        asked = self._clock()
        try:
            fence = await self._store.acquire_lease(LEASE_NAME, self.holder, self._lease)
        except Exception as error:  # the database is away: act on until the margin runs out
            log.warning("could not renew the background lease: %r", error)
            return self.fence
        before = self._fence
        if fence is None:
            self._fence = None
            self._elected.clear()
            if before is not None:
                log.warning("another replica took the background lease (epoch %d)", before.epoch)
            return None
        self._fence = fence
        # Measured from when the renewal was asked: the lease may have started then.
        self._acting_until = asked + self._lease * ACTING_SHARE
        self._elected.set()
        if before is None or before.epoch != fence.epoch:
            log.info("this replica leads the background work (epoch %d)", fence.epoch)
        return fence

    async def run(self, stop: asyncio.Event) -> None:
        """Renew (or try to take) the lease every third of its length until `stop`, then
        hand it back so a standby takes over at once."""
        every = self._lease / 3
        try:
            while not stop.is_set():
                await self.renew()
                # Standbys spread their tries so they do not all ask at the same moment.
                pause = every if self._fence is not None else every * random.uniform(0.8, 1.2)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), pause)
        finally:
            await self.release()

    async def release(self) -> None:
        """Give the lease back (a clean stop): a standby need not wait for it to expire."""
        fence, self._fence = self._fence, None
        self._elected.clear()
        if fence is None:
            return
        try:
            await self._store.release_lease(fence)
        except Exception as error:
            log.warning("could not hand back the background lease: %r", error)
        else:
            log.info("handed back the background lease (epoch %d)", fence.epoch)

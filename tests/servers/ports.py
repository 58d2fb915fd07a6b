"""Free ports and waiting for a server to answer."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path


def free_port() -> int:
    """A port nothing listens on now (the server binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(
    ready: Callable[[], bool], process: subprocess.Popen[bytes], what: str, log: Path
) -> None:
    """Poll `ready` until it holds; fail with the server's log if it exits or takes 30 s."""
    deadline = time.monotonic() + 30
    while not ready():
        if process.poll() is not None:
            output = log.read_text(errors="replace")
            raise RuntimeError(f"{what} exited with {process.returncode}: {output}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not answer within 30 s")
        time.sleep(0.02)

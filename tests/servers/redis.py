"""A Redis server for the whole test run; each test gets it empty."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.servers.ports import free_port, wait_for


def _answers(url: str) -> bool:
    try:
        with redis.Redis.from_url(url, socket_timeout=1) as client:
            return bool(client.ping())
    except redis.RedisError:
        return False


@contextlib.contextmanager
def running_redis(port: int | None = None) -> Iterator[str]:
    """`redis://127.0.0.1:PORT`: a new server with no persistence, gone afterwards (on `port`,
    or a free one)."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed: `make test` installs it (Debian's)")
    port = port or free_port()
    workdir = tempfile.mkdtemp(prefix="cdnbot-redis-")
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--dir", workdir]  # fmt: skip
    log = Path(workdir) / "redis.log"
    with log.open("wb") as output:  # a file, not a pipe nobody reads: it never fills up
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    url = f"redis://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(url), process, "redis-server", log)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """One Redis for the whole test run."""
    with running_redis() as url:
        yield url


@pytest.fixture
def redis_url(redis_server: str) -> str:
    """The test run's Redis, emptied for this test (database 0)."""
    with redis.Redis.from_url(redis_server) as client:
        client.flushall()
    return f"{redis_server}/0"

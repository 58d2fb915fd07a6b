"""A PostgreSQL cluster for the whole test run; each test gets a database of its own.

PostgreSQL refuses to run as root, so as root the cluster is made and started as the
`postgres` user (Debian's package creates it) through runuser.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.servers.ports import free_port, wait_for


@dataclass(frozen=True)
class Postgres:
    port: int
    bindir: str

    def psql(self, sql: str) -> None:
        psql = os.path.join(self.bindir, "psql")
        subprocess.run(
            [psql, "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", "postgres",
             "-v", "ON_ERROR_STOP=1", "-q", "-c", sql],
            check=True, capture_output=True,
        )  # fmt: skip

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"


def _bindir() -> str:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return os.path.dirname(found[-1])
    initdb = shutil.which("initdb")
    if initdb is None:
        raise RuntimeError("PostgreSQL is not installed: `make test` installs it (Debian's)")
    return os.path.dirname(initdb)


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _answers(bindir: str, port: int) -> bool:
    ready = os.path.join(bindir, "pg_isready")
    probe = subprocess.run(
        [ready, "-h", "127.0.0.1", "-p", str(port), "-q"], check=False, capture_output=True
    )
    return probe.returncode == 0


@contextlib.contextmanager
def running_postgres() -> Iterator[Postgres]:
    """A fresh cluster on a free port: trust authentication, no fsync, gone afterwards."""
    bindir = _bindir()
    top = tempfile.mkdtemp(prefix="cdnbot-pg-")
    data = os.path.join(top, "data")
    if os.geteuid() == 0:
        server_user = pwd.getpwnam("postgres")
        os.chown(top, server_user.pw_uid, server_user.pw_gid)
    subprocess.run(
        _as_server_user([os.path.join(bindir, "initdb"), "-D", data, "-A", "trust",
                         "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"]),
        check=True, capture_output=True,
    )  # fmt: skip
    port = free_port()
    options = (
        f"-p {port} -k {top} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    log = Path(top) / "postgres.log"
    with log.open("wb") as output:  # a file, not a pipe nobody reads: it never fills up
        server = subprocess.Popen(
            _as_server_user([os.path.join(bindir, "postgres"), "-D", data, *options.split()]),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: _answers(bindir, port), server, "postgres", log)
        yield Postgres(port, bindir)
    finally:
        server.terminate()  # SIGTERM: a "smart" shutdown once sessions end
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        shutil.rmtree(top, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Postgres]:
    """One cluster for the whole test run."""
    with running_postgres() as server:
        yield server


@pytest.fixture
def postgres_url(postgres_server: Postgres) -> Iterator[str]:
    """`postgresql://postgres@127.0.0.1:PORT/NAME`: an empty database of this test's own."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    postgres_server.psql(f"CREATE DATABASE {name}")
    yield postgres_server.url(name)
    postgres_server.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

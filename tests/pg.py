"""A real PostgreSQL server for the tests, started from the installed Debian binaries.

The server lives in a temporary folder for one test session: ``initdb`` there, a Unix socket
there and no TCP listener (so parallel runs never fight over a port), durability switched off
(the tests never need a crash to survive). PostgreSQL refuses to run as root, so under root the
server runs as a dedicated system user, created on first use. Each test gets a fresh database.

Without the server binaries (``apt-get install postgresql``) or the driver
(``pip install 'storyweave[postgres]'``), the tests that need them are skipped with the reason.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["STORES", "PostgresServer", "fresh_store", "postgres_server", "postgres_url"]

# The kinds of store a test parametrised with ``params=STORES`` runs against (fresh_store).
STORES = ("sqlite", "postgres")

# Where Debian's postgresql-NN packages put the server binaries (NN/bin); the newest version wins.
BINARIES_ROOT = Path("/usr/lib/postgresql")
# The system user that runs the server when the tests run as root.
SERVER_USER = "storyweave-test"
# The superuser initdb creates; tests connect as it over the socket, trusted.
DB_USER = "storyweave"
# Seconds to wait for the server to accept connections (initdb + start take 2-3 s here).
START_TIMEOUT_S = 60
# Settings for a throwaway server: no TCP, no durability, little memory.
SERVER_OPTIONS = (
    "-c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off "
    "-c shared_buffers=32MB -c max_connections=40"
)


def _binaries() -> Path | None:
    found = [initdb.parent for initdb in BINARIES_ROOT.glob("*/bin/initdb")]
    return max(found, key=lambda b: int(b.parent.name) if b.parent.name.isdigit() else 0, default=None)


def _server_user() -> str | None:
    """The user to run the server as: a dedicated system user under root, else ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVER_USER],
            check=True, capture_output=True,
        )
    return SERVER_USER


class PostgresServer:
    """One running server; :meth:`create_database` hands out fresh databases as URLs."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.user = _server_user()
        # Not under pytest's tmp_path: that folder is private to the test runner (mode 0700), and
        # the server user must reach its data folder and socket.
        self.root = Path(tempfile.mkdtemp(prefix="storyweave-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root
        self._names = itertools.count(1)
        if self.user is not None:
            shutil.chown(self.root, user=self.user)
        self._run("initdb", "-D", str(self.data), "-U", DB_USER, "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w", "-t", str(START_TIMEOUT_S),
            "-o", f"-k {self.socket_dir} {SERVER_OPTIONS}", "start",
        )

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin_dir / program), *args]
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{program} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")

    def url(self, database: str) -> str:
        return f"postgresql://{DB_USER}@/{database}?host={self.socket_dir}"

    def create_database(self) -> str:
        import psycopg

        name = f"test_{next(self._names)}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    pytest.importorskip("psycopg", reason="the PostgreSQL driver is missing: pip install 'storyweave[postgres]'")
    bin_dir = _binaries()
    if bin_dir is None:
        pytest.skip(f"no PostgreSQL server binaries under {BINARIES_ROOT}/*/bin (apt-get install postgresql)")
    server = PostgresServer(bin_dir)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A fresh, empty database on the session's server."""
    return postgres_server.create_database()


def fresh_store(request: pytest.FixtureRequest, folder: Path) -> str:
    """A fresh, empty store of the kind ``request.param`` names (one of STORES), as the URL the
    `db` setting would hold: a SQLite file in ``folder``, or a new database on the session's
    server. Usable from a fixture of any scope."""
    if request.param == "sqlite":
        return str(folder / "store.db")
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database()

"""A throw-away PostgreSQL 15 server for the tests: ``initdb`` + ``pg_ctl`` on a free loopback
port, password authentication over TCP. As root, the server runs as the ``postgres`` user
(``initdb`` refuses root)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

PG_BIN = Path("/usr/lib/postgresql/15/bin")
SUPERUSER, PASSWORD = "tuner_admin", "s3cret-Admin-pw"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """``start()``, ``url(database)``, ``create_database(name)``, ``psql(sql)``, ``stop()``."""

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="tuner-pg-"))
        self.data, self.socket_dir = self.root / "data", self.root / "sock"
        self.log = self.root / "server.log"
        self.port = free_port()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *args, **kw) -> subprocess.CompletedProcess:
        return subprocess.run([*self.as_user, *map(str, args)], check=True, capture_output=True,
                              text=True, **kw)

    def start(self) -> PostgresServer:
        self.socket_dir.mkdir(parents=True)
        pwfile = self.root / "pw"
        pwfile.write_text(PASSWORD + "\n")
        if self.as_user:
            self.root.chmod(0o755)
            shutil.chown(self.root, "postgres")
            shutil.chown(self.socket_dir, "postgres")
            shutil.chown(pwfile, "postgres")
        self._run(PG_BIN / "initdb", "-D", self.data, "-U", SUPERUSER, "--pwfile", pwfile,
                  "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
                  "--no-sync")
        self.ctl("start")
        return self

    @property
    def options(self) -> str:
        return (f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 "
                "-c fsync=off -c max_connections=200")

    def ctl(self, action: str, *args) -> None:
        """``pg_ctl ACTION ARGS``: e.g. ``ctl("restart", "-m", "fast")``, ``ctl("stop")``,
        ``ctl("start")``; start and restart wait, log to the server log and keep the options."""
        if action in ("start", "restart"):
            args = ("-w", "-l", self.log, "-o", self.options, *args)
        self._run(PG_BIN / "pg_ctl", action, *args, "-D", self.data, timeout=120)

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run SQL as the superuser over the Unix socket; returns the output rows."""
        return self._run(PG_BIN / "psql", "-h", self.socket_dir, "-p", self.port, "-U",
                         SUPERUSER, "-d", database, "-v", "ON_ERROR_STOP=1", "-At", "-c",
                         sql).stdout

    def create_database(self, name: str) -> str:
        self.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def url(self, database: str, user: str = SUPERUSER, password: str = PASSWORD) -> str:
        return f"postgresql+psycopg://{user}:{password}@127.0.0.1:{self.port}/{database}"

    @property
    def pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def processes(self) -> list[int]:
        """The postmaster's pid, then its children's (each backend runs in a session of its
        own, so they share no process group with it)."""
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])  # after the name
            except OSError:                       # the process ended meanwhile
                continue
            if ppid == self.pid:
                children.append(int(stat.parent.name))
        return [self.pid, *children]

    def signal_all(self, sig: int) -> list[int]:
        """Send ``sig`` to the postmaster, then to every child it has then (after SIGSTOP it
        starts none); returns the pids signalled."""
        os.kill(self.pid, sig)
        pids = self.processes()
        for pid in pids[1:]:
            os.kill(pid, sig)
        return pids

    def stop(self) -> None:
        try:
            self.ctl("stop", "-m", "immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.root, ignore_errors=True)

    def wait_ready(self, seconds: float = 30) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if subprocess.run([PG_BIN / "pg_isready", "-h", "127.0.0.1", "-p",
                               str(self.port)], capture_output=True).returncode == 0:
                return
            time.sleep(0.2)
        raise TimeoutError("PostgreSQL did not become ready")

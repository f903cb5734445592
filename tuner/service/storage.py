"""Where studies live: any SQLAlchemy URL, configured for many workers and a reading dashboard.

The URL comes from ``--storage``, else ``TUNER_STORAGE``, else the embedded default
``sqlite:///tuner.db`` in the current directory. SQLite runs in WAL mode with a busy timeout and
``BEGIN IMMEDIATE`` transactions, so local workers and a dashboard do not fail with "database is
locked"; PostgreSQL (psycopg 3) gets connection pre-ping, connect and statement timeouts and a
small pool. URLs are only ever shown with the password masked.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
import warnings
from pathlib import Path

import optuna
import sqlalchemy
from sqlalchemy import event
from sqlalchemy.engine import make_url

from ..errors import StorageError

DEFAULT_STORAGE = "sqlite:///tuner.db"
SQLITE_BUSY_TIMEOUT = 60.0      # seconds a writer waits for the lock
CONNECT_TIMEOUT = 5             # seconds to reach a database server
STATEMENT_TIMEOUT_MS = 60_000   # PostgreSQL statement_timeout for workers
CREATE_ATTEMPTS = 8             # tries to create or find Optuna's tables


def resolve_url(url: str | None = None) -> str:
    """``url``, else ``$TUNER_STORAGE``, else :data:`DEFAULT_STORAGE`."""
    return url or os.environ.get("TUNER_STORAGE") or DEFAULT_STORAGE


def mask_url(url: str) -> str:
    """The URL with its password replaced by ``***``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is shown without anything after '@'
        return url.split("@")[-1]


def _normalise(url: str) -> str:
    """Use psycopg 3 for ``postgresql://`` URLs."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def engine_kwargs(url: str, *, read_only: bool = False) -> dict:
    """SQLAlchemy ``create_engine`` arguments for ``url`` (see the module docstring)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database or ""
        if read_only:
            target, uri = f"file:{Path(path).resolve()}?mode=ro", True
        else:
            target, uri = path, False

        def connect():
            conn = sqlite3.connect(target, timeout=SQLITE_BUSY_TIMEOUT, isolation_level=None,
                                   check_same_thread=False, uri=uri)
            if not read_only:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
            return conn

        return {"creator": connect}
    kwargs: dict = {"pool_pre_ping": True, "pool_size": 2, "max_overflow": 0, "pool_timeout": 60}
    if parsed.get_backend_name() == "postgresql":
        options = f"-c statement_timeout={STATEMENT_TIMEOUT_MS}"
        if read_only:
            options += " -c default_transaction_read_only=on"
        kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT, "options": options}
    return kwargs


def _begin_immediate(engine: sqlalchemy.Engine) -> None:
    """Make every SQLite transaction take the write lock up front (SQLAlchemy's pysqlite recipe),
    so a reader never has to upgrade its lock mid-transaction and fail "database is locked"."""

    @event.listens_for(engine, "begin")
    def begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def open_storage(url: str | None = None, *, heartbeat_interval: int | None = None,
                 grace_period: int | None = None, max_retry: int | None = 3,
                 read_only: bool = False) -> optuna.storages.RDBStorage:
    """An Optuna ``RDBStorage`` on ``url`` (resolved as :func:`resolve_url`).

    With ``heartbeat_interval`` set, a trial without a heartbeat for ``grace_period`` seconds is
    failed as stale and re-queued up to ``max_retry`` times (Optuna's
    ``RetryHeartbeatStaleTrialCallback``). ``read_only`` opens SQLite read-only and PostgreSQL
    in read-only transactions, and creates no table. Raises :class:`StorageError` (exit 3) when
    the database cannot be reached, holds no tuner tables (read-only), or its schema is older
    than this Optuna's.
    """
    url = _normalise(resolve_url(url))
    parsed = make_url(url)
    if read_only and parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file():
        raise StorageError(f"no SQLite database at {parsed.database!r} (launch a study first, or "
                           "pass --storage / set TUNER_STORAGE)")
    callback = None
    if heartbeat_interval is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            callback = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=max_retry)
    try:
        for attempt in range(CREATE_ATTEMPTS):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                    storage = optuna.storages.RDBStorage(
                        url, engine_kwargs=engine_kwargs(url, read_only=read_only),
                        heartbeat_interval=heartbeat_interval, grace_period=grace_period,
                        heartbeat_stale_trial_callback=callback, skip_table_creation=read_only)
                break
            except sqlalchemy.exc.DBAPIError as e:
                # Several processes creating the tables at once: one wins, the others retry
                # and find them (SQLite: IntegrityError; PostgreSQL: "already exists").
                if attempt + 1 == CREATE_ATTEMPTS or not _lost_creation_race(e):
                    raise
                time.sleep(0.2 * (attempt + 1))
    except (sqlalchemy.exc.OperationalError, sqlalchemy.exc.ProgrammingError) as e:
        if read_only and _missing_table(e):
            raise StorageError(f"the database at {mask_url(url)} holds no studies yet (no "
                               "Optuna tables)") from None
        raise StorageError(unreachable_message(url, e)) from None
    except RuntimeError as e:
        if "storage upgrade" in str(e):
            raise StorageError(f"the database at {mask_url(url)} was created by an older Optuna; "
                               f"run: optuna storage upgrade --storage '{mask_url(url)}' "
                               "(with the real password)") from None
        raise
    if parsed.get_backend_name() == "sqlite" and not read_only:
        _begin_immediate(storage.engine)
    return storage


def _lost_creation_race(error: Exception) -> bool:
    text = str(getattr(error, "orig", error)).lower()
    return (isinstance(error, sqlalchemy.exc.IntegrityError) or "already exists" in text
            or "unique constraint" in text or "database is locked" in text)


def _missing_table(error: Exception) -> bool:
    text = str(getattr(error, "orig", error)).lower()
    return "no such table" in text or "does not exist" in text and "relation" in text


def unreachable_message(url: str, error: Exception) -> str:
    """One line naming where the database was expected and why it failed, never the password."""
    parsed = make_url(url)
    cause = str(getattr(error, "orig", error) or error).strip().splitlines()
    reason = cause[0] if cause else type(error).__name__
    if parsed.password:      # the driver may quote it; a whole-word match leaves "expired" alone
        reason = re.sub(rf"(?<!\w){re.escape(str(parsed.password))}(?!\w)", "***", reason)
    if parsed.get_backend_name() == "sqlite":
        return f"cannot open the SQLite database {parsed.database!r}: {reason}"
    where = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    user = f" as user {parsed.username!r}" if parsed.username else ""
    return f"cannot connect to the database at {where}{user}: {reason}"

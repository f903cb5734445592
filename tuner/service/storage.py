"""Where studies live: any SQLAlchemy URL, configured for many workers and a reading dashboard.

The URL comes from ``--storage``, else ``TUNER_STORAGE``, else the embedded default
``sqlite:///tuner.db`` in the current directory. SQLite runs in WAL mode with a busy timeout and
``BEGIN IMMEDIATE`` transactions for writes (reads begin deferred), so local workers and a
dashboard do not fail with "database is locked"; PostgreSQL (psycopg 3) gets connection
pre-ping, connect and statement timeouts and a small pool. URLs are only ever shown with the password masked.
"""

from __future__ import annotations

import copy
import os
import re
import sqlite3
import threading
import time
import warnings
from collections.abc import Container, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import optuna
import sqlalchemy
from optuna.storages._cached_storage import _CachedStorage
from optuna.storages._rdb import models
from optuna.storages._rdb.storage import _create_scoped_session
from optuna.trial import FrozenTrial, TrialState
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from ..errors import StorageError, UsageError
from . import batch

DEFAULT_STORAGE = "sqlite:///tuner.db"
SQLITE_BUSY_TIMEOUT = 60.0      # seconds a writer waits for the lock
CONNECT_TIMEOUT = 5             # seconds to reach a database server
STATEMENT_TIMEOUT_MS = 60_000   # PostgreSQL statement_timeout for workers
READ_TIMEOUT_MS = 30_000        # and for read-only engines (the dashboard's)
CREATE_ATTEMPTS = 8             # tries to create or find Optuna's tables


STORAGE_FORMS = "sqlite:///PATH, or postgresql://USER:PASSWORD@HOST[:PORT]/DATABASE"
DRIVERS = ("sqlite", "sqlite+pysqlite", "postgresql", "postgres", "postgresql+psycopg")


def resolve_url(url: str | None = None) -> str:
    """``url``, else ``$TUNER_STORAGE``, else :data:`DEFAULT_STORAGE`; a URL of another
    database or driver, or not a URL, is a :class:`UsageError` (exit 2) naming where it came
    from and the allowed forms."""
    where = "--storage" if url else "TUNER_STORAGE" if os.environ.get("TUNER_STORAGE") else None
    url = url or os.environ.get("TUNER_STORAGE") or DEFAULT_STORAGE
    try:
        parsed = make_url(url)
        parsed.port                                   # noqa: B018 - parses it (ValueError)
    except (sqlalchemy.exc.ArgumentError, ValueError) as e:
        problem = f"not a database URL ({str(e).splitlines()[0]})"
    else:
        if parsed.drivername in DRIVERS:
            return url
        problem = f"{parsed.drivername!r} is not a database and driver tuner works with"
    raise UsageError(f"{where or 'storage'}: {mask_url(url)}: {problem} (allowed: "
                     f"{STORAGE_FORMS})")


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

        # Read-only engines (the dashboard's, kept for the server's life) open a connection a
        # read: a pooled one would keep reading a database file deleted and made anew.
        return {"creator": connect, **({"poolclass": NullPool} if read_only else {})}
    kwargs: dict = {"pool_pre_ping": True, "pool_size": 2, "max_overflow": 0, "pool_timeout": 60}
    if parsed.get_backend_name() == "postgresql":
        if read_only:
            options = f"-c statement_timeout={READ_TIMEOUT_MS} -c default_transaction_read_only=on"
        else:
            options = f"-c statement_timeout={STATEMENT_TIMEOUT_MS}"
        kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT, "options": options}
    return kwargs


# RDBStorage's methods that only read: their transactions begin deferred on SQLite (as do
# ClosingStorage.one_transaction(write=False) transactions).
READ_ONLY_METHODS = (
    "get_study_id_from_name", "get_study_name_from_id", "get_study_directions",
    "get_study_user_attrs", "get_study_system_attrs", "get_trial_user_attrs",
    "get_trial_system_attrs", "get_all_studies", "get_trial_param",
    "get_trial_id_from_study_id_trial_number", "get_trial", "get_all_trials", "_get_trials",
    "get_best_trial", "_get_stale_trial_ids")
_reading = threading.local()


@contextmanager
def _reading_only(reading: bool = True):
    """Inside (when ``reading``), transactions this thread begins on SQLite begin deferred."""
    _reading.depth = getattr(_reading, "depth", 0) + reading
    try:
        yield
    finally:
        _reading.depth -= reading


def _deferred(name: str):
    def method(self, *args, **kwargs):
        with _reading_only():
            return getattr(super(SQLiteStorage, self), name)(*args, **kwargs)
    method.__name__ = name
    return method


class ClosingStorage(optuna.storages.RDBStorage):
    """Optuna's RDBStorage with two repairs:

    - its engine is disposed when setting it up fails (e.g. losing the race to create the
      tables, which :func:`open_storage` then tries again): a failed attempt leaves no
      connection open behind it, so a worker holds at most its one pool;
    - a RUNNING trial that never got a heartbeat (its worker died between creating it and the
      first beat) is stale once this process has seen it so for the grace period (by its own
      monotonic clock: no clocks compared). Optuna skips such trials, so they stayed RUNNING
      for ever, and workers waiting for the study's last trials never finished.

    and one addition, :meth:`one_transaction`. Trials are read with a SELECT per table
    (:mod:`tuner.service.batch`) instead of Optuna's ORM loading, into the same
    ``FrozenTrial`` objects, the study's user attributes too, and a trial's state and values set
    the same way.
    """

    def __init__(self, *args, **kwargs):
        self._beatless: dict[int, float] = {}   # trial id -> when first seen without a beat
        try:
            super().__init__(*args, **kwargs)
        except BaseException:
            if getattr(self, "engine", None) is not None:
                self.engine.dispose()
            raise

    def get_trial(self, trial_id: int) -> FrozenTrial:
        with _create_scoped_session(self.scoped_session) as session:
            return batch.read_trial(session, trial_id)

    def _get_trials(self, study_id: int, states: Container[TrialState] | None,
                    included_trial_ids: set[int], trial_id_greater_than: int) -> list[FrozenTrial]:
        with _create_scoped_session(self.scoped_session) as session:
            return batch.read_study_trials(session, study_id, states, included_trial_ids,
                                           trial_id_greater_than)

    def get_study_user_attrs(self, study_id: int) -> dict[str, Any]:
        with _create_scoped_session(self.scoped_session) as session:
            return batch.read_study_user_attrs(session, study_id)

    def set_trial_state_values(self, trial_id: int, state: TrialState,
                               values: Sequence[float] | None = None) -> bool:
        """As Optuna's (:func:`~tuner.service.batch.write_trial_state`)."""
        try:
            with _create_scoped_session(self.scoped_session) as session:
                return batch.write_trial_state(self, session, trial_id, state, values)
        except sqlalchemy.exc.IntegrityError:
            return False

    def _get_stale_trial_ids(self, study_id: int) -> list[int]:
        stale = super()._get_stale_trial_ids(study_id)
        grace = self.grace_period if self.grace_period is not None else 2 * self.heartbeat_interval
        with _create_scoped_session(self.scoped_session) as session:
            beatless = {trial_id for (trial_id,) in session.query(models.TrialModel.trial_id)
                        .outerjoin(models.TrialHeartbeatModel)
                        .filter(models.TrialModel.study_id == study_id,
                                models.TrialModel.state == TrialState.RUNNING,
                                models.TrialHeartbeatModel.trial_heartbeat_id.is_(None))}
        now = time.monotonic()
        seen = self._beatless
        for trial_id in set(seen) - beatless:        # beating now, or finished
            seen.pop(trial_id, None)                 # (the heartbeat thread's janitor too)
        return stale + [t for t in sorted(beatless) if now - seen.setdefault(t, now) > grace]

    @contextmanager
    def one_transaction(self, *, write: bool = True):
        """Inside, this thread's calls of Optuna's storage methods share one database
        transaction, committed at the end (rolled back if the block raises).

        Each method still runs its own code, checks and commit, but against a session joined to
        this transaction in SQLAlchemy's ``join_transaction_mode="create_savepoint"``: its commit
        releases a savepoint and its rollback returns to it, so each call stays all or nothing
        as on its own, and the block as a whole too. Nothing is visible to others before the
        end. ``write=False`` is for blocks that only read (on SQLite they then begin deferred,
        not ``BEGIN IMMEDIATE``). Other threads are not affected; blocks do not nest.

        Keep caches out of such a block when it may fail after a write: a write Optuna's
        ``_CachedStorage`` caches (a created trial) would stay in its cache though rolled back.
        """
        registry = self.scoped_session.registry
        outside = registry()                       # this thread's own session
        with self.engine.connect() as conn:
            with _reading_only(not write):
                transaction = conn.begin()
            with transaction:
                session = Session(bind=conn, join_transaction_mode="create_savepoint")
                registry.set(session)
                try:
                    yield
                finally:
                    registry.set(outside)
                    session.close()


class SQLiteStorage(ClosingStorage):
    """Optuna's RDBStorage on SQLite: writing transactions take the write lock up front
    (``BEGIN IMMEDIATE``, SQLAlchemy's pysqlite recipe), so none has to upgrade its lock
    mid-transaction and fail "database is locked"; the read-only methods
    (:data:`READ_ONLY_METHODS`) begin deferred, so in WAL mode they read beside a writer instead
    of queueing for its lock."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _begin_transactions(self.engine)


def _begin_transactions(engine: sqlalchemy.Engine) -> None:
    """Begin each transaction on ``engine`` as :class:`SQLiteStorage` says."""

    @event.listens_for(engine, "begin")
    def begin(conn):
        conn.exec_driver_sql("BEGIN" if getattr(_reading, "depth", 0) else "BEGIN IMMEDIATE")


for _name in READ_ONLY_METHODS:
    setattr(SQLiteStorage, _name, _deferred(_name))


class OneReadStorage(_CachedStorage):
    """The cached storage Optuna wraps an RDBStorage in, with a trial's start in few transactions.

    - Optuna's ``get_all_trials`` asks the database for new and unfinished trials on every call;
      asking for a trial and sampling it makes five or six such calls (the waiting-trial queue,
      the search-space intersection, TPE's constant-liar reads for each parameter). Inside
      ``with storage.one_read():`` the first call per study reads the database and the later
      ones, in the same thread, use that read.
    - The first ``get_trial`` of a trial this thread has just created (``optuna.Trial`` reads it
      back at once) returns a copy of what creating it wrote, read from no database.
    - Inside ``with storage.collecting():`` what sampling writes (each suggest call's parameter,
      a sampler's trial system attributes) is only collected; :meth:`write_start` then writes
      it together with the trial's first heartbeat, in one transaction.

    Outside those, it is Optuna's ``_CachedStorage``.
    """

    def __init__(self, backend: ClosingStorage):
        super().__init__(backend)
        self._one_read = threading.local()
        self._pending = threading.local()
        self._created = threading.local()

    @contextmanager
    def one_read(self):
        self._one_read.studies = set()
        try:
            yield
        finally:
            self._one_read.studies = None

    def _read_trials_from_remote_storage(self, study_id: int) -> None:
        studies = getattr(self._one_read, "studies", None)
        if studies is not None and study_id in studies:
            return
        super()._read_trials_from_remote_storage(study_id)
        if studies is not None:
            studies.add(study_id)              # after the read: a failed one is read again

    def create_new_trial(self, study_id: int, template_trial=None) -> int:
        trial_id = super().create_new_trial(study_id, template_trial)
        self._created.trial_id = trial_id if template_trial is None else None
        return trial_id

    def get_trial(self, trial_id: int):
        if getattr(self._created, "trial_id", None) == trial_id:
            self._created.trial_id = None
            with self._lock:
                study_id, number = self._trial_id_to_study_id_and_number[trial_id]
                return copy.deepcopy(self._studies[study_id].trials[number])
        return super().get_trial(trial_id)

    @contextmanager
    def collecting(self):
        """Inside, ``set_trial_param`` and ``set_trial_system_attr`` only collect (reads of a
        trial's system attributes see the collected ones); :meth:`write_start` writes them.
        Each block starts a new collection (what a refused ``write_start`` left is dropped)."""
        pending = self._pending
        pending.params, pending.attrs = [], []
        pending.collecting = True
        try:
            yield
        finally:
            pending.collecting = False

    def set_trial_param(self, trial_id: int, param_name: str, param_value_internal: float,
                        distribution) -> None:
        if not getattr(self._pending, "collecting", False):
            return super().set_trial_param(trial_id, param_name, param_value_internal,
                                           distribution)
        self._pending.params.append((trial_id, param_name, param_value_internal, distribution))

    def set_trial_system_attr(self, trial_id: int, key: str, value) -> None:
        if not getattr(self._pending, "collecting", False):
            return super().set_trial_system_attr(trial_id, key, value)
        self._pending.attrs.append((trial_id, key, value))

    def get_trial_system_attrs(self, trial_id: int) -> dict:
        attrs = dict(super().get_trial_system_attrs(trial_id))
        attrs.update((key, value) for t, key, value in getattr(self._pending, "attrs", None) or []
                     if t == trial_id)
        return attrs

    def write_start(self, trial_id: int) -> None:
        """Write what was collected (trial ``trial_id``'s parameters, Optuna's checks included,
        and system attributes; ValueError if any is another trial's) and, with heartbeats on,
        the trial's first heartbeat, in one transaction
        (:func:`~tuner.service.batch.write_trial_start`). What was collected stays collected
        until that commits, so a retried call writes it all."""
        backend = self._backend
        params = getattr(self._pending, "params", None) or []
        attrs = getattr(self._pending, "attrs", None) or []
        if any(t != trial_id for t, *_ in params + attrs):
            raise ValueError(f"what was collected is not all trial id {trial_id}'s")
        study_id, _ = self._trial_id_to_study_id_and_number[trial_id]
        known = self._studies[study_id].param_distribution
        with self._lock, _create_scoped_session(backend.scoped_session, True) as session:
            batch.write_trial_start(
                backend, session, trial_id,
                [(name, value, distribution, known.get(name)) for _, name, value, distribution
                 in params], {key: value for _, key, value in attrs},
                heartbeat=bool(backend.heartbeat_interval))
        for _, name, _, distribution in params:
            known.setdefault(name, distribution)
        params.clear()
        attrs.clear()


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
                    storage = (SQLiteStorage if parsed.get_backend_name() == "sqlite"
                               and not read_only else ClosingStorage)(
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
    except (sqlalchemy.exc.DatabaseError, optuna.exceptions.StorageInternalError) as error:
        e = error.__cause__ if isinstance(error, optuna.exceptions.StorageInternalError) else error
        if not isinstance(e, sqlalchemy.exc.DatabaseError):   # unreachable, refused, no database
            raise
        if read_only and _missing_table(e):
            raise StorageError(f"the database at {mask_url(url)} holds no studies yet (no "
                               "Optuna tables)") from None
        raise StorageError(unreachable_message(url, e)) from None
    except RuntimeError as e:
        raise StorageError(schema_message(url, e)) from None
    return storage


def schema_message(url: str, error: RuntimeError) -> str:
    """One line for Optuna's refusal of a schema other than its own: older, the command that
    upgrades it; newer, that Optuna itself needs upgrading. Another RuntimeError is re-raised."""
    where = mask_url(url)
    if "storage upgrade" in str(error):
        real = " (with the real password)" if make_url(url).password else ""
        return (f"the database at {where} was created by an older Optuna; run: optuna storage "
                f"upgrade --storage '{where}'{real}")
    if "pip install -U optuna" in str(error):
        return (f"the database at {where} was created by a newer Optuna than this one "
                f"({optuna.__version__}); upgrade Optuna (pip install -U optuna)")
    raise error


def _lost_creation_race(error: Exception) -> bool:
    text = str(getattr(error, "orig", error)).lower()
    return (isinstance(error, sqlalchemy.exc.IntegrityError) or "already exists" in text
            or "unique constraint" in text or "database is locked" in text)


def _missing_table(error: Exception) -> bool:
    text = str(getattr(error, "orig", error)).lower()
    return "no such table" in text or "does not exist" in text and "relation" in text


def _without_password(text: str, password: str, *, public) -> str:
    """``text`` with each whole-word occurrence of ``password`` replaced by ``***``, except
    inside the URL's ``public`` parts (host, user, database, port), which the message names
    anyway: masking "127" inside "127.0.0.1" would give the password away by elimination."""
    shown = [range(m.start(), m.end()) for part in public if part
             for m in re.finditer(re.escape(part), text)]
    pieces, last = [], 0
    for m in re.finditer(rf"(?<!\w){re.escape(password)}(?!\w)", text):
        if not any(m.start() in span and m.end() - 1 in span for span in shown):
            pieces += [text[last:m.start()], "***"]
            last = m.end()
    return "".join(pieces) + text[last:]


def unreachable_message(url: str, error: Exception) -> str:
    """One line naming where the database was expected and why it failed, never the password."""
    parsed = make_url(url)
    cause = str(getattr(error, "orig", error) or error).strip().splitlines()
    reason = cause[0] if cause else type(error).__name__
    if parsed.password:
        reason = _without_password(reason, str(parsed.password),
                                   public=(parsed.host, parsed.username, parsed.database,
                                           str(parsed.port or "")))
    if parsed.get_backend_name() == "sqlite":
        return f"cannot open the SQLite database {parsed.database!r}: {reason}"
    where = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    user = f" as user {parsed.username!r}" if parsed.username else ""
    return f"cannot connect to the database at {where}{user}: {reason}"

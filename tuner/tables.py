"""Read-only SELECTs on Optuna's own tables, for readers that need speed (the dashboard).

Optuna's read path builds a ``FrozenTrial`` per trial with every user attribute: 5–6 s for a
10 000-trial study from a fresh process, 22 s with per-epoch curves. Plain SELECTs of the same
rows take well under a second. This module is where readers outside a worker read Optuna's
tables directly (a worker's storage reads and writes its trials' rows through Optuna's own table
models: :mod:`tuner.service.batch`); it was written for Optuna's RDB schema
:data:`SCHEMA_VERSION` / alembic revision :data:`ALEMBIC_REVISION` with the columns in
:data:`COLUMNS` (``tests/test_dashboard_data.py`` fails when an Optuna upgrade changes any of
them). It never writes: the engine is opened as
:func:`tuner.service.storage.engine_kwargs` ``(url, read_only=True)`` makes it (SQLite
``mode=ro``, PostgreSQL read-only transactions), so a SELECT-only role is enough.

Values come back decoded the way Optuna decodes them: JSON attributes parsed, objective values
with their ``INF_POS``/``INF_NEG`` types turned into ``±inf``, times as naive UTC datetimes.
Per-trial big attributes (``curve``, ``path``) are read only by :func:`trial_attribute`, for the
trials asked for.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from pathlib import Path

import sqlalchemy
from sqlalchemy import (Column, DateTime, Float, Integer, MetaData, String, Table, Text, and_,
                        func, or_, select)
from sqlalchemy.engine import make_url

from .errors import StorageError, UnknownStudyError
from .service.storage import engine_kwargs, mask_url, resolve_url, unreachable_message

SCHEMA_VERSION = 12
"""``optuna.storages._rdb.models.SCHEMA_VERSION`` (the ``version_info`` row) written for."""

ALEMBIC_REVISION = "v3.2.0.a"
"""The alembic head revision (``alembic_version`` table) this module was written for."""

BIG_ATTRIBUTES = ("curve", "path")
"""Trial user attributes left out of :func:`trial_rows` (read with :func:`trial_attribute`)."""

OPEN_STATES = ("RUNNING", "WAITING")
"""Trial states that can still change."""

_meta = MetaData()
studies_t = Table("studies", _meta, Column("study_id", Integer), Column("study_name", String))
directions_t = Table("study_directions", _meta, Column("study_direction_id", Integer),
                     Column("direction", String), Column("study_id", Integer),
                     Column("objective", Integer))
study_attrs_t = Table("study_user_attributes", _meta, Column("study_user_attribute_id", Integer),
                      Column("study_id", Integer), Column("key", String),
                      Column("value_json", Text))
trials_t = Table("trials", _meta, Column("trial_id", Integer), Column("number", Integer),
                 Column("study_id", Integer), Column("state", String),
                 Column("datetime_start", DateTime), Column("datetime_complete", DateTime))
trial_attrs_t = Table("trial_user_attributes", _meta, Column("trial_user_attribute_id", Integer),
                      Column("trial_id", Integer), Column("key", String),
                      Column("value_json", Text))
values_t = Table("trial_values", _meta, Column("trial_value_id", Integer),
                 Column("trial_id", Integer), Column("objective", Integer),
                 Column("value", Float), Column("value_type", String))
params_t = Table("trial_params", _meta, Column("param_id", Integer), Column("trial_id", Integer),
                 Column("param_name", String), Column("param_value", Float),
                 Column("distribution_json", Text))
intermediate_t = Table("trial_intermediate_values", _meta,
                       Column("trial_intermediate_value_id", Integer),
                       Column("trial_id", Integer), Column("step", Integer),
                       Column("intermediate_value", Float),
                       Column("intermediate_value_type", String))
version_t = Table("version_info", _meta, Column("version_info_id", Integer),
                  Column("schema_version", Integer), Column("library_version", String))
alembic_t = Table("alembic_version", _meta, Column("version_num", String))

COLUMNS = {t.name: tuple(c.name for c in t.columns) for t in _meta.sorted_tables}
"""Every table and column this module reads, as Optuna's schema names them."""


def _as_text(column):
    """An enum column compared as text (PostgreSQL stores Optuna's enums as enum types)."""
    return sqlalchemy.cast(column, String)


def create_engine(url: str | None = None) -> sqlalchemy.Engine:
    """A read-only engine on ``url`` (resolved as ``resolve_url``); nothing is created.

    Raises :class:`StorageError` for a SQLite file that does not exist (opening it read-only
    would fail with a less helpful message).
    """
    url = resolve_url(url)
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file():
        raise StorageError(f"no SQLite database at {parsed.database!r} (launch a study first, "
                           "or pass --storage / set TUNER_STORAGE)")
    rendered = parsed.render_as_string(hide_password=False)
    return sqlalchemy.create_engine(rendered, **engine_kwargs(rendered, read_only=True))


def _connect(engine: sqlalchemy.Engine):
    try:
        return engine.connect()
    except sqlalchemy.exc.DBAPIError as e:
        raise StorageError(unreachable_message(
            engine.url.render_as_string(hide_password=False), e)) from None


def has_tables(engine: sqlalchemy.Engine) -> bool:
    """Whether the database holds Optuna's tables (an empty database does not)."""
    with _connect(engine) as conn:
        return sqlalchemy.inspect(conn).has_table("studies")


def schema_version(engine: sqlalchemy.Engine) -> tuple[int | None, str | None]:
    """The database's ``(version_info.schema_version, alembic revision)``; None where absent."""
    with _connect(engine) as conn:
        inspector = sqlalchemy.inspect(conn)
        version = revision = None
        if inspector.has_table("version_info"):
            version = conn.execute(select(version_t.c.schema_version)).scalar()
        if inspector.has_table("alembic_version"):
            revision = conn.execute(select(alembic_t.c.version_num)).scalar()
    return version, revision


def schema_problem(engine: sqlalchemy.Engine) -> str | None:
    """A one-line warning when the database's schema is not the one this module reads, else None."""
    version, revision = schema_version(engine)
    if (version, revision) in ((SCHEMA_VERSION, ALEMBIC_REVISION), (None, None)):
        return None
    return (f"the database's Optuna schema is {version}/{revision}; tuner reads "
            f"{SCHEMA_VERSION}/{ALEMBIC_REVISION} (run `optuna storage upgrade`, or upgrade tuner)")


def _decode(text: str | None):
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _objective_value(value: float | None, kind: str | None) -> float | None:
    if kind == "INF_POS":
        return math.inf
    if kind == "INF_NEG":
        return -math.inf
    return value


def study_list(engine: sqlalchemy.Engine) -> list[dict]:
    """Every study: ``study_id``, ``study`` (name), ``direction`` (``maximize``/``minimize``),
    ``attrs`` (its user attributes except ``spec``), ``counts`` (state name → trials),
    ``diverged``, ``best_value`` (of its complete trials, by direction; None when none) and
    ``last_update`` (latest start or completion, naive UTC). An empty database gives ``[]``."""
    if not has_tables(engine):
        return []
    with _connect(engine) as conn:
        rows = conn.execute(
            select(studies_t.c.study_id, studies_t.c.study_name, directions_t.c.direction)
            .select_from(studies_t.outerjoin(directions_t, and_(
                directions_t.c.study_id == studies_t.c.study_id, directions_t.c.objective == 0)))
            .order_by(studies_t.c.study_id)).all()
        out = {r.study_id: {"study_id": r.study_id, "study": r.study_name,
                            "direction": (r.direction or "MINIMIZE").lower(), "attrs": {},
                            "counts": {}, "diverged": 0, "best_value": None,
                            "last_update": None} for r in rows}
        for r in conn.execute(select(study_attrs_t.c.study_id, study_attrs_t.c.key,
                                     study_attrs_t.c.value_json)
                              .where(study_attrs_t.c.key != "spec")):
            if r.study_id in out:
                out[r.study_id]["attrs"][r.key] = _decode(r.value_json)
        state = _as_text(trials_t.c.state)
        for r in conn.execute(select(trials_t.c.study_id, state.label("state"),
                                     func.count().label("n"),
                                     func.max(trials_t.c.datetime_start).label("started"),
                                     func.max(trials_t.c.datetime_complete).label("completed"))
                              .group_by(trials_t.c.study_id, state)):
            study = out.get(r.study_id)
            if study is None:
                continue
            study["counts"][r.state] = r.n
            latest = max((d for d in (r.started, r.completed, study["last_update"]) if d),
                         default=None)
            study["last_update"] = latest
        for r in conn.execute(select(trials_t.c.study_id, func.count().label("n"))
                              .select_from(trials_t.join(trial_attrs_t,
                                                         trial_attrs_t.c.trial_id
                                                         == trials_t.c.trial_id))
                              .where(trial_attrs_t.c.key == "diverged")
                              .group_by(trials_t.c.study_id)):
            if r.study_id in out:
                out[r.study_id]["diverged"] = r.n
        finite = select(trials_t.c.study_id, func.max(values_t.c.value).label("high"),
                        func.min(values_t.c.value).label("low")).select_from(
            trials_t.join(values_t, values_t.c.trial_id == trials_t.c.trial_id)).where(
            state == "COMPLETE", values_t.c.objective == 0,
            _as_text(values_t.c.value_type) == "FINITE").group_by(trials_t.c.study_id)
        for r in conn.execute(finite):
            study = out.get(r.study_id)
            if study is not None:
                study["best_value"] = r.high if study["direction"] == "maximize" else r.low
    return list(out.values())


def find_study(engine: sqlalchemy.Engine, name: str) -> dict:
    """``study_id``, ``study``, ``direction`` and ``attrs`` (every user attribute, ``spec``
    parsed) of the study called ``name``; raises :class:`UnknownStudyError` if there is none
    (also for a database without tables)."""
    if not has_tables(engine):
        raise UnknownStudyError(f"no study named {name!r} (the database holds no studies yet)")
    with _connect(engine) as conn:
        row = conn.execute(
            select(studies_t.c.study_id, studies_t.c.study_name, directions_t.c.direction)
            .select_from(studies_t.outerjoin(directions_t, and_(
                directions_t.c.study_id == studies_t.c.study_id, directions_t.c.objective == 0)))
            .where(studies_t.c.study_name == name)).first()
        if row is None:
            raise UnknownStudyError(f"no study named {name!r}")
        attrs = {r.key: _decode(r.value_json) for r in conn.execute(
            select(study_attrs_t.c.key, study_attrs_t.c.value_json)
            .where(study_attrs_t.c.study_id == row.study_id))}
    if isinstance(attrs.get("spec"), str):
        attrs["spec"] = _decode(attrs["spec"])
    return {"study_id": row.study_id, "study": row.study_name,
            "direction": (row.direction or "MINIMIZE").lower(), "attrs": attrs}


def _trial_filter(study_id: int, after_id: int | None, trial_ids: Iterable[int],
                  numbers: Iterable[int]):
    clause = trials_t.c.study_id == study_id
    if after_id is None:
        return clause
    parts = [trials_t.c.trial_id > after_id]
    trial_ids, numbers = list(trial_ids), list(numbers)
    if trial_ids:
        parts.append(trials_t.c.trial_id.in_(trial_ids))
    if numbers:
        parts.append(trials_t.c.number.in_(numbers))
    return and_(clause, or_(*parts))


def trial_rows(engine: sqlalchemy.Engine, study_id: int, *, after_id: int | None = None,
               trial_ids: Iterable[int] = (), numbers: Iterable[int] = ()) -> list[dict]:
    """The study's trials in ``number`` order as dicts: ``trial_id``, ``number``, ``state``,
    ``value`` (objective 0, ±inf decoded; None if unset), ``datetime_start``,
    ``datetime_complete`` (naive UTC) and ``attrs``: the user attributes except
    :data:`BIG_ATTRIBUTES`, parsed.

    With ``after_id`` set, only the trials with ``trial_id > after_id``, those in ``trial_ids``
    and those numbered ``numbers`` (an incremental refresh: the new ones, the open ones, gaps).
    """
    where = _trial_filter(study_id, after_id, trial_ids, numbers)
    with _connect(engine) as conn:
        rows = conn.execute(
            select(trials_t.c.trial_id, trials_t.c.number, _as_text(trials_t.c.state)
                   .label("state"), trials_t.c.datetime_start, trials_t.c.datetime_complete,
                   values_t.c.value, _as_text(values_t.c.value_type).label("value_type"))
            .select_from(trials_t.outerjoin(values_t, and_(
                values_t.c.trial_id == trials_t.c.trial_id, values_t.c.objective == 0)))
            .where(where).order_by(trials_t.c.number, trials_t.c.trial_id)).all()
        out = {r.trial_id: {"trial_id": r.trial_id, "number": r.number, "state": r.state,
                            "value": _objective_value(r.value, r.value_type),
                            "datetime_start": r.datetime_start,
                            "datetime_complete": r.datetime_complete, "attrs": {}}
               for r in rows}
        if out:
            attrs = conn.execute(
                select(trial_attrs_t.c.trial_id, trial_attrs_t.c.key, trial_attrs_t.c.value_json)
                .select_from(trial_attrs_t.join(trials_t,
                                                trials_t.c.trial_id == trial_attrs_t.c.trial_id))
                .where(where, trial_attrs_t.c.key.not_in(BIG_ATTRIBUTES)))
            for r in attrs:
                if r.trial_id in out:
                    out[r.trial_id]["attrs"][r.key] = _decode(r.value_json)
    return list(out.values())


def trial_attribute(engine: sqlalchemy.Engine, study_id: int, key: str,
                    numbers: Iterable[int]) -> dict[int, object]:
    """User attribute ``key`` (e.g. ``curve`` or ``path``) of the study's trials numbered
    ``numbers``: trial number → parsed value (trials without it are left out)."""
    numbers = sorted({int(n) for n in numbers})
    if not numbers:
        return {}
    with _connect(engine) as conn:
        rows = conn.execute(
            select(trials_t.c.number, trial_attrs_t.c.value_json)
            .select_from(trial_attrs_t.join(trials_t,
                                            trials_t.c.trial_id == trial_attrs_t.c.trial_id))
            .where(trials_t.c.study_id == study_id, trials_t.c.number.in_(numbers),
                   trial_attrs_t.c.key == key))
        return {r.number: _decode(r.value_json) for r in rows}


def intermediate_values(engine: sqlalchemy.Engine, study_id: int,
                        numbers: Iterable[int]) -> dict[int, dict[int, float]]:
    """Reported values (step → value, NaN/±inf decoded) of the study's trials ``numbers``."""
    numbers = sorted({int(n) for n in numbers})
    if not numbers:
        return {}
    special = {"INF_POS": math.inf, "INF_NEG": -math.inf, "NAN": math.nan}
    out: dict[int, dict[int, float]] = {}
    with _connect(engine) as conn:
        rows = conn.execute(
            select(trials_t.c.number, intermediate_t.c.step, intermediate_t.c.intermediate_value,
                   _as_text(intermediate_t.c.intermediate_value_type).label("kind"))
            .select_from(intermediate_t.join(trials_t,
                                             trials_t.c.trial_id == intermediate_t.c.trial_id))
            .where(trials_t.c.study_id == study_id, trials_t.c.number.in_(numbers))
            .order_by(intermediate_t.c.step))
        for r in rows:
            out.setdefault(r.number, {})[r.step] = special.get(r.kind, r.intermediate_value)
    return out


def param_rows(engine: sqlalchemy.Engine, study_id: int, *,
               numbers: Iterable[int] | None = None) -> list[tuple[int, str, float, str]]:
    """``(trial number, param name, internal value, distribution JSON)`` of the study's COMPLETE
    trials (only those numbered ``numbers`` if given), as Optuna stores them (decode with
    ``optuna.distributions.json_to_distribution``)."""
    where = [trials_t.c.study_id == study_id, _as_text(trials_t.c.state) == "COMPLETE"]
    if numbers is not None:
        where.append(trials_t.c.number.in_(sorted({int(n) for n in numbers})))
    with _connect(engine) as conn:
        return [tuple(r) for r in conn.execute(
            select(trials_t.c.number, params_t.c.param_name, params_t.c.param_value,
                   params_t.c.distribution_json)
            .select_from(params_t.join(trials_t, trials_t.c.trial_id == params_t.c.trial_id))
            .where(*where).order_by(trials_t.c.number, params_t.c.param_id))]


def complete_values(engine: sqlalchemy.Engine, study_id: int) -> dict[int, float]:
    """Trial number → objective value (±inf decoded) of the study's COMPLETE trials."""
    with _connect(engine) as conn:
        rows = conn.execute(
            select(trials_t.c.number, values_t.c.value,
                   _as_text(values_t.c.value_type).label("value_type"))
            .select_from(trials_t.join(values_t, and_(values_t.c.trial_id == trials_t.c.trial_id,
                                                      values_t.c.objective == 0)))
            .where(trials_t.c.study_id == study_id, _as_text(trials_t.c.state) == "COMPLETE")
            .order_by(trials_t.c.number))
        return {r.number: _objective_value(r.value, r.value_type) for r in rows}


def describe(url: str | None) -> str:
    """The storage URL as it may be shown (password masked)."""
    return mask_url(resolve_url(url))

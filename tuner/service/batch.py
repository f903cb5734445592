"""Trials' rows in Optuna's RDB storage, written and read with a statement per table.

Optuna's RDB storage goes through its ORM a row at a time: its public API commits every
intermediate value and user attribute separately (30 epochs and a dozen attributes are ~40
commits a trial), each write first loads the trial (Optuna's "still updatable" check), and
reading a trial loads each of its relations through the ORM. At 1 000 trials that ORM work is
most of what a worker spends on its database besides sampling. tuner writes and reads the same
rows of Optuna's own tables (``optuna.storages._rdb.models``: their columns and stored forms —
NaN and ±inf, JSON attributes, distribution JSON — so that Optuna reads tuner's writes as its
own and tuner's reads equal Optuna's) with SQLAlchemy Core statements built once:

- :func:`write_trial_start`: a new trial's parameters, system attributes and first heartbeat;
- :func:`write_trial_record`: a running trial's buffered intermediate values and user
  attributes;
- :func:`write_trial_state`: a trial's state and values, as ``set_trial_state_values`` (the tell);
- :func:`read_trial`, :func:`read_study_trials`: ``FrozenTrial`` objects, as ``RDBStorage``
  builds them;
- :func:`read_study_user_attrs`: the study's user attributes (a worker's budget), the same.

Each write makes Optuna's checks, once: the trial still updatable, distributions compatible.
Storages that are not Optuna's RDB storage get the public API (:func:`write_trial_record`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Container, Iterable
from datetime import datetime, timezone
from typing import Any

import optuna
import sqlalchemy
from optuna.distributions import (
    BaseDistribution,
    check_distribution_compatibility,
    distribution_to_json,
    json_to_distribution,
)
from optuna.storages._rdb import models
from optuna.storages._rdb.storage import _create_scoped_session
from optuna.trial import FrozenTrial, TrialState
from sqlalchemy import and_, bindparam, or_, select

_TRIALS = models.TrialModel.__table__
_STUDIES = models.StudyModel.__table__
_PARAMS = models.TrialParamModel.__table__
_HEARTBEATS = models.TrialHeartbeatModel.__table__

_TRIAL_STATE = select(_TRIALS.c.study_id, _TRIALS.c.state).where(
    _TRIALS.c.trial_id == bindparam("trial_id"))
_TRIAL_STATE_FOR_UPDATE = _TRIAL_STATE.with_for_update()
_STORED_DISTRIBUTION = (select(_PARAMS.c.distribution_json)
                        .join(_TRIALS, _TRIALS.c.trial_id == _PARAMS.c.trial_id)
                        .where(_TRIALS.c.study_id == bindparam("study_id"),
                               _PARAMS.c.param_name == bindparam("name")).limit(1))
_FIRST_HEARTBEAT = sqlalchemy.insert(_HEARTBEATS).values(
    trial_id=bindparam("trial_id"), heartbeat=sqlalchemy.func.current_timestamp())
_STUDY_EXISTS = select(_STUDIES.c.study_id).where(_STUDIES.c.study_id == bindparam("study_id"))
_STUDY_ATTRS = models.StudyUserAttributeModel.__table__
_STUDY_USER_ATTRS = (select(_STUDY_ATTRS.c.key, _STUDY_ATTRS.c.value_json)
                     .where(_STUDY_ATTRS.c.study_id == bindparam("study_id"))
                     .order_by(_STUDY_ATTRS.c.study_user_attribute_id))

_TRIAL = _TRIALS.c.trial_id == bindparam("trial_id")
_STUDY_TRIALS = _TRIALS.c.study_id == bindparam("study_id")
_NEWER_TRIALS = and_(_STUDY_TRIALS, _TRIALS.c.trial_id > bindparam("after"))
_NEWER_OR_LISTED_TRIALS = and_(_STUDY_TRIALS, or_(_TRIALS.c.trial_id > bindparam("after"),
                                                  _TRIALS.c.trial_id.in_(
                                                      bindparam("listed", expanding=True))))

_RELATED = (("params", models.TrialParamModel), ("values", models.TrialValueModel),
            ("user", models.TrialUserAttributeModel),
            ("system", models.TrialSystemAttributeModel),
            ("steps", models.TrialIntermediateValueModel))


def write_trial_start(rdb: optuna.storages.RDBStorage, session, trial_id: int,
                      params: list[tuple[str, float, BaseDistribution, BaseDistribution | None]],
                      system_attrs: dict[str, Any], heartbeat: bool) -> None:
    """In ``session``: add the parameters ``(name, internal value, distribution, previous
    distribution or None)`` and the system attributes (replacing any under the same key) to
    running trial ``trial_id``, and, if ``heartbeat``, its first heartbeat (the database's
    current time, as Optuna records it).

    With the checks of Optuna's ``RDBStorage.set_trial_param``: the trial still updatable
    (``UpdateFinishedTrialError``; checked once, not once a parameter), and each distribution
    compatible with the one the study already uses under that name (``ValueError``):
    ``previous`` when the caller knows it, else the distribution stored with any trial of the
    study. One INSERT for all the parameters."""
    conn = session.connection()
    study_id = _check_updatable(rdb, conn, trial_id)
    rows = []
    for name, value, distribution, previous in params:
        if previous is None:
            stored = conn.execute(_STORED_DISTRIBUTION,
                                  {"study_id": study_id, "name": name}).scalar()
            previous = json_to_distribution(stored) if stored is not None else None
        if previous is not None:
            check_distribution_compatibility(previous, distribution)
        rows.append({"trial_id": trial_id, "param_name": name, "param_value": value,
                     "distribution_json": distribution_to_json(distribution)})
    if rows:
        conn.execute(sqlalchemy.insert(_PARAMS), rows)
    _upsert(conn, models.TrialSystemAttributeModel, "key", trial_id, _as_json(system_attrs))
    if heartbeat:
        conn.execute(_FIRST_HEARTBEAT, {"trial_id": trial_id})


def write_trial_record(storage, trial_id: int, intermediate_values: dict[int, float],
                       user_attrs: dict[str, Any]) -> None:
    """Store ``intermediate_values`` (step → value) and ``user_attrs`` of a running trial,
    replacing any already stored under the same step or key, in one transaction (or the
    caller's: see ``ClosingStorage.one_transaction``).

    Raises ``optuna.exceptions.UpdateFinishedTrialError`` if the trial is no longer running
    (failed as stale meanwhile); nothing is written then.
    """
    rdb = getattr(storage, "_backend", storage)          # unwrap Optuna's _CachedStorage
    if not isinstance(rdb, optuna.storages.RDBStorage):
        for step, value in intermediate_values.items():
            storage.set_trial_intermediate_value(trial_id, step, value)
        for key, value in user_attrs.items():
            storage.set_trial_user_attr(trial_id, key, value)
        return
    value_model = models.TrialIntermediateValueModel
    steps = {}
    for step, value in intermediate_values.items():
        stored, kind = value_model.intermediate_value_to_stored_repr(value)
        steps[step] = {"intermediate_value": stored, "intermediate_value_type": kind}
    with _create_scoped_session(rdb.scoped_session, True) as session:
        conn = session.connection()
        _check_updatable(rdb, conn, trial_id)
        _upsert(conn, value_model, "step", trial_id, steps)
        _upsert(conn, models.TrialUserAttributeModel, "key", trial_id, _as_json(user_attrs))


def write_trial_state(rdb: optuna.storages.RDBStorage, session, trial_id: int,
                      state: TrialState, values=None) -> bool:
    """In ``session``, what Optuna's ``RDBStorage.set_trial_state_values`` does, row for row:
    the trial locked (``FOR UPDATE`` where the database has it) and checked (``KeyError``,
    ``UpdateFinishedTrialError``); ``values`` stored by objective; then False if ``state`` is
    RUNNING and the trial was not WAITING (another worker took it), else the state set (with
    the start time for RUNNING, the completion time for a finished state) and True."""
    conn = session.connection()
    row = conn.execute(_TRIAL_STATE_FOR_UPDATE, {"trial_id": trial_id}).first()
    if row is None:
        raise KeyError(models.NOT_FOUND_MSG)
    rdb.check_trial_is_updatable(trial_id, row.state)
    if values is not None:
        stored = {}
        for objective, value in enumerate(values):
            number, kind = models.TrialValueModel.value_to_stored_repr(value)
            stored[objective] = {"value": number, "value_type": kind}
        _upsert(conn, models.TrialValueModel, "objective", trial_id, stored)
    if state == TrialState.RUNNING and row.state != TrialState.WAITING:
        return False
    changes: dict[str, Any] = {"state": state}
    if state == TrialState.RUNNING:
        changes["datetime_start"] = _utc_now()
    if state.is_finished():
        changes["datetime_complete"] = _utc_now()
    conn.execute(sqlalchemy.update(_TRIALS).where(_TRIALS.c.trial_id == trial_id)
                 .values(**changes))
    return True


def read_trial(session, trial_id: int) -> FrozenTrial:
    """Trial ``trial_id`` as Optuna's ``RDBStorage.get_trial`` returns it (``KeyError`` if there
    is no such trial); see :func:`_read_trials`."""
    found = _read_trials(session.connection(), _TRIAL, trial_id=trial_id)
    if not found:
        raise KeyError(models.NOT_FOUND_MSG)
    return found[0]


def read_study_trials(session, study_id: int, states: Container[TrialState] | None,
                      included_trial_ids: Iterable[int],
                      trial_id_greater_than: int) -> list[FrozenTrial]:
    """As Optuna's ``RDBStorage._get_trials`` (see :func:`_read_trials`): study ``study_id``'s
    trials (in ``states`` if given); with ``trial_id_greater_than`` > -1 only those with a
    greater id or in ``included_trial_ids`` (ids at most that); ``KeyError`` if there is no
    such study."""
    listed = [t for t in included_trial_ids if t <= trial_id_greater_than]
    if trial_id_greater_than < 0:
        where = _STUDY_TRIALS
    else:
        where = _NEWER_OR_LISTED_TRIALS if listed else _NEWER_TRIALS
    if states is not None:
        where = and_(where, _TRIALS.c.state.in_(list(states)))
    conn = session.connection()
    _check_study(conn, study_id)
    return _read_trials(conn, where, study_id=study_id, after=trial_id_greater_than,
                        listed=listed)


def _read_trials(conn, where, **parameters) -> list[FrozenTrial]:
    """The trials matching ``where`` with its ``parameters``, in trial id order, each as
    ``RDBStorage._build_frozen_trial_from_trial_model`` builds it (the same objects, compared
    equal in the tests): one SELECT of the trials, one per table of their parameters, values,
    attributes and intermediate values. The statements of the module's own conditions are
    built once."""
    trials, related = _PREPARED.get(id(where)) or _selects(where)
    rows = conn.execute(trials, parameters).all()
    if not rows:
        return []
    found = {}
    for name, select_related in related:
        by_trial = found[name] = {}
        for row in conn.execute(select_related, parameters):
            by_trial.setdefault(row.trial_id, []).append(row)
    return [_frozen(row, **{name: by_trial.get(row.trial_id, ())
                            for name, by_trial in found.items()}) for row in rows]


def read_study_user_attrs(session, study_id: int) -> dict[str, Any]:
    """Study ``study_id``'s user attributes, as Optuna's ``get_study_user_attrs`` returns them
    (``KeyError`` if there is no such study)."""
    conn = session.connection()
    _check_study(conn, study_id)
    return {key: json.loads(value) for key, value in conn.execute(_STUDY_USER_ATTRS,
                                                                   {"study_id": study_id})}


def _selects(where):
    """The statements :func:`read_trials` runs for ``where``."""
    chosen = select(_TRIALS.c.trial_id).where(where)
    return (select(_TRIALS).where(where).order_by(_TRIALS.c.trial_id),
            [(name, select(model.__table__).where(model.__table__.c.trial_id.in_(chosen))
              .order_by(*model.__table__.primary_key.columns)) for name, model in _RELATED])


_PREPARED = {id(where): _selects(where)
             for where in (_TRIAL, _STUDY_TRIALS, _NEWER_TRIALS, _NEWER_OR_LISTED_TRIALS)}


def _check_study(conn, study_id: int) -> None:
    """``KeyError`` if there is no study ``study_id`` (Optuna's check before its reads)."""
    if conn.execute(_STUDY_EXISTS, {"study_id": study_id}).first() is None:
        raise KeyError(models.NOT_FOUND_MSG)


def _check_updatable(rdb: optuna.storages.RDBStorage, conn, trial_id: int) -> int:
    """Trial ``trial_id``'s study id, after Optuna's check that the trial can still be written
    (``UpdateFinishedTrialError`` if not; ``KeyError`` if there is no such trial)."""
    row = conn.execute(_TRIAL_STATE, {"trial_id": trial_id}).first()
    if row is None:
        raise KeyError(models.NOT_FOUND_MSG)
    rdb.check_trial_is_updatable(trial_id, row.state)
    return row.study_id


def _as_json(attrs: dict[str, Any]) -> dict[str, dict]:
    return {key: {"value_json": json.dumps(value)} for key, value in attrs.items()}


@functools.cache
def _existing_keys(table, key: str):
    return select(table.c[key]).where(table.c.trial_id == bindparam("trial_id"),
                                      table.c[key].in_(bindparam("keys", expanding=True)))


def _upsert(conn, model, key: str, trial_id: int, rows: dict[Any, dict]) -> None:
    """Rows of ``model``'s table for trial ``trial_id``: ``rows`` maps a value of column ``key``
    to the row's other columns; existing rows are updated, the others inserted together (one
    query to tell, one to insert)."""
    if not rows:
        return
    table = model.__table__
    existing = set(conn.execute(_existing_keys(table, key),
                                {"trial_id": trial_id, "keys": list(rows)}).scalars())
    new = [{"trial_id": trial_id, key: k, **columns}
           for k, columns in rows.items() if k not in existing]
    if new:
        conn.execute(sqlalchemy.insert(table), new)
    for k in existing:
        conn.execute(sqlalchemy.update(table)
                     .where(table.c.trial_id == trial_id, table.c[key] == k).values(**rows[k]))


def _utc_now() -> datetime:
    """Now, as Optuna's ``TrialModel`` stores its times: naive UTC."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _local(stored: datetime | None) -> datetime | None:
    """A stored (naive UTC) time as Optuna's ``FrozenTrial`` holds it: naive local time."""
    if stored is None:
        return None
    return stored.replace(tzinfo=timezone.utc).astimezone().replace(tzinfo=None)


def _frozen(trial, params, values, user, system, steps) -> FrozenTrial:
    objectives = None
    if values:
        objectives = [0.0] * len(values)
        for v in values:
            objectives[v.objective] = models.TrialValueModel.stored_repr_to_value(v.value,
                                                                                  v.value_type)
    distributions = {p.param_name: json_to_distribution(p.distribution_json) for p in params}
    return FrozenTrial(
        number=trial.number, state=trial.state, value=None, values=objectives,
        datetime_start=_local(trial.datetime_start),
        datetime_complete=_local(trial.datetime_complete),
        params={p.param_name: distributions[p.param_name].to_external_repr(p.param_value)
                for p in params},
        distributions=distributions,
        user_attrs={a.key: json.loads(a.value_json) for a in user},
        system_attrs={a.key: json.loads(a.value_json) for a in system},
        intermediate_values={
            v.step: models.TrialIntermediateValueModel.stored_repr_to_intermediate_value(
                v.intermediate_value, v.intermediate_value_type) for v in steps},
        trial_id=trial.trial_id)

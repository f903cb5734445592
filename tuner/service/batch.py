"""Writing a trial's buffered parameters and record to the RDB storage, a query per table.

Optuna's public storage API commits every intermediate value and user attribute separately
(one transaction each: 30 epochs and a dozen attributes are ~40 commits a trial), and even its
own per-row helpers make two queries a row (the trial, then the row) before writing it. tuner
buffers a trial's values and attributes and writes them with Optuna's ORM models, in one
transaction: one query for the trial (Optuna's "still updatable" check), one per table for the
rows already there, then the new rows inserted together and the old ones updated. The rows and
value encodings are Optuna's own (``TrialIntermediateValueModel``'s stored form for NaN and
±inf, JSON for attributes), so Optuna reads them back as if it had written them. Storages that
are not Optuna's RDB storage get the public API.

The parameters a sampler chose for a new trial are written the same way
(:func:`write_trial_params`): Optuna's own checks, then one INSERT for all of them. And trials
are read back the same way (:func:`read_trials`): a SELECT per table of Optuna's models, the
rows turned into ``FrozenTrial`` objects as Optuna's ``RDBStorage`` builds them, without its
ORM loading (a worker reads the study's new trials before every trial it runs).
"""

from __future__ import annotations

import json
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
from optuna.trial import FrozenTrial


def write_trial_record(storage, trial_id: int, intermediate_values: dict[int, float],
                       user_attrs: dict[str, Any]) -> None:
    """Store ``intermediate_values`` (step → value) and ``user_attrs`` of a running trial,
    replacing any already stored under the same step or key.

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
    from optuna.storages._rdb.storage import _create_scoped_session
    value_model = models.TrialIntermediateValueModel
    steps = {}
    for step, value in intermediate_values.items():
        stored, kind = value_model.intermediate_value_to_stored_repr(value)
        steps[step] = {"intermediate_value": stored, "intermediate_value_type": kind}
    attrs = {key: {"value_json": json.dumps(value)} for key, value in user_attrs.items()}
    with _create_scoped_session(rdb.scoped_session, True) as session:
        trial = models.TrialModel.find_or_raise_by_id(trial_id, session)
        rdb.check_trial_is_updatable(trial_id, trial.state)
        _upsert(session, value_model, value_model.step, trial_id, steps)
        _upsert(session, models.TrialUserAttributeModel, models.TrialUserAttributeModel.key,
                trial_id, attrs)


def write_trial_params(rdb: optuna.storages.RDBStorage, session, trial_id: int,
                       params: list[tuple[str, float, BaseDistribution, BaseDistribution | None]]
                       ) -> None:
    """Add the parameters ``(name, internal value, distribution, previous distribution or
    None)`` to running trial ``trial_id`` in ``session``, with the checks of Optuna's
    ``RDBStorage.set_trial_param``: the trial still updatable (``UpdateFinishedTrialError``;
    checked once, not once a parameter), and each distribution compatible with the one the
    study already uses under that name (``ValueError``): ``previous`` when the caller knows it,
    else the distribution stored with any trial of the study. One INSERT for all of them."""
    if not params:
        return
    trial = models.TrialModel.find_or_raise_by_id(trial_id, session)
    rdb.check_trial_is_updatable(trial_id, trial.state)
    rows = []
    for name, value, distribution, previous in params:
        if previous is None:
            stored = session.scalars(
                sqlalchemy.select(models.TrialParamModel.distribution_json)
                .join(models.TrialModel)
                .where(models.TrialModel.study_id == trial.study_id,
                       models.TrialParamModel.param_name == name).limit(1)).first()
            previous = json_to_distribution(stored) if stored is not None else None
        if previous is not None:
            check_distribution_compatibility(previous, distribution)
        rows.append({"trial_id": trial_id, "param_name": name, "param_value": value,
                     "distribution_json": distribution_to_json(distribution)})
    session.execute(sqlalchemy.insert(models.TrialParamModel), rows)


def _upsert(session, model, key_column, trial_id: int, rows: dict[Any, dict]) -> None:
    """Rows of ``model`` for trial ``trial_id``: ``rows`` maps a ``key_column`` value to the
    row's other columns; existing rows are updated, the others inserted together (one query
    to tell, one to insert)."""
    if not rows:
        return
    query = sqlalchemy.select(model).where(model.trial_id == trial_id, key_column.in_(list(rows)))
    existing = {getattr(row, key_column.key): row for row in session.scalars(query)}
    new = [{"trial_id": trial_id, key_column.key: key, **columns}
           for key, columns in rows.items() if key not in existing]
    if new:
        session.execute(sqlalchemy.insert(model), new)
    for key, row in existing.items():
        for name, value in rows[key].items():
            setattr(row, name, value)


def read_trials(session, where) -> list[FrozenTrial]:
    """The trials matching ``where`` (a condition on ``TrialModel``'s columns), in trial id
    order, each as ``RDBStorage._build_frozen_trial_from_trial_model`` builds it (the same
    objects, compared equal in the tests): one SELECT of the trials, one per table of their
    parameters, values, attributes and intermediate values, in ``session``'s transaction."""
    conn = session.connection()
    trials = models.TrialModel.__table__
    rows = conn.execute(sqlalchemy.select(trials).where(where).order_by(trials.c.trial_id)).all()
    if not rows:
        return []
    chosen = sqlalchemy.select(trials.c.trial_id).where(where)
    related = {}
    for name, model in (("params", models.TrialParamModel), ("values", models.TrialValueModel),
                        ("user", models.TrialUserAttributeModel),
                        ("system", models.TrialSystemAttributeModel),
                        ("steps", models.TrialIntermediateValueModel)):
        table = model.__table__
        by_trial = related[name] = {}
        for row in conn.execute(sqlalchemy.select(table).where(table.c.trial_id.in_(chosen))
                                .order_by(*table.primary_key.columns)):
            by_trial.setdefault(row.trial_id, []).append(row)
    return [_frozen(row, **{name: by_trial.get(row.trial_id, ())
                            for name, by_trial in related.items()}) for row in rows]


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
        datetime_start=trial.datetime_start, datetime_complete=trial.datetime_complete,
        params={p.param_name: distributions[p.param_name].to_external_repr(p.param_value)
                for p in params},
        distributions=distributions,
        user_attrs={a.key: json.loads(a.value_json) for a in user},
        system_attrs={a.key: json.loads(a.value_json) for a in system},
        intermediate_values={
            v.step: models.TrialIntermediateValueModel.stored_repr_to_intermediate_value(
                v.intermediate_value, v.intermediate_value_type) for v in steps},
        trial_id=trial.trial_id)

"""The dashboard's data access: a storage URL in, tidy pandas DataFrames out. No Streamlit.

Every function takes the storage URL first and an optional ``engine`` (a read-only engine from
:func:`tuner.tables.create_engine`, which the app caches); without one it opens and disposes its
own. Reads go through :mod:`tuner.tables` (plain SELECTs: read-only, never creating anything).
Errors are tuner's own: :class:`tuner.errors.StorageError` (unreachable, no such file) and
:class:`tuner.errors.UnknownStudyError` (no such study, e.g. deleted) carry one-line messages.
"""

from __future__ import annotations

import contextlib
import json
import math
import shlex
from collections.abc import Iterable, Iterator

import numpy as np
import pandas as pd
import sqlalchemy

from tuner import tables
from tuner.results import retrained_summary, study_state
from tuner.service.retrain import ATTR as RETRAIN_ATTR, rank_key
from tuner.tasks import SURFACES

STUDY_COLUMNS = ["study", "task", "metric", "direction", "state", "n_trials", "finished",
                 "complete", "pruned", "diverged", "failed", "running", "waiting", "best_value",
                 "last_update", "study_id"]
"""Columns of :func:`studies`, in order."""

TRIAL_COLUMNS = ["number", "status", "state", "diverged", "value", "optimizer", "lr", "momentum",
                 "schedule", "warmup_epochs", "val_metric", "test_metric", "test_loss", "epochs",
                 "diverged_epoch", "pruned_reason", "seconds", "seed", "started", "completed",
                 "optimizer_args", "schedule_args", "config", "trial_id"]
"""Columns of :func:`trials`, in order. ``status`` is ``state`` with ``DIVERGED`` for diverged
runs; ``optimizer_args``/``schedule_args`` are JSON text; ``config`` the stored dict."""

CURVE_COLUMNS = ["number", "epoch", "train_loss", "val_loss", "val_metric", "lr"]
PATH_COLUMNS = ["number", "step", "x", "y"]


@contextlib.contextmanager
def _engine(url: str, engine: sqlalchemy.Engine | None) -> Iterator[sqlalchemy.Engine]:
    if engine is not None:
        yield engine
        return
    own = tables.create_engine(url)
    try:
        yield own
    finally:
        own.dispose()


def studies(url: str, *, engine: sqlalchemy.Engine | None = None) -> pd.DataFrame:
    """Every study, one row each (:data:`STUDY_COLUMNS`): task, metric, direction, state
    (:func:`tuner.results.study_state`: ``running``, ``finished`` once complete + pruned reach
    the budget ``n_trials`` or the time limit has passed, else ``idle``), trial counts, best
    value and last update (UTC). An empty database gives an empty frame with those columns."""
    with _engine(url, engine) as eng:
        rows = tables.study_list(eng)
    out = []
    for r in rows:
        counts, budget = r["counts"], r["attrs"].get("n_trials")
        finished = counts.get("COMPLETE", 0) + counts.get("PRUNED", 0)
        state = study_state(counts.get("RUNNING", 0), finished, budget,
                            r["attrs"].get("deadline"))
        out.append({"study": r["study"], "task": r["attrs"].get("task"),
                    "metric": r["attrs"].get("metric"), "direction": r["direction"],
                    "state": state, "n_trials": budget, "finished": finished,
                    "complete": counts.get("COMPLETE", 0),
                    "pruned": counts.get("PRUNED", 0) - r["diverged"],
                    "diverged": r["diverged"], "failed": counts.get("FAIL", 0),
                    "running": counts.get("RUNNING", 0), "waiting": counts.get("WAITING", 0),
                    "best_value": r["best_value"], "last_update": r["last_update"],
                    "study_id": r["study_id"]})
    frame = pd.DataFrame(out, columns=STUDY_COLUMNS)
    frame["last_update"] = pd.to_datetime(frame["last_update"])
    return frame


def study_info(url: str, study: str, *, engine: sqlalchemy.Engine | None = None) -> dict:
    """``study_id``, ``study``, ``direction``, ``task``, ``metric``, ``n_trials``, ``spec``
    (dict) and ``retrain`` (the stored re-training record, or None) of one study; raises
    ``UnknownStudyError`` if it does not exist (deleted)."""
    with _engine(url, engine) as eng:
        found = tables.find_study(eng, study)
    attrs = found["attrs"]
    return {"study_id": found["study_id"], "study": found["study"],
            "direction": found["direction"], "task": attrs.get("task"),
            "metric": attrs.get("metric"), "n_trials": attrs.get("n_trials"),
            "spec": attrs.get("spec") if isinstance(attrs.get("spec"), dict) else {},
            "retrain": attrs.get(RETRAIN_ATTR) if isinstance(attrs.get(RETRAIN_ATTR), dict)
            else None}


def _finite(value) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _trial_record(row: dict) -> dict:
    attrs = row["attrs"]
    config = attrs.get("config") if isinstance(attrs.get("config"), dict) else {}
    run = attrs.get("run") if isinstance(attrs.get("run"), dict) else {}
    diverged = bool(attrs.get("diverged"))
    opt_args = config.get("optimizer_args") or {}
    sched_args = config.get("schedule_args") or {}
    return {"number": row["number"], "status": "DIVERGED" if diverged else row["state"],
            "state": row["state"], "diverged": diverged, "value": row["value"],
            "optimizer": config.get("optimizer"), "lr": _finite(config.get("lr")),
            "momentum": _finite(opt_args.get("momentum")) if isinstance(opt_args, dict) else None,
            "schedule": config.get("schedule"), "warmup_epochs": config.get("warmup_epochs"),
            "val_metric": _finite(run.get("val_metric")),
            "test_metric": _finite(run.get("test_metric")),
            "test_loss": _finite(run.get("test_loss")), "epochs": run.get("epochs"),
            "diverged_epoch": attrs.get("diverged_epoch"),
            "pruned_reason": run.get("pruned_reason"), "seconds": _finite(run.get("seconds")),
            "seed": run.get("seed"), "started": row["datetime_start"],
            "completed": row["datetime_complete"],
            "optimizer_args": json.dumps(opt_args, sort_keys=True) if config else None,
            "schedule_args": json.dumps(sched_args, sort_keys=True) if config else None,
            "config": config or None, "trial_id": row["trial_id"]}


def _frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame([_trial_record(r) for r in rows], columns=TRIAL_COLUMNS)
    for col in ("value", "lr", "momentum", "val_metric", "test_metric", "test_loss", "seconds"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    for col in ("number", "trial_id"):
        frame[col] = frame[col].astype("int64")
    for col in ("epochs", "diverged_epoch", "warmup_epochs", "seed"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("Int64")
    frame["diverged"] = frame["diverged"].astype(bool)
    for col in ("status", "state", "optimizer", "schedule", "pruned_reason", "optimizer_args",
                "schedule_args"):
        frame[col] = frame[col].astype("str")       # pandas' string dtype, missing as NaN
    for col in ("started", "completed"):
        frame[col] = pd.to_datetime(frame[col])
    return frame


def trials(url: str, study: str | int, *, engine: sqlalchemy.Engine | None = None) -> pd.DataFrame:
    """Every trial of ``study`` (a name, or a ``study_id``) as one row each, in number order
    (:data:`TRIAL_COLUMNS`); curves and paths are not read (see :func:`curves`, :func:`paths`)."""
    with _engine(url, engine) as eng:
        study_id = study if isinstance(study, int) else tables.find_study(eng, study)["study_id"]
        return _frame(tables.trial_rows(eng, study_id))


def trial_changes(url: str, study_id: int, known: pd.DataFrame, *,
                  engine: sqlalchemy.Engine | None = None) -> pd.DataFrame:
    """The trials of study ``study_id`` that may differ from ``known`` (a :func:`trials` frame):
    those created since (``trial_id`` above the largest known), those known as RUNNING or
    WAITING, and any number missing from ``known`` (a trial committed late); and the
    :func:`_anchor` trial, for :func:`study_replaced`. Empty ``known`` reads everything."""
    with _engine(url, engine) as eng:
        if known.empty:
            return _frame(tables.trial_rows(eng, study_id))
        numbers = set(known["number"].tolist())
        missing = sorted(set(range(max(numbers) + 1)) - numbers)
        return _frame(tables.trial_rows(eng, study_id, after_id=int(known["trial_id"].max()),
                                        trial_ids=_reread_ids(known), numbers=missing))


def _anchor(known: pd.DataFrame) -> int | None:
    """The ``trial_id`` of ``known``'s oldest finished trial: its row never changes while the
    study exists (None if no trial has finished)."""
    done = known.loc[~known["state"].isin(tables.OPEN_STATES) & known["started"].notna(),
                     "trial_id"]
    return None if done.empty else int(done.min())


def _reread_ids(known: pd.DataFrame) -> list[int]:
    """The known trials every refresh reads again: the open ones and the anchor."""
    ids = known.loc[known["state"].isin(tables.OPEN_STATES), "trial_id"].tolist()
    anchor = _anchor(known)
    return ids if anchor is None else [*ids, anchor]


def study_replaced(known: pd.DataFrame, changes: pd.DataFrame) -> bool:
    """Whether ``changes`` (:func:`trial_changes` of ``known``) belong to another study under
    the same id: the study was deleted and created again (SQLite hands a deleted study's and
    its trials' ids out again). A trial read again is gone (Optuna deletes trials only with
    their study), or the anchor trial's number or start differs."""
    if known.empty:
        return False
    wanted = _reread_ids(known)
    found = changes.set_index("trial_id")
    if not set(wanted) <= set(found.index):
        return True
    anchor = _anchor(known)
    if anchor is None:
        return False
    before = known.set_index("trial_id").loc[anchor]
    now = found.loc[anchor]
    return (before["number"], before["started"]) != (now["number"], now["started"])


def merge_trials(known: pd.DataFrame, changes: pd.DataFrame) -> pd.DataFrame:
    """``known`` with the rows of ``changes`` replacing or adding trials (by ``trial_id``), in
    number order."""
    if changes.empty:
        return known
    if known.empty:
        return changes.reset_index(drop=True)
    kept = known[~known["trial_id"].isin(changes["trial_id"])]
    merged = pd.concat([kept, changes], ignore_index=True)
    return merged.sort_values(["number", "trial_id"], kind="stable").reset_index(drop=True)


def _clean(values) -> list:
    return [v if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            else None for v in values]


def curves(url: str, study_id: int, numbers: Iterable[int], *,
           engine: sqlalchemy.Engine | None = None) -> pd.DataFrame:
    """Per-epoch records of the trials ``numbers`` only, long format (:data:`CURVE_COLUMNS`):
    the stored ``curve`` (non-finite values as NaN), else the reported intermediate values."""
    numbers = sorted({int(n) for n in numbers})
    with _engine(url, engine) as eng:
        stored = tables.trial_attribute(eng, study_id, "curve", numbers)
        missing = [n for n in numbers if not isinstance(stored.get(n), dict)]
        reported = tables.intermediate_values(eng, study_id, missing) if missing else {}
    parts = []
    for n in numbers:
        curve = stored.get(n)
        if isinstance(curve, dict) and curve.get("epoch"):
            length = len(curve["epoch"])
            part = {"number": [n] * length, "epoch": curve["epoch"]}
            for key in CURVE_COLUMNS[2:]:
                values = list(curve.get(key) or [])
                part[key] = _clean((values + [None] * length)[:length])
            parts.append(pd.DataFrame(part))
        elif reported.get(n):
            steps = sorted(reported[n])
            parts.append(pd.DataFrame({"number": n, "epoch": steps,
                                       "val_metric": _clean([reported[n][s] for s in steps])}))
    if not parts:
        return pd.DataFrame(columns=CURVE_COLUMNS).astype({"number": "int64", "epoch": "int64"})
    frame = pd.concat(parts, ignore_index=True).reindex(columns=CURVE_COLUMNS)
    for col in CURVE_COLUMNS[2:]:
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    return frame


def paths(url: str, study_id: int, numbers: Iterable[int], *,
          engine: sqlalchemy.Engine | None = None) -> pd.DataFrame:
    """The 2-D trajectories (``path`` attribute of surface tasks) of the trials ``numbers``,
    long format (:data:`PATH_COLUMNS`); non-finite points dropped."""
    with _engine(url, engine) as eng:
        stored = tables.trial_attribute(eng, study_id, "path", numbers)
    parts = []
    for n, points in sorted(stored.items()):
        if not isinstance(points, list):
            continue
        xy = [(p[0], p[1]) for p in points if isinstance(p, (list, tuple)) and len(p) == 2
              and all(isinstance(v, (int, float)) and math.isfinite(v) for v in p)]
        if xy:
            parts.append(pd.DataFrame({"number": n, "step": range(len(xy)),
                                       "x": [p[0] for p in xy], "y": [p[1] for p in xy]}))
    if not parts:
        return pd.DataFrame(columns=PATH_COLUMNS)
    return pd.concat(parts, ignore_index=True)


def surface_grid(task: str, points: int = 160) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """``(xs, ys, z)`` of the surface ``task`` over its bounds (``z[i, j] = f(xs[j], ys[i])``),
    or None when ``task`` is not one of :data:`tuner.tasks.SURFACES`."""
    surface = SURFACES.get(task or "")
    if surface is None:
        return None
    (x0, x1), (y0, y1) = surface.bounds
    xs, ys = np.linspace(x0, x1, points), np.linspace(y0, y1, points)
    gx, gy = np.meshgrid(xs, ys)
    return xs, ys, surface.f(gx, gy)


def best_record(info: dict, trial: pd.Series, params: dict | None = None) -> dict:
    """The best configuration as :func:`tuner.results.best` returns it (``study``, ``trial``,
    ``value``, ``params``, ``metric``, ``direction``, ``val_metric``, ``test_metric``,
    ``config``, ``epochs``, ``seed``) — what :mod:`tuner.export` writes out."""
    def plain(value):
        return None if value is None or pd.isna(value) else value.item() if hasattr(
            value, "item") else value
    return {"study": info["study"], "trial": int(trial["number"]), "value": plain(trial["value"]),
            "params": params or {}, "metric": info.get("metric"),
            "direction": info["direction"], "val_metric": plain(trial["val_metric"]),
            "test_metric": plain(trial["test_metric"]), "config": trial["config"] or {},
            "epochs": plain(trial["epochs"]), "seed": plain(trial["seed"])}


def retrained(info: dict, ranked: pd.DataFrame, *, engine: sqlalchemy.Engine | None = None,
              url: str | None = None) -> dict | None:
    """:func:`tuner.results.retrained` of the study ``info`` describes, from its stored
    ``retrain`` record and ``ranked`` (:func:`dashboard.stats.ranked_complete` of its trials):
    None without a record, or when the record's candidates are no longer the top trials
    (:func:`tuner.service.retrain.rank_key` order; only the curves of the trials down to the
    last one tied with the record's last candidate are read)."""
    record = info.get("retrain")
    if not record:
        return None
    count = len(record["candidates"])
    if len(ranked) < count:
        return None
    pool = ranked[ranked["value"].isin(ranked["value"].iloc[:count])]   # ranked: best first
    with _engine(url, engine) as eng:
        finals = curves(url, info["study_id"], pool["number"], engine=eng) \
            .groupby("number")["val_loss"].last()
        top = sorted(pool[["value", "number"]].itertuples(index=False), key=lambda t: rank_key(
            t.value, _finite(finals.get(t.number)), t.number, info["direction"]))
        if [int(t.number) for t in top[:count]] != record["candidates"]:
            return None
        chosen = record["chosen"]
        params = trial_params(url, info["study_id"], chosen, engine=eng)
    config = ranked.loc[ranked["number"] == chosen, "config"].iloc[0] or {}
    return retrained_summary(record, params, config)


def trial_params(url: str, study_id: int, number: int, *,
                 engine: sqlalchemy.Engine | None = None) -> dict:
    """One COMPLETE trial's Optuna params, decoded as Optuna does (categorical choices)."""
    from optuna.distributions import json_to_distribution
    with _engine(url, engine) as eng:
        rows = tables.param_rows(eng, study_id, numbers=[number])
    return {name: json_to_distribution(dist).to_external_repr(value)
            for _, name, value, dist in rows}


def best_command(study: str, url: str) -> str:
    """The ``tuner best`` command for ``study`` on ``url`` (password masked), shell-quoted."""
    return (f"tuner best {shlex.quote(study)} --storage {shlex.quote(tables.describe(url))} "
            "--format json")


def importances(url: str, study_id: int, direction: str, *,
                engine: sqlalchemy.Engine | None = None) -> pd.DataFrame:
    """Parameter importance by ``optuna.importance.get_param_importances`` with Optuna's default
    evaluator (PED-ANOVA in Optuna 5), columns ``param``, ``importance`` (largest
    first); empty when fewer than two trials are complete.

    The COMPLETE trials' params and values are read read-only through :mod:`tuner.tables` into
    an in-memory Optuna study (Optuna's own read path also loads every trial's curves — 22 s on
    10 000 trials); the result is the same as on ``optuna.load_study`` over a read-only storage
    (tested).
    """
    import optuna
    from optuna.distributions import json_to_distribution
    from optuna.importance import get_param_importances
    from optuna.trial import TrialState, create_trial

    with _engine(url, engine) as eng:
        rows = tables.param_rows(eng, study_id)
        values = tables.complete_values(eng, study_id)
    by_trial: dict[int, dict] = {}
    cache: dict[str, object] = {}
    for number, name, value, dist_json in rows:
        dist = cache.get(dist_json) or cache.setdefault(dist_json, json_to_distribution(dist_json))
        by_trial.setdefault(number, {})[name] = (dist, value)
    frozen = []
    for number in sorted(values):
        if values[number] is None:
            continue
        params = by_trial.get(number, {})
        frozen.append(create_trial(
            state=TrialState.COMPLETE, value=values[number],
            params={k: d.to_external_repr(v) for k, (d, v) in params.items()},
            distributions={k: d for k, (d, _) in params.items()}))
    empty = pd.DataFrame({"param": pd.Series(dtype=str), "importance": pd.Series(dtype=float)})
    if len(frozen) < 2:
        return empty
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(direction=direction, storage=optuna.storages.InMemoryStorage())
    study.add_trials(frozen)
    try:
        result = get_param_importances(study)
    except (ValueError, RuntimeError):
        return empty
    return pd.DataFrame({"param": list(result), "importance": [float(v) for v in
                                                               result.values()]})

"""The read API: studies, trials and the best configuration, as plain Python data.

Every face (CLI, dashboard, notebooks) reads results through these functions. They open the
storage read-only and never create tables.
"""

from __future__ import annotations

import json
import time

import optuna
from optuna.trial import FrozenTrial, TrialState

from .errors import UnknownStudyError
from .service.retrain import ATTR as RETRAIN_ATTR, top_trials
from .service.storage import open_storage

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


def _load(study: str, storage: str | None, *, read_only: bool = True) -> optuna.Study:
    store = open_storage(storage, read_only=read_only)
    try:
        return optuna.load_study(study_name=study, storage=store)
    except KeyError:
        names = [s.study_name for s in optuna.get_all_study_summaries(store, include_best_trial=False)]
        known = f" (studies: {', '.join(map(repr, names))})" if names else " (no studies yet)"
        raise UnknownStudyError(f"no study named {study!r}{known}") from None


def study_state(running: int, finished: int, budget: int | None,
                deadline: float | None) -> str:
    """``running`` while a trial runs; ``finished`` once ``finished`` (complete + pruned)
    trials reach the ``budget`` or the study's time limit (``deadline``, epoch seconds) has
    passed; else ``idle`` (workers may join and go on)."""
    if running:
        return "running"
    if (budget is not None and finished >= budget) or (deadline is not None
                                                       and time.time() >= deadline):
        return "finished"
    return "idle"


def is_diverged(trial: FrozenTrial) -> bool:
    return bool(trial.user_attrs.get("diverged"))


def trial_summary(trial: FrozenTrial) -> dict:
    """One trial as a flat dict: number, state, value, configuration, metrics, timing."""
    config = trial.user_attrs.get("config", {})
    run = trial.user_attrs.get("run", {})
    return {
        "trial": trial.number,
        "state": "DIVERGED" if is_diverged(trial) else trial.state.name,
        "value": trial.value,
        "optimizer": config.get("optimizer"),
        "lr": config.get("lr"),
        "schedule": config.get("schedule"),
        "params": dict(trial.params),
        "val_metric": run.get("val_metric"),
        "test_metric": run.get("test_metric"),
        "epochs": run.get("epochs"),
        "diverged_epoch": trial.user_attrs.get("diverged_epoch"),
        "pruned_reason": run.get("pruned_reason"),
        "seconds": run.get("seconds"),
        "seed": run.get("seed"),
        "retry_of": trial.system_attrs.get("failed_trial"),
    }


def studies(storage: str | None = None) -> list[dict]:
    """Every study with its task, budget, trial counts by state, best value and last update."""
    store = open_storage(storage, read_only=True)
    out = []
    for summary in optuna.get_all_study_summaries(store, include_best_trial=False):
        study = optuna.load_study(study_name=summary.study_name, storage=store)
        trials = study.get_trials(deepcopy=False)
        counts = {s.name.lower(): 0 for s in TrialState}
        for t in trials:
            counts[t.state.name.lower()] += 1
        counts["diverged"] = sum(1 for t in trials if is_diverged(t))
        complete = [t for t in trials if t.state == TrialState.COMPLETE]
        best = (max if study.direction.name == "MAXIMIZE" else min)(
            (t.value for t in complete), default=None)
        ends = [t.datetime_complete or t.datetime_start for t in trials
                if t.datetime_complete or t.datetime_start]
        budget = study.user_attrs.get("n_trials")
        finished = counts["complete"] + counts["pruned"]
        state = study_state(counts["running"], finished, budget,
                            study.user_attrs.get("deadline"))
        out.append({"study": study.study_name, "task": study.user_attrs.get("task"),
                    "metric": study.user_attrs.get("metric"),
                    "direction": study.direction.name.lower(), "state": state,
                    "n_trials": budget, "finished": finished, **counts, "best_value": best,
                    "last_update": max(ends).isoformat(timespec="seconds") if ends else None})
    return out


def trials(study: str, storage: str | None = None) -> list[dict]:
    """Every trial of ``study`` as :func:`trial_summary` rows, in trial order."""
    return [trial_summary(t) for t in _load(study, storage).get_trials(deepcopy=False)]


def best(study: str, storage: str | None = None) -> dict:
    """The best complete trial: ``study``, ``trial``, ``value``, ``params`` (exactly the trial's
    Optuna params), ``metric``, ``direction``, ``val_metric``, ``test_metric``, ``config`` (every
    optimizer and schedule argument, fixed ones included), ``epochs`` and ``seed``. What
    re-training the top trials chose is :func:`retrained`."""
    s = _load(study, storage)
    try:
        trial = s.best_trial
    except ValueError:
        raise UnknownStudyError(f"study {study!r} has no complete trial yet") from None
    run = trial.user_attrs.get("run", {})
    return {"study": s.study_name, "trial": trial.number, "value": trial.value,
            "params": dict(trial.params), "metric": s.user_attrs.get("metric"),
            "direction": s.direction.name.lower(), "val_metric": run.get("val_metric"),
            "test_metric": run.get("test_metric"), "config": trial.user_attrs.get("config", {}),
            "epochs": run.get("epochs"), "seed": run.get("seed")}


def retrained(study: str, storage: str | None = None) -> dict | None:
    """The configuration chosen by re-training the top trials on fresh seeds (see
    :mod:`tuner.service.retrain`), or None if there was none or trials have changed the top
    since: ``trial``, ``params``, ``config``, ``metric``, ``seeds``, the means over the seeds
    ``val_loss``, ``val_metric``, ``test_metric``, ``ci95`` (95% confidence interval of the
    mean test metric), ``diverged``, ``test_metrics`` (per seed), and ``candidates`` (per
    re-trained trial: ``trial``, ``val_loss``, ``val_metric``, ``diverged`` — what the choice
    was made on; their test metrics stay in the stored record)."""
    s = _load(study, storage)
    record = s.user_attrs.get(RETRAIN_ATTR)
    if not record or [t.number for t in top_trials(s, len(record["candidates"]))] \
            != record["candidates"]:
        return None
    trial = s.trials[record["chosen"]]
    return retrained_summary(record, dict(trial.params), trial.user_attrs.get("config", {}))


def retrained_summary(record: dict, params: dict, config: dict) -> dict:
    """:func:`retrained`'s dict from the study's stored ``retrain`` record and the chosen
    trial's Optuna ``params`` and ``config`` (the record is current: its candidates are still
    the top trials)."""
    [chosen] = [r for r in record["results"] if r["trial"] == record["chosen"]]
    return {"trial": record["chosen"], "params": params, "config": config,
            **{k: chosen[k] for k in ("metric", "seeds", "val_loss", "val_metric",
                                      "test_metric", "ci95", "diverged")},
            "test_metrics": [run["test_metric"] for run in chosen["runs"]],
            "candidates": [{k: r[k] for k in ("trial", "val_loss", "val_metric", "diverged")}
                           for r in record["results"]]}


def delete(study: str, storage: str | None = None) -> None:
    """Delete ``study`` and all its trials (an unknown study or a missing database: nothing
    is written)."""
    _load(study, storage)
    optuna.delete_study(study_name=study, storage=open_storage(storage))


def curve(study: str, trial: int, storage: str | None = None) -> dict:
    """Per-epoch record of one trial: epoch, train_loss, val_loss, val_metric, lr."""
    frozen = _load(study, storage).trials[trial]
    return frozen.user_attrs.get("curve") or {
        "epoch": sorted(frozen.intermediate_values),
        "val_metric": [frozen.intermediate_values[k] for k in sorted(frozen.intermediate_values)]}


def spec_of(study: str, storage: str | None = None) -> dict:
    """The spec the study was created from (as stored with it)."""
    return json.loads(_load(study, storage).user_attrs.get("spec", "{}"))


"""One trial: suggest a configuration, train it epoch by epoch, report, prune, record."""

from __future__ import annotations

import platform
import time
from importlib.metadata import version

import numpy as np
import optuna

from ..train import evaluate, optimizer_and_schedule, train
from .batch import write_trial_record
from .problem import Problem
from .pruning import SnapshotStudy, decides_locally, running_trial
from .retry import Retry

PATH_POINTS = 500     # points of a surface trajectory kept per trial
FLUSH_SECONDS = 1.0   # a running trial's curve reaches the database at least this often


class TrialInterrupted(Exception):
    """The worker was asked to stop; the trial ended after its current epoch (to be re-queued)."""


def package_versions() -> dict[str, str]:
    return {"tuner": version("tuner"), "numpy": np.__version__, "optuna": optuna.__version__,
            "scikit-learn": version("scikit-learn"), "python": platform.python_version()}


class Objective:
    """``objective(trial) -> validation metric``, raising ``optuna.TrialPruned`` when the pruner,
    the per-trial time limit or a divergence stops the run.

    Each epoch's validation metric is an Optuna intermediate value; with the median and
    percentile pruners (and none) the decision is taken in-process (see
    :mod:`tuner.service.pruning`) and the values are written in one transaction per
    ``FLUSH_SECONDS`` (see :mod:`tuner.service.batch`), together with the trial's user
    attributes. The last ones are not written here: they are left in :attr:`record`, for the
    caller to write with the trial's tell (the worker does, in one transaction). The attributes:

    - ``config``: optimizer, LR, its arguments, schedule and its arguments, warm-up epochs;
    - ``curve``: per epoch, train and validation loss, validation metric, the LR in force;
    - ``run``: ``seed``, ``split_seed``, ``spec_hash``, ``versions``; at the end ``epochs``,
      ``seconds``, ``val_metric``, ``test_metric``, ``test_loss`` of the final model and
      ``pruned_reason`` (pruner, timeout, interrupted, diverged, or None);
    - ``diverged`` (true) and ``diverged_epoch`` for a divergence; ``path`` for surface tasks.
    """

    def __init__(self, problem: Problem, retry: Retry | None = None):
        self.problem = problem
        self.retry = retry or Retry()
        self.spec = problem.spec
        self.versions = package_versions()
        self.stop_requested = False     # set by a signal: the trial stops after its epoch
        self.record: tuple[int, dict[int, float], dict] | None = None
        """After a call: ``(trial id, intermediate values, user attributes)`` still to write
        (``write_trial_record``'s arguments), or None if the call failed before its end."""

    def __call__(self, trial: optuna.Trial, trials: list | None = None) -> float:
        """Train the configuration ``trial`` suggests; ``trials``, when given, are the study's
        trials as just read (the worker's one read), which the pruner then starts from."""
        self.record = None
        spec, problem = self.spec, self.problem
        epochs = spec["training.epochs"]
        config = self.retry(spec.space.suggest, trial, epochs)
        seed = spec["study.seed"] + trial.number
        run = {"seed": seed, "split_seed": spec["study.seed"], "spec_hash": spec.hash,
               "versions": self.versions}
        attrs = {"config": config, "run": run}
        model = problem.new_model(seed)
        optimizer, schedule = optimizer_and_schedule(config, model.params, epochs=epochs)
        storage, pruner = trial.study._storage, trial.study.pruner
        local = decides_locally(pruner)
        if local and trials is None:
            trials = self.retry(trial.study.get_trials, deepcopy=False)
        view = SnapshotStudy(trial.study, trials) if local else None
        values: dict[int, float] = {}
        pending: dict[int, float] = {}
        records = []
        started = flushed = time.monotonic()
        limit = spec["study.trial_timeout"]
        reason = None

        def curve() -> dict:
            return {k: [getattr(r, k) for r in records]
                    for k in ("epoch", "train_loss", "val_loss", "val_metric", "lr")}

        def on_epoch(record) -> bool:
            nonlocal reason, flushed
            records.append(record)
            values[record.epoch] = record.val_metric
            if local:
                pending[record.epoch] = record.val_metric
                if time.monotonic() - flushed > FLUSH_SECONDS:
                    self.retry(write_trial_record, storage, trial._trial_id, pending,
                               {**attrs, "curve": curve()})
                    pending.clear()
                    flushed = time.monotonic()
            else:
                self.retry(trial.report, record.val_metric, record.epoch)
            if self.stop_requested:
                reason = "interrupted"
            elif limit is not None and time.monotonic() - started > limit:
                reason = "timeout"
            elif (pruner.prune(view, running_trial(trial, values)) if local
                  else self.retry(trial.should_prune)):
                reason = "pruner"
            return reason is not None

        history = train(model, optimizer, problem.data, epochs=epochs,
                        batch_size=spec["training.batch_size"], schedule=schedule,
                        metric=problem.metric, seed=seed, on_epoch=on_epoch)
        attrs["curve"] = curve()
        run.update(epochs=len(history.records), seconds=round(time.monotonic() - started, 4))
        if hasattr(model, "path"):
            step = max(1, len(model.path) // PATH_POINTS)
            attrs["path"] = model.path[::step] + model.path[-1:]
        if history.diverged:
            attrs.update(diverged=True, diverged_epoch=history.diverged_epoch)
            run["pruned_reason"] = "diverged"
        else:
            test_loss, test_metric = evaluate(model, *problem.data.test, problem.metric)
            run.update(val_metric=history.final.val_metric, test_metric=test_metric,
                       test_loss=test_loss, pruned_reason=reason)
        self.record = (trial._trial_id, pending, attrs)
        if history.diverged:
            raise optuna.TrialPruned(f"diverged in epoch {history.diverged_epoch}")
        if reason == "interrupted":
            raise TrialInterrupted(f"stopped after epoch {history.final.epoch}")
        if reason is not None:
            raise optuna.TrialPruned(f"{reason} after epoch {history.final.epoch}")
        return history.final.val_metric

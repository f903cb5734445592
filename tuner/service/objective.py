"""One trial: suggest a configuration, train it epoch by epoch, report, prune, record."""

from __future__ import annotations

import platform
import time
from importlib.metadata import version

import numpy as np
import optuna

from ..optim import create
from ..schedules import create_schedule
from ..train import evaluate, train
from .problem import Problem

PATH_POINTS = 500  # points of a surface trajectory kept per trial


def package_versions() -> dict[str, str]:
    return {"tuner": version("tuner"), "numpy": np.__version__, "optuna": optuna.__version__,
            "scikit-learn": version("scikit-learn"), "python": platform.python_version()}


class Objective:
    """``objective(trial) -> validation metric``, raising ``optuna.TrialPruned`` when the pruner,
    the per-trial time limit or a divergence stops the run.

    Every trial records in its user attributes: ``config`` (optimizer, LR, its arguments,
    schedule and its arguments, warm-up), ``curve`` (per epoch: train and validation loss,
    validation metric, the LR in force), ``val_metric``, ``test_metric`` and ``test_loss`` of the
    final model, ``epochs``, ``seconds``, ``seed``, ``split_seed``, ``spec_hash``, ``versions``;
    and when it stops early ``pruned_reason`` (pruner, timeout or diverged) with ``diverged`` and
    ``diverged_epoch`` for a divergence. Surface tasks also keep the optimizer's ``path``.
    """

    def __init__(self, problem: Problem):
        self.problem = problem
        self.spec = problem.spec
        self.versions = package_versions()
        self.stop_requested = False     # set by a signal: the trial stops after its epoch

    def __call__(self, trial: optuna.Trial) -> float:
        spec, problem = self.spec, self.problem
        epochs = spec["training.epochs"]
        config = spec.space.suggest(trial, epochs)
        seed = spec["study.seed"] + trial.number
        for key, value in (("config", config), ("seed", seed), ("split_seed", spec["study.seed"]),
                           ("spec_hash", spec.hash), ("versions", self.versions)):
            trial.set_user_attr(key, value)
        model = problem.new_model(seed)
        optimizer = create(config["optimizer"], model.params, lr=config["lr"],
                           **config["optimizer_args"])
        schedule = create_schedule(config["schedule"], optimizer, epochs=epochs,
                                   warmup_epochs=config["warmup_epochs"], **config["schedule_args"])
        started = time.monotonic()
        limit = spec["study.trial_timeout"]
        reason = None

        def on_epoch(record) -> bool:
            nonlocal reason
            trial.report(record.val_metric, record.epoch)
            if self.stop_requested:
                reason = "interrupted"
            elif limit is not None and time.monotonic() - started > limit:
                reason = "timeout"
            elif trial.should_prune():
                reason = "pruner"
            return reason is not None

        history = train(model, optimizer, problem.data, epochs=epochs,
                        batch_size=spec["training.batch_size"], schedule=schedule,
                        metric=problem.metric, seed=seed, on_epoch=on_epoch)
        curve = {k: history.column(k) for k in ("epoch", "train_loss", "val_loss", "val_metric",
                                                 "lr")}
        trial.set_user_attr("curve", curve)
        trial.set_user_attr("epochs", len(history.records))
        trial.set_user_attr("seconds", round(time.monotonic() - started, 4))
        if hasattr(model, "path"):
            step = max(1, len(model.path) // PATH_POINTS)
            trial.set_user_attr("path", model.path[::step] + model.path[-1:])
        if history.diverged:
            trial.set_user_attr("diverged", True)
            trial.set_user_attr("diverged_epoch", history.diverged_epoch)
            trial.set_user_attr("pruned_reason", "diverged")
            raise optuna.TrialPruned(f"diverged in epoch {history.diverged_epoch}")
        test_loss, test_metric = evaluate(model, *problem.data.test, problem.metric)
        trial.set_user_attr("val_metric", history.final.val_metric)
        trial.set_user_attr("test_metric", test_metric)
        trial.set_user_attr("test_loss", test_loss)
        if reason is not None:
            trial.set_user_attr("pruned_reason", reason)
            raise optuna.TrialPruned(f"{reason} after epoch {history.final.epoch}")
        return history.final.val_metric

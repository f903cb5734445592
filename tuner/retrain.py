"""Re-training one configuration on fresh seeds: the spread that a single trial's seed hides.

A trial's metrics are one draw — one initialisation, one shuffling order. :func:`retrain`
trains the same configuration (optimizer, LR, arguments, schedule, warm-up) once per seed for
the full number of epochs, on the same training split, and keeps each run's history, its final
validation loss and metric, and the final model's test loss and metric. :class:`Retrained`
summarises the runs: means, and a 95% confidence interval of the test metric (Student's t over
the seeds; it covers the training's randomness, not the sampling of the test split).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .metrics import METRICS
from .train import History, evaluate, optimizer_and_schedule, train

CONFIDENCE = 0.95


@dataclass(frozen=True)
class SeedRun:
    """One re-training: its ``seed``, initial ``lr``, the per-epoch ``history`` and the final
    model's test loss and metric (None when the run diverged)."""

    seed: int
    lr: float
    history: History
    test_loss: float | None
    test_metric: float | None

    def to_dict(self) -> dict:
        """JSON-able: seed, lr, epochs, diverged_epoch, final val loss and metric, test loss
        and metric, and the ``curve`` (epoch, train_loss, val_loss, val_metric, lr) in the
        layout of a trial's curve."""
        h = self.history
        final = None if h.diverged else h.final
        return {"seed": self.seed, "lr": self.lr, "epochs": len(h.records),
                "diverged_epoch": h.diverged_epoch,
                "val_loss": final and final.val_loss, "val_metric": final and final.val_metric,
                "test_loss": self.test_loss, "test_metric": self.test_metric,
                "curve": {k: h.column(k) for k in ("epoch", "train_loss", "val_loss",
                                                   "val_metric", "lr")}}


@dataclass(frozen=True)
class Retrained:
    """The runs of one configuration over several seeds, and their summary.

    Means and ``ci95`` are over the runs that did not diverge (``diverged`` counts the others);
    a mean is None when every run diverged, ``ci95`` when fewer than two did not."""

    metric: str
    runs: tuple[SeedRun, ...]

    @property
    def converged(self) -> list[SeedRun]:
        return [r for r in self.runs if not r.history.diverged]

    @property
    def diverged(self) -> int:
        return len(self.runs) - len(self.converged)

    def _mean(self, values: list[float]) -> float | None:
        return float(np.mean(values)) if values else None

    @property
    def val_loss(self) -> float | None:
        """Mean final validation loss."""
        return self._mean([r.history.final.val_loss for r in self.converged])

    @property
    def val_metric(self) -> float | None:
        """Mean final validation metric."""
        return self._mean([r.history.final.val_metric for r in self.converged])

    @property
    def test_metric(self) -> float | None:
        """Mean test metric of the final models."""
        return self._mean([r.test_metric for r in self.converged])

    @property
    def ci95(self) -> tuple[float, float] | None:
        """95% confidence interval of the mean test metric (within the metric's range)."""
        return confidence_interval([r.test_metric for r in self.converged],
                                   bounds=METRICS[self.metric].bounds)

    def to_dict(self) -> dict:
        """JSON-able: metric, seeds, the means (val_loss, val_metric, test_metric), ci95
        ([low, high]), diverged, and ``runs`` (:meth:`SeedRun.to_dict` each)."""
        ci = self.ci95
        return {"metric": self.metric, "seeds": [r.seed for r in self.runs],
                "val_loss": self.val_loss, "val_metric": self.val_metric,
                "test_metric": self.test_metric, "ci95": list(ci) if ci else None,
                "diverged": self.diverged, "runs": [r.to_dict() for r in self.runs]}


def confidence_interval(values: Sequence[float], level: float = CONFIDENCE,
                        bounds: tuple[float, float] = (-math.inf, math.inf)
                        ) -> tuple[float, float] | None:
    """Student's t interval for the mean of ``values`` (None for fewer than two), cut to
    ``bounds``, the range every value and so the mean lies in (an accuracy's interval then
    ends at 1, not above it; what is cut off holds no possible mean)."""
    n = len(values)
    if n < 2:
        return None
    from scipy.stats import t         # imported on use, like scikit-learn in tuner.tasks
    mean = float(np.mean(values))
    half = float(t.ppf((1 + level) / 2, n - 1)) * float(np.std(values, ddof=1)) / math.sqrt(n)
    low, high = bounds
    return max(mean - half, low), min(mean + half, high)


def retrain(new_model: Callable[[int], object], data, config: dict, *, epochs: int,
            batch_size: int, metric: str, seeds: Sequence[int]) -> Retrained:
    """Train ``config`` once per seed and score each final model on ``data.test``.

    ``config`` is a resolved configuration as trials store it (``optimizer``, ``lr``,
    ``optimizer_args``, ``schedule``, ``schedule_args``, ``warmup_epochs``); ``new_model(seed)``
    builds a freshly initialised model; ``data`` is what :func:`tuner.train.train` takes, with a
    ``test`` split. Each run uses its seed for the initialisation and the shuffling, exactly as
    a trial with that seed would, and runs every epoch (nothing prunes). The same arguments
    give the same numbers bit for bit.
    """
    runs = []
    for seed in seeds:
        model = new_model(seed)
        optimizer, schedule = optimizer_and_schedule(config, model.params, epochs=epochs)
        history = train(model, optimizer, data, epochs=epochs, batch_size=batch_size,
                        schedule=schedule, metric=metric, seed=seed)
        test_loss = test_metric = None
        if not history.diverged:
            test_loss, test_metric = (float(v) for v in evaluate(model, *data.test, metric))
        runs.append(SeedRun(seed, config["lr"], history, test_loss, test_metric))
    return Retrained(metric, tuple(runs))

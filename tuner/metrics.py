"""Validation metrics computed from a model's output, each with its direction."""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Metric:
    """``score(y, output, loss) -> float``; ``greater_is_better`` gives the direction, ``bounds``
    the range every score lies in."""

    score: Callable[[np.ndarray, np.ndarray, float], float]
    greater_is_better: bool
    bounds: tuple[float, float] = (-math.inf, math.inf)


def accuracy(y, output, loss) -> float:
    """Share of rows whose largest logit is at the true class."""
    return float(np.mean(output.argmax(axis=1) == y))


def r2(y, output, loss) -> float:
    """Coefficient of determination ``1 − Σ(y − ŷ)² / Σ(y − ȳ)²`` (scikit-learn's ``r2_score``,
    averaged uniformly over outputs; a constant target column scores 1 if predicted exactly,
    else 0)."""
    y = y.reshape(output.shape)
    ss_res = ((y - output) ** 2).sum(axis=0)
    ss_tot = ((y - y.mean(axis=0)) ** 2).sum(axis=0)
    constant = ss_tot == 0
    scores = np.where(constant, np.where(ss_res == 0, 1.0, 0.0),
                      1.0 - ss_res / np.where(constant, 1.0, ss_tot))
    return float(np.mean(scores))


def mse(y, output, loss) -> float:
    """Mean squared error ``mean((ŷ − y)²)``."""
    return float(np.mean((output - y.reshape(output.shape)) ** 2))


def model_loss(y, output, loss) -> float:
    """The model's own loss (cross-entropy, MSE, or a surface's height)."""
    return float(loss)


METRICS = MappingProxyType({
    "accuracy": Metric(accuracy, greater_is_better=True, bounds=(0.0, 1.0)),
    "r2": Metric(r2, greater_is_better=True, bounds=(-math.inf, 1.0)),
    "mse": Metric(mse, greater_is_better=False, bounds=(0.0, math.inf)),
    "loss": Metric(model_loss, greater_is_better=False),   # a surface's height may be negative
})

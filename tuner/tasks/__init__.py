"""Tasks: scikit-learn data sets (split and standardised) and 2-D loss surfaces.

>>> data = load_task("iris", seed=0)
>>> data
Splits(classification, train=97, val=23, test=30, features=4, outputs=3)
"""

from __future__ import annotations

import numpy as np

from .datasets import DATA_TASKS, DataTask, Splits, split_arrays
from .surfaces import SURFACES, PointModel, Surface, SurfaceTask

TASKS = tuple(DATA_TASKS) + tuple(SURFACES)
"""Every built-in task name: the data sets, then the surfaces."""


def load_task(name: str, *, seed: int = 0, dtype=np.float64, steps_per_epoch: int = 100):
    """The task called ``name``: :class:`Splits` of a data set (split with ``seed``) or a
    :class:`SurfaceTask`. An unknown name raises ``ValueError`` listing the known ones."""
    if name in DATA_TASKS:
        task = DATA_TASKS[name]
        X, y = task.load()
        return split_arrays(X, y, task.kind, seed=seed, dtype=dtype)
    if name in SURFACES:
        return SurfaceTask(SURFACES[name], steps_per_epoch=steps_per_epoch)
    raise ValueError(f"Invalid task value: {name!r} (allowed: {', '.join(TASKS)})")


def task_metric(name: str) -> str:
    """The metric a built-in task is judged by (accuracy, r2 or loss)."""
    if name in DATA_TASKS:
        return DATA_TASKS[name].metric
    if name in SURFACES:
        return "loss"
    raise ValueError(f"Invalid task value: {name!r} (allowed: {', '.join(TASKS)})")


__all__ = ["DATA_TASKS", "SURFACES", "TASKS", "DataTask", "PointModel", "Splits", "Surface",
           "SurfaceTask", "load_task", "split_arrays", "task_metric"]

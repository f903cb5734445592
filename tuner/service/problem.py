"""What a study trains on: its data (loaded once per worker), model, metric and direction."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import SpecError
from ..metrics import METRICS
from ..models import MODELS, build_model
from ..tasks import DATA_TASKS, SURFACES, Splits, SurfaceTask, load_task, split_arrays
from ..tasks.files import TargetError, infer_kind, is_user_data, load_arrays
from .spec import Spec


MODEL_KINDS = {name: "classification" if entry["head"] == "softmax" else "regression"
               for name, entry in MODELS.items()}
"""The kind of task each model fits: its head is cross-entropy over classes, or squared error."""
METRIC_KINDS = {"accuracy": ("classification",), "r2": ("regression",),
                "mse": ("regression",), "loss": ("classification", "regression", "surface")}
"""The kinds of task each ``training.metric`` applies to."""


@dataclass(frozen=True)
class Problem:
    """A spec's task made concrete: ``data``, its ``kind``, the ``metric`` and ``direction``."""

    spec: Spec
    data: Splits | SurfaceTask
    kind: str                     # classification, regression or surface
    metric: str
    direction: str                # maximize or minimize

    def new_model(self, seed: int):
        """A freshly initialised model for one trial."""
        dtype = np.dtype(self.spec["training.dtype"])
        if self.kind == "surface":
            return self.data.model(dtype=dtype)
        name = self.spec["model.name"]
        if name == "auto":
            name = "mlp" if self.kind == "classification" else "regression"
        hidden = () if name == "softmax_regression" else tuple(self.spec["model.hidden"])
        return build_model(name, self.data.n_features, self.data.n_outputs, hidden=hidden,
                           activation=self.spec["model.activation"], dtype=dtype, seed=seed)


def load_problem(spec: Spec) -> Problem:
    """Load the spec's data and resolve its "auto" settings; bad data is a :class:`SpecError`."""
    task, seed = spec["study.task"], spec["study.seed"]
    dtype = np.dtype(spec["training.dtype"])
    if task in SURFACES:
        data, kind = load_task(task, steps_per_epoch=spec["training.steps_per_epoch"]), "surface"
    elif task in DATA_TASKS:
        data = load_task(task, seed=seed, dtype=dtype)
        kind = data.kind
    else:
        assert is_user_data(task)
        base = Path(spec.source).parent if spec.source and not spec.source.startswith("<") else None
        try:
            X, y = load_arrays(task, spec["study.target"], base=base)
            kind = spec["study.kind"] if spec["study.kind"] != "auto" else infer_kind(y)
            if kind == "classification" and y.ndim == 2:
                raise TargetError(f"{task}: a target of {y.shape[1]} columns is taken as "
                                  "classes (allowed for classes: one column; several columns "
                                  'with study.kind = "regression")')
            if kind == "classification" and len(np.unique(y)) < 2:
                raise TargetError(f"{task}: the target has one class only (allowed: at least "
                                  "two)")
            data = split_arrays(X, y, kind, seed=seed, dtype=dtype)
        except ValueError as e:
            key = "study.target" if isinstance(e, TargetError) else "study.task"
            raise SpecError([f"{spec.source}: {key}: {e}"]) from None
    problems = []
    if kind != "surface" and data.n_features == 0:
        problems.append(f"{spec.source}: study.task: {task!r} has no feature columns, only the "
                        "target (allowed: data with at least one feature)")
    model = spec["model.name"]
    if kind != "surface" and model != "auto" and MODEL_KINDS[model] != kind:
        fitting = [name for name, k in MODEL_KINDS.items() if k == kind]
        problems.append(f"{spec.source}: model.name: {model!r} needs a {MODEL_KINDS[model]} "
                        f"task, and {task!r} is {kind} (allowed: auto, {', '.join(fitting)})")
    metric = spec["training.metric"]
    if metric == "auto":
        metric = {"classification": "accuracy", "regression": "r2", "surface": "loss"}[kind]
    fitting = [m for m, kinds in METRIC_KINDS.items() if kind in kinds]
    if kind not in METRIC_KINDS[metric]:
        problems.append(f"{spec.source}: training.metric: {metric!r} needs a "
                        f"{' or '.join(METRIC_KINDS[metric])} task, and {task!r} is {kind} "
                        f"(allowed: {', '.join(fitting)})")
    if problems:
        raise SpecError(problems)
    direction = spec["training.direction"]
    if direction == "auto":
        direction = "maximize" if METRICS[metric].greater_is_better else "minimize"
    return Problem(spec, data, kind, metric, direction)

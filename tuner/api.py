"""tuner's Python API: what the CLI, the dashboard and notebooks call::

    import tuner
    tuner.launch("studies/iris.toml", workers=2)       # runs the study, returns tuner.best(...)
    tuner.best("iris", storage="sqlite:///tuner.db")["params"]
"""

from __future__ import annotations

from pathlib import Path

from .results import best, curve, delete, studies, trials
from .service.launcher import launch as _launch
from .service.problem import load_problem
from .service.spec import Spec, load_spec
from .service.worker import WorkerReport, run_worker


def _spec(spec: str | Path | Spec) -> Spec:
    return spec if isinstance(spec, Spec) else load_spec(spec)


def check(spec: str | Path | Spec) -> Spec:
    """Validate a spec and read its data (raises ``SpecError`` with one line per defect)."""
    spec = _spec(spec)
    load_problem(spec)
    return spec


def launch(spec: str | Path | Spec, *, workers: int = 1, storage: str | None = None,
           n_trials: int | None = None, timeout: float | None = None,
           progress: bool = True) -> dict:
    """Create or resume the spec's study, run ``workers`` worker processes until its budget is
    met, and return :func:`best` of it."""
    spec = _spec(spec)
    _launch(spec, workers=workers, storage=storage, n_trials=n_trials, timeout=timeout,
            progress=progress)
    return best(spec.name, storage)


def worker(spec: str | Path | Spec, *, storage: str | None = None, n_trials: int | None = None,
           timeout: float | None = None) -> WorkerReport:
    """Run one worker in this process until the study's budget is met."""
    return run_worker(_spec(spec), storage, n_trials=n_trials, timeout=timeout)


__all__ = ["best", "check", "curve", "delete", "launch", "studies", "trials", "worker"]

"""tuner's Python API: what the CLI, the dashboard and notebooks call::

    import tuner
    tuner.launch("studies/iris.toml", workers=2)       # runs the study, returns tuner.best(...)
    tuner.best("iris", storage="sqlite:///tuner.db")["params"]
    tuner.api.retrained("iris")["test_metric"]          # the re-trained choice, mean over seeds
"""

from __future__ import annotations

from pathlib import Path

from .results import best, curve, delete, retrained, studies, trials
from .service.launcher import launch as _launch
from .service.problem import load_problem
from .service.retrain import SEEDS, TOP, retrain_top
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
           progress: bool = True, retrain_seeds: int = SEEDS) -> dict:
    """Create or resume the spec's study, run ``workers`` worker processes until its budget is
    met, then :func:`retrain` its top configurations on ``retrain_seeds`` fresh seeds (0: do
    not), and return :func:`best_and_retrained` of it."""
    spec = _spec(spec)
    _launch(spec, workers=workers, storage=storage, n_trials=n_trials, timeout=timeout,
            progress=progress, retrain_seeds=retrain_seeds)
    return best_and_retrained(spec.name, storage)


def best_and_retrained(study: str, storage: str | None = None) -> dict:
    """:func:`best` with one more key, ``retrained``: :func:`retrained` (or None) — what
    ``tuner best`` prints."""
    return {**best(study, storage), "retrained": retrained(study, storage)}


def retrain(spec: str | Path | Spec, *, storage: str | None = None, seeds: int = SEEDS,
            top: int = TOP) -> dict:
    """Re-train the study's ``top`` configurations on ``seeds`` fresh seeds each and choose the
    one with the lowest mean validation loss; the record (every run's curve, LR, seed and
    metrics) is stored with the study and returned; :func:`retrained` summarises it.
    See :mod:`tuner.service.retrain`."""
    return retrain_top(_spec(spec), storage, seeds=seeds, top=top)


def worker(spec: str | Path | Spec, *, storage: str | None = None, n_trials: int | None = None,
           timeout: float | None = None) -> WorkerReport:
    """Run one worker in this process until the study's budget is met."""
    return run_worker(_spec(spec), storage, n_trials=n_trials, timeout=timeout)


__all__ = ["best", "best_and_retrained", "check", "curve", "delete", "launch", "retrain",
           "retrained", "studies", "trials", "worker"]

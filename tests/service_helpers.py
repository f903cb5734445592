"""Helpers for the service tests: write specs, run the real ``tuner`` command, read states."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import optuna

TUNER = [sys.executable, "-m", "tuner"]
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}

CHEAP_SPEC = """
[study]
name = "{name}"
task = "{task}"
n_trials = {n_trials}
heartbeat_interval = 1
grace_period = 3
{study_extra}

[model]
name = "{model}"
hidden = {hidden}

[training]
epochs = {epochs}
batch_size = 32

[search]
optimizers = {optimizers}
lr = {lr}
schedules = ["constant", "plateau"]
{search_extra}
"""


def write_spec(folder: Path, name: str = "cheap", *, task: str = "iris", n_trials: int = 12,
               epochs: int = 5, lr: str = "[1e-3, 1.0]", model: str = "softmax_regression",
               hidden: str = "[]", optimizers: str = '["sgd", "momentum", "adam"]',
               study_extra: str = "", search_extra: str = "") -> Path:
    """A cheap spec (iris, softmax regression, 5 epochs, heartbeat 1 s, grace 3 s)."""
    path = folder / f"{name}.toml"
    path.write_text(CHEAP_SPEC.format(name=name, task=task, n_trials=n_trials, epochs=epochs,
                                      lr=lr, model=model, hidden=hidden, optimizers=optimizers,
                                      study_extra=study_extra, search_extra=search_extra))
    return path


def tuner(*args, check: bool = False, timeout: float = 300, **kw) -> subprocess.CompletedProcess:
    """Run ``python -m tuner ARGS`` to completion; returns the completed process (text)."""
    result = subprocess.run([*TUNER, *map(str, args)], capture_output=True, text=True,
                            timeout=timeout, env=kw.pop("env", ENV), **kw)
    if check and result.returncode != 0:
        raise AssertionError(f"tuner {args} exited {result.returncode}:\n{result.stderr}")
    return result


def start_tuner(*args, **kw) -> subprocess.Popen:
    return subprocess.Popen([*TUNER, *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=kw.pop("env", ENV), **kw)


def states(study: str, url: str) -> Counter:
    """Trial counts by state name, read through Optuna itself."""
    trials = optuna.load_study(study_name=study, storage=url).get_trials(deepcopy=False)
    return Counter(t.state.name for t in trials)


def finished(counts: Counter) -> int:
    return counts["COMPLETE"] + counts["PRUNED"]

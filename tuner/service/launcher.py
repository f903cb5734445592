"""``tuner launch``: create or resume a study, run N worker processes, show progress, then
re-train the top configurations on fresh seeds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import optuna
from optuna.trial import TrialState

from ..errors import RunError, StorageError
from .problem import load_problem
from .retrain import TOP, retrain_top
from .retry import is_outage
from .spec import Spec
from .storage import open_storage, resolve_url
from .study import open_study

ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def worker_command(spec: Spec, storage: str, log_level: str) -> list[str]:
    return [sys.executable, "-m", "tuner", "--quiet", "--log-level", log_level, "worker",
            spec.source, "--storage", storage]


def progress_line(study: optuna.Study, started: float) -> str:
    """``finished/budget, pruned, diverged, best so far, elapsed, estimated time left``."""
    trials = study.get_trials(deepcopy=False)
    states = Counter(t.state for t in trials)
    diverged = sum(1 for t in trials if t.user_attrs.get("diverged"))
    budget = study.user_attrs.get("n_trials", 0)
    finished = states[TrialState.COMPLETE] + states[TrialState.PRUNED]
    values = [t.value for t in trials if t.state == TrialState.COMPLETE]
    best = (max if study.direction.name == "MAXIMIZE" else min)(values, default=None)
    elapsed = time.monotonic() - started
    done = min(finished, budget) / budget if budget else 0
    bar = "#" * int(24 * done) + "-" * (24 - int(24 * done))
    left = f"~{_clock(elapsed / done * (1 - done))} left" if 0 < done < 1 else ""
    best_text = f"best {best:.4g}" if best is not None else "best —"
    return (f"[{bar}] {finished}/{budget} finished, {states[TrialState.PRUNED] - diverged} pruned, "
            f"{diverged} diverged, {states[TrialState.RUNNING]} running · {best_text} · "
            f"{_clock(elapsed)} {left}").rstrip()


def _clock(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    return f"{m}m{s:02d}s" if m else f"{s}s"


def launch(spec: Spec, *, workers: int = 1, storage: str | None = None,
           n_trials: int | None = None, timeout: float | None = None, progress: bool = True,
           log_level: str = "WARNING", retrain_seeds: int = 0, out=sys.stderr) -> optuna.Study:
    """Create or resume the study, run ``workers`` processes of ``tuner worker`` until the
    budget is met, re-train its top configurations on ``retrain_seeds`` fresh seeds each (if
    not 0; :func:`tuner.service.retrain.retrain_top`), and return the study. Ctrl-C (SIGINT)
    or SIGTERM stops the workers cleanly (each re-queues its running trial); launching again
    resumes. Raises :class:`RunError` if a worker fails, ``KeyboardInterrupt`` when stopped."""
    url = resolve_url(storage)
    problem = load_problem(spec)
    study = open_study(open_storage(url), problem, n_trials=n_trials, timeout=timeout)
    env = {**os.environ, **ONE_THREAD, "TUNER_STORAGE": url}
    procs = [subprocess.Popen(worker_command(spec, url, log_level), env=env)
             for _ in range(workers)]
    started, interrupted = time.monotonic(), False

    def stop(*_):
        nonlocal interrupted
        interrupted = True
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    live = progress and out.isatty()
    shown = None

    def progress_now() -> str | None:
        """The progress line, or None while the database does not answer (the workers ride
        the outage out, or exit 3 after their retry ceiling)."""
        try:
            return progress_line(study, started)
        except Exception as error:
            if not is_outage(error):
                raise
            return None

    try:
        while any(p.poll() is None for p in procs):
            line = progress_now() if progress else None
            if line is not None:
                if live:                       # redraw in place
                    print("\r\x1b[K" + line, end="", file=out, flush=True)
                elif line.split("·")[0] != shown:   # a log: a line when the counts change
                    print(line, file=out, flush=True)
                    shown = line.split("·")[0]
            time.sleep(1.0)
        line = progress_now() if progress else None
        if line is not None:
            print(("\r\x1b[K" if live else "") + line, file=out, flush=True)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        left = [p for p in procs if p.poll() is None]   # an error here: no orphaned workers
        for p in left:
            p.send_signal(signal.SIGTERM)
        for p in left:
            p.wait()
    if interrupted:
        raise KeyboardInterrupt
    failed = [p.returncode for p in procs if p.returncode != 0]
    if failed and set(failed) == {StorageError.exit_code}:
        raise StorageError(f"{len(failed)} of {workers} workers lost the database (exit "
                           f"{StorageError.exit_code}); see their messages above")
    if failed:
        raise RunError(f"{len(failed)} of {workers} workers failed (exit codes "
                       f"{', '.join(map(str, failed))}); see their messages above")
    if retrain_seeds:
        if progress:
            print(f"Re-training the top {TOP} configurations on {retrain_seeds} fresh seeds "
                  "each ...", file=out, flush=True)
        retrain_top(spec, url, seeds=retrain_seeds)
    return study

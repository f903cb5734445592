"""Helpers for the service tests: write specs, run the real ``tuner`` command, read states."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import optuna
import sqlalchemy

TUNER = [sys.executable, "-m", "tuner"]
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}

HOSTILE_NAMES = {
    "sql": "x'; DROP TABLE studies; --",
    "script": "<script>alert(1)</script>",
    "markdown-link": "[a](http://x)",
    "markdown-image": "![i](http://x/i.png)",
    "unicode": "مرحبا עולם \u202eRTL override\u202c 🚀👩‍🔬 学習 é",
    "longest": "n" * 511 + "🚀",          # 512 characters: the most a name may have
}
"""Study names from hostile input that tuner accepts and must keep exactly (as text, never
markup or SQL): tests/test_cli.py round-trips them, tests/test_dashboard_browser.py shows them."""

CHEAP_SPEC = """
[study]
name = {name}
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


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string, every character kept (control characters escaped)."""
    def escape(c: str) -> str:
        if c in '"\\' or ord(c) < 32 or 127 <= ord(c) < 160:
            return f"\\u{ord(c):04x}"
        return c
    return '"' + "".join(map(escape, text)) + '"'


def write_spec(folder: Path, name: str = "cheap", *, task: str = "iris", n_trials: int = 12,
               epochs: int = 5, lr: str = "[1e-3, 1.0]", model: str = "softmax_regression",
               hidden: str = "[]", optimizers: str = '["sgd", "momentum", "adam"]',
               study_extra: str = "", search_extra: str = "") -> Path:
    """A cheap spec (iris, softmax regression, 5 epochs, heartbeat 1 s, grace 3 s) in
    ``NAME.toml``; a study name with any characters is kept exactly (the file is named after
    its hash unless the name is a short plain word)."""
    plain = re.fullmatch(r"[\w.-]{1,64}", name)
    stem = name if plain else hashlib.sha1(name.encode()).hexdigest()
    path = folder / f"{stem}.toml"
    path.write_text(CHEAP_SPEC.format(name=toml_string(name), task=task, n_trials=n_trials,
                                      epochs=epochs, lr=lr, model=model, hidden=hidden,
                                      optimizers=optimizers, study_extra=study_extra,
                                      search_extra=search_extra), encoding="utf-8")
    return path


def tuner(*args, check: bool = False, timeout: float = 300, **kw) -> subprocess.CompletedProcess:
    """Run ``python -m tuner ARGS`` to completion; returns the completed process (text)."""
    result = subprocess.run([*TUNER, *map(str, args)], capture_output=True, text=True,
                            timeout=timeout, env=kw.pop("env", ENV), **kw)
    if check and result.returncode != 0:
        raise AssertionError(f"tuner {args} exited {result.returncode}:\n{result.stderr}")
    return result


STARTED: list[subprocess.Popen] = []
"""Every process :func:`start_tuner` started; conftest kills those still running after each test
(a failed test leaves no worker behind)."""


def start_tuner(*args, **kw) -> subprocess.Popen:
    """Start ``python -m tuner ARGS`` (stdout and stderr piped, text)."""
    process = subprocess.Popen([*TUNER, *map(str, args)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=kw.pop("env", ENV), **kw)
    STARTED.append(process)
    return process


def kill_started() -> None:
    """SIGKILL each process :func:`start_tuner` started that still runs, and reap them all."""
    while STARTED:
        process = STARTED.pop()
        if process.poll() is None:
            process.kill()
            process.communicate()


def states(study: str, url: str) -> Counter:
    """Trial counts by state name, read through Optuna itself."""
    trials = optuna.load_study(study_name=study, storage=url).get_trials(deepcopy=False)
    return Counter(t.state.name for t in trials)


def finished(counts: Counter) -> int:
    return counts["COMPLETE"] + counts["PRUNED"]


def wait_for(condition, seconds: float, what: str) -> None:
    """Poll ``condition()`` every 0.2 s until true; an exception counts as not yet (the database
    may be restarting); AssertionError naming ``what`` after ``seconds``."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            if condition():
                return
        except Exception:          # noqa: BLE001 - the database may be restarting
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def rows(url: str, sql: str, **params) -> list[sqlalchemy.Row]:
    """Run one SELECT on ``url`` on a connection of its own (opened and closed here)."""
    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sqlalchemy.text(sql), params))
    finally:
        engine.dispose()

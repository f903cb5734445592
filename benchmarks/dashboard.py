"""Dashboard speed on a large study: first full render of the study page and a live refresh.

Builds a 10 000-trial study (50 epochs of per-epoch curves each, like tuner's own trials: the
``config``, ``run`` and ``curve`` user attributes, Optuna params, 3 % diverged, 15 % pruned)
through Optuna's storage API in bulk (``study.add_trials``, no training), then, with Streamlit's
AppTest (the server-side render the browser waits for):

- first render: a fresh process with empty caches renders the study page (LR sensitivity, the
  headline view) — every trial read, all charts built; median of ``--repeats`` processes;
- live refresh: two new trials appear (one complete, one running) and the page is rendered
  again after the cache TTL — only the changed trials are read; median of ``--repeats`` runs.

The other pages' first renders are printed too. Run (from the repository root)::

    .venv/bin/python benchmarks/dashboard.py                 # SQLite and PostgreSQL
    .venv/bin/python benchmarks/dashboard.py --backends sqlite --trials 2000

PostgreSQL uses the tests' throw-away server (tests/postgres.py, needs PostgreSQL 15 installed).
Targets: first render ≤ 3 s, live refresh ≤ 1 s.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STUDY = "bench-10k"
OPTIMIZERS = ["sgd", "momentum", "nesterov", "adam"]
SCHEDULES = ["constant", "step", "plateau", "cosine"]
PAGES = ["sensitivity", "best", "curves", "trials", "compare"]
FIRST_RENDER_TARGET, REFRESH_TARGET = 3.0, 1.0


def _trial(rng, number: int, epochs: int):
    """One synthetic finished trial shaped like tuner's (config, run, curve, params)."""
    import optuna
    from optuna.distributions import CategoricalDistribution, FloatDistribution
    optimizer = OPTIMIZERS[number % len(OPTIMIZERS)]
    schedule = SCHEDULES[(number // 4) % len(SCHEDULES)]
    lr = float(10 ** rng.uniform(-4, 0))
    params = {"optimizer": optimizer, "lr": lr, "schedule": schedule}
    dists = {"optimizer": CategoricalDistribution(OPTIMIZERS),
             "lr": FloatDistribution(1e-4, 1.0, log=True),
             "schedule": CategoricalDistribution(SCHEDULES)}
    args: dict = {"nesterov": optimizer == "nesterov"} if optimizer != "adam" else {
        "betas": [0.9, 0.999], "eps": 1e-8}
    if optimizer in ("momentum", "nesterov"):
        params["momentum"] = args["momentum"] = float(rng.uniform(0.5, 0.99))
        dists["momentum"] = FloatDistribution(0.5, 0.99)
    peak = 0.97 - 0.25 * (math.log10(lr) + 1.5) ** 2 / 2.25 + rng.normal(0, 0.01)
    draw = rng.random()
    diverged, pruned = draw < 0.03, 0.03 <= draw < 0.18
    length = int(rng.integers(2, 8)) if diverged else int(rng.integers(5, 20)) if pruned else epochs
    curve = {"epoch": list(range(1, length + 1)), "train_loss": [], "val_loss": [],
             "val_metric": [], "lr": []}
    for e in range(1, length + 1):
        metric = min(1.0, max(0.0, peak * (1 - math.exp(-e / 6)) + rng.normal(0, 0.005)))
        curve["train_loss"].append(1.2 * math.exp(-e / 8) + 0.05)
        curve["val_loss"].append(1.3 * math.exp(-e / 8) + 0.08)
        curve["val_metric"].append(metric)
        curve["lr"].append(lr * (0.5 ** (e // 15) if schedule == "step" else 1.0))
    final = curve["val_metric"][-1]
    config = {"optimizer": optimizer, "lr": lr, "optimizer_args": args, "schedule": schedule,
              "schedule_args": {"step_size": 15, "gamma": 0.5} if schedule == "step" else {},
              "warmup_epochs": 0}
    run = {"seed": number, "split_seed": 0, "spec_hash": "0" * 64, "versions": {},
           "epochs": length, "seconds": 0.5, "val_metric": None if diverged else final,
           "test_metric": None if diverged else final - 0.01,
           "test_loss": None if diverged else 0.2,
           "pruned_reason": "diverged" if diverged else "pruner" if pruned else None}
    attrs = {"config": config, "run": run, "curve": curve}
    if diverged:
        attrs.update(diverged=True, diverged_epoch=length)
    return optuna.trial.create_trial(
        state=optuna.trial.TrialState.PRUNED if diverged or pruned
        else optuna.trial.TrialState.COMPLETE,
        value=None if diverged or pruned else final, params=params, distributions=dists,
        user_attrs=attrs)       # no intermediate values: Optuna writes those one row at a
                                # time (4x slower to build) and the dashboard reads curves


def build(url: str, trials: int, epochs: int) -> float:
    """Create the study with ``trials`` synthetic trials; returns the seconds it took."""
    import numpy as np
    import optuna

    from tuner.service.storage import open_storage
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    started = time.perf_counter()
    study = optuna.create_study(study_name=STUDY, storage=open_storage(url),
                                direction="maximize")
    for key, value in {"task": "digits", "metric": "accuracy", "n_trials": trials + 100,
                       "spec": json.dumps({"settings": {}})}.items():
        study.set_user_attr(key, value)
    rng = np.random.default_rng(0)
    batch = 500
    for start in range(0, trials, batch):
        study.add_trials([_trial(rng, n, epochs) for n in range(start, min(trials, start + batch))])
    return time.perf_counter() - started


def add_live_trials(url: str, count: int) -> None:
    """What workers do between two refreshes: one trial completes, one starts."""
    import numpy as np
    import optuna

    from tuner.service.storage import open_storage
    study = optuna.load_study(study_name=STUDY, storage=open_storage(url))
    rng = np.random.default_rng(count)
    study.add_trial(_trial(rng, count, 50))
    running = study.ask()
    running.suggest_float("lr", 1e-4, 1.0, log=True)


def render(url: str, pages: list[str], repeats_refresh: int) -> dict:
    """In this (fresh) process: first render of each page, then live refreshes of the first."""
    os.environ["TUNER_STORAGE"] = url
    import streamlit  # noqa: F401  (imports are not part of a render)
    from streamlit.testing.v1 import AppTest

    import tuner.dashboard
    from tuner.dashboard import loaders
    app = str(Path(tuner.dashboard.__file__).resolve().parent / "app.py")
    out: dict = {"first": {}, "refresh": []}
    for page in pages:
        at = AppTest.from_file(app, default_timeout=120)
        at.session_state["study"] = STUDY
        at.switch_page(f"views/{page}.py")
        started = time.perf_counter()
        at.run()
        out["first"][page] = time.perf_counter() - started
        if at.exception:
            raise RuntimeError([e.value for e in at.exception])
        if page == pages[0]:
            sensitivity = at
    for i in range(repeats_refresh):
        add_live_trials(url, 100_000 + i)
        time.sleep(loaders.STUDIES_TTL + 0.1)            # caches expired, as between refreshes
        started = time.perf_counter()
        sensitivity.run()
        out["refresh"].append(time.perf_counter() - started)
        live = loaders.live_trials(url, loaders.study_info(url, STUDY)["study_id"])
        out.setdefault("rows_read", []).append(live.reads)
    return out


def measure(url: str, repeats: int) -> dict:
    """Median first render of the study page over ``repeats`` fresh processes, and the refresh."""
    firsts, others, refreshes, rows = [], {}, [], []
    for i in range(repeats):
        pages = PAGES if i == 0 else PAGES[:1]
        result = subprocess.run(
            [sys.executable, __file__, "--render", url, "--pages", ",".join(pages),
             "--refreshes", str(repeats if i == 0 else 0)],
            capture_output=True, text=True, env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
            cwd=ROOT, check=False)
        if result.returncode != 0:
            raise RuntimeError(result.stderr[-3000:])
        found = json.loads(result.stdout.strip().splitlines()[-1])
        firsts.append(found["first"][PAGES[0]])
        if i == 0:
            others = found["first"]
            refreshes, rows = found["refresh"], found.get("rows_read", [])
    return {"first": statistics.median(firsts), "firsts": firsts, "others": others,
            "refresh": statistics.median(refreshes), "refreshes": refreshes, "rows": rows}


def data_layer(url: str) -> dict:
    """The plain reads under the page: every trial (no curves), the curves of 5 trials."""
    from tuner.dashboard import data
    started = time.perf_counter()
    frame = data.trials(url, STUDY)
    full = time.perf_counter() - started
    info = data.study_info(url, STUDY)
    started = time.perf_counter()
    data.curves(url, info["study_id"], frame["number"].head(5))
    return {"trials": len(frame), "full_read": full, "curves_5": time.perf_counter() - started}


def report(backend: str, built: float, layer: dict, result: dict) -> None:
    ok = (result["first"] <= FIRST_RENDER_TARGET and result["refresh"] <= REFRESH_TARGET)
    print(f"\n{backend}: {layer['trials']} trials (built in {built:.0f} s)")
    print(f"  data layer: all trials without curves {layer['full_read']:.2f} s, "
          f"curves of 5 trials {layer['curves_5'] * 1000:.0f} ms")
    print(f"  first render of the study page (LR sensitivity): median {result['first']:.2f} s "
          f"(runs: {', '.join(f'{v:.2f}' for v in result['firsts'])}; target ≤ "
          f"{FIRST_RENDER_TARGET:.0f} s)")
    print(f"  live refresh: median {result['refresh']:.2f} s (runs: "
          f"{', '.join(f'{v:.2f}' for v in result['refreshes'])}; rows read per refresh: "
          f"{result['rows']}; target ≤ {REFRESH_TARGET:.0f} s)")
    print("  first render of the other pages, same process after the first: " + ", ".join(
        f"{p} {v:.2f} s" for p, v in result["others"].items() if p != PAGES[0]))
    print(f"  {'OK' if ok else 'OVER TARGET'}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--render", help=argparse.SUPPRESS)
    parser.add_argument("--pages", default=",".join(PAGES), help=argparse.SUPPRESS)
    parser.add_argument("--refreshes", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.render:                                    # the measuring child process
        print(json.dumps(render(args.render, args.pages.split(","), args.refreshes)))
        return 0
    failed = False
    for backend in args.backends.split(","):
        server = None
        with tempfile.TemporaryDirectory(prefix="tuner-bench-") as folder:
            if backend == "sqlite":
                url = f"sqlite:///{Path(folder) / 'bench.db'}"
            else:
                sys.path.insert(0, str(ROOT / "tests"))
                from postgres import PostgresServer
                server = PostgresServer().start()
                url = server.create_database("bench")
            try:
                built = build(url, args.trials, args.epochs)
                layer = data_layer(url)
                result = measure(url, args.repeats)
                report(backend, built, layer, result)
                failed |= (result["first"] > FIRST_RENDER_TARGET
                           or result["refresh"] > REFRESH_TARGET)
            finally:
                if server is not None:
                    server.stop()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

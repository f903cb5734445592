"""Tuning: tuner's studies against what a user would run instead, three comparisons in one run.

(a) Time to quality. scikit-learn's ``RandomizedSearchCV`` over ``MLPClassifier`` (3-fold CV,
    2 jobs, refit) against ``tuner launch`` with 2 workers on the embedded SQLite database, on
    the subspace both can express, 40 candidates × 50 epochs of the same 64 → 128 → 10 network,
    judged on one shared held-out test set. tuner's accuracy at time t is the test accuracy of
    the best complete trial by validation accuracy among those completed by t (what
    ``tuner best`` would print at t); its time to quality is the first t, from the start of
    ``launch``, at which that reaches scikit-learn's final test accuracy. Target: at most 1/5 of
    scikit-learn's wall time.

(b) Cost of persistence. Plain Optuna running the same study the plain way (``study.optimize``,
    an objective that trains the same tuner model with ``tuner.train.train`` and calls
    ``trial.report`` and ``trial.should_prune`` after every epoch, TPE, median pruner) in memory
    and on SQLite with Optuna's defaults, against tuner's worker (the loop ``tuner worker``
    runs) on SQLite with tuner's storage configuration (WAL etc.); with ``--postgres`` also both
    on PostgreSQL (the tests' throw-away server). All in this process, taking turns of 20
    trials, so that all see the same machine. A cheap configuration (softmax regression,
    tuner's default 20 epochs) so that 1000-trial studies take minutes. Training time = the
    time inside ``tuner.train.train`` less its ``on_epoch`` callback; the overhead of a trial =
    the time since the previous completion in the same turn less its training time: sampler,
    storage, pruner and everything else but training. Targets: tuner's SQLite run within 2× of
    the in-memory run; tuner's overhead per trial at trials 900–1000 at most half of plain
    Optuna's on the same storage; live curves still there (every trial's ``curve``; a running
    trial's curve visible at least every second or so, checked by reading one with
    ``tuner.results.curve`` while it trains).

(c) Throughput of 2 workers against 1 (``tuner launch``, SQLite): random sampler, fixed seed,
    no pruning, one optimizer and a constant LR, so every trial costs the same. Target: at
    least 1.8×.

The worker processes of (c) run a probe, a ``sitecustomize`` this script writes into a
temporary folder on ``PYTHONPATH``: it times ``tuner.train.train`` and how long tuner's SQLite
``BEGIN IMMEDIATE`` waits for the write lock (in (b) the same wrappers run in this process).
Everything runs on one BLAS thread per process; repeated figures are medians. From the
repository root::

    .venv/bin/python benchmarks/tuning.py                  # (a), (b), (c): about 9 minutes
    .venv/bin/python benchmarks/tuning.py --postgres       # and (b) on PostgreSQL: about 14
    .venv/bin/python benchmarks/tuning.py --quick          # 200 trials in (b), one repeat
    .venv/bin/python benchmarks/tuning.py --part b --trials 500
    .venv/bin/python benchmarks/tuning.py --part profile   # where a trial's time goes
    .venv/bin/python benchmarks/tuning.py --part a-seeds   # (a)'s scikit-learn search, 5 seeds
    .venv/bin/python benchmarks/tuning.py --part a-protocol   # the same against tuner's core
    .venv/bin/python benchmarks/tuning.py --part a-models --seeds 20   # the two MLPs alone
"""

from __future__ import annotations

import os

ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
for _var, _value in ONE_THREAD.items():
    os.environ.setdefault(_var, _value)          # before NumPy loads its BLAS

import argparse
import contextlib
import inspect
import json
import math
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import optuna
import sklearn
import sqlalchemy
from joblib.externals.loky import get_reusable_executor
from scipy.stats import loguniform, uniform
from sklearn.model_selection import RandomizedSearchCV
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_info, threadpool_limits

import tuner
import tuner.api
import tuner.results
import tuner.train
from tuner.service.problem import load_problem
from tuner.service.spec import load_spec
from tuner.service.storage import open_storage
from tuner.models import build_model
from tuner.optim import create
from tuner.service.worker import Worker
from tuner.tasks import Splits, load_task

ROOT = Path(__file__).resolve().parent.parent
SEED = 0

# ---------------------------------------------------------------------------------------------
# The shared subspace of (a) and (b): what both RandomizedSearchCV over MLPClassifier and a
# tuner spec can express.

SGD_LR = (1e-3, 0.3)          # log-uniform, SGD with momentum or Nesterov momentum
ADAM_LR = (1e-4, 3e-2)        # log-uniform, Adam
MOMENTUM = (0.5, 0.99)        # uniform
PLATEAU = dict(factor=0.5, patience=10, threshold=1e-4)   # absolute threshold, like sklearn's tol
HIDDEN, BATCH = 128, 32

SEARCH_TOML = f"""
[search]
optimizers = ["momentum", "nesterov", "adam"]
lr = [{SGD_LR[0]}, {SGD_LR[1]}]
momentum = [{MOMENTUM[0]}, {MOMENTUM[1]}]
schedules = ["constant", "plateau"]

[search.adam]
lr = [{ADAM_LR[0]}, {ADAM_LR[1]}]

[search.plateau]
factor = {PLATEAU['factor']}
patience = {PLATEAU['patience']}
threshold = {PLATEAU['threshold']}
threshold_mode = "abs"
"""

SPEC_TOML = """
[study]
name = "{name}"
task = "digits"
n_trials = {n_trials}
seed = {seed}
sampler = "{sampler}"
pruner = "{pruner}"

[model]
name = "{model}"
hidden = {hidden}

[training]
epochs = {epochs}
batch_size = {batch}
{search}
"""


def write_spec(folder: Path, name: str, *, n_trials: int, epochs: int, model: str = "mlp",
               hidden: int | None = HIDDEN, sampler: str = "tpe", pruner: str = "median",
               search: str = SEARCH_TOML) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(SPEC_TOML.format(
        name=name, n_trials=n_trials, seed=SEED, sampler=sampler, pruner=pruner, model=model,
        hidden=f"[{hidden}]" if hidden else "[]", epochs=epochs, batch=BATCH, search=search))
    load_spec(path)                        # fail early on a bad spec
    return path


def sklearn_space() -> list[dict]:
    """The same subspace for ``RandomizedSearchCV``: three dicts, so each optimizer is drawn with
    probability 1/3 as tuner's categorical does. scikit-learn's "adaptive" LR exists only for
    ``solver="sgd"``."""
    sgd = {"solver": ["sgd"], "learning_rate_init": loguniform(*SGD_LR),
           "momentum": uniform(MOMENTUM[0], MOMENTUM[1] - MOMENTUM[0]),
           "learning_rate": ["constant", "adaptive"]}
    return [{**sgd, "nesterovs_momentum": [False]}, {**sgd, "nesterovs_momentum": [True]},
            {"solver": ["adam"], "learning_rate_init": loguniform(*ADAM_LR)}]


# ---------------------------------------------------------------------------------------------
# Reading a study back: completion times, values and test accuracies of its trials.

@dataclass(frozen=True)
class TrialRow:
    number: int
    state: str
    value: float | None
    test: float | None               # tuner's run.test_metric (None for plain Optuna)
    completed: float                 # epoch seconds
    seconds: float | None            # tuner's run.seconds
    params: tuple                    # the configuration, as sorted (name, value) pairs


def rows_of(study: optuna.Study) -> list[TrialRow]:
    """The study's finished trials."""
    rows = []
    for t in study.get_trials(deepcopy=False):
        if t.datetime_complete is None:
            continue
        run = t.user_attrs.get("run", {})
        rows.append(TrialRow(t.number, t.state.name, t.value, run.get("test_metric"),
                             t.datetime_complete.timestamp(), run.get("seconds"),
                             tuple(sorted(t.params.items()))))
    return rows


def read_trials(url: str, study: str) -> list[TrialRow]:
    return rows_of(optuna.load_study(study_name=study, storage=open_storage(url, read_only=True)))


def distinct(rows: list[TrialRow]) -> int:
    """How many different configurations the trials tried."""
    return len({r.params for r in rows})


def load_average() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def med(values) -> float:
    values = list(values)
    return statistics.median(values) if values else math.nan


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


@contextmanager
def stopwatch():
    """``with stopwatch() as t: ...`` then ``t.wall`` (seconds) and ``t.started`` (epoch)."""
    class T:
        pass
    t = T()
    t.started, begin = time.time(), time.perf_counter()
    yield t
    t.wall = time.perf_counter() - begin


# ---------------------------------------------------------------------------------------------
# (a) Time to quality against RandomizedSearchCV.

A_TRIALS, A_EPOCHS, A_FOLDS, A_JOBS = 40, 50, 3, 2


def sklearn_mlp(seed: int, **params) -> MLPClassifier:
    """(a)'s scikit-learn estimator: the 64 → 128 → 10 network, no L2, (a)'s batch and epochs,
    scikit-learn's defaults otherwise; ``params`` as a candidate of :func:`sklearn_space`."""
    return MLPClassifier(hidden_layer_sizes=(HIDDEN,), activation="relu", alpha=0.0,
                         batch_size=BATCH, max_iter=A_EPOCHS, shuffle=True,
                         random_state=seed).set_params(**params)


def run_sklearn_search(data, seed: int = SEED) -> dict:
    """RandomizedSearchCV over MLPClassifier on train+validation (the data tuner sees), refit,
    scored on the test split; ``seed`` seeds the search and the estimator. A fresh joblib pool
    each time (as in a fresh session)."""
    X = np.vstack([data.X_train, data.X_val])
    y = np.concatenate([data.y_train, data.y_val])
    search = RandomizedSearchCV(sklearn_mlp(seed), sklearn_space(), n_iter=A_TRIALS, cv=A_FOLDS,
                                n_jobs=A_JOBS, random_state=seed, error_score=np.nan)
    get_reusable_executor().shutdown(wait=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")    # ConvergenceWarning at max_iter, failed candidates
        with stopwatch() as t:
            search.fit(X, y)
    get_reusable_executor().shutdown(wait=True)
    scores = search.cv_results_["mean_test_score"]
    return {"wall": t.wall, "test": float(search.score(data.X_test, data.y_test)),
            "cv": float(search.best_score_), "params": search.best_params_,
            "failed": int(np.isnan(scores).sum())}


def best_so_far(rows: list[TrialRow], started: float) -> list[tuple[float, float, int]]:
    """``(seconds since start, test accuracy, trial)`` each time the best complete trial by
    validation accuracy changes (ties: the lower trial number, as Optuna's ``best_trial``)."""
    steps, best = [], None
    for r in sorted((r for r in rows if r.state == "COMPLETE"), key=lambda r: r.completed):
        if (best is None or r.value > best.value
                or (r.value == best.value and r.number < best.number)):
            best = r
            steps.append((r.completed - started, best.test, best.number))
    return steps


def run_tuner_a(folder: Path, spec: Path, rep: int) -> dict:
    url = f"sqlite:///{folder / f'a-{rep}.db'}"
    with stopwatch() as t:
        best = tuner.api.launch(spec, workers=2, storage=url, progress=False)
    rows = read_trials(url, "tuning-a")
    steps = best_so_far(rows, t.started)
    if steps[-1][1] != best["test_metric"]:
        raise RuntimeError("the best-so-far curve does not end at tuner best")
    return {"wall": t.wall, "test": best["test_metric"], "steps": steps, "best": best,
            "retrained": best["retrained"],
            "first": min(r.completed for r in rows) - t.started, "distinct": distinct(rows),
            "complete": sum(r.state == "COMPLETE" for r in rows), "trials": len(rows)}


def time_to(steps, target: float) -> float:
    return next((s for s, acc, _ in steps if acc >= target - 1e-12), math.inf)


def accuracy_at(steps, seconds: float) -> float | None:
    acc = None
    for s, a, _ in steps:
        if s <= seconds:
            acc = a
    return acc


def final_model_data_check(data, sklearn_params: dict, tuner_best: dict) -> tuple[float, float]:
    """Outside the timings: scikit-learn's best configuration trained on tuner's training split
    only, and tuner's best configuration trained by ``tuner.train.train`` on training +
    validation (what scikit-learn's refit sees; the plateau schedule then watches an in-sample
    loss). Separates the configuration each search found from the data its final model saw."""
    estimator = sklearn_mlp(SEED, **sklearn_params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator.fit(data.X_train, data.y_train)
    sklearn_on_train = float(estimator.score(data.X_test, data.y_test))
    both = Splits(np.vstack([data.X_train, data.X_val]), np.concatenate([data.y_train, data.y_val]),
                  data.X_val, data.y_val, data.X_test, data.y_test, data.kind)
    config, seed = tuner_best["config"], tuner_best["seed"]
    model = build_model("mlp", data.n_features, data.n_outputs, hidden=(HIDDEN,), seed=seed)
    optimizer, schedule = tuner.train.optimizer_and_schedule(config, model.params,
                                                             epochs=A_EPOCHS)
    tuner.train.train(model, optimizer, both, epochs=A_EPOCHS, batch_size=BATCH, schedule=schedule,
                      metric="accuracy", seed=seed)
    tuner_on_both = float(np.mean(model.predict(data.X_test) == data.y_test))
    return sklearn_on_train, tuner_on_both


def part_a(folder: Path, repeats: int) -> list[tuple[str, str, bool]]:
    print(f"(a) time to quality: RandomizedSearchCV ({A_TRIALS} candidates × {A_FOLDS} folds, "
          f"{A_JOBS} jobs) against tuner launch (2 workers, SQLite, {A_TRIALS} trials), "
          f"{A_EPOCHS} epochs, 64→{HIDDEN}→10, batch {BATCH}; {repeats} repeat(s), "
          f"load {load_average()}", flush=True)
    spec = write_spec(folder, "tuning-a", n_trials=A_TRIALS, epochs=A_EPOCHS)
    data = load_task("digits", seed=SEED)
    runs = []
    for rep in range(repeats):
        order = ("sklearn", "tuner") if rep % 2 == 0 else ("tuner", "sklearn")
        run = {}
        for who in order:
            run[who] = (run_sklearn_search(data) if who == "sklearn"
                        else run_tuner_a(folder, spec, rep))
        s, t = run["sklearn"], run["tuner"]
        t["ttq"] = time_to(t["steps"], s["test"])
        t["at_fifth"] = accuracy_at(t["steps"], s["wall"] / 5)
        runs.append(run)
        print(f"  repeat {rep + 1}: sklearn {s['wall']:.1f} s, test {s['test']:.4f} "
              f"(cv {s['cv']:.4f}, {s['failed']} failed candidates); tuner {t['wall']:.1f} s, "
              f"test {t['test']:.4f} (trial {t['best']['trial']}, {t['complete']} complete of "
              f"{t['trials']}, {t['distinct']} distinct configurations), first trial done at "
              f"{t['first']:.1f} s, reaches sklearn's "
              f"accuracy at {t['ttq']:.1f} s; load {load_average()}", flush=True)
        print("    tuner best so far (s, test acc, trial): " + ", ".join(
            f"{sec:.1f}/{acc:.4f}/#{n}" for sec, acc, n in t["steps"]))
        again = t["retrained"]
        print(f"    tuner's re-trained choice at the end of launch ({t['wall']:.1f} s): trial "
              f"#{again['trial']}, mean test {again['test_metric']:.4f} over "
              f"{len(again['seeds'])} fresh seeds (95% CI {again['ci95'][0]:.4f}–"
              f"{again['ci95'][1]:.4f})")
    s_wall = med(r["sklearn"]["wall"] for r in runs)
    ratio = med(r["tuner"]["ttq"] / r["sklearn"]["wall"] for r in runs)
    s_test = [r["sklearn"]["test"] for r in runs]
    print()
    print("| | wall s | test accuracy | tuner reaches sklearn's accuracy at | ÷ sklearn wall |")
    print("|---|---:|---:|---:|---:|")
    print(f"| scikit-learn RandomizedSearchCV | {s_wall:.1f} | {med(s_test):.4f} | | |")
    print(f"| tuner, 2 workers, SQLite | {med(r['tuner']['wall'] for r in runs):.1f} | "
          f"{med(r['tuner']['test'] for r in runs):.4f} | "
          f"{med(r['tuner']['ttq'] for r in runs):.1f} s | {ratio:.2f} |")
    print(f"  medians over {repeats} repeat(s); per repeat, tuner's test accuracy at 1/5 of "
          f"sklearn's wall time: " + ", ".join(
              f"{r['tuner']['at_fifth']:.4f}" if r["tuner"]["at_fifth"] is not None else "none yet"
              for r in runs))
    sk_train, tu_both = final_model_data_check(data, runs[0]["sklearn"]["params"],
                                               runs[0]["tuner"]["best"])
    print(f"  the data of the final model (repeat 1, untimed): scikit-learn's best configuration "
          f"trained on tuner's {len(data.y_train)} training rows only: test {sk_train:.4f}; "
          f"tuner's best configuration trained on training + validation "
          f"({len(data.y_train) + len(data.y_val)} rows, as scikit-learn's refit): test "
          f"{tu_both:.4f}")
    line = (f"(a) tuner reaches sklearn's test accuracy ({med(s_test):.4f}) at {ratio:.2f} × "
            f"sklearn's wall time (target ≤ 0.20)")
    print(line + ": " + verdict(ratio <= 0.2) + "\n")
    return [("a: time to quality ≤ 1/5 of sklearn's wall", f"{ratio:.2f}", ratio <= 0.2)]


def part_a_seeds(seeds: int) -> None:
    """(a)'s scikit-learn search alone, with seeds 0 … ``seeds`` − 1 (the search's and the
    estimator's; the same data): is its test accuracy at seed 0 typical of it?"""
    print(f"(a) scikit-learn's search over {seeds} seeds; load {load_average()}", flush=True)
    data = load_task("digits", seed=SEED)
    tests = []
    for seed in range(seeds):
        s = run_sklearn_search(data, seed)
        tests.append(s["test"])
        print(f"  seed {seed}: {s['wall']:.1f} s, test {s['test']:.4f} (cv {s['cv']:.4f}), "
              f"{s['params']}", flush=True)
    print(f"  test accuracy median {med(tests):.4f}, min {min(tests):.4f}, max {max(tests):.4f}\n")


def sklearn_config(params: dict) -> dict:
    """tuner's resolved configuration (as trials store it) for a candidate of
    :func:`sklearn_space`: "adaptive" becomes the spec's plateau schedule, as in (a)."""
    if params["solver"] == "adam":
        optimizer, args = "adam", {}
    else:
        optimizer = "nesterov" if params["nesterovs_momentum"] else "momentum"
        args = {"momentum": params["momentum"]}
    plateau = params.get("learning_rate") == "adaptive"
    return {"optimizer": optimizer, "lr": params["learning_rate_init"], "optimizer_args": args,
            "schedule": "plateau" if plateau else "constant",
            "schedule_args": {**PLATEAU, "threshold_mode": "abs"} if plateau else {},
            "warmup_epochs": 0}


def glorot(model, seed: int) -> None:
    """Re-initialise ``model`` as scikit-learn's MLPClassifier does (ReLU): every weight and
    bias uniform in ±√(6 / (fan_in + fan_out))."""
    rng = np.random.default_rng(seed)
    for weight, bias in zip(model.params[0::2], model.params[1::2]):
        bound = math.sqrt(6.0 / sum(weight.shape))
        weight[...] = rng.uniform(-bound, bound, weight.shape)
        bias[...] = rng.uniform(-bound, bound, bias.shape)


def fit_tuner(config: dict, train: tuple, watch: tuple, seed: int, init: str):
    """A tuner MLP (64 → 128 → 10, PyTorch's or scikit-learn's ``init``) trained by
    ``tuner.train.train`` on ``train`` for (a)'s epochs; ``watch`` is the split its record
    and a plateau schedule read. Returns ``(model, history)``."""
    model = build_model("mlp", train[0].shape[1], 10, hidden=(HIDDEN,), seed=seed)
    if init == "glorot":
        glorot(model, seed)
    optimizer, schedule = tuner.train.optimizer_and_schedule(config, model.params,
                                                             epochs=A_EPOCHS)
    splits = Splits(*train, *watch, watch[0][:0], watch[1][:0], "classification")
    history = tuner.train.train(model, optimizer, splits, epochs=A_EPOCHS, batch_size=BATCH,
                                schedule=schedule, metric="accuracy", seed=seed)
    return model, history


def protocol_scores(data, seed: int, init: str) -> dict:
    """tuner's core under scikit-learn's protocol and under tuner's, on the 40 candidates
    scikit-learn's search draws with ``seed``: "cv" = each candidate 3-fold cross-validated on
    training + validation (the folds ``RandomizedSearchCV`` uses), the best mean accuracy
    refit on all of it; "split" = each candidate trained on the training split and judged on
    the validation split (a trial's view), the winner's own model ("split") and its refit
    on training + validation ("split refit"). Test accuracies (None: the run diverged)."""
    from sklearn.model_selection import ParameterSampler, StratifiedKFold
    X = np.vstack([data.X_train, data.X_val])
    y = np.concatenate([data.y_train, data.y_val])
    candidates = [sklearn_config(p) for p in
                  ParameterSampler(sklearn_space(), A_TRIALS, random_state=seed)]
    folds = list(StratifiedKFold(A_FOLDS).split(X, y))

    def test_of(model, history):
        return None if history.diverged else float(np.mean(model.predict(data.X_test)
                                                           == data.y_test))

    def score(history):
        return -math.inf if history.diverged else history.final.val_metric

    cv = [np.mean([score(fit_tuner(c, (X[a], y[a]), (X[b], y[b]), seed, init)[1])
                   for a, b in folds]) for c in candidates]
    refit = fit_tuner(candidates[int(np.argmax(cv))], (X, y), data.validation, seed, init)
    runs = [fit_tuner(c, (data.X_train, data.y_train), data.validation, seed, init)
            for c in candidates]
    winner = int(np.argmax([score(h) for _, h in runs]))
    split_refit = fit_tuner(candidates[winner], (X, y), data.validation, seed, init)
    return {"cv": test_of(*refit), "split": test_of(*runs[winner]),
            "split refit": test_of(*split_refit)}


def part_a_protocol(seeds: int) -> None:
    """Where (a)'s gap comes from: scikit-learn's search against tuner's core (PyTorch's
    initialisation, and scikit-learn's) under scikit-learn's protocol and under tuner's, on
    the same candidates, seeds 0 … ``seeds`` − 1. Untimed apart from scikit-learn's search."""
    print(f"(a) protocols: scikit-learn's search against tuner's core on the same 40 candidates "
          f"per seed; load {load_average()}", flush=True)
    data = load_task("digits", seed=SEED)
    table = {"sklearn": []}
    for seed in range(seeds):
        table["sklearn"].append(run_sklearn_search(data, seed)["test"])
        line = [f"seed {seed}: sklearn {table['sklearn'][-1]:.4f}"]
        for init in ("pytorch", "glorot"):
            for name, test in protocol_scores(data, seed, init).items():
                table.setdefault(f"tuner core, {init} init, {name}", []).append(test)
                line.append(f"{init} {name} " + ("diverged" if test is None else f"{test:.4f}"))
        print("  " + "; ".join(line), flush=True)
    print("\n| protocol | test accuracy per seed | median (converged) |\n|---|---|---:|")
    for name, tests in table.items():
        done = [t for t in tests if t is not None]
        print(f"| {name} | " + ", ".join("diverged" if t is None else f"{t:.4f}" for t in tests)
              + f" | {med(done):.4f} |")
    print()


A_MODELS = (                      # candidates of sklearn_space: the search's usual winners
    {"solver": "adam", "learning_rate_init": 1e-3},
    {"solver": "adam", "learning_rate_init": 3e-3},
    {"solver": "adam", "learning_rate_init": 5e-3},
    {"solver": "sgd", "learning_rate_init": 1e-2, "momentum": 0.9, "nesterovs_momentum": False,
     "learning_rate": "constant"},
    {"solver": "sgd", "learning_rate_init": 3e-2, "momentum": 0.9, "nesterovs_momentum": True,
     "learning_rate": "constant"},
)


def part_a_models(seeds: int) -> None:
    """Is one of the two MLPs better on (a)'s test split? Each configuration of ``A_MODELS``
    trained by scikit-learn's ``MLPClassifier`` and by tuner's core on the same 1437 training +
    validation rows, seeds 0 … ``seeds`` − 1 (the estimator's, and tuner's initialisation and
    shuffle): the mean and standard deviation of the test accuracy, and the mean paired
    difference with its standard error. Untimed."""
    print(f"(a) the two MLPs on the same configurations, {seeds} seeds each; "
          f"load {load_average()}", flush=True)
    data = load_task("digits", seed=SEED)
    X = np.vstack([data.X_train, data.X_val])
    y = np.concatenate([data.y_train, data.y_val])
    print("\n| configuration | scikit-learn mean ± sd | tuner mean ± sd | tuner − scikit-learn "
          "± s.e. |\n|---|---:|---:|---:|")
    for params in A_MODELS:
        sk, tu = [], []
        for seed in range(seeds):
            estimator = sklearn_mlp(seed, **params)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                estimator.fit(X, y)
            sk.append(estimator.score(data.X_test, data.y_test))
            model, history = fit_tuner(sklearn_config(params), (X, y), data.validation, seed,
                                       "pytorch")
            tu.append(math.nan if history.diverged
                      else float(np.mean(model.predict(data.X_test) == data.y_test)))
        sk, tu = np.array(sk), np.array(tu)
        diff = tu - sk
        name = ", ".join(f"{k}={v}" for k, v in params.items())
        print(f"| {name} | {sk.mean():.4f} ± {sk.std(ddof=1):.4f} | {np.mean(tu):.4f} ± "
              f"{np.std(tu, ddof=1):.4f} | {diff.mean():+.4f} ± "
              f"{diff.std(ddof=1) / math.sqrt(seeds):.4f} |", flush=True)
    print()


# ---------------------------------------------------------------------------------------------
# (b) Cost of persistence against plain Optuna.

B_EPOCHS = 20                  # tuner's default training.epochs
B_CHUNK = 20                   # trials per turn in the interleaved in-process runs
PROBE_ENV = "TUNING_BENCH_PROBE"


def timed_train(train, records: list):
    """``tuner.train.train`` wrapped to append ``(seed, seconds)`` to ``records`` per call: the
    time inside ``train`` less the time inside its ``on_epoch`` callback (where tuner and plain
    Optuna talk to their storage): the training time."""
    def wrapper(*args, on_epoch=None, **kwargs):
        inside = 0.0

        def timed(record):
            nonlocal inside
            begin = time.perf_counter()
            try:
                return on_epoch(record)
            finally:
                inside += time.perf_counter() - begin

        begin = time.perf_counter()
        history = train(*args, on_epoch=None if on_epoch is None else timed, **kwargs)
        records.append((kwargs.get("seed"), time.perf_counter() - begin - inside))
        return history
    return wrapper


def timed_locks(install, waits: list):
    """tuner's SQLite ``install(engine)`` (its ``BEGIN`` listener) with a listener before and
    one after it: ``waits`` gets how long each ``BEGIN`` waited (a ``BEGIN IMMEDIATE`` for the
    database's write lock; a deferred one returns at once)."""
    def wrapper(engine):
        sqlalchemy.event.listen(engine, "begin", lambda conn: conn.info.__setitem__(
            "tuning_begin", time.perf_counter()), insert=True)
        install(engine)
        sqlalchemy.event.listen(engine, "begin", lambda conn: waits.append(
            time.perf_counter() - conn.info.pop("tuning_begin")))
    return wrapper


PROBE = (f'''\
"""Written by benchmarks/tuning.py for the processes it starts: times tuner.train.train and
tuner's SQLite BEGIN IMMEDIATE in this process and writes them out at exit. Active only with
${PROBE_ENV} set."""
import os

if os.environ.get("{PROBE_ENV}"):
    import atexit
    import json
    import time

    import sqlalchemy
    import tuner.service.storage
    import tuner.train

    records, waits = [], []

''' + textwrap.indent(inspect.getsource(timed_train) + "\n" + inspect.getsource(timed_locks),
                      "    ") + f'''
    def dump():
        path = os.path.join(os.environ["{PROBE_ENV}"], "probe-%d.json" % os.getpid())
        with open(path, "w") as f:
            json.dump({{"train": records, "begin": waits}}, f)

    tuner.train.train = timed_train(tuner.train.train, records)
    tuner.service.storage._begin_transactions = timed_locks(
        tuner.service.storage._begin_transactions, waits)
    atexit.register(dump)
''')


@contextmanager
def probed(folder: Path):
    """Python processes started inside run :data:`PROBE` (a ``sitecustomize`` on
    ``PYTHONPATH``); yields the folder where they leave their records."""
    probe = folder / "probe"
    probe.mkdir(exist_ok=True)
    (probe / "sitecustomize.py").write_text(PROBE)
    for old in probe.glob("probe-*.json"):
        old.unlink()
    saved = {k: os.environ.get(k) for k in ("PYTHONPATH", PROBE_ENV)}
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(probe), saved["PYTHONPATH"]) if p)
    os.environ[PROBE_ENV] = str(probe)
    try:
        yield probe
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def probe_records(probe: Path) -> tuple[dict[int, list[tuple[int, float]]], list[float]]:
    """pid → [(trial number, training seconds)] (trial seed = study seed + trial number), and
    every process's BEGIN IMMEDIATE waits."""
    train, waits = {}, []
    for path in probe.glob("probe-*.json"):
        data = json.loads(path.read_text())
        train[int(path.stem.split("-")[1])] = [(seed - SEED, s) for seed, s in data["train"]]
        waits += data["begin"]
    return train, waits


def plain_study(spec, problem, storage: str | None) -> optuna.Study:
    """The study as a plain Optuna user creates it: TPE and the median pruner with tuner's
    settings (5 startup trials, 2 warm-up epochs), Optuna's storage defaults."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(
        study_name=spec.name, storage=storage, direction=problem.direction, load_if_exists=True,
        sampler=optuna.samplers.TPESampler(seed=SEED),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=2))


def plain_objective(spec, problem):
    """The objective the plain way: the same suggest calls as tuner's (``spec.space.suggest``),
    the same seeded model, optimizer and schedule, ``tuner.train.train`` with
    ``trial.report`` and ``trial.should_prune`` after every epoch."""
    epochs = spec["training.epochs"]

    def objective(trial: optuna.Trial) -> float:
        config = spec.space.suggest(trial, epochs)
        seed = SEED + trial.number
        model = problem.new_model(seed)
        optimizer, schedule = tuner.train.optimizer_and_schedule(config, model.params,
                                                                 epochs=epochs)

        def on_epoch(record) -> bool:
            trial.report(record.val_metric, record.epoch)
            return trial.should_prune()

        history = tuner.train.train(model, optimizer, problem.data, epochs=epochs,
                                    batch_size=spec["training.batch_size"], schedule=schedule,
                                    metric=problem.metric, seed=seed, on_epoch=on_epoch)
        if history.diverged or history.stopped_epoch is not None:
            raise optuna.TrialPruned()
        return history.final.val_metric

    return objective


def fsync_ms(folder: Path, n: int = 5) -> float:
    """Median time of a 4 KB write + fsync in ``folder``: what a commit to a SQLite database in
    rollback-journal mode with synchronous=FULL (Optuna's default) waits for, several times."""
    path, times = folder / "fsync.probe", []
    with open(path, "wb") as f:
        for _ in range(n):
            begin = time.perf_counter()
            f.write(b"x" * 4096)
            f.flush()
            os.fsync(f.fileno())
            times.append(time.perf_counter() - begin)
    path.unlink()
    return 1e3 * med(times)


@dataclass
class PersistenceRun:
    """One contender of (b): its wall time, its trials, and its training times by turn (within
    a turn its trials complete one after the other)."""

    name: str
    url: str | None = None       # None: in memory
    wall: float = 0.0
    rows: list[TrialRow] = field(default_factory=list)
    train: dict[int, list[tuple[int, float]]] = field(default_factory=dict)
    waits: list[float] = field(default_factory=list)     # tuner's BEGIN IMMEDIATE waits
    loads: list[float] = field(default_factory=list)     # 1-minute load average at each start
    fsyncs: list[float] = field(default_factory=list)    # fsync_ms at each start

    def overheads(self, first: int, last: int) -> list[float]:
        """Per trial numbered first … last − 1 that completed after another in the same turn:
        the time since that completion less the trial's training time."""
        completed = {r.number: r.completed for r in self.rows}
        out = []
        for trials in self.train.values():
            ordered = sorted((completed[n], n, s) for n, s in trials if n in completed)
            for (t0, _, _), (t1, n, s) in zip(ordered, ordered[1:]):
                if first <= n < last:
                    out.append(t1 - t0 - s)
        return out

    def training(self) -> float:
        return sum(s for trials in self.train.values() for _, s in trials)


class InProcess:
    """A contender run in this process, ``advance(k)`` at a time (until k trials finished): the
    plain-Optuna study with ``study.optimize``, or tuner's ``Worker`` (the loop ``tuner worker``
    runs) with its study-wide budget raised to k. Set-up (data, storage, study) is not timed."""

    def __init__(self, run: PersistenceRun, spec, problem, records: list, waits: list):
        self.run, self.records, self.waits = run, records, waits
        if run.name.startswith("tuner"):
            self.worker = Worker(spec, run.url, n_trials=0)
            self.study = self.worker.study
        else:
            self.worker, self.objective = None, plain_objective(spec, problem)
            self.study = plain_study(spec, problem, run.url)
        self.done = 0

    def advance(self, to: int, folder: Path) -> None:
        self.run.loads.append(os.getloadavg()[0])
        self.run.fsyncs.append(fsync_ms(folder))
        if self.worker:
            self.study.set_user_attr("n_trials", to)
        del self.records[:], self.waits[:]
        with stopwatch() as t:
            if self.worker:
                self.worker.run()
            else:
                self.study.optimize(self.objective, n_trials=to - self.done)
        self.run.wall += t.wall
        self.run.train[len(self.run.train)] = [(seed - SEED, s) for seed, s in self.records]
        self.run.waits += self.waits
        self.done = to


@contextmanager
def patched(owner, name: str, value):
    saved = getattr(owner, name)
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, saved)


def interleaved_runs(folder: Path, spec_path: Path, n_trials: int,
                     contenders: list[tuple[str, str | None]],
                     turn=lambda name, first: contextlib.nullcontext()
                     ) -> dict[str, PersistenceRun]:
    """The ``(name, url)`` contenders in this process, in turns of :data:`B_CHUNK` trials (the
    order reversed every round), so that all see the same machine. Each turn runs inside
    ``turn(name, first_trial)``."""
    import tuner.service.objective
    import tuner.service.storage
    records, waits = [], []
    train = timed_train(tuner.train.train, records)
    with patched(tuner.train, "train", train), patched(tuner.service.objective, "train", train), \
            patched(tuner.service.storage, "_begin_transactions",
                    timed_locks(tuner.service.storage._begin_transactions, waits)):
        spec = load_spec(spec_path)
        problem = load_problem(spec)
        runs = [InProcess(PersistenceRun(name, url), spec, problem, records, waits)
                for name, url in contenders]
        for i, to in enumerate(range(B_CHUNK, n_trials + B_CHUNK, B_CHUNK)):
            for c in runs if i % 2 == 0 else reversed(runs):
                with turn(c.run.name, c.done):
                    c.advance(min(to, n_trials), folder)
            if to % (10 * B_CHUNK) == 0:
                print(f"  {to} trials: " + ", ".join(f"{c.run.name} {c.run.wall:.1f} s"
                                                     for c in runs) + f"; load {load_average()}",
                      flush=True)
    for c in runs:
        c.run.rows = rows_of(c.study)
    return {c.run.name: c.run for c in runs}


def curves_complete(url: str) -> tuple[int, int]:
    """(finished trials, those whose stored curve, intermediate values and run.epochs agree)."""
    s = optuna.load_study(study_name="tuning-b", storage=open_storage(url, read_only=True))
    finished = [t for t in s.get_trials(deepcopy=False) if t.state.is_finished()]
    good = sum(1 for t in finished
               if (curve := t.user_attrs.get("curve")) is not None
               and curve["epoch"] == sorted(t.intermediate_values)
               and len(curve["epoch"]) == t.user_attrs["run"]["epochs"])
    return len(finished), good


LIVE_EPOCHS = 600


def live_curve_check(folder: Path) -> dict:
    """One 600-epoch trial (a few seconds) run by a ``tuner worker`` process while this process
    reads its curve with ``tuner.results.curve`` every 0.1 s, as the dashboard would."""
    search = """
[search]
optimizers = ["momentum"]
lr = 0.01
momentum = 0.9
"""
    spec = write_spec(folder, "tuning-live", n_trials=1, epochs=LIVE_EPOCHS, pruner="none",
                      search=search)
    url = f"sqlite:///{folder / 'live.db'}"
    seen = []                          # (time, epochs visible)
    proc = subprocess.Popen([sys.executable, "-m", "tuner", "--quiet", "worker", str(spec),
                             "--storage", url], env={**os.environ, **ONE_THREAD})
    while proc.poll() is None:
        try:
            seen.append((time.time(), len(tuner.results.curve("tuning-live", 0, url)["epoch"])))
        except Exception:              # noqa: BLE001 - no database, study or trial yet
            pass
        time.sleep(0.1)
    if proc.returncode:
        raise RuntimeError("the live-curve worker failed")
    trial = optuna.load_study(study_name="tuning-live",
                              storage=open_storage(url, read_only=True)).trials[0]
    start, end = trial.datetime_start.timestamp(), trial.datetime_complete.timestamp()
    growth, shown = [], 0              # times at which more epochs became visible
    for t, n in seen:
        if n > shown:
            growth.append(t)
            shown = n
    gaps = np.diff([start, *growth])   # from the trial's start to each update
    return {"updates": len(growth), "max_gap": float(gaps.max()) if len(gaps) else math.inf,
            "trial_seconds": end - start, "final": shown,
            "epochs": len(trial.intermediate_values)}


def part_b(folder: Path, n_trials: int, epochs: int, postgres: bool) -> list[tuple[str, str, bool]]:
    spec = write_spec(folder, "tuning-b", n_trials=n_trials, epochs=epochs,
                      model="softmax_regression", hidden=None)
    lo, hi = int(0.9 * n_trials), n_trials
    print(f"(b) cost of persistence: {n_trials}-trial digits study, softmax regression, "
          f"{epochs} epochs, TPE, median pruner; overhead per trial at trials {lo}–{hi}; "
          f"load {load_average()}", flush=True)
    contenders = [("optuna, memory", None),
                  ("tuner, SQLite", f"sqlite:///{folder / 'tuner.db'}"),
                  ("optuna, SQLite", f"sqlite:///{folder / 'optuna.db'}")]
    server = None
    if postgres and Path("/usr/lib/postgresql/15/bin").is_dir():
        sys.path.insert(0, str(ROOT / "tests"))
        from postgres import PostgresServer           # the tests' throw-away server
        server = PostgresServer().start()
        contenders += [("tuner, PostgreSQL", server.create_database("tuner")),
                       ("optuna, PostgreSQL", server.create_database("optuna"))]
    elif postgres:
        print("  (no PostgreSQL 15 here: the PostgreSQL runs are skipped)")
    try:
        runs = interleaved_runs(folder, spec, n_trials, contenders)
        curves = {name: curves_complete(run.url) for name, run in runs.items()
                  if name.startswith("tuner")}
    finally:
        if server is not None:
            server.stop()
    live = live_curve_check(folder)

    memory = runs["optuna, memory"]
    print()
    print(f"| run | wall s | × in memory | training s | overhead ms/trial, trials "
          f"{lo}–{hi}: median | mean | first {min(100, n_trials)} trials: median | complete / "
          f"pruned | best value | tuner's lock waits, ms/trial |")
    print("|---|---:|---:|---:|---:|---:|---:|---|---:|---:|")
    for name, run in runs.items():
        o, early = run.overheads(lo, hi), run.overheads(0, min(100, n_trials))
        states = [r.state for r in run.rows]
        best = max((r.value for r in run.rows if r.state == "COMPLETE"), default=math.nan)
        waits = f"{1e3 * sum(run.waits) / len(run.rows):.1f}" if run.waits else ""
        print(f"| {name} | {run.wall:.1f} | {run.wall / memory.wall:.2f} | "
              f"{run.training():.1f} | {1e3 * med(o):.1f} | {1e3 * float(np.mean(o)):.1f} | "
              f"{1e3 * med(early):.1f} | {states.count('COMPLETE')} / {states.count('PRUNED')} | "
              f"{best:.4f} | {waits} |")
    loads = [x for r in runs.values() for x in r.loads]
    fsyncs = [x for r in runs.values() for x in r.fsyncs]
    print(f"  all runs in this process, taking turns of {B_CHUNK} trials (set-up not timed); "
          f"1-minute load average at their turns {min(loads):.1f}–{max(loads):.1f} (median "
          f"{med(loads):.1f}), a 4 KB fsync {min(fsyncs):.1f}–{max(fsyncs):.1f} ms (median "
          f"{med(fsyncs):.1f})")
    print("  overhead of a trial = time since the previous completion in the same turn − its "
          "training time (tuner.train.train less on_epoch)")

    results = []
    t1, osq = runs["tuner, SQLite"], runs["optuna, SQLite"]
    ratio = t1.wall / memory.wall
    results.append(("b: tuner's SQLite run ≤ 2 × plain Optuna in memory", f"{ratio:.2f}",
                    ratio <= 2))
    share = med(t1.overheads(lo, hi)) / med(osq.overheads(lo, hi))
    results.append((f"b: tuner's overhead per trial at {lo}–{hi} ≤ ½ plain Optuna's, SQLite",
                    f"{share:.2f}", share <= 0.5))
    if "tuner, PostgreSQL" in runs:
        tp, op = runs["tuner, PostgreSQL"], runs["optuna, PostgreSQL"]
        share_pg = med(tp.overheads(lo, hi)) / med(op.overheads(lo, hi))
        results.append(("b: the same on PostgreSQL", f"{share_pg:.2f}", share_pg <= 0.5))
    complete = all(good == total for total, good in curves.values())
    live_ok = (complete and live["updates"] >= 2 and live["max_gap"] <= 1.5
               and live["final"] == live["epochs"] == LIVE_EPOCHS)
    print("  stored curves: " + "; ".join(f"{name}: {good}/{total} finished trials with curve = "
                                          f"intermediate values = run.epochs"
                                          for name, (total, good) in curves.items()))
    print(f"  live curve: a {live['trial_seconds']:.1f} s trial of {LIVE_EPOCHS} epochs, read "
          f"every 0.1 s with tuner.results.curve: grew {live['updates']} times, at most "
          f"{live['max_gap']:.2f} s apart (from the trial's start), to {live['final']} epochs")
    results.append(("b: live curves: every trial's curve stored, a running trial's curve "
                    "visible at least every ~1 s",
                    f"all stored; {live['updates']} updates, ≤ {live['max_gap']:.2f} s apart",
                    live_ok))
    for name, value, ok in results:
        print(f"{name}: {value}: {verdict(ok)}")
    print()
    return results


# ---------------------------------------------------------------------------------------------
# (c) Throughput of 2 workers against 1.

C_EPOCHS = 20
C_TRIALS = 80
C_SEARCH = """
[search]
optimizers = ["momentum"]
lr = [1e-3, 0.05]
momentum = [0.5, 0.9]
schedules = ["constant"]
"""


def run_tuner_c(folder: Path, spec: Path, name: str, workers: int) -> dict:
    """``tuner launch`` with ``workers`` workers (probed: training time, lock waits)."""
    url = f"sqlite:///{folder / f'{name}.db'}"
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    load = load_average()
    with probed(folder) as probe, stopwatch() as t:
        tuner.api.launch(spec, workers=workers, storage=url, progress=False, retrain_seeds=0)
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    train, waits = probe_records(probe)
    rows = read_trials(url, load_spec(spec).name)
    if any(r.state != "COMPLETE" for r in rows):
        raise RuntimeError("a throughput trial was pruned or diverged: trials differ in cost")
    done = sorted(r.completed for r in rows)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    return {"wall": t.wall, "n": len(rows), "load": load,
            "steady": (len(done) - 1) / (done[-1] - done[0]),
            "end_to_end": len(rows) / t.wall, "first": done[0] - t.started,
            "train": sum(s for trials in train.values() for _, s in trials) / len(rows),
            "waits": sum(waits) / len(rows), "cpu": cpu / t.wall, "distinct": distinct(rows)}


CAPACITY_EPOCHS = 150


def training_process(argv: list[str]) -> None:
    """One process of the capacity control (``tuning.py _train START``): at time START, train
    the (c) network for :data:`CAPACITY_EPOCHS` epochs; print the seconds it took."""
    data = load_task("digits", seed=SEED)
    model = build_model("mlp", data.n_features, data.n_outputs, hidden=(HIDDEN,), seed=SEED)
    optimizer = create("momentum", model.params, lr=0.01, momentum=0.9)
    time.sleep(max(0.0, float(argv[0]) - time.time()))
    with stopwatch() as t:
        tuner.train.train(model, optimizer, data, epochs=CAPACITY_EPOCHS, batch_size=BATCH,
                          metric="accuracy", seed=SEED)
    print(t.wall)


def machine_capacity() -> float:
    """The control for (c): the same training in 1 process, then in 2 processes started
    together, no tuner service around it: how many times one process's speed the machine gives
    two right now (2 on an idle 2-core machine)."""
    def together(k: int) -> list[float]:
        start = time.time() + 5.0                       # after the processes' imports
        procs = [subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "_train",
                                   str(start)], stdout=subprocess.PIPE, text=True)
                 for _ in range(k)]
        return [float(p.communicate()[0]) for p in procs]
    one = together(1)[0]
    return 2 * one / max(together(2))


def scaling_rows(runs: dict[int, list[dict]]) -> tuple[float, float]:
    """Print the 1- and 2-worker rows; return the median paired ratios (steady, end to end)."""
    print("| workers | wall s | trials/s, first to last completion | trials/s, end to end | "
          "first trial done at s | training ms/trial | lock waits ms/trial | worker CPU, "
          "cores | distinct configurations |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for w in (1, 2):
        rs = runs[w]
        print(f"| {w} | {med(r['wall'] for r in rs):.1f} | {med(r['steady'] for r in rs):.2f} | "
              f"{med(r['end_to_end'] for r in rs):.2f} | {med(r['first'] for r in rs):.1f} | "
              f"{1e3 * med(r['train'] for r in rs):.0f} | {1e3 * med(r['waits'] for r in rs):.1f} "
              f"| {med(r['cpu'] for r in rs):.2f} | {med(r['distinct'] for r in rs):.0f} of "
              f"{rs[0]['n']} |")
    steady = med(b["steady"] / a["steady"] for a, b in zip(runs[1], runs[2]))
    end = med(b["end_to_end"] / a["end_to_end"] for a, b in zip(runs[1], runs[2]))
    print(f"  2 workers ÷ 1 worker (median of paired ratios): {steady:.2f} steady, {end:.2f} "
          f"end to end (start-up included)")
    return steady, end


def part_c(folder: Path, n_trials: int, repeats: int) -> list[tuple[str, str, bool]]:
    print(f"(c) throughput, 2 workers against 1: {n_trials} trials of 64→{HIDDEN}→10, "
          f"{C_EPOCHS} epochs, SGD with momentum, constant LR, random sampler, no pruning, "
          f"SQLite; {repeats} pair(s), ABBA; load {load_average()}", flush=True)
    spec = write_spec(folder, "tuning-c", n_trials=n_trials, epochs=C_EPOCHS, sampler="random",
                      pruner="none", search=C_SEARCH)
    runs, capacity = {1: [], 2: []}, []
    for rep in range(repeats):
        capacity.append(machine_capacity())
        print(f"  control: 2 training processes run at {capacity[-1]:.2f} × one", flush=True)
        for workers in ((1, 2) if rep % 2 == 0 else (2, 1)):
            r = run_tuner_c(folder, spec, f"c-{workers}-{rep}", workers)
            runs[workers].append(r)
            print(f"  {workers} worker(s): {r['wall']:.1f} s, {r['steady']:.2f} trials/s "
                  f"steady, {r['end_to_end']:.2f} end to end; load {r['load']} at start",
                  flush=True)
    print()
    steady, end = scaling_rows(runs)
    print(f"  control (the same training in 2 bare processes against 1, before each pair): "
          f"{', '.join(f'{c:.2f}' for c in capacity)}")
    results = [("c: 2 workers ≥ 1.8 × 1 worker (steady throughput)",
                f"{steady:.2f} (control {med(capacity):.2f})", steady >= 1.8),
               ("c: the same end to end, start-up included", f"{end:.2f}", end >= 1.8)]
    for name, value, ok in results:
        print(f"{name}: {value}: {verdict(ok)}")
    print()
    return results


# ---------------------------------------------------------------------------------------------
# Profile: where a trial's time goes at trials 900–1000.

def profile_targets() -> list[tuple[str, object, str]]:
    """(label, owner, attribute) of the calls the profile times (inclusive times)."""
    from optuna.storages._cached_storage import _CachedStorage
    from optuna.study import _optimize, study
    from tuner.service import objective, space, worker
    return [
        ("Study.ask", study.Study, "ask"),
        ("suggest: SearchSpace.suggest (every suggest call)", space.SearchSpace, "suggest"),
        ("  TPESampler._sample (reads trials, fits)", optuna.samplers.TPESampler, "_sample"),
        ("  RDBStorage._set_trial_param (a commit each)", optuna.storages.RDBStorage,
         "_set_trial_param"),
        ("Trial.report (every epoch)", optuna.Trial, "report"),
        ("Trial.should_prune (every epoch)", optuna.Trial, "should_prune"),
        ("  MedianPruner.prune", optuna.pruners.PercentilePruner, "prune"),
        ("write_trial_record (values and attributes, every FLUSH_SECONDS)", objective,
         "write_trial_record"),
        ("Worker.finish (the last record and the tell, one transaction)", worker.Worker,
         "finish"),
        ("tell", study, "_tell_with_warning"),
        ("tell", _optimize, "_tell_with_warning"),
        ("tell", worker, "_tell_with_warning"),
        ("Study.get_trials", study.Study, "get_trials"),
        ("  worker loop: count_states", worker, "count_states"),
        ("worker loop: fail_stale_trials", worker.Worker, "fail_stale_trials"),
        ("worker loop: Study.user_attrs", study.Study, "user_attrs"),
        ("heartbeat: Heartbeat.__enter__ (starts the thread)", worker.Heartbeat, "__enter__"),
        ("storage reads: _CachedStorage.get_all_trials, every caller", _CachedStorage,
         "get_all_trials"),
    ]


def part_profile(folder: Path, n_trials: int, epochs: int) -> None:
    """The (b) study once more (in memory, tuner on SQLite, plain Optuna on SQLite, taking
    turns), with the calls of :func:`profile_targets` timed in its last 10 % of trials. Then 2
    workers against 1 on cheap trials, with the time tuner's workers wait for SQLite's lock."""
    spec = write_spec(folder, "tuning-b", n_trials=n_trials, epochs=epochs,
                      model="softmax_regression", hidden=None)
    lo = n_trials - max(B_CHUNK, n_trials // 10 // B_CHUNK * B_CHUNK)   # whole turns
    print(f"profile: trials {lo}–{n_trials} of the (b) study, timed calls; load "
          f"{load_average()}", flush=True)
    active: dict = {"name": None}
    totals: dict[str, dict[str, list[float]]] = {}

    def timed(label: str, function):
        def wrapper(*args, **kwargs):
            if active["name"] is None:
                return function(*args, **kwargs)
            begin = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                total = totals.setdefault(active["name"], {}).setdefault(label, [0.0, 0])
                total[0] += time.perf_counter() - begin
                total[1] += 1
        return wrapper

    @contextmanager
    def turn(name: str, first: int):
        active["name"] = name if first >= lo else None
        with stopwatch() as t:
            yield
        if active["name"]:
            totals.setdefault(name, {}).setdefault("wall", [0.0, 0])[0] += t.wall
        active["name"] = None

    with contextlib.ExitStack() as stack:
        for label, owner, attribute in profile_targets():
            value = inspect.getattr_static(owner, attribute)
            wrapped = (property(timed(label, value.fget)) if isinstance(value, property)
                       else timed(label, getattr(owner, attribute)))
            stack.enter_context(patched(owner, attribute, wrapped))
        runs = interleaved_runs(folder, spec, n_trials, [
            ("optuna, memory", None), ("tuner, SQLite", f"sqlite:///{folder / 'profile-t.db'}"),
            ("optuna, SQLite", f"sqlite:///{folder / 'profile-o.db'}")], turn)
    n = n_trials - lo
    names = list(runs)
    print()
    print(f"| ms per trial at trials {lo}–{n_trials} (calls per trial) | " + " | ".join(names)
          + " |")
    print("|---|" + "---:|" * len(names))
    rows = {"wall": [totals[name]["wall"][0] for name in names],
            "training (tuner.train.train less on_epoch)": [
                sum(s for trials in runs[name].train.values() for k, s in trials if k >= lo)
                for name in names]}
    for label, values in rows.items():
        print(f"| {label} | " + " | ".join(f"{1e3 * v / n:.1f}" for v in values) + " |")
    labels = list(dict.fromkeys(label for label, _, _ in profile_targets()))
    for label in labels:
        cells = [totals.get(name, {}).get(label) for name in names]
        if any(cells):
            print(f"| {label} | " + " | ".join(
                f"{1e3 * t / n:.1f} ({c / n:.1f})" if cell else "—"
                for cell, (t, c) in ((cell, cell or (0, 0)) for cell in cells)) + " |")
    waits = runs["tuner, SQLite"].waits
    print(f"| tuner's BEGIN IMMEDIATE waits (whole study) | | "
          f"{1e3 * sum(waits) / n_trials:.1f} ({len(waits) / n_trials:.1f}) | |")
    print("  inclusive times: indented rows are part of the row above them")
    print()
    cheap = write_spec(folder, "tuning-cheap", n_trials=PROFILE_CHEAP_TRIALS, epochs=5,
                       model="softmax_regression", hidden=None, sampler="random", pruner="none",
                       search=C_SEARCH)
    print(f"2 workers against 1 on cheap trials: {PROFILE_CHEAP_TRIALS} trials of softmax "
          f"regression, 5 epochs, random sampler, no pruning, SQLite; load {load_average()}")
    scaling_rows({w: [run_tuner_c(folder, cheap, f"cheap-{w}", w)] for w in (1, 2)})
    print()


PROFILE_CHEAP_TRIALS = 300


# ---------------------------------------------------------------------------------------------

def blas_description() -> str:
    blas = [i for i in threadpool_info() if i["user_api"] == "blas"]
    info = next((i for i in blas if "numpy" in i["filepath"]), blas[0])
    return f"{info['internal_api']} {info['version']}, {info['num_threads']} thread(s)"


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_train"]:
        return training_process(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", nargs="+",
                        choices=["a", "b", "c", "profile", "a-seeds", "a-protocol",
                                 "a-models"],
                        default=["a", "b", "c"], help="which parts (profile: where tuner's and "
                        "plain Optuna's trials spend their time at trials 900–1000; a-seeds: "
                        "(a)'s scikit-learn search over --seeds seeds; a-protocol: tuner's "
                        "core under scikit-learn's protocol and tuner's on the same "
                        "candidates, --seeds seeds; a-models: scikit-learn's MLP and tuner's core on "
                        "the same configurations, --seeds seeds; none of these four run by "
                        "default)")
    parser.add_argument("--seeds", type=int, default=5,
                        help="seeds of --part a-seeds, a-protocol and a-models (default 5)")
    parser.add_argument("--quick", action="store_true",
                        help="200 trials in (b), one repeat of (a) and one pair in (c)")
    parser.add_argument("--trials", type=int, help="trials of the (b) studies (default 1000)")
    parser.add_argument("--epochs", type=int, default=B_EPOCHS,
                        help=f"epochs per trial of the (b) studies (default {B_EPOCHS})")
    parser.add_argument("--repeats", type=int, help="repeats of (a) and pairs of (c) "
                        "(default 2 each)")
    parser.add_argument("--postgres", action="store_true",
                        help="(b) on PostgreSQL too (the tests' server; about 5 minutes more)")
    args = parser.parse_args(argv)
    trials = args.trials or (200 if args.quick else 1000)
    repeats = args.repeats or (1 if args.quick else 2)

    with threadpool_limits(limits=1), tempfile.TemporaryDirectory(prefix="tuning-bench-") as tmp:
        folder = Path(tmp)
        print(f"Python {platform.python_version()}, NumPy {np.__version__}, Optuna "
              f"{optuna.__version__}, scikit-learn {sklearn.__version__}, tuner "
              f"{tuner.__version__}; {os.cpu_count()} CPU(s); BLAS {blas_description()}")
        print(f"databases in {folder}; load average (1/5/15 min) at start {load_average()}\n",
              flush=True)
        started = time.perf_counter()
        results = []
        if "a" in args.part:
            results += part_a(folder, repeats)
        if "b" in args.part:
            results += part_b(folder, trials, args.epochs, postgres=args.postgres)
        if "c" in args.part:
            results += part_c(folder, 40 if args.quick else C_TRIALS, repeats)
        if "profile" in args.part:
            part_profile(folder, trials, args.epochs)
        if "a-seeds" in args.part:
            part_a_seeds(args.seeds)
        if "a-protocol" in args.part:
            part_a_protocol(args.seeds)
        if "a-models" in args.part:
            part_a_models(args.seeds)
        print(f"load average at end {load_average()}; {time.perf_counter() - started:.0f} s in all")
        print("\n| target | measured | |\n|---|---|---|")
        for name, value, ok in results:
            print(f"| {name} | {value} | {verdict(ok)} |")


if __name__ == "__main__":
    main()

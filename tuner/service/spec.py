"""Study specs: TOML files checked against one declarative table of settings.

:data:`SETTINGS` is the single description of every fixed key (type, default, allowed values,
help); it drives validation, ``tuner check --help`` and ``docs/spec.md``. The ``[search]`` table
adds keys named after the optimizers' and schedules' own arguments, checked against the core's
registries. Every defect is reported, one line each: ``FILE: KEY: what is wrong (allowed: …)``.
"""

from __future__ import annotations

import datetime
import difflib
import hashlib
import json
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SpecError
from ..metrics import METRICS
from ..models import MODELS
from ..optim import OPTIMIZERS, create
from ..schedules import SCHEDULES, create_schedule
from ..tasks import TASKS
from ..tasks.files import is_user_data
from .samplers import PRUNERS, SAMPLERS
from .space import (WARMUP_SCHEDULES, Dimension, SearchSpace, is_value_form,
                    optimizer_arguments, parse_dimension, schedule_arguments)

REQUIRED = object()
OPERATIONAL = ("study.n_trials", "study.timeout", "study.heartbeat_interval",
               "study.grace_period", "study.max_retry")
"""Settings that workers of one study may give differently (not part of the spec hash)."""
MAX_NAME_LENGTH = 512  # Optuna's study_name column


def study_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a study, or None: empty, blank, control characters, too long."""
    if not name.strip():
        return "must not be empty or only white space"
    if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in name):
        return "must not contain control characters"
    if len(name) > MAX_NAME_LENGTH:
        return f"is {len(name)} characters long (allowed: at most {MAX_NAME_LENGTH})"
    return None


def _at_least(low):
    return lambda v: None if v >= low else f"is too small (allowed: {low} or more)"


def _positive(v):
    return None if v > 0 else "is not allowed (allowed: more than 0)"


@dataclass(frozen=True)
class Setting:
    """One spec key: its TOML path, type, default (``REQUIRED`` if none), help and checks."""

    key: str
    type: type | tuple
    default: Any
    help: str
    choices: tuple | None = None
    check: Callable[[Any], str | None] | None = None
    example: str | None = None

    @property
    def type_name(self) -> str:
        names = {str: "a string", int: "an integer", float: "a number", bool: "true or false",
                 list: "a list"}
        types = self.type if isinstance(self.type, tuple) else (self.type,)
        return " or ".join(names[t] for t in types)


MAX_SEED = 2**31 - 1
"""The largest study seed: trial and re-training seeds add to it and must stay below 2³²,
what NumPy's legacy seeding, scikit-learn and Optuna's samplers take."""

SETTINGS: tuple[Setting, ...] = (
    Setting("study.name", str, REQUIRED, "The study's name in the database; workers with the "
            "same name and storage share the study.", check=study_name_problem,
            example='"digits-mlp"'),
    Setting("study.task", str, REQUIRED, "A built-in task (" + ", ".join(TASKS) + "), a data "
            "file (.csv, .npy, .npz; relative to the spec) or module:function returning X, y.",
            example='"digits"'),
    Setting("study.target", (str, int), None, "Your data's target: a CSV column name or index, a "
            ".npy column index, or a .npz array name (features in X). Default: the last column, or "
            "y."),
    Setting("study.kind", str, "auto", "Your data's kind; auto: classification for text labels "
            "or at most 50 integer values.", choices=("auto", "classification", "regression")),
    Setting("study.seed", int, 0, "Seeds the data split, the sampler and each trial's "
            "initialisation and shuffling (trial seed = seed + trial number).",
            check=lambda v: None if 0 <= v <= MAX_SEED else
            f"is out of range (allowed: 0 to {MAX_SEED})"),
    Setting("study.n_trials", int, 50, "The study-wide trial budget: finished (complete or "
            "pruned) trials across all workers; --n-trials overrides it.", check=_at_least(1)),
    Setting("study.timeout", (int, float), None, "Study-wide time limit in seconds, from the "
            "study's creation: no trial starts after it; --timeout sets a new one from now.",
            check=_positive),
    Setting("study.trial_timeout", (int, float), None, "Per-trial time limit in seconds; a trial "
            "over it is pruned with reason timeout.", check=_positive),
    Setting("study.sampler", str, "tpe", "How trials are chosen.", choices=tuple(SAMPLERS)),
    Setting("study.pruner", str, "median", "How bad trials are stopped early.",
            choices=tuple(PRUNERS)),
    Setting("study.seed_defaults", bool, False, "Enqueue each chosen optimizer at its PyTorch "
            "defaults as the first trials."),
    Setting("study.heartbeat_interval", int, 10, "Seconds between a running trial's heartbeats.",
            check=_at_least(1)),
    Setting("study.grace_period", int, 30, "Seconds without a heartbeat after which a trial is "
            "failed as stale and queued again; at least 2 × heartbeat_interval.",
            check=_at_least(1)),
    Setting("study.max_retry", int, 3, "How often a stale trial is queued again.",
            check=_at_least(0)),
    Setting("model.name", str, "auto", "auto: mlp for classification, regression for "
            "regression. Ignored for surface tasks.", choices=("auto", *MODELS)),
    Setting("model.hidden", list, [64], "Hidden layer widths, e.g. [128] or [64, 32]; [] for "
            "none.", check=lambda v: None if all(isinstance(h, int) and not isinstance(h, bool)
                                                 and h > 0 for h in v)
            else "must be a list of positive integers"),
    Setting("model.activation", str, "relu", "Hidden layers' activation.",
            choices=("relu", "tanh")),
    Setting("training.epochs", int, 20, "Epochs per trial (surface tasks: "
            "steps_per_epoch full-gradient steps each).", check=_at_least(1)),
    Setting("training.batch_size", int, 32, "Minibatch size.", check=_at_least(1)),
    Setting("training.metric", str, "auto", "What a trial is judged by, on the validation split; "
            "auto: accuracy (classification), r2 (regression), loss (surfaces). A regression "
            "target is standardised with training statistics: mse and loss are in units of its "
            "variance (mse 0.5 = half the target's variance), r2 is unchanged.",
            choices=("auto", *METRICS)),
    Setting("training.direction", str, "auto", "auto: the metric's own direction.",
            choices=("auto", "maximize", "minimize")),
    Setting("training.dtype", str, "float64", "Floating-point type of data and parameters.",
            choices=("float64", "float32")),
    Setting("training.steps_per_epoch", int, 100, "Surface tasks: optimizer steps per epoch.",
            check=_at_least(1)),
    Setting("search.optimizers", list, ["sgd", "momentum", "adam"], "Optimizers to choose from.",
            choices=tuple(OPTIMIZERS)),
    Setting("search.schedules", list, ["constant"], "LR schedules to choose from.",
            choices=tuple(SCHEDULES)),
)
SETTINGS_BY_KEY = {s.key: s for s in SETTINGS}
SECTIONS = ("study", "model", "training", "search")
SEARCH_HELP = {
    "lr": ("[1e-4, 1.0]", "The LR range (log scale) for every optimizer; search.OPTIMIZER.lr "
           "overrides it for one."),
    "warmup_epochs": ("0", "Epochs of linear warm-up before step, exponential or cosine."),
    "ARGUMENT": (None, "An optimizer argument under its PyTorch name (momentum, dampening, alpha, "
                 "rho, eps, weight_decay, lr_decay, beta1, beta2, …) for every chosen optimizer "
                 "that takes it."),
    "OPTIMIZER.ARGUMENT": (None, "The same for one optimizer only, e.g. search.adamw.weight_decay."),
    "SCHEDULE.ARGUMENT": (None, "A schedule's argument: step (step_size, gamma), exponential "
                          "(gamma), cosine (eta_min; T_max = epochs − warm-up), plateau (factor, "
                          "patience, threshold, cooldown, min_lr)."),
}


@dataclass(frozen=True)
class Spec:
    """A validated study spec. ``spec["training.epochs"]`` reads a setting (defaults filled)."""

    source: str
    values: dict
    space: SearchSpace

    def __getitem__(self, key: str):
        return self.values[key]

    @property
    def name(self) -> str:
        return self.values["study.name"]

    def to_json(self) -> dict:
        """Everything that defines the study's trials, as stored with the study."""
        return {"settings": dict(sorted(self.values.items())), "search": self.space.to_json()}

    @property
    def hash(self) -> str:
        """sha256 of :meth:`to_json` less what does not change a trial: the budget and time
        limit (which a command may change) and the heartbeat and retry settings."""
        data = self.to_json()
        for key in OPERATIONAL:
            data["settings"].pop(key, None)
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()

    def with_values(self, **overrides) -> Spec:
        """A copy with settings replaced, e.g. ``spec.with_values(**{"study.n_trials": 10})``."""
        return Spec(self.source, {**self.values, **overrides}, self.space)


def load_spec(path: str | Path) -> Spec:
    """Read and validate a spec file (UTF-8, a byte-order mark allowed); raises
    :class:`SpecError` listing every defect."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as e:
        raise SpecError([f"{path}: cannot read the spec ({e.strerror or e})"]) from None
    except UnicodeDecodeError as e:
        raise SpecError([f"{path}: the spec is not UTF-8 text ({e.reason} at byte {e.start}; "
                         "allowed: a TOML file in UTF-8)"]) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise SpecError([f"{path}: TOML syntax error: {e}"]) from None
    return parse_spec(raw, str(path))


def parse_spec(raw: dict, source: str = "<spec>") -> Spec:
    """Validate a spec given as a dict (as read from TOML)."""
    problems: list[str] = []

    def problem(key: str, text: str) -> None:
        problems.append(f"{source}: {key}: {text}")

    raw = _without_times(raw, "", problem)

    for section in raw:
        if section not in SECTIONS:
            problem(section, f"unknown section{_suggest(section, SECTIONS)} (allowed: "
                    f"{', '.join(SECTIONS)})")
        elif not isinstance(raw[section], dict):
            problem(section, f"must be a table [{section}]")
    values = {}
    for setting in SETTINGS:
        section, name = setting.key.split(".")
        table = raw.get(section) if isinstance(raw.get(section), dict) else {}
        if name not in table:
            if setting.default is REQUIRED and isinstance(raw.get(section, {}), dict):
                problem(setting.key, "is required" + (f" (e.g. {name} = {setting.example})"
                                                      if setting.example else ""))
            values[setting.key] = setting.default
            continue
        value, text = _check_setting(setting, table[name])
        if text:
            problem(setting.key, text)
        values[setting.key] = value
    for section in ("study", "model", "training"):
        table = raw.get(section)
        if isinstance(table, dict):
            known = [k.split(".")[1] for k in SETTINGS_BY_KEY if k.startswith(section + ".")]
            for key in table:
                if key not in known:
                    problem(f"{section}.{key}", f"unknown key{_suggest(key, known)} (allowed: "
                            f"{', '.join(known)})")
    search = raw.get("search") if isinstance(raw.get("search"), dict) else {}
    space = _parse_search(search, values, problem)
    _check_task(values["study.task"], problem)
    study = raw.get("study") if isinstance(raw.get("study"), dict) else {}
    task = values["study.task"]
    if isinstance(task, str) and task in TASKS:
        for key in ("target", "kind"):          # one line a key: a bad value said already
            if key in study and not any(p.startswith(f"{source}: study.{key}: ")
                                        for p in problems):
                problem(f"study.{key}", f"applies to your own data only, and {task!r} is a "
                        "built-in task (allowed: leave it out)")
    interval, grace = values["study.heartbeat_interval"], values["study.grace_period"]
    said = any(p.startswith((f"{source}: study.heartbeat_interval: ",
                             f"{source}: study.grace_period: ")) for p in problems)
    if not said and grace < 2 * interval:
        problem("study.grace_period", f"{grace} is under two heartbeat intervals "
                f"(heartbeat_interval = {interval}): healthy trials would be failed as stale "
                f"(allowed: at least {2 * interval})")
    if problems:
        raise SpecError(problems)
    return Spec(source, values, space)


def _without_times(table: dict, prefix: str, problem) -> dict:
    """``table`` without its TOML dates and times, each reported (no setting takes one)."""
    kept = {}
    for key, value in table.items():
        full = f"{prefix}{key}"
        items = value.get("values") if isinstance(value, dict) else value
        items = items if isinstance(items, list) else [items]
        if any(isinstance(v, (datetime.date, datetime.time)) for v in items):
            problem(full, f"{value!r} holds a date or time (allowed: numbers, strings, true "
                    "or false)")
        elif isinstance(value, dict):
            kept[key] = _without_times(value, f"{full}.", problem)
        else:
            kept[key] = value
    return kept


def _check_setting(setting: Setting, value) -> tuple[Any, str | None]:
    types = setting.type if isinstance(setting.type, tuple) else (setting.type,)
    ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
    if float in types and isinstance(value, int) and not isinstance(value, bool):
        ok = True
    if not ok:       # the other checks go on from the default (a list read, not a number)
        return setting.default, f"{value!r} is not {setting.type_name}" + _allowed(setting)
    if setting.choices is not None:
        items = value if isinstance(value, list) else [value]
        bad = [v for v in items if v not in setting.choices]
        if bad or (isinstance(value, list) and not value):
            what = "is empty" if not bad else f"{', '.join(map(repr, bad))} is not allowed"
            return value, f"{what}{_suggest(str(bad[0]), setting.choices) if bad else ''}" \
                          f"{_allowed(setting)}"
        if isinstance(value, list) and len(set(value)) != len(value):
            return value, f"{value!r} lists a name twice"
    if setting.check is not None:
        text = setting.check(value)
        if text:
            return value, f"{value!r} {text}"
    return value, None


def _allowed(setting: Setting) -> str:
    if setting.choices is not None:
        return f" (allowed: {', '.join(setting.choices)})"
    return f" (allowed: {setting.type_name})"


def _suggest(word: str, options) -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _parse_search(search: dict, values: dict, problem) -> SearchSpace:
    """Build the search space from ``[search]``, reporting every bad key or value once."""
    # the valid names given, else the defaults: no line about a choice the user never made
    optimizers = ([o for o in values["search.optimizers"]
                   if isinstance(o, str) and o in OPTIMIZERS]
                  or SETTINGS_BY_KEY["search.optimizers"].default)
    schedules = ([s for s in values["search.schedules"] if isinstance(s, str) and s in SCHEDULES]
                 or SETTINGS_BY_KEY["search.schedules"].default)
    epochs = values["training.epochs"] if isinstance(values["training.epochs"], int) else 1
    reported: set[str] = set()

    def report(key: str, text: str) -> None:            # one line per spec key
        if key not in reported:
            reported.add(key)
            problem(key, text)

    def dimension(key: str, raw) -> Dimension | None:
        try:
            return parse_dimension(key.rsplit(".", 1)[-1], raw)
        except ValueError as e:
            report(key, str(e))
            return None

    # (owner, argument) → (spec key, dimension); owners are optimizer or schedule names
    entries: dict[tuple[str, str], tuple[str, Dimension]] = {}
    lr = dimension("search.lr", search.get("lr", [1e-4, 1.0]))
    for o in optimizers:
        if lr is not None:
            entries[o, "lr"] = ("search.lr", lr)
    for s in schedules:
        for a, v in schedule_arguments(s).items():
            if a in ("gamma", "eta_min", "factor", "patience"):
                entries[s, a] = (f"search.{s}.{a}", Dimension(value=v))
    warmup = Dimension(value=0)
    all_args = {a for o in OPTIMIZERS for a in optimizer_arguments(o)}
    tables = {}
    for key, raw in search.items():
        full = f"search.{key}"
        if key in ("optimizers", "schedules", "lr"):
            continue
        if key == "warmup_epochs":
            warmup = dimension(full, raw) or warmup
            _validate_warmup(full, warmup, schedules, epochs, report)
        elif key in all_args and is_value_form(raw):     # "momentum": argument, not table
            takers = [o for o in optimizers if key in optimizer_arguments(o)]
            if not takers:
                report(full, f"none of the chosen optimizers ({', '.join(optimizers)}) takes "
                       f"{key!r}")
            elif (dim := dimension(full, raw)) is not None:
                for o in takers:
                    entries[o, key] = (full, dim)
        elif key in OPTIMIZERS or key in SCHEDULES:
            if not isinstance(raw, dict):
                report(full, f"must be a table [search.{key}] of {key}'s own arguments")
            elif key in OPTIMIZERS and key not in optimizers:
                report(full, f"{key!r} is not in search.optimizers ({', '.join(optimizers)})")
            elif key in SCHEDULES and key not in schedules:
                report(full, f"{key!r} is not in search.schedules ({', '.join(schedules)})")
            else:
                tables[key] = raw
        else:
            known = ["optimizers", "schedules", "lr", "warmup_epochs", *OPTIMIZERS, *SCHEDULES,
                     *sorted(all_args)]
            report(full, f"unknown key{_suggest(key, known)} (allowed: optimizers, schedules, "
                   "lr, warmup_epochs, an optimizer's argument, or a table named after an "
                   "optimizer or a schedule)")
    for owner, table in tables.items():          # per-optimizer / per-schedule values win
        allowed = optimizer_arguments(owner) if owner in OPTIMIZERS else schedule_arguments(owner)
        for arg, sub in table.items():
            key = f"search.{owner}.{arg}"
            if arg not in allowed:
                report(key, f"{owner} has no argument {arg!r}{_suggest(arg, allowed)} "
                       f"(allowed: {', '.join(allowed) or 'none'})")
            elif (dim := dimension(key, sub)) is not None:
                entries[owner, arg] = (key, dim)
    first_use: dict[str, tuple[str, Dimension]] = {}
    for (owner, arg), (key, dim) in entries.items():
        text = (_optimizer_problem(owner, arg, dim) if owner in OPTIMIZERS
                else _schedule_problem(owner, arg, dim, epochs))
        if text:
            report(key, text)
        if values["study.sampler"] == "grid" and dim.low is not None:
            report(key, "the grid sampler needs a list of values, not a range "
                   "(write {values = [...]})")
        if dim.optuna_kind() is not None:            # Optuna: one distribution per name
            other_key, other = first_use.setdefault(arg, (key, dim))
            if other.optuna_kind() != dim.optuna_kind():
                report(key, f"{_describe(dim)} conflicts with {other_key} = {_describe(other)}: "
                       f"Optuna keeps one distribution per parameter name {arg!r} (allowed: "
                       "the same list of values everywhere, or ranges of one kind and scale)")
    space = SearchSpace(_choice(optimizers),
                        {o: {a: d for (w, a), (_, d) in entries.items() if w == o}
                         for o in optimizers}, _choice(schedules),
                        {s: {a: d for (w, a), (_, d) in entries.items() if w == s}
                         for s in schedules}, warmup)
    if values["study.sampler"] == "grid" and values["study.seed_defaults"] is True:
        report("study.seed_defaults", "the grid sampler tries its own combinations, and "
               "PyTorch's defaults need not be among them (allowed: false with the grid "
               "sampler; list the defaults' values in [search] instead)")
    if values["study.sampler"] == "grid":
        for name, dim in (("search.optimizers", space.optimizers),
                          ("search.schedules", space.schedules),
                          ("search.warmup_epochs", space.warmup_epochs)):
            if dim.low is not None:
                report(name, "the grid sampler needs a list of values, not a range "
                       "(write {values = [...]})")
    return space


def _describe(dim: Dimension) -> str:
    if dim.choices is not None:
        return f"{{values = {list(dim.choices)!r}}}"
    scale = "log" if dim.log else "linear"
    return f"a {scale} {'integer' if dim.integer else 'float'} range"


def _choice(names: list[str]) -> Dimension:
    return Dimension(choices=tuple(names)) if len(names) > 1 else Dimension(value=names[0])


def _optimizer_problem(optimizer: str, arg: str, dim: Dimension) -> str | None:
    """Build the optimizer at each end of the range; the core names what it refuses."""
    for value in dim.candidates():
        hyper = ({"betas": _betas(optimizer, arg, value)} if arg in ("beta1", "beta2")
                 else {arg: value})
        try:
            create(optimizer, [np.zeros(1)], **hyper)
        except (ValueError, TypeError) as e:
            return f"{value!r} is refused by {optimizer}: {e}"
    return None


def _betas(optimizer: str, arg: str, value):
    beta1, beta2 = OPTIMIZERS[optimizer].hyperparameters()["betas"]
    return (value, beta2) if arg == "beta1" else (beta1, value)


def _schedule_problem(schedule: str, arg: str, dim: Dimension, epochs: int) -> str | None:
    for value in dim.candidates():
        needs = {"step_size": 1} if schedule == "step" else {}
        try:
            create_schedule(schedule, create("sgd", [np.zeros(1)], lr=0.1), epochs=max(epochs, 2),
                            **{**needs, arg: value})
        except (ValueError, TypeError) as e:
            return f"{value!r} is refused by {schedule}: {e}"
    return None


def _validate_warmup(key, dim, schedules, epochs, problem) -> None:
    for value in dim.candidates():
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < epochs:
            problem(key, f"{value!r} is not allowed (allowed: whole epochs, 0 <= warmup_epochs < "
                    f"training.epochs = {epochs})")
            return
    if dim.searched or dim.value:
        if not any(s in WARMUP_SCHEDULES for s in schedules):
            problem(key, f"warm-up applies only to {', '.join(WARMUP_SCHEDULES)}, none of which "
                    "is in search.schedules")


def _check_task(task, problem) -> None:
    if isinstance(task, str) and not is_user_data(task) and task not in TASKS:
        problem("study.task", f"unknown task {task!r}{_suggest(task, TASKS)} (allowed: "
                f"{', '.join(TASKS)}; or a .csv/.npy/.npz file, or module:function)")


def settings_markdown() -> str:
    """The settings table of ``docs/spec.md``, made from :data:`SETTINGS`."""
    rows = ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
    for s in SETTINGS:
        default = "required" if s.default is REQUIRED else json.dumps(s.default)
        allowed = f" One of: {', '.join(s.choices)}." if s.choices else ""
        kind = s.type_name.replace("an ", "").replace("a ", "")
        rows.append(f"| `{s.key}` | {kind} | {default} | {s.help}{allowed} |")
    for key, (default, text) in SEARCH_HELP.items():
        rows.append(f"| `search.{key}` | value or range | {default or '—'} | {text} |")
    return "\n".join(rows) + "\n"

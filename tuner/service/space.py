"""The search space: which optimizer, LR, optimizer arguments, schedule and warm-up a trial tries.

Optuna parameter names are PyTorch's argument names (``lr``, ``momentum``, ``weight_decay``,
``beta1``/``beta2`` for ``betas``, ``step_size``, ``gamma``, ``factor``, ``patience`` …) plus
``optimizer``, ``schedule`` and ``warmup_epochs``; an argument is suggested only in trials of
the optimizer or schedule it belongs to.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

from ..optim import OPTIMIZERS
from ..schedules import SCHEDULES

LOG_SCALE = frozenset({"lr", "eps", "weight_decay", "lr_decay", "initial_accumulator_value",
                       "eta_min", "min_lr", "switch_eps"})
"""Arguments searched on a log scale when given as ``[low, high]``."""

INTEGER_ARGS = frozenset({"step_size", "patience", "cooldown", "warmup_epochs"})
"""Arguments searched over whole numbers; every other range is over floats."""

RANGE_KEYS = frozenset({"low", "high", "log", "values"})

SCHEDULE_DEFAULTS = {
    "step": {"gamma": 0.5},               # step_size defaults to epochs // 3
    "exponential": {"gamma": 0.95},
    "cosine": {"eta_min": 0.0},
    "plateau": {"factor": 0.5, "patience": 3},
}
"""What a schedule uses for an argument the spec leaves out (the lecture's halving for plateau)."""

WARMUP_SCHEDULES = ("step", "exponential", "cosine")


def optimizer_arguments(name: str) -> dict[str, Any]:
    """The arguments a study may set for optimizer ``name`` with their defaults; ``betas``
    appears as ``beta1`` and ``beta2``."""
    out = {}
    for arg, default in OPTIMIZERS[name].hyperparameters().items():
        if arg == "betas":
            out["beta1"], out["beta2"] = default
        else:
            out[arg] = default
    return out


def schedule_arguments(name: str) -> dict[str, Any]:
    """The arguments a study may set for schedule ``name`` (``T_max`` and plateau's ``mode`` and
    ``eps`` are tuner's to set), with the defaults tuner uses."""
    cls = SCHEDULES[name]
    if cls is None:
        return {}
    skip = {"self", "optimizer", "T_max", "mode", "eps"}
    args = {k: p.default for k, p in inspect.signature(cls.__init__).parameters.items()
            if k not in skip}
    return {**args, **SCHEDULE_DEFAULTS.get(name, {})}


@dataclass(frozen=True)
class Dimension:
    """One hyperparameter: a fixed ``value``, a ``low``–``high`` range (``log``, ``integer``), or
    a list of ``choices``."""

    value: Any = None
    low: float | None = None
    high: float | None = None
    log: bool = False
    integer: bool = False
    choices: tuple | None = None

    @property
    def searched(self) -> bool:
        return self.low is not None or (self.choices is not None and len(self.choices) > 1)

    def contains(self, value) -> bool:
        """Whether ``value`` is one this dimension can take (defaults outside it are left to
        the sampler)."""
        if self.choices is not None:
            return value in self.choices
        if self.low is None:
            return value == self.value
        return (isinstance(value, (int, float)) and not isinstance(value, bool)
                and self.low <= value <= self.high)

    def candidates(self) -> list:
        """Values to validate: the fixed value, both ends of a range, or every choice."""
        if self.choices is not None:
            return list(self.choices)
        return [self.low, self.high] if self.low is not None else [self.value]

    def suggest(self, trial, name: str):
        if self.choices is not None:
            return (trial.suggest_categorical(name, list(self.choices)) if len(self.choices) > 1
                    else self.choices[0])
        if self.low is None:
            return self.value
        if self.integer:
            return trial.suggest_int(name, int(self.low), int(self.high), log=self.log)
        return trial.suggest_float(name, float(self.low), float(self.high), log=self.log)

    def optuna_kind(self):
        """What Optuna requires to be the same wherever a parameter name is used: the kind of
        distribution and its log flag, or the exact list of choices; None when not searched."""
        if not self.searched:
            return None
        if self.choices is not None:
            return ("values", tuple(self.choices))
        return ("int" if self.integer else "float", self.log)

    def to_json(self):
        if self.choices is not None:
            return {"values": list(self.choices)}
        if self.low is None:
            return self.value
        return {"low": self.low, "high": self.high, "log": self.log}


def parse_dimension(name: str, raw) -> Dimension:
    """Read a spec value: a scalar (fixed), ``[low, high]`` (a range, log scale for the names in
    :data:`LOG_SCALE`), ``{low, high, log}`` or ``{values = [...]}``. Raises ``ValueError``."""
    if isinstance(raw, dict):
        unknown = sorted(set(raw) - {"low", "high", "log", "values"})
        if unknown:
            raise ValueError(f"unknown field {', '.join(unknown)} (allowed: low, high, log; "
                             "or values)")
        if "values" in raw:
            values = raw["values"]
            if set(raw) != {"values"} or not isinstance(values, list) or not values:
                raise ValueError("'values' must be a non-empty list, alone")
            return Dimension(choices=tuple(values))
        if "low" not in raw or "high" not in raw:
            raise ValueError("a range needs both low and high")
        return _range(name, raw["low"], raw["high"], raw.get("log", name in LOG_SCALE))
    if isinstance(raw, list):
        if len(raw) != 2:
            raise ValueError(f"{raw!r} is not a range (allowed: [low, high], or {{values = [...]}} "
                             "for a list of choices)")
        return _range(name, raw[0], raw[1], name in LOG_SCALE)
    return Dimension(value=raw)


def is_value_form(raw) -> bool:
    """Whether a spec value is a value or range (as opposed to a table of arguments)."""
    return not isinstance(raw, dict) or (bool(raw) and set(raw) <= RANGE_KEYS)


def _range(name, low, high, log) -> Dimension:
    numbers = (int, float)
    if (not isinstance(low, numbers) or not isinstance(high, numbers)
            or isinstance(low, bool) or isinstance(high, bool)):
        raise ValueError(f"range [{low!r}, {high!r}] needs two numbers")
    integer = name in INTEGER_ARGS
    if integer and not (isinstance(low, int) and isinstance(high, int)):
        raise ValueError(f"range [{low!r}, {high!r}] needs whole numbers for {name}")
    if not isinstance(log, bool):
        raise ValueError(f"log = {log!r} is not true or false")
    if not low < high:
        raise ValueError(f"range [{low!r}, {high!r}] needs low < high")
    if log and low <= 0:
        raise ValueError(f"range [{low!r}, {high!r}] is on a log scale and needs low > 0 "
                         "(write {low = ..., high = ..., log = false} for a linear range)")
    if not integer:
        low, high = float(low), float(high)
    return Dimension(low=low, high=high, log=log, integer=integer)


@dataclass(frozen=True)
class SearchSpace:
    """Per optimizer and per schedule, the dimensions the spec sets (fixed or searched)."""

    optimizers: Dimension
    optimizer_dims: dict[str, dict[str, Dimension]]     # optimizer → argument → dimension
    schedules: Dimension
    schedule_dims: dict[str, dict[str, Dimension]]      # schedule → argument → dimension
    warmup_epochs: Dimension = field(default_factory=lambda: Dimension(value=0))

    def suggest(self, trial, epochs: int) -> dict:
        """Ask ``trial`` for one configuration; returns it fully resolved (see :func:`resolve`)."""
        optimizer = self.optimizers.suggest(trial, "optimizer")
        chosen = {arg: dim.suggest(trial, arg) for arg, dim in self.optimizer_dims[optimizer].items()}
        schedule = self.schedules.suggest(trial, "schedule")
        sched_args = {arg: dim.suggest(trial, arg)
                      for arg, dim in self.schedule_dims.get(schedule, {}).items()}
        warmup = (self.warmup_epochs.suggest(trial, "warmup_epochs")
                  if schedule in WARMUP_SCHEDULES else 0)
        return resolve(optimizer, chosen, schedule, sched_args, warmup, epochs)

    def default_trials(self) -> list[dict]:
        """Optuna params of one trial per chosen optimizer at PyTorch's defaults (``seed_defaults``)."""
        schedules = self.schedules.candidates()
        schedule = "constant" if "constant" in schedules else schedules[0]
        out = []
        for optimizer in self.optimizers.candidates():
            defaults = optimizer_arguments(optimizer)
            params = {"optimizer": optimizer} if self.optimizers.searched else {}
            params.update({arg: defaults[arg] for arg, dim in self.optimizer_dims[optimizer].items()
                           if dim.searched and dim.contains(defaults[arg])})
            if self.schedules.searched:
                params["schedule"] = schedule
            out.append(params)
        return out

    def grid(self) -> dict[str, list]:
        """Every searched dimension's values, for the grid sampler (all must be ``values`` lists)."""
        return {name: dim.candidates() for name, dim in self.named_dimensions() if dim.searched}

    def named_dimensions(self):
        """``(optuna name, dimension)`` for every dimension, optimizer's and schedule's."""
        yield "optimizer", self.optimizers
        for dims in self.optimizer_dims.values():
            yield from dims.items()
        yield "schedule", self.schedules
        for dims in self.schedule_dims.values():
            yield from dims.items()
        yield "warmup_epochs", self.warmup_epochs

    def to_json(self) -> dict:
        return {"optimizers": self.optimizers.to_json(),
                "optimizer_args": {o: {a: d.to_json() for a, d in dims.items()}
                                   for o, dims in self.optimizer_dims.items()},
                "schedules": self.schedules.to_json(),
                "schedule_args": {s: {a: d.to_json() for a, d in dims.items()}
                                  for s, dims in self.schedule_dims.items()},
                "warmup_epochs": self.warmup_epochs.to_json()}


def resolve(optimizer: str, chosen: dict, schedule: str, sched_args: dict, warmup: int,
            epochs: int) -> dict:
    """A complete, JSON-able configuration: the optimizer's arguments as PyTorch names them
    (``betas`` rebuilt from ``beta1``/``beta2``, the registry's fixed flags included) and the
    schedule's, with ``step_size`` defaulting to ``epochs // 3``."""
    entry = OPTIMIZERS[optimizer]
    args = {**entry.defaults, **{k: v for k, v in chosen.items() if k not in ("beta1", "beta2")}}
    if "beta1" in chosen or "beta2" in chosen:
        beta1, beta2 = entry.hyperparameters()["betas"]
        args["betas"] = [chosen.get("beta1", beta1), chosen.get("beta2", beta2)]
    lr = args.pop("lr", entry.hyperparameters()["lr"])
    sched = dict(sched_args)
    if schedule == "step":
        sched.setdefault("step_size", max(1, (epochs - warmup) // 3))
    return {"optimizer": optimizer, "lr": lr, "optimizer_args": {**args, **entry.fixed},
            "schedule": schedule, "schedule_args": sched, "warmup_epochs": warmup}

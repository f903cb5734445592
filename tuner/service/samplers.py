"""The names studies use for Optuna samplers and pruners, each mapped to a factory."""

from __future__ import annotations

from types import MappingProxyType

import optuna


def _grid(seed, space):
    return optuna.samplers.GridSampler(space.grid(), seed=seed)


SAMPLERS = MappingProxyType({
    "tpe": lambda seed, space: optuna.samplers.TPESampler(seed=seed),
    "random": lambda seed, space: optuna.samplers.RandomSampler(seed=seed),
    "cmaes": lambda seed, space: optuna.samplers.CmaEsSampler(
        seed=seed, independent_sampler=optuna.samplers.TPESampler(seed=seed)),
    "qmc": lambda seed, space: optuna.samplers.QMCSampler(seed=seed),
    "grid": _grid,
})
"""Sampler name → ``factory(seed, search_space)``. CMA-ES searches the numeric parameters
shared by all trials and leaves the conditional ones to TPE."""

PRUNERS = MappingProxyType({
    "median": lambda: optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=2),
    "percentile": lambda: optuna.pruners.PercentilePruner(25.0, n_startup_trials=5,
                                                          n_warmup_steps=2),
    "successive_halving": lambda: optuna.pruners.SuccessiveHalvingPruner(),
    "hyperband": lambda: optuna.pruners.HyperbandPruner(),
    "none": lambda: optuna.pruners.NopPruner(),
})
"""Pruner name → factory. Median and percentile wait for 5 finished trials and 2 epochs."""


def make_sampler(name: str, seed: int, space) -> optuna.samplers.BaseSampler:
    return SAMPLERS[name](seed, space)


SEEDED_PER_TRIAL = frozenset({"tpe", "random", "cmaes"})
"""Samplers whose draws come from their own random state alone: worker processes seeded alike
would draw the same configurations, so each trial is sampled by a sampler seeded with the
study's seed plus the trial's number (unique in the study, and the same in a rerun). QMC and
grid keep the study's seed: they share one sequence through the study's storage."""


def trial_sampler(name: str, seed: int, space, number: int) -> optuna.samplers.BaseSampler | None:
    """The sampler for trial ``number`` (see :data:`SEEDED_PER_TRIAL`), or None to keep the
    study's."""
    return make_sampler(name, seed + number, space) if name in SEEDED_PER_TRIAL else None


def make_pruner(name: str) -> optuna.pruners.BasePruner:
    return PRUNERS[name]()

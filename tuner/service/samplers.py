"""The names studies use for Optuna samplers and pruners, each mapped to a factory."""

from __future__ import annotations

import math
from collections.abc import Iterable
from types import MappingProxyType

import optuna
from optuna.samplers._lazy_random_state import LazyRandomState
from optuna.trial import FrozenTrial


class GridSampler(optuna.samplers.GridSampler):
    """Optuna's grid sampler for workers that ask and tell. Optuna's own ``after_trial`` calls
    ``study.stop()`` once every point of the grid is taken, which only ``study.optimize``
    allows: told outside it, the last trial's tell raised and was undone, and the worker died.
    Here ``after_trial`` does nothing, and the worker stops asking when :meth:`points_left`
    is 0."""

    def __init__(self, search_space: dict[str, list], seed: int | None = None):
        super().__init__(search_space, seed=seed)
        self.size = math.prod(len(values) for values in search_space.values())

    def after_trial(self, study, trial, state, values) -> None:
        pass

    def points_left(self, trials: Iterable[FrozenTrial]) -> int:
        """Points of the grid that no trial has taken yet. A trial keeps its point (Optuna's
        ``grid_id`` system attribute) whatever its state, as Optuna's grid sampler counts
        them; a failed trial's retry carries the same point."""
        return self.size - len({t.system_attrs["grid_id"] for t in trials
                                if "grid_id" in t.system_attrs})


def _grid(seed, space):
    return GridSampler(space.grid(), seed=seed)


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
would draw the same configurations, so each trial is sampled as by a sampler seeded with the
study's seed plus the trial's number (unique in the study, and the same in a rerun). Grid keeps
the study's seed: its points are shared through the study's storage. So are QMC's points (one
scrambled sequence, whose seed every worker keeps), but QMC draws what its sequence does not
cover (conditional parameters, and every parameter before a trial's space is known) with a
random sampler: that one is reseeded per trial, as Optuna's own ``QMCSampler.reseed_rng``
does."""


def seed_for_trial(sampler: optuna.samplers.BaseSampler, name: str, seed: int,
                   number: int) -> None:
    """Before trial ``number``, give the study's ``sampler`` (made by :func:`make_sampler` for
    ``name``) the random state that ``make_sampler(name, seed + number, …)`` would start with (see
    :data:`SEEDED_PER_TRIAL`); for QMC, only its random sampler's; grid is left as it is.

    Reseeding in place, rather than a fresh sampler for each trial, keeps what a sampler caches
    across trials: TPE's and CMA-ES's search-space intersection, which a fresh sampler computes
    again over every finished trial of the study (about 7 ms a trial at 1 000 trials).
    """
    if name in SEEDED_PER_TRIAL:
        _reseed(sampler, seed + number)
    elif name == "qmc":
        _reseed(sampler._independent_sampler, seed + number)


def _reseed(sampler: optuna.samplers.BaseSampler, seed: int) -> None:
    """Set the random states the constructors of these Optuna samplers set from ``seed``, as
    they set them (tests/test_space.py checks the draws against fresh samplers')."""
    if isinstance(sampler, optuna.samplers.TPESampler):
        sampler._rng = LazyRandomState(seed)
        _reseed(sampler._random_sampler, seed)
    elif isinstance(sampler, optuna.samplers.RandomSampler):
        sampler._rng = LazyRandomState(seed)
    elif isinstance(sampler, optuna.samplers.CmaEsSampler):
        sampler._cma_rng = LazyRandomState(seed)
        _reseed(sampler._independent_sampler, seed)
    else:
        raise TypeError(f"cannot reseed a {type(sampler).__name__}")


def make_pruner(name: str) -> optuna.pruners.BasePruner:
    return PRUNERS[name]()

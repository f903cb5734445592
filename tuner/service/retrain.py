"""Re-training a study's top configurations on fresh seeds, and choosing among them.

A trial is judged by one run on one validation split; on a small one (digits: 270 images)
several trials tie and the winner is partly the luck of its seed. :func:`retrain_top` takes
the ``top`` best complete trials (:func:`top_trials`), re-trains each configuration on the same
``seeds`` fresh seeds (:func:`tuner.retrain.retrain`, on the training split as the trials were)
and chooses the one with the lowest mean final validation loss — a smoother criterion than a
270-image accuracy; a configuration with a diverged run comes after every one without. The
test split only scores the runs: the chosen configuration's mean test metric and its 95%
confidence interval are reported, never used to choose.

The record is kept in the study's user attribute ``retrain``: ``chosen`` (trial number),
``candidates`` (trial numbers, best first), ``seeds``, ``spec_hash``, and per candidate
``trial`` and :meth:`tuner.retrain.Retrained.to_dict` (means, ``ci95``, ``diverged`` and every
run's seed, LR, curve, validation and test metrics).

Fresh seeds are ``study.seed + FRESH_SEED_OFFSET + i``: a trial's seed is ``study.seed + trial
number``, so no trial of a study with fewer than a million trials shares one.
"""

from __future__ import annotations

import math

import optuna
from optuna.trial import FrozenTrial, TrialState

from ..errors import UnknownStudyError, UsageError
from ..retrain import retrain
from .problem import load_problem
from .spec import Spec
from .storage import open_storage

ATTR = "retrain"
FRESH_SEED_OFFSET = 1_000_000
SEEDS = 5          # runs per configuration
TOP = 5            # configurations re-trained


def fresh_seeds(study_seed: int, n: int) -> list[int]:
    """The ``n`` seeds of a re-training: never the seed of one of the study's trials."""
    return [study_seed + FRESH_SEED_OFFSET + i for i in range(n)]


def rank_key(value: float, final_val_loss: float | None, number: int, direction: str) -> tuple:
    """A complete trial's place in :func:`top_trials`' order: its value (best first for
    ``direction``, "maximize" or "minimize"), then the lower final validation loss (a missing
    or non-finite one last), then the earlier trial."""
    sign = -1 if direction.lower() == "maximize" else 1
    loss = final_val_loss if final_val_loss is not None and math.isfinite(final_val_loss) \
        else math.inf
    return sign * value, loss, number


def top_trials(study: optuna.Study, k: int) -> list[FrozenTrial]:
    """The ``k`` best complete trials in :func:`rank_key` order."""
    def key(t: FrozenTrial):
        val_loss = (t.user_attrs.get("curve") or {}).get("val_loss") or [None]
        return rank_key(t.value, val_loss[-1], t.number, study.direction.name)

    complete = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))]
    return sorted(complete, key=key)[:k]


def retrain_top(spec: Spec, storage: str | None = None, *, seeds: int = SEEDS,
                top: int = TOP) -> dict:
    """Re-train the spec's study's ``top`` configurations on ``seeds`` fresh seeds, choose one
    (see the module docstring), store the record as the study attribute ``retrain`` and return
    it. A stored record of the same candidates and seeds is returned as it is (launching a
    finished study again trains nothing). Raises :class:`UnknownStudyError` without the study
    or a complete trial, :class:`UsageError` if the study was made from another spec."""
    for name, value in (("seeds", seeds), ("top", top)):
        if value < 1:
            raise UsageError(f"{name}: {value} is not allowed (allowed: 1 or more)")
    try:
        study = optuna.load_study(study_name=spec.name, storage=open_storage(storage))
    except KeyError:
        raise UnknownStudyError(f"no study named {spec.name!r}") from None
    stored_hash = study.user_attrs.get("spec_hash")
    if stored_hash != spec.hash:
        raise UsageError(f"{spec.source}: study {spec.name!r} was created from another spec "
                         f"(hash {str(stored_hash)[:12]}, this spec {spec.hash[:12]})")
    trials = top_trials(study, top)
    if not trials:
        raise UnknownStudyError(f"study {spec.name!r} has no complete trial yet")
    chosen_seeds = fresh_seeds(spec["study.seed"], seeds)
    candidates = [t.number for t in trials]
    stored = study.user_attrs.get(ATTR)
    if stored and (stored["candidates"], stored["seeds"]) == (candidates, chosen_seeds):
        return stored
    problem = load_problem(spec)
    results = [retrain(problem.new_model, problem.data, t.user_attrs["config"],
                       epochs=spec["training.epochs"], batch_size=spec["training.batch_size"],
                       metric=problem.metric, seeds=chosen_seeds) for t in trials]
    best = min(range(len(trials)), key=lambda i: (
        results[i].diverged > 0, math.inf if results[i].val_loss is None else results[i].val_loss))
    record = {"chosen": trials[best].number, "candidates": candidates, "seeds": chosen_seeds,
              "spec_hash": spec.hash,
              "results": [{"trial": t.number, **r.to_dict()} for t, r in zip(trials, results)]}
    study.set_user_attr(ATTR, record)
    return record

"""Pruning decisions without a database read per epoch.

Optuna's median and percentile pruners read the study's trials at every ``should_prune`` (one
query a trial-epoch). tuner hands them a :class:`SnapshotStudy`: the study's direction and
storage as they are, its trials as read once when the trial started (refreshed every
``max_age`` seconds for long trials; a refresh the database does not answer keeps the snapshot
it has), and the running trial with the intermediate values this process holds. The decision is
the pruner's own; it only sees other trials that finished before the last refresh. Successive
halving and Hyperband are asked the ordinary way: successive halving keeps each trial's rungs in
the trial's stored system attributes, reading them to know which rung the trial is at and
writing one as the trial passes it, and Hyperband builds bracket studies of its own.
"""

from __future__ import annotations

import logging
import time

import optuna
from optuna.trial import FrozenTrial, TrialState

from .retry import is_outage, root_cause

log = logging.getLogger("tuner.worker")

SNAPSHOT_PRUNERS = (optuna.pruners.PercentilePruner,
                    optuna.pruners.NopPruner)   # MedianPruner is a PercentilePruner


class SnapshotStudy:
    """The part of ``optuna.Study`` those pruners read, with ``get_trials`` from a snapshot."""

    def __init__(self, study: optuna.Study, trials: list[FrozenTrial], max_age: float = 10.0):
        self._study, self._trials = study, trials
        self._storage, self._study_id = study._storage, study._study_id
        self.direction, self.directions = study.direction, study.directions
        self._taken, self._max_age = time.monotonic(), max_age

    def get_trials(self, deepcopy: bool = True, states=None) -> list[FrozenTrial]:
        if time.monotonic() - self._taken > self._max_age:
            try:
                self._trials = self._study.get_trials(deepcopy=False)
            except Exception as error:
                if not is_outage(error):
                    raise
                log.info("pruning on trials read %.0f s ago: the database did not answer (%s)",
                         time.monotonic() - self._taken, root_cause(error))
            self._taken = time.monotonic()      # a failed refresh is tried again a max_age later
        return [t for t in self._trials if states is None or t.state in states]


def running_trial(trial: optuna.Trial, intermediate_values: dict[int, float]) -> FrozenTrial:
    """The running trial as a FrozenTrial carrying this process's intermediate values."""
    return FrozenTrial(number=trial.number, state=TrialState.RUNNING, value=None,
                       datetime_start=trial.datetime_start, datetime_complete=None,
                       params=trial.params, distributions=trial.distributions, user_attrs={},
                       system_attrs={}, intermediate_values=dict(intermediate_values),
                       trial_id=trial._trial_id)


def decides_locally(pruner: optuna.pruners.BasePruner) -> bool:
    return isinstance(pruner, SNAPSHOT_PRUNERS)

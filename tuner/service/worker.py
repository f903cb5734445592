"""The worker: runs trials of one study until its study-wide budget is met.

Optuna's RDB storage is the only coordination between workers, on one machine or many: each
worker asks the storage for the next trial (a re-queued one first), trains it with a heartbeat,
and tells the result. A worker stops asking once finished trials (complete + pruned) plus
running ones reach the budget (or, with the grid sampler, every point of the grid is taken),
waits while other workers' trials are still running (one may die and be re-queued within the
budget), and exits when none is RUNNING then. A queued (WAITING) trial runs only within the
budget too, so finished trials exceed it by at most the workers' count − 1; one left queued
then runs when the budget is raised. A trial that raises (an error of the code, not of
the spec: specs and data are checked before a worker starts) is told FAIL and stops its worker
with exit 1, as ``study.optimize`` does: workers never fail trial after trial.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
import warnings
from collections import Counter
from dataclasses import dataclass

import optuna
from optuna.study._tell import _tell_with_warning
from optuna.trial import TrialState

from ..errors import RunError, StorageError
from .batch import write_trial_record
from .objective import Objective, TrialInterrupted
from .problem import Problem, load_problem
from .retry import Retry, root_cause
from .samplers import GridSampler, seed_for_trial
from .spec import Spec
from .storage import OneReadStorage, open_storage
from .study import open_study

log = logging.getLogger("tuner.worker")
POLL_SECONDS = 1.0


@dataclass
class WorkerReport:
    """What one worker did: trials it ran by final state, and why it stopped."""

    study: str
    ran: Counter
    reason: str


class Heartbeat:
    """Records the running trial's heartbeat every ``interval`` seconds from a thread (Optuna
    starts one only inside ``study.optimize``; tuner drives trials with ask and tell), the first
    one interval after the start (the trial's first beat is written with its parameters: see
    :meth:`~tuner.service.storage.OneReadStorage.write_start`), and with each beat runs the
    ``janitor``, so stale trials are failed and queued again while every worker is busy."""

    def __init__(self, storage, trial_id: int, interval: int | None, janitor=None):
        self.storage, self.trial_id, self.interval = storage, trial_id, interval
        self.janitor = janitor
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        failing = False
        while not self.stop.wait(self.interval):
            try:
                self.storage.record_heartbeat(self.trial_id)
                if self.janitor is not None:
                    self.janitor()
                failing = False
            except Exception as e:  # noqa: BLE001 - a missed beat is logged once, never fatal
                if not failing:
                    log.warning("heartbeat of trial id %s missed: %s", self.trial_id,
                                root_cause(e))
                failing = True

    def __enter__(self):
        if self.interval:
            self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join()


def count_states(study: optuna.Study) -> Counter:
    return Counter(t.state for t in study.get_trials(deepcopy=False))


class Worker:
    """One worker process's loop over a study; see the module docstring."""

    def __init__(self, spec: Spec, storage_url: str | None = None, *, n_trials: int | None = None,
                 timeout: float | None = None):
        self.problem: Problem = load_problem(spec)  # data once per worker; bad data: nothing written
        self.storage = open_storage(storage_url,
                                    heartbeat_interval=spec["study.heartbeat_interval"],
                                    grace_period=spec["study.grace_period"],
                                    max_retry=spec["study.max_retry"])
        self.reads = OneReadStorage(self.storage)
        self.study = open_study(self.reads, self.problem, n_trials=n_trials, timeout=timeout)
        self.retry = Retry()
        self.objective = Objective(self.problem, retry=self.retry)
        self.stopping = False
        self.janitor_ran = -float("inf")
        self.failure: Exception | None = None     # what made a trial fail, if one did

    def request_stop(self, *_) -> None:
        """Finish (or re-queue) the running trial after its current epoch, then exit."""
        self.stopping = True
        self.objective.stop_requested = True

    def run(self) -> WorkerReport:
        ran: Counter = Counter()
        reason = "budget met"
        while True:
            if self.stopping:
                reason = "stop requested"
                break
            self.retry(self.fail_stale_trials)
            trial, asked = None, False
            with self.reads.one_read():    # the budget, the count, the ask and the sampling
                attrs, states = self.retry(self.status)
                budget, deadline = attrs["n_trials"], attrs.get("deadline")
                finished = states[TrialState.COMPLETE] + states[TrialState.PRUNED]
                running, waiting = states[TrialState.RUNNING], states[TrialState.WAITING]
                grid_done = (isinstance(self.study.sampler, GridSampler) and not
                             self.study.sampler.points_left(self.retry(self.study.get_trials,
                                                                       deepcopy=False)))
                if deadline is not None and time.time() >= deadline:
                    if not running:
                        reason = "time limit reached"
                        break
                elif finished + running < budget and (waiting or not grid_done):
                    trial, asked = self.ask(), True
                    trials = self.retry(self.study.get_trials, deepcopy=False)   # the same read
                elif not running:
                    if grid_done and finished < budget:
                        reason = "every point of the grid tried"
                    break
            if trial is not None:
                ran[self.run_trial(trial, trials).name] += 1
                if self.failure is not None:       # as study.optimize: the error ends the run
                    raise RunError(f"trial {trial.number} failed: "
                                   f"{type(self.failure).__name__}: {root_cause(self.failure)} "
                                   "(its traceback is above); the worker stopped")
            elif not asked:
                time.sleep(POLL_SECONDS)   # others' trials still run: one may come back
        return WorkerReport(self.study.study_name, ran, reason)

    def status(self) -> tuple[dict, Counter]:
        """The study's user attributes (its budget and deadline, which another ``tuner launch``
        may change at any time) and its trials counted by state, read in one transaction."""
        with self.storage.one_transaction(write=False):
            return self.study.user_attrs, count_states(self.study)

    def fail_stale_trials(self) -> None:
        """Fail trials whose worker stopped beating, and queue them again (the janitor): at most
        once per heartbeat interval, from the loop or the heartbeat thread, whichever comes
        first (staleness is judged in grace periods, several intervals long).

        Each stale trial is failed and its retry queued in one transaction, both or neither:
        a janitor killed or cut off in between leaves the trial RUNNING and stale, for the next
        janitor, not failed with no retry (Optuna's ``fail_stale_trials`` commits the failures
        first and queues the retries after them). A trial that another janitor failed, or its
        worker finished, meanwhile is left alone."""
        now, interval = time.monotonic(), self.storage.heartbeat_interval
        if not interval or now - self.janitor_ran < interval:
            return
        for trial_id in self.storage._get_stale_trial_ids(self.study._study_id):
            try:
                with self.storage.one_transaction():
                    if self.storage.set_trial_state_values(trial_id, TrialState.FAIL):
                        self.requeue(trial_id)
            except optuna.exceptions.UpdateFinishedTrialError:
                pass
        self.janitor_ran = now         # a sweep cut short by an outage is run again at once

    def ask(self) -> optuna.Trial | None:
        """A new (or re-queued) trial with its parameters sampled (by the study's sampler
        seeded for this trial: see :func:`~tuner.service.samplers.seed_for_trial`): the
        objective's own ``suggest`` calls then return them without sampling again. None if the
        trial was failed as stale before its start was written (this worker stalled for the
        grace period in between; the janitor that failed it queued it again)."""
        with warnings.catch_warnings():   # tuner records heartbeats itself (see Heartbeat)
            warnings.filterwarnings("ignore", "Heartbeat of storage is supposed")
            trial = self.retry(self.study.ask)
        spec = self.problem.spec
        seed_for_trial(self.study.sampler, spec["study.sampler"], spec["study.seed"],
                       trial.number)      # before the first suggest, which samples
        with self.reads.collecting():
            self.retry(spec.space.suggest, trial, spec["training.epochs"])
        try:
            self.retry(self.reads.write_start, trial._trial_id)   # with the first heartbeat
        except optuna.exceptions.UpdateFinishedTrialError:
            log.warning("trial %d was failed as stale before it started (no heartbeat for the "
                        "grace period); asking for another", trial.number)
            return None
        return trial

    def run_trial(self, trial: optuna.Trial, trials: list) -> TrialState:
        value, state = None, TrialState.COMPLETE
        with Heartbeat(self.storage, trial._trial_id, self.storage.heartbeat_interval,
                       janitor=self.fail_stale_trials):
            try:
                value = self.objective(trial, trials)
            except optuna.TrialPruned as e:
                state = TrialState.PRUNED
                log.info("trial %d pruned: %s", trial.number, e)
            except TrialInterrupted:
                state = TrialState.FAIL
            except optuna.exceptions.UpdateFinishedTrialError:
                return self.discard(trial)
            except StorageError:
                raise                      # the database stayed away: the worker exits 3
            except Exception as e:
                state, self.failure = TrialState.FAIL, e
                log.exception("trial %d failed", trial.number)
        interrupted = (state == TrialState.FAIL and self.objective.stop_requested
                       and self.failure is None)
        try:
            self.retry(self.finish, trial, value, state, requeue=interrupted)
        except (optuna.exceptions.UpdateFinishedTrialError, ValueError) as e:
            if isinstance(e, ValueError) and not str(e).startswith("Cannot tell a"):
                raise
            told = self.retry(self.storage.get_trial, trial._trial_id).state
            if told != state or (state == TrialState.FAIL and not interrupted):
                return self.discard(trial)     # failed as stale (and queued) meanwhile
            # else a retried finish whose first try got through (an interrupted trial was queued
            # with it, or by the janitor that failed it)
        if interrupted:
            log.info("trial %d interrupted and queued again", trial.number)
        return state

    def finish(self, trial: optuna.Trial, value: float | None, state: TrialState, *,
               requeue: bool = False) -> None:
        """Write the trial's final record (:attr:`Objective.record`) and tell its result, and
        with ``requeue`` queue the trial again (:meth:`requeue`), in one transaction. The tell
        is Optuna's own, checks included: a trial no longer RUNNING (failed as stale meanwhile)
        raises ``UpdateFinishedTrialError`` or ``ValueError``, and then nothing is written.
        (It is the function ``study.tell`` and ``study.optimize`` call; ``study.tell`` would
        then read the trial once more, to return it.)"""
        with self.storage.one_transaction():
            if self.objective.record is not None:
                write_trial_record(self.reads, *self.objective.record)
            _tell_with_warning(self.study, trial, value, state)
            if requeue:
                self.requeue(trial._trial_id, interrupted=True)

    def discard(self, trial) -> TrialState:
        log.warning("trial %d was failed as stale while it ran (no heartbeat for the grace "
                    "period); its result is discarded and the trial runs again", trial.number)
        return TrialState.FAIL

    def requeue(self, trial_id: int, *, interrupted: bool = False) -> None:
        """Queue a failed trial again as Optuna's stale-trial retry does — its parameters and
        system attributes, ``failed_trial`` (the first attempt) and ``retry_history`` (every
        attempt) — and at most ``max_retry`` times for failures; a trial ``interrupted`` by a
        stop request did not fail: it is listed in ``interrupted`` too, and always queued again
        (Optuna's callback would count it as a failure, and drop it once ``max_retry`` is used
        up). Written through a throwaway study over the storage rather than the worker's
        study: the caller's transaction may still roll back, and the worker's trial cache would
        keep the trial created (the throwaway study's cache goes with it). Without the failed
        attempt's user attributes (Optuna's callback copies them): its record — curve, epochs,
        metrics, seed — is not the retry's, which writes its own when it runs."""
        frozen = self.storage.get_trial(trial_id)
        attrs = {"failed_trial": frozen.number, "retry_history": [], "interrupted": [],
                 **frozen.system_attrs}
        attrs["retry_history"] = [*attrs["retry_history"], frozen.number]
        if interrupted:
            attrs["interrupted"] = [*attrs["interrupted"], frozen.number]
        failures = len(attrs["retry_history"]) - len(attrs["interrupted"])
        max_retry = self.problem.spec["study.max_retry"]
        if not interrupted and failures > max_retry:
            return
        study = optuna.Study(self.study.study_name, self.storage, sampler=self.study.sampler,
                             pruner=self.study.pruner)
        study.add_trial(optuna.trial.create_trial(
            state=TrialState.WAITING, params=frozen.params, distributions=frozen.distributions,
            system_attrs=attrs))


def run_worker(spec: Spec, storage: str | None = None, *, n_trials: int | None = None,
               timeout: float | None = None, handle_signals: bool = True) -> WorkerReport:
    """Run one worker until the study's budget is met (SIGTERM/SIGINT stop it cleanly)."""
    worker = Worker(spec, storage, n_trials=n_trials, timeout=timeout)
    if handle_signals:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, worker.request_stop)
    return worker.run()

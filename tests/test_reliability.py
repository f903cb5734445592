"""Faults while real workers are mid-trial: workers killed, a database that restarts, stops or
freezes, a dashboard holding a read; and the stale-trial retries that repair them."""

import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Collection
from datetime import datetime, timedelta
from pathlib import Path

import optuna
import pytest
import sqlalchemy

from service_helpers import (ENV, TUNER, finished, rows, start_tuner, states, tuner, wait_for,
                             write_spec)
from tuner import tables
from tuner.dashboard import data
from tuner.dashboard.live import LiveTrials
from tuner.service.spec import load_spec

SCALE_SPEC = Path(__file__).resolve().parent.parent / "deploy" / "scale.toml"

HEARTBEATS = """
SELECT t.number, t.state, h.heartbeat, EXTRACT(EPOCH FROM now() - h.heartbeat) AS age
FROM trials t
JOIN studies s ON s.study_id = t.study_id
LEFT JOIN trial_heartbeats h ON h.trial_id = t.trial_id
WHERE s.study_name = :study AND t.number = ANY(:numbers)
"""
LAST_BEAT_AGE_SQLITE = """
SELECT t.number, (julianday('now') - julianday(h.heartbeat)) * 86400 AS age
FROM trials t
JOIN studies s ON s.study_id = t.study_id
JOIN trial_heartbeats h ON h.trial_id = t.trial_id
WHERE s.study_name = :study AND t.state = 'FAIL'
"""
RUNNING = """
SELECT t.number FROM trials t JOIN studies s ON s.study_id = t.study_id
WHERE s.study_name = :study AND t.state = 'RUNNING'
"""
BEATING = """
SELECT count(*) FROM trials t
JOIN studies s ON s.study_id = t.study_id
JOIN trial_heartbeats h ON h.trial_id = t.trial_id
WHERE s.study_name = :study AND t.state = 'RUNNING'
"""


def retried(trial: optuna.trial.FrozenTrial) -> list[int]:
    """The trial numbers this trial re-runs, first to last (the system attribute Optuna's
    stale-trial retry writes; ``RetryFailedTrialCallback.retry_history``)."""
    return trial.system_attrs.get("retry_history", [])


def beating(url: str, study: str = "cheap") -> int:
    """How many of the study's RUNNING trials have a heartbeat: their workers are past the
    moment between creating a trial and writing its first beat (a worker killed there leaves a
    trial without one, which takes another path)."""
    [(count,)] = rows(url, BEATING, study=study)
    return count


def killed_workers_trial(url: str, study: str, victim, seconds: float = 8.0,
                         earlier: Collection[int] = ()) -> int | None:
    """SIGKILL ``victim`` (a worker process) and return the number of the trial it was running,
    or None if it ran none, from the database: of the trials RUNNING and beating when it
    stopped (the last beat under 3 s old, or none yet), the one whose heartbeat (or its
    absence) no longer moves while every other one's does (heartbeats every second). Trials
    of ``earlier`` victims, and any other already silent then (an earlier victim's, not yet
    failed: at least 5 s apart, kills leave it older than 3 s), are left out; the caller
    checks how soon those are failed. The worker is frozen first (SIGSTOP), so no beat of its
    own lands after the snapshot."""
    victim.send_signal(signal.SIGSTOP)
    running = [n for (n,) in rows(url, RUNNING, study=study) if n not in earlier]
    beats = {n: (beat, age) for n, _, beat, age in rows(url, HEARTBEATS, study=study,
                                                         numbers=running)}
    running = [n for n in running if beats[n][1] is None or beats[n][1] < 3]
    victim.kill()
    victim.wait()
    started = time.monotonic()
    time.sleep(1.5)                       # every live trial beats at least once meanwhile
    while True:
        now = rows(url, HEARTBEATS, study=study, numbers=running)
        still = [n for n, state, beat, _ in now
                 if state not in ("COMPLETE", "PRUNED") and beat == beats.get(n, (None,))[0]]
        if len(still) <= 1 or time.monotonic() - started > seconds:
            break
        time.sleep(0.2)
    assert len(still) <= 1, (f"trials {still} stopped beating after one worker was killed "
                             f"(at the kill: {beats}; now: {now})")
    return still[0] if still else None


def test_a_worker_sigkilled_every_5_seconds_loses_no_trial(tmp_path, postgres_url):
    """4 workers, 120 trials; every 5 s a random one (not the newest, which is still starting
    up) is SIGKILLed and replaced: each trial it was running is failed within 6 s and queued
    again (at most max_retry times), the budget is met with nothing left running, and every
    worker never killed exits 0. The 6 s: the trial's last beat (at most at the kill) + the
    3 s grace + up to one interval (1 s) until a janitor's next sweep + 2 s for a loaded
    machine (a replacement worker starts up meanwhile)."""
    spec = write_spec(tmp_path, task="digits", model="mlp", hidden="[64]", n_trials=120,
                      epochs=200, lr="[1e-3, 1e-2]", study_extra='pruner = "none"')
    max_retry = load_spec(spec)["study.max_retry"]
    rng = random.Random(6)
    workers = [start_tuner("worker", spec, "--storage", postgres_url) for _ in range(4)]
    wait_for(lambda: states("cheap", postgres_url)["RUNNING"] == 4, 60, "four running trials")
    kills = []                                    # (when, the trial it was running or None)
    replacement = None
    next_kill = time.monotonic() + 5
    while True:
        time.sleep(max(0.0, next_kill - time.monotonic()))
        next_kill += 5
        counts = states("cheap", postgres_url)
        if finished(counts) + counts["RUNNING"] >= 120:
            break                                  # no worker asks for another trial
        # not the worker the last kill started: still starting up, it would run no trial yet
        victim = rng.choice([w for w in workers if w is not replacement])
        when = datetime.now()                      # Optuna's clock: local, naive
        earlier = [trial for _, trial in kills if trial is not None]
        kills.append((when, killed_workers_trial(postgres_url, "cheap", victim,
                                                 earlier=earlier)))
        replacement = start_tuner("worker", spec, "--storage", postgres_url)
        workers[workers.index(victim)] = replacement
    logs = [w.communicate(timeout=300)[1] for w in workers]
    assert [w.returncode for w in workers] == [0] * 4, logs
    assert not any("Traceback" in log for log in logs)
    assert len(kills) >= 5, kills
    victims = {trial: when for when, trial in kills if trial is not None}
    assert len(victims) == len([t for _, t in kills if t is not None]) >= 3, kills
    trials = {t.number: t for t in optuna.load_study(study_name="cheap",
                                                     storage=postgres_url).trials}
    counts = states("cheap", postgres_url)
    assert 120 <= finished(counts) <= 123, counts
    assert counts["RUNNING"] == 0 and counts["WAITING"] == 0, counts
    assert {n for n, t in trials.items() if t.state.name == "FAIL"} == set(victims)
    for number, when in victims.items():
        failed = trials[number]
        assert failed.datetime_complete - when <= timedelta(seconds=6), (number, when, failed)
        retries = [t for t in trials.values() if retried(t)[-1:] == [number]]
        assert len(retries) == (len(retried(failed)) < max_retry), (number, retries)
    assert all(len(retried(t)) <= max_retry for t in trials.values())
    delays = sorted(round((trials[n].datetime_complete - when).total_seconds(), 2)
                    for n, when in victims.items())
    print(f"\n{len(kills)} kills, {len(victims)} mid-trial; those trials failed after {delays} s")


def test_a_trial_whose_worker_died_before_its_first_heartbeat_is_retried(tmp_path, sqlite_url):
    """A RUNNING trial that never got a heartbeat (its worker died between creating it and the
    first beat; Optuna's stale check skips such trials) is failed after the grace period and
    queued again: the study's last trial, so the worker would otherwise wait for ever."""
    spec = write_spec(tmp_path, n_trials=3)
    tuner("worker", spec, "--storage", sqlite_url, "--n-trials", 2, check=True)
    orphan = optuna.load_study(study_name="cheap", storage=sqlite_url).ask()   # as it left it
    started = time.monotonic()
    result = tuner("worker", spec, "--storage", sqlite_url, "--n-trials", 3, timeout=60)
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 40     # grace period + start-up, not "for ever"
    trials = optuna.load_study(study_name="cheap", storage=sqlite_url).trials
    assert trials[orphan.number].state.name == "FAIL"
    assert [retried(t) for t in trials if retried(t)] == [[orphan.number]]
    counts = states("cheap", sqlite_url)
    assert finished(counts) == 3 and counts["RUNNING"] == 0 and counts["WAITING"] == 0


DIES_AT_THE_RETRY = """
import os, signal, sys
import sqlalchemy
from tuner.service.spec import load_spec
from tuner.service.worker import Worker

worker = Worker(load_spec(sys.argv[1]), sys.argv[2])
for sig in (signal.SIGTERM, signal.SIGINT):
    signal.signal(sig, worker.request_stop)

@sqlalchemy.event.listens_for(worker.storage.engine, "before_cursor_execute")
def die_at_the_retry(conn, cursor, statement, *args):
    # SIGKILLed as the retry's trial row is inserted: after the failure's UPDATE, before commit
    if statement.lstrip().upper().startswith("INSERT INTO TRIALS") and (
            sys.argv[3] == "janitor" or worker.stopping):
        print("dying", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

if sys.argv[3] == "janitor":
    worker.fail_stale_trials()
else:
    print("running", flush=True)
    worker.run()
"""
"""A worker process SIGKILLed at the moment it writes the retry of a trial it has just failed:
as a janitor (``janitor``: one stale-trial sweep) or as a worker stopping mid-trial (``worker``:
runs, and dies when its SIGTERM-interrupted trial is queued again)."""


def stale_orphan(url: str) -> int:
    """A RUNNING trial of the study "cheap" whose last heartbeat is long past (its worker gone):
    stale at once, for any janitor. Returns its number."""
    storage = optuna.storages.RDBStorage(url)
    try:
        trial = optuna.load_study(study_name="cheap", storage=storage).ask()
        storage.record_heartbeat(trial._trial_id)
        with storage.engine.begin() as conn:
            conn.execute(sqlalchemy.text("UPDATE trial_heartbeats SET heartbeat = :past "
                                         "WHERE trial_id = :id"),
                         {"past": datetime(2000, 1, 1), "id": trial._trial_id})
        return trial.number
    finally:
        storage.engine.dispose()


def retries_of(url: str, number: int) -> list[optuna.trial.FrozenTrial]:
    trials = optuna.load_study(study_name="cheap", storage=url).trials
    return [t for t in trials if t.system_attrs.get("failed_trial") == number]


def test_a_janitor_killed_between_failing_a_trial_and_queueing_it_loses_no_retry(tmp_path,
                                                                                  storage_url):
    """The failure and the retry are one transaction: killed in between, the janitor leaves the
    trial RUNNING and stale, and the next janitor fails and queues it (with Optuna's own
    sweep the failure was committed alone, and the trial never ran again)."""
    spec = write_spec(tmp_path, n_trials=3)
    tuner("worker", spec, "--storage", storage_url, "--n-trials", 2, check=True)
    orphan = stale_orphan(storage_url)
    janitor = subprocess.run([sys.executable, "-c", DIES_AT_THE_RETRY, spec, storage_url,
                              "janitor"], capture_output=True, text=True, env=ENV, timeout=120)
    assert janitor.returncode == -signal.SIGKILL and "dying" in janitor.stdout, janitor.stderr
    counts = states("cheap", storage_url)
    assert counts["RUNNING"] == 1 and counts["FAIL"] == 0 and counts["WAITING"] == 0
    assert retries_of(storage_url, orphan) == []
    result = tuner("worker", spec, "--storage", storage_url, "--n-trials", 3, timeout=120)
    assert result.returncode == 0, result.stderr
    study = optuna.load_study(study_name="cheap", storage=storage_url)
    assert study.trials[orphan].state.name == "FAIL"
    again = retries_of(storage_url, orphan)
    assert [(t.state.name, retried(t)) for t in again] == [("COMPLETE", [orphan])]
    counts = states("cheap", storage_url)
    assert finished(counts) == 3 and counts["RUNNING"] == 0 and counts["WAITING"] == 0


def test_a_worker_killed_while_queueing_its_interrupted_trial_loses_no_retry(tmp_path,
                                                                             storage_url):
    """A worker stopped by SIGTERM fails its trial and queues it again in one transaction: killed
    in between, it leaves the trial RUNNING, its heartbeat stopped, and another worker's janitor
    fails and queues it after the grace period (failed and queued apart, the trial was lost)."""
    spec = write_spec(tmp_path, task="digits", model="mlp", hidden="[64]", n_trials=1,
                      epochs=3000, lr="[1e-3, 1e-2]", study_extra='pruner = "none"')
    worker = subprocess.Popen([sys.executable, "-c", DIES_AT_THE_RETRY, spec, storage_url,
                               "worker"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=ENV)
    try:
        wait_for(lambda: beating(storage_url) == 1, 60, "a running trial with a heartbeat")
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=60)
    finally:
        worker.kill()
    assert worker.returncode == -signal.SIGKILL and "dying" in out, err
    trials = optuna.load_study(study_name="cheap", storage=storage_url).trials
    assert [t.state.name for t in trials] == ["RUNNING"]
    result = tuner("worker", spec, "--storage", storage_url, timeout=300)
    assert result.returncode == 0, result.stderr
    trials = optuna.load_study(study_name="cheap", storage=storage_url).trials
    assert trials[0].state.name == "FAIL"
    assert [(t.state.name, retried(t)) for t in retries_of(storage_url, 0)] == [("COMPLETE", [0])]
    counts = states("cheap", storage_url)
    assert counts["RUNNING"] == 0 and counts["WAITING"] == 0


def test_an_interrupted_trial_is_queued_again_whatever_max_retry_allows_failures(tmp_path,
                                                                                sqlite_url):
    """A trial its worker gave back on SIGTERM did not fail: with ``max_retry = 0`` it used to
    be dropped (Optuna's retry callback counted the interruption as a failure) while the worker
    logged "queued again"; interrupted twice, it now runs a third time and completes."""
    spec = write_spec(tmp_path, task="digits", model="mlp", hidden="[64]", n_trials=1,
                      epochs=1500, lr="[1e-3, 1e-2]",
                      study_extra='pruner = "none"\nmax_retry = 0')
    for attempt in range(2):
        worker = start_tuner("--log-level", "INFO", "worker", spec, "--storage", sqlite_url)
        wait_for(lambda: beating(sqlite_url) == 1, 60, "a running trial with a heartbeat")
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=120)
        assert worker.returncode == 0 and "interrupted and queued again" in err, err
        counts = states("cheap", sqlite_url)
        assert counts["WAITING"] == 1 and counts["FAIL"] == attempt + 1, counts
    tuner("worker", spec, "--storage", sqlite_url, check=True)
    trials = optuna.load_study(study_name="cheap", storage=sqlite_url).trials
    assert [t.state.name for t in trials] == ["FAIL", "FAIL", "COMPLETE"]
    assert retried(trials[2]) == [0, 1] and trials[2].system_attrs["interrupted"] == [0, 1]
    assert trials[2].system_attrs["failed_trial"] == 0


def test_workers_survive_a_postgresql_restart_and_a_5_second_stop(tmp_path, postgres_server,
                                                                   postgres_url):
    spec = write_spec(tmp_path, task="digits", model="mlp", hidden="[64]", n_trials=12,
                      epochs=600, lr="[1e-3, 1e-2]",   # trials of ~1 s: the study outlasts the
                      study_extra='pruner = "none"')  # restart and the stop
    workers = [start_tuner("--log-level", "INFO", "worker", spec, "--storage", postgres_url)
               for _ in range(2)]
    wait_for(lambda: states("cheap", postgres_url)["RUNNING"] == 2, 60, "two running trials")
    postgres_server.ctl("restart", "-m", "fast")
    wait_for(lambda: finished(states("cheap", postgres_url)) >= 2, 90, "trials after restart")
    postgres_server.ctl("stop", "-m", "fast")
    time.sleep(5)
    postgres_server.ctl("start")
    logs = [w.communicate(timeout=300)[1] for w in workers]
    assert [w.returncode for w in workers] == [0, 0], logs
    counts = states("cheap", postgres_url)
    assert 12 <= finished(counts) <= 13
    assert counts["RUNNING"] == 0 and counts["WAITING"] == 0
    log = "\n".join(logs)
    assert "database unreachable" in log and "reachable again" in log
    assert "Traceback" not in log
    study = optuna.load_study(study_name="cheap", storage=postgres_url)
    for t in study.trials:          # a trial failed as stale meanwhile was queued again
        if t.state.name == "FAIL":
            assert any(r.system_attrs.get("failed_trial") == t.number for r in study.trials)


def test_a_launch_rides_out_a_5_second_postgresql_stop(tmp_path, postgres_server, postgres_url):
    """``tuner launch`` reads the study once a second for its progress line: a read during the
    stop used to end it with a traceback, its workers left running as orphans."""
    spec = write_spec(tmp_path, task="digits", model="mlp", hidden="[64]", n_trials=8,
                      epochs=600, lr="[1e-3, 1e-2]", study_extra='pruner = "none"')
    launch = start_tuner("launch", spec, "--workers", "2", "--retrain-seeds", "0", "--storage",
                         postgres_url)
    wait_for(lambda: states("cheap", postgres_url)["RUNNING"] == 2, 60, "two running trials")
    postgres_server.ctl("stop", "-m", "fast")
    time.sleep(5)
    postgres_server.ctl("start")
    out, err = launch.communicate(timeout=300)
    assert launch.returncode == 0 and "Traceback" not in err, err
    counts = states("cheap", postgres_url)
    assert 8 <= finished(counts) <= 9 and counts["RUNNING"] == 0 and counts["WAITING"] == 0
    assert "cheap" in out                                      # the best configuration printed


def test_workers_ride_out_a_20_second_postgresql_freeze(tmp_path, postgres_server, postgres_url):
    """Every PostgreSQL process frozen for 20 s (SIGSTOP, then SIGCONT) while workers are
    mid-trial, one of them killed just before: the others neither crash nor hang, the killed
    worker's trial (stale during the freeze) and any other failed as stale are retried, and
    the study completes soon after the server thaws."""
    spec = write_spec(tmp_path, task="digits", model="mlp", hidden="[64]", n_trials=20,
                      epochs=100, lr="[1e-3, 1e-2]", study_extra='pruner = "none"')
    workers = [start_tuner("--log-level", "INFO", "worker", spec, "--storage", postgres_url)
               for _ in range(3)]
    wait_for(lambda: states("cheap", postgres_url)["RUNNING"] == 3, 60, "three running trials")
    for _ in range(3):        # a victim caught between two trials ran none: replace, again
        victim = workers.pop()
        stale = killed_workers_trial(postgres_url, "cheap", victim)
        if stale is not None:
            break
        workers.insert(0, start_tuner("--log-level", "INFO", "worker", spec, "--storage",
                                      postgres_url))
        wait_for(lambda: states("cheap", postgres_url)["RUNNING"] >= 3, 60, "a new trial")
    assert stale is not None
    [(_, state, _, age)] = rows(postgres_url, HEARTBEATS, study="cheap", numbers=[stale])
    assert state == "RUNNING" or age > 3                  # failed only once stale
    frozen = postgres_server.signal_all(signal.SIGSTOP)
    try:
        assert len(frozen) >= 6, frozen        # the postmaster, its helpers, the backends
        time.sleep(20)
    finally:
        postgres_server.signal_all(signal.SIGCONT)
    thawed = datetime.now()
    logs = [w.communicate(timeout=180)[1] for w in workers]
    assert [w.returncode for w in workers] == [0, 0], logs
    assert not any("Traceback" in log for log in logs), logs
    trials = optuna.load_study(study_name="cheap", storage=postgres_url).trials
    counts = states("cheap", postgres_url)
    assert 20 <= finished(counts) <= 21, counts
    assert counts["RUNNING"] == 0 and counts["WAITING"] == 0, counts
    failed = [t.number for t in trials if t.state.name == "FAIL"]
    assert stale in failed
    for number in failed:                                 # each queued again
        assert any(retried(t)[-1:] == [number] for t in trials), number
    after = min(t.datetime_complete for t in trials
                if t.state.name == "COMPLETE" and t.datetime_complete > thawed)
    recovery = (after - thawed).total_seconds()
    assert recovery < 10, recovery
    done = (max(t.datetime_complete for t in trials) - thawed).total_seconds()
    later = sum(t.datetime_complete > thawed for t in trials)
    print(f"\nfirst trial finished {recovery:.1f} s after the thaw; {later} trials after it, the "
          f"last {done:.1f} s after; failed as stale and retried: {len(failed)}")


def test_a_paused_worker_discards_its_stale_result_and_carries_on(tmp_path, postgres_url):
    spec = write_spec(tmp_path, task="digits", model="mlp", hidden="[64]", n_trials=6,
                      epochs=150, lr="[1e-3, 1e-2]", study_extra='pruner = "none"')
    paused = start_tuner("--log-level", "INFO", "worker", spec, "--storage", postgres_url)
    wait_for(lambda: beating(postgres_url) == 1, 60, "a running trial with a heartbeat")
    paused.send_signal(signal.SIGSTOP)
    other = start_tuner("worker", spec, "--storage", postgres_url)   # its janitor fails the trial
    wait_for(lambda: states("cheap", postgres_url)["FAIL"] == 1, 60, "the paused trial failed")
    paused.send_signal(signal.SIGCONT)
    _, paused_log = paused.communicate(timeout=300)
    _, other_log = other.communicate(timeout=300)
    assert paused.returncode == 0 and other.returncode == 0, paused_log + other_log
    assert "failed as stale while it ran" in paused_log and "discarded" in paused_log
    assert "Traceback" not in paused_log
    counts = states("cheap", postgres_url)
    assert 6 <= finished(counts) <= 7 and counts["RUNNING"] == 0 and counts["FAIL"] >= 1


def test_a_killed_workers_last_trial_is_retried_and_the_budget_met(tmp_path, sqlite_url):
    # Budget 2: two workers start together and each runs one trial; one is killed, the other
    # finishes its trial and then has nothing to ask for, so the killed worker's trial is the
    # last one and only the janitor can save it. Trials run for seconds, so both overlap
    # whatever the start-up times.
    spec = write_spec(tmp_path, task="digits", model="mlp", hidden="[64]", n_trials=2,
                      epochs=3000, lr="[1e-3, 1e-2]", study_extra='pruner = "none"')
    victim, other = (start_tuner("worker", spec, "--storage", sqlite_url) for _ in range(2))
    wait_for(lambda: beating(sqlite_url) == 2, 60, "both trials running, with heartbeats")
    victim.kill()
    victim.wait()
    wait_for(lambda: states("cheap", sqlite_url)["FAIL"] == 1, 20, "the stale trial failed")
    # Not before the grace period: that counts from the trial's last heartbeat, which may come
    # up to an interval (1 s) before the kill, and is judged in the database's clock (SQLite's
    # CURRENT_TIMESTAMP, whole seconds), so the age is read there, just after the failure.
    (number, age), = rows(sqlite_url, LAST_BEAT_AGE_SQLITE, study="cheap")
    assert age > 3, age
    _, log = other.communicate(timeout=300)
    assert other.returncode == 0, log
    study = optuna.load_study(study_name="cheap", storage=sqlite_url)
    failed = [t.number for t in study.trials if t.state.name == "FAIL"]
    assert failed == [number] and number in (0, 1)         # the killed worker's (the other beat)
    retried = [t for t in study.trials if t.system_attrs.get("failed_trial") == failed[0]]
    assert len(retried) == 1 and retried[0].state.name == "COMPLETE"
    counts = states("cheap", sqlite_url)
    assert finished(counts) == 2 and counts["RUNNING"] == 0 and counts["WAITING"] == 0


def test_a_listener_that_never_answers_exits_3_within_the_connect_timeout(tmp_path):
    import socket
    import subprocess

    from tuner.errors import StorageError
    from tuner.service.storage import CONNECT_TIMEOUT, open_storage
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)                              # accepts the TCP handshake, never speaks
    port = server.getsockname()[1]
    url = f"postgresql://u:Hidden42@127.0.0.1:{port}/db"
    started = time.monotonic()
    with pytest.raises(StorageError, match=f"127.0.0.1:{port}"):
        open_storage(url)                          # what a worker does first with its storage
    assert time.monotonic() - started <= CONNECT_TIMEOUT + 1
    result = subprocess.run([*TUNER, "worker", write_spec(tmp_path), "--storage", url],
                            capture_output=True, text=True, timeout=60, env=ENV)
    server.close()
    assert result.returncode == 3
    assert f"127.0.0.1:{port}" in result.stderr
    assert (result.stdout + result.stderr).count("Hidden42") == 0


def test_a_dashboard_read_held_10_seconds_adds_under_1_second_to_sqlite_trials(tmp_path,
                                                                               sqlite_url):
    """A read transaction held open for 10 s on the dashboard's read-only SQLite engine
    (:func:`tuner.tables.create_engine`) while a worker runs: the worker's trials during the
    hold take at most 1 s longer than its trials before it (WAL: readers never block writers)."""
    spec = write_spec(tmp_path, n_trials=100_000, epochs=20)
    worker = start_tuner("worker", spec, "--storage", sqlite_url)
    wait_for(lambda: finished(states("cheap", sqlite_url)) >= 20, 60, "20 trials before")
    engine = tables.create_engine(sqlite_url)
    with engine.connect() as conn:
        conn.exec_driver_sql("BEGIN")
        held = datetime.now()
        seen = conn.exec_driver_sql("SELECT count(*) FROM trials").scalar()
        time.sleep(10)
        assert conn.exec_driver_sql("SELECT count(*) FROM trials").scalar() == seen  # one snapshot
        released = datetime.now()
        conn.exec_driver_sql("COMMIT")
    engine.dispose()
    worker.send_signal(signal.SIGTERM)
    out, log = worker.communicate(timeout=60)
    assert worker.returncode == 0 and "worker done (stop requested)" in out, log
    trials = [t for t in optuna.load_study(study_name="cheap", storage=sqlite_url).trials
              if t.datetime_complete is not None]
    before = [(t.datetime_complete - t.datetime_start).total_seconds() for t in trials
              if t.datetime_complete < held]
    during = [(t.datetime_complete - t.datetime_start).total_seconds() for t in trials
              if t.datetime_start >= held and t.datetime_complete <= released]
    assert len(before) >= 20 and len(during) >= 20, (len(before), len(during))
    typical = sorted(before)[len(before) // 2]
    assert max(during) - typical <= 1.0, (typical, max(during))
    print(f"\ntrials before the held read: median {typical:.3f} s; during it: median "
          f"{sorted(during)[len(during) // 2]:.3f} s, max {max(during):.3f} s "
          f"({len(during)} trials)")


def test_four_sqlite_workers_times_100_trials_see_no_lock_error(tmp_path, sqlite_url):
    spec = write_spec(tmp_path, n_trials=100, epochs=2)
    workers = [start_tuner("--log-level", "INFO", "worker", spec, "--storage", sqlite_url)
               for _ in range(4)]
    logs = [w.communicate(timeout=600)[1] for w in workers]
    assert [w.returncode for w in workers] == [0] * 4, logs
    assert not any("locked" in log for log in logs)
    counts = states("cheap", sqlite_url)
    assert 100 <= finished(counts) <= 103 and counts["FAIL"] == 0 and counts["RUNNING"] == 0


class InBackground(threading.Thread):
    """``step()`` called again and again in a thread until :meth:`stop`, which returns the
    first exception it raised, if any (the loop ends there)."""

    def __init__(self, step, pause: float = 0.0):
        super().__init__(daemon=True)
        self.step, self.pause, self.error = step, pause, None
        self.stopping = threading.Event()
        self.start()

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                self.step()
                time.sleep(self.pause)
        except Exception as e:  # noqa: BLE001 - handed to the test by stop()
            self.error = e

    def stop(self) -> Exception | None:
        self.stopping.set()
        self.join()
        return self.error


def test_eight_postgresql_workers_run_800_trials_beside_a_reading_dashboard(postgres_url):
    """8 workers, 800 near-zero-cost trials (deploy/scale.toml) on PostgreSQL while the
    dashboard's read path (its read-only engine, the study list, the live trial frame) reads
    throughout: the budget met, none failed or left running, and at the peak (sampled every
    0.1 s) at most 2 connections per worker plus the dashboard engine's pool of 2."""
    database = sqlalchemy.engine.make_url(postgres_url).database
    engine = tables.create_engine(postgres_url)
    live: list[LiveTrials] = []
    seen: list[int] = []

    def read_like_the_dashboard():
        if "scale" in set(data.studies(postgres_url, engine=engine)["study"]):
            if not live:
                info = data.study_info(postgres_url, "scale", engine=engine)
                live.append(LiveTrials(postgres_url, info["study_id"], min_interval=0.5))
            seen.append(len(live[0].current(engine)))

    peak = [0]
    sampler = sqlalchemy.create_engine(postgres_url, poolclass=sqlalchemy.pool.NullPool,
                                       isolation_level="AUTOCOMMIT").connect()  # fresh stats

    def sample():
        held = sampler.execute(sqlalchemy.text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = :db AND "
            "backend_type = 'client backend' AND pid <> pg_backend_pid()"),
            {"db": database}).scalar()
        peak[0] = max(peak[0], held)

    started = time.monotonic()
    background = [InBackground(sample, 0.1), InBackground(read_like_the_dashboard, 0.2)]
    workers = [start_tuner("worker", SCALE_SPEC, "--storage", postgres_url, "--n-trials", 800)
               for _ in range(8)]
    logs = [w.communicate(timeout=240)[1] for w in workers]
    seconds = time.monotonic() - started
    errors = [b.stop() for b in background]
    sampler.close()
    engine.dispose()
    assert [w.returncode for w in workers] == [0] * 8, logs
    assert errors == [None, None], errors
    counts = states("scale", postgres_url)
    assert 800 <= finished(counts) <= 807, counts
    assert counts["FAIL"] == 0 and counts["RUNNING"] == 0 and counts["WAITING"] == 0, counts
    assert len(seen) >= 10 and seen == sorted(seen) and seen[-1] >= 700, seen[-5:]
    assert 8 <= peak[0] <= 2 * 8 + 2, peak[0]
    print(f"\n8 workers, {finished(counts)} trials in {seconds:.1f} s "
          f"({finished(counts) / seconds:.1f}/s), {len(seen)} dashboard reads, "
          f"peak {peak[0]} connections")


def test_a_pruning_snapshot_the_database_does_not_refresh_keeps_its_trials(tmp_path):
    """A long trial's median pruner refreshes its view of the study every ``max_age`` seconds;
    a database hiccup then used to fail the trial (and stop its worker). Now the pruner goes on
    with the trials it has and refreshes them at the next chance."""
    from tuner.service.pruning import SnapshotStudy
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 's.db'}")
    study.add_trial(optuna.trial.create_trial(value=1.0))
    snapshot = SnapshotStudy(study, study.get_trials(), max_age=0.0)
    study.add_trial(optuna.trial.create_trial(value=2.0))
    read, outages = study.get_trials, [1]

    def hiccup(**kwargs):
        if outages and outages.pop():
            raise sqlalchemy.exc.OperationalError("SELECT", {}, Exception("server closed"))
        return read(**kwargs)
    study.get_trials = hiccup
    assert [t.value for t in snapshot.get_trials()] == [1.0]          # kept, no error
    assert [t.value for t in snapshot.get_trials()] == [1.0, 2.0]     # refreshed
    study.get_trials = lambda **kw: 1 / 0                             # not an outage: raised
    with pytest.raises(ZeroDivisionError):
        snapshot.get_trials()

"""tuner's storage layer over Optuna's: SQLite transactions that lock only to write, one shared
read per trial, and a trial's parameters written in one transaction."""

import sqlite3
import threading
import time

import optuna
import pytest

from tuner.service.storage import OneReadStorage, SQLiteStorage, open_storage


@pytest.fixture
def sqlite_path(tmp_path):
    return tmp_path / "tuner.db"


def study_on(storage, name="s"):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(study_name=name, storage=storage, load_if_exists=True)


def hold_write_lock(path, seconds: float) -> threading.Event:
    """Another connection takes SQLite's write lock for ``seconds``; the event is set once
    it holds it."""
    held = threading.Event()

    def hold():
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        held.set()
        time.sleep(seconds)
        conn.execute("COMMIT")
        conn.close()

    threading.Thread(target=hold, daemon=True).start()
    held.wait(5)
    return held


def test_reads_run_beside_a_writer_and_writes_wait_for_it(sqlite_path):
    storage = open_storage(f"sqlite:///{sqlite_path}")
    assert isinstance(storage, SQLiteStorage)
    study = study_on(storage)
    study.enqueue_trial({"x": 1.0})
    hold_write_lock(sqlite_path, 1.0)
    started = time.monotonic()
    assert len(storage.get_all_trials(study._study_id)) == 1          # a deferred read
    assert storage.get_study_user_attrs(study._study_id) == {}
    read = time.monotonic() - started
    storage.set_study_user_attr(study._study_id, "k", 1)              # waits for the lock
    write = time.monotonic() - started
    assert read < 0.5 <= write, (read, write)
    assert storage.get_study_user_attrs(study._study_id) == {"k": 1}


def test_inside_one_read_the_trials_are_read_once(sqlite_path):
    url = f"sqlite:///{sqlite_path}"
    reads = OneReadStorage(open_storage(url))
    study = study_on(reads)
    other = study_on(open_storage(url))             # another worker's view of the study
    other.enqueue_trial({"x": 1.0})
    with reads.one_read():
        assert len(study.get_trials()) == 1
        other.enqueue_trial({"x": 2.0})
        assert len(study.get_trials()) == 1          # the first read, reused
    assert len(study.get_trials()) == 2              # outside: read again


def test_collected_parameters_are_written_together(sqlite_path):
    url = f"sqlite:///{sqlite_path}"
    reads = OneReadStorage(open_storage(url))
    study = study_on(reads)
    outside = open_storage(url)
    trial = study.ask()
    with reads.collecting_params():
        values = {"a": trial.suggest_float("a", 0, 1), "b": trial.suggest_int("b", 1, 9),
                  "c": trial.suggest_categorical("c", ["x", "y"])}
        assert trial.suggest_float("a", 0, 1) == values["a"]      # the trial remembers them
    assert outside.get_trial(trial._trial_id).params == {}
    reads.write_params()
    assert outside.get_trial(trial._trial_id).params == values
    reads.write_params()                                           # nothing left to write
    study.tell(trial, 0.5)
    assert study.best_trial.params == values


def test_a_collected_parameter_still_gets_optunas_checks(sqlite_path):
    reads = OneReadStorage(open_storage(f"sqlite:///{sqlite_path}"))
    study = study_on(reads)
    first = study.ask()
    first.suggest_float("a", 0, 1)
    study.tell(first, 0.0)
    trial = study.ask()
    with reads.collecting_params():
        trial.suggest_categorical("a", ["x"])        # another kind under the same name
    with pytest.raises(ValueError, match="Cannot set different distribution kind"):
        reads.write_params()

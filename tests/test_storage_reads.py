"""tuner's storage layer over Optuna's: SQLite transactions that lock only to write, one shared
read per trial, a trial's start (parameters and first heartbeat) written in one transaction,
and blocks of Optuna calls that commit as one."""

import math
import sqlite3
import threading
import time
from datetime import datetime, timedelta, timezone

import optuna
import pytest
import sqlalchemy
from optuna.storages._rdb import models
from optuna.trial import TrialState

from tuner.service.batch import write_trial_record
from tuner.service.storage import OneReadStorage, SQLiteStorage, open_storage


@pytest.fixture
def sqlite_path(tmp_path):
    return tmp_path / "tuner.db"


def study_on(storage, name="s"):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(study_name=name, storage=storage, load_if_exists=True)


def hold_write_lock(path, seconds: float) -> dict:
    """Another connection takes SQLite's write lock for ``seconds``; returns once it holds it,
    a dict whose ``"released"`` the holder sets (``time.monotonic()``) as it commits."""
    held, times = threading.Event(), {}

    def hold():
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        held.set()
        time.sleep(seconds)
        times["released"] = time.monotonic()
        conn.execute("COMMIT")
        conn.close()

    threading.Thread(target=hold, daemon=True).start()
    assert held.wait(5), "the other connection never took the write lock"
    return times


def test_reads_run_beside_a_writer_and_writes_wait_for_it(sqlite_path):
    storage = open_storage(f"sqlite:///{sqlite_path}")
    assert isinstance(storage, SQLiteStorage)
    study = study_on(storage)
    study.enqueue_trial({"x": 1.0})
    lock = hold_write_lock(sqlite_path, 2.0)
    assert len(storage.get_all_trials(study._study_id)) == 1          # a deferred read
    assert storage.get_study_user_attrs(study._study_id) == {}
    assert "released" not in lock                                     # read beside the writer
    storage.set_study_user_attr(study._study_id, "k", 1)              # waits for the lock
    assert "released" in lock                                         # written after it
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
    with reads.collecting():
        values = {"a": trial.suggest_float("a", 0, 1), "b": trial.suggest_int("b", 1, 9),
                  "c": trial.suggest_categorical("c", ["x", "y"])}
        assert trial.suggest_float("a", 0, 1) == values["a"]      # the trial remembers them
    assert outside.get_trial(trial._trial_id).params == {}
    reads.write_start(trial._trial_id)
    assert outside.get_trial(trial._trial_id).params == values
    reads.write_start(trial._trial_id)                             # nothing left to write
    study.tell(trial, 0.5)
    assert study.best_trial.params == values


def test_a_collected_parameter_still_gets_optunas_checks(sqlite_path):
    reads = OneReadStorage(open_storage(f"sqlite:///{sqlite_path}"))
    study = study_on(reads)
    first = study.ask()
    first.suggest_float("a", 0, 1)
    study.tell(first, 0.0)
    trial = study.ask()
    with reads.collecting():
        trial.suggest_categorical("a", ["x"])        # another kind under the same name
    with pytest.raises(ValueError, match="Cannot set different distribution kind"):
        reads.write_start(trial._trial_id)


def test_a_collected_parameter_is_checked_against_another_workers_distribution(sqlite_path):
    """The study's distribution under a name that only another process wrote (this one never
    saw it) is read from the database and checked as Optuna checks it."""
    url = f"sqlite:///{sqlite_path}"
    other = study_on(open_storage(url))
    first = other.ask()
    first.suggest_float("a", 0, 1)
    other.tell(first, 0.0)
    reads = OneReadStorage(open_storage(url))
    study = study_on(reads)
    wrong, fine = study.ask(), study.ask()
    with reads.collecting():
        wrong.suggest_int("a", 0, 1)
    with pytest.raises(ValueError, match="Cannot set different distribution kind"):
        reads.write_start(wrong._trial_id)
    with reads.collecting():
        fine.suggest_float("a", 0, 1)
    reads.write_start(fine._trial_id)
    outside = open_storage(url)
    assert outside.get_trial(wrong._trial_id).params == {}
    assert set(outside.get_trial(fine._trial_id).params) == {"a"}


def test_a_start_is_written_only_for_the_trial_whose_parameters_were_collected(sqlite_path):
    url = f"sqlite:///{sqlite_path}"
    reads = OneReadStorage(open_storage(url))
    study = study_on(reads)
    collected, other = study.ask(), study.ask()
    with reads.collecting():
        collected.suggest_float("a", 0, 1)
    with pytest.raises(ValueError, match="not all trial id"):
        reads.write_start(other._trial_id)
    outside = open_storage(url)
    assert outside.get_trial(other._trial_id).params == {}
    reads.write_start(collected._trial_id)
    assert set(outside.get_trial(collected._trial_id).params) == {"a"}


def test_parameters_of_a_trial_failed_meanwhile_are_refused_and_not_written(sqlite_path):
    url = f"sqlite:///{sqlite_path}"
    reads = OneReadStorage(open_storage(url))
    study = study_on(reads)
    trial = study.ask()
    with reads.collecting():
        trial.suggest_float("a", 0, 1)
        trial.suggest_categorical("b", ["x", "y"])
    outside = open_storage(url)
    outside.set_trial_state_values(trial._trial_id, TrialState.FAIL)     # failed as stale
    with pytest.raises(optuna.exceptions.UpdateFinishedTrialError):
        reads.write_start(trial._trial_id)
    assert outside.get_trial(trial._trial_id).params == {}


def has_heartbeat(storage, trial_id: int) -> bool:
    with storage.scoped_session() as session:
        return models.TrialHeartbeatModel.where_trial_id(trial_id, session) is not None


@pytest.mark.filterwarnings("ignore:Heartbeat of storage is supposed")   # tuner's worker beats
def test_a_trial_starts_with_its_parameters_and_first_heartbeat_in_one_transaction(storage_url):
    reads = OneReadStorage(open_storage(storage_url, heartbeat_interval=60, grace_period=120))
    study = study_on(reads)
    outside = open_storage(storage_url)
    trial = study.ask()
    with reads.collecting():
        x = trial.suggest_float("x", 0, 1)
        reads.set_trial_system_attr(trial._trial_id, "k", [1, 2])
        assert reads.get_trial_system_attrs(trial._trial_id)["k"] == [1, 2]   # seen collected
    before = outside.get_trial(trial._trial_id)
    assert before.params == {} and "k" not in before.system_attrs
    assert not has_heartbeat(outside, trial._trial_id)
    reads.write_start(trial._trial_id)
    after = outside.get_trial(trial._trial_id)
    assert after.params == {"x": x} and after.system_attrs["k"] == [1, 2]
    assert has_heartbeat(outside, trial._trial_id)


def test_one_transaction_commits_at_its_end_and_rolls_back_as_a_whole(storage_url):
    storage = open_storage(storage_url)
    study = study_on(storage)
    outside = open_storage(storage_url)
    trial = study.ask()
    with pytest.raises(RuntimeError):
        with storage.one_transaction():
            storage.set_study_user_attr(study._study_id, "a", 1)
            write_trial_record(storage, trial._trial_id, {0: 0.5}, {"curve": [1.0]})
            raise RuntimeError("after the writes")
    assert outside.get_study_user_attrs(study._study_id) == {}
    assert outside.get_trial(trial._trial_id).user_attrs == {}
    with storage.one_transaction():
        write_trial_record(storage, trial._trial_id, {0: 0.5}, {"curve": [1.0]})
        assert outside.get_trial(trial._trial_id).user_attrs == {}      # not yet committed
        study.tell(trial, 0.5)
        assert outside.get_trial(trial._trial_id).state == TrialState.RUNNING
    done = outside.get_trial(trial._trial_id)
    assert done.state == TrialState.COMPLETE and done.user_attrs == {"curve": [1.0]}
    assert done.intermediate_values == {0: 0.5} and done.value == 0.5


def test_a_failed_call_inside_one_transaction_undoes_only_itself(storage_url):
    """Optuna's own check (telling a finished trial) fails inside the block: that call writes
    nothing, the block's other writes stand if the block goes on."""
    storage = open_storage(storage_url)
    study = study_on(storage)
    outside = open_storage(storage_url)
    trial = study.ask()
    outside.set_trial_state_values(trial._trial_id, TrialState.FAIL)    # failed as stale
    with storage.one_transaction():
        storage.set_study_user_attr(study._study_id, "a", 1)
        with pytest.raises((optuna.exceptions.UpdateFinishedTrialError, ValueError)):
            write_trial_record(storage, trial._trial_id, {0: 0.5}, {"curve": [1.0]})
        storage.set_study_user_attr(study._study_id, "b", 2)
    assert outside.get_study_user_attrs(study._study_id) == {"a": 1, "b": 2}
    assert outside.get_trial(trial._trial_id).user_attrs == {}


def test_a_trial_record_reads_back_as_optunas_own_writes(storage_url):
    """write_trial_record against Optuna's public API on a twin trial: the same values (NaN and
    ±inf included) and attributes read back; a second write replaces steps and keys and adds
    new ones, as Optuna's would."""
    storage = open_storage(storage_url)
    study = study_on(storage)
    ours, theirs = study.ask()._trial_id, study.ask()._trial_id
    writes = [({0: 0.5, 1: float("nan"), 2: float("inf"), 3: -float("inf")},
               {"curve": [[1.0, 2.5]], "seed": 7, "note": "é"}),
              ({1: 0.25, 4: 1e-300}, {"seed": 8, "run": {"epochs": 5}})]
    for values, attrs in writes:
        write_trial_record(storage, ours, values, attrs)
        for step, value in values.items():
            storage.set_trial_intermediate_value(theirs, step, value)
        for key, value in attrs.items():
            storage.set_trial_user_attr(theirs, key, value)
    a, b = open_storage(storage_url).get_trial(ours), open_storage(storage_url).get_trial(theirs)
    assert a.user_attrs == b.user_attrs == {"curve": [[1.0, 2.5]], "seed": 8, "note": "é",
                                            "run": {"epochs": 5}}
    assert str(a.intermediate_values) == str(b.intermediate_values) == \
        "{0: 0.5, 1: 0.25, 2: inf, 3: -inf, 4: 1e-300}"
    write_trial_record(storage, ours, {5: float("nan")}, {})
    assert math.isnan(open_storage(storage_url).get_trial(ours).intermediate_values[5])


def test_a_just_created_trial_is_read_back_from_what_creating_it_wrote(sqlite_path):
    """optuna.Trial reads a trial back as soon as it is created: that first read comes from the
    created row, not the database (later reads do query it), and equals the stored trial."""
    url = f"sqlite:///{sqlite_path}"
    reads = OneReadStorage(open_storage(url))
    study = study_on(reads)
    statements = []
    sqlalchemy.event.listen(reads._backend.engine, "before_cursor_execute",
                            lambda *args: statements.append(args[2]))
    trial_id = reads.create_new_trial(study._study_id)
    del statements[:]
    first = reads.get_trial(trial_id)
    assert statements == []
    assert first == open_storage(url).get_trial(trial_id)
    first.params["x"] = 1.0                          # a copy: the cache is not changed
    reads.get_trial(trial_id)
    assert statements != []                          # the second read asks the database
    assert reads.get_trial(trial_id).params == {}


def varied_trials(storage) -> optuna.Study:
    """A study holding every kind of trial row: each state, every distribution kind, NaN and
    ±inf values, nested attributes, a re-queued trial's system attributes."""
    study = study_on(storage, "varied")

    def suggest_all(trial):
        trial.suggest_float("lr", 1e-5, 1.0, log=True)
        trial.suggest_float("m", 0.0, 1.0, step=0.25)
        trial.suggest_int("k", 1, 9)
        trial.suggest_int("n", 2, 64, log=True)
        trial.suggest_categorical("opt", ["sgd", None, 3, 1.5, True])

    for number, (state, steps) in enumerate([
            (TrialState.COMPLETE, [0.5, math.nan, math.inf, -math.inf]),
            (TrialState.PRUNED, [0.25, 0.125]), (TrialState.FAIL, []),
            (TrialState.COMPLETE, [])]):
        trial = study.ask()
        suggest_all(trial)
        for step, value in enumerate(steps):
            trial.report(value, step)
        trial.set_user_attr("curve", {"loss": [1.0, 0.5], "note": "é", "none": None})
        trial.set_user_attr("n", number)
        storage.set_trial_system_attr(trial._trial_id, "sys", [number, {"a": 1}])
        study.tell(trial, math.inf if number == 3 else 0.1 * number
                   if state == TrialState.COMPLETE else None, state=state)
    study.enqueue_trial({"lr": 0.01, "k": 3}, user_attrs={"queued": True})
    running = study.ask()                       # the queued trial, now RUNNING
    running.suggest_float("lr", 1e-5, 1.0, log=True)
    study.enqueue_trial({"lr": 0.02})           # WAITING
    for key, value in [("n_trials", 20), ("spec", {"a": [1, None], "é": "x"}), ("n_trials", 30)]:
        study.set_user_attr(key, value)
    return study


def plain_optuna(url: str) -> optuna.storages.RDBStorage:
    """Optuna's own RDBStorage on ``url`` (psycopg 3 for PostgreSQL, as tuner uses)."""
    return optuna.storages.RDBStorage(url.replace("postgresql://", "postgresql+psycopg://"))


def same(trials, expected) -> bool:
    """Equal FrozenTrials, NaN equal to NaN, every dict in the same order (repr compares all)."""
    assert len(trials) == len(expected)
    return all(repr(vars(a)) == repr(vars(b)) for a, b in zip(trials, expected))


def test_trials_read_with_a_select_per_table_equal_optunas_own_reads(storage_url):
    """ClosingStorage reads trials without Optuna's ORM loading (get_trial, _get_trials and so
    get_all_trials and the cached storage's incremental reads): every FrozenTrial must equal the
    one Optuna's RDBStorage builds from the same rows, in every form of the query; and the
    study's user attributes as Optuna reads them."""
    ours = open_storage(storage_url)
    study = varied_trials(ours)
    plain = plain_optuna(storage_url)
    study_id = study._study_id
    expected = plain.get_all_trials(study_id, deepcopy=False)
    assert {t.state for t in expected} == {TrialState.COMPLETE, TrialState.PRUNED,
                                           TrialState.FAIL, TrialState.RUNNING,
                                           TrialState.WAITING}
    assert same(ours.get_all_trials(study_id, deepcopy=False), expected)
    for trial in expected:
        assert same([ours.get_trial(trial._trial_id)], [trial])
    ids = [t._trial_id for t in expected]
    for states in [(TrialState.COMPLETE,), (TrialState.RUNNING, TrialState.WAITING), ()]:
        assert same(ours._get_trials(study_id, states, set(), -1),
                    plain._get_trials(study_id, states, set(), -1))
    for included, greater in [({ids[1], ids[3]}, ids[3]), (set(), ids[2]), ({ids[0]}, -1),
                              ({ids[-1]}, ids[1])]:
        assert same(ours._get_trials(study_id, None, included, greater),
                    plain._get_trials(study_id, None, included, greater))
    with pytest.raises(KeyError):
        ours.get_trial(max(ids) + 100)
    with pytest.raises(KeyError):
        ours._get_trials(study_id + 100, None, set(), -1)
    reads = OneReadStorage(ours)                 # what a worker's study reads through
    assert same(reads.get_all_trials(study_id), expected)
    attrs = ours.get_study_user_attrs(study_id)
    assert attrs == plain.get_study_user_attrs(study_id) and attrs["n_trials"] == 30
    assert list(attrs) == list(plain.get_study_user_attrs(study_id))
    with pytest.raises(KeyError):
        ours.get_study_user_attrs(study_id + 100)


def test_setting_a_trial_state_does_what_optunas_own_code_does(storage_url):
    """ClosingStorage.set_trial_state_values (the tell, and the claim of a WAITING trial by a
    worker) in Core statements: every transition gives Optuna's return value or exception and
    leaves the rows Optuna's own code leaves (read back by plain Optuna)."""
    ours = open_storage(storage_url)
    plain = plain_optuna(storage_url)
    minimize, maximize = optuna.study.StudyDirection.MINIMIZE, optuna.study.StudyDirection.MAXIMIZE
    waiting = optuna.trial.create_trial(state=TrialState.WAITING)

    def run(storage, name):
        single = storage.create_new_study([minimize], name)
        double = storage.create_new_study([minimize, maximize], name + "-2")
        ids = [storage.create_new_trial(single) for _ in range(4)]
        ids += [storage.create_new_trial(single, template_trial=waiting) for _ in range(2)]
        ids.append(storage.create_new_trial(double))
        outcomes = []
        for index, state, values in [
                (0, TrialState.RUNNING, None), (4, TrialState.RUNNING, None),
                (4, TrialState.RUNNING, None), (0, TrialState.COMPLETE, [math.inf]),
                (0, TrialState.FAIL, None), (1, TrialState.PRUNED, [0.5]),
                (2, TrialState.FAIL, None), (3, TrialState.COMPLETE, [-1.5]),
                (5, TrialState.COMPLETE, [2.0]), (6, TrialState.COMPLETE, [1.0, -math.inf]),
                (None, TrialState.COMPLETE, [1.0])]:
            trial_id = ids[index] if index is not None else max(ids) + 1000
            try:
                outcomes.append(storage.set_trial_state_values(trial_id, state, values))
            except Exception as e:  # noqa: BLE001 - the exception is the outcome compared
                outcomes.append(type(e).__name__)
        trials = [plain.get_trial(t) for t in ids]
        return outcomes, [(t.state, repr(t.values), t.datetime_start is None,
                           t.datetime_complete is None) for t in trials]

    expected = run(plain, "plain")
    assert "UpdateFinishedTrialError" in expected[0] and "KeyError" in expected[0]
    assert run(ours, "ours") == expected


@pytest.fixture
def far_from_utc(monkeypatch):
    """This process's local time 5 h 45 min ahead of UTC (a POSIX TZ rule: no zone database)."""
    monkeypatch.setenv("TZ", "XST-5:45")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_trial_times_are_stored_and_read_as_optuna_does_in_any_time_zone(storage_url,
                                                                         far_from_utc):
    """Optuna 5 stores a trial's times as naive UTC and hands them out as naive local time:
    tuner's own writes (a trial claimed from the queue, a tell) and reads do the same, so a
    trial's start and end agree with the clock whatever the machine's time zone."""
    ours = open_storage(storage_url)
    plain = plain_optuna(storage_url)
    study_id = ours.create_new_study([optuna.study.StudyDirection.MINIMIZE], "times")
    waiting = optuna.trial.create_trial(state=TrialState.WAITING)
    trial_id = ours.create_new_trial(study_id, template_trial=waiting)
    assert ours.set_trial_state_values(trial_id, TrialState.RUNNING)      # tuner's statements
    assert ours.set_trial_state_values(trial_id, TrialState.COMPLETE, [1.0])
    now, utc_now = datetime.now(), datetime.now(timezone.utc).replace(tzinfo=None)
    assert abs(now - utc_now - timedelta(hours=5, minutes=45)) < timedelta(seconds=5)
    expected = plain.get_trial(trial_id)                                  # Optuna's own read
    for moment in (expected.datetime_start, expected.datetime_complete):
        assert abs(moment - now) < timedelta(seconds=30), (moment, now)
    assert same([ours.get_trial(trial_id)], [expected])                   # tuner's own read
    with plain.engine.connect() as conn:                                  # the rows: UTC
        stored = conn.execute(sqlalchemy.text("SELECT datetime_start, datetime_complete FROM "
                                              "trials WHERE trial_id = :id"),
                              {"id": trial_id}).one()
    for moment in stored:
        moment = datetime.fromisoformat(str(moment))
        assert abs(moment - utc_now) < timedelta(seconds=30), (moment, utc_now)

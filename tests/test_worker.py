"""Workers as real processes on a real SQLite file and a real PostgreSQL server."""

import json
import signal
import time

import optuna
import pytest

from service_helpers import finished, start_tuner, states, tuner, write_spec


def test_four_workers_share_one_study_and_meet_the_budget(tmp_path, storage_url):
    spec = write_spec(tmp_path, n_trials=20)
    procs = [start_tuner("worker", spec, "--storage", storage_url) for _ in range(4)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [err for _, err in outs]
    counts = states("cheap", storage_url)
    assert 20 <= finished(counts) <= 23
    assert counts["RUNNING"] == 0 and counts["WAITING"] == 0 and counts["FAIL"] == 0
    # one study, created once, with the spec and its hash stored
    summaries = optuna.get_all_study_summaries(storage_url)
    assert [s.study_name for s in summaries] == ["cheap"]
    assert summaries[0].user_attrs["n_trials"] == 20


def test_every_trial_keeps_its_full_record(tmp_path, sqlite_url):
    spec = write_spec(tmp_path, n_trials=4, study_extra="seed = 7")
    tuner("worker", spec, "--storage", sqlite_url, check=True)
    trials = optuna.load_study(study_name="cheap", storage=sqlite_url).trials
    for t in trials:
        attrs, run = t.user_attrs, t.user_attrs["run"]
        assert run["seed"] == 7 + t.number and run["split_seed"] == 7
        assert set(attrs["config"]) == {"optimizer", "lr", "optimizer_args", "schedule",
                                        "schedule_args", "warmup_epochs"}
        assert attrs["config"]["lr"] == t.params["lr"]
        assert len(run["spec_hash"]) == 64 and run["versions"]["optuna"] == optuna.__version__
        curve = attrs["curve"]
        assert curve["epoch"] == list(range(1, len(curve["epoch"]) + 1))
        assert set(curve) == {"epoch", "train_loss", "val_loss", "val_metric", "lr"}
        assert sorted(t.intermediate_values) == curve["epoch"]
        assert [t.intermediate_values[e] for e in curve["epoch"]] == curve["val_metric"]
        assert run["epochs"] == len(curve["epoch"]) and run["seconds"] > 0
        if t.state.name == "COMPLETE":
            assert t.value == curve["val_metric"][-1] == run["val_metric"]
            assert 0 <= run["test_metric"] <= 1 and run["pruned_reason"] is None
        else:
            assert t.value == curve["val_metric"][-1] and run["pruned_reason"] == "pruner"


def test_diverged_trials_are_pruned_marked_counted_and_visible(tmp_path, storage_url):
    spec = write_spec(tmp_path, task="digits", model="mlp", hidden="[64]", n_trials=6, epochs=3,
                      lr="[30.0, 100.0]", optimizers='["sgd"]')
    tuner("worker", spec, "--storage", storage_url, check=True)
    trials = optuna.load_study(study_name="cheap", storage=storage_url).trials
    assert len(trials) == 6
    for t in trials:
        assert t.state.name == "PRUNED"                      # never FAIL, never COMPLETE
        assert t.user_attrs["diverged"] is True and t.user_attrs["diverged_epoch"] == 1
        assert t.user_attrs["run"]["pruned_reason"] == "diverged"
        assert t.value is None                               # no finite epoch to report
    listed = json.loads(tuner("studies", "--storage", storage_url, "--format", "json",
                              check=True).stdout)
    assert listed[0]["diverged"] == 6 and listed[0]["pruned"] == 6
    rows = json.loads(tuner("trials", "cheap", "--storage", storage_url, "--format", "json",
                            check=True).stdout)
    assert {r["state"] for r in rows} == {"DIVERGED"} and {r["diverged_epoch"] for r in rows} == {1}
    best = tuner("best", "cheap", "--storage", storage_url)
    assert best.returncode == 4 and "no complete trial" in best.stderr


def test_a_study_with_diverging_and_good_trials_keeps_best_finite(tmp_path, sqlite_url):
    spec = write_spec(tmp_path, task="digits", model="mlp", hidden="[64]", n_trials=16,
                      epochs=3, lr="[1e-3, 100.0]", study_extra='sampler = "random"')
    tuner("worker", spec, "--storage", sqlite_url, check=True)
    study = optuna.load_study(study_name="cheap", storage=sqlite_url)
    diverged = [t for t in study.trials if t.user_attrs.get("diverged")]
    assert diverged and all(t.state.name == "PRUNED" for t in diverged)
    best = json.loads(tuner("best", "cheap", "--storage", sqlite_url, "--format", "json",
                            check=True).stdout)
    assert 0 < best["value"] <= 1 and not best["config"]["lr"] > 30


def test_best_json_agrees_with_optunas_own_cli(tmp_path, storage_url):
    spec = write_spec(tmp_path, n_trials=8)
    tuner("worker", spec, "--storage", storage_url, check=True)
    ours = json.loads(tuner("best", "cheap", "--storage", storage_url, "--format", "json",
                            check=True).stdout)
    theirs = json.loads(subprocess_run(["optuna", "best-trial", "--study-name", "cheap",
                                        "--storage", storage_url, "-f", "json"]))
    assert ours["trial"] == theirs["number"]
    assert ours["value"] == pytest.approx(theirs["value"], rel=1e-12)
    assert ours["params"] == theirs["params"]
    assert {"study", "trial", "value", "params", "val_metric", "test_metric"} <= set(ours)


def subprocess_run(cmd) -> str:
    import os
    import subprocess
    import sys
    exe = os.path.join(os.path.dirname(sys.executable), cmd[0])
    return subprocess.run([exe, *cmd[1:]], capture_output=True, text=True, check=True).stdout


def test_a_study_on_a_csv_file_works_end_to_end(tmp_path, sqlite_url):
    from sklearn.datasets import load_wine
    X, y = load_wine(return_X_y=True)
    names = ["class_a", "class_b", "class_c"]
    lines = [",".join([*(f"f{i}" for i in range(X.shape[1])), "label"])]
    lines += [",".join([*(f"{v:.6g}" for v in row), names[c]]) for row, c in zip(X, y)]
    (tmp_path / "wine.csv").write_text("\n".join(lines) + "\n")
    spec = write_spec(tmp_path, task="wine.csv", n_trials=6, epochs=10,
                      study_extra='target = "label"')
    tuner("worker", spec, "--storage", sqlite_url, check=True)
    best = json.loads(tuner("best", "cheap", "--storage", sqlite_url, "--format", "json",
                            check=True).stdout)
    assert best["metric"] == "accuracy" and best["test_metric"] > 0.8


def test_a_second_spec_under_the_same_name_is_refused(tmp_path, sqlite_url):
    spec = write_spec(tmp_path, n_trials=2)
    tuner("worker", spec, "--storage", sqlite_url, check=True)
    other = write_spec(tmp_path, n_trials=2, epochs=7)
    result = tuner("worker", other, "--storage", sqlite_url)
    assert result.returncode == 2
    assert "different spec" in result.stderr and "Traceback" not in result.stderr
    assert finished(states("cheap", sqlite_url)) == 2


def test_more_trials_extend_a_finished_study(tmp_path, sqlite_url):
    spec = write_spec(tmp_path, n_trials=3)
    tuner("worker", spec, "--storage", sqlite_url, check=True)
    tuner("worker", spec, "--storage", sqlite_url, "--n-trials", "5", check=True)
    assert finished(states("cheap", sqlite_url)) == 5


def test_launch_stopped_with_sigint_then_launched_again_finishes_the_budget(tmp_path,
                                                                            storage_url):
    spec = write_spec(tmp_path, task="digits", model="mlp", hidden="[64]", n_trials=16,
                      epochs=300, lr="[1e-3, 1e-2]",   # unpruned trials long enough that the
                      study_extra='pruner = "none"')  # budget is not met before the signal
    launch = start_tuner("launch", spec, "--workers", "2", "--storage", storage_url)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        time.sleep(0.5)
        try:
            if finished(states("cheap", storage_url)) >= 2:
                break
        except KeyError:
            continue
    launch.send_signal(signal.SIGINT)
    out, err = launch.communicate(timeout=120)
    assert launch.returncode == 130, err
    assert "run the same command again to resume" in err
    counts = states("cheap", storage_url)
    assert counts["RUNNING"] == 0 and finished(counts) < 16
    result = tuner("launch", spec, "--workers", "2", "--storage", storage_url)
    assert result.returncode == 0, result.stderr
    counts = states("cheap", storage_url)
    assert 16 <= finished(counts) <= 17
    assert counts["RUNNING"] == 0 and counts["WAITING"] == 0
    assert "lr" in result.stdout and "test accuracy" in result.stdout


def test_eight_processes_creating_the_same_study_at_once(tmp_path, storage_url):
    spec = write_spec(tmp_path, n_trials=8, epochs=2, study_extra="seed_defaults = true")
    procs = [start_tuner("worker", spec, "--storage", storage_url) for _ in range(8)]
    errs = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, errs
    assert [s.study_name for s in optuna.get_all_study_summaries(storage_url)] == ["cheap"]
    assert 8 <= finished(states("cheap", storage_url)) <= 15
    trials = optuna.load_study(study_name="cheap", storage=storage_url).trials
    defaults = sorted(t.system_attrs["fixed_params"]["optimizer"] for t in trials
                      if "fixed_params" in t.system_attrs)
    assert defaults == ["adam", "momentum", "sgd"]          # queued once, by its creator
    # (one queued after the others filled the budget waits: trials run within the budget only)


def test_a_trial_over_its_time_limit_is_pruned_with_reason_timeout(tmp_path, sqlite_url):
    spec = write_spec(tmp_path, task="digits", model="mlp", hidden="[64]", n_trials=3,
                      epochs=5000, lr="[1e-3, 1e-2]",   # seconds of training, stopped at 0.3 s
                      study_extra='trial_timeout = 0.3\npruner = "none"')
    tuner("worker", spec, "--storage", sqlite_url, check=True)
    trials = optuna.load_study(study_name="cheap", storage=sqlite_url).trials
    assert [t.state.name for t in trials] == ["PRUNED"] * 3
    for t in trials:
        run = t.user_attrs["run"]
        assert run["pruned_reason"] == "timeout" and 1 <= run["epochs"] < 5000
        assert t.value == t.user_attrs["curve"]["val_metric"][-1]   # its last finite value


def test_the_study_wide_time_limit_stops_new_trials(tmp_path, sqlite_url):
    spec = write_spec(tmp_path, task="digits", model="mlp", hidden="[64]", n_trials=1000,
                      epochs=10, lr="[1e-3, 1e-2]")
    started = time.monotonic()
    tuner("worker", spec, "--storage", sqlite_url, "--timeout", "3", check=True)
    assert time.monotonic() - started < 30
    counts = states("cheap", sqlite_url)
    assert 1 <= finished(counts) < 1000 and counts["RUNNING"] == 0
    from tuner.dashboard import data
    from tuner.results import studies
    assert [s["state"] for s in studies(sqlite_url)] == ["finished"]       # not "idle"
    assert data.studies(sqlite_url)["state"].tolist() == ["finished"]


def test_seed_defaults_enqueue_each_optimizer_at_its_pytorch_defaults(tmp_path, sqlite_url):
    spec = write_spec(tmp_path, n_trials=3, lr="[1e-4, 1.0]", study_extra="seed_defaults = true")
    tuner("worker", spec, "--storage", sqlite_url, check=True)
    trials = optuna.load_study(study_name="cheap", storage=sqlite_url).trials
    assert [(t.params["optimizer"], t.params["lr"]) for t in trials] == [
        ("sgd", 1e-3), ("momentum", 1e-3), ("adam", 1e-3)]
    assert trials[1].user_attrs["config"]["optimizer_args"]["momentum"] == 0.9


def test_seed_defaults_beyond_the_budget_are_not_queued_nor_run(tmp_path, sqlite_url):
    """Three optimizers' defaults and a budget of one: one trial (queued trials ran whatever
    the budget: three finished, where one worker may finish exactly the budget)."""
    spec = write_spec(tmp_path, n_trials=1, lr="[1e-4, 1.0]", study_extra="seed_defaults = true")
    tuner("worker", spec, "--storage", sqlite_url, check=True)
    trials = optuna.load_study(study_name="cheap", storage=sqlite_url).trials
    assert [(t.state.name, t.params["optimizer"]) for t in trials] == [("COMPLETE", "sgd")]


def test_queued_trials_run_only_within_the_budget(tmp_path, sqlite_url):
    """A trial queued in a study whose budget is met waits for a larger budget."""
    spec = write_spec(tmp_path, n_trials=2)
    tuner("worker", spec, "--storage", sqlite_url, check=True)
    study = optuna.load_study(study_name="cheap", storage=sqlite_url)
    study.enqueue_trial({"optimizer": "adam", "lr": 0.01})
    tuner("worker", spec, "--storage", sqlite_url, check=True)
    assert states("cheap", sqlite_url)["WAITING"] == 1 and len(study.trials) == 3
    tuner("worker", spec, "--storage", sqlite_url, "--n-trials", 3, check=True)
    trials = optuna.load_study(study_name="cheap", storage=sqlite_url).trials
    assert [t.state.name for t in trials] == ["COMPLETE"] * 3
    assert trials[2].params["optimizer"] == "adam" and trials[2].params["lr"] == 0.01


@pytest.mark.parametrize("sampler", ["random", "tpe"])
def test_workers_seeded_alike_draw_different_configurations(tmp_path, sqlite_url, sampler):
    spec = write_spec(tmp_path, n_trials=16, epochs=2, study_extra=f'sampler = "{sampler}"')
    procs = [start_tuner("worker", spec, "--storage", sqlite_url) for _ in range(2)]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    trials = optuna.load_study(study_name="cheap", storage=sqlite_url).trials
    configurations = [tuple(sorted(t.params.items())) for t in trials]
    assert len(configurations) >= 16 and len(set(configurations)) == len(configurations)


def test_one_seeded_worker_draws_the_same_configurations_again(tmp_path):
    spec = write_spec(tmp_path, n_trials=8, epochs=2, study_extra='sampler = "tpe"')
    drawn = []
    for run in ("first", "second"):
        url = f"sqlite:///{tmp_path / f'{run}.db'}"
        tuner("worker", spec, "--storage", url, check=True)
        trials = optuna.load_study(study_name="cheap", storage=url).trials
        drawn.append([(t.number, sorted(t.params.items())) for t in trials])
    assert drawn[0] == drawn[1] and len(drawn[0]) == 8


def test_a_trial_failed_as_stale_before_its_start_was_written_is_left_for_another(tmp_path,
                                                                                 sqlite_url):
    """A worker that stalls (past the grace period) between creating its trial and writing the
    trial's parameters finds it failed by another worker's janitor, which queued it again: the
    worker leaves it and goes on, instead of dying. The janitor's failing is done for real, by
    another storage handle, at that moment."""
    from optuna.trial import TrialState

    from tuner.service.spec import load_spec
    from tuner.service.storage import open_storage
    from tuner.service.worker import Worker

    worker = Worker(load_spec(write_spec(tmp_path, n_trials=3)), sqlite_url)
    janitor = open_storage(sqlite_url)
    write_start = worker.reads.write_start

    def after_a_stall(trial_id):
        janitor.set_trial_state_values(trial_id, TrialState.FAIL)
        worker.reads.write_start = write_start         # once
        return write_start(trial_id)

    worker.reads.write_start = after_a_stall
    report = worker.run()
    counts = states("cheap", sqlite_url)
    assert counts["FAIL"] == 1 and finished(counts) == 3 and counts["RUNNING"] == 0
    assert sum(report.ran.values()) == 3 and report.reason == "budget met"
    first = optuna.load_study(study_name="cheap", storage=sqlite_url).trials[0]
    assert first.state == TrialState.FAIL and first.params == {}


GRID = dict(study_extra='sampler = "grid"', n_trials=20, optimizers='["sgd", "adam"]',
            lr="{values = [0.1, 0.5]}", search_extra="[search.plateau]\nfactor = 0.5\npatience = 2")
GRID_POINTS = {(o, lr, s) for o in ("sgd", "adam") for lr in (0.1, 0.5)
               for s in ("constant", "plateau")}


def grid_points(url: str) -> list[tuple]:
    trials = optuna.load_study(study_name="cheap", storage=url).trials
    return [(t.params["optimizer"], t.params["lr"], t.params["schedule"]) for t in trials]


def test_a_grid_study_tries_every_point_once_then_its_worker_stops(tmp_path, storage_url):
    """8 grid points under a budget of 20: the worker tries each once and exits 0 (Optuna's grid
    sampler called ``study.stop()`` in the last tell, which raised outside ``optimize``: the
    worker died with that trial RUNNING)."""
    spec = write_spec(tmp_path, **GRID)
    result = tuner("worker", spec, "--storage", storage_url)
    assert result.returncode == 0, result.stderr
    assert "every point of the grid tried" in result.stderr + result.stdout
    points = grid_points(storage_url)
    assert sorted(points) == sorted(GRID_POINTS)
    counts = states("cheap", storage_url)
    assert finished(counts) == 8 and counts["RUNNING"] == 0 and counts["WAITING"] == 0


def test_three_workers_share_a_grid_and_stop_when_every_point_is_taken(tmp_path, sqlite_url):
    spec = write_spec(tmp_path, **GRID)
    result = tuner("launch", spec, "--workers", 3, "--storage", sqlite_url)
    assert result.returncode == 0, result.stderr
    points = grid_points(sqlite_url)
    assert set(points) == GRID_POINTS and len(points) <= 8 + 2   # at most one more per worker
    counts = states("cheap", sqlite_url)
    assert counts["RUNNING"] == 0 and counts["WAITING"] == 0 and counts["FAIL"] == 0


SUCCESSIVE_HALVING = """
[study]
name = "cheap"
task = "iris"
n_trials = 8
pruner = "successive_halving"

[model]
name = "mlp"
hidden = [8]

[training]
epochs = 20
metric = "loss"

[search]
optimizers = ["sgd", "adam"]
lr = [1e-3, 0.3]
"""


def test_successive_halving_records_each_rung_at_the_step_the_trial_reached_it(tmp_path,
                                                                              sqlite_url):
    """Optuna's successive halving reads a trial's rung from its stored system attributes and
    writes ``completed_rung_k`` once, with the value at the step the trial reaches the rung
    (min_resource × 4ᵏ; 1 × 4ᵏ here, from the first complete trial's 20 steps). Given a trial
    without them, it started at rung 0 every epoch and overwrote every rung with the latest
    value, so new trials competed with other trials' late values. Validation loss, so values
    differ from epoch to epoch."""
    spec = tmp_path / "sh.toml"
    spec.write_text(SUCCESSIVE_HALVING)
    tuner("worker", spec, "--storage", sqlite_url, check=True)
    trials = optuna.load_study(study_name="cheap", storage=sqlite_url).trials
    rungs = {(t.number, k): t.system_attrs[f"completed_rung_{k}"]
             for t in trials[1:] for k in range(3) if f"completed_rung_{k}" in t.system_attrs}
    assert {k for _, k in rungs} >= {0, 1}                # trials got past rung 0 and 1
    for (number, k), value in rungs.items():
        assert value == trials[number].intermediate_values[4 ** k], (number, k)


def test_a_retry_starts_without_the_failed_attempts_record(tmp_path, sqlite_url):
    """A trial failed as stale is queued again with its parameters but not its attempt's
    record (Optuna's retry callback copies user attributes): while the retry waits or runs,
    nothing shows the old attempt's curve or metrics as its own; run, it writes its own."""
    from datetime import datetime

    import sqlalchemy

    from tuner.service.spec import load_spec
    from tuner.service.worker import Worker

    spec = write_spec(tmp_path, n_trials=2)
    tuner("worker", spec, "--storage", sqlite_url, "--n-trials", 1, check=True)
    storage = optuna.storages.RDBStorage(sqlite_url)
    study = optuna.load_study(study_name="cheap", storage=storage)
    done = study.trials[0]
    attempt = study.ask(fixed_distributions=done.distributions)     # an attempt cut short
    for key in ("config", "run", "curve"):
        attempt.set_user_attr(key, done.user_attrs[key])
    storage.record_heartbeat(attempt._trial_id)
    with storage.engine.begin() as conn:                            # its worker long gone
        conn.execute(sqlalchemy.text("UPDATE trial_heartbeats SET heartbeat = :past"),
                     {"past": datetime(2000, 1, 1)})
    storage.engine.dispose()
    worker = Worker(load_spec(spec), sqlite_url, n_trials=2)       # the retry within it
    worker.fail_stale_trials()
    [retry] = [t for t in optuna.load_study(study_name="cheap", storage=sqlite_url).trials
               if t.state.name == "WAITING"]
    assert retry.system_attrs["failed_trial"] == attempt.number
    assert retry.params == attempt.params and retry.user_attrs == {}
    worker.run()
    again = optuna.load_study(study_name="cheap", storage=sqlite_url).trials[retry.number]
    assert again.state.name == "COMPLETE" and again.params == attempt.params
    assert len(again.user_attrs["curve"]["epoch"]) == again.user_attrs["run"]["epochs"]


def test_a_trial_that_raises_is_told_fail_and_stops_its_worker(tmp_path, sqlite_url,
                                                               monkeypatch):
    """As study.optimize does: the failure is recorded and ends the run (exit 1 from the
    CLI), instead of the worker failing trial after trial without end. (The training loop
    is made to raise: no spec can, as specs and data are checked first.)"""
    from tuner.errors import RunError
    from tuner.service import objective
    from tuner.service.spec import load_spec
    from tuner.service.worker import Worker

    def broken(*args, **kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(objective, "train", broken)
    worker = Worker(load_spec(write_spec(tmp_path, n_trials=5)), sqlite_url)
    with pytest.raises(RunError, match="trial 0 failed: ZeroDivisionError: division by zero"):
        worker.run()
    assert states("cheap", sqlite_url)["FAIL"] == 1 and sum(states("cheap", sqlite_url).values()) == 1

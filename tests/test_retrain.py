"""Re-training on fresh seeds: the pure function (tuner.retrain), the choice among a study's top
configurations and its stored record (tuner.service.retrain), and what `tuner launch` and
`tuner best` show of it."""

import json
import math
import sqlite3
import tomllib

import numpy as np
import optuna
import pytest

from service_helpers import tuner, write_spec
from tuner.metrics import METRICS
from tuner.models import build_model
from tuner.optim import create
from tuner.retrain import confidence_interval, retrain
from tuner.results import retrained
from tuner.schedules import create_schedule
from tuner.service.retrain import ATTR, FRESH_SEED_OFFSET, fresh_seeds, retrain_top, top_trials
from tuner.service.spec import load_spec
from tuner.service.storage import open_storage
from tuner.tasks import load_task
from tuner.train import evaluate, train

CONFIG = {"optimizer": "momentum", "lr": 0.05, "optimizer_args": {"momentum": 0.9},
          "schedule": "step", "schedule_args": {"step_size": 2, "gamma": 0.5}, "warmup_epochs": 0}


def new_model(seed):
    return build_model("mlp", 4, 3, hidden=(8,), seed=seed)


@pytest.fixture(scope="module")
def iris():
    return load_task("iris", seed=0)


def run(iris, config=CONFIG, seeds=(11, 12, 13)):
    return retrain(new_model, iris, config, epochs=5, batch_size=16, metric="accuracy",
                   seeds=seeds)


# --- the pure function ---------------------------------------------------------------------

def test_the_same_arguments_give_the_same_record_bit_for_bit(iris):
    assert run(iris).to_dict() == run(iris).to_dict()


def test_each_run_is_the_training_a_trial_with_that_seed_would_do(iris):
    result = run(iris, seeds=(12,))
    model = new_model(12)
    optimizer = create("momentum", model.params, lr=0.05, momentum=0.9)
    schedule = create_schedule("step", optimizer, epochs=5, step_size=2, gamma=0.5)
    history = train(model, optimizer, iris, epochs=5, batch_size=16, schedule=schedule,
                    metric="accuracy", seed=12)
    test_loss, test_metric = evaluate(model, *iris.test, "accuracy")
    [seed_run] = result.runs
    for column in ("epoch", "train_loss", "val_loss", "val_metric", "lr"):   # not seconds
        assert seed_run.history.column(column) == history.column(column)
    assert (seed_run.test_loss, seed_run.test_metric) == (test_loss, test_metric)


def test_the_record_keeps_every_seed_with_its_curve_lr_and_metrics(iris):
    record = run(iris).to_dict()
    assert record["seeds"] == [11, 12, 13] and record["metric"] == "accuracy"
    assert record["diverged"] == 0
    runs = record["runs"]
    assert [r["seed"] for r in runs] == [11, 12, 13]
    for r in runs:
        assert r["lr"] == 0.05 and r["epochs"] == 5 and r["diverged_epoch"] is None
        assert r["curve"]["epoch"] == [1, 2, 3, 4, 5]
        assert r["curve"]["lr"] == pytest.approx([0.05, 0.05, 0.025, 0.025, 0.0125])
        assert r["val_loss"] == r["curve"]["val_loss"][-1]
        assert r["val_metric"] == r["curve"]["val_metric"][-1]
        assert 0 <= r["test_metric"] <= 1 and r["test_loss"] > 0
    scores = [r["test_metric"] for r in runs]
    assert record["test_metric"] == pytest.approx(np.mean(scores))
    assert record["val_loss"] == pytest.approx(np.mean([r["val_loss"] for r in runs]))
    assert record["ci95"] == pytest.approx(list(confidence_interval(scores, bounds=(0, 1))))
    assert json.loads(json.dumps(record)) == record
    seeds_differ = {tuple(r["curve"]["train_loss"]) for r in runs}
    assert len(seeds_differ) == 3


def test_the_confidence_interval_is_students_t():
    low, high = confidence_interval([0.96, 0.97, 0.98])
    half = 4.302652729911275 * 0.01 / math.sqrt(3)        # t(0.975, 2 degrees of freedom)
    assert (low, high) == pytest.approx((0.97 - half, 0.97 + half))
    assert confidence_interval([0.97]) is None


def test_the_interval_ends_at_the_edge_of_the_metrics_range():
    """Three seeds scoring 0.98, 1 and 1: Student's interval reaches past 1, which no mean
    accuracy can; the record's interval ends at 1 (an r2 likewise at 1, an mse at 0)."""
    scores = [0.98, 1.0, 1.0]
    low, high = confidence_interval(scores)
    assert high > 1.0
    assert confidence_interval(scores, bounds=METRICS["accuracy"].bounds) == (low, 1.0)
    assert confidence_interval([1e-4, 0.0, 0.0], bounds=METRICS["mse"].bounds)[0] == 0.0
    assert METRICS["r2"].bounds[1] == 1.0 and METRICS["loss"].bounds == (-math.inf, math.inf)


def test_diverged_runs_are_counted_and_left_out_of_the_means(iris):
    result = run(iris, config={**CONFIG, "lr": 1e6, "optimizer_args": {"momentum": 0.0}},
                 seeds=(1, 2))
    assert result.diverged == 2 and all(r.test_metric is None for r in result.runs)
    record = result.to_dict()
    assert record["test_metric"] is None and record["val_loss"] is None
    assert record["ci95"] is None
    assert all(r["diverged_epoch"] == 1 for r in record["runs"])


# --- a study's top configurations: choice, storage, CLI -----------------------------------

@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """A finished 10-trial iris study launched with 3 re-training seeds."""
    folder = tmp_path_factory.mktemp("retrain")
    spec = write_spec(folder, "again", n_trials=10, epochs=5, lr="[1e-2, 1.0]")
    url = f"sqlite:///{folder / 'tuner.db'}"
    launched = tuner("launch", spec, "--storage", url, "--retrain-seeds", "3", check=True)
    return {"spec": spec, "url": url, "folder": folder, "launched": launched}


def copy_of(study, path):
    """A copy of the study's SQLite database (WAL included) at ``path``, as a URL."""
    source, target = sqlite3.connect(study["folder"] / "tuner.db"), sqlite3.connect(path)
    source.backup(target)
    source.close(), target.close()
    return f"sqlite:///{path}"


def load(url):
    return optuna.load_study(study_name="again", storage=open_storage(url))


def test_fresh_seeds_are_never_a_trials_seed():
    assert fresh_seeds(7, 3) == [7 + FRESH_SEED_OFFSET + i for i in range(3)]


def test_the_top_configurations_are_retrained_and_the_lowest_mean_val_loss_is_chosen(study):
    s = load(study["url"])
    record = s.user_attrs[ATTR]
    trial_seeds = {t.user_attrs["run"]["seed"] for t in s.trials}
    assert record["seeds"] == fresh_seeds(0, 3) and not trial_seeds & set(record["seeds"])
    top = top_trials(s, 5)
    complete = [t for t in s.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert record["candidates"] == [t.number for t in top] and len(top) == min(5, len(complete))
    assert len(top) >= 3
    values = [t.value for t in top]
    assert values == sorted(values, reverse=True) and values[0] == s.best_value
    results = record["results"]
    assert [r["trial"] for r in results] == record["candidates"]
    converged = [r for r in results if r["diverged"] == 0]
    assert record["chosen"] == min(converged, key=lambda r: r["val_loss"])["trial"]
    spec = load_spec(study["spec"])
    for r in results:                     # each stored result is the pure function's output
        config = s.trials[r["trial"]].user_attrs["config"]
        again = retrain(lambda seed: build_model("softmax_regression", 4, 3, seed=seed),
                        load_task("iris", seed=0), config, epochs=5, batch_size=32,
                        metric="accuracy", seeds=record["seeds"])
        assert {"trial": r["trial"], **again.to_dict()} == r
    assert record["spec_hash"] == spec.hash


def test_best_json_keeps_its_keys_and_adds_the_retrained_choice(study):
    out = json.loads(tuner("best", "again", "--storage", study["url"], "--format", "json",
                           check=True).stdout)
    s = load(study["url"])
    trial = s.best_trial
    assert {k: out[k] for k in ("study", "trial", "value", "params", "val_metric",
                                "test_metric")} == {
        "study": "again", "trial": trial.number, "value": trial.value,
        "params": trial.params, "val_metric": trial.user_attrs["run"]["val_metric"],
        "test_metric": trial.user_attrs["run"]["test_metric"]}
    record = s.user_attrs[ATTR]
    [chosen] = [r for r in record["results"] if r["trial"] == record["chosen"]]
    again = out["retrained"]
    assert again["trial"] == record["chosen"]
    assert again["params"] == s.trials[record["chosen"]].params
    assert again["config"] == s.trials[record["chosen"]].user_attrs["config"]
    assert again["seeds"] == record["seeds"]
    assert again["test_metric"] == chosen["test_metric"] and again["ci95"] == chosen["ci95"]
    assert again["test_metrics"] == [r["test_metric"] for r in chosen["runs"]]
    assert [c["trial"] for c in again["candidates"]] == record["candidates"]
    assert all("test_metric" not in c for c in again["candidates"])   # chosen without test


def test_toml_export_is_the_retrained_choice(study):
    record = load(study["url"]).user_attrs[ATTR]
    out = tuner("best", "again", "--storage", study["url"], "--format", "toml",
                check=True).stdout
    assert out.startswith(f"# re-trained choice of study 'again': trial {record['chosen']}, ")
    config = load(study["url"]).trials[record["chosen"]].user_attrs["config"]
    assert tomllib.loads(out)["search"]["lr"] == config["lr"]


def test_the_launcher_prints_the_retrained_choice(study):
    out = study["launched"].stdout
    record = load(study["url"]).user_attrs[ATTR]
    assert "Re-trained on 3 fresh seeds each" in out
    assert "test accuracy" in out and "mean of 3 seeds; 95% CI" in out
    assert "Re-training the top 5 configurations on 3 fresh seeds" in study["launched"].stderr
    trials = ", ".join(map(str, record["candidates"]))
    assert f"trials {trials}; chosen by the lowest mean validation loss" in out


def test_launching_a_finished_study_again_keeps_the_record(study, tmp_path):
    url = copy_of(study, tmp_path / "copy.db")
    before = load(url).user_attrs[ATTR]
    tuner("launch", study["spec"], "--storage", url, "--retrain-seeds", "3", check=True)
    assert load(url).user_attrs[ATTR] == before
    tuner("launch", study["spec"], "--storage", url, "--retrain-seeds", "2", check=True)
    assert load(url).user_attrs[ATTR]["seeds"] == fresh_seeds(0, 2)


def test_retraining_is_reproducible_across_copies_of_a_study(study, tmp_path):
    records = []
    for name in ("a.db", "b.db"):
        url = copy_of(study, tmp_path / name)
        s = load(url)
        s.set_user_attr(ATTR, None)
        records.append(retrain_top(load_spec(study["spec"]), url, seeds=2, top=3))
    assert records[0] == records[1] and len(records[0]["candidates"]) == 3
    assert records[0] == load(f"sqlite:///{tmp_path / 'a.db'}").user_attrs[ATTR]


def test_a_record_whose_candidates_are_no_longer_the_top_is_not_shown(study, tmp_path):
    url = copy_of(study, tmp_path / "copy.db")
    s = load(url)
    record = s.user_attrs[ATTR]
    assert retrained("again", url) is not None
    s.set_user_attr(ATTR, {**record, "candidates": record["candidates"][::-1]})
    assert retrained("again", url) is None


def test_launch_without_retraining_stores_nothing(tmp_path):
    spec = write_spec(tmp_path, "plain", n_trials=3)
    url = f"sqlite:///{tmp_path / 'tuner.db'}"
    result = tuner("launch", spec, "--storage", url, "--retrain-seeds", "0", check=True)
    assert "Re-trained" not in result.stdout
    assert ATTR not in optuna.load_study(study_name="plain",
                                         storage=open_storage(url)).user_attrs
    assert json.loads(tuner("best", "plain", "--storage", url, "--format", "json",
                            check=True).stdout)["retrained"] is None

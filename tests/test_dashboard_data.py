"""The dashboard's data layer (tuner/tables.py, dashboard/data.py, stats, charts, live) tested
directly, without Streamlit, on SQLite studies produced by real ``tuner worker`` processes —
and on PostgreSQL through a SELECT-only role.

``study_database()`` builds the shared database once per test session (the app and browser
tests import it): a 12-trial iris study, a Rosenbrock surface study, a study whose every trial
diverged, studies with hostile names, a study with only a running trial and a deleted study.
"""

from __future__ import annotations

import json
import math
import shutil
import sqlite3
import subprocess
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
import sqlalchemy
from optuna.storages._rdb import models

from service_helpers import ENV, TUNER, tuner, write_spec
from tuner import tables
from tuner.dashboard import charts, data, stats
from tuner.dashboard.live import LiveTrials
from tuner.dashboard.text import html_text, md
from tuner.errors import StorageError, UnknownStudyError
from tuner.service.storage import open_storage

IRIS, SURFACE, DIVERGED = "iris-dash", "rosen-dash", "all-diverged"
WAITING, DELETED = "no-finished-yet", "deleted-study"
ODD_NAMES = ["'; DROP TABLE--", "<script>alert(1)</script>", "[x](http://evil)", "étude 学習",
             "<img src=x onerror=alert(1)>"]
HOSTILE = "<img src=x onerror=alert(1)>"

SURFACE_SPEC = """
[study]
name = {name}
task = "rosenbrock"
n_trials = {n_trials}
pruner = "none"

[training]
epochs = {epochs}
steps_per_epoch = {steps}

[search]
optimizers = {optimizers}
lr = {lr}
{extra}
"""


def surface_spec(folder: Path, name: str, *, n_trials: int = 2, epochs: int = 2, steps: int = 20,
                 optimizers: str = '["sgd", "momentum", "adam"]', lr: str = "[1e-4, 1e-2]",
                 extra: str = "momentum = [0.5, 0.99]") -> Path:
    """A cheap Rosenbrock spec (named with any characters: the name is JSON-quoted)."""
    path = folder / f"surface-{abs(hash(name))}.toml"
    path.write_text(SURFACE_SPEC.format(name=json.dumps(name), n_trials=n_trials, epochs=epochs,
                                        steps=steps, optimizers=optimizers, lr=lr, extra=extra),
                    encoding="utf-8")
    return path


def add_running_trial(url: str, name: str) -> None:
    """A study with one RUNNING trial and nothing finished (as right after a worker starts)."""
    study = optuna.create_study(study_name=name, storage=open_storage(url),
                                direction="maximize")
    for key, value in {"task": "iris", "metric": "accuracy", "n_trials": 10}.items():
        study.set_user_attr(key, value)
    trial = study.ask({"optimizer": optuna.distributions.CategoricalDistribution(["sgd"]),
                       "lr": optuna.distributions.FloatDistribution(1e-3, 1.0, log=True)})
    trial.set_user_attr("config", {"optimizer": "sgd", "lr": trial.params["lr"],
                                   "optimizer_args": {"momentum": 0.0}, "schedule": "constant",
                                   "schedule_args": {}, "warmup_epochs": 0})


def build_study_database(folder: Path) -> str:
    """Run the real workers that make every study the dashboard tests use; returns the URL."""
    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{folder / 'tuner.db'}"
    spec = write_spec(folder, IRIS, n_trials=12, optimizers='["sgd", "momentum", "adam"]',
                      search_extra="momentum = [0.5, 0.99]")
    tuner("worker", spec, "--storage", url, check=True)        # creates the tables alone
    specs = [surface_spec(folder, SURFACE, n_trials=8, epochs=3, steps=50),
             surface_spec(folder, DIVERGED, n_trials=3, optimizers='["sgd"]', lr="[2.0, 5.0]",
                          extra=""),
             surface_spec(folder, DELETED)]
    specs += [surface_spec(folder, name) for name in ODD_NAMES]
    workers = [subprocess.Popen([*TUNER, "worker", str(s), "--storage", url], env=ENV,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for s in specs]
    for w in workers:
        out, err = w.communicate(timeout=300)
        assert w.returncode == 0, err
    tuner("delete", DELETED, "--storage", url, check=True)
    add_running_trial(url, WAITING)
    return url


_BUILT: dict[str, str] = {}


def study_database(tmp_path_factory) -> str:
    """The shared database's URL, built on first use in this test session."""
    if "url" not in _BUILT:
        _BUILT["url"] = build_study_database(tmp_path_factory.mktemp("dashboard-studies"))
    return _BUILT["url"]


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    return study_database(tmp_path_factory)


@pytest.fixture(scope="module")
def iris(url):
    return data.trials(url, IRIS)


# --- Optuna's schema: fail loudly when it changes -----------------------------------------------

def test_tables_was_written_for_this_optuna_schema(url):
    """tuner/tables.py reads Optuna's tables directly. When this fails after an Optuna upgrade,
    re-check every query in tuner/tables.py against the new schema, then update
    SCHEMA_VERSION, ALEMBIC_REVISION and the Table definitions there."""
    assert models.SCHEMA_VERSION == tables.SCHEMA_VERSION
    head = optuna.storages.RDBStorage("sqlite://").get_head_version()
    assert head == tables.ALEMBIC_REVISION, f"Optuna's alembic head is now {head}"
    optuna_tables = models.BaseModel.metadata.tables
    for name, columns in tables.COLUMNS.items():
        if name == "alembic_version":
            continue
        assert name in optuna_tables, f"Optuna no longer has table {name}"
        assert set(columns) == {c.name for c in optuna_tables[name].columns}, name
    engine = tables.create_engine(url)
    assert tables.schema_version(engine) == (tables.SCHEMA_VERSION, tables.ALEMBIC_REVISION)
    assert tables.schema_problem(engine) is None


# --- studies ------------------------------------------------------------------------------------

def test_studies_agree_with_the_read_api(url):
    frame = data.studies(url)
    assert list(frame.columns) == data.STUDY_COLUMNS
    assert set(frame["study"]) == {IRIS, SURFACE, DIVERGED, WAITING, *ODD_NAMES}
    from tuner.results import studies as read_api_studies
    for expected in read_api_studies(url):
        row = frame[frame["study"] == expected["study"]].iloc[0]
        assert row["task"] == expected["task"] and row["metric"] == expected["metric"]
        assert row["state"] == expected["state"]
        assert row["complete"] == expected["complete"]
        assert row["diverged"] == expected["diverged"]
        assert row["pruned"] == expected["pruned"] - expected["diverged"]
        assert row["failed"] == expected["fail"] and row["running"] == expected["running"]
        assert row["finished"] == expected["finished"]
        if expected["best_value"] is None:
            assert pd.isna(row["best_value"])
        else:
            assert row["best_value"] == pytest.approx(expected["best_value"])
    iris_row = frame[frame["study"] == IRIS].iloc[0]
    assert iris_row["state"] == "finished" and iris_row["finished"] >= 12
    assert frame.loc[frame["study"] == WAITING, "state"].item() == "running"


def test_trials_agree_with_optuna(url, iris):
    study = optuna.load_study(study_name=IRIS, storage=open_storage(url, read_only=True))
    expected = study.get_trials(deepcopy=False)
    assert list(iris.columns) == data.TRIAL_COLUMNS
    assert iris["number"].tolist() == [t.number for t in expected]
    for t, row in zip(expected, iris.itertuples()):
        assert row.state == t.state.name
        assert row.diverged == bool(t.user_attrs.get("diverged"))
        assert row.config == t.user_attrs["config"]
        assert row.lr == t.user_attrs["config"]["lr"]
        assert row.optimizer == t.user_attrs["config"]["optimizer"]
        if t.value is None:
            assert math.isnan(row.value)
        else:
            assert row.value == t.value
        run = t.user_attrs["run"]
        assert row.epochs == run["epochs"]
        assert row.test_metric == pytest.approx(run["test_metric"])
    best = stats.ranked_complete(iris, "maximize").iloc[0]
    assert int(best["number"]) == study.best_trial.number
    record = data.best_record(data.study_info(url, IRIS), best,
                              data.trial_params(url, data.study_info(url, IRIS)["study_id"],
                                                int(best["number"])))
    from tuner.results import best as read_api_best
    assert record == read_api_best(IRIS, url)


def test_curves_and_paths_are_read_for_the_requested_trials_only(url, iris):
    info = data.study_info(url, IRIS)
    study = optuna.load_study(study_name=IRIS, storage=open_storage(url, read_only=True))
    curves = data.curves(url, info["study_id"], [0, 3])
    assert set(curves["number"]) == {0, 3}
    assert list(curves.columns) == data.CURVE_COLUMNS
    stored = study.trials[3].user_attrs["curve"]
    part = curves[curves["number"] == 3]
    assert part["epoch"].tolist() == stored["epoch"]
    assert part["lr"].tolist() == pytest.approx(stored["lr"])
    assert data.curves(url, info["study_id"], []).empty
    surface = data.study_info(url, SURFACE)
    paths = data.paths(url, surface["study_id"], [0, 1])
    assert set(paths["number"]) == {0, 1}
    assert paths[paths["number"] == 0][["x", "y"]].iloc[0].tolist() == [-1.2, 1.0]
    assert "curve" not in iris.columns and "path" not in iris.columns


def test_importance_is_optunas_on_a_read_only_storage(url):
    info = data.study_info(url, IRIS)
    ours = data.importances(url, info["study_id"], info["direction"])
    study = optuna.load_study(study_name=IRIS, storage=open_storage(url, read_only=True))
    theirs = optuna.importance.get_param_importances(study)
    assert dict(zip(ours["param"], ours["importance"])) == pytest.approx(dict(theirs))
    assert ours["importance"].sum() == pytest.approx(1.0)


# --- the views' frames and figures --------------------------------------------------------------

def test_sensitivity_points_bands_and_chart(url, iris):
    points = stats.sensitivity_points(iris, "val_metric")
    assert set(points["kind"]) <= {"complete", "pruned", "diverged"}
    assert len(points) == int(iris["state"].isin(["COMPLETE", "PRUNED"]).sum())
    bands = stats.sensitivity_bands(points, min_points=2)
    assert not bands.empty and (bands["low"] <= bands["median"]).all()
    assert (bands["median"] <= bands["high"]).all()
    fig = charts.lr_sensitivity(points, bands, metric_label="validation accuracy",
                                direction="maximize")
    assert fig.layout.xaxis.type == "log"
    test_points = stats.sensitivity_points(iris, "test_metric")
    assert test_points["metric"].tolist() != points["metric"].tolist()


def test_diverged_trials_are_drawn_on_the_edge_without_squashing_the_axis(url):
    surface = data.trials(url, SURFACE)
    frame = pd.concat([surface, data.trials(url, DIVERGED)], ignore_index=True)
    points = stats.sensitivity_points(frame, "val_metric")
    assert (points["kind"] == "diverged").sum() >= 3
    fig = charts.lr_sensitivity(points, stats.sensitivity_bands(points), metric_label="loss",
                                direction="minimize")
    low, high = fig.layout.yaxis.range
    crosses = [t for t in fig.data if t.name and t.name.endswith("diverged")]
    assert crosses
    for trace in crosses:
        assert all(low < y < high for y in trace.y)              # inside the plot …
        finite = points["metric"].dropna()
        assert all(y > finite.max() for y in trace.y)            # … on the worst (top) edge
        assert len(trace.x) == len(trace.y)
    assert high - low < 10 * (points["metric"].max() - points["metric"].min() + 1)


def test_only_diverged_study(url):
    frame = data.trials(url, DIVERGED)
    assert len(frame) >= 3 and frame["diverged"].all()
    assert (frame["status"] == "DIVERGED").all() and (frame["state"] == "PRUNED").all()
    assert stats.ranked_complete(frame, "minimize").empty
    points = stats.sensitivity_points(frame, "val_metric")
    assert (points["kind"] == "diverged").all()
    assert stats.sensitivity_bands(points).empty and stats.lr_momentum_grid(points).empty
    fig = charts.lr_sensitivity(points, stats.sensitivity_bands(points), metric_label="loss",
                                direction="minimize")
    assert len(fig.data) == 1
    summary = data.studies(url).set_index("study").loc[DIVERGED]
    assert summary["diverged"] == len(frame) and pd.isna(summary["best_value"])
    assert stats.group_summary(frame, "optimizer", "val_metric", "minimize")["diverged"].sum() \
        == len(frame)


def test_no_finished_trial_yet(url):
    frame = data.trials(url, WAITING)
    assert frame["state"].tolist() == ["RUNNING"]
    assert stats.sensitivity_points(frame, "val_metric").empty
    assert stats.ranked_complete(frame, "maximize").empty
    assert stats.best_so_far(frame, "maximize").empty
    info = data.study_info(url, WAITING)
    assert data.curves(url, info["study_id"], [0]).empty
    assert data.importances(url, info["study_id"], "maximize").empty


def test_deleted_study(url):
    assert DELETED not in set(data.studies(url)["study"])
    with pytest.raises(UnknownStudyError, match="no study named"):
        data.study_info(url, DELETED)
    with pytest.raises(UnknownStudyError):
        data.trials(url, DELETED)
    assert data.trials(url, 10_000).empty                         # a vanished study id


@pytest.mark.parametrize("name", ODD_NAMES)
def test_odd_study_names_are_read_exactly_and_escaped(url, name):
    assert name in set(data.studies(url)["study"])
    info = data.study_info(url, name)
    assert info["study"] == name
    frame = data.trials(url, name)
    assert len(frame) >= 2
    escaped = md(name)
    for char in "<>[]()*_`":
        assert char not in escaped.replace("\\" + char, "")
    assert "<" not in html_text(name) and ">" not in html_text(name)
    command = data.best_command(name, url)
    import shlex
    assert shlex.split(command)[2] == name


def test_trial_frame_of_a_study_with_hostile_optimizer_names_escapes_charts():
    frame = pd.DataFrame({"number": [0, 1], "optimizer": [HOSTILE, "sgd"], "lr": [0.1, 0.01],
                          "metric": [0.5, 0.7], "kind": ["complete", "complete"],
                          "schedule": ["<b>x</b>", "constant"], "diverged_epoch": [None, None],
                          "momentum": [0.9, 0.5]})
    fig = charts.lr_sensitivity(frame, stats.sensitivity_bands(frame), metric_label="<i>m</i>",
                                direction="maximize")
    text = fig.to_json()
    assert "<img" not in text and "<b>x" not in text and "<i>m" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text


def test_charts_of_a_large_study_use_webgl_and_keep_diverged_markers():
    rng = np.random.default_rng(0)
    count = charts.WEBGL_ABOVE + 1000
    frame = pd.DataFrame({"number": range(count), "optimizer": rng.choice(["sgd", "adam"], count),
                          "lr": 10 ** rng.uniform(-4, 0, count), "metric": rng.random(count),
                          "kind": rng.choice(["complete", "pruned", "diverged"], count,
                                             p=[0.8, 0.15, 0.05]),
                          "schedule": "constant", "diverged_epoch": 3, "momentum": 0.9,
                          "value": rng.random(count)})
    frame.loc[frame["kind"] == "diverged", "metric"] = np.nan
    fig = charts.lr_sensitivity(frame, stats.sensitivity_bands(frame), metric_label="m",
                                direction="maximize")
    kinds = {t.name: t.type for t in fig.data if t.name}
    assert kinds["sgd"] == "scattergl" and kinds["sgd diverged"] == "scatter"
    history = frame.assign(best=frame["value"].cummax())
    assert charts.history(history, metric_label="m").data[0].type == "scattergl"


# --- empty and missing databases ----------------------------------------------------------------

def test_empty_database_file_without_tables(tmp_path):
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()
    url = f"sqlite:///{path}"
    frame = data.studies(url)
    assert frame.empty and list(frame.columns) == data.STUDY_COLUMNS
    with pytest.raises(UnknownStudyError, match="holds no studies"):
        data.study_info(url, "anything")
    assert not [p.name for p in tmp_path.iterdir() if p.name != "empty.db"]
    assert sqlite3.connect(path).execute("select count(*) from sqlite_master").fetchone()[0] == 0


def test_database_with_other_tables_only(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("create table notes (x text)")
    assert data.studies(f"sqlite:///{path}").empty


def test_missing_database_file(tmp_path):
    with pytest.raises(StorageError, match="no SQLite database"):
        data.studies(f"sqlite:///{tmp_path / 'nope.db'}")
    assert not (tmp_path / "nope.db").exists()


def test_reads_never_write(url, tmp_path):
    path = Path(url.removeprefix("sqlite:///"))
    copy = tmp_path / "copy.db"
    shutil.copy(path, copy)
    before = copy.read_bytes()
    copy_url = f"sqlite:///{copy}"
    data.studies(copy_url)
    data.trials(copy_url, IRIS)
    engine = tables.create_engine(copy_url)
    with pytest.raises(sqlalchemy.exc.OperationalError, match="readonly"):
        with engine.begin() as conn:
            conn.exec_driver_sql("delete from studies")
    assert copy.read_bytes() == before


# --- live refresh: only what changed ------------------------------------------------------------

def test_live_refresh_reads_only_new_and_open_trials(url, tmp_path):
    path = tmp_path / "live.db"
    shutil.copy(Path(url.removeprefix("sqlite:///")), path)
    live_url = f"sqlite:///{path}"
    study = optuna.load_study(study_name=IRIS, storage=open_storage(live_url))
    info = data.study_info(live_url, IRIS)
    live = LiveTrials(live_url, info["study_id"], min_interval=0)
    first = live.current()
    assert live.reads == len(first) >= 12
    # Each refresh reads the oldest finished trial again (the study's identity) and what changed.
    assert live.current() is not None and live.reads == 1            # nothing changed
    trial = study.ask()                                              # a worker starts one
    trial.suggest_float("lr", 1e-3, 1.0, log=True)
    assert len(live.current()) == len(first) + 1 and live.reads == 1 + 1
    assert live.frame.iloc[-1]["state"] == "RUNNING"
    assert live.current() is not None and live.reads == 1 + 1        # the running one again
    study.tell(trial, 0.5)
    frame = live.current()
    assert live.reads == 1 + 1 and frame.iloc[-1]["state"] == "COMPLETE"
    assert frame.iloc[-1]["value"] == 0.5
    assert live.current() is not None and live.reads == 1
    full = data.trials(live_url, IRIS)
    pd.testing.assert_frame_equal(frame.reset_index(drop=True), full)


def _study_of(url: str, name: str, values: list[float]) -> int:
    """A study ``name`` with a complete trial of each of ``values``; its study id."""
    study = optuna.create_study(study_name=name, storage=url)
    for value in values:
        study.add_trial(optuna.trial.create_trial(
            params={"lr": 0.1}, distributions={"lr": optuna.distributions.FloatDistribution(
                1e-3, 1.0, log=True)}, value=value))
    return study._study_id


@pytest.mark.parametrize("again", [2, 5])
def test_live_trials_of_a_study_deleted_and_created_again_are_the_new_ones(tmp_path, again):
    """SQLite gives a study deleted and created again the same study id and trial ids: the
    shared live frame must then show the new study's trials, fewer or more than before."""
    url = f"sqlite:///{tmp_path / 'again.db'}"
    study_id = _study_of(url, "exp", [0.1, 0.2, 0.3])
    live = LiveTrials(url, study_id, min_interval=0)
    assert live.current()["value"].tolist() == [0.1, 0.2, 0.3]
    optuna.delete_study(study_name="exp", storage=url)
    new = [0.7 + i for i in range(again)]
    assert _study_of(url, "exp", new) == study_id                  # the same id again
    assert live.current()["value"].tolist() == new
    pd.testing.assert_frame_equal(live.current(), data.trials(url, "exp"))


def test_a_read_only_engine_reads_a_database_file_made_anew(tmp_path):
    """The dashboard keeps one engine per URL for its whole life: a database file deleted and
    created again (a fresh start of the studies) must be read, not the deleted one."""
    path = tmp_path / "anew.db"
    url = f"sqlite:///{path}"
    _study_of(url, "old", [0.5])
    engine = tables.create_engine(url)
    assert [s["study"] for s in tables.study_list(engine)] == ["old"]
    for leftover in tmp_path.glob("anew.db*"):
        leftover.unlink()
    _study_of(url, "new", [0.5])
    assert [s["study"] for s in tables.study_list(engine)] == ["new"]


def test_the_retrained_choice_is_read_as_the_read_api_reads_it(url, tmp_path):
    """data.retrained (from the stored record, the ranked trials and the curves of the trials
    tied at the boundary) agrees with tuner.results.retrained, also once a new trial enters
    the top (the record is then out of date: None from both)."""
    import tuner.api
    from tuner import results
    from tuner.dashboard import stats
    shutil.copy(Path(url.removeprefix("sqlite:///")), tmp_path / "tuner.db")
    copy = f"sqlite:///{tmp_path / 'tuner.db'}"

    def both():
        info = data.study_info(copy, IRIS)
        ranked = stats.ranked_complete(data.trials(copy, IRIS), info["direction"])
        return data.retrained(info, ranked, url=copy), results.retrained(IRIS, copy)

    assert both() == (None, None)
    spec = write_spec(tmp_path, IRIS, n_trials=12, optimizers='["sgd", "momentum", "adam"]',
                      search_extra="momentum = [0.5, 0.99]")
    tuner.api.retrain(spec, storage=copy, seeds=2, top=3)
    ours, theirs = both()
    assert theirs is not None and ours == theirs
    study = optuna.load_study(study_name=IRIS, storage=open_storage(copy))
    best = study.best_trial
    study.add_trial(optuna.trial.create_trial(params=best.params, distributions=best.distributions,
                                              value=2.0, user_attrs=best.user_attrs))
    assert both() == (None, None)


def test_merge_fills_a_trial_committed_late(iris):
    known = iris[iris["number"] != 2].reset_index(drop=True)
    missing = iris[iris["number"] == 2]
    merged = data.merge_trials(known, missing)
    assert merged["number"].tolist() == iris["number"].tolist()


# --- stats helpers ------------------------------------------------------------------------------

def test_the_lr_momentum_map_pools_the_sgd_family_by_default(iris):
    """RMSprop's momentum acts on a step scaled by the gradient's RMS, its LR on another
    scale: the map pools only SGD with momentum and Nesterov unless told otherwise."""
    points = stats.sensitivity_points(iris, "val_metric")
    done = points[(points["kind"] == "complete") & (points["momentum"] > 0)]
    assert len(done) >= 4
    half = done["number"].iloc[::2]
    mixed = points.assign(optimizer=points["optimizer"].where(~points["number"].isin(half),
                                                              "rmsprop"))
    names, pooled = stats.momentum_optimizers(mixed)
    assert names == sorted({"rmsprop", *done["optimizer"]}) and "rmsprop" not in pooled
    grid = stats.lr_momentum_grid(mixed, optimizers=pooled)
    assert grid["trials"].sum() == len(done) - len(half)
    assert stats.lr_momentum_grid(mixed)["trials"].sum() == len(done)
    only = stats.momentum_optimizers(mixed[mixed["optimizer"] == "rmsprop"])
    assert only == (["rmsprop"], ["rmsprop"])            # nothing else to pool: that one


def test_lr_momentum_grid_and_filters(iris):
    points = stats.sensitivity_points(iris, "val_metric")
    grid = stats.lr_momentum_grid(points, bins=4)
    done = points[(points["kind"] == "complete") & (points["momentum"] > 0)]
    assert grid["trials"].sum() == len(done)
    assert set(grid.columns) == {"log_lr", "momentum", "median", "trials"}
    sgd = stats.filter_trials(iris, optimizers=["sgd"])
    expected = [n for n, o in zip(iris["number"], iris["optimizer"]) if o == "sgd"]
    assert expected and sgd["number"].tolist() == expected
    low, high = iris["lr"].quantile([0.25, 0.75])
    some = stats.filter_trials(iris, lr_range=(low, high), statuses=["COMPLETE"])
    expected = [n for n, lr, st in zip(iris["number"], iris["lr"], iris["status"])
                if low <= lr <= high and st == "COMPLETE"]
    assert expected and some["number"].tolist() == expected
    summary = stats.group_summary(iris, "optimizer", "val_metric", "maximize")
    assert summary["trials"].sum() == len(iris)                 # every trial finished
    assert (summary["trials"] == summary[["complete", "pruned", "diverged"]].sum(axis=1)).all()
    unfinished = iris.iloc[:3].assign(state=["FAIL", "RUNNING", "WAITING"], diverged=False)
    again = stats.group_summary(pd.concat([iris, unfinished]), "optimizer", "val_metric",
                                "maximize")
    pd.testing.assert_frame_equal(again, summary)               # a failed attempt, open trials
    history = stats.best_so_far(iris, "maximize")
    assert history["best"].is_monotonic_increasing
    assert np.allclose(history["best"].iloc[-1], iris.loc[iris["state"] == "COMPLETE",
                                                          "value"].max())


# --- PostgreSQL through a SELECT-only role ------------------------------------------------------

def test_postgresql_with_a_select_only_role(postgres_server, tmp_path):
    pg_url = postgres_server.create_database("dashboard_readonly")
    spec = write_spec(tmp_path, IRIS, n_trials=6)
    tuner("worker", spec, "--storage", pg_url, check=True)
    postgres_server.psql("CREATE ROLE dash_reader LOGIN PASSWORD 'reader-pw'")
    postgres_server.psql("GRANT CONNECT ON DATABASE dashboard_readonly TO dash_reader")
    postgres_server.psql("GRANT USAGE ON SCHEMA public TO dash_reader; GRANT SELECT ON ALL "
                         "TABLES IN SCHEMA public TO dash_reader", database="dashboard_readonly")
    reader = postgres_server.url("dashboard_readonly", user="dash_reader", password="reader-pw")
    frame = data.studies(reader)
    assert frame["study"].tolist() == [IRIS] and frame["finished"].item() >= 6
    trials = data.trials(reader, IRIS)
    assert len(trials) >= 6 and trials["config"].notna().all()
    info = data.study_info(reader, IRIS)
    assert not data.curves(reader, info["study_id"], [0, 1]).empty
    assert not data.importances(reader, info["study_id"], info["direction"]).empty
    best = stats.ranked_complete(trials, "maximize").iloc[0]
    assert data.trial_params(reader, info["study_id"], int(best["number"]))
    engine = tables.create_engine(reader)
    assert tables.schema_problem(engine) is None
    with pytest.raises(sqlalchemy.exc.DBAPIError):             # read-only, and only SELECT
        with engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM studies")
    assert data.studies(pg_url)["study"].tolist() == [IRIS]


def test_unreachable_postgresql_is_one_line():
    with pytest.raises(StorageError, match="cannot connect") as caught:
        data.studies("postgresql://nobody:secret-pw@127.0.0.1:9/none")
    assert "secret-pw" not in str(caught.value) and "\n" not in str(caught.value)

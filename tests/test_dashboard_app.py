"""Every dashboard page run by Streamlit's AppTest on studies produced by real workers (the
shared database of test_dashboard_data.py): no exception, the expected elements present — and a
clear message, never a traceback, for an empty or missing database, a deleted study, a study
with no finished trial, one whose trials all diverged, and hostile study names."""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from pathlib import Path

import optuna
import pytest
from streamlit.testing.v1 import AppTest

import tuner.dashboard
from test_dashboard_data import (DIVERGED, IRIS, ODD_NAMES, SURFACE, WAITING,
                                 study_database)
from tuner.dashboard import loaders
from tuner.dashboard.text import md
from tuner.service.storage import open_storage

APP = str(Path(tuner.dashboard.__file__).resolve().parent / "app.py")
PAGES = ["studies", "best", "sensitivity", "curves", "compare", "surfaces", "trials"]


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    return study_database(tmp_path_factory)


def run_page(storage: str, page: str, study: str | None = None, monkeypatch=None) -> AppTest:
    """Run ``page`` of the app on ``storage`` with ``study`` chosen; asserts no exception."""
    monkeypatch.setenv("TUNER_STORAGE", storage)
    at = AppTest.from_file(APP, default_timeout=60)
    if study is not None:
        at.session_state["study"] = study
    if page != "studies":
        at.switch_page(f"views/{page}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def charts(at: AppTest) -> list:
    return list(at.get("plotly_chart"))


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def test_studies_page_lists_every_study(url, monkeypatch):
    at = run_page(url, "studies", monkeypatch=monkeypatch)
    assert at.title[0].value == "Studies"
    table = at.dataframe[0].value
    assert set(table["study"]) == {IRIS, SURFACE, DIVERGED, WAITING, *ODD_NAMES}
    for column in ("task", "state", "complete", "pruned", "diverged", "failed", "best_value",
                   "last_update"):
        assert column in table.columns
    assert at.selectbox(key="study").value in set(table["study"])
    assert "Refreshing every 5 s." in texts(at.sidebar.caption)
    at.toggle(key="live").set_value(False).run()
    assert "Live refresh is off." in texts(at.sidebar.caption)


def test_best_configuration_page(url, monkeypatch):
    at = run_page(url, "best", IRIS, monkeypatch)
    labels = [m.label for m in at.metric]
    assert labels == ["validation accuracy", "test accuracy", "epochs trained"]
    code = {c.language: c.value for c in at.code}
    best = json.loads(code["json"])
    assert best["study"] == IRIS and best["config"]["optimizer"] in ("sgd", "momentum", "adam")
    assert "[search]" in code["toml"] and "optimizers = [" in code["toml"]
    assert "torch.optim." in code["python"]
    assert code["bash"].startswith(f"tuner best {IRIS} --storage ")
    assert len(at.dataframe) == 2                             # the configuration, runners-up
    from tuner.api import best_and_retrained
    assert best == best_and_retrained(IRIS, url)              # `tuner best --format json`
    assert best["retrained"] is None


@pytest.fixture(scope="module")
def retrained_url(url, tmp_path_factory):
    """A copy of the shared database in which the iris study's top 3 trials were re-trained
    (as the launcher does at the end), on 2 fresh seeds each."""
    import tuner.api
    from service_helpers import write_spec
    folder = tmp_path_factory.mktemp("retrained")
    shutil.copy(url.removeprefix("sqlite:///"), folder / "tuner.db")
    copy = f"sqlite:///{folder / 'tuner.db'}"
    spec = write_spec(folder, IRIS, n_trials=12, optimizers='["sgd", "momentum", "adam"]',
                      search_extra="momentum = [0.5, 0.99]")     # the study's own spec
    tuner.api.retrain(spec, storage=copy, seeds=2, top=3)
    return copy


def test_best_configuration_page_shows_and_exports_the_retrained_choice(retrained_url,
                                                                          monkeypatch):
    """With a re-training on record, the page shows the chosen configuration and its means,
    and exports what `tuner best` prints: the same JSON, and TOML and PyTorch lines of the
    re-trained choice."""
    from tuner.api import best_and_retrained
    from tuner.cli import format_best
    expected = best_and_retrained(IRIS, retrained_url)
    assert expected["retrained"] is not None
    at = run_page(retrained_url, "best", IRIS, monkeypatch)
    code = {c.language: c.value for c in at.code}
    assert json.loads(code["json"]) == expected
    assert code["toml"].rstrip("\n") == format_best(expected, "toml")
    assert code["python"].rstrip("\n") == format_best(expected, "torch")
    labels = [m.label for m in at.metric]
    assert labels[:3] == ["validation accuracy, mean", "test accuracy, mean",
                          "95% CI of the test mean"]
    assert at.subheader[0].value == f"Recommended: trial {expected['retrained']['trial']}"


def test_lr_sensitivity_page_with_metric_switch(url, monkeypatch):
    at = run_page(url, "sensitivity", IRIS, monkeypatch)
    assert at.title[0].value == "LR sensitivity"
    assert len(charts(at)) == 2                               # LR chart, LR × momentum
    before = json.loads(charts(at)[0].proto.spec)
    assert before["layout"]["xaxis"]["type"] == "log"
    at.segmented_control(key="sensitivity_metric").set_value("test").run()
    assert not at.exception
    after = json.loads(charts(at)[0].proto.spec)
    assert after["layout"]["yaxis"]["title"]["text"] == "test accuracy"
    assert before["layout"]["yaxis"]["title"]["text"] == "validation accuracy"
    pooled = at.multiselect(key="lr_momentum_optimizers:momentum")   # reset when that changes
    assert pooled.value == ["momentum"]            # the SGD family with momentum in this study
    pooled.set_value([]).run()
    assert len(charts(at)) == 1 and "among the optimizers chosen" in texts(at.info)


def test_learning_curves_page(url, monkeypatch):
    def drawn(at) -> set[int]:
        """The trial numbers the chart has curves of (legend groups are "#N …" labels)."""
        [chart] = charts(at)
        return {int(t["legendgroup"].split()[0].lstrip("#")) for t in
                json.loads(chart.proto.spec)["data"]}

    at = run_page(url, "curves", IRIS, monkeypatch)
    spec = json.loads(charts(at)[0].proto.spec)
    assert spec["layout"]["yaxis2"]["type"] == "log"                     # LR panel
    top = drawn(at)
    assert len(top) == 5                                                 # the top 5 trials
    picked = min(set(range(len(at.multiselect(key="curves_picked").options))) - top)
    at.multiselect(key="curves_picked").select(picked).run()
    assert not at.exception and drawn(at) == top | {picked}
    at.number_input(key="curves_top").set_value(0).run()
    assert not at.exception and drawn(at) == {picked}


def test_comparisons_page(url, monkeypatch):
    at = run_page(url, "compare", IRIS, monkeypatch)
    assert len(charts(at)) == 4                 # 2 distributions, importance, history
    per_optimizer = at.dataframe[0].value
    trials = optuna.load_study(study_name=IRIS, storage=url).trials
    assert set(per_optimizer["optimizer"]) == {t.params["optimizer"] for t in trials
                                               if "optimizer" in t.params} != set()
    assert "Parameter importance" in texts(at.subheader)


def test_surfaces_page(url, monkeypatch):
    at = run_page(url, "surfaces", SURFACE, monkeypatch)
    [chart] = charts(at)
    spec = json.loads(chart.proto.spec)
    assert spec["data"][0]["type"] == "contour"
    assert any(t.get("mode") == "lines" for t in spec["data"][1:])
    at = run_page(url, "surfaces", IRIS, monkeypatch)
    assert not charts(at) and "not a 2-D surface" in texts(at.info)


def test_trials_page_filters_and_downloads(url, monkeypatch):
    at = run_page(url, "trials", IRIS, monkeypatch)
    table = at.dataframe[0].value
    assert len(table) >= 12
    at.multiselect(key="trials_optimizer").set_value(["sgd"]).run()
    assert not at.exception
    sgd = sorted(t.number for t in optuna.load_study(study_name=IRIS, storage=url).trials
                 if t.params.get("optimizer") == "sgd")
    assert sgd and sorted(at.dataframe[0].value["number"]) == sgd
    assert len(at.get("download_button")) == 1


# --- edge cases: a message, never a traceback ---------------------------------------------------

@pytest.mark.parametrize("page", PAGES)
def test_empty_database(tmp_path, monkeypatch, page):
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()
    at = run_page(f"sqlite:///{path}", page, monkeypatch=monkeypatch)
    assert "No studies in this database yet" in texts(at.info)
    assert path.stat().st_size == 0


def test_missing_database(tmp_path, monkeypatch):
    at = run_page(f"sqlite:///{tmp_path / 'missing.db'}", "sensitivity", monkeypatch=monkeypatch)
    assert "no SQLite database" in texts(at.sidebar.error)
    assert not (tmp_path / "missing.db").exists()


@pytest.mark.parametrize("page", PAGES[1:])
def test_no_finished_trial_yet(url, monkeypatch, page):
    at = run_page(url, page, WAITING, monkeypatch)
    if page in ("best", "sensitivity", "compare"):
        assert texts(at.info).startswith("No trial has")
    assert not at.error


@pytest.mark.parametrize("page", ["best", "sensitivity", "compare", "curves", "surfaces"])
def test_only_diverged_trials(url, monkeypatch, page):
    at = run_page(url, page, DIVERGED, monkeypatch)
    if page == "best":
        assert "No trial has completed yet (3 diverged" in texts(at.info)
    if page == "sensitivity":
        spec = json.loads(charts(at)[0].proto.spec)
        assert [t["name"] for t in spec["data"]] == ["sgd diverged"]
    assert not at.error


def test_study_deleted_while_shown(url, tmp_path, monkeypatch):
    path = tmp_path / "copy.db"
    shutil.copy(Path(url.removeprefix("sqlite:///")), path)
    copy = f"sqlite:///{path}"
    at = run_page(copy, "sensitivity", SURFACE, monkeypatch)
    assert charts(at)
    optuna.delete_study(study_name=SURFACE, storage=open_storage(copy))
    loaders.study_info.clear()                  # the studies list is still the cached one
    at.run()
    assert not at.exception
    assert f"no study named {md(repr(SURFACE))}" in texts(at.warning)


@pytest.mark.parametrize("name", ODD_NAMES)
@pytest.mark.parametrize("page", ["studies", "sensitivity", "best"])
def test_hostile_study_names_render_as_text(url, monkeypatch, name, page):
    at = run_page(url, page, name, monkeypatch)
    assert at.selectbox(key="study").value == name
    assert at.selectbox(key="study").format_func(name) == name       # options: plain text
    if page != "studies":
        assert f"Study **{md(name)}**" in texts(at.caption)
    if page == "best":
        assert json.loads(at.code[0].value)["study"] == name


# --- how it is started and shipped --------------------------------------------------------------

def test_safe_settings_in_config_and_launcher():
    import tomllib

    from tuner.dashboard.launch import SAFE_OPTIONS, streamlit_command
    config = tomllib.loads((Path(__file__).resolve().parent.parent / ".streamlit" /
                            "config.toml").read_text(encoding="utf-8"))
    for key, value in SAFE_OPTIONS.items():
        section, name = key.split(".")
        assert str(config[section][name]).lower() == value, key
    assert config["server"]["address"] == "127.0.0.1"
    command = streamlit_command()
    assert "--server.address=127.0.0.1" in command and "--server.port=8501" in command
    assert "--client.showErrorDetails=none" in command
    assert "--server.address=0.0.0.0" in streamlit_command(address="0.0.0.0", port=9000)


def test_the_wheel_ships_the_dashboard(tmp_path):
    """A plain (non-editable) install has tuner/dashboard/app.py and its pages, and the
    explicit package list in pyproject.toml still names every package under tuner/."""
    import subprocess
    import sys
    import tomllib
    import zipfile

    from setuptools import find_packages
    root = Path(__file__).resolve().parent.parent
    listed = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert listed["package-dir"] == {"tuner.dashboard": "dashboard"}
    found = find_packages(str(root), include=["tuner*"])
    assert set(listed["packages"]) == set(found) | {"tuner.dashboard", "tuner.dashboard.views"}
    existed = (root / "build").exists()
    try:
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                        "--no-build-isolation", "-q", "-w", str(tmp_path), str(root)],
                       check=True, capture_output=True)
    finally:
        if not existed:                      # setuptools' scratch folder (git-ignored)
            shutil.rmtree(root / "build", ignore_errors=True)
    [wheel] = tmp_path.glob("tuner-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {f"tuner/dashboard/{p.relative_to(root / 'dashboard').as_posix()}"
               for p in (root / "dashboard").rglob("*.py")}
    assert shipped <= names and "tuner/dashboard/app.py" in names
    assert "tuner/dashboard/views/sensitivity.py" in names and "tuner/tables.py" in names


def test_trial_choices_are_not_carried_over_to_another_study(url, monkeypatch):
    """Trial numbers are per study: trials picked (and filters set) in one study were still
    picked in the next one chosen, drawing trials nobody picked."""
    at = run_page(url, "curves", IRIS, monkeypatch)
    at.multiselect(key="curves_picked").set_value([0, 1]).run()
    assert at.multiselect(key="curves_picked").value == [0, 1]
    at.selectbox(key="study").set_value(SURFACE).run()
    assert not at.exception and at.multiselect(key="curves_picked").value == []


def add_iris_trial_at(storage: str, lr: float) -> None:
    """A complete iris trial like the first one, at ``lr``; returns once the dashboard's live
    frame (read at most once a second) can see it."""
    study = optuna.load_study(study_name=IRIS, storage=open_storage(storage))
    done = [t for t in study.trials if t.state.name == "COMPLETE"][0]
    attrs = {**done.user_attrs, "config": {**done.user_attrs["config"], "lr": lr}}
    study.add_trial(optuna.trial.create_trial(
        params={**done.params, "lr": lr}, distributions={
            **done.distributions, "lr": optuna.distributions.FloatDistribution(
                lr / 10, 10.0, log=True)}, user_attrs=attrs, value=0.5))
    time.sleep(1.1)


def test_the_lr_range_chosen_survives_a_trial_that_widens_the_range(url, tmp_path, monkeypatch):
    """The slider's bounds follow the trials' LRs; a new trial outside them made a new slider
    at the full range, dropping the filter on the next live refresh."""
    path = tmp_path / "copy.db"
    shutil.copy(Path(url.removeprefix("sqlite:///")), path)
    copy = f"sqlite:///{path}"
    at = run_page(copy, "trials", IRIS, monkeypatch)
    low, high = at.slider(key="trials_lr").min, at.slider(key="trials_lr").max
    chosen = (round(low + 0.5, 1), round(high - 0.3, 1))
    at.slider(key="trials_lr").set_value(chosen).run()
    shown = at.caption[-1].value
    add_iris_trial_at(copy, 10 ** (low - 2))     # below every trial's LR so far
    at.run()
    assert not at.exception
    assert at.slider(key="trials_lr").min < low and at.slider(key="trials_lr").value == chosen
    assert at.caption[-1].value.split(" of ")[0] == shown.split(" of ")[0]     # same rows shown


def test_an_untouched_lr_range_takes_in_a_trial_that_widens_it(url, tmp_path, monkeypatch):
    """No range chosen: a trial with a new lowest LR is shown, not filtered out by the old
    bounds kept as if chosen."""
    path = tmp_path / "copy.db"
    shutil.copy(Path(url.removeprefix("sqlite:///")), path)
    copy = f"sqlite:///{path}"
    at = run_page(copy, "trials", IRIS, monkeypatch)
    low = at.slider(key="trials_lr").min
    total = len(at.dataframe[0].value)
    add_iris_trial_at(copy, 10 ** (low - 2))     # below every trial's LR so far
    at.run()
    assert not at.exception and len(at.dataframe[0].value) == total + 1


def test_best_page_without_a_finite_complete_value(tmp_path, monkeypatch):
    """A study made outside tuner whose only complete value is infinite: a message, not an
    IndexError."""
    storage = open_storage(f"sqlite:///{tmp_path / 'inf.db'}")
    study = optuna.create_study(study_name="inf", storage=storage, direction="maximize")
    study.add_trial(optuna.trial.create_trial(value=float("inf")))
    at = run_page(f"sqlite:///{tmp_path / 'inf.db'}", "best", "inf", monkeypatch)
    assert "No complete trial has a finite value" in texts(at.info)


def test_surface_paths_default_once_trials_complete(url, tmp_path, monkeypatch):
    """Opened before any trial completed, the trial picker started empty and, keyed alike,
    kept ignoring the default (each optimizer's best trial) once trials completed."""
    path = tmp_path / "copy.db"
    shutil.copy(Path(url.removeprefix("sqlite:///")), path)
    with sqlite3.connect(path) as conn:
        complete = [n for (n,) in conn.execute(
            "SELECT number FROM trials WHERE state = 'COMPLETE' AND study_id = (SELECT study_id "
            "FROM studies WHERE study_name = ?)", (SURFACE,))]
        conn.execute("UPDATE trials SET state = 'RUNNING' WHERE state = 'COMPLETE'")
    at = run_page(f"sqlite:///{path}", "surfaces", SURFACE, monkeypatch)
    assert not charts(at) and "Pick trials" in texts(at.info)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE trials SET state = 'COMPLETE' WHERE state = 'RUNNING'")
    time.sleep(1.1)                              # the live frame reads at most once a second
    at.run()
    assert not at.exception and charts(at)
    picked = at.multiselect(key="surface_trials").value
    assert picked and set(picked) <= set(complete)
